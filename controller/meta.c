/* controller/meta.c — the small routes: GET /api/v1, /healthz, the
 * caller's namespaces (GET /, /ping and /limits: info.c). */
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
