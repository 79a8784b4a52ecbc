/* controller/api.h — the REST handlers and what they share: the caller,
 * auth, the namespace check, query parameters.
 *
 * Every /api/v1/namespaces route goes through ctl_auth_then(): the caller's
 * Basic credential is checked against the key cache (a miss loads the key
 * from Redis asynchronously), then the handler runs with the caller, whose
 * fields it copies if it needs them after it returns. */
#ifndef CTL_API_H
#define CTL_API_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "common/http.h"
#include "controller/ctl.h"
#include "proto/action.h"
#include "proto/auth.h"

/* A cached API key. */
struct ctl_key {
	char ns[PR_NAME_MAX + 1];
	char hash[65];
};

/* Who is calling: valid while the handler runs. */
struct ctl_caller {
	const char *ns;		    /* the caller's own namespace; NULL: anonymous */
	const struct pr_cred *cred; /* the credential it authenticated with */
};

typedef void (*ctl_api_fn)(struct hc_req *req, const struct ctl_caller *who);

/* Authenticate req, then call fn with the caller; or answer 401 (with
 * OpenWhisk's challenge) / 503 itself. */
void ctl_auth_then(struct hc_req *req, ctl_api_fn fn);

/* The same where credentials are optional (web actions): fn runs with
 * who->ns NULL (anonymous) when none are given or they are not valid. */
void ctl_auth_optional(struct hc_req *req, ctl_api_fn fn);

/* "uuid:key" of the caller into out (at least 160 bytes). */
void ctl_caller_key(const struct ctl_caller *who, char *out, size_t outlen);

/* The {ns} route parameter resolved against the caller's own namespace
 * ("_" = own). Answers 403 and returns NULL for another namespace. */
const char *ctl_req_ns(struct hc_req *req, const struct ctl_caller *who);

int ctl_auth_loop_init(struct ctl_loop *L);
void ctl_auth_loop_fini(struct ctl_loop *L);

/* ---- handlers (hc_handler) ---- */
void ctl_h_api(struct hc_req *req, void *arg); /* arg: const struct ctl_api_route * */
struct ctl_api_route {
	ctl_api_fn fn;
};
void ctl_h_info(struct hc_req *req, void *arg); /* GET /api/v1 */
void ctl_h_root(struct hc_req *req, void *arg); /* GET /: runtimes and limits (info.c) */
void ctl_h_ping(struct hc_req *req, void *arg); /* GET /ping (info.c) */
void ctl_h_healthz(struct hc_req *req, void *arg);

void ctl_namespaces(struct hc_req *req, const struct ctl_caller *who);
void ctl_limits(struct hc_req *req, const struct ctl_caller *who);
void ctl_actions_list(struct hc_req *req, const struct ctl_caller *who);
void ctl_action_get(struct hc_req *req, const struct ctl_caller *who);
void ctl_action_put(struct hc_req *req, const struct ctl_caller *who);
void ctl_action_delete(struct hc_req *req, const struct ctl_caller *who);
void ctl_action_invoke(struct hc_req *req, const struct ctl_caller *who);
void ctl_activations_list(struct hc_req *req, const struct ctl_caller *who);
void ctl_activation_get(struct hc_req *req, const struct ctl_caller *who);
void ctl_activation_logs(struct hc_req *req, const struct ctl_caller *who);
void ctl_activation_result(struct hc_req *req, const struct ctl_caller *who);

/* /api/v1/web/{ns}/{pkg}/{action}[/{rest+}]: a web action (web.c). */
void ctl_h_web(struct hc_req *req, void *arg);

/* POST /internal/run (cluster token): a forwarded activation. */
void ctl_h_internal_run(struct hc_req *req, void *arg);

/* ---- query.c ---- */
/* Parse a non-negative integer query parameter; dflt when absent.
 * Returns 0, or -1 when present but not a number in [0, max]. */
int ctl_query_int(struct hc_req *req, const char *name, int64_t dflt, int64_t max, int64_t *out);
/* "true"/"false" query parameter; dflt when absent. -1 when malformed. */
int ctl_query_bool(struct hc_req *req, const char *name, int dflt);

#endif
