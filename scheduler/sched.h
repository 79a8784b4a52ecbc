/* scheduler/sched.h — the hearth-scheduler daemon: its settings and the
 * state its modules share.
 *
 * Calls go downward only; what a lower module must tell a higher one goes
 * up through a hook struct (election.h, rebuild.h), never an include:
 *
 *   main.c
 *   sched.c        set-up and tear-down: server, Redis and HTTP clients, metrics
 *   daemon.c       the phase (the only writer of s->phase and s->generation),
 *                  the pool's ops, timers and pub/sub: the top-level events
 *   api.c          HTTP routes for controllers, /healthz, /metrics; the
 *                  allocations queued while rebuilding
 *   rebuild.c      failover rebuild from agents + Redis, periodic host refresh
 *   controllers.c  controllers that own containers: lookups, gone ones
 *   agents.c       the pool's decisions executed on agents (create, destroy, list)
 *   election.c     the lease on Redis (lease.h is the state machine),
 *                  announcing a win, fencing, stepping down
 *   persist.c      ownership written behind to Redis, container and host events
 *   alarms.c       the alarms feed's periods, claimed and sent to controllers
 *                  while leading (told by daemon.c; knows nothing above it)
 *   pool*.c, lease.c, map.c, keepalive.c, config.c   pure: no I/O
 *
 * One event loop: every handler and callback runs on it, so nothing here
 * needs a lock. A top-level event (HTTP handler, timer, pub/sub message)
 * that may act as leader first calls sch_election_fence(), which steps down
 * when the lease has lapsed by our clock; deeper code asks sch_leading(),
 * a pure question, and I/O that mutates an agent checks the lease itself
 * (agents.c). */
#ifndef SCH_SCHED_H
#define SCH_SCHED_H

#include <stdint.h>
#include <sys/queue.h>

#include "common/clock.h"
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
struct sch_election_hooks;
struct sch_rebuild_hooks;

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

/* STANDBY -> REBUILDING (won) -> SERVING (rebuilt); either -> STANDBY (lost). */
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

/* What the scheduler knows of a controller (controllers.c). */
enum sch_ctl_state {
	SCH_CTL_LOOKING_UP = 0, /* met, its registration not read (yet, or this term) */
	SCH_CTL_KNOWN,		/* registered: url is its forwarding address */
	SCH_CTL_DRAINING,	/* registered but draining: serves nothing new */
	SCH_CTL_GONE,		/* its registration expired */
};

/* A controller as the scheduler knows it (for forwarding hints). */
struct sch_ctl_info {
	char url[PR_URL_MAX];
	enum sch_ctl_state state;
	int seen;		   /* its registration was read at least once */
	uint64_t missing_since_ms; /* never seen: first lookup that found none */
};

/* A controller never seen registered is taken for gone only after this
 * long: its first allocation may overtake its first heartbeat. One that was
 * seen is gone as soon as its registration (3 heartbeats) has expired. */
#define SCH_CTL_UNSEEN_GRACE_MS 10000

/* The daemon's state. Every field is written by the module named above
 * its group (and read where needed). */
struct sch {
	/* sched.c: set-up */
	struct sch_config cfg;
	char url[PR_URL_MAX];
	struct hc_server *server;
	struct event_base *base;
	struct hc_client *client;
	struct hc_redis *redis;
	struct hc_redis *sub; /* subscriber: PR_CH_HOSTS, PR_CH_CONTAINERS */
	struct sch_prewarm_target *prewarm;
	int nprewarm;
	struct sch_keepalive_policy *keepalive;
	struct hc_counter *m_outcome[SCH_OUT__N];
	struct hc_counter *m_elections, *m_stepdowns, *m_hosts_lost;
	struct hc_hist *m_alloc_latency;
	int release_lease; /* we led until shutdown: hand the lease back in sch_fini */

	/* daemon.c: the phase and the pool of the current term */
	enum sch_phase phase;
	uint64_t generation; /* bumped on every win and step-down: stale callbacks compare */
	struct sch_pool *pool;
	uint64_t elected_at_us;
	struct event *tick_timer, *refresh_timer;
	struct sch_alarms *alarms; /* alarms.c: the alarms feed's periods, fired while leading */
	int stopping;		   /* shutting down: callbacks only clean up */

	/* election.c */
	const struct sch_election_hooks *election_hooks;
	struct hc_redis_script acquire_script, renew_script;
	struct sch_lease lease;
	struct event *lease_timer, *stepdown_ev;
	int elected; /* on_won reported, on_lost not yet */
	/* the leader as last known (ourselves while leading) */
	char leader_url[PR_URL_MAX];
	int64_t leader_epoch;

	/* api.c */
	TAILQ_HEAD(, sch_queued) queued;
	int nqueued;

	/* controllers.c */
	struct sch_map *controllers; /* controller id -> struct sch_ctl_info */

	/* rebuild.c */
	const struct sch_rebuild_hooks *rebuild_hooks;
	int rebuild_pending;
	/* read at the rebuild, for containers no agent has listed yet; kept
	 * until late_until_ms for hosts that were down (see rebuild.c) */
	struct sch_map *rebuild_owners;	  /* container id -> owner (strdup'd) */
	struct sch_map *rebuild_assigned; /* container id -> pr_assignment JSON (strdup'd) */
	uint64_t late_until_ms;
	struct sch_map *refresh_live;  /* agent ids seen in the current refresh round */
	struct sch_map *pending_hosts; /* host id -> parked host waiting for its container list */
	int refresh_pending;
	uint64_t refresh_round;

	/* persist.c: ownership writes sent to Redis, and how many of them
	 * Redis is known to hold (answers that hand a container over wait) */
	uint64_t owner_sent, owner_stored;
};

/* Nonzero when this process leads and its lease is valid by our clock. A
 * pure question: it never steps down (sch_election_fence does). */
static inline int sch_leading(const struct sch *s)
{
	return s->phase != SCH_PH_STANDBY && sch_lease_may_act(&s->lease, hc_mono_us());
}

/* ---- sched.c / main ---- */
int sch_init(struct sch *s, struct hc_err *err);
void sch_fini(struct sch *s);

#endif
