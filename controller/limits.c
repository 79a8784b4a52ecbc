/* controller/limits.c — namespace limits (see limits.h). */
#include "controller/limits.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/str.h"
#include "proto/keys.h"

#define SYNC_MS 1000   /* counts go to Redis, totals come back */
#define IDLE_MS 180000 /* a namespace unused this long is forgotten */
/* In sync_lua as numbers: another loop's in-flight count older than 3 s
 * is gone, the in-flight hash of a namespace nobody reports expires after
 * 10 s, a minute's counter after 2 minutes. */
#define BUCKETS 256

/* Once a second per loop. ARGV: the invocation and fire counter prefixes,
 * the in-flight prefix, the overrides prefix, this loop's owner id, then
 * per namespace: name, minute, invocations and fires counted since the
 * last call, activations in flight here. Returns per namespace {the
 * minute's invocations, its fires, other loops' activations in flight
 * (fresh ones), the overrides as HGETALL gives them}. */
static const char sync_lua[] =
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "local owner, out = ARGV[5], {}\n"
    "for i = 6, #ARGV - 4, 5 do\n"
    "  local ns, minute = ARGV[i], ARGV[i + 1]\n"
    "  local di, df, mine = tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3]), tonumber(ARGV[i + 4])\n"
    "  local function count(prefix, d)\n"
    "    local k = prefix .. ns .. ':' .. minute\n"
    "    if d > 0 then\n"
    "      local c = redis.call('INCRBY', k, d)\n"
    "      redis.call('PEXPIRE', k, 120000)\n"
    "      return c\n"
    "    end\n"
    "    return tonumber(redis.call('GET', k) or '0')\n"
    "  end\n"
    "  local ci, cf = count(ARGV[1], di), count(ARGV[2], df)\n"
    "  local hk = ARGV[3] .. ns\n"
    "  if mine > 0 then\n"
    "    redis.call('HSET', hk, owner, mine .. ':' .. now)\n"
    "    redis.call('PEXPIRE', hk, 10000)\n"
    "  else\n"
    "    redis.call('HDEL', hk, owner)\n"
    "  end\n"
    "  local others, all = 0, redis.call('HGETALL', hk)\n"
    "  for j = 1, #all, 2 do\n"
    "    local c, ms = string.match(all[j + 1], '^(%d+):(%d+)$')\n"
    "    if all[j] ~= owner and c and now - tonumber(ms) < 3000 then\n"
    "      others = others + tonumber(c)\n"
    "    end\n"
    "  end\n"
    "  out[#out + 1] = {ci, cf, others, redis.call('HGETALL', ARGV[4] .. ns)}\n"
    "end\n"
    "return out\n";

/* KEYS: the usage hash, the actions zset, the overrides. ARGV: name, its
 * new code bytes (-1: unchanged), the action key prefix of the namespace,
 * the code key prefix. Counts a namespace not yet counted, then returns
 * {actions after the PUT, code bytes after it, 1 if the action is new, its
 * old bytes, the overrides as HGETALL gives them}. */
static const char check_lua[] =
    "local u = KEYS[1]\n"
    "if redis.call('HEXISTS', u, 'v') == 0 then\n"
    "  local total, n = 0, 0\n"
    "  for _, name in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do\n"
    "    local doc = redis.call('GET', ARGV[3] .. name)\n"
    "    if doc then\n"
    "      local ok, d = pcall(cjson.decode, doc)\n"
    "      local dg = ok and type(d) == 'table' and type(d.exec) == 'table' and d.exec.digest\n"
    "      local size = 0\n"
    "      if type(dg) == 'string' and dg ~= '' then\n"
    "        size = redis.call('STRLEN', ARGV[4] .. dg)\n"
    "      end\n"
    "      redis.call('HSET', u, 'a:' .. name, size)\n"
    "      total, n = total + size, n + 1\n"
    "    end\n"
    "  end\n"
    "  redis.call('HSET', u, 'code', total, 'actions', n, 'v', 1)\n"
    "end\n"
    "local old = redis.call('HGET', u, 'a:' .. ARGV[1])\n"
    "local count = tonumber(redis.call('HGET', u, 'actions') or '0')\n"
    "local code = tonumber(redis.call('HGET', u, 'code') or '0')\n"
    "local len = tonumber(ARGV[2])\n"
    "if not old then count = count + 1 end\n"
    "if len >= 0 then code = code - tonumber(old or '0') + len end\n"
    "return {count, code, old and 0 or 1, tonumber(old or '0'), redis.call('HGETALL', "
    "KEYS[3])}\n";

