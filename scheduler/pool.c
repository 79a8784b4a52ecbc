/* scheduler/pool.c — container pools and the allocation algorithm (the
 * contract, the state diagram and the waiting rule are in pool.h).
 *
 * Every container sits in exactly the lists of its state: FREE ones in the
 * global LRU list and their action's free list, PREWARM ones in the set of
 * their kind and memory; move() is the only place that changes a state, so
 * the lists and counters cannot drift apart. */
#include "scheduler/pool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/str.h"
#include "scheduler/map.h"

#define DEF_MAX_WAITERS_PER_ACTION  64
#define DEF_MAX_WAITERS		    4096
#define DEF_MAX_CREATING_PER_ACTION 8
#define DEF_RETRY_AFTER_MS	    500
#define DEF_CREATE_BACKOFF_MS	    1000
#define MAX_PREWARM_TARGETS	    32
#define KEY_MAX			    512

struct sch_waiter {
	void *cookie;
	char controller[PR_OWNER_MAX];
	uint64_t deadline_ms;
	TAILQ_ENTRY(sch_waiter) link;
};
TAILQ_HEAD(waiter_list, sch_waiter);

struct sch_action {
	char key[KEY_MAX];
	char ns[PR_SCHED_NS_MAX];
	char name[PR_SCHED_NAME_MAX];
	char path[PR_ACTION_MAX]; /* "/ns/name", the descriptor's action label */
	char version[32];
	char digest[PR_DIGEST_MAX];
	char kind[PR_KIND_MAX];
	int memory_mb;
	int concurrency;
	struct sch_container_list free; /* head = least recently used */
	int nfree, nbusy, ncreating;
	struct waiter_list waiters;
	int nwaiters;
	TAILQ_ENTRY(sch_action) wait_link; /* in pool->waiting while nwaiters > 0 */
};

/* Stem cells of one kind and memory. */
struct pset {
	struct sch_container_list list;
	int n;
};

struct sch_pool {
	struct sch_pool_config cfg;
	struct sch_prewarm_target *prewarm;
	int nprewarm;
	struct sch_pool_ops ops;
	void *arg;
	uint64_t next_seq;
	struct sch_map *by_id, *by_seq, *actions, *psets, *hostmap;
	TAILQ_HEAD(, sch_host) hosts;
	int nhosts;
	struct sch_container_list all, lru;
	TAILQ_HEAD(, sch_action) waiting;
	int nwaiters;
	int count[SCH_C__N];
	uint64_t outcomes[SCH_OUT__N];
	uint64_t reaped, evicted;
};

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

static uint64_t now(const struct sch_pool *p)
{
	return p->ops.now_ms(p->arg);
}

/* ---- prewarm configuration ---- */

int sch_prewarm_parse(const char *spec, struct sch_prewarm_target **out, int *n, struct hc_err *err)
{
	struct sch_prewarm_target *ts = NULL;
	char *copy = NULL, *save = NULL, *item;
	int count = 0, rc = -1;

	*out = NULL;
	*n = 0;
	if (!spec || !*spec)
		return 0;
	copy = strdup(spec);
	ts = calloc(MAX_PREWARM_TARGETS, sizeof(*ts));
	if (!copy || !ts) {
		hc_err_set(err, "out of memory");
		goto out;
	}
	for (item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *c2 = strrchr(item, ':'), *c1, *end;
		long mem, cnt;

		if (count == MAX_PREWARM_TARGETS) {
			hc_err_set(err, "prewarm: at most %d entries", MAX_PREWARM_TARGETS);
			goto out;
		}
		if (!c2 || c2 == item)
			goto bad;
		*c2 = '\0';
		c1 = strrchr(item, ':');
		if (!c1 || c1 == item)
			goto bad;
		*c1 = '\0';
		mem = strtol(c1 + 1, &end, 10);
		if (*end || c1[1] == '\0' || mem < 1 || mem > PR_SCHED_MEMORY_MAX)
			goto bad;
		cnt = strtol(c2 + 1, &end, 10);
		if (*end || c2[1] == '\0' || cnt < 0 || cnt > 1000)
			goto bad;
		if (strlen(item) >= PR_KIND_MAX)
			goto bad;
		hc_strlcpy(ts[count].kind, item, sizeof(ts[count].kind));
		ts[count].memory_mb = (int)mem;
		ts[count].count = (int)cnt;
		count++;
	}
	*out = ts;
	*n = count;
	ts = NULL;
	rc = 0;
	goto out;
bad:
	hc_err_set(err, "prewarm: \"%.64s\" is not kind:memoryMB:count", item);
out:
	free(ts);
	free(copy);
	return rc;
}

