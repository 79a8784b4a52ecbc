/* controller/triggers.c — triggers over REST (Triggers.scala): create and
 * update (PUT, ?overwrite), get, delete, list, and fire (POST).
 *
 * The document is entity.c's; its rule links and alarm live beside it
 * (trigstore.h) and are read with it, so GET shows the "rules" map as
 * OpenWhisk does. A PUT with a "feed" annotation only checks the name, as
 * OpenWhisk does: running the feed's lifecycle is the client's part (the
 * wsk and hearth CLIs create the trigger, then invoke the feed with
 * CREATE). Delete takes the links and any built-in alarm with it, in one
 * script; rules that named the trigger stay (they read as inactive). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/json.h"
#include "common/str.h"
#include "controller/entity.h"
#include "controller/fire.h"
#include "controller/triggers.h"
#include "controller/trigstore.h"
#include "proto/trigger.h"

#define MSG_NOT_FOUND	  "The requested resource does not exist."
#define MSG_CONFLICT	  "Concurrent modification to resource detected."
#define MSG_EXISTS	  "resource already exists"
#define MSG_UNAVAILABLE	  "the entity store is unreachable; retry shortly"
#define HDR_ACTIVATION_ID "x-openwhisk-activation-id"

static void reply_take(struct hc_req *req, int status, cJSON *j)
{
	if (!j) {
		hc_reply_error(req, 500, "out of memory");
		return;
	}
	hc_reply_json(req, status, j);
	cJSON_Delete(j);
}

static void reply_status(struct hc_req *req, int status)
{
	if (status == 404)
		hc_reply_error(req, 404, MSG_NOT_FOUND);
	else if (status == 409)
		hc_reply_error(req, 409, MSG_CONFLICT);
	else if (status == 500)
		hc_reply_error(req, 500, "out of memory");
	else
		hc_reply_error(req, 503, MSG_UNAVAILABLE);
}

/* ---- list parameters (shared with rules.c) ---- */

/* An integer query parameter: 1 present (in *out), 0 absent, -1 not an
 * integer. */
static int query_integer(struct hc_req *req, const char *name, long long *out)
{
	const char *v = hc_req_query(req, name);
	char *end;
	if (!v)
		return 0;
	*out = strtoll(v, &end, 10);
	return *v && !*end ? 1 : -1;
}

int ctl_list_params(struct hc_req *req, const char *collection, int64_t *skip, int64_t *limit,
		    int *count)
{
	long long v = 0;
	*skip = 0;
	*limit = 30;
	int rc = query_integer(req, "limit", &v);
	if (rc < 0) {
		hc_reply_error(req, 400, "The value '%.32s' is not an integer for %s.",
			       hc_req_query(req, "limit"), collection);
		return -1;
	}
	if (rc > 0) {
		if (v < 0 || v > 200) {
			hc_reply_error(req, 400,
				       "The value '%lld' is not in the range of 0 to 200 for %s.",
				       v, collection);
			return -1;
		}
		*limit = v ? v : 200; /* limit=0 means the maximum */
	}
	rc = query_integer(req, "skip", &v);
	if (rc < 0) {
		hc_reply_error(req, 400, "The value '%.32s' is not an integer for %s.",
			       hc_req_query(req, "skip"), collection);
		return -1;
	}
	if (rc > 0) {
		if (v < 0) {
			hc_reply_error(req, 400,
				       "The value '%lld' is not greater than or equal to 0 for %s.",
				       v, collection);
			return -1;
		}
		*skip = v;
	}
	*count = ctl_query_bool(req, "count", 0);
	if (*count < 0) {
		hc_reply_error(req, 400,
			       "The request content was malformed:\ncount must be true or false");
		return -1;
	}
	return 0;
}

/* ---- one trigger ---- */

struct trig_op {
	struct hc_req *req;
	struct ctl_loop *L;
	char ns[PR_NAME_MAX + 1];
	char name[PR_NAME_MAX + 1];
	int overwrite;
	struct pr_entity_put put;
	cJSON *doc;   /* being written */
	cJSON *rules; /* its links, for the reply */
	int64_t limit, skip;
};

