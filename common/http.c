/* http.c — HTTP/1.1 server on libevent bufferevents, one loop per thread.
 *
 * A connection moves through three states: reading a head, reading a body,
 * and waiting for the handler's reply. While a request is with its handler
 * the connection goes on reading, but pipelined requests only wait in the
 * input buffer (bounded by a high watermark) and no timeout applies: a
 * blocking invoke may take minutes. While reading, two clocks run: the
 * bufferevent's idle timeout and a deadline for the whole request, armed at
 * its first byte, so a client trickling bytes cannot hold a connection.
 *
 * The hot path costs no epoll_ctl: reading stays enabled for the life of a
 * connection, and a reply is written to the socket at once from the
 * handler, head and body in one writev (send_reply); only what the kernel
 * does not take is copied into the output buffer and waits for EV_WRITE.
 * A request, its head, its path and a small body that came with the head
 * are one allocation (start_request); the idle and request clocks are
 * libevent common timeouts. Reading is not the bufferevent's: libevent's
 * evbuffer_read asks the kernel how much is waiting (ioctl FIONREAD) before
 * every read, a second system call per request; conn_readable reads with
 * one recv, from a persistent read event whose timeout is the idle clock.
 * See http.h for the contract. */
#include "common/http.h"

#include <errno.h>
#include <stddef.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/httpparse.h"
#include "common/id.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/localnet.h"

#define FLUSH_MS 100 /* how long a stopping loop runs to flush its last replies */
#define INLINE_BODY_MAX 16384 /* bodies up to this that come with their head: with it */

struct route_ent {
	hc_handler fn;
	void *arg;
	size_t max_body;
	int flags; /* HC_ROUTE_* */
};

struct conn;
struct lp;

struct query_val {
	struct query_val *next;
	char *name;
	char value[];
};

enum req_state { RQ_BODY, RQ_HANDLER, RQ_DONE };

struct hc_req {
	struct conn *conn; /* NULL once detached */
	struct lp *lp;
	TAILQ_ENTRY(hc_req) plink; /* on lp->pending while with its handler */
	enum req_state state;
	int method;
	int keep_alive;
	char *head; /* a copy of the head in mem; parsed fields point into it, NUL-terminated */
	char *path; /* in mem, after the head */
	const char *query;
	size_t qlen;
	const struct route_ent *route;
	struct hc_buf body;         /* chunked bodies are decoded here */
	struct evbuffer *body_ev;   /* Content-Length bodies are collected here */
	const char *body_ptr;       /* the complete body, NUL-terminated */
	size_t body_len;
	struct hc_chunked ch;
	int64_t body_left; /* Content-Length bytes still to read */
	char id[HC_ID_LEN + 1];
	struct hc_buf out_headers;
	struct query_val *queries;
	uint64_t start_us;
	/* large members last: they are filled, never zeroed (see start_request) */
	struct hc_http_head h;
	struct hc_route_match match;
	char mem[]; /* head, path and a body that came with its head (start_request) */
};
TAILQ_HEAD(req_list, hc_req);

struct conn {
	TAILQ_ENTRY(conn) link;
	struct lp *lp;
	struct bufferevent *bev; /* the input and output buffers; writes */
	struct event *rev;	 /* reading (conn_readable), persistent */
	struct event *deadline;	 /* whole-request timer */
	int reading;		 /* rev is added */
	struct hc_req *req;     /* the request being read or handled */
	int closing;            /* close once the output has drained */
	int eof;                /* the client shut its side while a handler ran */
	char peer[64];
};
TAILQ_HEAD(conn_list, conn);

struct each_work {
	struct each_work *next;
	hc_loop_fn fn;
	void *arg;
};

struct lp {
	struct hc_loop pub; /* first: hc_req_loop returns &lp->pub */
	struct hc_server *srv;
	pthread_t thread;
	int listen_fd;
	struct evconnlistener *listener;
	struct evconnlistener *ulistener; /* the local socket's (loop 0 only) */
	int wake[2]; /* pipe: any thread (or a signal handler) wakes the loop */
	struct event *wake_ev;
	struct conn_list conns;
	struct req_list pending;
	int stopping;
	int draining;
	struct event *drain_ev;
	uint64_t drain_end_us;
	int init_ok;
	pthread_mutex_t each_mu;
	struct each_work *each;
	time_t date_sec;
	char date[64];
	/* the idle and request timeouts as libevent common timeouts: every
	 * request re-arms them, and a queue costs less than the timer heap */
	const struct timeval *idle_tv, *request_tv;
	struct hc_http_head scratch; /* where heads are parsed before a request exists */
};

struct hc_server {
	struct hc_server_opts o;
	char *name;
	char *addr;
	char *unix_name;    /* the local socket's name (opts.unix_name), or NULL */
	int unix_listening; /* bound it: a path is removed on free */
	struct hc_router *router;
	struct route_ent **routes;
	int nroutes;
	int port;
	int nloops;
	struct lp *loops;
	atomic_long nconns;
	atomic_int stop_requested;
	struct hc_counter *m_status[6]; /* 1xx..5xx, [0] = other */
	struct hc_hist *m_latency;
	struct hc_gauge *m_conns;
	struct hc_counter *m_rejected;
};

static struct hc_server *signal_server;

/* ------------------------------------------------------------------ */

const char *hc_http_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 411: return "Length Required";
	case 413: return "Payload Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 417: return "Expectation Failed";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	case 507: return "Insufficient Storage";
	default: return "Unknown";
	}
}

