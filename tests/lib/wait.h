/* wait.h — waiting in tests: sleep, retry until a deadline, run an event
 * loop until a condition holds.
 *
 * Every wait here is bounded by the caller's timeout, which stays the
 * test's own bound. A wait tries at least once and once more at or after
 * the deadline, so something that becomes true just as time runs out is
 * not reported as a failure, and nothing waits past the deadline by more
 * than one step (plus the time a try takes). Whether the thing happened
 * is for the test to assert afterwards, with the message it wants.
 * Linked into unit and integration tests. */
#ifndef TH_WAIT_H
#define TH_WAIT_H

struct event_base;

/* A condition: nonzero when it holds. */
typedef int (*th_cond_fn)(void *arg);

/* Sleep ms milliseconds (the whole time, even across signals). */
void th_sleep_ms(long ms);

/* Milliseconds on the monotonic clock. */
long long th_now_ms(void);

/* One retry loop; use it through TH_RETRY or TH_RETRY_LOOP. */
struct th_retry {
	struct event_base *base; /* run between tries, or NULL to sleep */
	long long deadline_ms;	 /* on th_now_ms()'s clock */
	long step_ms;
	int tried;
};

struct th_retry th_retry_begin(struct event_base *base, long timeout_ms, long step_ms);
/* 1 at once for the first try; later, 0 once the deadline has passed,
 * else 1 after waiting step_ms (or until the deadline, if sooner). */
int th_retry_next(struct th_retry *r);

/* Run the block until it breaks out or timeout_ms passes, sleeping step_ms
 * between tries:
 *
 *	TH_RETRY(2000, 20) {
 *		if (count_listed(&a) == 0)
 *			break;
 *	}
 *	assert_int_equal(count_listed(&a), 0);
 *
 * `continue` goes on to the next try; retries nest (one per line). */
#define TH_RETRY(timeout_ms, step_ms) TH_RETRY_LOOP(NULL, timeout_ms, step_ms)

/* The same, running base for step_ms between tries instead of sleeping
 * (for a condition that needs the loop to make progress). */
#define TH_RETRY_LOOP(base, timeout_ms, step_ms)                                                   \
	for (struct th_retry TH_RETRY_VAR_ = th_retry_begin((base), (timeout_ms), (step_ms));      \
	     th_retry_next(&TH_RETRY_VAR_);)

#define TH_RETRY_VAR_	     TH_RETRY_CAT_(th_retry_, __LINE__)
#define TH_RETRY_CAT_(a, b)  TH_RETRY_CAT2_(a, b)
#define TH_RETRY_CAT2_(a, b) a##b

/* Call cond(arg) every step_ms until it holds or timeout_ms passes.
 * Returns 1 if it held, 0 if it still did not at the deadline. */
int th_poll(th_cond_fn cond, void *arg, long timeout_ms, long step_ms);

/* Run base until cond(arg) holds or timeout_ms passes, checking cond before
 * the loop first runs and then every 2 ms. Returns 1 if it held, else 0.
 * Callbacks that break the loop (event_base_loopbreak) do not end the wait
 * early. Must not be called from one of base's callbacks. */
int th_run_until(struct event_base *base, th_cond_fn cond, void *arg, long timeout_ms);

/* Run base for ms milliseconds, whatever happens in it. */
void th_run_for(struct event_base *base, long ms);

/* Conditions for the above: never holds; holds when the int at arg is
 * nonzero. */
int th_never(void *arg);
int th_flag_set(void *arg);

/* Holds when *n >= want (a counter reaching a number). */
struct th_at_least {
	const int *n;
	int want;
};
int th_reached(void *arg);

#endif