/* KEYS: the usage hash. ARGV: name, its code bytes (< 0: deleted). Only
 * for a namespace already counted (the first check counts the rest). */
static const char note_lua[] = "local u = KEYS[1]\n"
			       "if redis.call('HEXISTS', u, 'v') == 0 then return 0 end\n"
			       "local f, b = 'a:' .. ARGV[1], tonumber(ARGV[2])\n"
			       "local old = redis.call('HGET', u, f)\n"
			       "if b < 0 then\n"
			       "  if old then\n"
			       "    redis.call('HDEL', u, f)\n"
			       "    redis.call('HINCRBY', u, 'actions', -1)\n"
			       "    redis.call('HINCRBY', u, 'code', -tonumber(old))\n"
			       "  end\n"
			       "  return 1\n"
			       "end\n"
			       "redis.call('HSET', u, f, b)\n"
			       "if not old then redis.call('HINCRBY', u, 'actions', 1) end\n"
			       "redis.call('HINCRBY', u, 'code', b - tonumber(old or '0'))\n"
			       "return 1\n";

struct rate {
	int64_t cluster; /* the minute's count in Redis at the last sync (ours sent included) */
	int64_t sending; /* ours in the sync under way */
	int64_t pending; /* ours since */
};

struct waiter {
	struct waiter *next;
	int fire;
	ctl_limits_cb cb;
	void *arg;
};

struct ctl_nslim {
	struct ctl_nslim *next; /* hash chain */
	struct ctl_limits_loop *ll;
	char ns[PR_NAME_MAX + 1];
	int loaded; /* the overrides and totals came at least once */
	struct waiter *waiters, **wtail;
	struct pr_ns_limits lim; /* effective */
	int64_t minute;		 /* of the counts */
	struct rate inv, fire;
	int64_t inflight;      /* ours, exact */
	int64_t others;	       /* other loops', as of the last sync */
	int64_t sent_minute;   /* what the sync under way carries */
	int64_t sent_inflight; /* likewise */
	int in_sync;	       /* in the sync under way */
	uint64_t used_ms;
};

struct ctl_limits_loop {
	struct ctl_loop *L;
	struct ctl_nslim *b[BUCKETS];
	int n;
	struct event *timer;
	int armed;
	int syncing; /* a sync in flight */
	int again;   /* a namespace came while it was: sync once more at once */
	struct ctl_nslim **sent;
	int nsent;
	uint64_t warned_ms; /* last "Redis did not answer" warning */
	struct hc_redis_script sync_script, check_script;
};

void ctl_limits_defaults(const struct ctl *c, struct pr_ns_limits *out)
{
	const struct ctl_config *cf = &c->cfg;
	out->invocations_per_minute = cf->ns_invokes_per_minute;
	out->concurrent_invocations = cf->ns_concurrent;
	out->fires_per_minute = cf->ns_fires_per_minute;
	out->max_actions = cf->quota_actions;
	out->max_code_bytes = cf->quota_code;
	out->max_log_bytes_day = cf->quota_logs;
}

static unsigned hash(const char *s)
{
	unsigned h = 2166136261u;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h % BUCKETS;
}

static int64_t minute_now(uint64_t now_ms)
{
	return (int64_t)(now_ms / 60000);
}

/* A new minute: OpenWhisk's RateThrottler counts per wall-clock minute.
 * What was not yet sent belonged to the minute that ended. */
static void roll(struct ctl_nslim *e, int64_t minute)
{
	if (e->minute == minute)
		return;
	e->minute = minute;
	e->inv.cluster = e->inv.pending = 0;
	e->fire.cluster = e->fire.pending = 0;
}

static void sync_now(struct ctl_limits_loop *ll);

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct ctl_limits_loop *ll = arg;
	ll->armed = 0;
	sync_now(ll);
}

static void arm(struct ctl_limits_loop *ll)
{
	if (ll->armed || ll->L->stopping)
		return;
	struct timeval tv = hc_ms_timeval(SYNC_MS);
	if (evtimer_add(ll->timer, &tv) == 0)
		ll->armed = 1;
}

