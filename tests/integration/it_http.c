/* Integration tests for common/http.c: a real server on a loopback port,
 * driven through raw sockets so every byte on the wire is under the
 * test's control (limits, slow clients, pipelining, shutdown, replies
 * larger than the socket buffer, half-closed clients, handlers slower than
 * the idle timeout, a local socket beside the port). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/http.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/localnet.h"
#include "tests/lib/wait.h"

struct fixture {
	struct hc_server *srv;
	pthread_t thr;
	int port;
	int run_rc;
};

static void h_hello(struct hc_req *req, void *arg)
{
	hc_req_add_header(req, "X-Test", "yes");
	hc_reply(req, 200, "text/plain", "hello", 5);
}

static void h_echo(struct hc_req *req, void *arg)
{
	size_t len;
	const char *b = hc_req_body(req, &len);
	hc_reply(req, 200, "application/octet-stream", b, len);
}

static void h_query(struct hc_req *req, void *arg)
{
	const char *v = hc_req_query(req, "blocking");
	const char *p = hc_req_param(req, "name");
	char out[256];
	int n = snprintf(out, sizeof out, "%s|%s|%s", v ? v : "(null)", p ? p : "(null)",
			 hc_req_header(req, "x-custom") ? hc_req_header(req, "x-custom") : "");
	hc_reply(req, 200, "text/plain", out, (size_t)n);
}

static void later_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hc_req *req = arg;
	/* a reply to a client that has gone is accepted and discarded */
	hc_reply(req, 200, "text/plain", "later", 5);
}

static void h_defer(struct hc_req *req, void *arg)
{
	struct timeval tv = {0, 100 * 1000};
	event_base_once(hc_req_loop(req)->base, -1, EV_TIMEOUT, later_cb, req, &tv);
}

/* The byte at offset i of a large body: position-dependent, so a lost,
 * repeated or reordered piece shows. */
static char pat(size_t i)
{
	return (char)('A' + (i * 7 + i / 4096) % 26);
}

#define HUGE_LEN  (8u << 20) /* far more than loopback socket buffers hold */
#define LARGE_LEN (2u << 20)

static void reply_pattern(struct hc_req *req, size_t n)
{
	char *body = malloc(n);
	assert_non_null(body);
	for (size_t i = 0; i < n; i++)
		body[i] = pat(i);
	hc_reply(req, 200, "application/octet-stream", body, n);
	free(body);
}

static void h_huge(struct hc_req *req, void *arg)
{
	reply_pattern(req, HUGE_LEN);
}

static void later_large_cb(evutil_socket_t fd, short what, void *arg)
{
	reply_pattern(arg, LARGE_LEN);
}

static void h_defer_large(struct hc_req *req, void *arg)
{
	struct timeval tv = {0, 100 * 1000};
	event_base_once(hc_req_loop(req)->base, -1, EV_TIMEOUT, later_large_cb, req, &tv);
}

static void slow_cb(evutil_socket_t fd, short what, void *arg)
{
	hc_reply(arg, 200, "text/plain", "slow", 4);
}

/* replies after 600 ms: longer than the idle timeout of the tests using it */
static void h_slow(struct hc_req *req, void *arg)
{
	struct timeval tv = {0, 600 * 1000};
	event_base_once(hc_req_loop(req)->base, -1, EV_TIMEOUT, slow_cb, req, &tv);
}

static struct hc_req *parked; /* answered only by the shutdown path */

static void h_never(struct hc_req *req, void *arg)
{
	parked = req;
}

static void h_error(struct hc_req *req, void *arg)
{
	hc_reply_error(req, 409, "resource already exists");
}

/* The pattern of HUGE_LEN bytes, handed over (take): what the kernel does
 * not take at once is queued by reference, from past the body's start. */
static void h_take_huge(struct hc_req *req, void *arg)
{
	struct hc_buf b;
	hc_buf_init(&b, HUGE_LEN);
	assert_int_equal(hc_buf_reserve(&b, HUGE_LEN), 0);
	for (size_t i = 0; i < HUGE_LEN; i++)
		b.data[i] = pat(i);
	b.len = HUGE_LEN;
	b.data[b.len] = 0;
	hc_reply_buf(req, 200, "application/octet-stream", &b);
}

/* 204 with a body the server must not send */
static void h_nocontent(struct hc_req *req, void *arg)
{
	hc_reply(req, 204, "text/plain", "dropped", 7);
}

static void h_peer(struct hc_req *req, void *arg)
{
	const char *p = hc_req_peer(req);
	hc_reply(req, 200, "text/plain", p, strlen(p));
}

static void *run_thread(void *arg)
{
	struct fixture *f = arg;
	f->run_rc = hc_server_run(f->srv);
	return NULL;
}

static const char *start_unix; /* the next start()'s local socket, or NULL */

