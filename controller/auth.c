/* controller/auth.c — HTTP Basic auth against the cached API keys. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/redis.h"
#include "controller/api.h"
#include "controller/cache.h"
#include "proto/auth.h"
#include "proto/keys.h"

#define MSG_NO_AUTH   "The resource requires authentication, which was not supplied with the request"
#define MSG_BAD_AUTH  "The supplied authentication is invalid"
#define MSG_FORBIDDEN "The supplied authentication is not authorized to access this resource."

static void reply_401(struct hc_req *req, const char *msg)
{
	hc_req_add_header(req, "WWW-Authenticate", "Basic realm=\"OpenWhisk secure realm\"");
	hc_reply_error(req, 401, "%s", msg);
}

struct auth_load {
	struct hc_req *req;
	struct ctl_loop *L;
	ctl_api_fn fn;
	int optional;
	struct pr_cred cred;
	uint64_t gen;
};

/* Decoding the header and hashing the key was a tenth of the controller's
 * CPU per warm invoke, for the same few headers over and over: each loop
 * remembers the last MEMO_N headers it verified, valid while the key
 * cache's generation is unchanged (any key change or drop bumps it). */
#define MEMO_N	 8
#define MEMO_HDR 192 /* "Basic " + base64 of the longest uuid:key, with room */
struct memo {
	size_t len; /* 0: empty */
	uint64_t gen;
	char hdr[MEMO_HDR];
	char ns[PR_NAME_MAX + 1];
	struct pr_cred cred;
};

struct ctl_auth_memo {
	struct memo m[MEMO_N];
	unsigned next;
};

int ctl_auth_loop_init(struct ctl_loop *L)
{
	L->auth = calloc(1, sizeof(*L->auth));
	return L->auth ? 0 : -1;
}

void ctl_auth_loop_fini(struct ctl_loop *L)
{
	free(L->auth);
	L->auth = NULL;
}

static const struct memo *memo_find(const struct ctl_auth_memo *am, const char *h, size_t len,
				    uint64_t gen)
{
	if (!len)
		return NULL;
	for (int i = 0; i < MEMO_N; i++)
		if (am->m[i].len == len && am->m[i].gen == gen && !memcmp(am->m[i].hdr, h, len))
			return &am->m[i];
	return NULL;
}

static void memo_add(struct ctl_auth_memo *am, const char *h, uint64_t gen, const char *ns,
		     const struct pr_cred *cred)
{
	size_t len = strlen(h);
	if (!len || len >= MEMO_HDR)
		return;
	struct memo *m = &am->m[am->next++ % MEMO_N];
	memcpy(m->hdr, h, len);
	m->len = len;
	m->gen = gen;
	strcpy(m->ns, ns);
	m->cred = *cred;
}

void ctl_caller_key(const struct ctl_caller *who, char *out, size_t outlen)
{
	struct hc_buf k = HC_BUF_FIXED_N(out, outlen);
	if (who->cred) {
		hc_buf_adds(&k, who->cred->uuid);
		hc_buf_addc(&k, ':');
		hc_buf_adds(&k, who->cred->key);
	}
}

static void run_as(struct hc_req *req, const char *ns, const struct pr_cred *cred, ctl_api_fn fn)
{
	struct ctl_caller who = {.ns = ns, .cred = cred};
	fn(req, &who);
}

/* No valid credential: 401, or, where it is optional, on as anonymous. */
static void deny(struct hc_req *req, int optional, ctl_api_fn fn, const char *msg)
{
	if (optional)
		run_as(req, NULL, NULL, fn);
	else
		reply_401(req, msg);
}

static void check_and_run(struct hc_req *req, const struct ctl_key *k, const struct pr_cred *cred,
			  uint64_t gen, ctl_api_fn fn, int optional)
{
	if (!pr_cred_matches(cred, k->hash)) {
		deny(req, optional, fn, MSG_BAD_AUTH);
		return;
	}
	char ns[PR_NAME_MAX + 1];
	/* copy: the handler may outlive the cache reference */
	strcpy(ns, k->ns);
	const char *h = hc_req_header(req, "Authorization");
	if (h)
		memo_add(ctl_loop_of(req)->auth, h, gen, ns, cred);
	run_as(req, ns, cred, fn);
}

