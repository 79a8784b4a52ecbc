/* scheduler/daemon.h — the scheduler's phase and its top-level events.
 *
 * The daemon module is the only writer of s->phase (through one checked
 * setter) and of s->generation: it hears of a win and a loss from the
 * election and of a finished rebuild through hooks, owns the pool of each
 * term (and the ops that connect it to agents, Redis and the API), and
 * runs the timers and pub/sub messages, each fencing first. */
#ifndef SCH_DAEMON_H
#define SCH_DAEMON_H

#include "scheduler/sched.h"

/* On the loop, once s->client, s->redis and s->sub exist: subscribe, arm
 * the timers, stand for election. 0 or -1. */
int sch_daemon_start(struct sch *s);

/* Step down ("shutting down") and make every later callback only clean up.
 * Then free the clients, then call sch_daemon_free (their last callbacks
 * may still touch the timers). */
void sch_daemon_stop(struct sch *s);
void sch_daemon_free(struct sch *s);

#endif
