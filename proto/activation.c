/* proto/activation.c — activation records (see activation.h). */
#include "proto/activation.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "proto/keys.h"

const char *pr_status_message(int code)
{
	switch (code) {
	case PR_ST_SUCCESS:
		return "success";
	case PR_ST_APP_ERROR:
		return "application error";
	case PR_ST_DEVELOPER_ERROR:
		return "action developer error";
	default:
		return "whisk internal error";
	}
}

void pr_activation_id_new(char *out, uint64_t now_ms)
{
	static const char hex[] = "0123456789abcdef";
	hc_id_new(out);
	for (int i = 11; i >= 0; i--, now_ms >>= 4)
		out[i] = hex[now_ms & 0xf];
}

uint64_t pr_activation_id_ms(const char *id)
{
	uint64_t ms = 0;
	for (int i = 0; i < 12; i++) {
		char c = id[i];
		int d = c >= '0' && c <= '9'   ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10
					       : -1;
		if (d < 0)
			return 0;
		ms = ms << 4 | (uint64_t)d;
	}
	return ms;
}

/* prefix, then id's bucket number */
static int bucket_key(struct hc_buf *b, const char *prefix, const char *id)
{
	return hc_buf_adds(b, prefix) |
	       hc_buf_add_int(b, (int64_t)(pr_activation_id_ms(id) / PR_ACT_BUCKET_MS));
}

int pr_activation_key(struct hc_buf *b, const char *id)
{
	return bucket_key(b, PR_KEY_ACTIVATION_PREFIX, id);
}

int pr_activation_log_key(struct hc_buf *b, const char *id)
{
	return bucket_key(b, PR_KEY_ACT_LOG_PREFIX, id);
}

/* no printf: the index keys are built on the warm invoke's path */
int pr_activation_slice_key(struct hc_buf *b, const char *ns, const char *name, uint64_t start_ms)
{
	return hc_buf_adds(b, PR_KEY_ACT_SLICE_PREFIX) | hc_buf_adds(b, ns) | hc_buf_addc(b, '/') |
	       hc_buf_adds(b, name) | hc_buf_addc(b, ':') |
	       hc_buf_add_int(b, (int64_t)(start_ms / PR_ACT_SLICE_MS));
}

int pr_activation_names_key(struct hc_buf *b, const char *ns, uint64_t start_ms)
{
	return hc_buf_adds(b, PR_KEY_ACT_NAMES_PREFIX) | hc_buf_adds(b, ns) | hc_buf_addc(b, ':') |
	       hc_buf_add_int(b, (int64_t)(start_ms / PR_ACT_SLICE_MS));
}

int pr_activation_dir_key(struct hc_buf *b, const char *ns, const char *name)
{
	int rc = hc_buf_adds(b, PR_KEY_ACT_DIR_PREFIX) | hc_buf_adds(b, ns);
	if (name)
		rc |= hc_buf_addc(b, '/') | hc_buf_adds(b, name);
	return rc;
}

uint64_t pr_activation_expiry(const char *id, uint64_t ttl_ms, uint64_t now_ms)
{
	uint64_t ms = pr_activation_id_ms(id);
	if (ms + ttl_ms < now_ms || ms > now_ms + PR_ACT_BUCKET_MS)
		return now_ms + ttl_ms;
	return (ms / PR_ACT_BUCKET_MS + 1) * PR_ACT_BUCKET_MS + ttl_ms;
}

static int has(const char *s)
{
	return s && s[0];
}