static struct fixture *start(int threads, long max_conns, long req_timeout, long idle)
{
	struct fixture *f = calloc(1, sizeof *f);
	struct hc_err err = {{0}};
	struct hc_server_opts o = {
	    .name = "test",
	    .threads = threads,
	    .max_head = 4096,
	    .max_body = 1024,
	    .max_conns = max_conns,
	    .request_timeout_ms = req_timeout,
	    .idle_timeout_ms = idle,
	    .unix_name = start_unix,
	};
	f->srv = hc_server_new(&o, &err);
	assert_non_null(f->srv);
	assert_int_equal(hc_server_route(f->srv, HC_GET, "/hello", h_hello, NULL, 0), 0);
	assert_int_equal(hc_server_route(f->srv, HC_POST, "/echo", h_echo, NULL, 0), 0);
	assert_int_equal(hc_server_route(f->srv, HC_POST, "/big", h_echo, NULL, 4 << 20), 0);
	assert_int_equal(hc_server_route(f->srv, HC_GET | HC_POST, "/q/{name+}", h_query, NULL, 0),
			 0);
	assert_int_equal(hc_server_route(f->srv, HC_GET, "/defer", h_defer, NULL, 0), 0);
	assert_int_equal(hc_server_route(f->srv, HC_GET, "/never", h_never, NULL, 0), 0);
	assert_int_equal(hc_server_route(f->srv, HC_GET, "/error", h_error, NULL, 0), 0);
	assert_int_equal(hc_server_route(f->srv, HC_GET, "/huge", h_huge, NULL, 0), 0);
	assert_int_equal(hc_server_route(f->srv, HC_GET, "/defer-large", h_defer_large, NULL, 0),
			 0);
	assert_int_equal(hc_server_route(f->srv, HC_GET, "/slow", h_slow, NULL, 0), 0);
	assert_int_equal(
	    hc_server_route(f->srv, HC_GET | HC_HEAD, "/take-huge", h_take_huge, NULL, 0), 0);
	assert_int_equal(hc_server_route(f->srv, HC_GET, "/nocontent", h_nocontent, NULL, 0), 0);
	assert_int_equal(hc_server_route(f->srv, HC_POST, "/mid", h_echo, NULL, 64 << 10), 0);
	assert_int_equal(hc_server_route(f->srv, HC_GET, "/peer", h_peer, NULL, 0), 0);
	assert_int_equal(hc_server_route(f->srv, HC_GET, "/metrics", hc_handle_metrics, NULL, 0),
			 0);
	f->port = hc_server_port(f->srv);
	assert_true(f->port > 0);
	assert_int_equal(pthread_create(&f->thr, NULL, run_thread, f), 0);
	return f;
}

static void stop(struct fixture *f)
{
	hc_server_stop(f->srv);
	pthread_join(f->thr, NULL);
	hc_server_free(f->srv);
	free(f);
}

static int dial(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
	return fd;
}

static void send_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
		if (w <= 0)
			return; /* the server may have closed already: that is tested by reads */
		s += w;
		n -= (size_t)w;
	}
}

/* Read one response: head, then Content-Length bytes. Returns its length in
 * buf (NUL-terminated), or -1 on timeout / EOF before anything arrived. */
static int read_response(int fd, char *buf, size_t cap, int timeout_ms)
{
	size_t len = 0;
	uint64_t end = hc_mono_us() + (uint64_t)timeout_ms * 1000;
	for (;;) {
		buf[len] = 0;
		char *he = strstr(buf, "\r\n\r\n");
		if (he) {
			const char *cl = strstr(buf, "Content-Length: ");
			size_t want =
			    (size_t)(he + 4 - buf) + (cl && cl < he ? (size_t)atol(cl + 16) : 0);
			if (len >= want) {
				return (int)want;
			}
		}
		uint64_t now = hc_mono_us();
		if (now >= end || len + 1 >= cap)
			return len ? (int)len : -1;
		struct pollfd p = {fd, POLLIN, 0};
		if (poll(&p, 1, (int)((end - now) / 1000) + 1) <= 0)
			return len ? (int)len : -1;
		ssize_t r = recv(fd, buf + len, cap - 1 - len, 0);
		if (r <= 0)
			return len ? (int)len : -1;
		len += (size_t)r;
	}
}

/* Nonzero when the server closed the connection within timeout_ms. */
static int closed_by_peer(int fd, int timeout_ms)
{
	char b[256];
	uint64_t end = hc_mono_us() + (uint64_t)timeout_ms * 1000;
	while (hc_mono_us() < end) {
		struct pollfd p = {fd, POLLIN, 0};
		if (poll(&p, 1, 50) > 0) {
			ssize_t r = recv(fd, b, sizeof b, 0);
			if (r <= 0)
				return 1;
		}
	}
	return 0;
}

/* Send request on a new connection: the reply holds want. */
static void expect_reply(int port, const char *request, const char *want)
{
	int fd = dial(port);
	char buf[4096];
	send_all(fd, request, strlen(request));
	assert_true(read_response(fd, buf, sizeof buf, 2000) > 0);
	assert_non_null(strstr(buf, want));
	close(fd);
}

