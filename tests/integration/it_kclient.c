/* it_kclient.c — the lean keep-alive client (common/kclient.c) against a
 * real HTTP peer: round trips with bodies and statuses, connection reuse,
 * an idle connection the peer closes, bodies without a length, size limits,
 * timeouts, refused connections, URLs it must refuse, free with calls in
 * flight, and a server reached by its local (abstract) socket, never by
 * the URL's address once nothing listens there.
 *
 * The peer is libevent's evhttp on its own loop in a thread (as in
 * it_client.c): a server the client shares no code with. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/thread.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/kclient.h"
#include "common/localnet.h"
#include "tests/lib/harness.h"
#include "tests/lib/wait.h"

/* ---- fixture server ---- */

static struct fixture {
	struct event_base *base;
	struct evhttp *http;
	pthread_t thread;
	int port;
	pthread_mutex_t lock;
	unsigned short peers[64]; /* distinct client ports seen */
	int npeers;
} fx;

static void note_peer(struct evhttp_request *req)
{
	char *addr;
	ev_uint16_t port;
	int seen = 0;
	evhttp_connection_get_peer(evhttp_request_get_connection(req), &addr, &port);
	pthread_mutex_lock(&fx.lock);
	for (int i = 0; i < fx.npeers; i++)
		seen |= fx.peers[i] == port;
	if (!seen && fx.npeers < 64)
		fx.peers[fx.npeers++] = port;
	pthread_mutex_unlock(&fx.lock);
}

static void reply_later(evutil_socket_t fd, short what, void *arg)
{
	struct evhttp_request *req = arg;
	evhttp_send_reply(req, 200, "OK", NULL);
}

static void on_request(struct evhttp_request *req, void *arg)
{
	const char *uri = evhttp_request_get_uri(req);
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	struct evbuffer *out = evhttp_request_get_output_buffer(req);
	note_peer(req);
	if (!strcmp(uri, "/echo")) {
		evbuffer_add_buffer(out, in);
		evhttp_send_reply(req, 200, "OK", NULL);
	} else if (!strcmp(uri, "/missing")) {
		evbuffer_add_printf(out, "{\"error\":\"no\"}");
		evhttp_send_reply(req, 404, "Not Found", NULL);
	} else if (!strncmp(uri, "/hdr", 4)) {
		/* /hdr?v=X answers "X-Log-Bytes: X" (any case); plain /hdr has none */
		const char *q = strstr(uri, "?v=");
		if (q)
			evhttp_add_header(evhttp_request_get_output_headers(req),
					  strchr(q, 'U') ? "x-log-BYTES" : "X-Log-Bytes", q + 3);
		evbuffer_add_printf(out, "{}");
		evhttp_send_reply(req, 200, "OK", NULL);
	} else if (!strcmp(uri, "/via")) {
		/* which kind of socket the request came by */
		const struct sockaddr *sa =
		    evhttp_connection_get_addr(evhttp_request_get_connection(req));
		evbuffer_add_printf(out, "%s", sa && sa->sa_family == AF_UNIX ? "local" : "tcp");
		evhttp_send_reply(req, 200, "OK", NULL);
	} else if (!strcmp(uri, "/empty")) {
		evhttp_send_reply(req, 204, "No Content", NULL);
	} else if (!strcmp(uri, "/big")) {
		for (int i = 0; i < 1000; i++)
			evbuffer_add_printf(out, "%099d\n", i);
		evhttp_send_reply(req, 200, "OK", NULL);
	} else if (!strcmp(uri, "/close")) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
		evbuffer_add_printf(out, "bye");
		evhttp_send_reply(req, 200, "OK", NULL);
	} else if (!strcmp(uri, "/slow")) {
		struct timeval tv = {1, 500000};
		evbuffer_add_printf(out, "late");
		event_base_once(fx.base, -1, EV_TIMEOUT, reply_later, req, &tv);
	} else {
		evhttp_send_reply(req, 400, "Bad", NULL);
	}
}

static void *server_main(void *arg)
{
	event_base_dispatch(fx.base);
	return NULL;
}

static int setup(void **state)
{
	evthread_use_pthreads();
	pthread_mutex_init(&fx.lock, NULL);
	fx.base = event_base_new();
	fx.http = evhttp_new(fx.base);
	evhttp_set_gencb(fx.http, on_request, NULL);
	/* idle connections are closed after 1 s: the client must cope */
	evhttp_set_timeout(fx.http, 1);
	fx.port = th_free_port();
	if (evhttp_bind_socket(fx.http, "127.0.0.1", (ev_uint16_t)fx.port) < 0)
		return -1;
	return pthread_create(&fx.thread, NULL, server_main, NULL);
}

