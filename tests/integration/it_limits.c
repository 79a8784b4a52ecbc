/* it_limits.c — controller/limits.c in process against a real Redis: two
 * controllers' loops (each its own owner and Redis connection) on one
 * event base. Covers what the REST tests cannot reach: trigger fires per
 * minute (ctl_limits_check_fire, for the trigger code), fires and
 * invocations counted apart, concurrent slots held and released, what the
 * first check of a namespace waits for, and Redis going away (the loop
 * counts alone, nothing stalls). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/redis.h"
#include "controller/ctl.h"
#include "controller/limits.h"
#include "proto/keys.h"
#include "tests/lib/harness.h"

static struct th_redis R;
static redisContext *rc;
static struct event_base *base;
static struct ctl C[2];
static struct hc_loop HL[2];
static struct ctl_loop L[2];

static void run_for(long ms)
{
	struct timeval tv = hc_ms_timeval(ms);
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

struct res {
	int done, status;
	char msg[200];
	struct ctl_nslim *held;
};

static void on_check(int status, const char *msg, struct ctl_nslim *held, void *arg)
{
	struct res *r = arg;
	r->done++;
	r->status = status;
	snprintf(r->msg, sizeof(r->msg), "%s", msg ? msg : "");
	r->held = held;
}

/* One check through loop i, run until it is answered (at most 3 s). */
static struct res check(int i, int fire, const char *ns)
{
	struct res r = {0};
	if (fire)
		ctl_limits_check_fire(&L[i], ns, on_check, &r);
	else
		ctl_limits_check_invoke(&L[i], ns, on_check, &r);
	for (int t = 0; t < 300 && !r.done; t++)
		run_for(10);
	assert_int_equal(r.done, 1);
	return r;
}

static void redis_cmd(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	redisReply *r = redisvCommand(rc, fmt, ap);
	va_end(ap);
	assert_non_null(r);
	freeReplyObject(r);
}

/* Far enough from a minute's end for a test's counts to share one. */
static void wait_minute_start(int need_s)
{
	uint64_t now = hc_now_ms();
	long left = 60000 - (long)(now % 60000);
	if (left < need_s * 1000L)
		run_for(left + 200);
}

static int setup(void **state)
{
	struct hc_redis_opts ro;
	struct hc_err err;
	static char *ids[2] = {"ctl-a", "ctl-b"};
	if (th_redis_start(&R) < 0)
		return -1;
	assert_int_equal(hc_redis_parse_url(R.url, &ro, &err), 0);
	rc = hc_redis_sync_connect(&ro, &err);
	assert_non_null(rc);
	base = event_base_new();
	for (int i = 0; i < 2; i++) {
		C[i].cfg.id = ids[i];
		C[i].cfg.ns_invokes_per_minute = 1000;
		C[i].cfg.ns_concurrent = 1000;
		C[i].cfg.ns_fires_per_minute = 1000;
		C[i].cfg.quota_actions = 10;
		C[i].cfg.quota_code = 1 << 20;
		C[i].cfg.quota_logs = 1 << 20;
		HL[i].base = base;
		L[i].ctl = &C[i];
		L[i].loop = &HL[i];
		L[i].redis = hc_redis_new(base, &ro);
		assert_non_null(L[i].redis);
		assert_int_equal(ctl_limits_loop_init(&L[i]), 0);
	}
	for (int t = 0;
	     t < 200 && !(hc_redis_connected(L[0].redis) && hc_redis_connected(L[1].redis)); t++)
		run_for(10);
	assert_true(hc_redis_connected(L[0].redis) && hc_redis_connected(L[1].redis));
	return 0;
}

static int teardown(void **state)
{
	for (int i = 0; i < 2; i++) {
		L[i].stopping = 1;
		hc_redis_free(L[i].redis);
	}
	run_for(20);
	for (int i = 0; i < 2; i++)
		ctl_limits_loop_fini(&L[i]);
	event_base_free(base);
	redisFree(rc);
	th_redis_stop(&R);
	return 0;
}

