/* proto/activation.h — activation records, summaries and result objects.
 *
 * The record is OpenWhisk's activation with response {status, statusCode,
 * success, result} (the "stored form"); API replies drop statusCode
 * (OpenWhisk's toExtendedJson). Redis holds it packed (pr_activation_pack).
 * This is the one place the record's JSON field names are spelled. */
#ifndef PR_ACTIVATION_H
#define PR_ACTIVATION_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/id.h"
#include "proto/action.h"

/* OpenWhisk's status codes. */
enum pr_status {
	PR_ST_SUCCESS = 0,
	PR_ST_APP_ERROR = 1,	   /* "application error" */
	PR_ST_DEVELOPER_ERROR = 2, /* "action developer error" */
	PR_ST_INTERNAL_ERROR = 3,  /* "whisk internal error" */
};
const char *pr_status_message(int code); /* "success", "application error", ... */

struct pr_activation {
	char id[HC_ID_LEN + 1];
	char ns[PR_NAME_MAX + 1]; /* the action's namespace */
	char name[PR_NAME_MAX + 1];
	char version[32];
	char subject[PR_NAME_MAX + 1]; /* the invoking namespace */
	char kind[32];		       /* "nodejs:20", "sequence", ... */
	char cause[HC_ID_LEN + 1];     /* "" unless a sequence component */
	uint64_t start_ms, end_ms;     /* end 0 = still open */
	int status;		       /* enum pr_status */
	cJSON *result;		       /* owned; NULL = {} */
	cJSON *logs;		       /* owned array of strings; NULL = [] */
	struct pr_limits limits;
	int64_t wait_ms; /* waitTime; -1 = omit */
	int64_t init_ms; /* initTime; -1 = omit (warm) */
	int timeout;	 /* the action exceeded its time limit */
	int sequence;	 /* a composition's record (sequence or conductor): topmost
			  * unless it has a cause */
	int conductor;	 /* a conductor action's composition record */
	int publish;
	/* an action in a package: the path annotation "ns/pkg/name" of the
	 * action that ran (NULL or "" = ns/name), and "ns/binding" when it
	 * was reached through a binding (NULL or "" = none). Borrowed: the
	 * strings outlive the record's use (the cached action's, or the
	 * stored text's while it is unpacked); not freed by pr_activation_clear */
	const char *path;
	const char *binding;
	/* a trigger's record (Triggers.scala): "end" 0 and no duration, no
	 * annotations; its logs are the rules' outcomes */
	int trigger;
};

/* A new activation id for an activation created at now_ms: 12 hex digits
 * of now_ms, then 20 random ones (80 bits). Ids sort by creation time, and
 * the time names the record's bucket (PR_KEY_ACT_LOG, PR_KEY_ACTIVATION)
 * and its index slice. out holds HC_ID_LEN + 1 bytes. */
void pr_activation_id_new(char *out, uint64_t now_ms);
/* The creation time an id carries (its first 12 hex digits); 0 when they
 * are not hex. */
uint64_t pr_activation_id_ms(const char *id);
/* The key of the log (PR_KEY_ACT_LOG), and of the hash (PR_KEY_ACTIVATION),
 * that may hold id's record, into b (fixed-size is fine: the keys are under
 * 40 bytes). 0, or -1 when b is full. */
int pr_activation_log_key(struct hc_buf *b, const char *id);
int pr_activation_key(struct hc_buf *b, const char *id);
/* The index slice of action name in namespace ns for records started in
 * start_ms (PR_KEY_ACT_SLICE); the set of names with records in ns's slice
 * of start_ms (PR_KEY_ACT_NAMES); the directory of slices of ns, or of its
 * action name when name is not NULL (PR_KEY_ACT_DIR). Into b: 0, or -1
 * when b is full. */
int pr_activation_slice_key(struct hc_buf *b, const char *ns, const char *name, uint64_t start_ms);
int pr_activation_names_key(struct hc_buf *b, const char *ns, uint64_t start_ms);
int pr_activation_dir_key(struct hc_buf *b, const char *ns, const char *name);
/* When (unix ms, for PEXPIREAT) the bucket holding id's record may go:
 * ttl_ms after the bucket's last creation time, so each record lives at
 * least ttl_ms from its creation; now_ms + ttl_ms for an id whose time is
 * not plausible (before now - ttl or after now + one bucket). */
uint64_t pr_activation_expiry(const char *id, uint64_t ttl_ms, uint64_t now_ms);

/* The name the record is listed under in its namespace's index (and
 * found by with ?name=): its action's name, or "pkg/name" for an action
 * in a package, pkg being the binding it was reached through if any (as
 * OpenWhisk's activations view: the binding's name, else the path's
 * package). Returns a->name itself when there is no package, else buf
 * (at least 2 * PR_NAME_MAX + 2 bytes). */
