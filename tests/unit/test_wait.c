/* test_wait.c — the tests' own waiting helpers (tests/lib/wait.c): every
 * wait ends by its deadline, tries once more at the deadline, and sees a
 * condition that holds; the loop runs between tries. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <event2/event.h>

#include "tests/lib/wait.h"

/* How late a wait may end on a busy machine (it never ends early); the
 * steps that must not be waited out are longer than that. */
#define SLACK_MS 1000

static void test_sleep_and_clock(void **state)
{
	long long t0 = th_now_ms();

	th_sleep_ms(30);
	assert_true(th_now_ms() - t0 >= 30);
	assert_true(th_now_ms() - t0 < 30 + SLACK_MS);
}

static int calls;

static int count_never(void *arg)
{
	calls++;
	return 0;
}

/* A condition that becomes true once called *arg times. */
static int on_call_n(void *arg)
{
	return ++calls >= *(int *)arg;
}

static void test_poll_times_out_at_deadline(void **state)
{
	long long t0 = th_now_ms();

	calls = 0;
	assert_int_equal(th_poll(count_never, NULL, 100, 20), 0);
	assert_true(th_now_ms() - t0 >= 100);
	assert_true(th_now_ms() - t0 < 100 + SLACK_MS);
	/* at once, after each of five 20 ms waits (the last at the deadline) */
	assert_true(calls >= 2 && calls <= 6);
}

static void test_poll_sees_condition(void **state)
{
	int n = 3;
	long long t0 = th_now_ms();

	calls = 0;
	assert_int_equal(th_poll(on_call_n, &n, 5000, 10), 1);
	assert_int_equal(calls, 3);
	assert_true(th_now_ms() - t0 < 5000);
	/* already true: one call, no wait */
	calls = 0;
	n = 1;
	t0 = th_now_ms();
	assert_int_equal(th_poll(on_call_n, &n, 20000, 10000), 1);
	assert_int_equal(calls, 1);
	assert_true(th_now_ms() - t0 < SLACK_MS);
}

/* A zero timeout still tries once; a step longer than the timeout still
 * tries again at the deadline. */
static void test_poll_edges(void **state)
{
	int n = 2;
	long long t0;

	calls = 0;
	assert_int_equal(th_poll(count_never, NULL, 0, 10), 0);
	assert_int_equal(calls, 1);
	calls = 0;
	t0 = th_now_ms();
	assert_int_equal(th_poll(on_call_n, &n, 50, 10000), 1);
	assert_int_equal(calls, 2);
	assert_true(th_now_ms() - t0 >= 50);
	assert_true(th_now_ms() - t0 < 50 + SLACK_MS);
}

static void test_retry_block(void **state)
{
	int tries = 0;
	long long t0 = th_now_ms();

	TH_RETRY(5000, 5) {
		if (++tries == 4)
			break;
	}
	assert_int_equal(tries, 4);
	assert_true(th_now_ms() - t0 < 5000);
	tries = 0;
	t0 = th_now_ms();
	TH_RETRY(60, 20) {
		tries++;
	}
	assert_true(th_now_ms() - t0 >= 60);
	assert_true(tries >= 2 && tries <= 4);
	/* nested: each has its own deadline; continue goes to the next try */
	tries = 0;
	TH_RETRY(5000, 1) {
		int inner = 0;

		TH_RETRY(5000, 1) {
			if (++inner == 2)
				break;
		}
		assert_int_equal(inner, 2);
		if (++tries < 3)
			continue;
		break;
	}
	assert_int_equal(tries, 3);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(*(int *)arg)++;
}

/* A callback that breaks the loop does not end a wait early. */
static void on_break(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(arg);
}

static void test_run_until(void **state)
{
	struct event_base *base = event_base_new();
	struct timeval after = {0, 30000}, every = {0, 1000};
	struct event *brk = event_new(base, -1, EV_PERSIST, on_break, base);
	int fired = 0;
	struct th_at_least one = {&fired, 1};
	long long t0;

	assert_non_null(base);
	assert_int_equal(event_add(brk, &every), 0);
	/* the loop runs while waiting: a timer fires */
	t0 = th_now_ms();
	assert_int_equal(event_base_once(base, -1, EV_TIMEOUT, on_tick, &fired, &after), 0);
	assert_int_equal(th_run_until(base, th_reached, &one, 5000), 1);
	assert_int_equal(fired, 1);
	assert_true(th_now_ms() - t0 < 5000);
	/* already true: returns at once */
	assert_int_equal(th_run_until(base, th_flag_set, &fired, 0), 1);
	/* never: the whole timeout, not less (despite the breaks), not much more */
	t0 = th_now_ms();
	assert_int_equal(th_run_until(base, th_never, NULL, 100), 0);
	assert_true(th_now_ms() - t0 >= 100);
	assert_true(th_now_ms() - t0 < 100 + SLACK_MS);
	/* th_run_for runs the loop the whole time */
	fired = 0;
	t0 = th_now_ms();
	assert_int_equal(event_base_once(base, -1, EV_TIMEOUT, on_tick, &fired, &after), 0);
	th_run_for(base, 60);
	assert_int_equal(fired, 1);
	assert_true(th_now_ms() - t0 >= 60);
	event_free(brk);
	event_base_free(base);
}

/* TH_RETRY_LOOP runs the loop between tries. */
static void test_retry_loop(void **state)
{
	struct event_base *base = event_base_new();
	struct timeval after = {0, 20000};
	int fired = 0, tries = 0;

	assert_non_null(base);
	assert_int_equal(event_base_once(base, -1, EV_TIMEOUT, on_tick, &fired, &after), 0);
	TH_RETRY_LOOP(base, 5000, 10) {
		tries++;
		if (fired)
			break;
	}
	assert_int_equal(fired, 1);
	assert_true(tries >= 2);
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sleep_and_clock),
	    cmocka_unit_test(test_poll_times_out_at_deadline),
	    cmocka_unit_test(test_poll_sees_condition),
	    cmocka_unit_test(test_poll_edges),
	    cmocka_unit_test(test_retry_block),
	    cmocka_unit_test(test_run_until),
	    cmocka_unit_test(test_retry_loop),
	};

	return cmocka_run_group_tests_name("wait", tests, NULL, NULL);
}
