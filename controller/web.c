/* controller/web.c — web actions: /api/v1/web/{namespace}/{package}/{action}.{ext}
 * answered as OpenWhisk's WebActions.scala does.
 *
 * Anonymous by default (credentials, when given and valid, add __ow_user
 * and satisfy require-whisk-auth: true); the action runs as its owner (the
 * namespace in the path: its limits, its records). The action must carry
 * web-export. OPTIONS is answered here with CORS headers unless the action
 * has web-custom-options, in which case it reaches the action and no CORS
 * header is added. The request becomes the action's argument and its
 * result the answer through proto/web.c. */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/str.h"
#include "controller/activation.h"
#include "controller/api.h"
#include "controller/sequence.h"
#include "controller/store.h"
#include "proto/web.h"

#define HDR_ACTIVATION_ID "x-openwhisk-activation-id"
#define MSG_UNAUTHORIZED                                                                           \
	"The request has not been applied because it lacks valid authentication credentials for "  \
	"the target resource."

static const char allow_methods[] = "OPTIONS, GET, DELETE, POST, PUT, HEAD, PATCH";
static const char allow_headers[] =
    "Authorization, Origin, X-Requested-With, Content-Type, Accept, User-Agent";

struct web_req {
	struct hc_req *req;
	struct ctl_loop *L;
	enum pr_web_ext ext;
	char ns[PR_NAME_MAX + 1];
	char user[PR_NAME_MAX + 1];   /* the authenticated caller's namespace, "" = anonymous */
	char path[HC_ROUTE_MAX_PATH]; /* __ow_path: what follows the action's segment */
};

/* OpenWhisk's CORS headers on a web answer; the allowed headers echo the
 * preflight's Access-Control-Request-Headers when it names some. */
static void add_cors(struct hc_req *req)
{
	const char *want = hc_req_header(req, "Access-Control-Request-Headers");
	hc_req_add_header(req, "Access-Control-Allow-Origin", "*");
	hc_req_add_header(req, "Access-Control-Allow-Methods", allow_methods);
	hc_req_add_header(req, "Access-Control-Allow-Headers", want ? want : allow_headers);
}

/* require-whisk-auth: a string or number must match X-Require-Whisk-Auth,
 * true needs an authenticated caller, false or absent lets anyone in. */
static int authorized(const struct ctl_action *a, struct hc_req *req, const char *user)
{
	const cJSON *v = pr_annotation(a->info.annotations, "require-whisk-auth");
	const char *h = hc_req_header(req, "X-Require-Whisk-Auth");
	char num[64];
	if (!v || cJSON_IsFalse(v))
		return 1;
	if (cJSON_IsTrue(v))
		return user[0] != '\0';
	if (cJSON_IsString(v))
		return h && !strcmp(h, v->valuestring);
	if (cJSON_IsNumber(v)) {
		snprintf(num, sizeof(num), "%.17g", v->valuedouble);
		return h && !strcmp(h, num);
	}
	return 0; /* not allowed: something is not right */
}

/* The action's own headers ("Name: value\r\n" lines) on req. */
static void add_headers(struct hc_req *req, const struct hc_buf *h)
{
	char line[4096];
	const char *p = h->data, *end = h->data + h->len;
	while (p && p < end) {
		const char *eol = memchr(p, '\r', (size_t)(end - p));
		size_t n = eol ? (size_t)(eol - p) : (size_t)(end - p);
		const char *colon = memchr(p, ':', n);
		if (colon && n < sizeof(line)) {
			memcpy(line, p, n);
			line[n] = '\0';
			line[colon - p] = '\0';
			hc_req_add_header(req, line, line + (colon - p) + 2);
		}
		p = eol ? eol + 2 : NULL;
	}
}

/* The activation is over (or outlived its wait: status -1). */
static void answer(struct ctl_inv *v, int status, const cJSON *result)
{
	struct web_req *w = v->answer_arg;
	struct hc_req *req = v->req;
	struct hc_err err = {{0}};
	hc_req_add_header(req, HDR_ACTIVATION_ID, v->rec.id);
	if (status < 0) {
		hc_reply_error(req, 202, PR_WEB_MSG_NOT_READY);
		return;
	}
	if (status != PR_ST_SUCCESS && status != PR_ST_APP_ERROR) {
		hc_reply_error(req, 400, PR_WEB_MSG_PROCESSING);
		return;
	}
	/* an application error answers with its error property */
	if (status == PR_ST_APP_ERROR)
		result = cJSON_GetObjectItemCaseSensitive(result, "error");
	if (!result) {
		hc_reply_error(req, 404, PR_WEB_MSG_PROPERTY);
		return;
	}
	struct pr_web_response r;
	pr_web_response_init(&r);
	if (pr_web_respond(w->ext, result, w->path, &r, &err) < 0) {
		hc_reply_error(req, r.status, "%s", err.msg);
	} else {
		add_headers(req, &r.headers);
		hc_reply_buf(req, r.status, r.content_type[0] ? r.content_type : NULL, &r.body);
	}
	pr_web_response_free(&r);
}

/* The request's headers as the argument wants them. */
struct hdrs {
	const char *names[64], *values[64];
	size_t n;
};

static void collect_headers(struct hc_req *req, struct hdrs *h)
{
	size_t n = hc_req_nheaders(req);
	h->n = 0;
	for (size_t i = 0; i < n && h->n < 64; i++)
		if (hc_req_header_at(req, i, &h->names[h->n], &h->values[h->n]) == 0)
			h->n++;
}

