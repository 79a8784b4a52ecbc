/* it_client.c — the async HTTP client (common/client.c) against a real
 * HTTP peer: round trips, keep-alive reuse, concurrency, timeouts, size
 * limits, refused connections, cancel, free with calls pending, and the
 * blocking hc_http_sync.
 *
 * The peer is a test-local fixture: libevent's evhttp on its own event loop
 * in a thread, on a free loopback port. It is a stand-in for a container or
 * another daemon, not hearth's server (common/http.c has its own tests), so
 * the client is tested against a server it shares no code with. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/client.h"
#include "tests/lib/harness.h"
#include "tests/lib/wait.h"

#define EVENTUALLY_MS 10000

/* ---- fixture server ---- */

#define MAX_PEERS 256

static struct fixture {
	struct event_base *base;
	struct evhttp *http;
	pthread_t thread;
	int port;
	char url[64];
	pthread_mutex_t lock;
	unsigned short peers[MAX_PEERS]; /* distinct client ports seen */
	int npeers;
	int requests;
} fx;

static void note_peer(struct evhttp_request *req)
{
	char *addr;
	ev_uint16_t port;
	int seen = 0;

	evhttp_connection_get_peer(evhttp_request_get_connection(req), &addr, &port);
	pthread_mutex_lock(&fx.lock);
	fx.requests++;
	for (int i = 0; i < fx.npeers; i++)
		seen |= fx.peers[i] == port;
	if (!seen && fx.npeers < MAX_PEERS)
		fx.peers[fx.npeers++] = port;
	pthread_mutex_unlock(&fx.lock);
}

static const char *method_name(enum evhttp_cmd_type t)
{
	switch (t) {
	case EVHTTP_REQ_GET:
		return "GET";
	case EVHTTP_REQ_POST:
		return "POST";
	case EVHTTP_REQ_PUT:
		return "PUT";
	case EVHTTP_REQ_DELETE:
		return "DELETE";
	case EVHTTP_REQ_HEAD:
		return "HEAD";
	default:
		return "OTHER";
	}
}

/* /echo: "METHOD X-Test-value|body" */
static void h_echo(struct evhttp_request *req)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	struct evbuffer *out = evbuffer_new();
	const char *h = evhttp_find_header(evhttp_request_get_input_headers(req), "X-Test");
	const char *expect = evhttp_find_header(evhttp_request_get_input_headers(req), "Expect");

	evbuffer_add_printf(out, "%s %s%s|", method_name(evhttp_request_get_command(req)),
			    h ? h : "-", expect ? " EXPECT" : "");
	evbuffer_add_buffer(out, in);
	evhttp_send_reply(req, 200, "OK", out);
	evbuffer_free(out);
}

/* /big?n=N: N bytes with a Content-Length; /chunked?n=N: without one. */
static void h_big(struct evhttp_request *req, int chunked)
{
	const char *q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	long n = q && !strncmp(q, "n=", 2) ? atol(q + 2) : 0;
	struct evbuffer *out = evbuffer_new();
	char block[1024];

	memset(block, 'x', sizeof(block));
	if (!chunked) {
		for (long i = 0; i < n; i += (long)sizeof(block))
			evbuffer_add(
			    out, block,
			    (size_t)(n - i < (long)sizeof(block) ? n - i : (long)sizeof(block)));
		evhttp_send_reply(req, 200, "OK", out);
	} else {
		evhttp_send_reply_start(req, 200, "OK");
		for (long i = 0; i < n; i += (long)sizeof(block)) {
			evbuffer_add(
			    out, block,
			    (size_t)(n - i < (long)sizeof(block) ? n - i : (long)sizeof(block)));
			evhttp_send_reply_chunk(req, out);
		}
		evhttp_send_reply_end(req);
	}
	evbuffer_free(out);
}

static void slow_reply(evutil_socket_t fd, short what, void *arg)
{
	evhttp_send_reply(arg, 200, "OK", NULL);
}

