/* redisev.h — attach a hiredis async context to a libevent base, without
 * an epoll_ctl per command (see redisev.c). Replaces hiredis' own
 * redisLibeventAttach; the context frees the adapter (ev.cleanup). */
#ifndef HC_REDISEV_H
#define HC_REDISEV_H

#include <event2/event.h>
#include <hiredis/async.h>

/* 0 on success, -1 when something is attached already or out of memory. */
int hc_redisev_attach(redisAsyncContext *ac, struct event_base *base);

/* How long a write-behind command may wait to be written with others. Each
 * write wakes the server and brings a reply that wakes us: at 1 ms, a
 * controller serving one connection (~6k invokes/s) spent ~10 us of CPU
 * per invoke on them, and its p50 was ~15 us longer than at 10 ms. */
#define HC_REDISEV_LATER_US 5000

/* While on, commands queued on ac may wait (write-behind); see redisev.c. */
void hc_redisev_later(redisAsyncContext *ac, int on);

/* fn(arg) runs before every write of queued commands and may queue more
 * (they go out in the same write); hc_redisev_arm asks for such a write
 * within HC_REDISEV_LATER_US even when nothing is queued. */
void hc_redisev_on_write(redisAsyncContext *ac, void (*fn)(void *), void *arg);
void hc_redisev_arm(redisAsyncContext *ac);

#endif
