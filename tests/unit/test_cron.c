/* test_cron.c — cron parsing and next matches on a fixed clock, and the
 * alarms feed's specs: their periods (cron, interval, once; start and stop
 * dates), the package's messages for bad parameters, dates, the stored
 * form, the fire message and pending members. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cron.h"
#include "proto/alarm.h"

/* unix ms of a UTC time */
static int64_t at(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = {.tm_year = y - 1900,
			.tm_mon = mo - 1,
			.tm_mday = d,
			.tm_hour = h,
			.tm_min = mi,
			.tm_sec = s};
	return (int64_t)timegm(&tm) * 1000;
}

static int64_t next(const char *expr, int64_t after)
{
	struct hc_cron c;
	struct hc_err err = {{0}};
	assert_int_equal(hc_cron_parse(expr, &c, &err), 0);
	return hc_cron_next(&c, after);
}

static void test_cron_parse(void **state)
{
	struct hc_cron c;
	struct hc_err err = {{0}};
	assert_int_equal(hc_cron_parse("* * * * *", &c, &err), 0);
	assert_false(c.seconds);
	assert_int_equal(c.sec, 1); /* five fields: at second 0 */
	assert_int_equal(hc_cron_parse("*/30 * * * * *", &c, &err), 0);
	assert_true(c.seconds);
	assert_int_equal(c.sec, (1ULL << 0) | (1ULL << 30));
	assert_int_equal(hc_cron_parse("0 9 8 * *", &c, &err), 0);
	assert_int_equal(c.min, 1);
	assert_int_equal(c.hour, 1u << 9);
	assert_int_equal(c.dom, 1u << 8);
	assert_true(c.dow_any);
	assert_false(c.dom_any);
	assert_int_equal(hc_cron_parse("0 0 * JAN,mar mon-fri", &c, &err), 0);
	assert_int_equal(c.mon, (1u << 1) | (1u << 3));
	assert_int_equal(c.dow, 0x3e);
	assert_int_equal(hc_cron_parse("0 0 * * 7", &c, &err), 0);
	assert_int_equal(c.dow, 1); /* 7 is Sunday */
	assert_int_equal(hc_cron_parse("5-20/5 * * * *", &c, &err), 0);
	assert_int_equal(c.min, (1ULL << 5) | (1ULL << 10) | (1ULL << 15) | (1ULL << 20));
	assert_int_equal(hc_cron_parse("10/20 * * * *", &c, &err), 0);
	assert_int_equal(c.min, (1ULL << 10) | (1ULL << 30) | (1ULL << 50));

	static const char *const bad[] = {"",
					  "* * * *",
					  "* * * * * * *",
					  "60 * * * *",
					  "* 24 * * *",
					  "* * 0 * *",
					  "* * * 13 *",
					  "* * * * 8",
					  "*/0 * * * *",
					  "5-1 * * * *",
					  "a * * * *",
					  "1,,2 * * * *",
					  "1, * * * *",
					  "* * * foo *",
					  "1-2-3 * * * *",
					  "61 * * * * *",
					  NULL};
	for (int i = 0; bad[i]; i++) {
		err.msg[0] = '\0';
		if (hc_cron_parse(bad[i], &c, &err) == 0)
			fail_msg("'%s' parsed", bad[i]);
		assert_true(err.msg[0] != '\0');
	}
	assert_int_equal(hc_cron_parse("* 25 * * *", &c, &err), -1);
	assert_non_null(strstr(err.msg, "hour"));
}

