/* controller/container.c — the container state machine (see container.h).
 *
 *   INIT ──init ok──► READY ──grace──► SUSPENDING ──► SUSPENDED
 *                       ▲                                  │ work
 *                       └──────────── RESUMING ◄───────────┘
 *   any state ──failure──► DEAD ──last slot back──► discarded
 */
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/id.h"
#include "common/log.h"
#include "common/str.h"
#include "controller/agentcli.h"
#include "controller/container.h"
#include "controller/schedcli.h"
#include "controller/xloop.h"

int ctl_ctr_transition_ok(enum ctl_cstate from, enum ctl_cstate to)
{
	if (to == CTL_CS_DEAD)
		return from != CTL_CS_DEAD;
	switch (from) {
	case CTL_CS_INIT:
		return to == CTL_CS_READY;
	case CTL_CS_READY:
		return to == CTL_CS_SUSPENDING;
	case CTL_CS_SUSPENDING:
		return to == CTL_CS_SUSPENDED;
	case CTL_CS_SUSPENDED:
		return to == CTL_CS_RESUMING;
	case CTL_CS_RESUMING:
		return to == CTL_CS_READY;
	case CTL_CS_DEAD:
		return 0;
	}
	return 0;
}

/* The one place a container's state changes. 0, or -1 (a bug: logged,
 * the state kept). Dying twice is not a bug: the first one counts. */
static int set_state(struct ctl_ctr *c, enum ctl_cstate to)
{
	if (c->st == CTL_CS_DEAD && to == CTL_CS_DEAD)
		return 0;
	if (!ctl_ctr_transition_ok(c->st, to)) {
		hc_error("container=%s refused transition %s -> %s", c->d.id,
			 ctl_cstate_name(c->st), ctl_cstate_name(to));
		return -1;
	}
	c->st = to;
	return 0;
}

static const struct ctl_ctr_hooks *hooks(const struct ctl_loop *L)
{
	return L->ctl->ctr_hooks;
}

/* Drop c from L's list; the scheduler is not told (see ctl_ctr_discard). */
static void forget(struct ctl_loop *L, struct ctl_ctr *c)
{
	if (c->grace) {
		event_free(c->grace);
		c->grace = NULL;
	}
	ctl_pool_remove(L->pool, c);
}

void ctl_ctr_discard(struct ctl_loop *L, struct ctl_ctr *c, const char *reason)
{
	hc_warn("container=%s discarded: %s", c->d.id, reason);
	ctl_sched_ref(L, PR_SCHED_ROUTE_DISCARD, c->d.id, reason);
	forget(L, c);
}

/* Discard a dead c once nothing of it is under way, and send its waiters
 * elsewhere. */
static void bury(struct ctl_loop *L, struct ctl_ctr *c, const char *reason)
{
	if (c->st != CTL_CS_DEAD || c->inflight > 0 || c->calls > 0)
		return;
	char akey[CTL_AKEY_MAX];
	hc_strlcpy(akey, c->akey, sizeof(akey));
	ctl_ctr_discard(L, c, reason);
	hooks(L)->lost(L, akey);
}

struct ctl_ctr *ctl_ctr_adopt(struct ctl_loop *L, const struct pr_alloc_reply *ar, const char *akey,
			      int maxc, int *fresh)
{
	struct ctl_ctr *c = ctl_pool_find_id(L->pool, ar->container.id);
	*fresh = !c;
	if (c)
		return c;
	enum ctl_cstate st = ar->init				      ? CTL_CS_INIT
			     : ar->container.state == PR_CS_SUSPENDED ? CTL_CS_SUSPENDED
								      : CTL_CS_READY;
	c = ctl_pool_add(L->pool, &ar->container, akey, maxc, st);
	if (c)
		c->owner_loop = L;
	return c;
}

void ctl_ctr_take(struct ctl_loop *L, struct ctl_ctr *c)
{
	if (c->grace)
		evtimer_del(c->grace);
	c->inflight++;
	c->last_used_us = hc_mono_us();
}

