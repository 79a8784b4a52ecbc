/* fuzz_sched_alloc.c — the scheduler's request decoders (allocate, release /
 * busy / discard, leader announcement, allocation reply) and the pool fed
 * with whatever allocate request decodes: names, kinds and sizes from
 * outside must never crash the allocation path or break its accounting. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/scheduler.h"
#include "scheduler/keepalive.h"
#include "scheduler/pool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t clock_ms = 1000;
static uint64_t last_create;

static uint64_t f_now(void *arg)
{
	return clock_ms;
}

static void f_create(void *arg, const struct sch_container *c)
{
	last_create = c->seq;
}

static void f_destroy(void *arg, const struct sch_container *c)
{
}

static void f_reply(void *arg, void *cookie, const struct sch_alloc_result *res)
{
	/* Re-encode what the pool answered, as the API does. */
	if (res->outcome <= SCH_OUT_EVICTED) {
		cJSON *j = pr_alloc_reply_to_json(&res->reply);
		cJSON_Delete(j);
	}
}

static const struct sch_pool_ops ops = {
    .now_ms = f_now, .create = f_create, .destroy = f_destroy, .reply = f_reply};

static void run_pool(const struct pr_alloc_req *req)
{
	struct sch_prewarm_target t = {.kind = "nodejs:20", .memory_mb = 256, .count = 1};
	struct sch_pool_config cfg = {.prewarm = &t, .nprewarm = 1};
	struct sch_pool *p = sch_pool_new(&cfg, &ops, NULL);
	struct pr_container d;
	struct sch_host *h;

	if (!p)
		return;
	sch_pool_host_set(p, "h1", "http://127.0.0.1:3235", 4096, 0);
	memset(&d, 0, sizeof(d));
	memcpy(d.id, "0123456789abcdef0123456789abcdef", HC_ID_LEN);
	if (last_create)
		sch_pool_created(p, last_create, &d);
	sch_pool_allocate(p, req, NULL);
	sch_pool_allocate(p, req, NULL);
	clock_ms += 100000;
	sch_pool_tick(p);
	h = sch_pool_host(p, "h1");
	if (h && (h->used_mb < 0 || h->used_mb > h->capacity_mb))
		abort();
	sch_pool_free(p);
	last_create = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pr_alloc_req req;
	struct pr_container_ref ref;
	struct pr_leader_info li;
	struct pr_assignment as;
	struct hc_err err;
	cJSON *j;

	if (pr_alloc_req_parse((const char *)data, size, &req, &err) == 0) {
		j = pr_alloc_req_to_json(&req);
		cJSON_Delete(j);
		run_pool(&req);
	}
	if (pr_container_ref_parse((const char *)data, size, &ref, &err) == 0) {
		j = pr_container_ref_to_json(&ref);
		cJSON_Delete(j);
	}
	if (pr_leader_info_decode((const char *)data, size, &li, &err) == 0)
		free(pr_leader_info_encode(&li));
	if (pr_assignment_decode((const char *)data, size, &as, &err) == 0)
		free(pr_assignment_encode(&as));
	j = cJSON_ParseWithLength((const char *)data, size);
	if (j) {
		struct pr_alloc_reply rep;
		struct pr_sched_redirect rd;
		struct pr_sched_busy b;
		struct pr_sched_health hz;
		pr_alloc_reply_from_json(j, &rep, &err);
		pr_sched_redirect_from_json(j, &rd, &err);
		pr_sched_busy_from_json(j, &b, &err);
		pr_sched_health_from_json(j, &hz, &err);
		cJSON_Delete(j);
	}
	return 0;
}
