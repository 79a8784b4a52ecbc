/* controller/server.c — wiring: caches, metrics, routes, the modules'
 * per-loop state in order, the hooks between them, and the pub/sub
 * messages each module is told about. No logic of its own. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/json.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/redis.h"
#include "controller/activation.h"
#include "controller/activations.h"
#include "controller/api.h"
#include "controller/call.h"
#include "controller/conductor.h"
#include "controller/container.h"
#include "controller/entity.h"
#include "controller/limits.h"
#include "controller/records.h"
#include "controller/schedcli.h"
#include "controller/store.h"
#include "controller/triggers.h"
#include "controller/trigstore.h"
#include "proto/agent.h"
#include "proto/alarm.h"
#include "proto/keys.h"

extern const char *const ctl_put_lua;
extern const char *const ctl_del_lua;

static void key_free(void *k)
{
	free(k);
}

/* ---- routes ---- */

static const struct ctl_api_route r_namespaces = {ctl_namespaces};
static const struct ctl_api_route r_limits = {ctl_limits};
static const struct ctl_api_route r_alist = {ctl_actions_list};
static const struct ctl_api_route r_aget = {ctl_action_get};
static const struct ctl_api_route r_aput = {ctl_action_put};
static const struct ctl_api_route r_adel = {ctl_action_delete};
static const struct ctl_api_route r_ainv = {ctl_action_invoke};
static const struct ctl_api_route r_vlist = {ctl_activations_list};
static const struct ctl_api_route r_vget = {ctl_activation_get};
static const struct ctl_api_route r_vlogs = {ctl_activation_logs};
static const struct ctl_api_route r_vres = {ctl_activation_result};
static const struct ctl_api_route r_plist = {ctl_packages_list};
static const struct ctl_api_route r_pget = {ctl_package_get};
static const struct ctl_api_route r_pput = {ctl_package_put};
static const struct ctl_api_route r_pdel = {ctl_package_delete};
static const struct ctl_api_route r_tlist = {ctl_triggers_list};
static const struct ctl_api_route r_tget = {ctl_trigger_get};
static const struct ctl_api_route r_tput = {ctl_trigger_put};
static const struct ctl_api_route r_tdel = {ctl_trigger_delete};
static const struct ctl_api_route r_tfire = {ctl_trigger_fire};
static const struct ctl_api_route r_rlist = {ctl_rules_list};
static const struct ctl_api_route r_rget = {ctl_rule_get};
static const struct ctl_api_route r_rput = {ctl_rule_put};
static const struct ctl_api_route r_rdel = {ctl_rule_delete};
static const struct ctl_api_route r_rpost = {ctl_rule_post};
static const struct ctl_api_route r_afeed = {ctl_alarm_feed_invoke};
static const struct ctl_api_route r_afeedget = {ctl_alarm_feed_get};

#define NS "/api/v1/namespaces/{ns}"

