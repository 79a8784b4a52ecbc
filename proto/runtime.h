/* proto/runtime.h — the OpenWhisk action-runtime protocol spoken by
 * hearth-runtime inside every container: the /init and /run bodies, their
 * replies, and the exact messages, as OpenWhisk's own runtimes give them.
 *
 * The controller builds bodies with the encoders; the runtime reads them
 * with the decoders. This is the one place these JSON field names are spelled.
 *
 *   POST /init {"value":{"name","main","code","binary","env",
 *                        "kind"?,"concurrency"?}}
 *     200 {"ok":true}
 *     403 PR_RT_MSG_NO_CODE       code missing or empty
 *     403 PR_RT_MSG_INIT_TWICE    already initialised (or being initialised)
 *     400 {"error":...}           malformed body (not JSON, wrong field types)
 *     502 {"error":...}           the code failed to load (PR_RT_MSG_INIT_FAILED
 *                                 prefix for nodejs/python) or the launcher died
 *   POST /run {"value":{...},"activation_id","action_name","action_version",
 *              "namespace","transaction_id","deadline","api_key"?,"timeout"?}
 *     200 the function's result, an object or an array (an object with an
 *         "error" field is still 200: the platform records an application error)
 *     400 {"error":...}           malformed body
 *     403 PR_RT_MSG_NOT_INIT      /run before a successful /init (node wording)
 *     502 {"error":...}           developer error: thrown exception, crash,
 *                                 non-JSON or non-object result, timeout, or a
 *                                 container made unusable by an earlier timeout
 *                                 or crash (PR_RT_MSG_UNUSABLE; destroy it)
 *     503 {"error":...}           more concurrent /run calls than allowed
 *   GET /healthz  200 {"ok":true} once listening.
 *
 * hearth extensions, all optional (OpenWhisk's runtimes ignore them):
 *   - init value "kind": the runtime kind ("nodejs:20", "python:3",
 *     "blackbox"), needed only when the runtime was started without --kind;
 *     with --kind it must name the same family.
 *   - init value "concurrency": limits.concurrency of the action (default 1;
 *     only nodejs runs activations concurrently, others are capped at 1).
 *   - run "timeout": the action's time limit in ms; used to word the timeout
 *     message exactly ("... time limits of 60000 milliseconds."). Without it
 *     N is deadline minus the time /run arrived.
 *   - run "deadline" may be a JSON number as well as OpenWhisk's string.
 * Every non-"value" field of /run reaches the function as __OW_<FIELD
 * UPPER-CASED> (so "timeout" becomes __OW_TIMEOUT). */
#ifndef PR_RUNTIME_H
#define PR_RUNTIME_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"

#define PR_RT_PATH_INIT	  "/init"
#define PR_RT_PATH_RUN	  "/run"
#define PR_RT_PATH_HEALTH "/healthz"

/* On a /init or /run reply, what the runtime says beside the body, as
 * "logs=<n>; fate=<word>" (either part may be absent):
 *  - logs: when the runtime knows it (one activation at a time), how many
 *    bytes the action wrote to stdout and stderr during this activation; 0
 *    lets the controller skip asking the agent for its logs;
 *  - fate: present when the container must not be used again, and why.
 * The caller reads this, never the wording of the error message. */
#define PR_RT_HDR_RUN "x-hearth-run"

enum pr_rt_fate {
	PR_RT_FATE_OK = 0,  /* usable */
	PR_RT_FATE_TIMEOUT, /* an activation exceeded its time limit */
	PR_RT_FATE_EXITED,  /* the action's process exited or could not start */
	PR_RT_FATE_OOM,	    /* killed for exceeding its memory limit */
	PR_RT_FATE_BROKEN,  /* unusable after an earlier failure (init failed...) */
};

struct pr_rt_meta {
	int64_t log_bytes; /* -1: not said */
	enum pr_rt_fate fate;
};

/* Format m into out (at least 48 bytes): "" when there is nothing to say. */
void pr_rt_meta_format(char *out, size_t outlen, const struct pr_rt_meta *m);
/* Parse a header value (NULL: absent). Unknown parts are ignored; an
 * unknown fate word reads as PR_RT_FATE_BROKEN (never usable by mistake). */
void pr_rt_meta_parse(const char *v, size_t len, struct pr_rt_meta *m);

#define PR_RT_INIT_MAX_BODY   ((size_t)48 << 20) /* code up to 48 MB, as OpenWhisk */
#define PR_RT_RUN_MAX_BODY    ((size_t)1 << 20)	 /* parameters up to 1 MB */
#define PR_RT_RESULT_MAX      ((size_t)1 << 20)	 /* results up to 1 MB */
#define PR_RT_MAX_DEPTH	      128		 /* JSON nesting accepted in bodies */
#define PR_RT_ID_MAX	      128		 /* longest activation_id accepted */
#define PR_RT_MAIN_MAX	      256		 /* longest main name accepted */
#define PR_RT_ENV_MAX	      1024		 /* most init env entries */
#define PR_RT_CONCURRENCY_MAX 500

