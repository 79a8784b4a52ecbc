/* scheduler/pool.h — the container pools and the allocation algorithm.
 *
 * Pure logic: the pool never does I/O. It is driven by calls (an allocation
 * arrived, an agent answered, a host appeared or vanished, time passed) and
 * answers with decisions through struct sch_pool_ops (create this container
 * on host H, destroy that one, reply to that allocation, ownership changed),
 * which the I/O layer (wired in scheduler/daemon.c: agents.c, api.c,
 * persist.c, controllers.c) executes and later reports back
 * (sch_pool_created, sch_pool_destroyed...). Time comes from ops->now_ms,
 * so tests run it with a fake clock and fake hosts. The implementation is
 * split by responsibility over pool.c, poolalloc.c, poolhost.c and
 * poolevent.c (pool_int.h).
 *
 * Container states (the scheduler's view; the agent's is in desc.state):
 *
 *   CREATING --created--> BUSY (handed to a waiting allocation)
 *      |                  PREWARM (a stem cell, or nobody waited any more)
 *      +--create failed--> (gone)
 *   PREWARM --allocate (step 3)--> BUSY
 *   BUSY --release--> FREE --allocate (step 2) / busy--> BUSY
 *   FREE --keep-alive expired / evicted--> DESTROYING --destroyed--> (gone)
 *   any --discard / host lost--> DESTROYING / (gone)
 *
 * Allocation, in order (issue 6): (1) prewarm stem cells are kept per host
 * (refilled whenever one is taken, a host appears, or on tick); (2) a free
 * warm container of the action (same namespace, name, version and digest):
 * the caller's own first, then one nobody owns (it becomes the caller's),
 * then another live controller's (reply names that owner and its url, so
 * the caller forwards; the container stays free); (3) a prewarm of the same
 * kind and memory: it becomes the caller's, init=true, and the host's stem
 * cells are refilled; (4) create on the non-draining host with the most free
 * memory; (5) evict the least recently used free container on a host where
 * that makes room, and create there once it is destroyed; (6) reject (429
 * with retry_after_ms).
 *
 * Waiting rule for (4)/(5): a missed allocation joins its action's FIFO wait
 * list (bounded per action and in total; past its wait_ms it is rejected).
 * The pool keeps ceil(waiters / concurrency) containers of that action being
 * created, at most max_creating_per_action at once. Whichever container of
 * the action becomes ready first serves the oldest waiter, and also up to
 * concurrency-1 more waiters of the same controller (one container serves
 * `concurrency` activations of its owner). A container of the action that is
 * released while others wait goes to the oldest waiter at once. So a burst
 * of N allocations for a cold action starts min(N/concurrency, cap) creates,
 * not N, and nobody waits longer than the first container that fits.
 *
 * Memory: host->used_mb counts every container the pool holds on the host
 * in every state (a destroying one until the agent confirms), except that an
 * evicted container's memory is handed at once to the container created in
 * its place. used_mb never exceeds capacity_mb through the pool's own
 * decisions, and never goes negative. */
#ifndef SCH_POOL_H
#define SCH_POOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "proto/container.h"
#include "proto/scheduler.h"
#include "scheduler/keepalive.h"

enum sch_cstate {
	SCH_C_CREATING = 0,
	SCH_C_PREWARM,
	SCH_C_FREE,
	SCH_C_BUSY,
	SCH_C_DESTROYING,
	SCH_C__N
};
const char *sch_cstate_name(enum sch_cstate s);

struct sch_action;
struct sch_host;

struct sch_container {
	uint64_t seq;		  /* pool-local handle (never 0), valid from creation */
	struct pr_container desc; /* desc.id is "" while creating; labels are the pool's view */
	enum sch_cstate state;
	struct sch_host *host;
	struct sch_action *action; /* NULL for stem cells and destroying ones */
	int prewarm_target;	   /* index of the prewarm target it counts for, or -1 */
	int mem_handed_over;	   /* evicted: memory already given to successor */
	uint64_t successor;	   /* evicted: seq of the container created in its place */
	uint64_t after_destroy;	   /* created in place of this seq: create once it is gone */
	int via_eviction;	   /* created in place of an evicted container */
	uint64_t last_used_ms;
	TAILQ_ENTRY(sch_container) host_link; /* every container of the host */
	TAILQ_ENTRY(sch_container) all_link;  /* every container of the pool */
	TAILQ_ENTRY(sch_container) lru_link;  /* FREE only: global LRU, head = oldest */
	TAILQ_ENTRY(sch_container) set_link;  /* FREE: action's free list; PREWARM: its set */
};
TAILQ_HEAD(sch_container_list, sch_container);

