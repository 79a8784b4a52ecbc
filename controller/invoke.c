/* controller/invoke.c — POST /api/v1/namespaces/{ns}/actions/[{pkg}/]{name}:
 * the action from the cache (through its package and binding, entitled
 * for the caller: entitle.h), its parameters merged with the body, then
 * an activation (activation.h), a sequence (sequence.h) or a conductor's
 * composition (conductor.h) started; blocking calls wait up to their
 * timeout, the others are answered 202 once accepted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/json.h"
#include "common/str.h"
#include "controller/activation.h"
#include "controller/api.h"
#include "controller/conductor.h"
#include "controller/entitle.h"
#include "controller/limits.h"
#include "controller/sequence.h"
#include "controller/store.h"

struct invoke_req {
	struct hc_req *req;
	struct ctl_loop *L;
	char subject[PR_NAME_MAX + 1];
	int blocking, result_only;
	int64_t wait_ms;
	char caller_key[160];
	char ns[PR_NAME_MAX + 1];	/* the action's */
	char path[2 * PR_NAME_MAX + 2]; /* [pkg/]name */
	char what[CTL_APATH_MAX];	/* what a refusal names */
	struct ctl_ref ref;		/* a sequence whose components are being checked */
	struct ctl_nslim *held;		/* the subject's admission (limits.h) */
};

/* The activation's value: the action's defaults under the request body.
 * An action without defaults invoked with no body or {} (the usual invoke)
 * has nothing to parse, merge or print. 0 (*out NULL: none, {}), or -1
 * after answering 400. */
static int merge_params(struct hc_req *req, const struct ctl_action *a, cJSON **out)
{
	struct hc_err err = {{0}};
	cJSON *body = NULL;
	size_t len;
	const char *b = hc_req_body(req, &len);
	int defaults = cJSON_GetArraySize(a->info.parameters) > 0;
	*out = NULL;
	if (!hc_json_blank(b, len) && (defaults || !hc_json_empty_object(b, len))) {
		body = hc_json_parse(b, len, HC_JSON_MAX_DEPTH, &err);
		if (!body || !cJSON_IsObject(body)) {
			hc_reply_error(req, 400, "The request content was malformed:\n%s",
				       body ? "the body must be a JSON object" : err.msg);
			cJSON_Delete(body);
			return -1;
		}
	}
	if (body || defaults) {
		*out = pr_params_merge(a->info.parameters, body, a->info.annotations, &err);
		if (!*out) {
			hc_reply_error(req, 400, "%s", err.msg);
			cJSON_Delete(body);
			return -1;
		}
	}
	cJSON_Delete(body);
	return 0;
}

static void start(struct invoke_req *ir, struct ctl_ref *ref);

/* A sequence's components were checked for the caller. */
static void on_checked(int status, const char *msg, void *arg)
{
	struct invoke_req *ir = arg;
	if (status) {
		hc_reply_error(ir->req, status, "%s", msg);
		ctl_cache_release(&ir->ref);
		ctl_limits_release(ir->held);
		free(ir);
		return;
	}
	start(ir, &ir->ref);
}

static void on_action(struct ctl_ref *ref, int status, void *arg)
{
	struct invoke_req *ir = arg;
	struct hc_req *req = ir->req;
	if (!ref) {
		ctl_limits_release(ir->held);
		if (status == 404)
			hc_reply_error(req, 404, "The requested resource does not exist.");
		else if (status == 403)
			ctl_refuse(req, ir->what);
		else
			hc_reply_error(req, 503, "the entity store is unreachable; retry shortly");
		free(ir);
		return;
	}
	const struct ctl_action *a = ref->val;
	if (a->info.is_sequence) {
		/* OpenWhisk entitles the caller to every component first (403) */
		ir->ref = *ref;
		ctl_seq_check(ir->L, ir->subject, NULL, a->info.components, 0, on_checked, ir);
		return;
	}
	start(ir, ref);
}

