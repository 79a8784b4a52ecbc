/* controller/entitle.c — OpenWhisk's entitlement rules (see entitle.h). */
#include <string.h>

#include "controller/entitle.h"

int ctl_entitle_owner(const char *caller, const char *ns)
{
	return caller && ns && !strcmp(caller, ns);
}

int ctl_entitle_package(const char *caller, const char *pkg_ns, int publish)
{
	return publish || ctl_entitle_owner(caller, pkg_ns) || !strcmp(pkg_ns, CTL_SYSTEM_NS);
}

int ctl_entitle_action(const char *caller, const char *ns, const struct ctl_pkg_access *acc)
{
	if (!acc)
		return ctl_entitle_owner(caller, ns) ? 0 : 403; /* the default package is private */
	if (acc->binding) {
		/* a binding: its owner only, and only to a package it may read */
		if (!ctl_entitle_owner(caller, acc->ns))
			return 403;
		return ctl_entitle_package(caller, acc->bound_ns, acc->publish) ? 0 : 403;
	}
	return ctl_entitle_package(caller, acc->ns, acc->publish) ? 0 : 403;
}

int ctl_entitle_missing(const char *caller, const char *ns)
{
	return ctl_entitle_owner(caller, ns) ? 404 : 403;
}
