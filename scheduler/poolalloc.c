/* scheduler/poolalloc.c — the allocation algorithm: a free warm container,
 * a stem cell, a create (evicting the least recently used free container
 * when that makes room), or a rejection; and the waiting rule for those
 * that wait for a create (pool.h). */
#include "scheduler/pool_int.h"

#include <stdlib.h>
#include <string.h>

#include "common/str.h"

int sch_pl_host_free_mb(const struct sch_host *h)
{
	int f = h->capacity_mb - h->used_mb;
	return f > 0 ? f : 0;
}

int sch_pl_host_usable(const struct sch_pool *p, const struct sch_host *h, uint64_t t)
{
	return !h->draining && t >= h->backoff_until_ms;
}

static struct sch_host *best_host(struct sch_pool *p, int memory_mb)
{
	struct sch_host *h, *best = NULL;
	uint64_t t = sch_pl_now(p);

	TAILQ_FOREACH(h, &p->hosts, link)
	{
		if (!sch_pl_host_usable(p, h, t) || sch_pl_host_free_mb(h) < memory_mb)
			continue;
		if (!best || sch_pl_host_free_mb(h) > sch_pl_host_free_mb(best))
			best = h;
	}
	return best;
}

/* The least recently used free container whose destruction makes room. */
static struct sch_container *lru_victim(struct sch_pool *p, int memory_mb)
{
	struct sch_container *c;
	uint64_t t = sch_pl_now(p);

	TAILQ_FOREACH(c, &p->lru, lru_link)
	{
		if (sch_pl_host_usable(p, c->host, t) &&
		    sch_pl_host_free_mb(c->host) + c->desc.memory_mb >= memory_mb)
			return c;
	}
	return NULL;
}

void sch_pl_answer(struct sch_pool *p, void *cookie, struct sch_alloc_result *res)
{
	p->outcomes[res->outcome]++;
	p->ops.reply(p->arg, cookie, res);
}

void sch_pl_reject(struct sch_pool *p, void *cookie, const char *why)
{
	struct sch_alloc_result res;

	memset(&res, 0, sizeof(res));
	res.outcome = SCH_OUT_REJECTED;
	res.retry_after_ms = p->cfg.retry_after_ms;
	res.error = why;
	sch_pl_answer(p, cookie, &res);
}

static void fill_reply(struct sch_alloc_result *res, enum sch_outcome o,
		       const struct sch_container *c, const char *owner_url, int init)
{
	res->outcome = o;
	res->reply.container = c->desc;
	hc_strlcpy(res->reply.owner, c->desc.owner, sizeof(res->reply.owner));
	hc_strlcpy(res->reply.owner_url, owner_url, sizeof(res->reply.owner_url));
	res->reply.init = init;
}

/* Hand c (free, prewarm or just created) to controller: it becomes BUSY. */
void sch_pl_hand_out(struct sch_pool *p, struct sch_container *c, struct sch_action *a,
		     const char *controller)
{
	if (c->state == SCH_C_FREE && p->cfg.keepalive && p->cfg.keepalive->observe_reuse)
		p->cfg.keepalive->observe_reuse(p->cfg.keepalive, a->key,
						sch_pl_now(p) - c->last_used_ms);
	sch_pl_move(p, c, SCH_C_BUSY, a);
	sch_pl_set_owner(p, c, controller);
}

/* Step 2 against one free container of the action: 1 = answered into res. */
static int try_free(struct sch_pool *p, struct sch_action *a, struct sch_container *c,
		    const char *controller, struct sch_alloc_result *res)
{
	char url[PR_URL_MAX] = "";
	enum sch_owner_lookup known;

	if (c->desc.owner[0] && strcmp(c->desc.owner, controller) != 0) {
		known = p->ops.controller_url
			    ? p->ops.controller_url(p->arg, c->desc.owner, url, sizeof(url))
			    : SCH_OWNER_UNKNOWN;
		if (known == SCH_OWNER_UNKNOWN)
			return 0; /* its owner may be alive: never take it from them */
		if (known == SCH_OWNER_KNOWN) {
			fill_reply(res, SCH_OUT_FORWARD, c, url, 0);
			return 1;
		}
		/* SCH_OWNER_GONE: the container is nobody's. */
	}
	sch_pl_hand_out(p, c, a, controller);
	fill_reply(res, SCH_OUT_WARM, c, "", 0);
	return 1;
}

static int serve_warm(struct sch_pool *p, struct sch_action *a, const char *controller,
		      struct sch_alloc_result *res)
{
	struct sch_container *c;

