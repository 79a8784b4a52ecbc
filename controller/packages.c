/* controller/packages.c — packages and bindings: GET/PUT/DELETE
 * /api/v1/namespaces/{ns}/packages/{name} and the list GET .../packages,
 * as OpenWhisk's Packages.scala (codes, messages, shapes).
 *
 * Documents are entities of ctl_coll_packages (entity.h): hearth:package:
 * <ns>/<name>, listed in hearth:packages:<ns>; their actions live at
 * "ns/pkg" (actions.c). A write publishes on PR_CH_PACKAGES, on which
 * every controller drops its cached actions (a package's parameters and
 * its publish flag are part of every cached action reached through it or
 * a binding of it); this controller drops them at once. Who may read what
 * is entitle.h's; another namespace's list shows its published packages. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/json.h"
#include "common/log.h"
#include "common/str.h"
#include "controller/api.h"
#include "controller/entitle.h"
#include "controller/entity.h"
#include "controller/store.h"
#include "proto/keys.h"
#include "proto/package.h"

#define MSG_NOT_FOUND	       "The requested resource does not exist."
#define MSG_UNREACHABLE	       "the entity store is unreachable; retry shortly"
#define MSG_BINDING_MISSING    "Binding references a package that does not exist."
#define MSG_BECOME_BINDING     "Resource is a package and cannot be converted into a binding."
#define MSG_BINDING_OF_BINDING "Cannot bind to another package binding."
#define MSG_BINDING_INVALID    "Cannot bind to a resource that is not a package."

/* KEYS: package, packages index, the package's actions index, the
 * namespace's actions index. ARGV: name, "pkg/" prefix of its actions in
 * the namespace's index, force ("1"), packages channel, entities channel,
 * "ns/name", code key prefix, refs key prefix, "ns/pkg" (where its actions
 * are), action key prefix. A binding, or a package without actions (or
 * any with force, which deletes its actions first, as OpenWhisk's force
 * does), is deleted and returned; a package with actions and no force
 * gives their count; nil when there is none. */
static const char del_lua[] =
    "local cur = redis.call('GET', KEYS[1])\n"
    "if not cur then return false end\n"
    "local ok, doc = pcall(cjson.decode, cur)\n"
    "local binding = ok and type(doc) == 'table' and type(doc.binding) == 'table'\n"
    "  and next(doc.binding) ~= nil\n"
    "if not binding then\n"
    "  local names = redis.call('ZRANGE', KEYS[3], 0, -1)\n"
    "  if #names > 0 and ARGV[3] ~= '1' then return #names end\n"
    "  for _, n in ipairs(names) do\n"
    "    local at = ARGV[9] .. '/' .. n\n"
    "    local a = redis.call('GET', ARGV[10] .. at)\n"
    "    if a then\n"
    "      redis.call('DEL', ARGV[10] .. at)\n"
    "      local ok2, ad = pcall(cjson.decode, a)\n"
    "      local d = ok2 and type(ad) == 'table' and type(ad.exec) == 'table' and ad.exec.digest\n"
    "      if type(d) == 'string' and d ~= '' then\n"
    "        redis.call('SREM', ARGV[8] .. d, at)\n"
    "        if redis.call('SCARD', ARGV[8] .. d) == 0 then redis.call('DEL', ARGV[7] .. d) end\n"
    "      end\n"
    "      redis.call('PUBLISH', ARGV[5], at)\n"
    "    end\n"
    "    redis.call('ZREM', KEYS[4], ARGV[2] .. n)\n"
    "  end\n"
    "  redis.call('DEL', KEYS[3])\n"
    "end\n"
    "redis.call('DEL', KEYS[1])\n"
    "redis.call('ZREM', KEYS[2], ARGV[1])\n"
    "redis.call('PUBLISH', ARGV[4], ARGV[6])\n"
    "return cur\n";

struct ctl_pkg_loop {
	struct hc_redis_script del;
};

int ctl_pkg_loop_init(struct ctl_loop *L)
{
	L->pkg = calloc(1, sizeof(*L->pkg));
	if (!L->pkg)
		return -1;
	L->pkg->del.src = del_lua;
	return 0;
}

void ctl_pkg_loop_fini(struct ctl_loop *L)
{
	free(L->pkg);
	L->pkg = NULL;
}

