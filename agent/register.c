/* agent/register.c — the agent's registration and bookkeeping in Redis:
 * the heartbeat (PR_KEY_AGENT, PR_KEY_AGENTS), a mirror of every
 * container's descriptor (PR_KEY_AGENT_CONTAINERS), container events on
 * PR_CH_CONTAINERS and the highest scheduler epoch seen. All fire and
 * forget: a reconnect or the next heartbeat repairs what was lost. */
#include "agent/agent_int.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/json.h"
#include "common/log.h"
#include "proto/keys.h"

void agt_reg_mirror(struct agt_container *c)
{
	struct agt_agent *a = c->agent;
	char key[160];
	cJSON *j;
	char *s;

	if (!a->redis)
		return;
	j = pr_container_to_json(&c->d);
	s = j ? hc_json_print(j) : NULL;
	cJSON_Delete(j);
	if (!s)
		return;
	snprintf(key, sizeof(key), PR_KEY_AGENT_CONTAINERS, a->cfg->id);
	hc_redis_cmd(a->redis, NULL, NULL, "HSET %s %s %s", key, c->d.id, s);
	free(s);
}

void agt_reg_publish(struct agt_agent *a, const char *event, const char *id)
{
	struct pr_container_event ev;
	char *s;

	if (!a->redis)
		return;
	memset(&ev, 0, sizeof(ev));
	snprintf(ev.event, sizeof(ev.event), "%s", event);
	snprintf(ev.container, sizeof(ev.container), "%s", id);
	snprintf(ev.agent, sizeof(ev.agent), "%s", a->cfg->id);
	s = pr_container_event_encode(&ev);
	if (!s)
		return;
	hc_redis_cmd(a->redis, NULL, NULL, "PUBLISH %s %s", PR_CH_CONTAINERS, s);
	free(s);
}

static void heartbeat_send(struct agt_agent *a)
{
	char key[160];

	if (!a->redis || !hc_redis_connected(a->redis))
		return;
	snprintf(key, sizeof(key), PR_KEY_AGENT, a->cfg->id);
	hc_redis_cmd(a->redis, NULL, NULL, "MULTI");
	hc_redis_cmd(a->redis, NULL, NULL, "HSET %s %s %s %s %s %s %s %s %d %s %d %s %d %s %d", key,
		     PR_AGENT_F_ID, a->cfg->id, PR_AGENT_F_URL, a->cfg->url, PR_AGENT_F_HOST,
		     a->cfg->host_address, PR_AGENT_F_MEMORY, (int)a->cfg->memory_mb,
		     PR_AGENT_F_USED, a->used_mb, PR_AGENT_F_CONTAINERS, a->ncontainers,
		     PR_AGENT_F_DRAINING, a->draining);
	hc_redis_cmd(a->redis, NULL, NULL, "PEXPIRE %s %lld", key,
		     (long long)a->cfg->heartbeat_ms * 3);
	hc_redis_cmd(a->redis, NULL, NULL, "SADD %s %s", PR_KEY_AGENTS, a->cfg->id);
	hc_redis_cmd(a->redis, NULL, NULL, "EXEC");
}

static void on_heartbeat(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	heartbeat_send(arg);
}

static void on_epoch(redisReply *r, void *arg)
{
	struct agt_agent *a = arg;
	if (r && r->type == REDIS_REPLY_STRING) {
		long long v = strtoll(r->str, NULL, 10);
		if (v > a->epoch)
			a->epoch = v;
	}
}

static void on_redis_connect(struct hc_redis *r, void *arg)
{
	struct agt_agent *a = arg;
	char key[160];

	snprintf(key, sizeof(key), PR_KEY_AGENT_EPOCH, a->cfg->id);
	hc_redis_cmd(r, on_epoch, a, "GET %s", key);
	heartbeat_send(a);
	for (struct agt_container *c = a->containers; c; c = c->next)
		agt_reg_mirror(c);
}

int agt_epoch_check(struct agt_agent *a, int64_t epoch)
{
	char key[160];

	if (epoch < a->epoch)
		return -1;
	if (epoch > a->epoch) {
		a->epoch = epoch;
		if (a->redis) {
			snprintf(key, sizeof(key), PR_KEY_AGENT_EPOCH, a->cfg->id);
			hc_redis_cmd(a->redis, NULL, NULL, "SET %s %lld", key, (long long)epoch);
		}
	}
	return 0;
}

int agt_reg_start(struct agt_agent *a, const struct hc_redis_opts *ropts, struct hc_err *err)
{
	a->redis = hc_redis_new(a->base, ropts);
	if (!a->redis)
		return hc_err_set(err, "cannot create the redis client");
	hc_redis_on_connect(a->redis, on_redis_connect, a);
	a->heartbeat = event_new(a->base, -1, EV_PERSIST, on_heartbeat, a);
	if (!a->heartbeat)
		return hc_err_set(err, "out of memory");
	struct timeval tv = hc_ms_timeval(a->cfg->heartbeat_ms);
	event_add(a->heartbeat, &tv);
	return 0;
}

void agt_reg_forget(struct agt_agent *a, const char *id)
{
	char key[160];

	if (!a->redis)
		return;
	snprintf(key, sizeof(key), PR_KEY_AGENT_CONTAINERS, a->cfg->id);
	hc_redis_cmd(a->redis, NULL, NULL, "HDEL %s %s", key, id);
}

void agt_reg_heartbeat_stop(struct agt_agent *a)
{
	if (a->heartbeat) {
		event_free(a->heartbeat);
		a->heartbeat = NULL;
	}
}

/* Blocking, bounded (500 ms to connect): the loop has stopped. */
static void deregister(struct agt_agent *a)
{
	struct hc_redis_opts ropts;
	struct hc_err err = {{0}};
	redisContext *rc = NULL;
	redisReply *r;
	char key[160];

	if (a->cfg && hc_redis_parse_url(a->cfg->redis, &ropts, &err) == 0) {
		ropts.connect_timeout_ms = 500;
		rc = hc_redis_sync_connect(&ropts, &err);
	}
	if (!rc)
		return;
	snprintf(key, sizeof(key), PR_KEY_AGENT_CONTAINERS, a->cfg->id);
	if ((r = hc_redis_sync_cmd(rc, &err, "DEL %s", key)))
		freeReplyObject(r);
	snprintf(key, sizeof(key), PR_KEY_AGENT, a->cfg->id);
	if ((r = hc_redis_sync_cmd(rc, &err, "DEL %s", key)))
		freeReplyObject(r);
	redisFree(rc);
}

void agt_reg_stop(struct agt_agent *a)
{
	deregister(a);
	if (a->redis)
		hc_redis_free(a->redis);
	a->redis = NULL;
}
