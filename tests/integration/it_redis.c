/* it_redis.c — the async Redis client (common/redis.c) against a real
 * redis-server started by the harness: AUTH, commands, pipelining,
 * EVALSHA/EVAL fallback, pub/sub, reconnect after a restart, a paused
 * server, freeing with commands pending, the blocking helpers, argv
 * commands of every length, and write-behind (hc_redis_cmdargv_later). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/redis.h"
#include "tests/lib/harness.h"
#include "tests/lib/wait.h"

#define EVENTUALLY_MS 10000 /* generous bound for "eventually" */

static struct th_redis srv; /* shared by the tests that do not restart it */

/* ---- loop helpers ---- */

static int is_connected(void *arg)
{
	return hc_redis_connected(arg);
}

static int is_down(void *arg)
{
	return !hc_redis_connected(arg);
}

static struct hc_redis_opts opts_for(const struct th_redis *s)
{
	struct hc_redis_opts o;
	struct hc_err err = {""};

	if (hc_redis_parse_url(s->url, &o, &err) != 0)
		fail_msg("parse %s: %s", s->url, err.msg);
	o.backoff_min_ms = 10;
	o.backoff_max_ms = 100;
	return o;
}

static redisContext *sync_for(const struct th_redis *s)
{
	redisContext *c = th_redis_connect(s);

	assert_non_null(c);
	return c;
}

static long long sync_int(redisContext *c, const char *fmt, const char *a)
{
	struct hc_err err = {""};
	redisReply *rep = hc_redis_sync_cmd(c, &err, fmt, a);
	long long v;

	if (!rep)
		fail_msg("%s: %s", fmt, err.msg);
	assert_int_equal(rep->type, REDIS_REPLY_INTEGER);
	v = rep->integer;
	freeReplyObject(rep);
	return v;
}

/* What a callback saw. */
struct got {
	int calls;
	int was_null;
	int type;
	long long integer;
	char str[256];
};

static void record(redisReply *rep, void *arg)
{
	struct got *g = arg;

	g->calls++;
	g->was_null = rep == NULL;
	if (!rep)
		return;
	g->type = rep->type;
	g->integer = rep->integer;
	if (rep->str)
		snprintf(g->str, sizeof(g->str), "%.*s", (int)rep->len, rep->str);
}

static int got_reply(void *arg)
{
	return ((struct got *)arg)->calls > 0;
}

struct hooked {
	int connects;
};

static void count_connect(struct hc_redis *r, void *arg)
{
	((struct hooked *)arg)->connects++;
}

static int setup_group(void **state)
{
	return th_redis_start(&srv) == 0 ? 0 : -1;
}

static int teardown_group(void **state)
{
	th_redis_stop(&srv);
	return 0;
}

/* ---- tests ---- */

static void test_connect_with_password(void **state)
{
	struct event_base *base = event_base_new();
	struct hc_redis_opts o = opts_for(&srv);
	struct hooked h = {0};
	struct hc_redis *r = hc_redis_new(base, &o);

	assert_non_null(r);
	hc_redis_on_connect(r, count_connect, &h);
	assert_false(hc_redis_connected(r)); /* connecting is asynchronous */
	assert_true(th_run_until(base, th_flag_set, &h.connects, EVENTUALLY_MS));
	assert_int_equal(h.connects, 1);
	assert_true(hc_redis_connected(r));
	hc_redis_free(r);
	event_base_free(base);
}

static void test_wrong_password_keeps_retrying(void **state)
{
	struct event_base *base = event_base_new();
	struct hc_redis_opts o = opts_for(&srv);
	redisContext *c = sync_for(&srv);
	struct hooked h = {0};
	struct got g = {0};
	struct hc_err err = {""};
	redisReply *rep;
	long before, after;
	struct hc_redis *r;

	rep = hc_redis_sync_cmd(c, &err, "INFO stats");
	assert_non_null(rep);
	before = atol(strstr(rep->str, "total_connections_received:") + 27);
	freeReplyObject(rep);

	snprintf(o.password, sizeof(o.password), "not-the-password");
	r = hc_redis_new(base, &o);
	assert_non_null(r);
	hc_redis_on_connect(r, count_connect, &h);
	th_run_for(base, 300);
	assert_int_equal(h.connects, 0);
	assert_false(hc_redis_connected(r));
	/* A command while unauthenticated fails, on a later loop pass. */
	assert_int_equal(hc_redis_cmd(r, record, &g, "PING"), 0);
	assert_int_equal(g.calls, 0);
	assert_true(th_run_until(base, got_reply, &g, EVENTUALLY_MS));
	assert_int_equal(g.calls, 1);
	assert_true(g.was_null);

	/* It reconnected more than once (backoff 10..100 ms over 300 ms). */
	rep = hc_redis_sync_cmd(c, &err, "INFO stats");
	assert_non_null(rep);
	after = atol(strstr(rep->str, "total_connections_received:") + 27);
	freeReplyObject(rep);
	assert_true(after - before >= 3);

	hc_redis_free(r);
	event_base_free(base);
	redisFree(c);
}

