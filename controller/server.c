/* controller/server.c — wiring: caches, metrics, routes, the per-loop
 * clients, cache invalidation over pub/sub, the scheduler leader's address,
 * and this controller's registration heartbeat. Also the small routes
 * (GET /api/v1, namespaces, limits, /healthz). */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/client.h"
#include "common/clock.h"
#include "common/json.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/redis.h"
#include "common/str.h"
#include "controller/activations.h"
#include "controller/api.h"
#include "controller/inv.h"
#include "controller/pool.h"
#include "proto/agent.h"
#include "proto/keys.h"
#include "proto/scheduler.h"

extern const char *const ctl_put_lua;
extern const char *const ctl_del_lua;

static void key_free(void *k)
{
	free(k);
}

void ctl_leader_get(struct ctl *c, char *out, size_t outlen)
{
	pthread_mutex_lock(&c->leader_mu);
	snprintf(out, outlen, "%s", c->leader_url);
	pthread_mutex_unlock(&c->leader_mu);
}

void ctl_leader_set(struct ctl *c, const char *url)
{
	pthread_mutex_lock(&c->leader_mu);
	if (strcmp(c->leader_url, url ? url : "") != 0) {
		hc_strlcpy(c->leader_url, url ? url : "", sizeof(c->leader_url));
		hc_info("scheduler leader is %s", c->leader_url[0] ? c->leader_url : "unknown");
	}
	pthread_mutex_unlock(&c->leader_mu);
}

/* ---- routes ---- */

struct api_route {
	ctl_api_fn fn;
};

void ctl_h_api(struct hc_req *req, void *arg)
{
	const struct api_route *r = arg;
	ctl_auth_then(req, r->fn);
}

void ctl_h_info(struct hc_req *req, void *arg)
{
	static const char body[] =
	    "{\"description\":\"OpenWhisk-compatible API served by hearth\","
	    "\"api_version\":\"1.0.0\",\"api_version_path\":\"v1\","
	    "\"build\":\"hearth\",\"buildno\":\"1\","
	    "\"swagger_paths\":{\"ui\":\"/docs\",\"api-docs\":\"/api/v1/api-docs\"}}";
	hc_reply(req, 200, "application/json", body, sizeof(body) - 1);
}

void ctl_h_healthz(struct hc_req *req, void *arg)
{
	struct ctl_loop *L = ctl_loop_of(req);
	struct ctl *c = L->ctl;
	cJSON *j = cJSON_CreateObject();
	if (!j) {
		hc_reply_error(req, 500, "out of memory");
		return;
	}
	hc_json_add_str(j, "id", c->cfg.id);
	hc_json_add_int(j, "pid", getpid());
	hc_json_add_int(j, "containers", ctl_pool_total_containers(c));
	hc_json_add_int(j, "queued", ctl_pool_total_queued(c));
	hc_reply_json(req, 200, j);
	cJSON_Delete(j);
}

void ctl_namespaces(struct hc_req *req, const char *own)
{
	cJSON *a = cJSON_CreateArray();
	if (a)
		cJSON_AddItemToArray(a, cJSON_CreateString(own));
	if (!a) {
		hc_reply_error(req, 500, "out of memory");
		return;
	}
	hc_reply_json(req, 200, a);
	cJSON_Delete(a);
}

void ctl_limits(struct hc_req *req, const char *own)
{
	struct ctl *c = ctl_loop_of(req)->ctl;
	const struct pr_limit_bounds *b = &c->bounds;
	if (!ctl_req_ns(req, own))
		return;
	cJSON *j = cJSON_CreateObject();
	if (!j) {
		hc_reply_error(req, 500, "out of memory");
		return;
	}
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
	hc_reply_json(req, 200, j);
	cJSON_Delete(j);
}

static const struct api_route r_namespaces = {ctl_namespaces};
static const struct api_route r_limits = {ctl_limits};
static const struct api_route r_alist = {ctl_actions_list};
static const struct api_route r_aget = {ctl_action_get};
static const struct api_route r_aput = {ctl_action_put};
static const struct api_route r_adel = {ctl_action_delete};
static const struct api_route r_ainv = {ctl_action_invoke};
static const struct api_route r_vlist = {ctl_activations_list};
static const struct api_route r_vget = {ctl_activation_get};
static const struct api_route r_vlogs = {ctl_activation_logs};
static const struct api_route r_vres = {ctl_activation_result};