static void fixture_cb(struct evhttp_request *req, void *arg)
{
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	struct timeval slow = {0, 300000};

	note_peer(req);
	if (!strcmp(path, "/echo")) {
		h_echo(req);
	} else if (!strcmp(path, "/big")) {
		h_big(req, 0);
	} else if (!strcmp(path, "/chunked")) {
		h_big(req, 1);
	} else if (!strcmp(path, "/hang")) {
		/* never answered; evhttp_free releases it at the end */
	} else if (!strcmp(path, "/slow")) {
		event_base_once(fx.base, -1, EV_TIMEOUT, slow_reply, req, &slow);
	} else if (!strcmp(path, "/redirect")) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Location",
				  "http://127.0.0.1/elsewhere");
		evhttp_send_reply(req, 302, "Found", NULL);
	} else {
		evhttp_send_reply(req, 404, "Not Found", NULL);
	}
}

static void *fixture_main(void *arg)
{
	event_base_dispatch(fx.base);
	return NULL;
}

static int fixture_start(void **state)
{
	struct evhttp_bound_socket *bs;

	evthread_use_pthreads();
	pthread_mutex_init(&fx.lock, NULL);
	fx.base = event_base_new();
	fx.http = evhttp_new(fx.base);
	if (!fx.base || !fx.http)
		return -1;
	evhttp_set_gencb(fx.http, fixture_cb, NULL);
	evhttp_set_allowed_methods(fx.http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
						EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD);
	bs = evhttp_bind_socket_with_handle(fx.http, "127.0.0.1", 0);
	if (!bs)
		return -1;
	{
		struct sockaddr_in sin = {0}; /* bound to 127.0.0.1: IPv4 */
		socklen_t len = sizeof(sin);

		if (getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&sin, &len) < 0)
			return -1;
		fx.port = ntohs(sin.sin_port);
	}
	snprintf(fx.url, sizeof(fx.url), "http://127.0.0.1:%d", fx.port);
	return pthread_create(&fx.thread, NULL, fixture_main, NULL) == 0 ? 0 : -1;
}

static int fixture_stop(void **state)
{
	event_base_loopbreak(fx.base);
	pthread_join(fx.thread, NULL);
	evhttp_free(fx.http);
	event_base_free(fx.base);
	pthread_mutex_destroy(&fx.lock);
	libevent_global_shutdown();
	return 0;
}

static void fixture_reset_counts(void)
{
	pthread_mutex_lock(&fx.lock);
	fx.npeers = 0;
	fx.requests = 0;
	pthread_mutex_unlock(&fx.lock);
}

static void fixture_counts(int *requests, int *peers)
{
	pthread_mutex_lock(&fx.lock);
	*requests = fx.requests;
	*peers = fx.npeers;
	pthread_mutex_unlock(&fx.lock);
}

/* What one callback saw (copied: the response is valid only in the call). */
struct seen {
	int calls;
	long status;
	char body[4096];
	size_t body_len;
	char error[512];
	int has_error;
	int timed_out;
	char location[256];
	uint64_t elapsed_us;
};

static void record(const struct hc_response *r, void *arg)
{
	struct seen *s = arg;

	s->calls++;
	s->status = r->status;
	s->body_len = r->body_len;
	memcpy(s->body, r->body, r->body_len < sizeof(s->body) ? r->body_len : sizeof(s->body));
	s->has_error = r->error != NULL;
	snprintf(s->error, sizeof(s->error), "%s", r->error ? r->error : "");
	s->timed_out = r->timed_out;
	snprintf(s->location, sizeof(s->location), "%s", r->location ? r->location : "");
	s->elapsed_us = r->elapsed_us;
	assert_int_equal(r->body[r->body_len], '\0');
}

static int seen_call(void *arg)
{
	return ((struct seen *)arg)->calls > 0;
}

static void url_of(char *out, size_t n, const char *path)
{
	snprintf(out, n, "%s%s", fx.url, path);
}

/* ---- tests ---- */

