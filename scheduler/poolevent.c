/* scheduler/poolevent.c — what happens to the pool's containers after
 * they are placed: controller traffic (release, busy, discard), agent
 * answers (created, create failed, destroyed, dead), a controller gone, and
 * time passing (waiters' deadlines, keep-alive, drained hosts, refills). */
#include "scheduler/pool_int.h"

#include <stdlib.h>
#include <string.h>

#include "common/id.h"
#include "common/str.h"
#include "scheduler/map.h"

static int owned_by_other(const struct sch_container *c, const char *controller)
{
	return c->desc.owner[0] && strcmp(c->desc.owner, controller) != 0;
}

enum sch_ref_result sch_pool_release(struct sch_pool *p, const char *id, const char *controller)
{
	struct sch_container *c = sch_pl_find(p, id);
	struct sch_action *a;

	if (!c)
		return SCH_REF_UNKNOWN;
	if (c->state != SCH_C_BUSY && c->state != SCH_C_FREE)
		return SCH_REF_BAD_STATE;
	if (owned_by_other(c, controller))
		return SCH_REF_NOT_OWNER;
	a = c->action;
	c->last_used_ms = sch_pl_now(p);
	c->desc.last_used_ms = c->last_used_ms;
	c->desc.state = PR_CS_SUSPENDED;
	sch_pl_move(p, c, SCH_C_FREE, a); /* a release of a free one refreshes its LRU place */
	sch_pl_set_owner(p, c, controller);
	if (a->nwaiters > 0)
		sch_pl_serve_waiters(p, a, c, 0);
	return SCH_REF_OK;
}

enum sch_ref_result sch_pool_busy(struct sch_pool *p, const char *id, const char *controller)
{
	struct sch_container *c = sch_pl_find(p, id);

	if (!c)
		return SCH_REF_UNKNOWN;
	if (c->state != SCH_C_BUSY && c->state != SCH_C_FREE)
		return SCH_REF_BAD_STATE;
	if (owned_by_other(c, controller))
		return SCH_REF_NOT_OWNER;
	c->desc.state = PR_CS_WARM;
	if (c->state == SCH_C_FREE)
		sch_pl_hand_out(p, c, c->action, controller);
	else
		sch_pl_set_owner(p, c, controller);
	return SCH_REF_OK;
}

enum sch_ref_result sch_pool_discard(struct sch_pool *p, const char *id, const char *controller)
{
	struct sch_container *c = sch_pl_find(p, id);

	if (!c)
		return SCH_REF_UNKNOWN;
	if (owned_by_other(c, controller))
		return SCH_REF_NOT_OWNER;
	if (c->state == SCH_C_CREATING)
		return SCH_REF_BAD_STATE;
	sch_pl_destroy(p, c, "discarded");
	return SCH_REF_OK;
}

int sch_pool_dead(struct sch_pool *p, const char *id)
{
	struct sch_container *c = sch_pl_find(p, id);

	if (!c)
		return -1;
	sch_pl_destroy(p, c, "dead");
	return 0;
}

int sch_pool_created(struct sch_pool *p, uint64_t seq, const struct pr_container *desc)
{
	struct sch_container *c = sch_pl_find_seq(p, seq);
	struct sch_action *a;
	struct pr_container d;

	if (!c || c->state != SCH_C_CREATING || c->after_destroy || !hc_id_valid(desc->id) ||
	    sch_map_get(p->by_id, desc->id))
		return -1;
	a = c->action;
	/* The agent's facts (id, address, pid, state), the pool's labels. */
	d = *desc;
	hc_strlcpy(d.kind, c->desc.kind, sizeof(d.kind));
	d.memory_mb = c->desc.memory_mb;
	hc_strlcpy(d.action, c->desc.action, sizeof(d.action));
	hc_strlcpy(d.version, c->desc.version, sizeof(d.version));
	hc_strlcpy(d.digest, c->desc.digest, sizeof(d.digest));
	hc_strlcpy(d.agent, c->host->url, sizeof(d.agent));
	d.owner[0] = '\0';
	if (sch_map_put(p->by_id, d.id, c) < 0)
		return -1;
	c->desc = d;
	if (a && a->nwaiters > 0) {
		sch_pl_serve_waiters(p, a, c, 1);
		sch_pl_place(p, a); /* the rest may need more creates now the cap has room */
		return 0;
	}
	/* A stem cell, or nobody waits any more: it is a stem cell now. */
	if (a) {
		sch_pl_unlink(p, c);
		c->desc.action[0] = c->desc.version[0] = c->desc.digest[0] = '\0';
		if (sch_pl_stem_cell(p, c) < 0)
			sch_pl_destroy(p, c, "out of memory");
		return 0;
	}
	sch_pl_move(p, c, SCH_C_PREWARM, NULL);
	return 0;
}

