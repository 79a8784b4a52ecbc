/* scheduler/rebuild.c — what the leader learns from Redis and agents
 * (rebuild.h).
 *
 * Failover rebuild: HGETALL PR_KEY_OWNERS, SMEMBERS PR_KEY_AGENTS, HGETALL
 * each agent's registration (an expired one is a dead host), GET /containers
 * from each live agent, restore every container into a fresh pool with its
 * owner (sch_pool_restore decides: free, busy, stem cell or reclaim), then
 * report the pool rebuilt (the daemon then serves the allocations queued
 * meanwhile). A host is added draining until its
 * containers are known, so prewarm refill counts what is already there.
 *
 * Refresh (every cfg.refresh_ms while serving): the same host scan; a host
 * whose registration expired is dropped with its containers (published on
 * PR_CH_HOSTS and PR_CH_CONTAINERS); a new one is read like at rebuild.
 *
 * A host that was down at the rebuild (registration expired, or no answer
 * to GET /containers) comes back as a new host of a later refresh. The
 * owners read at the rebuild for containers nobody listed are kept for it
 * (LATE_KEEP_MS), so its warm containers come back with their owners
 * instead of being reclaimed; after that they are forgotten (HDEL). A host
 * whose list failed is left out of the pool until a list succeeds.
 * A container restored with its owner has that controller watched
 * (controllers.c) like one given out. Answers that belong to an earlier
 * term (the generation changed) are dropped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/str.h"
#include "proto/agent.h"
#include "proto/keys.h"
#include "scheduler/agents.h"
#include "scheduler/controllers.h"
#include "scheduler/map.h"
#include "scheduler/persist.h"
#include "scheduler/rebuild.h"

#define MAX_AGENTS   10000
#define LATE_KEEP_MS (10 * 60 * 1000)

/* One host (or the list of hosts) being read. */
struct rctx {
	struct sch *s;
	uint64_t gen;
	uint64_t round; /* refresh round; 0 = the rebuild */
	char id[PR_OWNER_MAX];
	char url[PR_URL_MAX];
	int memory_mb;
	int draining;
	int drain_set; /* an operator drained it (PR_KEY_DRAINING) */
};

static struct rctx *rctx_new(struct sch *s, uint64_t round, const char *id)
{
	struct rctx *x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	x->s = s;
	x->gen = s->generation;
	x->round = round;
	hc_strlcpy(x->id, id ? id : "", sizeof(x->id));
	return x;
}

static int stale(const struct rctx *x)
{
	return x->gen != x->s->generation || !x->s->pool;
}

/* ---- hosts ---- */

static void finish_rebuild(struct sch *s);
static void finish_refresh(struct sch *s);

/* One host of the rebuild or of a refresh round is settled. */
static void host_done(struct sch *s, const struct rctx *x)
{
	if (x->gen != s->generation)
		return;
	if (x->round == 0) {
		if (--s->rebuild_pending == 0)
			finish_rebuild(s);
	} else if (x->round == s->refresh_round) {
		if (--s->refresh_pending == 0)
			finish_refresh(s);
	}
}

/* GET /containers answered (n >= 0) or failed (n < 0): restore, open the
 * host, or leave it out until a later refresh lists it. */
