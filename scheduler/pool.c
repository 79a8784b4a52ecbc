/* scheduler/pool.c — the pool's tables and its container state machine
 * (the contract, the state diagram and the waiting rule are in pool.h; how
 * the pool's files divide the work, in pool_int.h).
 *
 * Every container sits in exactly the lists of its state: FREE ones in the
 * global LRU list and their action's free list, PREWARM ones in the set of
 * their kind and memory. sch_pl_link sets a state and sch_pl_unlink leaves
 * one, each with its lists and counters, so they cannot drift apart. */
#include "scheduler/pool_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/str.h"
#include "scheduler/map.h"

static const char *const cstate_names[SCH_C__N] = {
    [SCH_C_CREATING] = "creating", [SCH_C_PREWARM] = "prewarm",	      [SCH_C_FREE] = "free",
    [SCH_C_BUSY] = "busy",	   [SCH_C_DESTROYING] = "destroying",
};

const char *sch_cstate_name(enum sch_cstate s)
{
	return (unsigned)s < SCH_C__N ? cstate_names[s] : "unknown";
}

static const char *const outcome_names[SCH_OUT__N] = {
    [SCH_OUT_WARM] = "warm",	   [SCH_OUT_FORWARD] = "forward", [SCH_OUT_PREWARM] = "prewarm",
    [SCH_OUT_CREATED] = "created", [SCH_OUT_EVICTED] = "evicted", [SCH_OUT_REJECTED] = "rejected",
    [SCH_OUT_ABORTED] = "aborted",
};

const char *sch_outcome_name(enum sch_outcome o)
{
	return (unsigned)o < SCH_OUT__N ? outcome_names[o] : "unknown";
}

uint64_t sch_pl_now(const struct sch_pool *p)
{
	return p->ops.now_ms(p->arg);
}

static void seq_key(uint64_t seq, char *buf, size_t len)
{
	snprintf(buf, len, "#%llu", (unsigned long long)seq);
}

struct sch_pset *sch_pl_pset(struct sch_pool *p, const char *kind, int memory_mb, int create)
{
	char key[PR_KIND_MAX + 16];
	struct sch_pset *s;

	snprintf(key, sizeof(key), "%s|%d", kind, memory_mb);
	s = sch_map_get(p->psets, key);
	if (s || !create)
		return s;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	TAILQ_INIT(&s->list);
	if (sch_map_put(p->psets, key, s) < 0) {
		free(s);
		return NULL;
	}
	return s;
}

static void action_key(char *key, size_t len, const char *path, const char *version,
		       const char *digest)
{
	snprintf(key, len, "%s@%s#%s", path, version, digest);
}

/* Find or make the action; NULL on ENOMEM or a path that does not fit. */
struct sch_action *sch_pl_action(struct sch_pool *p, const char *ns, const char *name,
				 const char *version, const char *digest, const char *kind,
				 int memory_mb)
{
	char path[PR_ACTION_MAX], key[KEY_MAX];
	struct sch_action *a;

	if ((size_t)snprintf(path, sizeof(path), "/%s/%s", ns, name) >= sizeof(path))
		return NULL;
	action_key(key, sizeof(key), path, version, digest);
	a = sch_map_get(p->actions, key);
	if (a)
		return a;
	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	hc_strlcpy(a->key, key, sizeof(a->key));
	hc_strlcpy(a->ns, ns, sizeof(a->ns));
	hc_strlcpy(a->name, name, sizeof(a->name));
	hc_strlcpy(a->path, path, sizeof(a->path));
	hc_strlcpy(a->version, version, sizeof(a->version));
	hc_strlcpy(a->digest, digest, sizeof(a->digest));
	hc_strlcpy(a->kind, kind, sizeof(a->kind));
	a->memory_mb = memory_mb;
	a->concurrency = 1;
	TAILQ_INIT(&a->free);
	TAILQ_INIT(&a->waiters);
	if (sch_map_put(p->actions, a->key, a) < 0) {
		free(a);
		return NULL;
	}
	return a;
}

