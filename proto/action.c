/* proto/action.c — the OpenWhisk action document (see action.h). */
#include "proto/action.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/id.h"
#include "common/json.h"
#include "proto/kinds.h"

/* The stored document's revision (hearth's own; not in the API's form). */
#define F_REV "rev"

/* OpenWhisk wraps body deserialisation errors in this prefix. */
#define MALFORMED "The request content was malformed:\n"

void pr_limit_bounds_default(struct pr_limit_bounds *b)
{
	b->min =
	    (struct pr_limits){.timeout_ms = 100, .memory_mb = 128, .logs_mb = 0, .concurrency = 1};
	b->max = (struct pr_limits){
	    .timeout_ms = 300000, .memory_mb = 512, .logs_mb = 10, .concurrency = 500};
	b->def = (struct pr_limits){
	    .timeout_ms = 60000, .memory_mb = 256, .logs_mb = 10, .concurrency = 1};
}

/* A limit value must be a whole JSON number. Returns 1 present, 0 absent, -1 bad. */
static int limit_num(const cJSON *j, const char *key, int64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsNumber(v))
		return -1;
	double d = v->valuedouble;
	if (d != (double)(int64_t)d || d < -1e15 || d > 1e15)
		return -1;
	*out = (int64_t)d;
	return 1;
}

/* Each limit: its JSON key, where it lives, and the words of OpenWhisk's
 * messages (TimeLimit, MemoryLimit, LogLimit, ConcurrencyLimit require()s). */
static const struct limit_field {
	const char *key;
	size_t offset;
	const char *not_whole; /* "<what> limit must be whole number" */
	const char *label;     /* "<label> N<unit> below/exceeds allowed threshold of M<unit>" */
	const char *unit;
} limit_fields[] = {
    {"timeout", offsetof(struct pr_limits, timeout_ms), "time", "duration", " milliseconds"},
    {"memory", offsetof(struct pr_limits, memory_mb), "memory", "memory", " MB"},
    {"logs", offsetof(struct pr_limits, logs_mb), "log", "log size", " MB"},
    {"concurrency", offsetof(struct pr_limits, concurrency), "concurrency", "concurrency", ""},
};

#define LIMIT(l, f) (*(int64_t *)((char *)(l) + (f)->offset))

int pr_limits_decode(const cJSON *j, const struct pr_limits *base, const struct pr_limit_bounds *b,
		     struct pr_limits *out, struct hc_err *err)
{
	struct pr_limits l = *base, lo = b->min, hi = b->max;
	const size_t n = sizeof(limit_fields) / sizeof(limit_fields[0]);
	if (j && !cJSON_IsObject(j))
		return hc_err_set(err, MALFORMED "limits must be an object");
	/* every field is read before any is checked against its range */
	for (size_t i = 0; j && i < n; i++) {
		const struct limit_field *f = &limit_fields[i];
		if (limit_num(j, f->key, &LIMIT(&l, f)) < 0)
			return hc_err_set(err, MALFORMED "%s limit must be whole number",
					  f->not_whole);
	}
	for (size_t i = 0; i < n; i++) {
		const struct limit_field *f = &limit_fields[i];
		int64_t v = LIMIT(&l, f);
		if (v < LIMIT(&lo, f))
			return hc_err_set(err,
					  MALFORMED "%s %" PRId64
						    "%s below allowed threshold of %" PRId64 "%s",
					  f->label, v, f->unit, LIMIT(&lo, f), f->unit);
		if (v > LIMIT(&hi, f))
			return hc_err_set(err,
					  MALFORMED "%s %" PRId64
						    "%s exceeds allowed threshold of %" PRId64 "%s",
					  f->label, v, f->unit, LIMIT(&hi, f), f->unit);
	}
	*out = l;
	return 0;
}

