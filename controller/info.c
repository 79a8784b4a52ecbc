/* controller/info.c — what deploy tools and clients read about the
 * platform: GET / (OpenWhisk's info document: the kinds this deployment
 * runs and the system limits, Controller.scala `info`), GET /ping, and
 * GET /api/v1/namespaces/{ns}/limits (a namespace's effective limits in
 * OpenWhisk's units, Limits.scala). */
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/str.h"
#include "controller/api.h"
#include "controller/limits.h"
#include "proto/kinds.h"
#include "proto/limits.h"

static void reply_take(struct hc_req *req, cJSON *j)
{
	if (!j) {
		hc_reply_error(req, 500, "out of memory");
		return;
	}
	hc_reply_json(req, 200, j);
	cJSON_Delete(j);
}

/* Controller.scala: "limits" in ms and bytes (not the MB of /limits);
 * hearth has one range per limit, so the namespace defaults (default_*)
 * are the system's. */
static cJSON *info_limits(const struct ctl *c)
{
	const struct pr_limit_bounds *b = &c->bounds;
	const int64_t mb = 1024 * 1024;
	cJSON *l = cJSON_CreateObject();
	if (!l)
		return NULL;
	int bad = hc_json_add_int(l, "actions_per_minute", c->cfg.ns_invokes_per_minute) |
		  hc_json_add_int(l, "triggers_per_minute", c->cfg.ns_fires_per_minute) |
		  hc_json_add_int(l, "concurrent_actions", c->cfg.ns_concurrent) |
		  hc_json_add_int(l, "sequence_length", PR_SEQUENCE_MAX) |
		  hc_json_add_int(l, "default_min_action_duration", b->min.timeout_ms) |
		  hc_json_add_int(l, "default_max_action_duration", b->max.timeout_ms) |
		  hc_json_add_int(l, "default_min_action_memory", b->min.memory_mb * mb) |
		  hc_json_add_int(l, "default_max_action_memory", b->max.memory_mb * mb) |
		  hc_json_add_int(l, "default_min_action_logs", b->min.logs_mb * mb) |
		  hc_json_add_int(l, "default_max_action_logs", b->max.logs_mb * mb) |
		  hc_json_add_int(l, "min_action_duration", b->min.timeout_ms) |
		  hc_json_add_int(l, "max_action_duration", b->max.timeout_ms) |
		  hc_json_add_int(l, "min_action_memory", b->min.memory_mb * mb) |
		  hc_json_add_int(l, "max_action_memory", b->max.memory_mb * mb) |
		  hc_json_add_int(l, "min_action_logs", b->min.logs_mb * mb) |
		  hc_json_add_int(l, "max_action_logs", b->max.logs_mb * mb);
	if (bad) {
		cJSON_Delete(l);
		return NULL;
	}
	return l;
}

void ctl_h_root(struct hc_req *req, void *arg)
{
	struct ctl *c = ctl_loop_of(req)->ctl;
	cJSON *j = cJSON_CreateObject(), *x;
	if (!j)
		goto oom;
	if (hc_json_add_str(j, "description", "OpenWhisk-compatible API served by hearth"))
		goto oom;
	if (!(x = cJSON_AddArrayToObject(j, "api_paths")))
		goto oom;
	cJSON_AddItemToArray(x, cJSON_CreateString("/api/v1"));
	if (!(x = info_limits(c)))
		goto oom;
	cJSON_AddItemToObject(j, "limits", x);
	if (!(x = pr_kinds_manifest(pr_kinds_get())))
		goto oom;
	cJSON_AddItemToObject(j, "runtimes", x);
	reply_take(req, j);
	return;
oom:
	cJSON_Delete(j);
	hc_reply_error(req, 500, "out of memory");
}

/* BasicRasService: "pong" (the and clients' form is an object) */
void ctl_h_ping(struct hc_req *req, void *arg)
{
	static const char body[] = "{\"ping\":\"pong\"}";
	hc_reply(req, 200, "application/json", body, sizeof(body) - 1);
}

static void on_limits(const struct pr_ns_limits *l, void *arg)
{
	struct hc_req *req = arg;
	struct ctl *c = ctl_loop_of(req)->ctl;
	if (!l) {
		hc_reply_error(req, 503, "the entity store is unreachable; retry shortly");
		return;
	}
	reply_take(req, pr_ns_limits_json(l, &c->bounds, PR_PARAMS_MAX));
}

void ctl_limits(struct hc_req *req, const struct ctl_caller *who)
{
	const char *ns = ctl_req_ns(req, who);
	if (!ns)
		return;
	ctl_limits_read(ctl_loop_of(req), ns, on_limits, req);
}