struct sch_host {
	char id[PR_OWNER_MAX];
	char url[PR_URL_MAX];
	int capacity_mb;
	int used_mb;
	int draining;
	uint64_t backoff_until_ms; /* no creates before this (a create failed) */
	int ncontainers;
	int *prewarm_have; /* per prewarm target: stem cells present or being created */
	struct sch_container_list containers;
	TAILQ_ENTRY(sch_host) link;
};

struct sch_prewarm_target {
	char kind[PR_KIND_MAX];
	int memory_mb;
	int count; /* per host */
};

/* Parse "nodejs:20:256:2,python:3:256:1" (kind:memoryMB:count, kind may
 * contain ':'). Fills a malloc'd array (*out, *n; caller frees). "" gives none.
 * Returns 0 or -1 with err. */
int sch_prewarm_parse(const char *spec, struct sch_prewarm_target **out, int *n,
		      struct hc_err *err);

enum sch_outcome {
	SCH_OUT_WARM = 0, /* a free warm container of the caller (or nobody's) */
	SCH_OUT_FORWARD,  /* a free warm container of another controller */
	SCH_OUT_PREWARM,  /* a stem cell, init=true */
	SCH_OUT_CREATED,  /* created for it, init=true */
	SCH_OUT_EVICTED,  /* created after evicting a LRU free container */
	SCH_OUT_REJECTED, /* 429 */
	SCH_OUT_ABORTED,  /* the pool went away (step-down, shutdown): 503 */
	SCH_OUT__N
};
const char *sch_outcome_name(enum sch_outcome o);

struct sch_alloc_result {
	enum sch_outcome outcome;
	struct pr_alloc_reply reply; /* WARM .. EVICTED */
	int64_t retry_after_ms;	     /* REJECTED */
	const char *error;	     /* REJECTED, ABORTED: a static message */
};

/* What the controller_url op knows of a container's owner. */
enum sch_owner_lookup {
	SCH_OWNER_GONE = -1,   /* gone: its free containers are nobody's */
	SCH_OWNER_UNKNOWN = 0, /* not known yet: it may be alive, take nothing from it */
	SCH_OWNER_KNOWN = 1,   /* alive: callers forward to its url */
};

/* Decisions. All are called on the pool's thread, from inside pool calls;
 * they must not call back into the pool (queue work instead). */
struct sch_pool_ops {
	uint64_t (*now_ms)(void *arg);
	/* Create c on c->host (kind, memory and labels in c->desc). Answer later
	 * with sch_pool_created() or sch_pool_create_failed() for c->seq. */
	void (*create)(void *arg, const struct sch_container *c);
	/* Destroy c (c->desc.id on c->host). Answer with sch_pool_destroyed(). */
	void (*destroy)(void *arg, const struct sch_container *c);
	/* Answer allocation `cookie` (exactly once per sch_pool_allocate). */
	void (*reply)(void *arg, void *cookie, const struct sch_alloc_result *res);
	/* c's owner was set or changed (persist; write-behind). May be NULL. */
	void (*owner_changed)(void *arg, const struct sch_container *c);
	/* c (with an id) left service: forget its owner, tell controllers. May be NULL. */
	void (*gone)(void *arg, const struct sch_container *c, const char *why);
	/* A controller's url: an enum sch_owner_lookup (KNOWN: url filled). */
	int (*controller_url)(void *arg, const char *controller, char *url, size_t len);
};

struct sch_pool_config {
	const struct sch_prewarm_target *prewarm; /* copied */
	int nprewarm;
	struct sch_keepalive_policy *keepalive; /* not owned; NULL = keep forever */
	int max_waiters_per_action;		/* 0 = 64 */
	int max_waiters;			/* 0 = 4096 */
	int max_creating_per_action;		/* 0 = 8 */
	int64_t retry_after_ms;			/* 0 = 500 */
	int64_t create_backoff_ms;		/* 0 = 1000 */
};

struct sch_pool;

