/* httploop.c — the HTTP server's loop runner: one event loop per thread,
 * woken through a pipe (stop, work for every loop), stopped at once or
 * after a drain, and by SIGINT/SIGTERM (http.h, http_int.h). */
#include "common/http_int.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"

#define FLUSH_MS 100 /* how long a stopping loop runs to flush its last replies */

static struct hc_server *signal_server;

/* ---------------- loops ---------------- */

static void listeners_disable(struct hc_lp *lp)
{
	if (lp->listener)
		evconnlistener_disable(lp->listener);
	if (lp->ulistener)
		evconnlistener_disable(lp->ulistener);
}

/* Stop a loop: stop accepting, answer what handlers still hold with 503,
 * close idle connections, and let the loop run FLUSH_MS more so replies
 * reach their clients (libevent must not free requests it still owns). */
static void loop_begin_stop(struct hc_lp *lp)
{
	if (lp->stopping)
		return;
	lp->stopping = 1;
	listeners_disable(lp);
	hc_srv_stop_conns(lp);
	struct timeval tv = {0, FLUSH_MS * 1000};
	event_base_loopexit(lp->pub.base, &tv);
}

#define DRAIN_POLL_MS 20

static void drain_check(evutil_socket_t fd, short what, void *arg)
{
	struct hc_lp *lp = arg;
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
static void loop_begin_drain(struct hc_lp *lp)
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

void hc_srv_wake_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hc_lp *lp = arg;
	char cmds[64];
	ssize_t n = read(fd, cmds, sizeof cmds);
	for (ssize_t i = 0; i < n; i++) {
		if (cmds[i] == 'S') {
			loop_begin_drain(lp);
		} else if (cmds[i] == 'E') {
			pthread_mutex_lock(&lp->each_mu);
			struct hc_each_work *w = lp->each;
			lp->each = NULL;
			pthread_mutex_unlock(&lp->each_mu);
			while (w) {
				struct hc_each_work *nx = w->next;
				w->fn(&lp->pub, w->arg);
				free(w);
				w = nx;
			}
		}
	}
}

static void *loop_main(void *arg)
{
	struct hc_lp *lp = arg;
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

void hc_srv_forget_signals(struct hc_server *s)
{
	if (signal_server == s)
		signal_server = NULL;
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
		struct hc_lp *lp = &s->loops[i];
		struct hc_each_work *w = malloc(sizeof *w);
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
