/* scheduler/api.c — the scheduler's HTTP API for controllers (the contract
 * is proto/scheduler.h): /allocate, /release, /busy, /discard, /healthz,
 * /metrics.
 *
 * The pool answers an allocation from memory (or later, when a container
 * is created) and writes the ownership behind; the answer that hands a
 * container over goes out once Redis has that write (one round trip
 * behind it on the same connection, see answer_when_stored). Every handler
 * that may act as leader fences first (sch_election_fence). While a new
 * leader rebuilds its pools, allocations wait in a bounded queue within
 * their wait_ms; a standby answers 503 naming the leader. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/http.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/str.h"
#include "scheduler/api.h"
#include "scheduler/election.h"
#include "scheduler/persist.h"

#define REF_BODY_MAX   4096
#define ALLOC_BODY_MAX 8192

/* Constant-time comparison of "Bearer <token>". */
static int authorized(const struct sch *s, struct hc_req *req)
{
	const char *h = hc_req_header(req, "Authorization");
	const char *t = s->cfg.token;
	size_t tlen, hlen;
	unsigned char diff = 0;

	if (!t || !t[0])
		return 1;
	if (!h || strncmp(h, "Bearer ", 7) != 0)
		return 0;
	h += 7;
	tlen = strlen(t);
	hlen = strlen(h);
	for (size_t i = 0; i < tlen; i++)
		diff |= (unsigned char)(t[i] ^ (i < hlen ? h[i] : 0));
	return diff == 0 && hlen == tlen;
}

/* 503 for callers that reached a non-leader, naming the leader if known. */
static void redirect(struct sch *s, struct hc_req *req, const char *why)
{
	struct pr_sched_redirect r;
	cJSON *j;

	memset(&r, 0, sizeof(r));
	hc_strlcpy(r.error, why, sizeof(r.error));
	if (s->phase == SCH_PH_STANDBY)
		hc_strlcpy(r.leader, s->leader_url, sizeof(r.leader));
	j = pr_sched_redirect_to_json(&r);
	hc_reply_json(req, 503, j);
	cJSON_Delete(j);
}

static int gate(struct sch *s, struct hc_req *req)
{
	if (!authorized(s, req)) {
		hc_reply_error(req, 401, "missing or wrong cluster token");
		return -1;
	}
	if (!sch_election_fence(s)) {
		redirect(s, req, "not the leader");
		return -1;
	}
	return 0;
}

static void reply_busy(struct hc_req *req, int64_t retry_after_ms, const char *why)
{
	struct pr_sched_busy b;
	char ra[32];
	cJSON *j;

	memset(&b, 0, sizeof(b));
	hc_strlcpy(b.error, why ? why : "no capacity", sizeof(b.error));
	b.retry_after_ms = retry_after_ms;
	/* Retry-After is in whole seconds; round up. */
	snprintf(ra, sizeof(ra), "%lld", (long long)((retry_after_ms + 999) / 1000));
	hc_req_add_header(req, "Retry-After", ra);
	j = pr_sched_busy_to_json(&b);
	hc_reply_json(req, 429, j);
	cJSON_Delete(j);
}

/* An answer waiting for Redis to hold the ownership writes sent before it:
 * an allocation's 200 (j), or /busy's 204. */
struct held {
	struct sch_persist_wait w; /* first: the wait's done finds the answer */
	struct hc_req *req;
	cJSON *j;
	int alloc;
};

static void observe_alloc(struct sch *s, struct hc_req *req)
{
	if (s->m_alloc_latency)
		hc_hist_observe(s->m_alloc_latency,
				(double)(hc_mono_us() - hc_req_start_us(req)) / 1e6);
}

static void send_held(struct sch *s, struct hc_req *req, cJSON *j, int alloc)
{
	if (!alloc) {
		hc_reply(req, 204, NULL, NULL, 0);
		return;
	}
	observe_alloc(s, req);
	if (j)
		hc_reply_json(req, 200, j);
	else
		hc_reply_error(req, 500, "out of memory");
	cJSON_Delete(j);
}

static void on_owner_stored(struct sch_persist_wait *w)
{
	struct held *h = (struct held *)w;

	send_held(h->w.s, h->req, h->j, h->alloc);
	free(h);
}

