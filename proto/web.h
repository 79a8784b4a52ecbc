/* proto/web.h — web actions: the HTTP request as an action's argument and
 * the action's result as an HTTP response, as OpenWhisk's WebActions.scala
 * and docs/webactions.md define them. Pure: no I/O. */
#ifndef PR_WEB_H
#define PR_WEB_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/err.h"

/* The content extensions, .http the default. */
enum pr_web_ext {
	PR_WEB_HTTP = 0,
	PR_WEB_JSON,
	PR_WEB_HTML,
	PR_WEB_SVG,
	PR_WEB_TEXT,
};

/* OpenWhisk's messages. */
#define PR_WEB_MSG_PROPERTY    "Response does not include requested property."
#define PR_WEB_MSG_PROCESSING  "There was an error processing your request."
#define PR_WEB_MSG_NOT_READY   "Response not yet ready."
#define PR_WEB_MSG_CT_UNKNOWN  "Response did not specify a known content-type."
#define PR_WEB_MSG_CT_MISMATCH "Response type in header did not match generated content type."
#define PR_WEB_MSG_UNSUPPORTED "Content type is not supported."
#define PR_WEB_MSG_PARAMS                                                                          \
	"Request defines parameters that are not allowed (e.g., reserved properties)."

/* Split an action segment "hello.json" into its name and extension: a
 * known extension at the end is taken off; anything else (no dot, or an
 * unknown one such as "hello.png") is all name, with .http. name gets at
 * most namelen - 1 bytes. */
void pr_web_split(const char *seg, char *name, size_t namelen, enum pr_web_ext *ext);

/* What the request brings, for the action's argument. */
struct pr_web_request {
	const char *method; /* "GET"..., lower-cased into __ow_method */
	const char *const *header_names, *const *header_values; /* nheaders each */
	size_t nheaders;
	const char *path;  /* what follows the action's segment, "" or "/a/b" */
	const char *query; /* the raw query string, without '?'; NULL: none */
	const char *body;  /* NULL: none */
	size_t body_len;
	const char *content_type; /* NULL: none */
	const char *user;	  /* the authenticated caller's namespace, or NULL */
	int raw;		  /* raw-http: __ow_query and __ow_body as they came */
};

/* The action's argument: __ow_method, __ow_headers, __ow_path (and
 * __ow_user when authenticated), then the query parameters, then a JSON
 * object or form body merged (last wins), any other body as __ow_body
 * (base64 for binary content types and JSON, text otherwise); raw-http
 * boxes the query as __ow_query and the body as __ow_body. The request may
 * not override a reserved __ow_ name or a name in `final` (the action's
 * final parameters, an array of {key} or NULL): NULL with err set to
 * PR_WEB_MSG_PARAMS then (400), or to PR_WEB_MSG_UNSUPPORTED for a body
 * that cannot be read. */
cJSON *pr_web_argument(const struct pr_web_request *rq, const cJSON *final, struct hc_err *err);

/* An HTTP answer built from a result. */
struct pr_web_response {
	int status;
	char content_type[128]; /* "" when the answer has no body */
	struct hc_buf headers;	/* "Name: value\r\n" lines of the action's own */
	struct hc_buf body;
};
void pr_web_response_init(struct pr_web_response *r);
void pr_web_response_free(struct pr_web_response *r);

/* The answer for a result under ext: .http reads {statusCode, headers,
 * body} (204 with no body, a string body as text/html unless headers say
 * otherwise, base64 decoded for binary types, anything else as JSON),
 * .json the object itself, .html/.svg/.text the body (or html/svg/text)
 * property. path (non-empty, not .http) projects a property first, e.g.
 * "/body/items". 0, or -1 with r->status and err set to OpenWhisk's
 * answer (400 invalid media, 404 missing property, ...). */
int pr_web_respond(enum pr_web_ext ext, const cJSON *result, const char *path,
		   struct pr_web_response *r, struct hc_err *err);

/* Whether a content type is of the JSON family (application/json, or a
 * "+json" suffix) and whether it is binary (not text/..., not JSON, not
 * one of the few application/ types that are text). */
int pr_web_is_json(const char *content_type);
int pr_web_is_binary(const char *content_type);

#endif
