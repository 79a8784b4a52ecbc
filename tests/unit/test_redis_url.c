/* test_redis_url.c — hc_redis_parse_url: the forms it accepts and the
 * errors it gives for the ones it does not. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "common/redis.h"

static void parse_ok(const char *url, const char *host, int port, const char *pw, int db)
{
	struct hc_redis_opts o;
	struct hc_err err = {""};

	memset(&o, 0x5a, sizeof(o));
	if (hc_redis_parse_url(url, &o, &err) != 0)
		fail_msg("%s: %s", url, err.msg);
	assert_string_equal(o.host, host);
	assert_int_equal(o.port, port);
	assert_string_equal(o.password, pw);
	assert_int_equal(o.db, db);
	/* Timeouts are left at 0 so the client's defaults apply. */
	assert_int_equal(o.connect_timeout_ms, 0);
	assert_int_equal(o.backoff_min_ms, 0);
	assert_int_equal(o.backoff_max_ms, 0);
}

static void parse_bad(const char *url, const char *want)
{
	struct hc_redis_opts o;
	struct hc_err err = {""};

	assert_int_equal(hc_redis_parse_url(url, &o, &err), -1);
	if (!strstr(err.msg, want))
		fail_msg("%s: error '%s' does not mention '%s'", url ? url : "(null)", err.msg,
			 want);
}

static void test_full_url(void **state)
{
	parse_ok("redis://:s3cret@10.0.0.5:6380/3", "10.0.0.5", 6380, "s3cret", 3);
	parse_ok("redis://:pw@127.0.0.1:1/0", "127.0.0.1", 1, "pw", 0);
	parse_ok("redis://default:pw@h:65535/15", "h", 65535, "pw", 15);
}

static void test_defaults(void **state)
{
	parse_ok("redis://localhost", "localhost", 6379, "", 0);
	parse_ok("redis://localhost/", "localhost", 6379, "", 0);
	parse_ok("redis://localhost/7", "localhost", 6379, "", 7);
	parse_ok("redis://:pw@redis.example", "redis.example", 6379, "pw", 0);
}

static void test_host_port(void **state)
{
	parse_ok("127.0.0.1:7000", "127.0.0.1", 7000, "", 0);
	parse_ok("myhost", "myhost", 6379, "", 0);
	parse_ok(":pw@myhost:1234/2", "myhost", 1234, "pw", 2);
}

static void test_password_forms(void **state)
{
	/* '@' and '/' in a password: the host starts after the last '@'. */
	parse_ok("redis://:a@b/c@h:1/2", "h", 1, "a@b/c", 2);
	/* Percent-encoding is decoded. */
	parse_ok("redis://:p%40ss%2Fw@h", "h", 6379, "p@ss/w", 0);
	parse_ok("redis://:@h:5", "h", 5, "", 0);
}

static void test_ipv6(void **state)
{
	parse_ok("redis://[::1]:6390/1", "::1", 6390, "", 1);
	parse_ok("redis://:pw@[fe80::2]", "fe80::2", 6379, "pw", 0);
}

static void test_bad_urls(void **state)
{
	char longurl[1100];

	parse_bad(NULL, "empty");
	parse_bad("", "empty");
	parse_bad("http://h:1", "only redis://");
	parse_bad("rediss://h:1", "only redis://");
	parse_bad("redis://h:0", "bad port");
	parse_bad("redis://h:65536", "bad port");
	parse_bad("redis://h:12x", "bad port");
	parse_bad("redis://h:", "bad port");
	parse_bad("redis://h:-1", "bad port");
	parse_bad("redis://h:1/x", "bad database");
	parse_bad("redis://h:1/-1", "bad database");
	parse_bad("redis://h:1/99999999999", "bad database");
	parse_bad("redis://", "no host");
	parse_bad("redis://:pw@:6379", "no host");
	parse_bad("redis://pw@h", ":password@");
	parse_bad("redis://alice:pw@h", "user names");
	parse_bad("redis://:p%4@h", "password");
	parse_bad("redis://:p%zz@h", "password");
	parse_bad("redis://:p%00@h", "password");
	parse_bad("redis://[::1:6379", "unterminated");
	parse_bad("redis://[::1]x:1", "bad port");
	memset(longurl, 'a', sizeof(longurl) - 1);
	longurl[sizeof(longurl) - 1] = '\0';
	parse_bad(longurl, "longer than");
}

static void test_too_long_fields(void **state)
{
	char url[600];

	/* A host longer than opts.host (256) is refused, not truncated. */
	snprintf(url, sizeof(url), "redis://%0300d:1", 0);
	parse_bad(url, "host");
	snprintf(url, sizeof(url), "redis://:%0300d@h:1", 0);
	parse_bad(url, "password");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full_url),
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_host_port),
	    cmocka_unit_test(test_password_forms),
	    cmocka_unit_test(test_ipv6),
	    cmocka_unit_test(test_bad_urls),
	    cmocka_unit_test(test_too_long_fields),
	};

	return cmocka_run_group_tests_name("redis_url", tests, NULL, NULL);
}