static void test_basic_and_keepalive(void **state)
{
	struct fixture *f = start(1, 0, 0, 0);
	int fd = dial(f->port);
	char buf[8192];
	for (int i = 0; i < 3; i++) {
		send_all(fd, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", 32);
		int n = read_response(fd, buf, sizeof buf, 2000);
		assert_true(n > 0);
		assert_non_null(strstr(buf, "HTTP/1.1 200 OK\r\n"));
		assert_non_null(strstr(buf, "Content-Length: 5\r\n"));
		assert_non_null(strstr(buf, "X-Test: yes\r\n"));
		assert_null(strstr(buf, "Connection: close"));
		assert_string_equal(buf + n - 5, "hello");
	}
	/* HTTP/1.0 without keep-alive: answered, then closed */
	send_all(fd, "GET /hello HTTP/1.0\r\n\r\n", 23);
	assert_true(read_response(fd, buf, sizeof buf, 2000) > 0);
	assert_non_null(strstr(buf, "Connection: close"));
	assert_true(closed_by_peer(fd, 2000));
	close(fd);
	stop(f);
}

static void test_pipelining(void **state)
{
	struct fixture *f = start(1, 0, 0, 0);
	int fd = dial(f->port);
	const char *two = "POST /echo HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
			  "GET /defer HTTP/1.1\r\n\r\n"
			  "POST /echo HTTP/1.1\r\nContent-Length: 2\r\n\r\nxy";
	send_all(fd, two, strlen(two));
	/* read the whole stream: three responses, in request order */
	char buf[8192];
	size_t len = 0;
	uint64_t end = hc_mono_us() + 3000000;
	while (hc_mono_us() < end && len < sizeof buf - 1) {
		struct pollfd p = {fd, POLLIN, 0};
		if (poll(&p, 1, 100) <= 0)
			continue;
		ssize_t r = recv(fd, buf + len, sizeof buf - 1 - len, 0);
		if (r <= 0)
			break;
		len += (size_t)r;
		buf[len] = 0;
		if (strstr(buf, "\r\n\r\nxy"))
			break;
	}
	buf[len] = 0;
	char *a = strstr(buf, "\r\n\r\nabc"), *l = strstr(buf, "\r\n\r\nlater");
	char *x = strstr(buf, "\r\n\r\nxy");
	assert_non_null(a);
	assert_non_null(l);
	assert_non_null(x);
	assert_true(a < l && l < x);
	close(fd);
	stop(f);
}

static void expect_json_error(int fd, const char *req, const char *status_line, int closes)
{
	char buf[8192];
	send_all(fd, req, strlen(req));
	int n = read_response(fd, buf, sizeof buf, 3000);
	assert_true(n > 0);
	if (!strstr(buf, status_line))
		fail_msg("expected %s, got: %s", status_line, buf);
	assert_non_null(strstr(buf, "Content-Type: application/json\r\n"));
	assert_non_null(strstr(buf, "{\"error\":\""));
	assert_non_null(strstr(buf, "\"code\":\""));
	if (closes)
		assert_true(closed_by_peer(fd, 2000));
}

static void test_errors_are_json(void **state)
{
	struct fixture *f = start(1, 0, 0, 0);
	int fd;
	fd = dial(f->port);
	expect_json_error(fd, "GET /nope HTTP/1.1\r\n\r\n", "HTTP/1.1 404 Not Found", 1);
	close(fd);
	fd = dial(f->port);
	expect_json_error(fd, "DELETE /hello HTTP/1.1\r\n\r\n", "HTTP/1.1 405", 1);
	close(fd);
	fd = dial(f->port);
	expect_json_error(fd, "BREW /hello HTTP/1.1\r\n\r\n", "HTTP/1.1 501", 1);
	close(fd);
	fd = dial(f->port);
	expect_json_error(fd, "GET / HTTP/1.1\r\nBad Header: x\r\n\r\n", "HTTP/1.1 400", 1);
	close(fd);
	fd = dial(f->port);
	expect_json_error(fd, "GET / HTTP/3.0\r\n\r\n", "HTTP/1.1 505", 1);
	close(fd);
	fd = dial(f->port);
	expect_json_error(fd, "POST /echo HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
			  "HTTP/1.1 501", 1);
	close(fd);
	/* handler errors keep the connection and carry the request id */
	fd = dial(f->port);
	expect_json_error(fd, "GET /error HTTP/1.1\r\nX-Request-ID: abc-123\r\n\r\n",
			  "HTTP/1.1 409 Conflict", 0);
	send_all(fd, "GET /error HTTP/1.1\r\nX-Request-ID: abc-123\r\n\r\n", 46);
	char buf[4096];
	assert_true(read_response(fd, buf, sizeof buf, 2000) > 0);
	assert_non_null(
	    strstr(buf, "{\"error\":\"resource already exists\",\"code\":\"abc-123\"}"));
	close(fd);
	stop(f);
}

static void test_limits(void **state)
{
	struct fixture *f = start(1, 0, 0, 0);
	/* head larger than max_head (4096) */
	char big[6000];
	int n = snprintf(big, sizeof big, "GET /hello HTTP/1.1\r\nX-Big: ");
	memset(big + n, 'a', sizeof big - (size_t)n - 5);
	memcpy(big + sizeof big - 5, "\r\n\r\n", 5);
	int fd = dial(f->port);
	expect_json_error(fd, big, "HTTP/1.1 431", 1);
	close(fd);
	/* body over the route's limit: refused from Content-Length alone */
	fd = dial(f->port);
	expect_json_error(fd, "POST /echo HTTP/1.1\r\nContent-Length: 5000\r\n\r\n", "HTTP/1.1 413",
			  1);
	close(fd);
	/* a route with a larger limit takes it */
	fd = dial(f->port);
	char *body = malloc(200000);
	n = snprintf(body, 200000, "POST /big HTTP/1.1\r\nContent-Length: 150000\r\n\r\n");
	memset(body + n, 'z', 150000);
	send_all(fd, body, (size_t)n + 150000);
	char *resp = malloc(300000);
	int rn = read_response(fd, resp, 300000, 5000);
	assert_true(rn > 150000);
	assert_non_null(strstr(resp, "Content-Length: 150000\r\n"));
	free(resp);
	free(body);
	close(fd);
	/* chunked over the limit */
	fd = dial(f->port);
	char chunked[4000];
	n = snprintf(chunked, sizeof chunked,
		     "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
	for (int i = 0; i < 3; i++)
		n += snprintf(chunked + n, sizeof chunked - (size_t)n, "200\r\n%0512d\r\n", 0);
	expect_json_error(fd, chunked, "HTTP/1.1 413", 1);
	close(fd);
	stop(f);
}

static void test_chunked_and_continue(void **state)
{
	struct fixture *f = start(1, 0, 0, 0);
	int fd = dial(f->port);
	const char *req = "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
			  "3\r\nabc\r\n4;x=y\r\ndefg\r\n0\r\n\r\n";
	send_all(fd, req, strlen(req));
	char buf[4096];
	int n = read_response(fd, buf, sizeof buf, 2000);
	assert_true(n > 0);
	assert_string_equal(buf + n - 7, "abcdefg");
	/* Expect: 100-continue gets an interim response before the body */
	const char *head =
	    "POST /echo HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n";
	send_all(fd, head, strlen(head));
	n = (int)recv(fd, buf, 25, MSG_WAITALL);
	assert_int_equal(n, 25);
	buf[n] = 0;
	assert_string_equal(buf, "HTTP/1.1 100 Continue\r\n\r\n");
	send_all(fd, "wxyz", 4);
	n = read_response(fd, buf, sizeof buf, 2000);
	assert_true(n > 0);
	assert_string_equal(buf + n - 4, "wxyz");
	close(fd);
	stop(f);
}

static void test_params_query_headers(void **state)
{
	struct fixture *f = start(1, 0, 0, 0);
	int fd = dial(f->port);
	const char *req = "GET /q/pkg/na%20me?x=1&blocking=true HTTP/1.1\r\nX-Custom: c1\r\n\r\n";
	send_all(fd, req, strlen(req));
	char buf[4096];
	int n = read_response(fd, buf, sizeof buf, 2000);
	assert_true(n > 0);
	assert_non_null(strstr(buf, "true|pkg/na me|c1"));
	close(fd);
	stop(f);
}

static void test_slow_clients(void **state)
{
	/* request must arrive whole within 300 ms; idle connections close at 600 ms */
	struct fixture *f = start(1, 0, 300, 600);
	int fd = dial(f->port);
	send_all(fd, "GET /hello HTTP/1.1\r\n", 21);
	uint64_t t0 = hc_mono_us();
	char buf[4096];
	/* trickle a header byte every 100 ms: the idle timer never fires, the deadline does */
	for (int i = 0; i < 5; i++) {
		th_sleep_ms(100);
		send_all(fd, "X", 1);
	}
	int n = read_response(fd, buf, sizeof buf, 2000);
	assert_true(n > 0);
	assert_non_null(strstr(buf, "HTTP/1.1 408"));
	assert_true(closed_by_peer(fd, 2000));
	assert_true(hc_mono_us() - t0 < 2000000);
	close(fd);
	/* an idle keep-alive connection is closed */
	fd = dial(f->port);
	assert_true(closed_by_peer(fd, 3000));
	close(fd);
	/* and the server still serves */
	fd = dial(f->port);
	send_all(fd, "GET /hello HTTP/1.1\r\n\r\n", 23);
	assert_true(read_response(fd, buf, sizeof buf, 2000) > 0);
	assert_non_null(strstr(buf, "200 OK"));
	close(fd);
	stop(f);
}

static void test_connection_cap(void **state)
{
	struct fixture *f = start(1, 3, 0, 0);
	int fds[3];
	char buf[4096];
	for (int i = 0; i < 3; i++) {
		fds[i] = dial(f->port);
		send_all(fds[i], "GET /hello HTTP/1.1\r\n\r\n", 23);
		assert_true(read_response(fds[i], buf, sizeof buf, 2000) > 0);
	}
	int extra = dial(f->port);
	int n = read_response(extra, buf, sizeof buf, 2000);
	assert_true(n > 0);
	assert_non_null(strstr(buf, "HTTP/1.1 503"));
	assert_non_null(strstr(buf, "{\"error\":"));
	close(extra);
	close(fds[0]);
	th_sleep_ms(100);
	/* a slot is free again */
	extra = dial(f->port);
	send_all(extra, "GET /hello HTTP/1.1\r\n\r\n", 23);
	assert_true(read_response(extra, buf, sizeof buf, 2000) > 0);
	assert_non_null(strstr(buf, "200 OK"));
	close(extra);
	close(fds[1]);
	close(fds[2]);
	stop(f);
}

static void test_client_gone_before_deferred_reply(void **state)
{
	struct fixture *f = start(1, 0, 0, 0);
	for (int i = 0; i < 5; i++) {
		int fd = dial(f->port);
		send_all(fd, "GET /defer HTTP/1.1\r\n\r\n", 23);
		close(fd);
	}
	th_sleep_ms(300);
	expect_reply(f->port, "GET /defer HTTP/1.1\r\n\r\n", "later");
	stop(f);
}

struct load_arg {
	int port;
	int ok;
};

static void *load_thread(void *arg)
{
	struct load_arg *a = arg;
	int fd = dial(a->port);
	char buf[4096];
	for (int i = 0; i < 50; i++) {
		send_all(fd, "GET /hello HTTP/1.1\r\n\r\n", 23);
		if (read_response(fd, buf, sizeof buf, 3000) > 0 && strstr(buf, "hello"))
			a->ok++;
	}
	close(fd);
	return NULL;
}

static void test_threads(void **state)
{
	struct fixture *f = start(2, 0, 0, 0);
	assert_int_equal(hc_server_nloops(f->srv), 2);
	pthread_t t[16];
	struct load_arg a[16];
	for (int i = 0; i < 16; i++) {
		a[i].port = f->port;
		a[i].ok = 0;
		pthread_create(&t[i], NULL, load_thread, &a[i]);
	}
	for (int i = 0; i < 16; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(a[i].ok, 50);
	}
	/* metrics count what was served */
	int fd = dial(f->port);
	char *buf = malloc(65536);
	send_all(fd, "GET /metrics HTTP/1.1\r\n\r\n", 25);
	assert_true(read_response(fd, buf, 65536, 2000) > 0);
	assert_non_null(strstr(buf, "hearth_http_requests_total{server=\"test\",code=\"2xx\"}"));
	free(buf);
	close(fd);
	stop(f);
}

/* The listeners share their port between loops (SO_REUSEPORT), which
 * would let a second server of the same user bind it too and take some of
 * its connections: it must refuse instead. Its own loops still share. */
static void test_port_not_shared(void **state)
{
	struct fixture *f = start(2, 0, 0, 0);
	struct hc_err err = {{0}};
	struct hc_server_opts o = {.name = "second", .threads = 1, .port = f->port};
	struct hc_server *s2 = hc_server_new(&o, &err);
	assert_null(s2);
	assert_non_null(strstr(err.msg, "something else listens there"));
	expect_reply(f->port, "GET /hello HTTP/1.1\r\n\r\n", "200 OK");
	stop(f);
}

static int dial_unix(const char *name)
{
	struct sockaddr_un a;
	socklen_t sl;
	assert_int_equal(hc_unix_addr(name, &a, &sl), 0);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sl), 0);
	return fd;
}

