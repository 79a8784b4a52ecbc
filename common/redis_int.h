/* common/redis_int.h — what the Redis client's files share (redis.h is the
 * contract for everyone else):
 *
 *   redis.c     the connection machine, commands, EVALSHA, subscriptions,
 *               blocking helpers
 *   rediswb.c   the write-behind block and the folds (hc_redis_cmdargv_later,
 *               hc_redis_fold_later)
 *   redisurl.c  hc_redis_parse_url
 */
#ifndef HC_REDIS_INT_H
#define HC_REDIS_INT_H

#include <hiredis/async.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/redis.h"

enum hc_rs_state { RS_DOWN, RS_CONNECTING, RS_HANDSHAKE, RS_READY, RS_FREEING };

/* One user command in flight. For EVALSHA the arguments are kept (copied)
 * so the command can be re-sent as EVAL after a NOSCRIPT reply. */
struct hc_rcmd {
	struct hc_redis *r;
	hc_redis_cb cb;
	void *arg;
	struct hc_rcmd *next; /* fail queue link */
	/* EVALSHA fallback: argv[0..1] are "EVALSHA" sha, switched to "EVAL" src. */
	const char *src;
	int argc;
	const char **argv;
	size_t *argvlen;
};

struct hc_rsub {
	char *channel;
	int pattern;
	hc_redis_msg_fn fn;
	void *arg;
	struct hc_rsub *next;
};

/* A command gathered value by value for the write-behind block
 * (hc_redis_fold_later). */
#define HC_REDIS_FOLDS 2
struct hc_rfold {
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
	enum hc_rs_state state;
	redisAsyncContext *ac;
	int handshake_left; /* AUTH/SELECT replies still expected */
	long backoff_ms;    /* delay before the next reconnect */
	struct event *timer;
	struct event *fail_ev;
	struct hc_rcmd *fail_head, *fail_tail;
	int in_cb; /* depth of user code running on our stack */
	hc_redis_hook hook;
	void *hook_arg;
	struct hc_rsub *subs;
	int down_logged;  /* log a failing server once, not per retry */
	int wb_ok;	  /* the server knows CLIENT REPLY (probed at connect) */
	int wb_n;	  /* commands in wb */
	struct hc_buf wb; /* the reply-less write-behind block (rediswb.c) */
	struct hc_rfold fold[HC_REDIS_FOLDS]; /* commands being gathered for wb */
	unsigned fold_n;		      /* values in them */
	unsigned long fold_seq;
};

/* The client's own command (redis.c): its callbacks are redis.c's. */
static inline void hc_rd_cmd_free(struct hc_rcmd *c)
{
	free(c); /* argv copies live in the same allocation */
}

/* ---- RESP by hand (hot: formatting every write-behind command) ---- */

/* "$<n>\r\n" or "*<n>\r\n" at p; returns the end. */
static inline char *resp_len(char *p, char kind, size_t n)
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

static inline size_t arg_len(const char **argv, const size_t *argvlen, int i)
{
	return argvlen ? argvlen[i] : strlen(argv[i]);
}

static inline size_t resp_size(int argc, const char **argv, const size_t *argvlen)
{
	size_t total = 32;
	for (int i = 0; i < argc; i++)
		total += arg_len(argv, argvlen, i) + 32;
	return total;
}

/* "$<n>\r\n<s>\r\n" at p (room for n + 32 bytes); returns the end. */
static inline char *resp_bulk(char *p, const char *s, size_t n)
{
	p = resp_len(p, '$', n);
	memcpy(p, s, n);
	p += n;
	*p++ = '\r';
	*p++ = '\n';
	return p;
}

/* The RESP form of argv at p (room for resp_size() bytes); returns the end. */
static inline char *resp_argv(char *p, int argc, const char **argv, const size_t *argvlen)
{
	p = resp_len(p, '*', (size_t)argc);
	for (int i = 0; i < argc; i++)
		p = resp_bulk(p, argv[i], arg_len(argv, argvlen, i));
	return p;
}

/* ---- redis.c ---- */
/* hiredis' callback for every hc_rcmd (priv). */
void hc_rd_on_reply(redisAsyncContext *ac, void *reply, void *priv);
/* A command with more or fewer than one reply ((P|S)(UN)SUBSCRIBE, MONITOR). */
int hc_rd_multi_reply_command(const char *name, size_t len);

/* ---- rediswb.c ---- */
/* The write-behind buffers of a new client / of one being freed. */
void hc_rd_wb_init(struct hc_redis *r);
void hc_rd_wb_free(struct hc_redis *r);
/* Hand what the block and the folds hold to hiredis (before any other
 * command, so commands keep their order). */
void hc_rd_wb_emit(struct hc_redis *r);
/* redisev's before-write hook (arg: the client). */
void hc_rd_wb_hook(void *arg);

#endif