static void test_set_get(void **state)
{
	struct event_base *base = event_base_new();
	struct hc_redis_opts o = opts_for(&srv);
	struct hc_redis *r = hc_redis_new(base, &o);
	struct got set = {0}, get = {0}, bin = {0}, err = {0};
	const char *argv[] = {"SET", "it:bin", "a\0b"};
	const size_t lens[] = {3, 6, 3};

	assert_true(th_run_until(base, is_connected, r, EVENTUALLY_MS));
	assert_int_equal(hc_redis_cmd(r, record, &set, "SET %s %s", "it:k", "hello world"), 0);
	assert_int_equal(hc_redis_cmd(r, record, &get, "GET %s", "it:k"), 0);
	assert_int_equal(hc_redis_cmdargv(r, NULL, NULL, 3, argv, lens), 0);
	assert_int_equal(hc_redis_cmd(r, record, &bin, "STRLEN it:bin"), 0);
	assert_int_equal(hc_redis_cmd(r, record, &err, "INCR %s", "it:k"), 0);
	assert_true(th_run_until(base, got_reply, &err, EVENTUALLY_MS));
	assert_int_equal(set.type, REDIS_REPLY_STATUS);
	assert_string_equal(set.str, "OK");
	assert_int_equal(get.type, REDIS_REPLY_STRING);
	assert_string_equal(get.str, "hello world");
	assert_int_equal(bin.integer, 3);
	assert_int_equal(err.type, REDIS_REPLY_ERROR);
	assert_non_null(strstr(err.str, "not an integer"));
	assert_int_equal(set.calls + get.calls + bin.calls + err.calls, 4);
	/* A command that cannot be formatted is refused; no callback. */
	assert_int_equal(hc_redis_cmdargv(r, record, &set, 0, argv, lens), -1);
	/* So are commands with other than one reply. */
	assert_int_equal(hc_redis_cmd(r, record, &set, "SUBSCRIBE %s", "x"), -1);
	assert_int_equal(hc_redis_cmd(r, record, &set, "psubscribe x*"), -1);
	assert_int_equal(hc_redis_cmd(r, record, &set, "MONITOR"), -1);
	{
		const char *un[] = {"UNSUBSCRIBE", "x"};

		assert_int_equal(hc_redis_cmdargv(r, record, &set, 2, un, NULL), -1);
	}
	assert_int_equal(set.calls, 1);
	hc_redis_free(r);
	event_base_free(base);
}

#define PIPELINED 2000

struct pipe_state {
	int next;
	int in_order;
	int done;
};

static void on_incr(redisReply *rep, void *arg)
{
	struct pipe_state *p = arg;

	if (rep && rep->type == REDIS_REPLY_INTEGER && rep->integer == p->next + 1)
		p->in_order++;
	p->next++;
	p->done = p->next == PIPELINED;
}

static void test_pipelined(void **state)
{
	struct event_base *base = event_base_new();
	struct hc_redis_opts o = opts_for(&srv);
	struct hc_redis *r = hc_redis_new(base, &o);
	struct pipe_state p = {0};
	struct got del = {0};

	assert_true(th_run_until(base, is_connected, r, EVENTUALLY_MS));
	hc_redis_cmd(r, record, &del, "DEL it:counter");
	for (int i = 0; i < PIPELINED; i++)
		assert_int_equal(hc_redis_cmd(r, on_incr, &p, "INCR it:counter"), 0);
	assert_true(th_run_until(base, th_flag_set, &p.done, EVENTUALLY_MS));
	assert_int_equal(del.calls, 1);
	assert_int_equal(p.next, PIPELINED);
	assert_int_equal(p.in_order, PIPELINED);
	hc_redis_free(r);
	event_base_free(base);
}

/* calls=N of one command in INFO commandstats, 0 if never called. */
static long cmd_calls(redisContext *c, const char *cmd)
{
	struct hc_err err = {""};
	redisReply *rep = hc_redis_sync_cmd(c, &err, "INFO commandstats");
	char key[64];
	const char *p;
	long n = 0;

	assert_non_null(rep);
	snprintf(key, sizeof(key), "cmdstat_%s:calls=", cmd);
	p = strstr(rep->str, key);
	if (p)
		n = atol(p + strlen(key));
	freeReplyObject(rep);
	return n;
}

static void test_eval_fallback(void **state)
{
	struct event_base *base = event_base_new();
	struct hc_redis_opts o = opts_for(&srv);
	struct hc_redis *r = hc_redis_new(base, &o);
	redisContext *c = sync_for(&srv);
	char src[256], token[32];
	struct hc_redis_script s = {.src = src};
	const char *argv[] = {"it:evalkey", "arg\0x"};
	const size_t lens[] = {10, 5};
	struct got g1 = {0}, g2 = {0}, g3 = {0};
	struct hc_err err = {""};
	redisReply *rep;
	long eval0, evalsha0;

	/* A script no test run has loaded before: NOSCRIPT on first use. */
	snprintf(token, sizeof(token), "%d-%ld", (int)getpid(), (long)time(NULL));
	snprintf(src, sizeof(src),
		 "redis.call('SET', KEYS[1], ARGV[1]) return KEYS[1] .. '|' .. "
		 "string.len(redis.call('GET', KEYS[1])) .. '|%s'",
		 token);
	assert_true(th_run_until(base, is_connected, r, EVENTUALLY_MS));
	eval0 = cmd_calls(c, "eval");
	evalsha0 = cmd_calls(c, "evalsha");

	assert_int_equal(hc_redis_eval(r, &s, record, &g1, 1, 2, argv, lens), 0);
	assert_true(th_run_until(base, got_reply, &g1, EVENTUALLY_MS));
	assert_int_equal(g1.calls, 1);
	assert_int_equal(g1.type, REDIS_REPLY_STRING);
	assert_true(strstr(g1.str, "it:evalkey|5|") == g1.str);
	assert_non_null(strstr(g1.str, token));
	assert_int_equal(cmd_calls(c, "evalsha"), evalsha0 + 1);
	assert_int_equal(cmd_calls(c, "eval"), eval0 + 1);

	/* Our SHA1 is the one Redis computes. */
	rep = hc_redis_sync_cmd(c, &err, "SCRIPT LOAD %s", src);
	assert_non_null(rep);
	assert_string_equal(rep->str, s.sha);
	freeReplyObject(rep);

	/* Cached now: EVALSHA only. */
	assert_int_equal(hc_redis_eval(r, &s, record, &g2, 1, 2, argv, lens), 0);
	assert_true(th_run_until(base, got_reply, &g2, EVENTUALLY_MS));
	assert_string_equal(g2.str, g1.str);
	assert_int_equal(cmd_calls(c, "evalsha"), evalsha0 + 2);
	assert_int_equal(cmd_calls(c, "eval"), eval0 + 1);

	/* After SCRIPT FLUSH the fallback runs again. */
	rep = hc_redis_sync_cmd(c, &err, "SCRIPT FLUSH");
	assert_non_null(rep);
	freeReplyObject(rep);
	assert_int_equal(hc_redis_eval(r, &s, record, &g3, 1, 2, argv, lens), 0);
	assert_true(th_run_until(base, got_reply, &g3, EVENTUALLY_MS));
	assert_string_equal(g3.str, g1.str);
	assert_int_equal(cmd_calls(c, "evalsha"), evalsha0 + 3);
	assert_int_equal(cmd_calls(c, "eval"), eval0 + 2);

	/* Bad arguments are refused without a callback. */
	assert_int_equal(hc_redis_eval(r, &s, record, &g3, 3, 2, argv, lens), -1);
	assert_int_equal(g3.calls, 1);
	hc_redis_free(r);
	event_base_free(base);
	redisFree(c);
}

