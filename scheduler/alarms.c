/* scheduler/alarms.c — the leader fires alarms' periods (see alarms.h for
 * why each fires exactly once). */
#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/client.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/redis.h"
#include "common/str.h"
#include "proto/alarm.h"
#include "proto/keys.h"
#include "proto/scheduler.h"
#include "scheduler/alarms.h"

#define URLS	      8	    /* controllers to send fires to */
#define URLS_EVERY_MS 2000  /* how often their list is read */
#define URL_FRESH_MS  15000 /* a controller is live if it beat this recently */
#define FIRE_TIMEOUT  5000  /* ms a controller may take to answer a fire */
#define ID_MAX	      (2 * PR_NAME_MAX + 2)

/* KEYS: alarms, pending, epoch, alarm; ARGV: member, period, next ("" =
 * none), epoch, now, rev, fire ("1" or "0"), reason when none is next.
 * -1 fenced (another epoch), 0 taken already or changed, 1 claimed. */
static const char claim_lua[] =
    "if redis.call('GET', KEYS[3]) ~= ARGV[4] then return -1 end\n"
    "local s = redis.call('ZSCORE', KEYS[1], ARGV[1])\n"
    "if not s or tonumber(s) ~= tonumber(ARGV[2]) then return 0 end\n"
    "if redis.call('HGET', KEYS[4], '" PR_ALARM_F_REV "') ~= ARGV[6] then return 0 end\n"
    "if ARGV[3] == '' then\n"
    "  redis.call('ZREM', KEYS[1], ARGV[1])\n"
    "  redis.call('HSET', KEYS[4], '" PR_ALARM_F_STATE "', '" PR_ALARM_DONE "',\n"
    "    '" PR_ALARM_F_REASON "', ARGV[8], '" PR_ALARM_F_CHANGED "', ARGV[5])\n"
    "else\n"
    "  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])\n"
    "end\n"
    "if ARGV[7] == '1' then\n"
    "  redis.call('ZADD', KEYS[2], ARGV[5], ARGV[1] .. '|' .. ARGV[2])\n"
    "  redis.call('HINCRBY', KEYS[4], '" PR_ALARM_F_FIRED "', 1)\n"
    "end\n"
    "return 1\n";

struct sch_alarms {
	struct sch_alarms_env env;
	struct event *timer;
	struct hc_redis_script claim;
	int leading;
	int64_t epoch;
	uint64_t term;		     /* bumped on every won and lost: older callbacks are stale */
	int inflight;		     /* steps of the current look still to answer */
	uint64_t urls_at, resend_at; /* ms: when to read the controllers, resend */
	char urls[URLS][PR_URL_MAX];
	int nurls;
	unsigned next_url;
	char bearer[320];
	struct hc_counter *m_fired, *m_dup, *m_gone, *m_failed, *m_skipped, *m_resent;
	struct hc_hist *m_late;
};

/* One alarm's period on its way: claimed, then sent. */
struct step {
	struct sch_alarms *a;
	uint64_t term;
	char id[ID_MAX]; /* "ns/trigger" */
	int64_t period;
	int fire; /* claimed to be fired (not skipped) */
	struct pr_alarm spec;
	char rev[64];
	int64_t fired;
};

static void look(struct sch_alarms *a);

static struct step *step_new(struct sch_alarms *a, const char *id, int64_t period)
{
	struct step *st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	st->a = a;
	st->term = a->term;
	hc_strlcpy(st->id, id, sizeof(st->id));
	st->period = period;
	return st;
}

static void step_free(struct step *st)
{
	pr_alarm_clear(&st->spec);
	free(st);
}

static int stale(const struct step *st)
{
	return st->term != st->a->term || !st->a->leading;
}

/* "ns/trigger" into the alarm's hash key. */
static void alarm_key(const char *id, char *out, size_t n)
{
	char ns[PR_NAME_MAX + 1];
	const char *slash = strchr(id, '/');
	if (!slash) {
		snprintf(out, n, PR_KEY_ALARM, id, "");
		return;
	}
	snprintf(ns, sizeof(ns), "%.*s", (int)(slash - id), id);
	snprintf(out, n, PR_KEY_ALARM, ns, slash + 1);
}