	/* Most recently used first, the caller's own, then nobody's. */
	TAILQ_FOREACH_REVERSE(c, &a->free, sch_container_list, set_link)
	{
		if (c->host->draining)
			continue; /* it goes on the next tick */
		if (strcmp(c->desc.owner, controller) == 0 || !c->desc.owner[0])
			return try_free(p, a, c, controller, res);
	}
	TAILQ_FOREACH_REVERSE(c, &a->free, sch_container_list, set_link)
	{
		if (!c->host->draining && try_free(p, a, c, controller, res))
			return 1;
	}
	return 0;
}

static int serve_prewarm(struct sch_pool *p, struct sch_action *a, const char *controller,
			 struct sch_alloc_result *res)
{
	struct sch_pset *s = sch_pl_pset(p, a->kind, a->memory_mb, 0);
	struct sch_container *c, *it;
	struct sch_host *h;

	if (!s)
		return 0;
	/* the stem cell on the host with the most free memory (the oldest on
	 * a tie), as a new container would be placed: taking the oldest one
	 * whatever its host skewed the spread while refills were under way */
	c = NULL;
	TAILQ_FOREACH(it, &s->list, set_link)
	{
		if (!it->host->draining &&
		    (!c || sch_pl_host_free_mb(it->host) > sch_pl_host_free_mb(c->host)))
			c = it;
	}
	if (!c)
		return 0;
	h = c->host;
	sch_pl_unlink(p, c);
	c->prewarm_target = -1;
	hc_strlcpy(c->desc.action, a->path, sizeof(c->desc.action));
	hc_strlcpy(c->desc.version, a->version, sizeof(c->desc.version));
	hc_strlcpy(c->desc.digest, a->digest, sizeof(c->desc.digest));
	sch_pl_link(p, c, SCH_C_BUSY, a);
	sch_pl_set_owner(p, c, controller);
	fill_reply(res, SCH_OUT_PREWARM, c, "", 1);
	sch_pl_refill_host(p, h);
	return 1;
}

void sch_pl_waiter_remove(struct sch_pool *p, struct sch_action *a, struct sch_waiter *w)
{
	TAILQ_REMOVE(&a->waiters, w, link);
	if (--a->nwaiters == 0)
		TAILQ_REMOVE(&p->waiting, a, wait_link);
	p->nwaiters--;
	free(w);
}

static void reject_waiters(struct sch_pool *p, struct sch_action *a, const char *why)
{
	struct sch_waiter *w;
	while ((w = TAILQ_FIRST(&a->waiters))) {
		void *cookie = w->cookie;
		sch_pl_waiter_remove(p, a, w);
		sch_pl_reject(p, cookie, why);
	}
}

/* Keep enough creates going for a's waiters (the rule in pool.h). Rejects
 * every waiter when nothing is being created and nothing can be. */
void sch_pl_place(struct sch_pool *p, struct sch_action *a)
{
	int conc = a->concurrency > 0 ? a->concurrency : 1;
	int want, cap = p->cfg.max_creating_per_action;

	if (a->nwaiters == 0)
		return;
	want = (a->nwaiters + conc - 1) / conc;
	while (a->ncreating < want && a->ncreating < cap) {
		struct sch_host *h = best_host(p, a->memory_mb);
		struct sch_container *c, *victim;

		if (h) {
			c = sch_pl_new_container(p, h, a->kind, a->memory_mb, a, -1);
			if (!c)
				break;
			p->ops.create(p->arg, c);
			continue;
		}
		victim = lru_victim(p, a->memory_mb);
		if (!victim)
			break;
		h = victim->host;
		p->evicted++;
		sch_pl_destroy(p, victim, "evicted");
		/* Its memory goes to the successor now, so nothing else takes it. */
		victim->mem_handed_over = 1;
		h->used_mb -= victim->desc.memory_mb;
		c = sch_pl_new_container(p, h, a->kind, a->memory_mb, a, -1);
		if (!c)
			break;
		c->after_destroy = victim->seq;
		c->via_eviction = 1;
		victim->successor = c->seq;
	}
	if (a->ncreating == 0)
		reject_waiters(p, a, "no capacity for a container of this size");
}

/* c of action a is ready (created, or released free): serve the oldest
 * waiter, and for a created container up to concurrency-1 more waiters of
 * the same controller. */
