/* scheduler/sched.c — set-up and tear-down of the hearth-scheduler daemon:
 * the HTTP server (one loop), Redis and HTTP clients, and metrics; what
 * runs on the loop starts in daemon.c. */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/client.h"
#include "common/clock.h"
#include "common/http.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/str.h"
#include "proto/keys.h"
#include "scheduler/api.h"
#include "scheduler/controllers.h"
#include "scheduler/daemon.h"
#include "scheduler/rebuild.h"
#include "scheduler/sched.h"

/* ---- metrics ---- */

static double gauge_state(struct sch *s, enum sch_cstate st)
{
	struct sch_pool_stats ps;
	if (!s->pool)
		return 0;
	sch_pool_stats(s->pool, &ps);
	return ps.count[st];
}

static double g_prewarm(void *a)
{
	return gauge_state(a, SCH_C_PREWARM);
}
static double g_free(void *a)
{
	return gauge_state(a, SCH_C_FREE);
}
static double g_busy(void *a)
{
	return gauge_state(a, SCH_C_BUSY);
}
static double g_creating(void *a)
{
	return gauge_state(a, SCH_C_CREATING);
}
static double g_destroying(void *a)
{
	return gauge_state(a, SCH_C_DESTROYING);
}
static double g_leader(void *a)
{
	struct sch *s = a;
	return s->phase != SCH_PH_STANDBY;
}
static double g_waiting(void *a)
{
	struct sch *s = a;
	struct sch_pool_stats ps;
	if (!s->pool)
		return s->nqueued;
	sch_pool_stats(s->pool, &ps);
	return ps.waiters + s->nqueued;
}

/* Pool-wide numbers; 0 on a standby (its pool is built when it leads). The
 * pool's counters restart with each term, which rate() treats as a reset. */
static struct sch_pool_stats pool_stats(struct sch *s)
{
	struct sch_pool_stats ps;
	memset(&ps, 0, sizeof(ps));
	if (s->pool)
		sch_pool_stats(s->pool, &ps);
	return ps;
}
static double g_evicted(void *a)
{
	return (double)pool_stats(a).evicted;
}
static double g_reaped(void *a)
{
	return (double)pool_stats(a).reaped;
}
static double g_hosts(void *a)
{
	return pool_stats(a).hosts;
}
static double g_capacity(void *a)
{
	return (double)pool_stats(a).capacity_mb;
}
static double g_used(void *a)
{
	return (double)pool_stats(a).used_mb;
}

static void metrics_init(struct sch *s)
{
	char lab[64];

	for (int i = 0; i < SCH_OUT__N; i++) {
		snprintf(lab, sizeof(lab), "outcome=\"%s\"", sch_outcome_name((enum sch_outcome)i));
		s->m_outcome[i] = hc_counter_new("hearth_scheduler_allocations_total", lab,
						 "allocations answered, by outcome");
	}
	s->m_elections = hc_counter_new("hearth_scheduler_elections_total", NULL,
					"times this scheduler became leader (failovers)");
	s->m_stepdowns = hc_counter_new("hearth_scheduler_stepdowns_total", NULL,
					"times this scheduler stopped being leader");
	s->m_hosts_lost = hc_counter_new("hearth_scheduler_hosts_lost_total", NULL,
					 "hosts dropped because their registration expired");
	s->m_alloc_latency = hc_hist_new("hearth_scheduler_allocation_seconds", NULL,
					 "time from request to allocation reply", NULL, 0);
	static const struct {
		const char *state;
		hc_gauge_fn fn;
	} g[] = {{"prewarm", g_prewarm},
		 {"free", g_free},
		 {"busy", g_busy},
		 {"creating", g_creating},
		 {"destroying", g_destroying}};
	for (size_t i = 0; i < sizeof(g) / sizeof(g[0]); i++) {
		snprintf(lab, sizeof(lab), "state=\"%s\"", g[i].state);
		hc_gauge_fn_new("hearth_scheduler_containers", lab,
				"containers in the pool, by state", g[i].fn, s);
	}
	hc_gauge_fn_new("hearth_scheduler_leader", NULL, "1 while this scheduler leads", g_leader,
			s);
	hc_gauge_fn_new("hearth_scheduler_waiting_allocations", NULL,
			"allocations waiting for a container or for the rebuild", g_waiting, s);
	hc_gauge_fn_new("hearth_scheduler_term_evictions", NULL,
			"free containers evicted to make room (this term)", g_evicted, s);
	hc_gauge_fn_new("hearth_scheduler_term_reaped", NULL,
			"idle containers removed after their keep-alive (this term)", g_reaped, s);
	hc_gauge_fn_new("hearth_scheduler_hosts", NULL, "hosts in the pool", g_hosts, s);
	hc_gauge_fn_new("hearth_scheduler_memory_capacity_mb", NULL,
			"container memory the hosts offer, MB", g_capacity, s);
	hc_gauge_fn_new("hearth_scheduler_memory_used_mb", NULL,
			"container memory held by the pool's containers, MB", g_used, s);
}

