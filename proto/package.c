/* proto/package.c — the OpenWhisk package document (see package.h). */
#include "proto/package.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/id.h"
#include "common/json.h"

#define F_REV	  "rev"
#define F_BINDING "binding"
#define MALFORMED "The request content was malformed:\n"

/* An array of {key: string, value: any}. */
static int kv_array(const cJSON *a, const char *what, struct hc_err *err)
{
	const cJSON *e;
	if (!cJSON_IsArray(a))
		return hc_err_set(err, MALFORMED "%s must be an array of {key, value}", what);
	cJSON_ArrayForEach(e, a)
	{
		const cJSON *k = cJSON_GetObjectItemCaseSensitive(e, "key");
		if (!cJSON_IsObject(e) || !cJSON_IsString(k) || !k->valuestring[0])
			return hc_err_set(err, MALFORMED "%s must be an array of {key, value}",
					  what);
	}
	return 0;
}

static size_t printed_len(const cJSON *j)
{
	char *s = j ? cJSON_PrintUnformatted(j) : NULL;
	size_t n = s ? strlen(s) : 0;
	free(s);
	return n;
}

/* binding: {} (none) or {namespace, name}. */
static int decode_binding(struct pr_package_put *p, const cJSON *b, const char *own_ns,
			  struct hc_err *err)
{
	if (!cJSON_IsObject(b))
		return hc_err_set(err, MALFORMED "binding must be an object");
	if (!b->child)
		return 0; /* {}: a package, as absent */
	const cJSON *ns = cJSON_GetObjectItemCaseSensitive(b, "namespace");
	const cJSON *nm = cJSON_GetObjectItemCaseSensitive(b, "name");
	if (!cJSON_IsString(ns) || !cJSON_IsString(nm) || !pr_name_valid(nm->valuestring) ||
	    (strcmp(ns->valuestring, "_") != 0 && !pr_name_valid(ns->valuestring)))
		return hc_err_set(err, MALFORMED "binding must be {namespace, name} of a package");
	snprintf(p->bind_ns, sizeof(p->bind_ns), "%s",
		 strcmp(ns->valuestring, "_") ? ns->valuestring : own_ns);
	snprintf(p->bind_name, sizeof(p->bind_name), "%s", nm->valuestring);
	p->has_binding = 1;
	return 0;
}

int pr_package_put_decode(const char *body, size_t len, const char *own_ns,
			  struct pr_package_put *out, int *status, struct hc_err *err)
{
	struct hc_err perr = {{0}};
	const cJSON *v;
	memset(out, 0, sizeof(*out));
	out->publish = -1;
	*status = 400;
	/* an empty body is an empty package (wsk package create sends {}) */
	out->root = hc_json_blank(body, len) ? cJSON_CreateObject()
					     : hc_json_parse(body, len, HC_JSON_MAX_DEPTH, &perr);
	if (!out->root) {
		hc_err_set(err, MALFORMED "%s", perr.msg[0] ? perr.msg : "out of memory");
		goto fail;
	}
	if (!cJSON_IsObject(out->root)) {
		hc_err_set(err, MALFORMED "expected a JSON object");
		goto fail;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(out->root, F_BINDING)) && !cJSON_IsNull(v) &&
	    decode_binding(out, v, own_ns, err) < 0)
		goto fail;
	static const char *const arrays[] = {"parameters", "annotations"};
	for (int i = 0; i < 2; i++) {
		if (!(v = cJSON_GetObjectItemCaseSensitive(out->root, arrays[i])) ||
		    cJSON_IsNull(v))
			continue;
		if (kv_array(v, arrays[i], err) < 0)
			goto fail;
		size_t n = printed_len(v);
		if (n > PR_PARAMS_MAX) {
			*status = 413;
			hc_err_set(err, "%s larger than allowed: %zu > %d bytes.", arrays[i], n,
				   PR_PARAMS_MAX);
			goto fail;
		}
		if (i == 0)
			out->parameters = v;
		else
			out->annotations = v;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(out->root, "version")) && !cJSON_IsNull(v)) {
		if (!cJSON_IsString(v) || !pr_semver_valid(v->valuestring)) {
			hc_err_set(err, MALFORMED "version must be a semantic version (N.N.N)");
			goto fail;
		}
		out->version = v->valuestring;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(out->root, "publish")) && !cJSON_IsNull(v)) {
		if (!cJSON_IsBool(v)) {
			hc_err_set(err, MALFORMED "publish must be a boolean");
			goto fail;
		}
		out->publish = cJSON_IsTrue(v);
	}
	*status = 0;
	return 0;
fail:
	pr_package_put_free(out);
	return -1;
}

void pr_package_put_free(struct pr_package_put *p)
{
	cJSON_Delete(p->root);
	p->root = NULL;
}

