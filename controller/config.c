/* controller/config.c — the controller's settings, declared once. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/id.h"
#include "controller/ctl.h"
#include "controller/kinds.h"

#define O(f) offsetof(struct ctl_config, f)

static const struct hc_opt opts[] = {
    {"id", HC_OPT_STR, NULL, 0, "HEARTH_CONTROLLER_ID", O(id), 0, 0,
     "controller id (default: a new random id)"},
    {"addr", HC_OPT_STR, "127.0.0.1", 0, "HEARTH_CONTROLLER_ADDR", O(addr), 0, 0,
     "address to listen on"},
    {"port", HC_OPT_INT, "3233", 'p', "HEARTH_CONTROLLER_PORT", O(port), 0, 65535,
     "port to listen on (0 = any free port)"},
    {"threads", HC_OPT_INT, "0", 0, "HEARTH_CONTROLLER_THREADS", O(threads), 0, 256,
     "event loops (0 = one per 4 cores, at least 1; each loop owns its own warm "
     "containers, so more loops mean more cold starts for the same load)"},
    {"url", HC_OPT_STR, "", 0, "HEARTH_CONTROLLER_URL", O(url), 0, 0,
     "URL other controllers use to reach this one (default http://addr:port)"},
    {"redis", HC_OPT_STR, "redis://127.0.0.1:6379/0", 0, "HEARTH_REDIS_URL", O(redis), 0, 0,
     "Redis URL"},
    {"token", HC_OPT_STR, "", 0, "HEARTH_CLUSTER_TOKEN", O(token), 0, 0,
     "cluster token for scheduler, agents and other controllers"},
    {"scheduler", HC_OPT_STR, "", 0, "HEARTH_SCHEDULER", O(scheduler), 0, 0,
     "scheduler URL(s), comma-separated; used until Redis names a leader"},
    {"pause-grace", HC_OPT_DURATION, "50ms", 0, "HEARTH_PAUSE_GRACE", O(pause_grace_ms), 0, 3600000,
     "idle time before a container is suspended and released"},
    {"local-socket", HC_OPT_BOOL, "true", 0, "HEARTH_CONTROLLER_LOCAL_SOCKET", O(local_socket), 0,
     0,
     "reach a container on this host by its local socket, not TCP (when its agent gives "
     "it one)"},
    {"drain", HC_OPT_DURATION, "10s", 0, "HEARTH_CONTROLLER_DRAIN", O(drain_ms), 0, 3600000,
     "on SIGTERM, how long activations under way may take to finish (idle containers "
     "are suspended and released meanwhile, so they stay warm for others); 0 stops at "
     "once; a second SIGTERM stops at once"},
    {"activation-ttl", HC_OPT_DURATION, "24h", 0, "HEARTH_ACTIVATION_TTL", O(activation_ttl_ms),
     1000, 2592000000LL, "how long activation records are kept"},
    {"blocking-wait", HC_OPT_DURATION, "60s", 0, "HEARTH_BLOCKING_WAIT", O(blocking_wait_ms), 1,
     3600000, "longest a blocking invoke waits before answering 202"},
    {"queue-max", HC_OPT_INT, "1000", 0, "HEARTH_QUEUE_MAX", O(queue_max), 1, 1000000,
     "activations waiting per action before 429"},
    {"heartbeat", HC_OPT_DURATION, "2s", 0, "HEARTH_CONTROLLER_HEARTBEAT", O(heartbeat_ms), 100,
     60000, "registration refresh interval (the key lives 3x this)"},
    {"api-host", HC_OPT_STR, "", 0, "HEARTH_API_HOST", O(api_host), 0, 0,
     "__OW_API_HOST given to actions (default this controller's URL)"},
    {"limit-timeout-min", HC_OPT_DURATION, "100ms", 0, NULL, O(timeout_min), 1, 3600000,
     "smallest action timeout"},
    {"limit-timeout-max", HC_OPT_DURATION, "300s", 0, NULL, O(timeout_max), 1, 3600000,
     "largest action timeout"},
    {"limit-memory-min", HC_OPT_INT, "128", 0, NULL, O(memory_min), 1, 1048576,
     "smallest action memory (MB)"},
    {"limit-memory-max", HC_OPT_INT, "512", 0, NULL, O(memory_max), 1, 1048576,
     "largest action memory (MB)"},
    {"limit-logs-max", HC_OPT_INT, "10", 0, NULL, O(logs_max), 0, 1024,
     "largest action log limit (MB)"},
    {"limit-concurrency-max", HC_OPT_INT, "500", 0, NULL, O(concurrency_max), 1, 10000,
     "largest per-container concurrency"},
    {"guest", HC_OPT_STR, "", 0, "HEARTH_GUEST_KEY", O(guest), 0, 0,
     "uuid:key to install for namespace guest at start (e.g. OpenWhisk's)"},
    {"limit-invocations-per-minute", HC_OPT_INT, "60000000", 0, NULL, O(ns_invokes_per_minute), 0,
     1LL << 53,
     "invocations a namespace may make per minute, across every controller (OpenWhisk's "
     "actionInvokePerMinuteLimit; `hearth admin limits` sets one namespace's)"},
    {"limit-concurrent-invocations", HC_OPT_INT, "100000", 0, NULL, O(ns_concurrent), 0, 1LL << 53,
     "activations a namespace may have in flight, across every controller (OpenWhisk's "
     "actionInvokeConcurrentLimit)"},
    {"limit-fires-per-minute", HC_OPT_INT, "6000000", 0, NULL, O(ns_fires_per_minute), 0, 1LL << 53,
     "trigger fires a namespace may make per minute (triggerFirePerMinuteLimit)"},
    {"quota-actions", HC_OPT_INT, "10000", 0, NULL, O(quota_actions), 0, 1LL << 53,
     "actions a namespace may hold"},
    {"quota-code", HC_OPT_SIZE, "1g", 0, NULL, O(quota_code), 0, 1LL << 53,
     "code a namespace's actions may hold together (bytes as uploaded)"},
    {"quota-logs", HC_OPT_SIZE, "1g", 0, NULL, O(quota_logs), 0, 1LL << 53,
     "log bytes a namespace's activations may store per day (UTC); lines past it are "
     "dropped with a note"},
    {"kinds", HC_OPT_STR, "auto", 0, "HEARTH_KINDS", O(kinds), 0, 0,
     "kinds accepted at PUT and listed at GET /: \"auto\" (the interpreters of this host, "
     "asked their version once at start) or a list such as nodejs:20,python:3.11; any "
     "other kind is refused, never run by another version. With agents on other hosts, "
     "list what every one of them has"},
    {"alarm-minute", HC_OPT_DURATION, "60s", 0, NULL, O(alarm_minute_ms), 10, 3600000,
     "the length of a minute for /whisk.system/alarms/interval (tests shorten it; keep 60s)"},
};

const struct hc_config_spec ctl_config_spec = {
    .prog = "hearth-controller",
    .summary = "the OpenWhisk-compatible REST API and invoke path",
    .opts = opts,
    .nopts = sizeof(opts) / sizeof(opts[0]),
    .secrets = (const char *const[]){"redis", "token", "guest", NULL},
};

int ctl_config_finish(struct ctl *c, struct hc_err *err)
{
	struct ctl_config *cf = &c->cfg;
	pr_limit_bounds_default(&c->bounds);
	c->bounds.min.timeout_ms = cf->timeout_min;
	c->bounds.max.timeout_ms = cf->timeout_max;
	c->bounds.min.memory_mb = cf->memory_min;
	c->bounds.max.memory_mb = cf->memory_max;
	c->bounds.max.logs_mb = cf->logs_max;
	c->bounds.max.concurrency = cf->concurrency_max;
	if (c->bounds.min.timeout_ms > c->bounds.max.timeout_ms ||
	    c->bounds.min.memory_mb > c->bounds.max.memory_mb)
		return hc_err_set(err, "limit minimum above its maximum");
		/* defaults must stay inside the configured ranges */
