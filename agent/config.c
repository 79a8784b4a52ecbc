/* agent/config.c — hearth-agent's settings table and derived defaults. */
#include "agent/config.h"

#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/id.h"
#include "proto/agent.h"

#define O(f) offsetof(struct agt_config, f)

static const struct hc_opt opts[] = {
    {"id", HC_OPT_STR, NULL, 0, "HEARTH_AGENT_ID", O(id), 0, 0,
     "agent id (registration, cgroup and state paths); default: a new id at each start. "
     "Keep it stable to clean up after a crash"},
    {"addr", HC_OPT_STR, "127.0.0.1", 0, "HEARTH_AGENT_ADDR", O(addr), 0, 0,
     "address the HTTP API binds"},
    {"port", HC_OPT_INT, "3235", 'p', "HEARTH_AGENT_PORT", O(port), 0, 65535, "HTTP port"},
    {"host-address", HC_OPT_STR, NULL, 0, "HEARTH_HOST_ADDRESS", O(host_address), 0, 0,
     "address container runtimes listen on (default: --addr)"},
    {"url", HC_OPT_STR, NULL, 0, "HEARTH_AGENT_URL", O(url), 0, 0,
     "base URL advertised to the scheduler (default http://<host-address>:<port>)"},
    {"memory", HC_OPT_INT, "4096", 'm', "HEARTH_AGENT_MEMORY", O(memory_mb), 1, 16 * 1024 * 1024,
     "memory for containers, MB"},
    {"backend", HC_OPT_STR, "auto", 0, "HEARTH_AGENT_BACKEND", O(backend), 0, 0,
     "runc, process (no isolation) or auto (runc when root and runc is installed)"},
    {"runtime", HC_OPT_STR, NULL, 0, "HEARTH_RUNTIME", O(runtime), 0, 0,
     "path to hearth-runtime (default: next to this binary)"},
    {"state-dir", HC_OPT_STR, NULL, 0, "HEARTH_AGENT_STATE_DIR", O(state_dir), 0, 0,
     "bundles, runc root and bookkeeping (default /run/hearth-agent/<id> as root)"},
    {"port-range", HC_OPT_STR, "20000-29999", 0, "HEARTH_PORT_RANGE", O(port_range), 0, 0,
     "ports for container runtimes, LO-HI"},
    {"redis", HC_OPT_STR, "redis://127.0.0.1:6379", 0, "HEARTH_REDIS_URL", O(redis), 0, 0,
     "Redis URL"},
    {"token", HC_OPT_STR, NULL, 0, "HEARTH_CLUSTER_TOKEN", O(token), 0, 0,
     "cluster token required as Authorization: Bearer on every route but /healthz, /metrics"},
    {"heartbeat", HC_OPT_DURATION, "1s", 0, "HEARTH_AGENT_HEARTBEAT", O(heartbeat_ms), 50, 60000,
     "registration refresh interval (the entry expires after 3)"},
    {"activation-ttl", HC_OPT_DURATION, "24h", 0, "HEARTH_ACTIVATION_TTL", O(activation_ttl_ms),
     1000, INT64_C(365) * 24 * 3600 * 1000, "expiry of the log lists written to Redis"},
    {"pids-limit", HC_OPT_INT, "512", 0, "HEARTH_PIDS_LIMIT", O(pids_limit), 0, 1 << 22,
     "pids (threads) per runc container; 0 = none"},
    {"threads", HC_OPT_INT, "1", 0, "HEARTH_AGENT_THREADS", O(threads), 1, 1,
     "HTTP loop threads (container work is asynchronous; one loop owns the containers)"},
    {"create-timeout", HC_OPT_DURATION, "30s", 0, "HEARTH_CREATE_TIMEOUT", O(create_timeout_ms),
     100, 600000, "how long a container may take to answer /healthz"},
    {"log-wait", HC_OPT_DURATION, "2s", 0, "HEARTH_LOG_WAIT", O(log_wait_ms), 0, 60000,
     "how long /log waits for an activation's end sentinel"},
    {"log-buffer", HC_OPT_SIZE, "20m", 0, "HEARTH_LOG_BUFFER", O(log_buffer), 4096,
     INT64_C(1) << 32, "output kept per container stream (oldest lines dropped beyond)"},
    {"tmp-size", HC_OPT_SIZE, "128m", 0, "HEARTH_TMP_SIZE", O(tmp_size), 1 << 20, INT64_C(1) << 36,
     "size of a runc container's /tmp (counts against its memory)"},
    {"api-host", HC_OPT_STR, NULL, 0, "HEARTH_API_HOST", O(api_host), 0, 0,
     "controller URL given to runtimes (__OW_API_HOST)"},
    {"runc", HC_OPT_STR, "runc", 0, "HEARTH_RUNC", O(runc), 0, 0, "runc binary"},
    {"cgroup-root", HC_OPT_STR, "/sys/fs/cgroup", 0, NULL, O(cgroup_root), 0, 0,
     "where cgroup hierarchies are mounted"},
    {"process-rlimit", HC_OPT_BOOL, "false", 0, NULL, O(process_rlimit), 0, 0,
     "process backend: RLIMIT_DATA = 4x the memory limit (breaks sanitizer builds)"},
    {"local-socket", HC_OPT_BOOL, "true", 0, "HEARTH_AGENT_LOCAL_SOCKET", O(local_socket), 0, 0,
     "runtimes also listen on an abstract local socket (@hearth-<container id>), which a "
     "controller on this host uses instead of TCP"},
};

