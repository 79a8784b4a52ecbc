/* controller/invoke.c — one activation from request to record.
 *
 * POST .../actions/{name}: action from the cache -> parameters merged -> a
 * container from this loop's pool (READY: /run at once; SUSPENDED: resume
 * first, proxy.c) -> or the overflow queue while alloc.c asks the
 * scheduler (a fresh or stem container gets /init with the cached code
 * first; another controller's warm container means forward.c sends the
 * activation there once) -> the record is written, the reply sent, the
 * agent asked for the logs.
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
#include "common/kclient.h"
#include "common/localnet.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/redis.h"
#include "common/str.h"
#include "controller/activations.h"
#include "controller/inv.h"
#include "proto/auth.h"
#include "proto/runtime.h"

/* ---- small helpers ---- */

/* This loop's lean client for container calls (/init, /run): per loop
 * thread, made in ctl_pool_loop_init, freed in ctl_pool_loop_stop. */
static __thread struct hc_kclient *loop_kclient;

/* A container (or agent) call: the lean client, or libcurl for what it
 * cannot do. */
static void container_call(struct ctl_loop *L, const struct hc_request *rq, hc_client_cb cb,
			   void *arg)
{
	if (loop_kclient && !L->stopping && hc_kclient_request(loop_kclient, rq, cb, arg) == 0)
		return;
	if (rq->unix_name) {
		/* libcurl would go to the port, which only the socket vouches for */
		cb(&(struct hc_response){.body = "",
					 .error = "could not start the request",
					 .not_sent = 1},
		   arg);
		return;
	}
	if (!hc_client_request(L->client, rq, cb, arg))
		cb(&(struct hc_response){.body = "", .error = "could not start the request"}, arg);
}

/* The container's local socket when the controller may use it: the
 * agent gave it the one name a runtime's socket may have (its id's, never
 * a path from a descriptor), and the container's address is this host's
 * (asked once per container: a netlink round trip). A container elsewhere
 * is never looked for here, so nothing on this host can stand in for it. */
static const char *local_socket(struct ctl_loop *L, struct ctl_ctr *c)
{
	static const size_t plen = sizeof(PR_SOCK_PREFIX) - 1;
	if (!L->ctl->cfg.local_socket || !c->d.sock[0])
		return NULL;
	if (!c->local)
		c->local = !strncmp(c->d.sock, PR_SOCK_PREFIX, plen) &&
				   !strcmp(c->d.sock + plen, c->d.id) && hc_ipv4_is_local(c->d.host)
			       ? 1
			       : -1;
	return c->local > 0 ? c->d.sock : NULL;
}

/* POST body to the runtime's path (/init, /run) in container
 * c for activation v; max_response 0 is the client's default; want_header
 * may be NULL. */
static void post_to_runtime(struct ctl_inv *v, struct ctl_ctr *c, const char *path,
			    struct hc_buf *body, size_t max_response, const char *want_header,
			    hc_client_cb cb)
{
	static const char *const hdr[] = {"Content-Type: application/json", NULL};
	char url[256];
	struct hc_buf u = HC_BUF_FIXED(url); /* no printf: once per invoke */
	hc_buf_adds(&u, "http://");
	hc_buf_adds(&u, c->d.host);
	hc_buf_addc(&u, ':');
	hc_buf_add_int(&u, c->d.port);
	hc_buf_adds(&u, path);
	struct hc_request rq = {
	    .method = "POST",
	    .url = url,
	    .headers = hdr,
	    .body = hc_buf_str(body),
	    .body_len = body->len,
	    /* the runtime enforces the limit itself; this is the backstop */
	    .timeout_ms = v->rec.limits.timeout_ms + 2000,
	    .max_response = max_response,
	    .want_header = want_header,
	    /* a container on this host: its local socket, without TCP */
	    .unix_name = local_socket(v->L, c),
	};
	container_call(v->L, &rq, cb, v); /* the client copies the body */
}

