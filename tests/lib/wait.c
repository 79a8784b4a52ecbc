/* wait.c — sleeping, retrying until a deadline and running an event loop
 * until a condition holds, for tests (see wait.h for the contract). */
#include "tests/lib/wait.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <event2/event.h>

#define TH_LOOP_TICK_MS 2

void th_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

long long th_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	*(int *)arg = 1;
}

/* Run base until a timer of ms fires; callbacks breaking the loop do not
 * end it sooner. A test cannot go on without its loop: failing here aborts. */
static void run_timer(struct event_base *base, long ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	int fired = 0;
	struct event *ev = evtimer_new(base, on_timer, &fired);

	if (!ev || evtimer_add(ev, &tv) != 0) {
		fprintf(stderr, "th wait: cannot add a timer to the event loop\n");
		abort();
	}
	while (!fired)
		if (event_base_loop(base, EVLOOP_ONCE) != 0) {
			fprintf(stderr, "th wait: the event loop failed\n");
			abort();
		}
	event_free(ev);
}

/* Run base for ms by th_now_ms()'s clock: libevent's own may be coarser
 * (CLOCK_MONOTONIC_COARSE) and fire a timer a few ms early. */
static void run_for(struct event_base *base, long ms)
{
	long long end = th_now_ms() + (ms > 0 ? ms : 0);
	long long left;

	run_timer(base, ms > 0 ? ms : 0);
	while ((left = end - th_now_ms()) > 0)
		run_timer(base, (long)left);
}

struct th_retry th_retry_begin(struct event_base *base, long timeout_ms, long step_ms)
{
	struct th_retry r = {.base = base, .step_ms = step_ms > 0 ? step_ms : 1};

	r.deadline_ms = th_now_ms() + timeout_ms;
	return r;
}

int th_retry_next(struct th_retry *r)
{
	long long left;
	long wait;

	if (!r->tried) {
		r->tried = 1;
		return 1;
	}
	left = r->deadline_ms - th_now_ms();
	if (left <= 0)
		return 0;
	/* The try after the last wait happens at or after the deadline. */
	wait = left < r->step_ms ? (long)left : r->step_ms;
	if (r->base)
		run_for(r->base, wait);
	else
		th_sleep_ms(wait);
	return 1;
}

int th_poll(th_cond_fn cond, void *arg, long timeout_ms, long step_ms)
{
	TH_RETRY(timeout_ms, step_ms) {
		if (cond(arg))
			return 1;
	}
	return 0;
}

int th_run_until(struct event_base *base, th_cond_fn cond, void *arg, long timeout_ms)
{
	TH_RETRY_LOOP(base, timeout_ms, TH_LOOP_TICK_MS) {
		if (cond(arg))
			return 1;
	}
	return 0;
}

void th_run_for(struct event_base *base, long ms)
{
	run_for(base, ms);
}

int th_never(void *arg)
{
	return 0;
}

int th_flag_set(void *arg)
{
	return *(const int *)arg != 0;
}

int th_reached(void *arg)
{
	const struct th_at_least *a = arg;

	return *a->n >= a->want;
}
