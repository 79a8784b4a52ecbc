/* controller/store.h — actions as the invoke path reads them (store.c):
 * cached, resolved through their package and binding. */
#ifndef CTL_STORE_H
#define CTL_STORE_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "controller/cache.h"
#include "controller/ctl.h"
#include "controller/entitle.h"
#include "proto/action.h"

#define CTL_APATH_MAX (3 * PR_NAME_MAX + 3) /* "ns/pkg/name" */

/* A cached action: the stored document, its code, and the fields the
 * invoke path reads (pointing into doc). Immutable once published.
 *
 * An action in a package is cached under the path it was asked for
 * ("ns/pkg/name", pkg maybe a binding), resolved: info describes the
 * action in the package that holds it, info.parameters are the package's
 * parameters under the binding's under the action's own (OpenWhisk's
 * package < binding < action), and acc says how the package was reached
 * (entitle.h). */
struct ctl_action {
	cJSON *doc;
	struct pr_action_info info;
	char *code; /* NULL for sequences and image-only blackbox */
	size_t code_len;
	/* names, all in the one allocation names_ (a few dozen bytes, not the
	 * kilobytes the longest names would need in arrays: the cache holds
	 * thousands); NULL or "" when not set (use ctl_str_or) */
	const char *fqn;     /* "/ns/name" or "/ns/pkg/name" of the action that runs */
	const char *key;     /* the cache key: "ns/name" or "ns/pkg/name" as asked for */
	const char *path;    /* "ns/pkg/name" of the action that runs; "" = ns/name */
	const char *binding; /* "ns/binding" it was reached through, "" = none */
	const char *owner;   /* the namespace of the action that runs */
	const char *sname;   /* its name in that namespace: "name" or "pkg/name" */
	char *names_;
	/* what containers are matched on: the document's revision, and for
	 * an action in a package with init:true parameters, a digest of them
	 * (they come from the package and binding too, and are sent at /init:
	 * two bindings with different ones never share a container) */
	char version_key[32];
	int in_package;
	struct ctl_pkg_access acc; /* in_package; its strings in names_ too */
	cJSON *params;		   /* the merged parameters (info.parameters), in_package */
};
void ctl_action_free(void *a);

/* s unless it is NULL or empty, else dflt. */
static inline const char *ctl_str_or(const char *s, const char *dflt)
{
	return s && s[0] ? s : dflt;
}

/* Look up ns/name in the action cache, loading it from Redis on a miss.
 * name is "action" or "pkg/action" (pkg a package or a binding). cb gets
 * a reference (release it) or NULL with status 404 (no such action, or
 * package) or 503 (Redis unreachable). No entitlement check: callers
 * acting for a user use ctl_action_lookup_as. cb may run before this
 * returns (a cache hit: the common case, and cheap). */
typedef void (*ctl_action_cb)(struct ctl_ref *ref, int status, void *arg);
void ctl_action_lookup(struct ctl_loop *L, const char *ns, const char *name, ctl_action_cb cb,
		       void *arg);

/* The same for caller (a namespace) reading or invoking it, with the
 * entitlement rules of entitle.h: NULL with 403 when caller may not (an
 * action of another namespace's default package is refused without a
 * lookup), 404 when it does not exist (for packages caller may not read:
 * 403). */
void ctl_action_lookup_as(struct ctl_loop *L, const char *caller, const char *ns, const char *name,
			  ctl_action_cb cb, void *arg);

/* A package as caller reaches it (caller NULL: no entitlement check):
 * status 0, 403, 404 (as ctl_action_lookup_as) or 503; doc the package's
 * document at ns/pkg (maybe a binding), bound the package it names when
 * follow was asked (NULL otherwise), real_ns/real_pkg where the actions
 * are. Valid while the callback runs (which may be before
 * ctl_package_resolve returns, when nothing could be asked). */
struct ctl_pkg_resolved {
	int status;
	cJSON *doc, *bound;	   /* read-only for the callback */
	struct ctl_pkg_access acc; /* its strings are ns and real_ns */
	char real_ns[PR_NAME_MAX + 1];
	char real_pkg[PR_NAME_MAX + 1];
	char ns[PR_NAME_MAX + 1]; /* the package's (or binding's) as asked for */
};
typedef void (*ctl_pkg_cb)(struct ctl_pkg_resolved *r, void *arg);
void ctl_package_resolve(struct ctl_loop *L, const char *caller, const char *ns, const char *pkg,
			 int follow, ctl_pkg_cb cb, void *arg);

/* The cache key of ns/name ("ns/name") into out. */
void ctl_action_key(char *out, size_t outlen, const char *ns, const char *name);

/* A component name of a composition, as OpenWhisk resolves one
 * (FullyQualifiedEntityName.resolveName): "/ns/name", "/ns/pkg/name",
 * "ns/pkg/name", or relative to own: "name", "pkg/name"; "_" is own.
 * Into ns and name ("name" or "pkg/name"). -1 when it is none of these. */
int ctl_action_name_resolve(const char *s, const char *own, char *ns, size_t nslen, char *name,
			    size_t namelen);

#endif