static const char *const *auth_headers(struct ctl *c)
{
	static __thread const char *h[3];
	h[0] = c->bearer;
	h[1] = "Content-Type: application/json";
	h[2] = NULL;
	return h;
}

void ctl_my_owner(struct ctl_loop *L, char *out, size_t n)
{
	ctl_owner_id(L->ctl, L->loop->index, out, n);
}

/* Fire-and-forget HTTP call (release, busy, discard, logs). */
void ctl_ignore_reply(const struct hc_response *r, void *arg)
{
	const char *what = arg;
	if (r->error || r->status >= 300)
		hc_debug("%s: status %ld %s", what, r->status, r->error ? r->error : "");
}

void ctl_send_json(struct ctl_loop *L, const char *method, const char *url, const cJSON *body,
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

/* A /release, /busy or /discard call, counted while under way (a drain
 * waits for them). */
struct ref_call {
	struct ctl_loop *L;
	const char *route;
};

static void on_ref(const struct hc_response *r, void *arg)
{
	struct ref_call *rc = arg;
	rc->L->refs_inflight--;
	ctl_ignore_reply(r, (void *)rc->route);
	free(rc);
}

void ctl_sched_ref(struct ctl_loop *L, const char *route, const struct ctl_ctr *c,
		   const char *reason)
{
	char leader[128], url[256];
	struct pr_container_ref ref;
	memset(&ref, 0, sizeof(ref));
	ctl_leader_get(L->ctl, leader, sizeof(leader));
	if (!leader[0])
		return;
	hc_strlcpy(ref.container, c->d.id, sizeof(ref.container));
	ctl_my_owner(L, ref.controller, sizeof(ref.controller));
	if (reason)
		hc_strlcpy(ref.reason, reason, sizeof(ref.reason));
	cJSON *j = pr_container_ref_to_json(&ref);
	snprintf(url, sizeof(url), "%s%s", leader, route);
	hc_counter_inc(L->ctl->m.sched_calls);
	struct ref_call *rc = malloc(sizeof(*rc));
	if (rc) {
		rc->L = L, rc->route = route;
		L->refs_inflight++;
		ctl_send_json(L, "POST", url, j, SCHED_TIMEOUT_MS, on_ref, rc);
	} else {
		ctl_send_json(L, "POST", url, j, SCHED_TIMEOUT_MS, ctl_ignore_reply, (void *)route);
	}
	cJSON_Delete(j);
}

/* Forget a container that died or timed out, and tell the scheduler. */
void ctl_discard(struct ctl_loop *L, struct ctl_ctr *c, const char *reason)
{
	hc_warn("container=%s discarded: %s", c->d.id, reason);
	ctl_sched_ref(L, PR_SCHED_ROUTE_DISCARD, c, reason);
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

void ctl_inv_accepted(struct ctl_inv *v)
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
	struct ctl_inv *v = arg;
	v->wait_armed = 0;
	if (v->req)
		ctl_inv_accepted(v);
}

void ctl_inv_wait(struct ctl_inv *v, int64_t wait_ms)
{
	struct ctl_loop *L = v->L;
	struct timeval tv = hc_ms_timeval(wait_ms);
	const struct timeval *t =
	    L->wait_tv && wait_ms == L->ctl->cfg.blocking_wait_ms ? L->wait_tv : &tv;
	if (evtimer_assign(&v->wait_timer, L->loop->base, on_wait_timer, v) == 0 &&
	    evtimer_add(&v->wait_timer, t) == 0)
		v->wait_armed = 1;
}

/* The record as stored (relayed one for a forwarded run). */
static cJSON *record_json(struct ctl_inv *v)
{
	if (v->fwd_record)
		return cJSON_Duplicate(v->fwd_record, 1);
	return pr_activation_to_json(&v->rec);
}

static void reply_final(struct ctl_inv *v, cJSON *stored)
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
	/* the API form lacks statusCode (toExtendedJson): leave it out of this
	 * reply without copying the record, then put it back for the caller */
	cJSON *resp = cJSON_GetObjectItemCaseSensitive(stored, "response");
	cJSON *sc = cJSON_DetachItemFromObjectCaseSensitive(resp, "statusCode");
	hc_reply_json(req, status, stored);
	if (sc)
		cJSON_AddItemToObject(resp, "statusCode", sc);
}

