/* httplisten.c — the HTTP server's listening sockets (one per loop on the
 * same port with SO_REUSEPORT, and a local socket on loop 0), and its
 * set-up, routes and tear-down (http.h, http_int.h). */
#include "common/http_int.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/localnet.h"
#include "common/metrics.h"

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
static int unix_listen(struct hc_server *s, struct hc_lp *lp, struct hc_err *err)
{
	struct sockaddr_un sa;
	socklen_t sl;
	if (hc_unix_addr(s->unix_name, &sa, &sl) < 0)
		return hc_err_set(err, "bad local socket name \"%s\" (1 to %d bytes)", s->unix_name,
				  HC_UNIX_NAME_MAX);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return hc_err_set(err, "socket: %s", strerror(errno));
	if (bind(fd, (struct sockaddr *)&sa, sl) < 0) {
		hc_err_set(err, "bind %s: %s%s", s->unix_name, strerror(errno),
			   errno == EADDRINUSE
			       ? " (another server has it, or a stale file is left: "
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
	lp->ulistener =
	    evconnlistener_new(lp->pub.base, hc_srv_accept, lp, LEV_OPT_CLOSE_ON_FREE, 0, fd);
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
	s->m_rejected =
	    hc_counter_new("hearth_http_rejected_connections_total", labels,
			   "Connections refused because the connection cap was reached");
}

/* Zero options take their defaults (http.h). */
static void opts_defaults(struct hc_server_opts *o)
{
	if (!o->threads)
		o->threads = 1;
	if (!o->max_head)
		o->max_head = 16 * 1024;
	if (!o->max_body)
		o->max_body = 1024 * 1024;
	if (!o->idle_timeout_ms)
		o->idle_timeout_ms = 60000;
	if (!o->request_timeout_ms)
		o->request_timeout_ms = 30000;
	if (!o->max_conns)
		o->max_conns = 4096;
}

/* Loop i: its event base, its two clocks, its listening socket and its
 * wake-up pipe. -1 with err; hc_server_free undoes what was done. */
static int loop_setup(struct hc_server *s, int i, struct hc_err *err)
{
	struct hc_lp *lp = &s->loops[i];
	lp->srv = s;
	lp->pub.server = s;
	lp->pub.index = i;
	lp->listen_fd = -1;
	lp->wake[0] = lp->wake[1] = -1;
	TAILQ_INIT(&lp->conns);
	TAILQ_INIT(&lp->pending);
	pthread_mutex_init(&lp->each_mu, NULL);
	lp->pub.base = event_base_new();
	if (!lp->pub.base)
		return hc_err_set(err, "event_base_new failed");
	struct timeval idle = hc_ms_timeval(s->o.idle_timeout_ms);
	struct timeval whole = hc_ms_timeval(s->o.request_timeout_ms);
	lp->idle_tv = event_base_init_common_timeout(lp->pub.base, &idle);
	lp->request_tv = event_base_init_common_timeout(lp->pub.base, &whole);
	if (!lp->idle_tv || !lp->request_tv)
		return hc_err_set(err, "event_base_init_common_timeout failed");
	lp->listen_fd = listen_socket(s, i == 0, err);
	if (lp->listen_fd < 0)
		return -1;
	if (pipe2(lp->wake, O_NONBLOCK | O_CLOEXEC) < 0)
		return hc_err_set(err, "pipe: %s", strerror(errno));
	lp->wake_ev =
	    event_new(lp->pub.base, lp->wake[0], EV_READ | EV_PERSIST, hc_srv_wake_cb, lp);
	lp->listener = evconnlistener_new(lp->pub.base, hc_srv_accept, lp, LEV_OPT_CLOSE_ON_FREE, 0,
					  lp->listen_fd);
	if (!lp->wake_ev || !lp->listener)
		return hc_err_set(err, "could not set up loop %d", i);
	lp->listen_fd = -1; /* the listener owns it now */
	event_add(lp->wake_ev, NULL);
	return 0;
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
	opts_defaults(&s->o);
	s->port = opts->port;
	s->router = hc_router_new();
	s->nloops = s->o.threads;
	s->loops = calloc((size_t)s->nloops, sizeof *s->loops);
	if (!s->name || !s->addr || !s->router || !s->loops) {
		hc_err_set(err, "out of memory");
		goto fail;
	}
	register_metrics(s);
	for (int i = 0; i < s->nloops; i++)
		if (loop_setup(s, i, err) < 0)
			goto fail;
	if (s->unix_name && unix_listen(s, &s->loops[0], err) < 0)
		goto fail;
	return s;
fail:
	hc_server_free(s);
	return NULL;
}

int hc_server_route(struct hc_server *s, int methods, const char *pattern, hc_handler fn, void *arg,
		    size_t max_body)
{
	return hc_server_route_flags(s, methods, pattern, fn, arg, max_body, 0);
}

int hc_server_route_flags(struct hc_server *s, int methods, const char *pattern, hc_handler fn,
			  void *arg, size_t max_body, int flags)
{
	struct hc_route_ent *e = calloc(1, sizeof *e);
	struct hc_route_ent **nr =
	    realloc(s->routes, (size_t)(s->nroutes + 1) * sizeof(struct hc_route_ent *));
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

void hc_server_free(struct hc_server *s)
{
	if (!s)
		return;
	hc_srv_forget_signals(s);
	for (int i = 0; s->loops && i < s->nloops; i++) {
		struct hc_lp *lp = &s->loops[i];
		hc_srv_free_conns(lp);
		struct hc_each_work *w = lp->each;
		while (w) {
			struct hc_each_work *nx = w->next;
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