static void on_list(struct sch *s, const char *host_id, struct pr_container *list, int n,
		    uint64_t gen)
{
	struct rctx *x = s->pending_hosts ? sch_map_del(s->pending_hosts, host_id) : NULL;

	if (!x)
		return;
	if (gen == s->generation && s->pool && n < 0) {
		/* not reachable: out of the pool, listed again at the next refresh */
		hc_warn("host=%s did not list its containers: left out until it does", x->id);
		sch_pool_host_remove(s->pool, x->id);
	} else if (gen == s->generation && s->pool) {
		for (int i = 0; i < n; i++) {
			char *owner =
			    s->rebuild_owners ? sch_map_del(s->rebuild_owners, list[i].id) : NULL;
			char *as = s->rebuild_assigned
				       ? sch_map_del(s->rebuild_assigned, list[i].id)
				       : NULL;
			struct pr_assignment a;
			/* A stem cell we handed out: the agent's labels are still empty. */
			if (owner && as && pr_assignment_decode(as, strlen(as), &a, NULL) == 0) {
				hc_strlcpy(list[i].action, a.action, sizeof(list[i].action));
				hc_strlcpy(list[i].version, a.version, sizeof(list[i].version));
				hc_strlcpy(list[i].digest, a.digest, sizeof(list[i].digest));
			}
			enum sch_cstate st =
			    sch_pool_restore(s->pool, host_id, &list[i], owner ? owner : "");
			/* restored with its owner: watched like one given out */
			if ((st == SCH_C_BUSY || st == SCH_C_FREE) && owner && owner[0])
				sch_ctl_watch(s, owner);
			free(owner);
			free(as);
		}
		sch_pool_host_set(s->pool, x->id, x->url, x->memory_mb, x->draining);
		if (x->round)
			sch_persist_host_event(s, "joined", x->id);
	}
	host_done(s, x);
	free(x);
}

/* HGETALL of one agent's registration. */
static void on_agent(redisReply *r, void *arg)
{
	struct rctx *x = arg;
	struct sch *s = x->s;
	const char *url = NULL, *mem = NULL, *drain = NULL;

	if (stale(x)) {
		free(x);
		return;
	}
	if (!r) {
		/* Redis unreachable: no news is not death; keep the host. */
		if (x->round && s->refresh_live)
			sch_map_put(s->refresh_live, x->id, s);
		goto done;
	}
	for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements; i += 2) {
		const redisReply *k = r->element[i], *v = r->element[i + 1];
		if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
			continue;
		if (!strcmp(k->str, PR_AGENT_F_URL))
			url = v->str;
		else if (!strcmp(k->str, PR_AGENT_F_MEMORY))
			mem = v->str;
		else if (!strcmp(k->str, PR_AGENT_F_DRAINING))
			drain = v->str;
	}
	if (!url || !mem || strlen(url) >= sizeof(x->url) || atoi(mem) < 0)
		goto done; /* registration expired (or garbage): not live */
	hc_strlcpy(x->url, url, sizeof(x->url));
	x->memory_mb = atoi(mem);
	x->draining = (drain && !strcmp(drain, "1")) || x->drain_set;
	if (x->round && s->refresh_live)
		sch_map_put(s->refresh_live, x->id, s);
	if (sch_pool_host(s->pool, x->id)) {
		sch_pool_host_set(s->pool, x->id, x->url, x->memory_mb, x->draining);
		goto done;
	}
	/* New to this pool: parked (draining) until its containers are known. */
	if (sch_map_get(s->pending_hosts, x->id) ||
	    sch_pool_host_set(s->pool, x->id, x->url, x->memory_mb, 1) < 0)
		goto done;
	if (sch_map_put(s->pending_hosts, x->id, x) < 0)
		goto open;
	if (sch_agent_list(s, x->id, x->url, on_list) < 0) {
		sch_map_del(s->pending_hosts, x->id);
		goto open;
	}
	return;
open:
	sch_pool_host_set(s->pool, x->id, x->url, x->memory_mb, x->draining);
done:
	host_done(s, x);
	free(x);
}

/* SISMEMBER PR_KEY_DRAINING, sent just before the host's HGETALL on the same
 * connection, so it always answers first; x is freed by on_agent. */
static void on_drain_flag(redisReply *r, void *arg)
{
	struct rctx *x = arg;
	x->drain_set = r && r->type == REDIS_REPLY_INTEGER && r->integer == 1;
}

