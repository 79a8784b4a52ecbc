/* redis.c — Redis over hiredis async on libevent: connect, AUTH/SELECT,
 * reconnect with backoff, EVALSHA with EVAL fallback, subscriptions, and
 * blocking helpers for start-up.
 *
 * The connection is a small state machine:
 *
 *   DOWN --timer--> CONNECTING --TCP up--> HANDSHAKE --AUTH/SELECT ok--> READY
 *     ^                 |                      |                          |
 *     +---- backoff ----+-- refused/timeout ---+------ dropped -----------+
 *
 * One evtimer serves as the connect timeout (CONNECTING, HANDSHAKE) and as
 * the reconnect delay (DOWN). AUTH and SELECT are queued right after
 * redisAsyncConnect, so hiredis sends them first once the socket is up.
 *
 * hiredis calls every queued callback (with NULL) when a context dies, and
 * then frees the context. Handshake callbacks compare their context with
 * r->ac to tell a current reply from one of a context we already dropped.
 * User commands are wrapped in a struct hc_rcmd so their callbacks run exactly
 * once: with a reply, with NULL from hiredis, or with NULL from the fail
 * queue (commands issued while not READY, run on the next loop pass).
 * The write-behind block is rediswb.c's, URL parsing redisurl.c's
 * (redis_int.h). */
#include "common/redis_int.h"

#include <ctype.h>
#include <errno.h>
#include <event2/event.h>
#include <hiredis/async.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/redisev.h"

#define DEFAULT_CONNECT_TIMEOUT_MS 1000
#define DEFAULT_BACKOFF_MIN_MS	   50
#define DEFAULT_BACKOFF_MAX_MS	   2000
#define SYNC_CMD_TIMEOUT_MS	   5000

static void start_connect(struct hc_redis *r);
static void real_free(struct hc_redis *r);

/* ---- SHA1 (FIPS 180-1), for EVALSHA ---- */

static uint32_t rol32(uint32_t x, int n)
{
	return (x << n) | (x >> (32 - n));
}

static void sha1_block(uint32_t h[5], const unsigned char *p)
{
	uint32_t w[80], a, b, c, d, e, f, k, t;

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 80; i++)
		w[i] = rol32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
	for (int i = 0; i < 80; i++) {
		if (i < 20)
			f = (b & c) | (~b & d), k = 0x5a827999;
		else if (i < 40)
			f = b ^ c ^ d, k = 0x6ed9eba1;
		else if (i < 60)
			f = (b & c) | (b & d) | (c & d), k = 0x8f1bbcdc;
		else
			f = b ^ c ^ d, k = 0xca62c1d6;
		t = rol32(a, 5) + f + e + k + w[i];
		e = d, d = c, c = rol32(b, 30), b = a, a = t;
	}
	h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
}

/* Lowercase hex SHA1 of s into out[41], as Redis' SCRIPT LOAD reports it. */
static void sha1_hex(const char *s, size_t len, char out[41])
{
	uint32_t h[5] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0};
	unsigned char tail[128];
	uint64_t bits = (uint64_t)len * 8;
	size_t full = len - len % 64, rest = len - full, tlen;

	for (size_t i = 0; i < full; i += 64)
		sha1_block(h, (const unsigned char *)s + i);
	memset(tail, 0, sizeof(tail));
	memcpy(tail, s + full, rest);
	tail[rest] = 0x80;
	tlen = rest + 1 + 8 <= 64 ? 64 : 128;
	for (int i = 0; i < 8; i++)
		tail[tlen - 1 - i] = (unsigned char)(bits >> (8 * i));
	sha1_block(h, tail);
	if (tlen == 128)
		sha1_block(h, tail + 64);
	for (int i = 0; i < 5; i++)
		snprintf(out + 8 * i, 9, "%08x", h[i]);
}

/* ---- commands ---- */

static void run_user_cb(struct hc_redis *r, struct hc_rcmd *c, redisReply *reply)
{
	r->in_cb++;
	if (c->cb)
		c->cb(reply, c->arg);
	r->in_cb--;
	hc_rd_cmd_free(c);
}