/* 0 admitted, else 429 with msg. */
static int admit(struct ctl_nslim *e, int fire, char *msg, size_t msglen)
{
	uint64_t now = hc_now_ms();
	roll(e, minute_now(now));
	e->used_ms = now;
	struct rate *r = fire ? &e->fire : &e->inv;
	int64_t allowed = fire ? e->lim.fires_per_minute : e->lim.invocations_per_minute;
	/* every check is charged, as OpenWhisk's RateThrottler.check */
	int64_t count = r->cluster + r->sending + r->pending + 1;
	r->pending++;
	arm(e->ll);
	if (count > allowed) {
		snprintf(msg, msglen,
			 "Too many requests in the last minute (count: %lld, allowed: %lld).",
			 (long long)count, (long long)allowed);
		return 429;
	}
	if (fire)
		return 0;
	int64_t conc = e->inflight + e->others;
	if (conc >= e->lim.concurrent_invocations) {
		snprintf(msg, msglen,
			 "Too many concurrent requests in flight (count: %lld, allowed: %lld).",
			 (long long)conc, (long long)e->lim.concurrent_invocations);
		return 429;
	}
	e->inflight++;
	return 0;
}

static void run_check(struct ctl_nslim *e, int fire, ctl_limits_cb cb, void *arg)
{
	char msg[160];
	int st = admit(e, fire, msg, sizeof(msg));
	if (st)
		cb(st, msg, NULL, arg);
	else
		cb(0, NULL, fire ? NULL : e, arg);
}

static struct ctl_nslim *find(struct ctl_limits_loop *ll, const char *ns, int create)
{
	unsigned h = hash(ns);
	for (struct ctl_nslim *e = ll->b[h]; e; e = e->next)
		if (!strcmp(e->ns, ns))
			return e;
	if (!create || strlen(ns) > PR_NAME_MAX)
		return NULL;
	struct ctl_nslim *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->ll = ll;
	hc_strlcpy(e->ns, ns, sizeof(e->ns));
	e->wtail = &e->waiters;
	ctl_limits_defaults(ll->L->ctl, &e->lim);
	e->minute = minute_now(hc_now_ms());
	e->next = ll->b[h];
	ll->b[h] = e;
	ll->n++;
	return e;
}

static void check(struct ctl_loop *L, const char *ns, int fire, ctl_limits_cb cb, void *arg)
{
	struct ctl_limits_loop *ll = L->limits;
	struct ctl_nslim *e = find(ll, ns, 1);
	if (!e) {
		cb(503, "out of memory", NULL, arg);
		return;
	}
	if (e->loaded) {
		run_check(e, fire, cb, arg);
		return;
	}
	struct waiter *w = calloc(1, sizeof(*w));
	if (!w) {
		cb(503, "out of memory", NULL, arg);
		return;
	}
	w->fire = fire;
	w->cb = cb;
	w->arg = arg;
	*e->wtail = w;
	e->wtail = &w->next;
	e->used_ms = hc_now_ms();
	if (ll->syncing)
		ll->again = 1;
	else
		sync_now(ll);
}

void ctl_limits_check_invoke(struct ctl_loop *L, const char *ns, ctl_limits_cb cb, void *arg)
{
	check(L, ns, 0, cb, arg);
}

void ctl_limits_check_fire(struct ctl_loop *L, const char *ns, ctl_limits_cb cb, void *arg)
{
	check(L, ns, 1, cb, arg);
}

void ctl_limits_release(struct ctl_nslim *held)
{
	if (held && held->inflight > 0)
		held->inflight--;
}

/* The namespace's limits and totals are known: its waiters go on. */
static void loaded(struct ctl_nslim *e, int stopping)
{
	e->loaded = 1;
	while (e->waiters) {
		struct waiter *w = e->waiters;
		e->waiters = w->next;
		if (!e->waiters)
			e->wtail = &e->waiters;
		if (stopping)
			w->cb(503, "the controller is shutting down", NULL, w->arg);
		else
			run_check(e, w->fire, w->cb, w->arg);
		free(w);
	}
}