static int prewarm_match(const struct sch_pool *p, const char *kind, int memory_mb)
{
	for (int i = 0; i < p->nprewarm; i++) {
		if (p->prewarm[i].memory_mb == memory_mb && strcmp(p->prewarm[i].kind, kind) == 0)
			return i;
	}
	return -1;
}

/* Take c out of the lists and counters of its current state. */
void sch_pl_unlink(struct sch_pool *p, struct sch_container *c)
{
	struct sch_action *a = c->action;

	switch (c->state) {
	case SCH_C_CREATING:
		if (a)
			a->ncreating--;
		break;
	case SCH_C_PREWARM: {
		struct sch_pset *s = sch_pl_pset(p, c->desc.kind, c->desc.memory_mb, 0);
		if (s) {
			TAILQ_REMOVE(&s->list, c, set_link);
			s->n--;
		}
		break;
	}
	case SCH_C_FREE:
		TAILQ_REMOVE(&p->lru, c, lru_link);
		TAILQ_REMOVE(&a->free, c, set_link);
		a->nfree--;
		break;
	case SCH_C_BUSY:
		a->nbusy--;
		break;
	default:
		break;
	}
	if ((c->state == SCH_C_CREATING || c->state == SCH_C_PREWARM) && c->prewarm_target >= 0)
		c->host->prewarm_have[c->prewarm_target]--;
	p->count[c->state]--;
}

/* Put c into state s (for action a where the state has one). FREE goes to
 * the most recently used end. Returns -1 only when a PREWARM set cannot be
 * made (ENOMEM): c is then destroyed by the caller. */
int sch_pl_link(struct sch_pool *p, struct sch_container *c, enum sch_cstate s,
		struct sch_action *a)
{
	c->state = s;
	c->action = (s == SCH_C_CREATING || s == SCH_C_FREE || s == SCH_C_BUSY) ? a : NULL;
	p->count[s]++;
	switch (s) {
	case SCH_C_CREATING:
		if (c->action)
			c->action->ncreating++;
		break;
	case SCH_C_PREWARM: {
		struct sch_pset *set = sch_pl_pset(p, c->desc.kind, c->desc.memory_mb, 1);
		if (!set)
			return -1;
		TAILQ_INSERT_TAIL(&set->list, c, set_link);
		set->n++;
		break;
	}
	case SCH_C_FREE:
		TAILQ_INSERT_TAIL(&p->lru, c, lru_link);
		TAILQ_INSERT_TAIL(&a->free, c, set_link);
		a->nfree++;
		break;
	case SCH_C_BUSY:
		a->nbusy++;
		break;
	default:
		break;
	}
	if ((s == SCH_C_CREATING || s == SCH_C_PREWARM) && c->prewarm_target >= 0)
		c->host->prewarm_have[c->prewarm_target]++;
	return 0;
}

/* After a failed sch_pl_link(PREWARM): c counts as CREATING with no target. */
static void park(struct sch_pool *p, struct sch_container *c)
{
	p->count[c->state]--;
	c->state = SCH_C_CREATING; /* neutral for unlink: no action, no target */
	c->prewarm_target = -1;
	p->count[c->state]++;
}

void sch_pl_move(struct sch_pool *p, struct sch_container *c, enum sch_cstate s,
		 struct sch_action *a)
{
	sch_pl_unlink(p, c);
	if (sch_pl_link(p, c, s, a) < 0) {
		/* Only PREWARM can fail (ENOMEM): park it as destroying. */
		park(p, c);
		sch_pl_destroy(p, c, "out of memory");
	}
}

int sch_pl_stem_cell(struct sch_pool *p, struct sch_container *c)
{
	int t = prewarm_match(p, c->desc.kind, c->desc.memory_mb);

	c->prewarm_target = (t >= 0 && c->host->prewarm_have[t] < p->prewarm[t].count) ? t : -1;
	if (sch_pl_link(p, c, SCH_C_PREWARM, NULL) == 0)
		return 0;
	park(p, c);
	return -1;
}