static const char *date_header(struct lp *lp)
{
	time_t now = time(NULL);
	if (now != lp->date_sec) {
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(lp->date, sizeof lp->date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
		lp->date_sec = now;
	}
	return lp->date;
}

/* ---------------- connections ---------------- */

static void conn_event_cb(struct bufferevent *bev, short what, void *arg);
static void conn_write_cb(struct bufferevent *bev, void *arg);

static void req_free(struct hc_req *req)
{
	if (!req)
		return;
	struct query_val *q = req->queries;
	while (q) {
		struct query_val *n = q->next;
		free(q); /* the name lives in the same allocation */
		q = n;
	}
	if (req->body_ev)
		evbuffer_free(req->body_ev);
	hc_buf_free(&req->body);
	hc_buf_free(&req->out_headers);
	free(req);
}

/* Forget a request's link to its connection: the client is gone or the
 * server has answered for the handler. The handler's reply frees it. */
static void req_detach(struct hc_req *req)
{
	if (req->conn && req->conn->req == req)
		req->conn->req = NULL;
	req->conn = NULL;
}

static void conn_free(struct conn *c)
{
	struct lp *lp = c->lp;
	if (c->req) {
		if (c->req->state == RQ_HANDLER)
			req_detach(c->req); /* the handler still owns it */
		else
			req_free(c->req);
	}
	TAILQ_REMOVE(&lp->conns, c, link);
	if (c->deadline)
		event_free(c->deadline);
	if (c->rev)
		event_free(c->rev);
	bufferevent_free(c->bev);
	atomic_fetch_sub(&lp->srv->nconns, 1);
	hc_gauge_add(lp->srv->m_conns, -1);
	free(c);
}

/* Read (again), restarting the idle clock: no epoll_ctl when rev is in. */
static void read_on(struct conn *c)
{
	if (event_add(c->rev, c->lp->idle_tv) == 0)
		c->reading = 1;
}

static void read_off(struct conn *c)
{
	if (c->reading) {
		event_del(c->rev);
		c->reading = 0;
	}
}

/* Pipelined input waits in the input buffer while a handler runs: bound
 * it, above one head. */
static size_t input_max(const struct conn *c)
{
	return c->lp->srv->o.max_head + 64 * 1024;
}

/* Send what the output buffer holds now, straight from the caller: the
 * usual reply leaves in one writev with no trip through epoll. EV_WRITE
 * is enabled only for what the kernel did not take, and disabled again
 * once it has drained (conn_write_cb), so a quiet connection never wakes
 * the loop for writability. A write error is left to the bufferevent,
 * which reports it through conn_event_cb. */
static void conn_flush(struct conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	if (evbuffer_get_length(out) == 0 || (bufferevent_get_enabled(c->bev) & EV_WRITE))
		return;
	/* a socket bufferevent keeps its output's front frozen: only it
	 * drains it; thaw it for this one write, as its own write callback does */
	evbuffer_unfreeze(out, 1);
	int n = evbuffer_write(out, bufferevent_getfd(c->bev));
	evbuffer_freeze(out, 1);
	if (n < 0 || evbuffer_get_length(out) > 0)
		bufferevent_enable(c->bev, EV_WRITE);
}

/* Close after what has been written reaches the client. */
static void conn_close_after_write(struct conn *c)
{
	c->closing = 1;
	read_off(c);
	conn_flush(c);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		conn_free(c);
}

static void conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	if (evbuffer_get_length(bufferevent_get_output(bev)) != 0)
		return;
	if (c->closing)
		conn_free(c);
	else
		bufferevent_disable(bev, EV_WRITE);
}

static void count_status(struct hc_server *s, int status)
{
	int cls = status / 100;
	hc_counter_inc(s->m_status[cls >= 1 && cls <= 5 ? cls : 0]);
}

/* The head of a reply (status line, headers, the blank line) into b; the
 * extra headers are lines of their own. Returns whether a body may follow,
 * or -1 when b is full. */
static int head_into(struct hc_buf *b, struct lp *lp, const struct hc_req *req, int status,
		     const char *ctype, const char *extra, size_t extra_len, size_t body_len,
		     int keep_alive)
{
	static const char cors[] = "Access-Control-Allow-Origin: *\r\n"
				   "Access-Control-Allow-Methods: GET, DELETE, POST, PUT, HEAD\r\n"
				   "Access-Control-Allow-Headers: Authorization, Origin, "
				   "X-Requested-With, Content-Type, Accept, User-Agent\r\n";
	int no_body = status == 204 || status == 304 || status < 200;
	int rc = 0;
	rc |= hc_buf_adds(b, "HTTP/1.1 ");
	rc |= hc_buf_add_int(b, status);
	rc |= hc_buf_addc(b, ' ');
	rc |= hc_buf_adds(b, hc_http_reason(status));
	rc |= hc_buf_adds(b, "\r\nServer: hearth\r\nDate: ");
	rc |= hc_buf_adds(b, date_header(lp));
	rc |= hc_buf_adds(b, "\r\n");
	if (!no_body) {
		rc |= hc_buf_adds(b, "Content-Length: ");
		rc |= hc_buf_add_int(b, (int64_t)body_len);
		rc |= hc_buf_adds(b, "\r\n");
		if (ctype) {
			rc |= hc_buf_adds(b, "Content-Type: ");
			rc |= hc_buf_adds(b, ctype);
			rc |= hc_buf_adds(b, "\r\n");
		}
	}
	if (!keep_alive)
		rc |= hc_buf_adds(b, "Connection: close\r\n");
	if (lp->srv->o.cors && !(req && req->route && (req->route->flags & HC_ROUTE_OWN_CORS)))
		rc |= hc_buf_add(b, cors, sizeof cors - 1);
	if (extra_len)
		rc |= hc_buf_add(b, extra, extra_len);
	rc |= hc_buf_adds(b, "\r\n");
	if (rc)
		return -1;
	return !no_body && !(req && req->method == HC_HEAD);
}

static void free_body_cb(const void *data, size_t len, void *extra)
{
	free(extra); /* the start of the body: data may be past it */
}

/* Send a reply's head and body (len bytes; take: malloc'd, freed here).
 * When nothing is waiting before them, they go straight to the socket in
 * one writev, with no copy into the output buffer (the usual reply); only
 * what the kernel does not take is buffered, and EV_WRITE enabled for it
 * (conn_write_cb disables it once drained). A write error is left to the
 * bufferevent, which meets it on that write and reports it through
 * conn_event_cb. */
static void send_reply(struct conn *c, const char *head, size_t hlen, const char *body,
		       size_t len, int take)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	size_t sent = 0;
	if (evbuffer_get_length(out) == 0 && !(bufferevent_get_enabled(c->bev) & EV_WRITE)) {
		struct iovec iov[2] = {{(void *)head, hlen}, {(void *)body, len}};
		ssize_t n = writev(bufferevent_getfd(c->bev), iov, len ? 2 : 1);
		if (n > 0)
			sent = (size_t)n;
	}
	if (sent < hlen) {
		evbuffer_add(out, head + sent, hlen - sent);
		sent = hlen;
	}
	size_t off = sent - hlen;
	if (off < len) {
		if (take && len - off > INLINE_BODY_MAX &&
		    evbuffer_add_reference(out, body + off, len - off, free_body_cb,
					   (void *)body) == 0)
			take = 0; /* a large body is not copied: freed once written */
		else
			evbuffer_add(out, body + off, len - off);
	}
	if (take)
		free((void *)body);
	if (evbuffer_get_length(out) > 0)
		bufferevent_enable(c->bev, EV_WRITE);
}

/* Reply on c: head and body (see send_reply); counted by status. -1 when
 * out of memory: nothing was sent, and the caller closes c. */
static int reply_on(struct conn *c, const struct hc_req *req, int status, const char *ctype,
		     const char *extra, size_t extra_len, const void *body, size_t len,
		     int keep_alive, int take)
{
	struct lp *lp = c->lp;
	/* max is cap - 1, so hc_buf never tries to realloc the stack array */
	char h[2048];
	struct hc_buf b = {.data = h, .len = 0, .cap = sizeof h, .max = sizeof h - 1};
	struct hc_buf big;
	hc_buf_init(&big, extra_len + 4096);
	int with_body = head_into(&b, lp, req, status, ctype, extra, extra_len, len, keep_alive);
	if (with_body < 0) { /* long extra headers */
		with_body = head_into(&big, lp, req, status, ctype, extra, extra_len, len,
				      keep_alive);
		b = big;
	}
	count_status(lp->srv, status);
	if (with_body < 0) {
		hc_buf_free(&big);
		if (take)
			free((void *)body);
		return -1;
	}
	send_reply(c, b.data, b.len, body, with_body ? len : 0, take);
	hc_buf_free(&big);
	return 0;
}

