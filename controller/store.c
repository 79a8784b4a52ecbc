/* controller/store.c — actions as the invoke path reads them: from the
 * cache of immutable snapshots (cache.h) shared by every loop, loaded from
 * Redis on a miss (the document under PR_KEY_ACTION, its code once per
 * digest under PR_KEY_CODE). Invalidated through PR_CH_ENTITIES (server.c)
 * and by this controller's own writes (actions.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/json.h"
#include "common/redis.h"
#include "common/str.h"
#include "controller/store.h"
#include "proto/keys.h"

static cJSON *parse_reply_doc(const redisReply *r)
{
	if (!r || r->type != REDIS_REPLY_STRING)
		return NULL;
	return hc_json_parse(r->str, r->len, HC_JSON_MAX_DEPTH, NULL);
}

void ctl_action_free(void *p)
{
	struct ctl_action *a = p;
	if (!a)
		return;
	cJSON_Delete(a->doc);
	free(a->code);
	free(a);
}

struct lookup {
	struct ctl_loop *L;
	ctl_action_cb cb;
	void *arg;
	uint64_t gen;
	char ckey[2 * PR_NAME_MAX + 2];
	struct ctl_action *a;
};

static void lookup_finish(struct lookup *lk, int status)
{
	struct ctl *c = lk->L->ctl;
	struct ctl_ref ref = {0};
	if (status == 0) {
		/* publish (refused if invalidated meanwhile); either way the
		 * loaded copy answers this call */
		struct ctl_action *a = lk->a;
		lk->a = NULL;
		if (ctl_cache_put(c->actions, lk->ckey, a, lk->gen, &ref) < 0)
			lk->cb(NULL, 503, lk->arg);
		else
			lk->cb(&ref, 0, lk->arg);
	} else {
		lk->cb(NULL, status, lk->arg);
	}
	ctl_action_free(lk->a);
	free(lk);
}

static void on_lookup_code(redisReply *r, void *arg)
{
	struct lookup *lk = arg;
	if (!r || r->type == REDIS_REPLY_ERROR) {
		lookup_finish(lk, 503);
		return;
	}
	if (r->type != REDIS_REPLY_STRING) {
		lookup_finish(lk, 404); /* code vanished: the action is being deleted */
		return;
	}
	lk->a->code = malloc(r->len + 1);
	if (!lk->a->code) {
		lookup_finish(lk, 503);
		return;
	}
	memcpy(lk->a->code, r->str, r->len);
	lk->a->code[r->len] = '\0';
	lk->a->code_len = r->len;
	lookup_finish(lk, 0);
}

static void on_lookup_doc(redisReply *r, void *arg)
{
	struct lookup *lk = arg;
	struct ctl *c = lk->L->ctl;
	if (!r || r->type == REDIS_REPLY_ERROR) {
		lookup_finish(lk, 503);
		return;
	}
	cJSON *doc = parse_reply_doc(r);
	if (!doc) {
		lookup_finish(lk, 404);
		return;
	}
	lk->a = calloc(1, sizeof(*lk->a));
	if (!lk->a) {
		cJSON_Delete(doc);
		lookup_finish(lk, 503);
		return;
	}
	lk->a->doc = doc;
	if (pr_action_info(doc, &c->bounds, &lk->a->info, NULL) < 0) {
		lookup_finish(lk, 404);
		return;
	}
	snprintf(lk->a->fqn, sizeof(lk->a->fqn), "/%s/%s", lk->a->info.ns, lk->a->info.name);
	if (lk->a->info.digest[0]) {
		char ck[128];
		snprintf(ck, sizeof(ck), PR_KEY_CODE, lk->a->info.digest);
		hc_redis_cmd(lk->L->redis, on_lookup_code, lk, "GET %s", ck);
		return;
	}
	lookup_finish(lk, 0);
}

void ctl_action_lookup(struct ctl_loop *L, const char *ns, const char *name, ctl_action_cb cb,
		       void *arg)
{
	struct ctl *c = L->ctl;
	char ckey[2 * PR_NAME_MAX + 2];
	struct ctl_ref ref;
	struct hc_buf k = HC_BUF_FIXED(ckey); /* no printf: once per invoke */
	if (hc_buf_adds(&k, ns) | hc_buf_addc(&k, '/') | hc_buf_adds(&k, name)) {
		cb(NULL, 404, arg); /* longer than any valid name */
		return;
	}
	if (ctl_cache_get(c->actions, ckey, &ref)) {
		cb(&ref, 0, arg);
		return;
	}
	struct lookup *lk = calloc(1, sizeof(*lk));
	if (!lk) {
		cb(NULL, 503, arg);
		return;
	}
	lk->L = L;
	lk->cb = cb;
	lk->arg = arg;
	lk->gen = ctl_cache_gen(c->actions);
	hc_strlcpy(lk->ckey, ckey, sizeof(lk->ckey));
	char key[2 * PR_NAME_MAX + 32];
	snprintf(key, sizeof(key), PR_KEY_ACTION, ns, name);
	hc_redis_cmd(L->redis, on_lookup_doc, lk, "GET %s", key);
}

void ctl_action_key(char *out, size_t outlen, const char *ns, const char *name)
{
	snprintf(out, outlen, "%s/%s", ns, name);
}