#define NS "/api/v1/namespaces/{ns}"

static int add_routes(struct hc_server *s)
{
	int rc = 0;
	void *a;
#define R(m, p, fn, arg, max) rc |= hc_server_route(s, m, p, fn, arg, max)
#define API(m, p, r, max)     (a = (void *)(r), R(m, p, ctl_h_api, a, max))
	/* routes are tried in order and do not overlap: the invoke first */
	API(HC_POST, NS "/actions/{name}", &r_ainv, 0);
	R(HC_GET, "/api/v1", ctl_h_info, NULL, 0);
	R(HC_GET, "/healthz", ctl_h_healthz, NULL, 0);
	R(HC_GET, "/metrics", hc_handle_metrics, NULL, 0);
	R(HC_POST, "/internal/run", ctl_h_internal_run, NULL, (size_t)2 << 20);
	API(HC_GET, "/api/v1/namespaces", &r_namespaces, 0);
	API(HC_GET, NS "/limits", &r_limits, 0);
	API(HC_GET, NS "/actions", &r_alist, 0);
	/* PUT carries code: 48 MB as OpenWhisk plus room for the JSON around it */
	API(HC_PUT, NS "/actions/{name}", &r_aput, (size_t)50 << 20);
	API(HC_GET, NS "/actions/{name}", &r_aget, 0);
	API(HC_DELETE, NS "/actions/{name}", &r_adel, 0);
	API(HC_GET, NS "/activations", &r_vlist, 0);
	API(HC_GET, NS "/activations/{id}", &r_vget, 0);
	API(HC_GET, NS "/activations/{id}/logs", &r_vlogs, 0);
	API(HC_GET, NS "/activations/{id}/result", &r_vres, 0);
#undef API
#undef R
	return rc ? -1 : 0;
}

/* ---- pub/sub, leader, heartbeat (loop 0) ---- */

static void on_message(const char *channel, const char *payload, size_t len, void *arg)
{
	struct ctl *c = arg;
	char buf[1024];
	if (len >= sizeof(buf))
		len = sizeof(buf) - 1;
	memcpy(buf, payload, len);
	buf[len] = '\0';
	if (!strcmp(channel, PR_CH_ENTITIES)) {
		ctl_cache_drop(c->actions, buf);
	} else if (!strcmp(channel, PR_CH_KEYS)) {
		ctl_cache_drop(c->keys, buf);
	} else if (!strcmp(channel, PR_CH_CONTAINERS)) {
		struct pr_container_event ev;
		if (pr_container_event_decode(buf, len, &ev, NULL) == 0 &&
		    (!strcmp(ev.event, "dead") || !strcmp(ev.event, "destroyed")))
			ctl_pool_container_gone(c, ev.container);
	} else if (!strcmp(channel, PR_CH_LEADER)) {
		cJSON *j = hc_json_parse(buf, len, 8, NULL);
		const char *url = NULL;
		if (j && hc_json_str(j, PR_SCHED_F_URL, 1, &url, NULL) == 0)
			ctl_leader_set(c, url);
		cJSON_Delete(j);
	}
}

static void on_sub_connect(struct hc_redis *r, void *arg)
{
	struct ctl *c = arg;
	/* messages may have been missed while disconnected: start clean */
	ctl_cache_drop(c->actions, NULL);
	ctl_cache_drop(c->keys, NULL);
}

static void on_leader_info(redisReply *r, void *arg)
{
	struct ctl *c = arg;
	if (r && r->type == REDIS_REPLY_STRING && r->len > 0 && r->len < 128)
		ctl_leader_set(c, r->str);
}

static void heartbeat(evutil_socket_t fd, short what, void *arg)
{
	struct ctl_loop *L = arg;
	struct ctl *c = L->ctl;
	char key[128];
	long long ttl = (long long)c->cfg.heartbeat_ms * 3;
	for (int i = 0; i < hc_server_nloops(c->server); i++) {
		char owner[80];
		ctl_owner_id(c, i, owner, sizeof(owner));
		snprintf(key, sizeof(key), PR_KEY_CONTROLLER, owner);
		hc_redis_cmd(L->redis, NULL, NULL, "HSET %s %s %s", key, PR_CONTROLLER_F_URL,
			     c->url);
		hc_redis_cmd(L->redis, NULL, NULL, "PEXPIRE %s %lld", key, ttl);
	}
	hc_redis_cmd(L->redis, on_leader_info, c, "HGET %s %s", PR_KEY_LEADER_INFO, PR_SCHED_F_URL);
}

