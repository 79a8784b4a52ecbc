/* controller/store.c — actions as the invoke path reads them: from the
 * cache of immutable snapshots (cache.h) shared by every loop, loaded from
 * Redis on a miss (the document under PR_KEY_ACTION, its code once per
 * digest under PR_KEY_CODE). An action in a package is cached under the
 * path it was asked for, resolved through its package and binding (their
 * documents are read on the miss only), so a warm invoke of a packaged
 * action costs Redis nothing, as a plain one. Invalidated through
 * PR_CH_ENTITIES and PR_CH_PACKAGES (server.c: a package write, or a write
 * of an action in a package, drops every cached action; writes are rare)
 * and by this controller's own writes (actions.c, packages.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/json.h"
#include "common/redis.h"
#include "common/sha256.h"
#include "common/str.h"
#include "controller/entity.h"
#include "controller/store.h"
#include "proto/keys.h"
#include "proto/package.h"

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
	cJSON_Delete(a->params);
	free(a->code);
	free(a->names_);
	free(a);
}

struct lookup {
	struct ctl_loop *L;
	ctl_action_cb cb;
	void *arg;
	uint64_t gen;
	char ckey[CTL_APATH_MAX];
	char ns[PR_NAME_MAX + 1];
	char pkg[PR_NAME_MAX + 1]; /* "" = the default package */
	char name[PR_NAME_MAX + 1];
	int as; /* entitlement checked for caller */
	char caller[PR_NAME_MAX + 1];
	int binding, publish;	       /* how the package was reached (struct ctl_pkg_access) */
	char real_ns[PR_NAME_MAX + 1]; /* the package holding the action */
	char real_pkg[PR_NAME_MAX + 1];
	cJSON *pkg_params; /* package < binding */
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
	cJSON_Delete(lk->pkg_params);
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

/* The revision, and for an action in a package with init parameters
 * "~<12 hex digits of their digest>". */
static void version_key(struct ctl_action *a)
{
	hc_strlcpy(a->version_key, a->info.revision, PR_REVISION_LEN + 1);
	char *init = a->in_package ? pr_params_init_text(a->info.parameters) : NULL;
	if (init) {
		char hex[HC_SHA256_HEX + 1];
		hc_sha256_hex(init, strlen(init), hex);
		size_t n = strlen(a->version_key);
		snprintf(a->version_key + n, sizeof(a->version_key) - n, "~%.12s", hex);
		free(init);
	}
}

/* parts joined, with a NUL, onto b (fixed: never moves); NULL when full. */
static const char *piece(struct hc_buf *b, const char *p0, const char *p1, const char *p2,
			 const char *p3)
{
	const char *parts[] = {p0, p1, p2, p3};
	size_t at = b->len;
	int rc = 0;
	for (int i = 0; i < 4; i++)
		if (parts[i])
			rc |= hc_buf_adds(b, parts[i]);
	rc |= hc_buf_addc(b, '\0');
	return rc ? NULL : b->data + at;
}

/* The names of a resolved action (see struct ctl_action), in one
 * allocation. 0, or -1 when the document does not belong where it was
 * found (or out of memory). */