static void apply(struct ctl_nslim *e, const redisReply *r)
{
	const redisReply *ci = r->element[0], *cf = r->element[1], *ot = r->element[2],
			 *ov = r->element[3];
	if (ci->type != REDIS_REPLY_INTEGER || cf->type != REDIS_REPLY_INTEGER ||
	    ot->type != REDIS_REPLY_INTEGER || ov->type != REDIS_REPLY_ARRAY)
		return;
	if (e->sent_minute == e->minute) {
		e->inv.cluster = ci->integer;
		e->fire.cluster = cf->integer;
	}
	e->others = ot->integer;
	ctl_limits_defaults(e->ll->L->ctl, &e->lim);
	for (size_t i = 0; i + 1 < ov->elements; i += 2) {
		const redisReply *k = ov->element[i], *v = ov->element[i + 1];
		if (k->type == REDIS_REPLY_STRING && v->type == REDIS_REPLY_STRING &&
		    pr_ns_limits_set(&e->lim, k->str, v->str) < 0)
			hc_warn("namespace %s: bad limit override %s=%s", e->ns, k->str, v->str);
	}
}

/* Forget what has been idle long enough and holds nothing. */
static void gc(struct ctl_limits_loop *ll, uint64_t now)
{
	for (int i = 0; i < BUCKETS; i++) {
		for (struct ctl_nslim **p = &ll->b[i]; *p;) {
			struct ctl_nslim *e = *p;
			if (e->inflight == 0 && !e->waiters && !e->in_sync && e->inv.pending == 0 &&
			    e->fire.pending == 0 && now - e->used_ms > IDLE_MS) {
				*p = e->next;
				ll->n--;
				free(e);
				continue;
			}
			p = &e->next;
		}
	}
}

static void on_sync(redisReply *r, void *arg)
{
	struct ctl_limits_loop *ll = arg;
	int stopping = ll->L->stopping;
	int ok = r && r->type == REDIS_REPLY_ARRAY && (int)r->elements == ll->nsent;
	uint64_t now = hc_now_ms();
	if (!ok && !stopping && now - ll->warned_ms > 60000) {
		ll->warned_ms = now;
		hc_warn("namespace limits: Redis did not answer (%s); each loop counts alone "
			"meanwhile",
			r && r->type == REDIS_REPLY_ERROR ? r->str : "no reply");
	}
	for (int i = 0; i < ll->nsent; i++) {
		struct ctl_nslim *e = ll->sent[i];
		const redisReply *x = ok ? r->element[i] : NULL;
		e->in_sync = 0;
		if (x && x->type == REDIS_REPLY_ARRAY && x->elements == 4)
			apply(e, x);
		else if (e->sent_minute == e->minute) {
			/* not counted in Redis: they go with the next sync */
			e->inv.pending += e->inv.sending;
			e->fire.pending += e->fire.sending;
		}
		e->inv.sending = e->fire.sending = 0;
		/* loaded even when Redis failed: the defaults, not a stall */
		loaded(e, stopping);
	}
	free(ll->sent);
	ll->sent = NULL;
	ll->nsent = 0;
	ll->syncing = 0;
	if (stopping)
		return;
	gc(ll, now);
	if (ll->again) {
		ll->again = 0;
		sync_now(ll);
	} else if (ll->n > 0) {
		arm(ll);
	}
}

static void sync_now(struct ctl_limits_loop *ll)
{
	struct ctl_loop *L = ll->L;
	if (ll->syncing || L->stopping || ll->n == 0)
		return;
	int n = ll->n, argc = 5 + 5 * n;
	const char **argv = calloc((size_t)argc, sizeof(*argv));
	char(*num)[4][24] = calloc((size_t)n, sizeof(*num));
	struct ctl_nslim **sent = calloc((size_t)n, sizeof(struct ctl_nslim *));
	char owner[80];
	if (!argv || !num || !sent) {
		free(argv);
		free(num);
		free(sent);
		arm(ll);
		return;
	}
	ctl_my_owner(L, owner, sizeof(owner));
	argv[0] = PR_KEY_RATE_INV_PREFIX;
	argv[1] = PR_KEY_RATE_FIRE_PREFIX;
	argv[2] = PR_KEY_INFLIGHT_PREFIX;
	argv[3] = "hearth:limits:"; /* PR_KEY_NS_LIMITS without its %s */
	argv[4] = owner;
	int64_t minute = minute_now(hc_now_ms());
	int k = 0;
	for (int i = 0; i < BUCKETS; i++) {
		for (struct ctl_nslim *e = ll->b[i]; e && k < n; e = e->next) {
			roll(e, minute);
			e->inv.sending = e->inv.pending;
			e->fire.sending = e->fire.pending;
			e->inv.pending = e->fire.pending = 0;
			e->sent_minute = minute;
			e->sent_inflight = e->inflight;
			e->in_sync = 1;
			snprintf(num[k][0], 24, "%lld", (long long)minute);
			snprintf(num[k][1], 24, "%lld", (long long)e->inv.sending);
			snprintf(num[k][2], 24, "%lld", (long long)e->fire.sending);
			snprintf(num[k][3], 24, "%lld", (long long)e->inflight);
			const char **a = argv + 5 + 5 * k;
			a[0] = e->ns;
			a[1] = num[k][0];
			a[2] = num[k][1];
			a[3] = num[k][2];
			a[4] = num[k][3];
			sent[k++] = e;
		}
	}
	ll->sent = sent;
	ll->nsent = k;
	ll->syncing = 1;
	/* hc_redis_eval's callback never runs before it returns */
	if (hc_redis_eval(L->redis, &ll->sync_script, on_sync, ll, 0, 5 + 5 * k, argv, NULL) < 0)
		on_sync(NULL, ll);
	free(argv);
	free(num);
}