static void test_cron_next(void **state)
{
	int64_t t = at(2024, 1, 31, 23, 59, 30) + 500;
	/* every minute: the top of the next one */
	assert_int_equal(next("* * * * *", t), at(2024, 2, 1, 0, 0, 0));
	/* exactly on a match: strictly after it */
	assert_int_equal(next("* * * * *", at(2024, 2, 1, 0, 0, 0)), at(2024, 2, 1, 0, 1, 0));
	/* six fields: seconds */
	assert_int_equal(next("*/30 * * * * *", t), at(2024, 2, 1, 0, 0, 0));
	assert_int_equal(next("*/2 * * * * *", at(2024, 1, 1, 0, 0, 1)), at(2024, 1, 1, 0, 0, 2));
	assert_int_equal(next("* * * * * *", at(2024, 1, 1, 0, 0, 1) + 999),
			 at(2024, 1, 1, 0, 0, 2));
	/* every two hours */
	assert_int_equal(next("0 */2 * * *", at(2024, 3, 1, 3, 0, 0)), at(2024, 3, 1, 4, 0, 0));
	/* 9:00 on the 8th */
	assert_int_equal(next("0 9 8 * *", at(2024, 3, 8, 9, 0, 0)), at(2024, 4, 8, 9, 0, 0));
	/* leap day */
	assert_int_equal(next("0 0 29 2 *", at(2024, 3, 1, 0, 0, 0)), at(2028, 2, 29, 0, 0, 0));
	/* never */
	assert_int_equal(next("0 0 30 2 *", t), -1);
	/* day of week: 2024-02-01 is a Thursday; next Monday is the 5th */
	assert_int_equal(next("0 12 * * mon", t), at(2024, 2, 5, 12, 0, 0));
	/* both day fields restricted: either matches (the 10th, or a Monday) */
	assert_int_equal(next("0 0 10 * 1", at(2024, 2, 6, 0, 0, 0)), at(2024, 2, 10, 0, 0, 0));
	assert_int_equal(next("0 0 10 * 1", at(2024, 2, 10, 0, 0, 0)), at(2024, 2, 12, 0, 0, 0));
	/* across a year end and a month with 30 days */
	assert_int_equal(next("30 23 31 * *", at(2024, 4, 1, 0, 0, 0)), at(2024, 5, 31, 23, 30, 0));
	assert_int_equal(next("0 0 1 1 *", at(2024, 6, 1, 0, 0, 0)), at(2025, 1, 1, 0, 0, 0));
	/* before 1970 / negative clocks do not break the arithmetic */
	assert_int_equal(next("* * * * *", -1500), 0);
}

static cJSON *params(const char *json)
{
	cJSON *j = cJSON_Parse(json);
	assert_non_null(j);
	return j;
}

/* from_params must fail with msg (a prefix of it). */
static void refused(enum pr_alarm_kind k, const char *json, int64_t now, const char *msg)
{
	struct pr_alarm a;
	struct hc_err err = {{0}};
	cJSON *p = params(json);
	int rc = pr_alarm_from_params(&a, k, p, now, 60000, &err);
	cJSON_Delete(p);
	pr_alarm_clear(&a);
	if (rc == 0)
		fail_msg("%s accepted", json);
	if (strncmp(err.msg, msg, strlen(msg)) != 0)
		fail_msg("%s: got '%s', want '%s'", json, err.msg, msg);
}

static void test_alarm_params(void **state)
{
	int64_t now = at(2024, 1, 1, 0, 0, 0);
	refused(PR_ALARM_CRON, "{}", now, "alarms trigger feed is missing the cron parameter");
	refused(PR_ALARM_CRON, "{\"cron\":\"* * *\"}", now, "cron pattern '* * *' is not valid");
	refused(PR_ALARM_CRON, "{\"cron\":\"* * * * *\",\"timezone\":\"Europe/Paris\"}", now,
		"Invalid timezone.");
	refused(PR_ALARM_INTERVAL, "{}", now,
		"interval trigger feed is missing the minutes parameter");
	refused(PR_ALARM_INTERVAL, "{\"minutes\":1.5}", now,
		"the minutes parameter must be an integer");
	refused(PR_ALARM_INTERVAL, "{\"minutes\":\"x\"}", now,
		"the minutes parameter must be an integer");
	refused(PR_ALARM_INTERVAL, "{\"minutes\":-2}", now,
		"the minutes parameter must be an integer greater than zero");
	refused(PR_ALARM_ONCE, "{}", now, "alarms once trigger feed is missing the date parameter");
	refused(PR_ALARM_ONCE, "{\"date\":\"tomorrow\"}", now,
		"date parameter 'tomorrow' is not a valid Date");
	refused(PR_ALARM_ONCE, "{\"date\":\"2023-12-31T23:00:00Z\"}", now,
		"date parameter '2023-12-31T23:00:00Z' must be in the future");
	refused(PR_ALARM_ONCE, "{\"date\":\"2024-02-01\",\"deleteAfterFire\":\"maybe\"}", now,
		"deleteAfterFire parameter must be one of [false, true, rules].");
	refused(PR_ALARM_CRON,
		"{\"cron\":\"* * * * *\",\"startDate\":\"2024-03-01T00:00:00Z\","
		"\"stopDate\":\"2024-02-01T00:00:00Z\"}",
		now,
		"stopDate parameter '2024-02-01T00:00:00Z' must be greater than the startDate "
		"parameter '2024-03-01T00:00:00Z'");
	refused(PR_ALARM_CRON, "{\"cron\":\"* * * * *\",\"maxTriggers\":3,\"stopDate\":1e13}", now,
		"maxTriggers is not allowed when the stopDate parameter is specified");
	refused(PR_ALARM_INTERVAL, "{\"minutes\":2,\"maxTriggers\":3,\"stopDate\":1e13}", now,
		"maxTriggers is not supported for the interval trigger feed");
	refused(PR_ALARM_CRON, "{\"cron\":\"0 0 1 1 *\",\"stopDate\":\"2024-06-01T00:00:00Z\"}",
		now, "the first scheduled trigger fire is not until after the stop date");
}

