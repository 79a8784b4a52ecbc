/* client.c — asynchronous HTTP client: libcurl multi driven by libevent.
 *
 * The design of curl's docs/examples/multi-event.c: curl tells us which
 * sockets to watch (CURLMOPT_SOCKETFUNCTION: one EV_PERSIST event per
 * socket, kept with curl_multi_assign) and when to wake it up
 * (CURLMOPT_TIMERFUNCTION: arm one evtimer; never call curl from there).
 * Every event calls curl_multi_socket_action and then drains
 * curl_multi_info_read, where finished transfers run their callbacks.
 *
 * Connections live in the multi handle's cache and are reused across
 * requests to the same host; easy handles are recycled through a small free
 * list (curl_easy_reset keeps nothing but the handle). A callback may start
 * new requests, cancel other calls, or free the client: freeing while an
 * event handler is on the stack is finished when the handler unwinds. */
#include "common/client.h"

#include <curl/curl.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/clock.h"

#define DEFAULT_TIMEOUT_MS	   30000
#define DEFAULT_CONNECT_TIMEOUT_MS 2000
#define DEFAULT_MAX_RESPONSE	   (16u << 20)
#define MAX_LOCATION		   2048
#define EASY_FREE_LIST		   16

struct hc_call {
	struct hc_client *c;
	CURL *easy;
	struct curl_slist *headers;
	hc_client_cb cb;
	void *arg;
	struct hc_buf body;
	char *location;
	int too_large;
	int done; /* the callback is running or has run */
	uint64_t start_us;
	struct hc_call *prev, *next;
	char errbuf[CURL_ERROR_SIZE];
};

/* One watched socket: the event curl asked for. */
struct hc_sock {
	struct event *ev;
	struct hc_sock *prev, *next;
};

struct hc_client {
	struct event_base *base;
	CURLM *multi;
	struct event *timer;
	struct hc_call *calls; /* pending, newest first */
	size_t pending;
	struct hc_sock *socks; /* freed after curl_multi_cleanup if curl did not */
	CURL *spare[EASY_FREE_LIST];
	int nspare;
	long connect_timeout_ms;
	int depth;   /* event handlers of this client on the stack */
	int freeing; /* hc_client_free has begun */
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_init_rc;

/* curl_global_init is not thread-safe and clients are made on many threads. */
static void curl_global(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static int curl_ready(void)
{
	pthread_once(&curl_once, curl_global);
	return curl_init_rc;
}

/* ---- per-transfer callbacks (curl calls them; no user code runs here) ---- */

static size_t on_write(char *p, size_t size, size_t n, void *arg)
{
	struct hc_call *call = arg;

	if (hc_buf_add(&call->body, p, size * n) < 0) {
		call->too_large = 1;
		return 0; /* makes curl fail the transfer with CURLE_WRITE_ERROR */
	}
	return size * n;
}

struct sync_sink {
	struct hc_buf *out;
	int too_large;
};

static size_t on_write_sync(char *p, size_t size, size_t n, void *arg)
{
	struct sync_sink *sink = arg;

	if (hc_buf_add(sink->out, p, size * n) < 0) {
		sink->too_large = 1;
		return 0;
	}
	return size * n;
}

/* Keep the Location header of the final response (redirect hints). */
static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct hc_call *call = arg;
	size_t len = size * n;

	if (len >= 5 && !strncmp(p, "HTTP/", 5)) {
		/* A new response (after 1xx): forget the previous one's. */
		free(call->location);
		call->location = NULL;
	} else if (len > 9 && !strncasecmp(p, "Location:", 9)) {
		const char *v = p + 9, *end = p + len;

		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
			end--;
		if ((size_t)(end - v) <= MAX_LOCATION) {
			free(call->location);
			call->location = strndup(v, (size_t)(end - v));
		}
	}
	return len;
}

/* ---- request setup shared by the async and sync paths ---- */

static int set_request(CURL *e, const struct hc_request *req, struct curl_slist **hl,
		       long connect_timeout_ms, size_t max_response, char *errbuf)
{
	struct curl_slist *tmp;
	long timeout = req->timeout_ms > 0 ? req->timeout_ms : DEFAULT_TIMEOUT_MS;
	const char *method = req->method ? req->method : "GET";

	/* An empty "Expect:" stops curl's 100-continue round trip. */
	tmp = curl_slist_append(NULL, "Expect:");
	if (!tmp)
		return -1;
	*hl = tmp;
	for (size_t i = 0; req->headers && req->headers[i]; i++) {
		tmp = curl_slist_append(*hl, req->headers[i]);
		if (!tmp)
			return -1;
		*hl = tmp;
	}
	if (curl_easy_setopt(e, CURLOPT_URL, req->url) != CURLE_OK)
		return -1;
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
			 connect_timeout_ms < timeout ? connect_timeout_ms : timeout);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, *hl);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max_response);
	errbuf[0] = '\0';
	if (!strcmp(method, "HEAD")) {
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	} else if (req->body || !strcmp(method, "POST") || !strcmp(method, "PUT")) {
		/* COPYPOSTFIELDS copies: the caller's body may go away. */
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		if (curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, req->body ? req->body : "") !=
		    CURLE_OK)
			return -1;
		if (strcmp(method, "POST"))
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	} else if (strcmp(method, "GET")) {
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	}
	return 0;
}