/* Also listening on a local socket (the runtime's, for a controller on its
 * host): the same routes there, beside the port; an abstract name leaves
 * nothing behind; a path is made, refused to a second server, and removed
 * at the end; a name that cannot be one is refused at start. */
static void test_local_socket(void **state)
{
	char name[64], path[64], buf[4096];
	struct hc_err err = {{0}};
	snprintf(name, sizeof name, "@hearth-it-http-%d", (int)getpid());
	snprintf(path, sizeof path, "/tmp/hearth-it-http-%d.sock", (int)getpid());
	for (int k = 0; k < 2; k++) {
		const char *n = k ? path : name;
		start_unix = n;
		struct fixture *f = start(2, 0, 0, 0);
		start_unix = NULL;
		int fd = dial_unix(n);
		for (int i = 0; i < 2; i++) {
			send_all(fd, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", 32);
			int len = read_response(fd, buf, sizeof buf, 2000);
			assert_true(len > 0);
			assert_non_null(strstr(buf, "HTTP/1.1 200 OK\r\n"));
			assert_string_equal(buf + len - 5, "hello");
		}
		static const char peer_req[] = "GET /peer HTTP/1.1\r\n\r\n";
		send_all(fd, peer_req, sizeof peer_req - 1);
		int len = read_response(fd, buf, sizeof buf, 2000);
		assert_true(len > 5);
		assert_string_equal(buf + len - 5, "local");
		close(fd);
		expect_reply(f->port, "GET /peer HTTP/1.1\r\n\r\n", "127.0.0.1:");
		struct stat st;
		if (k) {
			assert_int_equal(stat(path, &st), 0);
			assert_true(S_ISSOCK(st.st_mode));
			struct hc_server_opts o = {.name = "second", .unix_name = path};
			assert_null(hc_server_new(&o, &err));
			assert_non_null(strstr(err.msg, "another server has it"));
			assert_int_equal(stat(path, &st), 0); /* not the second's to remove */
		}
		stop(f);
		if (k)
			assert_int_equal(stat(path, &st) < 0 && errno == ENOENT, 1);
		/* nothing listens there any more */
		struct sockaddr_un sa;
		socklen_t sl;
		assert_int_equal(hc_unix_addr(n, &sa, &sl), 0);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		assert_int_equal(connect(fd, (struct sockaddr *)&sa, sl), -1);
		close(fd);
	}
	struct hc_server_opts bad = {.name = "bad", .unix_name = "@"};
	assert_null(hc_server_new(&bad, &err));
	assert_non_null(strstr(err.msg, "bad local socket name"));
}

static void test_shutdown_answers_pending(void **state)
{
	struct fixture *f = start(1, 0, 0, 0);
	int fd = dial(f->port);
	parked = NULL;
	send_all(fd, "GET /never HTTP/1.1\r\n\r\n", 23);
	TH_RETRY(1000, 10) {
		if (parked)
			break;
	}
	assert_non_null(parked);
	hc_server_stop(f->srv);
	char buf[4096];
	int n = read_response(fd, buf, sizeof buf, 3000);
	assert_true(n > 0);
	assert_non_null(strstr(buf, "HTTP/1.1 503"));
	assert_non_null(strstr(buf, "shutting down"));
	pthread_join(f->thr, NULL);
	assert_int_equal(f->run_rc, 0);
	/* new connections are refused once stopped */
	int fd2 = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)f->port)};
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	int rc = connect(fd2, (struct sockaddr *)&a, sizeof a);
	if (rc == 0) {
		/* the listening socket may linger in the backlog: nothing must be served */
		send_all(fd2, "GET /hello HTTP/1.1\r\n\r\n", 23);
		assert_true(read_response(fd2, buf, sizeof buf, 300) < 0 || !strstr(buf, "200 OK"));
	}
	close(fd2);
	close(fd);
	hc_server_free(f->srv);
	free(f);
}