cJSON *pr_limits_to_json(const struct pr_limits *l)
{
	cJSON *j = cJSON_CreateObject();
	if (!j)
		return NULL;
	if (hc_json_add_int(j, "timeout", l->timeout_ms) ||
	    hc_json_add_int(j, "memory", l->memory_mb) || hc_json_add_int(j, "logs", l->logs_mb) ||
	    hc_json_add_int(j, "concurrency", l->concurrency)) {
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

/* ---- kinds ---- */

int pr_kind_resolve(const char *kind, char *out, size_t outlen, struct hc_err *err)
{
	return pr_kinds_resolve(pr_kinds_get(), kind, out, outlen, err);
}

/* ---- names and versions ---- */

static int name_char(int c, int first)
{
	if (isalnum(c) || c == '_')
		return 1;
	return !first && (c == '@' || c == ' ' || c == '.' || c == '&' || c == '-');
}

int pr_name_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > PR_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!name_char((unsigned char)s[i], i == 0))
			return 0;
	return s[n - 1] != ' ';
}

static int parse_semver(const char *v, long *a, long *b, long *c)
{
	char tail;
	if (!v || strlen(v) > 30)
		return -1;
	for (const char *p = v; *p; p++)
		if (!isdigit((unsigned char)*p) && *p != '.')
			return -1;
	if (sscanf(v, "%ld.%ld.%ld%c", a, b, c, &tail) != 3 || *a < 0 || *b < 0 || *c < 0)
		return -1;
	return 0;
}

int pr_semver_valid(const char *v)
{
	long a, b, c;
	return parse_semver(v, &a, &b, &c) == 0;
}

int pr_semver_uppatch(const char *v, char *out, size_t outlen)
{
	long a, b, c;
	if (parse_semver(v, &a, &b, &c) < 0)
		return -1;
	int n = snprintf(out, outlen, "%ld.%ld.%ld", a, b, c + 1);
	return (n < 0 || (size_t)n >= outlen) ? -1 : 0;
}

/* ---- PUT ---- */

