/* Unit tests for common/httpparse.c: request heads, chunked bodies, URL and
 * query decoding. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "common/httpparse.h"

static long parse(const char *s, struct hc_http_head *h)
{
	return hc_http_parse_head(s, strlen(s), 16384, h);
}

static void test_simple_get(void **state)
{
	struct hc_http_head h;
	const char *req = "GET /api/v1?x=1 HTTP/1.1\r\nHost: a\r\nX-Y:  v w  \r\n\r\nBODY";
	long n = parse(req, &h);
	assert_int_equal(n, (long)(strstr(req, "BODY") - req));
	assert_int_equal(h.method_len, 3);
	assert_memory_equal(h.method, "GET", 3);
	assert_int_equal(h.target_len, strlen("/api/v1?x=1"));
	assert_int_equal(h.minor, 1);
	assert_int_equal(h.nheaders, 2);
	const struct hc_http_header *x = hc_http_find(&h, "x-y");
	assert_non_null(x);
	assert_int_equal(x->value_len, 3);
	assert_memory_equal(x->value, "v w", 3);
	assert_int_equal(h.content_length, -1);
	assert_true(h.keep_alive);
	assert_false(h.chunked);
}

static void test_incomplete_and_bare_lf(void **state)
{
	struct hc_http_head h;
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\n", &h), 0);
	assert_int_equal(parse("GET / HTT", &h), 0);
	assert_int_equal(parse("", &h), 0);
	/* bare LF line ends and leading empty lines are accepted */
	assert_true(parse("\r\n\nGET / HTTP/1.0\nA: b\n\n", &h) > 0);
	assert_int_equal(h.minor, 0);
	assert_false(h.keep_alive);
}

static void test_keepalive_rules(void **state)
{
	struct hc_http_head h;
	assert_true(parse("GET / HTTP/1.1\r\nConnection: close\r\n\r\n", &h) > 0);
	assert_false(h.keep_alive);
	assert_true(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &h) > 0);
	assert_true(h.keep_alive);
	assert_true(parse("GET / HTTP/1.1\r\nConnection: foo, close\r\n\r\n", &h) > 0);
	assert_false(h.keep_alive);
}

