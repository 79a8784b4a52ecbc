/* controller/xloop.h — messages between this controller's loops.
 *
 * Each loop owns its containers (pool.h), so news about a container, or
 * an activation forwarded to the loop that owns its container, crosses
 * to that loop's thread through hc_server_each_loop. */
#ifndef CTL_XLOOP_H
#define CTL_XLOOP_H

#include "controller/ctl.h"

typedef void (*ctl_xloop_fn)(struct ctl_loop *L, void *p);

/* Run fn(L, p) on loop target's thread (-1: on every loop, p shared).
 * 0, or -1 when out of memory (fn will not run). */
int ctl_xloop_post(struct ctl *c, int target, ctl_xloop_fn fn, void *p);

/* Run fn(L, id) on every loop with a copy of id (shorter than 64 bytes)
 * that the message carries itself. 0, or -1 (fn will not run). */
int ctl_xloop_broadcast_id(struct ctl *c, ctl_xloop_fn fn, const char *id);

/* The index of this controller's loop named by owner ("<id>.<n>"), or -1
 * when it names none of them (or there is only one loop). */
int ctl_xloop_of_owner(const struct ctl *c, const char *owner);

#endif