/* An array of {key: string, value: any}. */
static int check_kv_array(const cJSON *a, const char *what, struct hc_err *err)
{
	if (!cJSON_IsArray(a))
		return hc_err_set(err, MALFORMED "%s must be an array of {key, value}", what);
	const cJSON *e;
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

static int decode_exec(struct pr_action_put *p, const cJSON *exec, const char *own_ns, int *status,
		       struct hc_err *err)
{
	if (!cJSON_IsObject(exec))
		return hc_err_set(err, MALFORMED "exec must be an object");
	const cJSON *k = cJSON_GetObjectItemCaseSensitive(exec, "kind");
	if (!cJSON_IsString(k))
		return hc_err_set(err, MALFORMED "exec.kind is required");
	if (pr_kind_resolve(k->valuestring, p->kind, sizeof(p->kind), err) < 0)
		return -1;
	p->has_exec = 1;
	if (!strcmp(p->kind, "sequence")) {
		const cJSON *comps = cJSON_GetObjectItemCaseSensitive(exec, "components");
		if (!cJSON_IsArray(comps) || cJSON_GetArraySize(comps) == 0)
			return hc_err_set(err, MALFORMED "sequence components must be a "
							 "non-empty array of action names");
		if (cJSON_GetArraySize(comps) > PR_SEQUENCE_MAX)
			return hc_err_set(err, "Too many actions in the sequence.");
		cJSON *c;
		cJSON_ArrayForEach(c, comps)
		{
			if (!cJSON_IsString(c) || c->valuestring[0] != '/')
				return hc_err_set(err, MALFORMED "sequence components must be "
								 "fully qualified names "
								 "(/namespace/action)");
			/* "/_/x" -> "/<own>/x": OpenWhisk resolves `_` at PUT time */
			if (!strncmp(c->valuestring, "/_/", 3) && own_ns) {
				char buf[2 * PR_NAME_MAX + 8];
				snprintf(buf, sizeof(buf), "/%s/%s", own_ns, c->valuestring + 3);
				if (!cJSON_SetValuestring(c, buf))
					return hc_err_set(err, "out of memory");
			}
			const char *rest = strchr(c->valuestring + 1, '/');
			if (!rest || !rest[1] || rest - c->valuestring - 1 > PR_NAME_MAX ||
			    strlen(rest + 1) > 2 * PR_NAME_MAX + 1)
				return hc_err_set(err, MALFORMED "sequence components must be "
								 "fully qualified names "
								 "(/namespace/action)");
		}
		p->components = comps;
		return 0;
	}
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(exec, "code");
	const cJSON *image = cJSON_GetObjectItemCaseSensitive(exec, "image");
	const cJSON *main_ = cJSON_GetObjectItemCaseSensitive(exec, "main");
	const cJSON *binary = cJSON_GetObjectItemCaseSensitive(exec, "binary");
	if (code && !cJSON_IsNull(code) && !cJSON_IsString(code))
		return hc_err_set(err, MALFORMED "exec.code must be a string");
	if (code && cJSON_IsString(code)) {
		p->code = code->valuestring;
		p->code_len = strlen(code->valuestring);
	}
	if (cJSON_IsString(image))
		p->image = image->valuestring;
	if (!strcmp(p->kind, "blackbox")) {
		if (!p->image && !p->code)
			return hc_err_set(err, MALFORMED "blackbox actions need exec.image or "
							 "exec.code");
	} else if (!p->code) {
		return hc_err_set(err, MALFORMED "exec.code is required for kind %s", p->kind);
	}
	if (p->code_len > PR_CODE_MAX) {
		*status = 413;
		return hc_err_set(err, "exec larger than allowed: %zu > %d bytes.", p->code_len,
				  PR_CODE_MAX);
	}
	if (main_ && !cJSON_IsNull(main_)) {
		if (!cJSON_IsString(main_) || strlen(main_->valuestring) > PR_NAME_MAX)
			return hc_err_set(err, MALFORMED "exec.main must be a string");
		p->main = main_->valuestring;
	}
	if (binary && !cJSON_IsNull(binary)) {
		if (!cJSON_IsBool(binary))
			return hc_err_set(err, MALFORMED "exec.binary must be a boolean");
		p->binary = cJSON_IsTrue(binary);
	} else if (p->code) {
		/* no flag (the openwhisk npm client and serverless-openwhisk send
		 * a zip Buffer as base64 without one): OpenWhisk decides from the
		 * code itself */
		p->binary = pr_code_is_binary(p->code, p->code_len);
	}
	return 0;
}

/* OpenWhisk's Exec.isBinaryCode: the trimmed code is non-empty, a multiple
 * of 4 long and matches
 * ^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}==)$
 * (so no blank inside: source code always has one). */
int pr_code_is_binary(const char *code, size_t len)
{
	size_t a = 0, b = len;
	/* Java's String.trim: every char <= ' ' at either end */
	while (a < b && (unsigned char)code[a] <= ' ')
		a++;
	while (b > a && (unsigned char)code[b - 1] <= ' ')
		b--;
	size_t n = b - a;
	if (n == 0 || n % 4 != 0)
		return 0;
	size_t pad = 0;
	while (pad < 2 && code[b - 1 - pad] == '=')
		pad++;
	for (size_t i = a; i < b - pad; i++) {
		unsigned char c = (unsigned char)code[i];
		if (!isalnum(c) && c != '+' && c != '/')
			return 0;
	}
	return 1;
}

int pr_action_put_decode(const char *body, size_t len, const struct pr_limit_bounds *b,
			 const char *own_ns, struct pr_action_put *out, int *status,
			 struct hc_err *err)
{
	struct hc_err perr;
	memset(out, 0, sizeof(*out));
	out->publish = -1;
	*status = 400;
	out->root = hc_json_parse(body, len, HC_JSON_MAX_DEPTH, &perr);
	if (!out->root) {
		hc_err_set(err, MALFORMED "%s", perr.msg);
		goto fail;
	}
	cJSON *r = out->root;
	if (!cJSON_IsObject(r)) {
		hc_err_set(err, MALFORMED "expected a JSON object");
		goto fail;
	}
	const cJSON *exec = cJSON_GetObjectItemCaseSensitive(r, "exec");
	if (exec && !cJSON_IsNull(exec) && decode_exec(out, exec, own_ns, status, err) < 0)
		goto fail;
	const cJSON *v;
	if ((v = cJSON_GetObjectItemCaseSensitive(r, "parameters")) && !cJSON_IsNull(v)) {
		if (check_kv_array(v, "parameters", err) < 0)
			goto fail;
		out->parameters = v;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(r, "annotations")) && !cJSON_IsNull(v)) {
		if (check_kv_array(v, "annotations", err) < 0)
			goto fail;
		out->annotations = v;
	}
	size_t psize = printed_len(out->parameters);
	if (psize > PR_PARAMS_MAX) {
		*status = 413;
		hc_err_set(err, "parameters larger than allowed: %zu > %d bytes.", psize,
			   PR_PARAMS_MAX);
		goto fail;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(r, "delAnnotations")) && !cJSON_IsNull(v)) {
		const cJSON *e;
		if (!cJSON_IsArray(v)) {
			hc_err_set(err, MALFORMED "delAnnotations must be an array of strings");
			goto fail;
		}
		cJSON_ArrayForEach(e, v) if (!cJSON_IsString(e))
		{
			hc_err_set(err, MALFORMED "delAnnotations must be an array of strings");
			goto fail;
		}
		out->del_annotations = v;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(r, "limits")) && !cJSON_IsNull(v)) {
		struct pr_limits tmp;
		/* validate now against the defaults; pr_action_build merges over the old */
		if (pr_limits_decode(v, &b->def, b, &tmp, err) < 0)
			goto fail;
		out->limits = v;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(r, "version")) && !cJSON_IsNull(v)) {
		if (!cJSON_IsString(v) || !pr_semver_valid(v->valuestring)) {
			hc_err_set(err, MALFORMED "version must be a semantic version (N.N.N)");
			goto fail;
		}
		out->version = v->valuestring;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(r, "publish")) && !cJSON_IsNull(v)) {
		if (!cJSON_IsBool(v)) {
			hc_err_set(err, MALFORMED "publish must be a boolean");
			goto fail;
		}
		out->publish = cJSON_IsTrue(v);
	}
	*status = 0;
	return 0;
