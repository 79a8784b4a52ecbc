/* scheduler/persist.c — ownership written behind to Redis, and the container
 * and host events (persist.h). */
#include "scheduler/persist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/str.h"
#include "proto/agent.h"
#include "proto/keys.h"

/* PR_KEY_WARM for a "/ns/name" label. */
static int warm_key(const char *action, char *key, size_t len)
{
	const char *slash;
	char ns[PR_SCHED_NS_MAX];
	size_t n;

	if (action[0] != '/' || !(slash = strchr(action + 1, '/')))
		return -1;
	n = (size_t)(slash - action - 1);
	if (n == 0 || n >= sizeof(ns))
		return -1;
	memcpy(ns, action + 1, n);
	ns[n] = '\0';
	snprintf(key, len, PR_KEY_WARM, ns, slash + 1);
	return 0;
}

static void write_assignment(struct sch *s, const struct sch_container *c)
{
	struct pr_assignment as;
	char *json;

	memset(&as, 0, sizeof(as));
	hc_strlcpy(as.action, c->desc.action, sizeof(as.action));
	hc_strlcpy(as.version, c->desc.version, sizeof(as.version));
	hc_strlcpy(as.digest, c->desc.digest, sizeof(as.digest));
	json = pr_assignment_encode(&as);
	if (json) {
		hc_redis_cmd(s->redis, NULL, NULL, "HSET %s %s %s", PR_KEY_ASSIGNED, c->desc.id,
			     json);
		free(json);
	}
}

void sch_persist_owner(struct sch *s, const struct sch_container *c)
{
	char wk[PR_ACTION_MAX + 32];
	int has_warm = warm_key(c->desc.action, wk, sizeof(wk)) == 0;

	if (!c->desc.id[0])
		return;
	s->owner_sent++;
	if (c->desc.owner[0]) {
		write_assignment(s, c);
		hc_redis_cmd(s->redis, NULL, NULL, "HSET %s %s %s", PR_KEY_OWNERS, c->desc.id,
			     c->desc.owner);
		if (has_warm)
			hc_redis_cmd(s->redis, NULL, NULL, "HSET %s %s %s", wk, c->desc.id,
				     c->desc.owner);
	} else {
		hc_redis_cmd(s->redis, NULL, NULL, "HDEL %s %s", PR_KEY_OWNERS, c->desc.id);
		hc_redis_cmd(s->redis, NULL, NULL, "HDEL %s %s", PR_KEY_ASSIGNED, c->desc.id);
		if (has_warm)
			hc_redis_cmd(s->redis, NULL, NULL, "HDEL %s %s", wk, c->desc.id);
	}
}

void sch_persist_gone(struct sch *s, const struct sch_container *c, const char *why)
{
	char wk[PR_ACTION_MAX + 32], *msg;
	struct pr_container_event ev;

	hc_debug("container=%s host=%s gone: %s", c->desc.id, c->host->id, why);
	hc_redis_cmd(s->redis, NULL, NULL, "HDEL %s %s", PR_KEY_OWNERS, c->desc.id);
	hc_redis_cmd(s->redis, NULL, NULL, "HDEL %s %s", PR_KEY_ASSIGNED, c->desc.id);
	if (warm_key(c->desc.action, wk, sizeof(wk)) == 0)
		hc_redis_cmd(s->redis, NULL, NULL, "HDEL %s %s", wk, c->desc.id);
	memset(&ev, 0, sizeof(ev));
	snprintf(ev.event, sizeof(ev.event), "destroyed");
	hc_strlcpy(ev.container, c->desc.id, sizeof(ev.container));
	hc_strlcpy(ev.agent, c->host->id, sizeof(ev.agent));
	msg = pr_container_event_encode(&ev);
	if (msg) {
		hc_redis_cmd(s->redis, NULL, NULL, "PUBLISH %s %s", PR_CH_CONTAINERS, msg);
		free(msg);
	}
}

void sch_persist_host_event(struct sch *s, const char *event, const char *host_id)
{
	struct pr_host_event ev;
	char *msg;

	memset(&ev, 0, sizeof(ev));
	hc_strlcpy(ev.event, event, sizeof(ev.event));
	hc_strlcpy(ev.agent, host_id, sizeof(ev.agent));
	msg = pr_host_event_encode(&ev);
	if (msg) {
		hc_redis_cmd(s->redis, NULL, NULL, "PUBLISH %s %s", PR_CH_HOSTS, msg);
		free(msg);
	}
}

void sch_persist_drop_owner(struct sch *s, const char *container_id)
{
	hc_redis_cmd(s->redis, NULL, NULL, "HDEL %s %s", PR_KEY_OWNERS, container_id);
}

void sch_persist_drop_assignment(struct sch *s, const char *container_id)
{
	hc_redis_cmd(s->redis, NULL, NULL, "HDEL %s %s", PR_KEY_ASSIGNED, container_id);
}

/* ---- waiting for the writes ---- */

int sch_persist_pending(const struct sch *s)
{
	return s->owner_stored != s->owner_sent;
}

static void on_stored(redisReply *r, void *arg)
{
	struct sch_persist_wait *w = arg;

	if (r && r->type != REDIS_REPLY_ERROR && w->upto > w->s->owner_stored)
		w->s->owner_stored = w->upto;
	/* without Redis the answer goes out as it would have: the container
	 * is the caller's either way */
	w->done(w);
}

int sch_persist_wait(struct sch *s, struct sch_persist_wait *w,
		     void (*done)(struct sch_persist_wait *w))
{
	w->s = s;
	w->upto = s->owner_sent;
	w->done = done;
	return hc_redis_cmd(s->redis, on_stored, w, "PING");
}
