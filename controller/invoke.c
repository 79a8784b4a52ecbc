/* controller/invoke.c — the invoke path (the prototype's load balancer).
 *
 * One activation (struct inv) goes: action from the cache -> parameters
 * merged -> a container from this loop's pool (READY: /run at once;
 * SUSPENDED: agent resume + scheduler busy, then /run) -> or the overflow
 * queue while the scheduler allocates (a fresh or stem container gets /init
 * with the cached code first; another controller's warm container means the
 * activation is forwarded there once) -> the record is written, the reply
 * sent, the agent asked for the logs. After a run the container stays
 * resumed for pause-grace, then is suspended through its agent and released
 * to the scheduler.
 *
 * At most once: an activation sent to a container that then died or timed
 * out is recorded as a developer error and the container discarded; only
 * an activation that never reached a container is dispatched again. */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/client.h"
#include "common/clock.h"
#include "common/id.h"
#include "common/json.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/redis.h"
#include "controller/activations.h"
#include "controller/api.h"
#include "controller/pool.h"
#include "proto/activation.h"
#include "proto/auth.h"
#include "proto/keys.h"
#include "proto/runtime.h"
#include "proto/scheduler.h"

/* How long an activation may wait for a container before it is failed. */
#define QUEUE_RETENTION_US (60ULL * 1000 * 1000)
#define DISPATCH_ATTEMPTS  3
#define SCHED_TIMEOUT_MS   10000
#define AGENT_TIMEOUT_MS   5000

struct inv;
typedef void (*inv_done_fn)(struct inv *v, void *arg);

struct inv {
	struct ctl_waiter w; /* overflow queue link */
	struct ctl_loop *L;
	struct hc_req *req; /* NULL once answered */
	struct ctl_ref aref;
	const struct ctl_action *a;
	struct pr_activation rec;
	char akey[CTL_AKEY_MAX];
	char *params; /* JSON text of the merged parameters */
	char api_key[160]; /* the caller's "uuid:key" when the action asks for it */
	char caller_key[160]; /* the caller's "uuid:key" (sequences pass it on) */
	cJSON *params_json;
	int result_only;
	int nonblocking; /* answer 202 once accepted (not refused with 429) */
	int forwarded;	/* came from another controller: reply with the record */
	int no_forward; /* never forward (forwarded, or a forward failed) */
	int attempts;	/* dispatches that never reached a container */
	int queued;
	uint64_t t0_us; /* mono, activation start */
	uint64_t run_start_us;
	struct event *wait_timer;
	struct ctl_ctr *ctr;
	int path; /* 0 warm, 1 prewarm, 2 created */
	inv_done_fn done;
	void *done_arg;
	cJSON *fwd_record; /* a forwarded run's record, relayed as is */
	struct seq *seq;   /* when this is a sequence */
};

/* One /allocate exchange (with its retries). It copies what it needs from
 * the action, so it holds no cache reference. */
struct alloc {
	struct alloc *next, *prev; /* the loop's list, freed at shutdown */
	struct ctl_loop *L;
	struct pr_alloc_req rq;
	int maxc;
	char akey[CTL_AKEY_MAX];
	int redirects;
	int pending; /* a Redis or HTTP call will call back with this alloc */
	struct event *retry;
};

static void dispatch(struct inv *v);
static void run_on(struct inv *v, struct ctl_ctr *c);
static void after_run(struct ctl_loop *L, struct ctl_ctr *c);
static void finish(struct inv *v);
static void maybe_allocate(struct ctl_loop *L, const struct ctl_action *a, const char *akey);
static void maybe_allocate_n(struct ctl_loop *L, const char *akey, int maxc,
			     const struct pr_alloc_req *tmpl);
static void drain(struct ctl_loop *L, struct ctl_ctr *c);
static void seq_start(struct inv *v);

/* ---- small helpers ---- */

static const char *const *auth_headers(struct ctl *c)
{
	static __thread const char *h[3];
	h[0] = c->bearer;
	h[1] = "Content-Type: application/json";
	h[2] = NULL;
	return h;
}

static void my_owner(struct ctl_loop *L, char *out, size_t n)
{
	ctl_owner_id(L->ctl, L->loop->index, out, n);
}

/* Fire-and-forget HTTP call (release, busy, discard, logs). */
static void ignore_reply(const struct hc_response *r, void *arg)
{
	const char *what = arg;
	if (r->error || r->status >= 300)
		hc_debug("%s: status %ld %s", what, r->status, r->error ? r->error : "");
}

static void send_json(struct ctl_loop *L, const char *method, const char *url, const cJSON *body,
		      long timeout_ms, hc_client_cb cb, void *arg)
{
	if (L->stopping) {
		if (cb)
			cb(&(struct hc_response){.error = "shutting down"}, arg);
		return;
	}
	char *s = body ? cJSON_PrintUnformatted(body) : NULL;
	struct hc_request rq = {
	    .method = method,
	    .url = url,
	    .headers = auth_headers(L->ctl),
	    .body = s,
	    .body_len = s ? strlen(s) : 0,
	    .timeout_ms = timeout_ms,
	};
	if (!hc_client_request(L->client, &rq, cb, arg) && cb)
		cb(&(struct hc_response){.error = "could not start the request"}, arg);
	free(s);
}

static void sched_ref(struct ctl_loop *L, const char *route, const struct ctl_ctr *c,
		      const char *reason)
{
	char leader[128], url[256];
	struct pr_container_ref ref;
	memset(&ref, 0, sizeof(ref));
	ctl_leader_get(L->ctl, leader, sizeof(leader));
	if (!leader[0])
		return;
	snprintf(ref.container, sizeof(ref.container), "%s", c->d.id);
	my_owner(L, ref.controller, sizeof(ref.controller));
	if (reason)
		snprintf(ref.reason, sizeof(ref.reason), "%s", reason);
	cJSON *j = pr_container_ref_to_json(&ref);
	snprintf(url, sizeof(url), "%s%s", leader, route);
	hc_counter_inc(L->ctl->m.sched_calls);
	send_json(L, "POST", url, j, SCHED_TIMEOUT_MS, ignore_reply, (void *)route);
	cJSON_Delete(j);
}

/* Forget a container that died or timed out, and tell the scheduler. */
static void discard(struct ctl_loop *L, struct ctl_ctr *c, const char *reason)
{
	hc_warn("container=%s discarded: %s", c->d.id, reason);
	sched_ref(L, PR_SCHED_ROUTE_DISCARD, c, reason);
	if (c->grace) {
		event_free(c->grace);
		c->grace = NULL;
	}
	ctl_pool_remove(L->pool, c);
}

/* ---- replies and records ---- */

static int http_status_for(int code)
{
	switch (code) {
	case PR_ST_SUCCESS:
		return 200;
	case PR_ST_APP_ERROR:
	case PR_ST_DEVELOPER_ERROR:
		return 502;
	default:
		return 500;
	}
}