fail:
	pr_action_put_free(out);
	return -1;
}

void pr_action_put_free(struct pr_action_put *p)
{
	cJSON_Delete(p->root);
	p->root = NULL;
}

/* Set annotation key to val (taken), replacing an existing one. */
static int set_annotation(cJSON *arr, const char *key, cJSON *val)
{
	cJSON *e;
	if (!val)
		return -1;
	cJSON_ArrayForEach(e, arr)
	{
		const cJSON *k = cJSON_GetObjectItemCaseSensitive(e, "key");
		if (cJSON_IsString(k) && !strcmp(k->valuestring, key)) {
			cJSON_ReplaceItemInObjectCaseSensitive(e, "value", val);
			return 0;
		}
	}
	cJSON *o = cJSON_CreateObject();
	if (!o || !cJSON_AddStringToObject(o, "key", key)) {
		cJSON_Delete(o);
		cJSON_Delete(val);
		return -1;
	}
	cJSON_AddItemToObject(o, "value", val);
	cJSON_AddItemToArray(arr, o);
	return 0;
}

static void del_annotation(cJSON *arr, const char *key)
{
	for (int i = cJSON_GetArraySize(arr) - 1; i >= 0; i--) {
		const cJSON *k =
		    cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(arr, i), "key");
		if (cJSON_IsString(k) && !strcmp(k->valuestring, key))
			cJSON_DeleteItemFromArray(arr, i);
	}
}

static cJSON *build_exec(const struct pr_action_put *put, const char *digest)
{
	cJSON *e = cJSON_CreateObject();
	if (!e)
		return NULL;
	int bad = hc_json_add_str(e, "kind", put->kind);
	if (put->components) {
		cJSON *c = cJSON_Duplicate(put->components, 1);
		bad |= !c;
		if (c)
			cJSON_AddItemToObject(e, "components", c);
	} else {
		if (put->image)
			bad |= hc_json_add_str(e, "image", put->image);
		bad |= hc_json_add_bool(e, "binary", put->binary);
		if (put->main)
			bad |= hc_json_add_str(e, "main", put->main);
		if (put->code)
			bad |= hc_json_add_str(e, "digest", digest ? digest : "");
	}
	if (bad) {
		cJSON_Delete(e);
		return NULL;
	}
	return e;
}