/* A new container on h, accounted at once, in state CREATING. */
struct sch_container *sch_pl_new_container(struct sch_pool *p, struct sch_host *h, const char *kind,
					   int memory_mb, struct sch_action *a, int prewarm_target)
{
	char key[32];
	struct sch_container *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->seq = ++p->next_seq;
	seq_key(c->seq, key, sizeof(key));
	if (sch_map_put(p->by_seq, key, c) < 0) {
		free(c);
		return NULL;
	}
	hc_strlcpy(c->desc.kind, kind, sizeof(c->desc.kind));
	hc_strlcpy(c->desc.agent, h->url, sizeof(c->desc.agent));
	c->desc.memory_mb = memory_mb;
	c->desc.state = PR_CS_CREATING;
	if (a) {
		hc_strlcpy(c->desc.action, a->path, sizeof(c->desc.action));
		hc_strlcpy(c->desc.version, a->version, sizeof(c->desc.version));
		hc_strlcpy(c->desc.digest, a->digest, sizeof(c->desc.digest));
	}
	c->host = h;
	c->prewarm_target = prewarm_target;
	c->last_used_ms = sch_pl_now(p);
	TAILQ_INSERT_TAIL(&h->containers, c, host_link);
	TAILQ_INSERT_TAIL(&p->all, c, all_link);
	h->ncontainers++;
	h->used_mb += memory_mb;
	sch_pl_link(p, c, SCH_C_CREATING, a); /* cannot fail for CREATING */
	return c;
}

/* Forget c entirely (after destroy confirmed, a failed create, a lost host). */
void sch_pl_drop(struct sch_pool *p, struct sch_container *c)
{
	char key[32];

	sch_pl_unlink(p, c);
	if (!c->mem_handed_over)
		c->host->used_mb -= c->desc.memory_mb;
	if (c->host->used_mb < 0)
		c->host->used_mb = 0; /* cannot happen; keep the invariant anyway */
	c->host->ncontainers--;
	TAILQ_REMOVE(&c->host->containers, c, host_link);
	TAILQ_REMOVE(&p->all, c, all_link);
	seq_key(c->seq, key, sizeof(key));
	sch_map_del(p->by_seq, key);
	if (c->desc.id[0] && sch_map_get(p->by_id, c->desc.id) == c)
		sch_map_del(p->by_id, c->desc.id);
	free(c);
}

void sch_pl_destroy(struct sch_pool *p, struct sch_container *c, const char *why)
{
	if (c->state == SCH_C_DESTROYING)
		return;
	if (c->desc.id[0] && p->ops.gone)
		p->ops.gone(p->arg, c, why);
	sch_pl_move(p, c, SCH_C_DESTROYING, NULL);
	c->desc.state = PR_CS_DESTROYING;
	p->ops.destroy(p->arg, c);
}

void sch_pl_set_owner(struct sch_pool *p, struct sch_container *c, const char *owner)
{
	if (strcmp(c->desc.owner, owner) == 0)
		return;
	hc_strlcpy(c->desc.owner, owner, sizeof(c->desc.owner));
	if (p->ops.owner_changed)
		p->ops.owner_changed(p->arg, c);
}

struct sch_container *sch_pl_find(const struct sch_pool *p, const char *id)
{
	return sch_map_get(p->by_id, id);
}

const struct sch_container *sch_pool_find(const struct sch_pool *p, const char *id)
{
	return sch_pl_find(p, id);
}

struct sch_container *sch_pl_find_seq(const struct sch_pool *p, uint64_t seq)
{
	char key[32];
	seq_key(seq, key, sizeof(key));
	return sch_map_get(p->by_seq, key);
}

const struct sch_container *sch_pool_find_seq(const struct sch_pool *p, uint64_t seq)
{
	return sch_pl_find_seq(p, seq);
}

