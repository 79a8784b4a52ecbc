/* kclient.c — lean keep-alive HTTP/1.1 client (see kclient.h for why).
 *
 * A connection is a small state machine: CONNECTING (waiting for EV_WRITE
 * after a non-blocking connect) -> SENDING (part of the request is still to
 * go; EV_WRITE) -> WAITING (request sent, reading the reply) -> IDLE (in the
 * client's pool) -> reused, or CLOSED. The read event is added once when the
 * socket is made and stays until it is closed, so reusing a connection
 * costs no epoll_ctl; the request goes out with one send() from the caller's
 * stack. */
#include "common/kclient.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/str.h"
#include "common/localnet.h"

#define DEFAULT_TIMEOUT_MS   30000
#define DEFAULT_MAX_RESPONSE (16u << 20)
#define MAX_HEAD	     (16u << 10)
#define MAX_REQUEST_HEAD     8192
#define MAX_IDLE_PER_CLIENT  256
#define READ_CHUNK	     16384

enum kstate { KS_CONNECTING, KS_SENDING, KS_WAITING, KS_IDLE };

/* Where a connection goes: the URL's IPv4 address or a local socket. */
struct kdest {
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_un un;
	} a;
	socklen_t len;
};

static int same_dest(const struct kdest *x, const struct kdest *y)
{
	return x->len == y->len && !memcmp(&x->a, &y->a, x->len);
}

struct kconn {
	struct hc_kclient *k;
	struct kconn *prev, *next; /* k->conns */
	int fd;
	enum kstate st;
	struct kdest to;
	struct event *rev;   /* EV_READ | EV_PERSIST, for the socket's life */
	struct event *wev;   /* EV_WRITE, while connecting or sending */
	struct event *timer; /* the request's timeout */
	int reused;	     /* served a request before this one */
	/* the request in flight (st != KS_IDLE) */
	hc_client_cb cb;
	void *arg;
	uint64_t start_us, deadline_us;
	int retried;
	int fail_errno;	   /* a send failed inside hc_kclient_request: fail on the timer */
	struct hc_buf out; /* the request; kept for one retry */
	size_t sent;
	struct hc_buf in; /* the reply */
	size_t head_len;  /* 0 until the head is parsed */
	long status;
	long long clen;		 /* -1: none (read to close) */
	int close_after;	 /* "Connection: close" or no length */
	char want[48];		 /* the reply header to report ("name:", lower case), or "" */
	size_t hdr_off, hdr_len; /* its value in in; hdr_off 0: absent */
};

#define COMMON_TIMEOUTS 4

struct hc_kclient {
	struct event_base *base;
	struct kconn *conns; /* every connection, idle ones included */
	size_t pending;
	size_t idle;
	int freeing;
	/* request timeouts seen first, as libevent common timeouts (most
	 * requests share one: an action's limit): a queue, not the heap */
	struct {
		long ms;
		const struct timeval *tv;
	} common[COMMON_TIMEOUTS];
	int ncommon;
};

/* The timeval to arm a request's timer with for ms (tv when not common). */
static const struct timeval *timeout_tv(struct hc_kclient *k, long ms, struct timeval *tv)
{
	*tv = hc_ms_timeval(ms);
	for (int i = 0; i < k->ncommon; i++)
		if (k->common[i].ms == ms)
			return k->common[i].tv;
	if (k->ncommon < COMMON_TIMEOUTS) {
		const struct timeval *c = event_base_init_common_timeout(k->base, tv);
		if (c) {
			k->common[k->ncommon].ms = ms;
			k->common[k->ncommon++].tv = c;
			return c;
		}
	}
	return tv;
}

/* ---- connections ---- */

static void on_read(evutil_socket_t fd, short what, void *arg);
static void on_write(evutil_socket_t fd, short what, void *arg);
static void on_timeout(evutil_socket_t fd, short what, void *arg);

static void conn_close(struct kconn *cn)
{
	struct hc_kclient *k = cn->k;
	if (cn->prev)
		cn->prev->next = cn->next;
	else
		k->conns = cn->next;
	if (cn->next)
		cn->next->prev = cn->prev;
	if (cn->st == KS_IDLE)
		k->idle--;
	if (cn->rev)
		event_free(cn->rev);
	if (cn->wev)
		event_free(cn->wev);
	if (cn->timer)
		event_free(cn->timer);
	if (cn->fd >= 0)
		close(cn->fd);
	hc_buf_free(&cn->out);
	hc_buf_free(&cn->in);
	free(cn);
}

