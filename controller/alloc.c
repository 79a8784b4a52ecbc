/* controller/alloc.c — containers from the scheduler.
 *
 * While activations of an action wait in this loop's overflow queue and no
 * container slot is coming, POST /allocate to the scheduler leader (its URL
 * from Redis and PR_CH_LEADER; a standby's 503 names the leader, retried at
 * once; no leader or a dead one: the URL is re-read from Redis and retried
 * with backoff; 429: retried after retry_after_ms), until the waiters'
 * deadline. The container is then initialised and the queue drains into
 * it, or, when it is another controller's, one waiter is forwarded. */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/client.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/metrics.h"
#include "controller/inv.h"
#include "common/json.h"
#include "common/redis.h"
#include "common/str.h"
#include "proto/keys.h"

static void maybe_allocate_n(struct ctl_loop *L, const char *akey, int maxc,
			     const struct pr_alloc_req *tmpl);
static void alloc_send(struct ctl_alloc *al);

/* ---- allocation through the scheduler ---- */

void ctl_alloc_free(struct ctl_alloc *al)
{
	struct ctl_queue *q = al->L->pool ? ctl_queue_get(al->L->pool, al->akey, 0) : NULL;
	if (q && q->allocating > 0)
		q->allocating--;
	if (q && q->allocating == 0 && q->len == 0)
		ctl_queue_gc(al->L->pool); /* idle actions leave no queue behind */
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

static void alloc_send(struct ctl_alloc *al);

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
		struct ctl_inv *v = (struct ctl_inv *)q->head;
		if (now - v->t0_us < QUEUE_RETENTION_US)
			return q->len;
		ctl_queue_pop(L->pool, akey);
		v->queued = 0;
		if (status == 429)
			ctl_inv_reject(v, msg);
		else
			ctl_inv_fail(v, PR_ST_INTERNAL_ERROR, msg);
	}
}

static void alloc_later(struct ctl_alloc *al, long ms, int status, const char *msg)
{
	if (expire_waiters(al->L, al->akey, status, msg) == 0) {
		ctl_alloc_free(al);
		return;
	}
	if (!al->retry)
		al->retry = evtimer_new(al->L->loop->base, on_alloc_retry, al);
	struct timeval tv = hc_ms_timeval(ms);
	if (!al->retry || evtimer_add(al->retry, &tv) < 0)
		ctl_alloc_free(al);
}

static void on_leader_refresh(redisReply *r, void *arg)
{
	struct ctl_alloc *al = arg;
	al->pending = 0;
	if (al->L->stopping) {
		ctl_alloc_free(al);
		return;
	}
	if (r && r->type == REDIS_REPLY_STRING && r->len > 0 && r->len < 128)
		ctl_leader_set(al->L->ctl, r->str);
	alloc_later(al, 100, 503, "no scheduler is available");
}

static void use_allocation(struct ctl_alloc *al, const struct pr_alloc_reply *ar)
{
	struct ctl_loop *L = al->L;
	struct pr_alloc_req tmpl = al->rq;
	int maxc = al->maxc;
	char akey[CTL_AKEY_MAX];
	char me[80];
	hc_strlcpy(akey, al->akey, sizeof(akey));
	ctl_my_owner(L, me, sizeof(me));
	if (strcmp(ar->owner, me) != 0 && ar->owner_url[0]) {
		/* another controller's free warm container: forward one waiter */
		struct ctl_inv *v = (struct ctl_inv *)ctl_queue_pop(L->pool, al->akey);
		if (v) {
			v->queued = 0;
			if (v->forwarded || v->no_forward) {
				/* never forward twice: wait for capacity of our own */
				ctl_queue_push(L->pool, al->akey, &v->w, INT32_MAX);
				v->queued = 1;
				alloc_later(al, 50, 503, "no container became available");
				return;
			}
			ctl_inv_forward(v, ar->owner_url, ar->owner);
		}
		ctl_alloc_free(al);
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
	struct ctl_inv *v = (struct ctl_inv *)ctl_queue_pop(L->pool, al->akey);
	ctl_alloc_free(al);
	if (!v) {
		/* nobody waits any more: keep it; it will be suspended after grace */
		if (c->st == CTL_CS_INIT) {
			ctl_discard(L, c, "allocated after its activations left");
		} else if (c->st == CTL_CS_READY) {
			ctl_ctr_after_run(L, c);
		}
		return;
	}
	v->queued = 0;
	v->path = path;
	hc_counter_inc(L->ctl->m.cold[path < 3 ? path : 0]);
	switch (c->st) {
	case CTL_CS_INIT:
		if (fresh) {
			ctl_inv_init(v, c);
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
		ctl_ctr_resume(L, c, v);
		break;
	case CTL_CS_READY:
		if (c->inflight < c->maxc) {
			c->inflight++;
			ctl_inv_run(v, c);
			ctl_ctr_drain(L, c);
		} else {
			ctl_queue_push(L->pool, c->akey, &v->w, INT32_MAX);
			v->queued = 1;
		}
		break;
	case CTL_CS_DEAD:
		ctl_inv_dispatch(v);
		break;
	}
	maybe_allocate_n(L, akey, maxc, &tmpl);
}

static void on_alloc(const struct hc_response *r, void *arg)
{
	struct ctl_alloc *al = arg;
	struct ctl *c = al->L->ctl;
	struct hc_err err = {{0}};
	cJSON *j = NULL;
	al->pending = 0;
	if (al->L->stopping) {
		ctl_alloc_free(al);
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

static void alloc_send(struct ctl_alloc *al)
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
	ctl_send_json(L, "POST", url, j, SCHED_TIMEOUT_MS, on_alloc, al);
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
	struct ctl_alloc *al = calloc(1, sizeof(*al));
	if (!al)
		return;
	al->L = L;
	al->rq = *tmpl;
	al->maxc = maxc;
	hc_strlcpy(al->akey, akey, sizeof(al->akey));
	al->next = L->allocs;
	if (al->next)
		al->next->prev = al;
	L->allocs = al;
	q->allocating++;
	alloc_send(al);
}

void ctl_alloc_maybe(struct ctl_loop *L, const struct ctl_action *a, const char *akey)
{
	struct pr_alloc_req rq;
	memset(&rq, 0, sizeof(rq));
	hc_strlcpy(rq.ns, a->info.ns, sizeof(rq.ns));
	hc_strlcpy(rq.name, a->info.name, sizeof(rq.name));
	hc_strlcpy(rq.version, a->info.version, sizeof(rq.version));
	hc_strlcpy(rq.kind, a->info.kind, sizeof(rq.kind));
	hc_strlcpy(rq.digest, a->info.digest, sizeof(rq.digest));
	rq.memory_mb = (int)a->info.limits.memory_mb;
	rq.concurrency = (int)a->info.limits.concurrency;
	rq.wait_ms = SCHED_TIMEOUT_MS - 1000;
	ctl_my_owner(L, rq.controller, sizeof(rq.controller));
	maybe_allocate_n(L, akey, (int)a->info.limits.concurrency, &rq);
}
