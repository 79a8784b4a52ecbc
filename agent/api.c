/* agent/api.c — HTTP handlers: authenticate, check the epoch, parse, then
 * hand over to the core (agent/agent.c), which answers. */
#include "agent/api.h"

#include <stdlib.h>
#include <string.h>

#include "common/http.h"
#include "common/json.h"
#include "proto/agent.h"
#include "proto/auth.h"

#define CREATE_BODY_MAX 16384
#define LOG_LIMIT_MAX	(1LL << 40)

int agt_api_authorized(const char *header, const char *token)
{
	size_t tlen, hlen;
	unsigned char diff = 0;

	if (!token || !token[0])
		return 1;
	if (!header || strncmp(header, "Bearer ", 7) != 0)
		return 0;
	header += 7;
	tlen = strlen(token);
	hlen = strlen(header);
	for (size_t i = 0; i < tlen; i++)
		diff |= (unsigned char)(token[i] ^ (i < hlen ? header[i] : 0));
	return diff == 0 && hlen == tlen;
}

/* Authentication and (when the header is present) the fencing epoch.
 * Returns 0 to go on; otherwise the request has been answered. */
static int gate(struct agt_agent *a, struct hc_req *req, int check_epoch)
{
	const char *e;
	int64_t epoch;

	if (!agt_api_authorized(hc_req_header(req, "Authorization"), a->cfg->token)) {
		hc_req_add_header(req, "WWW-Authenticate", "Bearer");
		hc_reply_error(req, 401, "missing or wrong cluster token");
		return -1;
	}
	if (!check_epoch)
		return 0;
	e = hc_req_header(req, PR_AGENT_EPOCH_HEADER);
	if (!e)
		return 0;
	if (pr_agent_epoch_parse(e, &epoch) < 0) {
		hc_reply_error(req, 400, "%s must be a non-negative integer",
			       PR_AGENT_EPOCH_HEADER);
		return -1;
	}
	if (agt_epoch_check(a, epoch) < 0) {
		hc_reply_error(req, 409, "stale scheduler epoch %lld: this agent has seen %lld",
			       (long long)epoch, (long long)a->epoch);
		return -1;
	}
	return 0;
}

static struct agt_container *find(struct agt_agent *a, struct hc_req *req)
{
	const char *id = hc_req_param(req, "id");
	struct agt_container *c = id ? agt_find(a, id) : NULL;

	if (!c)
		hc_reply_error(req, 404, "no container %.40s on this host", id ? id : "");
	return c;
}

static void h_health(struct hc_req *req, void *arg)
{
	agt_health(arg, req);
}

static void h_create(struct hc_req *req, void *arg)
{
	struct agt_agent *a = arg;
	struct pr_agent_create cr;
	struct hc_err err = {{0}};
	const char *body;
	size_t len;
	cJSON *j;

	if (gate(a, req, 1))
		return;
	body = hc_req_body(req, &len);
	j = hc_json_parse(body, len, 8, &err);
	if (!j) {
		hc_reply_error(req, 400, "%s", err.msg);
		return;
	}
	if (pr_agent_create_from_json(j, &cr, &err) < 0) {
		cJSON_Delete(j);
		hc_reply_error(req, 400, "%s", err.msg);
		return;
	}
	cJSON_Delete(j);
	agt_create(a, req, &cr);
}

static void h_list(struct hc_req *req, void *arg)
{
	struct agt_agent *a = arg;
	if (gate(a, req, 0))
		return;
	agt_list(a, req);
}

static void h_destroy(struct hc_req *req, void *arg)
{
	struct agt_agent *a = arg;
	struct agt_container *c;

	if (gate(a, req, 1) || !(c = find(a, req)))
		return;
	agt_destroy(a, c, req);
}

static void h_suspend(struct hc_req *req, void *arg)
{
	struct agt_agent *a = arg;
	struct agt_container *c;

	if (gate(a, req, 1) || !(c = find(a, req)))
		return;
	agt_suspend(a, c, req);
}

static void h_resume(struct hc_req *req, void *arg)
{
	struct agt_agent *a = arg;
	struct agt_container *c;

	if (gate(a, req, 1) || !(c = find(a, req)))
		return;
	agt_resume(a, c, req);
}

static void h_log(struct hc_req *req, void *arg)
{
	struct agt_agent *a = arg;
	struct agt_container *c;
	const char *act, *lim, *ns, *quota;
	long long limit = PR_LOG_DEFAULT_LIMIT, q = -1;

	if (gate(a, req, 0) || !(c = find(a, req)))
		return;
	act = hc_req_query(req, "activation");
	if (!act || !act[0] || strlen(act) > AGT_LOG_ACT_MAX || strchr(act, ' ')) {
		hc_reply_error(req, 400,
			       "query parameter activation (an activation id) is required");
		return;
	}
	lim = hc_req_query(req, "limit");
	if (lim) {
		char *end;
		limit = strtoll(lim, &end, 10);
		if (!lim[0] || *end || limit < 0 || limit > LOG_LIMIT_MAX) {
			hc_reply_error(req, 400, "limit must be a number of bytes");
			return;
		}
	}
	/* the namespace whose log quota the lines count against (and its
	 * default quota, a day's bytes): both or neither */
	ns = hc_req_query(req, "ns");
	quota = hc_req_query(req, "quota");
	if (ns || quota) {
		char *end;
		q = quota ? strtoll(quota, &end, 10) : -1;
		if (!ns || !pr_namespace_valid(ns) || !quota || !quota[0] || *end || q < 0) {
			hc_reply_error(req, 400, "ns (a namespace) and quota (bytes) go together");
			return;
		}
	}
	agt_log(a, c, req, act, limit, ns, q);
}

int agt_api_routes(struct hc_server *s, struct agt_agent *a)
{
	int rc = 0;

	rc |= hc_server_route(s, HC_GET, "/healthz", h_health, a, 0);
	rc |= hc_server_route(s, HC_GET, "/metrics", hc_handle_metrics, NULL, 0);
	rc |= hc_server_route(s, HC_POST, "/containers", h_create, a, CREATE_BODY_MAX);
	rc |= hc_server_route(s, HC_GET, "/containers", h_list, a, 0);
	rc |= hc_server_route(s, HC_DELETE, "/containers/{id}", h_destroy, a, 0);
	rc |= hc_server_route(s, HC_GET, "/suspend/{id}", h_suspend, a, 0);
	rc |= hc_server_route(s, HC_GET, "/resume/{id}", h_resume, a, 0);
	rc |= hc_server_route(s, HC_GET, "/log/{id}", h_log, a, 0);
	return rc ? -1 : 0;
}