/* ---- large replies, half-close, slow handlers, pipelining ---- */

/* A client with a small receive window: the server cannot hand a large
 * reply to the kernel at once and must wait for writability. */
static int dial_small_window(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int sz = 32 * 1024;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz), 0);
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
	return fd;
}

/* A buffered reader over a raw socket, for responses of any size. */
struct rd {
	int fd;
	char buf[65536];
	size_t len;
	int eof;
};

/* A reader on connection fd (dial or dial_small_window); rd_free closes it. */
static struct rd *rd_new(int fd)
{
	struct rd *r = calloc(1, sizeof *r);
	assert_non_null(r);
	r->fd = fd;
	return r;
}

static void rd_free(struct rd *r)
{
	close(r->fd);
	free(r);
}

/* Read more into r within timeout_ms. 1: got bytes; 0: EOF; -1: timeout. */
static int rd_more(struct rd *r, int timeout_ms)
{
	struct pollfd p = {r->fd, POLLIN, 0};
	if (r->len == sizeof r->buf)
		return -1;
	if (poll(&p, 1, timeout_ms) <= 0)
		return -1;
	ssize_t n = recv(r->fd, r->buf + r->len, sizeof r->buf - r->len, 0);
	if (n <= 0) {
		r->eof = 1;
		return 0;
	}
	r->len += (size_t)n;
	return 1;
}

static void rd_drop(struct rd *r, size_t n)
{
	memmove(r->buf, r->buf + n, r->len - n);
	r->len -= n;
}

/* Read one response's head into head (NUL-terminated), waiting up to
 * timeout_ms for each read. 0, or -1 (timeout, EOF, longer than headcap). */
static int rd_head(struct rd *r, char *head, size_t headcap, int timeout_ms)
{
	char *end;
	for (;;) {
		if ((end = memmem(r->buf, r->len, "\r\n\r\n", 4)))
			break;
		if (rd_more(r, timeout_ms) <= 0)
			return -1;
	}
	size_t hl = (size_t)(end + 4 - r->buf);
	if (hl >= headcap)
		return -1;
	memcpy(head, r->buf, hl);
	head[hl] = 0;
	rd_drop(r, hl);
	return 0;
}

/* Read one response: its head into head (NUL-terminated), its body checked
 * against pat() when check is set or copied into small (cap bytes)
 * otherwise. Pauses pause_ms after every MiB when pause_ms > 0 (a slow
 * reader). Returns the body length, or -1 (timeout, EOF, bad head). */
