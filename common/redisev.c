/* redisev.c — hiredis on libevent, without an epoll_ctl per command.
 *
 * hiredis' own adapter (hiredis/adapters/libevent.h in 0.14) uses one-shot
 * events: every reply costs an EPOLL_CTL_DEL and an EPOLL_CTL_ADD, and
 * every command an EPOLLOUT round trip through epoll_wait before it is
 * written (four syscalls and one extra loop pass per command on the
 * controller's hot path). This adapter keeps the read event persistent
 * and, once connected, writes queued commands from a deferred callback in
 * the same loop pass that queued them: all commands queued by one pass go
 * out in one write(2), after the callback that queued them has finished
 * (so an HTTP reply written by that callback leaves first). EV_WRITE is
 * used only while connecting and when the kernel does not take all.
 *
 * Write-behind: commands queued with hc_redisev_later() set wait up to
 * HC_REDISEV_LATER_US (or until LATER_MAX of them are queued, or until any
 * other command is queued) so that a busy loop sends many fire-and-forget
 * writes in one write(2) and reads their replies in one read(2).
 *
 * The owner may also hold commands back itself (hc_redis's reply-less
 * write-behind block): hc_redisev_on_write() registers a function called
 * before every write of queued commands, which may queue what it held, and
 * hc_redisev_arm() asks for such a write within HC_REDISEV_LATER_US. */
#include "common/redisev.h"

#include <event2/event.h>
#include <hiredis/async.h>
#include <stdlib.h>

struct redisev {
	redisAsyncContext *ac;
	struct event *rev;   /* persistent EV_READ */
	struct event *wev;   /* one-shot EV_WRITE: connecting, or a full socket */
	struct event *flush; /* no fd: activated to write in this loop pass */
	struct event *later; /* write-behind timer */
	int reading;
	int in_flush;
	int later_next; /* the command being queued may wait */
	int nlater;	/* commands waiting for the timer */
	int in_hook;	/* the pre-write hook is queueing: the write follows */
	void (*hook)(void *);
	void *hook_arg;
};

#define LATER_MAX 64

static void on_read(evutil_socket_t fd, short what, void *arg)
{
	struct redisev *e = arg;
	redisAsyncHandleRead(e->ac);
}

static void on_write(evutil_socket_t fd, short what, void *arg)
{
	struct redisev *e = arg;
	/* as on_flush: what is left waits for EV_WRITE again (see below) */
	e->in_flush = 1;
	redisAsyncHandleWrite(e->ac);
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
	struct redisev *e = arg;
	/* From inside, hiredis asks for EV_WRITE only when the kernel did not
	 * take everything; add_write and del_write reset in_flush (hiredis
	 * calls one of them unless the write failed, and then it frees the
	 * context and e with it: e must not be touched after this call). */
	if (e->hook) {
		e->in_hook = 1;
		e->hook(e->hook_arg);
		e->in_hook = 0;
	}
	e->in_flush = 1;
	e->nlater = 0;
	event_del(e->later);
	redisAsyncHandleWrite(e->ac);
}

static void add_read(void *p)
{
	struct redisev *e = p;
	if (!e->reading) {
		event_add(e->rev, NULL);
		e->reading = 1;
	}
}

static void del_read(void *p)
{
	struct redisev *e = p;
	if (e->reading) {
		event_del(e->rev);
		e->reading = 0;
	}
}

static void arm_later(struct redisev *e)
{
	if (!evtimer_pending(e->later, NULL)) {
		struct timeval tv = {0, HC_REDISEV_LATER_US};
		evtimer_add(e->later, &tv);
	}
}

static void add_write(void *p)
{
	struct redisev *e = p;
	if (e->in_hook)
		return; /* on_flush writes right after the hook */
	if (e->in_flush || !(e->ac->c.flags & REDIS_CONNECTED)) {
		e->in_flush = 0;
		event_add(e->wev, NULL);
		return;
	}
	if (e->later_next && ++e->nlater < LATER_MAX) {
		arm_later(e);
		return;
	}
	event_active(e->flush, EV_TIMEOUT, 0); /* once per pass, however often called */
}

static void del_write(void *p)
{
	struct redisev *e = p;
	e->in_flush = 0;
	event_del(e->wev);
}

static void cleanup(void *p)
{
	struct redisev *e = p;
	event_free(e->rev);
	event_free(e->wev);
	event_free(e->flush);
	event_free(e->later);
	free(e);
}

void hc_redisev_later(redisAsyncContext *ac, int on)
{
	struct redisev *e = ac->ev.data;
	if (e && ac->ev.cleanup == cleanup)
		e->later_next = on;
}

void hc_redisev_on_write(redisAsyncContext *ac, void (*fn)(void *), void *arg)
{
	struct redisev *e = ac->ev.data;
	if (e && ac->ev.cleanup == cleanup)
		e->hook = fn, e->hook_arg = arg;
}

void hc_redisev_arm(redisAsyncContext *ac)
{
	struct redisev *e = ac->ev.data;
	if (e && ac->ev.cleanup == cleanup)
		arm_later(e);
}

int hc_redisev_attach(redisAsyncContext *ac, struct event_base *base)
{
	if (ac->ev.data)
		return -1;
	struct redisev *e = calloc(1, sizeof *e);
	if (!e)
		return -1;
	e->ac = ac;
	e->rev = event_new(base, ac->c.fd, EV_READ | EV_PERSIST, on_read, e);
	e->wev = event_new(base, ac->c.fd, EV_WRITE, on_write, e);
	e->flush = event_new(base, -1, 0, on_flush, e);
	e->later = evtimer_new(base, on_flush, e);
	if (!e->rev || !e->wev || !e->flush || !e->later) {
		if (e->rev)
			event_free(e->rev);
		if (e->wev)
			event_free(e->wev);
		if (e->flush)
			event_free(e->flush);
		if (e->later)
			event_free(e->later);
		free(e);
		return -1;
	}
	ac->ev.addRead = add_read;
	ac->ev.delRead = del_read;
	ac->ev.addWrite = add_write;
	ac->ev.delWrite = del_write;
	ac->ev.cleanup = cleanup;
	ac->ev.data = e;
	/* as hiredis' adapter: wait for the connect (writable) and replies */
	add_read(e);
	event_add(e->wev, NULL);
	return 0;
}