const char *pr_activation_index_name(const struct pr_activation *a, char *buf, size_t buflen)
{
	const char *pkg = NULL;
	size_t pl = 0;
	if (has(a->binding)) {
		/* "ns/binding": the binding's name */
		const char *s = strchr(a->binding, '/');
		pkg = s ? s + 1 : a->binding;
		pl = strlen(pkg);
	} else if (has(a->path)) {
		/* "ns/pkg/name": a package when there are three segments */
		const char *s1 = strchr(a->path, '/'), *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
		if (s2) {
			pkg = s1 + 1;
			pl = (size_t)(s2 - pkg);
		}
	}
	if (!pkg)
		return a->name;
	struct hc_buf b = HC_BUF_FIXED_N(buf, buflen);
	if (hc_buf_add(&b, pkg, pl) | hc_buf_addc(&b, '/') | hc_buf_adds(&b, a->name))
		return a->name; /* cannot happen: names are bounded */
	return buf;
}

void pr_activation_init(struct pr_activation *a)
{
	memset(a, 0, sizeof(*a));
	a->wait_ms = -1;
	a->init_ms = -1;
}

void pr_activation_clear(struct pr_activation *a)
{
	cJSON_Delete(a->result);
	cJSON_Delete(a->logs);
	a->result = NULL;
	a->logs = NULL;
}

static int add_ann(cJSON *arr, const char *key, cJSON *val)
{
	cJSON *o = cJSON_CreateObject();
	if (!o || !val || !cJSON_AddStringToObject(o, "key", key)) {
		cJSON_Delete(o);
		cJSON_Delete(val);
		return -1;
	}
	cJSON_AddItemToObject(o, "value", val);
	cJSON_AddItemToArray(arr, o);
	return 0;
}

cJSON *pr_activation_to_json(const struct pr_activation *a)
{
	char path[3 * PR_NAME_MAX + 3];
	cJSON *j = cJSON_CreateObject();
	if (!j)
		return NULL;
	int bad = hc_json_add_str(j, "namespace", a->ns) | hc_json_add_str(j, "name", a->name) |
		  hc_json_add_str(j, "subject", a->subject[0] ? a->subject : a->ns) |
		  hc_json_add_str(j, "activationId", a->id) |
		  hc_json_add_str(j, "version", a->version[0] ? a->version : "0.0.1") |
		  hc_json_add_bool(j, "publish", a->publish) |
		  hc_json_add_int(j, "start", (int64_t)a->start_ms);
	if (a->trigger) {
		bad |= hc_json_add_int(j, "end", 0);
	} else if (a->end_ms) {
		bad |= hc_json_add_int(j, "end", (int64_t)a->end_ms);
		bad |= hc_json_add_int(j, "duration",
				       a->end_ms >= a->start_ms ? (int64_t)(a->end_ms - a->start_ms)
								: 0);
	}
	if (a->cause[0])
		bad |= hc_json_add_str(j, "cause", a->cause);
	cJSON *resp = cJSON_AddObjectToObject(j, "response");
	if (!resp)
		goto oom;
	bad |= hc_json_add_str(resp, "status", pr_status_message(a->status));
	bad |= hc_json_add_int(resp, "statusCode", a->status);
	bad |= hc_json_add_bool(resp, "success", a->status == PR_ST_SUCCESS);
	cJSON *res = a->result ? cJSON_Duplicate(a->result, 1) : cJSON_CreateObject();
	if (!res)
		goto oom;
	cJSON_AddItemToObject(resp, "result", res);
	cJSON *logs = a->logs ? cJSON_Duplicate(a->logs, 1) : cJSON_CreateArray();
	if (!logs)
		goto oom;
	cJSON_AddItemToObject(j, "logs", logs);
	cJSON *ann = cJSON_AddArrayToObject(j, "annotations");
	if (!ann)
		goto oom;
	if (a->trigger) {
		if (bad)
			goto oom;
		return j;
	}
	if (has(a->path))
		snprintf(path, sizeof(path), "%s", a->path);
	else
		snprintf(path, sizeof(path), "%s/%s", a->ns, a->name);
	if (a->sequence)
		bad |= add_ann(ann, "topmost", cJSON_CreateBool(!a->cause[0]));
	bad |= add_ann(ann, "path", cJSON_CreateString(path));
	bad |= add_ann(ann, "kind", cJSON_CreateString(a->kind));
	if (a->conductor)
		bad |= add_ann(ann, "conductor", cJSON_CreateTrue());
	if (has(a->binding))
		bad |= add_ann(ann, "binding", cJSON_CreateString(a->binding));
	bad |= add_ann(ann, "limits", pr_limits_to_json(&a->limits));
	if (a->cause[0])
		bad |= add_ann(ann, "causedBy", cJSON_CreateString("sequence"));
	if (!a->sequence)
		bad |= add_ann(ann, "timeout", cJSON_CreateBool(a->timeout));
	if (a->wait_ms >= 0)
		bad |= add_ann(ann, "waitTime", cJSON_CreateNumber((double)a->wait_ms));
	if (a->init_ms >= 0)
		bad |= add_ann(ann, "initTime", cJSON_CreateNumber((double)a->init_ms));
	if (bad)
		goto oom;
	return j;
oom:
	cJSON_Delete(j);
	return NULL;
}