/* The argument: the request over the action's defaults (final ones kept). */
static cJSON *argument(struct web_req *w, const struct ctl_action *a, struct hc_err *err)
{
	struct hdrs h;
	size_t len;
	collect_headers(w->req, &h);
	const char *body = hc_req_body(w->req, &len);
	struct pr_web_request rq = {
	    .method = hc_method_name(hc_req_method(w->req)),
	    .header_names = h.names,
	    .header_values = h.values,
	    .nheaders = h.n,
	    .path = w->path,
	    .query = hc_req_query_string(w->req),
	    .body = len ? body : NULL,
	    .body_len = len,
	    .content_type = hc_req_header(w->req, "Content-Type"),
	    .user = w->user[0] ? w->user : NULL,
	    .raw = pr_annotation_true(a->info.annotations, "raw-http", 0),
	};
	const cJSON *final =
	    pr_annotation_true(a->info.annotations, "final", 0) ? a->info.parameters : NULL;
	cJSON *arg = pr_web_argument(&rq, final, err);
	if (!arg)
		return NULL;
	/* the action's defaults under it; final ones are not overridden
	 * (checked above, the same rule pr_params_merge applies) */
	cJSON *merged = pr_params_merge(a->info.parameters, arg, a->info.annotations, err);
	cJSON_Delete(arg);
	return merged;
}

static void on_action(struct ctl_ref *ref, int status, void *arg)
{
	struct web_req *w = arg;
	struct hc_req *req = w->req;
	struct hc_err err = {{0}};
	const struct ctl_action *a = ref ? ref->val : NULL;
	if (!a || !pr_annotation_true(a->info.annotations, "web-export", 0)) {
		if (ref)
			ctl_cache_release(ref);
		hc_reply_error(req, ref || status == 404 ? 404 : 503,
			       ref || status == 404
				   ? "The requested resource does not exist."
				   : "the entity store is unreachable; retry shortly");
		goto out;
	}
	int custom_options = pr_annotation_true(a->info.annotations, "web-custom-options", 0);
	if (!custom_options) {
		add_cors(req);
		if (hc_req_method(req) == HC_OPTIONS) {
			ctl_cache_release(ref);
			hc_reply(req, 200, NULL, NULL, 0);
			goto out;
		}
	}
	/* OPTIONS reaches an action that answers it itself, authorized or not */
	if ((hc_req_method(req) != HC_OPTIONS || !custom_options) && !authorized(a, req, w->user)) {
		ctl_cache_release(ref);
		hc_reply_error(req, 401, MSG_UNAUTHORIZED);
		goto out;
	}
	cJSON *params = argument(w, a, &err);
	if (!params) {
		ctl_cache_release(ref);
		hc_reply_error(req, 400, "%s", err.msg);
		goto out;
	}
	/* the owner runs it: its namespace is the subject, its records */
	struct ctl_inv *v = ctl_inv_new(w->L, ref, params, w->ns, NULL);
	if (!v) {
		hc_reply_error(req, 500, "out of memory");
		goto out;
	}
	v->req = req;
	v->answer = answer;
	v->answer_arg = w;
	v->answer_free = free; /* w lives as long as the activation */
	w = NULL;
	ctl_inv_wait(v, v->L->ctl->cfg.blocking_wait_ms);
	if (v->a->info.is_sequence)
		ctl_seq_start(v);
	else
		ctl_inv_dispatch(v);
out:
	free(w);
}

/* Anonymous or not, find the action. */
static void web_run(struct hc_req *req, const struct ctl_caller *who)
{
	struct ctl_loop *L = ctl_loop_of(req);
	const char *ns = hc_req_param(req, "ns"), *pkg = hc_req_param(req, "pkg");
	const char *seg = hc_req_param(req, "action"), *rest = hc_req_param(req, "rest");
	char name[PR_NAME_MAX + 1], path[2 * PR_NAME_MAX + 2];
	enum pr_web_ext ext;
	if (!ns || !pkg || !seg || !pr_name_valid(ns) || !pr_name_valid(pkg)) {
		hc_reply_error(req, 404, "The requested resource does not exist.");
		return;
	}
	pr_web_split(seg, name, sizeof(name), &ext);
	if (!pr_name_valid(name)) {
		hc_reply_error(req, 404, "The requested resource does not exist.");
		return;
	}
	struct web_req *w = calloc(1, sizeof(*w));
	if (!w) {
		hc_reply_error(req, 500, "out of memory");
		return;
	}
	w->req = req;
	w->L = L;
	w->ext = ext;
	hc_strlcpy(w->ns, ns, sizeof(w->ns));
	if (who && who->ns)
		hc_strlcpy(w->user, who->ns, sizeof(w->user));
	if (rest) {
		w->path[0] = '/';
		hc_strlcpy(w->path + 1, rest, sizeof(w->path) - 1);
	}
	/* the default package is the namespace's own actions */
	if (!strcmp(pkg, "default"))
		hc_strlcpy(path, name, sizeof(path));
	else
		snprintf(path, sizeof(path), "%s/%s", pkg, name);
	ctl_action_lookup(L, ns, path, on_action, w);
}

void ctl_h_web(struct hc_req *req, void *arg)
{
	ctl_auth_optional(req, web_run);
}
