/* http.h — the HTTP/1.1 server every hearth daemon (and the runtime) uses.
 *
 * Built on libevent bufferevents with its own parser (httpparse.h) rather
 * than evhttp: libevent 2.1's evhttp answers oversized or malformed
 * requests with HTML it will not let us replace, cannot apply a per-route
 * body limit before reading the body, and measures only idle time. Here
 * every protocol error gets a JSON body, each route has its own body limit
 * checked against Content-Length before a byte of body is read, a request
 * must arrive whole within request_timeout_ms (slow clients cannot hold a
 * connection), and the number of connections is capped.
 *
 * Threads: hc_server_run() runs `threads` event loops, one per thread, each
 * with its own listening socket on the same port (SO_REUSEPORT), so the
 * kernel spreads connections. A handler runs on the loop that accepted the
 * connection and must not block. Per-loop state (an HTTP client, a Redis
 * connection) is created in loop_init and found with hc_req_loop(req)->data.
 *
 * Replies: every request is answered exactly once with one of the hc_reply*
 * functions, from the loop thread that received it, either inside the
 * handler or later (deferred). The request handle is valid until then, even
 * if the client goes away (the reply is then discarded) or the server is
 * stopping (the server has already answered 503 and the late reply is
 * discarded). */
#ifndef HC_HTTP_H
#define HC_HTTP_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/router.h"

struct event_base;
struct hc_server;
struct hc_req;

/* One event loop (thread) of a server. */
struct hc_loop {
	struct event_base *base;
	int index; /* 0 .. threads-1; loop 0 runs on the caller of hc_server_run */
	struct hc_server *server;
	void *data; /* set by loop_init */
};

typedef void (*hc_handler)(struct hc_req *req, void *arg);
typedef int (*hc_loop_fn)(struct hc_loop *loop, void *arg);

struct hc_server_opts {
	const char *name;	 /* for logs and metrics, e.g. "controller" */
	const char *addr;	 /* bind address; NULL = "127.0.0.1" */
	int port;		 /* 0 = any free port (read it with hc_server_port) */
	const char *unix_name;	 /* also listen here (localnet.h: "@name" abstract, or a
				  * path), on loop 0; NULL = TCP only */
	int threads;		 /* event loops; 0 = 1 */
	size_t max_head;	 /* request line + headers; 0 = 16 KiB */
	size_t max_body;	 /* default body limit; 0 = 1 MiB */
	long idle_timeout_ms;	 /* keep-alive idle before close; 0 = 60 s */
	long request_timeout_ms; /* first byte to complete request; 0 = 30 s */
	long max_conns;		 /* open connections per server; 0 = 4096 */
	int cors;		 /* answer OPTIONS and add Access-Control-* headers */
	hc_loop_fn loop_init;	 /* called on each loop's thread before serving; -1 aborts */
	hc_loop_fn loop_fini;	 /* called on each loop's thread after it stops */
	void *loop_arg;
	/* Draining (drain_ms 0 = none): asked to stop, a loop first stops
	 * accepting, answers new requests 503, calls loop_drain once, and goes
	 * on serving what it has until its pending requests are answered and
	 * loop_busy (if set) returns 0, for at most drain_ms. A second stop
	 * request stops at once. */
	long drain_ms;
	hc_loop_fn loop_drain;
	int (*loop_busy)(struct hc_loop *loop, void *arg);
};

/* Create the server and bind its sockets (so the port is known at once).
 * Returns NULL with err set (e.g. "bind 127.0.0.1:3233: address in use"). */
struct hc_server *hc_server_new(const struct hc_server_opts *opts, struct hc_err *err);

/* Add a route before hc_server_run. max_body 0 = the server's default.
 * Patterns as in router.h. Returns 0 or -1 (bad pattern). */
int hc_server_route(struct hc_server *s, int methods, const char *pattern, hc_handler fn, void *arg,
		    size_t max_body);
