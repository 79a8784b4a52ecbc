/* controller/entitle.h — who may do what to whose entities: OpenWhisk's
 * entitlement rules (Entitlement.scala, Collection.scala,
 * ActionCollection.scala, PackageCollection.scala), as pure functions.
 *
 *  - A namespace's owner may do everything to its entities; nobody else may
 *    create, change or delete them, list its actions, triggers or rules,
 *    or read or invoke an action of its default package.
 *  - A package that is published (and is not a binding) lends READ to
 *    everyone: its document, its actions (read-only) and invoking them.
 *    Packages of the system namespace whisk.system count as published.
 *  - A binding is read through only by its owner, and only when the
 *    package it names is its owner's or readable as above.
 *  - Listing another namespace's packages shows only its published ones.
 *  - Refusals are 403; a missing package of the caller's own is 404, a
 *    missing one of another namespace 403 (nothing leaks about it).
 *
 * store.c keeps what these need with every cached action (struct
 * ctl_pkg_access), so a warm invoke is checked without Redis; rules and
 * compositions use ctl_action_lookup_as (store.h), which applies them.
 * Pure bookkeeping, below every other layer; the REST side (a request's
 * namespace, the 403 reply) is ctl_path_ns and ctl_refuse in api.h. */
#ifndef CTL_ENTITLE_H
#define CTL_ENTITLE_H

#include "proto/action.h"

#define CTL_SYSTEM_NS "whisk.system"

/* OpenWhisk's 403 message (Messages.notAuthorizedtoAccessResource), for
 * printf with the resource's "ns", "ns/name" or "ns/pkg/name". */
#define CTL_MSG_NOT_AUTHORIZED "The supplied authentication is not authorized to access '%s'."

/* How the package in an action's path was reached, for the checks (the
 * strings belong to whoever fills it in). */
struct ctl_pkg_access {
	const char *ns;	      /* the path's namespace (the package's, or the binding's) */
	int binding;	      /* the path names a binding */
	const char *bound_ns; /* a binding's package's namespace */
	int publish;	      /* the package holding the actions is published (or whisk.system's) */
};

/* 1 when caller owns ns. */
int ctl_entitle_owner(const char *caller, const char *ns);

/* 1 when caller may read package pkg_ns/... that is not a binding, given
 * its publish flag: its owner, anyone when published or in whisk.system. */
int ctl_entitle_package(const char *caller, const char *pkg_ns, int publish);

/* READ or invoke of an action (ns, and pkg when not NULL) by caller: 0 or
 * 403. acc describes the package (NULL for the default package). */
int ctl_entitle_action(const char *caller, const char *ns, const struct ctl_pkg_access *acc);

/* The status for a package that does not exist at ns: 404 for its owner,
 * 403 for anyone else. */
int ctl_entitle_missing(const char *caller, const char *ns);

#endif
