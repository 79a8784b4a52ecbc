/* scheduler/election.c — the leader lease on Redis (election.h).
 *
 * lease.c decides; this file sends what it asks for (acquire and renew as
 * Lua scripts, INCR of the epoch), feeds the replies back, announces a win
 * (PR_KEY_LEADER_INFO + PUBLISH PR_CH_LEADER), keeps the leader's url as
 * last known, and reports a win and a loss through the hooks. A
 * one-shot timer is re-armed for the machine's next deadline, so a standby
 * tries again the moment the holder's lease would lapse and a leader fences
 * itself on time. */
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scheduler/election.h"

#include "common/clock.h"
#include "common/log.h"
#include "common/str.h"
#include "proto/keys.h"

/* {1, 0} when we took the lease, else {0, PTTL of the holder}. */
static const char acquire_lua[] =
    "if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return {1, 0} end\n"
    "return {0, redis.call('PTTL', KEYS[1])}\n";

/* Compare-and-set renewal: only the holder may extend the lease. */
static const char renew_lua[] = "if redis.call('GET', KEYS[1]) == ARGV[1] then\n"
				"  redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1\n"
				"end\n"
				"return 0\n";

#define WAKE_MIN_US 1000
#define WAKE_MAX_US 100000

struct lease_call {
	struct sch *s;
	uint64_t op;
};

static void lease_run(struct sch *s);
static void handle(struct sch *s, const struct sch_lease_step *st);

static void arm(struct sch *s)
{
	uint64_t us = sch_lease_next_wake_us(&s->lease, hc_mono_us());
	struct timeval tv;

	if (us < WAKE_MIN_US)
		us = WAKE_MIN_US;
	if (us > WAKE_MAX_US)
		us = WAKE_MAX_US;
	tv.tv_sec = (time_t)(us / 1000000);
	tv.tv_usec = (suseconds_t)(us % 1000000);
	evtimer_add(s->lease_timer, &tv);
}

static void on_leader_info(redisReply *r, void *arg)
{
	struct sch *s = arg;
	const char *id = NULL, *url = NULL, *epoch = NULL;

	if (!r || r->type != REDIS_REPLY_ARRAY || s->elected)
		return;
	for (size_t i = 0; i + 1 < r->elements; i += 2) {
		const redisReply *k = r->element[i], *v = r->element[i + 1];
		if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
			continue;
		if (!strcmp(k->str, PR_SCHED_F_ID))
			id = v->str;
		else if (!strcmp(k->str, PR_SCHED_F_URL))
			url = v->str;
		else if (!strcmp(k->str, PR_SCHED_F_EPOCH))
			epoch = v->str;
	}
	if (!url || (id && !strcmp(id, s->cfg.id)) || strlen(url) >= sizeof(s->leader_url))
		return;
	hc_strlcpy(s->leader_url, url, sizeof(s->leader_url));
	s->leader_epoch = epoch ? strtoll(epoch, NULL, 10) : 0;
}

static void on_reply(redisReply *r, void *arg)
{
	struct lease_call *call = arg;
	struct sch *s = call->s;
	struct sch_lease_step st;
	enum sch_lease_cmd cmd = s->lease.op == call->op ? s->lease.inflight : SCH_LEASE_NONE;
	enum sch_lease_reply res = SCH_LR_ERROR;
	int64_t val = -1;

	if (s->stopping) {
		free(call);
		return;
	}
	switch (cmd) {
	case SCH_LEASE_ACQUIRE:
		if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
		    r->element[0]->type == REDIS_REPLY_INTEGER &&
		    r->element[1]->type == REDIS_REPLY_INTEGER) {
			res = r->element[0]->integer == 1 ? SCH_LR_OK : SCH_LR_LOST;
			val = r->element[1]->integer;
		}
		if (res != SCH_LR_OK)
			hc_redis_cmd(s->redis, on_leader_info, s, "HGETALL %s", PR_KEY_LEADER_INFO);
		break;
	case SCH_LEASE_EPOCH:
		if (r && r->type == REDIS_REPLY_INTEGER) {
			res = SCH_LR_OK;
			val = r->integer;
		}
		break;
	case SCH_LEASE_RENEW:
		if (r && r->type == REDIS_REPLY_INTEGER)
			res = r->integer == 1 ? SCH_LR_OK : SCH_LR_LOST;
		break;
	default:
		break;
	}
	if (r && r->type == REDIS_REPLY_ERROR)
		hc_warn("election: redis: %s", r->str);
	sch_lease_reply(&s->lease, call->op, res, val, hc_mono_us(), &st);
	free(call);
	handle(s, &st);
	arm(s);
}