/* The op for req's {ns}/{name}; NULL after answering. */
static struct trig_op *op_new(struct hc_req *req, const struct ctl_caller *who, int bad_name)
{
	const char *ns = ctl_req_ns(req, who);
	if (!ns)
		return NULL;
	const char *name = hc_req_param(req, "name");
	if (name && !pr_name_valid(name)) {
		if (bad_name == 400)
			hc_reply_error(
			    req, 400,
			    "The request content was malformed:\nthe trigger name is not "
			    "valid");
		else
			hc_reply_error(req, 404, MSG_NOT_FOUND);
		return NULL;
	}
	struct trig_op *op = calloc(1, sizeof(*op));
	if (!op) {
		hc_reply_error(req, 500, "out of memory");
		return NULL;
	}
	op->req = req;
	op->L = ctl_loop_of(req);
	op->put.publish = -1;
	hc_strlcpy(op->ns, ns, sizeof(op->ns));
	hc_strlcpy(op->name, name ? name : "", sizeof(op->name));
	return op;
}

static void op_free(struct trig_op *op)
{
	pr_entity_put_free(&op->put);
	cJSON_Delete(op->doc);
	cJSON_Delete(op->rules);
	free(op);
}

/* ---- GET ---- */

static void on_get(int status, struct ctl_trigger *t, void *arg)
{
	struct trig_op *op = arg;
	if (status)
		reply_status(op->req, status);
	else
		reply_take(op->req, 200, pr_trigger_to_api(t->d.doc, t->rules));
	ctl_trigger_clear(t);
	op_free(op);
}

void ctl_trigger_get(struct hc_req *req, const struct ctl_caller *who)
{
	struct trig_op *op = op_new(req, who, 404);
	if (op && ctl_trig_read(op->L, op->ns, op->name, on_get, op) < 0) {
		hc_reply_error(req, 500, "out of memory");
		op_free(op);
	}
}

/* ---- DELETE ---- */

void ctl_trigger_delete(struct hc_req *req, const struct ctl_caller *who)
{
	struct trig_op *op = op_new(req, who, 404);
	if (op && ctl_trig_delete(op->L, op->ns, op->name, on_get, op) < 0) {
		hc_reply_error(req, 500, "out of memory");
		op_free(op);
	}
}

/* ---- PUT ---- */

static void on_put_done(int status, struct ctl_entity_doc *d, void *arg)
{
	struct trig_op *op = arg;
	if (status)
		reply_status(op->req, status);
	else
		reply_take(op->req, 200, pr_trigger_to_api(op->doc, op->rules));
	op_free(op);
}

static void on_put_old(int status, struct ctl_trigger *t, void *arg)
{
	struct trig_op *op = arg;
	if (status != 0 && status != 404) {
		reply_status(op->req, status);
		goto fail;
	}
	if (status == 0 && !op->overwrite) {
		hc_reply_error(op->req, 409, MSG_EXISTS);
		goto fail;
	}
	op->doc =
	    pr_trigger_build(status ? NULL : t->d.doc, &op->put, op->ns, op->name, hc_now_ms());
	op->rules = t->rules;
	t->rules = NULL;
	if (!op->doc) {
		hc_reply_error(op->req, 500, "out of memory");
		goto fail;
	}
	/* compare-and-set on the text read: a concurrent writer gets 409 */
	if (ctl_entity_put(op->L, &ctl_coll_triggers, op->ns, op->name, status ? NULL : t->d.raw,
			   op->doc, on_put_done, op) < 0) {
		hc_reply_error(op->req, 500, "out of memory");
		goto fail;
	}
	ctl_trigger_clear(t);
	return;
fail:
	ctl_trigger_clear(t);
	op_free(op);
}