/* {namespace, name} of a binding, or {} */
static cJSON *binding_json(const char *ns, const char *name)
{
	cJSON *b = cJSON_CreateObject();
	if (b && ns && (hc_json_add_str(b, "namespace", ns) || hc_json_add_str(b, "name", name))) {
		cJSON_Delete(b);
		return NULL;
	}
	return b;
}

/* annotations without "binding", plus binding=<b> when b names one */
static cJSON *annotations_with_binding(const cJSON *src, const char *bns, const char *bname)
{
	cJSON *out = cJSON_CreateArray();
	const cJSON *e;
	if (!out)
		return NULL;
	cJSON_ArrayForEach(e, src)
	{
		const cJSON *k = cJSON_GetObjectItemCaseSensitive(e, "key");
		if (cJSON_IsString(k) && !strcmp(k->valuestring, F_BINDING))
			continue;
		cJSON *d = cJSON_Duplicate(e, 1);
		if (!d)
			goto oom;
		cJSON_AddItemToArray(out, d);
	}
	if (bns) {
		cJSON *o = cJSON_CreateObject(), *b = binding_json(bns, bname);
		if (!o || !b || hc_json_add_str(o, "key", F_BINDING)) {
			cJSON_Delete(o);
			cJSON_Delete(b);
			goto oom;
		}
		cJSON_AddItemToObject(o, "value", b);
		cJSON_AddItemToArray(out, o);
	}
	return out;
oom:
	cJSON_Delete(out);
	return NULL;
}

cJSON *pr_package_build(const cJSON *old, const struct pr_package_put *put, const char *ns,
			const char *name, uint64_t now_ms, struct hc_err *err)
{
	struct pr_package_info oi;
	char version[32] = "0.0.1", rev[HC_ID_LEN + 1];
	const char *bns = NULL, *bname = NULL;
	const cJSON *params = put->parameters, *ann = put->annotations;
	int publish = 0;
	if (old && pr_package_info(old, &oi) < 0) {
		hc_err_set(err, "Resource is corrupted and cannot be read.");
		return NULL;
	}
	if (old) {
		const cJSON *ov = cJSON_GetObjectItemCaseSensitive(old, "version");
		if (cJSON_IsString(ov) &&
		    pr_semver_uppatch(ov->valuestring, version, sizeof(version)) < 0)
			snprintf(version, sizeof(version), "0.0.1");
		publish = oi.publish;
		if (oi.is_binding) {
			bns = oi.bind_ns;
			bname = oi.bind_name;
		}
		if (!params)
			params = oi.parameters;
		if (!ann)
			ann = oi.annotations;
	}
	if (put->has_binding) {
		bns = put->bind_ns;
		bname = put->bind_name;
	}
	if (put->version)
		snprintf(version, sizeof(version), "%s", put->version);
	if (put->publish >= 0)
		publish = put->publish;
	cJSON *doc = cJSON_CreateObject(), *b = binding_json(bns, bname);
	cJSON *p = params ? cJSON_Duplicate(params, 1) : cJSON_CreateArray();
	cJSON *a = annotations_with_binding(ann, bns, bname);
	if (!doc || !b || !p || !a)
		goto oom;
	if (hc_json_add_str(doc, "namespace", ns) || hc_json_add_str(doc, "name", name))
		goto oom;
	cJSON_AddItemToObject(doc, F_BINDING, b);
	cJSON_AddItemToObject(doc, "parameters", p);
	b = p = NULL;
	if (hc_json_add_str(doc, "version", version) || hc_json_add_bool(doc, "publish", publish))
		goto oom;
	cJSON_AddItemToObject(doc, "annotations", a);
	a = NULL;
	hc_id_new(rev);
	rev[PR_REVISION_LEN] = '\0';
	if (hc_json_add_int(doc, "updated", (int64_t)now_ms) || hc_json_add_str(doc, F_REV, rev))
		goto oom;
	return doc;
oom:
	cJSON_Delete(doc);
	cJSON_Delete(b);
	cJSON_Delete(p);
	cJSON_Delete(a);
	hc_err_set(err, "out of memory");
	return NULL;
}

static const char *str_of(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int pr_package_info(const cJSON *doc, struct pr_package_info *out)
{
	memset(out, 0, sizeof(*out));
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(doc, F_BINDING);
	out->ns = str_of(doc, "namespace");
	out->name = str_of(doc, "name");
	if (!cJSON_IsObject(doc) || !out->ns || !out->name || !cJSON_IsObject(b))
		return -1;
	out->publish = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "publish"));
	if (b->child) {
		out->bind_ns = str_of(b, "namespace");
		out->bind_name = str_of(b, "name");
		if (!out->bind_ns || !out->bind_name)
			return -1;
		out->is_binding = 1;
	}
	out->parameters = cJSON_GetObjectItemCaseSensitive(doc, "parameters");
	out->annotations = cJSON_GetObjectItemCaseSensitive(doc, "annotations");
	out->revision = str_of(doc, F_REV);
	return 0;
}