/* The error text for a failed transfer. */
static const char *describe(CURLcode rc, const char *errbuf, int too_large, size_t max, char *out,
			    size_t outlen)
{
	if (too_large || rc == CURLE_FILESIZE_EXCEEDED)
		snprintf(out, outlen, "response larger than %zu bytes", max);
	else
		snprintf(out, outlen, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
	return out;
}

/* ---- calls ---- */

static void unlink_call(struct hc_client *c, struct hc_call *call)
{
	if (call->prev)
		call->prev->next = call->next;
	else
		c->calls = call->next;
	if (call->next)
		call->next->prev = call->prev;
	call->prev = call->next = NULL;
	c->pending--;
}

/* Give the easy handle back (or away) and free the call. */
static void free_call(struct hc_client *c, struct hc_call *call)
{
	if (call->easy) {
		if (c->nspare < EASY_FREE_LIST && !c->freeing) {
			curl_easy_reset(call->easy);
			c->spare[c->nspare++] = call->easy;
		} else {
			curl_easy_cleanup(call->easy);
		}
	}
	curl_slist_free_all(call->headers);
	hc_buf_free(&call->body);
	free(call->location);
	free(call);
}

static void finish(struct hc_client *c, struct hc_call *call, CURLcode rc)
{
	struct hc_response resp = {0};
	char err[CURL_ERROR_SIZE + 64];

	curl_multi_remove_handle(c->multi, call->easy);
	unlink_call(c, call);
	call->done = 1;
	curl_easy_getinfo(call->easy, CURLINFO_RESPONSE_CODE, &resp.status);
	resp.body = hc_buf_str(&call->body);
	resp.body_len = call->body.len;
	resp.location = call->location;
	resp.elapsed_us = hc_mono_us() - call->start_us;
	if (rc != CURLE_OK) {
		resp.timed_out = rc == CURLE_OPERATION_TIMEDOUT;
		resp.error =
		    describe(rc, call->errbuf, call->too_large, call->body.max, err, sizeof(err));
	}
	if (call->cb)
		call->cb(&resp, call->arg);
	free_call(c, call);
}

/* Run the callbacks of finished transfers. */
static void drain_done(struct hc_client *c)
{
	CURLMsg *msg;
	int left;

	while (!c->freeing && (msg = curl_multi_info_read(c->multi, &left)) != NULL) {
		struct hc_call *call = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&call);
		if (call)
			finish(c, call, msg->data.result);
	}
}

static void real_free(struct hc_client *c);