static void test_bodies(void **state)
{
	struct hc_http_head h;
	assert_true(parse("POST / HTTP/1.1\r\nContent-Length: 12\r\n\r\n", &h) > 0);
	assert_int_equal(h.content_length, 12);
	assert_true(parse("POST / HTTP/1.1\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n", &h) >
		    0);
	assert_int_equal(
	    parse("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", &h), -400);
	assert_int_equal(parse("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", &h), -400);
	assert_int_equal(parse("POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", &h), -400);
	assert_int_equal(
	    parse("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", &h), -400);
	assert_true(parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", &h) > 0);
	assert_true(h.chunked);
	assert_int_equal(parse("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", &h), -501);
	assert_int_equal(
	    parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", &h),
	    -400);
	assert_true(
	    parse("POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n", &h) > 0);
	assert_true(h.expect_continue);
}

static void test_malformed(void **state)
{
	struct hc_http_head h;
	assert_int_equal(parse("GET  / HTTP/1.1\r\n\r\n", &h), -400);
	assert_int_equal(parse("GET / HTTP/2.0\r\n\r\n", &h), -505);
	assert_int_equal(parse("GET / HTTP/1.2\r\n\r\n", &h), -505);
	assert_int_equal(parse("GET / FTP/1.1\r\n\r\n", &h), -400);
	assert_int_equal(parse("G(T / HTTP/1.1\r\n\r\n", &h), -400);
	assert_int_equal(parse("GET / HTTP/1.1\r\nBad Header: x\r\n\r\n", &h), -400);
	assert_int_equal(parse("GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", &h), -400);
	assert_int_equal(parse("GET / HTTP/1.1\r\nNoColon\r\n\r\n", &h), -400);
	assert_int_equal(parse("GET / HTTP/1.1\r\nA: b\x01\r\n\r\n", &h), -400);
	assert_int_equal(parse("GET /a\x7f HTTP/1.1\r\n\r\n", &h), -400);
}

static void test_limits(void **state)
{
	struct hc_http_head h;
	char big[20000];
	memset(big, 'a', sizeof big);
	memcpy(big, "GET /", 5);
	/* no end of head within max_head: too large */
	assert_int_equal(hc_http_parse_head(big, sizeof big, 16384, &h), -431);
	/* fewer bytes than max_head: keep waiting */
	assert_int_equal(hc_http_parse_head(big, 100, 16384, &h), 0);
	char many[8192];
	size_t n = (size_t)snprintf(many, sizeof many, "GET / HTTP/1.1\r\n");
	for (int i = 0; i < HC_HTTP_MAX_HEADERS + 1; i++)
		n += (size_t)snprintf(many + n, sizeof many - n, "H%d: v\r\n", i);
	n += (size_t)snprintf(many + n, sizeof many - n, "\r\n");
	assert_int_equal(hc_http_parse_head(many, n, 16384, &h), -431);
}

static void test_chunked(void **state)
{
	struct hc_buf out;
	hc_buf_init(&out, 100);
	struct hc_chunked st = {0};
	int done = 0;
	const char *body = "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\nNEXT";
	/* feed one byte at a time: the decoder must be fully incremental */
	size_t i = 0, len = strlen(body);
	while (!done && i < len) {
		ssize_t n = hc_chunked_decode(&st, body + i, 1, &out, &done);
		assert_true(n >= 0);
		i += (size_t)n;
	}
	assert_true(done);
	assert_string_equal(hc_buf_str(&out), "hello world");
	assert_string_equal(body + i, "NEXT");
	hc_buf_free(&out);

	/* whole at once, uppercase hex */
	hc_buf_init(&out, 100);
	memset(&st, 0, sizeof st);
	ssize_t n = hc_chunked_decode(&st, "A\r\n0123456789\r\n0\r\n\r\n", 20, &out, &done);
	assert_int_equal(n, 20);
	assert_true(done);
	assert_int_equal(out.len, 10);
	hc_buf_free(&out);
}

static void test_chunked_errors(void **state)
{
	struct hc_buf out;
	struct hc_chunked st;
	int done;
	hc_buf_init(&out, 8);
	memset(&st, 0, sizeof st);
	assert_int_equal(hc_chunked_decode(&st, "9\r\n", 3, &out, &done), -413);
	memset(&st, 0, sizeof st);
	assert_int_equal(hc_chunked_decode(&st, "zz\r\n", 4, &out, &done), -400);
	memset(&st, 0, sizeof st);
	assert_int_equal(hc_chunked_decode(&st, "\r\n", 2, &out, &done), -400);
	memset(&st, 0, sizeof st);
	assert_int_equal(hc_chunked_decode(&st, "2\r\nabX", 6, &out, &done), -400);
	memset(&st, 0, sizeof st);
	assert_int_equal(hc_chunked_decode(&st, "FFFFFFFFFFFFFFFFF\r\n", 19, &out, &done), -413);
	hc_buf_free(&out);
}

static void test_url_decode(void **state)
{
	char out[64];
	assert_int_equal(hc_url_decode("a%20b+c", 7, out, sizeof out, 1), 5);
	assert_string_equal(out, "a b c");
	assert_int_equal(hc_url_decode("a%20b+c", 7, out, sizeof out, 0), 5);
	assert_string_equal(out, "a b+c");
	assert_int_equal(hc_url_decode("%2f%2F", 6, out, sizeof out, 0), 2);
	assert_string_equal(out, "//");
	assert_int_equal(hc_url_decode("%", 1, out, sizeof out, 0), -1);
	assert_int_equal(hc_url_decode("%4", 2, out, sizeof out, 0), -1);
	assert_int_equal(hc_url_decode("%zz", 3, out, sizeof out, 0), -1);
	assert_int_equal(hc_url_decode("%00", 3, out, sizeof out, 0), -1);
	assert_int_equal(hc_url_decode("abcd", 4, out, 4, 0), -1);
	assert_int_equal(hc_url_decode("abc", 3, out, 4, 0), 3);
}

static void test_query(void **state)
{
	char out[64];
	const char *q = "blocking=true&result&name=a%2Fb&x=1&&limit=";
	size_t n = strlen(q);
	assert_int_equal(hc_query_get(q, n, "blocking", out, sizeof out), 1);
	assert_string_equal(out, "true");
	assert_int_equal(hc_query_get(q, n, "result", out, sizeof out), 1);
	assert_string_equal(out, "");
	assert_int_equal(hc_query_get(q, n, "name", out, sizeof out), 1);
	assert_string_equal(out, "a/b");
	assert_int_equal(hc_query_get(q, n, "limit", out, sizeof out), 1);
	assert_string_equal(out, "");
	assert_int_equal(hc_query_get(q, n, "missing", out, sizeof out), 0);
	assert_int_equal(hc_query_get("a=%zz", 5, "a", out, sizeof out), -1);
	assert_int_equal(hc_query_get("a=1", 3, "a", out, 1), -1);
	/* presence only: found (with or without a value, encoded name) or not */
	assert_int_equal(hc_query_get(q, n, "result", NULL, 0), 1);
	assert_int_equal(hc_query_get(q, n, "name", NULL, 0), 1);
	assert_int_equal(hc_query_get("b%6Cocking=1", 12, "blocking", NULL, 0), 1);
	assert_int_equal(hc_query_get(q, n, "missing", NULL, 0), 0);
	assert_int_equal(hc_query_get(q, n, "bloc", NULL, 0), 0);
}

/* Header values: every byte at every offset of values long enough to be
 * checked eight bytes at a time. Control characters but tab, and DEL, are
 * refused; everything else (bytes from 0x80 on included) is taken. CR and
 * LF end the line, so they are not tried. */
static void test_value_bytes(void **state)
{
	struct hc_http_head h;
	char req[128];
	for (size_t vlen = 1; vlen <= 24; vlen++) {
		for (size_t at = 0; at < vlen; at++) {
			for (int c = 0; c < 256; c++) {
				if (c == '\r' || c == '\n')
					continue;
				int n = snprintf(req, sizeof req, "GET / HTTP/1.1\r\nX: ");
				memset(req + n, 'v', vlen);
				req[(size_t)n + at] = (char)c;
				memcpy(req + (size_t)n + vlen, "\r\n\r\n", 4);
				size_t len = (size_t)n + vlen + 4;
				long r = hc_http_parse_head(req, len, 16384, &h);
				int bad = (c < 0x20 && c != '\t') || c == 0x7f;
				if (bad ? r != -400 : r != (long)len)
					fail_msg("value of %zu bytes, byte 0x%02x at %zu: %ld",
						 vlen, c, at, r);
			}
		}
	}
}

/* Header names: exactly RFC 9110's token characters. */
static void test_name_bytes(void **state)
{
	static const char tchars[] = "!#$%&'*+-.^_`|~0123456789"
				     "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
	struct hc_http_head h;
	char req[64];
	for (int c = 1; c < 256; c++) {
		if (c == ':' || c == '\r' || c == '\n')
			continue;
		int n = snprintf(req, sizeof req, "GET / HTTP/1.1\r\nA%cb: v\r\n\r\n", c);
		long r = hc_http_parse_head(req, (size_t)n, 16384, &h);
		int ok = strchr(tchars, c) != NULL;
		if (ok ? r != n : r > 0)
			fail_msg("name byte 0x%02x: %ld", c, r);
	}
}

/* Nothing to decode (copied as is) and something to decode give the same
 * answers: NUL bytes refused, the output's size respected exactly. */
static void test_url_decode_plain(void **state)
{
	char out[8];
	assert_int_equal(hc_url_decode("abcdefg", 7, out, sizeof out, 1), 7);
	assert_string_equal(out, "abcdefg");
	assert_int_equal(hc_url_decode("abcdefgh", 8, out, sizeof out, 1), -1);
	assert_int_equal(hc_url_decode("", 0, out, sizeof out, 1), 0);
	assert_string_equal(out, "");
	assert_int_equal(hc_url_decode("", 0, out, 0, 1), -1);
	assert_int_equal(hc_url_decode("a\0b", 3, out, sizeof out, 0), -1);
	assert_int_equal(hc_url_decode("a+b", 3, out, sizeof out, 0), 3);
	assert_string_equal(out, "a+b");
	assert_int_equal(hc_url_decode("a+b", 3, out, sizeof out, 1), 3);
	assert_string_equal(out, "a b");
}

/* Names compared as they are or decoded first match the same keys. */
static void test_query_names(void **state)
{
	char out[16];
	const char *q = "bl%6Fcking=1&a+b=2&ab=3&abc&a%00=4&a=5";
	size_t n = strlen(q);
	assert_int_equal(hc_query_get(q, n, "blocking", out, sizeof out), 1);
	assert_string_equal(out, "1");
	assert_int_equal(hc_query_get(q, n, "a b", out, sizeof out), 1);
	assert_string_equal(out, "2");
	assert_int_equal(hc_query_get(q, n, "ab", out, sizeof out), 1);
	assert_string_equal(out, "3");
	assert_int_equal(hc_query_get(q, n, "abc", NULL, 0), 1);
	assert_int_equal(hc_query_get(q, n, "a", out, sizeof out), 1);
	assert_string_equal(out, "5");
	assert_int_equal(hc_query_get(q, n, "a+b", NULL, 0), 0);
	assert_int_equal(hc_query_get(q, n, "bl", NULL, 0), 0);
	assert_int_equal(hc_query_get("x=a%00b", 7, "x", out, sizeof out), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_simple_get),	     cmocka_unit_test(test_incomplete_and_bare_lf),
	    cmocka_unit_test(test_keepalive_rules),  cmocka_unit_test(test_bodies),
	    cmocka_unit_test(test_malformed),	     cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_chunked),	     cmocka_unit_test(test_chunked_errors),
	    cmocka_unit_test(test_url_decode),	     cmocka_unit_test(test_query),
	    cmocka_unit_test(test_value_bytes),	     cmocka_unit_test(test_name_bytes),
	    cmocka_unit_test(test_url_decode_plain), cmocka_unit_test(test_query_names),
	};
	return cmocka_run_group_tests_name("httpparse", tests, NULL, NULL);
}