cJSON *pr_package_to_api(const cJSON *doc)
{
	cJSON *out = cJSON_Duplicate(doc, 1);
	if (out)
		cJSON_DeleteItemFromObjectCaseSensitive(out, F_REV);
	return out;
}

cJSON *pr_package_summary(const cJSON *doc)
{
	static const char *const keep[] = {"namespace",	  "name",    "version", "publish",
					   "annotations", "updated", F_BINDING};
	cJSON *s = cJSON_CreateObject();
	if (!s)
		return NULL;
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, keep[i]);
		cJSON *d = NULL;
		if (i == 6 && (!cJSON_IsObject(v) || !v->child))
			d = cJSON_CreateFalse(); /* the view's binding: false for a package */
		else if (v)
			d = cJSON_Duplicate(v, 1);
		else
			continue;
		if (!d) {
			cJSON_Delete(s);
			return NULL;
		}
		cJSON_AddItemToObject(s, keep[i], d);
	}
	return s;
}

cJSON *pr_package_with_actions(cJSON *api, const cJSON *actions, const cJSON *pkg_params)
{
	cJSON *acts = cJSON_CreateArray(), *feeds = cJSON_CreateArray();
	const cJSON *d;
	if (!api || !acts || !feeds)
		goto oom;
	if (pkg_params) {
		/* a binding's reply: the package's parameters under its own */
		cJSON *merged = pr_params_inherit(
		    pkg_params, cJSON_GetObjectItemCaseSensitive(api, "parameters"));
		if (!merged)
			goto oom;
		cJSON_DeleteItemFromObjectCaseSensitive(api, "parameters");
		cJSON_AddItemToObject(api, "parameters", merged);
	}
	cJSON_ArrayForEach(d, actions)
	{
		static const char *const keep[] = {"name", "version", "annotations"};
		const cJSON *ann = cJSON_GetObjectItemCaseSensitive(d, "annotations");
		cJSON *e = cJSON_CreateObject();
		if (!e)
			goto oom;
		for (int i = 0; i < 3; i++) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(d, keep[i]);
			cJSON *c = v ? cJSON_Duplicate(v, 1) : NULL;
			if (c)
				cJSON_AddItemToObject(e, keep[i], c);
		}
		/* any "feed" annotation makes a feed, whatever its value */
		cJSON_AddItemToArray(pr_annotation(ann, "feed") ? feeds : acts, e);
	}
	cJSON_AddItemToObject(api, "actions", acts);
	cJSON_AddItemToObject(api, "feeds", feeds);
	return api;
oom:
	cJSON_Delete(api);
	cJSON_Delete(acts);
	cJSON_Delete(feeds);
	return NULL;
}

cJSON *pr_params_inherit(const cJSON *base, const cJSON *over)
{
	cJSON *out = cJSON_CreateArray();
	const cJSON *e;
	if (!out)
		return NULL;
	const cJSON *lists[2] = {base, over};
	for (int l = 0; l < 2; l++) {
		cJSON_ArrayForEach(e, lists[l])
		{
			const cJSON *k = cJSON_GetObjectItemCaseSensitive(e, "key");
			if (!cJSON_IsString(k))
				continue;
			/* a key of over replaces base's, where it stood */
			int at = -1, i = 0;
			const cJSON *o;
			cJSON_ArrayForEach(o, out)
			{
				const cJSON *ok = cJSON_GetObjectItemCaseSensitive(o, "key");
				if (!strcmp(ok->valuestring, k->valuestring)) {
					at = i;
					break;
				}
				i++;
			}
			cJSON *d = cJSON_Duplicate(e, 1);
			if (!d) {
				cJSON_Delete(out);
				return NULL;
			}
			if (at >= 0)
				cJSON_ReplaceItemInArray(out, at, d);
			else
				cJSON_AddItemToArray(out, d);
		}
	}
	return out;
}

char *pr_params_init_text(const cJSON *params)
{
	cJSON *init = cJSON_CreateArray();
	const cJSON *e;
	char *s = NULL;
	if (!init)
		return NULL;
	cJSON_ArrayForEach(e, params)
	{
		if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "init")))
			continue;
		cJSON *d = cJSON_Duplicate(e, 1);
		if (!d)
			goto out;
		cJSON_AddItemToArray(init, d);
	}
	if (init->child)
		s = cJSON_PrintUnformatted(init);
out:
	cJSON_Delete(init);
	return s;
}