/* ---- arming ---- */

static void arm(struct sch_alarms *a, int64_t ms)
{
	if (ms < 1)
		ms = 1;
	if (ms > a->env.tick_ms)
		ms = a->env.tick_ms;
	struct timeval tv = hc_ms_timeval(ms);
	evtimer_add(a->timer, &tv);
}

struct earliest {
	struct sch_alarms *a;
	uint64_t term;
};

static void on_earliest(redisReply *r, void *arg)
{
	struct earliest *e = arg;
	struct sch_alarms *a = e->a;
	if (e->term == a->term && a->leading) {
		int64_t wait = a->env.tick_ms;
		if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
		    r->element[1]->type == REDIS_REPLY_STRING)
			wait = (int64_t)strtod(r->element[1]->str, NULL) - (int64_t)hc_now_ms();
		arm(a, wait);
	}
	free(e);
}

/* A step of the look is over; after the last one, the timer goes to the
 * earliest period (or alarm-tick, whichever is sooner). */
static void step_done(struct sch_alarms *a)
{
	if (--a->inflight > 0 || !a->leading)
		return;
	struct earliest *e = malloc(sizeof(*e));
	if (!e || hc_redis_cmd(a->env.redis, on_earliest, e, "ZRANGE %s 0 0 WITHSCORES",
			       PR_KEY_ALARMS) < 0) {
		free(e);
		arm(a, a->env.tick_ms);
		return;
	}
	e->a = a;
	e->term = a->term;
}

/* ---- sending a fire ---- */

static void ack(struct sch_alarms *a, const char *id, int64_t period)
{
	char m[ID_MAX + 32];
	pr_alarm_pending_member(m, sizeof(m), id, period);
	hc_redis_cmd(a->env.redis, NULL, NULL, "ZREM %s %s", PR_KEY_ALARMS_PENDING, m);
}

static void on_fire_answer(const struct hc_response *resp, void *arg)
{
	struct step *st = arg;
	struct sch_alarms *a = st->a;
	long s = resp->status;
	if (resp->error && !strcmp(resp->error, "cancelled")) {
		step_free(st); /* shutting down */
		return;
	}
	if (s == 202 || s == 204 || s == 200 || s == 404) {
		/* answered for good: fired, nothing to fire, fired before, or
		 * the trigger is gone. Any leader may take it off the list. */
		hc_counter_inc(s == 200 ? a->m_dup : s == 404 ? a->m_gone : a->m_fired);
		hc_debug("alarm %s period %" PRId64 ": %ld", st->id, st->period, s);
		ack(a, st->id, st->period);
	} else {
		/* left pending: sent again after alarm-resend, maybe elsewhere */
		hc_counter_inc(a->m_failed);
		a->next_url++;
		hc_warn("alarm %s period %" PRId64 ": fire failed (%s%ld); sent again later",
			st->id, st->period, resp->error ? resp->error : "HTTP ", s);
	}
	step_free(st);
}

/* Send st's period to a controller; st is taken. */
static void send_fire(struct step *st)
{
	struct sch_alarms *a = st->a;
	struct pr_alarm_fire f;
	const char *slash = strchr(st->id, '/');
	if (a->nurls == 0 || !slash) {
		if (!slash)
			ack(a, st->id, st->period); /* malformed: nothing to fire */
		else
			hc_warn("alarm %s period %" PRId64 ": no controller known yet", st->id,
				st->period);
		step_free(st);
		return;
	}
	memset(&f, 0, sizeof(f));
	snprintf(f.ns, sizeof(f.ns), "%.*s", (int)(slash - st->id), st->id);
	hc_strlcpy(f.name, slash + 1, sizeof(f.name));
	f.period_ms = st->period;
	f.payload = st->spec.payload;
	if (st->spec.kind == PR_ALARM_ONCE && strcmp(st->spec.delete_after_fire, "false") != 0)
		hc_strlcpy(f.delete_after, st->spec.delete_after_fire, sizeof(f.delete_after));
	char *body = pr_alarm_fire_encode(&f);
	char url[PR_URL_MAX + 32];
	snprintf(url, sizeof(url), "%s%s", a->urls[a->next_url % (unsigned)a->nurls],
		 PR_ROUTE_INTERNAL_FIRE);
	const char *hdrs[] = {a->bearer, "Content-Type: application/json", NULL};
	struct hc_request rq = {.method = "POST",
				.url = url,
				.headers = a->bearer[0] ? hdrs : hdrs + 1,
				.body = body,
				.body_len = body ? strlen(body) : 0,
				.timeout_ms = FIRE_TIMEOUT};
	if (!body || !hc_client_request(a->env.client, &rq, on_fire_answer, st)) {
		hc_counter_inc(a->m_failed);
		step_free(st);
	}
	free(body);
}