/* ---- the record as text, without a cJSON tree ---- */

/* hc_buf_add_json_str for a NUL-terminated string. */
static int add_qstr(struct hc_buf *b, const char *s)
{
	return hc_buf_add_json_str(b, s, strlen(s));
}

/* Decimal digits of v (integers print the same as cJSON's "%1.15g" below
 * 2^53, which is all a record holds); no printf on the hot path. */
static int add_int(struct hc_buf *b, int64_t v)
{
	return hc_buf_add_int(b, v);
}

/* Append a tree as compact JSON ("dflt" when NULL). */
static int add_tree(struct hc_buf *b, const cJSON *j, const char *dflt)
{
	if (!j)
		return hc_buf_adds(b, dflt);
	char *t = cJSON_PrintUnformatted(j);
	if (!t)
		return -1;
	int rc = hc_buf_adds(b, t);
	free(t);
	return rc;
}

static int add_key_int(struct hc_buf *b, const char *key, int64_t v)
{
	return hc_buf_adds(b, key) | add_int(b, v);
}

static int add_ann_head(struct hc_buf *b, int *first, const char *key)
{
	int rc = hc_buf_adds(b, *first ? "{\"key\":\"" : ",{\"key\":\"") | hc_buf_adds(b, key) |
		 hc_buf_adds(b, "\",\"value\":");
	*first = 0;
	return rc;
}