static void start(struct invoke_req *ir, struct ctl_ref *ref)
{
	struct hc_req *req = ir->req;
	cJSON *params;
	const struct ctl_action *a = ref->val;
	if (merge_params(req, a, &params) < 0) {
		ctl_cache_release(ref);
		ctl_limits_release(ir->held);
		goto out;
	}
	struct ctl_inv *v = ctl_inv_new(ir->L, ref, params, ir->subject, NULL);
	if (!v) {
		ctl_limits_release(ir->held);
		hc_reply_error(req, 500, "out of memory");
		goto out;
	}
	v->held = ir->held; /* released when the activation ends */
	v->req = req;
	v->result_only = ir->result_only;
	hc_strlcpy(v->caller_key, ir->caller_key, sizeof(v->caller_key));
	/* OpenWhisk: the key goes to the action unless provide-api-key is false
	 * (new actions get false at create) */
	if (pr_annotation_true(a->info.annotations, "provide-api-key", 1))
		hc_strlcpy(v->api_key, ir->caller_key, sizeof(v->api_key));
	if (!ir->blocking)
		v->nonblocking = 1; /* answered by dispatch once accepted */
	else
		ctl_inv_wait(v, ir->wait_ms);
	if (a->info.is_sequence) {
		ctl_inv_accept_now(v);
		ctl_seq_start(v);
	} else if (ctl_comp_is_conductor(a)) {
		ctl_inv_accept_now(v);
		ctl_cond_start(v);
	} else {
		ctl_inv_dispatch(v);
	}
out:
	free(ir);
}

/* The subject's limits answered: 429, or on to the action. */
static void on_admitted(int status, const char *msg, struct ctl_nslim *held, void *arg)
{
	struct invoke_req *ir = arg;
	if (status) {
		hc_reply_error(ir->req, status, "%s", msg);
		free(ir);
		return;
	}
	ir->held = held;
	ctl_action_lookup_as(ir->L, ir->subject, ir->ns, ir->path, on_action, ir);
}

void ctl_action_invoke(struct hc_req *req, const struct ctl_caller *who)
{
	struct ctl_loop *L = ctl_loop_of(req);
	const char *ns = ctl_path_ns(req, who);
	if (!ns)
		return;
	const char *name = hc_req_param(req, "name"), *pkg = hc_req_param(req, "pkg");
	int blocking = ctl_query_bool(req, "blocking", 0);
	int result = ctl_query_bool(req, "result", 0);
	int64_t timeout, max_wait = L->ctl->cfg.blocking_wait_ms;
	/* Pekko's words for a malformed query parameter, then OpenWhisk's own
	 * (Actions.scala stringToFiniteDuration: 0 < timeout <= the longest
	 * blocking wait, Messages.invalidTimeout) */
	if (blocking < 0 || result < 0) {
		const char *p = blocking < 0 ? "blocking" : "result";
		hc_reply_error(req, 400,
			       "The query parameter '%s' was malformed:\n'%.64s' is not a valid "
			       "Boolean value",
			       p, hc_req_query(req, p));
		return;
	}
	if (ctl_query_int(req, "timeout", max_wait, max_wait, &timeout) < 0 || timeout == 0) {
		hc_reply_error(req, 400,
			       "The query parameter 'timeout' was malformed:\nTimeout must be "
			       "number of milliseconds up to %lld.",
			       (long long)max_wait);
		return;
	}
	if (!name || !pr_name_valid(name) || (pkg && !pr_name_valid(pkg))) {
		hc_reply_error(req, 404, "The requested resource does not exist.");
		return;
	}
	/* the namespace limits, then the action: OpenWhisk's entitlement
	 * checks its throttles before it reads the entity */
	struct invoke_req *ir = calloc(1, sizeof(*ir));
	if (!ir) {
		hc_reply_error(req, 500, "out of memory");
		return;
	}
	ir->req = req;
	ir->L = L;
	ir->blocking = blocking;
	ir->result_only = result;
	ir->wait_ms = timeout;
	hc_strlcpy(ir->subject, who->ns, sizeof(ir->subject));
	hc_strlcpy(ir->ns, ns, sizeof(ir->ns));
	ctl_caller_key(who, ir->caller_key, sizeof(ir->caller_key));
	struct hc_buf w = HC_BUF_FIXED(ir->what), p = HC_BUF_FIXED(ir->path);
	/* the common case: no printf on the way; a refusal names the package
	 * when there is one (OpenWhisk entitles the package) */
	hc_buf_adds(&w, ns);
	hc_buf_addc(&w, '/');
	if (pkg) {
		hc_buf_adds(&w, pkg);
		hc_buf_adds(&p, pkg);
		hc_buf_addc(&p, '/');
	} else {
		hc_buf_adds(&w, name);
	}
	hc_buf_adds(&p, name);
	ctl_limits_check_invoke(L, who->ns, on_admitted, ir);
}
