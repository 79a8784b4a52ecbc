/* proto/action.h — the OpenWhisk action document.
 *
 * Decodes PUT bodies (with OpenWhisk's validation messages), builds the
 * document hearth stores in Redis (PR_KEY_ACTION: the OpenWhisk shape with
 * exec.code replaced by exec.digest, the code itself under PR_KEY_CODE),
 * and encodes GET replies and list summaries. Also: kinds, limits, and the
 * invoke-time parameter merge. This is the one place the action's JSON
 * field names are spelled. */
#ifndef PR_ACTION_H
#define PR_ACTION_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define PR_NAME_MAX	256		   /* entity and namespace names */
#define PR_PARAMS_MAX	(1024 * 1024)	   /* parameters + annotations, bytes */
#define PR_CODE_MAX	(48 * 1024 * 1024) /* exec.code, bytes */
#define PR_SEQUENCE_MAX 50		   /* components of a sequence */
#define PR_REVISION_LEN 16		   /* hex digits of a document's revision */

/* ---- limits ---- */
struct pr_limits {
	int64_t timeout_ms;
	int64_t memory_mb;
	int64_t logs_mb;
	int64_t concurrency;
};

/* Allowed ranges (OpenWhisk's defaults: timeout 100..300000 ms, memory
 * 128..512 MB, logs 0..10 MB, concurrency 1..1; hearth raises the
 * concurrency max to 500 by default, like CONFIG_whisk_concurrencyLimit_max). */
struct pr_limit_bounds {
	struct pr_limits min, max, def;
};
void pr_limit_bounds_default(struct pr_limit_bounds *b);

/* Decode a "limits" object over base (fields absent keep base's value) and
 * check each against b. Errors carry OpenWhisk's messages, e.g. "memory 64 MB
 * below allowed threshold of 128 MB". */
int pr_limits_decode(const cJSON *j, const struct pr_limits *base, const struct pr_limit_bounds *b,
		     struct pr_limits *out, struct hc_err *err);
cJSON *pr_limits_to_json(const struct pr_limits *l);

/* ---- kinds ---- */
/* Resolve an exec kind against the kinds this deployment runs
 * (proto/kinds.h: "nodejs", "nodejs:default" -> the default nodejs kind;
 * "python", "python:default" -> "python:3"; a listed kind, "blackbox" and
 * "sequence" -> themselves). Returns 0, or -1 with err holding OpenWhisk's
 * "The specified runtime 'x' is not supported by this platform. Valid
 * values are: ..." (never another version in its place). */
int pr_kind_resolve(const char *kind, char *out, size_t outlen, struct hc_err *err);

/* ---- PUT ---- */
struct pr_action_put {
	cJSON *root; /* the parsed body; owned */
	int has_exec;
	char kind[32];	  /* resolved */
	const char *code; /* into root; NULL for sequences */
	size_t code_len;
	int binary;
	const char *main;	      /* NULL = absent */
	const char *image;	      /* blackbox image, NULL = absent */
	const cJSON *components;      /* sequence: array of fully qualified names */
	const cJSON *parameters;      /* NULL = absent (keep the old ones) */
	const cJSON *annotations;     /* NULL = absent */
	const cJSON *del_annotations; /* array of keys, NULL = absent */
	const cJSON *limits;	      /* NULL = absent */
	const char *version;	      /* NULL = absent (bump on update) */
	int publish;		      /* -1 = absent */
};

/* Decode and validate a PUT body: JSON object, exec shape and kind, code
 * size (48 MB), parameters+annotations size (1 MB), {key,value} arrays,
 * limits against b, a semver version. *status is set to 400 or 413 on
 * error. On success the caller frees with pr_action_put_free. Sequence
 * component names that start with "/_/" are rewritten to the caller's own
 * namespace own_ns (OpenWhisk resolves `_` at PUT time). */
int pr_action_put_decode(const char *body, size_t len, const struct pr_limit_bounds *b,
			 const char *own_ns, struct pr_action_put *out, int *status,
			 struct hc_err *err);
void pr_action_put_free(struct pr_action_put *p);

/* Whether code (len bytes) is base64, by OpenWhisk's rule (Exec.isBinaryCode):
 * what a PUT without exec.binary stores as binary (a zip for nodejs and
 * python, an executable or a zip for blackbox). */
int pr_code_is_binary(const char *code, size_t len);

/* Build the stored document for ns/name from put over old (the stored
 * document, NULL on create), OpenWhisk's update rules: absent fields keep
 * their old values, limits merge per field, annotations merge by key (minus
 * delAnnotations), version upPatch unless given, annotation exec=<kind>
 * added on every PUT and provide-api-key=false on create. digest is the
 * sha256 of the code (ignored for sequences). Every document built gets a
 * new revision (pr_action_info.revision), which the API's form leaves
 * out. Caller frees the result. */
cJSON *pr_action_build(const cJSON *old, const struct pr_action_put *put, const char *ns,
		       const char *name, const char *digest, const struct pr_limit_bounds *b,
		       uint64_t now_ms, struct hc_err *err);

/* ---- reading a stored document ---- */
/* The fields the invoke path needs, pointing into doc (valid while doc is). */
struct pr_action_info {
	const char *ns, *name, *version, *kind, *main, *digest, *image;
	const char *revision; /* changes with every write of the document */
	int binary;
	int is_sequence;
	const cJSON *components; /* sequences */
	const cJSON *parameters; /* array or NULL */
	const cJSON *annotations;
	struct pr_limits limits;
};
int pr_action_info(const cJSON *doc, const struct pr_limit_bounds *b, struct pr_action_info *out,
		   struct hc_err *err);

/* The GET reply: a copy of the stored doc with exec.digest removed and, when
 * code is not NULL, exec.code set to it (code_len bytes). Caller frees. */
cJSON *pr_action_to_api(const cJSON *doc, const char *code, size_t code_len);

/* The list summary: namespace, name, version, publish, annotations, limits,
 * exec{binary}, updated. Caller frees. */
cJSON *pr_action_summary(const cJSON *doc);

/* The value of an annotation, or NULL. */
const cJSON *pr_annotation(const cJSON *annotations, const char *key);
/* Truthy annotation (true, non-zero number, non-empty string); dflt when absent. */
int pr_annotation_true(const cJSON *annotations, const char *key, int dflt);

/* ---- invoke parameters ---- */
/* Merge the action's default parameters (an array of {key,value}, may be
 * NULL) with the request body (an object, may be NULL) into a new object:
 * the body wins, except that with annotation final=true a body may not
 * redefine a parameter the action defines (400 "Request defines parameters
 * that are not allowed (e.g., reserved properties)."). Caller frees. */
cJSON *pr_params_merge(const cJSON *defaults, const cJSON *body, const cJSON *annotations,
		       struct hc_err *err);

/* Bump a semver's patch level: "0.0.1" -> "0.0.2". out >= 32 bytes.
 * Returns -1 when v is not "N.N.N". */
int pr_semver_uppatch(const char *v, char *out, size_t outlen);
int pr_semver_valid(const char *v);

/* OpenWhisk entity names: 1..256 chars of [A-Za-z0-9_@.& -], not starting
 * with a blank, not ending with one... (\A([\w]|[\w][\w@ .&-]*[\w@.&-]+)\z). */
int pr_name_valid(const char *s);

#endif