/* The same with flags: HC_ROUTE_OWN_CORS — the route answers OPTIONS
 * itself (the server's preflight does not) and the server's CORS headers
 * (hc_server_opts.cors) are not added to its replies. */
#define HC_ROUTE_OWN_CORS 1
int hc_server_route_flags(struct hc_server *s, int methods, const char *pattern, hc_handler fn,
			  void *arg, size_t max_body, int flags);

int hc_server_port(const struct hc_server *s);

/* Run every loop; returns after hc_server_stop, once in-flight replies have
 * been flushed (pending requests get 503 "shutting down", after the drain
 * if there is one). 0 or -1. */
int hc_server_run(struct hc_server *s);

/* Ask the server to stop. Safe from any thread and from a signal handler. */
void hc_server_stop(struct hc_server *s);

/* Stop on SIGINT/SIGTERM; ignore SIGPIPE. Call before hc_server_run. */
int hc_server_stop_on_signals(struct hc_server *s);

/* Call fn(loop, arg) on every loop's thread (asynchronously). For work that
 * must happen everywhere, e.g. swapping a cache snapshot. */
void hc_server_each_loop(struct hc_server *s, hc_loop_fn fn, void *arg);

/* The loops, valid after hc_server_new (bases exist; threads start in run). */
int hc_server_nloops(const struct hc_server *s);
struct hc_loop *hc_server_loop(struct hc_server *s, int i);

void hc_server_free(struct hc_server *s);

/* ---- the request ---- */
int hc_req_method(const struct hc_req *req);			      /* enum hc_method */
const char *hc_req_path(const struct hc_req *req);		      /* raw path, no query */
const char *hc_req_target(const struct hc_req *req);		      /* path and query as sent */
const char *hc_req_param(const struct hc_req *req, const char *name); /* route capture */
/* Query parameter, decoded; NULL when absent or undecodable. Valid until reply. */
const char *hc_req_query(struct hc_req *req, const char *name);
const char *hc_req_header(const struct hc_req *req, const char *name); /* NULL if absent */
const char *hc_req_body(const struct hc_req *req, size_t *len);	       /* NUL-terminated */
/* The query string as sent (no '?'), or NULL when there is none. */
const char *hc_req_query_string(const struct hc_req *req);
/* The request's headers, in order: name and value of header i (0, or -1
 * past the last). Valid while the request is. */
size_t hc_req_nheaders(const struct hc_req *req);
int hc_req_header_at(const struct hc_req *req, size_t i, const char **name, const char **value);
const char *hc_req_id(const struct hc_req *req);   /* X-Request-ID if sane, else a new id */
const char *hc_req_peer(const struct hc_req *req); /* "127.0.0.1:5555" */
struct hc_loop *hc_req_loop(const struct hc_req *req);
uint64_t hc_req_start_us(const struct hc_req *req); /* hc_mono_us when the head arrived */
/* Nonzero when the client has gone or the server has answered for us. */
int hc_req_detached(const struct hc_req *req);

/* Add a response header (copied). Call before replying. */
void hc_req_add_header(struct hc_req *req, const char *name, const char *value);

/* Answer. After any of these the handle is gone. ctype NULL = no body type. */
void hc_reply(struct hc_req *req, int status, const char *ctype, const void *body, size_t len);
void hc_reply_json(struct hc_req *req, int status, const cJSON *json);
/* Takes the buffer's contents (no copy); b is reset. */
void hc_reply_buf(struct hc_req *req, int status, const char *ctype, struct hc_buf *b);
/* {"error": "<message>", "code": "<request id>"} — OpenWhisk's error shape. */
void hc_reply_error(struct hc_req *req, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Standard reason phrase for a status ("Not Found"). */
const char *hc_http_reason(int status);

/* GET /metrics handler (arg unused): the metrics registry as text. */
void hc_handle_metrics(struct hc_req *req, void *arg);

#endif
