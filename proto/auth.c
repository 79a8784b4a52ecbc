/* proto/auth.c — API keys (see auth.h). */
#include "proto/auth.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/clock.h"
#include "common/id.h"
#include "common/redis.h"
#include "common/sha256.h"
#include "proto/keys.h"

static int uuid_valid(const char *s, size_t n)
{
	if (n != PR_AUTH_UUID_LEN)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!isxdigit((unsigned char)s[i])) {
			return 0;
		}
	}
	return 1;
}

int pr_cred_parse(const char *s, size_t len, struct pr_cred *out, struct hc_err *err)
{
	const char *colon = s ? memchr(s, ':', len) : NULL;
	if (!colon)
		return hc_err_set(err, "credential must be uuid:key");
	size_t ul = (size_t)(colon - s), kl = len - ul - 1;
	if (!uuid_valid(s, ul))
		return hc_err_set(err, "the uuid must be 36 characters (8-4-4-4-12 hex)");
	if (kl != PR_AUTH_KEY_LEN)
		return hc_err_set(err, "the key must be exactly %d characters", PR_AUTH_KEY_LEN);
	for (size_t i = 0; i < kl; i++)
		if (!isalnum((unsigned char)colon[1 + i]))
			return hc_err_set(err, "the key must be alphanumeric");
	memcpy(out->uuid, s, ul);
	out->uuid[ul] = '\0';
	for (size_t i = 0; i < ul; i++)
		out->uuid[i] = (char)tolower((unsigned char)out->uuid[i]);
	memcpy(out->key, colon + 1, kl);
	out->key[kl] = '\0';
	return 0;
}

static int b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

long pr_base64_decode(const char *in, size_t len, char *out, size_t outlen)
{
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0, pad = 0;
	for (size_t i = 0; i < len; i++) {
		if (in[i] == '=') {
			pad++;
			continue;
		}
		int v = b64val((unsigned char)in[i]);
		if (v < 0 || pad)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o + 1 >= outlen)
				return -1;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	if (pad > 2 || (len % 4 && pad))
		return -1;
	out[o] = '\0';
	return (long)o;
}

long pr_base64_encode(const void *in, size_t len, char *out, size_t outlen)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = in;
	size_t need = 4 * ((len + 2) / 3);
	if (need + 1 > outlen)
		return -1;
	size_t o = 0;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		out[o++] = tab[(v >> 18) & 63];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = i + 1 < len ? tab[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? tab[v & 63] : '=';
	}
	out[o] = '\0';
	return (long)o;
}

int pr_cred_from_basic(const char *header, struct pr_cred *out, struct hc_err *err)
{
	char dec[PR_AUTH_CRED_LEN + 8];
	if (!header)
		return hc_err_set(err, "no credentials");
	if (strncasecmp(header, "basic ", 6) != 0)
		return hc_err_set(err, "only Basic authentication is supported");
	const char *b = header + 6;
	while (*b == ' ')
		b++;
	size_t n = strlen(b);
	while (n && b[n - 1] == ' ')
		n--;
	long dl = pr_base64_decode(b, n, dec, sizeof(dec));
	if (dl < 0)
		return hc_err_set(err, "malformed Basic credentials");
	return pr_cred_parse(dec, (size_t)dl, out, err);
}

void pr_cred_hash(const struct pr_cred *c, char out[65])
{
	hc_sha256_hex(c->key, strlen(c->key), out);
}

int pr_cred_matches(const struct pr_cred *c, const char *stored_hash)
{
	char h[65];
	unsigned diff = 0;
	pr_cred_hash(c, h);
	if (!stored_hash || strlen(stored_hash) != 64)
		return 0;
	for (int i = 0; i < 64; i++)
		diff |= (unsigned)(h[i] ^ stored_hash[i]);
	return diff == 0;
}

int pr_namespace_valid(const char *ns)
{
	size_t n = ns ? strlen(ns) : 0;
	if (n == 0 || n > 256 || !strcmp(ns, "_"))
		return 0;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)ns[i];
		if (!isalnum(c) && c != '_' && c != '@' && c != '.' && c != '-')
			return 0;
	}
	return 1;
}

/* Run a command and check it is not an error; frees the reply. */
static int run(redisContext *rc, struct hc_err *err, redisReply *r)
{
	(void)rc;
	if (!r)
		return -1; /* err already set by hc_redis_sync_cmd */
	freeReplyObject(r);
	return 0;
}