static int teardown(void **state)
{
	event_base_loopbreak(fx.base);
	pthread_join(fx.thread, NULL);
	evhttp_free(fx.http);
	event_base_free(fx.base);
	return 0;
}

/* ---- client side ---- */

struct result {
	int done;
	long status;
	char body[256];
	size_t body_len;
	char error[128];
	int timed_out;
	int not_sent;
	char header[64]; /* the want_header value, "-" when absent */
	struct event_base *base;
	int *left; /* shared count of calls still to finish */
};

static void on_done(const struct hc_response *r, void *arg)
{
	struct result *res = arg;
	res->done++;
	res->status = r->status;
	res->body_len = r->body_len;
	snprintf(res->body, sizeof(res->body), "%s", r->body);
	snprintf(res->error, sizeof(res->error), "%s", r->error ? r->error : "");
	res->timed_out = r->timed_out;
	res->not_sent = r->not_sent;
	snprintf(res->header, sizeof(res->header), "%s", r->header ? r->header : "-");
	if (res->left && --*res->left == 0)
		event_base_loopbreak(res->base);
}

static char *url(const char *path, char *buf, size_t n)
{
	snprintf(buf, n, "http://127.0.0.1:%d%s", fx.port, path);
	return buf;
}

static const char *want_header; /* asked of every request by one() */
static const char *unix_name;	/* given with every request by one() */

/* Run one request to completion on a fresh base+client pair given. */
static void one(struct event_base *base, struct hc_kclient *k, const char *method, const char *path,
		const char *body, long timeout_ms, size_t max, struct result *res)
{
	char u[128];
	int left = 1;
	memset(res, 0, sizeof(*res));
	res->base = base;
	res->left = &left;
	static const char *const hdr[] = {"Content-Type: application/json", NULL};
	struct hc_request rq = {.method = method,
				.url = url(path, u, sizeof(u)),
				.headers = hdr,
				.body = body,
				.body_len = body ? strlen(body) : 0,
				.timeout_ms = timeout_ms,
				.max_response = max,
				.want_header = want_header,
				.unix_name = unix_name};
	assert_int_equal(hc_kclient_request(k, &rq, on_done, res), 0);
	assert_int_equal(res->done, 0); /* never from inside the call */
	event_base_dispatch(base);
	assert_int_equal(res->done, 1);
}

static void test_round_trips_and_reuse(void **state)
{
	struct event_base *base = event_base_new();
	struct hc_kclient *k = hc_kclient_new(base);
	struct result r;
	pthread_mutex_lock(&fx.lock);
	fx.npeers = 0;
	pthread_mutex_unlock(&fx.lock);
	for (int i = 0; i < 20; i++) {
		char body[64];
		snprintf(body, sizeof(body), "{\"i\":%d}", i);
		one(base, k, "POST", "/echo", body, 5000, 0, &r);
		assert_string_equal(r.error, "");
		assert_int_equal(r.status, 200);
		assert_string_equal(r.body, body);
		assert_int_equal(r.body_len, strlen(body));
	}
	/* sequential calls share one connection */
	pthread_mutex_lock(&fx.lock);
	assert_int_equal(fx.npeers, 1);
	pthread_mutex_unlock(&fx.lock);
	one(base, k, "GET", "/missing", NULL, 5000, 0, &r);
	assert_int_equal(r.status, 404);
	assert_string_equal(r.body, "{\"error\":\"no\"}");
	one(base, k, "POST", "/empty", "{}", 5000, 0, &r);
	assert_int_equal(r.status, 204);
	assert_int_equal(r.body_len, 0);
	one(base, k, "GET", "/big", NULL, 5000, 0, &r);
	assert_string_equal(r.error, "");
	assert_int_equal(r.body_len, 100000);
	one(base, k, "GET", "/close", NULL, 5000, 0, &r);
	assert_string_equal(r.body, "bye");
	one(base, k, "POST", "/echo", "{\"after\":\"close\"}", 5000, 0, &r);
	assert_string_equal(r.body, "{\"after\":\"close\"}");
	assert_int_equal(hc_kclient_pending(k), 0);
	hc_kclient_free(k);
	event_base_free(base);
}

/* One reply header on request (the runtime's x-hearth-log-bytes to the
 * controller): present, absent, any case, trimmed, never carried over from
 * the previous reply on the same connection; and a refused connection is
 * reported as not sent (safe to try elsewhere). */
