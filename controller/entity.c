/* controller/entity.c — OpenWhisk entities in Redis (see entity.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/redis.h"
#include "controller/entity.h"
#include "proto/keys.h"

const struct ctl_coll ctl_coll_actions = {"action", "actions", PR_CH_ENTITIES, "actions"};
/* a package write may change any cached action (bindings, inherited
 * parameters): its own channel, on which controllers drop them all */
const struct ctl_coll ctl_coll_packages = {"package", "packages", PR_CH_PACKAGES, "packages"};
const struct ctl_coll ctl_coll_triggers = {"trigger", "triggers", PR_CH_ENTITIES, "triggers"};
const struct ctl_coll ctl_coll_rules = {"rule", "rules", PR_CH_ENTITIES, "rules"};

/* KEYS: document, index; ARGV: expected text ("" = none), new text,
 * updated, name, channel, message. 1 written, 0 changed meanwhile. */
static const char put_lua[] = "local cur = redis.call('GET', KEYS[1])\n"
			      "if (cur or '') ~= ARGV[1] then return 0 end\n"
			      "redis.call('SET', KEYS[1], ARGV[2])\n"
			      "redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])\n"
			      "redis.call('PUBLISH', ARGV[5], ARGV[6])\n"
			      "return 1\n";

/* KEYS: document, index; ARGV: name, channel, message. The deleted text,
 * or nil. */
static const char del_lua[] = "local cur = redis.call('GET', KEYS[1])\n"
			      "if not cur then return false end\n"
			      "redis.call('DEL', KEYS[1])\n"
			      "redis.call('ZREM', KEYS[2], ARGV[1])\n"
			      "redis.call('PUBLISH', ARGV[2], ARGV[3])\n"
			      "return cur\n";

struct ctl_entity_loop {
	struct hc_redis_script put, del;
};

int ctl_entity_loop_init(struct ctl_loop *L)
{
	L->entity = calloc(1, sizeof(*L->entity));
	if (!L->entity)
		return -1;
	L->entity->put.src = put_lua;
	L->entity->del.src = del_lua;
	return 0;
}

void ctl_entity_loop_fini(struct ctl_loop *L)
{
	free(L->entity);
	L->entity = NULL;
}

void ctl_entity_key(const struct ctl_coll *c, const char *path, const char *name, char *out,
		    size_t outlen)
{
	snprintf(out, outlen, "hearth:%s:%s/%s", c->kind, path, name);
}

void ctl_entity_index_key(const struct ctl_coll *c, const char *path, char *out, size_t outlen)
{
	snprintf(out, outlen, "hearth:%s:%s", c->index, path);
}

void ctl_entity_doc_clear(struct ctl_entity_doc *d)
{
	cJSON_Delete(d->doc);
	free(d->raw);
	d->doc = NULL;
	d->raw = NULL;
}

/* One call's callback and what it needs when the reply comes. */
struct op {
	ctl_entity_doc_cb cb;
	ctl_entity_list_cb list_cb;
	ctl_entity_count_cb count_cb;
	void *arg;
	struct ctl_loop *L;
	const struct ctl_coll *c;
	char path[CTL_PATH_MAX];
};

static struct op *op_new(struct ctl_loop *L, const struct ctl_coll *c, const char *path, void *arg)
{
	struct op *op = calloc(1, sizeof(*op));
	if (!op)
		return NULL;
	op->L = L;
	op->c = c;
	op->arg = arg;
	snprintf(op->path, sizeof(op->path), "%s", path);
	return op;
}

/* A stored text into d: 0, or 404 (absent or unreadable) / 500. */
static int read_doc(const redisReply *r, struct ctl_entity_doc *d)
{
	memset(d, 0, sizeof(*d));
	if (!r || r->type != REDIS_REPLY_STRING)
		return 404;
	d->doc = hc_json_parse(r->str, r->len, HC_JSON_MAX_DEPTH, NULL);
	if (!d->doc)
		return 404;
	d->raw = malloc(r->len + 1);
	if (!d->raw) {
		ctl_entity_doc_clear(d);
		return 500;
	}
	memcpy(d->raw, r->str, r->len);
	d->raw[r->len] = '\0';
	return 0;
}

