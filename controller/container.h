/* controller/container.h — a container's life as this controller sees it,
 * between activations: adopted from an allocation, initialised, running
 * activations up to its concurrency, kept resumed for pause-grace, then
 * suspended through its agent and released to the scheduler; resumed (and
 * reported busy) when work comes back; discarded when it fails.
 *
 * This module is the only writer of a container's state (ctl_ctr.st); each
 * change goes through one checked setter (the transitions are in
 * ctl_ctr_transition_ok). It tells the activation module when a container
 * can take work or is gone through struct ctl_ctr_hooks (wired in struct
 * ctl). A hook runs from one of this module's callbacks, or from
 * ctl_ctr_release or ctl_ctr_settle, which are an activation's last touch
 * of its container; no other call here runs one, and nothing here frees a
 * container a caller holds, except those two and ctl_ctr_discard. */
#ifndef CTL_CONTAINER_H
#define CTL_CONTAINER_H

#include "controller/ctl.h"
#include "controller/pool.h"
#include "proto/scheduler.h"

struct ctl_ctr_hooks {
	/* c can take work now: READY with a free slot, or SUSPENDED (work
	 * for it resumes it). */
	void (*room)(struct ctl_loop *L, struct ctl_ctr *c);
	/* A container of akey is gone: its waiters need another one. */
	void (*lost)(struct ctl_loop *L, const char *akey);
};

/* 1 when a container may go from one state to the other. */
int ctl_ctr_transition_ok(enum ctl_cstate from, enum ctl_cstate to);

/* The container an allocation names, in L's pool: the one already there
 * (*fresh 0) or a new one (*fresh 1) in INIT when it needs /init, else
 * SUSPENDED or READY as the scheduler says. NULL when out of memory. */
struct ctl_ctr *ctl_ctr_adopt(struct ctl_loop *L, const struct pr_alloc_reply *ar, const char *akey,
			      int maxc, int *fresh);

/* One slot of c for an activation (READY with room, or INIT for its
 * first activation): the pause-grace timer stops. */
void ctl_ctr_take(struct ctl_loop *L, struct ctl_ctr *c);

/* c's /init came back: READY (ok) or DEAD. The slot stays taken. 1 when
 * c is READY (it may have been reported gone meanwhile). */
int ctl_ctr_initialised(struct ctl_loop *L, struct ctl_ctr *c, int ok);

/* Resume a SUSPENDED c for an activation, whose slot this takes:
 * cb(L, c, arg) once it is READY (the scheduler is told it is busy), or
 * cb(L, NULL, arg) when it could not be resumed (then it is discarded and
 * the slot is gone with it). -1 when the resume could not start (c not
 * SUSPENDED, or no memory): nothing changed, cb will not run. */
typedef void (*ctl_ctr_cb)(struct ctl_loop *L, struct ctl_ctr *c, void *arg);
int ctl_ctr_resume(struct ctl_loop *L, struct ctl_ctr *c, ctl_ctr_cb cb, void *arg);

/* An activation gave its slot back (dead: c must not be used again). A
 * dead container is discarded once its last slot is back; an idle one is
 * suspended after pause-grace. */
void ctl_ctr_release(struct ctl_loop *L, struct ctl_ctr *c, int dead);

/* What release does after giving the slot back: a dead c is discarded
 * once nothing of it is under way, a READY one with room takes queued
 * work (room hook), an idle one is suspended after pause-grace. For a
 * container adopted with nobody to run on it. May free c. */
void ctl_ctr_settle(struct ctl_loop *L, struct ctl_ctr *c);

/* Forget c now (nothing of it is under way) and tell the scheduler. */
void ctl_ctr_discard(struct ctl_loop *L, struct ctl_ctr *c, const char *reason);

/* A container the agent or scheduler reports dead or destroyed: forget
 * it on whichever loop holds it. Any thread. */
void ctl_ctr_gone(struct ctl *ctl, const char *id);

/* The drain before a stop: suspend (and release) every idle container of
 * L now; forget the suspended ones (the scheduler hands them out). */
void ctl_ctr_suspend_idle(struct ctl_loop *L);

/* 1 while a container of L is not SUSPENDED or DEAD (something of it is
 * under way or it still holds a grace period). */
int ctl_ctr_any_active(const struct ctl_loop *L);

int ctl_ctrs_loop_init(struct ctl_loop *L);
/* Free the containers and timers (after every call has ended). */
void ctl_ctrs_loop_fini(struct ctl_loop *L);

#endif
