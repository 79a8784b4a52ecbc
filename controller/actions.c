/* controller/actions.c — actions: list, get, create/update, delete, and the
 * action cache the invoke path reads.
 *
 * Storage (proto/keys.h): the document without its code under PR_KEY_ACTION,
 * the name in the namespace's zset PR_KEY_ACTIONS scored by `updated`, the
 * code once per sha256 digest under PR_KEY_CODE with the set of actions
 * using it in PR_KEY_CODE_REFS (the last one out deletes the code). Writes
 * are Lua scripts, so each is atomic and compares the document it read
 * (a concurrent writer gets 409 as in OpenWhisk), and they publish the
 * change on PR_CH_ENTITIES for every controller's cache. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/json.h"
#include "common/log.h"
#include "common/sha256.h"
#include "common/str.h"
#include "controller/api.h"
#include "controller/entity.h"
#include "controller/limits.h"
#include "controller/store.h"
#include "proto/keys.h"

#define MSG_NOT_FOUND "The requested resource does not exist."

/* KEYS: action, actions zset, new code, new refs, old code, old refs
 * ARGV: expected old doc ("" = none), new doc, updated, name, code, "ns/name",
 *       new digest ("" = no code), old digest, channel */
const char *const ctl_put_lua =
    "local cur = redis.call('GET', KEYS[1])\n"
    "if (cur or '') ~= ARGV[1] then return 0 end\n"
    "redis.call('SET', KEYS[1], ARGV[2])\n"
    "redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])\n"
    "if ARGV[7] ~= '' then\n"
    "  if redis.call('EXISTS', KEYS[3]) == 0 then redis.call('SET', KEYS[3], ARGV[5]) end\n"
    "  redis.call('SADD', KEYS[4], ARGV[6])\n"
    "end\n"
    "if ARGV[8] ~= '' and ARGV[8] ~= ARGV[7] then\n"
    "  redis.call('SREM', KEYS[6], ARGV[6])\n"
    "  if redis.call('SCARD', KEYS[6]) == 0 then redis.call('DEL', KEYS[5]) end\n"
    "end\n"
    "redis.call('PUBLISH', ARGV[9], ARGV[6])\n"
    "return 1\n";

/* KEYS: action, actions zset; ARGV: name, "ns/name", code key prefix,
 * refs key prefix, channel. Returns the deleted document or nil. */
const char *const ctl_del_lua =
    "local cur = redis.call('GET', KEYS[1])\n"
    "if not cur then return false end\n"
    "redis.call('DEL', KEYS[1])\n"
    "redis.call('ZREM', KEYS[2], ARGV[1])\n"
    "local ok, doc = pcall(cjson.decode, cur)\n"
    "local d = ok and type(doc) == 'table' and type(doc.exec) == 'table' and doc.exec.digest\n"
    "if type(d) == 'string' and d ~= '' then\n"
    "  redis.call('SREM', ARGV[4] .. d, ARGV[2])\n"
    "  if redis.call('SCARD', ARGV[4] .. d) == 0 then redis.call('DEL', ARGV[3] .. d) end\n"
    "end\n"
    "redis.call('PUBLISH', ARGV[5], ARGV[2])\n"
    "return cur\n";

#define CODE_PREFIX "hearth:code:"
#define REFS_PREFIX "hearth:coderefs:"

/* ---- helpers ---- */

static void reply_json_take(struct hc_req *req, int status, cJSON *j)
{
	if (!j) {
		hc_reply_error(req, 500, "out of memory");
		return;
	}
	hc_reply_json(req, status, j);
	cJSON_Delete(j);
}

/* Common context for the CRUD calls. */
struct act_op {
	struct hc_req *req;
	struct ctl_loop *L;
	char ns[PR_NAME_MAX + 1];
	char name[PR_NAME_MAX + 1];
	char key[2 * PR_NAME_MAX + 32];
	int with_code;
	int overwrite;
	int64_t limit, skip;
	struct pr_action_put put;
	cJSON *doc; /* the document being written / read */
};

static struct act_op *op_new(struct hc_req *req, const struct ctl_caller *who)
{
	const char *ns = ctl_req_ns(req, who);
	if (!ns)
		return NULL;
	struct act_op *op = calloc(1, sizeof(*op));
	if (!op) {
		hc_reply_error(req, 500, "out of memory");
		return NULL;
	}
	op->req = req;
	op->L = ctl_loop_of(req);
	hc_strlcpy(op->ns, ns, sizeof(op->ns));
	const char *name = hc_req_param(req, "name");
	if (name) {
		if (!pr_name_valid(name)) {
			hc_reply_error(req, 400,
				       "The request content was malformed:\n"
				       "the action name is not valid");
			free(op);
			return NULL;
		}
		hc_strlcpy(op->name, name, sizeof(op->name));
		snprintf(op->key, sizeof(op->key), PR_KEY_ACTION, op->ns, op->name);
	}
	return op;
}

