/* scheduler/persist.h — what the leader writes to Redis for others to read:
 * container ownership (PR_KEY_OWNERS, PR_KEY_ASSIGNED, PR_KEY_WARM), and the
 * container and host events controllers follow (PR_CH_CONTAINERS,
 * PR_CH_HOSTS).
 *
 * Writes are fire and forget on s->redis, written behind the answers that
 * caused them; an answer that hands a container over waits for Redis to
 * hold them (sch_persist_wait), so a leader stopped right after answering
 * never leaves a busy container without its owner in Redis. */
#ifndef SCH_PERSIST_H
#define SCH_PERSIST_H

#include "scheduler/sched.h"

/* c's owner was set or changed ("" = none any more): write it behind. */
void sch_persist_owner(struct sch *s, const struct sch_container *c);
/* c (with an id) left service: forget its owner, publish "destroyed". */
void sch_persist_gone(struct sch *s, const struct sch_container *c, const char *why);
/* A host "joined" or was "lost". */
void sch_persist_host_event(struct sch *s, const char *event, const char *host_id);
/* Forget what the rebuild read for a container that no longer exists. */
void sch_persist_drop_owner(struct sch *s, const char *container_id);
void sch_persist_drop_assignment(struct sch *s, const char *container_id);

/* A wait for the ownership writes sent so far; embed it in what waits. */
struct sch_persist_wait {
	struct sch *s;
	uint64_t upto;
	void (*done)(struct sch_persist_wait *w);
};

/* Nonzero when some ownership write sent is not known stored. */
int sch_persist_pending(const struct sch *s);

/* Call done(w) once Redis has processed every ownership write sent so far
 * (a PING behind them on the same connection); it is called too, as if
 * stored, when Redis does not answer. 0 when done will be called; -1 when
 * the wait could not start (answer at once). What a PING cannot tell: a
 * write Redis refused (out of memory, read-only), or one lost with the
 * connection before it; both leave the owner to the next rebuild's reading
 * of the agents. */
int sch_persist_wait(struct sch *s, struct sch_persist_wait *w,
		     void (*done)(struct sch_persist_wait *w));

#endif