/* The SHA1 behind EVALSHA equals Redis' own around every padding edge
 * (55/56 bytes: one or two final blocks; 64: a whole block). */
static void test_script_sha_lengths(void **state)
{
	static const int lens[] = {9, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000};
	struct event_base *base = event_base_new();
	struct hc_redis_opts o = opts_for(&srv);
	struct hc_redis *r = hc_redis_new(base, &o);
	redisContext *c = sync_for(&srv);
	struct hc_err err = {""};
	char src[1100];

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		struct hc_redis_script s = {.src = src};
		redisReply *rep;
		int n = lens[i];

		/* "return 'xxx…'" of exactly n bytes */
		memcpy(src, "return '", 8);
		memset(src + 8, 'x', (size_t)n - 9);
		src[n - 1] = '\'';
		src[n] = '\0';
		assert_int_equal(strlen(src), n);
		/* The SHA is computed when the call is queued, connected or not. */
		assert_int_equal(hc_redis_eval(r, &s, NULL, NULL, 0, 0, NULL, NULL), 0);
		rep = hc_redis_sync_cmd(c, &err, "SCRIPT LOAD %s", src);
		assert_non_null(rep);
		assert_string_equal(s.sha, rep->str);
		freeReplyObject(rep);
	}
	hc_redis_free(r);
	event_base_free(base);
	redisFree(c);
}

static void test_eval_script_error(void **state)
{
	struct event_base *base = event_base_new();
	struct hc_redis_opts o = opts_for(&srv);
	struct hc_redis *r = hc_redis_new(base, &o);
	struct hc_redis_script s = {.src = "return redis.call('NOSUCHCOMMAND')"};
	struct got g = {0};

	assert_true(th_run_until(base, is_connected, r, EVENTUALLY_MS));
	assert_int_equal(hc_redis_eval(r, &s, record, &g, 0, 0, NULL, NULL), 0);
	assert_true(th_run_until(base, got_reply, &g, EVENTUALLY_MS));
	/* The script's own error arrives, not NOSCRIPT, and only once. */
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.type, REDIS_REPLY_ERROR);
	assert_null(strstr(g.str, "NOSCRIPT"));
	hc_redis_free(r);
	event_base_free(base);
}

/* ---- pub/sub ---- */

struct msgs {
	int n;
	char channel[64];
	char payload[64];
	size_t len;
	int pn;
	char pchannel[64];
};

static void on_msg(const char *channel, const char *payload, size_t len, void *arg)
{
	struct msgs *m = arg;

	m->n++;
	snprintf(m->channel, sizeof(m->channel), "%s", channel);
	memcpy(m->payload, payload, len < sizeof(m->payload) ? len : sizeof(m->payload));
	m->len = len;
}

static void on_pmsg(const char *channel, const char *payload, size_t len, void *arg)
{
	struct msgs *m = arg;

	m->pn++;
	snprintf(m->pchannel, sizeof(m->pchannel), "%s", channel);
}

static int both_seen(void *arg)
{
	struct msgs *m = arg;

	return m->n >= 1 && m->pn >= 1;
}

static void test_subscribe(void **state)
{
	struct event_base *base = event_base_new();
	struct hc_redis_opts o = opts_for(&srv);
	struct hc_redis *sub = hc_redis_new(base, &o);
	struct msgs m = {0};
	redisContext *c = sync_for(&srv);
	struct hc_err err = {""};
	redisReply *rep;
	int ready = 0;

	assert_int_equal(hc_redis_subscribe(sub, "it:chan", on_msg, &m), 0);
	assert_int_equal(hc_redis_subscribe(sub, "it:pat.*", on_pmsg, &m), 0);
	assert_int_equal(hc_redis_subscribe(sub, "", on_msg, &m), -1);
	assert_true(th_run_until(base, is_connected, sub, EVENTUALLY_MS));
	/* Wait until Redis has both subscriptions, then publish to each once. */
	TH_RETRY_LOOP(base, 5000, 10) {
		rep = hc_redis_sync_cmd(c, &err, "PUBSUB NUMSUB it:chan");
		assert_non_null(rep);
		ready = rep->element[1]->integer == 1;
		freeReplyObject(rep);
		rep = hc_redis_sync_cmd(c, &err, "PUBSUB NUMPAT");
		assert_non_null(rep);
		ready = ready && rep->integer >= 1;
		freeReplyObject(rep);
		if (ready)
			break;
	}
	assert_true(ready);
	rep = redisCommand(c, "PUBLISH it:chan %b", "pay\0load", (size_t)8);
	assert_non_null(rep);
	assert_int_equal(rep->integer, 1);
	freeReplyObject(rep);
	assert_int_equal(sync_int(c, "PUBLISH %s x", "it:pat.one"), 1);
	assert_true(th_run_until(base, both_seen, &m, EVENTUALLY_MS));
	assert_int_equal(m.n, 1);
	assert_string_equal(m.channel, "it:chan");
	assert_int_equal(m.len, 8);
	assert_memory_equal(m.payload, "pay\0load", 8);
	assert_int_equal(m.pn, 1);
	assert_string_equal(m.pchannel, "it:pat.one");
	hc_redis_free(sub);
	event_base_free(base);
	redisFree(c);
}

/* ---- reconnect ---- */

static int subscribed_on(redisContext *c, const char *channel)
{
	struct hc_err err = {""};
	redisReply *rep = hc_redis_sync_cmd(c, &err, "PUBSUB NUMSUB %s", channel);
	int n;

	assert_non_null(rep);
	n = (int)rep->element[1]->integer;
	freeReplyObject(rep);
	return n;
}