#define CLAMP(f)                                                                                   \
	do {                                                                                       \
		if (c->bounds.def.f < c->bounds.min.f)                                             \
			c->bounds.def.f = c->bounds.min.f;                                         \
		if (c->bounds.def.f > c->bounds.max.f)                                             \
			c->bounds.def.f = c->bounds.max.f;                                         \
	} while (0)
	CLAMP(timeout_ms);
	CLAMP(memory_mb);
	CLAMP(logs_mb);
	CLAMP(concurrency);
#undef CLAMP
	if (!cf->id || !cf->id[0]) {
		char id[HC_ID_LEN + 1];
		hc_id_new(id);
		if (hc_config_set_str(&cf->id, id) < 0)
			return hc_err_set(err, "out of memory");
	}
	if (strlen(cf->id) >= 64)
		return hc_err_set(err, "id is longer than 63 characters");
	struct pr_kinds kinds;
	if (ctl_kinds_setup(cf->kinds, &kinds, err) < 0)
		return -1;
	pr_kinds_set(&kinds);
	return 0;
}

void ctl_owner_id(const struct ctl *c, int loop, char *out, size_t outlen)
{
	int n = c->server ? hc_server_nloops(c->server) : 1;
	if (n <= 1)
		snprintf(out, outlen, "%s", c->cfg.id);
	else
		snprintf(out, outlen, "%s.%d", c->cfg.id, loop);
}

void ctl_my_owner(const struct ctl_loop *L, char *out, size_t n)
{
	ctl_owner_id(L->ctl, L->loop->index, out, n);
}