static long rd_response(struct rd *r, char *head, size_t headcap, int check, char *small,
			size_t cap, int pause_ms)
{
	if (rd_head(r, head, headcap, 5000) < 0)
		return -1;
	const char *cl = strstr(head, "Content-Length: ");
	if (!cl)
		return -1;
	size_t want = (size_t)atol(cl + 16), got = 0, next_pause = 1 << 20;
	while (got < want) {
		if (r->len == 0 && rd_more(r, 5000) <= 0)
			return -1;
		size_t n = r->len < want - got ? r->len : want - got;
		for (size_t i = 0; i < n; i++) {
			if (check && r->buf[i] != pat(got + i))
				fail_msg("body byte %zu is %d, not %d", got + i, r->buf[i],
					 pat(got + i));
			if (!check && got + i < cap)
				small[got + i] = r->buf[i];
		}
		got += n;
		rd_drop(r, n);
		if (pause_ms > 0 && got >= next_pause) {
			th_sleep_ms(pause_ms);
			next_pause += 1 << 20;
		}
	}
	if (!check && cap)
		small[want < cap ? want : cap - 1] = 0;
	return (long)want;
}

static void test_reply_larger_than_socket_buffer(void **state)
{
	struct fixture *f = start(1, 0, 0, 0);
	struct rd *r = rd_new(dial_small_window(f->port));
	char head[4096], body[64];
	send_all(r->fd, "GET /huge HTTP/1.1\r\n\r\n", 22);
	/* the handler has long replied; most of the reply still waits in the server */
	th_sleep_ms(300);
	assert_int_equal(rd_response(r, head, sizeof head, 1, NULL, 0, 5), (long)HUGE_LEN);
	assert_non_null(strstr(head, "HTTP/1.1 200 OK\r\n"));
	assert_null(strstr(head, "Connection: close"));
	/* keep-alive: the same connection serves the next request */
	send_all(r->fd, "GET /hello HTTP/1.1\r\n\r\n", 23);
	assert_int_equal(rd_response(r, head, sizeof head, 0, body, sizeof body, 0), 5);
	assert_non_null(strstr(head, "HTTP/1.1 200 OK\r\n"));
	assert_string_equal(body, "hello");

	/* pipelined behind a reply that is still being written: kept in order */
	send_all(r->fd, "GET /huge HTTP/1.1\r\n\r\nGET /hello HTTP/1.1\r\n\r\n", 45);
	th_sleep_ms(200);
	assert_int_equal(rd_response(r, head, sizeof head, 1, NULL, 0, 2), (long)HUGE_LEN);
	assert_int_equal(rd_response(r, head, sizeof head, 0, body, sizeof body, 0), 5);
	assert_string_equal(body, "hello");
	assert_int_equal(r->len, 0); /* nothing more than the two replies */
	/* and it is still usable */
	send_all(r->fd, "POST /echo HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyz", 46);
	assert_int_equal(rd_response(r, head, sizeof head, 0, body, sizeof body, 0), 3);
	assert_string_equal(body, "xyz");
	rd_free(r);
	stop(f);
}

static void test_half_close_gets_deferred_reply(void **state)
{
	struct fixture *f = start(1, 0, 0, 0);
	char buf[4096];
	/* the client sends its request and shuts its side while the handler runs */
	int fd = dial(f->port);
	send_all(fd, "GET /defer HTTP/1.1\r\n\r\n", 23);
	assert_int_equal(shutdown(fd, SHUT_WR), 0);
	int n = read_response(fd, buf, sizeof buf, 3000);
	assert_true(n > 0);
	assert_non_null(strstr(buf, "HTTP/1.1 200 OK\r\n"));
	assert_string_equal(buf + n - 5, "later");
	/* then the server closes */
	assert_true(closed_by_peer(fd, 2000));
	close(fd);

	/* the same with a deferred reply larger than the socket buffers: all of
	 * it is written before the connection closes */
	struct rd *r = rd_new(dial_small_window(f->port));
	char head[4096];
	send_all(r->fd, "GET /defer-large HTTP/1.1\r\n\r\n", 29);
	assert_int_equal(shutdown(r->fd, SHUT_WR), 0);
	th_sleep_ms(300);
	assert_int_equal(rd_response(r, head, sizeof head, 1, NULL, 0, 5), (long)LARGE_LEN);
	assert_non_null(strstr(head, "HTTP/1.1 200 OK\r\n"));
	assert_int_equal(r->len, 0);
	assert_int_equal(rd_more(r, 2000), 0); /* EOF, not a timeout */
	rd_free(r);

	/* the server still serves */
	fd = dial(f->port);
	send_all(fd, "GET /hello HTTP/1.1\r\n\r\n", 23);
	assert_true(read_response(fd, buf, sizeof buf, 2000) > 0);
	assert_non_null(strstr(buf, "200 OK"));
	close(fd);
	stop(f);
}

static void test_handler_slower_than_idle_timeout(void **state)
{
	/* idle connections close after 200 ms; the handler takes 600 ms */
	struct fixture *f = start(1, 0, 0, 200);
	char buf[4096];
	int fd = dial(f->port);
	send_all(fd, "GET /slow HTTP/1.1\r\n\r\n", 22);
	int n = read_response(fd, buf, sizeof buf, 3000);
	assert_true(n > 0);
	assert_non_null(strstr(buf, "HTTP/1.1 200 OK\r\n"));
	assert_string_equal(buf + n - 4, "slow");
	/* idle again after the reply: the timeout applies once more */
	assert_true(closed_by_peer(fd, 3000));
	close(fd);

	/* the same on a second connection while a first one sits idle: the
	 * idle one is closed, the slow one answered */
	int idle = dial(f->port);
	fd = dial(f->port);
	send_all(fd, "GET /slow HTTP/1.1\r\n\r\n", 22);
	assert_true(closed_by_peer(idle, 3000));
	n = read_response(fd, buf, sizeof buf, 3000);
	assert_true(n > 0);
	assert_string_equal(buf + n - 4, "slow");
	close(idle);
	close(fd);
	stop(f);
}

/* The idle clock starts again at each reply, not at the request: a slow
 * handler must not leave a keep-alive client too little time for its next
 * request, nor drop a pipelined one waiting behind it. */
