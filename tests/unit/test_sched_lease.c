/* test_sched_lease.c — the election state machine with a fake clock:
 * winning, renewing, self-fencing (a stopped leader that comes back),
 * losing, stale replies. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "scheduler/lease.h"

#define MS 1000ULL

static void elect(struct sch_lease *l, uint64_t *t, int64_t epoch)
{
	struct sch_lease_step s;

	sch_lease_tick(l, *t, &s);
	assert_int_equal(s.cmd, SCH_LEASE_ACQUIRE);
	*t += 1 * MS;
	sch_lease_reply(l, s.op, SCH_LR_OK, 0, *t, &s);
	assert_int_equal(s.cmd, SCH_LEASE_EPOCH);
	assert_int_equal(l->role, SCH_ROLE_CLAIMING);
	assert_false(sch_lease_may_act(l, *t)); /* no epoch yet: no mutation */
	*t += 1 * MS;
	sch_lease_reply(l, s.op, SCH_LR_OK, epoch, *t, &s);
	assert_int_equal(s.event, SCH_LEASE_EV_ELECTED);
	assert_int_equal(l->role, SCH_ROLE_LEADER);
	assert_int_equal(l->epoch, epoch);
}

static void init(struct sch_lease *l, uint64_t t)
{
	struct sch_lease_config cfg = {
	    .lease_ms = 2000, .renew_ms = 500, .retry_ms = 500, .margin_ms = 200};
	sch_lease_init(l, &cfg, t);
}

static void test_win_and_renew(void **state)
{
	struct sch_lease l;
	struct sch_lease_step s;
	uint64_t t = 1000 * MS;

	init(&l, t);
	elect(&l, &t, 7);
	assert_true(sch_lease_may_act(&l, t));
	/* Valid until acquire send time + lease - margin. */
	assert_true(sch_lease_may_act(&l, 1000 * MS + 1799 * MS));
	assert_false(sch_lease_may_act(&l, 1000 * MS + 1800 * MS));
	/* No renew before renew_ms after the winning send. */
	t = 1000 * MS + 499 * MS;
	sch_lease_tick(&l, t, &s);
	assert_int_equal(s.cmd, SCH_LEASE_NONE);
	t = 1000 * MS + 500 * MS;
	sch_lease_tick(&l, t, &s);
	assert_int_equal(s.cmd, SCH_LEASE_RENEW);
	/* While in flight, nothing else is sent. */
	uint64_t op = s.op;
	sch_lease_tick(&l, t + 10 * MS, &s);
	assert_int_equal(s.cmd, SCH_LEASE_NONE);
	sch_lease_reply(&l, op, SCH_LR_OK, 0, t + 20 * MS, &s);
	assert_int_equal(s.event, SCH_LEASE_EV_NONE);
	/* Extended from the renew's send time. */
	assert_true(sch_lease_may_act(&l, t + 1799 * MS));
	assert_false(sch_lease_may_act(&l, t + 1800 * MS));
	/* Renewing keeps it forever. */
	for (int i = 0; i < 20; i++) {
		t += 500 * MS;
		sch_lease_tick(&l, t, &s);
		assert_int_equal(s.cmd, SCH_LEASE_RENEW);
		sch_lease_reply(&l, s.op, SCH_LR_OK, 0, t + 1 * MS, &s);
		assert_true(sch_lease_may_act(&l, t + 2 * MS));
	}
	assert_int_equal(l.stepdowns, 0);
}

/* Redis unreachable: the leader keeps trying and fences itself in time. */
static void test_self_fence_on_errors(void **state)
{
	struct sch_lease l;
	struct sch_lease_step s;
	uint64_t t = 5000 * MS, won = t;
	int stepped = 0;

	init(&l, t);
	elect(&l, &t, 1);
	for (t = won; t < won + 3000 * MS; t += 50 * MS) {
		sch_lease_tick(&l, t, &s);
		if (s.event == SCH_LEASE_EV_STEPPED_DOWN) {
			stepped = 1;
			break;
		}
		if (s.cmd == SCH_LEASE_RENEW)
			sch_lease_reply(&l, s.op, SCH_LR_ERROR, 0, t + 1 * MS, &s);
		assert_true(sch_lease_may_act(&l, t + 1 * MS) == (t + 1 * MS < won + 1800 * MS));
	}
	assert_true(stepped);
	assert_true(t >= won + 1800 * MS && t <= won + 1850 * MS);
	assert_int_equal(l.role, SCH_ROLE_STANDBY);
	assert_false(sch_lease_may_act(&l, t));
}