static void reply_accepted(struct inv *v)
{
	struct hc_req *req = v->req;
	char body[64];
	v->req = NULL;
	int n = snprintf(body, sizeof(body), "{\"activationId\":\"%s\"}", v->rec.id);
	hc_req_add_header(req, "x-openwhisk-activation-id", v->rec.id);
	hc_reply(req, 202, "application/json", body, (size_t)n);
}

static void on_wait_timer(evutil_socket_t fd, short what, void *arg)
{
	struct inv *v = arg;
	if (v->req)
		reply_accepted(v);
}

/* The record as stored (relayed one for a forwarded run). */
static cJSON *record_json(struct inv *v)
{
	if (v->fwd_record)
		return cJSON_Duplicate(v->fwd_record, 1);
	return pr_activation_to_json(&v->rec);
}

static void reply_final(struct inv *v, const cJSON *stored)
{
	struct hc_req *req = v->req;
	v->req = NULL;
	int code = pr_activation_status(stored);
	int status = http_status_for(code < 0 ? PR_ST_INTERNAL_ERROR : code);
	hc_req_add_header(req, "x-openwhisk-activation-id", v->rec.id);
	const cJSON *res = pr_activation_response_result(stored);
	if (v->forwarded) {
		/* to another controller: the stored record, always 200 */
		hc_reply_json(req, 200, stored);
		return;
	}
	if (v->result_only || cJSON_IsArray(res)) {
		/* OpenWhisk returns an array result as is even without result=true */
		if (res)
			hc_reply_json(req, status, res);
		else
			hc_reply(req, status, "application/json", "{}", 2);
		return;
	}
	cJSON *ext = pr_activation_extended(stored);
	if (!ext) {
		hc_reply_error(req, 500, "out of memory");
		return;
	}
	hc_reply_json(req, status, ext);
	cJSON_Delete(ext);
}

static void ask_logs(struct inv *v)
{
	struct ctl_ctr *c = v->ctr;
	char url[512];
	if (!c || c->maxc > 1 || !c->d.agent[0])
		return; /* concurrent mode: no per-activation logs, as in OpenWhisk */
	snprintf(url, sizeof(url), "%s/log/%s?activation=%s&limit=%lld", c->d.agent, c->d.id,
		 v->rec.id, (long long)v->rec.limits.logs_mb * 1024 * 1024);
	send_json(v->L, "GET", url, NULL, AGENT_TIMEOUT_MS, ignore_reply, "logs");
}

static void inv_free(struct inv *v)
{
	if (v->wait_timer)
		event_free(v->wait_timer);
	ctl_cache_release(&v->aref);
	pr_activation_clear(&v->rec);
	cJSON_Delete(v->params_json);
	cJSON_Delete(v->fwd_record);
	free(v->params);
	free(v);
}

/* The activation is over: record, reply, logs, metrics. */
static void finish(struct inv *v)
{
	struct ctl *c = v->L->ctl;
	if (!v->rec.end_ms)
		v->rec.end_ms = hc_now_ms();
	if (!v->fwd_record)
		ctl_record_write(v->L, &v->rec);
	cJSON *stored = record_json(v);
	int code = stored ? pr_activation_status(stored) : PR_ST_INTERNAL_ERROR;
	if (code >= 0 && code < 4)
		hc_counter_inc(c->m.invokes[code]);
	if (v->req) {
		if (stored)
			reply_final(v, stored);
		else
			hc_reply_error(v->req, 500, "out of memory");
		v->req = NULL;
		hc_hist_observe(c->m.latency, (double)(hc_mono_us() - v->t0_us) / 1e6);
	}
	if (!v->fwd_record)
		ask_logs(v);
	if (v->done) {
		/* a sequence step: hand over the record before freeing */
		cJSON_Delete(v->fwd_record);
		v->fwd_record = stored;
		stored = NULL;
		v->done(v, v->done_arg);
	}
	cJSON_Delete(stored);
	inv_free(v);
}

/* Fail an activation that never ran. */
static void fail(struct inv *v, int code, const char *msg)
{
	v->rec.status = code;
	cJSON_Delete(v->rec.result);
	v->rec.result = pr_error_result(msg);
	finish(v);
}

/* 429 without a record, as OpenWhisk's throttle. */
static void reject(struct inv *v, const char *msg)
{
	hc_counter_inc(v->L->ctl->m.invokes_rejected);
	if (v->req) {
		hc_req_add_header(v->req, "x-openwhisk-activation-id", v->rec.id);
		hc_reply_error(v->req, 429, "%s", msg);
		v->req = NULL;
	}
	if (v->done) {
		v->rec.status = PR_ST_INTERNAL_ERROR;
		v->rec.result = pr_error_result(msg);
		v->rec.end_ms = hc_now_ms();
		v->fwd_record = pr_activation_to_json(&v->rec);
		v->done(v, v->done_arg);
	}
	inv_free(v);
}

/* ---- /run ---- */

static int looks_fatal(const char *body)
{
	/* the runtime's words for a container that must not be used again */
	return body &&
	       (strstr(body, "exceeded its time limits") || strstr(body, "exited unexpectedly") ||
		strstr(body, "unusable after an earlier failure") ||
		strstr(body, "exhausted its memory"));
}

static void on_run(const struct hc_response *r, void *arg)
{
	struct inv *v = arg;
	struct ctl_loop *L = v->L;
	struct ctl_ctr *c = v->ctr;
	char msg[160];
	int dead = 0;
	v->rec.end_ms = hc_now_ms();
	cJSON_Delete(v->rec.result);
	v->rec.result = NULL;
	if (r->timed_out) {
		snprintf(msg, sizeof(msg), PR_RT_MSG_TIMEOUT, (long long)v->rec.limits.timeout_ms);
		v->rec.status = PR_ST_DEVELOPER_ERROR;
		v->rec.result = pr_error_result(msg);
		v->rec.timeout = 1;
		dead = 1;
	} else if (r->error) {
		v->rec.status = PR_ST_DEVELOPER_ERROR;
		v->rec.result = pr_error_result(PR_RT_MSG_ABNORMAL_RUN);
		dead = 1;
	} else {
		v->rec.status = pr_run_response(r->status, r->body, r->body_len, &v->rec.result);
		if (r->status != 200 && looks_fatal(r->body)) {
			dead = 1;
			v->rec.timeout = strstr(r->body, "exceeded its time limits") != NULL;
		}
	}
	c->inflight--;
	if (dead)
		c->st = CTL_CS_DEAD;
	finish(v);
	after_run(L, c);
}

