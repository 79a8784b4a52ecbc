/* controller/actions.c — actions: list, get, create/update, delete, and the
 * action cache the invoke path reads; in the default package or in a
 * package (/actions/{pkg}/{name}; GET /actions/{pkg}/ lists a package).
 *
 * Storage (proto/keys.h): the document without its code under PR_KEY_ACTION,
 * the name in the namespace's zset PR_KEY_ACTIONS scored by `updated`, the
 * code once per sha256 digest under PR_KEY_CODE with the set of actions
 * using it in PR_KEY_CODE_REFS (the last one out deletes the code). Writes
 * are Lua scripts, so each is atomic and compares the document it read
 * (a concurrent writer gets 409 as in OpenWhisk), and they publish the
 * change on PR_CH_ENTITIES for every controller's cache. An action in
 * package pkg lives at "ns/pkg" (hearth:action:ns/pkg/name, its name in
 * hearth:actions:ns/pkg) and is also listed with the namespace's own as
 * "pkg/name" in hearth:actions:ns (OpenWhisk lists them together); its
 * write checks, in the same script, that the package still exists.
 * Reading an action of another namespace's shared package goes through
 * the cache (store.c), resolved and entitled as an invoke is. */
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
#include "controller/entitle.h"
#include "controller/entity.h"
#include "controller/limits.h"
#include "controller/sequence.h"
#include "controller/store.h"
#include "proto/keys.h"

#define MSG_NOT_FOUND	"The requested resource does not exist."
#define MSG_CONFORMANCE "Resource by this name exists but is not in this collection."
#define MSG_ON_BINDING	"Operation not permitted on package binding."

/* KEYS: action, actions zset, new code, new refs, old code, old refs,
 *       namespace's zset, package document
 * ARGV: expected old doc ("" = none), new doc, updated, name, code, "ns/name",
 *       new digest ("" = no code), old digest, channel, "pkg/name" for the
 *       namespace's zset ("" = none), "1" when the package must exist.
 * 1 written, 0 changed meanwhile, -1 the package is gone. */
const char *const ctl_put_lua =
    "local cur = redis.call('GET', KEYS[1])\n"
    "if (cur or '') ~= ARGV[1] then return 0 end\n"
    "if ARGV[11] == '1' and redis.call('EXISTS', KEYS[8]) == 0 then return -1 end\n"
    "redis.call('SET', KEYS[1], ARGV[2])\n"
    "redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])\n"
    "if ARGV[10] ~= '' then redis.call('ZADD', KEYS[7], ARGV[3], ARGV[10]) end\n"
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

/* KEYS: action, actions zset, namespace's zset; ARGV: name, "ns/name",
 * code key prefix, refs key prefix, channel, "pkg/name" in the namespace's
 * zset ("" = none). Returns the deleted document or nil. */
const char *const ctl_del_lua =
    "local cur = redis.call('GET', KEYS[1])\n"
    "if not cur then return false end\n"
    "redis.call('DEL', KEYS[1])\n"
    "redis.call('ZREM', KEYS[2], ARGV[1])\n"
    "if ARGV[6] ~= '' then redis.call('ZREM', KEYS[3], ARGV[6]) end\n"
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
	char caller[PR_NAME_MAX + 1];
	char ns[PR_NAME_MAX + 1];
	char pkg[PR_NAME_MAX + 1]; /* "" = the default package */
	char name[PR_NAME_MAX + 1];
	char path[CTL_PATH_MAX];    /* where the document lives: "ns" or "ns/pkg" */
	char nsname[CTL_APATH_MAX]; /* "ns/name" or "ns/pkg/name" */
	char key[CTL_APATH_MAX + 32];
	int with_code;
	int overwrite;
	int count;
	int64_t limit, skip;
	struct pr_action_put put;
	cJSON *doc; /* the document being written / read */
};

/* How a request may name its namespace: only the caller's own, for lists
 * (ctl_req_ns's 403), for writes (403 naming the action), or any, for
 * reads (the entitlement decides). */
enum op_mode { OP_LIST, OP_WRITE, OP_READ };

