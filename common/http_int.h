/* common/http_int.h — what the HTTP server's files share (http.h is the
 * contract for everyone else):
 *
 *   http.c        connections and requests: reading, parsing, dispatch,
 *                 replies (the hot path: all of it in one file)
 *   httpreq.c     the request as a handler sees it (hc_req_* accessors)
 *   httploop.c    the loop runner: threads, stopping, draining, signals
 *   httplisten.c  listening sockets, server set-up and tear-down, routes
 */
#ifndef HC_HTTP_INT_H
#define HC_HTTP_INT_H

#include <event2/event.h>
#include <event2/listener.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>

#include "common/http.h"
#include "common/httpparse.h"
#include "common/id.h"

struct bufferevent;
struct evbuffer;
struct hc_counter;
struct hc_gauge;
struct hc_hist;

struct hc_route_ent {
	hc_handler fn;
	void *arg;
	size_t max_body;
	int flags; /* HC_ROUTE_* */
};

struct hc_conn;
struct hc_lp;

struct hc_query_val {
	struct hc_query_val *next;
	char *name;
	char value[];
};

enum hc_req_state { RQ_BODY, RQ_HANDLER, RQ_DONE };

struct hc_req {
	struct hc_conn *conn; /* NULL once detached */
	struct hc_lp *lp;
	TAILQ_ENTRY(hc_req) plink; /* on lp->pending while with its handler */
	enum hc_req_state state;
	int method;
	int keep_alive;
	char *head; /* a copy of the head in mem; parsed fields point into it, NUL-terminated */
	char *path; /* in mem, after the head */
	const char *query;
	size_t qlen;
	const struct hc_route_ent *route;
	struct hc_buf body;	  /* chunked bodies are decoded here */
	struct evbuffer *body_ev; /* Content-Length bodies are collected here */
	const char *body_ptr;	  /* the complete body, NUL-terminated */
	size_t body_len;
	struct hc_chunked ch;
	int64_t body_left; /* Content-Length bytes still to read */
	char id[HC_ID_LEN + 1];
	struct hc_buf out_headers;
	struct hc_query_val *queries;
	uint64_t start_us;
	/* large members last: they are filled, never zeroed (see req_new) */
	struct hc_http_head h;
	struct hc_route_match match;
	char mem[]; /* head, path and a body that came with its head (req_new) */
};
TAILQ_HEAD(hc_req_list, hc_req);

struct hc_conn {
	TAILQ_ENTRY(hc_conn) link;
	struct hc_lp *lp;
	struct bufferevent *bev; /* the input and output buffers; writes */
	struct event *rev;	 /* reading (conn_readable), persistent */
	struct event *deadline;	 /* whole-request timer */
	int reading;		 /* rev is added */
	struct hc_req *req;	 /* the request being read or handled */
	int closing;		 /* close once the output has drained */
	int eof;		 /* the client shut its side while a handler ran */
	char peer[64];
};
TAILQ_HEAD(hc_conn_list, hc_conn);

struct hc_each_work {
	struct hc_each_work *next;
	hc_loop_fn fn;
	void *arg;
};

struct hc_lp {
	struct hc_loop pub; /* first: hc_req_loop returns &lp->pub */
	struct hc_server *srv;
	pthread_t thread;
	int listen_fd;
	struct evconnlistener *listener;
	struct evconnlistener *ulistener; /* the local socket's (loop 0 only) */
	int wake[2]; /* pipe: any thread (or a signal handler) wakes the loop */
	struct event *wake_ev;
	struct hc_conn_list conns;
	struct hc_req_list pending;
	int stopping;
	int draining;
	struct event *drain_ev;
	uint64_t drain_end_us;
	int init_ok;
	pthread_mutex_t each_mu;
	struct hc_each_work *each;
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
	struct hc_route_ent **routes;
	int nroutes;
	int port;
	int nloops;
	struct hc_lp *loops;
	atomic_long nconns;
	atomic_int stop_requested;
	struct hc_counter *m_status[6]; /* 1xx..5xx, [0] = other */
	struct hc_hist *m_latency;
	struct hc_gauge *m_conns;
	struct hc_counter *m_rejected;
};

/* ---- http.c ---- */
/* The listeners' callback: a new connection on loop arg (struct hc_lp). */
void hc_srv_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
		   void *arg);
/* A loop is stopping: what handlers still hold is answered 503 for them
 * (their late replies are discarded), and every connection closes once
 * its output is written. */
void hc_srv_stop_conns(struct hc_lp *lp);
/* Free every connection and pending request of a loop that has stopped. */
void hc_srv_free_conns(struct hc_lp *lp);

/* ---- httploop.c ---- */
/* The wake-up pipe's read callback (arg: struct hc_lp). */
void hc_srv_wake_cb(evutil_socket_t fd, short what, void *arg);
/* s is being freed: signals no longer stop it. */
void hc_srv_forget_signals(struct hc_server *s);

#endif