/* ---- reading the effective limits ---- */

struct read_op {
	struct ctl_loop *L;
	ctl_limits_read_cb cb;
	void *arg;
};

static void on_read(redisReply *r, void *arg)
{
	struct read_op *op = arg;
	struct pr_ns_limits l;
	if (!r || r->type != REDIS_REPLY_ARRAY) {
		op->cb(NULL, op->arg);
		free(op);
		return;
	}
	ctl_limits_defaults(op->L->ctl, &l);
	for (size_t i = 0; i + 1 < r->elements; i += 2)
		if (r->element[i]->type == REDIS_REPLY_STRING &&
		    r->element[i + 1]->type == REDIS_REPLY_STRING)
			pr_ns_limits_set(&l, r->element[i]->str, r->element[i + 1]->str);
	op->cb(&l, op->arg);
	free(op);
}

void ctl_limits_read(struct ctl_loop *L, const char *ns, ctl_limits_read_cb cb, void *arg)
{
	char key[PR_NAME_MAX + 32];
	struct read_op *op = calloc(1, sizeof(*op));
	if (!op) {
		cb(NULL, arg);
		return;
	}
	op->L = L;
	op->cb = cb;
	op->arg = arg;
	snprintf(key, sizeof(key), PR_KEY_NS_LIMITS, ns);
	hc_redis_cmd(L->redis, on_read, op, "HGETALL %s", key);
}

/* ---- storage quotas ---- */

struct put_op {
	struct ctl_loop *L;
	char ns[PR_NAME_MAX + 1];
	int64_t code_len;
	ctl_quota_cb cb;
	void *arg;
};

static void on_usage(redisReply *r, void *arg)
{
	struct put_op *op = arg;
	struct pr_ns_limits l;
	char msg[2 * PR_NAME_MAX + 400];
	int ok = r && r->type == REDIS_REPLY_ARRAY && r->elements == 5 &&
		 r->element[4]->type == REDIS_REPLY_ARRAY;
	for (size_t i = 0; ok && i < 4; i++)
		ok = r->element[i]->type == REDIS_REPLY_INTEGER;
	if (!ok) {
		if (r && r->type == REDIS_REPLY_ERROR)
			hc_warn("quota check %s: %s", op->ns, r->str);
		op->cb(503, "the entity store is unreachable; retry shortly", op->arg);
		goto out;
	}
	ctl_limits_defaults(op->L->ctl, &l);
	const redisReply *ov = r->element[4];
	for (size_t i = 0; i + 1 < ov->elements; i += 2)
		if (ov->element[i]->type == REDIS_REPLY_STRING &&
		    ov->element[i + 1]->type == REDIS_REPLY_STRING)
			pr_ns_limits_set(&l, ov->element[i]->str, ov->element[i + 1]->str);
	long long actions = r->element[0]->integer, code = r->element[1]->integer;
	long long is_new = r->element[2]->integer, old = r->element[3]->integer;
	if (is_new && actions > l.max_actions) {
		snprintf(msg, sizeof(msg),
			 "The namespace '%s' may hold at most %lld actions (its quota); delete "
			 "one first, or ask the operator to raise the quota (hearth admin "
			 "limits %s --actions N).",
			 op->ns, (long long)l.max_actions, op->ns);
		op->cb(403, msg, op->arg);
	} else if (op->code_len > old && code > l.max_code_bytes) {
		/* growing the code over the quota is refused; shrinking it never is */
		snprintf(msg, sizeof(msg),
			 "The code of the namespace '%s' would take %lld bytes, over its quota "
			 "of %lld bytes; delete or shrink actions first, or ask the operator "
			 "to raise the quota (hearth admin limits %s --code-bytes N).",
			 op->ns, code, (long long)l.max_code_bytes, op->ns);
		op->cb(403, msg, op->arg);
	} else {
		op->cb(0, NULL, op->arg);
	}
out:
	free(op);
}