int ctl_ctr_initialised(struct ctl_loop *L, struct ctl_ctr *c, int ok)
{
	if (c->st == CTL_CS_INIT)
		set_state(c, ok ? CTL_CS_READY : CTL_CS_DEAD);
	return c->st == CTL_CS_READY;
}

/* ---- suspend and resume ---- */

struct agent_call {
	struct ctl_loop *L;
	char id[HC_ID_LEN + 1];
	ctl_ctr_cb cb; /* resume: who waits for it */
	void *arg;
};

static struct agent_call *agent_call_new(struct ctl_loop *L, struct ctl_ctr *c)
{
	struct agent_call *ac = calloc(1, sizeof(*ac));
	if (!ac)
		return NULL;
	ac->L = L;
	hc_strlcpy(ac->id, c->d.id, sizeof(ac->id));
	c->calls++;
	return ac;
}

/* The container of an agent call that came back (it stays in the pool
 * while a call about it is under way), its call counted off. */
static struct ctl_ctr *agent_call_end(struct agent_call *ac)
{
	struct ctl_ctr *c = ctl_pool_find_id(ac->L->pool, ac->id);
	if (c)
		c->calls--;
	return c;
}

static void on_resumed(const struct hc_response *r, void *arg)
{
	struct agent_call *ac = arg;
	struct ctl_loop *L = ac->L;
	ctl_ctr_cb cb = ac->cb;
	void *cb_arg = ac->arg;
	struct ctl_ctr *c = agent_call_end(ac);
	free(ac);
	if (!c) { /* cannot happen: the call kept it in the pool */
		cb(L, NULL, cb_arg);
		return;
	}
	if (r->error || r->status != 204 || c->st != CTL_CS_RESUMING) {
		hc_warn("container=%s resume failed: %ld %s", c->d.id, r->status,
			r->error	       ? r->error
			: c->st == CTL_CS_DEAD ? "reported gone"
					       : "");
		c->inflight--;
		set_state(c, CTL_CS_DEAD);
		if (c->inflight == 0 && c->calls == 0)
			ctl_ctr_discard(L, c, "resume failed");
		cb(L, NULL, cb_arg);
		return;
	}
	set_state(c, CTL_CS_READY);
	ctl_sched_ref(L, PR_SCHED_ROUTE_BUSY, c->d.id, NULL);
	cb(L, c, cb_arg);
}

int ctl_ctr_resume(struct ctl_loop *L, struct ctl_ctr *c, ctl_ctr_cb cb, void *arg)
{
	if (c->st != CTL_CS_SUSPENDED)
		return -1;
	struct agent_call *ac = agent_call_new(L, c);
	if (!ac)
		return -1;
	set_state(c, CTL_CS_RESUMING);
	ctl_ctr_take(L, c);
	ac->cb = cb;
	ac->arg = arg;
	ctl_agent_resume(L, c, on_resumed, ac);
	return 0;
}

static void on_suspended(const struct hc_response *r, void *arg)
{
	struct agent_call *ac = arg;
	struct ctl_loop *L = ac->L;
	struct ctl_ctr *c = agent_call_end(ac);
	free(ac);
	if (!c)
		return;
	if (c->st == CTL_CS_DEAD) {
		bury(L, c, "reported gone");
		return;
	}
	if (r->error || r->status != 204) {
		hc_warn("container=%s suspend failed: %ld %s", c->d.id, r->status,
			r->error ? r->error : "");
		set_state(c, CTL_CS_DEAD);
		bury(L, c, "suspend failed");
		return;
	}
	set_state(c, CTL_CS_SUSPENDED);
	ctl_sched_ref(L, PR_SCHED_ROUTE_RELEASE, c->d.id, NULL);
	if (L->draining) {
		/* handed back for good: the scheduler gives it to others now */
		forget(L, c);
		return;
	}
	/* activations that arrived while it was being suspended */
	hooks(L)->room(L, c);
}

