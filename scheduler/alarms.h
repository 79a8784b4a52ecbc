/* scheduler/alarms.h — the leader fires the built-in alarms feed's periods
 * (proto/alarm.h), each exactly once across failovers.
 *
 * Controllers store an alarm (its spec in PR_KEY_ALARM, its next period as
 * its score in PR_KEY_ALARMS). While this scheduler leads, a timer set to
 * the earliest score (at most alarm-tick away) claims every due period
 * and hands it to a controller (POST /internal/fire, cluster token), which
 * fires the trigger.
 *
 * Why each period fires exactly once:
 *  - A claim is one Lua script: it moves the alarm's score from the period
 *    P to the next one only if the score is still P, the spec's revision is
 *    the one the next period was computed from, and PR_KEY_EPOCH is still
 *    the claimer's epoch. Redis runs scripts one at a time, so P is claimed
 *    at most once, and only by the leader of the current term: a deposed
 *    leader (its epoch superseded by the winner's INCR) claims nothing,
 *    however stale its clock or its view.
 *  - The same script adds "alarm|P" to PR_KEY_ALARMS_PENDING. It leaves
 *    that set only once a controller has answered the fire for good
 *    (fired, nothing to fire, duplicate, or trigger gone). A leader that
 *    dies between claim and answer leaves it there; whoever leads next
 *    sends it again after alarm-resend. So every claimed period reaches a
 *    controller at least once.
 *  - A controller marks "alarm:P" with SET NX before it fires; a second
 *    delivery finds the mark and fires nothing. At least once + at most
 *    once = once.
 *  - Periods that came due while no one led (the failover gap) are still
 *    in the zset and are claimed late, one by one, in order; only those
 *    older than alarm-catchup are skipped (claimed without a fire, logged).
 *
 * Everything runs on the scheduler's loop. The module knows nothing of the
 * rest of the scheduler: it gets its clients and a fencing check in env,
 * and hears of a won or lost leadership through sch_alarms_won/_lost. */
#ifndef SCH_ALARMS_H
#define SCH_ALARMS_H

#include <stdint.h>

struct event_base;
struct hc_redis;
struct hc_client;
struct sch_alarms;

struct sch_alarms_env {
	struct event_base *base;
	struct hc_redis *redis;
	struct hc_client *client;
	const char *token;  /* the cluster token (NULL or "" = none) */
	int64_t tick_ms;    /* longest wait between two looks at the zset */
	int64_t resend_ms;  /* a claimed period unanswered this long is sent again */
	int64_t catchup_ms; /* periods older than this when claimed are skipped */
	/* nonzero while this process may act as leader (the clock fence) */
	int (*leading)(void *arg);
	void *arg;
};

/* NULL when out of memory. env is copied; its pointers must outlive a. */
struct sch_alarms *sch_alarms_new(const struct sch_alarms_env *env);
/* Leading from now on with epoch: start firing. */
void sch_alarms_won(struct sch_alarms *a, int64_t epoch);
/* Not leading any more: stop at once (what is in flight is dropped). */
void sch_alarms_lost(struct sch_alarms *a);
/* After the clients are freed (their last callbacks find a stale term). */
void sch_alarms_free(struct sch_alarms *a);

#endif