/* SIGSTOP: a renew sent just before the stop is answered OK long after the
 * lease ran out. The process must not act, before or after a tick. */
static void test_stopped_leader(void **state)
{
	struct sch_lease l;
	struct sch_lease_step s;
	uint64_t t = 100 * MS;

	init(&l, t);
	elect(&l, &t, 3);
	t = 100 * MS + 500 * MS;
	sch_lease_tick(&l, t, &s);
	assert_int_equal(s.cmd, SCH_LEASE_RENEW);
	uint64_t op = s.op;
	/* ...stopped for 3 s; on SIGCONT the first thing may be a request. */
	t += 3000 * MS;
	assert_false(sch_lease_may_act(&l, t));
	sch_lease_reply(&l, op, SCH_LR_OK, 0, t, &s);
	assert_false(sch_lease_may_act(&l, t));
	sch_lease_tick(&l, t, &s);
	assert_int_equal(s.event, SCH_LEASE_EV_STEPPED_DOWN);
	assert_int_equal(l.role, SCH_ROLE_STANDBY);
	/* It tries to acquire again like any standby (and loses). */
	assert_int_equal(s.cmd, SCH_LEASE_ACQUIRE);
	sch_lease_reply(&l, s.op, SCH_LR_LOST, 1500, t + 1 * MS, &s);
	assert_int_equal(l.role, SCH_ROLE_STANDBY);
	assert_false(sch_lease_may_act(&l, t + 2 * MS));
}

/* A renew that finds another holder steps down at once. */
static void test_renew_lost(void **state)
{
	struct sch_lease l;
	struct sch_lease_step s;
	uint64_t t = 0;

	init(&l, t);
	elect(&l, &t, 9);
	t = 500 * MS;
	sch_lease_tick(&l, t, &s);
	sch_lease_reply(&l, s.op, SCH_LR_LOST, 0, t + 1 * MS, &s);
	assert_int_equal(s.event, SCH_LEASE_EV_STEPPED_DOWN);
	assert_false(sch_lease_may_act(&l, t + 1 * MS));
	assert_int_equal(l.epoch, 0);
	assert_int_equal(l.stepdowns, 1);
}

/* A standby that loses retries when the holder's lease should lapse. */
static void test_standby_retry(void **state)
{
	struct sch_lease l;
	struct sch_lease_step s;
	uint64_t t = 10 * MS;

	init(&l, t);
	sch_lease_tick(&l, t, &s);
	assert_int_equal(s.cmd, SCH_LEASE_ACQUIRE);
	sch_lease_reply(&l, s.op, SCH_LR_LOST, 120, t, &s);
	sch_lease_tick(&l, t + 120 * MS, &s);
	assert_int_equal(s.cmd, SCH_LEASE_NONE);
	sch_lease_tick(&l, t + 121 * MS, &s);
	assert_int_equal(s.cmd, SCH_LEASE_ACQUIRE);
	/* A long remaining lease: retry_ms bounds the wait. */
	t += 121 * MS;
	sch_lease_reply(&l, s.op, SCH_LR_LOST, 1900, t, &s);
	assert_true(sch_lease_next_wake_us(&l, t) <= 500 * MS);
	sch_lease_tick(&l, t + 499 * MS, &s);
	assert_int_equal(s.cmd, SCH_LEASE_NONE);
	sch_lease_tick(&l, t + 500 * MS, &s);
	assert_int_equal(s.cmd, SCH_LEASE_ACQUIRE);
	/* Redis down: an error is retried after retry_ms as well. */
	sch_lease_reply(&l, s.op, SCH_LR_ERROR, 0, t + 500 * MS, &s);
	sch_lease_tick(&l, t + 1000 * MS, &s);
	assert_int_equal(s.cmd, SCH_LEASE_ACQUIRE);
}

