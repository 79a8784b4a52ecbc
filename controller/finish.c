/* controller/finish.c — the end of an activation: its record written, its
 * caller answered (the record, or only the result), its logs asked of the
 * agent, its metrics counted (see activation.h). */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/metrics.h"
#include "controller/activation.h"
#include "controller/agentcli.h"
#include "controller/records.h"

#define HDR_ACTIVATION_ID "x-openwhisk-activation-id"

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
	if (v->answer) {
		v->answer(v, -1, NULL);
		v->req = NULL;
		return;
	}
	v->req = NULL;
	int n = snprintf(body, sizeof(body), "{\"activationId\":\"%s\"}", v->rec.id);
	hc_req_add_header(req, HDR_ACTIVATION_ID, v->rec.id);
	hc_reply(req, 202, "application/json", body, (size_t)n);
}

/* The accepted hook, once. */
static void tell_accepted(struct ctl_inv *v, int status, const char *msg)
{
	ctl_inv_accept_fn fn = v->accepted;
	v->accepted = NULL;
	fn(v, status, msg, v->accepted_arg);
}

void ctl_inv_accept_now(struct ctl_inv *v)
{
	if (v->nonblocking && v->req)
		ctl_inv_accepted(v);
	else if (v->accepted)
		tell_accepted(v, 0, NULL);
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

static void count(struct ctl_inv *v, int code)
{
	if (code >= 0 && code < 4)
		hc_counter_inc(v->L->ctl->m.invokes[code]);
}

static void observe_latency(struct ctl_inv *v)
{
	hc_hist_observe(v->L->ctl->m.latency, (double)(hc_mono_us() - v->t0_us) / 1e6);
}

/* ---- the tree path: relayed records, compositions ---- */

static void reply_final(struct ctl_inv *v, cJSON *stored)
{
	struct hc_req *req = v->req;
	int code = pr_activation_status(stored);
	if (v->answer) {
		v->answer(v, code < 0 ? PR_ST_INTERNAL_ERROR : code,
			  pr_activation_response_result(stored));
		v->req = NULL;
		return;
	}
	v->req = NULL;
	int status = http_status_for(code < 0 ? PR_ST_INTERNAL_ERROR : code);
	hc_req_add_header(req, HDR_ACTIVATION_ID, v->rec.id);
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
	const struct ctl_ctr *c = v->ctr;
	if (!c || c->maxc > 1)
		return; /* concurrent mode: no per-activation logs, as in OpenWhisk */
	if (v->printed_nothing || v->L->stopping)
		return; /* nothing to collect: the logs read as [] */
	/* the invoking namespace's log quota: its records hold the logs */
	ctl_agent_logs(v->L, c, v->rec.id, (int64_t)v->rec.limits.logs_mb * 1024 * 1024,
		       v->rec.subject, v->L->ctl->cfg.quota_logs);
}

/* ---- the text path: the common end ---- */

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

/* The common end (not a composition step, not a relayed record): the
 * record is stored packed and the reply encoded as text straight from
 * v->rec, with no cJSON tree in between (printing trees was most of the
 * controller's CPU per warm invoke); the result is the container's own
 * bytes when it sent them. -1 when the reply could not be encoded: the
 * caller takes the tree path. */
static int finish_text(struct ctl_inv *v)
{
	/* a noop's record is ~500 bytes: on the stack, or on the heap when
	 * the result makes it larger */
	char small[4096];
	struct hc_buf rp = HC_BUF_FIXED(small);
	const char *rj = v->result_text;
	size_t rl = rj ? v->result_text_len : 0;
	int rc = -1;
	struct hc_req *req = v->req;
	if (req && v->answer) {
		count(v, v->rec.status);
		v->answer(v, v->rec.status, v->rec.result);
		v->req = NULL;
		observe_latency(v);
		ctl_record_store(v->L, &v->rec, rj, rl);
		return 0;
	}
	if (req && (rl + 1024 > sizeof small || encode_reply(v, &rp, rj, rl) < 0)) {
		hc_buf_init(&rp, RECORD_TEXT_MAX);
		if (hc_buf_reserve(&rp, 1024 + rl) < 0 || encode_reply(v, &rp, rj, rl) < 0)
			goto out;
	}
	count(v, v->rec.status);
	if (req) {
		v->req = NULL;
		hc_req_add_header(req, HDR_ACTIVATION_ID, v->rec.id);
		/* to another controller: always 200; the body is copied only
		 * when the kernel does not take it at once */
		hc_reply(req, v->forwarded ? 200 : http_status_for(v->rec.status),
			 "application/json", rp.data, rp.len);
		observe_latency(v);
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

void ctl_inv_finish(struct ctl_inv *v)
{
	if (v->accepted) {
		/* ended before it was accepted: it never ran */
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(v->rec.result, "error");
		tell_accepted(v, 500, cJSON_IsString(e) ? e->valuestring : "the activation failed");
	}
	if (!v->rec.end_ms)
		v->rec.end_ms = hc_now_ms();
	if (!v->relayed && !v->done && finish_text(v) == 0) {
		ask_logs(v);
		ctl_inv_free(v);
		return;
	}
	/* encoded once: stored, replied, handed on */
	cJSON *stored =
	    v->relayed ? cJSON_Duplicate(v->relayed, 1) : pr_activation_to_json(&v->rec);
	if (stored && !v->relayed)
		ctl_record_store(v->L, &v->rec, NULL, 0);
	count(v, stored ? pr_activation_status(stored) : PR_ST_INTERNAL_ERROR);
	if (v->req) {
		if (stored)
			reply_final(v, stored);
		else
			hc_reply_error(v->req, 500, "out of memory");
		v->req = NULL;
		observe_latency(v);
	}
	if (!v->relayed)
		ask_logs(v);
	if (v->done) {
		v->done(v, stored, v->done_arg); /* the record, taken */
		stored = NULL;
	}
	cJSON_Delete(stored);
	ctl_inv_free(v);
}

void ctl_inv_fail(struct ctl_inv *v, int code, const char *msg)
{
	v->rec.status = code;
	cJSON_Delete(v->rec.result);
	v->rec.result = pr_error_result(msg);
	v->ctr = NULL; /* it never ran: no logs */
	ctl_inv_finish(v);
}

void ctl_inv_reject(struct ctl_inv *v, const char *msg)
{
	hc_counter_inc(v->L->ctl->m.invokes_rejected);
	if (v->accepted)
		tell_accepted(v, 429, msg);
	if (v->req) {
		hc_req_add_header(v->req, HDR_ACTIVATION_ID, v->rec.id);
		hc_reply_error(v->req, 429, "%s", msg);
		v->req = NULL;
	}
	if (v->done) {
		/* 429 without a record, as OpenWhisk's throttle; a composition
		 * still needs to know how it ended */
		v->rec.status = PR_ST_INTERNAL_ERROR;
		cJSON_Delete(v->rec.result);
		v->rec.result = pr_error_result(msg);
		v->rec.end_ms = hc_now_ms();
		v->done(v, pr_activation_to_json(&v->rec), v->done_arg);
	}
	ctl_inv_free(v);
}