static void on_fail_queue(evutil_socket_t fd, short what, void *arg)
{
	struct hc_redis *r = arg;
	struct hc_rcmd *c = r->fail_head;

	/* Take the queue first: callbacks may queue new failures. */
	r->fail_head = r->fail_tail = NULL;
	while (c) {
		struct hc_rcmd *next = c->next;

		run_user_cb(r, c, NULL);
		c = next;
	}
}

/* Fail a command on the next loop pass, never inside hc_redis_cmd. */
static void fail_later(struct hc_redis *r, struct hc_rcmd *c)
{
	static const struct timeval zero = {0, 0};

	c->next = NULL;
	if (r->fail_tail)
		r->fail_tail->next = c;
	else
		r->fail_head = c;
	r->fail_tail = c;
	if (r->state != RS_FREEING && !evtimer_pending(r->fail_ev, NULL))
		evtimer_add(r->fail_ev, &zero);
}

void hc_rd_on_reply(redisAsyncContext *ac, void *reply, void *priv)
{
	struct hc_rcmd *c = priv;
	redisReply *rep = reply;

	if (c->src && rep && rep->type == REDIS_REPLY_ERROR && !strncmp(rep->str, "NOSCRIPT", 8)) {
		/* The script is not cached (new server, SCRIPT FLUSH): send it. */
		c->argv[0] = "EVAL";
		c->argvlen[0] = 4;
		c->argv[1] = c->src;
		c->argvlen[1] = strlen(c->src);
		c->src = NULL;
		if (redisAsyncCommandArgv(ac, hc_rd_on_reply, c, c->argc, c->argv, c->argvlen) ==
		    REDIS_OK)
			return;
		rep = NULL;
	}
	run_user_cb(c->r, c, rep);
}

/* Commands with more or fewer than one reply break "one callback, once":
 * subscriptions go through hc_redis_subscribe. */