static void wait_subscribed(struct event_base *base, redisContext *c, const char *channel)
{
	TH_RETRY_LOOP(base, 5000, 10) {
		if (subscribed_on(c, channel) >= 1)
			break;
	}
	assert_int_equal(subscribed_on(c, channel), 1);
}

static void test_reconnect(void **state)
{
	struct event_base *base = event_base_new();
	struct th_redis own;
	struct hc_redis_opts o;
	struct hc_redis *r, *sub;
	struct hooked h = {0};
	struct msgs m = {0};
	struct got blocked = {0}, down = {0}, set = {0}, get = {0};
	redisContext *c;

	assert_int_equal(th_redis_start(&own), 0);
	o = opts_for(&own);
	r = hc_redis_new(base, &o);
	sub = hc_redis_new(base, &o);
	hc_redis_on_connect(r, count_connect, &h);
	hc_redis_subscribe(sub, "it:re", on_msg, &m);
	assert_true(th_run_until(base, is_connected, r, EVENTUALLY_MS));
	assert_true(th_run_until(base, is_connected, sub, EVENTUALLY_MS));
	c = sync_for(&own);
	wait_subscribed(base, c, "it:re");
	redisFree(c);

	/* A command pending when the server goes away gets NULL. */
	hc_redis_cmd(r, record, &blocked, "BLPOP it:never 30");
	th_run_for(base, 20);
	th_redis_stop(&own);
	assert_true(th_run_until(base, got_reply, &blocked, EVENTUALLY_MS));
	assert_true(blocked.was_null);
	assert_true(th_run_until(base, is_down, r, EVENTUALLY_MS));

	/* While down: NULL, on a later loop pass, not inside hc_redis_cmd. */
	hc_redis_cmd(r, record, &down, "GET it:x");
	assert_int_equal(down.calls, 0);
	assert_true(th_run_until(base, got_reply, &down, EVENTUALLY_MS));
	assert_true(down.was_null);
	th_run_for(base, 150); /* a few failed reconnects */

	/* A new server on the same port: both clients come back. */
	assert_int_equal(th_redis_restart(&own), 0);
	assert_true(th_run_until(base, is_connected, r, EVENTUALLY_MS));
	assert_int_equal(h.connects, 2);
	hc_redis_cmd(r, record, &set, "SET it:x back");
	hc_redis_cmd(r, record, &get, "GET it:x");
	assert_true(th_run_until(base, got_reply, &get, EVENTUALLY_MS));
	assert_string_equal(set.str, "OK");
	assert_string_equal(get.str, "back");

	/* The subscription was re-issued on the new connection. */
	assert_true(th_run_until(base, is_connected, sub, EVENTUALLY_MS));
	c = sync_for(&own);
	wait_subscribed(base, c, "it:re");
	assert_int_equal(sync_int(c, "PUBLISH it:re %s", "again"), 1);
	assert_true(th_run_until(base, th_flag_set, &m.n, EVENTUALLY_MS));
	assert_string_equal(m.payload, "again");
	redisFree(c);

	hc_redis_free(r);
	hc_redis_free(sub);
	event_base_free(base);
	th_redis_stop(&own);
}

static void test_paused_server(void **state)
{
	struct event_base *base = event_base_new();
	struct hc_redis_opts o = opts_for(&srv);
	struct hc_redis *r;
	redisContext *c = sync_for(&srv);
	struct got g = {0};
	redisReply *rep;
	struct hc_err err = {""};

	/* The connect timeout must not cut a slow but connected server. */
	o.connect_timeout_ms = 100;
	r = hc_redis_new(base, &o);
	assert_true(th_run_until(base, is_connected, r, EVENTUALLY_MS));
	rep = hc_redis_sync_cmd(c, &err, "CLIENT PAUSE 400 ALL");
	assert_non_null(rep);
	freeReplyObject(rep);
	hc_redis_cmd(r, record, &g, "PING");
	th_run_for(base, 100);
	assert_int_equal(g.calls, 0); /* still paused */
	assert_true(th_run_until(base, got_reply, &g, EVENTUALLY_MS));
	assert_int_equal(g.type, REDIS_REPLY_STATUS);
	assert_string_equal(g.str, "PONG");
	assert_true(hc_redis_connected(r));
	hc_redis_free(r);
	event_base_free(base);
	redisFree(c);
}

/* ---- free ---- */

static void test_free_with_pending(void **state)
{
	struct event_base *base = event_base_new();
	struct hc_redis_opts o = opts_for(&srv);
	struct hc_redis *r = hc_redis_new(base, &o);
	struct got a = {0}, b = {0};

	assert_true(th_run_until(base, is_connected, r, EVENTUALLY_MS));
	hc_redis_cmd(r, record, &a, "BLPOP it:never 30");
	th_run_for(base, 20);
	hc_redis_free(r);
	assert_int_equal(a.calls, 1);
	assert_true(a.was_null);

	/* Freed before it ever connected: queued commands fail too. */
	r = hc_redis_new(base, &o);
	hc_redis_cmd(r, record, &b, "PING");
	hc_redis_free(r);
	assert_int_equal(b.calls, 1);
	assert_true(b.was_null);
	event_base_free(base);
}

struct self_free {
	struct hc_redis *r;
	struct got other;
	int freed;
};

static void free_in_cb(redisReply *rep, void *arg)
{
	struct self_free *s = arg;

	hc_redis_free(s->r);
	s->freed = 1;
}

static int other_done(void *arg)
{
	return ((struct self_free *)arg)->other.calls > 0;
}

static void test_free_inside_callback(void **state)
{
	struct event_base *base = event_base_new();
	struct hc_redis_opts o = opts_for(&srv);
	struct self_free s = {0};

	s.r = hc_redis_new(base, &o);
	assert_true(th_run_until(base, is_connected, s.r, EVENTUALLY_MS));
	hc_redis_cmd(s.r, free_in_cb, &s, "PING");
	hc_redis_cmd(s.r, record, &s.other, "BLPOP it:never 30");
	/* The other command completes exactly once (NULL) when the deferred
	 * free runs on the next loop pass. */
	assert_true(th_run_until(base, other_done, &s, EVENTUALLY_MS));
	assert_true(s.freed);
	assert_int_equal(s.other.calls, 1);
	assert_true(s.other.was_null);
	event_base_free(base);
}

