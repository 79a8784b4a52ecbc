/* redis.h — Redis over hiredis async, driven by libevent.
 *
 * One struct hc_redis per event loop (not thread-safe). It connects (with
 * AUTH and SELECT when configured), reconnects with exponential backoff
 * when the connection drops, and re-runs the on-connect hook each time
 * (resubscribe, reload scripts). Every command's callback is called exactly
 * once: with the reply, or with NULL when Redis is unreachable, the
 * connection dropped, or the client is being freed. Commands issued while
 * disconnected fail at once (callback with NULL on the next loop pass), so
 * callers never wait on a dead connection.
 *
 * A client in subscriber mode (hc_redis_subscribe) receives messages for its
 * channels and must not be used for other commands.
 *
 * The synchronous helpers are for start-up, the CLI and tests only. */
#ifndef HC_REDIS_H
#define HC_REDIS_H

#include <hiredis/hiredis.h>
#include <stddef.h>

#include "common/err.h"

struct event_base;
struct hc_redis;

struct hc_redis_opts {
	char host[256];
	int port;
	char password[256]; /* "" for none */
	int db;
	long connect_timeout_ms; /* 0 = 1000 */
	long backoff_min_ms;	 /* 0 = 50 */
	long backoff_max_ms;	 /* 0 = 2000 */
};

/* Parse "redis://[:password@]host[:port][/db]" (also "host:port").
 * Returns 0 or -1 with err. */
int hc_redis_parse_url(const char *url, struct hc_redis_opts *out, struct hc_err *err);

/* reply is NULL on any failure; a Redis error reply arrives as REDIS_REPLY_ERROR.
 * The reply is freed after the callback returns. */
typedef void (*hc_redis_cb)(redisReply *reply, void *arg);
typedef void (*hc_redis_hook)(struct hc_redis *r, void *arg);

/* Create a client and start connecting (asynchronously). */
struct hc_redis *hc_redis_new(struct event_base *base, const struct hc_redis_opts *opts);

/* Called after every successful connect + auth, on the loop thread. */
void hc_redis_on_connect(struct hc_redis *r, hc_redis_hook fn, void *arg);

/* Nonzero while connected and authenticated. */
int hc_redis_connected(const struct hc_redis *r);

/* Queue a command (hiredis format: "SET %s %b"). cb may be NULL. Returns 0;
 * -1 only when the command could not be formatted or is one without exactly
 * one reply ((P|S)(UN)SUBSCRIBE, MONITOR: use hc_redis_subscribe); then cb
 * is not called. */
int hc_redis_cmd(struct hc_redis *r, hc_redis_cb cb, void *arg, const char *fmt, ...);
int hc_redis_cmdargv(struct hc_redis *r, hc_redis_cb cb, void *arg, int argc, const char **argv,
		     const size_t *argvlen);

/* The same, write-behind: the command may wait up to HC_REDISEV_LATER_US
 * (5 ms) to be written together with others; any ordinary command queued
 * meanwhile on this client sends it at once, in order. For fire-and-forget
 * writes on a hot path (activation records): a reader on another connection
 * may not see the write for that long. */
int hc_redis_cmdargv_later(struct hc_redis *r, hc_redis_cb cb, void *arg, int argc,
			   const char **argv, const size_t *argvlen);

/* cmd key val, fire and forget, written behind as above, for what a hot
 * path sends many of: the values of calls for one cmd and key are sent as
 * one command, cmd key v1 v2 ... (HC_FOLD_ARGS: RPUSH, SADD) or cmd key
 * v1v2... (HC_FOLD_CONCAT: APPEND). Two such commands gather at once (a
 * third closes the older); any other command closes both first, so
 * commands keep their order, but for folded values among themselves. */
enum hc_fold_kind { HC_FOLD_ARGS, HC_FOLD_CONCAT };
int hc_redis_fold_later(struct hc_redis *r, enum hc_fold_kind kind, const char *cmd,
			const char *key, size_t keylen, const char *val, size_t vallen);

/* A Lua script run by SHA; the SHA is computed on first use. */
struct hc_redis_script {
	const char *src;
	char sha[41];
};

/* EVALSHA, falling back to EVAL when Redis answers NOSCRIPT.
 * argv holds the keys first (nkeys of them), then the other arguments. */
int hc_redis_eval(struct hc_redis *r, struct hc_redis_script *s, hc_redis_cb cb, void *arg,
		  int nkeys, int argc, const char **argv, const size_t *argvlen);

/* Subscriber mode: deliver every message on channel to fn (payload is not
 * NUL-terminated beyond len; it is in practice, but use len). Subscriptions
 * survive reconnects. Channels ending in '*' are patterns (PSUBSCRIBE). */
typedef void (*hc_redis_msg_fn)(const char *channel, const char *payload, size_t len, void *arg);
int hc_redis_subscribe(struct hc_redis *r, const char *channel, hc_redis_msg_fn fn, void *arg);

/* Disconnect, fail every pending command (callbacks with NULL), free.
 * May be called from inside this client's own callbacks (reply, message,
 * on-connect hook): the client is then released on the next loop pass, so
 * run the loop once more before freeing the base; commands issued in between
 * fail with NULL. */
void hc_redis_free(struct hc_redis *r);

/* Blocking helpers (start-up, CLI, tests). */
redisContext *hc_redis_sync_connect(const struct hc_redis_opts *opts, struct hc_err *err);
/* Returns the reply (free with freeReplyObject) or NULL with err; a Redis
 * error reply is returned as NULL with err holding its text. */
redisReply *hc_redis_sync_cmd(redisContext *c, struct hc_err *err, const char *fmt, ...);

#endif
