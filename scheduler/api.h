/* scheduler/api.h — the scheduler's HTTP API for controllers (the contract
 * is proto/scheduler.h) and the allocations held while a new leader
 * rebuilds its pools. */
#ifndef SCH_API_H
#define SCH_API_H

#include "scheduler/sched.h"

/* /allocate, /release, /busy, /discard, /healthz, /metrics. 0 or -1. */
int sch_api_routes(struct sch *s);

/* The pool's reply op: answer allocation cookie (a struct hc_req). */
void sch_api_reply(struct sch *s, void *cookie, const struct sch_alloc_result *res);

/* The queue of allocations held while rebuilding: serve it (rebuilt),
 * answer it 503 (step-down), or answer those past their wait (tick). */
void sch_api_drain_queue(struct sch *s);
void sch_api_abort_queue(struct sch *s);
void sch_api_expire_queue(struct sch *s);

#endif