static void test_idle_clock_restarts_at_reply(void **state)
{
	struct fixture *f = start(1, 0, 0, 150); /* /defer answers after ~100 ms */
	char buf[4096];
	int fd = dial(f->port);
	send_all(fd, "GET /defer HTTP/1.1\r\n\r\n", 23);
	int n = read_response(fd, buf, sizeof buf, 3000);
	assert_true(n > 0);
	assert_non_null(strstr(buf, "HTTP/1.1 200 OK\r\n"));
	th_sleep_ms(80); /* 180 ms after the request, 80 after the reply */
	send_all(fd, "GET /hello HTTP/1.1\r\n\r\n", 23);
	n = read_response(fd, buf, sizeof buf, 3000);
	assert_true(n > 0);
	assert_non_null(strstr(buf, "HTTP/1.1 200 OK\r\n"));
	close(fd);
	stop(f);
}

static void test_pipelining_deferred_first(void **state)
{
	struct fixture *f = start(1, 0, 0, 0);
	struct rd *r = rd_new(dial(f->port));
	char head[4096], body[64];
	const char *reqs = "GET /defer HTTP/1.1\r\n\r\n"
			   "GET /hello HTTP/1.1\r\n\r\n";
	send_all(r->fd, reqs, strlen(reqs)); /* one write */
	assert_int_equal(rd_response(r, head, sizeof head, 0, body, sizeof body, 0), 5);
	assert_string_equal(body, "later");
	assert_int_equal(rd_response(r, head, sizeof head, 0, body, sizeof body, 0), 5);
	assert_string_equal(body, "hello");
	assert_non_null(strstr(head, "X-Test: yes\r\n"));
	/* the connection goes on */
	send_all(r->fd, reqs, strlen(reqs));
	assert_int_equal(rd_response(r, head, sizeof head, 0, body, sizeof body, 0), 5);
	assert_string_equal(body, "later");
	assert_int_equal(rd_response(r, head, sizeof head, 0, body, sizeof body, 0), 5);
	assert_string_equal(body, "hello");
	assert_int_equal(r->len, 0);
	rd_free(r);
	stop(f);
}

#define FLOOD 12000 /* pipelined requests: ~270 KB, several read watermarks */

struct flood {
	int fd;
	char *data;
	size_t len;
};

static void *flood_thread(void *arg)
{
	struct flood *fl = arg;
	send_all(fl->fd, fl->data, fl->len);
	return NULL;
}

static void test_pipelined_flood_behind_deferred(void **state)
{
	/* while the first request's handler runs, far more pipelined input
	 * arrives than the read high watermark admits: it waits (in the
	 * kernel) and every request is still answered, in order */
	struct fixture *f = start(1, 0, 0, 0);
	struct rd *r = rd_new(dial(f->port));
	struct flood fl;
	char head[4096], body[64];
	static const char one[] = "GET /hello HTTP/1.1\r\n\r\n";
	pthread_t t;
	fl.len = 23 + FLOOD * (sizeof one - 1);
	fl.data = malloc(fl.len);
	memcpy(fl.data, "GET /defer HTTP/1.1\r\n\r\n", 23);
	for (int i = 0; i < FLOOD; i++)
		memcpy(fl.data + 23 + (size_t)i * (sizeof one - 1), one, sizeof one - 1);
	fl.fd = r->fd;
	assert_int_equal(pthread_create(&t, NULL, flood_thread, &fl), 0);
	assert_int_equal(rd_response(r, head, sizeof head, 0, body, sizeof body, 0), 5);
	assert_string_equal(body, "later");
	for (int i = 0; i < FLOOD; i++) {
		if (rd_response(r, head, sizeof head, 0, body, sizeof body, 0) != 5 ||
		    strcmp(body, "hello"))
			fail_msg("pipelined reply %d of %d missing or wrong", i + 1, FLOOD);
	}
	pthread_join(t, NULL);
	assert_int_equal(r->len, 0);
	free(fl.data);
	rd_free(r);
	stop(f);
}

/* A body handed over (take) and larger than the socket takes: the rest is
 * queued from past its start and freed whole once written. HEAD gets the
 * length and no body; the connection goes on. */
static void test_taken_reply_and_head(void **state)
{
	struct fixture *f = start(1, 0, 0, 0);
	struct rd *r = rd_new(dial_small_window(f->port));
	char head[4096], body[64];
	send_all(r->fd, "GET /take-huge HTTP/1.1\r\n\r\n", 27);
	th_sleep_ms(300);
	assert_int_equal(rd_response(r, head, sizeof head, 1, NULL, 0, 2), (long)HUGE_LEN);
	assert_non_null(strstr(head, "HTTP/1.1 200 OK\r\n"));
	/* HEAD: the length, no body; the next reply follows the head at once */
	send_all(r->fd, "HEAD /take-huge HTTP/1.1\r\n\r\nGET /hello HTTP/1.1\r\n\r\n", 51);
	assert_int_equal(rd_head(r, head, sizeof head, 3000), 0);
	assert_non_null(strstr(head, "HTTP/1.1 200 OK\r\n"));
	assert_non_null(strstr(head, "Content-Length: 8388608\r\n"));
	assert_int_equal(rd_response(r, head, sizeof head, 0, body, sizeof body, 0), 5);
	assert_string_equal(body, "hello");
	/* 204: no length, no body, and the connection goes on */
	send_all(r->fd, "GET /nocontent HTTP/1.1\r\n\r\nGET /hello HTTP/1.1\r\n\r\n", 50);
	assert_int_equal(rd_head(r, head, sizeof head, 3000), 0);
	assert_non_null(strstr(head, "HTTP/1.1 204 No Content\r\n"));
	assert_null(strstr(head, "Content-Length"));
	assert_int_equal(rd_response(r, head, sizeof head, 0, body, sizeof body, 0), 5);
	assert_string_equal(body, "hello");
	assert_int_equal(r->len, 0);
	rd_free(r);
	stop(f);
}