static cJSON *dup_or(const cJSON *a, const cJSON *b, int arr)
{
	const cJSON *src = a ? a : b;
	if (src)
		return cJSON_Duplicate(src, 1);
	return arr ? cJSON_CreateArray() : cJSON_CreateObject();
}

/* The new document's version, publish flag and limits: the old
 * document's (its version one patch up), overridden by what put says. -1
 * with err when put's limits are out of bounds. */
static int merge_meta(const cJSON *old, const struct pr_action_put *put,
		      const struct pr_limit_bounds *b, char version[32], int *publish,
		      struct pr_limits *limits, struct hc_err *err)
{
	if (old) {
		const cJSON *ov = cJSON_GetObjectItemCaseSensitive(old, "version");
		if (cJSON_IsString(ov) && pr_semver_uppatch(ov->valuestring, version, 32) < 0)
			snprintf(version, 32, "0.0.1");
		*publish = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(old, "publish"));
		if (pr_limits_decode(cJSON_GetObjectItemCaseSensitive(old, "limits"), &b->def, b,
				     limits, NULL) < 0)
			*limits = b->def; /* stored under wider bounds: start over */
	}
	if (put->version)
		snprintf(version, 32, "%s", put->version);
	if (put->publish >= 0)
		*publish = put->publish;
	if (put->limits && pr_limits_decode(put->limits, limits, b, limits, err) < 0)
		return -1;
	return 0;
}

/* The new document's annotations: the old document's, less those put
 * deletes, plus those it sets, and the two hearth keeps (exec: the kind
 * of exec; provide-api-key: false on a new action). NULL: out of memory. */
static cJSON *merge_annotations(const cJSON *old, const struct pr_action_put *put,
				const cJSON *exec)
{
	cJSON *ann = old ? dup_or(cJSON_GetObjectItemCaseSensitive(old, "annotations"), NULL, 1)
			 : cJSON_CreateArray();
	if (!ann)
		return NULL;
	if (put->del_annotations) {
		const cJSON *d;
		cJSON_ArrayForEach(d, put->del_annotations) del_annotation(ann, d->valuestring);
	}
	if (put->annotations) {
		const cJSON *a;
		cJSON_ArrayForEach(a, put->annotations)
		{
			const cJSON *k = cJSON_GetObjectItemCaseSensitive(a, "key");
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(a, "value");
			if (set_annotation(ann, k->valuestring,
					   v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull()) < 0)
				goto oom;
		}
	}
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(exec, "kind");
	if (set_annotation(ann, "exec",
			   cJSON_CreateString(cJSON_IsString(kind) ? kind->valuestring : "")) < 0)
		goto oom;
	if (!old && !pr_annotation(ann, "provide-api-key") &&
	    set_annotation(ann, "provide-api-key", cJSON_CreateFalse()) < 0)
		goto oom;
	return ann;
oom:
	cJSON_Delete(ann);
	return NULL;
}