static void op_free(struct act_op *op)
{
	pr_action_put_free(&op->put);
	cJSON_Delete(op->doc);
	free(op);
}

static cJSON *parse_reply_doc(const redisReply *r)
{
	if (!r || r->type != REDIS_REPLY_STRING)
		return NULL;
	return hc_json_parse(r->str, r->len, HC_JSON_MAX_DEPTH, NULL);
}

/* ---- GET one ---- */

static void on_get_code(redisReply *r, void *arg)
{
	struct act_op *op = arg;
	if (!r || r->type == REDIS_REPLY_ERROR) {
		hc_reply_error(op->req, 503, "the entity store is unreachable; retry shortly");
	} else {
		const char *code = r->type == REDIS_REPLY_STRING ? r->str : "";
		size_t len = r->type == REDIS_REPLY_STRING ? r->len : 0;
		reply_json_take(op->req, 200, pr_action_to_api(op->doc, code, len));
	}
	op_free(op);
}

static void on_get_doc(redisReply *r, void *arg)
{
	struct act_op *op = arg;
	if (!r || r->type == REDIS_REPLY_ERROR) {
		hc_reply_error(op->req, 503, "the entity store is unreachable; retry shortly");
		goto done;
	}
	if (r->type != REDIS_REPLY_STRING || !(op->doc = parse_reply_doc(r))) {
		hc_reply_error(op->req, 404, MSG_NOT_FOUND);
		goto done;
	}
	const cJSON *exec = cJSON_GetObjectItemCaseSensitive(op->doc, "exec");
	const cJSON *dg = cJSON_GetObjectItemCaseSensitive(exec, "digest");
	if (op->with_code && cJSON_IsString(dg) && dg->valuestring[0]) {
		char ck[128];
		snprintf(ck, sizeof(ck), PR_KEY_CODE, dg->valuestring);
		hc_redis_cmd(op->L->redis, on_get_code, op, "GET %s", ck);
		return;
	}
	reply_json_take(op->req, 200, pr_action_to_api(op->doc, NULL, 0));
done:
	op_free(op);
}

void ctl_action_get(struct hc_req *req, const struct ctl_caller *who)
{
	struct act_op *op = op_new(req, who);
	if (!op)
		return;
	int wc = ctl_query_bool(req, "code", 1);
	op->with_code = wc != 0;
	hc_redis_cmd(op->L->redis, on_get_doc, op, "GET %s", op->key);
}

/* ---- PUT ---- */

static void on_put_done(redisReply *r, void *arg)
{
	struct act_op *op = arg;
	struct ctl *c = op->L->ctl;
	if (!r || r->type == REDIS_REPLY_ERROR) {
		if (r)
			hc_warn("action put %s/%s: %s", op->ns, op->name, r->str);
		hc_reply_error(op->req, 503, "the entity store is unreachable; retry shortly");
		goto done;
	}
	if (r->type != REDIS_REPLY_INTEGER || r->integer != 1) {
		hc_reply_error(op->req, 409, "Concurrent modification to resource detected.");
		goto done;
	}
	char ck[2 * PR_NAME_MAX + 2];
	ctl_action_key(ck, sizeof(ck), op->ns, op->name);
	ctl_cache_drop(c->actions, ck); /* read-your-writes on this controller */
	if (op->put.has_exec)		/* the namespace's quotas count it (limits.h) */
		ctl_limits_note_action(op->L, op->ns, op->name, (int64_t)op->put.code_len);
	if (op->put.code || !op->put.has_exec) {
		/* the reply carries the code: the new one, or the stored one */
		if (op->put.code) {
			reply_json_take(op->req, 200,
					pr_action_to_api(op->doc, op->put.code, op->put.code_len));
		} else {
			const cJSON *dg = cJSON_GetObjectItemCaseSensitive(
			    cJSON_GetObjectItemCaseSensitive(op->doc, "exec"), "digest");
			if (cJSON_IsString(dg) && dg->valuestring[0]) {
				char key[128];
				snprintf(key, sizeof(key), PR_KEY_CODE, dg->valuestring);
				hc_redis_cmd(op->L->redis, on_get_code, op, "GET %s", key);
				return;
			}
			reply_json_take(op->req, 200, pr_action_to_api(op->doc, NULL, 0));
		}
	} else {
		reply_json_take(op->req, 200, pr_action_to_api(op->doc, NULL, 0));
	}
done:
	op_free(op);
}