static void ask_logs(struct ctl_inv *v)
{
	struct ctl_ctr *c = v->ctr;
	char url[512];
	if (!c || c->maxc > 1 || !c->d.agent[0])
		return; /* concurrent mode: no per-activation logs, as in OpenWhisk */
	if (v->printed_nothing)
		return; /* nothing to collect: the logs read as [] */
	struct hc_buf u = HC_BUF_FIXED(url);
	if (hc_buf_adds(&u, c->d.agent) | hc_buf_adds(&u, "/log/") | hc_buf_adds(&u, c->d.id) |
	    hc_buf_adds(&u, "?activation=") | hc_buf_adds(&u, v->rec.id) |
	    hc_buf_adds(&u, "&limit=") |
	    hc_buf_add_int(&u, (int64_t)v->rec.limits.logs_mb * 1024 * 1024))
		return;
	if (v->L->stopping)
		return;
	/* one per activation: the lean client keeps it cheap */
	struct hc_request rq = {
	    .method = "GET",
	    .url = url,
	    .headers = auth_headers(v->L->ctl),
	    .timeout_ms = AGENT_TIMEOUT_MS,
	};
	container_call(v->L, &rq, ctl_ignore_reply, "logs");
}

void ctl_inv_free(struct ctl_inv *v)
{
	if (v->wait_armed)
		event_del(&v->wait_timer);
	ctl_cache_release(&v->aref);
	pr_activation_clear(&v->rec);
	cJSON_Delete(v->params_json);
	cJSON_Delete(v->fwd_record);
	free(v->params);
	free(v);
}

/* Records are small; a result may be up to PR_RT_RESULT_MAX, logs are
 * stored apart (agent). */
#define RECORD_TEXT_MAX (PR_RT_RESULT_MAX + (1u << 20))

static int print_into(struct hc_buf *b, const cJSON *j)
{
	char *t = cJSON_PrintUnformatted(j);
	if (!t)
		return -1;
	int rc = hc_buf_adds(b, t);
	free(t);
	return rc;
}

/* The reply's body into b: the record, or only the result. */
static int encode_reply(struct ctl_inv *v, struct hc_buf *b, const char *rj, size_t rl)
{
	const cJSON *res = v->rec.result;
	/* OpenWhisk returns an array result as is even without result=true;
	 * another controller gets the stored form */
	if (v->forwarded || (!v->result_only && !cJSON_IsArray(res)))
		return pr_activation_encode(b, &v->rec, rj, rl, v->forwarded);
	if (rj)
		return hc_buf_add(b, rj, rl);
	return res ? print_into(b, res) : hc_buf_add(b, "{}", 2);
}

/* The common end (not a sequence step, not a relayed record): the record is
 * stored packed and the reply encoded as text straight from v->rec, with no
 * cJSON tree in between (printing trees was most of the controller's CPU
 * per warm invoke); the result is the container's own bytes when it sent
 * them. -1 when the reply could not be encoded: the caller takes the tree
 * path. */
