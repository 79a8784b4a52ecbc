/* proto/web.c — web actions' requests and responses (see web.h). */
#include "proto/web.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/json.h"

#define BODY_MAX   ((size_t)8 << 20) /* a result is at most 1 MB; decoded is smaller */
#define HEADER_MAX ((size_t)64 << 10)

static const struct {
	const char *ext;
	enum pr_web_ext e;
} exts[] = {
    {".http", PR_WEB_HTTP}, {".json", PR_WEB_JSON}, {".html", PR_WEB_HTML},
    {".svg", PR_WEB_SVG},   {".text", PR_WEB_TEXT},
};

void pr_web_split(const char *seg, char *name, size_t namelen, enum pr_web_ext *ext)
{
	size_t n = strlen(seg);
	*ext = PR_WEB_HTTP;
	for (size_t i = 0; i < sizeof(exts) / sizeof(*exts); i++) {
		size_t el = strlen(exts[i].ext);
		if (n > el && !strcmp(seg + n - el, exts[i].ext)) {
			*ext = exts[i].e;
			n -= el;
			break;
		}
	}
	if (n >= namelen)
		n = namelen - 1;
	memcpy(name, seg, n);
	name[n] = '\0';
}

/* ---- content types ---- */

/* The media type of a Content-Type value ("text/html; charset=x" ->
 * "text/html"), lower-cased into out. 0, or -1 when it is not type/subtype. */
static int media_type(const char *ct, char *out, size_t outlen)
{
	size_t n = 0;
	while (*ct == ' ')
		ct++;
	for (; ct[n] && ct[n] != ';' && ct[n] != ' ' && n + 1 < outlen; n++)
		out[n] = (char)tolower((unsigned char)ct[n]);
	out[n] = '\0';
	const char *slash = strchr(out, '/');
	if (!n || !slash || slash == out || !slash[1] || strchr(slash + 1, '/'))
		return -1;
	for (const char *p = out; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("/+-.!#$&^_", *p))
			return -1;
	return 0;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !strcmp(s + n - m, suffix);
}

int pr_web_is_json(const char *content_type)
{
	char mt[128];
	if (!content_type || media_type(content_type, mt, sizeof(mt)) < 0)
		return 0;
	return !strcmp(mt, "application/json") || ends_with(mt, "+json");
}

int pr_web_is_binary(const char *content_type)
{
	static const char *const text_apps[] = {
	    "application/javascript", "application/ecmascript",
	    "application/xml",	      "application/x-www-form-urlencoded",
	    "application/xhtml+xml",  "image/svg+xml",
	};
	char mt[128];
	if (!content_type || media_type(content_type, mt, sizeof(mt)) < 0)
		return 1; /* an entity of no known type is bytes */
	if (!strncmp(mt, "text/", 5) || pr_web_is_json(mt) || ends_with(mt, "+xml"))
		return 0;
	for (size_t i = 0; i < sizeof(text_apps) / sizeof(*text_apps); i++)
		if (!strcmp(mt, text_apps[i]))
			return 0;
	return 1;
}

/* ---- base64 ---- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *base64_encode(const char *in, size_t n)
{
	char *out = malloc(4 * ((n + 2) / 3) + 1), *o = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)in[i] << 16;
		if (i + 1 < n)
			v |= (unsigned char)in[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)in[i + 2];
		*o++ = b64[(v >> 18) & 63];
		*o++ = b64[(v >> 12) & 63];
		*o++ = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		*o++ = i + 2 < n ? b64[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

static int b64_value(int c)
{
	const char *p = c ? strchr(b64, c) : NULL;
	return p ? (int)(p - b64) : -1;
}

/* Strict standard base64 (padding required, no whitespace), as Java's
 * Base64.getDecoder(). 0, or -1 when s is not base64. */
static int base64_decode(const char *s, struct hc_buf *out)
{
	size_t n = strlen(s);
	if (n % 4)
		return -1;
	for (size_t i = 0; i < n; i += 4) {
		int v[4];
		for (int k = 0; k < 4; k++) {
			v[k] = s[i + k] == '=' && i + 4 == n && k >= 2 ? 0 : b64_value(s[i + k]);
			if (v[k] < 0)
				return -1;
		}
		if (s[i + 2] == '=' && s[i + 3] != '=')
			return -1;
		unsigned x = (unsigned)(v[0] << 18 | v[1] << 12 | v[2] << 6 | v[3]);
		char b[3] = {(char)(x >> 16), (char)(x >> 8), (char)x};
		size_t m = s[i + 2] == '=' ? 1 : s[i + 3] == '=' ? 2 : 3;
		if (hc_buf_add(out, b, m) < 0)
			return -1;
	}
	return 0;
}