/* Ownership is written behind (persist.c); an answer that hands a container
 * over goes out once Redis has processed those writes. Without this wait,
 * a leader stopped between its answer and the write left a busy container
 * without an owner in Redis, and the next leader reclaimed it under a
 * running activation (it_scheduler test_sigstop_leader saw it). Nothing to
 * wait for when every write sent is known processed (a controller taking
 * back its own free container changes no owner). Answers (held or at once)
 * with j (alloc) or 204. */
static void answer_when_stored(struct sch *s, struct hc_req *req, cJSON *j, int alloc)
{
	struct held *h;

	if (sch_persist_pending(s) && (h = calloc(1, sizeof(*h)))) {
		h->req = req, h->j = j, h->alloc = alloc;
		if (sch_persist_wait(s, &h->w, on_owner_stored) == 0)
			return;
		free(h);
	}
	send_held(s, req, j, alloc);
}

void sch_api_reply(struct sch *s, void *cookie, const struct sch_alloc_result *res)
{
	struct hc_req *req = cookie;

	if (s->m_outcome[res->outcome])
		hc_counter_inc(s->m_outcome[res->outcome]);
	switch (res->outcome) {
	case SCH_OUT_REJECTED:
		observe_alloc(s, req);
		reply_busy(req, res->retry_after_ms, res->error);
		return;
	case SCH_OUT_ABORTED:
		observe_alloc(s, req);
		redirect(s, req, res->error ? res->error : "no longer the leader");
		return;
	case SCH_OUT_FORWARD: /* hands nothing over: nothing to wait for */
		send_held(s, req, pr_alloc_reply_to_json(&res->reply), 1);
		return;
	default:
		answer_when_stored(s, req, pr_alloc_reply_to_json(&res->reply), 1);
		return;
	}
}

static void handle_allocate(struct hc_req *req, void *arg)
{
	struct sch *s = arg;
	struct pr_alloc_req ar;
	struct hc_err err = {{0}};
	const char *body;
	size_t len;

	if (gate(s, req) < 0)
		return;
	body = hc_req_body(req, &len);
	if (pr_alloc_req_parse(body, len, &ar, &err) < 0) {
		hc_reply_error(req, 400, "%s", err.msg);
		return;
	}
	if (s->phase == SCH_PH_REBUILDING) {
		struct sch_queued *q;
		if (s->nqueued >= s->cfg.max_queued || !(q = calloc(1, sizeof(*q)))) {
			redirect(s, req, "leader is rebuilding its pools; retry shortly");
			return;
		}
		q->req = req;
		q->ar = ar;
		q->deadline_us = hc_req_start_us(req) + (uint64_t)ar.wait_ms * 1000;
		TAILQ_INSERT_TAIL(&s->queued, q, link);
		s->nqueued++;
		return;
	}
	sch_pool_allocate(s->pool, &ar, req);
}

void sch_api_drain_queue(struct sch *s)
{
	struct sch_queued *q;
	uint64_t now = hc_mono_us();

	while ((q = TAILQ_FIRST(&s->queued))) {
		TAILQ_REMOVE(&s->queued, q, link);
		s->nqueued--;
		if (now >= q->deadline_us)
			reply_busy(q->req, s->cfg.retry_after_ms, "timed out during failover");
		else if (s->pool)
			sch_pool_allocate(s->pool, &q->ar, q->req);
		else
			redirect(s, q->req, "no longer the leader");
		free(q);
	}
}

void sch_api_expire_queue(struct sch *s)
{
	struct sch_queued *q, *next;
	uint64_t now = hc_mono_us();

	for (q = TAILQ_FIRST(&s->queued); q; q = next) {
		next = TAILQ_NEXT(q, link);
		if (now < q->deadline_us)
			continue;
		TAILQ_REMOVE(&s->queued, q, link);
		s->nqueued--;
		redirect(s, q->req, "timed out while the leader rebuilt its pools");
		free(q);
	}
}