/* ---- claiming a due period ---- */

static void on_claimed(redisReply *r, void *arg)
{
	struct step *st = arg;
	struct sch_alarms *a = st->a;
	if (st->term != a->term) {
		step_free(st);
		return;
	}
	if (r && r->type == REDIS_REPLY_INTEGER && r->integer == -1) {
		/* another epoch: we are not the leader any more, whatever our
		 * clock says; the election will tell us */
		hc_warn("alarm %s: claim fenced (epoch %" PRId64 " superseded)", st->id, a->epoch);
	} else if (r && r->type == REDIS_REPLY_INTEGER && r->integer == 1 && st->fire) {
		double late = (double)((int64_t)hc_now_ms() - st->period) / 1000.0;
		hc_hist_observe(a->m_late, late > 0 ? late : 0);
		step_done(a);
		send_fire(st);
		return;
	}
	step_done(a);
	step_free(st);
}

static void on_spec(redisReply *r, void *arg)
{
	struct step *st = arg;
	struct sch_alarms *a = st->a;
	char key[ID_MAX + 32], next[24] = "", period[24], epoch[24], now_s[24];
	struct hc_err err = {{0}};
	const char *reason = "";
	if (stale(st)) {
		step_free(st);
		return; /* inflight belongs to a term that has ended */
	}
	if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    r->element[1]->type != REDIS_REPLY_STRING ||
	    pr_alarm_decode(r->element[0]->str, r->element[0]->len, &st->spec, &err) < 0) {
		if (r && r->type == REDIS_REPLY_ARRAY)
			hc_warn("alarm %s: unreadable (%s); left alone", st->id,
				err.msg[0] ? err.msg : "no spec");
		step_done(a);
		step_free(st);
		return;
	}
	hc_strlcpy(st->rev, r->element[1]->str, sizeof(st->rev));
	st->fired = r->element[2]->type == REDIS_REPLY_STRING ? atoll(r->element[2]->str) : 0;
	int64_t now = (int64_t)hc_now_ms();
	int fire = 1;
	int64_t nx;
	if (st->period < now - a->env.catchup_ms) {
		/* too old to be worth firing: skip to the first period inside
		 * the window */
		fire = 0;
		nx = pr_alarm_next(&st->spec, now - a->env.catchup_ms - 1);
		hc_counter_inc(a->m_skipped);
		hc_info("alarm %s: periods from %" PRId64 " skipped (older than the catch-up "
			"window)",
			st->id, st->period);
	} else {
		nx = pr_alarm_next(&st->spec, st->period);
	}
	if (fire && st->spec.max_triggers > 0 && st->fired + 1 >= st->spec.max_triggers)
		nx = -1, reason = "Automatically disabled after reaching max triggers";
	else if (nx < 0 && st->spec.kind == PR_ALARM_ONCE)
		reason = "Automatically disabled after firing once";
	else if (nx < 0)
		reason =
		    st->spec.kind == PR_ALARM_CRON
			? "Automatically disabled after firing last scheduled cron trigger"
			: "Automatically disabled after firing last scheduled interval trigger";
	if (nx >= 0)
		snprintf(next, sizeof(next), "%" PRId64, nx);
	snprintf(period, sizeof(period), "%" PRId64, st->period);
	snprintf(epoch, sizeof(epoch), "%" PRId64, a->epoch);
	snprintf(now_s, sizeof(now_s), "%" PRId64, now);
	alarm_key(st->id, key, sizeof(key));
	const char *argv[] = {PR_KEY_ALARMS,
			      PR_KEY_ALARMS_PENDING,
			      PR_KEY_EPOCH,
			      key,
			      st->id,
			      period,
			      next,
			      epoch,
			      now_s,
			      st->rev,
			      fire ? "1" : "0",
			      reason};
	size_t lens[12];
	for (int i = 0; i < 12; i++)
		lens[i] = strlen(argv[i]);
	st->fire = fire;
	/* the clock fence first (it may step us down: then st is stale) */
	if (!a->env.leading(a->env.arg) ||
	    hc_redis_eval(a->env.redis, &a->claim, on_claimed, st, 4, 12, argv, lens) < 0) {
		if (!stale(st))
			step_done(a);
		step_free(st);
	}
}