static int finish_text(struct ctl_inv *v)
{
	struct ctl *c = v->L->ctl;
	/* a noop's record is ~500 bytes: on the stack, or on the heap when
	 * the result makes it larger */
	char small[4096];
	struct hc_buf rp = HC_BUF_FIXED(small);
	const char *rj = v->result_text;
	size_t rl = rj ? v->result_text_len : 0;
	int rc = -1;
	int code = v->rec.status;
	struct hc_req *req = v->req;
	if (req && (rl + 1024 > sizeof small || encode_reply(v, &rp, rj, rl) < 0)) {
		hc_buf_init(&rp, RECORD_TEXT_MAX);
		if (hc_buf_reserve(&rp, 1024 + rl) < 0 || encode_reply(v, &rp, rj, rl) < 0)
			goto out;
	}
	if (code >= 0 && code < 4)
		hc_counter_inc(c->m.invokes[code]);
	if (req) {
		v->req = NULL;
		hc_req_add_header(req, "x-openwhisk-activation-id", v->rec.id);
		/* to another controller: always 200; the body is copied only
		 * when the kernel does not take it at once */
		hc_reply(req, v->forwarded ? 200 : http_status_for(code), "application/json",
			 rp.data, rp.len);
		hc_hist_observe(c->m.latency, (double)(hc_mono_us() - v->t0_us) / 1e6);
	}
	/* after the reply, which is written at once: the record is written
	 * behind anyway, and packing it need not delay the caller */
	ctl_record_store(v->L, &v->rec, rj, rl);
	rc = 0;
out:
	if (rp.data != small)
		hc_buf_free(&rp);
	return rc;
}

/* The activation is over: record, reply, logs, metrics. */
void ctl_inv_finish(struct ctl_inv *v)
{
	struct ctl *c = v->L->ctl;
	if (!v->rec.end_ms)
		v->rec.end_ms = hc_now_ms();
	if (!v->fwd_record && !v->done && finish_text(v) == 0) {
		ask_logs(v);
		ctl_inv_free(v);
		return;
	}
	/* encoded once: stored, replied, handed to a sequence */
	cJSON *stored = record_json(v);
	if (stored && !v->fwd_record)
		ctl_record_store(v->L, &v->rec, NULL, 0);
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
	ctl_inv_free(v);
}

/* Fail an activation that never ran. */
void ctl_inv_fail(struct ctl_inv *v, int code, const char *msg)
{
	v->rec.status = code;
	cJSON_Delete(v->rec.result);
	v->rec.result = pr_error_result(msg);
	ctl_inv_finish(v);
}

/* 429 without a record, as OpenWhisk's throttle. */
void ctl_inv_reject(struct ctl_inv *v, const char *msg)
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
	ctl_inv_free(v);
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

#define RESEND_MAX 2 /* containers that may refuse one activation before it fails */