/* JSON error body in OpenWhisk's shape. */
static void error_body(struct hc_buf *b, const char *msg, const char *code)
{
	hc_buf_adds(b, "{\"error\":");
	hc_buf_add_json_str(b, msg, strlen(msg));
	hc_buf_adds(b, ",\"code\":");
	hc_buf_add_json_str(b, code, strlen(code));
	hc_buf_adds(b, "}");
}

/* Answer a protocol error on a connection that has no (usable) request, and
 * close it: the stream cannot be trusted to continue. */
static void conn_fail(struct conn *c, int status, const char *msg)
{
	char id[HC_ID_LEN + 1];
	struct hc_buf b;
	hc_id_new(id);
	hc_buf_init(&b, 4096);
	error_body(&b, msg, id);
	hc_info("http %s: %s %d %s (%s)", c->lp->srv->name, c->peer, status, msg, id);
	if (c->req && c->req->state != RQ_HANDLER) {
		req_free(c->req);
		c->req = NULL;
	}
	reply_on(c, NULL, status, "application/json", NULL, 0, b.data, b.len, 0, 0);
	hc_buf_free(&b);
	conn_close_after_write(c);
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	conn_fail(c, 408, "request not received in time");
}

static void arm_deadline(struct conn *c)
{
	if (event_pending(c->deadline, EV_TIMEOUT, NULL))
		return;
	event_add(c->deadline, c->lp->request_tv);
}

/* Fill in the request's id from X-Request-ID when it is sane. */
static void set_request_id(struct hc_req *req)
{
	const struct hc_http_header *h = hc_http_find(&req->h, "x-request-id");
	if (h && h->value_len > 0 && h->value_len <= HC_ID_LEN) {
		size_t i;
		for (i = 0; i < h->value_len; i++) {
			char ch = h->value[i];
			if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
				break;
		}
		if (i == h->value_len) {
			memcpy(req->id, h->value, h->value_len);
			req->id[h->value_len] = 0;
		}
	}
}

static void dispatch(struct conn *c)
{
	struct hc_req *req = c->req;
	struct lp *lp = c->lp;
	if (event_initialized(c->deadline))
		event_del(c->deadline);
	req->state = RQ_HANDLER;
	TAILQ_INSERT_TAIL(&lp->pending, req, plink);
	/* The handler may reply (and so free req) before returning. */
	req->route->fn(req, req->route->arg);
}

/* Header and body of one request have arrived in part or whole: advance. */
static int read_body(struct conn *c, struct evbuffer *in)
{
	struct hc_req *req = c->req;
	if (req->h.chunked) {
		while (evbuffer_get_length(in) > 0) {
			size_t n = evbuffer_get_contiguous_space(in);
			const char *p = (const char *)evbuffer_pullup(in, (ev_ssize_t)n);
			int done = 0;
			ssize_t used = hc_chunked_decode(&req->ch, p, n, &req->body, &done);
			if (used < 0) {
				conn_fail(c, (int)-used,
					  used == -413 ? "request body is too large"
						       : "malformed chunked body");
				return -1;
			}
			evbuffer_drain(in, (size_t)used);
			if (done)
				return 1;
		}
		return 0;
	}
	/* Content-Length: move the bytes (no copy) into the request's own buffer. */
	size_t have = evbuffer_get_length(in);
	size_t n = have < (size_t)req->body_left ? have : (size_t)req->body_left;
	if (n) {
		evbuffer_remove_buffer(in, req->body_ev, n);
		req->body_left -= (int64_t)n;
	}
	return req->body_left == 0;
}

/* Make the body available as one NUL-terminated block. */
static int finish_body(struct hc_req *req)
{
	if (req->h.chunked) {
		req->body_ptr = hc_buf_str(&req->body);
		req->body_len = req->body.len;
		return 0;
	}
	if (!req->body_ev)
		return 0; /* no body, or it came with the head (start_request) */
	size_t n = evbuffer_get_length(req->body_ev);
	if (evbuffer_add(req->body_ev, "", 1) < 0)
		return -1;
	req->body_ptr = (const char *)evbuffer_pullup(req->body_ev, -1);
	req->body_len = n;
	return req->body_ptr ? 0 : -1;
}

/* Turn the parsed head's pieces into C strings inside req->head. The byte
 * after each piece is a separator (space, colon, CR, LF), so writing a NUL
 * there loses nothing. */
static void terminate_head(struct hc_req *req)
{
	struct hc_http_head *h = &req->h;
	((char *)h->method)[h->method_len] = 0;
	((char *)h->target)[h->target_len] = 0;
	for (size_t i = 0; i < h->nheaders; i++) {
		((char *)h->headers[i].name)[h->headers[i].name_len] = 0;
		((char *)h->headers[i].value)[h->headers[i].value_len] = 0;
	}
}

static void cors_preflight(struct hc_req *req, void *arg)
{
	hc_reply(req, 200, NULL, NULL, 0);
}

/* Point a parsed head's fields at a copy of its bytes (from base to copy). */
static void rebase_head(struct hc_http_head *dst, const struct hc_http_head *src, const char *base,
			char *copy)
{
	dst->method = copy + (src->method - base);
	dst->method_len = src->method_len;
	dst->target = copy + (src->target - base);
	dst->target_len = src->target_len;
	dst->minor = src->minor;
	dst->nheaders = src->nheaders;
	for (size_t i = 0; i < src->nheaders; i++) {
		dst->headers[i].name = copy + (src->headers[i].name - base);
		dst->headers[i].name_len = src->headers[i].name_len;
		dst->headers[i].value = copy + (src->headers[i].value - base);
		dst->headers[i].value_len = src->headers[i].value_len;
	}
	dst->content_length = src->content_length;
	dst->chunked = src->chunked;
	dst->keep_alive = src->keep_alive;
	dst->expect_continue = src->expect_continue;
}

/* A complete head (parsed into `parsed`, pointing into the input at base)
 * is at the front of in, head_len bytes: set up the request. */
