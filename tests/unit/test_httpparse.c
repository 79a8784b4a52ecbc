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
	assert_true(parse("POST / HTTP/1.1\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n", &h) > 0);
	assert_int_equal(parse("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", &h), -400);
	assert_int_equal(parse("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", &h), -400);
	assert_int_equal(parse("POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", &h), -400);
	assert_int_equal(parse("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", &h), -400);
	assert_true(parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", &h) > 0);
	assert_true(h.chunked);
	assert_int_equal(parse("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", &h), -501);
	assert_int_equal(parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", &h), -400);
	assert_true(parse("POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n", &h) > 0);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple_get),     cmocka_unit_test(test_incomplete_and_bare_lf),
		cmocka_unit_test(test_keepalive_rules), cmocka_unit_test(test_bodies),
		cmocka_unit_test(test_malformed),      cmocka_unit_test(test_limits),
		cmocka_unit_test(test_chunked),        cmocka_unit_test(test_chunked_errors),
		cmocka_unit_test(test_url_decode),     cmocka_unit_test(test_query),
	};
	return cmocka_run_group_tests_name("httpparse", tests, NULL, NULL);
}