static int unreachable(const redisReply *r)
{
	return !r || r->type == REDIS_REPLY_ERROR;
}

static void on_doc(redisReply *r, void *arg)
{
	struct op *op = arg;
	struct ctl_entity_doc d = {0};
	int st = unreachable(r) ? 503 : read_doc(r, &d);
	op->cb(st, &d, op->arg);
	free(op);
}

/* The end of a call that could not be queued: nothing will call back. */
static int not_started(struct op *op)
{
	free(op);
	return -1;
}

int ctl_entity_get(struct ctl_loop *L, const struct ctl_coll *c, const char *path, const char *name,
		   ctl_entity_doc_cb cb, void *arg)
{
	char key[CTL_KEY_MAX];
	struct op *op = op_new(L, c, path, arg);
	if (!op)
		return -1;
	op->cb = cb;
	ctl_entity_key(c, path, name, key, sizeof(key));
	return hc_redis_cmd(L->redis, on_doc, op, "GET %s", key) < 0 ? not_started(op) : 0;
}

static void on_put(redisReply *r, void *arg)
{
	struct op *op = arg;
	struct ctl_entity_doc d = {0};
	int st = unreachable(r) ? 503 : r->type == REDIS_REPLY_INTEGER && r->integer == 1 ? 0 : 409;
	op->cb(st, &d, op->arg);
	free(op);
}

int ctl_entity_put(struct ctl_loop *L, const struct ctl_coll *c, const char *path, const char *name,
		   const char *old_raw, const cJSON *doc, ctl_entity_doc_cb cb, void *arg)
{
	char key[CTL_KEY_MAX], index[CTL_KEY_MAX], updated[24], msg[CTL_KEY_MAX];
	struct op *op = op_new(L, c, path, arg);
	char *text = op && doc ? cJSON_PrintUnformatted(doc) : NULL;
	if (!text) {
		free(op);
		return -1;
	}
	op->cb = cb;
	ctl_entity_key(c, path, name, key, sizeof(key));
	ctl_entity_index_key(c, path, index, sizeof(index));
	const cJSON *up = cJSON_GetObjectItemCaseSensitive(doc, "updated");
	snprintf(updated, sizeof(updated), "%.0f", cJSON_IsNumber(up) ? up->valuedouble : 0.0);
	snprintf(msg, sizeof(msg), "%s/%s", path, name);
	const char *argv[] = {key,	  index, old_raw ? old_raw : "", text, updated, name,
			      c->channel, msg};
	size_t lens[8];
	for (int i = 0; i < 8; i++)
		lens[i] = strlen(argv[i]);
	int rc = hc_redis_eval(L->redis, &L->entity->put, on_put, op, 2, 8, argv, lens);
	free(text);
	return rc < 0 ? not_started(op) : 0;
}

static void on_del(redisReply *r, void *arg)
{
	struct op *op = arg;
	struct ctl_entity_doc d = {0};
	int st = unreachable(r) ? 503 : read_doc(r, &d);
	op->cb(st, &d, op->arg);
	free(op);
}

int ctl_entity_delete(struct ctl_loop *L, const struct ctl_coll *c, const char *path,
		      const char *name, ctl_entity_doc_cb cb, void *arg)
{
	char key[CTL_KEY_MAX], index[CTL_KEY_MAX], msg[CTL_KEY_MAX];
	struct op *op = op_new(L, c, path, arg);
	if (!op)
		return -1;
	op->cb = cb;
	ctl_entity_key(c, path, name, key, sizeof(key));
	ctl_entity_index_key(c, path, index, sizeof(index));
	snprintf(msg, sizeof(msg), "%s/%s", path, name);
	const char *argv[] = {key, index, name, c->channel, msg};
	size_t lens[5];
	for (int i = 0; i < 5; i++)
		lens[i] = strlen(argv[i]);
	return hc_redis_eval(L->redis, &L->entity->del, on_del, op, 2, 5, argv, lens) < 0
		   ? not_started(op)
		   : 0;
}