static int start_request(struct conn *c, struct evbuffer *in, long head_len,
			 const struct hc_http_head *parsed, const char *base)
{
	struct lp *lp = c->lp;
	struct hc_server *s = lp->srv;
	const char *q = memchr(parsed->target, '?', parsed->target_len);
	size_t plen = q ? (size_t)(q - parsed->target) : parsed->target_len;
	/* A small Content-Length body that arrived with its head (the usual
	 * invoke) lives with the head: one allocation for the request, no
	 * buffer of its own. A large one is checked against the route's limit
	 * before it is collected (read_body). */
	size_t blen = 0;
	if (!parsed->chunked && parsed->content_length > 0 &&
	    parsed->content_length <= INLINE_BODY_MAX &&
	    evbuffer_get_length(in) >= (size_t)head_len + (size_t)parsed->content_length)
		blen = (size_t)parsed->content_length;
	struct hc_req *req = malloc(sizeof *req + (size_t)head_len + 1 + plen + 1 + blen + 1);
	if (!req) {
		conn_fail(c, 500, "out of memory");
		return -1;
	}
	/* zero the small members; h and match are written before they are read */
	memset(req, 0, offsetof(struct hc_req, h));
	c->req = req;
	req->conn = c;
	req->lp = lp;
	req->state = RQ_BODY;
	req->start_us = hc_mono_us();
	hc_buf_init(&req->out_headers, 64 * 1024);
	req->head = req->mem;
	memcpy(req->head, base, (size_t)head_len);
	req->head[head_len] = 0;
	rebase_head(&req->h, parsed, base, req->head);
	req->path = req->head + head_len + 1;
	memcpy(req->path, req->h.target, plen);
	req->path[plen] = 0;
	evbuffer_drain(in, (size_t)head_len);
	terminate_head(req);
	req->keep_alive = req->h.keep_alive;
	set_request_id(req);
	if (q) {
		req->query = req->h.target + plen + 1;
		req->qlen = req->h.target_len - plen - 1;
	}
	if (blen) {
		char *body = req->path + plen + 1;
		evbuffer_remove(in, body, blen);
		body[blen] = 0;
		req->body_ptr = body;
		req->body_len = blen;
	}
	if (lp->stopping || lp->draining) {
		conn_fail(c, 503, "shutting down");
		return -1;
	}
	req->method = hc_method_parse(req->h.method, req->h.method_len);
	if (!req->method) {
		conn_fail(c, 501, "method not implemented");
		return -1;
	}
	if (req->path[0] != '/') {
		conn_fail(c, 400, "request target must be an absolute path");
		return -1;
	}

	static const struct route_ent preflight = {cors_preflight, NULL, 0, 0};
	enum hc_route_result r = hc_router_match(s->router, req->method, req->path, plen, &req->match);
	/* the server answers a preflight itself, unless the route does */
	if (req->method == HC_OPTIONS && s->o.cors &&
	    (r != HC_ROUTE_FOUND ||
	     !(((const struct route_ent *)req->match.data)->flags & HC_ROUTE_OWN_CORS))) {
		req->route = &preflight;
	} else {
		if (r == HC_ROUTE_NOT_FOUND) {
			conn_fail(c, 404, "The requested resource does not exist.");
			return -1;
		}
		if (r == HC_ROUTE_BAD_PATH) {
			conn_fail(c, 400, "malformed request path");
			return -1;
		}
		if (r == HC_ROUTE_BAD_METHOD) {
			conn_fail(c, 405, "method not allowed on this resource");
			return -1;
		}
		req->route = req->match.data;
	}

	size_t max_body = req->route->max_body ? req->route->max_body : s->o.max_body;
	if (req->h.content_length > (int64_t)max_body) {
		char msg[128];
		/* OpenWhisk's words (Messages.entityTooBig) */
		snprintf(msg, sizeof msg, "Request larger than allowed: %lld > %zu bytes.",
			 (long long)req->h.content_length, max_body);
		conn_fail(c, 413, msg);
		return -1;
	}
	hc_buf_init(&req->body, max_body);
	if (req->body_ptr || (!req->h.chunked && req->h.content_length <= 0))
		return 0; /* the whole body is here already, or there is none */
	req->body_left = req->h.content_length > 0 ? req->h.content_length : 0;
	if (!req->h.chunked && !(req->body_ev = evbuffer_new())) {
		conn_fail(c, 500, "out of memory");
		return -1;
	}
	if (req->h.expect_continue && (req->h.chunked || req->body_left > 0) &&
	    evbuffer_get_length(in) == 0) {
		evbuffer_add(bufferevent_get_output(c->bev), "HTTP/1.1 100 Continue\r\n\r\n", 25);
		conn_flush(c);
	}
	return 0;
}

/* Parse and dispatch as much as the input allows. */
static void conn_process(struct conn *c)
{
	struct lp *lp = c->lp;
	struct hc_server *s = lp->srv;
	struct evbuffer *in = bufferevent_get_input(c->bev);

	while (!c->closing) {
		size_t len = evbuffer_get_length(in);
		if (c->req && c->req->state == RQ_HANDLER) {
			/* one request at a time; the rest waits in `in` */
			if (len >= input_max(c))
				read_off(c);
			return;
		}
		if (!c->reading && !c->eof)
			read_on(c); /* more is needed: read (again) */
		if (!c->req) {
			if (len == 0)
				return;
			arm_deadline(c);
			size_t n = len < s->o.max_head ? len : s->o.max_head;
			const char *p = (const char *)evbuffer_pullup(in, (ev_ssize_t)n);
			struct hc_http_head *tmp = &lp->scratch;
			long r = hc_http_parse_head(p, n, s->o.max_head, tmp);
			if (r == 0)
				return;
			if (r < 0) {
				int st = (int)-r;
				conn_fail(c, st,
					  st == 431   ? "request header fields too large"
					  : st == 501 ? "unsupported transfer encoding"
					  : st == 505 ? "HTTP version not supported"
						      : "malformed request");
				return;
			}
			if (start_request(c, in, r, tmp, p) < 0)
				return;
		}
		int done = read_body(c, in);
		if (done < 0)
			return;
		if (!done)
			return;
		if (finish_body(c->req) < 0) {
			conn_fail(c, 500, "out of memory");
			return;
		}
		dispatch(c);
		/* the handler may have replied and started on the next request */
		return;
	}
}

/* The end of reading, a timeout or an error (BEV_EVENT_* flags), from
 * conn_readable or from the bufferevent's writing. */
static void conn_event(struct conn *c, short what)
{
	struct bufferevent *bev = c->bev;
	int handling = c->req && c->req->state == RQ_HANDLER;
	if ((what & BEV_EVENT_TIMEOUT) && !c->closing && c->req && c->req->state == RQ_BODY) {
		conn_fail(c, 408, "request not received in time");
		return;
	}
	if ((what & BEV_EVENT_READING) && (what & BEV_EVENT_TIMEOUT) && !c->closing &&
	    (handling || evbuffer_get_length(bufferevent_get_input(bev)) > 0)) {
		/* idle while a handler runs, or with pipelined requests still to
		 * answer, is no fault: read on (rev is persistent: still in) */
		if (!handling)
			conn_process(c);
		return;
	}
	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) && !c->closing) {
		if (handling || evbuffer_get_length(bufferevent_get_input(bev)) > 0) {
			/* half-closed after its requests: answer them, then close
			 * (a request left incomplete gets its 408 at the deadline) */
			c->eof = 1;
			read_off(c);
			if (!handling)
				conn_process(c);
			return;
		}
		if (evbuffer_get_length(bufferevent_get_output(bev)) > 0) {
			conn_close_after_write(c); /* a reply is still on its way */
			return;
		}
	}
	/* error, idle timeout, or EOF with nothing owed: the connection is done */
	conn_free(c);
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	conn_event(arg, what);
}

#define READ_CHUNK 16384 /* as libevent's bufferevents read at most */