/* Replies to commands that are no longer in flight change nothing. */
static void test_stale_replies(void **state)
{
	struct sch_lease l;
	struct sch_lease_step s;
	uint64_t t = 0, op;

	init(&l, t);
	sch_lease_tick(&l, t, &s);
	op = s.op;
	/* Unanswered for a whole lease: forgotten and sent again. */
	sch_lease_tick(&l, t + 2000 * MS, &s);
	assert_int_equal(s.cmd, SCH_LEASE_ACQUIRE);
	assert_true(s.op != op);
	sch_lease_reply(&l, op, SCH_LR_OK, 0, t + 2001 * MS, &s);
	assert_int_equal(l.role, SCH_ROLE_STANDBY);
	assert_int_equal(s.cmd, SCH_LEASE_NONE);
	sch_lease_reply(&l, 0, SCH_LR_OK, 0, t + 2001 * MS, &s);
	assert_int_equal(l.role, SCH_ROLE_STANDBY);
}

/* INCR failing: stay CLAIMING (not acting), retry; fence if it takes too long. */
static void test_epoch_retry(void **state)
{
	struct sch_lease l;
	struct sch_lease_step s;
	uint64_t t = 0;

	init(&l, t);
	sch_lease_tick(&l, t, &s);
	sch_lease_reply(&l, s.op, SCH_LR_OK, 0, t, &s);
	assert_int_equal(s.cmd, SCH_LEASE_EPOCH);
	sch_lease_reply(&l, s.op, SCH_LR_ERROR, 0, t + 1 * MS, &s);
	assert_int_equal(l.role, SCH_ROLE_CLAIMING);
	assert_false(sch_lease_may_act(&l, t + 1 * MS));
	sch_lease_tick(&l, t + 2 * MS, &s);
	assert_int_equal(s.cmd, SCH_LEASE_EPOCH);
	sch_lease_reply(&l, s.op, SCH_LR_OK, 5, t + 3 * MS, &s);
	assert_int_equal(s.event, SCH_LEASE_EV_ELECTED);
	assert_true(sch_lease_may_act(&l, t + 3 * MS));

	/* Claiming past the lease: fenced, never elected. */
	init(&l, t);
	sch_lease_tick(&l, t, &s);
	sch_lease_reply(&l, s.op, SCH_LR_OK, 0, t, &s);
	uint64_t op = s.op;
	sch_lease_tick(&l, t + 1800 * MS, &s);
	assert_int_equal(s.event, SCH_LEASE_EV_STEPPED_DOWN);
	sch_lease_reply(&l, op, SCH_LR_OK, 6, t + 1801 * MS, &s);
	assert_int_equal(s.event, SCH_LEASE_EV_NONE);
	assert_int_equal(l.role, SCH_ROLE_STANDBY);
}

static void test_step_down(void **state)
{
	struct sch_lease l;
	struct sch_lease_step s;
	uint64_t t = 0;

	init(&l, t);
	elect(&l, &t, 2);
	sch_lease_step_down(&l, t);
	assert_false(sch_lease_may_act(&l, t));
	sch_lease_tick(&l, t + 1999 * MS, &s);
	assert_int_equal(s.cmd, SCH_LEASE_NONE);
	sch_lease_tick(&l, t + 2000 * MS, &s);
	assert_int_equal(s.cmd, SCH_LEASE_ACQUIRE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_win_and_renew),  cmocka_unit_test(test_self_fence_on_errors),
	    cmocka_unit_test(test_stopped_leader), cmocka_unit_test(test_renew_lost),
	    cmocka_unit_test(test_standby_retry),  cmocka_unit_test(test_stale_replies),
	    cmocka_unit_test(test_epoch_retry),	   cmocka_unit_test(test_step_down),
	};
	return cmocka_run_group_tests_name("sched_lease", tests, NULL, NULL);
}