/* Enter/leave an event handler; a free requested inside runs on the way out. */
static void leave(struct hc_client *c)
{
	if (--c->depth == 0 && c->freeing)
		real_free(c);
}

static void on_socket_event(evutil_socket_t fd, short what, void *arg)
{
	struct hc_client *c = arg;
	int action =
	    (what & EV_READ ? CURL_CSELECT_IN : 0) | (what & EV_WRITE ? CURL_CSELECT_OUT : 0);
	int running;

	c->depth++;
	curl_multi_socket_action(c->multi, fd, action, &running);
	drain_done(c);
	leave(c);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct hc_client *c = arg;
	int running;

	c->depth++;
	curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	drain_done(c);
	leave(c);
}

/* curl: "watch this socket for what" (or stop watching it). */
static int on_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct hc_client *c = userp;
	struct hc_sock *sk = socketp;
	short kind;

	if (what == CURL_POLL_REMOVE) {
		if (sk) {
			event_free(sk->ev);
			if (sk->prev)
				sk->prev->next = sk->next;
			else
				c->socks = sk->next;
			if (sk->next)
				sk->next->prev = sk->prev;
			free(sk);
			curl_multi_assign(c->multi, s, NULL);
		}
		return 0;
	}
	kind = (short)((what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0) |
		       EV_PERSIST);
	if (!sk) {
		sk = calloc(1, sizeof(*sk));
		if (!sk)
			return -1;
		sk->ev = event_new(c->base, s, kind, on_socket_event, c);
		if (!sk->ev) {
			free(sk);
			return -1;
		}
		sk->next = c->socks;
		if (c->socks)
			c->socks->prev = sk;
		c->socks = sk;
		curl_multi_assign(c->multi, s, sk);
	} else if (event_get_events(sk->ev) == kind &&
		   event_pending(sk->ev, EV_READ | EV_WRITE, NULL)) {
		return 0; /* already watched for that: no epoll_ctl */
	} else {
		/* same event, new interest: one epoll_ctl MOD instead of a DEL
		 * and an ADD for a freed and a new event */
		event_del(sk->ev);
		event_assign(sk->ev, c->base, s, kind, on_socket_event, c);
	}
	if (event_add(sk->ev, NULL) < 0)
		return -1;
	return 0;
}

/* curl: "call me back in timeout_ms" (-1: never). Only arms the timer. */
static int on_curl_timer(CURLM *m, long timeout_ms, void *userp)
{
	struct hc_client *c = userp;
	struct timeval tv = hc_ms_timeval(timeout_ms);

	if (timeout_ms < 0)
		evtimer_del(c->timer);
	else
		evtimer_add(c->timer, &tv);
	return 0;
}

struct hc_client *hc_client_new(struct event_base *base, const struct hc_client_opts *opts)
{
	struct hc_client *c;

	if (!base || curl_ready() < 0)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->base = base;
	c->connect_timeout_ms = opts && opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms
								     : DEFAULT_CONNECT_TIMEOUT_MS;
	c->multi = curl_multi_init();
	c->timer = evtimer_new(base, on_timer, c);
	if (!c->multi || !c->timer) {
		real_free(c);
		return NULL;
	}
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	if (opts && opts->max_conns_per_host > 0)
		curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
				  opts->max_conns_per_host);
	if (opts && opts->max_total_conns > 0)
		curl_multi_setopt(c->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, opts->max_total_conns);
	return c;
}