static void test_want_header_and_not_sent(void **state)
{
	struct event_base *base = event_base_new();
	struct hc_kclient *k = hc_kclient_new(base);
	struct result r;
	want_header = "x-log-bytes";
	one(base, k, "GET", "/hdr?v=0", NULL, 5000, 0, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.header, "0");
	assert_string_equal(r.body, "{}");
	one(base, k, "GET", "/hdr", NULL, 5000, 0, &r); /* same connection, no header */
	assert_string_equal(r.header, "-");
	one(base, k, "GET", "/hdr?v=123U", NULL, 5000, 0, &r); /* the name in another case */
	assert_string_equal(r.header, "123U");
	one(base, k, "POST", "/echo", "{\"a\":1}", 5000, 0, &r); /* the body is untouched */
	assert_string_equal(r.body, "{\"a\":1}");
	assert_string_equal(r.header, "-");
	want_header = NULL;
	one(base, k, "GET", "/hdr?v=7", NULL, 5000, 0, &r); /* not asked: not reported */
	assert_string_equal(r.header, "-");
	assert_int_equal(r.not_sent, 0);

	/* nobody listens there: the request never left */
	int closed = th_free_port();
	char u[64];
	int left = 1;
	memset(&r, 0, sizeof(r));
	r.base = base;
	r.left = &left;
	snprintf(u, sizeof(u), "http://127.0.0.1:%d/run", closed);
	struct hc_request rq = {
	    .method = "POST", .url = u, .body = "{}", .body_len = 2, .timeout_ms = 5000};
	assert_int_equal(hc_kclient_request(k, &rq, on_done, &r), 0);
	event_base_dispatch(base);
	assert_int_equal(r.done, 1);
	assert_string_not_equal(r.error, "");
	assert_int_equal(r.timed_out, 0);
	assert_int_equal(r.not_sent, 1);
	hc_kclient_free(k);
	event_base_free(base);
}

static void test_idle_close_by_peer(void **state)
{
	struct event_base *base = event_base_new();
	struct hc_kclient *k = hc_kclient_new(base);
	struct result r;
	one(base, k, "POST", "/echo", "{\"a\":1}", 5000, 0, &r);
	assert_int_equal(r.status, 200);
	/* the peer closes the idle connection after 1 s; the client is not
	 * running its loop meanwhile, so the next request meets a dead
	 * connection and must still succeed (retried once) */
	th_sleep_ms(2200);
	one(base, k, "POST", "/echo", "{\"a\":2}", 5000, 0, &r);
	assert_string_equal(r.error, "");
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "{\"a\":2}");
	hc_kclient_free(k);
	event_base_free(base);
}

static void test_limits_and_failures(void **state)
{
	struct event_base *base = event_base_new();
	struct hc_kclient *k = hc_kclient_new(base);
	struct result r;
	one(base, k, "GET", "/big", NULL, 5000, 1000, &r);
	assert_int_equal(r.status, 0);
	assert_string_not_equal(r.error, "");
	one(base, k, "GET", "/slow", NULL, 300, 0, &r);
	assert_int_equal(r.timed_out, 1);
	assert_string_not_equal(r.error, "");
	/* a port nobody listens on */
	char u[64];
	int left = 1;
	memset(&r, 0, sizeof(r));
	r.base = base;
	r.left = &left;
	snprintf(u, sizeof(u), "http://127.0.0.1:%d/x", th_free_port());
	struct hc_request rq = {.method = "GET", .url = u, .timeout_ms = 2000};
	assert_int_equal(hc_kclient_request(k, &rq, on_done, &r), 0);
	event_base_dispatch(base);
	assert_int_equal(r.done, 1);
	assert_int_equal(r.status, 0);
	assert_string_not_equal(r.error, "");
	/* what it leaves to libcurl */
	const char *refused[] = {"https://127.0.0.1:1/x", "http://localhost:80/x",
				 "http://127.0.0.1/x", "http://[::1]:80/x",
				 "http://127.0.0.1:99999/"};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		struct hc_request bad = {.method = "GET", .url = refused[i]};
		assert_int_equal(hc_kclient_request(k, &bad, on_done, &r), -1);
	}
	struct hc_request smuggle = {.method = "GET",
				     .url = url("/echo", u, sizeof(u)),
				     .headers = (const char *const[]){"X: a\r\nY: b", NULL}};
	assert_int_equal(hc_kclient_request(k, &smuggle, on_done, &r), -1);
	hc_kclient_free(k);
	event_base_free(base);
}