static void on_due(redisReply *r, void *arg)
{
	struct step *st = arg; /* carries the term only */
	struct sch_alarms *a = st->a;
	char key[ID_MAX + 32];
	if (stale(st)) {
		step_free(st);
		return;
	}
	for (size_t i = 0; r && r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements; i += 2) {
		const redisReply *m = r->element[i], *sc = r->element[i + 1];
		if (m->type != REDIS_REPLY_STRING || sc->type != REDIS_REPLY_STRING ||
		    m->len >= ID_MAX)
			continue;
		struct step *s = step_new(a, m->str, (int64_t)strtod(sc->str, NULL));
		if (!s)
			break;
		alarm_key(s->id, key, sizeof(key));
		a->inflight++;
		if (hc_redis_cmd(a->env.redis, on_spec, s, "HMGET %s %s %s %s", key,
				 PR_ALARM_F_SPEC, PR_ALARM_F_REV, PR_ALARM_F_FIRED) < 0) {
			a->inflight--;
			step_free(s);
		}
	}
	step_done(a);
	step_free(st);
}

/* ---- resending what was claimed and never answered ---- */

static void on_pending_spec(redisReply *r, void *arg)
{
	struct step *st = arg;
	if (stale(st)) {
		step_free(st);
		return;
	}
	/* the alarm may be gone with its trigger: the controller says 404 */
	if (r && r->type == REDIS_REPLY_STRING)
		pr_alarm_decode(r->str, r->len, &st->spec, NULL);
	hc_counter_inc(st->a->m_resent);
	hc_info("alarm %s period %" PRId64 ": sent again (claimed, never answered)", st->id,
		st->period);
	send_fire(st);
}

static void on_pending(redisReply *r, void *arg)
{
	struct step *st = arg;
	struct sch_alarms *a = st->a;
	char id[ID_MAX], key[ID_MAX + 32];
	int64_t period;
	if (stale(st)) {
		step_free(st);
		return;
	}
	for (size_t i = 0; r && r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
		const redisReply *m = r->element[i];
		if (m->type != REDIS_REPLY_STRING ||
		    pr_alarm_pending_parse(m->str, id, sizeof(id), &period) < 0)
			continue;
		struct step *s = step_new(a, id, period);
		if (!s)
			break;
		alarm_key(id, key, sizeof(key));
		if (hc_redis_cmd(a->env.redis, on_pending_spec, s, "HGET %s %s", key,
				 PR_ALARM_F_SPEC) < 0)
			step_free(s);
	}
	step_done(a);
	step_free(st);
}

/* ---- the controllers ---- */

static void on_urls(redisReply *r, void *arg)
{
	struct step *st = arg;
	struct sch_alarms *a = st->a;
	if (stale(st)) {
		step_free(st);
		return;
	}
	if (r && r->type == REDIS_REPLY_ARRAY) {
		int n = 0;
		for (size_t i = 0; i < r->elements && n < URLS; i++)
			if (r->element[i]->type == REDIS_REPLY_STRING &&
			    r->element[i]->len < PR_URL_MAX)
				hc_strlcpy(a->urls[n++], r->element[i]->str, PR_URL_MAX);
		a->nurls = n;
	}
	step_done(a);
	step_free(st);
}

