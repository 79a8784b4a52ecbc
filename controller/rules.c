/* controller/rules.c — rules over REST (Rules.scala): create and update
 * (PUT, ?overwrite), get (with the status its trigger's link gives),
 * delete, list, and enable/disable (POST {"status": ...}).
 *
 * A rule is created only when its trigger and its action exist
 * ("trigger /ns/t does not exist", "action /ns/a does not exist", 400);
 * the trigger's existence is checked again inside the write script, so a
 * trigger deleted meanwhile is never linked. The rule's document and its
 * trigger's link are written by one script (trigstore.h): a rule moved to
 * another trigger leaves the old one in the same step. A write that finds
 * the rule changed since it was read starts over, a few times. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/json.h"
#include "common/str.h"
#include "controller/entity.h"
#include "controller/store.h"
#include "controller/triggers.h"
#include "controller/trigstore.h"
#include "proto/trigger.h"

#define MSG_NOT_FOUND	"The requested resource does not exist."
#define MSG_CONFLICT	"Concurrent modification to resource detected."
#define MSG_EXISTS	"resource already exists"
#define MSG_FORBIDDEN	"The supplied authentication is not authorized to access this resource."
#define MSG_UNAVAILABLE "the entity store is unreachable; retry shortly"
#define MSG_NEEDS_BOTH	"rule requires a valid trigger and a valid action"
#define MSG_NO_TRIGGER	"Only rules with existing triggers can be activated"

#define TRIES 5 /* reads and writes of one request when the rule keeps changing */

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

struct rule_op {
	struct hc_req *req;
	struct ctl_loop *L;
	char ns[PR_NAME_MAX + 1];
	char name[PR_NAME_MAX + 1];
	char fqn[2 * PR_NAME_MAX + 2]; /* "ns/rule" */
	int overwrite;
	int tries;
	int want_active; /* POST */
	struct pr_entity_put put;
	struct ctl_entity_doc old; /* the rule as read */
	struct pr_fqn trigger, action, old_trigger;
	cJSON *doc; /* being written */
	int64_t limit, skip;
};

static struct rule_op *op_new(struct hc_req *req, const struct ctl_caller *who, int bad_name)
{
	const char *ns = ctl_req_ns(req, who);
	if (!ns)
		return NULL;
	const char *name = hc_req_param(req, "name");
	if (name && !pr_name_valid(name)) {
		if (bad_name == 400)
			hc_reply_error(req, 400,
				       "The request content was malformed:\nthe rule name is not "
				       "valid");
		else
			hc_reply_error(req, 404, MSG_NOT_FOUND);
		return NULL;
	}
	struct rule_op *op = calloc(1, sizeof(*op));
	if (!op) {
		hc_reply_error(req, 500, "out of memory");
		return NULL;
	}
	op->req = req;
	op->L = ctl_loop_of(req);
	op->put.publish = -1;
	hc_strlcpy(op->ns, ns, sizeof(op->ns));
	hc_strlcpy(op->name, name ? name : "", sizeof(op->name));
	snprintf(op->fqn, sizeof(op->fqn), "%s/%s", op->ns, op->name);
	return op;
}

static void op_free(struct rule_op *op)
{
	pr_entity_put_free(&op->put);
	ctl_entity_doc_clear(&op->old);
	cJSON_Delete(op->doc);
	free(op);
}

/* An op's call could not be started: answer and free. */
static void not_started(struct rule_op *op)
{
	hc_reply_error(op->req, 500, "out of memory");
	op_free(op);
}

/* ---- GET ---- */

static void on_get_status(int status, int active, void *arg)
{
	struct rule_op *op = arg;
	if (status)
		reply_status(op->req, status);
	else
		reply_take(op->req, 200,
			   pr_rule_to_api(op->old.doc, active ? PR_RULE_ACTIVE : PR_RULE_INACTIVE));
	op_free(op);
}

