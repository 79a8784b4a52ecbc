/* scheduler/pool_int.h — what the pool's files share (not a contract for
 * anyone else: pool.h is). The pool is pure logic split by responsibility:
 *
 *   pool.c        the tables and the container state machine: every change
 *                 of a container's state and lists goes through
 *                 sch_pl_link / sch_pl_unlink (sch_pl_move = both)
 *   poolalloc.c   the allocation algorithm and the waiting rule (pool.h)
 *   poolhost.c    hosts, their stem cells and draining; restoring what an
 *                 agent reported at a rebuild
 *   poolevent.c   what happens to containers: controller traffic, agent
 *                 answers, a controller gone, time passing (tick)
 */
#ifndef SCH_POOL_INT_H
#define SCH_POOL_INT_H

#include "scheduler/pool.h"

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
TAILQ_HEAD(sch_waiter_list, sch_waiter);

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
	struct sch_waiter_list waiters;
	int nwaiters;
	TAILQ_ENTRY(sch_action) wait_link; /* in pool->waiting while nwaiters > 0 */
};

/* Stem cells of one kind and memory. */
struct sch_pset {
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

/* ---- pool.c: tables and the state machine ---- */
uint64_t sch_pl_now(const struct sch_pool *p);
/* The stem cells of kind and memory (made when create, NULL on ENOMEM). */
struct sch_pset *sch_pl_pset(struct sch_pool *p, const char *kind, int memory_mb, int create);
/* Find or make the action; NULL on ENOMEM or a path that does not fit. */
struct sch_action *sch_pl_action(struct sch_pool *p, const char *ns, const char *name,
				 const char *version, const char *digest, const char *kind,
				 int memory_mb);
/* Take c out of the lists and counters of its state / put it into state s
 * (for action a where the state has one). See pool.c. */
void sch_pl_unlink(struct sch_pool *p, struct sch_container *c);
int sch_pl_link(struct sch_pool *p, struct sch_container *c, enum sch_cstate s,
		struct sch_action *a);
void sch_pl_move(struct sch_pool *p, struct sch_container *c, enum sch_cstate s,
		 struct sch_action *a);
/* c, linked nowhere (sch_pl_unlink), becomes a stem cell of its host
 * (counting for a prewarm target that wants one). -1 on ENOMEM: c is then
 * parked as CREATING and the caller destroys it. */
int sch_pl_stem_cell(struct sch_pool *p, struct sch_container *c);
/* A new container on h, accounted at once, in state CREATING; NULL on ENOMEM. */
struct sch_container *sch_pl_new_container(struct sch_pool *p, struct sch_host *h, const char *kind,
					   int memory_mb, struct sch_action *a, int prewarm_target);
/* Forget c entirely (destroy confirmed, create failed, host lost). */
void sch_pl_drop(struct sch_pool *p, struct sch_container *c);
/* Decide to destroy c (ops->gone, then ops->destroy); once per container. */
void sch_pl_destroy(struct sch_pool *p, struct sch_container *c, const char *why);
void sch_pl_set_owner(struct sch_pool *p, struct sch_container *c, const char *owner);
struct sch_container *sch_pl_find(const struct sch_pool *p, const char *id);
struct sch_container *sch_pl_find_seq(const struct sch_pool *p, uint64_t seq);

/* ---- poolalloc.c: allocation ---- */
int sch_pl_host_free_mb(const struct sch_host *h);
/* May h get a new container at time t (not draining, not backing off)? */
int sch_pl_host_usable(const struct sch_pool *p, const struct sch_host *h, uint64_t t);
void sch_pl_answer(struct sch_pool *p, void *cookie, struct sch_alloc_result *res);
void sch_pl_reject(struct sch_pool *p, void *cookie, const char *why);
/* Hand c (free, prewarm or just created) to controller: it becomes BUSY. */
void sch_pl_hand_out(struct sch_pool *p, struct sch_container *c, struct sch_action *a,
		     const char *controller);
void sch_pl_waiter_remove(struct sch_pool *p, struct sch_action *a, struct sch_waiter *w);
/* Keep enough creates going for a's waiters (the rule in pool.h). */
void sch_pl_place(struct sch_pool *p, struct sch_action *a);
/* c of action a is ready (created, or released free): serve waiters. */
void sch_pl_serve_waiters(struct sch_pool *p, struct sch_action *a, struct sch_container *c,
			  int created);
/* Waiters past their deadline are rejected; the rest may find a stem cell
 * or room now. */
void sch_pl_tick_waiters(struct sch_pool *p, uint64_t t);

/* ---- poolhost.c: hosts and stem cells ---- */
void sch_pl_refill_host(struct sch_pool *p, struct sch_host *h);
void sch_pl_refill_all(struct sch_pool *p);
void sch_pl_drain_hosts(struct sch_pool *p);

#endif