static void on_run(const struct hc_response *r, void *arg)
{
	struct ctl_inv *v = arg;
	struct ctl_loop *L = v->L;
	struct ctl_ctr *c = v->ctr;
	char msg[160];
	int dead = 0;
	if (r->error && r->not_sent && !r->timed_out && v->resent < RESEND_MAX && !L->stopping) {
		/* Nothing reached the container (its process or host is gone:
		 * connection refused): at-most-once allows running it on another
		 * one. The container is dropped; the activation goes round again. */
		hc_warn("container %s refused activation %s (%s); trying another", c->d.id,
			v->rec.id, r->error);
		c->inflight--;
		c->st = CTL_CS_DEAD;
		v->ctr = NULL;
		v->resent++;
		hc_counter_inc(L->ctl->m.resent);
		ctl_ctr_after_run(L, c);
		ctl_inv_dispatch(v);
		return;
	}
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
		/* a failed run may have left the runtime's own words in the logs */
		v->printed_nothing = r->status == 200 && r->header && !strcmp(r->header, "0");
		if (r->status != 200 && looks_fatal(r->body)) {
			dead = 1;
			v->rec.timeout = strstr(r->body, "exceeded its time limits") != NULL;
		}
		if (r->status == 200 &&
		    (v->rec.status == PR_ST_SUCCESS || v->rec.status == PR_ST_APP_ERROR)) {
			/* the result is these bytes (parsed whole into rec.result) */
			const char *p = r->body, *e = r->body + r->body_len;
			while (p < e && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
				p++;
			while (e > p &&
			       (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
				e--;
			v->result_text = p;
			v->result_text_len = (size_t)(e - p);
		}
	}
	c->inflight--;
	if (dead)
		c->st = CTL_CS_DEAD;
	/* ctl_inv_finish frees v: result_text is used only inside it */
	ctl_inv_finish(v);
	ctl_ctr_after_run(L, c);
}

void ctl_inv_run(struct ctl_inv *v, struct ctl_ctr *c)
{
	struct hc_err err = {{0}};
	v->ctr = c;
	c->last_used_us = hc_mono_us();
	v->run_start_us = c->last_used_us;
	if (v->rec.wait_ms < 0)
		v->rec.wait_ms = (int64_t)(v->run_start_us - v->t0_us) / 1000;
	struct pr_rt_run run = {
	    .value_json = v->params ? v->params : "{}",
	    .value_len = v->params ? strlen(v->params) : 2,
	    .activation_id = v->rec.id,
	    .action_name = v->a->fqn,
	    .action_version = v->rec.version,
	    .namespace_ = v->rec.subject,
	    .transaction_id = v->rec.id,
	    .deadline_ms = (int64_t)(hc_now_ms() + (uint64_t)v->rec.limits.timeout_ms),
	    .timeout_ms = v->rec.limits.timeout_ms,
	    .api_key = v->api_key[0] ? v->api_key : NULL,
	};
	/* the usual body is ~250 bytes: on the stack, or on the heap when
	 * the parameters make it larger */
	char small[1024];
	struct hc_buf body = HC_BUF_FIXED(small);
	int enc = pr_rt_run_encode(&body, &run, &err);
	if (enc < 0) {
		hc_buf_init(&body, PR_RT_RUN_MAX_BODY + 4096);
		hc_buf_reserve(&body, run.value_len + 512);
		enc = pr_rt_run_encode(&body, &run, &err);
	}
	if (enc < 0) {
		hc_buf_free(&body);
		c->inflight--;
		ctl_inv_fail(v, PR_ST_INTERNAL_ERROR, "could not encode the run request");
		ctl_ctr_after_run(v->L, c);
		return;
	}
	post_to_runtime(v, c, PR_RT_PATH_RUN, &body, PR_RT_RESULT_MAX + 4096, PR_RT_HDR_LOG_BYTES,
			on_run);
	if (body.data != small)
		hc_buf_free(&body);
}

/* ---- /init ---- */

static void on_init(const struct hc_response *r, void *arg)
{
	struct ctl_inv *v = arg;
	struct ctl_loop *L = v->L;
	struct ctl_ctr *c = v->ctr;
	v->rec.init_ms = (int64_t)(hc_mono_us() - v->run_start_us) / 1000;
	if (!r->error && !r->timed_out && r->status == 200) {
		c->st = CTL_CS_READY;
		c->inflight++;
		ctl_inv_run(v, c);
		ctl_ctr_drain(L, c);
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
	ctl_inv_finish(v);
	ctl_ctr_after_run(L, c);
}

/* The /init environment: parameters marked init:true (OpenWhisk exports
 * them at /init) and __OW_API_HOST (--api-host, default this controller's
 * URL). */
static cJSON *init_env(struct ctl_inv *v)
{
	struct ctl *ctl = v->L->ctl;
	cJSON *env = cJSON_CreateObject();
	const cJSON *p;
	if (!env)
		return NULL;
	cJSON_ArrayForEach(p, v->a->info.parameters)
	{
		const cJSON *k = cJSON_GetObjectItemCaseSensitive(p, "key");
		if (cJSON_IsString(k) &&
		    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "init"))) {
			const cJSON *val = cJSON_GetObjectItemCaseSensitive(p, "value");
			cJSON_AddItemToObject(env, k->valuestring,
					      val ? cJSON_Duplicate(val, 1) : cJSON_CreateNull());
		}
	}
	cJSON_AddStringToObject(env, "__OW_API_HOST",
				ctl->cfg.api_host && ctl->cfg.api_host[0] ? ctl->cfg.api_host
									  : ctl->url);
	return env;
}

void ctl_inv_init(struct ctl_inv *v, struct ctl_ctr *c)
{
	struct hc_buf body;
	struct hc_err err = {{0}};
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
		ctl_inv_fail(v, PR_ST_INTERNAL_ERROR, "could not encode the init request");
		ctl_ctr_after_run(v->L, c);
		return;
	}
	post_to_runtime(v, c, PR_RT_PATH_INIT, &body, 0, NULL, on_init);
	hc_buf_free(&body);
}