static void run_on(struct inv *v, struct ctl_ctr *c)
{
	struct hc_buf body;
	char url[256], deadline[32];
	struct hc_err err = {{0}};
	v->ctr = c;
	c->last_used_us = hc_mono_us();
	v->run_start_us = c->last_used_us;
	if (v->rec.wait_ms < 0)
		v->rec.wait_ms = (int64_t)(v->run_start_us - v->t0_us) / 1000;
	snprintf(deadline, sizeof(deadline), "%llu",
		 (unsigned long long)(hc_now_ms() + (uint64_t)v->rec.limits.timeout_ms));
	struct pr_rt_run run = {
	    .value_json = v->params,
	    .value_len = strlen(v->params),
	    .activation_id = v->rec.id,
	    .action_name = v->a->fqn,
	    .action_version = v->rec.version,
	    .namespace_ = v->rec.subject,
	    .transaction_id = v->rec.id,
	    .deadline_ms = (int64_t)(hc_now_ms() + (uint64_t)v->rec.limits.timeout_ms),
	    .timeout_ms = v->rec.limits.timeout_ms,
	    .api_key = v->api_key[0] ? v->api_key : NULL,
	};
	hc_buf_init(&body, PR_RT_RUN_MAX_BODY + 4096);
	if (pr_rt_run_encode(&body, &run, &err) < 0) {
		hc_buf_free(&body);
		c->inflight--;
		fail(v, PR_ST_INTERNAL_ERROR, "could not encode the run request");
		after_run(v->L, c);
		return;
	}
	snprintf(url, sizeof(url), "http://%s:%d%s", c->d.host, c->d.port, PR_RT_PATH_RUN);
	static const char *const hdr[] = {"Content-Type: application/json", NULL};
	struct hc_request rq = {
	    .method = "POST",
	    .url = url,
	    .headers = hdr,
	    .body = hc_buf_str(&body),
	    .body_len = body.len,
	    /* the runtime enforces the limit itself; this is the backstop */
	    .timeout_ms = v->rec.limits.timeout_ms + 2000,
	    .max_response = PR_RT_RESULT_MAX + 4096,
	};
	if (!hc_client_request(v->L->client, &rq, on_run, v))
		on_run(&(struct hc_response){.error = "could not start the request"}, v);
	hc_buf_free(&body);
}

/* ---- /init ---- */

struct init_ctx {
	struct inv *v;
	struct ctl_ctr *c;
};

static void on_init(const struct hc_response *r, void *arg)
{
	struct inv *v = arg;
	struct ctl_loop *L = v->L;
	struct ctl_ctr *c = v->ctr;
	v->rec.init_ms = (int64_t)(hc_mono_us() - v->run_start_us) / 1000;
	if (!r->error && !r->timed_out && r->status == 200) {
		c->st = CTL_CS_READY;
		c->inflight++;
		run_on(v, c);
		drain(L, c);
		return;
	}
	/* the activation reached the container: it fails, the container goes */
	char msg[160];
	cJSON_Delete(v->rec.result);
	v->rec.result = NULL;
	v->rec.status = PR_ST_DEVELOPER_ERROR;
	if (r->timed_out) {
		snprintf(msg, sizeof(msg),
			 "The action exceeded its time limits of %lld milliseconds during "
			 "initialization.",
			 (long long)v->rec.limits.timeout_ms);
		v->rec.result = pr_error_result(msg);
		v->rec.timeout = 1;
	} else if (r->error) {
		v->rec.result = pr_error_result(PR_RT_MSG_ABNORMAL_INIT);
	} else {
		pr_init_response(r->status, r->body, r->body_len, &v->rec.result);
	}
	c->st = CTL_CS_DEAD;
	finish(v);
	after_run(L, c);
}

/* The /init environment: parameters marked init:true (OpenWhisk exports
 * them at /init) and __OW_API_HOST when configured. */
static cJSON *init_env(struct inv *v)
{
	struct ctl *ctl = v->L->ctl;
	cJSON *env = cJSON_CreateObject();
	const cJSON *p;
	if (!env)
		return NULL;
	cJSON_ArrayForEach(p, v->a->info.parameters)
	{
		const cJSON *k = cJSON_GetObjectItemCaseSensitive(p, "key");
		if (cJSON_IsString(k) && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "init"))) {
			const cJSON *val = cJSON_GetObjectItemCaseSensitive(p, "value");
			cJSON_AddItemToObject(env, k->valuestring,
					      val ? cJSON_Duplicate(val, 1) : cJSON_CreateNull());
		}
	}
	if (ctl->cfg.api_host && ctl->cfg.api_host[0])
		cJSON_AddStringToObject(env, "__OW_API_HOST", ctl->cfg.api_host);
	return env;
}

static void init_on(struct inv *v, struct ctl_ctr *c)
{
	struct hc_buf body;
	struct hc_err err = {{0}};
	char url[256];
	const struct ctl_action *a = v->a;
	v->ctr = c;
	v->run_start_us = hc_mono_us();
	v->rec.wait_ms = (int64_t)(v->run_start_us - v->t0_us) / 1000;
	cJSON *env = init_env(v);
	struct pr_rt_init in = {
	    .env = env,
	    .name = a->info.name,
	    .main = a->info.main,
	    .code = a->code ? a->code : "",
	    .code_len = a->code ? a->code_len : 0,
	    .binary = a->info.binary,
	    .kind = a->info.kind,
	    .concurrency = (int)a->info.limits.concurrency,
	};
	hc_buf_init(&body, PR_RT_INIT_MAX_BODY + (1 << 20));
	int enc = pr_rt_init_encode(&body, &in, &err);
	cJSON_Delete(env);
	if (enc < 0) {
		hc_buf_free(&body);
		c->st = CTL_CS_DEAD;
		fail(v, PR_ST_INTERNAL_ERROR, "could not encode the init request");
		after_run(v->L, c);
		return;
	}
	snprintf(url, sizeof(url), "http://%s:%d%s", c->d.host, c->d.port, PR_RT_PATH_INIT);
	static const char *const hdr[] = {"Content-Type: application/json", NULL};
	struct hc_request rq = {
	    .method = "POST",
	    .url = url,
	    .headers = hdr,
	    .body = hc_buf_str(&body),
	    .body_len = body.len,
	    .timeout_ms = v->rec.limits.timeout_ms + 2000,
	};
	if (!hc_client_request(v->L->client, &rq, on_init, v))
		on_init(&(struct hc_response){.error = "could not start the request"}, v);
	hc_buf_free(&body);
}

/* ---- suspend / resume ---- */

struct ctr_call {
	struct ctl_loop *L;
	char id[HC_ID_LEN + 1];
	struct inv *v; /* resume: the activation riding on it */
};

