/* controller/ctl.h — the controller's base: its settings, its process-wide
 * state and the per-loop (per-thread) state every module keeps a part of.
 *
 * Layers, each calling only the ones below it (upward news travels through
 * hook structs that server.c wires, never through includes):
 *
 *   server.c                      wiring: routes, loops, pub/sub
 *   auth, actions, activations,   the REST handlers (api.h)
 *   invoke, internal, meta, info,
 *   packages
 *   sequence.c, conductor.c       compositions of activations
 *   activation.c, finish.c        one activation: dispatch, run, end
 *   container.c                   the container state machine (sole writer)
 *   call, schedcli, agentcli,     clients: every failure is delivered on a
 *   rtcli, fwdcli, records,       later loop turn, never from inside the
 *   store, limits, xloop          call that started it
 *   pool.c, cache.c, kinds.c,     pure bookkeeping and types
 *   entitle.c,
 *   this file
 *
 * Threads: hc_server runs N event loops; each has its own struct ctl_loop.
 * What loops share is immutable (config, cached snapshots in cache.h) or
 * behind a short lock (the caches' maps, the leader URL in schedcli.c). */
#ifndef CTL_CTL_H
#define CTL_CTL_H

#include <pthread.h>
#include <stdint.h>
#include <sys/time.h>

#include "common/config.h"
#include "common/http.h"
#include "common/redis.h"
#include "proto/action.h"

struct hc_counter;
struct hc_hist;
struct ctl_cache;
struct ctl_pool;
struct ctl_calls;
struct ctl_sched_loop;
struct ctl_auth_memo;
struct ctl_records;
struct ctl_entity_loop;
struct ctl_limits_loop;
struct ctl_trig_loop;
struct ctl_ctr_hooks;
struct ctl_alloc_hooks;
struct ctl_comp_hooks;
struct ctl_pkg_loop;

struct ctl_config {
	char *id;
	char *addr;
	int64_t port;
	int64_t threads;
	char *url; /* how other controllers reach this one; "" = http://addr:port */
	char *redis;
	char *token;
	char *scheduler; /* comma-separated fallback scheduler URLs */
	int64_t pause_grace_ms;
	int local_socket; /* reach containers on this host by their local socket */
	int64_t drain_ms;
	int64_t activation_ttl_ms;
	int64_t blocking_wait_ms;
	int64_t queue_max;
	int64_t heartbeat_ms;
	char *api_host;
	int64_t timeout_min, timeout_max, memory_min, memory_max, logs_max, concurrency_max;
	char *guest; /* "uuid:key" installed for namespace guest at start, "" = none */
	char *kinds; /* "auto" or a list (controller/kinds.h) */
	/* namespace limits' defaults (controller/limits.h) */
	int64_t ns_invokes_per_minute, ns_concurrent, ns_fires_per_minute;
	int64_t quota_actions, quota_code, quota_logs; /* count, bytes, bytes a day */
	int64_t alarm_minute_ms; /* an interval alarm's minute (tests shorten it) */
};

/* How an activation found its container (metrics). */
enum ctl_start {
	CTL_START_WARM = 0, /* a warm container, resumed or not */
	CTL_START_PREWARM,  /* a stem cell, initialised for it */
	CTL_START_CREATED,  /* a container created for it */
	CTL_START__N,
};

struct ctl_metrics {
	struct hc_counter *invokes[4]; /* by status code (PR_ST_*) */
	struct hc_counter *invokes_rejected;
	struct hc_counter *starts[CTL_START__N];
	struct hc_counter *sched_calls;
	struct hc_counter *sched_errors;
	struct hc_counter *forwards;
	struct hc_counter *resent;	   /* dispatched again: a container refused it */
	struct hc_counter *forwards_in[2]; /* received: on the owner loop, handed across */
	struct hc_hist *latency;
};

struct ctl {
	struct ctl_config cfg;
	struct pr_limit_bounds bounds;
	struct hc_server *server;
	struct ctl_cache *keys;	   /* uuid -> struct ctl_key */
	struct ctl_cache *actions; /* "ns/name" -> struct ctl_action */
	struct ctl_metrics m;
	char url[128];
	char bearer[320]; /* "Authorization: Bearer <token>" */
	/* the scheduler leader (schedcli.c) */
	pthread_mutex_t leader_mu;
	char leader_url[128]; /* "" = unknown */
	/* upward notifications, wired by server.c */
	const struct ctl_ctr_hooks *ctr_hooks;
	const struct ctl_alloc_hooks *alloc_hooks;
	const struct ctl_comp_hooks *comp_hooks; /* compositions: conductors (sequence.h) */
};

struct ctl_loop {
	struct ctl *ctl;
	struct hc_loop *loop;
	struct hc_redis *redis;
	struct hc_redis *sub; /* loop 0 only: pub/sub */
	int stopping;	      /* shutting down: no new calls */
	int draining;	      /* stopping after a drain: idle containers go now */
	/* each module's part, created by its ctl_*_loop_init */
	struct ctl_calls *calls;	/* call.c: HTTP clients, deferred failures */
	struct ctl_sched_loop *sched;	/* schedcli.c: allocations and refs in flight */
	struct ctl_pool *pool;		/* containers (container.c) and queues (activation.c) */
	struct ctl_auth_memo *auth;	/* auth.c: credentials verified lately */
	struct ctl_records *records;	/* records.c: what was announced lately */
	struct ctl_entity_loop *entity; /* entity.c: its write scripts */
	struct ctl_limits_loop *limits; /* limits.c: namespaces' counters */
	struct ctl_pkg_loop *pkg;	/* packages.c: its delete script */
	struct ctl_trig_loop *trig;	/* trigstore.c: trigger, rule and alarm scripts */
	/* the entity and record scripts (hc_redis_eval caches their SHA) */
	struct hc_redis_script put_script, del_script, records_script, index_script;
	/* the default blocking wait and the pause grace as libevent common
	 * timeouts: every blocking invoke arms the one, every run that leaves
	 * a container idle the other, and a queue costs less than the heap */
	const struct timeval *wait_tv, *grace_tv;
};

/* The loop state of the thread handling req. */
static inline struct ctl_loop *ctl_loop_of(const struct hc_req *req)
{
	return (struct ctl_loop *)hc_req_loop(req)->data;
}

/* Owner id of loop i towards the scheduler: "<controller id>" with one
 * loop, "<controller id>.<i>" with several. */
void ctl_owner_id(const struct ctl *c, int loop, char *out, size_t outlen);
/* This loop's owner id. */
void ctl_my_owner(const struct ctl_loop *L, char *out, size_t n);

/* ---- config.c ---- */
extern const struct hc_config_spec ctl_config_spec;
/* Derive bounds and url after loading. Returns 0 or -1 with err. */
int ctl_config_finish(struct ctl *c, struct hc_err *err);

/* ---- server.c ---- */
/* Create caches, metrics, the server and its routes. */
int ctl_init(struct ctl *c, struct hc_err *err);
void ctl_fini(struct ctl *c);

#endif