static int add_routes(struct hc_server *s)
{
	int rc = 0;
	void *a;
#define R(m, p, fn, arg, max) rc |= hc_server_route(s, m, p, fn, arg, max)
#define API(m, p, r, max)     (a = (void *)(r), R(m, p, ctl_h_api, a, max))
	/* routes are tried in order, the invoke first; the built-in feed
	 * before the package path it would otherwise match */
	API(HC_POST, NS "/actions/{name}", &r_ainv, 0);
	/* the built-in alarms feed (controller/alarmfeed.c) */
#define FEED "/api/v1/namespaces/" PR_ALARMS_NS "/actions/" PR_ALARMS_PKG "/{feed}"
	API(HC_POST, FEED, &r_afeed, 0);
	API(HC_GET, FEED, &r_afeedget, 0);
#undef FEED
	API(HC_POST, NS "/actions/{pkg}/{name}", &r_ainv, 0); /* after the feed */
	R(HC_POST, PR_ROUTE_INTERNAL_FIRE, ctl_h_internal_fire, NULL, (size_t)2 << 20);
	API(HC_POST, NS "/triggers/{name}", &r_tfire, 0);
	API(HC_GET, NS "/triggers", &r_tlist, 0);
	API(HC_PUT, NS "/triggers/{name}", &r_tput, (size_t)3 << 20);
	API(HC_GET, NS "/triggers/{name}", &r_tget, 0);
	API(HC_DELETE, NS "/triggers/{name}", &r_tdel, 0);
	API(HC_GET, NS "/rules", &r_rlist, 0);
	API(HC_PUT, NS "/rules/{name}", &r_rput, (size_t)3 << 20);
	API(HC_GET, NS "/rules/{name}", &r_rget, 0);
	API(HC_DELETE, NS "/rules/{name}", &r_rdel, 0);
	API(HC_POST, NS "/rules/{name}", &r_rpost, 0);
	R(HC_GET, "/api/v1", ctl_h_info, NULL, 0);
	R(HC_GET, "/", ctl_h_root, NULL, 0);
	R(HC_GET, "/ping", ctl_h_ping, NULL, 0);
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
	API(HC_PUT, NS "/actions/{pkg}/{name}", &r_aput, (size_t)50 << 20);
	API(HC_GET, NS "/actions/{pkg}/{name}", &r_aget, 0);
	API(HC_DELETE, NS "/actions/{pkg}/{name}", &r_adel, 0);
	API(HC_GET, NS "/packages", &r_plist, 0);
	/* parameters and annotations: 1 MB each, with room for the JSON around */
	API(HC_PUT, NS "/packages/{name}", &r_pput, (size_t)3 << 20);
	API(HC_GET, NS "/packages/{name}", &r_pget, 0);
	API(HC_DELETE, NS "/packages/{name}", &r_pdel, 0);
	API(HC_GET, NS "/activations", &r_vlist, 0);
	API(HC_GET, NS "/activations/{id}", &r_vget, 0);
	API(HC_GET, NS "/activations/{id}/logs", &r_vlogs, 0);
	API(HC_GET, NS "/activations/{id}/result", &r_vres, 0);
	/* web actions answer OPTIONS and CORS themselves; bodies up to 1 MB as
	 * OpenWhisk's payload limit */
	rc |= hc_server_route_flags(s, HC_ANY_METHOD, "/api/v1/web/{ns}/{pkg}/{action}", ctl_h_web,
				    NULL, PR_PARAMS_MAX, HC_ROUTE_OWN_CORS);
	rc |= hc_server_route_flags(s, HC_ANY_METHOD, "/api/v1/web/{ns}/{pkg}/{action}/{rest+}",
				    ctl_h_web, NULL, PR_PARAMS_MAX, HC_ROUTE_OWN_CORS);
#undef API
#undef R
	return rc ? -1 : 0;
}

/* ---- pub/sub (loop 0) ---- */