/* ---- lists ---- */

static void on_list_docs(redisReply *r, void *arg)
{
	struct op *op = arg;
	cJSON *arr = NULL;
	int st = 0;
	if (!r || r->type != REDIS_REPLY_ARRAY) {
		st = 503;
	} else if (!(arr = cJSON_CreateArray())) {
		st = 500;
	} else {
		for (size_t i = 0; i < r->elements; i++) {
			struct ctl_entity_doc d;
			if (read_doc(r->element[i], &d) != 0)
				continue; /* deleted between the two reads */
			cJSON_AddItemToArray(arr, d.doc);
			free(d.raw);
		}
	}
	op->list_cb(st, arr, op->arg);
	free(op);
}

static void on_list_names(redisReply *r, void *arg)
{
	struct op *op = arg;
	if (!r || r->type != REDIS_REPLY_ARRAY || r->elements == 0) {
		cJSON *empty = r && r->type == REDIS_REPLY_ARRAY ? cJSON_CreateArray() : NULL;
		op->list_cb(empty				? 0
			    : r && r->type == REDIS_REPLY_ARRAY ? 500
								: 503,
			    empty, op->arg);
		free(op);
		return;
	}
	size_t n = r->elements;
	const char **argv = calloc(n + 1, sizeof(*argv));
	size_t *lens = calloc(n + 1, sizeof(*lens));
	char *keys = calloc(n, CTL_KEY_MAX);
	if (!argv || !lens || !keys) {
		op->list_cb(500, NULL, op->arg);
		free(op);
		goto out;
	}
	argv[0] = "MGET";
	lens[0] = 4;
	for (size_t i = 0; i < n; i++) {
		char *k = keys + i * CTL_KEY_MAX;
		const redisReply *e = r->element[i];
		ctl_entity_key(op->c, op->path, e->type == REDIS_REPLY_STRING ? e->str : "", k,
			       CTL_KEY_MAX);
		argv[i + 1] = k;
		lens[i + 1] = strlen(k);
	}
	if (hc_redis_cmdargv(op->L->redis, on_list_docs, op, (int)n + 1, argv, lens) < 0) {
		op->list_cb(500, NULL, op->arg); /* inside a reply: answering now is safe */
		free(op);
	}
out:
	free(argv);
	free(lens);
	free(keys);
}

int ctl_entity_list(struct ctl_loop *L, const struct ctl_coll *c, const char *path, int64_t skip,
		    int64_t limit, ctl_entity_list_cb cb, void *arg)
{
	char index[CTL_KEY_MAX];
	struct op *op = op_new(L, c, path, arg);
	if (!op)
		return -1;
	op->list_cb = cb;
	ctl_entity_index_key(c, path, index, sizeof(index));
	/* newest first: the index is scored by `updated` */
	return hc_redis_cmd(L->redis, on_list_names, op, "ZREVRANGE %s %lld %lld", index,
			    (long long)skip, limit > 0 ? (long long)(skip + limit - 1) : -1LL) < 0
		   ? not_started(op)
		   : 0;
}

static void on_count(redisReply *r, void *arg)
{
	struct op *op = arg;
	op->count_cb(r && r->type == REDIS_REPLY_INTEGER ? (int64_t)r->integer : -1, op->arg);
	free(op);
}

int ctl_entity_count(struct ctl_loop *L, const struct ctl_coll *c, const char *path,
		     ctl_entity_count_cb cb, void *arg)
{
	char index[CTL_KEY_MAX];
	struct op *op = op_new(L, c, path, arg);
	if (!op)
		return -1;
	op->count_cb = cb;
	ctl_entity_index_key(c, path, index, sizeof(index));
	return hc_redis_cmd(L->redis, on_count, op, "ZCARD %s", index) < 0 ? not_started(op) : 0;
}