static void conn_readable(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	if (what & EV_TIMEOUT) {
		conn_event(c, BEV_EVENT_READING | BEV_EVENT_TIMEOUT);
		return;
	}
	struct evbuffer *in = bufferevent_get_input(c->bev);
	/* Into the stack, then added to the input: a request is a few hundred
	 * bytes, and the input's chain is sized to it (a small allocation),
	 * where reading into the input itself would allocate a READ_CHUNK
	 * chain for every request (the input empties after each). */
	char buf[READ_CHUNK];
	ssize_t n = recv(fd, buf, sizeof buf, 0);
	if (n == 0) {
		conn_event(c, BEV_EVENT_READING | BEV_EVENT_EOF);
		return;
	}
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			conn_event(c, BEV_EVENT_READING | BEV_EVENT_ERROR);
			return;
		}
		n = 0; /* nothing new (a trigger from conn_next): process what is in */
	}
	if (n > 0 && evbuffer_add(in, buf, (size_t)n) < 0) {
		conn_event(c, BEV_EVENT_READING | BEV_EVENT_ERROR);
		return;
	}
	conn_process(c);
}

/* After a reply on a keep-alive connection, go on with pipelined input. */
static void conn_next(struct conn *c)
{
	c->req = NULL;
	size_t pending = evbuffer_get_length(bufferevent_get_input(c->bev));
	if (c->lp->stopping || (c->eof && pending == 0)) {
		conn_close_after_write(c);
		return;
	}
	conn_flush(c);
	/* restart the idle clock (no epoll_ctl: the event is in already) */
	if (!c->eof)
		read_on(c);
	/* pipelined input: parse it from the loop, not from inside the handler */
	if (pending > 0)
		event_active(c->rev, EV_READ, 0);
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
		      int salen, void *arg)
{
	struct lp *lp = arg;
	struct hc_server *s = lp->srv;
	if (lp->stopping || atomic_fetch_add(&s->nconns, 1) >= s->o.max_conns) {
		if (!lp->stopping)
			atomic_fetch_sub(&s->nconns, 1);
		static const char busy[] =
			"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
			"Content-Length: 54\r\nConnection: close\r\n\r\n"
			"{\"error\":\"too many connections, retry later\",\"code\":\"\"}";
		ssize_t w = send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		(void)w;
		hc_counter_inc(s->m_rejected);
		evutil_closesocket(fd);
		return;
	}
	struct conn *c = calloc(1, sizeof *c);
	if (!c) {
		atomic_fetch_sub(&s->nconns, 1);
		evutil_closesocket(fd);
		return;
	}
	int one = 1;
	if (sa->sa_family != AF_UNIX)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c->lp = lp;
	if (sa->sa_family == AF_UNIX) {
		snprintf(c->peer, sizeof c->peer, "local");
	} else if (sa->sa_family == AF_INET) {
		struct sockaddr_in *in4 = (struct sockaddr_in *)sa;
		char a[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &in4->sin_addr, a, sizeof a);
		snprintf(c->peer, sizeof c->peer, "%s:%d", a, ntohs(in4->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)sa;
		char a[INET6_ADDRSTRLEN];
		inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof a);
		snprintf(c->peer, sizeof c->peer, "[%s]:%d", a, ntohs(in6->sin6_port));
	}
	c->bev = bufferevent_socket_new(lp->pub.base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->deadline = evtimer_new(lp->pub.base, deadline_cb, c);
	c->rev = event_new(lp->pub.base, fd, EV_READ | EV_PERSIST, conn_readable, c);
	if (!c->bev || !c->deadline || !c->rev) {
		if (c->deadline)
			event_free(c->deadline);
		if (c->rev)
			event_free(c->rev);
		if (c->bev)
			bufferevent_free(c->bev);
		else
			evutil_closesocket(fd);
		free(c);
		atomic_fetch_sub(&s->nconns, 1);
		return;
	}
	TAILQ_INSERT_TAIL(&lp->conns, c, link);
	hc_gauge_add(s->m_conns, 1);
	long ms = s->o.idle_timeout_ms;
	struct timeval tv = hc_ms_timeval(ms);
	bufferevent_set_timeouts(c->bev, NULL, &tv); /* reading: rev's timeout */
	bufferevent_setcb(c->bev, NULL, conn_write_cb, conn_event_cb, c);
	bufferevent_disable(c->bev, EV_READ | EV_WRITE); /* writing: send_reply */
	/* a socket bufferevent freezes its input's end (only it adds to it);
	 * conn_readable is the one adding here */
	evbuffer_unfreeze(bufferevent_get_input(c->bev), 0);
	read_on(c);
}

/* ---------------- replies ---------------- */

/* Finish a request: write its response (if anyone is listening), move the
 * connection on, free the request. take != 0 hands body (malloc'd) over. */
static void finish(struct hc_req *req, int status, const char *ctype, const void *body,
		   size_t len, int take)
{
	struct lp *lp = req->lp;
	if (req->state != RQ_HANDLER) {
		hc_error("http: a request was answered twice (status %d); ignoring", status);
		if (take)
			free((void *)body);
		return;
	}
	req->state = RQ_DONE;
	TAILQ_REMOVE(&lp->pending, req, plink);
	hc_hist_observe(lp->srv->m_latency, (double)(hc_mono_us() - req->start_us) / 1e6);
	struct conn *c = req->conn;
	if (c) {
		int keep = req->keep_alive && !lp->stopping;
		c->req = NULL;
		if (reply_on(c, req, status, ctype, req->out_headers.data, req->out_headers.len,
			     body, len, keep, take) < 0)
			keep = 0;
		if (keep)
			conn_next(c);
		else
			conn_close_after_write(c);
	} else {
		count_status(lp->srv, status);
		if (take)
			free((void *)body);
	}
	req_free(req);
}

void hc_reply(struct hc_req *req, int status, const char *ctype, const void *body, size_t len)
{
	finish(req, status, ctype, body, len, 0);
}

void hc_reply_buf(struct hc_req *req, int status, const char *ctype, struct hc_buf *b)
{
	size_t len = 0;
	char *data = hc_buf_take(b, &len);
	if (!data) {
		hc_reply_error(req, 500, "out of memory");
		return;
	}
	finish(req, status, ctype, data, len, 1);
}

void hc_reply_json(struct hc_req *req, int status, const cJSON *json)
{
	char *text = json ? cJSON_PrintUnformatted(json) : NULL;
	if (!text) {
		hc_reply_error(req, 500, "could not encode the response");
		return;
	}
	finish(req, status, "application/json", text, strlen(text), 1);
}

void hc_reply_error(struct hc_req *req, int status, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	struct hc_buf b;
	hc_buf_init(&b, sizeof msg * 8);
	error_body(&b, msg, hc_req_id(req));
	if (status >= 500)
		hc_warn("http %s: %s %s -> %d %s (%s)", req->lp->srv->name,
			hc_method_name(req->method), req->path, status, msg, hc_req_id(req));
	else
		hc_info("http %s: %s %s -> %d %s (%s)", req->lp->srv->name,
			hc_method_name(req->method), req->path, status, msg, hc_req_id(req));
	hc_reply_buf(req, status, "application/json", &b);
}

void hc_req_add_header(struct hc_req *req, const char *name, const char *value)
{
	/* refuse anything that could split the response */
	if (strpbrk(name, "\r\n:") || strpbrk(value, "\r\n"))
		return;
	struct hc_buf *b = &req->out_headers;
	size_t old = b->len;
	if (!b->data)
		hc_buf_reserve(b, 128); /* one allocation for the usual one or two */
	if (hc_buf_adds(b, name) | hc_buf_add(b, ": ", 2) | hc_buf_adds(b, value) |
	    hc_buf_add(b, "\r\n", 2)) {
		b->len = old; /* all or nothing */
		if (b->data)
			b->data[old] = '\0';
	}
}

int hc_req_method(const struct hc_req *req)
{
	return req->method;
}

const char *hc_req_path(const struct hc_req *req)
{
	return req->path;
}

const char *hc_req_target(const struct hc_req *req)
{
	return req->h.target;
}

const char *hc_req_param(const struct hc_req *req, const char *name)
{
	return hc_route_param(&req->match, name);
}

const char *hc_req_query(struct hc_req *req, const char *name)
{
	if (!req->query)
		return NULL;
	for (struct query_val *q = req->queries; q; q = q->next)
		if (strcmp(q->name, name) == 0)
			return q->value;
	/* decoded into the node itself; one allocation for value and name, and
	 * none for a name that is not there (the common case: most optional
	 * parameters are absent) */
	if (hc_query_get(req->query, req->qlen, name, NULL, 0) != 1)
		return NULL;
	size_t nl = strlen(name) + 1;
	struct query_val *q = malloc(sizeof *q + req->qlen + 1 + nl);
	if (!q)
		return NULL;
	if (hc_query_get(req->query, req->qlen, name, q->value, req->qlen + 1) != 1) {
		free(q);
		return NULL;
	}
	q->name = q->value + req->qlen + 1;
	memcpy(q->name, name, nl);
	q->next = req->queries;
	req->queries = q;
	return q->value;
}

const char *hc_req_header(const struct hc_req *req, const char *name)
{
	for (size_t i = 0; i < req->h.nheaders; i++)
		if (strcasecmp(req->h.headers[i].name, name) == 0)
			return req->h.headers[i].value;
	return NULL;
}

size_t hc_req_nheaders(const struct hc_req *req)
{
	return req->h.nheaders;
}

int hc_req_header_at(const struct hc_req *req, size_t i, const char **name, const char **value)
{
	if (i >= req->h.nheaders)
		return -1;
	*name = req->h.headers[i].name;
	*value = req->h.headers[i].value;
	return 0;
}

const char *hc_req_query_string(const struct hc_req *req)
{
	return req->query; /* the end of the target, terminated with it */
}

const char *hc_req_body(const struct hc_req *req, size_t *len)
{
	if (len)
		*len = req->body_len;
	return req->body_ptr ? req->body_ptr : "";
}

const char *hc_req_id(const struct hc_req *req)
{
	struct hc_req *r = (struct hc_req *)req; /* the id is made lazily */
	if (!r->id[0])
		hc_id_new(r->id);
	return r->id;
}

const char *hc_req_peer(const struct hc_req *req)
{
	return req->conn ? req->conn->peer : "";
}

struct hc_loop *hc_req_loop(const struct hc_req *req)
{
	return &req->lp->pub;
}

uint64_t hc_req_start_us(const struct hc_req *req)
{
	return req->start_us;
}

int hc_req_detached(const struct hc_req *req)
{
	return req->conn == NULL;
}

void hc_handle_metrics(struct hc_req *req, void *arg)
{
	struct hc_buf b;
	hc_buf_init(&b, 64 * 1024 * 1024);
	if (hc_metrics_render(&b) < 0) {
		hc_buf_free(&b);
		hc_reply_error(req, 500, "metrics do not fit in the response");
		return;
	}
	hc_reply_buf(req, 200, "text/plain; version=0.0.4", &b);
}

/* ---------------- loops ---------------- */

static void listeners_disable(struct lp *lp)
{
	if (lp->listener)
		evconnlistener_disable(lp->listener);
	if (lp->ulistener)
		evconnlistener_disable(lp->ulistener);
}

/* Stop a loop: stop accepting, answer what handlers still hold with 503,
 * close idle connections, and let the loop run FLUSH_MS more so replies
 * reach their clients (libevent must not free requests it still owns). */
static void loop_begin_stop(struct lp *lp)
{
	if (lp->stopping)
		return;
	lp->stopping = 1;
	listeners_disable(lp);
	for (struct hc_req *r = TAILQ_FIRST(&lp->pending); r; r = TAILQ_NEXT(r, plink)) {
		struct conn *c = r->conn;
		if (!c)
			continue;
		struct hc_buf b;
		hc_buf_init(&b, 4096);
		error_body(&b, "shutting down", hc_req_id(r));
		reply_on(c, r, 503, "application/json", NULL, 0, b.data, b.len, 0, 0);
		hc_buf_free(&b);
		req_detach(r);
	}
	struct conn *c = TAILQ_FIRST(&lp->conns), *next;
	for (; c; c = next) {
		next = TAILQ_NEXT(c, link);
		if (!c->closing)
			conn_close_after_write(c);
	}
	struct timeval tv = {0, FLUSH_MS * 1000};
	event_base_loopexit(lp->pub.base, &tv);
}

#define DRAIN_POLL_MS 20

static void drain_check(evutil_socket_t fd, short what, void *arg)
{
	struct lp *lp = arg;
	struct hc_server *s = lp->srv;
	if (lp->stopping)
		return;
	int busy = !TAILQ_EMPTY(&lp->pending) ||
		   (s->o.loop_busy && s->o.loop_busy(&lp->pub, s->o.loop_arg));
	if (!busy || hc_mono_us() >= lp->drain_end_us) {
		if (busy)
			hc_warn("http %s: loop %d still busy after the %ld ms drain; stopping",
				s->name, lp->pub.index, s->o.drain_ms);
		loop_begin_stop(lp);
		return;
	}
	struct timeval tv = {0, DRAIN_POLL_MS * 1000};
	evtimer_add(lp->drain_ev, &tv);
}

/* Stop asked with a drain: see hc_server_opts. A second ask stops at once. */
static void loop_begin_drain(struct lp *lp)
{
	struct hc_server *s = lp->srv;
	if (lp->stopping)
		return;
	if (lp->draining || s->o.drain_ms <= 0 || !lp->init_ok) {
		loop_begin_stop(lp);
		return;
	}
	if (!lp->drain_ev && !(lp->drain_ev = evtimer_new(lp->pub.base, drain_check, lp))) {
		loop_begin_stop(lp);
		return;
	}
	lp->draining = 1;
	lp->drain_end_us = hc_mono_us() + (uint64_t)s->o.drain_ms * 1000;
	listeners_disable(lp);
	if (s->o.loop_drain)
		s->o.loop_drain(&lp->pub, s->o.loop_arg);
	drain_check(-1, 0, lp);
}

static void wake_cb(evutil_socket_t fd, short what, void *arg)
{
	struct lp *lp = arg;
	char cmds[64];
	ssize_t n = read(fd, cmds, sizeof cmds);
	for (ssize_t i = 0; i < n; i++) {
		if (cmds[i] == 'S') {
			loop_begin_drain(lp);
		} else if (cmds[i] == 'E') {
			pthread_mutex_lock(&lp->each_mu);
			struct each_work *w = lp->each;
			lp->each = NULL;
			pthread_mutex_unlock(&lp->each_mu);
			while (w) {
				struct each_work *nx = w->next;
				w->fn(&lp->pub, w->arg);
				free(w);
				w = nx;
			}
		}
	}
}

static void *loop_main(void *arg)
{
	struct lp *lp = arg;
	struct hc_server *s = lp->srv;
	lp->init_ok = !s->o.loop_init || s->o.loop_init(&lp->pub, s->o.loop_arg) == 0;
	if (!lp->init_ok) {
		hc_error("http %s: loop %d failed to initialise; stopping", s->name, lp->pub.index);
		hc_server_stop(s);
		loop_begin_stop(lp);
	}
	event_base_dispatch(lp->pub.base);
	if (lp->init_ok && s->o.loop_fini)
		s->o.loop_fini(&lp->pub, s->o.loop_arg);
	return NULL;
}

/* Whether someone else listens on sa already. The listeners take
 * SO_REUSEPORT (one per loop), which lets any socket of the same user
 * bind the port too, and the kernel then splits the connections between
 * them: a node's agent likely got the port its controller was about to
 * take, and some API calls reached the agent (404). A bind without
 * SO_REUSEPORT fails where anyone listens; with SO_REUSEADDR it still
 * passes the connections a previous instance left in TIME_WAIT. */
static int port_taken(const struct sockaddr *sa, socklen_t sl)
{
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	if (fd < 0)
		return 0;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	int taken = bind(fd, sa, sl) < 0 && errno == EADDRINUSE;
	close(fd);
	return taken;
}

/* A listening socket for one loop; the first (first != 0) checks that the
 * port is not someone else's. */
static int listen_socket(struct hc_server *s, int first, struct hc_err *err)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	memset(&ss, 0, sizeof ss);
	if (strchr(s->addr, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)s->port);
		if (inet_pton(AF_INET6, s->addr, &a->sin6_addr) != 1)
			return hc_err_set(err, "bad listen address %s", s->addr);
		sl = sizeof *a;
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)s->port);
		if (inet_pton(AF_INET, s->addr, &a->sin_addr) != 1)
			return hc_err_set(err, "bad listen address %s (use a numeric IP)", s->addr);
		sl = sizeof *a;
	}
	if (first && s->port != 0 && port_taken((struct sockaddr *)&ss, sl)) {
		hc_err_set(err, "bind %s:%d: %s (something else listens there)", s->addr, s->port,
			   strerror(EADDRINUSE));
		return -1;
	}
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return hc_err_set(err, "socket: %s", strerror(errno));
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 1024) < 0) {
		hc_err_set(err, "bind %s:%d: %s", s->addr, s->port, strerror(errno));
		close(fd);
		return -1;
	}
	if (s->port == 0) {
		sl = sizeof ss;
		getsockname(fd, (struct sockaddr *)&ss, &sl);
		s->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
							 : ((struct sockaddr_in *)&ss)->sin_port);
	}
	return fd;
}