void ctl_limits_check_put(struct ctl_loop *L, const char *ns, const char *name, int64_t code_len,
			  ctl_quota_cb cb, void *arg)
{
	struct ctl_limits_loop *ll = L->limits;
	char k_usage[PR_NAME_MAX + 32], k_zset[PR_NAME_MAX + 32], k_lim[PR_NAME_MAX + 32],
	    a_len[24];
	char a_prefix[PR_NAME_MAX + 32], c_prefix[64];
	struct put_op *op = calloc(1, sizeof(*op));
	if (!op) {
		cb(503, "out of memory", arg);
		return;
	}
	op->L = L;
	hc_strlcpy(op->ns, ns, sizeof(op->ns));
	op->code_len = code_len;
	op->cb = cb;
	op->arg = arg;
	snprintf(k_usage, sizeof(k_usage), PR_KEY_NS_USAGE, ns);
	snprintf(k_zset, sizeof(k_zset), PR_KEY_ACTIONS, ns);
	snprintf(k_lim, sizeof(k_lim), PR_KEY_NS_LIMITS, ns);
	snprintf(a_len, sizeof(a_len), "%lld", (long long)code_len);
	/* PR_KEY_ACTION and PR_KEY_CODE up to the name and the digest */
	snprintf(a_prefix, sizeof(a_prefix), PR_KEY_ACTION, ns, "");
	snprintf(c_prefix, sizeof(c_prefix), PR_KEY_CODE, "");
	const char *argv[] = {k_usage, k_zset, k_lim, name, a_len, a_prefix, c_prefix};
	if (hc_redis_eval(L->redis, &ll->check_script, on_usage, op, 3, 7, argv, NULL) < 0) {
		free(op);
		cb(500, "could not check the namespace's quota", arg);
	}
}

void ctl_limits_note_action(struct ctl_loop *L, const char *ns, const char *name, int64_t bytes)
{
	char k_usage[PR_NAME_MAX + 32], a_bytes[24];
	snprintf(k_usage, sizeof(k_usage), PR_KEY_NS_USAGE, ns);
	snprintf(a_bytes, sizeof(a_bytes), "%lld", (long long)(bytes < 0 ? -1 : bytes));
	/* EVAL, not hc_redis_eval: a NOSCRIPT retry would run after a check
	 * queued behind this note (the next PUT of this loop) */
	const char *argv[] = {"EVAL", note_lua, "1", k_usage, name, a_bytes};
	hc_redis_cmdargv(L->redis, NULL, NULL, 6, argv, NULL);
}

/* ---- per loop ---- */

int ctl_limits_loop_init(struct ctl_loop *L)
{
	struct ctl_limits_loop *ll = calloc(1, sizeof(*ll));
	if (!ll)
		return -1;
	ll->L = L;
	ll->sync_script.src = sync_lua;
	ll->check_script.src = check_lua;
	ll->timer = evtimer_new(L->loop->base, on_timer, ll);
	if (!ll->timer) {
		free(ll);
		return -1;
	}
	L->limits = ll;
	return 0;
}

void ctl_limits_loop_fini(struct ctl_loop *L)
{
	struct ctl_limits_loop *ll = L->limits;
	if (!ll)
		return;
	event_free(ll->timer);
	for (int i = 0; i < BUCKETS; i++) {
		while (ll->b[i]) {
			struct ctl_nslim *e = ll->b[i];
			ll->b[i] = e->next;
			loaded(e, 1); /* waiters still there are told */
			free(e);
		}
	}
	free(ll->sent);
	free(ll);
	L->limits = NULL;
}

int ctl_limits_count(const struct ctl_loop *L)
{
	return L->limits ? L->limits->n : 0;
}
