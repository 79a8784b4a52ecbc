/* controller/activation.h — one activation, from dispatch to record.
 *
 * activation.c finds it a container and runs it: a free warm container of
 * this loop at once (resumed first if suspended); else it waits in the
 * overflow queue while the scheduler is asked for one (a fresh or stem
 * container gets /init with the cached code first; another controller's
 * warm container means the activation is forwarded there, once).
 * finish.c ends it: the record is written, the caller answered, the agent
 * asked for the logs.
 *
 * At most once: an activation sent to a container that then died or timed
 * out is recorded as a developer error and the container discarded; only
 * an activation that never reached a container is dispatched again.
 *
 * Everything here runs on the activation's loop. */
#ifndef CTL_ACTIVATION_H
#define CTL_ACTIVATION_H

#include <cjson/cJSON.h>
#include <event2/event_struct.h>
#include <stdint.h>

#include "common/http.h"
#include "controller/cache.h"
#include "controller/container.h"
#include "controller/pool.h"
#include "controller/rtcli.h"
#include "controller/schedcli.h"
#include "controller/store.h"
#include "proto/activation.h"

/* How long an activation may wait for a container before it is failed. */
#define CTL_QUEUE_RETENTION_US (60ULL * 1000 * 1000)

struct ctl_inv;
/* The activation is over; record is its stored form (the callee takes
 * it; NULL when out of memory). v is freed when this returns. */
typedef void (*ctl_inv_done_fn)(struct ctl_inv *v, cJSON *record, void *arg);
/* A non-blocking activation with no caller to answer (a rule a trigger
 * fired) is told once whether it was accepted: status 0 (it runs, or waits
 * for a container), 429 (no room: no record) or 500 (it ended before it
 * ran; msg says why). Called from inside ctl_inv_dispatch or later; v is
 * valid during the call and must not be freed by it. */
typedef void (*ctl_inv_accept_fn)(struct ctl_inv *v, int status, const char *msg, void *arg);
/* Answer v->req instead of the REST reply (web actions): once, with the
 * activation's status (PR_ST_*) and result when it is over, or with status
 * -1 (result NULL) when it outlived its blocking wait. v->req is NULL
 * afterwards; v is not freed here. */
typedef void (*ctl_inv_answer_fn)(struct ctl_inv *v, int status, const cJSON *result);

struct ctl_inv {
	struct ctl_waiter w; /* overflow queue link; first member (queues hold &w) */
	struct ctl_loop *L;
	struct hc_req *req; /* the caller to answer; NULL once answered (or none) */
	struct ctl_ref aref;
	const struct ctl_action *a;
	struct pr_activation rec;
	char akey[CTL_AKEY_MAX];
	char *params;	      /* JSON text of the merged parameters; NULL: none, {} */
	cJSON *params_json;   /* the same as a tree; NULL: none */
	char api_key[160];    /* the caller's "uuid:key" when the action asks for it */
	char caller_key[160]; /* the caller's "uuid:key" (compositions pass it on) */
	int result_only;
	int nonblocking; /* answer 202 once accepted (not refused with 429) */
	int forwarded;	 /* came from another controller: reply with the record */
	int no_forward;	 /* never forward (forwarded, or a forward failed) */
	int attempts;	 /* dispatches that never reached a container */
	int resent;	 /* dispatched again after a container refused it */
	int queued;
	enum ctl_start start;
	uint64_t t0_us; /* mono, activation start */
	uint64_t run_start_us;
	struct event wait_timer; /* the blocking wait (ctl_inv_wait), when wait_armed */
	int wait_armed;
	struct ctl_ctr *ctr;   /* its container while it runs */
	struct ctl_rt_call rt; /* its /init or /run in flight */
	ctl_inv_done_fn done;  /* compositions and forwarded runs: who gets the record */
	void *done_arg;
	ctl_inv_accept_fn accepted; /* nonblocking without req: told when accepted */
	void *accepted_arg;
	ctl_inv_answer_fn answer; /* who answers req, when not the REST reply */
	void *answer_arg;
	void (*answer_free)(void *answer_arg); /* when v is freed */
	cJSON *relayed; /* a forwarded run's record, as its owner stored it */
	/* the container's reply bytes when they are the result (rec.result
	 * parsed from them): borrowed, set only while the run finishes */
	const char *result_text;
	size_t result_text_len;
	int printed_nothing;	/* the runtime said so: no logs to ask for */
	struct ctl_nslim *held; /* an invoke's admission (limits.h), released at the end */
};

/* ---- activation.c ---- */
/* A new activation of the action in ref (taken) with params (taken), for
 * subject; id NULL = a new activation id. NULL on ENOMEM. */
struct ctl_inv *ctl_inv_new(struct ctl_loop *L, struct ctl_ref *ref, cJSON *params,
			    const char *subject, const char *id);
void ctl_inv_free(struct ctl_inv *v);
/* Find it a container: run now, resume one, or queue and allocate. */
void ctl_inv_dispatch(struct ctl_inv *v);

/* What the container and scheduler modules tell this one. */
extern const struct ctl_ctr_hooks ctl_inv_ctr_hooks;
extern const struct ctl_alloc_hooks ctl_inv_alloc_hooks;

int ctl_inv_loop_init(struct ctl_loop *L);
/* Shutting down: activations still waiting for a container end now. */
void ctl_inv_loop_stop(struct ctl_loop *L);
/* Activations of L waiting for a container. */
int ctl_inv_queued(const struct ctl_loop *L);

/* ---- finish.c ---- */
/* The end: record, reply, logs, metrics, done callback; frees v. */
void ctl_inv_finish(struct ctl_inv *v);
void ctl_inv_fail(struct ctl_inv *v, int code, const char *msg); /* never ran */
void ctl_inv_reject(struct ctl_inv *v, const char *msg);	 /* 429, no record */
void ctl_inv_accepted(struct ctl_inv *v);			 /* 202 {activationId} */
/* Answer 202 {activationId} if v has not ended within wait_ms. */
void ctl_inv_wait(struct ctl_inv *v, int64_t wait_ms);
/* A non-blocking activation is answered 202 once accepted: run, resumed
 * or queued (a full queue refuses it with 429 instead). */
void ctl_inv_accept_now(struct ctl_inv *v);

#endif