static void send_cmd(struct sch *s, enum sch_lease_cmd cmd, uint64_t op)
{
	struct lease_call *call = malloc(sizeof(*call));
	char lease[32];
	const char *argv[3];
	int rc = -1;

	if (!call)
		return; /* the machine forgets it after a lease and sends again */
	call->s = s;
	call->op = op;
	snprintf(lease, sizeof(lease), "%lld", (long long)s->cfg.lease_ms);
	argv[0] = PR_KEY_LEADER;
	argv[1] = s->cfg.id;
	argv[2] = lease;
	switch (cmd) {
	case SCH_LEASE_ACQUIRE:
		rc = hc_redis_eval(s->redis, &s->acquire_script, on_reply, call, 1, 3, argv, NULL);
		break;
	case SCH_LEASE_RENEW:
		rc = hc_redis_eval(s->redis, &s->renew_script, on_reply, call, 1, 3, argv, NULL);
		break;
	case SCH_LEASE_EPOCH:
		rc = hc_redis_cmd(s->redis, on_reply, call, "INCR %s", PR_KEY_EPOCH);
		break;
	default:
		break;
	}
	if (rc < 0)
		free(call);
}

static void announce(struct sch *s)
{
	struct pr_leader_info li;
	char epoch[32], *msg;

	memset(&li, 0, sizeof(li));
	hc_strlcpy(li.id, s->cfg.id, sizeof(li.id));
	hc_strlcpy(li.url, s->url, sizeof(li.url));
	li.epoch = s->lease.epoch;
	snprintf(epoch, sizeof(epoch), "%lld", (long long)li.epoch);
	hc_redis_cmd(s->redis, NULL, NULL, "HSET %s %s %s %s %s %s %s", PR_KEY_LEADER_INFO,
		     PR_SCHED_F_ID, li.id, PR_SCHED_F_URL, li.url, PR_SCHED_F_EPOCH, epoch);
	msg = pr_leader_info_encode(&li);
	if (msg) {
		hc_redis_cmd(s->redis, NULL, NULL, "PUBLISH %s %s", PR_CH_LEADER, msg);
		free(msg);
	}
}

/* The loss after a win, reported once. */
static void report_lost(struct sch *s, const char *why)
{
	if (!s->elected)
		return;
	s->elected = 0;
	s->leader_url[0] = '\0';
	s->election_hooks->on_lost(s, why);
}

static void on_elected(struct sch *s)
{
	s->elected = 1;
	hc_strlcpy(s->leader_url, s->url, sizeof(s->leader_url));
	s->leader_epoch = s->lease.epoch;
	hc_info("scheduler id=%s elected leader epoch=%lld", s->cfg.id, (long long)s->lease.epoch);
	announce(s);
	s->election_hooks->on_won(s);
}

static void handle(struct sch *s, const struct sch_lease_step *st)
{
	if (st->event == SCH_LEASE_EV_STEPPED_DOWN)
		sch_election_resign(s, "lease lost");
	else if (st->event == SCH_LEASE_EV_ELECTED)
		on_elected(s);
	if (st->cmd != SCH_LEASE_NONE)
		send_cmd(s, st->cmd, st->op);
}

static void lease_run(struct sch *s)
{
	struct sch_lease_step st;

	sch_lease_tick(&s->lease, hc_mono_us(), &st);
	handle(s, &st);
	arm(s);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	lease_run(arg);
}

static void on_stepdown_ev(evutil_socket_t fd, short what, void *arg)
{
	sch_election_resign(arg, "an agent refused our epoch or the lease lapsed");
}

static void on_connect(struct hc_redis *r, void *arg)
{
	struct sch *s = arg;

	if (s->stopping)
		return;
	sch_lease_kick(&s->lease, hc_mono_us());
	lease_run(s);
}

int sch_election_start(struct sch *s, const struct sch_election_hooks *hooks)
{
	struct sch_lease_config lc = {
	    .lease_ms = s->cfg.lease_ms,
	    .renew_ms = s->cfg.renew_ms,
	    .retry_ms = s->cfg.retry_ms,
	    .margin_ms = s->cfg.margin_ms,
	};

	s->election_hooks = hooks;
	s->acquire_script.src = acquire_lua;
	s->renew_script.src = renew_lua;
	sch_lease_init(&s->lease, &lc, hc_mono_us());
	s->lease_timer = evtimer_new(s->base, on_timer, s);
	s->stepdown_ev = evtimer_new(s->base, on_stepdown_ev, s);
	if (!s->lease_timer || !s->stepdown_ev)
		return -1;
	hc_redis_on_connect(s->redis, on_connect, s);
	lease_run(s);
	return 0;
}

void sch_election_free(struct sch *s)
{
	if (s->lease_timer)
		event_free(s->lease_timer);
	if (s->stepdown_ev)
		event_free(s->stepdown_ev);
	s->lease_timer = s->stepdown_ev = NULL;
}

int sch_election_fence(struct sch *s)
{
	if (!s->elected)
		return 0;
	if (sch_lease_may_act(&s->lease, hc_mono_us()))
		return 1;
	/* Lapsed by our clock (e.g. we were stopped): fence before anything else. */
	lease_run(s);
	sch_election_resign(s, "lease lapsed");
	return 0;
}

void sch_election_resign_soon(struct sch *s)
{
	struct timeval tv = {0, 0};
	if (s->stepdown_ev)
		evtimer_add(s->stepdown_ev, &tv);
}

void sch_election_resign(struct sch *s, const char *why)
{
	if (s->lease.role != SCH_ROLE_STANDBY)
		sch_lease_step_down(&s->lease, hc_mono_us());
	report_lost(s, why);
}