static void free_in_hook(struct hc_redis *r, void *arg)
{
	hc_redis_free(r);
	*(int *)arg = 1;
}

static void test_free_inside_hook(void **state)
{
	struct event_base *base = event_base_new();
	struct hc_redis_opts o = opts_for(&srv);
	struct hc_redis *r = hc_redis_new(base, &o);
	int freed = 0;

	hc_redis_on_connect(r, free_in_hook, &freed);
	assert_true(th_run_until(base, th_flag_set, &freed, EVENTUALLY_MS));
	th_run_for(base, 20); /* the deferred free runs */
	event_base_free(base);
}

/* ---- db and sync helpers ---- */

static void test_select_db(void **state)
{
	struct event_base *base = event_base_new();
	struct hc_redis_opts o = opts_for(&srv);
	struct got g = {0};
	struct hc_redis *r;
	redisContext *c0, *c3;

	o.db = 3;
	r = hc_redis_new(base, &o);
	assert_true(th_run_until(base, is_connected, r, EVENTUALLY_MS));
	hc_redis_cmd(r, record, &g, "SET it:db three");
	assert_true(th_run_until(base, got_reply, &g, EVENTUALLY_MS));
	c0 = sync_for(&srv);
	c3 = hc_redis_sync_connect(&o, NULL);
	assert_non_null(c3);
	assert_int_equal(sync_int(c0, "EXISTS %s", "it:db"), 0);
	assert_int_equal(sync_int(c3, "EXISTS %s", "it:db"), 1);
	redisFree(c0);
	redisFree(c3);
	hc_redis_free(r);
	event_base_free(base);
}

static void test_sync_helpers(void **state)
{
	struct hc_redis_opts o = opts_for(&srv);
	struct hc_err err = {""};
	redisContext *c;
	redisReply *rep;

	c = hc_redis_sync_connect(&o, &err);
	assert_non_null(c);
	rep = hc_redis_sync_cmd(c, &err, "SET %s %s", "it:sync", "v1");
	assert_non_null(rep);
	freeReplyObject(rep);
	rep = hc_redis_sync_cmd(c, &err, "GET it:sync");
	assert_non_null(rep);
	assert_string_equal(rep->str, "v1");
	freeReplyObject(rep);
	/* An error reply comes back as NULL with its text. */
	rep = hc_redis_sync_cmd(c, &err, "INCR it:sync");
	assert_null(rep);
	assert_non_null(strstr(err.msg, "not an integer"));
	redisFree(c);

	snprintf(o.password, sizeof(o.password), "wrong");
	assert_null(hc_redis_sync_connect(&o, &err));
	assert_non_null(strstr(err.msg, "WRONGPASS"));

	o.port = th_free_port();
	assert_null(hc_redis_sync_connect(&o, &err));
	assert_non_null(strstr(err.msg, "refused"));
}

/* ---- argv commands and write-behind ---- */

/* A callback that also notes when it ran, on a clock shared by several. */
struct ordered {
	int *clock;
	int at;
	struct got g;
};

static void record_at(redisReply *rep, void *arg)
{
	struct ordered *o = arg;

	o->at = ++*o->clock;
	record(rep, &o->g);
}

static int ordered_done(void *arg)
{
	return ((struct ordered *)arg)->g.calls > 0;
}

/* The RESP an argv command is written as, for lengths around every digit
 * count and around the on-stack formatting buffer. */
static void test_cmdargv_lengths(void **state)
{
	static const size_t lens[] = {0,   1,	 9,    10,   11,   99,	 100,  101,
				      999, 1000, 4000, 4095, 4096, 4097, 5000, 100000};
	struct event_base *base = event_base_new();
	struct hc_redis_opts o = opts_for(&srv);
	struct hc_redis *r = hc_redis_new(base, &o);
	redisContext *c = sync_for(&srv);
	struct hc_err err = {""};
	char *val = malloc(100000);
	char key[64];
	int clock = 0;

	for (size_t i = 0; i < 100000; i++)
		val[i] = (char)(i * 131 + 7); /* binary, NULs and CRLFs included */
	assert_true(th_run_until(base, is_connected, r, EVENTUALLY_MS));
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		for (int later = 0; later < 2; later++) {
			struct ordered set = {.clock = &clock};
			const char *argv[] = {"SET", key, val};
			size_t argl[3] = {3, 0, lens[i]};
			redisReply *rep;

			snprintf(key, sizeof(key), "it:argv:%zu:%d", lens[i], later);
			argl[1] = strlen(key);
			if (later)
				assert_int_equal(
				    hc_redis_cmdargv_later(r, record_at, &set, 3, argv, argl), 0);
			else
				assert_int_equal(
				    hc_redis_cmdargv(r, record_at, &set, 3, argv, argl), 0);
			assert_true(th_run_until(base, ordered_done, &set, EVENTUALLY_MS));
			assert_int_equal(set.g.type, REDIS_REPLY_STATUS);
			assert_string_equal(set.g.str, "OK");
			rep = hc_redis_sync_cmd(c, &err, "GET %s", key);
			assert_non_null(rep);
			assert_int_equal(rep->type, REDIS_REPLY_STRING);
			assert_int_equal(rep->len, lens[i]);
			assert_memory_equal(rep->str, val, lens[i]);
			freeReplyObject(rep);
		}
	}
	/* without lengths: C strings */
	{
		struct ordered get = {.clock = &clock};
		const char *set[] = {"SET", "it:argv:cstr", "plain value"};
		const char *argv[] = {"GET", "it:argv:cstr"};

		assert_int_equal(hc_redis_cmdargv(r, NULL, NULL, 3, set, NULL), 0);
		assert_int_equal(hc_redis_cmdargv(r, record_at, &get, 2, argv, NULL), 0);
		assert_true(th_run_until(base, ordered_done, &get, EVENTUALLY_MS));
		assert_string_equal(get.g.str, "plain value");
	}
	free(val);
	hc_redis_free(r);
	event_base_free(base);
	redisFree(c);
}