static void test_fires_per_minute(void **state)
{
	wait_minute_start(15);
	redis_cmd("HSET " PR_KEY_NS_LIMITS " firesPerMinute 3 invocationsPerMinute 100", "f1");
	for (int i = 0; i < 3; i++) {
		struct res r = check(0, 1, "f1");
		assert_int_equal(r.status, 0);
		assert_null(r.held); /* a fire holds no concurrent slot */
	}
	struct res r = check(0, 1, "f1");
	assert_int_equal(r.status, 429);
	assert_string_equal(r.msg, "Too many requests in the last minute (count: 4, allowed: 3).");
	/* invocations are counted apart from fires */
	r = check(0, 0, "f1");
	assert_int_equal(r.status, 0);
	assert_non_null(r.held);
	ctl_limits_release(r.held);
	/* the other controller: once the first has added its count */
	run_for(1300);
	r = check(1, 1, "f1");
	assert_int_equal(r.status, 429);
	assert_string_equal(r.msg, "Too many requests in the last minute (count: 5, allowed: 3).");
	redisReply *x = redisCommand(rc, "KEYS " PR_KEY_RATE_FIRE_PREFIX "f1:*");
	assert_int_equal(x->elements, 1);
	freeReplyObject(x);
}

static void test_concurrent_slots(void **state)
{
	redis_cmd("HSET " PR_KEY_NS_LIMITS " concurrentInvocations 2", "c1");
	struct res a = check(0, 0, "c1"), b = check(0, 0, "c1");
	assert_int_equal(a.status, 0);
	assert_int_equal(b.status, 0);
	struct res c = check(0, 0, "c1");
	assert_int_equal(c.status, 429);
	assert_string_equal(c.msg,
			    "Too many concurrent requests in flight (count: 2, allowed: 2).");
	/* the other controller counts them once they are reported (a second) */
	run_for(1300);
	c = check(1, 0, "c1");
	assert_int_equal(c.status, 429);
	assert_string_equal(c.msg,
			    "Too many concurrent requests in flight (count: 2, allowed: 2).");
	ctl_limits_release(a.held);
	c = check(0, 0, "c1"); /* its own release counts at once */
	assert_int_equal(c.status, 0);
	ctl_limits_release(c.held);
	ctl_limits_release(b.held);
	ctl_limits_release(NULL);
	/* in Redis: what each owner holds, with when it said so */
	run_for(1300);
	redisReply *x = redisCommand(rc, "HGETALL " PR_KEY_INFLIGHT_PREFIX "c1");
	assert_int_equal(x->elements, 0); /* nobody holds one: every field gone */
	freeReplyObject(x);
	c = check(1, 0, "c1");
	assert_int_equal(c.status, 0);
	ctl_limits_release(c.held);
}

/* The first check of a namespace is answered only once its limits came,
 * so an override of 0 holds from the first request on. */
static void test_first_check_waits_for_the_override(void **state)
{
	redis_cmd("HSET " PR_KEY_NS_LIMITS " invocationsPerMinute 0", "z1");
	struct res r = {0};
	ctl_limits_check_invoke(&L[1], "z1", on_check, &r);
	assert_int_equal(r.done, 0); /* not from inside the call: it waits */
	for (int t = 0; t < 300 && !r.done; t++)
		run_for(10);
	assert_int_equal(r.status, 429);
	assert_string_equal(r.msg, "Too many requests in the last minute (count: 1, allowed: 0).");
	/* then from the loop's counters, at once */
	struct res s = {0};
	ctl_limits_check_invoke(&L[1], "z1", on_check, &s);
	assert_int_equal(s.done, 1);
	assert_int_equal(s.status, 429);
	assert_true(ctl_limits_count(&L[1]) >= 1);
}

/* Redis gone: a new namespace is admitted on the defaults, nothing stalls. */
static void test_redis_gone(void **state)
{
	th_redis_stop(&R);
	run_for(200);
	struct res r = check(0, 0, "gone1");
	assert_int_equal(r.status, 0);
	ctl_limits_release(r.held);
	r = check(0, 1, "gone1");
	assert_int_equal(r.status, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fires_per_minute),
	    cmocka_unit_test(test_concurrent_slots),
	    cmocka_unit_test(test_first_check_waits_for_the_override),
	    cmocka_unit_test(test_redis_gone),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