static void test_alarm_periods(void **state)
{
	struct pr_alarm a;
	struct hc_err err = {{0}};
	int64_t now = at(2024, 1, 1, 0, 0, 0) + 123;

	/* interval: half a minute from now, then every period; the minute is
	 * a setting (tests shorten it) */
	cJSON *p = params("{\"minutes\":2,\"trigger_payload\":\"hi\"}");
	assert_int_equal(pr_alarm_from_params(&a, PR_ALARM_INTERVAL, p, now, 1000, &err), 0);
	cJSON_Delete(p);
	assert_int_equal(a.period_ms, 2000);
	assert_int_equal(a.start_ms, now + 500);
	assert_int_equal(pr_alarm_next(&a, now), now + 500);
	assert_int_equal(pr_alarm_next(&a, now + 500), now + 2500);
	assert_int_equal(pr_alarm_next(&a, now + 2499), now + 2500);
	assert_int_equal(pr_alarm_next(&a, now + 9000), now + 10500);
	/* a string payload becomes {"payload": ...}, as the package does */
	assert_string_equal(cJSON_GetObjectItem(a.payload, "payload")->valuestring, "hi");
	/* the stored form comes back the same */
	char *text = pr_alarm_encode(&a);
	struct pr_alarm b;
	assert_int_equal(pr_alarm_decode(text, strlen(text), &b, &err), 0);
	assert_int_equal(b.kind, PR_ALARM_INTERVAL);
	assert_int_equal(b.period_ms, 2000);
	assert_int_equal(pr_alarm_next(&b, now + 9000), now + 10500);
	/* update: minutes changes the period; nothing updatable is refused */
	p = params("{\"minutes\":3}");
	assert_int_equal(pr_alarm_update(&b, p, now, 1000, &err), 0);
	cJSON_Delete(p);
	assert_int_equal(b.period_ms, 3000);
	p = params("{\"cron\":\"* * * * *\"}");
	assert_int_equal(pr_alarm_update(&b, p, now, 1000, &err), -1);
	assert_string_equal(err.msg, "no updatable parameters were specified");
	cJSON_Delete(p);
	pr_alarm_clear(&b);
	free(text);
	pr_alarm_clear(&a);

	/* cron with start and stop dates */
	p = params("{\"cron\":\"0 * * * *\",\"startDate\":\"2024-01-01T05:30:00Z\","
		   "\"stopDate\":\"2024-01-01T08:00:00.000Z\"}");
	assert_int_equal(pr_alarm_from_params(&a, PR_ALARM_CRON, p, now, 60000, &err), 0);
	cJSON_Delete(p);
	assert_int_equal(pr_alarm_next(&a, now), at(2024, 1, 1, 6, 0, 0));
	assert_int_equal(pr_alarm_next(&a, at(2024, 1, 1, 7, 0, 0)), at(2024, 1, 1, 8, 0, 0));
	assert_int_equal(pr_alarm_next(&a, at(2024, 1, 1, 8, 0, 0)), -1);
	/* READ shows what was given */
	cJSON *r = pr_alarm_read_result(&a, "guest", "t", PR_ALARM_ACTIVE, now, "");
	const cJSON *c = cJSON_GetObjectItem(r, "config");
	assert_string_equal(cJSON_GetObjectItem(c, "cron")->valuestring, "0 * * * *");
	assert_string_equal(cJSON_GetObjectItem(c, "startDate")->valuestring,
			    "2024-01-01T05:30:00Z");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "status"), "active")));
	assert_string_equal(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(r, "status"), "dateChangedISO")->valuestring,
	    "2024-01-01T00:00:00Z");
	cJSON_Delete(r);
	pr_alarm_clear(&a);

	/* once: at the date, then never */
	p = params("{\"date\":1704067260000,\"deleteAfterFire\":\" Rules \"}");
	assert_int_equal(pr_alarm_from_params(&a, PR_ALARM_ONCE, p, now, 60000, &err), 0);
	cJSON_Delete(p);
	assert_string_equal(a.delete_after_fire, "rules");
	assert_int_equal(pr_alarm_next(&a, now), at(2024, 1, 1, 0, 1, 0));
	assert_int_equal(pr_alarm_next(&a, at(2024, 1, 1, 0, 1, 0)), -1);
	pr_alarm_clear(&a);
}