/* Send req on fd and read one response: its body must be want (wlen). */
static void expect_echo(struct rd *r, const char *req, size_t rlen, const char *want, size_t wlen)
{
	char head[4096];
	char *body = malloc(wlen + 1);
	send_all(r->fd, req, rlen);
	long n = rd_response(r, head, sizeof head, 0, body, wlen + 1, 0);
	if (n != (long)wlen || memcmp(body, want, wlen) != 0)
		fail_msg("echo of %zu bytes: got %ld (%s)", wlen, n, head);
	free(body);
}

/* Two pipelined requests, then the client shuts its side: both answered
 * (the second used to be dropped with the connection at the EOF). */
static void test_pipelined_then_half_close(void **state)
{
	struct fixture *f = start(1, 0, 0, 0);
	struct rd *r = rd_new(dial(f->port));
	char head[4096], body[64];
	const char *two = "GET /hello HTTP/1.1\r\n\r\nGET /hello HTTP/1.1\r\n\r\n";
	send_all(r->fd, two, strlen(two));
	assert_int_equal(shutdown(r->fd, SHUT_WR), 0);
	assert_int_equal(rd_response(r, head, sizeof head, 0, body, sizeof body, 0), 5);
	assert_int_equal(rd_response(r, head, sizeof head, 0, body, sizeof body, 0), 5);
	rd_free(r);
	stop(f);
}

/* Bodies that come with their head, around the size kept with it, after
 * it, empty, pipelined, with Expect: 100-continue, and over the limit. */
static void test_bodies_with_head(void **state)
{
	struct fixture *f = start(1, 0, 0, 0);
	struct rd *r = rd_new(dial(f->port));
	char head[4096], body[64];
	/* empty */
	static const char empty[] = "POST /echo HTTP/1.1\r\nContent-Length: 0\r\n\r\n";
	static const char none[] = "POST /echo HTTP/1.1\r\n\r\n";
	expect_echo(r, empty, sizeof empty - 1, "", 0);
	expect_echo(r, none, sizeof none - 1, "", 0);
	/* pipelined, each with its body */
	const char *three = "POST /echo HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
			    "POST /echo HTTP/1.1\r\nContent-Length: 2\r\n\r\nde"
			    "GET /hello HTTP/1.1\r\n\r\n";
	send_all(r->fd, three, strlen(three));
	assert_int_equal(rd_response(r, head, sizeof head, 0, body, sizeof body, 0), 3);
	assert_string_equal(body, "abc");
	assert_int_equal(rd_response(r, head, sizeof head, 0, body, sizeof body, 0), 2);
	assert_string_equal(body, "de");
	assert_int_equal(rd_response(r, head, sizeof head, 0, body, sizeof body, 0), 5);
	assert_string_equal(body, "hello");
	/* Expect: 100-continue with the body already sent: no interim reply */
	const char *cont =
	    "POST /echo HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\nwxyz";
	send_all(r->fd, cont, strlen(cont));
	assert_int_equal(rd_response(r, head, sizeof head, 0, body, sizeof body, 0), 4);
	assert_non_null(strstr(head, "HTTP/1.1 200 OK\r\n"));
	assert_string_equal(body, "wxyz");
	/* around the inline size, whole and in two parts */
	static const size_t sizes[] = {16383, 16384, 16385, 40000};
	for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
		size_t n = sizes[k];
		char *req = malloc(n + 128);
		int hn = snprintf(req, 128, "POST /mid HTTP/1.1\r\nContent-Length: %zu\r\n\r\n", n);
		for (size_t i = 0; i < n; i++)
			req[(size_t)hn + i] = pat(i);
		expect_echo(r, req, (size_t)hn + n, req + hn, n);
		send_all(r->fd, req, (size_t)hn + 10);
		th_sleep_ms(50);
		expect_echo(r, req + hn + 10, n - 10, req + hn, n);
		free(req);
	}
	assert_int_equal(r->len, 0);
	close(r->fd);
	/* over the route's limit with the body already there: 413, closed */
	int fd = dial(f->port);
	char big[3000];
	int hn = snprintf(big, sizeof big, "POST /echo HTTP/1.1\r\nContent-Length: 2000\r\n\r\n");
	memset(big + hn, 'q', 2000);
	send_all(fd, big, (size_t)hn + 2000);
	char buf[8192];
	assert_true(read_response(fd, buf, sizeof buf, 3000) > 0);
	assert_non_null(strstr(buf, "HTTP/1.1 413"));
	assert_true(closed_by_peer(fd, 2000));
	close(fd);
	free(r);
	stop(f);
}

int main(void)
{
	hc_log_setup("it_http", HC_LOG_WARN, 0);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_basic_and_keepalive),
	    cmocka_unit_test(test_local_socket),
	    cmocka_unit_test(test_pipelining),
	    cmocka_unit_test(test_errors_are_json),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_chunked_and_continue),
	    cmocka_unit_test(test_params_query_headers),
	    cmocka_unit_test(test_slow_clients),
	    cmocka_unit_test(test_connection_cap),
	    cmocka_unit_test(test_client_gone_before_deferred_reply),
	    cmocka_unit_test(test_threads),
	    cmocka_unit_test(test_port_not_shared),
	    cmocka_unit_test(test_shutdown_answers_pending),
	    cmocka_unit_test(test_reply_larger_than_socket_buffer),
	    cmocka_unit_test(test_half_close_gets_deferred_reply),
	    cmocka_unit_test(test_handler_slower_than_idle_timeout),
	    cmocka_unit_test(test_idle_clock_restarts_at_reply),
	    cmocka_unit_test(test_pipelining_deferred_first),
	    cmocka_unit_test(test_pipelined_flood_behind_deferred),
	    cmocka_unit_test(test_taken_reply_and_head),
	    cmocka_unit_test(test_bodies_with_head),
	    cmocka_unit_test(test_pipelined_then_half_close),
	};
	int rc = cmocka_run_group_tests_name("http_server", tests, NULL, NULL);
	hc_metrics_free_all();
	return rc;
}