static void on_get(int status, struct ctl_entity_doc *d, void *arg)
{
	struct rule_op *op = arg;
	op->old = *d;
	memset(d, 0, sizeof(*d));
	if (status) {
		reply_status(op->req, status);
		op_free(op);
		return;
	}
	if (pr_rule_refs(op->old.doc, &op->trigger, &op->action) < 0) {
		hc_reply_error(op->req, 500, "Resource is corrupted and cannot be read.");
		op_free(op);
		return;
	}
	/* the status is the trigger's link's: inactive without one */
	if (ctl_rule_link_status(op->L, &op->trigger, op->fqn, on_get_status, op) < 0)
		not_started(op);
}

void ctl_rule_get(struct hc_req *req, const struct ctl_caller *who)
{
	struct rule_op *op = op_new(req, who, 404);
	if (op && ctl_entity_get(op->L, &ctl_coll_rules, op->ns, op->name, on_get, op) < 0)
		not_started(op);
}

/* ---- DELETE ---- */

static void delete_start(struct rule_op *op);

static void on_removed(int status, int active, void *arg)
{
	struct rule_op *op = arg;
	if (status == 409 && ++op->tries < TRIES) {
		ctl_entity_doc_clear(&op->old);
		delete_start(op);
		return;
	}
	if (status)
		reply_status(op->req, status);
	else
		reply_take(op->req, 200, pr_rule_to_api(op->old.doc, PR_RULE_INACTIVE));
	op_free(op);
}

static void on_delete_read(int status, struct ctl_entity_doc *d, void *arg)
{
	struct rule_op *op = arg;
	op->old = *d;
	memset(d, 0, sizeof(*d));
	if (status) {
		reply_status(op->req, status);
		op_free(op);
		return;
	}
	if (pr_rule_refs(op->old.doc, &op->trigger, &op->action) < 0) {
		hc_reply_error(op->req, 500, "Resource is corrupted and cannot be read.");
		op_free(op);
		return;
	}
	if (ctl_rule_remove(op->L, op->ns, op->name, op->old.raw, &op->trigger, on_removed, op) < 0)
		not_started(op);
}

static void delete_start(struct rule_op *op)
{
	if (ctl_entity_get(op->L, &ctl_coll_rules, op->ns, op->name, on_delete_read, op) < 0)
		not_started(op);
}

void ctl_rule_delete(struct hc_req *req, const struct ctl_caller *who)
{
	struct rule_op *op = op_new(req, who, 404);
	if (op)
		delete_start(op);
}

/* ---- PUT ---- */

static void put_start(struct rule_op *op);

static void on_written(int status, int active, void *arg)
{
	struct rule_op *op = arg;
	char t[PR_FQN_MAX];
	if (status == 409 && ++op->tries < TRIES) {
		/* the rule changed since it was read: read it again */
		ctl_entity_doc_clear(&op->old);
		cJSON_Delete(op->doc);
		op->doc = NULL;
		put_start(op);
		return;
	}
	if (status == 404) {
		/* the trigger went away between the check and the write */
		pr_fqn_string(&op->trigger, t, sizeof(t));
		hc_reply_error(op->req, 400, "trigger /%s does not exist", t);
	} else if (status) {
		reply_status(op->req, status);
	} else {
		reply_take(op->req, 200,
			   pr_rule_to_api(op->doc, active ? PR_RULE_ACTIVE : PR_RULE_INACTIVE));
	}
	op_free(op);
}

static void on_action(struct ctl_ref *ref, int status, void *arg)
{
	struct rule_op *op = arg;
	char a[PR_FQN_MAX];
	if (!ref) {
		pr_fqn_string(&op->action, a, sizeof(a));
		if (status == 404)
			hc_reply_error(op->req, 400, "action /%s does not exist", a);
		else
			reply_status(op->req, 503);
		op_free(op);
		return;
	}
	ctl_cache_release(ref);
	int create = op->old.doc == NULL;
	op->doc = pr_rule_build(op->old.doc, &op->put, op->ns, op->name, hc_now_ms());
	if (!op->doc) {
		not_started(op);
		return;
	}
	if (ctl_rule_write(op->L, op->ns, op->name, op->old.raw, op->doc, &op->trigger,
			   create ? NULL : &op->old_trigger, &op->action, create, on_written,
			   op) < 0)
		not_started(op);
}