void sch_pool_create_failed(struct sch_pool *p, uint64_t seq, const char *why)
{
	struct sch_container *c = sch_pl_find_seq(p, seq);
	struct sch_action *a;

	if (!c || c->state != SCH_C_CREATING)
		return;
	a = c->action;
	c->host->backoff_until_ms = sch_pl_now(p) + (uint64_t)p->cfg.create_backoff_ms;
	sch_pl_drop(p, c);
	if (a)
		sch_pl_place(p, a);
}

void sch_pool_destroyed(struct sch_pool *p, uint64_t seq)
{
	struct sch_container *c = sch_pl_find_seq(p, seq), *s;
	uint64_t succ;

	if (!c || c->state != SCH_C_DESTROYING)
		return;
	succ = c->successor;
	sch_pl_drop(p, c);
	s = succ ? sch_pl_find_seq(p, succ) : NULL;
	if (s && s->after_destroy == seq) {
		s->after_destroy = 0;
		p->ops.create(p->arg, s);
	}
}

/* Forget actions with nothing left (made again on demand); a bounded batch
 * per tick, since the map cannot change while it is walked. */
#define GC_BATCH 256

#define GC_BATCH 256
struct gc_batch {
	struct sch_action *list[GC_BATCH];
	int n;
};

static void gc_collect(const char *key, void *val, void *arg)
{
	struct sch_action *a = val;
	struct gc_batch *b = arg;

	if (b->n < GC_BATCH && !a->nfree && !a->nbusy && !a->ncreating && !a->nwaiters)
		b->list[b->n++] = a;
}

static void gc_actions(struct sch_pool *p)
{
	struct gc_batch b;

	b.n = 0;
	sch_map_each(p->actions, gc_collect, &b);
	for (int i = 0; i < b.n; i++) {
		sch_map_del(p->actions, b.list[i]->key);
		free(b.list[i]);
	}
}

/* Keep-alive: free containers idle past their policy's TTL go, oldest first. */
static void reap_idle(struct sch_pool *p, uint64_t t)
{
	struct sch_container *c, *cnext;

	for (c = TAILQ_FIRST(&p->lru); c; c = cnext) {
		int64_t ttl;
		cnext = TAILQ_NEXT(c, lru_link);
		if (!p->cfg.keepalive)
			break;
		ttl = p->cfg.keepalive->idle_ttl_ms(p->cfg.keepalive, c->action->key, c->desc.kind,
						    c->desc.memory_mb);
		if (t >= c->last_used_ms && t - c->last_used_ms >= (uint64_t)ttl) {
			p->reaped++;
			sch_pl_destroy(p, c, "idle");
		}
	}
}

void sch_pool_tick(struct sch_pool *p)
{
	uint64_t t = sch_pl_now(p);

	sch_pl_tick_waiters(p, t);
	reap_idle(p, t);
	sch_pl_drain_hosts(p);
	sch_pl_refill_all(p);
	gc_actions(p);
}

void sch_pool_owner_gone(struct sch_pool *p, const char *controller)
{
	struct sch_container *c, *next;
	struct sch_action *a, *an;
	struct sch_waiter *w, *wn;

	for (c = TAILQ_FIRST(&p->all); c; c = next) {
		next = TAILQ_NEXT(c, all_link);
		if (strcmp(c->desc.owner, controller) != 0)
			continue;
		if (c->state == SCH_C_FREE)
			sch_pl_set_owner(p, c, "");
		else if (c->state == SCH_C_BUSY)
			sch_pl_destroy(p, c, "owner gone");
	}
	/* its waiting allocations would only hand containers to nobody */
	for (a = TAILQ_FIRST(&p->waiting); a; a = an) {
		an = TAILQ_NEXT(a, wait_link);
		for (w = TAILQ_FIRST(&a->waiters); w; w = wn) {
			void *cookie = w->cookie;

			wn = TAILQ_NEXT(w, link);
			if (strcmp(w->controller, controller) != 0)
				continue;
			sch_pl_waiter_remove(p, a, w);
			sch_pl_reject(p, cookie, "the controller that asked is gone");
		}
	}
}
