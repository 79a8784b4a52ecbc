/* test_buf.c — the bounded buffer: limits, growth, JSON escaping, integers
 * without printf, fixed (stack) buffers, reserve. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
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

/* ---- hc_buf_add_int ---- */

/* hc_buf_add_int(v) appended to a buffer equals snprintf's "%" PRId64. */
static void check_int(int64_t v)
{
	struct hc_buf b;
	char want[32];

	snprintf(want, sizeof(want), "%" PRId64, v);
	hc_buf_init(&b, 64);
	assert_int_equal(hc_buf_add_int(&b, v), 0);
	assert_string_equal(hc_buf_str(&b), want);
	assert_int_equal(b.len, strlen(want));
	hc_buf_free(&b);
}

static void test_add_int_values(void **state)
{
	static const int64_t vals[] = {
	    0,
	    9,
	    10,
	    11,
	    19,
	    99,
	    100,
	    101,
	    999,
	    1000,
	    -1,
	    -9,
	    -10,
	    -99,
	    -100,
	    -101,
	    INT64_MIN,
	    INT64_MIN + 1,
	    INT64_MAX,
	    INT64_MAX - 1,
	    1763900000123,
	    -1763900000123,
	    4294967295LL,
	    4294967296LL,
	    1000000000000000000LL,
	    999999999999999999LL,
	};
	struct hc_buf b;
	int64_t p = 1;

	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
		check_int(vals[i]);
	assert_int_equal(INT64_MIN, (int64_t)(-9223372036854775807LL - 1));
	/* every power of ten and its neighbours (digit counts odd and even) */
	for (int i = 0; i < 19; i++) {
		check_int(p - 1);
		check_int(p);
		check_int(p + 1);
		check_int(-p);
		check_int(-p + 1);
		if (i < 18)
			p *= 10; /* 10^18 is the last power of ten an int64_t holds */
	}
	for (int64_t v = -1234; v <= 1234; v++)
		check_int(v);

	/* appends after existing content, keeps the terminator */
	hc_buf_init(&b, 64);
	assert_int_equal(hc_buf_adds(&b, "t="), 0);
	assert_int_equal(hc_buf_add_int(&b, 1763900000123), 0);
	assert_int_equal(hc_buf_addc(&b, ','), 0);
	assert_int_equal(hc_buf_add_int(&b, INT64_MIN), 0);
	assert_string_equal(hc_buf_str(&b), "t=1763900000123,-9223372036854775808");
	hc_buf_free(&b);
}

static void test_add_int_full(void **state)
{
	struct hc_buf b;
	char fixed[8];
	struct hc_buf f = HC_BUF_FIXED(fixed);

	/* one byte short: refused, unchanged */
	hc_buf_init(&b, 5);
	assert_int_equal(hc_buf_adds(&b, "abc"), 0);
	errno = 0;
	assert_int_equal(hc_buf_add_int(&b, 123), -1);
	assert_int_equal(errno, E2BIG);
	assert_string_equal(hc_buf_str(&b), "abc");
	assert_int_equal(b.len, 3);
	/* the sign counts */
	errno = 0;
	assert_int_equal(hc_buf_add_int(&b, -10), -1);
	assert_int_equal(errno, E2BIG);
	assert_string_equal(hc_buf_str(&b), "abc");
	/* exactly to max fits */
	assert_int_equal(hc_buf_add_int(&b, -1), 0);
	assert_string_equal(hc_buf_str(&b), "abc-1");
	assert_int_equal(hc_buf_add_int(&b, 0), -1);
	assert_string_equal(hc_buf_str(&b), "abc-1");
	hc_buf_free(&b);

	/* on a fixed buffer (max 7) */
	assert_int_equal(hc_buf_add_int(&f, 1234567), 0);
	assert_string_equal(fixed, "1234567");
	errno = 0;
	assert_int_equal(hc_buf_add_int(&f, 8), -1);
	assert_int_equal(errno, E2BIG);
	assert_string_equal(fixed, "1234567");
	hc_buf_reset(&f);
	errno = 0;
	assert_int_equal(hc_buf_add_int(&f, 12345678), -1);
	assert_int_equal(errno, E2BIG);
	assert_string_equal(fixed, "");
	assert_int_equal(f.len, 0);
	assert_ptr_equal(f.data, fixed);
}

