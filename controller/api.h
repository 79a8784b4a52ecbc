/* controller/api.h — the REST handlers and what they share: auth, the
 * namespace check, the action cache.
 *
 * Every /api/v1/namespaces route goes through ctl_auth_then(): the caller's
 * Basic credential is checked against the key cache (a miss loads the key
 * from Redis asynchronously), then the handler runs with the caller's own
 * namespace. */
#ifndef CTL_API_H
#define CTL_API_H

#include <cjson/cJSON.h>

#include "common/http.h"
#include "controller/cache.h"
#include "controller/ctl.h"
#include "proto/action.h"

/* A cached API key. */
struct ctl_key {
	char ns[PR_NAME_MAX + 1];
	char hash[65];
};

/* A cached action: the stored document, its code, and the fields the
 * invoke path reads (pointing into doc). Immutable once published. */
struct ctl_action {
	cJSON *doc;
	struct pr_action_info info;
	char *code; /* NULL for sequences and image-only blackbox */
	size_t code_len;
	char fqn[2 * PR_NAME_MAX + 3]; /* "/ns/name" */
};
void ctl_action_free(void *a);

typedef void (*ctl_api_fn)(struct hc_req *req, const char *own_ns);

/* Authenticate req, then call fn with the caller's namespace; or answer
 * 401 (with OpenWhisk's challenge) / 503 itself. */
void ctl_auth_then(struct hc_req *req, ctl_api_fn fn);

/* The caller's credentials while fn (above) runs; NULL outside it. */
const struct pr_cred *ctl_auth_cred(void);

/* The {ns} route parameter resolved against the caller's own namespace
 * ("_" = own). Answers 403 and returns NULL for another namespace. */
const char *ctl_req_ns(struct hc_req *req, const char *own_ns);

/* Look up ns/name in the action cache, loading it from Redis on a miss.
 * cb gets a reference (release it) or NULL with status 404 (no such
 * action) or 503 (Redis unreachable). cb may run before this returns. */
typedef void (*ctl_action_cb)(struct ctl_ref *ref, int status, void *arg);
void ctl_action_lookup(struct ctl_loop *L, const char *ns, const char *name, ctl_action_cb cb,
		       void *arg);

/* ---- handlers (hc_handler) ---- */
void ctl_h_info(struct hc_req *req, void *arg); /* GET /api/v1 */
void ctl_h_api(struct hc_req *req, void *arg);	/* arg: ctl_api_fn wrapper */
void ctl_h_healthz(struct hc_req *req, void *arg);

void ctl_namespaces(struct hc_req *req, const char *own);
void ctl_limits(struct hc_req *req, const char *own);
void ctl_actions_list(struct hc_req *req, const char *own);
void ctl_action_get(struct hc_req *req, const char *own);
void ctl_action_put(struct hc_req *req, const char *own);
void ctl_action_delete(struct hc_req *req, const char *own);
void ctl_action_invoke(struct hc_req *req, const char *own);
void ctl_activations_list(struct hc_req *req, const char *own);
void ctl_activation_get(struct hc_req *req, const char *own);
void ctl_activation_logs(struct hc_req *req, const char *own);
void ctl_activation_result(struct hc_req *req, const char *own);

/* POST /internal/run (cluster token): a forwarded activation. */
void ctl_h_internal_run(struct hc_req *req, void *arg);

/* Parse a non-negative integer query parameter; dflt when absent.
 * Returns 0, or -1 when present but not a number in [0, max]. */
int ctl_query_int(struct hc_req *req, const char *name, int64_t dflt, int64_t max, int64_t *out);
/* "true"/"false" query parameter; dflt when absent. -1 when malformed. */
int ctl_query_bool(struct hc_req *req, const char *name, int dflt);

#endif