int pr_activation_encode(struct hc_buf *b, const struct pr_activation *a, const char *result_json,
			 size_t result_len, int with_status_code)
{
	int first = 1, rc;
	rc = hc_buf_adds(b, "{\"namespace\":") | add_qstr(b, a->ns) | hc_buf_adds(b, ",\"name\":") |
	     add_qstr(b, a->name) | hc_buf_adds(b, ",\"subject\":") |
	     add_qstr(b, a->subject[0] ? a->subject : a->ns) |
	     hc_buf_adds(b, ",\"activationId\":") | add_qstr(b, a->id) |
	     hc_buf_adds(b, ",\"version\":") | add_qstr(b, a->version[0] ? a->version : "0.0.1") |
	     hc_buf_adds(b, a->publish ? ",\"publish\":true" : ",\"publish\":false") |
	     add_key_int(b, ",\"start\":", (int64_t)a->start_ms);
	if (a->trigger)
		rc |= hc_buf_adds(b, ",\"end\":0");
	else if (a->end_ms)
		rc |=
		    add_key_int(b, ",\"end\":", (int64_t)a->end_ms) |
		    add_key_int(b, ",\"duration\":",
				a->end_ms >= a->start_ms ? (int64_t)(a->end_ms - a->start_ms) : 0);
	if (a->cause[0])
		rc |= hc_buf_adds(b, ",\"cause\":") | add_qstr(b, a->cause);
	rc |= hc_buf_adds(b, ",\"response\":{\"status\":") |
	      add_qstr(b, pr_status_message(a->status));
	if (with_status_code)
		rc |= add_key_int(b, ",\"statusCode\":", a->status);
	rc |= hc_buf_adds(b, a->status == PR_ST_SUCCESS ? ",\"success\":true,\"result\":"
							: ",\"success\":false,\"result\":");
	if (result_json)
		rc |= hc_buf_add(b, result_json, result_len);
	else
		rc |= add_tree(b, a->result, "{}");
	rc |= hc_buf_adds(b, "},\"logs\":") | add_tree(b, a->logs, "[]") |
	      hc_buf_adds(b, ",\"annotations\":[");
	if (a->trigger)
		return rc | hc_buf_adds(b, "]}") ? -1 : 0;
	if (a->sequence)
		rc |= add_ann_head(b, &first, "topmost") |
		      hc_buf_adds(b, a->cause[0] ? "false}" : "true}");
	/* path "ns/name" without printf */
	char path[2 * PR_NAME_MAX + 2];
	const char *pp = path;
	if (has(a->path)) {
		pp = a->path;
	} else {
		size_t nl = strnlen(a->ns, PR_NAME_MAX), ml = strnlen(a->name, PR_NAME_MAX);
		memcpy(path, a->ns, nl);
		path[nl] = '/';
		memcpy(path + nl + 1, a->name, ml);
		path[nl + 1 + ml] = '\0';
	}
	rc |= add_ann_head(b, &first, "path") | add_qstr(b, pp) | hc_buf_addc(b, '}');
	rc |= add_ann_head(b, &first, "kind") | add_qstr(b, a->kind) | hc_buf_addc(b, '}');
	if (a->conductor)
		rc |= add_ann_head(b, &first, "conductor") | hc_buf_adds(b, "true}");
	if (has(a->binding))
		rc |= add_ann_head(b, &first, "binding") | add_qstr(b, a->binding) |
		      hc_buf_addc(b, '}');
	rc |= add_ann_head(b, &first, "limits") |
	      add_key_int(b, "{\"timeout\":", a->limits.timeout_ms) |
	      add_key_int(b, ",\"memory\":", a->limits.memory_mb) |
	      add_key_int(b, ",\"logs\":", a->limits.logs_mb) |
	      add_key_int(b, ",\"concurrency\":", a->limits.concurrency) | hc_buf_adds(b, "}}");
	if (a->cause[0])
		rc |= add_ann_head(b, &first, "causedBy") | hc_buf_adds(b, "\"sequence\"}");
	if (!a->sequence)
		rc |= add_ann_head(b, &first, "timeout") |
		      hc_buf_adds(b, a->timeout ? "true}" : "false}");
	if (a->wait_ms >= 0)
		rc |= add_ann_head(b, &first, "waitTime") | add_int(b, a->wait_ms) |
		      hc_buf_addc(b, '}');
	if (a->init_ms >= 0)
		rc |= add_ann_head(b, &first, "initTime") | add_int(b, a->init_ms) |
		      hc_buf_addc(b, '}');
	rc |= hc_buf_adds(b, "]}");
	return rc ? -1 : 0;
}

/* ---- the stored form ----
 * A record is stored as a JSON array of its fields in a fixed order, not as
 * OpenWhisk's object: what the object repeats in every record is left out
 * (the field names; the id, which is the record's hash field; the path,
 * which is ns/name; the subject when it is the namespace; the duration and
 * statusCode's message, which follow from the rest). A warm noop's record
 * is ~110 bytes instead of ~500, and Redis's memory and CPU per activation
 * (mostly first touches of new memory) shrink with it. */