/* ---- hc_buf_addf ---- */

static void test_addf_matches_snprintf(void **state)
{
	struct hc_buf b;
	char want[4096], big[3000];
	const char *prev;

	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	hc_buf_init(&b, 1 << 16);
	/* allocate: what follows fits the allocation (formatted once) */
	assert_int_equal(hc_buf_adds(&b, "x"), 0);
	assert_true(b.cap > 20);
	prev = b.data;
	assert_int_equal(hc_buf_addf(&b, "%s-%d-%05.1f", "ab", -42, 3.14159), 0);
	snprintf(want, sizeof(want), "x%s-%d-%05.1f", "ab", -42, 3.14159);
	assert_string_equal(hc_buf_str(&b), want);
	assert_int_equal(b.len, strlen(want));
	assert_ptr_equal(b.data, prev);
	/* an empty result */
	assert_int_equal(hc_buf_addf(&b, "%s", ""), 0);
	assert_string_equal(hc_buf_str(&b), want);
	/* exactly filling the allocation (room - 1 bytes) and one past it */
	hc_buf_reset(&b);
	size_t room = b.cap - 1;
	assert_int_equal(hc_buf_addf(&b, "%.*s", (int)room, big), 0);
	assert_int_equal(b.len, room);
	assert_memory_equal(b.data, big, room);
	assert_int_equal(b.data[room], '\0');
	hc_buf_reset(&b);
	assert_int_equal(hc_buf_addf(&b, "%.*s", (int)room + 1, big), 0);
	assert_int_equal(b.len, room + 1);
	assert_memory_equal(b.data, big, room + 1);
	assert_int_equal(b.data[room + 1], '\0');
	/* needs growth: a result larger than the allocation */
	hc_buf_reset(&b);
	assert_int_equal(hc_buf_adds(&b, "head:"), 0);
	assert_int_equal(hc_buf_addf(&b, "[%s|%d]", big, 7), 0);
	snprintf(want, sizeof(want), "head:[%s|%d]", big, 7);
	assert_string_equal(hc_buf_str(&b), want);
	assert_int_equal(b.len, strlen(want));
	hc_buf_free(&b);

	/* on a fresh buffer (nothing allocated yet) */
	hc_buf_init(&b, 100);
	assert_int_equal(hc_buf_addf(&b, "%d/%s", 5, "five"), 0);
	assert_string_equal(hc_buf_str(&b), "5/five");
	hc_buf_free(&b);
}

static void test_addf_limits(void **state)
{
	struct hc_buf b;
	char fixed[10];
	struct hc_buf f = HC_BUF_FIXED(fixed);

	/* allocated room is larger than what max allows: max still rules */
	hc_buf_init(&b, 40);
	assert_int_equal(hc_buf_adds(&b, "0123456789"), 0);
	errno = 0;
	assert_int_equal(hc_buf_addf(&b, "%s", "0123456789012345678901234567890"), -1);
	assert_int_equal(errno, E2BIG);
	assert_string_equal(hc_buf_str(&b), "0123456789");
	assert_int_equal(b.len, 10);
	assert_int_equal(hc_buf_addf(&b, "%s", "012345678901234567890123456789"), 0);
	assert_int_equal(b.len, 40);
	hc_buf_free(&b);

	/* a fixed buffer: fits, then overflows and is left as it was */
	assert_int_equal(hc_buf_addf(&f, "%d:%s", 12, "ab"), 0);
	assert_string_equal(fixed, "12:ab");
	errno = 0;
	assert_int_equal(hc_buf_addf(&f, "%s", "wxyzw"), -1);
	assert_int_equal(errno, E2BIG);
	assert_string_equal(fixed, "12:ab");
	assert_int_equal(f.len, 5);
	assert_int_equal(hc_buf_addf(&f, "%s", "wxyz"), 0);
	assert_string_equal(fixed, "12:abwxyz");
	assert_int_equal(hc_buf_addf(&f, "%s", ""), 0);
	assert_string_equal(fixed, "12:abwxyz");
	assert_ptr_equal(f.data, fixed);
}