struct hc_call *hc_client_request(struct hc_client *c, const struct hc_request *req,
				  hc_client_cb cb, void *arg)
{
	struct hc_call *call;

	if (!c || c->freeing || !req || !req->url)
		return NULL;
	call = calloc(1, sizeof(*call));
	if (!call)
		return NULL;
	call->c = c;
	call->cb = cb;
	call->arg = arg;
	hc_buf_init(&call->body, req->max_response ? req->max_response : DEFAULT_MAX_RESPONSE);
	call->easy = c->nspare > 0 ? c->spare[--c->nspare] : curl_easy_init();
	if (!call->easy)
		goto fail;
	if (set_request(call->easy, req, &call->headers, c->connect_timeout_ms, call->body.max,
			call->errbuf) < 0)
		goto fail;
	curl_easy_setopt(call->easy, CURLOPT_PRIVATE, call);
	curl_easy_setopt(call->easy, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(call->easy, CURLOPT_WRITEDATA, call);
	curl_easy_setopt(call->easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(call->easy, CURLOPT_HEADERDATA, call);
	call->start_us = hc_mono_us();
	if (curl_multi_add_handle(c->multi, call->easy) != CURLM_OK)
		goto fail;
	call->next = c->calls;
	if (c->calls)
		c->calls->prev = call;
	c->calls = call;
	c->pending++;
	return call;
fail:
	free_call(c, call);
	return NULL;
}

void hc_call_cancel(struct hc_call *call)
{
	struct hc_client *c;

	if (!call || call->done)
		return;
	c = call->c;
	curl_multi_remove_handle(c->multi, call->easy);
	unlink_call(c, call);
	free_call(c, call);
}

size_t hc_client_pending(const struct hc_client *c)
{
	return c ? c->pending : 0;
}

static void real_free(struct hc_client *c)
{
	if (c->multi)
		curl_multi_cleanup(c->multi);
	/* Sockets curl did not ask us to forget. */
	while (c->socks) {
		struct hc_sock *sk = c->socks;

		c->socks = sk->next;
		event_free(sk->ev);
		free(sk);
	}
	if (c->timer)
		event_free(c->timer);
	while (c->nspare > 0)
		curl_easy_cleanup(c->spare[--c->nspare]);
	free(c);
}

void hc_client_free(struct hc_client *c)
{
	struct hc_response resp = {.body = "", .error = "cancelled"};

	if (!c || c->freeing)
		return;
	c->freeing = 1;
	/* Callbacks may cancel other calls: always take the current head. */
	/* free_call unlinks each call: the analyzer loses that */
	// NOLINTBEGIN(clang-analyzer-unix.Malloc)
	while (c->calls) {
		struct hc_call *call = c->calls;

		curl_multi_remove_handle(c->multi, call->easy);
		unlink_call(c, call);
		call->done = 1;
		resp.elapsed_us = hc_mono_us() - call->start_us;
		if (call->cb)
			call->cb(&resp, call->arg);
		free_call(c, call);
	}
	// NOLINTEND(clang-analyzer-unix.Malloc)
	if (c->depth == 0)
		real_free(c);
}

int hc_http_sync(const struct hc_request *req, long *status, struct hc_buf *out, struct hc_err *err)
{
	struct curl_slist *hl = NULL;
	struct sync_sink sink = {.out = out};
	char errbuf[CURL_ERROR_SIZE], msg[CURL_ERROR_SIZE + 64];
	CURLcode rc;
	CURL *e = NULL;
	int ret = -1;

	*status = 0;
	if (!req || !req->url) {
		hc_err_set(err, "http: no url");
		return -1;
	}
	if (curl_ready() < 0 || !(e = curl_easy_init())) {
		hc_err_set(err, "http: cannot initialise libcurl");
		goto out;
	}
	if (set_request(e, req, &hl, DEFAULT_CONNECT_TIMEOUT_MS, out->max, errbuf) < 0) {
		hc_err_set(err, "http: out of memory");
		goto out;
	}
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write_sync);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &sink);
	rc = curl_easy_perform(e);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, status);
	if (rc != CURLE_OK) {
		hc_err_set(err, "%s %s: %s", req->method ? req->method : "GET", req->url,
			   describe(rc, errbuf, sink.too_large, out->max, msg, sizeof(msg)));
		goto out;
	}
	ret = 0;
out:
	curl_slist_free_all(hl);
	if (e)
		curl_easy_cleanup(e);
	return ret;
}