static struct act_op *op_new(struct hc_req *req, const struct ctl_caller *who, enum op_mode mode)
{
	const char *ns = mode == OP_LIST ? ctl_req_ns(req, who) : ctl_path_ns(req, who);
	if (!ns)
		return NULL;
	const char *name = hc_req_param(req, "name"), *pkg = hc_req_param(req, "pkg");
	if ((name && !pr_name_valid(name)) || (pkg && !pr_name_valid(pkg))) {
		hc_reply_error(req, 400,
			       "The request content was malformed:\n"
			       "the action name is not valid");
		return NULL;
	}
	struct act_op *op = calloc(1, sizeof(*op));
	if (!op) {
		hc_reply_error(req, 500, "out of memory");
		return NULL;
	}
	op->req = req;
	op->L = ctl_loop_of(req);
	hc_strlcpy(op->caller, who->ns, sizeof(op->caller));
	hc_strlcpy(op->ns, ns, sizeof(op->ns));
	hc_strlcpy(op->pkg, pkg ? pkg : "", sizeof(op->pkg));
	if (pkg)
		snprintf(op->path, sizeof(op->path), "%s/%s", ns, pkg);
	else
		hc_strlcpy(op->path, ns, sizeof(op->path));
	if (name) {
		hc_strlcpy(op->name, name, sizeof(op->name));
		snprintf(op->nsname, sizeof(op->nsname), "%s/%s", op->path, op->name);
		snprintf(op->key, sizeof(op->key), PR_KEY_ACTION, op->path, op->name);
	}
	if (mode == OP_WRITE && !ctl_entitle_owner(who->ns, ns)) {
		ctl_refuse(req, name ? op->nsname : op->path);
		free(op);
		return NULL;
	}
	return op;
}

/* This controller's cache after a write: the action's entry, or for an
 * action in a package every entry (bindings reach it under other names). */
static void drop_cached(struct act_op *op)
{
	char ck[CTL_APATH_MAX];
	if (op->pkg[0]) {
		ctl_cache_drop(op->L->ctl->actions, NULL);
		return;
	}
	ctl_action_key(ck, sizeof(ck), op->ns, op->name);
	ctl_cache_drop(op->L->ctl->actions, ck);
}

/* The name the namespace's quotas count the action under: "pkg/name" for
 * an action in a package. */