int hc_rd_multi_reply_command(const char *name, size_t len)
{
	static const char *const names[] = {"subscribe",    "psubscribe", "unsubscribe",
					    "punsubscribe", "monitor",	  "ssubscribe",
					    "sunsubscribe"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (len == strlen(names[i]) && !strncasecmp(name, names[i], len))
			return 1;
	return 0;
}

/* The same check on a formatted command: "*N\r\n$LEN\r\nNAME\r\n...". */
static int multi_reply_formatted(const char *cmd, int len)
{
	const char *p = memchr(cmd, '$', (size_t)len), *end = cmd + len;
	char *e;
	long n;

	if (!p)
		return 0;
	n = strtol(p + 1, &e, 10);
	if (n <= 0 || e + 2 + n > end)
		return 0;
	return hc_rd_multi_reply_command(e + 2, (size_t)n);
}

/* Hand a formatted command to hiredis, or fail it later when not READY.
 * What the write-behind block holds goes first: commands keep their order. */
static void send_formatted(struct hc_redis *r, struct hc_rcmd *c, char *cmd, int len)
{
	if (r->wb_n || r->fold_n)
		hc_rd_wb_emit(r);
	if (r->state == RS_READY && r->ac &&
	    redisAsyncFormattedCommand(r->ac, hc_rd_on_reply, c, cmd, (size_t)len) == REDIS_OK)
		return;
	fail_later(r, c);
}

int hc_redis_cmd(struct hc_redis *r, hc_redis_cb cb, void *arg, const char *fmt, ...)
{
	struct hc_rcmd *c;
	va_list ap;
	char *cmd;
	int len;

	va_start(ap, fmt);
	len = redisvFormatCommand(&cmd, fmt, ap);
	va_end(ap);
	if (len < 0)
		return -1;
	if (multi_reply_formatted(cmd, len)) {
		redisFreeCommand(cmd);
		return -1;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		redisFreeCommand(cmd);
		return -1;
	}
	c->r = r, c->cb = cb, c->arg = arg;
	send_formatted(r, c, cmd, len);
	redisFreeCommand(cmd);
	return 0;
}

int hc_redis_cmdargv(struct hc_redis *r, hc_redis_cb cb, void *arg, int argc, const char **argv,
		     const size_t *argvlen)
{
	struct hc_rcmd *c;
	char stack[4096], *cmd = stack, *p;
	size_t total;

	if (argc <= 0 || hc_rd_multi_reply_command(argv[0], arg_len(argv, argvlen, 0)))
		return -1;
	/* RESP by hand: hiredis 0.14 formats each length with sprintf, which
	 * cost more than the rest of a fire-and-forget write */
	total = resp_size(argc, argv, argvlen);
	if (total > sizeof stack && !(cmd = malloc(total)))
		return -1;
	p = resp_argv(cmd, argc, argv, argvlen);
	c = calloc(1, sizeof(*c));
	if (c) {
		c->r = r, c->cb = cb, c->arg = arg;
		send_formatted(r, c, cmd, (int)(p - cmd));
	}
	if (cmd != stack)
		free(cmd);
	return c ? 0 : -1;
}

int hc_redis_eval(struct hc_redis *r, struct hc_redis_script *s, hc_redis_cb cb, void *arg,
		  int nkeys, int argc, const char **argv, const size_t *argvlen)
{
	struct hc_rcmd *c;
	char nk[16], *cmd, *p;
	size_t total = 0, off;
	int n = argc + 3, len;

	if (!s || !s->src || argc < 0 || nkeys < 0 || nkeys > argc)
		return -1;
	if (!s->sha[0])
		sha1_hex(s->src, strlen(s->src), s->sha);
	snprintf(nk, sizeof(nk), "%d", nkeys);
	/* One allocation: the rcmd, the argv/argvlen arrays, the copied bytes. */
	for (int i = 0; i < argc; i++)
		total += argvlen ? argvlen[i] : strlen(argv[i]);
	total += 40 + strlen(nk) + 2;
	off = sizeof(*c) + (size_t)n * (sizeof(char *) + sizeof(size_t));
	c = calloc(1, off + total);
	if (!c)
		return -1;
	c->r = r, c->cb = cb, c->arg = arg, c->src = s->src, c->argc = n;
	c->argv = (const char **)(c + 1);
	c->argvlen = (size_t *)(c->argv + n);
	p = (char *)c + off;
	c->argv[0] = "EVALSHA";
	c->argvlen[0] = 7;
	memcpy(p, s->sha, 40);
	c->argv[1] = p, c->argvlen[1] = 40, p += 41;
	memcpy(p, nk, strlen(nk));
	c->argv[2] = p, c->argvlen[2] = strlen(nk), p += strlen(nk) + 1;
	for (int i = 0; i < argc; i++) {
		size_t l = argvlen ? argvlen[i] : strlen(argv[i]);

		memcpy(p, argv[i], l);
		c->argv[3 + i] = p, c->argvlen[3 + i] = l, p += l;
	}
	len = redisFormatCommandArgv(&cmd, n, c->argv, c->argvlen);
	if (len < 0) {
		hc_rd_cmd_free(c);
		return -1;
	}
	send_formatted(r, c, cmd, len);
	redisFreeCommand(cmd);
	return 0;
}

/* ---- subscriptions ---- */

/* Persistent callback for every (P)SUBSCRIBE: hiredis keeps it per channel
 * and calls it for confirmations, messages, and with NULL when the context
 * dies. Messages go to every registered subscription of that name. */
static void on_sub(redisAsyncContext *ac, void *reply, void *priv)
{
	struct hc_redis *r = priv;
	redisReply *rep = reply;
	const char *name, *channel;
	redisReply *payload;
	int pattern;

	if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements < 3 ||
	    rep->element[0]->type != REDIS_REPLY_STRING)
		return;
	if (!strcmp(rep->element[0]->str, "message")) {
		pattern = 0;
		name = channel = rep->element[1]->str;
		payload = rep->element[2];
	} else if (!strcmp(rep->element[0]->str, "pmessage") && rep->elements >= 4) {
		pattern = 1;
		name = rep->element[1]->str;
		channel = rep->element[2]->str;
		payload = rep->element[3];
	} else {
		return; /* subscribe confirmations */
	}
	if (!name || !channel || payload->type != REDIS_REPLY_STRING)
		return;
	r->in_cb++;
	for (struct hc_rsub *s = r->subs; s; s = s->next)
		if (s->pattern == pattern && !strcmp(s->channel, name))
			s->fn(channel, payload->str, payload->len, s->arg);
	r->in_cb--;
}