/* ---- hc_buf_add_json_str: fast path and escapes ---- */

/* The escaping the function promises, byte by byte. */
static void ref_json(struct hc_buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	hc_buf_addc(out, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char u[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};

		switch (c) {
		case '"':
			hc_buf_adds(out, "\\\"");
			break;
		case '\\':
			hc_buf_adds(out, "\\\\");
			break;
		case '\n':
			hc_buf_adds(out, "\\n");
			break;
		case '\r':
			hc_buf_adds(out, "\\r");
			break;
		case '\t':
			hc_buf_adds(out, "\\t");
			break;
		case '\b':
			hc_buf_adds(out, "\\b");
			break;
		case '\f':
			hc_buf_adds(out, "\\f");
			break;
		default:
			if (c < 0x20 || c == 0x7f)
				hc_buf_adds(out, u);
			else
				hc_buf_addc(out, (char)c);
		}
	}
	hc_buf_addc(out, '"');
}

/* cJSON's own printing of s (NUL-terminated, no 0x7f: cJSON leaves it). */
static void check_like_cjson(const char *s)
{
	struct hc_buf b;
	cJSON *j = cJSON_CreateString(s);
	char *want;

	assert_non_null(j);
	want = cJSON_PrintUnformatted(j);
	assert_non_null(want);
	hc_buf_init(&b, 1 << 16);
	assert_int_equal(hc_buf_add_json_str(&b, s, strlen(s)), 0);
	assert_string_equal(hc_buf_str(&b), want);
	/* and it parses back to the same bytes */
	cJSON *back = cJSON_Parse(hc_buf_str(&b));
	assert_non_null(back);
	assert_string_equal(back->valuestring, s);
	cJSON_Delete(back);
	free(want);
	cJSON_Delete(j);
	hc_buf_free(&b);
}