static void on_key(redisReply *r, void *arg)
{
	struct auth_load *al = arg;
	struct ctl *c = al->L->ctl;
	if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
		hc_reply_error(al->req, 503, "the key store is unreachable; retry shortly");
		goto out;
	}
	if (r->element[0]->type != REDIS_REPLY_STRING ||
	    r->element[1]->type != REDIS_REPLY_STRING || r->element[0]->len > PR_NAME_MAX ||
	    r->element[1]->len != 64) {
		deny(al->req, al->optional, al->fn, MSG_BAD_AUTH);
		goto out;
	}
	struct ctl_key *k = malloc(sizeof(*k));
	if (!k) {
		hc_reply_error(al->req, 500, "out of memory");
		goto out;
	}
	strcpy(k->ns, r->element[0]->str);
	strcpy(k->hash, r->element[1]->str);
	struct ctl_key copy = *k;
	ctl_cache_put(c->keys, al->cred.uuid, k, al->gen, NULL);
	check_and_run(al->req, &copy, &al->cred, al->gen, al->fn, al->optional);
out:
	free(al);
}

static void authenticate(struct hc_req *req, ctl_api_fn fn, int optional)
{
	struct ctl_loop *L = ctl_loop_of(req);
	struct ctl *c = L->ctl;
	struct pr_cred cred;
	const char *h = hc_req_header(req, "Authorization");
	if (!h) {
		deny(req, optional, fn, MSG_NO_AUTH);
		return;
	}
	uint64_t gen = ctl_cache_gen(c->keys);
	const struct memo *m = memo_find(L->auth, h, strlen(h), gen);
	if (m) {
		/* copies: the handler may verify another header (forwarding) */
		char ns[PR_NAME_MAX + 1];
		strcpy(ns, m->ns);
		cred = m->cred;
		run_as(req, ns, &cred, fn);
		return;
	}
	if (pr_cred_from_basic(h, &cred, NULL) < 0) {
		deny(req, optional, fn, MSG_BAD_AUTH);
		return;
	}
	struct ctl_ref ref;
	if (ctl_cache_get(c->keys, cred.uuid, &ref)) {
		struct ctl_key k = *(struct ctl_key *)ref.val;
		ctl_cache_release(&ref);
		check_and_run(req, &k, &cred, gen, fn, optional);
		return;
	}
	struct auth_load *al = calloc(1, sizeof(*al));
	if (!al) {
		hc_reply_error(req, 500, "out of memory");
		return;
	}
	al->req = req;
	al->L = L;
	al->fn = fn;
	al->optional = optional;
	al->cred = cred;
	al->gen = gen;
	char key[128];
	snprintf(key, sizeof(key), PR_KEY_AUTH, cred.uuid);
	if (hc_redis_cmd(L->redis, on_key, al, "HMGET %s %s %s", key, PR_AUTH_F_NS,
			 PR_AUTH_F_HASH) < 0) {
		free(al);
		hc_reply_error(req, 500, "could not query the key store");
	}
}

void ctl_auth_then(struct hc_req *req, ctl_api_fn fn)
{
	authenticate(req, fn, 0);
}

void ctl_auth_optional(struct hc_req *req, ctl_api_fn fn)
{
	authenticate(req, fn, 1);
}

void ctl_h_api(struct hc_req *req, void *arg)
{
	const struct ctl_api_route *r = arg;
	ctl_auth_then(req, r->fn);
}

const char *ctl_req_ns(struct hc_req *req, const struct ctl_caller *who)
{
	const char *ns = hc_req_param(req, "ns");
	if (!ns || !strcmp(ns, "_") || !strcmp(ns, who->ns))
		return who->ns;
	hc_reply_error(req, 403, MSG_FORBIDDEN);
	return NULL;
}
