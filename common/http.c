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
 * are one allocation (req_new); the idle and request clocks are
 * libevent common timeouts. Reading is not the bufferevent's: libevent's
 * evbuffer_read asks the kernel how much is waiting (ioctl FIONREAD) before
 * every read, a second system call per request; conn_readable reads with
 * one recv, from a persistent read event whose timeout is the idle clock.
 * See http.h for the contract; how the server's files divide the work is
 * in http_int.h. */
#include "common/http_int.h"

#include <errno.h>
#include <stddef.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/metrics.h"

#define INLINE_BODY_MAX 16384 /* bodies up to this that come with their head: with it */

/* ------------------------------------------------------------------ */

const char *hc_http_reason(int status)
{
	switch (status) {
	case 100:
		return "Continue";
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 202:
		return "Accepted";
	case 204:
		return "No Content";
	case 301:
		return "Moved Permanently";
	case 302:
		return "Found";
	case 304:
		return "Not Modified";
	case 307:
		return "Temporary Redirect";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 406:
		return "Not Acceptable";
	case 408:
		return "Request Timeout";
	case 409:
		return "Conflict";
	case 410:
		return "Gone";
	case 411:
		return "Length Required";
	case 413:
		return "Payload Too Large";
	case 414:
		return "URI Too Long";
	case 415:
		return "Unsupported Media Type";
	case 417:
		return "Expectation Failed";
	case 422:
		return "Unprocessable Entity";
	case 429:
		return "Too Many Requests";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	case 505:
		return "HTTP Version Not Supported";
	case 507:
		return "Insufficient Storage";
	default:
		return "Unknown";
	}
}