static void test_get_round_trip(void **state)
{
	struct event_base *base = event_base_new();
	struct hc_client *c = hc_client_new(base, NULL);
	const char *headers[] = {"X-Test: abc", NULL};
	char url[128];
	struct hc_request req = {.method = "GET", .url = url, .headers = headers};
	struct seen s = {0};

	url_of(url, sizeof(url), "/echo");
	assert_non_null(hc_client_request(c, &req, record, &s));
	assert_int_equal(hc_client_pending(c), 1);
	assert_int_equal(s.calls, 0); /* never inside hc_client_request */
	assert_true(th_run_until(base, seen_call, &s, EVENTUALLY_MS));
	assert_int_equal(s.calls, 1);
	assert_false(s.has_error);
	assert_int_equal(s.status, 200);
	assert_string_equal(s.body, "GET abc|");
	assert_int_equal(s.body_len, 8);
	assert_true(s.elapsed_us > 0);
	assert_int_equal(hc_client_pending(c), 0);

	/* 404 is a completed exchange, not an error. */
	memset(&s, 0, sizeof(s));
	url_of(url, sizeof(url), "/nothing");
	assert_non_null(hc_client_request(c, &req, record, &s));
	assert_true(th_run_until(base, seen_call, &s, EVENTUALLY_MS));
	assert_false(s.has_error);
	assert_int_equal(s.status, 404);
	hc_client_free(c);
	event_base_free(base);
}

static void test_post_round_trip(void **state)
{
	struct event_base *base = event_base_new();
	struct hc_client *c = hc_client_new(base, NULL);
	const char *headers[] = {"X-Test: xyz", "Content-Type: application/octet-stream", NULL};
	char url[128];
	size_t blen = (1u << 20) + 1000;
	char *body = malloc(blen);
	struct hc_request req = {.method = "POST", .url = url, .headers = headers, .body = body};
	struct seen s = {0}, put = {0}, del = {0};

	url_of(url, sizeof(url), "/echo");
	/* A body with a NUL and larger than 1 MiB (where curl 7.88 would send
	 * Expect: 100-continue unless it is disabled; the echo would say so). */
	assert_non_null(body);
	req.body = body;
	memset(body, 'b', blen);
	body[1] = '\0';
	req.body_len = blen;
	assert_non_null(hc_client_request(c, &req, record, &s));
	memset(body, 'z', blen); /* the body was copied */
	free(body);
	req.method = "PUT";
	req.body = "put-body";
	req.body_len = 8;
	assert_non_null(hc_client_request(c, &req, record, &put));
	req.method = "DELETE";
	req.body = NULL;
	req.body_len = 0;
	assert_non_null(hc_client_request(c, &req, record, &del));
	assert_int_equal(hc_client_pending(c), 3);
	assert_true(th_run_until(base, seen_call, &del, EVENTUALLY_MS));
	assert_true(th_run_until(base, seen_call, &s, EVENTUALLY_MS));
	assert_true(th_run_until(base, seen_call, &put, EVENTUALLY_MS));
	assert_int_equal(s.status, 200);
	assert_int_equal(s.body_len, strlen("POST xyz|") + (1u << 20) + 1000);
	assert_memory_equal(s.body, "POST xyz|b\0bbb", 14);
	assert_int_equal(put.status, 200);
	assert_string_equal(put.body, "PUT xyz|put-body");
	assert_int_equal(del.status, 200);
	assert_string_equal(del.body, "DELETE xyz|");
	hc_client_free(c);
	event_base_free(base);
}

struct chain {
	struct hc_client *c;
	struct hc_request req;
	int done, ok;
};

static void chain_next(const struct hc_response *r, void *arg)
{
	struct chain *ch = arg;

	ch->done++;
	ch->ok += r->error == NULL && r->status == 200 && !strcmp(r->body, "GET -|");
	/* Starting the next request from inside the callback is allowed. */
	if (ch->done < 100 && !hc_client_request(ch->c, &ch->req, chain_next, ch))
		ch->done = 100; /* stop; ok < 100 fails the test (no cmocka in threads) */
}

static int chain_done(void *arg)
{
	return ((struct chain *)arg)->done == 100;
}

