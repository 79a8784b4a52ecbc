/* proto/trigger.c — trigger and rule documents (see trigger.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/json.h"
#include "common/str.h"
#include "proto/trigger.h"

#define MALFORMED "The request content was malformed:\n"
#define MSG_FQN                                                                                    \
	"The fully qualified name of the entity must contain at least the namespace and the name " \
	"of the entity."
#define MSG_ILLEGAL "The name of the entity contains illegal characters."
#define MSG_FEED    "Feed name is not valid"

/* ---- names ---- */

void pr_fqn_string(const struct pr_fqn *f, char *out, size_t outlen)
{
	if (f->pkg[0])
		snprintf(out, outlen, "%s/%s/%s", f->ns, f->pkg, f->name);
	else
		snprintf(out, outlen, "%s/%s", f->ns, f->name);
}

void pr_fqn_rel(const struct pr_fqn *f, char *out, size_t outlen)
{
	if (f->pkg[0])
		snprintf(out, outlen, "%s/%s", f->pkg, f->name);
	else
		snprintf(out, outlen, "%s", f->name);
}

cJSON *pr_fqn_to_json(const struct pr_fqn *f)
{
	char path[2 * PR_NAME_MAX + 2];
	cJSON *j = cJSON_CreateObject();
	if (f->pkg[0])
		snprintf(path, sizeof(path), "%s/%s", f->ns, f->pkg);
	else
		snprintf(path, sizeof(path), "%s", f->ns);
	if (!j || hc_json_add_str(j, "path", path) < 0 || hc_json_add_str(j, "name", f->name) < 0) {
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

/* Split s ("/a/b/c", "a/b") into at most 3 segments; the count, or -1. */
static int segments(const char *s, char seg[3][PR_NAME_MAX + 1])
{
	int n = 0;
	if (*s == '/')
		s++;
	while (*s) {
		const char *e = strchr(s, '/');
		size_t len = e ? (size_t)(e - s) : strlen(s);
		if (n == 3 || len == 0 || len > PR_NAME_MAX)
			return -1;
		memcpy(seg[n], s, len);
		seg[n++][len] = '\0';
		s += len;
		if (*s == '/' && !*++s)
			return -1; /* a trailing slash */
	}
	return n;
}

static int fqn_from_segments(char seg[3][PR_NAME_MAX + 1], int n, const char *own_ns,
			     struct pr_fqn *out, struct hc_err *err)
{
	memset(out, 0, sizeof(*out));
	if (n < 2)
		return hc_err_set(err, MALFORMED "requirement failed: " MSG_FQN);
	for (int i = 0; i < n; i++)
		if (!pr_name_valid(seg[i]) && !(i == 0 && !strcmp(seg[0], "_")))
			return hc_err_set(err, MALFORMED "requirement failed: " MSG_ILLEGAL);
	hc_strlcpy(out->ns, strcmp(seg[0], "_") ? seg[0] : own_ns, sizeof(out->ns));
	if (n == 3)
		memcpy(out->pkg, seg[1], strlen(seg[1]) + 1);
	memcpy(out->name, seg[n - 1], strlen(seg[n - 1]) + 1);
	return 0;
}

int pr_fqn_parse(const char *s, const char *own_ns, int max_segments, struct pr_fqn *out,
		 struct hc_err *err)
{
	char seg[3][PR_NAME_MAX + 1];
	int n = s ? segments(s, seg) : -1;
	if (n < 0)
		return hc_err_set(err, MALFORMED "requirement failed: " MSG_FQN);
	if (n > max_segments)
		return hc_err_set(err, MALFORMED "requirement failed: " MSG_ILLEGAL);
	return fqn_from_segments(seg, n, own_ns, out, err);
}

int pr_fqn_decode(const cJSON *v, const char *own_ns, int max_segments, struct pr_fqn *out,
		  struct hc_err *err)
{
	memset(out, 0, sizeof(*out)); /* a failed decode leaves no garbage */
	if (cJSON_IsString(v))
		return pr_fqn_parse(v->valuestring, own_ns, max_segments, out, err);
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(v, "path");
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(v, "name");
	if (!cJSON_IsObject(v) || !cJSON_IsString(p) || !cJSON_IsString(n) ||
	    strlen(p->valuestring) > 2 * PR_NAME_MAX + 1 || strlen(n->valuestring) > PR_NAME_MAX)
		return hc_err_set(err, MALFORMED "fully qualified name malformed");
	char text[PR_FQN_MAX + 2];
	snprintf(text, sizeof(text), "/%s/%s", p->valuestring, n->valuestring);
	return pr_fqn_parse(text, own_ns, max_segments, out, err);
}

/* ---- PUT bodies ---- */

void pr_entity_put_free(struct pr_entity_put *p)
{
	cJSON_Delete(p->root);
	memset(p, 0, sizeof(*p));
	p->publish = -1;
}

static int check_kv_array(const cJSON *a, const char *what, struct hc_err *err)
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

/* The fields every entity PUT shares; *status 400/413 on error. */
static int decode_common(const char *body, size_t len, struct pr_entity_put *out, int *status,
			 struct hc_err *err)
{
	struct hc_err perr = {{0}};
	const cJSON *v;
	memset(out, 0, sizeof(*out));
	out->publish = -1;
	*status = 400;
	out->root = hc_json_blank(body, len) ? cJSON_CreateObject()
					     : hc_json_parse(body, len, HC_JSON_MAX_DEPTH, &perr);
	if (!out->root)
		return hc_err_set(err, MALFORMED "%s", perr.msg);
	if (!cJSON_IsObject(out->root))
		return hc_err_set(err, MALFORMED "expected a JSON object");
	const cJSON *r = out->root;
	if ((v = cJSON_GetObjectItemCaseSensitive(r, "parameters")) && !cJSON_IsNull(v)) {
		if (check_kv_array(v, "parameters", err) < 0)
			return -1;
		out->parameters = v;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(r, "annotations")) && !cJSON_IsNull(v)) {
		if (check_kv_array(v, "annotations", err) < 0)
			return -1;
		out->annotations = v;
	}
	static const char *const sized[] = {"parameters", "annotations"};
	for (int i = 0; i < 2; i++) {
		size_t n = printed_len(i ? out->annotations : out->parameters);
		if (n > PR_PARAMS_MAX) {
			*status = 413;
			return hc_err_set(err, "%s larger than allowed: %zu > %d bytes.", sized[i],
					  n, PR_PARAMS_MAX);
		}
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(r, "version")) && !cJSON_IsNull(v)) {
		if (!cJSON_IsString(v) || !pr_semver_valid(v->valuestring))
			return hc_err_set(err,
					  MALFORMED "version must be a semantic version (N.N.N)");
		out->version = v->valuestring;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(r, "publish")) && !cJSON_IsNull(v)) {
		if (!cJSON_IsBool(v))
			return hc_err_set(err, MALFORMED "publish must be a boolean");
		out->publish = cJSON_IsTrue(v);
	}
	*status = 0;
	return 0;
}