static void test_json_str_fast_and_escaped(void **state)
{
	struct hc_buf b;

	/* nothing to escape (the one-copy path), UTF-8 passes through */
	check_like_cjson("");
	check_like_cjson("plain ascii text / with slash and 'quotes'");
	check_like_cjson("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	/* escapes at the start, the middle, the very end */
	check_like_cjson("ends with a quote\"");
	check_like_cjson("\"starts with one");
	check_like_cjson("back\\slash at end\\");
	check_like_cjson("tab\there\nnew\rline\bback\fform");
	check_like_cjson("\x01\x02\x1e\x1f ctl");
	check_like_cjson("x\x1f");

	hc_buf_init(&b, 256);
	/* exact text for the byte cJSON leaves alone: DEL is escaped here */
	assert_int_equal(hc_buf_add_json_str(&b, "a\x7f", 2), 0);
	assert_string_equal(hc_buf_str(&b), "\"a\\u007f\"");
	hc_buf_reset(&b);
	assert_int_equal(hc_buf_add_json_str(&b, "\x7f", 1), 0);
	assert_string_equal(hc_buf_str(&b), "\"\\u007f\"");
	hc_buf_reset(&b);
	/* bytes above DEL are not escaped */
	assert_int_equal(hc_buf_add_json_str(&b, "\x80\xff~", 3), 0);
	assert_string_equal(hc_buf_str(&b), "\"\x80\xff~\"");
	hc_buf_reset(&b);
	/* only n bytes are read: a quote past n is not part of the string */
	assert_int_equal(hc_buf_add_json_str(&b, "abc\"def", 3), 0);
	assert_string_equal(hc_buf_str(&b), "\"abc\"");
	hc_buf_reset(&b);
	/* appended after existing content, twice */
	assert_int_equal(hc_buf_adds(&b, "{\"k\":"), 0);
	assert_int_equal(hc_buf_add_json_str(&b, "v", 1), 0);
	assert_int_equal(hc_buf_addc(&b, ','), 0);
	assert_int_equal(hc_buf_add_json_str(&b, "w\"", 2), 0);
	assert_string_equal(hc_buf_str(&b), "{\"k\":\"v\",\"w\\\"\"");
	hc_buf_free(&b);
}

static void test_json_str_random_bytes(void **state)
{
	struct hc_buf got, want;
	char s[300];
	unsigned seed = 12345;

	/* every byte value, then strings mixing plain runs and escapes */
	for (int i = 0; i < 256; i++)
		s[i] = (char)i;
	hc_buf_init(&got, 1 << 16);
	hc_buf_init(&want, 1 << 16);
	assert_int_equal(hc_buf_add_json_str(&got, s, 256), 0);
	ref_json(&want, s, 256);
	assert_string_equal(hc_buf_str(&got), hc_buf_str(&want));
	assert_int_equal(got.len, want.len);
	for (int round = 0; round < 2000; round++) {
		size_t n = (size_t)(rand_r(&seed) % (int)sizeof(s));
		int escapes = rand_r(&seed) % 3; /* 0: none (fast path), 1: few, 2: many */

		for (size_t i = 0; i < n; i++) {
			int r = rand_r(&seed);
			if (escapes == 0 || (escapes == 1 && r % 50))
				s[i] = (char)(0x20 + r % 0x5f); /* printable, may be '"' or '\\' */
			else
				s[i] = (char)(r % 256);
			if (escapes == 0 && (s[i] == '"' || s[i] == '\\'))
				s[i] = 'z';
		}
		hc_buf_reset(&got);
		hc_buf_reset(&want);
		assert_int_equal(hc_buf_add_json_str(&got, s, n), 0);
		ref_json(&want, s, n);
		assert_int_equal(got.len, want.len);
		assert_memory_equal(got.data, want.data, want.len + 1);
	}
	hc_buf_free(&got);
	hc_buf_free(&want);
}

static void test_json_str_fast_path_limits(void **state)
{
	struct hc_buf b;
	char fixed[8];
	struct hc_buf f = HC_BUF_FIXED(fixed);

	/* nothing to escape but too long: refused whole, unchanged */
	hc_buf_init(&b, 10);
	assert_int_equal(hc_buf_adds(&b, "x="), 0);
	errno = 0;
	assert_int_equal(hc_buf_add_json_str(&b, "abcdefg", 7), -1);
	assert_int_equal(errno, E2BIG);
	assert_string_equal(hc_buf_str(&b), "x=");
	assert_int_equal(b.len, 2);
	/* exactly to max */
	assert_int_equal(hc_buf_add_json_str(&b, "abcdef", 6), 0);
	assert_string_equal(hc_buf_str(&b), "x=\"abcdef\"");
	assert_int_equal(b.len, 10);
	hc_buf_free(&b);

	/* a fixed buffer: the quotes count */
	assert_int_equal(hc_buf_add_json_str(&f, "abcde", 5), 0);
	assert_string_equal(fixed, "\"abcde\"");
	assert_int_equal(hc_buf_add_json_str(&f, "", 0), -1);
	assert_string_equal(fixed, "\"abcde\"");
	hc_buf_reset(&f);
	assert_int_equal(hc_buf_add_json_str(&f, "abcdef", 6), -1);
	assert_string_equal(fixed, "");
	/* the escaping path on a fixed buffer is all or nothing too */
	assert_int_equal(hc_buf_add_json_str(&f, "a\nb", 3), 0);
	assert_string_equal(fixed, "\"a\\nb\"");
	hc_buf_reset(&f);
	assert_int_equal(hc_buf_add_json_str(&f, "\x01", 1), -1);
	assert_string_equal(fixed, "");
	assert_int_equal(f.len, 0);
	assert_ptr_equal(f.data, fixed);
}

/* ---- HC_BUF_FIXED ---- */

static void test_fixed(void **state)
{
	char arr[16];
	struct hc_buf b;

	memset(arr, 'Z', sizeof(arr));
	b = HC_BUF_FIXED(arr);
	assert_ptr_equal(b.data, arr);
	assert_int_equal(arr[0], '\0');
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, sizeof(arr));
	assert_int_equal(b.max, sizeof(arr) - 1);
	assert_string_equal(hc_buf_str(&b), "");

	assert_int_equal(hc_buf_adds(&b, "hello"), 0);
	assert_int_equal(hc_buf_addc(&b, ' '), 0);
	assert_int_equal(hc_buf_add(&b, "world", 5), 0);
	assert_string_equal(arr, "hello world");
	assert_int_equal(b.len, 11);
	/* an add that does not fit fails with E2BIG and changes nothing */
	errno = 0;
	assert_int_equal(hc_buf_adds(&b, "12345"), -1);
	assert_int_equal(errno, E2BIG);
	assert_string_equal(arr, "hello world");
	assert_int_equal(b.len, 11);
	assert_ptr_equal(b.data, arr);
	assert_int_equal(b.cap, sizeof(arr));
	/* up to max (15 bytes) fits; then nothing more, not even one byte */
	assert_int_equal(hc_buf_adds(&b, "1234"), 0);
	assert_string_equal(arr, "hello world1234");
	assert_int_equal(b.len, 15);
	errno = 0;
	assert_int_equal(hc_buf_addc(&b, '!'), -1);
	assert_int_equal(errno, E2BIG);
	assert_int_equal(hc_buf_add(&b, "", 0), 0);
	assert_string_equal(arr, "hello world1234");
	/* reset and consume work on it */
	hc_buf_consume(&b, 6);
	assert_string_equal(arr, "world1234");
	hc_buf_reset(&b);
	assert_string_equal(hc_buf_str(&b), "");
	assert_ptr_equal(b.data, arr);
}