static void test_keepalive_reuse(void **state)
{
	struct event_base *base = event_base_new();
	char url[128];
	struct chain ch = {.c = hc_client_new(base, NULL), .req = {.method = "GET", .url = url}};
	int requests, peers;

	url_of(url, sizeof(url), "/echo");
	fixture_reset_counts();
	assert_non_null(hc_client_request(ch.c, &ch.req, chain_next, &ch));
	assert_true(th_run_until(base, chain_done, &ch, EVENTUALLY_MS));
	assert_int_equal(ch.ok, 100);
	fixture_counts(&requests, &peers);
	assert_int_equal(requests, 100);
	assert_int_equal(peers, 1); /* one TCP connection for all of them */
	hc_client_free(ch.c);
	event_base_free(base);
}

#define CONCURRENT 50

struct many {
	int done, ok;
};

struct one {
	struct many *m;
	int i;
};

static void one_cb(const struct hc_response *r, void *arg)
{
	struct one *o = arg;
	char want[64];

	snprintf(want, sizeof(want), "POST -|req-%d", o->i);
	o->m->done++;
	o->m->ok += r->error == NULL && r->status == 200 && !strcmp(r->body, want);
}

static int many_done(void *arg)
{
	return ((struct many *)arg)->done == CONCURRENT;
}

static void test_concurrent(void **state)
{
	struct event_base *base = event_base_new();
	struct hc_client_opts opts = {.max_conns_per_host = 8};
	struct hc_client *c = hc_client_new(base, &opts);
	struct many m = {0};
	struct one ones[CONCURRENT];
	char url[128], bodies[CONCURRENT][16];

	url_of(url, sizeof(url), "/echo");
	for (int i = 0; i < CONCURRENT; i++) {
		struct hc_request req = {.method = "POST", .url = url, .body = bodies[i]};

		ones[i].m = &m;
		ones[i].i = i;
		req.body_len = (size_t)snprintf(bodies[i], sizeof(bodies[i]), "req-%d", i);
		assert_non_null(hc_client_request(c, &req, one_cb, &ones[i]));
	}
	assert_int_equal(hc_client_pending(c), CONCURRENT);
	assert_true(th_run_until(base, many_done, &m, EVENTUALLY_MS));
	assert_int_equal(m.ok, CONCURRENT);
	assert_int_equal(hc_client_pending(c), 0);
	hc_client_free(c);
	event_base_free(base);
}

static void test_timeout(void **state)
{
	struct event_base *base = event_base_new();
	struct hc_client *c = hc_client_new(base, NULL);
	char url[128];
	struct hc_request req = {.method = "GET", .url = url, .timeout_ms = 200};
	struct seen s = {0};

	url_of(url, sizeof(url), "/hang");
	assert_non_null(hc_client_request(c, &req, record, &s));
	assert_true(th_run_until(base, seen_call, &s, EVENTUALLY_MS));
	assert_int_equal(s.calls, 1);
	assert_true(s.has_error);
	assert_true(s.timed_out);
	assert_int_equal(s.status, 0);
	assert_true(s.elapsed_us >= 200000); /* it cannot time out early */
	hc_client_free(c);
	event_base_free(base);
}

static void test_max_response(void **state)
{
	struct event_base *base = event_base_new();
	struct hc_client *c = hc_client_new(base, NULL);
	char url[128], url2[128], url3[128];
	struct hc_request req = {.method = "GET", .url = url, .max_response = 1000};
	struct seen big = {0}, chunked = {0}, exact = {0};

	url_of(url, sizeof(url), "/big?n=100000");
	assert_non_null(hc_client_request(c, &req, record, &big));
	url_of(url2, sizeof(url2), "/chunked?n=100000");
	req.url = url2;
	assert_non_null(hc_client_request(c, &req, record, &chunked));
	url_of(url3, sizeof(url3), "/big?n=1000");
	req.url = url3;
	assert_non_null(hc_client_request(c, &req, record, &exact));
	assert_true(th_run_until(base, seen_call, &big, EVENTUALLY_MS));
	assert_true(th_run_until(base, seen_call, &chunked, EVENTUALLY_MS));
	assert_true(th_run_until(base, seen_call, &exact, EVENTUALLY_MS));
	assert_true(big.has_error);
	assert_string_equal(big.error, "response larger than 1000 bytes");
	assert_false(big.timed_out);
	/* Without a Content-Length the limit is found while reading. */
	assert_true(chunked.has_error);
	assert_string_equal(chunked.error, "response larger than 1000 bytes");
	assert_true(chunked.body_len <= 1000);
	/* Exactly at the limit is fine. */
	assert_false(exact.has_error);
	assert_int_equal(exact.body_len, 1000);
	hc_client_free(c);
	event_base_free(base);
}