static void suspend(struct ctl_loop *L, struct ctl_ctr *c)
{
	if (c->st != CTL_CS_READY || c->inflight > 0)
		return;
	struct agent_call *ac = agent_call_new(L, c);
	if (!ac)
		return; /* stays resumed; the next release arms the grace again */
	set_state(c, CTL_CS_SUSPENDING);
	ctl_agent_suspend(L, c, on_suspended, ac);
}

static void on_grace(evutil_socket_t fd, short what, void *arg)
{
	struct ctl_ctr *c = arg;
	suspend(c->owner_loop, c);
}

/* Idle and resumed: suspend after pause-grace (at once when draining). */
static void arm_grace(struct ctl_loop *L, struct ctl_ctr *c)
{
	if (!c->grace)
		c->grace = evtimer_new(L->loop->base, on_grace, c);
	if (!c->grace)
		return;
	int64_t ms = L->draining ? 0 : L->ctl->cfg.pause_grace_ms;
	struct timeval tv = hc_ms_timeval(ms);
	/* a common timeout is valid only on the base it was made for */
	int common = !L->draining && L->grace_tv && event_get_base(c->grace) == L->loop->base;
	evtimer_add(c->grace, common ? L->grace_tv : &tv);
}

void ctl_ctr_release(struct ctl_loop *L, struct ctl_ctr *c, int dead)
{
	c->inflight--;
	if (dead)
		set_state(c, CTL_CS_DEAD);
	ctl_ctr_settle(L, c);
}

void ctl_ctr_settle(struct ctl_loop *L, struct ctl_ctr *c)
{
	if (c->st == CTL_CS_DEAD) {
		bury(L, c, "died or timed out");
		return;
	}
	if (c->st != CTL_CS_READY)
		return;
	if (c->inflight < c->maxc)
		hooks(L)->room(L, c); /* queued activations of its action */
	if (c->st == CTL_CS_READY && c->inflight == 0)
		arm_grace(L, c);
}

/* ---- news from elsewhere ---- */

static void on_gone(struct ctl_loop *L, void *p)
{
	const char *id = p;
	struct ctl_ctr *c = L->pool ? ctl_pool_find_id(L->pool, id) : NULL;
	if (!c)
		return;
	if (c->inflight > 0 || c->calls > 0 || c->st == CTL_CS_INIT) {
		set_state(c, CTL_CS_DEAD); /* what is under way finishes the job */
		return;
	}
	hc_info("container=%s gone (reported); dropped from the local list", id);
	forget(L, c);
}

void ctl_ctr_gone(struct ctl *ctl, const char *id)
{
	if (hc_id_valid(id))
		ctl_xloop_broadcast_id(ctl, on_gone, id);
}

/* ---- the drain before a stop ---- */

void ctl_ctr_suspend_idle(struct ctl_loop *L)
{
	if (!L->pool)
		return;
	for (struct ctl_ctr *c = L->pool->ctrs, *next; c; c = next) {
		next = c->next;
		if (c->st == CTL_CS_SUSPENDED && c->calls == 0) {
			/* released before: the scheduler gives it to others now,
			 * so this loop must not take it back */
			forget(L, c);
			continue;
		}
		if (c->grace)
			evtimer_del(c->grace);
		suspend(L, c);
	}
}

int ctl_ctr_any_active(const struct ctl_loop *L)
{
	if (!L->pool)
		return 0;
	for (const struct ctl_ctr *c = L->pool->ctrs; c; c = c->next)
		if (c->calls > 0 || c->inflight > 0 ||
		    (c->st != CTL_CS_SUSPENDED && c->st != CTL_CS_DEAD))
			return 1;
	return 0;
}

int ctl_ctrs_loop_init(struct ctl_loop *L)
{
	L->pool = calloc(1, sizeof(*L->pool));
	return L->pool ? 0 : -1;
}

void ctl_ctrs_loop_fini(struct ctl_loop *L)
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