static void on_main_connect(struct hc_redis *r, void *arg)
{
	heartbeat(-1, 0, arg);
}

int ctl_loop_init(struct hc_loop *loop, void *arg)
{
	struct ctl *c = arg;
	struct hc_redis_opts ro;
	struct hc_err err = {{0}};
	struct ctl_loop *L = calloc(1, sizeof(*L));
	if (!L)
		return -1;
	L->ctl = c;
	L->loop = loop;
	loop->data = L;
	L->put_script.src = ctl_put_lua;
	L->del_script.src = ctl_del_lua;
	L->records_script.src = ctl_records_lua;
	L->index_script.src = ctl_index_lua;
	if (hc_redis_parse_url(c->cfg.redis, &ro, &err) < 0) {
		hc_error("redis url: %s", err.msg);
		return -1;
	}
	struct hc_client_opts co = {0};
	L->client = hc_client_new(loop->base, &co);
	L->redis = hc_redis_new(loop->base, &ro);
	if (!L->client || !L->redis)
		return -1;
	if (ctl_pool_loop_init(L) < 0 || !(L->seen = ctl_seen_new()))
		return -1;
	if (loop->index == 0) {
		L->sub = hc_redis_new(loop->base, &ro);
		if (!L->sub)
			return -1;
		hc_redis_on_connect(L->sub, on_sub_connect, c);
		if (hc_redis_subscribe(L->sub, PR_CH_ENTITIES, on_message, c) < 0 ||
		    hc_redis_subscribe(L->sub, PR_CH_KEYS, on_message, c) < 0 ||
		    hc_redis_subscribe(L->sub, PR_CH_LEADER, on_message, c) < 0 ||
		    hc_redis_subscribe(L->sub, PR_CH_CONTAINERS, on_message, c) < 0)
			return -1;
		hc_redis_on_connect(L->redis, on_main_connect, L);
		L->heartbeat = event_new(loop->base, -1, EV_PERSIST, heartbeat, L);
		struct timeval tv = hc_ms_timeval(c->cfg.heartbeat_ms);
		if (!L->heartbeat || event_add(L->heartbeat, &tv) < 0)
			return -1;
	}
	return 0;
}

int ctl_loop_drain(struct hc_loop *loop, void *arg)
{
	struct ctl_loop *L = loop->data;
	if (!L)
		return 0;
	L->draining = 1;
	/* the scheduler hands this owner's free containers to others from now
	 * on (its busy ones stay its own until it has gone) */
	char owner[80], key[128];
	ctl_my_owner(L, owner, sizeof(owner));
	snprintf(key, sizeof(key), PR_KEY_CONTROLLER, owner);
	hc_redis_cmd(L->redis, NULL, NULL, "HSET %s %s 1", key, PR_CONTROLLER_F_DRAINING);
	ctl_ctr_suspend_idle(L);
	return 0;
}

int ctl_loop_busy(struct hc_loop *loop, void *arg)
{
	struct ctl_loop *L = loop->data;
	return L && ctl_pool_busy(L);
}

int ctl_loop_fini(struct hc_loop *loop, void *arg)
{
	struct ctl_loop *L = loop->data;
	if (!L)
		return 0;
	/* order matters: failing calls finish activations, which write records
	 * through Redis and touch the pool */
	ctl_pool_loop_stop(L);
	if (L->client)
		hc_client_free(L->client);
	L->client = NULL;
	ctl_pool_loop_stop(L);
	ctl_pool_loop_fini(L);
	if (L->heartbeat)
		event_free(L->heartbeat);
	if (L->sub)
		hc_redis_free(L->sub);
	if (L->redis)
		hc_redis_free(L->redis); /* its callbacks may still mark seen */
	free(L->seen);
	free(L);
	loop->data = NULL;
	return 0;
}

/* ---- metrics ---- */

