/* controller/rectext.c — write an activation record already encoded as
 * text (pr_activation_encode), the warm invoke's path: the same Redis
 * commands as ctl_record_write (activations.c) without a cJSON tree to
 * print. Fire and forget, write-behind on the loop's Redis connection: a
 * busy loop sends the records of up to 1 ms in one write, as one block the
 * server does not answer command by command, with one ZADD per namespace
 * (the record write was a third of the controller's CPU per warm invoke). */
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
	struct ctl *c = L->ctl;
	char key[128], zkey[300];
	long long ttl = (long long)c->cfg.activation_ttl_ms;
	char ttls[24], score[24];
	/* no printf here: it cost more than the rest of the write */
	struct hc_buf kb = HC_BUF_FIXED(key), zb = HC_BUF_FIXED(zkey);
	struct hc_buf tb = HC_BUF_FIXED(ttls), sb = HC_BUF_FIXED(score);
	if (hc_buf_adds(&kb, PR_KEY_ACTIVATION_PREFIX) | hc_buf_adds(&kb, id) |
	    hc_buf_adds(&zb, PR_KEY_ACTIVATIONS_PREFIX) | hc_buf_adds(&zb, ns) |
	    hc_buf_add_int(&tb, ttl) | hc_buf_add_int(&sb, (int64_t)start_ms))
		return -1; /* cannot happen with valid ids and names */
	size_t kl = kb.len, tl = tb.len;
	/* argv form: hiredis formats a printf-style command byte by byte, which
	 * cost more than the rest of the record write */
	const char *set[] = {"SET", key, json, "PX", ttls};
	const size_t setl[] = {3, kl, len, 2, tl};
	if (hc_redis_cmdargv_later(L->redis, NULL, NULL, 5, set, setl) < 0)
		return -1;
	/* the records of one namespace written together share one ZADD */
	hc_redis_zadd_later(L->redis, zkey, score, id);
	uint64_t now = hc_now_ms();
	if (now - last_trim >= 1000) {
		last_trim = now;
		hc_redis_cmd(L->redis, NULL, NULL, "ZREMRANGEBYSCORE %s -inf (%lld", zkey,
			     (long long)now - ttl);
		hc_redis_cmd(L->redis, NULL, NULL, "PEXPIRE %s %lld", zkey, ttl);
	}
	return 0;
}