struct pkg_op {
	struct hc_req *req;
	struct ctl_loop *L;
	char caller[PR_NAME_MAX + 1];
	char ns[PR_NAME_MAX + 1];
	char name[PR_NAME_MAX + 1];
	char fq[CTL_PATH_MAX]; /* "ns/name", what a refusal names */
	int overwrite, force, count, owner;
	int64_t limit, skip;
	struct pr_package_put put;
	int bound_is_binding; /* PUT: the binding names a binding */
	cJSON *api;	      /* GET: the reply being built */
	cJSON *pkg_params;    /* GET of a binding: its package's parameters */
};

static void op_free(struct pkg_op *op)
{
	pr_package_put_free(&op->put);
	cJSON_Delete(op->api);
	cJSON_Delete(op->pkg_params);
	free(op);
}

static void reply_take(struct hc_req *req, int status, cJSON *j)
{
	if (!j) {
		hc_reply_error(req, 500, "out of memory");
		return;
	}
	hc_reply_json(req, status, j);
	cJSON_Delete(j);
}

/* A new op for req; NULL after answering. owner_only: writes, refused for
 * another namespace. */
static struct pkg_op *op_new(struct hc_req *req, const struct ctl_caller *who, int owner_only)
{
	const char *ns = ctl_path_ns(req, who);
	if (!ns)
		return NULL;
	const char *name = hc_req_param(req, "name");
	if (name && !pr_name_valid(name)) {
		hc_reply_error(req, 400,
			       "The request content was malformed:\nthe package name is not valid");
		return NULL;
	}
	struct pkg_op *op = calloc(1, sizeof(*op));
	if (!op) {
		hc_reply_error(req, 500, "out of memory");
		return NULL;
	}
	op->req = req;
	op->L = ctl_loop_of(req);
	hc_strlcpy(op->caller, who->ns, sizeof(op->caller));
	hc_strlcpy(op->ns, ns, sizeof(op->ns));
	hc_strlcpy(op->name, name ? name : "", sizeof(op->name));
	snprintf(op->fq, sizeof(op->fq), "%s%s%s", ns, name ? "/" : "", name ? name : "");
	op->owner = ctl_entitle_owner(who->ns, ns);
	if (owner_only && !op->owner) {
		ctl_refuse(req, op->fq);
		free(op);
		return NULL;
	}
	return op;
}

/* Every cached action may have changed (parameters, publish, bindings). */
static void drop_cached(struct pkg_op *op)
{
	ctl_cache_drop(op->L->ctl->actions, NULL);
}

/* ---- list ---- */

/* What another namespace sees of ns's packages: the published ones
 * (whisk.system's all), never bindings. */
static int listed_for_others(const struct pkg_op *op, const cJSON *doc)
{
	struct pr_package_info pi;
	return pr_package_info(doc, &pi) == 0 && !pi.is_binding &&
	       ctl_entitle_package(op->caller, op->ns, pi.publish);
}

static void on_list(int status, cJSON *docs, void *arg)
{
	struct pkg_op *op = arg;
	const cJSON *d;
	int64_t n = 0, skipped = 0;
	if (!docs) {
		hc_reply_error(op->req, status == 500 ? 500 : 503, MSG_UNREACHABLE);
		op_free(op);
		return;
	}
	cJSON *out = op->count ? cJSON_CreateObject() : cJSON_CreateArray();
	cJSON_ArrayForEach(d, docs)
	{
		if (!op->owner) {
			/* the index holds every package: skip and limit apply to
			 * what is shown */
			if (!listed_for_others(op, d))
				continue;
			if (!op->count && skipped++ < op->skip)
				continue;
			if (!op->count && op->limit && n >= op->limit)
				break;
		}
		n++;
		cJSON *sum = op->count ? NULL : pr_package_summary(d);
		if (sum && out)
			cJSON_AddItemToArray(out, sum);
	}
	if (op->count && out)
		cJSON_AddNumberToObject(out, "packages", (double)n);
	reply_take(op->req, 200, out);
	cJSON_Delete(docs);
	op_free(op);
}