cJSON *pr_action_build(const cJSON *old, const struct pr_action_put *put, const char *ns,
		       const char *name, const char *digest, const struct pr_limit_bounds *b,
		       uint64_t now_ms, struct hc_err *err)
{
	cJSON *doc = NULL, *exec = NULL, *ann = NULL, *params = NULL, *lim = NULL;
	char version[32] = "0.0.1";
	struct pr_limits limits = b->def;
	int publish = 0;

	if (!old && !put->has_exec) {
		hc_err_set(err, MALFORMED "exec undefined");
		return NULL;
	}
	if (merge_meta(old, put, b, version, &publish, &limits, err) < 0)
		return NULL;
	if (put->has_exec)
		exec = build_exec(put, digest);
	else
		exec = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(old, "exec"), 1);
	params = dup_or(put->parameters,
			old ? cJSON_GetObjectItemCaseSensitive(old, "parameters") : NULL, 1);
	lim = pr_limits_to_json(&limits);
	if (!exec || !params || !lim || !(ann = merge_annotations(old, put, exec)))
		goto oom;

	doc = cJSON_CreateObject();
	if (!doc || hc_json_add_str(doc, "namespace", ns) || hc_json_add_str(doc, "name", name) ||
	    hc_json_add_str(doc, "version", version) || hc_json_add_bool(doc, "publish", publish))
		goto oom;
	cJSON_AddItemToObject(doc, "exec", exec);
	cJSON_AddItemToObject(doc, "annotations", ann);
	cJSON_AddItemToObject(doc, "parameters", params);
	cJSON_AddItemToObject(doc, "limits", lim);
	exec = ann = params = lim = NULL;
	/* a new revision with every write: containers are matched on it, so
	 * none initialised with an older document (or a deleted action's of
	 * the same name) ever runs this one */
	char rev[HC_ID_LEN + 1];
	hc_id_new(rev);
	rev[PR_REVISION_LEN] = '\0';
	if (hc_json_add_int(doc, "updated", (int64_t)now_ms) || hc_json_add_str(doc, F_REV, rev))
		goto oom;
	return doc;
oom:
	cJSON_Delete(doc);
	cJSON_Delete(exec);
	cJSON_Delete(ann);
	cJSON_Delete(params);
	cJSON_Delete(lim);
	hc_err_set(err, "out of memory");
	return NULL;
}

/* ---- reading ---- */

static const char *str_or(const cJSON *o, const char *key, const char *dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : dflt;
}

int pr_action_info(const cJSON *doc, const struct pr_limit_bounds *b, struct pr_action_info *out,
		   struct hc_err *err)
{
	memset(out, 0, sizeof(*out));
	if (!cJSON_IsObject(doc))
		return hc_err_set(err, "action document is not an object");
	const cJSON *exec = cJSON_GetObjectItemCaseSensitive(doc, "exec");
	out->ns = str_or(doc, "namespace", NULL);
	out->name = str_or(doc, "name", NULL);
	out->version = str_or(doc, "version", "0.0.1");
	out->revision = str_or(doc, F_REV, out->version); /* documents from before revisions */
	out->kind = str_or(exec, "kind", NULL);
	if (!out->ns || !out->name || !out->kind)
		return hc_err_set(err, "action document lacks namespace, name or exec.kind");
	out->main = str_or(exec, "main", "main");
	out->digest = str_or(exec, "digest", "");
	out->image = str_or(exec, "image", NULL);
	out->binary = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(exec, "binary"));
	out->is_sequence = !strcmp(out->kind, "sequence");
	out->components = cJSON_GetObjectItemCaseSensitive(exec, "components");
	if (out->is_sequence && !cJSON_IsArray(out->components))
		return hc_err_set(err, "sequence document lacks components");
	out->parameters = cJSON_GetObjectItemCaseSensitive(doc, "parameters");
	out->annotations = cJSON_GetObjectItemCaseSensitive(doc, "annotations");
	/* stored limits were validated when written; read them with wide bounds
	 * so a later, narrower configuration does not make an action unreadable */
	struct pr_limit_bounds wide = *b;
	wide.min = (struct pr_limits){0, 0, 0, 1};
	wide.max = (struct pr_limits){INT32_MAX, INT32_MAX, INT32_MAX, INT32_MAX};
	if (pr_limits_decode(cJSON_GetObjectItemCaseSensitive(doc, "limits"), &b->def, &wide,
			     &out->limits, err) < 0)
		return -1;
	return 0;
}