/* ---- one look ---- */

/* A read of the look, answered by cb with a step that carries the term. */
static void ask(struct sch_alarms *a, hc_redis_cb cb, const char *fmt, const char *key,
		long long score)
{
	struct step *st = step_new(a, "", 0);
	if (!st)
		return;
	a->inflight++;
	if (hc_redis_cmd(a->env.redis, cb, st, fmt, key, score) < 0) {
		a->inflight--;
		step_free(st);
	}
}

static void look(struct sch_alarms *a)
{
	uint64_t now = hc_now_ms();
	if (!a->leading || a->inflight > 0)
		return;
	if (!a->env.leading(a->env.arg)) {
		arm(a, a->env.tick_ms); /* fenced; the election reports a loss */
		return;
	}
	a->inflight = 1; /* the look itself */
	if (now >= a->urls_at || a->nurls == 0) {
		a->urls_at = now + URLS_EVERY_MS;
		ask(a, on_urls, "ZREVRANGEBYSCORE %s +inf %lld LIMIT 0 8", PR_KEY_CONTROLLER_URLS,
		    (long long)(now - URL_FRESH_MS));
	}
	ask(a, on_due, "ZRANGEBYSCORE %s -inf %lld WITHSCORES LIMIT 0 64", PR_KEY_ALARMS,
	    (long long)now);
	if (now >= a->resend_at) {
		a->resend_at = now + (uint64_t)a->env.resend_ms / 2;
		ask(a, on_pending, "ZRANGEBYSCORE %s -inf %lld LIMIT 0 64", PR_KEY_ALARMS_PENDING,
		    (long long)(now - (uint64_t)a->env.resend_ms));
	}
	step_done(a);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	look(arg);
}

/* ---- life ---- */

struct sch_alarms *sch_alarms_new(const struct sch_alarms_env *env)
{
	static const double late_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
					     0.25,  0.5,    1,	   2.5,	 5,	10,   30};
	struct sch_alarms *a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->env = *env;
	a->claim.src = claim_lua;
	if (env->token && env->token[0])
		snprintf(a->bearer, sizeof(a->bearer), "Authorization: Bearer %s", env->token);
	a->timer = evtimer_new(env->base, on_timer, a);
	if (!a->timer) {
		free(a);
		return NULL;
	}
	const char *n = "hearth_scheduler_alarm_fires_total", *h = "alarm periods handed to a "
								   "controller, by its answer";
	a->m_fired = hc_counter_new(n, "outcome=\"fired\"", h);
	a->m_dup = hc_counter_new(n, "outcome=\"duplicate\"", h);
	a->m_gone = hc_counter_new(n, "outcome=\"gone\"", h);
	a->m_failed = hc_counter_new(n, "outcome=\"failed\"", h);
	a->m_skipped = hc_counter_new("hearth_scheduler_alarm_skips_total", NULL,
				      "alarms whose overdue periods were skipped (older than the "
				      "catch-up window)");
	a->m_resent = hc_counter_new("hearth_scheduler_alarm_resends_total", NULL,
				     "claimed periods sent again because no answer came");
	a->m_late = hc_hist_new("hearth_scheduler_alarm_lateness_seconds", NULL,
				"how long after its period an alarm was claimed", late_bounds,
				sizeof(late_bounds) / sizeof(*late_bounds));
	return a;
}

void sch_alarms_won(struct sch_alarms *a, int64_t epoch)
{
	if (!a)
		return;
	a->term++;
	a->leading = 1;
	a->epoch = epoch;
	a->inflight = 0;
	a->urls_at = a->resend_at = 0;
	evtimer_del(a->timer);
	look(a);
}

void sch_alarms_lost(struct sch_alarms *a)
{
	if (!a || !a->leading)
		return;
	a->term++;
	a->leading = 0;
	a->inflight = 0;
	evtimer_del(a->timer);
}

void sch_alarms_free(struct sch_alarms *a)
{
	if (!a)
		return;
	event_free(a->timer);
	free(a);
}
