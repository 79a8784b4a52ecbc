/* controller/main.c — hearth-controller: load the configuration, install
 * the guest key if asked, serve until SIGTERM. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* A previous run under this id must be seen gone by the scheduler (at a
 * refresh, every 1 s by default) before this run registers, or the busy
 * containers that run held would look like this run's for good. */
#define RESTART_GAP_MS 2500

/* DEL this controller's registrations (and the mark a clean stop leaves);
 * the number of keys that existed, or -1 when Redis could not be reached
 * (waiting at most ~300 ms for it). Stopping, mark the stop for
 * RESTART_GAP_MS: a run started meanwhile waits as after a crash. */
static int drop_registrations(struct ctl *c, int stopping)
{
	struct hc_redis_opts ro;
	struct hc_err err = {{0}};
	int existed = -1;
	if (hc_redis_parse_url(c->cfg.redis, &ro, &err) < 0)
		return -1;
	ro.connect_timeout_ms = 300;
	redisContext *rc = hc_redis_sync_connect(&ro, &err);
	if (!rc) {
		hc_warn("could not reach Redis to drop the registration (%s)", err.msg);
		return -1;
	}
	struct timeval tv = {0, 300000};
	redisSetTimeout(rc, tv);
	int n = hc_server_nloops(c->server);
	char(*keys)[128] = calloc((size_t)n + 1, sizeof(*keys));
	const char **argv = calloc((size_t)n + 2, sizeof(*argv));
	if (keys && argv) {
		argv[0] = "DEL";
		for (int i = 0; i < n; i++) {
			char owner[80];
			ctl_owner_id(c, i, owner, sizeof(owner));
			snprintf(keys[i], sizeof(keys[i]), PR_KEY_CONTROLLER, owner);
			argv[i + 1] = keys[i];
		}
		snprintf(keys[n], sizeof(keys[n]), PR_KEY_CONTROLLER_STOPPED, c->cfg.id);
		argv[n + 1] = keys[n];
		redisReply *r = redisCommandArgv(rc, stopping ? n + 1 : n + 2, argv, NULL);
		if (r && r->type == REDIS_REPLY_INTEGER)
			existed = (int)r->integer;
		freeReplyObject(r);
		if (stopping)
			freeReplyObject(
			    redisCommand(rc, "SET %s 1 PX %d", keys[n], RESTART_GAP_MS));
	}
	free(keys);
	free(argv);
	redisFree(rc);
	return existed;
}

/* Before serving: a registration left by a crashed run of this id is
 * dropped, and after it or a run that stopped just now the scheduler is
 * given time to notice (see RESTART_GAP_MS). */
static void drop_previous_run(struct ctl *c)
{
	if (drop_registrations(c, 0) <= 0)
		return;
	hc_warn("controller id=%s: a previous run stopped moments ago or did not stop "
		"cleanly; waiting %d ms so the scheduler takes back what it held",
		c->cfg.id, RESTART_GAP_MS);
	struct timespec ts = {RESTART_GAP_MS / 1000, (RESTART_GAP_MS % 1000) * 1000000L};
	nanosleep(&ts, NULL);
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
	drop_previous_run(&c);
	hc_info("controller id=%s listening on %s (%d loops)", c.cfg.id, c.url,
		hc_server_nloops(c.server));
	rc = hc_server_run(c.server) < 0 ? 1 : 0;
	/* the scheduler then gives what this run held to others at its next
	 * refresh instead of after the registration's TTL */
	if (drop_registrations(&c, 1) < 0)
		hc_warn("the scheduler notices this controller is gone when its "
			"registration expires");
out:
	ctl_fini(&c);
	hc_config_free(&ctl_config_spec, &c.cfg);
	hc_metrics_free_all();
	return rc;
}