void sch_api_abort_queue(struct sch *s)
{
	struct sch_queued *q;

	while ((q = TAILQ_FIRST(&s->queued))) {
		TAILQ_REMOVE(&s->queued, q, link);
		s->nqueued--;
		redirect(s, q->req, "no longer the leader");
		free(q);
	}
}

enum ref_kind { REF_RELEASE, REF_BUSY, REF_DISCARD };

static void handle_ref(struct sch *s, struct hc_req *req, enum ref_kind kind)
{
	struct pr_container_ref ref;
	struct hc_err err = {{0}};
	enum sch_ref_result r;
	const char *body;
	size_t len;

	if (gate(s, req) < 0)
		return;
	body = hc_req_body(req, &len);
	if (pr_container_ref_parse(body, len, &ref, &err) < 0) {
		hc_reply_error(req, 400, "%s", err.msg);
		return;
	}
	if (s->phase != SCH_PH_SERVING) {
		redirect(s, req, "leader is rebuilding its pools; retry shortly");
		return;
	}
	switch (kind) {
	case REF_RELEASE:
		r = sch_pool_release(s->pool, ref.container, ref.controller);
		break;
	case REF_BUSY:
		r = sch_pool_busy(s->pool, ref.container, ref.controller);
		break;
	default:
		if (ref.reason[0])
			hc_info("container=%s discarded by controller=%s: %s", ref.container,
				ref.controller, ref.reason);
		r = sch_pool_discard(s->pool, ref.container, ref.controller);
		break;
	}
	switch (r) {
	case SCH_REF_OK:
		/* /busy may have taken a free container over for its caller */
		if (kind == REF_BUSY)
			answer_when_stored(s, req, NULL, 0);
		else
			hc_reply(req, 204, NULL, NULL, 0);
		break;
	case SCH_REF_UNKNOWN:
		hc_reply_error(req, 404, "unknown container %s", ref.container);
		break;
	case SCH_REF_NOT_OWNER:
		hc_reply_error(req, 409, "container %s is owned by another controller",
			       ref.container);
		break;
	case SCH_REF_BAD_STATE:
		hc_reply_error(req, 409, "container %s cannot change state now", ref.container);
		break;
	}
}

static void handle_release(struct hc_req *req, void *arg)
{
	handle_ref(arg, req, REF_RELEASE);
}

static void handle_busy(struct hc_req *req, void *arg)
{
	handle_ref(arg, req, REF_BUSY);
}

static void handle_discard(struct hc_req *req, void *arg)
{
	handle_ref(arg, req, REF_DISCARD);
}

static void handle_healthz(struct hc_req *req, void *arg)
{
	struct sch *s = arg;
	struct pr_sched_health h;
	int leading = sch_election_fence(s);
	cJSON *j;

	memset(&h, 0, sizeof(h));
	hc_strlcpy(h.id, s->cfg.id, sizeof(h.id));
	h.pid = (int)getpid();
	hc_strlcpy(h.role, leading ? "leader" : "standby", sizeof(h.role));
	h.epoch = leading ? s->lease.epoch : s->leader_epoch;
	hc_strlcpy(h.leader, s->leader_url, sizeof(h.leader));
	j = pr_sched_health_to_json(&h);
	hc_reply_json(req, 200, j);
	cJSON_Delete(j);
}

int sch_api_routes(struct sch *s)
{
	if (hc_server_route(s->server, HC_POST, PR_SCHED_ROUTE_ALLOCATE, handle_allocate, s,
			    ALLOC_BODY_MAX) < 0 ||
	    hc_server_route(s->server, HC_POST, PR_SCHED_ROUTE_RELEASE, handle_release, s,
			    REF_BODY_MAX) < 0 ||
	    hc_server_route(s->server, HC_POST, PR_SCHED_ROUTE_BUSY, handle_busy, s, REF_BODY_MAX) <
		0 ||
	    hc_server_route(s->server, HC_POST, PR_SCHED_ROUTE_DISCARD, handle_discard, s,
			    REF_BODY_MAX) < 0 ||
	    hc_server_route(s->server, HC_GET, "/healthz", handle_healthz, s, 0) < 0 ||
	    hc_server_route(s->server, HC_GET, "/metrics", hc_handle_metrics, NULL, 0) < 0)
		return -1;
	return 0;
}