int pr_auth_key_create(redisContext *rc, const char *ns, const char *cred_in,
		       char out[PR_AUTH_CRED_LEN + 1], struct hc_err *err)
{
	struct pr_cred c;
	char key[64 + PR_AUTH_UUID_LEN], hash[65], created[24];
	if (!pr_namespace_valid(ns))
		return hc_err_set(err, "namespace '%.64s' is not valid (1-256 of A-Za-z0-9_@.-)",
				  ns ? ns : "");
	if (cred_in) {
		if (pr_cred_parse(cred_in, strlen(cred_in), &c, err) < 0)
			return -1;
	} else {
		char id[HC_ID_LEN + 1];
		hc_id_new(id);
		snprintf(c.uuid, sizeof(c.uuid), "%.8s-%.4s-%.4s-%.4s-%.12s", id, id + 8, id + 12,
			 id + 16, id + 20);
		hc_random_alnum(c.key, PR_AUTH_KEY_LEN);
	}
	snprintf(key, sizeof(key), PR_KEY_AUTH, c.uuid);
	redisReply *r = hc_redis_sync_cmd(rc, err, "HGET %s %s", key, PR_AUTH_F_NS);
	if (!r)
		return -1;
	int taken = r->type == REDIS_REPLY_STRING && strcmp(r->str, ns) != 0;
	freeReplyObject(r);
	if (taken)
		return hc_err_set(err, "uuid %s already belongs to another namespace", c.uuid);
	pr_cred_hash(&c, hash);
	snprintf(created, sizeof(created), "%llu", (unsigned long long)hc_now_ms());
	char nskeys[300];
	snprintf(nskeys, sizeof(nskeys), PR_KEY_NS_KEYS, ns);
	if (run(rc, err,
		hc_redis_sync_cmd(rc, err, "HSET %s %s %s %s %s %s %s", key, PR_AUTH_F_NS, ns,
				  PR_AUTH_F_HASH, hash, PR_AUTH_F_CREATED, created)) < 0 ||
	    run(rc, err, hc_redis_sync_cmd(rc, err, "SADD %s %s", nskeys, c.uuid)) < 0 ||
	    run(rc, err, hc_redis_sync_cmd(rc, err, "SADD %s %s", PR_KEY_NAMESPACES, ns)) < 0 ||
	    run(rc, err, hc_redis_sync_cmd(rc, err, "PUBLISH %s %s", PR_CH_KEYS, c.uuid)) < 0)
		return -1;
	snprintf(out, PR_AUTH_CRED_LEN + 1, "%s:%s", c.uuid, c.key);
	return 0;
}

int pr_auth_key_delete(redisContext *rc, const char *uuid, struct hc_err *err)
{
	char key[64 + PR_AUTH_UUID_LEN], nskeys[300];
	if (!uuid || strlen(uuid) > PR_AUTH_UUID_LEN)
		return hc_err_set(err, "uuid is not valid");
	snprintf(key, sizeof(key), PR_KEY_AUTH, uuid);
	redisReply *r = hc_redis_sync_cmd(rc, err, "HGET %s %s", key, PR_AUTH_F_NS);
	if (!r)
		return -1;
	if (r->type != REDIS_REPLY_STRING) {
		freeReplyObject(r);
		return hc_err_set(err, "no key with uuid %s", uuid);
	}
	snprintf(nskeys, sizeof(nskeys), PR_KEY_NS_KEYS, r->str);
	freeReplyObject(r);
	if (run(rc, err, hc_redis_sync_cmd(rc, err, "DEL %s", key)) < 0 ||
	    run(rc, err, hc_redis_sync_cmd(rc, err, "SREM %s %s", nskeys, uuid)) < 0 ||
	    run(rc, err, hc_redis_sync_cmd(rc, err, "PUBLISH %s %s", PR_CH_KEYS, uuid)) < 0)
		return -1;
	return 0;
}

int pr_auth_ns_delete(redisContext *rc, const char *ns, struct hc_err *err)
{
	char nskeys[300];
	if (!pr_namespace_valid(ns))
		return hc_err_set(err, "namespace is not valid");
	snprintf(nskeys, sizeof(nskeys), PR_KEY_NS_KEYS, ns);
	redisReply *r = hc_redis_sync_cmd(rc, err, "SMEMBERS %s", nskeys);
	if (!r)
		return -1;
	for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
		if (r->element[i]->type == REDIS_REPLY_STRING &&
		    pr_auth_key_delete(rc, r->element[i]->str, err) < 0) {
			freeReplyObject(r);
			return -1;
		}
	}
	freeReplyObject(r);
	if (run(rc, err, hc_redis_sync_cmd(rc, err, "DEL %s", nskeys)) < 0 ||
	    run(rc, err, hc_redis_sync_cmd(rc, err, "SREM %s %s", PR_KEY_NAMESPACES, ns)) < 0)
		return -1;
	return 0;
}