static void on_message(const char *channel, const char *payload, size_t len, void *arg)
{
	struct ctl *c = arg;
	char buf[1024];
	if (len >= sizeof(buf))
		len = sizeof(buf) - 1;
	memcpy(buf, payload, len);
	buf[len] = '\0';
	if (!strcmp(channel, PR_CH_ENTITIES)) {
		/* "ns/pkg/name": an action in a package, cached also under the
		 * names of its bindings: all go (writes are rare) */
		const char *s1 = strchr(buf, '/');
		ctl_cache_drop(c->actions, s1 && strchr(s1 + 1, '/') ? NULL : buf);
	} else if (!strcmp(channel, PR_CH_PACKAGES)) {
		ctl_cache_drop(c->actions, NULL);
	} else if (!strcmp(channel, PR_CH_KEYS)) {
		ctl_cache_drop(c->keys, buf);
	} else if (!strcmp(channel, PR_CH_CONTAINERS)) {
		struct pr_container_event ev;
		if (pr_container_event_decode(buf, len, &ev, NULL) == 0 &&
		    (!strcmp(ev.event, "dead") || !strcmp(ev.event, "destroyed")))
			ctl_ctr_gone(c, ev.container);
	} else if (!strcmp(channel, PR_CH_LEADER)) {
		cJSON *j = hc_json_parse(buf, len, 8, NULL);
		const char *url = NULL;
		if (j && hc_json_str(j, PR_SCHED_F_URL, 1, &url, NULL) == 0)
			ctl_sched_leader_set(c, url);
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

static int subscribe(struct ctl_loop *L, const struct hc_redis_opts *ro)
{
	struct ctl *c = L->ctl;
	L->sub = hc_redis_new(L->loop->base, ro);
	if (!L->sub)
		return -1;
	hc_redis_on_connect(L->sub, on_sub_connect, c);
	static const char *const channels[] = {PR_CH_ENTITIES, PR_CH_KEYS, PR_CH_LEADER,
					       PR_CH_CONTAINERS, PR_CH_PACKAGES};
	for (size_t i = 0; i < sizeof(channels) / sizeof(*channels); i++)
		if (hc_redis_subscribe(L->sub, channels[i], on_message, c) < 0)
			return -1;
	return 0;
}

/* ---- loops ---- */

static int loop_init(struct hc_loop *loop, void *arg)
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
	if (!(L->redis = hc_redis_new(loop->base, &ro)))
		return -1;
	if (ctl_calls_loop_init(L) < 0 || ctl_sched_loop_init(L) < 0 || ctl_ctrs_loop_init(L) < 0 ||
	    ctl_inv_loop_init(L) < 0 || ctl_auth_loop_init(L) < 0 || ctl_records_loop_init(L) < 0 ||
	    ctl_entity_loop_init(L) < 0 || ctl_limits_loop_init(L) < 0 ||
	    ctl_pkg_loop_init(L) < 0 || ctl_trig_loop_init(L) < 0)
		return -1;
	if (loop->index == 0 && (subscribe(L, &ro) < 0 || ctl_sched_register_start(L) < 0))
		return -1;
	return 0;
}

/* The drain before a stop (hc_server_opts): idle containers are suspended
 * and released now; busy while anything of this loop is still under way. */
static int loop_drain(struct hc_loop *loop, void *arg)
{
	struct ctl_loop *L = loop->data;
	if (!L)
		return 0;
	L->draining = 1;
	/* the scheduler hands this owner's free containers to others from now
	 * on (its busy ones stay its own until it has gone) */
	ctl_sched_mark_draining(L);
	ctl_ctr_suspend_idle(L);
	return 0;
}

static int loop_busy(struct hc_loop *loop, void *arg)
{
	struct ctl_loop *L = loop->data;
	return L && (ctl_sched_busy(L) || ctl_inv_queued(L) > 0 || ctl_ctr_any_active(L));
}

static int loop_fini(struct hc_loop *loop, void *arg)
{
	struct ctl_loop *L = loop->data;
	if (!L)
		return 0;
	/* order matters: failing calls finish activations, which write records
	 * through Redis and touch the containers and queues */
	L->stopping = 1;
	ctl_inv_loop_stop(L);
	ctl_calls_loop_stop(L);
	ctl_sched_loop_stop(L);
	ctl_calls_loop_fini(L); /* failures still due are delivered here */
	if (L->sub)
		hc_redis_free(L->sub);
	if (L->redis)
		hc_redis_free(L->redis); /* its callbacks may still end allocations, mark records */
	ctl_sched_loop_fini(L);
	ctl_ctrs_loop_fini(L);
	ctl_records_loop_fini(L);
	ctl_entity_loop_fini(L);
	ctl_pkg_loop_fini(L);
	ctl_trig_loop_fini(L);
	ctl_auth_loop_fini(L);
	ctl_limits_loop_fini(L); /* last: activations ended above release what they held */
	free(L);
	loop->data = NULL;
	return 0;
}

/* ---- metrics ---- */

static void metrics_init(struct ctl *c)
{
	static const char *const st[4] = {"success", "application_error", "developer_error",
					  "internal_error"};
	static const char *const start[CTL_START__N] = {"warm", "prewarm", "created"};
	char lab[64];
	for (int i = 0; i < 4; i++) {
		snprintf(lab, sizeof(lab), "status=\"%s\"", st[i]);
		c->m.invokes[i] = hc_counter_new("hearth_controller_invokes_total", lab,
						 "activations finished, by status");
	}
	c->m.invokes_rejected = hc_counter_new("hearth_controller_rejected_total", NULL,
					       "invokes refused with 429 (queue full or no "
					       "capacity)");
	for (int i = 0; i < CTL_START__N; i++) {
		snprintf(lab, sizeof(lab), "path=\"%s\"", start[i]);
		c->m.starts[i] = hc_counter_new("hearth_controller_starts_total", lab,
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
	return (double)ctl_pool_total_queued();
}

static double gauge_containers(void *arg)
{
	return (double)ctl_pool_total_containers();
}

int ctl_init(struct ctl *c, struct hc_err *err)
{
	pthread_mutex_init(&c->leader_mu, NULL);
	c->ctr_hooks = &ctl_inv_ctr_hooks;
	c->alloc_hooks = &ctl_inv_alloc_hooks;
	c->comp_hooks = &ctl_cond_hooks;
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
	struct hc_server_opts so = {
	    .name = "controller",
	    .addr = c->cfg.addr,
	    .port = (int)c->cfg.port,
	    .threads = (int)(threads < 1 ? 1 : threads),
	    .cors = 1,
	    .loop_init = loop_init,
	    .loop_fini = loop_fini,
	    .loop_arg = c,
	    .drain_ms = (long)c->cfg.drain_ms,
	    .loop_drain = loop_drain,
	    .loop_busy = loop_busy,
	};
	snprintf(c->bearer, sizeof(c->bearer), "Authorization: Bearer %s",
		 c->cfg.token ? c->cfg.token : "");
	c->server = hc_server_new(&so, err);
	if (!c->server)
		return -1;
	if (add_routes(c->server) < 0)
		return hc_err_set(err, "bad route pattern");
	if (c->cfg.url && c->cfg.url[0])
		snprintf(c->url, sizeof(c->url), "%s", c->cfg.url);
	else
		snprintf(c->url, sizeof(c->url), "http://%s:%d", c->cfg.addr,
			 hc_server_port(c->server));
	ctl_sched_leader_init(c);
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