static void send_subscribe(struct hc_redis *r, const struct hc_rsub *s)
{
	if (redisAsyncCommand(r->ac, on_sub, r, s->pattern ? "PSUBSCRIBE %s" : "SUBSCRIBE %s",
			      s->channel) != REDIS_OK)
		hc_warn("redis: subscribe %s failed: %s", s->channel, r->ac->errstr);
}

int hc_redis_subscribe(struct hc_redis *r, const char *channel, hc_redis_msg_fn fn, void *arg)
{
	struct hc_rsub *s, **tail;
	int again = 0;

	if (!channel || !*channel || !fn)
		return -1;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -1;
	s->channel = strdup(channel);
	if (!s->channel) {
		free(s);
		return -1;
	}
	s->pattern = channel[strlen(channel) - 1] == '*';
	s->fn = fn, s->arg = arg;
	for (tail = &r->subs; *tail; tail = &(*tail)->next)
		if ((*tail)->pattern == s->pattern && !strcmp((*tail)->channel, channel))
			again = 1;
	*tail = s;
	/* When not READY, the next connect subscribes to everything. */
	if (r->state == RS_READY && r->ac && !again)
		send_subscribe(r, s);
	return 0;
}

/* ---- connection ---- */

static void schedule_reconnect(struct hc_redis *r)
{
	struct timeval tv = hc_ms_timeval(r->backoff_ms);

	r->state = RS_DOWN;
	evtimer_add(r->timer, &tv);
	r->backoff_ms *= 2;
	if (r->backoff_ms > r->opts.backoff_max_ms)
		r->backoff_ms = r->opts.backoff_max_ms;
}

/* Drop the current context (it is freed by hiredis, now or when the running
 * callback returns) and try again after the backoff. */
static void drop(struct hc_redis *r, const char *why)
{
	redisAsyncContext *ac = r->ac;

	if (!r->down_logged)
		hc_warn("redis: %s:%d: %s; retrying", r->opts.host, r->opts.port, why);
	r->down_logged = 1;
	r->ac = NULL;
	evtimer_del(r->timer);
	schedule_reconnect(r);
	if (ac)
		redisAsyncFree(ac);
}

static void ready(struct hc_redis *r)
{
	r->state = RS_READY;
	r->backoff_ms = r->opts.backoff_min_ms;
	evtimer_del(r->timer);
	if (r->down_logged)
		hc_info("redis: %s:%d: connected", r->opts.host, r->opts.port);
	r->down_logged = 0;
	for (struct hc_rsub *s = r->subs; s; s = s->next) {
		int dup = 0;

		for (struct hc_rsub *o = r->subs; o != s; o = o->next)
			dup |= o->pattern == s->pattern && !strcmp(o->channel, s->channel);
		if (!dup)
			send_subscribe(r, s);
	}
	if (r->hook) {
		r->in_cb++;
		r->hook(r, r->hook_arg);
		r->in_cb--;
	}
}

static void on_handshake(redisAsyncContext *ac, void *reply, void *priv)
{
	struct hc_redis *r = priv;
	redisReply *rep = reply;
	char why[HC_ERR_MAX];

	if (ac != r->ac || r->state != RS_HANDSHAKE)
		return; /* a context we already dropped */
	if (!rep || rep->type == REDIS_REPLY_ERROR) {
		snprintf(why, sizeof(why), "%s",
			 rep ? rep->str : "connection lost during AUTH/SELECT");
		drop(r, why);
		return;
	}
	if (--r->handshake_left == 0)
		ready(r);
}

/* CLIENT REPLY ON, sent with the handshake: +OK when the server can run
 * the reply-less write-behind block. */
