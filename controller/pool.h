/* controller/pool.h — the local container list and the overflow queues.
 *
 * Each event loop owns its own pool (no locks on the hot path): the warm
 * containers it holds, per action revision, each with its in-flight count
 * up to the action's concurrency, and one bounded FIFO per action of
 * activations waiting for a container. Towards the scheduler each loop is
 * an owner of its own (ctl_owner_id: "<controller id>" with one loop,
 * "<controller id>.<n>" with several), so a container is only ever used by
 * the loop that holds it.
 *
 * This file is the bookkeeping only: no I/O, no timers, unit-tested.
 * container.c is the only writer of a container's state once it is added
 * (ctl_pool_add sets the first one); activation.c owns the queues. The
 * queue entries are struct ctl_waiter links embedded first in each
 * activation (controller/activation.h). */
#ifndef CTL_POOL_H
#define CTL_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "proto/action.h"
#include "proto/container.h"

/* A container's life as the controller sees it. */
enum ctl_cstate {
	CTL_CS_INIT = 0,   /* allocated; /init (or resume of a warm one) in progress */
	CTL_CS_READY,	   /* resumed and initialised: takes /run */
	CTL_CS_SUSPENDING, /* agent suspend in progress */
	CTL_CS_SUSPENDED,  /* frozen, released to the scheduler; still ours */
	CTL_CS_RESUMING,   /* agent resume in progress */
	CTL_CS_DEAD,	   /* failed; being discarded */
};
const char *ctl_cstate_name(enum ctl_cstate s);

#define CTL_AKEY_MAX (3 * PR_NAME_MAX + 48) /* "ns/pkg/name@version" */

struct event;

struct ctl_ctr {
	struct ctl_ctr *next;
	struct pr_container d;
	char akey[CTL_AKEY_MAX]; /* "ns/name@revision" (or "ns/pkg/name@...") it runs */
	enum ctl_cstate st;	 /* written by container.c only */
	int inflight;		 /* /run calls in progress */
	int maxc;		 /* the action's concurrency limit */
	uint64_t last_used_us;
	struct event *grace; /* pause-grace timer (container.c) */
	void *owner_loop;    /* struct ctl_loop * */
	int calls;	     /* agent calls about it in flight (container.c) */
	signed char local;   /* its address is this host's: 1, is not: -1, not asked: 0 */
};

struct ctl_waiter {
	struct ctl_waiter *next;
};

struct ctl_queue {
	struct ctl_queue *next;
	struct ctl_waiter *head, *tail;
	int len;
	int allocating; /* /allocate exchanges in flight for this action */
	char akey[CTL_AKEY_MAX];
};

struct ctl_pool {
	struct ctl_ctr *ctrs;
	struct ctl_queue *queues;
	int nctrs;
	int nqueued;
};

/* "ns/name@revision" into out: what a container runs. The revision
 * changes with every write of the action, so a container initialised with
 * an older document (or a deleted action's) is never matched. */
void ctl_akey(char *out, size_t outlen, const char *ns, const char *name, const char *revision);

/* The best container for akey: a READY one with a free slot (the busiest
 * such, so the others can go idle and be suspended), else a SUSPENDED one
 * (the caller resumes it), else NULL. Does not change it. */
struct ctl_ctr *ctl_pool_pick(struct ctl_pool *p, const char *akey);

/* Containers of akey that will have a free slot soon (INIT or RESUMING),
 * counted in slots (maxc - inflight each). */
int ctl_pool_coming(struct ctl_pool *p, const char *akey);

/* Add a container (copied descriptor). NULL on ENOMEM. */
struct ctl_ctr *ctl_pool_add(struct ctl_pool *p, const struct pr_container *d, const char *akey,
			     int maxc, enum ctl_cstate st);
struct ctl_ctr *ctl_pool_find_id(struct ctl_pool *p, const char *id);
/* Unlink and free (the caller has stopped its timer). */
void ctl_pool_remove(struct ctl_pool *p, struct ctl_ctr *c);

/* Queue w behind akey's waiters. Returns 0, or -1 when max are waiting
 * (or ENOMEM). */
int ctl_queue_push(struct ctl_pool *p, const char *akey, struct ctl_waiter *w, int max);
/* The first waiter of akey, removed; NULL when none. */
struct ctl_waiter *ctl_queue_pop(struct ctl_pool *p, const char *akey);
/* Remove w wherever it is (deadline passed). Returns 1 when it was queued. */
int ctl_queue_remove(struct ctl_pool *p, const char *akey, struct ctl_waiter *w);
int ctl_queue_len(struct ctl_pool *p, const char *akey);
/* akey's queue (created empty when create != 0); NULL when absent / ENOMEM. */
struct ctl_queue *ctl_queue_get(struct ctl_pool *p, const char *akey, int create);
/* Free empty queues with no allocation in flight. */
void ctl_queue_gc(struct ctl_pool *p);

/* Free everything (containers and queues; waiters are not owned). */
void ctl_pool_clear(struct ctl_pool *p);

/* Totals over every loop's pool (for /healthz and /metrics). */
long ctl_pool_total_containers(void);
long ctl_pool_total_queued(void);

#endif