static void on_count(int64_t n, void *arg)
{
	struct pkg_op *op = arg;
	if (n < 0) {
		hc_reply_error(op->req, 503, MSG_UNREACHABLE);
	} else {
		cJSON *j = cJSON_CreateObject();
		if (j)
			cJSON_AddNumberToObject(j, "packages", (double)n);
		reply_take(op->req, 200, j);
	}
	op_free(op);
}

/* OpenWhisk's list parameters and messages (Messages.listLimitOutOfRange,
 * argumentNotInteger, listSkipOutOfRange). 0, or -1 after answering. */
static int list_query(struct pkg_op *op)
{
	struct hc_req *req = op->req;
	const char *lim = hc_req_query(req, "limit"), *skip = hc_req_query(req, "skip");
	char *end;
	int count = ctl_query_bool(req, "count", 0);
	if (count < 0) {
		hc_reply_error(req, 400,
			       "The request content was malformed:\ncount must be true or false");
		return -1;
	}
	op->count = count;
	op->limit = 30;
	if (lim) {
		long long v = strtoll(lim, &end, 10);
		if (!*lim || *end) {
			hc_reply_error(req, 400,
				       "The value '%.32s' is not an integer for packages.", lim);
			return -1;
		}
		if (v < 0 || v > 200) {
			hc_reply_error(
			    req, 400,
			    "The value '%lld' is not in the range of 0 to 200 for packages.", v);
			return -1;
		}
		op->limit = v ? v : 200; /* limit=0 is the maximum */
	}
	if (skip) {
		long long v = strtoll(skip, &end, 10);
		if (!*skip || *end) {
			hc_reply_error(req, 400,
				       "The value '%.32s' is not an integer for packages.", skip);
			return -1;
		}
		if (v < 0) {
			hc_reply_error(req, 400,
				       "The value '%lld' is not greater than or equal to 0 for "
				       "packages.",
				       v);
			return -1;
		}
		op->skip = v;
	}
	return 0;
}

void ctl_packages_list(struct hc_req *req, const struct ctl_caller *who)
{
	struct pkg_op *op = op_new(req, who, 0);
	int rc;
	if (!op)
		return;
	if (list_query(op) < 0) {
		op_free(op);
		return;
	}
	if (op->owner && op->count)
		rc = ctl_entity_count(op->L, &ctl_coll_packages, op->ns, on_count, op);
	else if (op->owner)
		rc = ctl_entity_list(op->L, &ctl_coll_packages, op->ns, op->skip, op->limit,
				     on_list, op);
	else
		rc = ctl_entity_list(op->L, &ctl_coll_packages, op->ns, 0, 0, on_list, op);
	if (rc < 0) {
		hc_reply_error(req, 500, "out of memory");
		op_free(op);
	}
}

/* ---- GET ---- */

static void on_get_actions(int status, cJSON *docs, void *arg)
{
	struct pkg_op *op = arg;
	if (!docs) {
		hc_reply_error(op->req, status == 500 ? 500 : 503, MSG_UNREACHABLE);
	} else {
		cJSON *api = op->api;
		op->api = NULL;
		reply_take(op->req, 200, pr_package_with_actions(api, docs, op->pkg_params));
	}
	cJSON_Delete(docs);
	op_free(op);
}

static void on_get_package(struct ctl_pkg_resolved *r, void *arg)
{
	struct pkg_op *op = arg;
	char path[CTL_PATH_MAX];
	if (r->status) {
		if (r->status == 403)
			ctl_refuse(op->req, op->fq);
		else if (r->status == 404)
			hc_reply_error(op->req, 404, MSG_NOT_FOUND);
		else
			hc_reply_error(op->req, 503, MSG_UNREACHABLE);
		op_free(op);
		return;
	}
	struct pr_package_info bi;
	op->api = pr_package_to_api(r->doc);
	if (r->bound && pr_package_info(r->bound, &bi) == 0)
		op->pkg_params = pr_params_inherit(bi.parameters, NULL);
	snprintf(path, sizeof(path), "%s/%s", r->real_ns, r->real_pkg);
	if (!op->api || (r->bound && !op->pkg_params) ||
	    ctl_entity_list(op->L, &ctl_coll_actions, path, 0, 0, on_get_actions, op) < 0) {
		hc_reply_error(op->req, 500, "out of memory");
		op_free(op);
	}
}