/* A new connection to `to`, connect started; NULL on failure. A connect
 * that fails at once (a local socket's always ends at once: nothing
 * listens there, or its backlog is full) still leaves the connection made,
 * with *refused = errno, for the caller to fail the request as not sent on
 * a later loop turn; without refused that is a failure like any other. */
static struct kconn *conn_open(struct hc_kclient *k, const struct kdest *to, int *refused)
{
	struct kconn *cn = calloc(1, sizeof(*cn));
	int one = 1;
	if (!cn)
		return NULL;
	cn->k = k;
	cn->to = *to;
	cn->fd = socket(to->a.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	hc_buf_init(&cn->out, 0);
	hc_buf_init(&cn->in, 0);
	cn->next = k->conns;
	if (k->conns)
		k->conns->prev = cn;
	k->conns = cn;
	cn->st = KS_CONNECTING;
	if (cn->fd < 0)
		goto fail;
	if (to->a.sa.sa_family == AF_INET)
		setsockopt(cn->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	cn->rev = event_new(k->base, cn->fd, EV_READ | EV_PERSIST, on_read, cn);
	cn->wev = event_new(k->base, cn->fd, EV_WRITE, on_write, cn);
	cn->timer = evtimer_new(k->base, on_timeout, cn);
	if (!cn->rev || !cn->wev || !cn->timer)
		goto fail;
	if (connect(cn->fd, &to->a.sa, to->len) < 0 && errno != EINPROGRESS) {
		if (!refused)
			goto fail;
		*refused = errno;
		return cn;
	}
	/* the read event is added once the connection is made (on_write) */
	if (event_add(cn->wev, NULL) < 0)
		goto fail;
	return cn;
fail:
	conn_close(cn);
	return NULL;
}

/* ---- finishing a request ---- */

/* conn_close when cn->in has been handed to someone else. */
static void conn_close_keep_in(struct kconn *cn)
{
	hc_buf_init(&cn->in, 0);
	conn_close(cn);
}

/* Fail the request on cn and close cn. */
static void conn_fail(struct kconn *cn, const char *error, int timed_out)
{
	struct hc_kclient *k = cn->k;
	struct hc_response r = {.body = "", .error = error, .timed_out = timed_out};
	hc_client_cb cb = cn->cb;
	r.not_sent = cn->sent == 0;
	void *arg = cn->arg;
	r.elapsed_us = hc_mono_us() - cn->start_us;
	/* closed first: the callback may start a request to the same address */
	conn_close(cn);
	k->pending--;
	if (cb)
		cb(&r, arg);
}

static void conn_done(struct kconn *cn)
{
	struct hc_kclient *k = cn->k;
	struct hc_response r = {0};
	struct hc_buf in = cn->in; /* the reply leaves with the callback */
	size_t head = cn->head_len;
	hc_client_cb cb = cn->cb;
	void *arg = cn->arg;
	evtimer_del(cn->timer);
	r.status = cn->status;
	if (cn->hdr_off) {
		/* the head is done with: terminate the value in place */
		in.data[cn->hdr_off + cn->hdr_len] = '\0';
		r.header = in.data + cn->hdr_off;
		r.header_len = cn->hdr_len;
	}
	r.body = hc_buf_str(&in) + head; /* NUL-terminated by hc_buf */
	r.body_len = in.len - head;
	r.elapsed_us = hc_mono_us() - cn->start_us;
	k->pending--;
	/* idle again before the callback, so a request it starts (the next
	 * queued activation) reuses this connection */
	if (cn->close_after || cn->sent < cn->out.len || k->freeing ||
	    k->idle >= MAX_IDLE_PER_CLIENT) {
		conn_close_keep_in(cn);
	} else {
		hc_buf_init(&cn->in, 0);
		hc_buf_reset(&cn->out);
		cn->head_len = 0;
		cn->cb = NULL;
		event_del(cn->wev);
		cn->st = KS_IDLE;
		cn->reused = 1;
		k->idle++;
	}
	if (cb)
		cb(&r, arg);
	hc_buf_free(&in);
}

/* ---- the reply ---- */

/* Parse the head in cn->in once it is whole. 1 parsed, 0 need more, -1 bad. */
static int parse_head(struct kconn *cn, const char **why)
{
	const char *p = hc_buf_str(&cn->in), *end = memmem(p, cn->in.len, "\r\n\r\n", 4);
	if (!end) {
		*why = "the reply's head is too large";
		return cn->in.len > MAX_HEAD ? -1 : 0;
	}
	*why = "malformed reply";
	cn->head_len = (size_t)(end - p) + 4;
	if (cn->head_len > MAX_HEAD) {
		*why = "the reply's head is too large";
		return -1;
	}
	if (strncmp(p, "HTTP/1.", 7) || cn->head_len < 16 || p[8] != ' ')
		return -1;
	char *num_end;
	cn->status = strtol(p + 9, &num_end, 10);
	if (num_end != p + 12 || cn->status < 100 || cn->status > 599)
		return -1;
	if (cn->status < 200) {
		*why = "informational replies are not supported";
		return -1;
	}
	cn->clen = -1;
	cn->close_after = strncmp(p, "HTTP/1.1", 8) != 0;
	/* the status line ends at the first '\n' (at end + 1 at the latest) */
	for (const char *l = (const char *)memchr(p, '\n', (size_t)(end - p) + 2) + 1; l < end;) {
		const char *eol = memchr(l, '\r', (size_t)(end - l) + 1);
		size_t n = (size_t)(eol - l);
		if (n > 15 && !strncasecmp(l, "content-length:", 15)) {
			char *e;
			errno = 0;
			long long v = strtoll(l + 15, &e, 10);
			if (errno || v < 0 || e == l + 15)
				return -1;
			cn->clen = v;
		} else if (n > 18 && !strncasecmp(l, "transfer-encoding:", 18)) {
			*why = "chunked replies are not supported";
			return -1;
		} else if (n >= 17 && !strncasecmp(l, "connection:", 11) &&
			   memmem(l + 11, n - 11, "close", 5)) {
			cn->close_after = 1;
		} else if (cn->want[0] && n > strlen(cn->want) &&
			   !strncasecmp(l, cn->want, strlen(cn->want))) {
			const char *v = l + strlen(cn->want), *ve = eol;
			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			cn->hdr_off = (size_t)(v - p);
			cn->hdr_len = (size_t)(ve - v);
		}
		l = eol + 2;
	}
	if (cn->clen < 0) {
		if (cn->status == 204 || cn->status == 304)
			cn->clen = 0;
		else
			cn->close_after = 1; /* the body runs to the close */
	}
	return 1;
}

/* 1 when the reply in cn->in is complete, 0 not yet, -1 bad (why set). */
static int reply_state(struct kconn *cn, const char **why)
{
	if (!cn->head_len) {
		int rc = parse_head(cn, why);
		if (rc <= 0)
			return rc;
	}
	if (cn->clen < 0)
		return 0;
	size_t want = cn->head_len + (size_t)cn->clen;
	if (cn->in.len < want)
		return 0;
	if (cn->in.len > want) {
		*why = "bytes after the reply";
		return -1;
	}
	return 1;
}

static int try_send(struct kconn *cn, int inside_request);

/* Move the request on a dead reused connection to a fresh one, once. */
static int retry(struct kconn *cn)
{
	struct hc_kclient *k = cn->k;
	if (cn->retried || !cn->reused || cn->in.len > 0 || k->freeing)
		return -1;
	/* the same address: a local socket that is gone means its server
	 * is, and its port may be another's by now */
	int refused = 0;
	struct kconn *nc = conn_open(k, &cn->to, &refused);
	if (!nc)
		return -1;
	nc->fail_errno = refused;
	nc->cb = cn->cb, nc->arg = cn->arg, nc->retried = 1;
	nc->start_us = cn->start_us, nc->deadline_us = cn->deadline_us;
	hc_buf_free(&nc->out);
	nc->out = cn->out; /* the request moves over */
	memcpy(nc->want, cn->want, sizeof(nc->want));
	hc_buf_init(&cn->out, 0);
	nc->in.max = cn->in.max;
	uint64_t now = hc_mono_us();
	uint64_t left = nc->deadline_us > now && !refused ? nc->deadline_us - now : 0;
	struct timeval tv = {(time_t)(left / 1000000), (suseconds_t)(left % 1000000)};
	evtimer_add(nc->timer, &tv);
	cn->cb = NULL;
	conn_close(cn);
	return 0;
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
	struct kconn *cn = arg;
	const char *why = NULL;
	char chunk[READ_CHUNK];
	ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (cn->st == KS_IDLE) {
		/* the peer closed an idle connection (or sent junk): drop it */
		conn_close(cn);
		return;
	}
	if (n <= 0) {
		if (retry(cn) == 0)
			return;
		if (n == 0 && cn->head_len && cn->clen < 0) {
			conn_done(cn); /* a body that runs to the close */
			return;
		}
		conn_fail(cn,
			  n == 0 ? "connection closed before the reply was complete"
				 : strerror(errno),
			  0);
		return;
	}
	if (hc_buf_add(&cn->in, chunk, (size_t)n) < 0) {
		conn_fail(cn, "response larger than the limit", 0);
		return;
	}
	int rc = reply_state(cn, &why);
	if (rc < 0)
		conn_fail(cn, why, 0);
	else if (rc > 0)
		conn_done(cn);
}

/* Send what is left of the request. 0 sent or waiting for EV_WRITE; -1
 * when the connection failed and the request was retried or failed. */
static int try_send(struct kconn *cn, int inside_request)
{
	while (cn->sent < cn->out.len) {
		ssize_t n = send(cn->fd, cn->out.data + cn->sent, cn->out.len - cn->sent,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			cn->st = KS_SENDING;
			event_add(cn->wev, NULL);
			return 0;
		}
		if (n < 0) {
			int e = errno;
			if (retry(cn) == 0)
				return -1;
			if (inside_request) {
				/* no callback from inside hc_kclient_request: let
				 * the timer fail it on the next loop turn */
				cn->fail_errno = e;
				{
					struct timeval zero = {0, 0};
					evtimer_add(cn->timer, &zero);
				}
				return -1;
			}
			conn_fail(cn, strerror(e), 0);
			return -1;
		}
		cn->sent += (size_t)n;
	}
	cn->st = KS_WAITING;
	return 0;
}

static void on_write(evutil_socket_t fd, short what, void *arg)
{
	struct kconn *cn = arg;
	if (cn->st == KS_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof(err);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err) {
			conn_fail(cn, strerror(err), 0);
			return;
		}
		if (event_add(cn->rev, NULL) < 0) {
			conn_fail(cn, "cannot watch the connection", 0);
			return;
		}
	}
	try_send(cn, 0);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct kconn *cn = arg;
	if (cn->fail_errno)
		conn_fail(cn, strerror(cn->fail_errno), 0);
	else
		conn_fail(cn, "the request timed out", 1);
}

/* ---- requests ---- */

/* "http://a.b.c.d:port/path" -> to, path. -1 for anything else. */
static int parse_url(const char *url, struct kdest *to, const char **path, char *hostport,
		     size_t hplen)
{
	struct sockaddr_in *addr = &to->a.in;
	char host[INET_ADDRSTRLEN];
	if (strncmp(url, "http://", 7))
		return -1;
	const char *h = url + 7, *colon = strchr(h, ':');
	if (!colon || (size_t)(colon - h) >= sizeof(host))
		return -1;
	memcpy(host, h, (size_t)(colon - h));
	host[colon - h] = '\0';
	char *e;
	long port = strtol(colon + 1, &e, 10);
	if (e == colon + 1 || port < 1 || port > 65535 || (*e != '/' && *e != '\0'))
		return -1;
	memset(to, 0, sizeof(*to));
	to->len = sizeof(*addr);
	addr->sin_family = AF_INET;
	addr->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &addr->sin_addr) != 1)
		return -1;
	*path = *e ? e : "/";
	if ((size_t)(e - h) >= hplen)
		return -1;
	memcpy(hostport, h, (size_t)(e - h));
	hostport[e - h] = '\0';
	return 0;
}

