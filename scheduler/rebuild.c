/* scheduler/rebuild.c — what the leader learns from Redis and agents, and
 * what it writes back.
 *
 * Failover rebuild: HGETALL PR_KEY_OWNERS, SMEMBERS PR_KEY_AGENTS, HGETALL
 * each agent's registration (an expired one is a dead host), GET /containers
 * from each live agent, restore every container into a fresh pool with its
 * owner (sch_pool_restore decides: free, busy, stem cell or reclaim), then
 * serve the allocations queued meanwhile. A host is added draining until its
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
 * Every controller that owns a container (given out, or restored with its
 * owner) is looked up (PR_KEY_CONTROLLER) at each refresh, which also gives
 * the forwarding url; one that is gone loses its free containers to anyone
 * and its busy ones are destroyed.
 *
 * Ownership is written behind (PR_KEY_OWNERS, PR_KEY_WARM) from the pool's
 * ops; an allocation's answer waits only for a PING behind those writes
 * (api.c), so a container handed over always has its owner in Redis. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/str.h"
#include "proto/agent.h"
#include "proto/keys.h"
#include "scheduler/map.h"
#include "scheduler/sched.h"

#define MAX_AGENTS   10000
#define LATE_KEEP_MS (10 * 60 * 1000)

/* One host (or controller) being read. */
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

/* ---- write-behind of ownership ---- */

/* PR_KEY_WARM for a "/ns/name" label. */
static int warm_key(const char *action, char *key, size_t len)
{
	const char *slash;
	char ns[PR_SCHED_NS_MAX];
	size_t n;

	if (action[0] != '/' || !(slash = strchr(action + 1, '/')))
		return -1;
	n = (size_t)(slash - action - 1);
	if (n == 0 || n >= sizeof(ns))
		return -1;
	memcpy(ns, action + 1, n);
	ns[n] = '\0';
	snprintf(key, len, PR_KEY_WARM, ns, slash + 1);
	return 0;
}

static struct sch_ctl_info *watch_controller(struct sch *s, const char *id);

void sch_persist_owner(void *arg, const struct sch_container *c)
{
	struct sch *s = arg;
	char wk[PR_ACTION_MAX + 32];
	int has_warm = warm_key(c->desc.action, wk, sizeof(wk)) == 0;

	if (!c->desc.id[0])
		return;
	s->owner_sent++;
	if (c->desc.owner[0]) {
		struct pr_assignment as;
		char *json;

		/* an owner that dies must be noticed, whether or not another
		 * controller ever asks for its URL */
		(void)watch_controller(s, c->desc.owner);
		memset(&as, 0, sizeof(as));
		hc_strlcpy(as.action, c->desc.action, sizeof(as.action));
		hc_strlcpy(as.version, c->desc.version, sizeof(as.version));
		hc_strlcpy(as.digest, c->desc.digest, sizeof(as.digest));
		json = pr_assignment_encode(&as);
		if (json) {
			hc_redis_cmd(s->redis, NULL, NULL, "HSET %s %s %s", PR_KEY_ASSIGNED,
				     c->desc.id, json);
			free(json);
		}
		hc_redis_cmd(s->redis, NULL, NULL, "HSET %s %s %s", PR_KEY_OWNERS, c->desc.id,
			     c->desc.owner);
		if (has_warm)
			hc_redis_cmd(s->redis, NULL, NULL, "HSET %s %s %s", wk, c->desc.id,
				     c->desc.owner);
	} else {
		hc_redis_cmd(s->redis, NULL, NULL, "HDEL %s %s", PR_KEY_OWNERS, c->desc.id);
		hc_redis_cmd(s->redis, NULL, NULL, "HDEL %s %s", PR_KEY_ASSIGNED, c->desc.id);
		if (has_warm)
			hc_redis_cmd(s->redis, NULL, NULL, "HDEL %s %s", wk, c->desc.id);
	}
}