/* SMEMBERS PR_KEY_AGENTS: read each registration. */
static void on_agents(redisReply *r, void *arg)
{
	struct rctx *x = arg;
	struct sch *s = x->s;
	size_t n = 0;
	char key[PR_OWNER_MAX + 32];

	if (stale(x)) {
		free(x);
		return;
	}
	if (r && r->type == REDIS_REPLY_ARRAY)
		n = r->elements < MAX_AGENTS ? r->elements : MAX_AGENTS;
	if (x->round == 0)
		s->rebuild_pending = 1; /* held until every HGETALL is sent */
	else
		s->refresh_pending = 1;
	for (size_t i = 0; i < n; i++) {
		const redisReply *e = r->element[i];
		struct rctx *h;
		if (e->type != REDIS_REPLY_STRING || e->len >= PR_OWNER_MAX)
			continue;
		h = rctx_new(s, x->round, e->str);
		if (!h)
			continue;
		if (x->round == 0)
			s->rebuild_pending++;
		else
			s->refresh_pending++;
		snprintf(key, sizeof(key), PR_KEY_AGENT, e->str);
		hc_redis_cmd(s->redis, on_drain_flag, h, "SISMEMBER %s %s", PR_KEY_DRAINING,
			     e->str);
		hc_redis_cmd(s->redis, on_agent, h, "HGETALL %s", key);
	}
	if (!r && x->round) {
		/* Redis unreachable: skip this round without dropping anything. */
		s->refresh_pending = 0;
		free(x);
		return;
	}
	host_done(s, x);
	free(x);
}

/* HGETALL into a map of strdup'd values (owners, assignments). */
static void load_hash(redisReply *r, struct sch_map *m, size_t max_len)
{
	for (size_t i = 0; r && r->type == REDIS_REPLY_ARRAY && m && i + 1 < r->elements; i += 2) {
		const redisReply *k = r->element[i], *v = r->element[i + 1];
		char *val;
		if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING ||
		    v->len >= max_len)
			continue;
		val = strdup(v->str);
		if (val && sch_map_put(m, k->str, val) < 0)
			free(val);
	}
}

static void on_owners(redisReply *r, void *arg)
{
	struct rctx *x = arg;

	if (!stale(x))
		load_hash(r, x->s->rebuild_owners, PR_OWNER_MAX);
	free(x);
}

static void on_assigned(redisReply *r, void *arg)
{
	struct rctx *x = arg;

	if (!stale(x))
		load_hash(r, x->s->rebuild_assigned, 1024);
	free(x);
}

static void free_val(const char *key, void *val, void *arg)
{
	free(val);
}

static void free_map(struct sch_map **m)
{
	if (!*m)
		return;
	sch_map_each(*m, free_val, NULL);
	sch_map_free(*m);
	*m = NULL;
}

void sch_rebuild_reset(struct sch *s)
{
	free_map(&s->pending_hosts);
	free_map(&s->rebuild_owners);
	free_map(&s->rebuild_assigned);
	sch_map_free(s->refresh_live); /* values are not owned */
	s->refresh_live = NULL;
	s->rebuild_pending = 0;
	s->refresh_pending = 0;
}

int sch_rebuild_start(struct sch *s, const struct sch_rebuild_hooks *hooks)
{
	struct rctx *a, *b, *c;

	sch_rebuild_reset(s);
	s->rebuild_hooks = hooks;
	s->rebuild_owners = sch_map_new();
	s->rebuild_assigned = sch_map_new();
	s->pending_hosts = sch_map_new();
	a = rctx_new(s, 0, NULL);
	b = rctx_new(s, 0, NULL);
	c = rctx_new(s, 0, NULL);
	if (!s->rebuild_owners || !s->rebuild_assigned || !s->pending_hosts || !a || !b || !c) {
		free(a);
		free(b);
		free(c);
		sch_rebuild_reset(s);
		return -1;
	}
	/* One connection answers in order: owners are known before any list. */
	hc_redis_cmd(s->redis, on_owners, a, "HGETALL %s", PR_KEY_OWNERS);
	hc_redis_cmd(s->redis, on_assigned, c, "HGETALL %s", PR_KEY_ASSIGNED);
	hc_redis_cmd(s->redis, on_agents, b, "SMEMBERS %s", PR_KEY_AGENTS);
	return 0;
}