static int build_request(struct hc_buf *b, const struct hc_request *req, const char *path,
			 const char *hostport)
{
	const char *method = req->method ? req->method : "GET";
	int rc = hc_buf_adds(b, method) | hc_buf_addc(b, ' ') | hc_buf_adds(b, path) |
		 hc_buf_adds(b, " HTTP/1.1\r\nHost: ") | hc_buf_adds(b, hostport) |
		 hc_buf_adds(b, "\r\n");
	for (size_t i = 0; req->headers && req->headers[i]; i++) {
		/* no header may smuggle a line break into the request */
		if (strpbrk(req->headers[i], "\r\n"))
			return -1;
		rc |= hc_buf_adds(b, req->headers[i]) | hc_buf_adds(b, "\r\n");
	}
	if (req->body || strcmp(method, "GET")) {
		rc |= hc_buf_adds(b, "Content-Length: ") |
		      hc_buf_add_int(b, (int64_t)req->body_len) | hc_buf_adds(b, "\r\n");
	}
	rc |= hc_buf_adds(b, "\r\n");
	if (req->body && req->body_len)
		rc |= hc_buf_add(b, req->body, req->body_len);
	return rc ? -1 : 0;
}

int hc_kclient_request(struct hc_kclient *k, const struct hc_request *req, hc_client_cb cb,
		       void *arg)
{
	struct kdest to;
	const char *path;
	char hostport[64];
	struct kconn *cn;
	int refused = 0;
	if (!k || k->freeing || !req || !req->url ||
	    parse_url(req->url, &to, &path, hostport, sizeof(hostport)) < 0 ||
	    (req->method && !strcmp(req->method, "HEAD")))
		return -1;
	/* a named local socket instead of the URL's address, never besides it:
	 * when nothing listens there its server is gone, and the port may be
	 * another's by now */
	if (req->unix_name && req->unix_name[0] &&
	    hc_unix_addr(req->unix_name, &to.a.un, &to.len) < 0)
		return -1;
	/* the newest idle connection to that server (warmest in every cache) */
	for (cn = k->conns; cn; cn = cn->next)
		if (cn->st == KS_IDLE && same_dest(&cn->to, &to))
			break;
	int fresh = !cn;
	if (fresh && !(cn = conn_open(k, &to, &refused)))
		return -1;
	cn->out.max = MAX_REQUEST_HEAD + req->body_len;
	if (build_request(&cn->out, req, path, hostport) < 0) {
		if (fresh)
			conn_close(cn);
		else
			hc_buf_reset(&cn->out);
		return -1;
	}
	if (!fresh) {
		k->idle--;
		cn->st = KS_WAITING;
	}
	size_t max = req->max_response ? req->max_response : DEFAULT_MAX_RESPONSE;
	cn->in.max = max + MAX_HEAD;
	cn->cb = cb;
	cn->arg = arg;
	cn->retried = 0;
	cn->fail_errno = refused; /* failed on the timer, at once: not sent */
	cn->sent = 0;
	cn->head_len = 0;
	cn->hdr_off = cn->hdr_len = 0;
	cn->want[0] = '\0';
	if (req->want_header && strlen(req->want_header) + 2 <= sizeof(cn->want)) {
		hc_strlcpy(cn->want, req->want_header, sizeof(cn->want));
		strcat(cn->want, ":");
	}
	cn->start_us = hc_mono_us();
	k->pending++;
	long ms = req->timeout_ms > 0 ? req->timeout_ms : DEFAULT_TIMEOUT_MS;
	struct timeval tv;
	cn->deadline_us = cn->start_us + (uint64_t)ms * 1000;
	if (refused) {
		tv.tv_sec = tv.tv_usec = 0;
		evtimer_add(cn->timer, &tv);
	} else {
		evtimer_add(cn->timer, timeout_tv(k, ms, &tv));
	}
	if (!fresh)
		try_send(cn, 1); /* a failure is reported on a later loop turn */
	return 0;
}

size_t hc_kclient_pending(const struct hc_kclient *k)
{
	return k ? k->pending : 0;
}

struct hc_kclient *hc_kclient_new(struct event_base *base)
{
	struct hc_kclient *k;
	if (!base || !(k = calloc(1, sizeof(*k))))
		return NULL;
	k->base = base;
	return k;
}

void hc_kclient_free(struct hc_kclient *k)
{
	if (!k)
		return;
	k->freeing = 1;
	/* conn_fail and conn_close unlink each: the analyzer loses that */
	// NOLINTBEGIN(clang-analyzer-unix.Malloc)
	while (k->conns) {
		struct kconn *cn = k->conns;
		if (cn->st != KS_IDLE)
			conn_fail(cn, "cancelled", 0);
		else
			conn_close(cn);
	}
	// NOLINTEND(clang-analyzer-unix.Malloc)
	free(k);
}