/* The local socket (opts.unix_name) for loop lp: the same connections and
 * routes as the TCP port, without TCP's work per message. A path that is
 * there already is refused, not removed: it may be another server's. */
static int unix_listen(struct hc_server *s, struct lp *lp, struct hc_err *err)
{
	struct sockaddr_un sa;
	socklen_t sl;
	if (hc_unix_addr(s->unix_name, &sa, &sl) < 0)
		return hc_err_set(err, "bad local socket name \"%s\" (1 to %d bytes)",
				  s->unix_name, HC_UNIX_NAME_MAX);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return hc_err_set(err, "socket: %s", strerror(errno));
	if (bind(fd, (struct sockaddr *)&sa, sl) < 0) {
		hc_err_set(err, "bind %s: %s%s", s->unix_name, strerror(errno),
			   errno == EADDRINUSE ? " (another server has it, or a stale file is left: "
						 "remove it)"
					       : "");
		close(fd);
		return -1;
	}
	s->unix_listening = 1;
	if (listen(fd, 1024) < 0) {
		hc_err_set(err, "listen %s: %s", s->unix_name, strerror(errno));
		close(fd);
		return -1;
	}
	lp->ulistener = evconnlistener_new(lp->pub.base, accept_cb, lp, LEV_OPT_CLOSE_ON_FREE, 0, fd);
	if (!lp->ulistener) {
		hc_err_set(err, "listen %s: could not watch it", s->unix_name);
		close(fd);
		return -1;
	}
	return 0;
}