cJSON *pr_action_to_api(const cJSON *doc, const char *code, size_t code_len)
{
	cJSON *out = cJSON_Duplicate(doc, 1);
	if (!out)
		return NULL;
	const cJSON *exec = cJSON_GetObjectItemCaseSensitive(doc, "exec");
	cJSON *e = cJSON_CreateObject();
	if (!e)
		goto oom;
	/* rebuild exec in OpenWhisk's field order: kind, code, image, binary, main */
	const cJSON *f;
	if ((f = cJSON_GetObjectItemCaseSensitive(exec, "kind")))
		cJSON_AddItemToObject(e, "kind", cJSON_Duplicate(f, 1));
	if (code) {
		char *c = malloc(code_len + 1);
		if (!c)
			goto oom;
		memcpy(c, code, code_len);
		c[code_len] = '\0';
		cJSON *cs = cJSON_CreateString(c);
		free(c);
		if (!cs)
			goto oom;
		cJSON_AddItemToObject(e, "code", cs);
	}
	cJSON_ArrayForEach(f, exec)
	{
		if (!strcmp(f->string, "kind") || !strcmp(f->string, "digest") ||
		    !strcmp(f->string, "code"))
			continue;
		cJSON_AddItemToObject(e, f->string, cJSON_Duplicate(f, 1));
	}
	cJSON_ReplaceItemInObjectCaseSensitive(out, "exec", e);
	cJSON_DeleteItemFromObjectCaseSensitive(out, F_REV);
	return out;
oom:
	cJSON_Delete(e);
	cJSON_Delete(out);
	return NULL;
}

cJSON *pr_action_summary(const cJSON *doc)
{
	static const char *const keep[] = {"namespace",	  "name",   "version", "publish",
					   "annotations", "limits", "updated"};
	cJSON *s = cJSON_CreateObject();
	if (!s)
		return NULL;
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, keep[i]);
		if (v)
			cJSON_AddItemToObject(s, keep[i], cJSON_Duplicate(v, 1));
		if (i == 4) {
			cJSON *e = cJSON_AddObjectToObject(s, "exec");
			const cJSON *exec = cJSON_GetObjectItemCaseSensitive(doc, "exec");
			if (e)
				cJSON_AddBoolToObject(
				    e, "binary",
				    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(exec, "binary")));
		}
	}
	return s;
}

const cJSON *pr_annotation(const cJSON *annotations, const char *key)
{
	const cJSON *e;
	cJSON_ArrayForEach(e, annotations)
	{
		const cJSON *k = cJSON_GetObjectItemCaseSensitive(e, "key");
		if (cJSON_IsString(k) && !strcmp(k->valuestring, key))
			return cJSON_GetObjectItemCaseSensitive(e, "value");
	}
	return NULL;
}

int pr_annotation_true(const cJSON *annotations, const char *key, int dflt)
{
	const cJSON *v = pr_annotation(annotations, key);
	if (!v)
		return dflt;
	if (cJSON_IsBool(v))
		return cJSON_IsTrue(v);
	if (cJSON_IsNumber(v))
		return v->valuedouble != 0;
	if (cJSON_IsString(v))
		return v->valuestring[0] != '\0';
	return 0;
}

cJSON *pr_params_merge(const cJSON *defaults, const cJSON *body, const cJSON *annotations,
		       struct hc_err *err)
{
	cJSON *out = cJSON_CreateObject();
	const cJSON *e;
	if (!out)
		goto oom;
	int final = pr_annotation_true(annotations, "final", 0);
	cJSON_ArrayForEach(e, defaults)
	{
		const cJSON *k = cJSON_GetObjectItemCaseSensitive(e, "key");
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, "value");
		if (!cJSON_IsString(k))
			continue;
		cJSON *d = v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull();
		if (!d)
			goto oom;
		cJSON_DeleteItemFromObjectCaseSensitive(out, k->valuestring);
		cJSON_AddItemToObject(out, k->valuestring, d);
	}
	cJSON_ArrayForEach(e, body)
	{
		if (!e->string)
			continue;
		if (final && cJSON_GetObjectItemCaseSensitive(out, e->string)) {
			cJSON_Delete(out);
			hc_err_set(err, "Request defines parameters that are not allowed (e.g., "
					"reserved properties).");
			return NULL;
		}
		cJSON *d = cJSON_Duplicate(e, 1);
		if (!d)
			goto oom;
		cJSON_DeleteItemFromObjectCaseSensitive(out, e->string);
		cJSON_AddItemToObject(out, e->string, d);
	}
	return out;
oom:
	cJSON_Delete(out);
	hc_err_set(err, "out of memory");
	return NULL;
}
