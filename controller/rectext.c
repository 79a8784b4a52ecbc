/* controller/rectext.c — write an activation record already encoded as
 * text (pr_activation_encode), the warm invoke's path: the same Redis
 * commands as ctl_record_write (activations.c) without a cJSON tree to
 * print. Fire and forget, pipelined on the loop's Redis connection. */
#include <stdio.h>
#include <string.h>

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
	int kl = snprintf(key, sizeof(key), PR_KEY_ACTIVATION, id);
	int zl = snprintf(zkey, sizeof(zkey), PR_KEY_ACTIVATIONS, ns);
	int tl = snprintf(ttls, sizeof(ttls), "%lld", ttl);
	int sl = snprintf(score, sizeof(score), "%llu", (unsigned long long)start_ms);
	if (kl < 0 || (size_t)kl >= sizeof(key) || zl < 0 || (size_t)zl >= sizeof(zkey))
		return -1; /* cannot happen with valid ids and names */
	/* argv form: hiredis formats a printf-style command byte by byte, which
	 * cost more than the rest of the record write */
	const char *set[] = {"SET", key, json, "PX", ttls};
	const size_t setl[] = {3, (size_t)kl, len, 2, (size_t)tl};
	if (hc_redis_cmdargv(L->redis, NULL, NULL, 5, set, setl) < 0)
		return -1;
	const char *zadd[] = {"ZADD", zkey, score, id};
	const size_t zaddl[] = {4, (size_t)zl, (size_t)sl, strlen(id)};
	hc_redis_cmdargv(L->redis, NULL, NULL, 4, zadd, zaddl);
	uint64_t now = hc_now_ms();
	if (now - last_trim >= 1000) {
		last_trim = now;
		hc_redis_cmd(L->redis, NULL, NULL, "ZREMRANGEBYSCORE %s -inf (%lld", zkey,
			     (long long)now - ttl);
		hc_redis_cmd(L->redis, NULL, NULL, "PEXPIRE %s %lld", zkey, ttl);
	}
	return 0;
}