static int name_it(struct lookup *lk, struct ctl_action *a)
{
	const struct pr_action_info *ai = &a->info;
	int pkg = lk->pkg[0] != '\0';
	char where[CTL_PATH_MAX];
	if (pkg)
		snprintf(where, sizeof(where), "%s/%s", lk->real_ns, lk->real_pkg);
	if (strcmp(ai->ns, pkg ? where : lk->ns) != 0)
		return -1;
	size_t cap = 3 * strlen(ai->ns) + 3 * strlen(ai->name) + strlen(lk->ckey) +
		     2 * strlen(lk->ns) + strlen(lk->pkg) + strlen(lk->real_ns) +
		     strlen(lk->real_pkg) + 32;
	if (!(a->names_ = malloc(cap)))
		return -1;
	struct hc_buf b = HC_BUF_FIXED_N(a->names_, cap);
	a->fqn = piece(&b, "/", ai->ns, "/", ai->name);
	a->key = piece(&b, lk->ckey, NULL, NULL, NULL);
	a->path = pkg ? piece(&b, ai->ns, "/", ai->name, NULL) : "";
	a->binding = lk->binding ? piece(&b, lk->ns, "/", lk->pkg, NULL) : "";
	a->owner = piece(&b, pkg ? lk->real_ns : lk->ns, NULL, NULL, NULL);
	a->sname = pkg ? piece(&b, lk->real_pkg, "/", ai->name, NULL) : ai->name;
	a->acc.ns = piece(&b, lk->ns, NULL, NULL, NULL);
	if (!a->fqn || !a->key || !a->path || !a->binding || !a->owner || !a->sname || !a->acc.ns)
		return -1;
	if (pkg) {
		a->in_package = 1;
		a->acc.binding = lk->binding;
		a->acc.bound_ns = a->owner; /* where the actions are */
		a->acc.publish = lk->publish;
	}
	return 0;
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
	if (pr_action_info(doc, &c->bounds, &lk->a->info, NULL) < 0 || name_it(lk, lk->a) < 0) {
		lookup_finish(lk, 404);
		return;
	}
	if (lk->a->in_package) {
		/* package < binding < action */
		lk->a->params = pr_params_inherit(lk->pkg_params, lk->a->info.parameters);
		if (!lk->a->params) {
			lookup_finish(lk, 503);
			return;
		}
		lk->a->info.parameters = lk->a->params;
	}
	version_key(lk->a);
	if (lk->a->info.digest[0]) {
		char ck[128];
		snprintf(ck, sizeof(ck), PR_KEY_CODE, lk->a->info.digest);
		if (hc_redis_cmd(lk->L->redis, on_lookup_code, lk, "GET %s", ck) < 0)
			lookup_finish(lk, 503);
		return;
	}
	lookup_finish(lk, 0);
}

static void get_doc(struct lookup *lk)
{
	char key[CTL_APATH_MAX + 32], path[CTL_PATH_MAX];
	/* an action in a package lives at "ns/pkg" (actions.c) */
	if (lk->pkg[0])
		snprintf(path, sizeof(path), "%s/%s", lk->real_ns, lk->real_pkg);
	snprintf(key, sizeof(key), PR_KEY_ACTION, lk->pkg[0] ? path : lk->ns, lk->name);
	if (hc_redis_cmd(lk->L->redis, on_lookup_doc, lk, "GET %s", key) < 0)
		lookup_finish(lk, 503);
}

/* ---- packages ---- */

struct pkg_op {
	struct ctl_loop *L;
	ctl_pkg_cb cb;
	void *arg;
	int follow, as;
	char caller[PR_NAME_MAX + 1];
	struct ctl_pkg_resolved r;
};

static void pkg_done(struct pkg_op *op, int status)
{
	op->r.status = status;
	op->cb(&op->r, op->arg);
	cJSON_Delete(op->r.doc);
	cJSON_Delete(op->r.bound);
	free(op);
}

/* A package that is not there: 404, or what caller may know of it. */
static int missing(const struct pkg_op *op, const char *ns)
{
	return op->as ? ctl_entitle_missing(op->caller, ns) : 404;
}

static int get_package(struct pkg_op *op, const char *ns, const char *name, hc_redis_cb cb)
{
	char key[CTL_KEY_MAX];
	ctl_entity_key(&ctl_coll_packages, ns, name, key, sizeof(key));
	return hc_redis_cmd(op->L->redis, cb, op, "GET %s", key);
}

static void on_bound(redisReply *r, void *arg)
{
	struct pkg_op *op = arg;
	struct ctl_pkg_resolved *res = &op->r;
	struct pr_package_info pi = {0};
	int st = 0;
	if (!r || r->type == REDIS_REPLY_ERROR)
		st = 503;
	else if (!(res->bound = parse_reply_doc(r)) || pr_package_info(res->bound, &pi) < 0)
		st = missing(op, res->real_ns);
	else if (pi.is_binding)
		st = 404; /* a binding of a binding: nothing to resolve to */
	if (!st) {
		res->acc.publish = pi.publish;
		if (op->as && !ctl_entitle_package(op->caller, res->real_ns, pi.publish))
			st = 403;
	}
	pkg_done(op, st);
}