enum {
	PK_FORMAT, /* 1 */
	PK_NS,
	PK_NAME,
	PK_SUBJECT, /* "" = the namespace */
	PK_VERSION,
	PK_START,
	PK_END, /* 0 = still open */
	PK_CAUSE,
	PK_STATUS,
	PK_RESULT,
	PK_LOGS,
	PK_KIND,
	PK_TIMEOUT,
	PK_MEMORY,
	PK_LOGS_MB,
	PK_CONCURRENCY,
	PK_FLAGS, /* PKF_* */
	PK_WAIT,  /* -1 = none */
	PK_INIT,  /* -1 = none */
	PK_FIELDS,
	/* only for an action in a package (absent otherwise, so the common
	 * record stays as short as it was) */
	PK_PATH = PK_FIELDS,
	PK_BINDING,
	PK_FIELDS_PKG
};
enum { PKF_PUBLISH = 1, PKF_TIMEOUT = 2, PKF_TOPMOST = 4, PKF_CONDUCTOR = 8, PKF_TRIGGER = 16 };

static int add_pk_str(struct hc_buf *b, const char *s)
{
	return add_qstr(b, s) | hc_buf_addc(b, ',');
}

static int add_pk_int(struct hc_buf *b, int64_t v)
{
	return add_int(b, v) | hc_buf_addc(b, ',');
}

int pr_activation_pack(struct hc_buf *b, const struct pr_activation *a, const char *result_json,
		       size_t result_len)
{
	const char *subject = strcmp(a->subject, a->ns) == 0 ? "" : a->subject;
	int flags = (a->publish ? PKF_PUBLISH : 0) | (a->timeout ? PKF_TIMEOUT : 0) |
		    (a->sequence ? PKF_TOPMOST : 0) | (a->conductor ? PKF_CONDUCTOR : 0) |
		    (a->trigger ? PKF_TRIGGER : 0);
	int rc = hc_buf_adds(b, "[1,") | add_pk_str(b, a->ns) | add_pk_str(b, a->name) |
		 add_pk_str(b, subject) | add_pk_str(b, a->version) |
		 add_pk_int(b, (int64_t)a->start_ms) | add_pk_int(b, (int64_t)a->end_ms) |
		 add_pk_str(b, a->cause) | add_pk_int(b, a->status);
	if (result_json)
		rc |= hc_buf_add(b, result_json, result_len);
	else
		rc |= add_tree(b, a->result, "{}");
	rc |= hc_buf_addc(b, ',') | add_tree(b, a->logs, "[]") | hc_buf_addc(b, ',') |
	      add_pk_str(b, a->kind) | add_pk_int(b, a->limits.timeout_ms) |
	      add_pk_int(b, a->limits.memory_mb) | add_pk_int(b, a->limits.logs_mb) |
	      add_pk_int(b, a->limits.concurrency) | add_pk_int(b, flags) |
	      add_pk_int(b, a->wait_ms) | add_int(b, a->init_ms);
	if (has(a->path) || has(a->binding))
		rc |= hc_buf_addc(b, ',') | add_pk_str(b, has(a->path) ? a->path : "") |
		      add_qstr(b, has(a->binding) ? a->binding : "");
	rc |= hc_buf_addc(b, ']');
	return rc ? -1 : 0;
}

/* A string field borrowed from the tree (shorter than cap): -1 when it
 * is not one. */
static int pk_ref(const char **dst, size_t cap, const cJSON *v)
{
	if (!cJSON_IsString(v) || strlen(v->valuestring) >= cap)
		return -1;
	*dst = v->valuestring;
	return 0;
}

/* A string field into dst (cap bytes with the NUL): -1 when it is not a
 * string or does not fit. */
static int pk_str(char *dst, size_t cap, const cJSON *v)
{
	if (!cJSON_IsString(v) || strlen(v->valuestring) >= cap)
		return -1;
	memcpy(dst, v->valuestring, strlen(v->valuestring) + 1);
	return 0;
}

static int pk_int(int64_t *dst, const cJSON *v)
{
	/* a stored number is an integer well inside int64 (2^62) */
	if (!cJSON_IsNumber(v) || !(v->valuedouble > -4.6e18 && v->valuedouble < 4.6e18))
		return -1;
	*dst = (int64_t)v->valuedouble;
	return 0;
}

