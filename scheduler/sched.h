/* scheduler/sched.h — the hearth-scheduler daemon: its settings and the
 * state shared by its I/O modules.
 *
 *   config.c    the settings table
 *   election.c  the lease on Redis (lease.h is the state machine), leader
 *               announcement, stepping down
 *   rebuild.c   failover rebuild from agents + Redis, periodic host and
 *               controller refresh, write-behind of ownership to Redis
 *   agents.c    the pool's decisions executed on agents (create, destroy)
 *   api.c       HTTP routes for controllers, /healthz, /metrics
 *   pool.c      the allocation algorithm (pure, no I/O)
 *
 * One event loop: every handler and callback runs on it, so nothing here
 * needs a lock. Everything that mutates checks sch_leading() first. */
#ifndef SCH_SCHED_H
#define SCH_SCHED_H

#include <stdint.h>
#include <sys/queue.h>

#include "common/config.h"
#include "common/err.h"
#include "common/redis.h"
#include "proto/scheduler.h"
#include "scheduler/lease.h"
#include "scheduler/pool.h"

struct event;
struct event_base;
struct hc_client;
struct hc_server;
struct hc_req;
struct hc_counter;
struct hc_hist;
struct sch_map;
struct sch_alarms;

struct sch_config {
	char *id;   /* NULL = a new id at start */
	char *addr; /* bind address */
	int64_t port;
	char *url;   /* advertised URL; NULL = http://addr:port */
	char *redis; /* redis URL */
	char *token; /* cluster token */
	int64_t lease_ms, renew_ms, retry_ms, margin_ms;
	char *prewarm; /* "kind:memoryMB:count,..." per host */
	int64_t keepalive_ms;
	int64_t refresh_ms; /* hosts and controllers from Redis */
	int64_t tick_ms;    /* pool housekeeping */
	int64_t create_timeout_ms;
	int64_t agent_timeout_ms; /* destroy, GET /containers */
	int64_t max_waiters, max_waiters_per_action, max_creating_per_action;
	int64_t retry_after_ms;
	int64_t max_queued; /* allocations held while rebuilding */
	int64_t alarm_tick_ms, alarm_resend_ms, alarm_catchup_ms; /* alarms.h */
};

extern const struct hc_config_spec sch_config_spec;

/* Fill derived defaults (id, url) after hc_config_load. 0 or -1 with err. */
int sch_config_finish(struct sch_config *cfg, struct hc_err *err);

enum sch_phase {
	SCH_PH_STANDBY = 0, /* not leader: 503 with the leader's url */
	SCH_PH_REBUILDING,  /* won: reading agents and Redis; allocations queue */
	SCH_PH_SERVING,	    /* leader with a pool */
};

/* An allocation held while the pool is rebuilt. */
struct sch_queued {
	struct hc_req *req;
	struct pr_alloc_req ar;
	uint64_t deadline_us;
	TAILQ_ENTRY(sch_queued) link;
};

struct sch {
	struct sch_config cfg;
	char url[PR_URL_MAX];
	struct hc_server *server;
	struct event_base *base;
	struct hc_client *client;
	struct hc_redis *redis;
	struct hc_redis *sub; /* subscriber: PR_CH_HOSTS, PR_CH_CONTAINERS */
	struct hc_redis_script acquire_script, renew_script;
	struct sch_lease lease;
	struct event *lease_timer, *tick_timer, *refresh_timer, *stepdown_ev;
	enum sch_phase phase;
	uint64_t generation; /* bumped on every win and step-down: stale callbacks compare */
	struct sch_pool *pool;
	struct sch_prewarm_target *prewarm;
	int nprewarm;
	struct sch_keepalive_policy *keepalive;
	struct sch_map *controllers; /* controller id -> struct sch_ctl_info */
	TAILQ_HEAD(, sch_queued) queued;
	int nqueued;
	/* the leader as last known (ourselves while leading) */
	char leader_url[PR_URL_MAX];
	int64_t leader_epoch;
	/* rebuild / refresh bookkeeping */
	int rebuild_pending;
	/* read at the rebuild, for containers no agent has listed yet; kept
	 * until late_until_ms for hosts that were down (see rebuild.c) */
	struct sch_map *rebuild_owners;	  /* container id -> owner (strdup'd) */
	struct sch_map *rebuild_assigned; /* container id -> pr_assignment JSON (strdup'd) */
	uint64_t late_until_ms;
	struct sch_map *refresh_live;	  /* agent ids seen in the current refresh round */
	struct sch_map *pending_hosts; /* host id -> parked host waiting for its container list */
	int refresh_pending;
	uint64_t refresh_round;
	/* metrics */
	struct hc_counter *m_outcome[SCH_OUT__N];
	struct hc_counter *m_elections, *m_stepdowns, *m_hosts_lost;
	struct hc_hist *m_alloc_latency;
	/* ownership writes sent to Redis (sch_persist_owner), and how many of
	 * them Redis is known to hold (api.c waits for them before answering) */
	uint64_t owner_sent, owner_stored;
	uint64_t elected_at_us;
	struct sch_alarms *alarms; /* alarms.c: the alarms feed's periods, fired while leading */
	int stopping;	   /* shutting down: callbacks only clean up */
	int release_lease; /* we led until shutdown: hand the lease back in sch_fini */
};