/* Reply bodies and messages (OpenWhisk's wording; printf formats noted). */
#define PR_RT_INIT_OK		"{\"ok\":true}"
#define PR_RT_MSG_NO_CODE	"Missing main/no code to execute."
#define PR_RT_MSG_INIT_TWICE	"Cannot initialize the action more than once."
#define PR_RT_MSG_NOT_INIT	"System not initialized."
#define PR_RT_MSG_INIT_FAILED	"Initialization has failed due to: " /* + reason */
#define PR_RT_MSG_RUN_FAILED	"An error has occurred: "	     /* + reason */
#define PR_RT_MSG_NOT_DICT_NODE "The action did not return a dictionary."
#define PR_RT_MSG_NOT_DICT	"The action did not return a dictionary or array."
#define PR_RT_MSG_NOT_JSON	"The action did not produce a valid JSON response: %s"
#define PR_RT_MSG_TIMEOUT	"The action exceeded its time limits of %lld milliseconds."
#define PR_RT_MSG_ABNORMAL_INIT "The action did not initialize and exited unexpectedly."
#define PR_RT_MSG_ABNORMAL_RUN                                                                     \
	"The action did not produce a valid response and exited unexpectedly."
#define PR_RT_MSG_TOO_LONG                                                                         \
	"The action produced a response that exceeded the allowed length: %zu > %zu bytes."
#define PR_RT_MSG_UNUSABLE "The action container is unusable after an earlier failure: %s"
#define PR_RT_MSG_BUSY	   "Too many concurrent activations: the action allows %d at a time."

/* /init value. Decoded strings point into the cJSON tree they came from. */
struct pr_rt_init {
	const char *name; /* NULL when absent */
	const char *main; /* "main" when absent or empty */
	const char *code; /* required, non-empty */
	size_t code_len;
	int binary;	  /* code is base64 (a zip, or an executable for blackbox) */
	const cJSON *env; /* object or NULL; values are strings or any JSON */
	const char *kind; /* NULL when absent */
	int concurrency;  /* >= 1 */
};

enum pr_rt_decode {
	PR_RT_OK = 0,
	PR_RT_BAD = -1,	    /* malformed: answer 400 with err */
	PR_RT_NO_CODE = -2, /* well formed but no code: answer 403 PR_RT_MSG_NO_CODE */
};

/* Parse an /init body. On PR_RT_OK *tree holds the parsed body (the caller
 * frees it with cJSON_Delete; out points into it). On failure *tree is NULL
 * and err says what was wrong (PR_RT_BAD), or the code was missing. */
enum pr_rt_decode pr_rt_init_decode(const char *body, size_t len, cJSON **tree,
				    struct pr_rt_init *out, struct hc_err *err);

/* Encode an /init body into out (appended). env may be NULL. Returns 0, or -1
 * (buffer limit or ENOMEM) with err. */
int pr_rt_init_encode(struct hc_buf *out, const struct pr_rt_init *in, struct hc_err *err);

/* An env value as the string the function sees: strings as they are, any
 * other JSON printed compactly. Returns malloc'd text or NULL on ENOMEM. */
char *pr_rt_env_string(const cJSON *v);

/* /run body. Decoded strings point into the tree. */
struct pr_rt_run {
	const cJSON *value;	/* decode: the argument (NULL when absent) */
	const char *value_json; /* encode: the argument as JSON text (NULL = {}) */
	size_t value_len;
	const char *activation_id; /* NULL when absent */
	const char *action_name;
	const char *action_version;
	const char *namespace_;
	const char *transaction_id;
	const char *api_key; /* only for actions with provide-api-key */
	int64_t deadline_ms; /* epoch ms; 0 = none */
	int64_t timeout_ms;  /* the action's time limit hint; 0 = none */
};

/* Parse a /run body. Same ownership as pr_rt_init_decode; -1 with err on a
 * malformed body (not an object, a field of the wrong type, an id too long, a
 * deadline that is not a number). */
int pr_rt_run_decode(const char *body, size_t len, cJSON **tree, struct pr_rt_run *out,
		     struct hc_err *err);

/* Encode a /run body into out (appended) without building a tree:
 * value_json is copied verbatim (the caller vouches it is JSON). NULL string
 * fields and zero numbers are omitted. Returns 0 or -1 with err. */
int pr_rt_run_encode(struct hc_buf *out, const struct pr_rt_run *in, struct hc_err *err);

/* How the platform reads a /run reply (OpenWhisk processRunResponseContent):
 * 200 + object without "error" or 200 + array = success; 200 + object with
 * "error" = application error; anything else = action developer error. */
enum pr_rt_outcome {
	PR_RT_SUCCESS = 0,
	PR_RT_APP_ERROR = 1,
	PR_RT_DEV_ERROR = 2,
};
enum pr_rt_outcome pr_rt_classify(long status, const char *body, size_t len);

#endif