static void metrics_init(struct ctl *c)
{
	static const char *const st[4] = {"success", "application_error", "developer_error",
					  "internal_error"};
	static const char *const cold[3] = {"warm", "prewarm", "created"};
	char lab[64];
	for (int i = 0; i < 4; i++) {
		snprintf(lab, sizeof(lab), "status=\"%s\"", st[i]);
		c->m.invokes[i] = hc_counter_new("hearth_controller_invokes_total", lab,
						 "activations finished, by status");
	}
	c->m.invokes_rejected = hc_counter_new("hearth_controller_rejected_total", NULL,
					       "invokes refused with 429 (queue full or no "
					       "capacity)");
	for (int i = 0; i < 3; i++) {
		snprintf(lab, sizeof(lab), "path=\"%s\"", cold[i]);
		c->m.cold[i] = hc_counter_new("hearth_controller_starts_total", lab,
					      "activations by how their container was found");
	}
	c->m.sched_calls = hc_counter_new("hearth_controller_scheduler_calls_total", NULL,
					  "requests sent to the scheduler");
	c->m.sched_errors = hc_counter_new("hearth_controller_scheduler_errors_total", NULL,
					   "scheduler requests that failed or were redirected");
	c->m.forwards = hc_counter_new("hearth_controller_forwards_total", NULL,
				       "activations forwarded to the controller owning a warm "
				       "container");
	c->m.resent = hc_counter_new("hearth_controller_resent_total", NULL,
				     "activations dispatched again because their container refused "
				     "the connection (nothing had reached it)");
	c->m.forwards_in[0] =
	    hc_counter_new("hearth_controller_forwards_received_total", "loop=\"owner\"",
			   "forwarded activations received from other controllers");
	c->m.forwards_in[1] =
	    hc_counter_new("hearth_controller_forwards_received_total", "loop=\"other\"",
			   "forwarded activations received from other controllers");
	c->m.latency = hc_hist_new("hearth_controller_invoke_seconds", NULL,
				   "blocking invoke latency as seen by the controller", NULL, 0);
}

static double gauge_queued(void *arg)
{
	return (double)ctl_pool_total_queued(arg);
}

static double gauge_containers(void *arg)
{
	return (double)ctl_pool_total_containers(arg);
}

int ctl_init(struct ctl *c, struct hc_err *err)
{
	pthread_mutex_init(&c->leader_mu, NULL);
	c->keys = ctl_cache_new(100000, key_free);
	c->actions = ctl_cache_new(10000, ctl_action_free);
	if (!c->keys || !c->actions)
		return hc_err_set(err, "out of memory");
	metrics_init(c);
	hc_gauge_fn_new("hearth_controller_queued", NULL, "activations waiting for a container",
			gauge_queued, c);
	hc_gauge_fn_new("hearth_controller_containers", NULL, "containers owned", gauge_containers,
			c);
	/* Each loop owns its containers: a second loop on a small machine
	 * splits one action's traffic across two sets of containers (a cold
	 * start or a forward for half the connections) and halved the warm
	 * throughput of one busy action on 2 cores (make bench, section 30). */
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	long threads = c->cfg.threads > 0 ? c->cfg.threads : (ncpu / 4 > 0 ? ncpu / 4 : 1);
	if (threads < 1)
		threads = 1;
	struct hc_server_opts so = {
	    .name = "controller",
	    .addr = c->cfg.addr,
	    .port = (int)c->cfg.port,
	    .threads = (int)threads,
	    .cors = 1,
	    .loop_init = ctl_loop_init,
	    .loop_fini = ctl_loop_fini,
	    .loop_arg = c,
	    .drain_ms = (long)c->cfg.drain_ms,
	    .loop_drain = ctl_loop_drain,
	    .loop_busy = ctl_loop_busy,
	};
	snprintf(c->bearer, sizeof(c->bearer), "Authorization: Bearer %s",
		 c->cfg.token ? c->cfg.token : "");
	c->server = hc_server_new(&so, err);
	if (!c->server)
		return -1;
	if (add_routes(c->server) < 0)
		return hc_err_set(err, "bad route pattern");
	if (c->cfg.url && c->cfg.url[0])
		hc_strlcpy(c->url, c->cfg.url, sizeof(c->url));
	else
		snprintf(c->url, sizeof(c->url), "http://%s:%d", c->cfg.addr,
			 hc_server_port(c->server));
	if (c->cfg.scheduler && c->cfg.scheduler[0]) {
		char first[128];
		hc_strlcpy(first, c->cfg.scheduler, sizeof(first));
		char *comma = strchr(first, ',');
		if (comma)
			*comma = '\0';
		ctl_leader_set(c, first);
	}
	return 0;
}

void ctl_fini(struct ctl *c)
{
	if (c->server)
		hc_server_free(c->server);
	ctl_cache_free(c->keys);
	ctl_cache_free(c->actions);
	pthread_mutex_destroy(&c->leader_mu);
}