static void test_refused(void **state)
{
	struct event_base *base = event_base_new();
	struct hc_client *c = hc_client_new(base, NULL);
	char url[128];
	struct hc_request req = {.method = "GET", .url = url};
	struct seen s = {0}, bad = {0};

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", th_free_port());
	assert_non_null(hc_client_request(c, &req, record, &s));
	assert_true(th_run_until(base, seen_call, &s, EVENTUALLY_MS));
	assert_int_equal(s.calls, 1);
	assert_true(s.has_error);
	assert_false(s.timed_out);
	assert_int_equal(s.status, 0);
	/* Only http and https: other schemes fail through the callback. */
	req.url = "file:///etc/passwd";
	assert_non_null(hc_client_request(c, &req, record, &bad));
	assert_true(th_run_until(base, seen_call, &bad, EVENTUALLY_MS));
	assert_true(bad.has_error);
	assert_int_equal(bad.body_len, 0);
	/* No url: refused at once, no callback. */
	req.url = NULL;
	assert_null(hc_client_request(c, &req, record, &bad));
	assert_int_equal(bad.calls, 1);
	hc_client_free(c);
	event_base_free(base);
}

static void test_location(void **state)
{
	struct event_base *base = event_base_new();
	struct hc_client *c = hc_client_new(base, NULL);
	char url[128];
	struct hc_request req = {.method = "GET", .url = url};
	struct seen s = {0}, plain = {0};

	url_of(url, sizeof(url), "/redirect");
	assert_non_null(hc_client_request(c, &req, record, &s));
	assert_true(th_run_until(base, seen_call, &s, EVENTUALLY_MS));
	assert_int_equal(s.status, 302); /* not followed */
	assert_string_equal(s.location, "http://127.0.0.1/elsewhere");
	/* The same (recycled) easy handle carries no Location over. */
	url_of(url, sizeof(url), "/echo");
	assert_non_null(hc_client_request(c, &req, record, &plain));
	assert_true(th_run_until(base, seen_call, &plain, EVENTUALLY_MS));
	assert_string_equal(plain.location, "");
	hc_client_free(c);
	event_base_free(base);
}

struct canceller {
	struct hc_call *victim;
	int calls;
};

static void cancel_other(const struct hc_response *r, void *arg)
{
	struct canceller *k = arg;

	k->calls++;
	hc_call_cancel(k->victim);
}

static void test_cancel(void **state)
{
	struct event_base *base = event_base_new();
	struct hc_client *c = hc_client_new(base, NULL);
	char slow[128], fast[128];
	struct hc_request req = {.method = "GET", .url = slow};
	struct seen s = {0}, victim = {0};
	struct canceller k = {0};
	struct hc_call *call;

	url_of(slow, sizeof(slow), "/slow");
	url_of(fast, sizeof(fast), "/echo");
	call = hc_client_request(c, &req, record, &s);
	assert_non_null(call);
	th_run_for(base, 50); /* the request is on the wire */
	hc_call_cancel(call);
	assert_int_equal(hc_client_pending(c), 0);
	th_run_for(base, 500); /* past when /slow answers */
	assert_int_equal(s.calls, 0);

	/* Cancel from inside another call's callback. */
	k.victim = hc_client_request(c, &req, record, &victim);
	req.url = fast;
	assert_non_null(hc_client_request(c, &req, cancel_other, &k));
	assert_true(th_run_until(base, th_flag_set, &k.calls, EVENTUALLY_MS));
	th_run_for(base, 500);
	assert_int_equal(victim.calls, 0);
	assert_int_equal(hc_client_pending(c), 0);
	hc_client_free(c);
	event_base_free(base);
}