/* ---- the request as the action's argument ---- */

static int reserved(const char *k)
{
	static const char *const names[] = {"__ow_method", "__ow_headers", "__ow_path",
					    "__ow_user",   "__ow_query",   "__ow_body"};
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
		if (!strcmp(k, names[i]))
			return 1;
	return 0;
}

/* 1 when k names one of the action's final parameters. */
static int is_final(const cJSON *final, const char *k)
{
	const cJSON *p;
	cJSON_ArrayForEach(p, final)
	{
		const cJSON *key = cJSON_GetObjectItemCaseSensitive(p, "key");
		const cJSON *val = cJSON_GetObjectItemCaseSensitive(p, "value");
		if (cJSON_IsString(key) && !strcmp(key->valuestring, k) && val &&
		    !cJSON_IsNull(val))
			return 1;
	}
	return 0;
}

static int hexval(int c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

/* Percent- and plus-decode s[0..n) into a new string; NULL when malformed. */
static char *form_decode(const char *s, size_t n)
{
	char *out = malloc(n + 1), *o = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+') {
			*o++ = ' ';
		} else if (s[i] == '%') {
			if (i + 2 >= n || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0) {
				free(out);
				return NULL;
			}
			*o++ = (char)(hexval(s[i + 1]) << 4 | hexval(s[i + 2]));
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

/* "a=1&b=2" into obj as strings (later names replace earlier ones). 0, or
 * -1 when malformed or out of memory. */
static int add_form(cJSON *obj, const char *s, size_t n)
{
	const char *end = s + n;
	while (s < end) {
		const char *amp = memchr(s, '&', (size_t)(end - s));
		const char *e = amp ? amp : end;
		const char *eq = memchr(s, '=', (size_t)(e - s));
		if (e > s) {
			char *k = form_decode(s, (size_t)((eq ? eq : e) - s));
			char *v = eq ? form_decode(eq + 1, (size_t)(e - eq - 1)) : strdup("");
			if (!k || !v || !k[0]) {
				free(k);
				free(v);
				if (!k || !v)
					return -1;
				s = e + (amp != NULL);
				continue;
			}
			cJSON_DeleteItemFromObjectCaseSensitive(obj, k);
			cJSON *js = cJSON_CreateString(v);
			int bad = !js || !cJSON_AddItemToObject(obj, k, js);
			free(k);
			free(v);
			if (bad)
				return -1;
		}
		s = e + (amp != NULL);
	}
	return 0;
}

static int set(cJSON *o, const char *k, cJSON *v)
{
	if (!v)
		return -1;
	cJSON_DeleteItemFromObjectCaseSensitive(o, k);
	cJSON_AddItemToObject(o, k, v);
	return 0;
}

/* The body as a value: parsed JSON, a form, base64 or text. */
static cJSON *body_value(const struct pr_web_request *rq, int *is_object, struct hc_err *err)
{
	*is_object = 0;
	if (!rq->body || !rq->body_len)
		return NULL;
	if (!rq->raw && pr_web_is_json(rq->content_type)) {
		cJSON *j = hc_json_parse(rq->body, rq->body_len, HC_JSON_MAX_DEPTH, NULL);
		if (!j)
			hc_err_set(err, "The request content was malformed:\nthe body is not JSON");
		*is_object = cJSON_IsObject(j);
		return j;
	}
	char mt[128];
	if (!rq->raw && rq->content_type && media_type(rq->content_type, mt, sizeof(mt)) == 0 &&
	    !strcmp(mt, "application/x-www-form-urlencoded")) {
		cJSON *o = cJSON_CreateObject();
		if (o && add_form(o, rq->body, rq->body_len) < 0) {
			cJSON_Delete(o);
			hc_err_set(err, PR_WEB_MSG_UNSUPPORTED);
			return NULL;
		}
		*is_object = 1;
		return o;
	}
	/* OpenWhisk base64-encodes binary bodies, and JSON ones for legacy */
	if (pr_web_is_binary(rq->content_type) ||
	    (rq->content_type && media_type(rq->content_type, mt, sizeof(mt)) == 0 &&
	     !strcmp(mt, "application/json"))) {
		char *s = base64_encode(rq->body, rq->body_len);
		cJSON *j = s ? cJSON_CreateString(s) : NULL;
		free(s);
		return j;
	}
	char *s = malloc(rq->body_len + 1);
	if (!s)
		return NULL;
	memcpy(s, rq->body, rq->body_len);
	s[rq->body_len] = '\0';
	cJSON *j = cJSON_CreateString(s);
	free(s);
	return j;
}

static cJSON *headers_object(const struct pr_web_request *rq)
{
	cJSON *h = cJSON_CreateObject();
	for (size_t i = 0; h && i < rq->nheaders; i++) {
		char name[128];
		size_t n = 0;
		for (; rq->header_names[i][n] && n + 1 < sizeof(name); n++)
			name[n] = (char)tolower((unsigned char)rq->header_names[i][n]);
		name[n] = '\0';
		if (set(h, name, cJSON_CreateString(rq->header_values[i])) < 0) {
			cJSON_Delete(h);
			return NULL;
		}
	}
	return h;
}

/* 1 when the request's own names (query and body object) touch a reserved
 * or final name. */
static int overrides(const cJSON *query, const cJSON *body, int body_is_object, const cJSON *final)
{
	const cJSON *e;
	cJSON_ArrayForEach(e,
			   query) if (reserved(e->string) || is_final(final, e->string)) return 1;
	if (body_is_object)
		cJSON_ArrayForEach(e, body) if (reserved(e->string) ||
						is_final(final, e->string)) return 1;
	return 0;
}

cJSON *pr_web_argument(const struct pr_web_request *rq, const cJSON *final, struct hc_err *err)
{
	int is_object = 0;
	char method[16];
	size_t i = 0;
	for (; rq->method[i] && i + 1 < sizeof(method); i++)
		method[i] = (char)tolower((unsigned char)rq->method[i]);
	method[i] = '\0';
	cJSON *arg = cJSON_CreateObject(), *query = cJSON_CreateObject(), *body = NULL;
	if (!arg || !query)
		goto oom;
	if (!rq->raw && rq->query && add_form(query, rq->query, strlen(rq->query)) < 0) {
		hc_err_set(err,
			   "The request content was malformed:\nthe query string is not valid");
		goto fail;
	}
	body = body_value(rq, &is_object, err);
	if (!body && err && err->msg[0])
		goto fail;
	if (!rq->raw && overrides(query, body, is_object, final)) {
		hc_err_set(err, PR_WEB_MSG_PARAMS);
		goto fail;
	}
	if (set(arg, "__ow_method", cJSON_CreateString(method)) < 0 ||
	    set(arg, "__ow_headers", headers_object(rq)) < 0 ||
	    set(arg, "__ow_path", cJSON_CreateString(rq->path ? rq->path : "")) < 0 ||
	    (rq->user && set(arg, "__ow_user", cJSON_CreateString(rq->user)) < 0))
		goto oom;
	if (rq->raw) {
		if (set(arg, "__ow_query", cJSON_CreateString(rq->query ? rq->query : "")) < 0 ||
		    set(arg, "__ow_body", body ? body : cJSON_CreateString("")) < 0)
			goto oom_body_taken;
		cJSON_Delete(query);
		return arg;
	}
	/* query, then the body (last wins) */
	cJSON *e;
	while ((e = query->child)) {
		cJSON_DetachItemViaPointer(query, e);
		char *k = e->string;
		e->string = NULL;
		int bad = set(arg, k, e);
		free(k);
		if (bad)
			goto oom;
	}
	if (body && is_object) {
		while ((e = body->child)) {
			cJSON_DetachItemViaPointer(body, e);
			char *k = e->string;
			e->string = NULL;
			int bad = set(arg, k, e);
			free(k);
			if (bad)
				goto oom;
		}
		cJSON_Delete(body);
	} else if (body && set(arg, "__ow_body", body) < 0) {
		goto oom_body_taken;
	}
	cJSON_Delete(query);
	return arg;
oom_body_taken:
	body = NULL;
oom:
	hc_err_set(err, "out of memory");
fail:
	cJSON_Delete(arg);
	cJSON_Delete(query);
	cJSON_Delete(body);
	return NULL;
}

/* ---- the result as a response ---- */

void pr_web_response_init(struct pr_web_response *r)
{
	memset(r, 0, sizeof(*r));
	hc_buf_init(&r->headers, HEADER_MAX);
	hc_buf_init(&r->body, BODY_MAX);
}

void pr_web_response_free(struct pr_web_response *r)
{
	hc_buf_free(&r->headers);
	hc_buf_free(&r->body);
}

static int fail(struct pr_web_response *r, int status, struct hc_err *err, const char *msg)
{
	r->status = status;
	hc_err_set(err, "%s", msg);
	return -1;
}

static int invalid_media(struct pr_web_response *r, struct hc_err *err, const char *mt)
{
	char msg[96];
	snprintf(msg, sizeof(msg), "Response is not valid '%s'.", mt);
	return fail(r, 400, err, msg);
}

static int body_json(struct pr_web_response *r, const cJSON *j, const char *ctype)
{
	char *s = cJSON_PrintUnformatted(j);
	int rc = s ? hc_buf_adds(&r->body, s) : -1;
	free(s);
	snprintf(r->content_type, sizeof(r->content_type), "%s", ctype);
	return rc;
}

static int body_text(struct pr_web_response *r, const char *s, const char *ctype)
{
	snprintf(r->content_type, sizeof(r->content_type), "%s", ctype);
	return hc_buf_adds(&r->body, s);
}

/* A header value from JSON: strings, booleans and numbers; arrays repeat
 * the header. 0, or -1 when it is something else. */
static int add_header(struct pr_web_response *r, const char *name, const cJSON *v,
		      const char **ctype_out)
{
	char num[64];
	const char *s;
	if (cJSON_IsArray(v)) {
		const cJSON *e;
		cJSON_ArrayForEach(e, v) if (cJSON_IsArray(e) ||
					     add_header(r, name, e, ctype_out) < 0) return -1;
		return 0;
	}
	if (cJSON_IsString(v)) {
		s = v->valuestring;
	} else if (cJSON_IsBool(v)) {
		s = cJSON_IsTrue(v) ? "true" : "false";
	} else if (cJSON_IsNumber(v)) {
		snprintf(num, sizeof(num), "%.17g", v->valuedouble);
		s = num;
	} else {
		return -1;
	}
	if (!name[0] || strpbrk(name, "\r\n:") || strpbrk(s, "\r\n"))
		return -1; /* never a header split */
	if (!strcasecmp(name, "content-type")) {
		if (!cJSON_IsString(v))
			return -1; /* a media type is a string */
		*ctype_out = v->valuestring;
		return 0; /* the entity carries it */
	}
	return hc_buf_adds(&r->headers, name) | hc_buf_adds(&r->headers, ": ") |
	       hc_buf_adds(&r->headers, s) | hc_buf_adds(&r->headers, "\r\n");
}

static int http_status(const cJSON *sc, int *out)
{
	if (!sc) {
		*out = 0;
		return 0;
	}
	double d;
	if (cJSON_IsNumber(sc)) {
		d = sc->valuedouble;
	} else if (cJSON_IsString(sc)) {
		char *end;
		long v = strtol(sc->valuestring, &end, 10);
		if (!sc->valuestring[0] || *end)
			return -1;
		d = (double)v;
	} else {
		return -1;
	}
	if (d != (double)(int)d || d < 100 || d > 599)
		return -1;
	*out = (int)d;
	return 0;
}

static int respond_http(const cJSON *result, struct pr_web_response *r, struct hc_err *err)
{
	const char *ctype = NULL;
	int code;
	if (!cJSON_IsObject(result))
		return invalid_media(r, err, "message/http");
	const cJSON *headers = cJSON_GetObjectItemCaseSensitive(result, "headers");
	const cJSON *body = cJSON_GetObjectItemCaseSensitive(result, "body");
	if (headers && !cJSON_IsObject(headers))
		return invalid_media(r, err, "message/http");
	const cJSON *h;
	cJSON_ArrayForEach(h, headers) if (add_header(r, h->string, h, &ctype) <
					   0) return invalid_media(r, err, "message/http");
	if (http_status(cJSON_GetObjectItemCaseSensitive(result, "statusCode"), &code) < 0)
		return invalid_media(r, err, "message/http");
	if (!body || cJSON_IsNull(body) || (cJSON_IsString(body) && !body->valuestring[0])) {
		r->status = code ? code : 204; /* no entity: a content type would be ignored */
		return 0;
	}
	r->status = code ? code : 200;
	char mt[128];
	if (!cJSON_IsString(body)) {
		if (ctype && media_type(ctype, mt, sizeof(mt)) < 0)
			return fail(r, 400, err, PR_WEB_MSG_CT_UNKNOWN);
		if (ctype && !pr_web_is_json(ctype))
			return fail(r, 400, err, PR_WEB_MSG_CT_MISMATCH);
		return body_json(r, body, ctype ? ctype : "application/json") < 0
			   ? fail(r, 500, err, "out of memory")
			   : 0;
	}
	const char *ct = ctype ? ctype : "text/html";
	if (media_type(ct, mt, sizeof(mt)) < 0)
		return fail(r, 400, err, PR_WEB_MSG_CT_UNKNOWN);
	snprintf(r->content_type, sizeof(r->content_type), "%s", ct);
	/* binary types come base64-encoded; JSON may too (for legacy, as
	 * OpenWhisk: when it looks like base64) */
	struct hc_buf probe;
	hc_buf_init(&probe, BODY_MAX);
	int legacy = pr_web_is_json(ct) && base64_decode(body->valuestring, &probe) == 0;
	hc_buf_free(&probe);
	if (pr_web_is_binary(ct) || legacy) {
		if (base64_decode(body->valuestring, &r->body) < 0)
			return fail(r, 400, err, PR_WEB_MSG_CT_MISMATCH);
		return 0;
	}
	return hc_buf_adds(&r->body, body->valuestring) < 0 ? fail(r, 500, err, "out of memory")
							    : 0;
}

/* The property named by the projection path ("/a/b"), or NULL. */
static const cJSON *project(const cJSON *result, const char *path)
{
	char seg[256];
	const char *p = path;
	while (result && *p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		size_t n = strcspn(p, "/");
		if (n >= sizeof(seg))
			return NULL;
		memcpy(seg, p, n);
		seg[n] = '\0';
		p += n;
		result =
		    cJSON_IsObject(result) ? cJSON_GetObjectItemCaseSensitive(result, seg) : NULL;
	}
	return result;
}

/* .html, .svg and .text: the body, or the property named like the type. */
static const cJSON *media_field(const cJSON *result, const char *alt)
{
	if (!cJSON_IsObject(result))
		return result;
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(result, "body");
	return b ? b : cJSON_GetObjectItemCaseSensitive(result, alt);
}

static int respond_text(const cJSON *v, struct pr_web_response *r, struct hc_err *err)
{
	static const char ct[] = "text/plain; charset=UTF-8";
	char num[64];
	if (!v)
		return fail(r, 404, err, PR_WEB_MSG_PROPERTY);
	r->status = 200;
	if (cJSON_IsString(v))
		return body_text(r, v->valuestring, ct);
	if (cJSON_IsObject(v) || cJSON_IsArray(v)) {
		char *s = cJSON_Print(v);
		int rc = s ? body_text(r, s, ct) : -1;
		free(s);
		return rc;
	}
	if (cJSON_IsBool(v))
		return body_text(r, cJSON_IsTrue(v) ? "true" : "false", ct);
	if (cJSON_IsNumber(v)) {
		snprintf(num, sizeof(num), "%.17g", v->valuedouble);
		return body_text(r, num, ct);
	}
	return body_text(r, "null", ct);
}

int pr_web_respond(enum pr_web_ext ext, const cJSON *result, const char *path,
		   struct pr_web_response *r, struct hc_err *err)
{
	if (ext != PR_WEB_HTTP && path && path[0]) {
		result = project(result, path);
		if (!result)
			return fail(r, 404, err, PR_WEB_MSG_PROPERTY);
	}
	const cJSON *v;
	switch (ext) {
	case PR_WEB_HTTP:
		return respond_http(result, r, err);
	case PR_WEB_JSON:
		if (!cJSON_IsObject(result) && !cJSON_IsArray(result))
			return invalid_media(r, err, "application/json");
		r->status = 200;
		return body_json(r, result, "application/json");
	case PR_WEB_HTML:
		v = media_field(result, "html");
		if (!cJSON_IsString(v))
			return invalid_media(r, err, "text/html");
		r->status = 200;
		return body_text(r, v->valuestring, "text/html; charset=UTF-8");
	case PR_WEB_SVG:
		v = media_field(result, "svg");
		if (!cJSON_IsString(v))
			return invalid_media(r, err, "image/svg+xml");
		r->status = 200;
		return body_text(r, v->valuestring, "image/svg+xml");
	case PR_WEB_TEXT:
		return respond_text(media_field(result, "text"), r, err);
	}
	return invalid_media(r, err, "message/http");
}
