/* controller/proxy.c — a container between activations: after a run it
 * takes queued activations or stays resumed for pause-grace, then is
 * suspended through its agent and released to the scheduler; the next
 * activation resumes it (agent) and tells the scheduler it is busy. */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/client.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/str.h"
#include "controller/inv.h"
#include "proto/scheduler.h"

/* ---- suspend / resume ---- */

struct ctr_call {
	struct ctl_loop *L;
	char id[HC_ID_LEN + 1];
	struct ctl_inv *v; /* resume: the activation riding on it */
};

static void on_resumed(const struct hc_response *r, void *arg)
{
	struct ctr_call *cc = arg;
	struct ctl_loop *L = cc->L;
	struct ctl_inv *v = cc->v;
	struct ctl_ctr *c = ctl_pool_find_id(L->pool, cc->id);
	free(cc);
	if (!c) { /* cannot happen: the riding activation holds a slot */
		v->attempts++;
		ctl_inv_dispatch(v);
		return;
	}
	if (r->error || r->status != 204) {
		hc_warn("container=%s resume failed: %ld %s", c->d.id, r->status,
			r->error ? r->error : "");
		c->inflight--;
		ctl_discard(L, c, "resume failed");
		/* it never reached the container: dispatch again */
		v->attempts++;
		if (v->attempts >= DISPATCH_ATTEMPTS)
			ctl_inv_fail(v, PR_ST_INTERNAL_ERROR, "could not resume a container");
		else
			ctl_inv_dispatch(v);
		return;
	}
	c->st = CTL_CS_READY;
	ctl_sched_ref(L, PR_SCHED_ROUTE_BUSY, c, NULL);
	ctl_inv_run(v, c);
	ctl_ctr_drain(L, c);
}

void ctl_ctr_resume(struct ctl_loop *L, struct ctl_ctr *c, struct ctl_inv *v)
{
	char url[512];
	struct ctr_call *cc = calloc(1, sizeof(*cc));
	if (!cc) {
		c->inflight--;
		ctl_inv_fail(v, PR_ST_INTERNAL_ERROR, "out of memory");
		return;
	}
	cc->L = L;
	cc->v = v;
	hc_strlcpy(cc->id, c->d.id, sizeof(cc->id));
	c->st = CTL_CS_RESUMING;
	snprintf(url, sizeof(url), "%s/resume/%s", c->d.agent, c->d.id);
	ctl_send_json(L, "GET", url, NULL, AGENT_TIMEOUT_MS, on_resumed, cc);
}

/* Drop c from this loop's list without a word to the scheduler (it has
 * been released already). */
static void forget(struct ctl_loop *L, struct ctl_ctr *c)
{
	if (c->grace) {
		event_free(c->grace);
		c->grace = NULL;
	}
	ctl_pool_remove(L->pool, c);
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
		hc_strlcpy(akey, c->akey, sizeof(akey));
		ctl_discard(L, c, "suspend failed");
		struct ctl_inv *w = (struct ctl_inv *)ctl_queue_pop(L->pool, akey);
		if (w) {
			w->queued = 0;
			ctl_inv_dispatch(w);
		}
		return;
	}
	c->st = CTL_CS_SUSPENDED;
	ctl_sched_ref(L, PR_SCHED_ROUTE_RELEASE, c, NULL);
	if (L->draining) {
		/* handed back for good: the scheduler gives it to others now */
		forget(L, c);
		return;
	}
	/* activations that arrived while it was being suspended */
	if (ctl_queue_len(L->pool, c->akey) > 0) {
		struct ctl_inv *v = (struct ctl_inv *)ctl_queue_pop(L->pool, c->akey);
		v->queued = 0;
		c->inflight++;
		ctl_ctr_resume(L, c, v);
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
	hc_strlcpy(cc->id, c->d.id, sizeof(cc->id));
	c->st = CTL_CS_SUSPENDING;
	snprintf(url, sizeof(url), "%s/suspend/%s", c->d.agent, c->d.id);
	ctl_send_json(L, "GET", url, NULL, AGENT_TIMEOUT_MS, on_suspended, cc);
}

/* Give queued activations of c's action to c while it has free slots. */
void ctl_ctr_drain(struct ctl_loop *L, struct ctl_ctr *c)
{
	while (c->st == CTL_CS_READY && c->inflight < c->maxc) {
		struct ctl_inv *v = (struct ctl_inv *)ctl_queue_pop(L->pool, c->akey);
		if (!v)
			break;
		v->queued = 0;
		c->inflight++;
		ctl_inv_run(v, c);
	}
}

void ctl_ctr_after_run(struct ctl_loop *L, struct ctl_ctr *c)
{
	if (c->st == CTL_CS_DEAD) {
		if (c->inflight == 0) {
			char akey[CTL_AKEY_MAX];
			hc_strlcpy(akey, c->akey, sizeof(akey));
			ctl_discard(L, c, "died or timed out");
			/* waiters of that action need another container */
			struct ctl_inv *w = (struct ctl_inv *)ctl_queue_pop(L->pool, akey);
			if (w) {
				w->queued = 0;
				ctl_inv_dispatch(w);
			}
		}
		return;
	}
	if (c->st != CTL_CS_READY)
		return;
	ctl_ctr_drain(L, c);
	if (c->inflight == 0) {
		struct ctl *ctl = L->ctl;
		if (!c->grace)
			c->grace = evtimer_new(L->loop->base, on_grace, c);
		/* draining: no grace, it goes back to the scheduler now */
		int64_t ms = L->draining ? 0 : ctl->cfg.pause_grace_ms;
		struct timeval tv = hc_ms_timeval(ms);
		/* a common timeout is valid only on the base it was made for */
		int common = c->grace && !L->draining && L->grace_tv &&
			     event_get_base(c->grace) == L->loop->base;
		if (c->grace)
			evtimer_add(c->grace, common ? L->grace_tv : &tv);
	}
}

void ctl_ctr_suspend_idle(struct ctl_loop *L)
{
	if (!L->pool)
		return;
	for (struct ctl_ctr *c = L->pool->ctrs, *next; c; c = next) {
		next = c->next;
		if (c->st == CTL_CS_SUSPENDED) {
			/* released before: the scheduler gives it to others now,
			 * so this loop must not take it back */
			forget(L, c);
			continue;
		}
		if (c->st != CTL_CS_READY || c->inflight > 0)
			continue;
		if (c->grace)
			evtimer_del(c->grace);
		on_grace(-1, 0, c);
	}
}

int ctl_pool_busy(const struct ctl_loop *L)
{
	if (L->refs_inflight > 0 || L->allocs)
		return 1;
	if (!L->pool)
		return 0;
	if (L->pool->nqueued > 0)
		return 1;
	for (const struct ctl_ctr *c = L->pool->ctrs; c; c = c->next)
		if (c->st != CTL_CS_SUSPENDED && c->st != CTL_CS_DEAD)
			return 1;
	return 0;
}