/* An entity path as a feed annotation holds it: 1 to 3 valid names. */
static int feed_name_valid(const char *s)
{
	char seg[3][PR_NAME_MAX + 1];
	int n = segments(s, seg);
	for (int i = 0; i < n; i++)
		if (!pr_name_valid(seg[i]) && !(i == 0 && n > 1 && !strcmp(seg[0], "_")))
			return 0;
	return n >= 1;
}

int pr_trigger_put_decode(const char *body, size_t len, struct pr_entity_put *out, int *status,
			  struct hc_err *err)
{
	if (decode_common(body, len, out, status, err) < 0)
		goto fail;
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(out->root, "limits");
	if (v && !cJSON_IsNull(v)) {
		if (!cJSON_IsObject(v)) {
			*status = 400;
			hc_err_set(err, MALFORMED "limits must be an object");
			goto fail;
		}
		out->limits = v;
	}
	const cJSON *feed = pr_annotation(out->annotations, "feed");
	if (feed && (!cJSON_IsString(feed) || !feed_name_valid(feed->valuestring))) {
		*status = 400;
		hc_err_set(err, MSG_FEED);
		goto fail;
	}
	return 0;
fail:
	pr_entity_put_free(out);
	return -1;
}

static cJSON *dup_or(const cJSON *a, const cJSON *b, int array)
{
	if (a)
		return cJSON_Duplicate(a, 1);
	if (b)
		return cJSON_Duplicate(b, 1);
	return array ? cJSON_CreateArray() : cJSON_CreateObject();
}