void sch_persist_gone(void *arg, const struct sch_container *c, const char *why)
{
	struct sch *s = arg;
	char wk[PR_ACTION_MAX + 32], *msg;
	struct pr_container_event ev;

	hc_debug("container=%s host=%s gone: %s", c->desc.id, c->host->id, why);
	hc_redis_cmd(s->redis, NULL, NULL, "HDEL %s %s", PR_KEY_OWNERS, c->desc.id);
	hc_redis_cmd(s->redis, NULL, NULL, "HDEL %s %s", PR_KEY_ASSIGNED, c->desc.id);
	if (warm_key(c->desc.action, wk, sizeof(wk)) == 0)
		hc_redis_cmd(s->redis, NULL, NULL, "HDEL %s %s", wk, c->desc.id);
	memset(&ev, 0, sizeof(ev));
	snprintf(ev.event, sizeof(ev.event), "destroyed");
	hc_strlcpy(ev.container, c->desc.id, sizeof(ev.container));
	hc_strlcpy(ev.agent, c->host->id, sizeof(ev.agent));
	msg = pr_container_event_encode(&ev);
	if (msg) {
		hc_redis_cmd(s->redis, NULL, NULL, "PUBLISH %s %s", PR_CH_CONTAINERS, msg);
		free(msg);
	}
}

static void publish_host(struct sch *s, const char *event, const char *id)
{
	struct pr_host_event ev;
	char *msg;

	memset(&ev, 0, sizeof(ev));
	hc_strlcpy(ev.event, event, sizeof(ev.event));
	hc_strlcpy(ev.agent, id, sizeof(ev.agent));
	msg = pr_host_event_encode(&ev);
	if (msg) {
		hc_redis_cmd(s->redis, NULL, NULL, "PUBLISH %s %s", PR_CH_HOSTS, msg);
		free(msg);
	}
}

/* ---- controllers ---- */

static void on_ctl_url(redisReply *r, void *arg)
{
	struct rctx *x = arg;
	struct sch *s = x->s;
	/* an answer to an earlier leadership says nothing about this pool */
	struct sch_ctl_info *ci =
	    stale(x) || !sch_leading(s) ? NULL : sch_map_get(s->controllers, x->id);

	/* HMGET url draining */
	const redisReply *url =
	    r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 ? r->element[0] : NULL;

	if (ci && url && url->type == REDIS_REPLY_STRING && url->len < sizeof(ci->url)) {
		hc_strlcpy(ci->url, url->str, sizeof(ci->url));
		ci->state = r->element[1]->type == REDIS_REPLY_STRING ? 2 : 1;
		ci->seen = 1;
	} else if (ci && url && url->type == REDIS_REPLY_NIL && ci->state != -1) {
		uint64_t t = hc_mono_us() / 1000;
		if (!ci->seen && !ci->missing_since_ms)
			ci->missing_since_ms = t;
		if (!ci->seen && t - ci->missing_since_ms < SCH_CTL_UNSEEN_GRACE_MS) {
			free(x); /* perhaps starting: asked again at the next refresh */
			return;
		}
		ci->state = -1;
		hc_info("controller=%s gone: its free containers are anyone's, its busy "
			"ones are destroyed",
			x->id);
		sch_pool_owner_gone(s->pool, x->id);
		/* it owns nothing now: stop asking about it (met again, it is
		 * looked up again) */
		free(sch_map_del(s->controllers, x->id));
	}
	free(x);
}

/* A new leadership looks every known controller up afresh (what it
 * learnt while leading before may be stale); having been seen registered
 * stays true. */
static void reset_ctl(const char *key, void *val, void *arg)
{
	struct sch_ctl_info *ci = val;

	ci->state = 0;
	ci->missing_since_ms = 0;
}

static void lookup_controller(struct sch *s, const char *id)
{
	char key[PR_OWNER_MAX + 32];
	struct rctx *x = rctx_new(s, 0, id);

	if (!x)
		return;
	snprintf(key, sizeof(key), PR_KEY_CONTROLLER, id);
	hc_redis_cmd(s->redis, on_ctl_url, x, "HMGET %s %s %s", key, PR_CONTROLLER_F_URL,
		     PR_CONTROLLER_F_DRAINING);
}

/* Known controllers are looked up at every refresh (sch_refresh): one
 * whose registration expired gives up its containers. NULL: newly met,
 * being looked up. */
static struct sch_ctl_info *watch_controller(struct sch *s, const char *id)
{
	struct sch_ctl_info *ci = sch_map_get(s->controllers, id);

	if (ci)
		return ci;
	ci = calloc(1, sizeof(*ci));
	if (!ci || sch_map_put(s->controllers, id, ci) < 0) {
		free(ci);
		return NULL;
	}
	lookup_controller(s, id);
	return NULL;
}

