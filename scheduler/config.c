/* scheduler/config.c — hearth-scheduler's settings (one table, common/config.h). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/id.h"
#include "scheduler/sched.h"

#define O(f) offsetof(struct sch_config, f)

static const struct hc_opt opts[] = {
    {"id", HC_OPT_STR, NULL, 0, "HEARTH_SCHEDULER_ID", O(id), 0, 0,
     "scheduler id (lease holder name); default: a new id at each start"},
    {"addr", HC_OPT_STR, "127.0.0.1", 0, "HEARTH_SCHEDULER_ADDR", O(addr), 0, 0,
     "address the HTTP API binds"},
    {"port", HC_OPT_INT, "3234", 'p', "HEARTH_SCHEDULER_PORT", O(port), 0, 65535,
     "HTTP port (0 = any free port)"},
    {"url", HC_OPT_STR, NULL, 0, "HEARTH_SCHEDULER_URL", O(url), 0, 0,
     "base URL announced to controllers (default http://addr:port)"},
    {"redis", HC_OPT_STR, "redis://127.0.0.1:6379", 0, "HEARTH_REDIS_URL", O(redis), 0, 0,
     "Redis URL"},
    {"token", HC_OPT_STR, NULL, 0, "HEARTH_CLUSTER_TOKEN", O(token), 0, 0,
     "cluster token: required from controllers, sent to agents (Authorization: Bearer)"},
    {"lease", HC_OPT_DURATION, "2s", 0, "HEARTH_SCHEDULER_LEASE", O(lease_ms), 100, 600000,
     "leader lease; failover takes about this long"},
    {"renew", HC_OPT_DURATION, "500ms", 0, "HEARTH_SCHEDULER_RENEW", O(renew_ms), 10, 600000,
     "how often the leader renews its lease (at most lease/3 is sensible)"},
    {"retry", HC_OPT_DURATION, "500ms", 0, "HEARTH_SCHEDULER_RETRY", O(retry_ms), 10, 600000,
     "how often a standby tries to take the lease (sooner when the lease is about to lapse)"},
    {"lease-margin", HC_OPT_DURATION, "200ms", 0, "HEARTH_SCHEDULER_LEASE_MARGIN", O(margin_ms), 1,
     600000, "a leader stops acting this long before its lease would end (clock safety)"},
    {"prewarm", HC_OPT_STR, "", 0, "HEARTH_PREWARM", O(prewarm), 0, 0,
     "stem cells per host: kind:memoryMB:count,... e.g. nodejs:20:256:2,python:3:256:1"},
    {"keepalive", HC_OPT_DURATION, "10m", 0, "HEARTH_KEEPALIVE", O(keepalive_ms), 0,
     INT64_C(7) * 24 * 3600 * 1000, "idle time after which a free container is destroyed"},
    {"refresh", HC_OPT_DURATION, "1s", 0, "HEARTH_SCHEDULER_REFRESH", O(refresh_ms), 10, 600000,
     "how often hosts (agents) and controllers are re-read from Redis"},
    {"tick", HC_OPT_DURATION, "1s", 0, NULL, O(tick_ms), 10, 600000,
     "pool housekeeping interval (keep-alive, waiting allocations, prewarm refill)"},
    {"create-timeout", HC_OPT_DURATION, "30s", 0, NULL, O(create_timeout_ms), 100, 600000,
     "how long an agent may take to create a container"},
    {"agent-timeout", HC_OPT_DURATION, "2s", 0, NULL, O(agent_timeout_ms), 100, 600000,
     "timeout of other agent calls (destroy, GET /containers)"},
    {"max-waiters", HC_OPT_INT, "4096", 0, NULL, O(max_waiters), 1, 1000000,
     "allocations waiting for a container, in total"},
    {"max-waiters-per-action", HC_OPT_INT, "64", 0, NULL, O(max_waiters_per_action), 1, 100000,
     "allocations waiting for a container of one action"},
    {"max-creating-per-action", HC_OPT_INT, "8", 0, NULL, O(max_creating_per_action), 1, 10000,
     "containers of one action being created at once"},
    {"retry-after", HC_OPT_DURATION, "500ms", 0, NULL, O(retry_after_ms), 1, 600000,
     "retry hint given with 429 when there is no capacity"},
    {"max-queued", HC_OPT_INT, "1024", 0, NULL, O(max_queued), 0, 1000000,
     "allocations held while a new leader rebuilds its pools"},
    {"alarm-tick", HC_OPT_DURATION, "200ms", 0, NULL, O(alarm_tick_ms), 1, 60000,
     "longest wait between two looks for due alarm periods (the earliest one is waited "
     "for exactly)"},
    {"alarm-resend", HC_OPT_DURATION, "2s", 0, NULL, O(alarm_resend_ms), 10, 600000,
     "a claimed alarm period no controller has answered is sent again after this long"},
    {"alarm-catchup", HC_OPT_DURATION, "60s", 0, NULL, O(alarm_catchup_ms), 0,
     INT64_C(7) * 24 * 3600 * 1000,
     "alarm periods missed (no leader) are fired late if at most this old, else skipped"},
};

const struct hc_config_spec sch_config_spec = {
    .prog = "hearth-scheduler",
    .summary = "elected singleton that owns the container pools and places containers",
    .opts = opts,
    .nopts = sizeof(opts) / sizeof(opts[0]),
    .secrets = (const char *const[]){"redis", "token", NULL},
};

int sch_config_finish(struct sch_config *cfg, struct hc_err *err)
{
	char buf[256];

	if (!cfg->id || !cfg->id[0]) {
		hc_id_new(buf);
		if (hc_config_set_str(&cfg->id, buf) < 0)
			return hc_err_set(err, "out of memory");
	}
	if (strlen(cfg->id) >= PR_OWNER_MAX)
		return hc_err_set(err, "id: at most %d characters", PR_OWNER_MAX - 1);
	if (cfg->renew_ms * 2 >= cfg->lease_ms)
		return hc_err_set(err, "renew (%lld ms) must be under half the lease (%lld ms)",
				  (long long)cfg->renew_ms, (long long)cfg->lease_ms);
	if (cfg->margin_ms >= cfg->lease_ms - cfg->renew_ms)
		return hc_err_set(err, "lease-margin must be shorter than lease - renew");
	return 0;
}
