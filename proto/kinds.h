/* proto/kinds.h — the runtime kinds this deployment runs, and which host
 * interpreter runs each one: the contract between the controller (which
 * accepts a kind at PUT and lists the kinds at GET /) and hearth-runtime
 * (which starts the interpreter).
 *
 * A kind is "nodejs:<major>", "python:3.<minor>", "python:3" (whatever
 * python 3 the host has: hearth's alias, the kind "python" and
 * "python:default" resolve to), or "blackbox" (a native executable; always
 * there). "nodejs" and "nodejs:default" resolve to the family's default,
 * the first nodejs kind of the list. A kind that is not on the list is
 * refused at PUT with OpenWhisk's message, never run by another version.
 *
 * The list is set once at start (the controller probes its host or reads
 * its `kinds` setting, controller/kinds.c), before any thread runs; until
 * then it is PR_KINDS_BUILTIN. */
#ifndef PR_KINDS_H
#define PR_KINDS_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "common/err.h"

#define PR_KINDS_MAX	 16
#define PR_KIND_NAME_MAX 24
/* What a controller that was never told otherwise accepts. */
#define PR_KINDS_BUILTIN "nodejs:20,python:3,blackbox"

struct pr_kinds {
	int n;
	char kind[PR_KINDS_MAX][PR_KIND_NAME_MAX];
};

/* Parse "nodejs:20,python:3.11,blackbox" (blanks around the commas allowed,
 * duplicates dropped). A python:3.<n> kind brings python:3 with it (the
 * alias) and blackbox is always there. 0, or -1 with err naming the bad
 * item. */
int pr_kinds_parse(const char *list, struct pr_kinds *out, struct hc_err *err);

/* The list every later pr_kinds_get() returns (copied). Call once before
 * threads start. */
void pr_kinds_set(const struct pr_kinds *k);
const struct pr_kinds *pr_kinds_get(void);

/* Nonzero when kind is on k. */
int pr_kinds_has(const struct pr_kinds *k, const char *kind);

/* Resolve what a PUT names (as pr_kind_resolve in action.h) against k:
 * aliases to their kind, a listed kind to itself, "sequence" to itself.
 * 0, or -1 with OpenWhisk's Messages.invalidRuntimeError: "The specified
 * runtime 'nodejs:18' is not supported by this platform. Valid values are:
 * 'blackbox', 'nodejs:20', ... ." (the list sorted, sequence included). */
int pr_kinds_resolve(const struct pr_kinds *k, const char *kind, char *out, size_t outlen,
		     struct hc_err *err);

/* The "runtimes" of GET /, in OpenWhisk's shape (ExecManifest Runtimes.toJson):
 * {"nodejs":[{"kind","image","deprecated","default","attached","requireMain"}],
 *  "python":[...], "blackbox":[...]}. Caller frees; NULL on ENOMEM. */
cJSON *pr_kinds_manifest(const struct pr_kinds *k);

/* ---- interpreters ---- */
/* Where the generic interpreters are looked for, in order (/usr first:
 * inside a runc container only /usr is visible, never a pyenv shim), then
 * $PATH. NULL-terminated. */
extern const char *const pr_kind_node_paths[];
extern const char *const pr_kind_python_paths[];
/* Where versioned ones ("node18", "python3.12") are looked for. */
extern const char *const pr_kind_bin_dirs[];

/* The file name of the interpreter that runs exactly kind: "node18" for
 * nodejs:18, "python3.11" for python:3.11; "" for kinds with no version
 * (python:3, blackbox) or none. */
void pr_kind_versioned_name(const char *kind, char *out, size_t outlen);

#endif
