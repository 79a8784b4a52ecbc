/* scheduler/daemon.c — the scheduler's phase and its top-level events
 * (daemon.h).
 *
 *   STANDBY --won--> REBUILDING --rebuilt--> SERVING
 *      ^                 |                      |
 *      +------ lost -----+--------- lost -------+
 *
 * A win starts a term: a new generation, a new pool (ops below), the
 * rebuild. A loss ends it: the pool is freed (its waiting allocations are
 * answered 503), what the rebuild had in flight is forgotten, and the
 * allocations queued meanwhile are answered 503. */
#include "scheduler/daemon.h"

#include <event2/event.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/metrics.h"
#include "proto/agent.h"
#include "proto/keys.h"
#include "scheduler/agents.h"
#include "scheduler/alarms.h"
#include "scheduler/api.h"
#include "scheduler/controllers.h"
#include "scheduler/election.h"
#include "scheduler/persist.h"
#include "scheduler/rebuild.h"

/* ---- the phase ---- */

static const char *phase_name(enum sch_phase p)
{
	switch (p) {
	case SCH_PH_STANDBY:
		return "standby";
	case SCH_PH_REBUILDING:
		return "rebuilding";
	case SCH_PH_SERVING:
		return "serving";
	}
	return "unknown";
}

static int phase_ok(enum sch_phase from, enum sch_phase to)
{
	switch (from) {
	case SCH_PH_STANDBY:
		return to == SCH_PH_REBUILDING;
	case SCH_PH_REBUILDING:
		return to == SCH_PH_SERVING || to == SCH_PH_STANDBY;
	case SCH_PH_SERVING:
		return to == SCH_PH_STANDBY;
	}
	return 0;
}

/* The only writer of s->phase. Entering a term or leaving it bumps the
 * generation, so the callbacks of an earlier term see they are stale. */
static int set_phase(struct sch *s, enum sch_phase to)
{
	if (!phase_ok(s->phase, to)) {
		/* a bug, not an input error: say so loudly and keep the phase */
		hc_error("scheduler id=%s refused phase change %s -> %s", s->cfg.id,
			 phase_name(s->phase), phase_name(to));
		return -1;
	}
	hc_debug("scheduler id=%s %s -> %s", s->cfg.id, phase_name(s->phase), phase_name(to));
	if (to != SCH_PH_SERVING)
		s->generation++;
	s->phase = to;
	return 0;
}

/* ---- the pool's ops ---- */

static uint64_t op_now_ms(void *arg)
{
	return hc_now_ms();
}

static void op_create(void *arg, const struct sch_container *c)
{
	sch_agent_create(arg, c);
}

static void op_destroy(void *arg, const struct sch_container *c)
{
	sch_agent_destroy(arg, c);
}

static void op_reply(void *arg, void *cookie, const struct sch_alloc_result *res)
{
	sch_api_reply(arg, cookie, res);
}

static void op_owner_changed(void *arg, const struct sch_container *c)
{
	/* an owner that dies must be noticed, whether or not another
	 * controller ever asks for its URL */
	if (c->desc.id[0] && c->desc.owner[0])
		sch_ctl_watch(arg, c->desc.owner);
	sch_persist_owner(arg, c);
}

static void op_gone(void *arg, const struct sch_container *c, const char *why)
{
	sch_persist_gone(arg, c, why);
}

static int op_controller_url(void *arg, const char *controller, char *url, size_t len)
{
	return sch_ctl_url(arg, controller, url, len);
}

static const struct sch_pool_ops pool_ops = {
    .now_ms = op_now_ms,
    .create = op_create,
    .destroy = op_destroy,
    .reply = op_reply,
    .owner_changed = op_owner_changed,
    .gone = op_gone,
    .controller_url = op_controller_url,
};

static struct sch_pool *new_pool(struct sch *s)
{
	struct sch_pool_config pc;

	memset(&pc, 0, sizeof(pc));
	pc.prewarm = s->prewarm;
	pc.nprewarm = s->nprewarm;
	pc.keepalive = s->keepalive;
	pc.max_waiters = (int)s->cfg.max_waiters;
	pc.max_waiters_per_action = (int)s->cfg.max_waiters_per_action;
	pc.max_creating_per_action = (int)s->cfg.max_creating_per_action;
	pc.retry_after_ms = s->cfg.retry_after_ms;
	return sch_pool_new(&pc, &pool_ops, s);
}

/* ---- hooks: a term begins, is rebuilt, ends ---- */

static void on_rebuilt(struct sch *s)
{
	if (set_phase(s, SCH_PH_SERVING) == 0)
		sch_api_drain_queue(s);
}

