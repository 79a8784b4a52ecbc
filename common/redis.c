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
 * User commands are wrapped in a struct rcmd so their callbacks run exactly
 * once: with a reply, with NULL from hiredis, or with NULL from the fail
 * queue (commands issued while not READY, run on the next loop pass). */
#include "common/redis.h"

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

enum rs_state { RS_DOWN, RS_CONNECTING, RS_HANDSHAKE, RS_READY, RS_FREEING };

/* One user command in flight. For EVALSHA the arguments are kept (copied)
 * so the command can be re-sent as EVAL after a NOSCRIPT reply. */
struct rcmd {
	struct hc_redis *r;
	hc_redis_cb cb;
	void *arg;
	struct rcmd *next; /* fail queue link */
	/* EVALSHA fallback: argv[0..1] are "EVALSHA" sha, switched to "EVAL" src. */
	const char *src;
	int argc;
	const char **argv;
	size_t *argvlen;
};

struct sub {
	char *channel;
	int pattern;
	hc_redis_msg_fn fn;
	void *arg;
	struct sub *next;
};

/* A command gathered value by value for the write-behind block
 * (hc_redis_fold_later). */
#define FOLDS 2
struct fold {
	unsigned n;	    /* values, 0 = closed */
	int concat;	    /* HC_FOLD_CONCAT */
	unsigned long used; /* when a value was last added, to close the older */
	size_t cmdlen, keylen;
	char cmd[16];
	char key[512];
	struct hc_buf b; /* the values: RESP bulks, or their bytes (concat) */
};

struct hc_redis {
	struct event_base *base;
	struct hc_redis_opts opts;
	enum rs_state state;
	redisAsyncContext *ac;
	int handshake_left; /* AUTH/SELECT replies still expected */
	long backoff_ms;    /* delay before the next reconnect */
	struct event *timer;
	struct event *fail_ev;
	struct rcmd *fail_head, *fail_tail;
	int in_cb; /* depth of user code running on our stack */
	hc_redis_hook hook;
	void *hook_arg;
	struct sub *subs;
	int down_logged;	 /* log a failing server once, not per retry */
	int wb_ok;		 /* the server knows CLIENT REPLY (probed at connect) */
	int wb_n;		 /* commands in wb */
	struct hc_buf wb;	 /* the reply-less write-behind block (see below) */
	struct fold fold[FOLDS]; /* commands being gathered for wb */
	unsigned fold_n;	 /* values in them */
	unsigned long fold_seq;
};

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

static void rcmd_free(struct rcmd *c)
{
	free(c); /* argv copies live in the same allocation */
}

static void run_user_cb(struct hc_redis *r, struct rcmd *c, redisReply *reply)
{
	r->in_cb++;
	if (c->cb)
		c->cb(reply, c->arg);
	r->in_cb--;
	rcmd_free(c);
}

static void on_fail_queue(evutil_socket_t fd, short what, void *arg)
{
	struct hc_redis *r = arg;
	struct rcmd *c = r->fail_head;

	/* Take the queue first: callbacks may queue new failures. */
	r->fail_head = r->fail_tail = NULL;
	while (c) {
		struct rcmd *next = c->next;

		run_user_cb(r, c, NULL);
		c = next;
	}
}

/* Fail a command on the next loop pass, never inside hc_redis_cmd. */
static void fail_later(struct hc_redis *r, struct rcmd *c)
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

static void on_reply(redisAsyncContext *ac, void *reply, void *priv)
{
	struct rcmd *c = priv;
	redisReply *rep = reply;

	if (c->src && rep && rep->type == REDIS_REPLY_ERROR && !strncmp(rep->str, "NOSCRIPT", 8)) {
		/* The script is not cached (new server, SCRIPT FLUSH): send it. */
		c->argv[0] = "EVAL";
		c->argvlen[0] = 4;
		c->argv[1] = c->src;
		c->argvlen[1] = strlen(c->src);
		c->src = NULL;
		if (redisAsyncCommandArgv(ac, on_reply, c, c->argc, c->argv, c->argvlen) ==
		    REDIS_OK)
			return;
		rep = NULL;
	}
	run_user_cb(c->r, c, rep);
}

