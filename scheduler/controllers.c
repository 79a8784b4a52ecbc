/* scheduler/controllers.c — the controllers that own containers
 * (controllers.h): lookups of their registrations, and the gone ones. */
#include "scheduler/controllers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/str.h"
#include "proto/keys.h"
#include "scheduler/map.h"

/* One lookup in flight. */
struct lookup {
	struct sch *s;
	uint64_t gen;
	char id[PR_OWNER_MAX];
};

/* Its registration was not there: gone, unless it was never seen and may
 * still be starting. Returns 1 when it is gone. */
static int missing(struct sch_ctl_info *ci)
{
	uint64_t t = hc_mono_us() / 1000;

	if (!ci->seen && !ci->missing_since_ms)
		ci->missing_since_ms = t;
	if (!ci->seen && t - ci->missing_since_ms < SCH_CTL_UNSEEN_GRACE_MS)
		return 0; /* perhaps starting: asked again at the next refresh */
	ci->state = SCH_CTL_GONE;
	return 1;
}

/* HMGET url draining */
static void on_lookup(redisReply *r, void *arg)
{
	struct lookup *x = arg;
	struct sch *s = x->s;
	/* an answer to an earlier leadership says nothing about this pool */
	int current = x->gen == s->generation && s->pool && sch_leading(s);
	struct sch_ctl_info *ci = current ? sch_map_get(s->controllers, x->id) : NULL;
	const redisReply *url =
	    r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 ? r->element[0] : NULL;

	if (ci && url && url->type == REDIS_REPLY_STRING && url->len < sizeof(ci->url)) {
		hc_strlcpy(ci->url, url->str, sizeof(ci->url));
		ci->state =
		    r->element[1]->type == REDIS_REPLY_STRING ? SCH_CTL_DRAINING : SCH_CTL_KNOWN;
		ci->seen = 1;
	} else if (ci && url && url->type == REDIS_REPLY_NIL && ci->state != SCH_CTL_GONE &&
		   missing(ci)) {
		hc_info("controller=%s gone: its free containers are anyone's, its busy "
			"ones are destroyed",
			x->id);
		sch_pool_owner_gone(s->pool, x->id);
		/* it owns nothing now: stop asking about it (met again, it is
		 * looked up again) */
		free(sch_map_del(s->controllers, x->id));
	}
	free(x);
}

static void lookup(struct sch *s, const char *id)
{
	char key[PR_OWNER_MAX + 32];
	struct lookup *x = calloc(1, sizeof(*x));

	if (!x)
		return;
	x->s = s;
	x->gen = s->generation;
	hc_strlcpy(x->id, id, sizeof(x->id));
	snprintf(key, sizeof(key), PR_KEY_CONTROLLER, id);
	hc_redis_cmd(s->redis, on_lookup, x, "HMGET %s %s %s", key, PR_CONTROLLER_F_URL,
		     PR_CONTROLLER_F_DRAINING);
}

/* The controller's entry; NULL when newly met (being looked up now). */
static struct sch_ctl_info *watch(struct sch *s, const char *id)
{
	struct sch_ctl_info *ci = sch_map_get(s->controllers, id);

	if (ci)
		return ci;
	ci = calloc(1, sizeof(*ci));
	if (!ci || sch_map_put(s->controllers, id, ci) < 0) {
		free(ci);
		return NULL;
	}
	lookup(s, id);
	return NULL;
}

void sch_ctl_watch(struct sch *s, const char *id)
{
	(void)watch(s, id);
}

int sch_ctl_url(struct sch *s, const char *id, char *url, size_t len)
{
	struct sch_ctl_info *ci = watch(s, id);

	if (!ci)
		return SCH_OWNER_UNKNOWN;
	switch (ci->state) {
	case SCH_CTL_KNOWN:
		snprintf(url, len, "%s", ci->url);
		return SCH_OWNER_KNOWN;
	case SCH_CTL_LOOKING_UP:
		return SCH_OWNER_UNKNOWN;
	case SCH_CTL_DRAINING:
		/* it serves nothing new: its free containers are anyone's (its
		 * busy ones stay its own until it has gone) */
	case SCH_CTL_GONE:
		break;
	}
	return SCH_OWNER_GONE;
}

static void lookup_one(const char *key, void *val, void *arg)
{
	lookup(arg, key);
}

void sch_ctl_refresh(struct sch *s)
{
	sch_map_each(s->controllers, lookup_one, s);
}

static void reset_one(const char *key, void *val, void *arg)
{
	struct sch_ctl_info *ci = val;

	ci->state = SCH_CTL_LOOKING_UP;
	ci->missing_since_ms = 0;
}

void sch_ctl_new_term(struct sch *s)
{
	sch_map_each(s->controllers, reset_one, NULL);
}

int sch_ctl_init(struct sch *s)
{
	s->controllers = sch_map_new();
	return s->controllers ? 0 : -1;
}

static void free_val(const char *key, void *val, void *arg)
{
	free(val);
}

void sch_ctl_fini(struct sch *s)
{
	if (s->controllers) {
		sch_map_each(s->controllers, free_val, NULL);
		sch_map_free(s->controllers);
	}
	s->controllers = NULL;
}