void ctl_package_get(struct hc_req *req, const struct ctl_caller *who)
{
	struct pkg_op *op = op_new(req, who, 0);
	if (!op)
		return;
	ctl_package_resolve(op->L, op->caller, op->ns, op->name, 1, on_get_package, op);
}

/* ---- PUT ---- */

static void on_put_written(int status, struct ctl_entity_doc *d, void *arg)
{
	struct pkg_op *op = arg;
	if (status == 409)
		hc_reply_error(op->req, 409, "Concurrent modification to resource detected.");
	else if (status)
		hc_reply_error(op->req, status == 500 ? 500 : 503, MSG_UNREACHABLE);
	else {
		drop_cached(op); /* read-your-writes on this controller */
		cJSON *api = op->api;
		op->api = NULL;
		reply_take(op->req, 200, api);
	}
	op_free(op);
}

static void on_put_old(int status, struct ctl_entity_doc *d, void *arg)
{
	struct pkg_op *op = arg;
	struct hc_err err = {{0}};
	struct pr_package_info oi;
	cJSON *doc = NULL;
	if (status && status != 404) {
		hc_reply_error(op->req, status == 500 ? 500 : 503, MSG_UNREACHABLE);
		goto fail;
	}
	if (status == 0 && !op->overwrite) {
		hc_reply_error(op->req, 409, "resource already exists");
		goto fail;
	}
	if (status == 0 && pr_package_info(d->doc, &oi) < 0) {
		hc_reply_error(op->req, 500, "Resource is corrupted and cannot be read.");
		goto fail;
	}
	if (op->put.has_binding) {
		if (status == 0 && !oi.is_binding) {
			hc_reply_error(op->req, 409, MSG_BECOME_BINDING);
			goto fail;
		}
		if (op->bound_is_binding) {
			hc_reply_error(op->req, 400, MSG_BINDING_OF_BINDING);
			goto fail;
		}
	}
	doc = pr_package_build(status == 0 ? d->doc : NULL, &op->put, op->ns, op->name, hc_now_ms(),
			       &err);
	if (!doc) {
		hc_reply_error(op->req, 500, "%s", err.msg);
		goto fail;
	}
	if (!(op->api = pr_package_to_api(doc)) ||
	    ctl_entity_put(op->L, &ctl_coll_packages, op->ns, op->name, status == 0 ? d->raw : NULL,
			   doc, on_put_written, op) < 0) {
		hc_reply_error(op->req, 500, "out of memory");
		goto fail;
	}
	cJSON_Delete(doc);
	ctl_entity_doc_clear(d);
	return;
fail:
	cJSON_Delete(doc);
	ctl_entity_doc_clear(d);
	op_free(op);
}

static void put_read_old(struct pkg_op *op)
{
	if (ctl_entity_get(op->L, &ctl_coll_packages, op->ns, op->name, on_put_old, op) < 0) {
		hc_reply_error(op->req, 500, "out of memory");
		op_free(op);
	}
}

/* A binding names an action rather than a package (OpenWhisk: a document
 * of another kind under that id): 409; else the package is missing. */
static void on_bound_action(redisReply *r, void *arg)
{
	struct pkg_op *op = arg;
	if (r && r->type == REDIS_REPLY_INTEGER && r->integer == 1)
		hc_reply_error(op->req, 409, MSG_BINDING_INVALID);
	else
		hc_reply_error(op->req, 400, MSG_BINDING_MISSING);
	op_free(op);
}

/* The package a binding names, as the caller may read it (OpenWhisk
 * entitles READ on it first, and rewrites a missing one to 400). */
static void on_put_bound(struct ctl_pkg_resolved *r, void *arg)
{
	struct pkg_op *op = arg;
	char key[CTL_APATH_MAX + 32];
	if (r->status == 404) {
		snprintf(key, sizeof(key), PR_KEY_ACTION, op->put.bind_ns, op->put.bind_name);
		if (hc_redis_cmd(op->L->redis, on_bound_action, op, "EXISTS %s", key) < 0) {
			hc_reply_error(op->req, 400, MSG_BINDING_MISSING);
			op_free(op);
		}
		return;
	}
	if (r->status) {
		if (r->status == 403) {
			char what[CTL_PATH_MAX];
			snprintf(what, sizeof(what), "%s/%s", op->put.bind_ns, op->put.bind_name);
			ctl_refuse(op->req, what);
		} else
			hc_reply_error(op->req, 503, MSG_UNREACHABLE);
		op_free(op);
		return;
	}
	op->bound_is_binding = r->acc.binding;
	put_read_old(op);
}