struct sch_pool *sch_pool_new(const struct sch_pool_config *cfg, const struct sch_pool_ops *ops,
			      void *arg)
{
	struct sch_pool *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->cfg = *cfg;
	if (p->cfg.max_waiters_per_action <= 0)
		p->cfg.max_waiters_per_action = DEF_MAX_WAITERS_PER_ACTION;
	if (p->cfg.max_waiters <= 0)
		p->cfg.max_waiters = DEF_MAX_WAITERS;
	if (p->cfg.max_creating_per_action <= 0)
		p->cfg.max_creating_per_action = DEF_MAX_CREATING_PER_ACTION;
	if (p->cfg.retry_after_ms <= 0)
		p->cfg.retry_after_ms = DEF_RETRY_AFTER_MS;
	if (p->cfg.create_backoff_ms <= 0)
		p->cfg.create_backoff_ms = DEF_CREATE_BACKOFF_MS;
	p->ops = *ops;
	p->arg = arg;
	TAILQ_INIT(&p->hosts);
	TAILQ_INIT(&p->all);
	TAILQ_INIT(&p->lru);
	TAILQ_INIT(&p->waiting);
	p->by_id = sch_map_new();
	p->by_seq = sch_map_new();
	p->actions = sch_map_new();
	p->psets = sch_map_new();
	p->hostmap = sch_map_new();
	if (cfg->nprewarm > 0) {
		p->prewarm = calloc((size_t)cfg->nprewarm, sizeof(*p->prewarm));
		if (p->prewarm) {
			memcpy(p->prewarm, cfg->prewarm,
			       (size_t)cfg->nprewarm * sizeof(*p->prewarm));
			p->nprewarm = cfg->nprewarm;
		}
	}
	p->cfg.prewarm = p->prewarm;
	if (!p->by_id || !p->by_seq || !p->actions || !p->psets || !p->hostmap ||
	    (cfg->nprewarm > 0 && !p->prewarm)) {
		sch_pool_free(p);
		return NULL;
	}
	return p;
}

static void free_val(const char *key, void *val, void *arg)
{
	free(val);
}

void sch_pool_free(struct sch_pool *p)
{
	struct sch_action *a;
	struct sch_container *c;
	struct sch_host *h;

	if (!p)
		return;
	while ((a = TAILQ_FIRST(&p->waiting))) {
		struct sch_waiter *w = TAILQ_FIRST(&a->waiters);
		struct sch_alloc_result res;
		void *cookie = w->cookie;

		sch_pl_waiter_remove(p, a, w);
		memset(&res, 0, sizeof(res));
		res.outcome = SCH_OUT_ABORTED;
		res.error = "the scheduler is no longer the leader";
		sch_pl_answer(p, cookie, &res);
	}
	while ((c = TAILQ_FIRST(&p->all))) {
		TAILQ_REMOVE(&p->all, c, all_link);
		free(c);
	}
	while ((h = TAILQ_FIRST(&p->hosts))) {
		TAILQ_REMOVE(&p->hosts, h, link);
		free(h->prewarm_have);
		free(h);
	}
	if (p->actions)
		sch_map_each(p->actions, free_val, NULL);
	if (p->psets)
		sch_map_each(p->psets, free_val, NULL);
	sch_map_free(p->by_id);
	sch_map_free(p->by_seq);
	sch_map_free(p->actions);
	sch_map_free(p->psets);
	sch_map_free(p->hostmap);
	free(p->prewarm);
	free(p);
}

void sch_pool_stats(const struct sch_pool *p, struct sch_pool_stats *st)
{
	const struct sch_host *h;

	memset(st, 0, sizeof(*st));
	memcpy(st->count, p->count, sizeof(st->count));
	memcpy(st->outcomes, p->outcomes, sizeof(st->outcomes));
	st->waiters = p->nwaiters;
	st->hosts = p->nhosts;
	st->reaped = p->reaped;
	st->evicted = p->evicted;
	TAILQ_FOREACH(h, &p->hosts, link)
	{
		st->used_mb += h->used_mb;
		st->capacity_mb += h->capacity_mb;
	}
}

void sch_pool_each(const struct sch_pool *p, void (*fn)(const struct sch_container *c, void *arg),
		   void *arg)
{
	const struct sch_container *c;
	TAILQ_FOREACH(c, &p->all, all_link)
	{
		if (c->desc.id[0])
			fn(c, arg);
	}
}

void sch_pool_each_host(const struct sch_pool *p, void (*fn)(const struct sch_host *h, void *arg),
			void *arg)
{
	const struct sch_host *h;
	TAILQ_FOREACH(h, &p->hosts, link)
	fn(h, arg);
}