static void test_free_with_pending(void **state)
{
	struct event_base *base = event_base_new();
	struct hc_client *c = hc_client_new(base, NULL);
	char url[128];
	struct hc_request req = {.method = "GET", .url = url};
	struct seen s[3] = {{0}};

	url_of(url, sizeof(url), "/hang");
	for (int i = 0; i < 3; i++)
		assert_non_null(hc_client_request(c, &req, record, &s[i]));
	th_run_for(base, 50);
	hc_client_free(c);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(s[i].calls, 1);
		assert_string_equal(s[i].error, "cancelled");
		assert_int_equal(s[i].status, 0);
	}
	event_base_free(base);
}

struct self_free {
	struct hc_client *c;
	struct seen other;
	int freed;
};

static void free_in_cb(const struct hc_response *r, void *arg)
{
	struct self_free *f = arg;

	hc_client_free(f->c);
	f->freed = 1;
}

static void test_free_inside_callback(void **state)
{
	struct event_base *base = event_base_new();
	struct self_free f = {.c = hc_client_new(base, NULL)};
	char hang[128], fast[128];
	struct hc_request req = {.method = "GET", .url = hang};

	url_of(hang, sizeof(hang), "/hang");
	url_of(fast, sizeof(fast), "/echo");
	assert_non_null(hc_client_request(f.c, &req, record, &f.other));
	req.url = fast;
	assert_non_null(hc_client_request(f.c, &req, free_in_cb, &f));
	assert_true(th_run_until(base, th_flag_set, &f.freed, EVENTUALLY_MS));
	assert_int_equal(f.other.calls, 1);
	assert_string_equal(f.other.error, "cancelled");
	event_base_free(base);
}

static void test_sync(void **state)
{
	char url[128];
	const char *headers[] = {"X-Test: s", NULL};
	struct hc_request req = {
	    .method = "POST", .url = url, .headers = headers, .body = "data", .body_len = 4};
	struct hc_buf out;
	struct hc_err err = {""};
	long status = -1;

	hc_buf_init(&out, 1000);
	url_of(url, sizeof(url), "/echo");
	assert_int_equal(hc_http_sync(&req, &status, &out, &err), 0);
	assert_int_equal(status, 200);
	assert_string_equal(hc_buf_str(&out), "POST s|data");
	hc_buf_reset(&out);

	req.method = "GET";
	req.body = NULL;
	req.body_len = 0;
	url_of(url, sizeof(url), "/nothing");
	assert_int_equal(hc_http_sync(&req, &status, &out, &err), 0);
	assert_int_equal(status, 404);
	hc_buf_reset(&out);

	url_of(url, sizeof(url), "/chunked?n=5000");
	assert_int_equal(hc_http_sync(&req, &status, &out, &err), -1);
	assert_non_null(strstr(err.msg, "response larger than 1000 bytes"));
	hc_buf_reset(&out);

	url_of(url, sizeof(url), "/hang");
	req.timeout_ms = 100;
	assert_int_equal(hc_http_sync(&req, &status, &out, &err), -1);
	if (!strstr(err.msg, "imed out"))
		fail_msg("not a timeout: %s", err.msg);

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", th_free_port());
	assert_int_equal(hc_http_sync(&req, &status, &out, &err), -1);
	assert_int_equal(status, 0);
	assert_true(err.msg[0] != '\0');
	hc_buf_free(&out);
}

/* One client per thread, each on its own loop, at the same time. */
static void *thread_requests(void *arg)
{
	struct event_base *base = event_base_new();
	char url[128];
	struct chain ch = {.c = hc_client_new(base, NULL), .req = {.method = "GET", .url = url}};

	url_of(url, sizeof(url), "/echo");
	if (ch.c && hc_client_request(ch.c, &ch.req, chain_next, &ch))
		th_run_until(base, chain_done, &ch, EVENTUALLY_MS);
	hc_client_free(ch.c);
	event_base_free(base);
	*(int *)arg = ch.ok;
	return NULL;
}