/* ---- dispatch ---- */

/* A non-blocking activation is answered 202 once it is accepted: run,
 * resumed or queued (a full queue refuses it with 429 instead). */
static void accept_now(struct ctl_inv *v)
{
	if (v->nonblocking && v->req)
		ctl_inv_accepted(v);
}

void ctl_inv_dispatch(struct ctl_inv *v)
{
	struct ctl_loop *L = v->L;
	struct ctl_ctr *c = ctl_pool_pick(L->pool, v->akey);
	if (c && c->st == CTL_CS_READY) {
		if (c->grace)
			evtimer_del(c->grace);
		c->inflight++;
		hc_counter_inc(L->ctl->m.cold[0]);
		accept_now(v);
		ctl_inv_run(v, c);
		return;
	}
	if (c && c->st == CTL_CS_SUSPENDED) {
		c->inflight++;
		hc_counter_inc(L->ctl->m.cold[0]);
		accept_now(v);
		ctl_ctr_resume(L, c, v);
		return;
	}
	if (v->attempts >= DISPATCH_ATTEMPTS) {
		ctl_inv_fail(v, PR_ST_INTERNAL_ERROR,
			     "no container could be found for the activation");
		return;
	}
	if (ctl_queue_push(L->pool, v->akey, &v->w, (int)L->ctl->cfg.queue_max) < 0) {
		ctl_inv_reject(v, "Too many requests");
		return;
	}
	v->queued = 1;
	accept_now(v);
	ctl_alloc_maybe(L, v->a, v->akey);
}

/* ---- starting an activation ---- */

/* Build an activation of the action in ref (taken) with params (taken). */
struct ctl_inv *ctl_inv_new(struct ctl_loop *L, struct ctl_ref *ref, cJSON *params,
			    const char *subject, const char *id)
{
	struct ctl_inv *v = calloc(1, sizeof(*v));
	if (!v) {
		ctl_cache_release(ref);
		cJSON_Delete(params);
		return NULL;
	}
	v->L = L;
	v->aref = *ref;
	v->a = ref->val;
	v->params_json = params;
	v->params = params ? cJSON_PrintUnformatted(params) : NULL;
	v->t0_us = hc_mono_us();
	pr_activation_init(&v->rec);
	v->rec.start_ms = hc_now_ms();
	if (id) {
		/* forwarded: it started when the first controller took it, the
		 * time its id carries, which orders the index (proto/keys.h) */
		uint64_t t = pr_activation_id_ms(id), now = v->rec.start_ms;
		if (t && (t <= now ? now - t : t - now) < 3600000)
			v->rec.start_ms = t;
		hc_strlcpy(v->rec.id, id, sizeof(v->rec.id));
	} else {
		pr_activation_id_new(v->rec.id, v->rec.start_ms);
	}
	const struct pr_action_info *ai = &v->a->info;
	hc_strlcpy(v->rec.ns, ai->ns, sizeof(v->rec.ns));
	hc_strlcpy(v->rec.name, ai->name, sizeof(v->rec.name));
	hc_strlcpy(v->rec.version, ai->version, sizeof(v->rec.version));
	hc_strlcpy(v->rec.subject, subject, sizeof(v->rec.subject));
	hc_strlcpy(v->rec.kind, ai->kind, sizeof(v->rec.kind));
	v->rec.limits = ai->limits;
	ctl_akey(v->akey, sizeof(v->akey), ai->ns, ai->name, ai->version);
	if (params && !v->params) {
		ctl_inv_free(v);
		return NULL;
	}
	return v;
}

