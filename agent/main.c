/* agent/main.c — hearth-agent: one per host, runs the function containers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/api.h"
#include "agent/config.h"
#include "common/http.h"
#include "common/log.h"
#include "common/metrics.h"

int main(int argc, char **argv)
{
	struct agt_config cfg;
	struct agt_agent agent;
	struct hc_err err = {{0}};
	struct hc_server *srv = NULL;
	struct hc_server_opts so;
	enum hc_config_result r;
	int rc = 1;

	hc_log_setup("hearth-agent", HC_LOG_INFO, 0);
	r = agt_config_load(&cfg, argc, argv, &err);
	if (r == HC_CONFIG_EXIT) {
		agt_config_free(&cfg);
		return 0;
	}
	if (r == HC_CONFIG_ERROR) {
		fprintf(stderr, "hearth-agent: %s\n", err.msg);
		agt_config_free(&cfg);
		return 2;
	}
	memset(&agent, 0, sizeof(agent));
	memset(&so, 0, sizeof(so));
	so.name = "agent";
	so.addr = cfg.addr;
	so.port = (int)cfg.port;
	so.threads = (int)cfg.threads;
	srv = hc_server_new(&so, &err);
	if (!srv) {
		hc_error("%s", err.msg);
		goto out;
	}
	if (!cfg.url) {
		char url[300];
		snprintf(url, sizeof(url), "http://%s:%d", cfg.host_address, hc_server_port(srv));
		cfg.url = strdup(url);
		if (!cfg.url) {
			hc_error("out of memory");
			goto out;
		}
	}
	if (!cfg.token || !cfg.token[0])
		hc_warn(
		    "no cluster token (--token / HEARTH_CLUSTER_TOKEN): the API is open to anyone "
		    "who can reach it");
	if (agt_init(&agent, &cfg, hc_server_loop(srv, 0)->base, &err) < 0) {
		hc_error("%s", err.msg);
		goto out;
	}
	if (agt_api_routes(srv, &agent) < 0 || hc_server_stop_on_signals(srv) < 0) {
		hc_error("cannot set up the HTTP server");
		goto out;
	}
	hc_info("listening on %s:%d", cfg.addr, hc_server_port(srv));
	rc = hc_server_run(srv) < 0 ? 1 : 0;
	hc_info("stopping: removing containers");
out:
	agt_shutdown(&agent);
	hc_server_free(srv);
	hc_metrics_free_all();
	agt_config_free(&cfg);
	return rc;
}