static void test_threads(void **state)
{
	pthread_t t[2];
	int ok[2] = {0, 0};

	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, thread_requests, &ok[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(ok[0], 100);
	assert_int_equal(ok[1], 100);
}

/* ---- the harness's own helpers (every integration test relies on them) ---- */

static void test_harness_http(void **state)
{
	const char *headers[] = {"X-Test: th", NULL};
	char url[128], *body = NULL;

	url_of(url, sizeof(url), "/echo");
	assert_int_equal(th_http("POST", url, headers, "abc", 3, &body), 200);
	assert_string_equal(body, "POST th|abc");
	free(body);
	assert_int_equal(th_http("GET", url, NULL, NULL, 0, NULL), 200);
	assert_int_equal(th_wait_http_ok(url, 1000), 0);
	url_of(url, sizeof(url), "/nothing");
	assert_int_equal(th_http("GET", url, NULL, NULL, 0, &body), 404);
	free(body);
	assert_int_equal(th_wait_http_ok(url, 200), -1);
	assert_int_equal(th_wait_port("127.0.0.1", fx.port, 1000), 0);
	assert_int_equal(th_wait_port("127.0.0.1", th_free_port(), 100), -1);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", th_free_port());
	assert_int_equal(th_http("GET", url, NULL, NULL, 0, &body), 0);
	assert_null(body);
}

static int log_has(const char *path, const char *what)
{
	char buf[256] = "";
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return strstr(buf, what) != NULL;
}

static const char *read_log(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "r");
	size_t got = f ? fread(buf, 1, n - 1, f) : 0;

	buf[got] = '\0';
	if (f)
		fclose(f);
	return buf;
}

/* An orphan waits for init to reap it (late on this VM): count "Z" as gone. */
static int is_zombie(int pid)
{
	char path[64], buf[256];
	const char *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	p = strrchr(read_log(path, buf, sizeof(buf)), ')');
	return p && p[1] == ' ' && p[2] == 'Z';
}

static void test_harness_spawn(void **state)
{
	char *argv[] = {"sh", "-c", "echo \"var=$TH_VAR\"; exec sleep 30", NULL};
	char *stubborn[] = {"sh", "-c", "trap '' TERM; echo ready; exec sleep 30", NULL};
	char *missing[] = {"no-such-program-h2", NULL};
	char *exits[] = {"sh", "-c", "exit 3", NULL};
	char *family[] = {"sh", "-c", "sleep 30 & echo child=$!; wait", NULL};
	char text[256];
	int grandchild;
	char *env[] = {"TH_VAR=hello", NULL};
	char log[512], want[300], bin[300];
	int st;
	pid_t pid;

	pid = th_spawn(argv, env, log, sizeof(log));
	assert_true(pid > 0);
	snprintf(want, sizeof(want), "/sh-%d.log", (int)pid);
	assert_non_null(strstr(log, want));
	TH_RETRY(5000, 10) {
		if (log_has(log, "var=hello"))
			break;
	}
	assert_true(log_has(log, "var=hello"));
	st = th_stop(pid, SIGTERM, 2000);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
	assert_int_equal(kill(pid, 0), -1); /* reaped */

	/* A child that ignores SIGTERM is killed after the grace period. */
	pid = th_spawn(stubborn, NULL, log, sizeof(log));
	assert_true(pid > 0);
	TH_RETRY(5000, 10) {
		if (log_has(log, "ready"))
			break;
	}
	assert_true(log_has(log, "ready"));
	st = th_stop(pid, SIGTERM, 200);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	assert_int_equal(th_stop(pid, SIGTERM, 100), -1); /* forgotten */

	/* A child that exits by itself: its status, then it is forgotten. */
	pid = th_spawn(exits, NULL, NULL, 0);
	assert_true(pid > 0);
	st = th_wait_exit(pid, EVENTUALLY_MS);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 3);
	assert_int_equal(th_stop(pid, SIGTERM, 100), -1);
	pid = th_spawn(stubborn, NULL, NULL, 0);
	assert_int_equal(th_wait_exit(pid, 50), -1); /* still running */
	assert_true(WIFSIGNALED(th_stop(pid, SIGKILL, 1000)));

	/* A grandchild (a shell's child) does not outlive th_stop. */
	pid = th_spawn(family, NULL, log, sizeof(log));
	assert_true(pid > 0);
	TH_RETRY(5000, 10) {
		if (log_has(log, "child="))
			break;
	}
	assert_true(log_has(log, "child="));
	grandchild = atoi(strstr(read_log(log, text, sizeof(text)), "child=") + 6);
	assert_true(grandchild > 0);
	th_stop(pid, SIGTERM, 1000);
	TH_RETRY(5000, 10) {
		if (kill(grandchild, 0) == -1 || is_zombie(grandchild))
			break;
	}
	assert_true(kill(grandchild, 0) == -1 || is_zombie(grandchild));

	assert_int_equal(th_spawn(missing, NULL, NULL, 0), -1);
	snprintf(want, sizeof(want), "%s/hearth-agent",
		 getenv("HEARTH_BUILD") ? getenv("HEARTH_BUILD") : "build");
	assert_string_equal(th_bin("hearth-agent", bin, sizeof(bin)), want);
}