static void on_put_old(redisReply *r, void *arg)
{
	struct act_op *op = arg;
	struct ctl_loop *L = op->L;
	struct ctl *c = L->ctl;
	struct hc_err err = {{0}};
	cJSON *old = NULL;
	char *doc_s = NULL;
	char digest[65] = "", old_digest[65] = "";
	if (!r || r->type == REDIS_REPLY_ERROR) {
		hc_reply_error(op->req, 503, "the entity store is unreachable; retry shortly");
		goto fail;
	}
	if (r->type == REDIS_REPLY_STRING) {
		if (!op->overwrite) {
			hc_reply_error(op->req, 409, "resource already exists");
			goto fail;
		}
		old = parse_reply_doc(r);
		const cJSON *dg = cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(old, "exec"), "digest");
		if (cJSON_IsString(dg) && strlen(dg->valuestring) == 64)
			strcpy(old_digest, dg->valuestring);
	}
	if (op->put.code)
		hc_sha256_hex(op->put.code, op->put.code_len, digest);
	else if (!op->put.has_exec)
		strcpy(digest, old_digest); /* exec unchanged: keep the code's ref */
	op->doc =
	    pr_action_build(old, &op->put, op->ns, op->name, digest, &c->bounds, hc_now_ms(), &err);
	if (!op->doc) {
		hc_reply_error(op->req, 400, "%s", err.msg);
		goto fail;
	}
	doc_s = cJSON_PrintUnformatted(op->doc);
	if (!doc_s) {
		hc_reply_error(op->req, 500, "out of memory");
		goto fail;
	}
	char k_zset[300], k_code[128], k_refs[128], k_ocode[128], k_orefs[128], updated[24],
	    nsname[2 * PR_NAME_MAX + 2];
	snprintf(k_zset, sizeof(k_zset), PR_KEY_ACTIONS, op->ns);
	snprintf(k_code, sizeof(k_code), PR_KEY_CODE, digest[0] ? digest : "-");
	snprintf(k_refs, sizeof(k_refs), PR_KEY_CODE_REFS, digest[0] ? digest : "-");
	snprintf(k_ocode, sizeof(k_ocode), PR_KEY_CODE, old_digest[0] ? old_digest : "-");
	snprintf(k_orefs, sizeof(k_orefs), PR_KEY_CODE_REFS, old_digest[0] ? old_digest : "-");
	const cJSON *up = cJSON_GetObjectItemCaseSensitive(op->doc, "updated");
	snprintf(updated, sizeof(updated), "%.0f", up ? up->valuedouble : 0.0);
	snprintf(nsname, sizeof(nsname), "%s/%s", op->ns, op->name);
	const char *expected = (r->type == REDIS_REPLY_STRING) ? r->str : "";
	size_t expected_len = (r->type == REDIS_REPLY_STRING) ? r->len : 0;
	/* the code is sent only when it is new: an update without exec keeps it */
	const char *argv[] = {op->key,
			      k_zset,
			      k_code,
			      k_refs,
			      k_ocode,
			      k_orefs,
			      expected,
			      doc_s,
			      updated,
			      op->name,
			      op->put.code ? op->put.code : "",
			      nsname,
			      digest,
			      old_digest,
			      PR_CH_ENTITIES};
	size_t lens[15];
	for (int i = 0; i < 15; i++)
		lens[i] = strlen(argv[i]);
	lens[6] = expected_len;
	lens[10] = op->put.code ? op->put.code_len : 0;
	if (hc_redis_eval(L->redis, &L->put_script, on_put_done, op, 6, 15, argv, lens) < 0) {
		hc_reply_error(op->req, 500, "could not write the action");
		goto fail;
	}
	free(doc_s);
	cJSON_Delete(old);
	return;
fail:
	free(doc_s);
	cJSON_Delete(old);
	op_free(op);
}

/* The namespace's quotas allow it (limits.h): on to the write. */
static void on_quota(int status, const char *msg, void *arg)
{
	struct act_op *op = arg;
	if (status) {
		hc_reply_error(op->req, status, "%s", msg);
		op_free(op);
		return;
	}
	hc_redis_cmd(op->L->redis, on_put_old, op, "GET %s", op->key);
}

void ctl_action_put(struct hc_req *req, const struct ctl_caller *who)
{
	struct act_op *op = op_new(req, who);
	struct hc_err err = {{0}};
	int status;
	size_t len;
	if (!op)
		return;
	int ow = ctl_query_bool(req, "overwrite", 0);
	op->overwrite = ow == 1;
	const char *body = hc_req_body(req, &len);
	struct ctl *c = op->L->ctl;
	if (pr_action_put_decode(body, len, &c->bounds, op->ns, &op->put, &status, &err) < 0) {
		hc_reply_error(req, status, "%s", err.msg);
		op_free(op);
		return;
	}
	ctl_limits_check_put(op->L, op->ns, op->name,
			     op->put.has_exec ? (int64_t)op->put.code_len : -1, on_quota, op);
}