void sch_pl_serve_waiters(struct sch_pool *p, struct sch_action *a, struct sch_container *c,
			  int created)
{
	struct sch_alloc_result res;
	struct sch_waiter *w = TAILQ_FIRST(&a->waiters), *next;
	char controller[PR_OWNER_MAX];
	void *cookie;
	int extra;

	if (!w)
		return;
	memset(&res, 0, sizeof(res));
	hc_strlcpy(controller, w->controller, sizeof(controller));
	cookie = w->cookie;
	if (!created) {
		if (!try_free(p, a, c, controller, &res))
			return;
		sch_pl_waiter_remove(p, a, w);
		sch_pl_answer(p, cookie, &res);
		return;
	}
	sch_pl_waiter_remove(p, a, w);
	sch_pl_hand_out(p, c, a, controller);
	fill_reply(&res, c->via_eviction ? SCH_OUT_EVICTED : SCH_OUT_CREATED, c, "", 1);
	sch_pl_answer(p, cookie, &res);
	extra = (a->concurrency > 1 ? a->concurrency : 1) - 1;
	for (w = TAILQ_FIRST(&a->waiters); w && extra > 0; w = next) {
		next = TAILQ_NEXT(w, link);
		if (strcmp(w->controller, controller) != 0)
			continue;
		cookie = w->cookie;
		sch_pl_waiter_remove(p, a, w);
		sch_pl_answer(p, cookie, &res);
		extra--;
	}
}

int sch_pool_allocate(struct sch_pool *p, const struct pr_alloc_req *req, void *cookie)
{
	struct sch_alloc_result res;
	struct sch_action *a;
	struct sch_waiter *w;

	memset(&res, 0, sizeof(res));
	a = sch_pl_action(p, req->ns, req->name, req->version, req->digest, req->kind,
			  req->memory_mb);
	if (!a) {
		sch_pl_reject(p, cookie,
			      "cannot track this action (name too long or out of memory)");
		return 0;
	}
	/* The latest request describes the action (limits may have changed). */
	if (req->concurrency > 0)
		a->concurrency = req->concurrency;
	a->memory_mb = req->memory_mb;
	hc_strlcpy(a->kind, req->kind, sizeof(a->kind));
	if (serve_warm(p, a, req->controller, &res) || serve_prewarm(p, a, req->controller, &res)) {
		sch_pl_answer(p, cookie, &res);
		return 0;
	}
	if (a->nwaiters >= p->cfg.max_waiters_per_action || p->nwaiters >= p->cfg.max_waiters) {
		sch_pl_reject(p, cookie, "too many allocations waiting");
		return 0;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		sch_pl_reject(p, cookie, "out of memory");
		return 0;
	}
	w->cookie = cookie;
	hc_strlcpy(w->controller, req->controller, sizeof(w->controller));
	w->deadline_ms = sch_pl_now(p) + (uint64_t)(req->wait_ms > 0 ? req->wait_ms : 10000);
	TAILQ_INSERT_TAIL(&a->waiters, w, link);
	if (a->nwaiters++ == 0)
		TAILQ_INSERT_TAIL(&p->waiting, a, wait_link);
	p->nwaiters++;
	sch_pl_place(p, a);
	/* sch_pl_place() rejects all of a's waiters or none. */
	return a->nwaiters > 0 ? 1 : 0;
}

/* Reject a's waiters past their deadline; returns how many are left. */
static int expire_waiters(struct sch_pool *p, struct sch_action *a, uint64_t t)
{
	struct sch_waiter *w, *wnext;
	int left = a->nwaiters;

	for (w = TAILQ_FIRST(&a->waiters); w; w = wnext) {
		void *cookie = w->cookie;
		wnext = TAILQ_NEXT(w, link);
		if (w->deadline_ms > t)
			continue;
		left--;
		sch_pl_waiter_remove(p, a, w);
		sch_pl_reject(p, cookie, "timed out waiting for a container");
	}
	return left;
}

/* Serve a's waiters, oldest first, from stem cells while there are some. */
static void serve_waiters_prewarm(struct sch_pool *p, struct sch_action *a)
{
	struct sch_alloc_result res;
	struct sch_waiter *w;

	/* a waiter removed from the queue is never its head again: the
	 * analyzer loses that through TAILQ_REMOVE */
	// NOLINTBEGIN(clang-analyzer-unix.Malloc)
	while ((w = TAILQ_FIRST(&a->waiters))) {
		void *cookie = w->cookie;
		memset(&res, 0, sizeof(res));
		if (!serve_prewarm(p, a, w->controller, &res))
			break;
		sch_pl_waiter_remove(p, a, w);
		sch_pl_answer(p, cookie, &res);
	}
	// NOLINTEND(clang-analyzer-unix.Malloc)
}

void sch_pl_tick_waiters(struct sch_pool *p, uint64_t t)
{
	struct sch_action *a, *anext;

	for (a = TAILQ_FIRST(&p->waiting); a; a = anext) {
		anext = TAILQ_NEXT(a, wait_link);
		if (expire_waiters(p, a, t) == 0)
			continue;
		serve_waiters_prewarm(p, a);
		if (a->nwaiters > 0)
			sch_pl_place(p, a);
	}
}
