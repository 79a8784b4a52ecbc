/* controller/ctl.h — the controller's shared state: configuration, the
 * process-wide caches and container table, and the per-loop (per-thread)
 * clients.
 *
 * Threads: hc_server runs N event loops. Each loop has its own HTTP client
 * and Redis connection (struct ctl_loop, created in ctl_loop_init). What all
 * loops share is either immutable (config, cached entries: refcounted
 * snapshots) or behind a short mutex (the caches' maps, the container
 * table in pool.h). */
#ifndef CTL_CTL_H
#define CTL_CTL_H

#include <pthread.h>
#include <stdint.h>
#include <sys/time.h>

#include "common/config.h"
#include "common/http.h"
#include "common/redis.h"
#include "proto/action.h"

struct hc_client;
struct hc_redis;
struct hc_counter;
struct hc_hist;
struct ctl_cache;
struct ctl_pool;
struct ctl_alloc;

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
};

struct ctl_metrics {
	struct hc_counter *invokes[4]; /* by status code */
	struct hc_counter *invokes_rejected;
	struct hc_counter *cold[3]; /* warm, prewarm, created */
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
	pthread_mutex_t leader_mu;
	char leader_url[128]; /* scheduler leader, "" = unknown */
	char bearer[320];     /* "Authorization: Bearer <token>" */
};

struct ctl_loop {
	struct ctl *ctl;
	struct hc_loop *loop;
	struct hc_client *client;
	struct hc_redis *redis;
	struct hc_redis *sub; /* loop 0 only: pub/sub for cache invalidation */
	struct event *heartbeat;
	struct ctl_pool *pool;	  /* this loop's containers and queues (pool.h) */
	struct ctl_alloc *allocs; /* scheduler allocations in flight (alloc.c) */
	int stopping;
	int draining;	  /* stopping after a drain: idle containers go now */
	int refs_inflight; /* /release, /busy, /discard calls not answered yet */
	/* per loop: hc_redis_eval caches the SHA inside the script struct */
	struct hc_redis_script put_script, del_script, records_script, index_script;
	struct ctl_seen *seen; /* what rectext.c announced lately */
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

/* ---- config.c ---- */
extern const struct hc_config_spec ctl_config_spec;
/* Derive bounds and url after loading. Returns 0 or -1 with err. */
int ctl_config_finish(struct ctl *c, struct hc_err *err);

/* ---- server.c ---- */
/* Create caches, pool, metrics, the server and its routes. */
int ctl_init(struct ctl *c, struct hc_err *err);
void ctl_fini(struct ctl *c);
int ctl_loop_init(struct hc_loop *loop, void *arg);
int ctl_loop_fini(struct hc_loop *loop, void *arg);
/* The drain before a stop (hc_server_opts): idle containers are suspended
 * and released now; busy while anything of this loop is still under way. */
int ctl_loop_drain(struct hc_loop *loop, void *arg);
int ctl_loop_busy(struct hc_loop *loop, void *arg);

/* The scheduler leader's base URL into out ("" when unknown). */
void ctl_leader_get(struct ctl *c, char *out, size_t outlen);
void ctl_leader_set(struct ctl *c, const char *url);

#endif