/* A controller as the scheduler knows it (for forwarding hints). */
struct sch_ctl_info {
	char url[PR_URL_MAX];
	int state;		   /* 1 known, 0 being looked up, -1 gone, 2 draining */
	int seen;		   /* its registration was read at least once */
	uint64_t missing_since_ms; /* never seen: first lookup that found none */
};

/* A controller never seen registered is taken for gone only after this
 * long: its first allocation may overtake its first heartbeat. One that was
 * seen is gone as soon as its registration (3 heartbeats) has expired. */
#define SCH_CTL_UNSEEN_GRACE_MS 10000

/* ---- sched.c / main ---- */
int sch_init(struct sch *s, struct hc_err *err);
void sch_fini(struct sch *s);

/* ---- election.c ---- */
/* Start the lease machine on s->base (after s->redis exists). */
int sch_election_start(struct sch *s);
/* Nonzero when this process may mutate as leader right now. Fences (steps
 * down at once) when the lease has lapsed by our clock. Call only at the
 * top level (handlers, callbacks), never from inside pool ops. */
int sch_leading(struct sch *s);
/* Step down now (top level only): pool freed, waiting allocations answered
 * 503, queued ones too. */
void sch_step_down(struct sch *s, const char *why);
/* Step down on the next loop pass (safe from inside pool ops). */
void sch_step_down_soon(struct sch *s);
/* Fill the 503 body for callers that reached a non-leader. */
void sch_redirect(struct sch *s, struct hc_req *req, const char *why);

/* ---- rebuild.c ---- */
/* Begin the failover rebuild (phase REBUILDING); ends in SERVING. */
void sch_rebuild_start(struct sch *s);
/* Periodic refresh of hosts and controllers (leader only). */
void sch_refresh(struct sch *s);
/* Pub/sub: a host event triggers a refresh; an agent's "dead" container
 * event destroys it in the pool. */
void sch_on_message(const char *channel, const char *payload, size_t len, void *arg);
/* Forget rebuild/refresh state in flight (step-down, shutdown). */
void sch_rebuild_reset(struct sch *s);
/* Pool ops that persist and look up (wired into the ops table by agents.c). */
void sch_persist_owner(void *arg, const struct sch_container *c);
void sch_persist_gone(void *arg, const struct sch_container *c, const char *why);
int sch_controller_url(void *arg, const char *controller, char *url, size_t len);

/* ---- agents.c ---- */
extern const struct sch_pool_ops sch_pool_io_ops;
/* Fetch GET /containers from one agent; calls done(s, host_id, list, n, gen)
 * on the loop: n < 0 on failure (list NULL); an empty list may be NULL too. */
typedef void (*sch_list_cb)(struct sch *s, const char *host_id, struct pr_container *list, int n,
			    uint64_t gen);
int sch_agent_list(struct sch *s, const char *host_id, const char *url, sch_list_cb cb);
/* DELETE a container the pool does not track (an orphan). */
void sch_agent_destroy_orphan(struct sch *s, const char *url, const char *id);

/* ---- api.c ---- */
int sch_api_routes(struct sch *s);
/* Answer a queued or pool allocation (the pool's reply op). */
void sch_api_reply(void *arg, void *cookie, const struct sch_alloc_result *res);
/* Serve the allocations queued during the rebuild. */
void sch_api_drain_queue(struct sch *s);
/* Answer every queued allocation with 503 (step-down). */
void sch_api_abort_queue(struct sch *s);

#endif
