/* scheduler/main.c — hearth-scheduler: load the configuration, stand for
 * election, serve until SIGTERM. */
#include <stdio.h>

#include "common/http.h"
#include "common/log.h"
#include "common/metrics.h"
#include "scheduler/sched.h"

int main(int argc, char **argv)
{
	static struct sch s;
	struct hc_err err = {{0}};
	int rc = 1;

	hc_log_setup("hearth-scheduler", HC_LOG_INFO, 0);
	switch (hc_config_load(&sch_config_spec, argc, argv, &s.cfg, &err)) {
	case HC_CONFIG_EXIT:
		/* -t also checks what the table cannot (lease vs renew). */
		rc = sch_config_finish(&s.cfg, &err) < 0 ? 2 : 0;
		if (rc)
			fprintf(stderr, "hearth-scheduler: %s\n", err.msg);
		hc_config_free(&sch_config_spec, &s.cfg);
		return rc;
	case HC_CONFIG_ERROR:
		fprintf(stderr, "hearth-scheduler: %s\n", err.msg);
		return 2;
	default:
		break;
	}
	if (sch_config_finish(&s.cfg, &err) < 0) {
		fprintf(stderr, "hearth-scheduler: %s\n", err.msg);
		hc_config_free(&sch_config_spec, &s.cfg);
		return 2;
	}
	if (!s.cfg.token || !s.cfg.token[0])
		hc_warn("no cluster token (--token / HEARTH_CLUSTER_TOKEN): the API is open to "
			"anyone who can reach it");
	if (sch_init(&s, &err) < 0) {
		hc_error("%s", err.msg);
		goto out;
	}
	if (hc_server_stop_on_signals(s.server) < 0)
		goto out;
	hc_info("scheduler id=%s listening on %s (lease %lld ms)", s.cfg.id, s.url,
		(long long)s.cfg.lease_ms);
	rc = hc_server_run(s.server) < 0 ? 1 : 0;
out:
	sch_fini(&s);
	hc_config_free(&sch_config_spec, &s.cfg);
	hc_metrics_free_all();
	return rc;
}