int sch_controller_url(void *arg, const char *controller, char *url, size_t len)
{
	struct sch *s = arg;
	struct sch_ctl_info *ci = watch_controller(s, controller);

	if (!ci)
		return 0;
	if (ci->state == 1)
		snprintf(url, len, "%s", ci->url);
	/* a draining controller serves nothing new: its free containers are
	 * anyone's (its busy ones stay its own until it has gone) */
	return ci->state == 2 ? -1 : ci->state;
}

static void refresh_one_ctl(const char *key, void *val, void *arg)
{
	lookup_controller(arg, key);
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
				(void)watch_controller(s, owner);
			free(owner);
			free(as);
		}
		sch_pool_host_set(s->pool, x->id, x->url, x->memory_mb, x->draining);
		if (x->round)
			publish_host(s, "joined", x->id);
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

void sch_rebuild_start(struct sch *s)
{
	struct sch_pool_config pc;
	struct rctx *a, *b, *c;

	sch_rebuild_reset(s);
	sch_map_each(s->controllers, reset_ctl, NULL);
	memset(&pc, 0, sizeof(pc));
	pc.prewarm = s->prewarm;
	pc.nprewarm = s->nprewarm;
	pc.keepalive = s->keepalive;
	pc.max_waiters = (int)s->cfg.max_waiters;
	pc.max_waiters_per_action = (int)s->cfg.max_waiters_per_action;
	pc.max_creating_per_action = (int)s->cfg.max_creating_per_action;
	pc.retry_after_ms = s->cfg.retry_after_ms;
	s->pool = sch_pool_new(&pc, &sch_pool_io_ops, s);
	s->rebuild_owners = sch_map_new();
	s->rebuild_assigned = sch_map_new();
	s->pending_hosts = sch_map_new();
	a = rctx_new(s, 0, NULL);
	b = rctx_new(s, 0, NULL);
	c = rctx_new(s, 0, NULL);
	if (!s->pool || !s->rebuild_owners || !s->rebuild_assigned || !s->pending_hosts || !a ||
	    !b || !c) {
		free(a);
		free(b);
		free(c);
		sch_step_down(s, "out of memory");
		return;
	}
	/* One connection answers in order: owners are known before any list. */
	hc_redis_cmd(s->redis, on_owners, a, "HGETALL %s", PR_KEY_OWNERS);
	hc_redis_cmd(s->redis, on_assigned, c, "HGETALL %s", PR_KEY_ASSIGNED);
	hc_redis_cmd(s->redis, on_agents, b, "SMEMBERS %s", PR_KEY_AGENTS);
}

static void drop_stale_owner(const char *id, void *val, void *arg)
{
	struct sch *s = arg;
	if (!sch_pool_find(s->pool, id))
		hc_redis_cmd(s->redis, NULL, NULL, "HDEL %s %s", PR_KEY_OWNERS, id);
}

static void drop_stale_assigned(const char *id, void *val, void *arg)
{
	struct sch *s = arg;
	if (!sch_pool_find(s->pool, id))
		hc_redis_cmd(s->redis, NULL, NULL, "HDEL %s %s", PR_KEY_ASSIGNED, id);
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
	s->phase = SCH_PH_SERVING;
	sch_api_drain_queue(s);
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

	if (!s->pool || !s->refresh_live || !sch_leading(s))
		return;
	memset(&w, 0, sizeof(w));
	w.s = s;
	sch_pool_each_host(s->pool, collect_lost, &w);
	for (int i = 0; i < w.n; i++) {
		hc_warn("host=%s lost (registration expired): dropping its containers", w.ids[i]);
		sch_pool_host_remove(s->pool, w.ids[i]);
		publish_host(s, "lost", w.ids[i]);
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
	sch_map_each(s->controllers, refresh_one_ctl, s);
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

void sch_on_message(const char *channel, const char *payload, size_t len, void *arg)
{
	struct sch *s = arg;
	struct pr_container_event ev;

	if (s->stopping || s->phase != SCH_PH_SERVING)
		return;
	if (!strcmp(channel, PR_CH_HOSTS)) {
		sch_refresh(s); /* coalesced with a round in flight */
		return;
	}
	if (!strcmp(channel, PR_CH_CONTAINERS) &&
	    pr_container_event_decode(payload, len, &ev, NULL) == 0 && !strcmp(ev.event, "dead") &&
	    sch_leading(s) && s->pool && sch_pool_dead(s->pool, ev.container) == 0)
		hc_info("container=%s agent=%s died: destroyed", ev.container, ev.agent);
}
