/* scheduler/election.h — standing for leader: the lease on Redis.
 *
 * The election reports a win and a loss through hooks (the daemon's), so it
 * never calls what sits above it. Every loss after a win is reported once,
 * whatever its cause: the lease lost or lapsed, or a resignation asked for
 * by anyone (an agent refused our epoch, shutdown, out of memory). */
#ifndef SCH_ELECTION_H
#define SCH_ELECTION_H

#include "scheduler/sched.h"

struct sch_election_hooks {
	/* Won: s->lease.epoch is ours, s->leader_url our own url. */
	void (*on_won)(struct sch *s);
	/* No longer leader (why: a static message): stop acting at once. */
	void (*on_lost)(struct sch *s, const char *why);
};

/* Start the lease machine on s->base (after s->redis exists). hooks must
 * outlive the election. 0 or -1 (out of memory). */
int sch_election_start(struct sch *s, const struct sch_election_hooks *hooks);
/* Free the timers (after the Redis clients: their last callbacks may arm them). */
void sch_election_free(struct sch *s);

/* The fencing check, for the top of every event that may act as leader:
 * nonzero when we lead and the lease is valid by our clock; when it has
 * lapsed, steps down (on_lost) first and returns 0. Never from inside pool
 * ops (a step-down frees the pool). */
int sch_election_fence(struct sch *s);

/* Give the lease up now and report the loss (top level only). */
void sch_election_resign(struct sch *s, const char *why);
/* The same on the next loop pass (safe from inside pool ops). */
void sch_election_resign_soon(struct sch *s);

#endif
