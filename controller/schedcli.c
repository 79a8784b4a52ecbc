/* controller/schedcli.c — the scheduler client (see schedcli.h). */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/json.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/redis.h"
#include "common/str.h"
#include "controller/call.h"
#include "controller/pool.h"
#include "controller/schedcli.h"
#include "proto/keys.h"

/* One /allocate exchange (with its retries). */
struct alloc {
	struct alloc *next, *prev; /* the loop's list */
	struct ctl_loop *L;
	struct pr_alloc_req rq;
	int maxc;
	char akey[CTL_AKEY_MAX];
	int redirects;
	int pending; /* a Redis or HTTP call will call back with this alloc */
	struct event *retry;
};

struct ctl_sched_loop {
	struct alloc *allocs;
	int refs_inflight; /* /release, /busy, /discard calls not answered yet */
	struct event *heartbeat;
};

/* ---- the leader ---- */

void ctl_sched_leader_get(struct ctl *c, char *out, size_t outlen)
{
	pthread_mutex_lock(&c->leader_mu);
	snprintf(out, outlen, "%s", c->leader_url);
	pthread_mutex_unlock(&c->leader_mu);
}

void ctl_sched_leader_set(struct ctl *c, const char *url)
{
	pthread_mutex_lock(&c->leader_mu);
	if (strcmp(c->leader_url, url ? url : "") != 0) {
		hc_strlcpy(c->leader_url, url ? url : "", sizeof(c->leader_url));
		hc_info("scheduler leader is %s", c->leader_url[0] ? c->leader_url : "unknown");
	}
	pthread_mutex_unlock(&c->leader_mu);
}

void ctl_sched_leader_init(struct ctl *c)
{
	if (!c->cfg.scheduler || !c->cfg.scheduler[0])
		return;
	char first[128];
	hc_strlcpy(first, c->cfg.scheduler, sizeof(first));
	char *comma = strchr(first, ',');
	if (comma)
		*comma = '\0';
	ctl_sched_leader_set(c, first);
}

static void on_leader_info(redisReply *r, void *arg)
{
	struct ctl *c = arg;
	if (r && r->type == REDIS_REPLY_STRING && r->len > 0 && r->len < 128)
		ctl_sched_leader_set(c, r->str);
}

/* ---- allocations ---- */

static void alloc_send(struct alloc *al);

static void alloc_later(struct alloc *al, long ms, int status, const char *msg);

static void alloc_free(struct alloc *al)
{
	struct ctl_sched_loop *S = al->L->sched;
	if (al->retry)
		event_free(al->retry);
	if (al->prev)
		al->prev->next = al->next;
	else
		S->allocs = al->next;
	if (al->next)
		al->next->prev = al->prev;
	free(al);
}

/* Tell the activation module what came of it; over unless the container
 * granted could not be used yet. */
static void alloc_end(struct alloc *al, const struct pr_alloc_reply *ar)
{
	struct ctl_loop *L = al->L;
	if (L->ctl->alloc_hooks->granted(L, al->akey, al->maxc, ar) && ar && !L->stopping) {
		alloc_later(al, 50, 503, "no container became available");
		return;
	}
	alloc_free(al);
}

static void on_alloc_retry(evutil_socket_t fd, short what, void *arg)
{
	alloc_send(arg);
}

/* Try again in ms, unless nobody waits any more (the ones that waited too
 * long end now with status and msg). */
static void alloc_later(struct alloc *al, long ms, int status, const char *msg)
{
	struct ctl_loop *L = al->L;
	if (L->ctl->alloc_hooks->waiting(L, al->akey, status, msg) == 0) {
		alloc_end(al, NULL);
		return;
	}
	if (!al->retry)
		al->retry = evtimer_new(L->loop->base, on_alloc_retry, al);
	struct timeval tv = hc_ms_timeval(ms);
	if (!al->retry || evtimer_add(al->retry, &tv) < 0)
		alloc_end(al, NULL);
}