static const char *date_header(struct hc_lp *lp)
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
	struct hc_query_val *q = req->queries;
	while (q) {
		struct hc_query_val *n = q->next;
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

static void conn_free(struct hc_conn *c)
{
	struct hc_lp *lp = c->lp;
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
static void read_on(struct hc_conn *c)
{
	if (event_add(c->rev, c->lp->idle_tv) == 0)
		c->reading = 1;
}

static void read_off(struct hc_conn *c)
{
	if (c->reading) {
		event_del(c->rev);
		c->reading = 0;
	}
}

/* Pipelined input waits in the input buffer while a handler runs: bound
 * it, above one head. */
static size_t input_max(const struct hc_conn *c)
{
	return c->lp->srv->o.max_head + 64 * 1024;
}

/* Send what the output buffer holds now, straight from the caller: the
 * usual reply leaves in one writev with no trip through epoll. EV_WRITE
 * is enabled only for what the kernel did not take, and disabled again
 * once it has drained (conn_write_cb), so a quiet connection never wakes
 * the loop for writability. A write error is left to the bufferevent,
 * which reports it through conn_event_cb. */
static void conn_flush(struct hc_conn *c)
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
static void conn_close_after_write(struct hc_conn *c)
{
	c->closing = 1;
	read_off(c);
	conn_flush(c);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		conn_free(c);
}

static void conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct hc_conn *c = arg;
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
static int head_into(struct hc_buf *b, struct hc_lp *lp, const struct hc_req *req, int status,
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
static void send_reply(struct hc_conn *c, const char *head, size_t hlen, const char *body,
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
static int reply_on(struct hc_conn *c, const struct hc_req *req, int status, const char *ctype,
		    const char *extra, size_t extra_len, const void *body, size_t len,
		    int keep_alive, int take)
{
	struct hc_lp *lp = c->lp;
	/* max is cap - 1, so hc_buf never tries to realloc the stack array */
	char h[2048];
	struct hc_buf b = {.data = h, .len = 0, .cap = sizeof h, .max = sizeof h - 1};
	struct hc_buf big;
	hc_buf_init(&big, extra_len + 4096);
	int with_body = head_into(&b, lp, req, status, ctype, extra, extra_len, len, keep_alive);
	if (with_body < 0) { /* long extra headers */
		with_body =
		    head_into(&big, lp, req, status, ctype, extra, extra_len, len, keep_alive);
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
static void conn_fail(struct hc_conn *c, int status, const char *msg)
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
	struct hc_conn *c = arg;
	conn_fail(c, 408, "request not received in time");
}

static void arm_deadline(struct hc_conn *c)
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

static void dispatch(struct hc_conn *c)
{
	struct hc_req *req = c->req;
	struct hc_lp *lp = c->lp;
	if (event_initialized(c->deadline))
		event_del(c->deadline);
	req->state = RQ_HANDLER;
	TAILQ_INSERT_TAIL(&lp->pending, req, plink);
	/* The handler may reply (and so free req) before returning. */
	req->route->fn(req, req->route->arg);
}

/* Header and body of one request have arrived in part or whole: advance. */
static int read_body(struct hc_conn *c, struct evbuffer *in)
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
		return 0; /* no body, or it came with the head (req_new) */
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

/* The request for a complete head (parsed into `parsed`, pointing into the
 * input at base; head_len bytes at the front of in), taken from the input:
 * one allocation for the request, a copy of its head, its path (*plen
 * bytes) and, when it came along, a small Content-Length body (the usual
 * invoke: no buffer of its own). A large body is checked against the
 * route's limit before it is collected (read_body). NULL: out of memory. */
static struct hc_req *req_new(struct hc_conn *c, struct evbuffer *in, long head_len,
			      const struct hc_http_head *parsed, const char *base, size_t *plen)
{
	const char *q = memchr(parsed->target, '?', parsed->target_len);
	size_t pl = q ? (size_t)(q - parsed->target) : parsed->target_len;
	size_t blen = 0;
	if (!parsed->chunked && parsed->content_length > 0 &&
	    parsed->content_length <= INLINE_BODY_MAX &&
	    evbuffer_get_length(in) >= (size_t)head_len + (size_t)parsed->content_length)
		blen = (size_t)parsed->content_length;
	struct hc_req *req = malloc(sizeof *req + (size_t)head_len + 1 + pl + 1 + blen + 1);
	if (!req)
		return NULL;
	/* zero the small members; h and match are written before they are read */
	memset(req, 0, offsetof(struct hc_req, h));
	req->conn = c;
	req->lp = c->lp;
	req->state = RQ_BODY;
	req->start_us = hc_mono_us();
	hc_buf_init(&req->out_headers, 64 * 1024);
	req->head = req->mem;
	memcpy(req->head, base, (size_t)head_len);
	req->head[head_len] = 0;
	rebase_head(&req->h, parsed, base, req->head);
	req->path = req->head + head_len + 1;
	memcpy(req->path, req->h.target, pl);
	req->path[pl] = 0;
	evbuffer_drain(in, (size_t)head_len);
	terminate_head(req);
	req->keep_alive = req->h.keep_alive;
	set_request_id(req);
	if (q) {
		req->query = req->h.target + pl + 1;
		req->qlen = req->h.target_len - pl - 1;
	}
	if (blen) {
		char *body = req->path + pl + 1;
		evbuffer_remove(in, body, blen);
		body[blen] = 0;
		req->body_ptr = body;
		req->body_len = blen;
	}
	*plen = pl;
	return req;
}

/* Find the request's route (path plen bytes). -1: refused, c failed. */
static int req_route(struct hc_conn *c, struct hc_req *req, size_t plen)
{
	static const struct hc_route_ent preflight = {cors_preflight, NULL, 0, 0};
	struct hc_server *s = c->lp->srv;

	req->method = hc_method_parse(req->h.method, req->h.method_len);
	if (!req->method) {
		conn_fail(c, 501, "method not implemented");
		return -1;
	}
	if (req->path[0] != '/') {
		conn_fail(c, 400, "request target must be an absolute path");
		return -1;
	}
	enum hc_route_result r =
	    hc_router_match(s->router, req->method, req->path, plen, &req->match);
	/* the server answers a preflight itself, unless the route does */
	if (req->method == HC_OPTIONS && s->o.cors &&
	    (r != HC_ROUTE_FOUND ||
	     !(((const struct hc_route_ent *)req->match.data)->flags & HC_ROUTE_OWN_CORS))) {
		req->route = &preflight;
		return 0;
	}
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
	return 0;
}

/* Check the body's size against the route's limit and get ready to
 * collect it (unless it is here already, or there is none). -1: refused,
 * c failed. */
static int req_body_start(struct hc_conn *c, struct hc_req *req, struct evbuffer *in)
{
	struct hc_server *s = c->lp->srv;
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

/* A complete head (parsed into `parsed`, pointing into the input at base)
 * is at the front of in, head_len bytes: set up the request. */
static int start_request(struct hc_conn *c, struct evbuffer *in, long head_len,
			 const struct hc_http_head *parsed, const char *base)
{
	size_t plen;
	struct hc_req *req = req_new(c, in, head_len, parsed, base, &plen);
	if (!req) {
		conn_fail(c, 500, "out of memory");
		return -1;
	}
	c->req = req;
	if (c->lp->stopping || c->lp->draining) {
		conn_fail(c, 503, "shutting down");
		return -1;
	}
	if (req_route(c, req, plen) < 0)
		return -1;
	return req_body_start(c, req, in);
}

/* Parse and dispatch as much as the input allows. */
static void conn_process(struct hc_conn *c)
{
	struct hc_lp *lp = c->lp;
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
static void conn_event(struct hc_conn *c, short what)
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
	struct hc_conn *c = arg;
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
static void conn_next(struct hc_conn *c)
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

void hc_srv_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
		   void *arg)
{
	struct hc_lp *lp = arg;
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
	struct hc_conn *c = calloc(1, sizeof *c);
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

void hc_srv_stop_conns(struct hc_lp *lp)
{
	for (struct hc_req *r = TAILQ_FIRST(&lp->pending); r; r = TAILQ_NEXT(r, plink)) {
		struct hc_conn *c = r->conn;
		if (!c)
			continue;
		struct hc_buf b;
		hc_buf_init(&b, 4096);
		error_body(&b, "shutting down", hc_req_id(r));
		reply_on(c, r, 503, "application/json", NULL, 0, b.data, b.len, 0, 0);
		hc_buf_free(&b);
		req_detach(r);
	}
	struct hc_conn *c = TAILQ_FIRST(&lp->conns), *next;
	for (; c; c = next) {
		next = TAILQ_NEXT(c, link);
		if (!c->closing)
			conn_close_after_write(c);
	}
}

void hc_srv_free_conns(struct hc_lp *lp)
{
	struct hc_conn *c;
	while ((c = TAILQ_FIRST(&lp->conns)))
		conn_free(c);
	struct hc_req *r;
	while ((r = TAILQ_FIRST(&lp->pending))) {
		TAILQ_REMOVE(&lp->pending, r, plink);
		req_free(r);
	}
}

/* ---------------- replies ---------------- */

/* Finish a request: write its response (if anyone is listening), move the
 * connection on, free the request. take != 0 hands body (malloc'd) over. */
static void finish(struct hc_req *req, int status, const char *ctype, const void *body, size_t len,
		   int take)
{
	struct hc_lp *lp = req->lp;
	if (req->state != RQ_HANDLER) {
		hc_error("http: a request was answered twice (status %d); ignoring", status);
		if (take)
			free((void *)body);
		return;
	}
	req->state = RQ_DONE;
	TAILQ_REMOVE(&lp->pending, req, plink);
	hc_hist_observe(lp->srv->m_latency, (double)(hc_mono_us() - req->start_us) / 1e6);
	struct hc_conn *c = req->conn;
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