void ctl_trigger_put(struct hc_req *req, const struct ctl_caller *who)
{
	struct trig_op *op = op_new(req, who, 400);
	struct hc_err err = {{0}};
	int status;
	size_t len;
	if (!op)
		return;
	op->overwrite = ctl_query_bool(req, "overwrite", 0) == 1;
	const char *body = hc_req_body(req, &len);
	if (pr_trigger_put_decode(body, len, &op->put, &status, &err) < 0) {
		hc_reply_error(req, status, "%s", err.msg);
		op_free(op);
		return;
	}
	if (ctl_trig_read(op->L, op->ns, op->name, on_put_old, op) < 0) {
		hc_reply_error(req, 500, "out of memory");
		op_free(op);
	}
}

/* ---- list ---- */

static void on_list(int status, cJSON *docs, void *arg)
{
	struct trig_op *op = arg;
	cJSON *arr = docs ? cJSON_CreateArray() : NULL;
	const cJSON *d;
	if (!docs) {
		reply_status(op->req, status == 500 ? 500 : 503);
		goto out;
	}
	cJSON_ArrayForEach(d, docs)
	{
		cJSON *s = pr_entity_summary(d);
		if (s && arr)
			cJSON_AddItemToArray(arr, s);
		else
			cJSON_Delete(s);
	}
	reply_take(op->req, 200, arr);
out:
	cJSON_Delete(docs);
	op_free(op);
}

static void on_count(int64_t n, void *arg)
{
	struct trig_op *op = arg;
	cJSON *j = n >= 0 ? cJSON_CreateObject() : NULL;
	if (n < 0)
		reply_status(op->req, 503);
	else if (j && hc_json_add_int(j, "triggers", n) == 0)
		reply_take(op->req, 200, j);
	else
		reply_take(op->req, 500, NULL);
	op_free(op);
}

void ctl_triggers_list(struct hc_req *req, const struct ctl_caller *who)
{
	int count;
	struct trig_op *op = op_new(req, who, 404);
	if (!op)
		return;
	if (ctl_list_params(req, "triggers", &op->skip, &op->limit, &count) < 0) {
		op_free(op);
		return;
	}
	int rc = count ? ctl_entity_count(op->L, &ctl_coll_triggers, op->ns, on_count, op)
		       : ctl_entity_list(op->L, &ctl_coll_triggers, op->ns, op->skip, op->limit,
					 on_list, op);
	if (rc < 0) {
		hc_reply_error(req, 500, "out of memory");
		op_free(op);
	}
}

/* ---- fire ---- */

static void on_fired(int status, const char *id, void *arg)
{
	struct hc_req *req = arg;
	char body[64];
	if (status == 202) {
		int n = snprintf(body, sizeof(body), "{\"activationId\":\"%s\"}", id);
		hc_req_add_header(req, HDR_ACTIVATION_ID, id);
		hc_reply(req, 202, "application/json", body, (size_t)n);
	} else if (status == 204) {
		hc_reply(req, 204, NULL, NULL, 0);
	} else if (status == 429) {
		hc_reply_error(req, 429, "%s", id);
	} else {
		reply_status(req, status);
	}
}

void ctl_trigger_fire(struct hc_req *req, const struct ctl_caller *who)
{
	struct ctl_loop *L = ctl_loop_of(req);
	struct hc_err err = {{0}};
	char key[160];
	size_t len;
	const char *ns = ctl_req_ns(req, who);
	const char *name = hc_req_param(req, "name");
	if (!ns)
		return;
	if (!name || !pr_name_valid(name)) {
		hc_reply_error(req, 404, MSG_NOT_FOUND);
		return;
	}
	const char *body = hc_req_body(req, &len);
	cJSON *payload = NULL;
	if (!hc_json_blank(body, len)) {
		payload = hc_json_parse(body, len, HC_JSON_MAX_DEPTH, &err);
		if (!cJSON_IsObject(payload)) {
			hc_reply_error(req, 400, "The request content was malformed:\n%s",
				       payload ? "the body must be a JSON object" : err.msg);
			cJSON_Delete(payload);
			return;
		}
	}
	ctl_caller_key(who, key, sizeof(key));
	if (ctl_fire(L, ns, name, payload, key, on_fired, req) < 0)
		hc_reply_error(req, 500, "out of memory");
}