static void test_alarm_dates_and_messages(void **state)
{
	int64_t ms;
	cJSON *v = cJSON_CreateString("2024-01-01T01:00:00+01:00");
	assert_int_equal(pr_alarm_date(v, &ms), 0);
	assert_int_equal(ms, at(2024, 1, 1, 0, 0, 0));
	cJSON_Delete(v);
	v = cJSON_CreateString("2024-01-01T00:00:00.250Z");
	assert_int_equal(pr_alarm_date(v, &ms), 0);
	assert_int_equal(ms, at(2024, 1, 1, 0, 0, 0) + 250);
	cJSON_Delete(v);
	v = cJSON_CreateString("2024-02-03");
	assert_int_equal(pr_alarm_date(v, &ms), 0);
	assert_int_equal(ms, at(2024, 2, 3, 0, 0, 0));
	cJSON_Delete(v);
	static const char *const bad[] = {"2024-13-01", "2024-01-01T",	 "24-01-01",
					  "yesterday",	"2024-01-01T10", NULL};
	for (int i = 0; bad[i]; i++) {
		v = cJSON_CreateString(bad[i]);
		if (pr_alarm_date(v, &ms) == 0)
			fail_msg("'%s' parsed", bad[i]);
		cJSON_Delete(v);
	}

	/* the fire message and a pending member, there and back */
	struct pr_alarm_fire f = {.ns = "guest", .name = "t", .period_ms = 1704067200000};
	f.payload = cJSON_Parse("{\"a\":1}");
	char *text = pr_alarm_fire_encode(&f);
	cJSON_Delete(f.payload);
	struct pr_alarm_fire g;
	struct hc_err err = {{0}};
	assert_int_equal(pr_alarm_fire_parse(text, strlen(text), &g, &err), 0);
	assert_string_equal(g.ns, "guest");
	assert_string_equal(g.name, "t");
	assert_int_equal(g.period_ms, 1704067200000);
	assert_int_equal(cJSON_GetObjectItem(g.payload, "a")->valueint, 1);
	cJSON_Delete(g.payload);
	free(text);
	assert_int_equal(pr_alarm_fire_parse("{\"namespace\":\"g\",\"name\":\"t\"}", 29, &g, &err),
			 -1);

	char m[128], id[64];
	int64_t period;
	pr_alarm_pending_member(m, sizeof(m), "guest/t", 1704067200000);
	assert_string_equal(m, "guest/t|1704067200000");
	assert_int_equal(pr_alarm_pending_parse(m, id, sizeof(id), &period), 0);
	assert_string_equal(id, "guest/t");
	assert_int_equal(period, 1704067200000);
	assert_int_equal(pr_alarm_pending_parse("guest/t", id, sizeof(id), &period), -1);
	assert_int_equal(pr_alarm_pending_parse("guest/t|x", id, sizeof(id), &period), -1);

	assert_int_equal(pr_alarm_feed_kind("alarm"), PR_ALARM_CRON);
	assert_int_equal(pr_alarm_feed_kind("interval"), PR_ALARM_INTERVAL);
	assert_int_equal(pr_alarm_feed_kind("once"), PR_ALARM_ONCE);
	assert_int_equal(pr_alarm_feed_kind("changes"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cron_parse),
	    cmocka_unit_test(test_cron_next),
	    cmocka_unit_test(test_alarm_params),
	    cmocka_unit_test(test_alarm_periods),
	    cmocka_unit_test(test_alarm_dates_and_messages),
	};
	return cmocka_run_group_tests_name("cron", tests, NULL, NULL);
}