static void register_metrics(struct hc_server *s)
{
	char labels[160];
	static const char *cls[6] = {"other", "1xx", "2xx", "3xx", "4xx", "5xx"};
	for (int i = 0; i < 6; i++) {
		snprintf(labels, sizeof labels, "server=\"%s\",code=\"%s\"", s->name, cls[i]);
		s->m_status[i] = hc_counter_new("hearth_http_requests_total", labels,
						"HTTP requests answered, by status class");
	}
	snprintf(labels, sizeof labels, "server=\"%s\"", s->name);
	s->m_latency = hc_hist_new("hearth_http_request_duration_seconds", labels,
				   "Time from a request's head to its reply", NULL, 0);
	s->m_conns = hc_gauge_new("hearth_http_connections", labels, "Open HTTP connections");
	s->m_rejected = hc_counter_new("hearth_http_rejected_connections_total", labels,
				       "Connections refused because the connection cap was reached");
}

struct hc_server *hc_server_new(const struct hc_server_opts *opts, struct hc_err *err)
{
	struct hc_server *s = calloc(1, sizeof *s);
	if (!s) {
		hc_err_set(err, "out of memory");
		return NULL;
	}
	s->o = *opts;
	s->name = strdup(opts->name ? opts->name : "http");
	s->addr = strdup(opts->addr ? opts->addr : "127.0.0.1");
	s->o.name = s->name;
	s->o.addr = s->addr;
	if (opts->unix_name && opts->unix_name[0] &&
	    !(s->o.unix_name = s->unix_name = strdup(opts->unix_name))) {
		hc_err_set(err, "out of memory");
		goto fail;
	}
	if (!s->o.threads)
		s->o.threads = 1;
	if (!s->o.max_head)
		s->o.max_head = 16 * 1024;
	if (!s->o.max_body)
		s->o.max_body = 1024 * 1024;
	if (!s->o.idle_timeout_ms)
		s->o.idle_timeout_ms = 60000;
	if (!s->o.request_timeout_ms)
		s->o.request_timeout_ms = 30000;
	if (!s->o.max_conns)
		s->o.max_conns = 4096;
	s->port = opts->port;
	s->router = hc_router_new();
	s->nloops = s->o.threads;
	s->loops = calloc((size_t)s->nloops, sizeof *s->loops);
	if (!s->name || !s->addr || !s->router || !s->loops) {
		hc_err_set(err, "out of memory");
		goto fail;
	}
	register_metrics(s);
	for (int i = 0; i < s->nloops; i++) {
		struct lp *lp = &s->loops[i];
		lp->srv = s;
		lp->pub.server = s;
		lp->pub.index = i;
		lp->listen_fd = -1;
		lp->wake[0] = lp->wake[1] = -1;
		TAILQ_INIT(&lp->conns);
		TAILQ_INIT(&lp->pending);
		pthread_mutex_init(&lp->each_mu, NULL);
		lp->pub.base = event_base_new();
		if (!lp->pub.base) {
			hc_err_set(err, "event_base_new failed");
			goto fail;
		}
		struct timeval idle = hc_ms_timeval(s->o.idle_timeout_ms);
		struct timeval whole = hc_ms_timeval(s->o.request_timeout_ms);
		lp->idle_tv = event_base_init_common_timeout(lp->pub.base, &idle);
		lp->request_tv = event_base_init_common_timeout(lp->pub.base, &whole);
		if (!lp->idle_tv || !lp->request_tv) {
			hc_err_set(err, "event_base_init_common_timeout failed");
			goto fail;
		}
		lp->listen_fd = listen_socket(s, i == 0, err);
		if (lp->listen_fd < 0)
			goto fail;
		if (pipe2(lp->wake, O_NONBLOCK | O_CLOEXEC) < 0) {
			hc_err_set(err, "pipe: %s", strerror(errno));
			goto fail;
		}
		lp->wake_ev = event_new(lp->pub.base, lp->wake[0], EV_READ | EV_PERSIST, wake_cb, lp);
		lp->listener = evconnlistener_new(lp->pub.base, accept_cb, lp, LEV_OPT_CLOSE_ON_FREE,
						  0, lp->listen_fd);
		if (!lp->wake_ev || !lp->listener) {
			hc_err_set(err, "could not set up loop %d", i);
			goto fail;
		}
		lp->listen_fd = -1; /* the listener owns it now */
		event_add(lp->wake_ev, NULL);
	}
	if (s->unix_name && unix_listen(s, &s->loops[0], err) < 0)
		goto fail;
	return s;
fail:
	hc_server_free(s);
	return NULL;
}