const struct hc_config_spec agt_config_spec = {
    .prog = "hearth-agent",
    .summary = "runs and freezes function containers on one host",
    .opts = opts,
    .nopts = sizeof(opts) / sizeof(opts[0]),
    .secrets = (const char *const[]){"redis", "token", NULL},
};

enum hc_config_result agt_config_load(struct agt_config *cfg, int argc, char **argv,
				      struct hc_err *err)
{
	enum hc_config_result r;
	char buf[PATH_MAX + 64];

	memset(cfg, 0, sizeof(*cfg));
	r = hc_config_load(&agt_config_spec, argc, argv, cfg, err);
	if (r != HC_CONFIG_OK)
		return r;
	if (!cfg->id || !cfg->id[0]) {
		char id[HC_ID_LEN + 1];
		hc_id_new(id);
		if (hc_config_set_str(&cfg->id, id) < 0)
			goto nomem;
	}
	if (strlen(cfg->id) > 48 ||
	    strspn(cfg->id, "abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != strlen(cfg->id)) {
		hc_err_set(err, "id: up to 48 characters of [A-Za-z0-9_-]");
		return HC_CONFIG_ERROR;
	}
	if (!cfg->host_address && hc_config_set_str(&cfg->host_address, cfg->addr) < 0)
		goto nomem;
	/* with --port 0 the URL is known once the server has bound (main) */
	if (!cfg->url && cfg->port != 0) {
		snprintf(buf, sizeof(buf), "http://%s:%d", cfg->host_address, (int)cfg->port);
		if (hc_config_set_str(&cfg->url, buf) < 0)
			goto nomem;
	}
	if (!cfg->state_dir) {
		const char *tmp = getenv("TMPDIR");
		if (geteuid() == 0)
			snprintf(buf, sizeof(buf), AGT_STATE_PARENT "/%s", cfg->id);
		else
			snprintf(buf, sizeof(buf), "%s/hearth-agent-%s", tmp && *tmp ? tmp : "/tmp",
				 cfg->id);
		if (hc_config_set_str(&cfg->state_dir, buf) < 0)
			goto nomem;
	}
	if (!cfg->runtime) {
		char self[PATH_MAX];
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n <= 0) {
			hc_err_set(err, "cannot find this binary (/proc/self/exe); set --runtime");
			return HC_CONFIG_ERROR;
		}
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		if (slash)
			*slash = '\0';
		snprintf(buf, sizeof(buf), "%s/hearth-runtime", self);
		if (hc_config_set_str(&cfg->runtime, buf) < 0)
			goto nomem;
	}
	if (strcmp(cfg->backend, "runc") && strcmp(cfg->backend, "process") &&
	    strcmp(cfg->backend, "auto")) {
		hc_err_set(err, "backend: expected runc, process or auto, not \"%.32s\"",
			   cfg->backend);
		return HC_CONFIG_ERROR;
	}
	return HC_CONFIG_OK;
nomem:
	hc_err_set(err, "out of memory");
	return HC_CONFIG_ERROR;
}

void agt_config_free(struct agt_config *cfg)
{
	hc_config_free(&agt_config_spec, cfg);
}
