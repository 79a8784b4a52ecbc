/* controller/limits.h — namespace limits: OpenWhisk's throttles
 * (invocations per minute, concurrent invocations, trigger fires per
 * minute) shared by every controller through Redis, and hearth's quotas on
 * what a namespace stores (actions, code bytes; log bytes are the agent's,
 * agentcli.c passes the default on).
 *
 * Throttles are cheap on the warm path: each loop keeps the counters of the
 * namespaces it serves and admits from them (a table lookup and a few
 * additions); once a second one script adds what the loop counted to the
 * shared per-minute counters, publishes its in-flight count and reads back
 * the totals and the operator's overrides (PR_KEY_RATE_*, PR_KEY_INFLIGHT_*,
 * PR_KEY_NS_LIMITS). A loop sees other loops' traffic up to a second late,
 * so a namespace may exceed a limit by what the others admit in that
 * second; its own count is exact. The first check of a namespace on a loop
 * (or after it was idle for a few minutes) waits for that script once, so
 * the counts and overrides are the cluster's from the first request on.
 * Redis unreachable: the defaults apply, the loop's own counts still hold.
 *
 * As OpenWhisk's EntitlementProvider: the per-minute count charges every
 * check, refused ones too, and a check is refused when the count with it is
 * over the limit ("Too many requests in the last minute (count: N,
 * allowed: M)."); the concurrent check refuses when the activations in
 * flight already reach the limit ("Too many concurrent requests in flight
 * (count: N, allowed: M)."); both answer 429. The subject (the caller's
 * namespace) is charged. */
#ifndef CTL_LIMITS_H
#define CTL_LIMITS_H

#include <stdint.h>

#include "controller/ctl.h"
#include "proto/limits.h"

/* One namespace's counters on one loop; a held one counts an activation in
 * flight until released. */
struct ctl_nslim;

/* held: non-NULL when admitted (an invocation: release it when the
 * activation ends; a fire: NULL as well, nothing to release). status 0 when
 * admitted, else 429 with msg (OpenWhisk's words). */
typedef void (*ctl_limits_cb)(int status, const char *msg, struct ctl_nslim *held, void *arg);

/* Admit one invocation by namespace ns (rate, then concurrency). cb runs
 * before this returns when the loop already has ns's counters (the usual
 * case), else after one Redis round trip. */
void ctl_limits_check_invoke(struct ctl_loop *L, const char *ns, ctl_limits_cb cb, void *arg);
/* The activation of a held admission ended. NULL is ignored. */
void ctl_limits_release(struct ctl_nslim *held);

/* Admit one trigger fire by ns (per minute; OpenWhisk does not count fires
 * as concurrent). For the trigger code. Same contract as above. */
void ctl_limits_check_fire(struct ctl_loop *L, const char *ns, ctl_limits_cb cb, void *arg);

/* The effective limits of ns (the operator's overrides over the defaults),
 * read from Redis: for GET /limits. l is NULL when Redis did not answer. cb
 * runs on a later loop turn (at once only when out of memory). */
typedef void (*ctl_limits_read_cb)(const struct pr_ns_limits *l, void *arg);
void ctl_limits_read(struct ctl_loop *L, const char *ns, ctl_limits_read_cb cb, void *arg);
/* The controller's defaults. */
void ctl_limits_defaults(const struct ctl *c, struct pr_ns_limits *out);

/* ---- storage quotas ---- */
/* May ns store action name with code_len bytes of code (-1: its code is
 * unchanged)? status 0 yes; else 403 with msg (what is over, and what to
 * do), or 503 when Redis did not answer. A namespace counted for the
 * first time (one from before the quotas) is counted here, once. cb runs on
 * a later loop turn. Two concurrent PUTs may both pass: the quota is a
 * bound on a tenant's growth, not a transaction. Out of memory: cb at
 * once with 503. */
typedef void (*ctl_quota_cb)(int status, const char *msg, void *arg);
void ctl_limits_check_put(struct ctl_loop *L, const char *ns, const char *name, int64_t code_len,
			  ctl_quota_cb cb, void *arg);
/* After a successful PUT (bytes: its code's size, 0 for none) or DELETE
 * (bytes < 0) of ns/name: the namespace's usage follows. Fire and forget. */
void ctl_limits_note_action(struct ctl_loop *L, const char *ns, const char *name, int64_t bytes);

int ctl_limits_loop_init(struct ctl_loop *L);
void ctl_limits_loop_fini(struct ctl_loop *L);

/* ---- for tests ---- */
/* The namespaces a loop holds counters for. */
int ctl_limits_count(const struct ctl_loop *L);

#endif