static const char *quota_name(const struct act_op *op, char *buf, size_t n)
{
	if (!op->pkg[0])
		return op->name;
	snprintf(buf, n, "%s/%s", op->pkg, op->name);
	return buf;
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

/* No action by that name: 409 when a package has it (OpenWhisk's
 * documents share their ids: "GET .../actions/pkg" without the slash that
 * lists a package is a request for the wrong collection), else 404. */
static void on_get_conformance(redisReply *r, void *arg)
{
	struct act_op *op = arg;
	if (r && r->type == REDIS_REPLY_INTEGER && r->integer == 1)
		hc_reply_error(op->req, 409, MSG_CONFORMANCE);
	else
		hc_reply_error(op->req, 404, MSG_NOT_FOUND);
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
		char pk[CTL_KEY_MAX];
		ctl_entity_key(&ctl_coll_packages, op->ns, op->name, pk, sizeof(pk));
		if (!op->pkg[0] &&
		    hc_redis_cmd(op->L->redis, on_get_conformance, op, "EXISTS %s", pk) == 0)
			return;
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

/* An action in a package, as the cache resolved it: the document with
 * the package's (and binding's) parameters under its own. */
static void on_get_resolved(struct ctl_ref *ref, int status, void *arg)
{
	struct act_op *op = arg;
	if (!ref) {
		if (status == 403)
			ctl_refuse(op->req, op->path);
		else if (status == 404)
			hc_reply_error(op->req, 404, MSG_NOT_FOUND);
		else
			hc_reply_error(op->req, 503,
				       "the entity store is unreachable; retry shortly");
		op_free(op);
		return;
	}
	const struct ctl_action *a = ref->val;
	cJSON *j = pr_action_to_api(a->doc, op->with_code ? (a->code ? a->code : "") : NULL,
				    op->with_code ? a->code_len : 0);
	cJSON *params = cJSON_Duplicate(a->info.parameters, 1);
	if (j && params)
		cJSON_ReplaceItemInObjectCaseSensitive(j, "parameters", params);
	else
		cJSON_Delete(params);
	ctl_cache_release(ref);
	reply_json_take(op->req, 200, j);
	op_free(op);
}

static void list_package(struct hc_req *req, const struct ctl_caller *who);

void ctl_action_get(struct hc_req *req, const struct ctl_caller *who)
{
	/* GET .../actions/pkg/ lists the package */
	const char *raw = hc_req_path(req);
	size_t rl = strlen(raw);
	if (!hc_req_param(req, "pkg") && rl > 1 && raw[rl - 1] == '/') {
		list_package(req, who);
		return;
	}
	struct act_op *op = op_new(req, who, OP_READ);
	if (!op)
		return;
	int wc = ctl_query_bool(req, "code", 1);
	op->with_code = wc != 0;
	if (op->pkg[0]) {
		char name[2 * PR_NAME_MAX + 2];
		snprintf(name, sizeof(name), "%s/%s", op->pkg, op->name);
		ctl_action_lookup_as(op->L, op->caller, op->ns, name, on_get_resolved, op);
		return;
	}
	if (!ctl_entitle_owner(op->caller, op->ns)) {
		ctl_refuse(req, op->nsname); /* the default package is private */
		op_free(op);
		return;
	}
	hc_redis_cmd(op->L->redis, on_get_doc, op, "GET %s", op->key);
}

/* ---- PUT ---- */

static void on_put_done(redisReply *r, void *arg)
{
	struct act_op *op = arg;
	if (!r || r->type == REDIS_REPLY_ERROR) {
		if (r)
			hc_warn("action put %s/%s: %s", op->ns, op->name, r->str);
		hc_reply_error(op->req, 503, "the entity store is unreachable; retry shortly");
		goto done;
	}
	if (r->type == REDIS_REPLY_INTEGER && r->integer == -1) {
		hc_reply_error(op->req, 404, MSG_NOT_FOUND); /* its package went meanwhile */
		goto done;
	}
	if (r->type != REDIS_REPLY_INTEGER || r->integer != 1) {
		hc_reply_error(op->req, 409, "Concurrent modification to resource detected.");
		goto done;
	}
	drop_cached(op); /* read-your-writes on this controller */
	char qn[2 * PR_NAME_MAX + 2];
	if (op->put.has_exec) /* the namespace's quotas count it (limits.h) */
		ctl_limits_note_action(op->L, op->ns, quota_name(op, qn, sizeof(qn)),
				       (int64_t)op->put.code_len);
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
	/* an action in a package has the namespace "ns/pkg" (OpenWhisk's) */
	op->doc = pr_action_build(old, &op->put, op->path, op->name, digest, &c->bounds,
				  hc_now_ms(), &err);
	if (!op->doc) {
		hc_reply_error(op->req, 400, "%s", err.msg);
		goto fail;
	}
	doc_s = cJSON_PrintUnformatted(op->doc);
	if (!doc_s) {
		hc_reply_error(op->req, 500, "out of memory");
		goto fail;
	}
	char k_zset[CTL_KEY_MAX], k_root[CTL_KEY_MAX], k_pkg[CTL_KEY_MAX], k_code[128], k_refs[128],
	    k_ocode[128], k_orefs[128], updated[24], member[2 * PR_NAME_MAX + 2];
	snprintf(k_zset, sizeof(k_zset), PR_KEY_ACTIONS, op->path);
	snprintf(k_root, sizeof(k_root), PR_KEY_ACTIONS, op->ns);
	if (op->pkg[0]) {
		ctl_entity_key(&ctl_coll_packages, op->ns, op->pkg, k_pkg, sizeof(k_pkg));
		snprintf(member, sizeof(member), "%s/%s", op->pkg, op->name);
	} else {
		hc_strlcpy(k_pkg, op->key, sizeof(k_pkg));
		member[0] = '\0';
	}
	snprintf(k_code, sizeof(k_code), PR_KEY_CODE, digest[0] ? digest : "-");
	snprintf(k_refs, sizeof(k_refs), PR_KEY_CODE_REFS, digest[0] ? digest : "-");
	snprintf(k_ocode, sizeof(k_ocode), PR_KEY_CODE, old_digest[0] ? old_digest : "-");
	snprintf(k_orefs, sizeof(k_orefs), PR_KEY_CODE_REFS, old_digest[0] ? old_digest : "-");
	const cJSON *up = cJSON_GetObjectItemCaseSensitive(op->doc, "updated");
	snprintf(updated, sizeof(updated), "%.0f", up ? up->valuedouble : 0.0);
	const char *expected = (r->type == REDIS_REPLY_STRING) ? r->str : "";
	size_t expected_len = (r->type == REDIS_REPLY_STRING) ? r->len : 0;
	/* the code is sent only when it is new: an update without exec keeps it */
	const char *argv[] = {op->key,
			      k_zset,
			      k_code,
			      k_refs,
			      k_ocode,
			      k_orefs,
			      k_root,
			      k_pkg,
			      expected,
			      doc_s,
			      updated,
			      op->name,
			      op->put.code ? op->put.code : "",
			      op->nsname,
			      digest,
			      old_digest,
			      PR_CH_ENTITIES,
			      member,
			      op->pkg[0] ? "1" : "0"};
	size_t lens[19];
	for (int i = 0; i < 19; i++)
		lens[i] = strlen(argv[i]);
	lens[8] = expected_len;
	lens[12] = op->put.code ? op->put.code_len : 0;
	if (hc_redis_eval(L->redis, &L->put_script, on_put_done, op, 8, 19, argv, lens) < 0) {
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

static void put_get_old(struct act_op *op)
{
	if (hc_redis_cmd(op->L->redis, on_put_old, op, "GET %s", op->key) < 0) {
		hc_reply_error(op->req, 500, "could not read the action");
		op_free(op);
	}
}

/* A sequence's components, checked as OpenWhisk does at PUT. */
static void on_put_checked(int status, const char *msg, void *arg)
{
	struct act_op *op = arg;
	if (status) {
		hc_reply_error(op->req, status, "%s", msg);
		op_free(op);
		return;
	}
	put_get_old(op);
}

static void put_after_package(struct act_op *op)
{
	if (op->put.has_exec && op->put.components) {
		ctl_seq_check(op->L, op->caller, op->nsname, op->put.components, 1, on_put_checked,
			      op);
		return;
	}
	put_get_old(op);
}

/* The package an action is written into or deleted from: it exists and
 * is not a binding. 0, or -1 after answering. */
static int package_writable(struct act_op *op, const struct ctl_pkg_resolved *r)
{
	if (r->status == 404)
		hc_reply_error(op->req, 404, MSG_NOT_FOUND);
	else if (r->status)
		hc_reply_error(op->req, 503, "the entity store is unreachable; retry shortly");
	else if (r->acc.binding)
		hc_reply_error(op->req, 400, MSG_ON_BINDING);
	else
		return 0;
	return -1;
}

static void on_put_package(struct ctl_pkg_resolved *r, void *arg)
{
	struct act_op *op = arg;
	if (package_writable(op, r) < 0) {
		op_free(op);
		return;
	}
	put_after_package(op);
}

/* The namespace's quotas allow it (limits.h): on to the package, then the
 * write. */
static void on_quota(int status, const char *msg, void *arg)
{
	struct act_op *op = arg;
	if (status) {
		hc_reply_error(op->req, status, "%s", msg);
		op_free(op);
		return;
	}
	if (op->pkg[0]) {
		ctl_package_resolve(op->L, NULL, op->ns, op->pkg, 0, on_put_package, op);
		return;
	}
	put_after_package(op);
}

void ctl_action_put(struct hc_req *req, const struct ctl_caller *who)
{
	struct act_op *op = op_new(req, who, OP_WRITE);
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
	char qn[2 * PR_NAME_MAX + 2];
	ctl_limits_check_put(op->L, op->ns, quota_name(op, qn, sizeof(qn)),
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
		drop_cached(op);
		char qn[2 * PR_NAME_MAX + 2];
		ctl_limits_note_action(op->L, op->ns, quota_name(op, qn, sizeof(qn)), -1);
		reply_json_take(op->req, 200, pr_action_to_api(op->doc, NULL, 0));
	}
	op_free(op);
}

static void delete_now(struct act_op *op)
{
	char k_zset[CTL_KEY_MAX], k_root[CTL_KEY_MAX], member[2 * PR_NAME_MAX + 2] = "";
	snprintf(k_zset, sizeof(k_zset), PR_KEY_ACTIONS, op->path);
	snprintf(k_root, sizeof(k_root), PR_KEY_ACTIONS, op->ns);
	if (op->pkg[0])
		snprintf(member, sizeof(member), "%s/%s", op->pkg, op->name);
	const char *argv[] = {op->key,	   k_zset,	k_root,		op->name, op->nsname,
			      CODE_PREFIX, REFS_PREFIX, PR_CH_ENTITIES, member};
	size_t lens[9];
	for (int i = 0; i < 9; i++)
		lens[i] = strlen(argv[i]);
	if (hc_redis_eval(op->L->redis, &op->L->del_script, on_deleted, op, 3, 9, argv, lens) < 0) {
		hc_reply_error(op->req, 500, "could not delete the action");
		op_free(op);
	}
}

static void on_delete_package(struct ctl_pkg_resolved *r, void *arg)
{
	struct act_op *op = arg;
	if (package_writable(op, r) < 0) {
		op_free(op);
		return;
	}
	delete_now(op);
}

void ctl_action_delete(struct hc_req *req, const struct ctl_caller *who)
{
	struct act_op *op = op_new(req, who, OP_WRITE);
	if (!op)
		return;
	if (op->pkg[0]) {
		ctl_package_resolve(op->L, NULL, op->ns, op->pkg, 0, on_delete_package, op);
		return;
	}
	delete_now(op);
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

/* count, limit and skip of a list into op: 0, or -1 after answering 400. */
static int list_query(struct act_op *op)
{
	struct hc_req *req = op->req;
	int count = ctl_query_bool(req, "count", 0);
	if (count < 0) {
		hc_reply_error(req, 400,
			       "The request content was malformed:\ncount must be "
			       "true or false");
		return -1;
	}
	op->count = count;
	const char *lim = hc_req_query(req, "limit");
	if (ctl_query_int(req, "limit", 30, 200, &op->limit) < 0) {
		hc_reply_error(req, 400,
			       "The value '%.32s' is not in the range of 0 to 200 for "
			       "actions.",
			       lim ? lim : "");
		return -1;
	}
	if (op->limit == 0)
		op->limit = 200; /* OpenWhisk: limit=0 means the maximum */
	if (ctl_query_int(req, "skip", 0, INT32_MAX, &op->skip) < 0) {
		hc_reply_error(req, 400,
			       "The request content was malformed:\nskip must be a "
			       "non-negative integer");
		return -1;
	}
	return 0;
}

/* The actions under path ("ns": the namespace's, with its packages';
 * "ns/pkg": a package's), or their count. */
static void list_at(struct act_op *op, const char *path)
{
	char zkey[CTL_KEY_MAX];
	snprintf(zkey, sizeof(zkey), PR_KEY_ACTIONS, path);
	if (op->count) {
		if (hc_redis_cmd(op->L->redis, on_count, op, "ZCARD %s", zkey) < 0) {
			hc_reply_error(op->req, 500, "out of memory");
			op_free(op);
		}
		return;
	}
	if (ctl_entity_list(op->L, &ctl_coll_actions, path, op->skip, op->limit, on_list, op) < 0) {
		hc_reply_error(op->req, 500, "out of memory");
		op_free(op);
	}
}

void ctl_actions_list(struct hc_req *req, const struct ctl_caller *who)
{
	struct act_op *op = op_new(req, who, OP_LIST);
	if (!op)
		return;
	if (list_query(op) < 0) {
		op_free(op);
		return;
	}
	list_at(op, op->ns);
}

/* GET .../actions/{pkg}/: the package's actions, for whoever may read the
 * package (through a binding: the bound package's). */
static void on_list_package(struct ctl_pkg_resolved *r, void *arg)
{
	struct act_op *op = arg;
	char path[CTL_PATH_MAX];
	if (r->status) {
		if (r->status == 403)
			ctl_refuse(op->req, op->nsname);
		else if (r->status == 404)
			hc_reply_error(op->req, 404, MSG_NOT_FOUND);
		else
			hc_reply_error(op->req, 503,
				       "the entity store is unreachable; retry shortly");
		op_free(op);
		return;
	}
	snprintf(path, sizeof(path), "%s/%s", r->real_ns, r->real_pkg);
	list_at(op, path);
}

static void list_package(struct hc_req *req, const struct ctl_caller *who)
{
	struct act_op *op = op_new(req, who, OP_READ); /* name: the package's */
	if (!op)
		return;
	if (list_query(op) < 0) {
		op_free(op);
		return;
	}
	ctl_package_resolve(op->L, op->caller, op->ns, op->name, 1, on_list_package, op);
}