static void on_reply_probe(redisAsyncContext *ac, void *reply, void *priv)
{
	struct hc_redis *r = priv;
	redisReply *rep = reply;

	if (ac != r->ac || r->state != RS_HANDSHAKE)
		return;
	if (!rep) {
		drop(r, "connection lost during the handshake");
		return;
	}
	r->wb_ok = rep->type == REDIS_REPLY_STATUS;
	if (--r->handshake_left == 0)
		ready(r);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
	struct hc_redis *r = ac->data;

	if (ac != r->ac)
		return;
	if (r->state == RS_FREEING) {
		if (status != REDIS_OK)
			r->ac = NULL; /* hiredis frees it after this callback */
		return;
	}
	if (status != REDIS_OK) {
		/* hiredis frees the context after this callback returns. */
		if (!r->down_logged)
			hc_warn("redis: %s:%d: %s; retrying", r->opts.host, r->opts.port,
				ac->errstr[0] ? ac->errstr : "connect failed");
		r->down_logged = 1;
		r->ac = NULL;
		evtimer_del(r->timer);
		schedule_reconnect(r);
		return;
	}
	r->state = RS_HANDSHAKE;
	if (r->handshake_left == 0)
		ready(r);
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
	struct hc_redis *r = ac->data;

	if (ac != r->ac)
		return; /* we dropped it ourselves */
	r->ac = NULL;
	if (r->state == RS_FREEING)
		return;
	/* hiredis has failed the pending commands and frees the context. */
	hc_warn("redis: %s:%d: connection lost: %s", r->opts.host, r->opts.port,
		ac->errstr[0] ? ac->errstr : "closed");
	r->down_logged = 1;
	evtimer_del(r->timer);
	schedule_reconnect(r);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct hc_redis *r = arg;

	switch (r->state) {
	case RS_DOWN:
		start_connect(r);
		break;
	case RS_CONNECTING:
	case RS_HANDSHAKE:
		drop(r, "connect timed out");
		break;
	case RS_READY:
	case RS_FREEING:
		break;
	}
}

static void start_connect(struct hc_redis *r)
{
	struct timeval tv = hc_ms_timeval(r->opts.connect_timeout_ms);
	redisAsyncContext *ac;

	ac = redisAsyncConnect(r->opts.host, r->opts.port);
	if (!ac || ac->err) {
		if (!r->down_logged)
			hc_warn("redis: %s:%d: %s; retrying", r->opts.host, r->opts.port,
				ac ? ac->errstr : "out of memory");
		r->down_logged = 1;
		if (ac)
			redisAsyncFree(ac);
		schedule_reconnect(r);
		return;
	}
	ac->data = r;
	if (hc_redisev_attach(ac, r->base) != 0) {
		redisAsyncFree(ac);
		schedule_reconnect(r);
		return;
	}
	hc_redisev_on_write(ac, hc_rd_wb_hook, r);
	redisAsyncSetConnectCallback(ac, on_connect);
	redisAsyncSetDisconnectCallback(ac, on_disconnect);
	r->ac = ac;
	r->state = RS_CONNECTING;
	r->handshake_left = 0;
	r->wb_ok = 0;
	/* Queued now, written first when the socket connects. */
	if (r->opts.password[0] &&
	    redisAsyncCommand(ac, on_handshake, r, "AUTH %s", r->opts.password) == REDIS_OK)
		r->handshake_left++;
	if (r->opts.db != 0 &&
	    redisAsyncCommand(ac, on_handshake, r, "SELECT %d", r->opts.db) == REDIS_OK)
		r->handshake_left++;
	if (redisAsyncCommand(ac, on_reply_probe, r, "CLIENT REPLY ON") == REDIS_OK)
		r->handshake_left++;
	evtimer_add(r->timer, &tv);
}

struct hc_redis *hc_redis_new(struct event_base *base, const struct hc_redis_opts *opts)
{
	struct hc_redis *r;

	if (!base || !opts || !opts->host[0] || opts->port <= 0)
		return NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->base = base;
	r->opts = *opts;
	hc_rd_wb_init(r);
	if (r->opts.connect_timeout_ms <= 0)
		r->opts.connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
	if (r->opts.backoff_min_ms <= 0)
		r->opts.backoff_min_ms = DEFAULT_BACKOFF_MIN_MS;
	if (r->opts.backoff_max_ms <= 0)
		r->opts.backoff_max_ms = DEFAULT_BACKOFF_MAX_MS;
	if (r->opts.backoff_max_ms < r->opts.backoff_min_ms)
		r->opts.backoff_max_ms = r->opts.backoff_min_ms;
	r->backoff_ms = r->opts.backoff_min_ms;
	r->timer = evtimer_new(base, on_timer, r);
	r->fail_ev = evtimer_new(base, on_fail_queue, r);
	if (!r->timer || !r->fail_ev) {
		real_free(r);
		return NULL;
	}
	start_connect(r);
	return r;
}