const char *pr_activation_index_name(const struct pr_activation *a, char *buf, size_t buflen);

/* Zero a record and set wait/init to "omit". */
void pr_activation_init(struct pr_activation *a);
/* Free result and logs. */
void pr_activation_clear(struct pr_activation *a);

/* The stored record (with statusCode). Caller frees. NULL on ENOMEM. */
cJSON *pr_activation_to_json(const struct pr_activation *a);

/* The same record as compact JSON text appended to b, written directly (no
 * tree, no printf: this is the warm invoke's hot path): the stored form
 * (with_status_code) or the API form (without response.statusCode). Fields
 * and order as pr_activation_to_json. result_json/result_len: the result's
 * JSON text when the caller has it (e.g. the container's reply bytes),
 * else NULL to print a->result. 0, or -1 when b is full or out of memory. */
int pr_activation_encode(struct hc_buf *b, const struct pr_activation *a, const char *result_json,
			 size_t result_len, int with_status_code);
/* The record as Redis stores it (PR_KEY_ACT_LOG): a compact JSON array
 * of its fields, without what the object repeats (field names, the id, the
 * path); result_json as for pr_activation_encode. 0, or -1 when b is full
 * or out of memory. */
int pr_activation_pack(struct hc_buf *b, const struct pr_activation *a, const char *result_json,
		       size_t result_len);
/* A stored record back as OpenWhisk's object (pr_activation_to_json; the
 * stored form, with statusCode), given the id it is stored under. Records
 * stored as the object itself (before the packed form) come back as they
 * are. NULL when text is neither, or out of memory. */
cJSON *pr_activation_unpack(const char *text, size_t len, const char *id);
/* The API form of a stored record: a copy without response.statusCode. */
cJSON *pr_activation_extended(const cJSON *stored);

/* The list summary: namespace, name, version, publish, annotations,
 * activationId, start, end, duration, cause, statusCode (end, duration and
 * statusCode omitted while open). */
cJSON *pr_activation_summary(const cJSON *stored);

/* GET .../result: {"result", "success", "status"}. */
cJSON *pr_activation_result(const cJSON *stored);

/* The fields of a stored record the API needs (pointers into stored). */
int pr_activation_status(const cJSON *stored); /* statusCode; -1 when missing */
const cJSON *pr_activation_response_result(const cJSON *stored);

/* Replace (or set) the stored record's logs with a copy of lines. */
int pr_activation_set_logs(cJSON *stored, const cJSON *lines);

/* Classify a /run reply as OpenWhisk does (processRunResponseContent):
 * 200 + object without "error" or array -> success; 200 + {"error"} ->
 * application error; other status -> developer error (its "error" field
 * when present); a body that is not JSON or a scalar -> developer error
 * "The action did not produce a valid JSON or JSON Array response: <body>".
 * *result gets a new tree the caller frees. Returns the status code. */
int pr_run_response(long http_status, const char *body, size_t len, cJSON **result);

/* The same for /init: anything but 200 is a developer error, with the body's
 * "error" field or "The action failed during initialization: <body>". */
int pr_init_response(long http_status, const char *body, size_t len, cJSON **result);

/* {"error": msg} (caller frees). */
cJSON *pr_error_result(const char *msg);

/* A forwarded activation (controller -> controller, POST /internal/run with
 * the cluster token): {"namespace","name","subject","activationId",
 * "cause"?,"api_key"?,"owner"?,"params":{...},"wait_ms"}. The receiving controller runs it only
 * if it holds a free warm container (else it allocates one itself, never
 * forwarding again) and answers 200 with the stored record when it ends, or
 * 202 {"activationId"} when wait_ms passes first. */
struct pr_forward {
	char ns[PR_NAME_MAX + 1];
	char name[2 * PR_NAME_MAX + 2]; /* "name" or "pkg/name", as ctl_action_lookup takes it */
	char subject[PR_NAME_MAX + 1];
	char id[HC_ID_LEN + 1];
	char cause[HC_ID_LEN + 1];
	char api_key[160]; /* "uuid:key" for actions with provide-api-key, or "" */
	char owner[64];	   /* the owner id the scheduler named (a loop of the receiver) */
	cJSON *params;	   /* owned by the struct after decode; borrowed for encode */
	int64_t wait_ms;
};
cJSON *pr_forward_to_json(const struct pr_forward *f);
/* Decode a body; f->params is a new tree the caller frees. -1 with err. */
int pr_forward_parse(const char *body, size_t len, struct pr_forward *f, struct hc_err *err);

#endif
