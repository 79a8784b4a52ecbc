/* controller/rectext.c — write an activation record already encoded as
 * text (pr_activation_encode), the warm invoke's path: the same Redis
 * commands as ctl_record_write (activations.c) without a cJSON tree to
 * print. Fire and forget, write-behind on the loop's Redis connection: a
 * busy loop sends the records of up to 1 ms in one write, as one block the
 * server does not answer command by command, with one ZADD per namespace
 * (the record write was a third of the controller's CPU per warm invoke).
 * Each record is a field of its creation time's bucket (proto/keys.h),
 * which gets its TTL once per loop and bucket. */
#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/redis.h"
#include "controller/inv.h"
#include "proto/keys.h"

int ctl_record_write_text(struct ctl_loop *L, const char *json, size_t len, const char *id,
			  const char *ns, uint64_t start_ms)
{
	/* one trim of the index per loop per second is plenty (records expire
	 * on their own; the index only has to stop growing) */
	static __thread uint64_t last_trim;
	/* the bucket this loop last gave its TTL, and when: once per bucket
	 * and second is enough (a bucket that expired meanwhile and gets a
	 * late record must have its TTL again) */
	static __thread char last_key[40];
	static __thread uint64_t last_exp;
	struct ctl *c = L->ctl;
	char key[40], zkey[300];
	uint64_t ttl = (uint64_t)c->cfg.activation_ttl_ms;
	char score[24];
	/* no printf here: it cost more than the rest of the write */
	struct hc_buf kb = HC_BUF_FIXED(key), zb = HC_BUF_FIXED(zkey);
	struct hc_buf sb = HC_BUF_FIXED(score);
	if (pr_activation_key(&kb, id) | hc_buf_adds(&zb, PR_KEY_ACTIVATIONS_PREFIX) |
	    hc_buf_adds(&zb, ns) | hc_buf_add_int(&sb, (int64_t)start_ms))
		return -1; /* cannot happen with valid ids and names */
	/* argv form: hiredis formats a printf-style command byte by byte, which
	 * cost more than the rest of the record write */
	const char *hset[] = {"HSET", key, id, json};
	const size_t hsetl[] = {4, kb.len, strlen(id), len};
	if (hc_redis_cmdargv_later(L->redis, NULL, NULL, 4, hset, hsetl) < 0)
		return -1;
	uint64_t now = hc_now_ms();
	if (strcmp(key, last_key) != 0 || now - last_exp >= 1000) {
		char at[24];
		struct hc_buf ab = HC_BUF_FIXED(at);
		hc_buf_add_int(&ab, (int64_t)pr_activation_expiry(id, ttl, now));
		const char *exp[] = {"PEXPIREAT", key, at};
		const size_t expl[] = {9, kb.len, ab.len};
		if (hc_redis_cmdargv_later(L->redis, NULL, NULL, 3, exp, expl) == 0) {
			memcpy(last_key, key, kb.len + 1);
			last_exp = now;
		}
	}
	/* the records of one namespace written together share one ZADD */
	hc_redis_zadd_later(L->redis, zkey, score, id);
	if (now - last_trim >= 1000) {
		last_trim = now;
		hc_redis_cmd(L->redis, NULL, NULL, "ZREMRANGEBYSCORE %s -inf (%lld", zkey,
			     (long long)(now - ttl));
		hc_redis_cmd(L->redis, NULL, NULL, "PEXPIRE %s %lld", zkey, (long long)ttl);
	}
	return 0;
}