static void on_package(redisReply *r, void *arg)
{
	struct pkg_op *op = arg;
	struct ctl_pkg_resolved *res = &op->r;
	struct pr_package_info pi = {0};
	int st = 0;
	if (!r || r->type == REDIS_REPLY_ERROR)
		st = 503;
	else if (!(res->doc = parse_reply_doc(r)) || pr_package_info(res->doc, &pi) < 0)
		st = missing(op, res->acc.ns);
	if (st) {
		pkg_done(op, st);
		return;
	}
	if (pi.is_binding) {
		res->acc.binding = 1;
		hc_strlcpy(res->real_ns, pi.bind_ns, sizeof(res->real_ns));
		hc_strlcpy(res->real_pkg, pi.bind_name, sizeof(res->real_pkg));
		if (op->as && !ctl_entitle_owner(op->caller, res->acc.ns))
			st = 403; /* another's binding */
		else if (op->follow && get_package(op, res->real_ns, res->real_pkg, on_bound) == 0)
			return;
		else if (op->follow)
			st = 503;
		pkg_done(op, st);
		return;
	}
	res->acc.publish = pi.publish;
	if (op->as && !ctl_entitle_package(op->caller, res->acc.ns, pi.publish))
		st = 403;
	pkg_done(op, st);
}

void ctl_package_resolve(struct ctl_loop *L, const char *caller, const char *ns, const char *pkg,
			 int follow, ctl_pkg_cb cb, void *arg)
{
	struct pkg_op *op = calloc(1, sizeof(*op));
	if (!op) {
		struct ctl_pkg_resolved r = {.status = 503};
		cb(&r, arg);
		return;
	}
	op->L = L;
	op->cb = cb;
	op->arg = arg;
	op->follow = follow;
	if (caller) {
		op->as = 1;
		hc_strlcpy(op->caller, caller, sizeof(op->caller));
	}
	hc_strlcpy(op->r.ns, ns, sizeof(op->r.ns));
	op->r.acc.ns = op->r.ns;
	op->r.acc.bound_ns = op->r.real_ns; /* a binding's package, once known */
	hc_strlcpy(op->r.real_ns, ns, sizeof(op->r.real_ns));
	hc_strlcpy(op->r.real_pkg, pkg, sizeof(op->r.real_pkg));
	if (get_package(op, ns, pkg, on_package) < 0)
		pkg_done(op, 503); /* nothing was queued: answering now is the same */
}

/* ---- the action, through its package ---- */

static void on_lookup_pkg(struct ctl_pkg_resolved *r, void *arg)
{
	struct lookup *lk = arg;
	if (r->status) {
		lookup_finish(lk, r->status);
		return;
	}
	struct pr_package_info pi, bi;
	pr_package_info(r->doc, &pi);
	lk->binding = r->acc.binding;
	lk->publish = r->acc.publish;
	hc_strlcpy(lk->real_ns, r->real_ns, sizeof(lk->real_ns));
	hc_strlcpy(lk->real_pkg, r->real_pkg, sizeof(lk->real_pkg));
	/* the package's parameters under the binding's */
	if (r->bound && pr_package_info(r->bound, &bi) == 0)
		lk->pkg_params = pr_params_inherit(bi.parameters, pi.parameters);
	else
		lk->pkg_params = pr_params_inherit(pi.parameters, NULL);
	if (!lk->pkg_params) {
		lookup_finish(lk, 503);
		return;
	}
	get_doc(lk);
}