/* ---- the loop ---- */

static int loop_init(struct hc_loop *loop, void *arg)
{
	struct sch *s = arg;
	struct hc_redis_opts ro;
	struct hc_err err = {{0}};
	struct hc_client_opts co = {0};

	s->base = loop->base;
	if (hc_redis_parse_url(s->cfg.redis, &ro, &err) < 0) {
		hc_error("redis url: %s", err.msg);
		return -1;
	}
	s->client = hc_client_new(loop->base, &co);
	s->redis = hc_redis_new(loop->base, &ro);
	s->sub = hc_redis_new(loop->base, &ro);
	if (!s->client || !s->redis || !s->sub)
		return -1;
	return sch_daemon_start(s);
}

static int loop_fini(struct hc_loop *loop, void *arg)
{
	struct sch *s = arg;

	s->release_lease = sch_lease_may_act(&s->lease, hc_mono_us());
	sch_daemon_stop(s);
	if (s->client)
		hc_client_free(s->client);
	s->client = NULL;
	if (s->sub)
		hc_redis_free(s->sub);
	s->sub = NULL;
	if (s->redis)
		hc_redis_free(s->redis);
	s->redis = NULL;
	sch_daemon_free(s);
	return 0;
}

int sch_init(struct sch *s, struct hc_err *err)
{
	struct hc_server_opts so;

	TAILQ_INIT(&s->queued);
	if (sch_prewarm_parse(s->cfg.prewarm, &s->prewarm, &s->nprewarm, err) < 0)
		return -1;
	s->keepalive = sch_keepalive_fixed(s->cfg.keepalive_ms);
	if (!s->keepalive || sch_ctl_init(s) < 0)
		return hc_err_set(err, "out of memory");
	memset(&so, 0, sizeof(so));
	so.name = "scheduler";
	so.addr = s->cfg.addr;
	so.port = (int)s->cfg.port;
	so.threads = 1; /* the pools live on one loop: no locks on the hot path */
	so.loop_init = loop_init;
	so.loop_fini = loop_fini;
	so.loop_arg = s;
	s->server = hc_server_new(&so, err);
	if (!s->server)
		return -1;
	if (s->cfg.url && s->cfg.url[0])
		hc_strlcpy(s->url, s->cfg.url, sizeof(s->url));
	else
		snprintf(s->url, sizeof(s->url), "http://%s:%d", s->cfg.addr,
			 hc_server_port(s->server));
	if (sch_api_routes(s) < 0)
		return hc_err_set(err, "cannot add routes");
	metrics_init(s);
	return 0;
}

/* A leader that stops cleanly deletes its lease (only if still its own), so
 * a standby takes over at its next attempt instead of after a whole lease.
 * Blocking is fine here: the loop has stopped. */
static void release_lease(struct sch *s)
{
	static const char del_lua[] = "if redis.call('GET', KEYS[1]) == ARGV[1] then "
				      "return redis.call('DEL', KEYS[1]) end return 0";
	struct hc_redis_opts ro;
	struct hc_err err = {{0}};
	redisContext *rc;
	redisReply *r;

	if (hc_redis_parse_url(s->cfg.redis, &ro, &err) < 0)
		return;
	ro.connect_timeout_ms = 300;
	rc = hc_redis_sync_connect(&ro, &err);
	if (!rc) {
		hc_warn("could not hand the lease back: %s", err.msg);
		return;
	}
	r = hc_redis_sync_cmd(rc, &err, "EVAL %s 1 %s %s", del_lua, PR_KEY_LEADER, s->cfg.id);
	if (r && r->type == REDIS_REPLY_INTEGER && r->integer == 1)
		hc_info("scheduler id=%s handed the lease back", s->cfg.id);
	freeReplyObject(r);
	redisFree(rc);
}

void sch_fini(struct sch *s)
{
	if (s->release_lease)
		release_lease(s);
	if (s->server)
		hc_server_free(s->server);
	s->server = NULL;
	if (s->pool)
		sch_pool_free(s->pool);
	s->pool = NULL;
	sch_rebuild_reset(s);
	sch_ctl_fini(s);
	if (s->keepalive)
		s->keepalive->destroy(s->keepalive);
	s->keepalive = NULL;
	free(s->prewarm);
	s->prewarm = NULL;
}