/* The packed fields of f into a (its result and logs detached from arr). */
static int unpack_fields(struct pr_activation *a, cJSON *arr, cJSON **f)
{
	int64_t start = 0, end = 0, status = 0, flags = 0;
	int bad =
	    pk_str(a->ns, sizeof a->ns, f[PK_NS]) | pk_str(a->name, sizeof a->name, f[PK_NAME]) |
	    pk_str(a->subject, sizeof a->subject, f[PK_SUBJECT]) |
	    pk_str(a->version, sizeof a->version, f[PK_VERSION]) |
	    pk_str(a->cause, sizeof a->cause, f[PK_CAUSE]) |
	    pk_str(a->kind, sizeof a->kind, f[PK_KIND]) | pk_int(&start, f[PK_START]) |
	    pk_int(&end, f[PK_END]) | pk_int(&status, f[PK_STATUS]) |
	    pk_int(&a->limits.timeout_ms, f[PK_TIMEOUT]) |
	    pk_int(&a->limits.memory_mb, f[PK_MEMORY]) | pk_int(&a->limits.logs_mb, f[PK_LOGS_MB]) |
	    pk_int(&a->limits.concurrency, f[PK_CONCURRENCY]) | pk_int(&flags, f[PK_FLAGS]) |
	    pk_int(&a->wait_ms, f[PK_WAIT]) | pk_int(&a->init_ms, f[PK_INIT]);
	if (bad || start < 0 || end < 0 || !cJSON_IsArray(f[PK_LOGS]))
		return -1;
	a->start_ms = (uint64_t)start;
	a->end_ms = (uint64_t)end;
	a->status = (int)status;
	a->publish = !!(flags & PKF_PUBLISH);
	a->timeout = !!(flags & PKF_TIMEOUT);
	a->sequence = !!(flags & PKF_TOPMOST);
	a->conductor = !!(flags & PKF_CONDUCTOR);
	a->trigger = !!(flags & PKF_TRIGGER);
	a->result = cJSON_DetachItemViaPointer(arr, f[PK_RESULT]);
	a->logs = cJSON_DetachItemViaPointer(arr, f[PK_LOGS]);
	return 0;
}

cJSON *pr_activation_unpack(const char *text, size_t len, const char *id)
{
	cJSON *j = hc_json_parse(text, len, HC_JSON_MAX_DEPTH, NULL);
	if (!j || cJSON_IsObject(j))
		return j; /* stored as OpenWhisk's object: as it is */
	cJSON *f[PK_FIELDS_PKG], *out = NULL;
	int n = 0;
	struct pr_activation a;
	pr_activation_init(&a);
	for (cJSON *e = cJSON_IsArray(j) ? j->child : NULL; e; e = e->next)
		if (n++ < PK_FIELDS_PKG)
			f[n - 1] = e;
	int pkg = n == PK_FIELDS_PKG && pk_ref(&a.path, 3 * PR_NAME_MAX + 3, f[PK_PATH]) == 0 &&
		  pk_ref(&a.binding, 2 * PR_NAME_MAX + 2, f[PK_BINDING]) == 0;
	if ((n == PK_FIELDS || pkg) && cJSON_IsNumber(f[PK_FORMAT]) &&
	    f[PK_FORMAT]->valueint == 1 && strlen(id) < sizeof a.id &&
	    unpack_fields(&a, j, f) == 0) {
		memcpy(a.id, id, strlen(id) + 1);
		out = pr_activation_to_json(&a);
	}
	pr_activation_clear(&a);
	cJSON_Delete(j);
	return out;
}

cJSON *pr_activation_extended(const cJSON *stored)
{
	cJSON *c = cJSON_Duplicate(stored, 1);
	if (c)
		cJSON_DeleteItemFromObjectCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(c, "response"), "statusCode");
	return c;
}