static void drop_stale_owner(const char *id, void *val, void *arg)
{
	struct sch *s = arg;
	if (!sch_pool_find(s->pool, id))
		sch_persist_drop_owner(s, id);
}

static void drop_stale_assigned(const char *id, void *val, void *arg)
{
	struct sch *s = arg;
	if (!sch_pool_find(s->pool, id))
		sch_persist_drop_assignment(s, id);
}

/* The owners of containers no agent has listed since the rebuild: they no
 * longer exist anywhere. */
static void forget_late(struct sch *s)
{
	if (s->rebuild_owners)
		sch_map_each(s->rebuild_owners, drop_stale_owner, s);
	if (s->rebuild_assigned)
		sch_map_each(s->rebuild_assigned, drop_stale_assigned, s);
	free_map(&s->rebuild_owners);
	free_map(&s->rebuild_assigned);
}

static void finish_rebuild(struct sch *s)
{
	struct sch_pool_stats st;

	if (!s->pool || s->phase != SCH_PH_REBUILDING)
		return;
	/* What is left belongs to containers nobody listed: kept a while for a
	 * host that was down (forget_late) */
	s->late_until_ms = hc_now_ms() + LATE_KEEP_MS;
	if ((!s->rebuild_owners || !sch_map_count(s->rebuild_owners)) &&
	    (!s->rebuild_assigned || !sch_map_count(s->rebuild_assigned)))
		forget_late(s);
	sch_pool_stats(s->pool, &st);
	hc_info("rebuilt pools in %llu ms: hosts=%d free=%d busy=%d prewarm=%d reclaimed=%d",
		(unsigned long long)((hc_mono_us() - s->elected_at_us) / 1000), st.hosts,
		st.count[SCH_C_FREE], st.count[SCH_C_BUSY], st.count[SCH_C_PREWARM],
		st.count[SCH_C_DESTROYING]);
	s->rebuild_hooks->on_rebuilt(s);
}

struct lost_walk {
	struct sch *s;
	char ids[64][PR_OWNER_MAX];
	int n;
};

static void collect_lost(const struct sch_host *h, void *arg)
{
	struct lost_walk *w = arg;
	if (w->n < 64 && !sch_map_get(w->s->refresh_live, h->id) &&
	    !sch_map_get(w->s->pending_hosts, h->id))
		snprintf(w->ids[w->n++], PR_OWNER_MAX, "%s", h->id);
}

static void finish_refresh(struct sch *s)
{
	struct lost_walk w;

	/* a lapsed lease drops nothing: the next fence steps down */
	if (!s->pool || !s->refresh_live || !sch_leading(s))
		return;
	memset(&w, 0, sizeof(w));
	w.s = s;
	sch_pool_each_host(s->pool, collect_lost, &w);
	for (int i = 0; i < w.n; i++) {
		hc_warn("host=%s lost (registration expired): dropping its containers", w.ids[i]);
		sch_pool_host_remove(s->pool, w.ids[i]);
		sch_persist_host_event(s, "lost", w.ids[i]);
		if (s->m_hosts_lost)
			hc_counter_inc(s->m_hosts_lost);
	}
	sch_map_free(s->refresh_live);
	s->refresh_live = NULL;
}

void sch_refresh(struct sch *s)
{
	struct rctx *x;

	if (s->phase != SCH_PH_SERVING || !sch_leading(s))
		return;
	if ((s->rebuild_owners || s->rebuild_assigned) && hc_now_ms() >= s->late_until_ms &&
	    !s->refresh_pending)
		forget_late(s);
	sch_ctl_refresh(s);
	if (s->refresh_pending > 0)
		return; /* the previous round is still out */
	sch_map_free(s->refresh_live);
	s->refresh_live = sch_map_new();
	x = rctx_new(s, ++s->refresh_round, NULL);
	if (!s->refresh_live || !x) {
		free(x);
		return;
	}
	hc_redis_cmd(s->redis, on_agents, x, "SMEMBERS %s", PR_KEY_AGENTS);
}