/* th_daemon_start: a daemon that answers /healthz, and one that never
 * does (refused within its timeout, and stopped); th_redis_connect. */
static void test_harness_daemon(void **state)
{
	char port[16], log[512], url[128];
	int p = th_free_port();
	char *runtime[] = {"hearth-runtime", "--port", port, NULL};
	char *mute[] = {"sh", "-c", "exec sleep 30", NULL};
	struct th_redis r;
	redisContext *c;
	redisReply *rep;
	long long t0;
	pid_t pid;

	snprintf(port, sizeof(port), "%d", p);
	pid = th_daemon_start(runtime, NULL, p, EVENTUALLY_MS, log, sizeof(log));
	assert_true(pid > 0);
	assert_non_null(strstr(log, "/hearth-runtime-"));
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/healthz", p);
	assert_int_equal(th_http("GET", url, NULL, NULL, 0, NULL), 200);
	assert_true(WIFEXITED(th_stop(pid, SIGTERM, 5000)));

	t0 = th_now_ms();
	assert_int_equal(th_daemon_start(mute, NULL, th_free_port(), 300, log, sizeof(log)), -1);
	assert_true(th_now_ms() - t0 >= 300);
	assert_non_null(strstr(log, "/sh-"));
	pid = atoi(strstr(log, "/sh-") + 4);
	assert_true(pid > 0);
	assert_true(kill(pid, 0) == -1 || is_zombie(pid)); /* stopped, not left running */

	assert_int_equal(th_redis_start(&r), 0);
	c = th_redis_connect(&r);
	assert_non_null(c);
	rep = redisCommand(c, "PING");
	assert_non_null(rep);
	assert_string_equal(rep->str, "PONG");
	freeReplyObject(rep);
	redisFree(c);
	th_redis_stop(&r);
	assert_null(th_redis_connect(&r));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_get_round_trip),
	    cmocka_unit_test(test_post_round_trip),
	    cmocka_unit_test(test_keepalive_reuse),
	    cmocka_unit_test(test_concurrent),
	    cmocka_unit_test(test_timeout),
	    cmocka_unit_test(test_max_response),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_location),
	    cmocka_unit_test(test_cancel),
	    cmocka_unit_test(test_free_with_pending),
	    cmocka_unit_test(test_free_inside_callback),
	    cmocka_unit_test(test_sync),
	    cmocka_unit_test(test_threads),
	    cmocka_unit_test(test_harness_http),
	    cmocka_unit_test(test_harness_spawn),
	    cmocka_unit_test(test_harness_daemon),
	};

	return cmocka_run_group_tests_name("client", tests, fixture_start, fixture_stop);
}