static void on_trigger(int status, struct ctl_trigger *t, void *arg)
{
	struct rule_op *op = arg;
	char name[PR_FQN_MAX], rel[2 * PR_NAME_MAX + 2];
	ctl_trigger_clear(t);
	if (status == 404) {
		pr_fqn_string(&op->trigger, name, sizeof(name));
		hc_reply_error(op->req, 400, "trigger /%s does not exist", name);
		op_free(op);
		return;
	}
	if (status) {
		reply_status(op->req, status);
		op_free(op);
		return;
	}
	pr_fqn_rel(&op->action, rel, sizeof(rel));
	/* an action in a package resolves as "pkg/name" (store.c) */
	ctl_action_lookup(op->L, op->action.ns, rel, on_action, op);
}

static void on_put_old(int status, struct ctl_entity_doc *d, void *arg)
{
	struct rule_op *op = arg;
	char rel[2 * PR_NAME_MAX + 2];
	op->old = *d;
	memset(d, 0, sizeof(*d));
	if (status != 0 && status != 404) {
		reply_status(op->req, status);
		goto fail;
	}
	if (status == 0 && !op->overwrite) {
		hc_reply_error(op->req, 409, MSG_EXISTS);
		goto fail;
	}
	struct pr_fqn ot, oa;
	if (status == 0) {
		if (pr_rule_refs(op->old.doc, &ot, &oa) < 0) {
			hc_reply_error(op->req, 500, "Resource is corrupted and cannot be read.");
			goto fail;
		}
		op->old_trigger = ot;
		op->trigger = op->put.has_trigger ? op->put.trigger : ot;
		op->action = op->put.has_action ? op->put.action : oa;
	} else if (!op->put.has_trigger || !op->put.has_action) {
		hc_reply_error(op->req, 400, MSG_NEEDS_BOTH);
		goto fail;
	} else {
		op->trigger = op->put.trigger;
		op->action = op->put.action;
	}
	/* Triggers are never shared; actions only from shared packages.
	 * TODO(entitle): let the packages module's read check
	 * (controller/entitle.h, ctl_entitle_*) decide for actions of other
	 * namespaces once it is on main; until then, own namespace only. */
	if (strcmp(op->trigger.ns, op->ns) != 0 || strcmp(op->action.ns, op->ns) != 0) {
		hc_reply_error(op->req, 403, MSG_FORBIDDEN);
		goto fail;
	}
	pr_fqn_rel(&op->trigger, rel, sizeof(rel));
	if (ctl_trig_read(op->L, op->trigger.ns, rel, on_trigger, op) < 0)
		not_started(op);
	return;
fail:
	op_free(op);
}

static void put_start(struct rule_op *op)
{
	if (ctl_entity_get(op->L, &ctl_coll_rules, op->ns, op->name, on_put_old, op) < 0)
		not_started(op);
}

void ctl_rule_put(struct hc_req *req, const struct ctl_caller *who)
{
	struct rule_op *op = op_new(req, who, 400);
	struct hc_err err = {{0}};
	int status;
	size_t len;
	if (!op)
		return;
	op->overwrite = ctl_query_bool(req, "overwrite", 0) == 1;
	const char *body = hc_req_body(req, &len);
	if (pr_rule_put_decode(body, len, op->ns, &op->put, &status, &err) < 0) {
		hc_reply_error(req, status, "%s", err.msg);
		op_free(op);
		return;
	}
	put_start(op);
}

/* ---- POST: enable / disable ---- */

static void post_start(struct rule_op *op);

static void reply_ok(struct hc_req *req)
{
	/* Pekko's complete(OK): the reason phrase as text */
	hc_reply(req, 200, "text/plain; charset=UTF-8", "OK", 2);
}

static void on_status_set(int status, int active, void *arg)
{
	struct rule_op *op = arg;
	if (status == 409 && ++op->tries < TRIES) {
		ctl_entity_doc_clear(&op->old);
		post_start(op);
		return;
	}
	if (status == 404)
		hc_reply_error(op->req, 404, MSG_NO_TRIGGER);
	else if (status)
		reply_status(op->req, status);
	else
		reply_ok(op->req);
	op_free(op);
}