/* A write-behind command followed at once by an ordinary one on the same
 * client: both go out, in order, and the read sees the write. */
static void test_later_then_ordinary(void **state)
{
	struct event_base *base = event_base_new();
	struct hc_redis_opts o = opts_for(&srv);
	struct hc_redis *r = hc_redis_new(base, &o);
	struct ordered del = {0}, set = {0}, get = {0}, i1 = {0}, i2 = {0}, i3 = {0}, n = {0};
	int clock = 0;
	const char *setv[] = {"SET", "it:later:k", "written behind"};
	const char *incr[] = {"INCR", "it:later:n"};

	del.clock = set.clock = get.clock = i1.clock = i2.clock = i3.clock = n.clock = &clock;
	assert_true(th_run_until(base, is_connected, r, EVENTUALLY_MS));
	hc_redis_cmd(r, record_at, &del, "DEL it:later:k it:later:n");
	assert_true(th_run_until(base, ordered_done, &del, EVENTUALLY_MS));

	assert_int_equal(hc_redis_cmdargv_later(r, record_at, &set, 3, setv, NULL), 0);
	assert_int_equal(hc_redis_cmd(r, record_at, &get, "GET %s", "it:later:k"), 0);
	assert_true(th_run_until(base, ordered_done, &get, EVENTUALLY_MS));
	assert_int_equal(set.g.calls, 1);
	assert_string_equal(set.g.str, "OK");
	assert_int_equal(get.g.type, REDIS_REPLY_STRING);
	assert_string_equal(get.g.str, "written behind");
	assert_true(set.at < get.at);

	/* several behind, then one ordinary read */
	hc_redis_cmdargv_later(r, record_at, &i1, 2, incr, NULL);
	hc_redis_cmdargv_later(r, record_at, &i2, 2, incr, NULL);
	hc_redis_cmdargv_later(r, record_at, &i3, 2, incr, NULL);
	hc_redis_cmd(r, record_at, &n, "GET it:later:n");
	assert_true(th_run_until(base, ordered_done, &n, EVENTUALLY_MS));
	assert_string_equal(n.g.str, "3");
	assert_int_equal(i1.g.integer, 1);
	assert_int_equal(i2.g.integer, 2);
	assert_int_equal(i3.g.integer, 3);
	assert_true(i1.at < i2.at && i2.at < i3.at && i3.at < n.at);
	hc_redis_free(r);
	event_base_free(base);
}

struct list_seen {
	redisContext *c;
	const char *key;
	long long want;
};

static int list_has(void *arg)
{
	struct list_seen *l = arg;
	struct hc_err err = {""};
	redisReply *rep = hc_redis_sync_cmd(l->c, &err, "LLEN %s", l->key);
	long long n = rep && rep->type == REDIS_REPLY_INTEGER ? rep->integer : -1;

	freeReplyObject(rep);
	return n >= l->want;
}

/* Write-behind commands with nothing after them still go out on their own
 * (the timer), and another connection sees them. */
static void test_later_alone_is_written(void **state)
{
	struct event_base *base = event_base_new();
	struct hc_redis_opts o = opts_for(&srv);
	struct hc_redis *r = hc_redis_new(base, &o);
	redisContext *c = sync_for(&srv);
	struct list_seen seen = {c, "it:later:list", 5};
	struct ordered p[5];
	int clock = 0;
	char v[5][8];

	freeReplyObject(hc_redis_sync_cmd(c, NULL, "DEL it:later:list"));
	assert_true(th_run_until(base, is_connected, r, EVENTUALLY_MS));
	for (int i = 0; i < 5; i++) {
		const char *argv[] = {"RPUSH", "it:later:list", v[i]};

		memset(&p[i], 0, sizeof(p[i]));
		p[i].clock = &clock;
		snprintf(v[i], sizeof(v[i]), "v%d", i);
		assert_int_equal(hc_redis_cmdargv_later(r, record_at, &p[i], 3, argv, NULL), 0);
	}
	/* not a single ordinary command follows */
	assert_true(th_run_until(base, list_has, &seen, 2000));
	assert_true(th_run_until(base, ordered_done, &p[4], EVENTUALLY_MS));
	for (int i = 0; i < 5; i++) {
		assert_int_equal(p[i].g.calls, 1);
		assert_int_equal(p[i].g.integer, i + 1);
		assert_int_equal(p[i].at, i + 1);
	}
	redisReply *rep = hc_redis_sync_cmd(c, NULL, "LRANGE it:later:list 0 -1");
	assert_non_null(rep);
	assert_int_equal(rep->elements, 5);
	for (int i = 0; i < 5; i++)
		assert_string_equal(rep->element[i]->str, v[i]);
	freeReplyObject(rep);

	/* and again after a quiet spell: the timer is armed anew */
	th_run_for(base, 20);
	{
		struct ordered q = {.clock = &clock};
		const char *argv[] = {"RPUSH", "it:later:list", "again"};

		seen.want = 6;
		assert_int_equal(hc_redis_cmdargv_later(r, record_at, &q, 3, argv, NULL), 0);
		assert_true(th_run_until(base, list_has, &seen, 2000));
		assert_true(th_run_until(base, ordered_done, &q, EVENTUALLY_MS));
		assert_int_equal(q.g.integer, 6);
	}
	hc_redis_free(r);
	event_base_free(base);
	redisFree(c);
}

#define MANY_LATER 200

struct many {
	int calls;
	int in_order;
};

static void on_many(redisReply *rep, void *arg)
{
	struct many *m = arg;

	m->calls++;
	if (rep && rep->type == REDIS_REPLY_INTEGER && rep->integer == m->calls)
		m->in_order++;
}

static int many_done(void *arg)
{
	return ((struct many *)arg)->calls == MANY_LATER;
}

/* More write-behind commands in one loop pass than one batch holds: all
 * of them land, once each, in order. */