cJSON *pr_activation_summary(const cJSON *stored)
{
	static const char *const keep[] = {"namespace",	   "name",  "version", "publish",
					   "annotations",  "start", "end",     "duration",
					   "activationId", "cause"};
	cJSON *s = cJSON_CreateObject();
	if (!s)
		return NULL;
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(stored, keep[i]);
		if (v)
			cJSON_AddItemToObject(s, keep[i], cJSON_Duplicate(v, 1));
	}
	/* a trigger's record ends at 0: no end, duration or statusCode (the
	 * activations view's summarize) */
	const cJSON *end = cJSON_GetObjectItemCaseSensitive(s, "end");
	if (cJSON_IsNumber(end) && end->valuedouble == 0) {
		cJSON_DeleteItemFromObjectCaseSensitive(s, "end");
		cJSON_DeleteItemFromObjectCaseSensitive(s, "duration");
	} else if (end) {
		int st = pr_activation_status(stored);
		if (st >= 0)
			cJSON_AddNumberToObject(s, "statusCode", st);
	}
	return s;
}

cJSON *pr_activation_result(const cJSON *stored)
{
	const cJSON *resp = cJSON_GetObjectItemCaseSensitive(stored, "response");
	cJSON *r = cJSON_CreateObject();
	if (!r)
		return NULL;
	const cJSON *res = cJSON_GetObjectItemCaseSensitive(resp, "result");
	cJSON_AddItemToObject(r, "result", res ? cJSON_Duplicate(res, 1) : cJSON_CreateObject());
	cJSON_AddBoolToObject(r, "success",
			      cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(resp, "success")));
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(resp, "status");
	cJSON_AddStringToObject(r, "status",
				cJSON_IsString(st) ? st->valuestring : "whisk internal error");
	return r;
}

int pr_activation_status(const cJSON *stored)
{
	const cJSON *resp = cJSON_GetObjectItemCaseSensitive(stored, "response");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(resp, "statusCode");
	return cJSON_IsNumber(v) ? v->valueint : -1;
}

const cJSON *pr_activation_response_result(const cJSON *stored)
{
	return cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(stored, "response"), "result");
}

int pr_activation_set_logs(cJSON *stored, const cJSON *lines)
{
	cJSON *c = cJSON_Duplicate(lines, 1);
	if (!c)
		return -1;
	if (cJSON_GetObjectItemCaseSensitive(stored, "logs"))
		cJSON_ReplaceItemInObjectCaseSensitive(stored, "logs", c);
	else
		cJSON_AddItemToObject(stored, "logs", c);
	return 0;
}

cJSON *pr_error_result(const char *msg)
{
	cJSON *e = cJSON_CreateObject();
	if (e && !cJSON_AddStringToObject(e, "error", msg)) {
		cJSON_Delete(e);
		return NULL;
	}
	return e;
}

/* The body text for a message, cut at 1 KiB so a huge bad reply stays small. */
static cJSON *error_with_body(const char *prefix, const char *body, size_t len)
{
	char msg[1200];
	int n = (int)(len > 1024 ? 1024 : len);
	snprintf(msg, sizeof(msg), "%s%.*s", prefix, n, body ? body : "");
	return pr_error_result(msg);
}

int pr_run_response(long http_status, const char *body, size_t len, cJSON **result)
{
	cJSON *j = (body && len) ? hc_json_parse(body, len, HC_JSON_MAX_DEPTH, NULL) : NULL;
	if (!j || !(cJSON_IsObject(j) || cJSON_IsArray(j))) {
		cJSON_Delete(j);
		*result = error_with_body(
		    "The action did not produce a valid JSON or JSON Array response: ", body, len);
		return PR_ST_DEVELOPER_ERROR;
	}
	*result = j;
	if (http_status != 200) {
		if (!cJSON_IsObject(j) || !cJSON_GetObjectItemCaseSensitive(j, "error")) {
			cJSON_Delete(j);
			*result = error_with_body(
			    "The action did not produce a valid response: ", body, len);
		}
		return PR_ST_DEVELOPER_ERROR;
	}
	if (cJSON_IsObject(j) && cJSON_GetObjectItemCaseSensitive(j, "error"))
		return PR_ST_APP_ERROR;
	return PR_ST_SUCCESS;
}