static void on_resumed(const struct hc_response *r, void *arg)
{
	struct ctr_call *cc = arg;
	struct ctl_loop *L = cc->L;
	struct inv *v = cc->v;
	struct ctl_ctr *c = ctl_pool_find_id(L->pool, cc->id);
	free(cc);
	if (!c) { /* cannot happen: the riding activation holds a slot */
		v->attempts++;
		dispatch(v);
		return;
	}
	if (r->error || r->status != 204) {
		hc_warn("container=%s resume failed: %ld %s", c->d.id, r->status,
			r->error ? r->error : "");
		c->inflight--;
		discard(L, c, "resume failed");
		/* it never reached the container: dispatch again */
		v->attempts++;
		if (v->attempts >= DISPATCH_ATTEMPTS)
			fail(v, PR_ST_INTERNAL_ERROR, "could not resume a container");
		else
			dispatch(v);
		return;
	}
	c->st = CTL_CS_READY;
	sched_ref(L, PR_SCHED_ROUTE_BUSY, c, NULL);
	run_on(v, c);
	drain(L, c);
}

static void resume(struct ctl_loop *L, struct ctl_ctr *c, struct inv *v)
{
	char url[512];
	struct ctr_call *cc = calloc(1, sizeof(*cc));
	if (!cc) {
		c->inflight--;
		fail(v, PR_ST_INTERNAL_ERROR, "out of memory");
		return;
	}
	cc->L = L;
	cc->v = v;
	snprintf(cc->id, sizeof(cc->id), "%s", c->d.id);
	c->st = CTL_CS_RESUMING;
	snprintf(url, sizeof(url), "%s/resume/%s", c->d.agent, c->d.id);
	send_json(L, "GET", url, NULL, AGENT_TIMEOUT_MS, on_resumed, cc);
}

static void on_suspended(const struct hc_response *r, void *arg)
{
	struct ctr_call *cc = arg;
	struct ctl_loop *L = cc->L;
	struct ctl_ctr *c = ctl_pool_find_id(L->pool, cc->id);
	free(cc);
	if (!c)
		return;
	if (r->error || r->status != 204) {
		hc_warn("container=%s suspend failed: %ld %s", c->d.id, r->status,
			r->error ? r->error : "");
		char akey[CTL_AKEY_MAX];
		snprintf(akey, sizeof(akey), "%s", c->akey);
		discard(L, c, "suspend failed");
		struct inv *w = (struct inv *)ctl_queue_pop(L->pool, akey);
		if (w) {
			w->queued = 0;
			dispatch(w);
		}
		return;
	}
	c->st = CTL_CS_SUSPENDED;
	sched_ref(L, PR_SCHED_ROUTE_RELEASE, c, NULL);
	/* activations that arrived while it was being suspended */
	if (ctl_queue_len(L->pool, c->akey) > 0) {
		struct inv *v = (struct inv *)ctl_queue_pop(L->pool, c->akey);
		v->queued = 0;
		c->inflight++;
		resume(L, c, v);
	}
}

static void on_grace(evutil_socket_t fd, short what, void *arg)
{
	struct ctl_ctr *c = arg;
	struct ctl_loop *L = c->owner_loop;
	char url[512];
	if (c->st != CTL_CS_READY || c->inflight > 0)
		return;
	struct ctr_call *cc = calloc(1, sizeof(*cc));
	if (!cc)
		return;
	cc->L = L;
	snprintf(cc->id, sizeof(cc->id), "%s", c->d.id);
	c->st = CTL_CS_SUSPENDING;
	snprintf(url, sizeof(url), "%s/suspend/%s", c->d.agent, c->d.id);
	send_json(L, "GET", url, NULL, AGENT_TIMEOUT_MS, on_suspended, cc);
}

/* Give queued activations of c's action to c while it has free slots. */
static void drain(struct ctl_loop *L, struct ctl_ctr *c)
{
	while (c->st == CTL_CS_READY && c->inflight < c->maxc) {
		struct inv *v = (struct inv *)ctl_queue_pop(L->pool, c->akey);
		if (!v)
			break;
		v->queued = 0;
		c->inflight++;
		run_on(v, c);
	}
}

static void after_run(struct ctl_loop *L, struct ctl_ctr *c)
{
	if (c->st == CTL_CS_DEAD) {
		if (c->inflight == 0) {
			char akey[CTL_AKEY_MAX];
			snprintf(akey, sizeof(akey), "%s", c->akey);
			discard(L, c, "died or timed out");
			/* waiters of that action need another container */
			struct inv *w = (struct inv *)ctl_queue_pop(L->pool, akey);
			if (w) {
				w->queued = 0;
				dispatch(w);
			}
		}
		return;
	}
	if (c->st != CTL_CS_READY)
		return;
	drain(L, c);
	if (c->inflight == 0) {
		struct ctl *ctl = L->ctl;
		if (!c->grace)
			c->grace = evtimer_new(L->loop->base, on_grace, c);
		struct timeval tv = {ctl->cfg.pause_grace_ms / 1000,
				     (ctl->cfg.pause_grace_ms % 1000) * 1000};
		if (c->grace)
			evtimer_add(c->grace, &tv);
	}
}

/* ---- forwarding to the owner of a warm container ---- */

static void on_forwarded(const struct hc_response *r, void *arg)
{
	struct inv *v = arg;
	if (r->status == 200) {
		cJSON *rec = hc_json_parse(r->body, r->body_len, HC_JSON_MAX_DEPTH, NULL);
		if (rec && pr_activation_status(rec) >= 0) {
			v->fwd_record = rec;
			v->rec.end_ms = hc_now_ms();
			finish(v);
			return;
		}
		cJSON_Delete(rec);
	}
	if (r->status == 202) {
		/* the other controller's wait ran out: the activation still runs
		 * there and records itself */
		if (v->req)
			reply_accepted(v);
		inv_free(v);
		return;
	}
	if (r->error && r->status == 0 && strstr(r->error, "onnect")) {
		/* never reached the other controller: safe to run it here */
		v->no_forward = 1;
		v->attempts++;
		dispatch(v);
		return;
	}
	fail(v, PR_ST_INTERNAL_ERROR, "the controller owning the container did not answer");
}

static void forward(struct inv *v, const char *owner_url)
{
	char url[256];
	struct pr_forward f;
	memset(&f, 0, sizeof(f));
	uint64_t waited = (hc_mono_us() - v->t0_us) / 1000;
	int64_t wait = v->L->ctl->cfg.blocking_wait_ms - (int64_t)waited;
	hc_counter_inc(v->L->ctl->m.forwards);
	snprintf(f.ns, sizeof(f.ns), "%s", v->rec.ns);
	snprintf(f.name, sizeof(f.name), "%s", v->rec.name);
	snprintf(f.subject, sizeof(f.subject), "%s", v->rec.subject);
	snprintf(f.id, sizeof(f.id), "%s", v->rec.id);
	snprintf(f.cause, sizeof(f.cause), "%s", v->rec.cause);
	snprintf(f.api_key, sizeof(f.api_key), "%s", v->api_key);
	f.params = v->params_json;
	f.wait_ms = wait > 1 ? wait : 1;
	cJSON *j = pr_forward_to_json(&f);
	snprintf(url, sizeof(url), "%s/internal/run", owner_url);
	send_json(v->L, "POST", url, j, f.wait_ms + v->rec.limits.timeout_ms + 5000, on_forwarded,
		  v);
	cJSON_Delete(j);
}

