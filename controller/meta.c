/* controller/meta.c — the small routes: GET /api/v1, /healthz, the
 * caller's namespaces and limits. */
#include <stdlib.h>
#include <unistd.h>

#include "common/json.h"
#include "controller/api.h"
#include "controller/pool.h"

void ctl_h_info(struct hc_req *req, void *arg)
{
	static const char body[] =
	    "{\"description\":\"OpenWhisk-compatible API served by hearth\","
	    "\"api_version\":\"1.0.0\",\"api_version_path\":\"v1\","
	    "\"build\":\"hearth\",\"buildno\":\"1\","
	    "\"swagger_paths\":{\"ui\":\"/docs\",\"api-docs\":\"/api/v1/api-docs\"}}";
	hc_reply(req, 200, "application/json", body, sizeof(body) - 1);
}

static void reply_json_take(struct hc_req *req, cJSON *j)
{
	if (!j) {
		hc_reply_error(req, 500, "out of memory");
		return;
	}
	hc_reply_json(req, 200, j);
	cJSON_Delete(j);
}

void ctl_h_healthz(struct hc_req *req, void *arg)
{
	struct ctl *c = ctl_loop_of(req)->ctl;
	cJSON *j = cJSON_CreateObject();
	if (j) {
		hc_json_add_str(j, "id", c->cfg.id);
		hc_json_add_int(j, "pid", getpid());
		hc_json_add_int(j, "containers", ctl_pool_total_containers());
		hc_json_add_int(j, "queued", ctl_pool_total_queued());
	}
	reply_json_take(req, j);
}

void ctl_namespaces(struct hc_req *req, const struct ctl_caller *who)
{
	cJSON *a = cJSON_CreateArray();
	if (a)
		cJSON_AddItemToArray(a, cJSON_CreateString(who->ns));
	reply_json_take(req, a);
}

void ctl_limits(struct hc_req *req, const struct ctl_caller *who)
{
	struct ctl *c = ctl_loop_of(req)->ctl;
	const struct pr_limit_bounds *b = &c->bounds;
	if (!ctl_req_ns(req, who))
		return;
	cJSON *j = cJSON_CreateObject();
	if (j) {
		/* hearth does not throttle per namespace (OpenWhisk's perf setup) */
		hc_json_add_int(j, "invocationsPerMinute", 999999);
		hc_json_add_int(j, "concurrentInvocations", 999999);
		hc_json_add_int(j, "firesPerMinute", 999999);
		hc_json_add_int(j, "minActionMemory", b->min.memory_mb * 1024 * 1024);
		hc_json_add_int(j, "maxActionMemory", b->max.memory_mb * 1024 * 1024);
		hc_json_add_int(j, "minActionLogs", b->min.logs_mb * 1024 * 1024);
		hc_json_add_int(j, "maxActionLogs", b->max.logs_mb * 1024 * 1024);
		hc_json_add_int(j, "minActionTimeout", b->min.timeout_ms);
		hc_json_add_int(j, "maxActionTimeout", b->max.timeout_ms);
		hc_json_add_int(j, "minActionConcurrency", b->min.concurrency);
		hc_json_add_int(j, "maxActionConcurrency", b->max.concurrency);
		hc_json_add_int(j, "maxParameterSize", PR_PARAMS_MAX);
	}
	reply_json_take(req, j);
}