static const struct sch_rebuild_hooks rebuild_hooks = {
    .on_rebuilt = on_rebuilt,
};

static void on_won(struct sch *s)
{
	if (set_phase(s, SCH_PH_REBUILDING) < 0)
		return;
	s->elected_at_us = hc_mono_us();
	if (s->m_elections)
		hc_counter_inc(s->m_elections);
	sch_ctl_new_term(s);
	sch_alarms_won(s->alarms, s->lease.epoch);
	s->pool = new_pool(s);
	if (!s->pool || sch_rebuild_start(s, &rebuild_hooks) < 0)
		sch_election_resign(s, "out of memory");
}

static void on_lost(struct sch *s, const char *why)
{
	if (s->phase == SCH_PH_STANDBY)
		return;
	hc_warn("scheduler id=%s stepping down: %s", s->cfg.id, why);
	set_phase(s, SCH_PH_STANDBY);
	sch_alarms_lost(s->alarms);
	if (s->m_stepdowns)
		hc_counter_inc(s->m_stepdowns);
	if (s->pool) {
		struct sch_pool *p = s->pool;
		s->pool = NULL;
		sch_pool_free(p); /* waiting allocations get 503 through sch_api_reply */
	}
	sch_rebuild_reset(s);
	sch_api_abort_queue(s);
}

static const struct sch_election_hooks election_hooks = {
    .on_won = on_won,
    .on_lost = on_lost,
};

/* ---- top-level events: each fences before it acts ---- */

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct sch *s = arg;

	if (!sch_election_fence(s))
		return;
	if (s->phase == SCH_PH_REBUILDING)
		sch_api_expire_queue(s);
	else if (s->pool)
		sch_pool_tick(s->pool);
}

static void on_refresh(evutil_socket_t fd, short what, void *arg)
{
	struct sch *s = arg;

	if (s->phase == SCH_PH_SERVING && sch_election_fence(s))
		sch_refresh(s);
}

/* Pub/sub: a host event triggers a refresh (coalesced with a round in
 * flight); an agent's "dead" container event destroys it in the pool. */
static void on_message(const char *channel, const char *payload, size_t len, void *arg)
{
	struct sch *s = arg;
	struct pr_container_event ev;

	if (s->stopping || s->phase != SCH_PH_SERVING || !sch_election_fence(s))
		return;
	if (!strcmp(channel, PR_CH_HOSTS)) {
		sch_refresh(s);
		return;
	}
	if (!strcmp(channel, PR_CH_CONTAINERS) &&
	    pr_container_event_decode(payload, len, &ev, NULL) == 0 && !strcmp(ev.event, "dead") &&
	    s->pool && sch_pool_dead(s->pool, ev.container) == 0)
		hc_info("container=%s agent=%s died: destroyed", ev.container, ev.agent);
}

static int alarms_leading(void *arg)
{
	return sch_election_fence(arg);
}

int sch_daemon_start(struct sch *s)
{
	struct timeval tv;
	struct sch_alarms_env ae = {.base = s->base,
				    .redis = s->redis,
				    .client = s->client,
				    .token = s->cfg.token,
				    .tick_ms = s->cfg.alarm_tick_ms,
				    .resend_ms = s->cfg.alarm_resend_ms,
				    .catchup_ms = s->cfg.alarm_catchup_ms,
				    .leading = alarms_leading,
				    .arg = s};

	if (hc_redis_subscribe(s->sub, PR_CH_HOSTS, on_message, s) < 0 ||
	    hc_redis_subscribe(s->sub, PR_CH_CONTAINERS, on_message, s) < 0)
		return -1;
	s->tick_timer = event_new(s->base, -1, EV_PERSIST, on_tick, s);
	s->refresh_timer = event_new(s->base, -1, EV_PERSIST, on_refresh, s);
	if (!s->tick_timer || !s->refresh_timer || !(s->alarms = sch_alarms_new(&ae)))
		return -1;
	tv = hc_ms_timeval(s->cfg.tick_ms);
	event_add(s->tick_timer, &tv);
	tv = hc_ms_timeval(s->cfg.refresh_ms);
	event_add(s->refresh_timer, &tv);
	return sch_election_start(s, &election_hooks);
}

void sch_daemon_stop(struct sch *s)
{
	sch_election_resign(s, "shutting down");
	s->stopping = 1;
	s->generation++;
}

void sch_daemon_free(struct sch *s)
{
	sch_election_free(s);
	if (s->tick_timer)
		event_free(s->tick_timer);
	if (s->refresh_timer)
		event_free(s->refresh_timer);
	s->tick_timer = s->refresh_timer = NULL;
	sch_alarms_free(s->alarms); /* after the clients: their last callbacks are stale */
	s->alarms = NULL;
}