int pr_init_response(long http_status, const char *body, size_t len, cJSON **result)
{
	if (http_status == 200) {
		*result = NULL;
		return PR_ST_SUCCESS;
	}
	cJSON *j = (body && len) ? hc_json_parse(body, len, HC_JSON_MAX_DEPTH, NULL) : NULL;
	if (cJSON_IsObject(j) && cJSON_GetObjectItemCaseSensitive(j, "error")) {
		*result = j;
		return PR_ST_DEVELOPER_ERROR;
	}
	cJSON_Delete(j);
	*result = error_with_body("The action failed during initialization: ", body, len);
	return PR_ST_DEVELOPER_ERROR;
}

cJSON *pr_forward_to_json(const struct pr_forward *f)
{
	cJSON *j = cJSON_CreateObject();
	if (!j)
		return NULL;
	int bad = hc_json_add_str(j, "namespace", f->ns) | hc_json_add_str(j, "name", f->name) |
		  hc_json_add_str(j, "subject", f->subject) |
		  hc_json_add_str(j, "activationId", f->id) |
		  hc_json_add_int(j, "wait_ms", f->wait_ms);
	if (f->cause[0])
		bad |= hc_json_add_str(j, "cause", f->cause);
	if (f->api_key[0])
		bad |= hc_json_add_str(j, "api_key", f->api_key);
	if (f->owner[0])
		bad |= hc_json_add_str(j, "owner", f->owner);
	cJSON *p = f->params ? cJSON_Duplicate(f->params, 1) : cJSON_CreateObject();
	if (!p)
		bad = -1;
	else
		cJSON_AddItemToObject(j, "params", p);
	if (bad) {
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

int pr_forward_parse(const char *body, size_t len, struct pr_forward *f, struct hc_err *err)
{
	memset(f, 0, sizeof(*f));
	cJSON *j = hc_json_parse(body, len, HC_JSON_MAX_DEPTH, err);
	if (!j)
		return -1;
	const cJSON *p = NULL;
	if (hc_json_strcpy(j, "namespace", 1, f->ns, sizeof(f->ns), err) < 0 ||
	    hc_json_strcpy(j, "name", 1, f->name, sizeof(f->name), err) < 0 ||
	    hc_json_strcpy(j, "subject", 1, f->subject, sizeof(f->subject), err) < 0 ||
	    hc_json_strcpy(j, "activationId", 1, f->id, sizeof(f->id), err) < 0 ||
	    hc_json_strcpy(j, "cause", 0, f->cause, sizeof(f->cause), err) < 0 ||
	    hc_json_strcpy(j, "api_key", 0, f->api_key, sizeof(f->api_key), err) < 0 ||
	    hc_json_strcpy(j, "owner", 0, f->owner, sizeof(f->owner), err) < 0 ||
	    hc_json_int(j, "wait_ms", 1, 1, 3600000, &f->wait_ms, err) < 0 ||
	    hc_json_obj(j, "params", 0, &p, err) < 0)
		goto fail;
	if (!hc_id_valid(f->id)) {
		hc_err_set(err, "activationId is not a valid id");
		goto fail;
	}
	f->params = p ? cJSON_Duplicate(p, 1) : cJSON_CreateObject();
	if (!f->params) {
		hc_err_set(err, "out of memory");
		goto fail;
	}
	cJSON_Delete(j);
	return 0;
fail:
	cJSON_Delete(j);
	return -1;
}