static void test_later_many_in_one_pass(void **state)
{
	struct event_base *base = event_base_new();
	struct hc_redis_opts o = opts_for(&srv);
	struct hc_redis *r = hc_redis_new(base, &o);
	redisContext *c = sync_for(&srv);
	struct list_seen seen = {c, "it:later:many", MANY_LATER};
	struct many m = {0};
	const char *argv[] = {"RPUSH", "it:later:many", "x"};

	freeReplyObject(hc_redis_sync_cmd(c, NULL, "DEL it:later:many"));
	assert_true(th_run_until(base, is_connected, r, EVENTUALLY_MS));
	for (int i = 0; i < MANY_LATER; i++)
		assert_int_equal(hc_redis_cmdargv_later(r, on_many, &m, 3, argv, NULL), 0);
	assert_int_equal(m.calls, 0); /* nothing answered inside the calls */
	assert_true(th_run_until(base, many_done, &m, EVENTUALLY_MS));
	assert_int_equal(m.in_order, MANY_LATER);
	assert_true(list_has(&seen));
	assert_int_equal(sync_int(c, "LLEN %s", "it:later:many"), MANY_LATER);
	/* no more than that arrives later */
	th_run_for(base, 20);
	assert_int_equal(m.calls, MANY_LATER);
	assert_int_equal(sync_int(c, "LLEN %s", "it:later:many"), MANY_LATER);
	hc_redis_free(r);
	event_base_free(base);
	redisFree(c);
}

#define WB_MANY 1000

/* Fire-and-forget write-behind (no callback) goes out as reply-less blocks:
 * interleaved with ordinary commands, every ordinary reply still reaches
 * its own callback; more commands than a block holds all land, in order,
 * with nothing after them; a value larger than a block goes alone. */
static void test_later_without_replies(void **state)
{
	struct event_base *base = event_base_new();
	struct hc_redis_opts o = opts_for(&srv);
	struct hc_redis *r = hc_redis_new(base, &o);
	redisContext *c = sync_for(&srv);
	struct list_seen seen = {c, "it:wb:list", WB_MANY};
	struct ordered inc[50];
	int clock = 0;
	char v[16];

	freeReplyObject(hc_redis_sync_cmd(c, NULL, "DEL it:wb:list it:wb:n it:wb:big"));
	long frames = cmd_calls(c, "client|reply");
	assert_true(th_run_until(base, is_connected, r, EVENTUALLY_MS));
	/* alignment: behind, ordinary, behind, ordinary ... */
	for (int i = 0; i < 50; i++) {
		const char *set[] = {"SET", v, "x"};
		const char *incr[] = {"INCR", "it:wb:n"};

		snprintf(v, sizeof v, "it:wb:k%d", i % 3);
		assert_int_equal(hc_redis_cmdargv_later(r, NULL, NULL, 3, set, NULL), 0);
		memset(&inc[i], 0, sizeof inc[i]);
		inc[i].clock = &clock;
		assert_int_equal(hc_redis_cmdargv(r, record_at, &inc[i], 2, incr, NULL), 0);
		if (i % 7 == 0) /* sometimes a loop pass in between */
			assert_true(th_run_until(base, ordered_done, &inc[i], EVENTUALLY_MS));
	}
	assert_true(th_run_until(base, ordered_done, &inc[49], EVENTUALLY_MS));
	for (int i = 0; i < 50; i++) {
		assert_int_equal(inc[i].g.type, REDIS_REPLY_INTEGER);
		assert_int_equal(inc[i].g.integer, i + 1);
		assert_int_equal(inc[i].at, i + 1);
	}
	/* many, with nothing after them */
	for (int i = 0; i < WB_MANY; i++) {
		const char *push[] = {"RPUSH", "it:wb:list", v};

		snprintf(v, sizeof v, "%d", i);
		assert_int_equal(hc_redis_cmdargv_later(r, NULL, NULL, 3, push, NULL), 0);
	}
	assert_true(th_run_until(base, list_has, &seen, 2000));
	redisReply *rep = hc_redis_sync_cmd(c, NULL, "LRANGE it:wb:list 0 -1");
	assert_non_null(rep);
	assert_int_equal(rep->elements, WB_MANY);
	for (int i = 0; i < WB_MANY; i++)
		assert_int_equal(atoi(rep->element[i]->str), i);
	freeReplyObject(rep);
	/* the blocks were used: each is framed by OFF and ON */
	assert_true(cmd_calls(c, "client|reply") - frames >= 2 * (WB_MANY / 128));
	/* a value larger than a block */
	{
		size_t n = 700 << 10;
		char *big = malloc(n);
		const char *set[] = {"SET", "it:wb:big", big};
		const size_t setl[] = {3, 9, n};
		struct ordered get = {.clock = &clock};

		assert_non_null(big);
		memset(big, 'b', n);
		assert_int_equal(hc_redis_cmdargv_later(r, NULL, NULL, 3, set, setl), 0);
		assert_int_equal(hc_redis_cmd(r, record_at, &get, "STRLEN it:wb:big"), 0);
		assert_true(th_run_until(base, ordered_done, &get, EVENTUALLY_MS));
		assert_int_equal(get.g.integer, (long long)n);
		free(big);
	}
	/* the connection still answers every ordinary command */
	{
		struct ordered get = {.clock = &clock};
		assert_int_equal(hc_redis_cmd(r, record_at, &get, "GET it:wb:n"), 0);
		assert_true(th_run_until(base, ordered_done, &get, EVENTUALLY_MS));
		assert_string_equal(get.g.str, "50");
	}
	hc_redis_free(r);
	event_base_free(base);
	redisFree(c);
}

static int fold(struct hc_redis *r, enum hc_fold_kind kind, const char *cmd, const char *key,
		const char *val)
{
	return hc_redis_fold_later(r, kind, cmd, key, strlen(key), val, strlen(val));
}

/* hc_redis_fold_later: values for one command and key gathered into one
 * command, two folds open at once (an APPEND and RPUSHes that change key),
 * every value landing in order; an ordinary command right after sees every
 * value, and a later command comes after the folds before it. */