/* ---- allocation through the scheduler ---- */

static void alloc_free(struct alloc *al)
{
	struct ctl_queue *q = al->L->pool ? ctl_queue_get(al->L->pool, al->akey, 0) : NULL;
	if (q && q->allocating > 0)
		q->allocating--;
	if (al->retry)
		event_free(al->retry);
	if (al->prev)
		al->prev->next = al->next;
	else
		al->L->allocs = al->next;
	if (al->next)
		al->next->prev = al->prev;
	free(al);
}

static void alloc_send(struct alloc *al);

static void on_alloc_retry(evutil_socket_t fd, short what, void *arg)
{
	alloc_send(arg);
}

/* Fail waiters that have waited too long; returns how many remain. */
static int expire_waiters(struct ctl_loop *L, const char *akey, int status, const char *msg)
{
	uint64_t now = hc_mono_us();
	for (;;) {
		struct ctl_queue *q = ctl_queue_get(L->pool, akey, 0);
		if (!q || !q->head)
			return 0;
		struct inv *v = (struct inv *)q->head;
		if (now - v->t0_us < QUEUE_RETENTION_US)
			return q->len;
		ctl_queue_pop(L->pool, akey);
		v->queued = 0;
		if (status == 429)
			reject(v, msg);
		else
			fail(v, PR_ST_INTERNAL_ERROR, msg);
	}
}

static void alloc_later(struct alloc *al, long ms, int status, const char *msg)
{
	if (expire_waiters(al->L, al->akey, status, msg) == 0) {
		alloc_free(al);
		return;
	}
	if (!al->retry)
		al->retry = evtimer_new(al->L->loop->base, on_alloc_retry, al);
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	if (!al->retry || evtimer_add(al->retry, &tv) < 0)
		alloc_free(al);
}

static void on_leader_refresh(redisReply *r, void *arg)
{
	struct alloc *al = arg;
	al->pending = 0;
	if (al->L->stopping) {
		alloc_free(al);
		return;
	}
	if (r && r->type == REDIS_REPLY_STRING && r->len > 0 && r->len < 128)
		ctl_leader_set(al->L->ctl, r->str);
	alloc_later(al, 100, 503, "no scheduler is available");
}

static void use_allocation(struct alloc *al, const struct pr_alloc_reply *ar)
{
	struct ctl_loop *L = al->L;
	struct pr_alloc_req tmpl = al->rq;
	int maxc = al->maxc;
	char akey[CTL_AKEY_MAX];
	char me[80];
	snprintf(akey, sizeof(akey), "%s", al->akey);
	my_owner(L, me, sizeof(me));
	if (strcmp(ar->owner, me) != 0 && ar->owner_url[0]) {
		/* another controller's free warm container: forward one waiter */
		struct inv *v = (struct inv *)ctl_queue_pop(L->pool, al->akey);
		if (v) {
			v->queued = 0;
			if (v->forwarded || v->no_forward) {
				/* never forward twice: wait for capacity of our own */
				ctl_queue_push(L->pool, al->akey, &v->w, INT32_MAX);
				v->queued = 1;
				alloc_later(al, 50, 503, "no container became available");
				return;
			}
			forward(v, ar->owner_url);
		}
		alloc_free(al);
		maybe_allocate_n(L, akey, maxc, &tmpl);
		return;
	}
	struct ctl_ctr *c = ctl_pool_find_id(L->pool, ar->container.id);
	int fresh = 0;
	if (!c) {
		fresh = 1;
		enum ctl_cstate st = ar->init				      ? CTL_CS_INIT
				     : ar->container.state == PR_CS_SUSPENDED ? CTL_CS_SUSPENDED
									      : CTL_CS_READY;
		c = ctl_pool_add(L->pool, &ar->container, al->akey, maxc, st);
		if (!c) {
			alloc_later(al, 100, 503, "out of memory");
			return;
		}
		c->owner_loop = L;
	}
	int path = ar->init ? (ar->container.action[0] ? 2 : 1) : 0;
	struct inv *v = (struct inv *)ctl_queue_pop(L->pool, al->akey);
	alloc_free(al);
	if (!v) {
		/* nobody waits any more: keep it; it will be suspended after grace */
		if (c->st == CTL_CS_INIT) {
			discard(L, c, "allocated after its activations left");
		} else if (c->st == CTL_CS_READY) {
			after_run(L, c);
		}
		return;
	}
	v->queued = 0;
	v->path = path;
	hc_counter_inc(L->ctl->m.cold[path < 3 ? path : 0]);
	switch (c->st) {
	case CTL_CS_INIT:
		if (fresh) {
			init_on(v, c);
			break;
		}
		/* one being initialised, shared for concurrency */
		__attribute__((fallthrough));
	case CTL_CS_RESUMING:
	case CTL_CS_SUSPENDING:
		/* a slot will open soon: wait for it at the head of the queue */
		ctl_queue_push(L->pool, c->akey, &v->w, INT32_MAX);
		v->queued = 1;
		break;
	case CTL_CS_SUSPENDED:
		c->inflight++;
		resume(L, c, v);
		break;
	case CTL_CS_READY:
		if (c->inflight < c->maxc) {
			c->inflight++;
			run_on(v, c);
			drain(L, c);
		} else {
			ctl_queue_push(L->pool, c->akey, &v->w, INT32_MAX);
			v->queued = 1;
		}
		break;
	case CTL_CS_DEAD:
		dispatch(v);
		break;
	}
	maybe_allocate_n(L, akey, maxc, &tmpl);
}

static void on_alloc(const struct hc_response *r, void *arg)
{
	struct alloc *al = arg;
	struct ctl *c = al->L->ctl;
	struct hc_err err = {{0}};
	cJSON *j = NULL;
	al->pending = 0;
	if (al->L->stopping) {
		alloc_free(al);
		return;
	}
	if (r->error || r->status == 0) {
		hc_counter_inc(c->m.sched_errors);
		/* the leader may have changed: ask Redis, then retry */
		al->pending = 1;
		hc_redis_cmd(al->L->redis, on_leader_refresh, al, "HGET %s %s", PR_KEY_LEADER_INFO,
			     PR_SCHED_F_URL);
		return;
	}
	j = hc_json_parse(r->body, r->body_len, HC_JSON_MAX_DEPTH, NULL);
	if (r->status == 200) {
		struct pr_alloc_reply ar;
		if (j && pr_alloc_reply_from_json(j, &ar, &err) == 0) {
			cJSON_Delete(j);
			use_allocation(al, &ar);
			return;
		}
		hc_warn("scheduler allocate reply: %s", err.msg);
		alloc_later(al, 100, 503, "the scheduler's reply was not understood");
	} else if (r->status == 503) {
		struct pr_sched_redirect rd;
		hc_counter_inc(c->m.sched_errors);
		if (j && pr_sched_redirect_from_json(j, &rd, NULL) == 0 && rd.leader[0] &&
		    al->redirects++ < 3) {
			ctl_leader_set(c, rd.leader);
			alloc_send(al);
		} else {
			alloc_later(al, 100, 503, "no scheduler is available");
		}
	} else if (r->status == 429) {
		struct pr_sched_busy b = {.retry_after_ms = 100};
		if (j)
			pr_sched_busy_from_json(j, &b, NULL);
		long ms =
		    b.retry_after_ms > 0 && b.retry_after_ms < 5000 ? (long)b.retry_after_ms : 100;
		alloc_later(al, ms, 429, "Too many requests");
	} else {
		hc_counter_inc(c->m.sched_errors);
		hc_warn("scheduler allocate: status %ld %.200s", r->status, r->body);
		alloc_later(al, 200, 503, "the scheduler refused the allocation");
	}
	cJSON_Delete(j);
}