/* NULL on ENOMEM. */
struct sch_pool *sch_pool_new(const struct sch_pool_config *cfg, const struct sch_pool_ops *ops,
			      void *arg);
/* Answer every waiting allocation with ABORTED and free everything (no
 * destroy decisions: the containers stay on their hosts for the next leader). */
void sch_pool_free(struct sch_pool *p);

/* Add or update a host. A new host (or one that stopped draining) gets its
 * prewarm stem cells. A draining host gets no new container and hands out
 * neither its free containers nor its stem cells; sch_pool_tick destroys
 * those ("host drained"), busy ones go once released and idle.
 * Returns 0, -1 on ENOMEM or a bad capacity. */
int sch_pool_host_set(struct sch_pool *p, const char *id, const char *url, int capacity_mb,
		      int draining);
/* The host is gone with its containers (ops->gone for each); allocations
 * waiting on creates there are placed again. */
void sch_pool_host_remove(struct sch_pool *p, const char *id);
struct sch_host *sch_pool_host(const struct sch_pool *p, const char *id);

/* Failover rebuild: a container an agent reported, with its owner from Redis
 * ("" = none). A suspended container of an action with an owner becomes FREE,
 * a running one BUSY; a stem cell becomes PREWARM; anything else (nobody's,
 * dead, half created) is destroyed. Unknown host or duplicate: ignored.
 * Returns the state it took (SCH_C__N when ignored). */
enum sch_cstate sch_pool_restore(struct sch_pool *p, const char *host_id,
				 const struct pr_container *desc, const char *owner);

/* Allocate for req; cookie is handed back in ops->reply. Returns 0 when the
 * reply was given during the call, 1 when it will come later. */
int sch_pool_allocate(struct sch_pool *p, const struct pr_alloc_req *req, void *cookie);

enum sch_ref_result { SCH_REF_OK = 0, SCH_REF_UNKNOWN, SCH_REF_NOT_OWNER, SCH_REF_BAD_STATE };
/* Controller traffic: free (suspended), busy (resumed), discard (destroy). */
enum sch_ref_result sch_pool_release(struct sch_pool *p, const char *id, const char *controller);
enum sch_ref_result sch_pool_busy(struct sch_pool *p, const char *id, const char *controller);
enum sch_ref_result sch_pool_discard(struct sch_pool *p, const char *id, const char *controller);

/* The agent reported the container's process dead: destroy it (its owner
 * finds out through the "destroyed" event). Returns 0, -1 when unknown. */
int sch_pool_dead(struct sch_pool *p, const char *id);

/* Agent answers. created returns -1 when seq is unknown (the host was lost
 * meanwhile): the caller should destroy that container itself. */
int sch_pool_created(struct sch_pool *p, uint64_t seq, const struct pr_container *desc);
void sch_pool_create_failed(struct sch_pool *p, uint64_t seq, const char *why);
void sch_pool_destroyed(struct sch_pool *p, uint64_t seq);

/* Periodic work: expire waiting allocations, reap idle free containers,
 * refill prewarm, retry placement of waiters. */
void sch_pool_tick(struct sch_pool *p);

/* A controller is gone: its free containers become nobody's (reusable by
 * anyone), its busy ones are destroyed, its waiting allocations rejected. */
void sch_pool_owner_gone(struct sch_pool *p, const char *controller);

/* Lookups (tests, the API). */
const struct sch_container *sch_pool_find(const struct sch_pool *p, const char *id);
const struct sch_container *sch_pool_find_seq(const struct sch_pool *p, uint64_t seq);

struct sch_pool_stats {
	int count[SCH_C__N]; /* containers by state */
	int waiters;
	int hosts;
	int64_t used_mb, capacity_mb;
	uint64_t outcomes[SCH_OUT__N]; /* allocations answered, by outcome */
	uint64_t reaped, evicted;
};
void sch_pool_stats(const struct sch_pool *p, struct sch_pool_stats *st);

/* Call fn for every host (fn must not change the pool). */
void sch_pool_each_host(const struct sch_pool *p, void (*fn)(const struct sch_host *h, void *arg),
			void *arg);

/* Call fn for every container with an id (to persist a full view). */
void sch_pool_each(const struct sch_pool *p, void (*fn)(const struct sch_container *c, void *arg),
		   void *arg);

#endif