int hc_server_route(struct hc_server *s, int methods, const char *pattern, hc_handler fn,
		    void *arg, size_t max_body)
{
	return hc_server_route_flags(s, methods, pattern, fn, arg, max_body, 0);
}

int hc_server_route_flags(struct hc_server *s, int methods, const char *pattern, hc_handler fn,
			  void *arg, size_t max_body, int flags)
{
	struct route_ent *e = calloc(1, sizeof *e);
	struct route_ent **nr = realloc(s->routes, (size_t)(s->nroutes + 1) * sizeof *nr);
	if (!e || !nr) {
		free(e);
		if (nr)
			s->routes = nr;
		return -1;
	}
	s->routes = nr;
	e->fn = fn;
	e->arg = arg;
	e->max_body = max_body;
	e->flags = flags;
	if (hc_router_add(s->router, methods, pattern, e) < 0) {
		free(e);
		return -1;
	}
	s->routes[s->nroutes++] = e;
	return 0;
}

int hc_server_port(const struct hc_server *s)
{
	return s->port;
}

int hc_server_nloops(const struct hc_server *s)
{
	return s->nloops;
}

struct hc_loop *hc_server_loop(struct hc_server *s, int i)
{
	return i >= 0 && i < s->nloops ? &s->loops[i].pub : NULL;
}

int hc_server_run(struct hc_server *s)
{
	int started = 1, rc = 0;
	for (int i = 1; i < s->nloops; i++) {
		if (pthread_create(&s->loops[i].thread, NULL, loop_main, &s->loops[i]) != 0) {
			hc_error("http %s: cannot start loop thread %d", s->name, i);
			hc_server_stop(s);
			rc = -1;
			break;
		}
		started++;
	}
	loop_main(&s->loops[0]);
	for (int i = 1; i < started; i++)
		pthread_join(s->loops[i].thread, NULL);
	for (int i = 0; i < s->nloops; i++)
		if (!s->loops[i].init_ok)
			rc = -1;
	return rc;
}

void hc_server_stop(struct hc_server *s)
{
	int saved = errno; /* may run in a signal handler */
	atomic_store(&s->stop_requested, 1);
	for (int i = 0; i < s->nloops; i++)
		if (s->loops[i].wake[1] >= 0) {
			ssize_t w = write(s->loops[i].wake[1], "S", 1);
			(void)w;
		}
	errno = saved;
}

static void on_signal(int sig)
{
	if (signal_server)
		hc_server_stop(signal_server);
}

int hc_server_stop_on_signals(struct hc_server *s)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	signal_server = s;
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

void hc_server_each_loop(struct hc_server *s, hc_loop_fn fn, void *arg)
{
	for (int i = 0; i < s->nloops; i++) {
		struct lp *lp = &s->loops[i];
		struct each_work *w = malloc(sizeof *w);
		if (!w)
			continue;
		w->fn = fn;
		w->arg = arg;
		pthread_mutex_lock(&lp->each_mu);
		w->next = lp->each;
		lp->each = w;
		pthread_mutex_unlock(&lp->each_mu);
		ssize_t n = write(lp->wake[1], "E", 1);
		(void)n;
	}
}

void hc_server_free(struct hc_server *s)
{
	if (!s)
		return;
	if (signal_server == s)
		signal_server = NULL;
	for (int i = 0; s->loops && i < s->nloops; i++) {
		struct lp *lp = &s->loops[i];
		struct conn *c;
		while ((c = TAILQ_FIRST(&lp->conns)))
			conn_free(c);
		struct hc_req *r;
		while ((r = TAILQ_FIRST(&lp->pending))) {
			TAILQ_REMOVE(&lp->pending, r, plink);
			req_free(r);
		}
		struct each_work *w = lp->each;
		while (w) {
			struct each_work *nx = w->next;
			free(w);
			w = nx;
		}
		if (lp->listener)
			evconnlistener_free(lp->listener);
		if (lp->ulistener)
			evconnlistener_free(lp->ulistener);
		if (lp->listen_fd >= 0)
			close(lp->listen_fd);
		if (lp->wake_ev)
			event_free(lp->wake_ev);
		if (lp->drain_ev)
			event_free(lp->drain_ev);
		for (int k = 0; k < 2; k++)
			if (lp->wake[k] >= 0)
				close(lp->wake[k]);
		if (lp->pub.base)
			event_base_free(lp->pub.base);
		pthread_mutex_destroy(&lp->each_mu);
	}
	for (int i = 0; i < s->nroutes; i++)
		free(s->routes[i]);
	free(s->routes);
	hc_router_free(s->router);
	free(s->loops);
	if (s->unix_name && s->unix_name[0] != '@' && s->unix_listening)
		unlink(s->unix_name);
	free(s->unix_name);
	free(s->name);
	free(s->addr);
	free(s);
}
