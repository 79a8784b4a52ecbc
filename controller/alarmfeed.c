/* controller/alarmfeed.c — the built-in alarms feed, served by the
 * controller itself (no container), and the fires the scheduler leader
 * sends for it.
 *
 * /whisk.system/alarms/alarm, /interval and /once answer an invoke as the
 * feed actions of openwhisk-package-alarms do: the lifecycle event CREATE,
 * READ, UPDATE or DELETE (and PAUSE / UNPAUSE, which the package lacks)
 * for triggerName, with the package's parameters and messages. Any
 * namespace may invoke them (whisk.system's packages are everyone's), for
 * its own triggers. Each invoke is an activation of its own, recorded in
 * the caller's namespace like any other: blocking answers 200 with the
 * record (502 when the lifecycle failed, its result {"error": ...}), a
 * non-blocking one 202. The alarm is kept in Redis (proto/alarm.h) and
 * fired by the scheduler leader (scheduler/alarms.c), which POSTs each
 * period to /internal/fire; the period is marked fired (SET NX) before the
 * trigger fires, so a period sent twice (a leader that died before it
 * heard the answer) fires once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/json.h"
#include "common/log.h"
#include "common/str.h"
#include "controller/fire.h"
#include "controller/records.h"
#include "controller/triggers.h"
#include "controller/trigstore.h"
#include "proto/activation.h"
#include "proto/alarm.h"
#include "proto/trigger.h"

#define HDR_ACTIVATION_ID "x-openwhisk-activation-id"
#define MSG_NOT_FOUND	  "The requested resource does not exist."
#define MSG_AUTH	  "Trigger authentication request failed."

/* One lifecycle event being served. */
struct feed_op {
	struct hc_req *req; /* NULL once answered (non-blocking: at once) */
	struct ctl_loop *L;
	int result_only;
	enum pr_alarm_kind kind;
	char event[16];
	char ns[PR_NAME_MAX + 1]; /* the trigger's (the caller's) */
	char trigger[PR_NAME_MAX + 1];
	cJSON *params;
	struct pr_activation rec; /* this invoke's record */
};

static void op_free(struct feed_op *op)
{
	cJSON_Delete(op->params);
	pr_activation_clear(&op->rec);
	free(op);
}

/* The end: result (taken) as success or application error; the record
 * stored, the caller answered if it still waits. */
static void feed_end(struct feed_op *op, int status, cJSON *result)
{
	struct pr_activation *r = &op->rec;
	r->end_ms = hc_now_ms();
	r->status = status;
	r->result = result ? result : cJSON_CreateObject();
	ctl_record_store(op->L, r, NULL, 0);
	if (op->req) {
		struct hc_buf b;
		hc_buf_init(&b, 4u << 20);
		int http = status == PR_ST_SUCCESS ? 200 : 502, rc;
		if (op->result_only) {
			char *t = r->result ? cJSON_PrintUnformatted(r->result) : NULL;
			rc = t ? hc_buf_adds(&b, t) : -1;
			free(t);
		} else {
			rc = pr_activation_encode(&b, r, NULL, 0, 0);
		}
		hc_req_add_header(op->req, HDR_ACTIVATION_ID, r->id);
		if (rc < 0) {
			hc_buf_free(&b);
			hc_reply_error(op->req, 500, "out of memory");
		} else {
			hc_reply_buf(op->req, http, "application/json", &b);
		}
		op->req = NULL;
	}
	hc_info("alarm feed %s %s for /%s/%s: %s activation=%s", pr_alarm_feed_name(op->kind),
		op->event, op->ns, op->trigger, status ? "failed" : "done", r->id);
	op_free(op);
}

static void fail(struct feed_op *op, const char *msg)
{
	feed_end(op, PR_ST_APP_ERROR, pr_error_result(msg));
}