static void on_post_status(int status, int active, void *arg)
{
	struct rule_op *op = arg;
	if (status) {
		reply_status(op->req, status);
		op_free(op);
		return;
	}
	if (active == op->want_active) {
		reply_ok(op->req); /* already so: nothing to change */
		op_free(op);
		return;
	}
	if (ctl_rule_set_status(op->L, op->ns, op->name, op->old.raw, &op->trigger, &op->action,
				op->want_active, on_status_set, op) < 0)
		not_started(op);
}

static void on_post_read(int status, struct ctl_entity_doc *d, void *arg)
{
	struct rule_op *op = arg;
	op->old = *d;
	memset(d, 0, sizeof(*d));
	if (status) {
		reply_status(op->req, status);
		op_free(op);
		return;
	}
	if (pr_rule_refs(op->old.doc, &op->trigger, &op->action) < 0) {
		hc_reply_error(op->req, 500, "Resource is corrupted and cannot be read.");
		op_free(op);
		return;
	}
	if (ctl_rule_link_status(op->L, &op->trigger, op->fqn, on_post_status, op) < 0)
		not_started(op);
}

static void post_start(struct rule_op *op)
{
	if (ctl_entity_get(op->L, &ctl_coll_rules, op->ns, op->name, on_post_read, op) < 0)
		not_started(op);
}

void ctl_rule_post(struct hc_req *req, const struct ctl_caller *who)
{
	size_t len;
	const char *body = hc_req_body(req, &len);
	cJSON *j = hc_json_blank(body, len) ? NULL : hc_json_parse(body, len, 8, NULL);
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "status");
	int want = -1;
	if (cJSON_IsString(st))
		want = !strcmp(st->valuestring, PR_RULE_ACTIVE)	    ? 1
		       : !strcmp(st->valuestring, PR_RULE_INACTIVE) ? 0
								    : -1;
	if (want < 0) {
		if (cJSON_IsString(st))
			hc_reply_error(req, 400,
				       "The request content was malformed:\n'%.64s' is not a "
				       "recognized rule state, must be one of ['active', "
				       "'inactive']",
				       st->valuestring);
		else
			hc_reply_error(req, 400,
				       "The request content was malformed:\nthe body must be "
				       "{\"status\": \"active\" or \"inactive\"}");
		cJSON_Delete(j);
		return;
	}
	cJSON_Delete(j);
	struct rule_op *op = op_new(req, who, 404);
	if (!op)
		return;
	op->want_active = want;
	post_start(op);
}

/* ---- list ---- */

static void on_list(int status, cJSON *docs, void *arg)
{
	struct rule_op *op = arg;
	if (!docs)
		reply_status(op->req, status == 500 ? 500 : 503);
	else /* full documents, without status (WhiskRule.serdes) */
		reply_take(op->req, 200, docs);
	op_free(op);
}

static void on_count(int64_t n, void *arg)
{
	struct rule_op *op = arg;
	cJSON *j = n >= 0 ? cJSON_CreateObject() : NULL;
	if (n < 0)
		reply_status(op->req, 503);
	else if (j && hc_json_add_int(j, "rules", n) == 0)
		reply_take(op->req, 200, j);
	else
		reply_take(op->req, 500, NULL);
	op_free(op);
}

void ctl_rules_list(struct hc_req *req, const struct ctl_caller *who)
{
	int count;
	struct rule_op *op = op_new(req, who, 404);
	if (!op)
		return;
	if (ctl_list_params(req, "rules", &op->skip, &op->limit, &count) < 0) {
		op_free(op);
		return;
	}
	int rc = count ? ctl_entity_count(op->L, &ctl_coll_rules, op->ns, on_count, op)
		       : ctl_entity_list(op->L, &ctl_coll_rules, op->ns, op->skip, op->limit,
					 on_list, op);
	if (rc < 0)
		not_started(op);
}