void ctl_package_put(struct hc_req *req, const struct ctl_caller *who)
{
	struct hc_err err = {{0}};
	int status;
	size_t len;
	struct pkg_op *op = op_new(req, who, 1);
	if (!op)
		return;
	if (!strcmp(op->name, PR_PACKAGE_RESERVED)) {
		hc_reply_error(req, 400, "Package name '%s' is reserved.", op->name);
		op_free(op);
		return;
	}
	op->overwrite = ctl_query_bool(req, "overwrite", 0) == 1;
	const char *body = hc_req_body(req, &len);
	if (pr_package_put_decode(body, len, op->ns, &op->put, &status, &err) < 0) {
		hc_reply_error(req, status, "%s", err.msg);
		op_free(op);
		return;
	}
	if (op->put.has_binding) {
		ctl_package_resolve(op->L, op->caller, op->put.bind_ns, op->put.bind_name, 1,
				    on_put_bound, op);
		return;
	}
	put_read_old(op);
}

/* ---- DELETE ---- */

static void on_deleted(redisReply *r, void *arg)
{
	struct pkg_op *op = arg;
	if (!r || r->type == REDIS_REPLY_ERROR) {
		if (r)
			hc_warn("package delete %s: %s", op->fq, r->str);
		hc_reply_error(op->req, 503, MSG_UNREACHABLE);
	} else if (r->type == REDIS_REPLY_INTEGER) {
		long long n = r->integer;
		hc_reply_error(op->req, 409,
			       "Package not empty (contains %lld %s). Set force param or delete "
			       "package contents.",
			       n, n == 1 ? "entity" : "entities");
	} else if (r->type != REDIS_REPLY_STRING) {
		hc_reply_error(op->req, 404, MSG_NOT_FOUND);
	} else {
		cJSON *doc = hc_json_parse(r->str, r->len, HC_JSON_MAX_DEPTH, NULL);
		drop_cached(op);
		if (doc)
			reply_take(op->req, 200, pr_package_to_api(doc));
		else
			hc_reply_error(op->req, 500, "Resource is corrupted and cannot be read.");
		cJSON_Delete(doc);
	}
	op_free(op);
}

void ctl_package_delete(struct hc_req *req, const struct ctl_caller *who)
{
	struct pkg_op *op = op_new(req, who, 1);
	if (!op)
		return;
	int force = ctl_query_bool(req, "force", 0);
	char k_doc[CTL_KEY_MAX], k_index[CTL_KEY_MAX], k_acts[CTL_KEY_MAX], k_root[CTL_KEY_MAX];
	char prefix[PR_NAME_MAX + 2];
	ctl_entity_key(&ctl_coll_packages, op->ns, op->name, k_doc, sizeof(k_doc));
	ctl_entity_index_key(&ctl_coll_packages, op->ns, k_index, sizeof(k_index));
	ctl_entity_index_key(&ctl_coll_actions, op->fq, k_acts, sizeof(k_acts));
	ctl_entity_index_key(&ctl_coll_actions, op->ns, k_root, sizeof(k_root));
	snprintf(prefix, sizeof(prefix), "%s/", op->name);
	const char *argv[] = {k_doc,
			      k_index,
			      k_acts,
			      k_root,
			      op->name,
			      prefix,
			      force == 1 ? "1" : "0",
			      PR_CH_PACKAGES,
			      PR_CH_ENTITIES,
			      op->fq,
			      PR_KEY_CODE_PREFIX,
			      PR_KEY_CODE_REFS_PREFIX,
			      op->fq,
			      PR_KEY_ACTION_PREFIX};
	size_t lens[14];
	for (int i = 0; i < 14; i++)
		lens[i] = strlen(argv[i]);
	if (hc_redis_eval(op->L->redis, &op->L->pkg->del, on_deleted, op, 4, 14, argv, lens) < 0) {
		hc_reply_error(req, 500, "could not delete the package");
		op_free(op);
	}
}