static void test_fold_later(void **state)
{
	struct event_base *base = event_base_new();
	struct hc_redis_opts o = opts_for(&srv);
	struct hc_redis *r = hc_redis_new(base, &o);
	redisContext *c = sync_for(&srv);
	struct ordered card = {0};
	int clock = 0;
	char member[16], want[4096] = "";

	freeReplyObject(hc_redis_sync_cmd(c, NULL, "DEL it:f:a it:f:b it:f:c it:f:s it:f:t"));
	long frames = cmd_calls(c, "client|reply"), pushes = cmd_calls(c, "rpush");
	long appends = cmd_calls(c, "append");
	assert_true(th_run_until(base, is_connected, r, EVENTUALLY_MS));
	for (int i = 0; i < 300; i++) {
		snprintf(member, sizeof member, "m%d,", i);
		strcat(want, member);
		assert_int_equal(fold(r, HC_FOLD_CONCAT, "APPEND", "it:f:s", member), 0);
		/* runs of 10 per key: a, b, a, ... */
		assert_int_equal(
		    fold(r, HC_FOLD_ARGS, "RPUSH", (i / 10) % 2 ? "it:f:b" : "it:f:a", member), 0);
	}
	card.clock = &clock;
	assert_int_equal(hc_redis_cmd(r, record_at, &card, "LLEN it:f:a"), 0);
	assert_true(th_run_until(base, ordered_done, &card, EVENTUALLY_MS));
	assert_int_equal(card.g.integer, 150);
	assert_int_equal(sync_int(c, "LLEN %s", "it:f:b"), 150);
	redisReply *rep = hc_redis_sync_cmd(c, NULL, "LRANGE it:f:b 0 1");
	assert_non_null(rep);
	assert_int_equal(rep->elements, 2);
	assert_string_equal(rep->element[0]->str, "m10,");
	assert_string_equal(rep->element[1]->str, "m11,");
	freeReplyObject(rep);
	rep = hc_redis_sync_cmd(c, NULL, "GET it:f:s");
	assert_non_null(rep);
	assert_string_equal(rep->str, want);
	freeReplyObject(rep);
	assert_true(cmd_calls(c, "client|reply") > frames);
	/* 30 runs of 10: one RPUSH each, and a few APPENDs, more only where
	 * a block was cut */
	assert_true(cmd_calls(c, "rpush") - pushes <= 40);
	assert_true(cmd_calls(c, "append") - appends <= 12);
	/* a lone value, an ordinary command right after it: sent before it */
	{
		struct ordered one = {.clock = &clock};
		assert_int_equal(fold(r, HC_FOLD_ARGS, "RPUSH", "it:f:c", "only"), 0);
		assert_int_equal(hc_redis_cmd(r, record_at, &one, "LLEN it:f:c"), 0);
		assert_true(th_run_until(base, ordered_done, &one, EVENTUALLY_MS));
		assert_int_equal(one.g.integer, 1);
	}
	/* a later command after a fold: the key exists when it runs */
	assert_int_equal(fold(r, HC_FOLD_CONCAT, "APPEND", "it:f:t", "x"), 0);
	const char *exp[] = {"PEXPIRE", "it:f:t", "100000"};
	assert_int_equal(hc_redis_cmdargv_later(r, NULL, NULL, 3, exp, NULL), 0);
	/* alone, with nothing after it: the timer writes it */
	assert_int_equal(fold(r, HC_FOLD_ARGS, "RPUSH", "it:f:a", "last"), 0);
	TH_RETRY_LOOP(base, 2000, 10) {
		if (sync_int(c, "LLEN %s", "it:f:a") == 151)
			break;
	}
	assert_int_equal(sync_int(c, "LLEN %s", "it:f:a"), 151);
	assert_true(sync_int(c, "PTTL %s", "it:f:t") > 0);
	hc_redis_free(r);
	event_base_free(base);
	redisFree(c);
}

/* Write-behind on a client that is not connected, or freed while the
 * command waits: the callback runs once, with NULL, as for any command. */
static void test_later_failures(void **state)
{
	struct event_base *base = event_base_new();
	struct hc_redis_opts o = opts_for(&srv);
	struct hc_redis *r;
	struct got down = {0}, pending = {0};
	const char *argv[] = {"SET", "it:later:gone", "v"};

	/* nothing listens on this port */
	o.port = th_free_port();
	r = hc_redis_new(base, &o);
	assert_int_equal(hc_redis_cmdargv_later(r, record, &down, 3, argv, NULL), 0);
	assert_int_equal(down.calls, 0);
	assert_true(th_run_until(base, got_reply, &down, EVENTUALLY_MS));
	assert_int_equal(down.calls, 1);
	assert_true(down.was_null);
	hc_redis_free(r);

	/* freed while the write waits behind */
	o = opts_for(&srv);
	r = hc_redis_new(base, &o);
	assert_true(th_run_until(base, is_connected, r, EVENTUALLY_MS));
	assert_int_equal(hc_redis_cmdargv_later(r, record, &pending, 3, argv, NULL), 0);
	hc_redis_free(r);
	assert_int_equal(pending.calls, 1);
	assert_true(pending.was_null);
	th_run_for(base, 20); /* no timer fires on freed memory */
	assert_int_equal(pending.calls, 1);
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_connect_with_password),
	    cmocka_unit_test(test_wrong_password_keeps_retrying),
	    cmocka_unit_test(test_set_get),
	    cmocka_unit_test(test_pipelined),
	    cmocka_unit_test(test_eval_fallback),
	    cmocka_unit_test(test_eval_script_error),
	    cmocka_unit_test(test_script_sha_lengths),
	    cmocka_unit_test(test_subscribe),
	    cmocka_unit_test(test_reconnect),
	    cmocka_unit_test(test_paused_server),
	    cmocka_unit_test(test_free_with_pending),
	    cmocka_unit_test(test_free_inside_callback),
	    cmocka_unit_test(test_free_inside_hook),
	    cmocka_unit_test(test_select_db),
	    cmocka_unit_test(test_sync_helpers),
	    cmocka_unit_test(test_cmdargv_lengths),
	    cmocka_unit_test(test_later_then_ordinary),
	    cmocka_unit_test(test_later_alone_is_written),
	    cmocka_unit_test(test_later_many_in_one_pass),
	    cmocka_unit_test(test_later_failures),
	    cmocka_unit_test(test_later_without_replies),
	    cmocka_unit_test(test_fold_later),
	};

	return cmocka_run_group_tests_name("redis", tests, setup_group, teardown_group);
}