/* ---- tables ---- */

static void seq_key(uint64_t seq, char *buf, size_t len)
{
	snprintf(buf, len, "#%llu", (unsigned long long)seq);
}

static struct pset *pset_get(struct sch_pool *p, const char *kind, int memory_mb, int create)
{
	char key[PR_KIND_MAX + 16];
	struct pset *s;

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
static struct sch_action *action_get(struct sch_pool *p, const char *ns, const char *name,
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

/* ---- the state machine ---- */

/* Take c out of the lists and counters of its current state. */
static void unlink_state(struct sch_pool *p, struct sch_container *c)
{
	struct sch_action *a = c->action;

	switch (c->state) {
	case SCH_C_CREATING:
		if (a)
			a->ncreating--;
		break;
	case SCH_C_PREWARM: {
		struct pset *s = pset_get(p, c->desc.kind, c->desc.memory_mb, 0);
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
static int link_state(struct sch_pool *p, struct sch_container *c, enum sch_cstate s,
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
		struct pset *set = pset_get(p, c->desc.kind, c->desc.memory_mb, 1);
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

static void destroy(struct sch_pool *p, struct sch_container *c, const char *why);

static void move(struct sch_pool *p, struct sch_container *c, enum sch_cstate s,
		 struct sch_action *a)
{
	unlink_state(p, c);
	if (link_state(p, c, s, a) < 0) {
		/* Only PREWARM can fail (ENOMEM): park it as destroying. */
		p->count[s]--;
		c->state = SCH_C_CREATING; /* neutral for unlink: no action, no target */
		c->prewarm_target = -1;
		p->count[c->state]++;
		destroy(p, c, "out of memory");
	}
}

/* A new container on h, accounted at once, in state CREATING. */
static struct sch_container *new_container(struct sch_pool *p, struct sch_host *h, const char *kind,
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
	c->last_used_ms = now(p);
	TAILQ_INSERT_TAIL(&h->containers, c, host_link);
	TAILQ_INSERT_TAIL(&p->all, c, all_link);
	h->ncontainers++;
	h->used_mb += memory_mb;
	link_state(p, c, SCH_C_CREATING, a); /* cannot fail for CREATING */
	return c;
}

/* Forget c entirely (after destroy confirmed, a failed create, a lost host). */
static void drop(struct sch_pool *p, struct sch_container *c)
{
	char key[32];

	unlink_state(p, c);
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

static void destroy(struct sch_pool *p, struct sch_container *c, const char *why)
{
	if (c->state == SCH_C_DESTROYING)
		return;
	if (c->desc.id[0] && p->ops.gone)
		p->ops.gone(p->arg, c, why);
	move(p, c, SCH_C_DESTROYING, NULL);
	c->desc.state = PR_CS_DESTROYING;
	p->ops.destroy(p->arg, c);
}

static void set_owner(struct sch_pool *p, struct sch_container *c, const char *owner)
{
	if (strcmp(c->desc.owner, owner) == 0)
		return;
	hc_strlcpy(c->desc.owner, owner, sizeof(c->desc.owner));
	if (p->ops.owner_changed)
		p->ops.owner_changed(p->arg, c);
}

/* ---- hosts ---- */

static int host_free_mb(const struct sch_host *h)
{
	int f = h->capacity_mb - h->used_mb;
	return f > 0 ? f : 0;
}

static int host_usable(const struct sch_pool *p, const struct sch_host *h, uint64_t t)
{
	return !h->draining && t >= h->backoff_until_ms;
}

static struct sch_host *best_host(struct sch_pool *p, int memory_mb)
{
	struct sch_host *h, *best = NULL;
	uint64_t t = now(p);

	TAILQ_FOREACH(h, &p->hosts, link)
	{
		if (!host_usable(p, h, t) || host_free_mb(h) < memory_mb)
			continue;
		if (!best || host_free_mb(h) > host_free_mb(best))
			best = h;
	}
	return best;
}

/* The least recently used free container whose destruction makes room. */
static struct sch_container *lru_victim(struct sch_pool *p, int memory_mb)
{
	struct sch_container *c;
	uint64_t t = now(p);

	TAILQ_FOREACH(c, &p->lru, lru_link)
	{
		if (host_usable(p, c->host, t) &&
		    host_free_mb(c->host) + c->desc.memory_mb >= memory_mb)
			return c;
	}
	return NULL;
}

static void refill_host(struct sch_pool *p, struct sch_host *h)
{
	if (!host_usable(p, h, now(p)))
		return;
	for (int i = 0; i < p->nprewarm; i++) {
		const struct sch_prewarm_target *t = &p->prewarm[i];
		while (h->prewarm_have[i] < t->count && host_free_mb(h) >= t->memory_mb) {
			struct sch_container *c =
			    new_container(p, h, t->kind, t->memory_mb, NULL, i);
			if (!c)
				return;
			p->ops.create(p->arg, c);
		}
	}
}

static void refill_all(struct sch_pool *p)
{
	struct sch_host *h;
	TAILQ_FOREACH(h, &p->hosts, link)
	refill_host(p, h);
}

/* ---- answering ---- */

static void answer(struct sch_pool *p, void *cookie, struct sch_alloc_result *res)
{
	p->outcomes[res->outcome]++;
	p->ops.reply(p->arg, cookie, res);
}

static void answer_reject(struct sch_pool *p, void *cookie, const char *why)
{
	struct sch_alloc_result res;

	memset(&res, 0, sizeof(res));
	res.outcome = SCH_OUT_REJECTED;
	res.retry_after_ms = p->cfg.retry_after_ms;
	res.error = why;
	answer(p, cookie, &res);
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
static void hand_out(struct sch_pool *p, struct sch_container *c, struct sch_action *a,
		     const char *controller)
{
	if (c->state == SCH_C_FREE && p->cfg.keepalive && p->cfg.keepalive->observe_reuse)
		p->cfg.keepalive->observe_reuse(p->cfg.keepalive, a->key, now(p) - c->last_used_ms);
	move(p, c, SCH_C_BUSY, a);
	set_owner(p, c, controller);
}

/* Step 2 against one free container of the action: 1 = answered into res. */
static int try_free(struct sch_pool *p, struct sch_action *a, struct sch_container *c,
		    const char *controller, struct sch_alloc_result *res)
{
	char url[PR_URL_MAX] = "";
	int known;

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
	hand_out(p, c, a, controller);
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
	struct pset *s = pset_get(p, a->kind, a->memory_mb, 0);
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
		    (!c || host_free_mb(it->host) > host_free_mb(c->host)))
			c = it;
	}
	if (!c)
		return 0;
	h = c->host;
	unlink_state(p, c);
	c->prewarm_target = -1;
	hc_strlcpy(c->desc.action, a->path, sizeof(c->desc.action));
	hc_strlcpy(c->desc.version, a->version, sizeof(c->desc.version));
	hc_strlcpy(c->desc.digest, a->digest, sizeof(c->desc.digest));
	link_state(p, c, SCH_C_BUSY, a);
	set_owner(p, c, controller);
	fill_reply(res, SCH_OUT_PREWARM, c, "", 1);
	refill_host(p, h);
	return 1;
}

/* ---- waiting allocations ---- */

static void waiter_remove(struct sch_pool *p, struct sch_action *a, struct sch_waiter *w)
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
		waiter_remove(p, a, w);
		answer_reject(p, cookie, why);
	}
}

/* Keep enough creates going for a's waiters (the rule in pool.h). Rejects
 * every waiter when nothing is being created and nothing can be. */
static void place(struct sch_pool *p, struct sch_action *a)
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
			c = new_container(p, h, a->kind, a->memory_mb, a, -1);
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
		destroy(p, victim, "evicted");
		/* Its memory goes to the successor now, so nothing else takes it. */
		victim->mem_handed_over = 1;
		h->used_mb -= victim->desc.memory_mb;
		c = new_container(p, h, a->kind, a->memory_mb, a, -1);
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
static void serve_waiters(struct sch_pool *p, struct sch_action *a, struct sch_container *c,
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
		waiter_remove(p, a, w);
		answer(p, cookie, &res);
		return;
	}
	waiter_remove(p, a, w);
	hand_out(p, c, a, controller);
	fill_reply(&res, c->via_eviction ? SCH_OUT_EVICTED : SCH_OUT_CREATED, c, "", 1);
	answer(p, cookie, &res);
	extra = (a->concurrency > 1 ? a->concurrency : 1) - 1;
	for (w = TAILQ_FIRST(&a->waiters); w && extra > 0; w = next) {
		next = TAILQ_NEXT(w, link);
		if (strcmp(w->controller, controller) != 0)
			continue;
		cookie = w->cookie;
		waiter_remove(p, a, w);
		answer(p, cookie, &res);
		extra--;
	}
}

/* ---- public API ---- */

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

		waiter_remove(p, a, w);
		memset(&res, 0, sizeof(res));
		res.outcome = SCH_OUT_ABORTED;
		res.error = "the scheduler is no longer the leader";
		answer(p, cookie, &res);
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

int sch_pool_host_set(struct sch_pool *p, const char *id, const char *url, int capacity_mb,
		      int draining)
{
	struct sch_host *h = sch_map_get(p->hostmap, id);

	if (capacity_mb < 0 || !id[0])
		return -1;
	if (!h) {
		h = calloc(1, sizeof(*h));
		if (!h)
			return -1;
		h->prewarm_have = calloc((size_t)(p->nprewarm > 0 ? p->nprewarm : 1), sizeof(int));
		if (!h->prewarm_have || sch_map_put(p->hostmap, id, h) < 0) {
			free(h->prewarm_have);
			free(h);
			return -1;
		}
		hc_strlcpy(h->id, id, sizeof(h->id));
		TAILQ_INIT(&h->containers);
		TAILQ_INSERT_TAIL(&p->hosts, h, link);
		p->nhosts++;
	}
	hc_strlcpy(h->url, url, sizeof(h->url));
	h->capacity_mb = capacity_mb;
	h->draining = draining != 0;
	refill_host(p, h);
	return 0;
}

struct sch_host *sch_pool_host(const struct sch_pool *p, const char *id)
{
	return sch_map_get(p->hostmap, id);
}

void sch_pool_host_remove(struct sch_pool *p, const char *id)
{
	struct sch_host *h = sch_map_del(p->hostmap, id);
	struct sch_container *c;
	struct sch_action *a, *next;

	if (!h)
		return;
	while ((c = TAILQ_FIRST(&h->containers))) {
		if (c->desc.id[0] && c->state != SCH_C_DESTROYING && p->ops.gone)
			p->ops.gone(p->arg, c, "host lost");
		drop(p, c);
	}
	TAILQ_REMOVE(&p->hosts, h, link);
	p->nhosts--;
	free(h->prewarm_have);
	free(h);
	/* Waiters that counted on creates there need new ones. */
	for (a = TAILQ_FIRST(&p->waiting); a; a = next) {
		next = TAILQ_NEXT(a, wait_link);
		place(p, a);
	}
}

/* "/ns/name" -> ns, name. */
static int split_path(const char *path, char *ns, size_t nslen, char *name, size_t namelen)
{
	const char *slash;

	if (path[0] != '/')
		return -1;
	slash = strchr(path + 1, '/');
	if (!slash || slash == path + 1 || !slash[1])
		return -1;
	if ((size_t)(slash - path - 1) >= nslen || strlen(slash + 1) >= namelen)
		return -1;
	memcpy(ns, path + 1, (size_t)(slash - path - 1));
	ns[slash - path - 1] = '\0';
	snprintf(name, namelen, "%s", slash + 1);
	return 0;
}

enum sch_cstate sch_pool_restore(struct sch_pool *p, const char *host_id,
				 const struct pr_container *desc, const char *owner)
{
	struct sch_host *h = sch_map_get(p->hostmap, host_id);
	char ns[PR_SCHED_NS_MAX], name[PR_SCHED_NAME_MAX];
	struct sch_container *c, *it;
	struct sch_action *a = NULL;
	int stem = !desc->action[0] && !desc->digest[0];
	int alive = desc->state == PR_CS_WARM || desc->state == PR_CS_SUSPENDED;

	if (!h || !hc_id_valid(desc->id) || sch_map_get(p->by_id, desc->id))
		return SCH_C__N;
	if (!stem && alive && owner[0] &&
	    split_path(desc->action, ns, sizeof(ns), name, sizeof(name)) == 0)
		a = action_get(p, ns, name, desc->version, desc->digest, desc->kind,
			       desc->memory_mb);
	c = new_container(p, h, desc->kind, desc->memory_mb, NULL, -1);
	if (!c)
		return SCH_C__N;
	c->desc = *desc;
	hc_strlcpy(c->desc.agent, h->url, sizeof(c->desc.agent));
	c->desc.owner[0] = '\0';
	c->last_used_ms = desc->last_used_ms ? desc->last_used_ms : now(p);
	if (sch_map_put(p->by_id, c->desc.id, c) < 0) {
		drop(p, c);
		return SCH_C__N;
	}
	if (alive && stem) {
		int t = prewarm_match(p, desc->kind, desc->memory_mb);
		unlink_state(p, c);
		c->prewarm_target = (t >= 0 && h->prewarm_have[t] < p->prewarm[t].count) ? t : -1;
		if (link_state(p, c, SCH_C_PREWARM, NULL) == 0)
			return SCH_C_PREWARM;
		p->count[SCH_C_PREWARM]--;
		c->state = SCH_C_CREATING;
		c->prewarm_target = -1;
		p->count[SCH_C_CREATING]++;
	} else if (a) {
		hc_strlcpy(c->desc.owner, owner, sizeof(c->desc.owner));
		if (desc->state == PR_CS_WARM) {
			move(p, c, SCH_C_BUSY, a);
			return SCH_C_BUSY;
		}
		/* Keep the LRU lists ordered by last use. */
		unlink_state(p, c);
		link_state(p, c, SCH_C_FREE, a);
		TAILQ_REMOVE(&p->lru, c, lru_link);
		for (it = TAILQ_LAST(&p->lru, sch_container_list); it;
		     it = TAILQ_PREV(it, sch_container_list, lru_link)) {
			if (it->last_used_ms <= c->last_used_ms)
				break;
		}
		if (it)
			TAILQ_INSERT_AFTER(&p->lru, it, c, lru_link);
		else
			TAILQ_INSERT_HEAD(&p->lru, c, lru_link);
		TAILQ_REMOVE(&a->free, c, set_link);
		for (it = TAILQ_LAST(&a->free, sch_container_list); it;
		     it = TAILQ_PREV(it, sch_container_list, set_link)) {
			if (it->last_used_ms <= c->last_used_ms)
				break;
		}
		if (it)
			TAILQ_INSERT_AFTER(&a->free, it, c, set_link);
		else
			TAILQ_INSERT_HEAD(&a->free, c, set_link);
		return SCH_C_FREE;
	}
	/* Nobody's, dead or half made: reclaim it. */
	destroy(p, c, "reclaimed");
	return SCH_C_DESTROYING;
}

int sch_pool_allocate(struct sch_pool *p, const struct pr_alloc_req *req, void *cookie)
{
	struct sch_alloc_result res;
	struct sch_action *a;
	struct sch_waiter *w;

	memset(&res, 0, sizeof(res));
	a = action_get(p, req->ns, req->name, req->version, req->digest, req->kind, req->memory_mb);
	if (!a) {
		answer_reject(p, cookie,
			      "cannot track this action (name too long or out of memory)");
		return 0;
	}
	/* The latest request describes the action (limits may have changed). */
	if (req->concurrency > 0)
		a->concurrency = req->concurrency;
	a->memory_mb = req->memory_mb;
	hc_strlcpy(a->kind, req->kind, sizeof(a->kind));
	if (serve_warm(p, a, req->controller, &res) || serve_prewarm(p, a, req->controller, &res)) {
		answer(p, cookie, &res);
		return 0;
	}
	if (a->nwaiters >= p->cfg.max_waiters_per_action || p->nwaiters >= p->cfg.max_waiters) {
		answer_reject(p, cookie, "too many allocations waiting");
		return 0;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		answer_reject(p, cookie, "out of memory");
		return 0;
	}
	w->cookie = cookie;
	hc_strlcpy(w->controller, req->controller, sizeof(w->controller));
	w->deadline_ms = now(p) + (uint64_t)(req->wait_ms > 0 ? req->wait_ms : 10000);
	TAILQ_INSERT_TAIL(&a->waiters, w, link);
	if (a->nwaiters++ == 0)
		TAILQ_INSERT_TAIL(&p->waiting, a, wait_link);
	p->nwaiters++;
	place(p, a);
	/* place() rejects all of a's waiters or none. */
	return a->nwaiters > 0 ? 1 : 0;
}

static struct sch_container *find_mut(const struct sch_pool *p, const char *id)
{
	return sch_map_get(p->by_id, id);
}

const struct sch_container *sch_pool_find(const struct sch_pool *p, const char *id)
{
	return find_mut(p, id);
}

static struct sch_container *find_seq_mut(const struct sch_pool *p, uint64_t seq)
{
	char key[32];
	seq_key(seq, key, sizeof(key));
	return sch_map_get(p->by_seq, key);
}

const struct sch_container *sch_pool_find_seq(const struct sch_pool *p, uint64_t seq)
{
	return find_seq_mut(p, seq);
}

static int owned_by_other(const struct sch_container *c, const char *controller)
{
	return c->desc.owner[0] && strcmp(c->desc.owner, controller) != 0;
}

enum sch_ref_result sch_pool_release(struct sch_pool *p, const char *id, const char *controller)
{
	struct sch_container *c = find_mut(p, id);
	struct sch_action *a;

	if (!c)
		return SCH_REF_UNKNOWN;
	if (c->state != SCH_C_BUSY && c->state != SCH_C_FREE)
		return SCH_REF_BAD_STATE;
	if (owned_by_other(c, controller))
		return SCH_REF_NOT_OWNER;
	a = c->action;
	c->last_used_ms = now(p);
	c->desc.last_used_ms = c->last_used_ms;
	c->desc.state = PR_CS_SUSPENDED;
	move(p, c, SCH_C_FREE, a); /* a release of a free one refreshes its LRU place */
	set_owner(p, c, controller);
	if (a->nwaiters > 0)
		serve_waiters(p, a, c, 0);
	return SCH_REF_OK;
}

enum sch_ref_result sch_pool_busy(struct sch_pool *p, const char *id, const char *controller)
{
	struct sch_container *c = find_mut(p, id);

	if (!c)
		return SCH_REF_UNKNOWN;
	if (c->state != SCH_C_BUSY && c->state != SCH_C_FREE)
		return SCH_REF_BAD_STATE;
	if (owned_by_other(c, controller))
		return SCH_REF_NOT_OWNER;
	c->desc.state = PR_CS_WARM;
	if (c->state == SCH_C_FREE)
		hand_out(p, c, c->action, controller);
	else
		set_owner(p, c, controller);
	return SCH_REF_OK;
}

enum sch_ref_result sch_pool_discard(struct sch_pool *p, const char *id, const char *controller)
{
	struct sch_container *c = find_mut(p, id);

	if (!c)
		return SCH_REF_UNKNOWN;
	if (owned_by_other(c, controller))
		return SCH_REF_NOT_OWNER;
	if (c->state == SCH_C_CREATING)
		return SCH_REF_BAD_STATE;
	destroy(p, c, "discarded");
	return SCH_REF_OK;
}

int sch_pool_dead(struct sch_pool *p, const char *id)
{
	struct sch_container *c = find_mut(p, id);

	if (!c)
		return -1;
	destroy(p, c, "dead");
	return 0;
}

int sch_pool_created(struct sch_pool *p, uint64_t seq, const struct pr_container *desc)
{
	struct sch_container *c = find_seq_mut(p, seq);
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
		serve_waiters(p, a, c, 1);
		place(p, a); /* the rest may need more creates now the cap has room */
		return 0;
	}
	/* A stem cell, or nobody waits any more: it is a stem cell now. */
	if (a) {
		int t = prewarm_match(p, c->desc.kind, c->desc.memory_mb);
		unlink_state(p, c);
		c->desc.action[0] = c->desc.version[0] = c->desc.digest[0] = '\0';
		c->prewarm_target =
		    (t >= 0 && c->host->prewarm_have[t] < p->prewarm[t].count) ? t : -1;
		if (link_state(p, c, SCH_C_PREWARM, NULL) < 0) {
			p->count[SCH_C_PREWARM]--;
			c->state = SCH_C_CREATING;
			c->prewarm_target = -1;
			p->count[SCH_C_CREATING]++;
			destroy(p, c, "out of memory");
		}
		return 0;
	}
	move(p, c, SCH_C_PREWARM, NULL);
	return 0;
}

void sch_pool_create_failed(struct sch_pool *p, uint64_t seq, const char *why)
{
	struct sch_container *c = find_seq_mut(p, seq);
	struct sch_action *a;

	if (!c || c->state != SCH_C_CREATING)
		return;
	a = c->action;
	c->host->backoff_until_ms = now(p) + (uint64_t)p->cfg.create_backoff_ms;
	drop(p, c);
	if (a)
		place(p, a);
}

void sch_pool_destroyed(struct sch_pool *p, uint64_t seq)
{
	struct sch_container *c = find_seq_mut(p, seq), *s;
	uint64_t succ;

	if (!c || c->state != SCH_C_DESTROYING)
		return;
	succ = c->successor;
	drop(p, c);
	s = succ ? find_seq_mut(p, succ) : NULL;
	if (s && s->after_destroy == seq) {
		s->after_destroy = 0;
		p->ops.create(p->arg, s);
	}
}

/* Forget actions with nothing left (made again on demand); a bounded batch
 * per tick, since the map cannot change while it is walked. */
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

/* A drained host keeps its busy containers until they are released; idle
 * ones (free, stem cells) go now, so the host empties as work finishes. */
static void drain_hosts(struct sch_pool *p)
{
	struct sch_host *h;
	struct sch_container *c, *cnext;

	TAILQ_FOREACH(h, &p->hosts, link)
	{
		if (!h->draining)
			continue;
		for (c = TAILQ_FIRST(&h->containers); c; c = cnext) {
			cnext = TAILQ_NEXT(c, host_link);
			if (c->state == SCH_C_FREE || c->state == SCH_C_PREWARM)
				destroy(p, c, "host drained");
		}
	}
}

void sch_pool_tick(struct sch_pool *p)
{
	uint64_t t = now(p);
	struct sch_action *a, *anext;
	struct sch_container *c, *cnext;

	/* Waiters past their deadline; the rest may find a stem cell or room now. */
	for (a = TAILQ_FIRST(&p->waiting); a; a = anext) {
		struct sch_waiter *w, *wnext;
		struct sch_alloc_result res;
		int left;

		anext = TAILQ_NEXT(a, wait_link);
		left = a->nwaiters;
		for (w = TAILQ_FIRST(&a->waiters); w; w = wnext) {
			void *cookie = w->cookie;
			wnext = TAILQ_NEXT(w, link);
			if (w->deadline_ms > t)
				continue;
			left--;
			waiter_remove(p, a, w);
			answer_reject(p, cookie, "timed out waiting for a container");
		}
		if (left == 0)
			continue;
		while ((w = TAILQ_FIRST(&a->waiters))) {
			void *cookie = w->cookie;
			memset(&res, 0, sizeof(res));
			if (!serve_prewarm(p, a, w->controller, &res))
				break;
			waiter_remove(p, a, w);
			answer(p, cookie, &res);
		}
		if (a->nwaiters > 0)
			place(p, a);
	}
	/* Keep-alive: oldest first. */
	for (c = TAILQ_FIRST(&p->lru); c; c = cnext) {
		int64_t ttl;
		cnext = TAILQ_NEXT(c, lru_link);
		if (!p->cfg.keepalive)
			break;
		ttl = p->cfg.keepalive->idle_ttl_ms(p->cfg.keepalive, c->action->key, c->desc.kind,
						    c->desc.memory_mb);
		if (t >= c->last_used_ms && t - c->last_used_ms >= (uint64_t)ttl) {
			p->reaped++;
			destroy(p, c, "idle");
		}
	}
	drain_hosts(p);
	refill_all(p);
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
			set_owner(p, c, "");
		else if (c->state == SCH_C_BUSY)
			destroy(p, c, "owner gone");
	}
	/* its waiting allocations would only hand containers to nobody */
	for (a = TAILQ_FIRST(&p->waiting); a; a = an) {
		an = TAILQ_NEXT(a, wait_link);
		for (w = TAILQ_FIRST(&a->waiters); w; w = wn) {
			void *cookie = w->cookie;

			wn = TAILQ_NEXT(w, link);
			if (strcmp(w->controller, controller) != 0)
				continue;
			waiter_remove(p, a, w);
			answer_reject(p, cookie, "the controller that asked is gone");
		}
	}
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