void hc_redis_on_connect(struct hc_redis *r, hc_redis_hook fn, void *arg)
{
	r->hook = fn;
	r->hook_arg = arg;
}

int hc_redis_connected(const struct hc_redis *r)
{
	return r && r->state == RS_READY && r->ac && !(r->ac->c.flags & REDIS_DISCONNECTING);
}

static void real_free(struct hc_redis *r)
{
	redisAsyncContext *ac = r->ac;

	r->state = RS_FREEING;
	r->ac = NULL;
	/* hiredis runs every pending callback with NULL, then frees. */
	if (ac)
		redisAsyncFree(ac);
	/* Fail what is queued, including commands issued by those callbacks. */
	while (r->fail_head)
		on_fail_queue(-1, 0, r);
	if (r->timer)
		event_free(r->timer);
	if (r->fail_ev)
		event_free(r->fail_ev);
	while (r->subs) {
		struct hc_rsub *s = r->subs;

		r->subs = s->next;
		free(s->channel);
		free(s);
	}
	hc_rd_wb_free(r);
	free(r);
}

static void on_deferred_free(evutil_socket_t fd, short what, void *arg)
{
	real_free(arg);
}

void hc_redis_free(struct hc_redis *r)
{
	static const struct timeval zero = {0, 0};

	if (!r || r->state == RS_FREEING)
		return;
	/* Inside one of our callbacks hiredis (and our caller) still use the
	 * context and r: finish on the next loop pass. New commands meanwhile
	 * go to the fail queue. */
	if (r->in_cb > 0 || (r->ac && (r->ac->c.flags & REDIS_IN_CALLBACK))) {
		r->state = RS_FREEING;
		evtimer_del(r->timer);
		evtimer_del(r->fail_ev);
		if (event_base_once(r->base, -1, EV_TIMEOUT, on_deferred_free, r, &zero) == 0)
			return;
	}
	real_free(r);
}

/* ---- blocking helpers ---- */

redisContext *hc_redis_sync_connect(const struct hc_redis_opts *opts, struct hc_err *err)
{
	long cms =
	    opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS;
	long ms = cms > SYNC_CMD_TIMEOUT_MS ? cms : SYNC_CMD_TIMEOUT_MS;
	struct timeval ctv = hc_ms_timeval(cms);
	struct timeval tv = hc_ms_timeval(ms);
	redisContext *c;
	redisReply *rep = NULL;

	c = redisConnectWithTimeout(opts->host, opts->port, ctv);
	if (!c) {
		hc_err_set(err, "redis %s:%d: out of memory", opts->host, opts->port);
		return NULL;
	}
	if (c->err) {
		hc_err_set(err, "redis %s:%d: %s", opts->host, opts->port, c->errstr);
		goto fail;
	}
	/* Commands are bounded too: a paused server must not hang start-up. */
	redisSetTimeout(c, tv);
	if (opts->password[0]) {
		rep = hc_redis_sync_cmd(c, err, "AUTH %s", opts->password);
		if (!rep)
			goto fail_prefix;
		freeReplyObject(rep);
	}
	if (opts->db != 0) {
		rep = hc_redis_sync_cmd(c, err, "SELECT %d", opts->db);
		if (!rep)
			goto fail_prefix;
		freeReplyObject(rep);
	}
	return c;
fail_prefix:
	hc_err_prefix(err, "redis %s:%d", opts->host, opts->port);
fail:
	redisFree(c);
	return NULL;
}

redisReply *hc_redis_sync_cmd(redisContext *c, struct hc_err *err, const char *fmt, ...)
{
	redisReply *rep;
	va_list ap;

	va_start(ap, fmt);
	rep = redisvCommand(c, fmt, ap);
	va_end(ap);
	if (!rep) {
		hc_err_set(err, "%s", c->errstr[0] ? c->errstr : "no reply");
		return NULL;
	}
	if (rep->type == REDIS_REPLY_ERROR) {
		hc_err_set(err, "%s", rep->str);
		freeReplyObject(rep);
		return NULL;
	}
	return rep;
}