/* Split "pkg/name" or "name"; -1 when not valid names. */
static int split(const char *path, char *pkg, char *name)
{
	const char *s = strchr(path, '/');
	size_t pl = s ? (size_t)(s - path) : 0;
	const char *n = s ? s + 1 : path;
	if (pl > PR_NAME_MAX || strlen(n) > PR_NAME_MAX)
		return -1;
	memcpy(pkg, path, pl);
	pkg[pl] = '\0';
	strcpy(name, n);
	return (s && !pr_name_valid(pkg)) || !pr_name_valid(name) ? -1 : 0;
}

static void lookup(struct ctl_loop *L, const char *caller, const char *ns, const char *name,
		   ctl_action_cb cb, void *arg)
{
	struct ctl *c = L->ctl;
	char ckey[CTL_APATH_MAX];
	struct ctl_ref ref;
	struct hc_buf k = HC_BUF_FIXED(ckey); /* no printf: once per invoke */
	if (hc_buf_adds(&k, ns) | hc_buf_addc(&k, '/') | hc_buf_adds(&k, name)) {
		cb(NULL, 404, arg); /* longer than any valid name */
		return;
	}
	if (ctl_cache_get(c->actions, ckey, &ref)) {
		const struct ctl_action *a = ref.val;
		int st =
		    caller ? ctl_entitle_action(caller, ns, a->in_package ? &a->acc : NULL) : 0;
		if (st) {
			ctl_cache_release(&ref);
			cb(NULL, st, arg);
			return;
		}
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
	if (caller) {
		lk->as = 1;
		hc_strlcpy(lk->caller, caller, sizeof(lk->caller));
	}
	if (strlen(ns) > PR_NAME_MAX || split(name, lk->pkg, lk->name) < 0) {
		free(lk);
		cb(NULL, 404, arg);
		return;
	}
	hc_strlcpy(lk->ns, ns, sizeof(lk->ns));
	if (lk->pkg[0])
		ctl_package_resolve(L, caller, lk->ns, lk->pkg, 1, on_lookup_pkg, lk);
	else
		get_doc(lk);
}

void ctl_action_lookup(struct ctl_loop *L, const char *ns, const char *name, ctl_action_cb cb,
		       void *arg)
{
	lookup(L, NULL, ns, name, cb, arg);
}

void ctl_action_lookup_as(struct ctl_loop *L, const char *caller, const char *ns, const char *name,
			  ctl_action_cb cb, void *arg)
{
	/* the default package of another namespace: refused without a look */
	if (!strchr(name, '/') && !ctl_entitle_owner(caller, ns)) {
		cb(NULL, 403, arg);
		return;
	}
	lookup(L, caller, ns, name, cb, arg);
}

void ctl_action_key(char *out, size_t outlen, const char *ns, const char *name)
{
	snprintf(out, outlen, "%s/%s", ns, name);
}

int ctl_action_name_resolve(const char *s, const char *own, char *ns, size_t nslen, char *name,
			    size_t namelen)
{
	char parts[4][PR_NAME_MAX + 1];
	int n = 0, lead = s[0] == '/';
	const char *p = s + lead;
	/* segments: at most 3, none empty */
	for (;;) {
		const char *e = strchr(p, '/');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (n == 3 || !l || l > PR_NAME_MAX)
			return -1;
		memcpy(parts[n], p, l);
		parts[n++][l] = '\0';
		if (!e)
			break;
		p = e + 1;
	}
	if (lead && n == 1)
		return -1;
	int first = 0;
	if (lead || n == 3) {
		/* fully qualified: the first segment is the namespace */
		snprintf(ns, nslen, "%s", strcmp(parts[0], "_") ? parts[0] : own);
		first = 1;
	} else {
		snprintf(ns, nslen, "%s", own);
	}
	if (!pr_name_valid(ns))
		return -1;
	for (int i = first; i < n; i++)
		if (!pr_name_valid(parts[i]))
			return -1;
	if (n - first == 2)
		snprintf(name, namelen, "%s/%s", parts[first], parts[first + 1]);
	else
		snprintf(name, namelen, "%s", parts[first]);
	return 0;
}