static cJSON *status_success(void)
{
	cJSON *j = cJSON_CreateObject();
	if (j && hc_json_add_str(j, "status", "success") < 0) {
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

static void not_found(struct feed_op *op)
{
	char msg[2 * PR_NAME_MAX + 64];
	snprintf(msg, sizeof(msg), "could not find trigger /%s/%s in the database", op->ns,
		 op->trigger);
	fail(op, msg);
}

static void on_stored(int status, void *arg)
{
	struct feed_op *op = arg;
	if (status == 0)
		feed_end(op, PR_ST_SUCCESS, status_success());
	else if (status == 404 && !strcmp(op->event, "CREATE"))
		fail(op, MSG_AUTH); /* the trigger is gone (or never was) */
	else if (status == 404)
		not_found(op);
	else
		feed_end(op, PR_ST_INTERNAL_ERROR,
			 pr_error_result("the entity store is unreachable; retry shortly"));
}

static void on_removed(int status, void *arg)
{
	/* DELETE of an alarm already gone succeeds: deleting the trigger took
	 * it (the package answers success for a deleted trigger too) */
	on_stored(status == 404 ? 0 : status, arg);
}

/* READ, UPDATE and UNPAUSE start from the stored alarm. */
static void on_alarm(int status, cJSON *fields, void *arg)
{
	struct feed_op *op = arg;
	struct hc_err err = {{0}};
	struct pr_alarm a;
	int64_t now = (int64_t)hc_now_ms();
	const cJSON *spec = cJSON_GetObjectItemCaseSensitive(fields, PR_ALARM_F_SPEC);
	memset(&a, 0, sizeof(a));
	if (status == 404) {
		not_found(op);
		goto out;
	}
	if (status || !cJSON_IsString(spec) ||
	    pr_alarm_decode(spec->valuestring, strlen(spec->valuestring), &a, &err) < 0) {
		feed_end(op, PR_ST_INTERNAL_ERROR,
			 pr_error_result(status ? "the entity store is unreachable; retry shortly"
						: "the alarm is corrupted"));
		goto out;
	}
	if (!strcmp(op->event, "READ")) {
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(fields, PR_ALARM_F_STATE);
		const cJSON *why = cJSON_GetObjectItemCaseSensitive(fields, PR_ALARM_F_REASON);
		const cJSON *ch = cJSON_GetObjectItemCaseSensitive(fields, PR_ALARM_F_CHANGED);
		feed_end(op, PR_ST_SUCCESS,
			 pr_alarm_read_result(&a, op->ns, op->trigger,
					      cJSON_IsString(st) ? st->valuestring : "",
					      cJSON_IsString(ch) ? atoll(ch->valuestring) : 0,
					      cJSON_IsString(why) ? why->valuestring : ""));
	} else if (!strcmp(op->event, "UNPAUSE")) {
		if (ctl_alarm_set_state(op->L, op->ns, op->trigger, PR_ALARM_ACTIVE, "",
					pr_alarm_next(&a, now), on_stored, op) < 0)
			fail(op, "out of memory");
	} else if (pr_alarm_update(&a, op->params, now, op->L->ctl->cfg.alarm_minute_ms, &err) <
		   0) {
		fail(op, err.msg);
	} else {
		char *text = pr_alarm_encode(&a);
		if (!text || ctl_alarm_put(op->L, op->ns, op->trigger, text, pr_alarm_next(&a, now),
					   1, on_stored, op) < 0)
			fail(op, "out of memory");
		free(text);
	}
out:
	cJSON_Delete(fields);
	pr_alarm_clear(&a);
}

static void create(struct feed_op *op)
{
	struct hc_err err = {{0}};
	struct pr_alarm a;
	int64_t now = (int64_t)hc_now_ms();
	if (pr_alarm_from_params(&a, op->kind, op->params, now, op->L->ctl->cfg.alarm_minute_ms,
				 &err) < 0) {
		pr_alarm_clear(&a);
		fail(op, err.msg);
		return;
	}
	char *text = pr_alarm_encode(&a);
	/* written only if the trigger exists, in the same script */
	if (!text || ctl_alarm_put(op->L, op->ns, op->trigger, text, pr_alarm_next(&a, now), 0,
				   on_stored, op) < 0)
		fail(op, "out of memory");
	free(text);
	pr_alarm_clear(&a);
}

static void run(struct feed_op *op)
{
	const char *e = op->event;
	int rc = 0;
	if (!strcmp(e, "CREATE"))
		create(op);
	else if (!strcmp(e, "READ") || !strcmp(e, "UPDATE") || !strcmp(e, "UNPAUSE"))
		rc = ctl_alarm_read(op->L, op->ns, op->trigger, on_alarm, op);
	else if (!strcmp(e, "DELETE"))
		rc = ctl_alarm_remove(op->L, op->ns, op->trigger, on_removed, op);
	else if (!strcmp(e, "PAUSE"))
		rc = ctl_alarm_set_state(op->L, op->ns, op->trigger, PR_ALARM_PAUSED,
					 "paused by its owner", -1, on_stored, op);
	else
		fail(op, "unsupported lifecycleEvent");
	if (rc < 0)
		fail(op, "out of memory");
}

/* The trigger named by triggerName: "/ns/t", "/_/t" or "t" (the caller's
 * namespace). 0, or -1 after failing op. */
static int trigger_of(struct feed_op *op, const char *own_ns)
{
	const cJSON *tn = cJSON_GetObjectItemCaseSensitive(op->params, "triggerName");
	struct pr_fqn t;
	char text[PR_FQN_MAX + 4];
	if (!cJSON_IsString(tn) || !tn->valuestring[0]) {
		fail(op, "no trigger name parameter was provided");
		return -1;
	}
	snprintf(text, sizeof(text), "%s%s", tn->valuestring[0] == '/' ? "" : "/_/",
		 tn->valuestring);
	if (pr_fqn_parse(text, own_ns, 2, &t, NULL) < 0 || strcmp(t.ns, own_ns) != 0) {
		fail(op, MSG_AUTH);
		return -1;
	}
	hc_strlcpy(op->ns, t.ns, sizeof(op->ns));
	hc_strlcpy(op->trigger, t.name, sizeof(op->trigger));
	return 0;
}

void ctl_alarm_feed_invoke(struct hc_req *req, const struct ctl_caller *who)
{
	struct hc_err err = {{0}};
	size_t len;
	const char *feed = hc_req_param(req, "feed");
	int kind = pr_alarm_feed_kind(feed);
	int blocking = ctl_query_bool(req, "blocking", 0);
	int result = ctl_query_bool(req, "result", 0);
	if (!kind) {
		hc_reply_error(req, 404, MSG_NOT_FOUND);
		return;
	}
	if (blocking < 0 || result < 0) {
		hc_reply_error(req, 400,
			       "The request content was malformed:\nblocking and result must be "
			       "true or false");
		return;
	}
	const char *body = hc_req_body(req, &len);
	cJSON *params = hc_json_blank(body, len)
			    ? cJSON_CreateObject()
			    : hc_json_parse(body, len, HC_JSON_MAX_DEPTH, &err);
	if (!cJSON_IsObject(params)) {
		hc_reply_error(req, 400, "The request content was malformed:\n%s",
			       params ? "the body must be a JSON object" : err.msg);
		cJSON_Delete(params);
		return;
	}
	struct feed_op *op = calloc(1, sizeof(*op));
	if (!op) {
		cJSON_Delete(params);
		hc_reply_error(req, 500, "out of memory");
		return;
	}
	op->L = ctl_loop_of(req);
	op->req = req;
	op->result_only = result == 1;
	op->kind = kind;
	op->params = params;
	const cJSON *ev = cJSON_GetObjectItemCaseSensitive(params, "lifecycleEvent");
	hc_strlcpy(op->event, cJSON_IsString(ev) ? ev->valuestring : "", sizeof(op->event));
	/* the invoke's own record, in the caller's namespace */
	struct pr_activation *r = &op->rec;
	pr_activation_init(r);
	r->start_ms = hc_now_ms();
	pr_activation_id_new(r->id, r->start_ms);
	hc_strlcpy(r->ns, who->ns, sizeof(r->ns));
	hc_strlcpy(r->name, pr_alarm_feed_name(kind), sizeof(r->name));
	hc_strlcpy(r->subject, who->ns, sizeof(r->subject));
	hc_strlcpy(r->version, "0.0.1", sizeof(r->version));
	hc_strlcpy(r->kind, "builtin", sizeof(r->kind));
	r->limits = op->L->ctl->bounds.def;
	r->wait_ms = 0;
	if (blocking != 1) {
		char b[64];
		int n = snprintf(b, sizeof(b), "{\"activationId\":\"%s\"}", r->id);
		hc_req_add_header(req, HDR_ACTIVATION_ID, r->id);
		hc_reply(req, 202, "application/json", b, (size_t)n);
		op->req = NULL;
	}
	if (trigger_of(op, who->ns) == 0)
		run(op);
}

/* GET: the feed action's metadata, for clients that look before invoking. */
void ctl_alarm_feed_get(struct hc_req *req, const struct ctl_caller *who)
{
	static const char *const desc[] = {NULL, "Fire trigger when alarm occurs",
					   "Fire trigger at specified interval",
					   "Fire trigger once when alarm occurs"};
	static const char *const params[] = {
	    NULL,
	    "[{\"name\":\"cron\",\"required\":true},{\"name\":\"timezone\",\"required\":false},"
	    "{\"name\":\"startDate\",\"required\":false},{\"name\":\"stopDate\",\"required\":false}"
	    ","
	    "{\"name\":\"strict\",\"required\":false}]",
	    "[{\"name\":\"minutes\",\"required\":true},{\"name\":\"startDate\",\"required\":false},"
	    "{\"name\":\"stopDate\",\"required\":false}]",
	    "[{\"name\":\"date\",\"required\":true},{\"name\":\"deleteAfterFire\",\"required\":"
	    "false}]"};
	int kind = pr_alarm_feed_kind(hc_req_param(req, "feed"));
	if (!kind) {
		hc_reply_error(req, 404, MSG_NOT_FOUND);
		return;
	}
	struct ctl *c = ctl_loop_of(req)->ctl;
	cJSON *j = cJSON_CreateObject(), *ann = cJSON_CreateArray(), *e;
	hc_json_add_str(j, "namespace", PR_ALARMS_NS "/" PR_ALARMS_PKG);
	hc_json_add_str(j, "name", pr_alarm_feed_name(kind));
	hc_json_add_str(j, "version", "0.0.1");
	hc_json_add_bool(j, "publish", 1);
	cJSON *exec = cJSON_AddObjectToObject(j, "exec");
	hc_json_add_str(exec, "kind", "builtin");
	hc_json_add_bool(exec, "binary", 0);
	e = cJSON_CreateObject();
	hc_json_add_str(e, "key", "feed");
	hc_json_add_bool(e, "value", 1);
	cJSON_AddItemToArray(ann, e);
	e = cJSON_CreateObject();
	hc_json_add_str(e, "key", "description");
	hc_json_add_str(e, "value", desc[kind]);
	cJSON_AddItemToArray(ann, e);
	e = cJSON_CreateObject();
	hc_json_add_str(e, "key", "parameters");
	cJSON_AddItemToObject(e, "value", cJSON_Parse(params[kind]));
	cJSON_AddItemToArray(ann, e);
	cJSON_AddItemToObject(j, "annotations", ann);
	cJSON_AddItemToObject(j, "parameters", cJSON_CreateArray());
	cJSON_AddItemToObject(j, "limits", pr_limits_to_json(&c->bounds.def));
	hc_json_add_int(j, "updated", 0);
	hc_reply_json(req, 200, j);
	cJSON_Delete(j);
}

/* ---- POST /internal/fire ---- */

struct fire_in {
	struct hc_req *req;
	struct ctl_loop *L;
	struct pr_alarm_fire f;
};

static void on_deleted_after_fire(int status, struct ctl_trigger *t, void *arg)
{
	char *what = arg;
	hc_info("alarm %s: fired once; deleted (status %d)", what, status);
	ctl_trigger_clear(t);
	free(what);
}

/* deleteAfterFire of a once alarm: the trigger goes (with its rules). */
static void delete_after_fire(struct fire_in *fi)
{
	char *what = malloc(2 * PR_NAME_MAX + 16);
	if (!what)
		return;
	snprintf(what, 2 * PR_NAME_MAX + 16, "/%s/%s", fi->f.ns, fi->f.name);
	if (ctl_trig_delete_all(fi->L, fi->f.ns, fi->f.name, !strcmp(fi->f.delete_after, "rules"),
				on_deleted_after_fire, what) < 0)
		free(what);
}

static void on_alarm_fired(int status, const char *id, void *arg)
{
	struct fire_in *fi = arg;
	char body[64];
	if ((status == 202 || status == 204) && fi->f.delete_after[0])
		delete_after_fire(fi);
	if (status == 202) {
		int n = snprintf(body, sizeof(body), "{\"activationId\":\"%s\"}", id);
		hc_req_add_header(fi->req, HDR_ACTIVATION_ID, id);
		hc_reply(fi->req, 202, "application/json", body, (size_t)n);
	} else if (status == 204) {
		hc_reply(fi->req, 204, NULL, NULL, 0);
	} else {
		if (status != 404) /* not fired: the next send of this period may */
			ctl_alarm_unmark_fired(fi->L, fi->f.ns, fi->f.name, fi->f.period_ms);
		if (status == 429)
			hc_reply_error(fi->req, 429, "%s", id); /* sent again after alarm-resend */
		else
			hc_reply_error(fi->req, status == 404 ? 404 : 503,
				       status == 404 ? MSG_NOT_FOUND
						     : "the trigger could not be read");
	}
	free(fi);
}

static void on_marked(int status, void *arg)
{
	struct fire_in *fi = arg;
	if (status == 409) {
		hc_reply(fi->req, 200, "application/json", "{\"" PR_ALARM_F_DUPLICATE "\":true}",
			 sizeof("{\"" PR_ALARM_F_DUPLICATE "\":true}") - 1);
		goto done;
	}
	if (status) {
		hc_reply_error(fi->req, 503, "the entity store is unreachable; retry shortly");
		goto done;
	}
	cJSON *payload = fi->f.payload;
	fi->f.payload = NULL;
	if (ctl_fire(fi->L, fi->f.ns, fi->f.name, payload, "", on_alarm_fired, fi) == 0)
		return;
	ctl_alarm_unmark_fired(fi->L, fi->f.ns, fi->f.name, fi->f.period_ms);
	hc_reply_error(fi->req, 500, "out of memory");
done:
	cJSON_Delete(fi->f.payload);
	free(fi);
}

void ctl_h_internal_fire(struct hc_req *req, void *arg)
{
	struct ctl_loop *L = ctl_loop_of(req);
	struct hc_err err = {{0}};
	size_t len;
	const char *auth = hc_req_header(req, "Authorization");
	const char *want = L->ctl->bearer + strlen("Authorization: ");
	if (!auth || strcmp(auth, want) != 0) {
		hc_reply_error(req, 401, "the cluster token is missing or wrong");
		return;
	}
	struct fire_in *fi = calloc(1, sizeof(*fi));
	if (!fi) {
		hc_reply_error(req, 500, "out of memory");
		return;
	}
	const char *body = hc_req_body(req, &len);
	if (pr_alarm_fire_parse(body, len, &fi->f, &err) < 0) {
		hc_reply_error(req, 400, "%s", err.msg);
		free(fi);
		return;
	}
	fi->req = req;
	fi->L = L;
	if (ctl_alarm_mark_fired(L, fi->f.ns, fi->f.name, fi->f.period_ms, on_marked, fi) < 0) {
		hc_reply_error(req, 500, "out of memory");
		cJSON_Delete(fi->f.payload);
		free(fi);
	}
}
