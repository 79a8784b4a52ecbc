/* test_buf.c — the bounded buffer: limits, growth, JSON escaping. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"

static void test_empty_is_empty_string(void **state)
{
	struct hc_buf b;

	hc_buf_init(&b, 16);
	assert_null(b.data);
	assert_string_equal(hc_buf_str(&b), "");
	assert_int_equal(b.len, 0);
	hc_buf_free(&b);
}

static void test_add_and_terminate(void **state)
{
	struct hc_buf b;

	hc_buf_init(&b, 100);
	assert_int_equal(hc_buf_adds(&b, "hello"), 0);
	assert_int_equal(hc_buf_addc(&b, ' '), 0);
	assert_int_equal(hc_buf_add(&b, "world!!", 5), 0);
	assert_int_equal(b.len, 11);
	assert_string_equal(hc_buf_str(&b), "hello world");
	assert_int_equal(b.data[b.len], '\0');
	assert_int_equal(hc_buf_addf(&b, " %d-%s", 42, "x"), 0);
	assert_string_equal(hc_buf_str(&b), "hello world 42-x");
	hc_buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.max, 100);
	/* usable again after free */
	assert_int_equal(hc_buf_adds(&b, "again"), 0);
	assert_string_equal(hc_buf_str(&b), "again");
	hc_buf_free(&b);
}

static void test_max_enforced_and_unchanged(void **state)
{
	struct hc_buf b;

	hc_buf_init(&b, 8);
	assert_int_equal(hc_buf_adds(&b, "12345678"), 0);
	assert_int_equal(b.len, 8);
	assert_true(b.cap <= 9);
	errno = 0;
	assert_int_equal(hc_buf_addc(&b, 'x'), -1);
	assert_int_equal(errno, E2BIG);
	assert_string_equal(hc_buf_str(&b), "12345678");
	hc_buf_reset(&b);
	assert_int_equal(hc_buf_adds(&b, "1234"), 0);
	errno = 0;
	assert_int_equal(hc_buf_adds(&b, "56789"), -1);
	assert_int_equal(errno, E2BIG);
	assert_string_equal(hc_buf_str(&b), "1234");
	errno = 0;
	assert_int_equal(hc_buf_addf(&b, "%s", "abcde"), -1);
	assert_int_equal(errno, E2BIG);
	assert_string_equal(hc_buf_str(&b), "1234");
	assert_int_equal(hc_buf_addf(&b, "%s", "abcd"), 0);
	assert_string_equal(hc_buf_str(&b), "1234abcd");
	hc_buf_free(&b);
}

static void test_zero_max(void **state)
{
	struct hc_buf b;

	hc_buf_init(&b, 0);
	assert_int_equal(hc_buf_add(&b, "", 0), 0);
	assert_string_equal(hc_buf_str(&b), "");
	assert_int_equal(hc_buf_addc(&b, 'a'), -1);
	hc_buf_free(&b);
}

static void test_growth_capped(void **state)
{
	struct hc_buf b;
	char chunk[100];
	size_t i;

	memset(chunk, 'a', sizeof(chunk));
	hc_buf_init(&b, 1000);
	for (i = 0; i < 10; i++) {
		assert_int_equal(hc_buf_add(&b, chunk, sizeof(chunk)), 0);
		assert_true(b.cap <= 1001);
		assert_true(b.cap >= b.len + 1);
	}
	assert_int_equal(b.len, 1000);
	assert_int_equal(hc_buf_addc(&b, 'a'), -1);
	assert_int_equal(strlen(hc_buf_str(&b)), 1000);
	hc_buf_free(&b);
}

static void test_take(void **state)
{
	struct hc_buf b;
	size_t len = 99;
	char *s;

	hc_buf_init(&b, 64);
	s = hc_buf_take(&b, &len);
	assert_non_null(s);
	assert_string_equal(s, "");
	assert_int_equal(len, 0);
	free(s);

	assert_int_equal(hc_buf_adds(&b, "abc"), 0);
	s = hc_buf_take(&b, &len);
	assert_string_equal(s, "abc");
	assert_int_equal(len, 3);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	free(s);
	hc_buf_free(&b);
}

static void test_consume(void **state)
{
	struct hc_buf b;

	hc_buf_init(&b, 64);
	hc_buf_consume(&b, 3); /* empty: no-op */
	assert_int_equal(hc_buf_adds(&b, "abcdef"), 0);
	hc_buf_consume(&b, 2);
	assert_string_equal(hc_buf_str(&b), "cdef");
	assert_int_equal(b.len, 4);
	hc_buf_consume(&b, 0);
	assert_string_equal(hc_buf_str(&b), "cdef");
	hc_buf_consume(&b, 100);
	assert_string_equal(hc_buf_str(&b), "");
	assert_int_equal(b.len, 0);
	hc_buf_free(&b);
}

static void test_json_str(void **state)
{
	struct hc_buf b;
	const char in[] = "a\"b\\c\n\t\r\b\f\x01\x1f\x7f"
			  "\xc3\xa9\xe2\x82\xac";

	hc_buf_init(&b, 256);
	assert_int_equal(hc_buf_add_json_str(&b, in, sizeof(in) - 1), 0);
	assert_string_equal(hc_buf_str(&b), "\"a\\\"b\\\\c\\n\\t\\r\\b\\f\\u0001\\u001f\\u007f"
					    "\xc3\xa9\xe2\x82\xac\"");
	hc_buf_reset(&b);
	assert_int_equal(hc_buf_add_json_str(&b, "", 0), 0);
	assert_string_equal(hc_buf_str(&b), "\"\"");
	hc_buf_reset(&b);
	/* embedded NUL is escaped, not a terminator */
	assert_int_equal(hc_buf_add_json_str(&b, "a\0b", 3), 0);
	assert_string_equal(hc_buf_str(&b), "\"a\\u0000b\"");
	hc_buf_free(&b);
}

static void test_json_str_all_or_nothing(void **state)
{
	struct hc_buf b;

	hc_buf_init(&b, 10);
	assert_int_equal(hc_buf_adds(&b, "x="), 0);
	assert_int_equal(hc_buf_add_json_str(&b, "\n\n\n\n", 4), -1);
	assert_string_equal(hc_buf_str(&b), "x=");
	assert_int_equal(hc_buf_add_json_str(&b, "abcdef", 6), 0);
	assert_string_equal(hc_buf_str(&b), "x=\"abcdef\"");
	hc_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_empty_is_empty_string),
	    cmocka_unit_test(test_add_and_terminate),
	    cmocka_unit_test(test_max_enforced_and_unchanged),
	    cmocka_unit_test(test_zero_max),
	    cmocka_unit_test(test_growth_capped),
	    cmocka_unit_test(test_take),
	    cmocka_unit_test(test_consume),
	    cmocka_unit_test(test_json_str),
	    cmocka_unit_test(test_json_str_all_or_nothing),
	};
	return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}