/* ---- hc_buf_reserve ---- */

static void test_reserve(void **state)
{
	struct hc_buf b;
	char chunk[600];
	const char *p;

	memset(chunk, 'r', sizeof(chunk));
	hc_buf_init(&b, 1000);
	/* one allocation, then adds up to that size do not move the data */
	assert_int_equal(hc_buf_reserve(&b, 600), 0);
	assert_non_null(b.data);
	assert_int_equal(b.len, 0);
	assert_true(b.cap >= 601);
	assert_true(b.cap <= 1001);
	p = b.data;
	for (int i = 0; i < 6; i++)
		assert_int_equal(hc_buf_add(&b, chunk, 100), 0);
	assert_ptr_equal(b.data, p);
	assert_int_equal(b.len, 600);
	assert_memory_equal(b.data, chunk, 600);
	assert_int_equal(b.data[600], '\0');
	/* reserving what is there already changes nothing */
	assert_int_equal(hc_buf_reserve(&b, 0), 0);
	assert_ptr_equal(b.data, p);
	/* past max: E2BIG, content unchanged */
	errno = 0;
	assert_int_equal(hc_buf_reserve(&b, 401), -1);
	assert_int_equal(errno, E2BIG);
	assert_int_equal(b.len, 600);
	assert_int_equal(strlen(hc_buf_str(&b)), 600);
	/* up to max is fine and keeps the content */
	assert_int_equal(hc_buf_reserve(&b, 400), 0);
	assert_int_equal(b.cap, 1001);
	assert_int_equal(strlen(hc_buf_str(&b)), 600);
	assert_memory_equal(b.data, chunk, 600);
	assert_int_equal(hc_buf_add(&b, chunk, 400), 0);
	assert_int_equal(b.len, 1000);
	hc_buf_free(&b);

	/* a fixed buffer: within its size succeeds without allocating */
	char arr[32];
	struct hc_buf f = HC_BUF_FIXED(arr);
	assert_int_equal(hc_buf_reserve(&f, 31), 0);
	assert_ptr_equal(f.data, arr);
	errno = 0;
	assert_int_equal(hc_buf_reserve(&f, 32), -1);
	assert_int_equal(errno, E2BIG);
	assert_ptr_equal(f.data, arr);
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
	    cmocka_unit_test(test_add_int_values),
	    cmocka_unit_test(test_add_int_full),
	    cmocka_unit_test(test_addf_matches_snprintf),
	    cmocka_unit_test(test_addf_limits),
	    cmocka_unit_test(test_json_str_fast_and_escaped),
	    cmocka_unit_test(test_json_str_random_bytes),
	    cmocka_unit_test(test_json_str_fast_path_limits),
	    cmocka_unit_test(test_fixed),
	    cmocka_unit_test(test_reserve),
	};
	return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}