static void on_leader_refresh(redisReply *r, void *arg)
{
	struct alloc *al = arg;
	al->pending = 0;
	if (al->L->stopping) {
		alloc_end(al, NULL);
		return;
	}
	on_leader_info(r, al->L->ctl);
	alloc_later(al, 100, 503, "no scheduler is available");
}

/* Ask Redis where the leader is, then try again. */
static void refresh_leader(struct alloc *al)
{
	al->pending = 1;
	if (hc_redis_cmd(al->L->redis, on_leader_refresh, al, "HGET %s %s", PR_KEY_LEADER_INFO,
			 PR_SCHED_F_URL) < 0) {
		al->pending = 0;
		alloc_later(al, 100, 503, "no scheduler is available");
	}
}

static void on_alloc_ok(struct alloc *al, const cJSON *j)
{
	struct pr_alloc_reply ar;
	struct hc_err err = {{0}};
	if (j && pr_alloc_reply_from_json(j, &ar, &err) == 0) {
		alloc_end(al, &ar);
		return;
	}
	hc_warn("scheduler allocate reply: %s", err.msg);
	alloc_later(al, 100, 503, "the scheduler's reply was not understood");
}

static void on_alloc(const struct hc_response *r, void *arg)
{
	struct alloc *al = arg;
	struct ctl *c = al->L->ctl;
	al->pending = 0;
	if (al->L->stopping) {
		alloc_end(al, NULL);
		return;
	}
	if (r->error || r->status == 0) {
		hc_counter_inc(c->m.sched_errors);
		refresh_leader(al); /* the leader may have changed */
		return;
	}
	cJSON *j = hc_json_parse(r->body, r->body_len, HC_JSON_MAX_DEPTH, NULL);
	if (r->status == 200) {
		on_alloc_ok(al, j);
	} else if (r->status == 503) {
		struct pr_sched_redirect rd;
		hc_counter_inc(c->m.sched_errors);
		if (j && pr_sched_redirect_from_json(j, &rd, NULL) == 0 && rd.leader[0] &&
		    al->redirects++ < 3) {
			ctl_sched_leader_set(c, rd.leader);
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
	ctl_sched_leader_get(L->ctl, leader, sizeof(leader));
	if (!leader[0]) {
		refresh_leader(al);
		return;
	}
	cJSON *j = pr_alloc_req_to_json(&al->rq);
	snprintf(url, sizeof(url), "%s%s", leader, PR_SCHED_ROUTE_ALLOCATE);
	hc_counter_inc(L->ctl->m.sched_calls);
	al->pending = 1;
	ctl_call_json(L, "POST", url, j, CTL_SCHED_TIMEOUT_MS, on_alloc, al);
	cJSON_Delete(j);
}

void ctl_sched_allocate(struct ctl_loop *L, const struct pr_alloc_req *rq, const char *akey,
			int maxc)
{
	struct ctl_sched_loop *S = L->sched;
	struct alloc *al = calloc(1, sizeof(*al));
	if (!al) {
		/* the waiters try again when container news comes, or time out */
		L->ctl->alloc_hooks->granted(L, akey, maxc, NULL);
		return;
	}
	al->L = L;
	al->rq = *rq;
	al->maxc = maxc;
	hc_strlcpy(al->akey, akey, sizeof(al->akey));
	al->next = S->allocs;
	if (al->next)
		al->next->prev = al;
	S->allocs = al;
	alloc_send(al);
}

/* ---- container news ---- */

struct ref_call {
	struct ctl_loop *L;
	const char *route;
};

static void on_ref(const struct hc_response *r, void *arg)
{
	struct ref_call *rc = arg;
	rc->L->sched->refs_inflight--;
	ctl_call_ignore(r, (void *)rc->route);
	free(rc);
}

void ctl_sched_ref(struct ctl_loop *L, const char *route, const char *id, const char *reason)
{
	char leader[128], url[256];
	struct pr_container_ref ref;
	memset(&ref, 0, sizeof(ref));
	ctl_sched_leader_get(L->ctl, leader, sizeof(leader));
	if (!leader[0])
		return;
	hc_strlcpy(ref.container, id, sizeof(ref.container));
	ctl_my_owner(L, ref.controller, sizeof(ref.controller));
	if (reason)
		hc_strlcpy(ref.reason, reason, sizeof(ref.reason));
	cJSON *j = pr_container_ref_to_json(&ref);
	snprintf(url, sizeof(url), "%s%s", leader, route);
	hc_counter_inc(L->ctl->m.sched_calls);
	struct ref_call *rc = malloc(sizeof(*rc));
	if (rc) {
		rc->L = L, rc->route = route;
		L->sched->refs_inflight++;
		ctl_call_json(L, "POST", url, j, CTL_SCHED_TIMEOUT_MS, on_ref, rc);
	} else {
		ctl_call_json(L, "POST", url, j, CTL_SCHED_TIMEOUT_MS, NULL, NULL);
	}
	cJSON_Delete(j);
}

int ctl_sched_busy(const struct ctl_loop *L)
{
	return L->sched && (L->sched->refs_inflight > 0 || L->sched->allocs);
}

/* ---- registration ---- */

static void heartbeat(evutil_socket_t fd, short what, void *arg)
{
	struct ctl_loop *L = arg;
	struct ctl *c = L->ctl;
	char key[128];
	long long ttl = (long long)c->cfg.heartbeat_ms * 3;
	for (int i = 0; i < hc_server_nloops(c->server); i++) {
		char owner[80];
		ctl_owner_id(c, i, owner, sizeof(owner));
		snprintf(key, sizeof(key), PR_KEY_CONTROLLER, owner);
		hc_redis_cmd(L->redis, NULL, NULL, "HSET %s %s %s", key, PR_CONTROLLER_F_URL,
			     c->url);
		hc_redis_cmd(L->redis, NULL, NULL, "PEXPIRE %s %lld", key, ttl);
	}
	/* where the scheduler leader sends alarm fires (scheduler/alarms.c) */
	hc_redis_cmd(L->redis, NULL, NULL, "ZADD %s %llu %s", PR_KEY_CONTROLLER_URLS,
		     (unsigned long long)hc_now_ms(), c->url);
	hc_redis_cmd(L->redis, on_leader_info, c, "HGET %s %s", PR_KEY_LEADER_INFO, PR_SCHED_F_URL);
}

static void on_connect(struct hc_redis *r, void *arg)
{
	heartbeat(-1, 0, arg);
}

int ctl_sched_register_start(struct ctl_loop *L)
{
	struct ctl_sched_loop *S = L->sched;
	hc_redis_on_connect(L->redis, on_connect, L);
	S->heartbeat = event_new(L->loop->base, -1, EV_PERSIST, heartbeat, L);
	struct timeval tv = hc_ms_timeval(L->ctl->cfg.heartbeat_ms);
	return S->heartbeat && event_add(S->heartbeat, &tv) == 0 ? 0 : -1;
}

void ctl_sched_mark_draining(struct ctl_loop *L)
{
	char owner[80], key[128];
	ctl_my_owner(L, owner, sizeof(owner));
	snprintf(key, sizeof(key), PR_KEY_CONTROLLER, owner);
	hc_redis_cmd(L->redis, NULL, NULL, "HSET %s %s 1", key, PR_CONTROLLER_F_DRAINING);
}

/* ---- per loop ---- */

int ctl_sched_loop_init(struct ctl_loop *L)
{
	L->sched = calloc(1, sizeof(*L->sched));
	return L->sched ? 0 : -1;
}

void ctl_sched_loop_stop(struct ctl_loop *L)
{
	struct ctl_sched_loop *S = L->sched;
	if (!S)
		return;
	if (S->heartbeat)
		event_del(S->heartbeat);
	/* an exchange waiting on a call ends when the call fails */
	for (struct alloc *al = S->allocs, *next; al; al = next) {
		next = al->next;
		if (!al->pending)
			alloc_end(al, NULL);
	}
}

void ctl_sched_loop_fini(struct ctl_loop *L)
{
	struct ctl_sched_loop *S = L->sched;
	if (!S)
		return;
	if (S->heartbeat)
		event_free(S->heartbeat);
	free(S);
	L->sched = NULL;
}