static void alloc_send(struct alloc *al)
{
	struct ctl_loop *L = al->L;
	char leader[128], url[256];
	ctl_leader_get(L->ctl, leader, sizeof(leader));
	al->pending = 1;
	if (!leader[0]) {
		hc_redis_cmd(L->redis, on_leader_refresh, al, "HGET %s %s", PR_KEY_LEADER_INFO,
			     PR_SCHED_F_URL);
		return;
	}
	cJSON *j = pr_alloc_req_to_json(&al->rq);
	snprintf(url, sizeof(url), "%s%s", leader, PR_SCHED_ROUTE_ALLOCATE);
	hc_counter_inc(L->ctl->m.sched_calls);
	send_json(L, "POST", url, j, SCHED_TIMEOUT_MS, on_alloc, al);
	cJSON_Delete(j);
}

/* Ask for one more container when the waiters outnumber the slots coming. */
static void maybe_allocate_n(struct ctl_loop *L, const char *akey, int maxc,
			     const struct pr_alloc_req *tmpl)
{
	struct ctl_queue *q = ctl_queue_get(L->pool, akey, 0);
	if (!q || q->len == 0 || L->stopping)
		return;
	int slots = ctl_pool_coming(L->pool, akey) + q->allocating * (maxc > 0 ? maxc : 1);
	if (q->len <= slots)
		return;
	struct alloc *al = calloc(1, sizeof(*al));
	if (!al)
		return;
	al->L = L;
	al->rq = *tmpl;
	al->maxc = maxc;
	snprintf(al->akey, sizeof(al->akey), "%s", akey);
	al->next = L->allocs;
	if (al->next)
		al->next->prev = al;
	L->allocs = al;
	q->allocating++;
	alloc_send(al);
}

static void maybe_allocate(struct ctl_loop *L, const struct ctl_action *a, const char *akey)
{
	struct pr_alloc_req rq;
	memset(&rq, 0, sizeof(rq));
	snprintf(rq.ns, sizeof(rq.ns), "%s", a->info.ns);
	snprintf(rq.name, sizeof(rq.name), "%s", a->info.name);
	snprintf(rq.version, sizeof(rq.version), "%s", a->info.version);
	snprintf(rq.kind, sizeof(rq.kind), "%s", a->info.kind);
	snprintf(rq.digest, sizeof(rq.digest), "%s", a->info.digest);
	rq.memory_mb = (int)a->info.limits.memory_mb;
	rq.concurrency = (int)a->info.limits.concurrency;
	rq.wait_ms = SCHED_TIMEOUT_MS - 1000;
	my_owner(L, rq.controller, sizeof(rq.controller));
	maybe_allocate_n(L, akey, (int)a->info.limits.concurrency, &rq);
}

/* ---- dispatch ---- */

/* A non-blocking activation is answered 202 once it is accepted: run,
 * resumed or queued (a full queue refuses it with 429 instead). */
static void accept_now(struct inv *v)
{
	if (v->nonblocking && v->req)
		reply_accepted(v);
}

static void dispatch(struct inv *v)
{
	struct ctl_loop *L = v->L;
	struct ctl_ctr *c = ctl_pool_pick(L->pool, v->akey);
	if (c && c->st == CTL_CS_READY) {
		if (c->grace)
			evtimer_del(c->grace);
		c->inflight++;
		hc_counter_inc(L->ctl->m.cold[0]);
		accept_now(v);
		run_on(v, c);
		return;
	}
	if (c && c->st == CTL_CS_SUSPENDED) {
		c->inflight++;
		hc_counter_inc(L->ctl->m.cold[0]);
		accept_now(v);
		resume(L, c, v);
		return;
	}
	if (v->attempts >= DISPATCH_ATTEMPTS) {
		fail(v, PR_ST_INTERNAL_ERROR, "no container could be found for the activation");
		return;
	}
	if (ctl_queue_push(L->pool, v->akey, &v->w, (int)L->ctl->cfg.queue_max) < 0) {
		reject(v, "Too many requests");
		return;
	}
	v->queued = 1;
	accept_now(v);
	maybe_allocate(L, v->a, v->akey);
}

/* ---- starting an activation ---- */

/* Build an activation of the action in ref (taken) with params (taken). */
static struct inv *inv_new(struct ctl_loop *L, struct ctl_ref *ref, cJSON *params,
			   const char *subject, const char *id)
{
	struct inv *v = calloc(1, sizeof(*v));
	if (!v) {
		ctl_cache_release(ref);
		cJSON_Delete(params);
		return NULL;
	}
	v->L = L;
	v->aref = *ref;
	v->a = ref->val;
	v->params_json = params;
	v->params = cJSON_PrintUnformatted(params);
	v->t0_us = hc_mono_us();
	pr_activation_init(&v->rec);
	if (id)
		snprintf(v->rec.id, sizeof(v->rec.id), "%s", id);
	else
		hc_id_new(v->rec.id);
	const struct pr_action_info *ai = &v->a->info;
	snprintf(v->rec.ns, sizeof(v->rec.ns), "%s", ai->ns);
	snprintf(v->rec.name, sizeof(v->rec.name), "%s", ai->name);
	snprintf(v->rec.version, sizeof(v->rec.version), "%s", ai->version);
	snprintf(v->rec.subject, sizeof(v->rec.subject), "%s", subject);
	snprintf(v->rec.kind, sizeof(v->rec.kind), "%s", ai->kind);
	v->rec.limits = ai->limits;
	v->rec.start_ms = hc_now_ms();
	ctl_akey(v->akey, sizeof(v->akey), ai->ns, ai->name, ai->version);
	if (!v->params) {
		inv_free(v);
		return NULL;
	}
	return v;
}

static void start(struct inv *v)
{
	if (v->a->info.is_sequence) {
		accept_now(v);
		seq_start(v);
	} else {
		dispatch(v);
	}
}