/* Commands with more or fewer than one reply break "one callback, once":
 * subscriptions go through hc_redis_subscribe. */
static int multi_reply_command(const char *name, size_t len)
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
	return multi_reply_command(e + 2, (size_t)n);
}

static void wb_emit(struct hc_redis *r);

/* Hand a formatted command to hiredis, or fail it later when not READY.
 * What the write-behind block holds goes first: commands keep their order. */
static void send_formatted(struct hc_redis *r, struct rcmd *c, char *cmd, int len)
{
	if (r->wb_n || r->fold_n)
		wb_emit(r);
	if (r->state == RS_READY && r->ac &&
	    redisAsyncFormattedCommand(r->ac, on_reply, c, cmd, (size_t)len) == REDIS_OK)
		return;
	fail_later(r, c);
}

int hc_redis_cmd(struct hc_redis *r, hc_redis_cb cb, void *arg, const char *fmt, ...)
{
	struct rcmd *c;
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

/* "$<n>\r\n" or "*<n>\r\n" at p; returns the end. */
static char *resp_len(char *p, char kind, size_t n)
{
	char d[24], *e = d + sizeof d;
	do {
		*--e = (char)('0' + n % 10);
		n /= 10;
	} while (n);
	*p++ = kind;
	memcpy(p, e, (size_t)(d + sizeof d - e));
	p += d + sizeof d - e;
	*p++ = '\r';
	*p++ = '\n';
	return p;
}

static size_t arg_len(const char **argv, const size_t *argvlen, int i)
{
	return argvlen ? argvlen[i] : strlen(argv[i]);
}

static size_t resp_size(int argc, const char **argv, const size_t *argvlen)
{
	size_t total = 32;
	for (int i = 0; i < argc; i++)
		total += arg_len(argv, argvlen, i) + 32;
	return total;
}

/* "$<n>\r\n<s>\r\n" at p (room for n + 32 bytes); returns the end. */
static char *resp_bulk(char *p, const char *s, size_t n)
{
	p = resp_len(p, '$', n);
	memcpy(p, s, n);
	p += n;
	*p++ = '\r';
	*p++ = '\n';
	return p;
}

/* The RESP form of argv at p (room for resp_size() bytes); returns the end. */
static char *resp_argv(char *p, int argc, const char **argv, const size_t *argvlen)
{
	p = resp_len(p, '*', (size_t)argc);
	for (int i = 0; i < argc; i++)
		p = resp_bulk(p, argv[i], arg_len(argv, argvlen, i));
	return p;
}

int hc_redis_cmdargv(struct hc_redis *r, hc_redis_cb cb, void *arg, int argc, const char **argv,
		     const size_t *argvlen)
{
	struct rcmd *c;
	char stack[4096], *cmd = stack, *p;
	size_t total;

	if (argc <= 0 || multi_reply_command(argv[0], arg_len(argv, argvlen, 0)))
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

/* ---- write-behind ----
 * Fire-and-forget commands (hc_redis_cmdargv_later without a callback)
 * gather in r->wb and go to hiredis as one block framed by CLIENT REPLY OFF
 * and CLIENT REPLY ON: the server answers the whole block with the one +OK
 * of the ON, so neither it nor we handle a reply per command (per warm
 * invoke, the record's SET and ZADD replies had cost the controller more
 * than writing them). The block is handed over before any other command
 * (order is kept), when redisev writes (its write-behind timer, armed by
 * the first command of a block), or when it is full. A server without
 * CLIENT REPLY (probed at connect) gets the commands one by one. */
#define WB_MAX_CMDS    128
#define WB_MAX_BYTES   (512 << 10)
#define FOLD_MAX_BYTES (WB_MAX_BYTES / 4)
static const char wb_off[] = "*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$3\r\nOFF\r\n";
static const char wb_on[] = "*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$2\r\nON\r\n";

/* Hand wb to hiredis as it is. */
static void wb_send(struct hc_redis *r)
{
	struct rcmd *c;

	if (r->wb_n && r->state == RS_READY && r->ac &&
	    hc_buf_add(&r->wb, wb_on, sizeof wb_on - 1) == 0 && (c = calloc(1, sizeof *c))) {
		c->r = r;
		if (redisAsyncFormattedCommand(r->ac, on_reply, c, r->wb.data, r->wb.len) !=
		    REDIS_OK)
			rcmd_free(c);
	}
	hc_buf_reset(&r->wb);
	r->wb_n = 0;
}

/* Room in wb for a command of up to need bytes (sending wb first when it is
 * full); the new command is written at the end. NULL: too big for a block. */
static char *wb_room(struct hc_redis *r, size_t need)
{
	size_t frame = sizeof wb_off + sizeof wb_on;

	if (need + frame > WB_MAX_BYTES)
		return NULL;
	if (r->wb.len + need + frame > WB_MAX_BYTES)
		wb_send(r);
	if (hc_buf_reserve(&r->wb, need + frame) < 0)
		return NULL;
	if (!r->wb_n)
		hc_buf_add(&r->wb, wb_off, sizeof wb_off - 1); /* fits: reserved */
	return r->wb.data + r->wb.len;
}

static void wb_added(struct hc_redis *r, char *end)
{
	r->wb.len = (size_t)(end - r->wb.data);
	r->wb.data[r->wb.len] = '\0';
	r->wb_n++;
}

/* A fold becomes one command in wb. */
static void fold_close(struct hc_redis *r, struct fold *f)
{
	char *p;

	if (!f->n)
		return;
	if ((p = wb_room(r, f->b.len + f->cmdlen + f->keylen + 64))) {
		p = resp_len(p, '*', f->concat ? 3 : 2 + (size_t)f->n);
		p = resp_bulk(p, f->cmd, f->cmdlen);
		p = resp_bulk(p, f->key, f->keylen);
		if (f->concat)
			p = resp_bulk(p, f->b.data, f->b.len);
		else {
			memcpy(p, f->b.data, f->b.len);
			p += f->b.len;
		}
		wb_added(r, p);
	}
	r->fold_n -= f->n;
	f->n = 0;
	hc_buf_reset(&f->b);
}

static void folds_close(struct hc_redis *r)
{
	for (int i = 0; i < FOLDS; i++)
		fold_close(r, &r->fold[i]);
}

static void wb_emit(struct hc_redis *r)
{
	folds_close(r);
	wb_send(r);
}

static void wb_hook(void *arg)
{
	wb_emit(arg);
}

/* After a command or value was added: a full block goes now (redisev
 * writes it in this pass), else the write-behind timer is armed (unless it
 * is already). */
static void wb_later(struct hc_redis *r)
{
	if (r->wb_n + r->fold_n >= WB_MAX_CMDS)
		wb_emit(r);
	else
		hc_redisev_arm(r->ac);
}

/* Whether commands may go into the write-behind block now. */
static int wb_usable(const struct hc_redis *r)
{
	return r->wb_ok && r->state == RS_READY && r->ac;
}

int hc_redis_cmdargv_later(struct hc_redis *r, hc_redis_cb cb, void *arg, int argc,
			   const char **argv, const size_t *argvlen)
{
	char *p = NULL;

	if (argc > 0 && !multi_reply_command(argv[0], arg_len(argv, argvlen, 0)) && !cb &&
	    wb_usable(r)) {
		folds_close(r); /* what was called before goes before */
		p = wb_room(r, resp_size(argc, argv, argvlen));
	}
	if (!p) {
		/* with a reply to deliver, or too big for a block: queued now,
		 * written behind by redisev (refused there if malformed) */
		if (r->ac)
			hc_redisev_later(r->ac, 1);
		int rc = hc_redis_cmdargv(r, cb, arg, argc, argv, argvlen);
		if (r->ac)
			hc_redisev_later(r->ac, 0);
		return rc;
	}
	wb_added(r, resp_argv(p, argc, argv, argvlen));
	wb_later(r);
	return 0;
}

/* The open fold for cmd and key, or a new one in place of the older. */
static struct fold *fold_for(struct hc_redis *r, int concat, const char *cmd, size_t cmdlen,
			     const char *key, size_t keylen)
{
	struct fold *old = &r->fold[0];
	for (int i = 0; i < FOLDS; i++) {
		struct fold *f = &r->fold[i];
		if (f->n && f->concat == concat && f->cmdlen == cmdlen && f->keylen == keylen &&
		    memcmp(f->cmd, cmd, cmdlen) == 0 && memcmp(f->key, key, keylen) == 0)
			return f;
		if (!f->n || (old->n && f->used < old->used))
			old = f;
	}
	fold_close(r, old);
	old->concat = concat;
	memcpy(old->cmd, cmd, cmdlen);
	old->cmdlen = cmdlen;
	memcpy(old->key, key, keylen);
	old->keylen = keylen;
	return old;
}

int hc_redis_fold_later(struct hc_redis *r, enum hc_fold_kind kind, const char *cmd,
			const char *key, size_t keylen, const char *val, size_t vallen)
{
	size_t cmdlen = strlen(cmd);
	int concat = kind == HC_FOLD_CONCAT;

	if (!wb_usable(r) || cmdlen >= sizeof r->fold[0].cmd || keylen >= sizeof r->fold[0].key ||
	    vallen + 64 > FOLD_MAX_BYTES) {
		const char *argv[] = {cmd, key, val};
		const size_t argvlen[] = {cmdlen, keylen, vallen};
		return hc_redis_cmdargv_later(r, NULL, NULL, 3, argv, argvlen);
	}
	struct fold *f = fold_for(r, concat, cmd, cmdlen, key, keylen);
	if (f->n && f->b.len + vallen + 64 > FOLD_MAX_BYTES)
		fold_close(r, f); /* full: this value starts it again */
	if (hc_buf_reserve(&f->b, vallen + 64) < 0)
		return -1;
	if (concat) {
		memcpy(f->b.data + f->b.len, val, vallen);
		f->b.len += vallen;
	} else {
		f->b.len = (size_t)(resp_bulk(f->b.data + f->b.len, val, vallen) - f->b.data);
	}
	f->b.data[f->b.len] = '\0';
	f->n++;
	f->used = ++r->fold_seq;
	r->fold_n++;
	wb_later(r);
	return 0;
}

int hc_redis_eval(struct hc_redis *r, struct hc_redis_script *s, hc_redis_cb cb, void *arg,
		  int nkeys, int argc, const char **argv, const size_t *argvlen)
{
	struct rcmd *c;
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
		rcmd_free(c);
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
	for (struct sub *s = r->subs; s; s = s->next)
		if (s->pattern == pattern && !strcmp(s->channel, name))
			s->fn(channel, payload->str, payload->len, s->arg);
	r->in_cb--;
}

static void send_subscribe(struct hc_redis *r, const struct sub *s)
{
	if (redisAsyncCommand(r->ac, on_sub, r, s->pattern ? "PSUBSCRIBE %s" : "SUBSCRIBE %s",
			      s->channel) != REDIS_OK)
		hc_warn("redis: subscribe %s failed: %s", s->channel, r->ac->errstr);
}

int hc_redis_subscribe(struct hc_redis *r, const char *channel, hc_redis_msg_fn fn, void *arg)
{
	struct sub *s, **tail;
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
	for (struct sub *s = r->subs; s; s = s->next) {
		int dup = 0;

		for (struct sub *o = r->subs; o != s; o = o->next)
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
	hc_redisev_on_write(ac, wb_hook, r);
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
	hc_buf_init(&r->wb, WB_MAX_BYTES);
	for (int i = 0; i < FOLDS; i++)
		hc_buf_init(&r->fold[i].b, FOLD_MAX_BYTES);
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
		struct sub *s = r->subs;

		r->subs = s->next;
		free(s->channel);
		free(s);
	}
	hc_buf_free(&r->wb);
	for (int i = 0; i < FOLDS; i++)
		hc_buf_free(&r->fold[i].b);
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

/* ---- URL ---- */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Copy [s, s+n) into out (size outlen), decoding %XX. */
static int copy_decoded(const char *s, size_t n, char *out, size_t outlen)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			int hi = i + 2 < n ? hexval(s[i + 1]) : -1;
			int lo = i + 2 < n ? hexval(s[i + 2]) : -1;

			if (hi < 0 || lo < 0)
				return -1;
			c = hi * 16 + lo;
			i += 2;
		}
		if (o + 1 >= outlen || c == 0)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

static int parse_uint(const char *s, size_t n, long max, long *out)
{
	long v = 0;

	if (n == 0 || n > 10)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

int hc_redis_parse_url(const char *url, struct hc_redis_opts *out, struct hc_err *err)
{
	const char *p, *at, *end, *hostend, *slash;
	size_t ulen;
	long v;

	if (!url || !*url)
		return hc_err_set(err, "redis url: empty");
	ulen = strlen(url);
	if (ulen > 1024)
		return hc_err_set(err, "redis url: longer than 1024 bytes");
	memset(out, 0, sizeof(*out));
	out->port = 6379;
	p = url;
	if (!strncmp(p, "redis://", 8))
		p += 8;
	else if (strstr(p, "://"))
		return hc_err_set(err, "redis url: only redis:// is supported: %s", url);
	end = url + ulen;
	/* The password may hold '/' or '@': the host starts after the last '@'. */
	at = NULL;
	for (const char *q = p; q < end; q++)
		if (*q == '@')
			at = q;
	if (at) {
		const char *colon = memchr(p, ':', (size_t)(at - p));

		if (!colon)
			return hc_err_set(err, "redis url: give the password as :password@");
		if (colon != p && !((size_t)(colon - p) == 7 && !strncmp(p, "default", 7)))
			return hc_err_set(err, "redis url: user names other than 'default' are "
					       "not supported");
		if (copy_decoded(colon + 1, (size_t)(at - colon - 1), out->password,
				 sizeof(out->password)) < 0)
			return hc_err_set(err, "redis url: bad or too long password");
		p = at + 1;
	}
	slash = memchr(p, '/', (size_t)(end - p));
	if (!slash)
		slash = end;
	if (*p == '[') {
		hostend = memchr(p, ']', (size_t)(slash - p));
		if (!hostend)
			return hc_err_set(err, "redis url: unterminated [ in host");
		if (copy_decoded(p + 1, (size_t)(hostend - p - 1), out->host, sizeof(out->host)) <
		    0)
			return hc_err_set(err, "redis url: bad host");
		hostend++;
	} else {
		hostend = memchr(p, ':', (size_t)(slash - p));
		if (!hostend)
			hostend = slash;
		if (copy_decoded(p, (size_t)(hostend - p), out->host, sizeof(out->host)) < 0)
			return hc_err_set(err, "redis url: bad or too long host");
	}
	if (!out->host[0])
		return hc_err_set(err, "redis url: no host in %s", url);
	if (hostend < slash) {
		if (*hostend != ':' ||
		    parse_uint(hostend + 1, (size_t)(slash - hostend - 1), 65535, &v) < 0 || v == 0)
			return hc_err_set(err, "redis url: bad port in %s", url);
		out->port = (int)v;
	}
	if (slash < end && slash + 1 < end) {
		if (parse_uint(slash + 1, (size_t)(end - slash - 1), INT_MAX, &v) < 0)
			return hc_err_set(err, "redis url: bad database number in %s", url);
		out->db = (int)v;
	}
	return 0;
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