/* ---- DELETE ---- */

static void on_deleted(redisReply *r, void *arg)
{
	struct act_op *op = arg;
	if (!r || r->type == REDIS_REPLY_ERROR) {
		hc_reply_error(op->req, 503, "the entity store is unreachable; retry shortly");
	} else if (r->type != REDIS_REPLY_STRING || !(op->doc = parse_reply_doc(r))) {
		hc_reply_error(op->req, 404, MSG_NOT_FOUND);
	} else {
		char ck[2 * PR_NAME_MAX + 2];
		ctl_action_key(ck, sizeof(ck), op->ns, op->name);
		ctl_cache_drop(op->L->ctl->actions, ck);
		ctl_limits_note_action(op->L, op->ns, op->name, -1);
		reply_json_take(op->req, 200, pr_action_to_api(op->doc, NULL, 0));
	}
	op_free(op);
}

void ctl_action_delete(struct hc_req *req, const struct ctl_caller *who)
{
	struct act_op *op = op_new(req, who);
	if (!op)
		return;
	char k_zset[300], nsname[2 * PR_NAME_MAX + 2];
	snprintf(k_zset, sizeof(k_zset), PR_KEY_ACTIONS, op->ns);
	snprintf(nsname, sizeof(nsname), "%s/%s", op->ns, op->name);
	const char *argv[] = {op->key,	   k_zset,	op->name,      nsname,
			      CODE_PREFIX, REFS_PREFIX, PR_CH_ENTITIES};
	size_t lens[7];
	for (int i = 0; i < 7; i++)
		lens[i] = strlen(argv[i]);
	if (hc_redis_eval(op->L->redis, &op->L->del_script, on_deleted, op, 2, 7, argv, lens) < 0) {
		hc_reply_error(req, 500, "could not delete the action");
		op_free(op);
	}
}

/* ---- list ---- */

static void on_list(int status, cJSON *docs, void *arg)
{
	struct act_op *op = arg;
	cJSON *arr = docs ? cJSON_CreateArray() : NULL;
	const cJSON *d;
	if (!docs) {
		hc_reply_error(op->req, status == 500 ? 500 : 503,
			       "the entity store is unreachable; retry shortly");
		goto done;
	}
	cJSON_ArrayForEach(d, docs)
	{
		cJSON *sum = pr_action_summary(d);
		if (sum && arr)
			cJSON_AddItemToArray(arr, sum);
		else
			cJSON_Delete(sum);
	}
	reply_json_take(op->req, 200, arr);
done:
	cJSON_Delete(docs);
	op_free(op);
}

static void on_count(redisReply *r, void *arg)
{
	struct act_op *op = arg;
	if (!r || r->type != REDIS_REPLY_INTEGER) {
		hc_reply_error(op->req, 503, "the entity store is unreachable; retry shortly");
	} else {
		cJSON *j = cJSON_CreateObject();
		if (j)
			cJSON_AddNumberToObject(j, "actions", (double)r->integer);
		reply_json_take(op->req, 200, j);
	}
	op_free(op);
}

void ctl_actions_list(struct hc_req *req, const struct ctl_caller *who)
{
	struct act_op *op = op_new(req, who);
	if (!op)
		return;
	char zkey[300];
	snprintf(zkey, sizeof(zkey), PR_KEY_ACTIONS, op->ns);
	int count = ctl_query_bool(req, "count", 0);
	if (count < 0) {
		hc_reply_error(req, 400,
			       "The request content was malformed:\ncount must be "
			       "true or false");
		op_free(op);
		return;
	}
	if (count) {
		hc_redis_cmd(op->L->redis, on_count, op, "ZCARD %s", zkey);
		return;
	}
	const char *lim = hc_req_query(req, "limit");
	if (ctl_query_int(req, "limit", 30, 200, &op->limit) < 0) {
		hc_reply_error(req, 400,
			       "The value '%.32s' is not in the range of 0 to 200 for "
			       "actions.",
			       lim ? lim : "");
		op_free(op);
		return;
	}
	if (op->limit == 0)
		op->limit = 200; /* OpenWhisk: limit=0 means the maximum */
	if (ctl_query_int(req, "skip", 0, INT32_MAX, &op->skip) < 0) {
		hc_reply_error(req, 400,
			       "The request content was malformed:\nskip must be a "
			       "non-negative integer");
		op_free(op);
		return;
	}
	if (ctl_entity_list(op->L, &ctl_coll_actions, op->ns, op->skip, op->limit, on_list, op) <
	    0) {
		hc_reply_error(req, 500, "out of memory");
		op_free(op);
	}
}
