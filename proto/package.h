/* proto/package.h — the OpenWhisk package document (WhiskPackage), and the
 * parameter inheritance of actions in packages.
 *
 * A package is {namespace, name, binding, parameters, version, publish,
 * annotations, updated}; binding is {} for a package and {namespace, name}
 * for a binding (a reference to another package, whose actions it shares
 * with parameters of its own on top). The controller sets the "binding"
 * annotation from the binding on every write (Packages.scala). Redis holds
 * the document with a revision (like actions'); the API's form leaves it
 * out. This is the one place the package's JSON field names are spelled. */
#ifndef PR_PACKAGE_H
#define PR_PACKAGE_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "common/err.h"
#include "proto/action.h"

/* The reserved package name (OpenWhisk: the default package). */
#define PR_PACKAGE_RESERVED "default"

/* ---- PUT ---- */
struct pr_package_put {
	cJSON *root;		       /* the parsed body; owned */
	int has_binding;	       /* a non-empty binding was given */
	char bind_ns[PR_NAME_MAX + 1]; /* "_" resolved to the caller's namespace */
	char bind_name[PR_NAME_MAX + 1];
	const cJSON *parameters;  /* NULL = absent */
	const cJSON *annotations; /* NULL = absent */
	const char *version;	  /* NULL = absent (upPatch on update) */
	int publish;		  /* -1 = absent */
};

/* Decode and validate a PUT body (WhiskPackagePut): a JSON object whose
 * binding is {} or {namespace, name} ("_" is own_ns), {key,value} arrays,
 * parameters and annotations each at most 1 MB (*status 413, OpenWhisk's
 * "parameters larger than allowed: N > M bytes."), a semver version.
 * *status 400 otherwise. Free with pr_package_put_free. */
int pr_package_put_decode(const char *body, size_t len, const char *own_ns,
			  struct pr_package_put *out, int *status, struct hc_err *err);
void pr_package_put_free(struct pr_package_put *p);

/* The stored document for ns/name from put over old (NULL on create), as
 * Packages.scala's create and update build it: absent fields keep their
 * old values (annotations and parameters are replaced whole, not merged),
 * version upPatch unless given, the binding annotation set from the
 * binding. A new revision on every build. Caller frees. */
cJSON *pr_package_build(const cJSON *old, const struct pr_package_put *put, const char *ns,
			const char *name, uint64_t now_ms, struct hc_err *err);

/* ---- reading ---- */
struct pr_package_info {
	const char *ns, *name;
	int publish;
	int is_binding;
	const char *bind_ns, *bind_name; /* bindings */
	const cJSON *parameters;	 /* array or NULL */
	const cJSON *annotations;
	const char *revision;
};
/* The fields of a stored document (pointing into doc). -1 when it is not a
 * package document. */
int pr_package_info(const cJSON *doc, struct pr_package_info *out);

/* The GET/PUT/DELETE reply: a copy without the revision. */
cJSON *pr_package_to_api(const cJSON *doc);

/* The list summary: namespace, name, version, publish, annotations,
 * updated, binding (false for a package, {namespace, name} for a binding). */
cJSON *pr_package_summary(const cJSON *doc);

/* GET of a package: api (taken) with "actions" and "feeds" added, each a
 * list of {name, version, annotations} of the action documents in actions
 * (an array); an action is a feed when it has a "feed" annotation. For a
 * binding, pkg_params are the bound package's parameters, which the
 * binding's own override in the reply (WhiskPackage.inherit). NULL on ENOMEM. */
cJSON *pr_package_with_actions(cJSON *api, const cJSON *actions, const cJSON *pkg_params);

/* ---- parameter inheritance ---- */
/* base's {key,value} parameters with over's on top (over wins by key), a
 * new array (either may be NULL). NULL on ENOMEM. */
cJSON *pr_params_inherit(const cJSON *base, const cJSON *over);

/* The parameters marked init:true of params (an array), as compact JSON
 * text (caller frees), or NULL when there are none. */
char *pr_params_init_text(const cJSON *params);

#endif