/* version: given, else the old one's patch bumped, else 0.0.1. */
static int add_version(cJSON *doc, const cJSON *old, const char *given)
{
	char v[32] = "0.0.1";
	const cJSON *ov = cJSON_GetObjectItemCaseSensitive(old, "version");
	if (given)
		snprintf(v, sizeof(v), "%s", given);
	else if (cJSON_IsString(ov) && pr_semver_uppatch(ov->valuestring, v, sizeof(v)) < 0)
		snprintf(v, sizeof(v), "0.0.1");
	return hc_json_add_str(doc, "version", v);
}

static int add_publish(cJSON *doc, const cJSON *old, int given)
{
	int p = given >= 0 ? given : cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(old, "publish"));
	return hc_json_add_bool(doc, "publish", p);
}

static int add_item(cJSON *doc, const char *key, cJSON *v)
{
	if (!v)
		return -1;
	cJSON_AddItemToObject(doc, key, v);
	return 0;
}

static const cJSON *field(const cJSON *o, const char *key)
{
	return o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
}

cJSON *pr_trigger_build(const cJSON *old, const struct pr_entity_put *put, const char *ns,
			const char *name, uint64_t now_ms)
{
	cJSON *d = cJSON_CreateObject();
	if (!d)
		return NULL;
	int bad =
	    hc_json_add_str(d, "namespace", ns) | hc_json_add_str(d, "name", name) |
	    add_item(d, "parameters", dup_or(put->parameters, field(old, "parameters"), 1)) |
	    add_item(d, "limits", dup_or(put->limits, field(old, "limits"), 0)) |
	    add_version(d, old, put->version) | add_publish(d, old, put->publish) |
	    add_item(d, "annotations", dup_or(put->annotations, field(old, "annotations"), 1)) |
	    hc_json_add_int(d, "updated", (int64_t)now_ms);
	if (bad) {
		cJSON_Delete(d);
		return NULL;
	}
	return d;
}

cJSON *pr_trigger_to_api(const cJSON *doc, const cJSON *rules)
{
	cJSON *j = cJSON_Duplicate(doc, 1);
	if (!j || !rules)
		return j;
	cJSON *up = cJSON_DetachItemFromObjectCaseSensitive(j, "updated");
	cJSON *r = cJSON_Duplicate(rules, 1);
	if (!r) {
		cJSON_Delete(up);
		cJSON_Delete(j);
		return NULL;
	}
	cJSON_AddItemToObject(j, "rules", r);
	if (up)
		cJSON_AddItemToObject(j, "updated", up);
	return j;
}

cJSON *pr_entity_summary(const cJSON *doc)
{
	static const char *const keep[] = {"namespace", "name",	       "version",
					   "publish",	"annotations", "updated"};
	cJSON *s = cJSON_CreateObject();
	for (size_t i = 0; s && i < sizeof(keep) / sizeof(*keep); i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, keep[i]);
		if (v)
			cJSON_AddItemToObject(s, keep[i], cJSON_Duplicate(v, 1));
	}
	return s;
}

const cJSON *pr_entity_parameters(const cJSON *doc)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(doc, "parameters");
	return cJSON_IsArray(p) ? p : NULL;
}

const char *pr_trigger_feed(const cJSON *doc)
{
	const cJSON *f =
	    pr_annotation(cJSON_GetObjectItemCaseSensitive(doc, "annotations"), "feed");
	return cJSON_IsString(f) ? f->valuestring : NULL;
}

/* ---- rules ---- */

int pr_rule_put_decode(const char *body, size_t len, const char *own_ns, struct pr_entity_put *out,
		       int *status, struct hc_err *err)
{
	if (decode_common(body, len, out, status, err) < 0)
		goto fail;
	*status = 400;
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(out->root, "trigger");
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(out->root, "action");
	if (t && !cJSON_IsNull(t)) {
		if (pr_fqn_decode(t, own_ns, 3, &out->trigger, err) < 0)
			goto fail;
		out->has_trigger = 1;
	}
	if (a && !cJSON_IsNull(a)) {
		if (pr_fqn_decode(a, own_ns, 3, &out->action, err) < 0)
			goto fail;
		out->has_action = 1;
	}
	*status = 0;
	return 0;
fail:
	pr_entity_put_free(out);
	return -1;
}