struct invoke_req {
	struct hc_req *req;
	struct ctl_loop *L;
	char subject[PR_NAME_MAX + 1];
	int blocking, result_only;
	int64_t wait_ms;
	char caller_key[160];
};

static void on_action(struct ctl_ref *ref, int status, void *arg)
{
	struct invoke_req *ir = arg;
	struct hc_req *req = ir->req;
	struct hc_err err = {{0}};
	cJSON *body = NULL, *params = NULL;
	if (!ref) {
		if (status == 404)
			hc_reply_error(req, 404, "The requested resource does not exist.");
		else
			hc_reply_error(req, 503, "the entity store is unreachable; retry shortly");
		goto out;
	}
	const struct ctl_action *a = ref->val;
	size_t len;
	const char *b = hc_req_body(req, &len);
	size_t i = 0;
	while (i < len && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t'))
		i++;
	if (i < len) {
		body = hc_json_parse(b, len, HC_JSON_MAX_DEPTH, &err);
		if (!body || !cJSON_IsObject(body)) {
			hc_reply_error(req, 400, "The request content was malformed:\n%s",
				       body ? "the body must be a JSON object" : err.msg);
			ctl_cache_release(ref);
			goto out;
		}
	}
	params = pr_params_merge(a->info.parameters, body, a->info.annotations, &err);
	if (!params) {
		hc_reply_error(req, 400, "%s", err.msg);
		ctl_cache_release(ref);
		goto out;
	}
	struct inv *v = inv_new(ir->L, ref, params, ir->subject, NULL);
	if (!v) {
		hc_reply_error(req, 500, "out of memory");
		goto out;
	}
	v->req = req;
	v->result_only = ir->result_only;
	snprintf(v->caller_key, sizeof(v->caller_key), "%s", ir->caller_key);
	/* OpenWhisk: the key goes to the action unless provide-api-key is false
	 * (new actions get false at create) */
	if (pr_annotation_true(a->info.annotations, "provide-api-key", 1))
		snprintf(v->api_key, sizeof(v->api_key), "%s", ir->caller_key);
	if (!ir->blocking) {
		v->nonblocking = 1; /* answered by dispatch once accepted */
	} else {
		v->wait_timer = evtimer_new(ir->L->loop->base, on_wait_timer, v);
		struct timeval tv = {ir->wait_ms / 1000, (ir->wait_ms % 1000) * 1000};
		if (v->wait_timer)
			evtimer_add(v->wait_timer, &tv);
	}
	start(v);
out:
	cJSON_Delete(body);
	free(ir);
}

void ctl_action_invoke(struct hc_req *req, const char *own)
{
	struct ctl_loop *L = ctl_loop_of(req);
	const char *ns = ctl_req_ns(req, own);
	if (!ns)
		return;
	const char *name = hc_req_param(req, "name");
	int blocking = ctl_query_bool(req, "blocking", 0);
	int result = ctl_query_bool(req, "result", 0);
	int64_t timeout;
	if (blocking < 0 || result < 0 ||
	    ctl_query_int(req, "timeout", L->ctl->cfg.blocking_wait_ms, INT32_MAX, &timeout) < 0) {
		hc_reply_error(req, 400,
			       "The request content was malformed:\nblocking and "
			       "result must be true or false, timeout a number of "
			       "milliseconds");
		return;
	}
	if (!name || !pr_name_valid(name)) {
		hc_reply_error(req, 404, "The requested resource does not exist.");
		return;
	}
	struct invoke_req *ir = calloc(1, sizeof(*ir));
	if (!ir) {
		hc_reply_error(req, 500, "out of memory");
		return;
	}
	ir->req = req;
	ir->L = L;
	ir->blocking = blocking;
	ir->result_only = result;
	ir->wait_ms = timeout > 0 && timeout < L->ctl->cfg.blocking_wait_ms
			  ? timeout
			  : L->ctl->cfg.blocking_wait_ms;
	snprintf(ir->subject, sizeof(ir->subject), "%s", own);
	struct pr_cred cred;
	if (pr_cred_from_basic(hc_req_header(req, "Authorization"), &cred, NULL) == 0)
		snprintf(ir->caller_key, sizeof(ir->caller_key), "%s:%s", cred.uuid, cred.key);
	ctl_action_lookup(L, ns, name, on_action, ir);
}

/* ---- forwarded activations ---- */

struct fwd_req {
	struct hc_req *req;
	struct ctl_loop *L;
	struct pr_forward f;
};

static void on_fwd_action(struct ctl_ref *ref, int status, void *arg)
{
	struct fwd_req *fr = arg;
	if (!ref) {
		hc_reply_error(fr->req, status == 404 ? 404 : 503, "the action is not available");
		goto out;
	}
	struct inv *v = inv_new(fr->L, ref, fr->f.params, fr->f.subject, fr->f.id);
	fr->f.params = NULL;
	if (!v) {
		hc_reply_error(fr->req, 500, "out of memory");
		goto out;
	}
	snprintf(v->rec.cause, sizeof(v->rec.cause), "%s", fr->f.cause);
	snprintf(v->api_key, sizeof(v->api_key), "%s", fr->f.api_key);
	v->req = fr->req;
	v->forwarded = 1;
	v->wait_timer = evtimer_new(fr->L->loop->base, on_wait_timer, v);
	struct timeval tv = {fr->f.wait_ms / 1000, (fr->f.wait_ms % 1000) * 1000};
	if (v->wait_timer)
		evtimer_add(v->wait_timer, &tv);
	dispatch(v);
out:
	cJSON_Delete(fr->f.params);
	free(fr);
}

void ctl_h_internal_run(struct hc_req *req, void *arg)
{
	struct ctl_loop *L = ctl_loop_of(req);
	struct hc_err err = {{0}};
	const char *auth = hc_req_header(req, "Authorization");
	const char *want = L->ctl->bearer + strlen("Authorization: ");
	if (!auth || strcmp(auth, want) != 0) {
		hc_reply_error(req, 401, "the cluster token is missing or wrong");
		return;
	}
	struct fwd_req *fr = calloc(1, sizeof(*fr));
	if (!fr) {
		hc_reply_error(req, 500, "out of memory");
		return;
	}
	size_t len;
	const char *body = hc_req_body(req, &len);
	if (pr_forward_parse(body, len, &fr->f, &err) < 0) {
		hc_reply_error(req, 400, "%s", err.msg);
		free(fr);
		return;
	}
	fr->req = req;
	fr->L = L;
	ctl_action_lookup(L, fr->f.ns, fr->f.name, on_fwd_action, fr);
}

/* ---- sequences ---- */

struct seq {
	struct inv *top;
	int next; /* index of the next component */
	int n;
	cJSON *ids;	  /* component activation ids (the record's logs) */
	cJSON *last_resp; /* last component's stored record */
	int64_t max_memory;
};

static void seq_end(struct inv *v)
{
	struct seq *s = v->seq;
	v->rec.end_ms = hc_now_ms();
	cJSON_Delete(v->rec.logs);
	v->rec.logs = s->ids;
	s->ids = NULL;
	v->rec.limits.memory_mb = s->max_memory ? s->max_memory : v->rec.limits.memory_mb;
	if (s->last_resp) {
		int code = pr_activation_status(s->last_resp);
		v->rec.status = code >= 0 ? code : PR_ST_INTERNAL_ERROR;
		const cJSON *res = pr_activation_response_result(s->last_resp);
		cJSON_Delete(v->rec.result);
		v->rec.result = res ? cJSON_Duplicate(res, 1) : NULL;
	}
	cJSON_Delete(s->last_resp);
	free(s);
	v->seq = NULL;
	finish(v);
}

static void seq_next(struct inv *v);

static void on_component_done(struct inv *cv, void *arg)
{
	struct inv *v = arg;
	struct seq *s = v->seq;
	cJSON *stored = cv->fwd_record;
	cv->fwd_record = NULL;
	cJSON_AddItemToArray(s->ids, cJSON_CreateString(cv->rec.id));
	if (cv->rec.limits.memory_mb > s->max_memory)
		s->max_memory = cv->rec.limits.memory_mb;
	cJSON_Delete(s->last_resp);
	s->last_resp = stored;
	if (!stored || pr_activation_status(stored) != PR_ST_SUCCESS) {
		seq_end(v); /* the first failing component ends the sequence */
		return;
	}
	seq_next(v);
}

struct comp_lookup {
	struct inv *v;
	cJSON *params;
};

/* End the sequence early with an application error of its own. */
static void seq_abort(struct inv *v, const char *msg)
{
	struct seq *s = v->seq;
	cJSON_Delete(s->last_resp);
	s->last_resp = NULL;
	v->rec.status = PR_ST_APP_ERROR;
	cJSON_Delete(v->rec.result);
	v->rec.result = pr_error_result(msg);
	seq_end(v);
}

static void on_component_action(struct ctl_ref *ref, int status, void *arg)
{
	struct comp_lookup *cl = arg;
	struct inv *v = cl->v;
	cJSON *params = cl->params;
	free(cl);
	if (!ref) {
		cJSON_Delete(params);
		seq_abort(v, status == 404 ? "Sequence component does not exist."
					   : "Sequence component could not be loaded.");
		return;
	}
	if (((const struct ctl_action *)ref->val)->info.is_sequence) {
		ctl_cache_release(ref);
		cJSON_Delete(params);
		seq_abort(v, "Nested sequences are not supported.");
		return;
	}
	struct inv *cv = inv_new(v->L, ref, params, v->rec.subject, NULL);
	if (!cv) {
		seq_abort(v, "out of memory");
		return;
	}
	snprintf(cv->rec.cause, sizeof(cv->rec.cause), "%s", v->rec.id);
	if (pr_annotation_true(cv->a->info.annotations, "provide-api-key", 1))
		snprintf(cv->api_key, sizeof(cv->api_key), "%s", v->caller_key);
	snprintf(cv->caller_key, sizeof(cv->caller_key), "%s", v->caller_key);
	cv->done = on_component_done;
	cv->done_arg = v;
	dispatch(cv);
}

static void seq_next(struct inv *v)
{
	struct seq *s = v->seq;
	const cJSON *comps = v->a->info.components;
	if (s->next >= s->n) {
		seq_end(v);
		return;
	}
	const cJSON *c = cJSON_GetArrayItem(comps, s->next++);
	/* "/ns/name": each component's result is the next one's argument */
	char ns[PR_NAME_MAX + 1] = "", name[PR_NAME_MAX + 1] = "";
	const char *p = cJSON_IsString(c) ? c->valuestring : "";
	const char *slash = p[0] == '/' ? strchr(p + 1, '/') : NULL;
	if (slash && (size_t)(slash - p - 1) <= PR_NAME_MAX && strlen(slash + 1) <= PR_NAME_MAX) {
		memcpy(ns, p + 1, (size_t)(slash - p - 1));
		ns[slash - p - 1] = '\0';
		snprintf(name, sizeof(name), "%s", slash + 1);
	}
	cJSON *params;
	if (s->last_resp) {
		const cJSON *res = pr_activation_response_result(s->last_resp);
		params = cJSON_IsObject(res) ? cJSON_Duplicate(res, 1) : cJSON_CreateObject();
	} else {
		params = cJSON_Duplicate(v->params_json, 1);
	}
	struct comp_lookup *cl = calloc(1, sizeof(*cl));
	if (!cl || !params) {
		free(cl);
		cJSON_Delete(params);
		seq_abort(v, "out of memory");
		return;
	}
	if (!ns[0] || strcmp(ns, v->rec.subject) != 0) {
		/* components must live in the caller's namespace */
		free(cl);
		cJSON_Delete(params);
		seq_abort(v, "Sequence component does not exist.");
		return;
	}
	cl->v = v;
	cl->params = params;
	ctl_action_lookup(v->L, ns, name, on_component_action, cl);
}

static void seq_start(struct inv *v)
{
	struct seq *s = calloc(1, sizeof(*s));
	if (!s || !(s->ids = cJSON_CreateArray())) {
		free(s);
		fail(v, PR_ST_INTERNAL_ERROR, "out of memory");
		return;
	}
	s->top = v;
	s->n = cJSON_GetArraySize(v->a->info.components);
	v->seq = s;
	v->rec.sequence = 1;
	v->rec.wait_ms = (int64_t)(hc_mono_us() - v->t0_us) / 1000;
	seq_next(v);
}

/* ---- per-loop set-up ---- */

int ctl_pool_loop_init(struct ctl_loop *L)
{
	L->pool = calloc(1, sizeof(*L->pool));
	return L->pool ? 0 : -1;
}

void ctl_pool_loop_stop(struct ctl_loop *L)
{
	L->stopping = 1;
	/* allocations waiting on a call are freed by its callback (the client
	 * and Redis fail every pending call when freed); the others now */
	for (struct alloc *al = L->allocs, *next; al; al = next) {
		next = al->next;
		if (!al->pending)
			alloc_free(al);
	}
	if (!L->pool)
		return;
	/* activations still waiting for a container end here */
	for (struct ctl_queue *q = L->pool->queues; q; q = q->next) {
		struct inv *v;
		while ((v = (struct inv *)ctl_queue_pop(L->pool, q->akey))) {
			v->queued = 0;
			fail(v, PR_ST_INTERNAL_ERROR, "the controller is shutting down");
		}
	}
}

void ctl_pool_loop_fini(struct ctl_loop *L)
{
	if (!L->pool)
		return;
	for (struct ctl_ctr *c = L->pool->ctrs; c; c = c->next) {
		if (c->grace) {
			event_free(c->grace);
			c->grace = NULL;
		}
	}
	ctl_pool_clear(L->pool);
	free(L->pool);
	L->pool = NULL;
}