static void start(struct ctl_inv *v)
{
	if (v->a->info.is_sequence) {
		accept_now(v);
		ctl_seq_start(v);
	} else {
		ctl_inv_dispatch(v);
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
	/* an action without defaults invoked with no body or {} (the usual
	 * invoke): nothing to parse, merge or print; its value is {} */
	int defaults = cJSON_GetArraySize(a->info.parameters) > 0;
	if (!hc_json_blank(b, len) && (defaults || !hc_json_empty_object(b, len))) {
		body = hc_json_parse(b, len, HC_JSON_MAX_DEPTH, &err);
		if (!body || !cJSON_IsObject(body)) {
			hc_reply_error(req, 400, "The request content was malformed:\n%s",
				       body ? "the body must be a JSON object" : err.msg);
			ctl_cache_release(ref);
			goto out;
		}
	}
	if (body || defaults) {
		params = pr_params_merge(a->info.parameters, body, a->info.annotations, &err);
		if (!params) {
			hc_reply_error(req, 400, "%s", err.msg);
			ctl_cache_release(ref);
			goto out;
		}
	}
	struct ctl_inv *v = ctl_inv_new(ir->L, ref, params, ir->subject, NULL);
	if (!v) {
		hc_reply_error(req, 500, "out of memory");
		goto out;
	}
	v->req = req;
	v->result_only = ir->result_only;
	hc_strlcpy(v->caller_key, ir->caller_key, sizeof(v->caller_key));
	/* OpenWhisk: the key goes to the action unless provide-api-key is false
	 * (new actions get false at create) */
	if (pr_annotation_true(a->info.annotations, "provide-api-key", 1))
		hc_strlcpy(v->api_key, ir->caller_key, sizeof(v->api_key));
	if (!ir->blocking) {
		v->nonblocking = 1; /* answered by dispatch once accepted */
	} else {
		ctl_inv_wait(v, ir->wait_ms);
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
	hc_strlcpy(ir->subject, own, sizeof(ir->subject));
	const struct pr_cred *cred = ctl_auth_cred();
	if (cred) {
		struct hc_buf k = HC_BUF_FIXED(ir->caller_key);
		hc_buf_adds(&k, cred->uuid);
		hc_buf_addc(&k, ':');
		hc_buf_adds(&k, cred->key);
	}
	ctl_action_lookup(L, ns, name, on_action, ir);
}

/* ---- per-loop set-up ---- */

int ctl_pool_loop_init(struct ctl_loop *L)
{
	int64_t ms = L->ctl->cfg.blocking_wait_ms;
	struct timeval tv = hc_ms_timeval(ms);
	L->wait_tv = event_base_init_common_timeout(L->loop->base, &tv);
	ms = L->ctl->cfg.pause_grace_ms;
	struct timeval grace = hc_ms_timeval(ms);
	L->grace_tv = ms > 0 ? event_base_init_common_timeout(L->loop->base, &grace) : NULL;
	L->pool = calloc(1, sizeof(*L->pool));
	loop_kclient = hc_kclient_new(L->loop->base); /* NULL: libcurl does it all */
	return L->pool ? 0 : -1;
}

void ctl_pool_loop_stop(struct ctl_loop *L)
{
	L->stopping = 1;
	/* calls in flight fail now ("cancelled"), like the libcurl client's */
	struct hc_kclient *k = loop_kclient;
	loop_kclient = NULL;
	hc_kclient_free(k);
	/* allocations waiting on a call are freed by its callback (the client
	 * and Redis fail every pending call when freed); the others now */
	for (struct ctl_alloc *al = L->allocs, *next; al; al = next) {
		next = al->next;
		if (!al->pending)
			ctl_alloc_free(al);
	}
	if (!L->pool)
		return;
	/* activations still waiting for a container end here */
	for (struct ctl_queue *q = L->pool->queues; q; q = q->next) {
		struct ctl_inv *v;
		while ((v = (struct ctl_inv *)ctl_queue_pop(L->pool, q->akey))) {
			v->queued = 0;
			ctl_inv_fail(v, PR_ST_INTERNAL_ERROR, "the controller is shutting down");
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
