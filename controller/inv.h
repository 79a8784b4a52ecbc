/* controller/inv.h — the invoke path's shared parts (private to controller/).
 *
 * One activation is a struct ctl_inv. invoke.c starts it, runs it on a
 * container (/init, /run) and finishes it (record, reply, logs); proxy.c
 * keeps containers resumed or suspended (pause grace, agent suspend/resume,
 * scheduler release/busy); alloc.c asks the scheduler for containers while
 * activations wait in the overflow queue; forward.c sends an activation to
 * the controller (or loop) owning a free warm container and receives those
 * sent to this one; sequence.c runs sequences. All of it runs on one loop
 * thread per activation; nothing here is shared between loops except
 * through forward.c's hand-over. */
#ifndef CTL_INV_H
#define CTL_INV_H

#include <cjson/cJSON.h>
#include <event2/event_struct.h>
#include <event2/util.h>
#include <stdint.h>

#include "common/client.h"
#include "common/http.h"
#include "controller/api.h"
#include "controller/pool.h"
#include "proto/activation.h"
#include "proto/scheduler.h"

/* How long an activation may wait for a container before it is failed. */
#define QUEUE_RETENTION_US (60ULL * 1000 * 1000)
#define DISPATCH_ATTEMPTS  3 /* dispatches of one activation that never reached a container */
#define SCHED_TIMEOUT_MS   10000
#define AGENT_TIMEOUT_MS   5000

struct ctl_inv;
struct ctl_seq;
typedef void (*ctl_inv_done_fn)(struct ctl_inv *v, void *arg);

struct ctl_inv {
	struct ctl_waiter w; /* overflow queue link; first member (queues hold &w) */
	struct ctl_loop *L;
	struct hc_req *req; /* NULL once answered */
	struct ctl_ref aref;
	const struct ctl_action *a;
	struct pr_activation rec;
	char akey[CTL_AKEY_MAX];
	char *params;	      /* JSON text of the merged parameters; NULL: none, {} */
	char api_key[160];    /* the caller's "uuid:key" when the action asks for it */
	char caller_key[160]; /* the caller's "uuid:key" (sequences pass it on) */
	cJSON *params_json;   /* the same as a tree; NULL: none */
	int result_only;
	int nonblocking; /* answer 202 once accepted (not refused with 429) */
	int forwarded;	 /* came from another controller: reply with the record */
	int no_forward;	 /* never forward (forwarded, or a forward failed) */
	int attempts;	 /* dispatches that never reached a container */
	int queued;
	uint64_t t0_us; /* mono, activation start */
	uint64_t run_start_us;
	struct event wait_timer; /* the blocking wait (ctl_inv_wait), when wait_armed */
	int wait_armed;
	struct ctl_ctr *ctr;
	int path;	      /* 0 warm, 1 prewarm, 2 created */
	ctl_inv_done_fn done; /* called with the record in fwd_record (taken or not) */
	void *done_arg;
	cJSON *fwd_record; /* a forwarded run's record, relayed as is */
	/* the container's reply bytes when they are the result (v->rec.result
	 * parsed from them): borrowed, set only while on_run finishes */
	const char *result_text;
	size_t result_text_len;
	int printed_nothing; /* the runtime said so (PR_RT_HDR_LOG_BYTES: 0) */
	int resent;	     /* dispatched again after a container refused it */
	struct ctl_seq *seq; /* when this is a sequence */
};

/* One /allocate exchange (with its retries). It copies what it needs from
 * the action, so it holds no cache reference. */
struct ctl_alloc {
	struct ctl_alloc *next, *prev; /* the loop's list, freed at shutdown */
	struct ctl_loop *L;
	struct pr_alloc_req rq;
	int maxc;
	char akey[CTL_AKEY_MAX];
	int redirects;
	int pending; /* a Redis or HTTP call will call back with this alloc */
	struct event *retry;
};

/* ---- invoke.c ---- */
/* A new activation of the action in ref (taken) with params (taken), for
 * subject; id NULL = a new activation id. NULL on ENOMEM. */
struct ctl_inv *ctl_inv_new(struct ctl_loop *L, struct ctl_ref *ref, cJSON *params,
			    const char *subject, const char *id);
void ctl_inv_free(struct ctl_inv *v);
/* Find it a container: run now, resume one, or queue and allocate. */
void ctl_inv_dispatch(struct ctl_inv *v);
void ctl_inv_run(struct ctl_inv *v, struct ctl_ctr *c);	 /* slot already taken */
void ctl_inv_init(struct ctl_inv *v, struct ctl_ctr *c); /* fresh container: /init, then /run */
/* The end: record, reply, logs, metrics, done callback; frees v. */
void ctl_inv_finish(struct ctl_inv *v);
void ctl_inv_fail(struct ctl_inv *v, int code, const char *msg); /* never ran */
void ctl_inv_reject(struct ctl_inv *v, const char *msg);	 /* 429, no record */
void ctl_inv_accepted(struct ctl_inv *v);			 /* 202 {activationId} */
/* Answer 202 {activationId} if v has not ended within wait_ms. */
void ctl_inv_wait(struct ctl_inv *v, int64_t wait_ms);
/* HTTP with the cluster token and a JSON body (fire and forget when cb is
 * ctl_ignore_reply); when the loop is stopping cb fails at once. */
void ctl_send_json(struct ctl_loop *L, const char *method, const char *url, const cJSON *body,
		   long timeout_ms, hc_client_cb cb, void *arg);
void ctl_ignore_reply(const struct hc_response *r, void *arg);
void ctl_my_owner(struct ctl_loop *L, char *out, size_t n);
/* Tell the scheduler (route: release, busy, discard) about c. */
void ctl_sched_ref(struct ctl_loop *L, const char *route, const struct ctl_ctr *c,
		   const char *reason);
/* Forget a container that died or timed out, and tell the scheduler. */
void ctl_discard(struct ctl_loop *L, struct ctl_ctr *c, const char *reason);

/* ---- rectext.c ---- */
/* Store a record (pr_activation_pack, with result_json as there) with the
 * activation TTL and index it by start time under its invoking namespace;
 * fire and forget on L's Redis connection. 0, or -1 when it could not be
 * packed or queued. */
int ctl_record_store(struct ctl_loop *L, const struct pr_activation *a, const char *result_json,
		     size_t result_len);
/* A loop's table of what it announced lately (struct ctl_loop's seen): on
 * the heap, whose pages are not touched before they are used (a __thread
 * array was zeroed, so resident, in every thread). NULL: out of memory. */
struct ctl_seen *ctl_seen_new(void);

/* ---- proxy.c ---- */
/* The drain before a stop: suspend (and release) every idle container of
 * L now; 1 while a container of L or a call about one is still under way. */
void ctl_ctr_suspend_idle(struct ctl_loop *L);
int ctl_pool_busy(const struct ctl_loop *L);
void ctl_ctr_resume(struct ctl_loop *L, struct ctl_ctr *c, struct ctl_inv *v);
void ctl_ctr_after_run(struct ctl_loop *L, struct ctl_ctr *c);
void ctl_ctr_drain(struct ctl_loop *L, struct ctl_ctr *c);

/* ---- alloc.c ---- */
/* Ask for one more container when akey's waiters outnumber the slots coming. */
void ctl_alloc_maybe(struct ctl_loop *L, const struct ctl_action *a, const char *akey);
void ctl_alloc_free(struct ctl_alloc *al);

/* ---- forward.c ---- */
void ctl_inv_forward(struct ctl_inv *v, const char *owner_url, const char *owner);

/* ---- sequence.c ---- */
void ctl_seq_start(struct ctl_inv *v);

#endif
