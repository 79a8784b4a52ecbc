/* controller/schedcli.h — the scheduler as the controller sees it: where
 * its leader is, this controller's registration, allocations, and the
 * per-container news (release, busy, discard).
 *
 * An allocation is an exchange with retries: POST /allocate to the leader
 * (its URL from Redis and PR_CH_LEADER; a standby's 503 names the leader
 * and is retried at once; no leader or a dead one: the URL is re-read from
 * Redis and retried with backoff; 429: retried after retry_after_ms) for
 * as long as the activation module says activations still wait for it
 * (ctl_alloc_hooks.waiting, which also expires the ones that waited too
 * long). It ends with a ctl_alloc_hooks.granted call that does not ask
 * for more. */
#ifndef CTL_SCHEDCLI_H
#define CTL_SCHEDCLI_H

#include <stddef.h>

#include "controller/ctl.h"
#include "proto/scheduler.h"

#define CTL_SCHED_TIMEOUT_MS 10000

/* What the activation module is told about allocations (wired in
 * struct ctl by server.c). */
struct ctl_alloc_hooks {
	/* How many activations of akey still wait for a container; the ones
	 * that waited past their time are ended with status (429 or 503) and
	 * msg first. 0 gives the allocation up. */
	int (*waiting)(struct ctl_loop *L, const char *akey, int status, const char *msg);
	/* The exchange for akey came to ar, the container granted, or to
	 * NULL when it was given up (nobody waits, or the loop stops). 1
	 * when ar could not be used yet: the exchange goes on shortly. */
	int (*granted)(struct ctl_loop *L, const char *akey, int maxc,
		       const struct pr_alloc_reply *ar);
};

/* The leader's base URL into out ("" when unknown). Any thread. */
void ctl_sched_leader_get(struct ctl *c, char *out, size_t outlen);
void ctl_sched_leader_set(struct ctl *c, const char *url);
/* The first of the configured fallback URLs, until Redis names a leader. */
void ctl_sched_leader_init(struct ctl *c);

/* Ask for a container for akey (rq copied; maxc: the action's
 * concurrency). */
void ctl_sched_allocate(struct ctl_loop *L, const struct pr_alloc_req *rq, const char *akey,
			int maxc);

/* Tell the leader (route: PR_SCHED_ROUTE_RELEASE, _BUSY, _DISCARD) about
 * container id; reason may be NULL. Fire and forget, counted until
 * answered (ctl_sched_busy). */
void ctl_sched_ref(struct ctl_loop *L, const char *route, const char *id, const char *reason);

/* 1 while allocations or container news of L are under way. */
int ctl_sched_busy(const struct ctl_loop *L);

/* Loop 0: register every loop's owner id in Redis now and every heartbeat,
 * and read the leader's URL with it. */
int ctl_sched_register_start(struct ctl_loop *L);
/* Mark L's owner draining (its free containers are anyone's). */
void ctl_sched_mark_draining(struct ctl_loop *L);

int ctl_sched_loop_init(struct ctl_loop *L);
/* Stopping: allocations not waiting on a call end now (granted NULL); the
 * others end when their call fails. */
void ctl_sched_loop_stop(struct ctl_loop *L);
void ctl_sched_loop_fini(struct ctl_loop *L);

#endif
