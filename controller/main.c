/* controller/main.c — hearth-controller: load the configuration, install
 * the guest key if asked, serve until SIGTERM. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/metrics.h"
#include "common/redis.h"
#include "controller/ctl.h"
#include "controller/pool.h"
#include "proto/auth.h"
#include "proto/keys.h"

/* --guest uuid:key: install OpenWhisk's guest credential at start (a
 * blocking call, before any loop runs). */
static int install_guest(struct ctl *c)
{
	struct hc_redis_opts ro;
	struct hc_err err = {{0}};
	char out[PR_AUTH_CRED_LEN + 1];
	if (hc_redis_parse_url(c->cfg.redis, &ro, &err) < 0)
		goto fail;
	redisContext *rc = hc_redis_sync_connect(&ro, &err);
	if (!rc)
		goto fail;
	int r = pr_auth_key_create(rc, "guest", c->cfg.guest, out, &err);
	redisFree(rc);
	if (r < 0)
		goto fail;
	return 0;
fail:
	hc_error("guest key: %s", err.msg);
	return -1;
}

/* After a clean stop: drop this controller's registrations, so that the
 * scheduler gives its containers to others at its next refresh instead of
 * after the registration's TTL. */
static void unregister(struct ctl *c)
{
	struct hc_redis_opts ro;
	struct hc_err err = {{0}};
	if (hc_redis_parse_url(c->cfg.redis, &ro, &err) < 0)
		return;
	ro.connect_timeout_ms = 300; /* shutting down: do not wait on Redis */
	redisContext *rc = hc_redis_sync_connect(&ro, &err);
	if (!rc) {
		hc_warn("could not unregister (%s): the scheduler notices when the "
			"registration expires",
			err.msg);
		return;
	}
	struct timeval tv = {0, 300000};
	redisSetTimeout(rc, tv);
	int n = hc_server_nloops(c->server);
	char(*keys)[128] = calloc((size_t)n, sizeof(*keys));
	const char **argv = calloc((size_t)n + 1, sizeof(*argv));
	if (keys && argv) {
		argv[0] = "DEL";
		for (int i = 0; i < n; i++) {
			char owner[80];
			ctl_owner_id(c, i, owner, sizeof(owner));
			snprintf(keys[i], sizeof(keys[i]), PR_KEY_CONTROLLER, owner);
			argv[i + 1] = keys[i];
		}
		freeReplyObject(redisCommandArgv(rc, n + 1, argv, NULL));
	}
	free(keys);
	free(argv);
	redisFree(rc);
}

int main(int argc, char **argv)
{
	static struct ctl c;
	struct hc_err err = {{0}};
	int rc = 1;
	hc_log_setup("hearth-controller", HC_LOG_INFO, 0);
	switch (hc_config_load(&ctl_config_spec, argc, argv, &c.cfg, &err)) {
	case HC_CONFIG_EXIT:
		return 0;
	case HC_CONFIG_ERROR:
		fprintf(stderr, "hearth-controller: %s\n", err.msg);
		return 2;
	default:
		break;
	}
	if (ctl_config_finish(&c, &err) < 0) {
		fprintf(stderr, "hearth-controller: %s\n", err.msg);
		hc_config_free(&ctl_config_spec, &c.cfg);
		return 2;
	}
	if (c.cfg.guest && c.cfg.guest[0] && install_guest(&c) < 0)
		goto out;
	if (ctl_init(&c, &err) < 0) {
		hc_error("%s", err.msg);
		goto out;
	}
	if (hc_server_stop_on_signals(c.server) < 0)
		goto out;
	hc_info("controller id=%s listening on %s (%d loops)", c.cfg.id, c.url,
		hc_server_nloops(c.server));
	rc = hc_server_run(c.server) < 0 ? 1 : 0;
	unregister(&c);
out:
	ctl_fini(&c);
	hc_config_free(&ctl_config_spec, &c.cfg);
	hc_metrics_free_all();
	return rc;
}