cJSON *pr_rule_build(const cJSON *old, const struct pr_entity_put *put, const char *ns,
		     const char *name, uint64_t now_ms)
{
	struct pr_fqn ot, oa;
	const struct pr_fqn *t = &put->trigger, *a = &put->action;
	if (old && pr_rule_refs(old, &ot, &oa) == 0) {
		t = put->has_trigger ? t : &ot;
		a = put->has_action ? a : &oa;
	}
	cJSON *d = cJSON_CreateObject();
	if (!d)
		return NULL;
	int bad =
	    hc_json_add_str(d, "namespace", ns) | hc_json_add_str(d, "name", name) |
	    add_item(d, "trigger", pr_fqn_to_json(t)) | add_item(d, "action", pr_fqn_to_json(a)) |
	    add_version(d, old, put->version) | add_publish(d, old, put->publish) |
	    add_item(d, "annotations", dup_or(put->annotations, field(old, "annotations"), 1)) |
	    hc_json_add_int(d, "updated", (int64_t)now_ms);
	if (bad) {
		cJSON_Delete(d);
		return NULL;
	}
	return d;
}

int pr_rule_refs(const cJSON *doc, struct pr_fqn *trigger, struct pr_fqn *action)
{
	const cJSON *ns = cJSON_GetObjectItemCaseSensitive(doc, "namespace");
	const char *own = cJSON_IsString(ns) ? ns->valuestring : "_";
	if (pr_fqn_decode(cJSON_GetObjectItemCaseSensitive(doc, "trigger"), own, 3, trigger, NULL) <
		0 ||
	    pr_fqn_decode(cJSON_GetObjectItemCaseSensitive(doc, "action"), own, 3, action, NULL) <
		0)
		return -1;
	return 0;
}

cJSON *pr_rule_to_api(const cJSON *doc, const char *status)
{
	cJSON *j = cJSON_CreateObject();
	const cJSON *e;
	if (!j)
		return NULL;
	cJSON_ArrayForEach(e, doc)
	{
		if (!e->string || !strcmp(e->string, "status"))
			continue;
		cJSON_AddItemToObject(j, e->string, cJSON_Duplicate(e, 1));
		if (!strcmp(e->string, "name"))
			cJSON_AddStringToObject(j, "status", status);
	}
	return j;
}

/* ---- links ---- */

char *pr_rule_link_prefix(const struct pr_fqn *action)
{
	cJSON *a = pr_fqn_to_json(action);
	char *t = a ? cJSON_PrintUnformatted(a) : NULL;
	cJSON_Delete(a);
	if (!t)
		return NULL;
	size_t n = strlen(t) + 32;
	char *out = malloc(n);
	if (out)
		snprintf(out, n, "{\"action\":%s,\"status\":\"", t);
	free(t);
	return out;
}

int pr_rule_link_parse(const char *text, size_t len, struct pr_fqn *action, int *active)
{
	cJSON *j = hc_json_parse(text, len, 8, NULL);
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "status");
	int rc = -1;
	if (cJSON_IsString(st) && pr_fqn_decode(cJSON_GetObjectItemCaseSensitive(j, "action"), "_",
						3, action, NULL) == 0) {
		*active = !strcmp(st->valuestring, PR_RULE_ACTIVE);
		rc = 0;
	}
	cJSON_Delete(j);
	return rc;
}

/* ---- what a fire logs ---- */

char *pr_rule_outcome(int status_code, const char *rule, const char *action, const char *id,
		      const char *error)
{
	cJSON *j = cJSON_CreateObject();
	char *t = NULL;
	if (j && hc_json_add_int(j, "statusCode", status_code) == 0 &&
	    hc_json_add_bool(j, "success", status_code == 0) == 0 &&
	    hc_json_add_str(j, id ? "activationId" : "error",
			    id	    ? id
			    : error ? error
				    : "") == 0 &&
	    hc_json_add_str(j, "rule", rule) == 0 && hc_json_add_str(j, "action", action) == 0)
		t = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	return t;
}

void pr_msg_inactive_rule(char *out, size_t outlen, const char *rule, const char *action)
{
	snprintf(out, outlen, "Rule '%s' is inactive, action '%s' was not activated.", rule,
		 action);
}