static void test_concurrent_and_free_pending(void **state)
{
	struct event_base *base = event_base_new();
	struct hc_kclient *k = hc_kclient_new(base);
	struct result r[8];
	int left = 8;
	char u[128], body[8][32];
	for (int i = 0; i < 8; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].base = base;
		r[i].left = &left;
		snprintf(body[i], sizeof(body[i]), "[%d]", i);
		struct hc_request rq = {.method = "POST",
					.url = url("/echo", u, sizeof(u)),
					.body = body[i],
					.body_len = strlen(body[i]),
					.timeout_ms = 5000};
		assert_int_equal(hc_kclient_request(k, &rq, on_done, &r[i]), 0);
	}
	assert_int_equal(hc_kclient_pending(k), 8);
	event_base_dispatch(base);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(r[i].done, 1);
		assert_string_equal(r[i].body, body[i]);
	}
	/* two slow calls in flight when the client is freed: cancelled */
	struct result s[2];
	for (int i = 0; i < 2; i++) {
		memset(&s[i], 0, sizeof(s[i]));
		struct hc_request rq = {.method = "GET", .url = url("/slow", u, sizeof(u))};
		assert_int_equal(hc_kclient_request(k, &rq, on_done, &s[i]), 0);
	}
	event_base_loop(base, EVLOOP_NONBLOCK);
	hc_kclient_free(k);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(s[i].done, 1);
		assert_string_equal(s[i].error, "cancelled");
	}
	event_base_free(base);
}

/* A request that names a local socket goes there, not to the URL's
 * address, and keeps using that connection. When nothing listens there
 * (its server is gone, and the port may be another's by now) the request
 * fails as not sent and never goes by TCP: on a fresh connection, and
 * when a kept one dies and is retried. A name that cannot be one is
 * refused at start; an empty one is none. */
static void test_local_socket(void **state)
{
	struct event_base *base = event_base_new();
	struct hc_kclient *k = hc_kclient_new(base);
	struct result r;
	char name[64], nobody[64], u[128];
	struct sockaddr_un sa;
	socklen_t sl;
	snprintf(name, sizeof(name), "@hearth-it-kclient-%d", (int)getpid());
	snprintf(nobody, sizeof(nobody), "@hearth-it-kclient-nobody-%d", (int)getpid());
	assert_int_equal(hc_unix_addr(name, &sa, &sl), 0);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sl), 0);
	assert_int_equal(listen(fd, 16), 0);
	struct evhttp_bound_socket *bound = evhttp_accept_socket_with_handle(fx.http, fd);
	assert_non_null(bound);

	unix_name = name;
	for (int i = 0; i < 3; i++) {
		one(base, k, "GET", "/via", NULL, 5000, 0, &r);
		assert_string_equal(r.error, "");
		assert_string_equal(r.body, "local");
	}
	one(base, k, "POST", "/echo", "{\"by\":\"local\"}", 5000, 0, &r);
	assert_string_equal(r.body, "{\"by\":\"local\"}");
	assert_int_equal(th_unix_accepted(name), 1); /* one connection served them all */

	/* the server goes: its socket is closed, and after its 1 s idle
	 * timeout the kept connection too */
	evhttp_del_accept_socket(fx.http, bound);
	TH_RETRY(5000, 50) {
		if (th_unix_accepted(name) <= 0)
			break;
	}
	assert_int_equal(th_unix_accepted(name), 0);
	one(base, k, "GET", "/via", NULL, 5000, 0, &r);
	assert_string_not_equal(r.error, "");
	assert_true(r.not_sent);
	assert_int_equal(r.status, 0);

	unix_name = nobody;
	one(base, k, "GET", "/via", NULL, 5000, 0, &r);
	assert_non_null(strstr(r.error, "refused"));
	assert_true(r.not_sent);
	assert_int_equal(r.status, 0);

	/* not a name */
	struct hc_request rq = {
	    .method = "GET", .url = url("/via", u, sizeof(u)), .unix_name = "@"};
	assert_int_equal(hc_kclient_request(k, &rq, on_done, &r), -1);
	unix_name = ""; /* none: the URL's address */
	one(base, k, "GET", "/via", NULL, 5000, 0, &r);
	assert_string_equal(r.body, "tcp");
	unix_name = NULL;
	assert_int_equal(hc_kclient_pending(k), 0);
	hc_kclient_free(k);
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trips_and_reuse),
	    cmocka_unit_test(test_want_header_and_not_sent),
	    cmocka_unit_test(test_idle_close_by_peer),
	    cmocka_unit_test(test_limits_and_failures),
	    cmocka_unit_test(test_concurrent_and_free_pending),
	    cmocka_unit_test(test_local_socket),
	};
	return cmocka_run_group_tests_name("kclient", tests, setup, teardown);
}
