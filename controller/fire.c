/* controller/fire.c — firing a trigger (see fire.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/str.h"
#include "controller/activation.h"
#include "controller/conductor.h"
#include "controller/fire.h"
#include "controller/limits.h"
#include "controller/records.h"
#include "controller/sequence.h"
#include "controller/store.h"
#include "controller/trigstore.h"
#include "proto/trigger.h"

#define MSG_NOT_FOUND	"The requested resource does not exist."
#define MSG_FORBIDDEN	"The supplied authentication is not authorized to access this resource."
#define MSG_UNAVAILABLE "the entity store is unreachable; retry shortly"

struct fire {
	struct ctl_loop *L;
	char ns[PR_NAME_MAX + 1];
	char name[PR_NAME_MAX + 1];
	char caller_key[160];
	cJSON *payload; /* the body; NULL = none */
	cJSON *args;	/* the trigger's parameters under the payload */
	ctl_fire_cb cb;
	void *arg;
	struct pr_activation rec; /* the trigger's record */
	char **lines;		  /* each linked rule's outcome, in link order */
	int nrules;
	int pending; /* outcomes to come, plus one while the rules are started */
};

/* One rule being started. */
struct rule_start {
	struct fire *f;
	int idx;
	struct ctl_nslim *held;		/* the invocation's admission (limits.h) */
	char rule[2 * PR_NAME_MAX + 2]; /* "ns/rule" */
	char action[PR_FQN_MAX];	/* "ns/pkg/action" */
	char ns[PR_NAME_MAX + 1];	/* the action's namespace */
	char rel[2 * PR_NAME_MAX + 2];	/* and its name there: "pkg/action" */
};

static void fire_free(struct fire *f)
{
	for (int i = 0; i < f->nrules; i++)
		free(f->lines[i]);
	free(f->lines);
	cJSON_Delete(f->payload);
	cJSON_Delete(f->args);
	pr_activation_clear(&f->rec);
	free(f);
}

/* Every rule has reported: the trigger's record, its logs in link order. */
static void fire_end(struct fire *f)
{
	cJSON *logs = cJSON_CreateArray();
	for (int i = 0; logs && i < f->nrules; i++)
		if (f->lines[i])
			cJSON_AddItemToArray(logs, cJSON_CreateString(f->lines[i]));
	f->rec.logs = logs;
	if (ctl_record_store(f->L, &f->rec, NULL, 0) < 0)
		hc_error("trigger %s/%s: activation=%s could not be recorded", f->ns, f->name,
			 f->rec.id);
	fire_free(f);
}

static void unref(struct fire *f)
{
	if (--f->pending == 0)
		fire_end(f);
}

/* A rule's outcome line (Triggers.scala RuleActivationResult). */
static void outcome(struct rule_start *rs, int code, const char *id, const char *error)
{
	struct fire *f = rs->f;
	f->lines[rs->idx] = pr_rule_outcome(code, rs->rule, rs->action, id, error);
	free(rs);
	unref(f);
}

static void on_accepted(struct ctl_inv *v, int status, const char *msg, void *arg)
{
	struct rule_start *rs = arg;
	if (status == 0)
		outcome(rs, PR_ST_SUCCESS, v->rec.id, NULL);
	else /* a 429 is the caller's (application) error, anything else ours */
		outcome(rs, status == 429 ? PR_ST_APP_ERROR : PR_ST_INTERNAL_ERROR, NULL, msg);
}

static void on_rule_action(struct ctl_ref *ref, int status, void *arg)
{
	struct rule_start *rs = arg;
	struct fire *f = rs->f;
	struct hc_err err = {{0}};
	struct ctl_nslim *held = rs->held;
	rs->held = NULL;
	if (!ref) {
		ctl_limits_release(held);
		if (status == 404)
			outcome(rs, PR_ST_APP_ERROR, NULL, MSG_NOT_FOUND);
		else
			outcome(rs, PR_ST_INTERNAL_ERROR, NULL, MSG_UNAVAILABLE);
		return;
	}
	const struct ctl_action *a = ref->val;
	/* as an invoke of the action with the arguments as its body: its own
	 * parameters under them, final ones kept */
	cJSON *params = pr_params_merge(a->info.parameters, f->args, a->info.annotations, &err);
	if (!params) {
		ctl_cache_release(ref);
		ctl_limits_release(held);
		outcome(rs, PR_ST_APP_ERROR, NULL, err.msg);
		return;
	}
	int sequence = a->info.is_sequence, conductor = ctl_comp_is_conductor(a);
	int wants_key = pr_annotation_true(a->info.annotations, "provide-api-key", 1);
	struct ctl_inv *v = ctl_inv_new(f->L, ref, params, f->ns, NULL);
	if (!v) {
		ctl_limits_release(held);
		outcome(rs, PR_ST_INTERNAL_ERROR, NULL, "out of memory");
		return;
	}
	v->held = held; /* released when the activation ends */
	v->nonblocking = 1;
	v->accepted = on_accepted;
	v->accepted_arg = rs;
	hc_strlcpy(v->caller_key, f->caller_key, sizeof(v->caller_key));
	if (wants_key)
		hc_strlcpy(v->api_key, f->caller_key, sizeof(v->api_key));
	if (sequence) {
		ctl_inv_accept_now(v);
		ctl_seq_start(v);
	} else if (conductor) {
		ctl_inv_accept_now(v);
		ctl_cond_start(v);
	} else {
		ctl_inv_dispatch(v);
	}
}

static void on_rule_admitted(int status, const char *msg, struct ctl_nslim *held, void *arg)
{
	struct rule_start *rs = arg;
	if (status) {
		outcome(rs, PR_ST_APP_ERROR, NULL, msg);
		return;
	}
	rs->held = held;
	ctl_action_lookup(rs->f->L, rs->ns, rs->rel, on_rule_action, rs);
}

static void start_rule(struct fire *f, int idx, const cJSON *link)
{
	struct rule_start *rs = calloc(1, sizeof(*rs));
	struct pr_fqn action;
	char rel[2 * PR_NAME_MAX + 2], msg[1024];
	int active = 0;
	char *text = cJSON_PrintUnformatted(link);
	int bad = !text || pr_rule_link_parse(text, strlen(text), &action, &active) < 0;
	free(text);
	if (!rs)
		return; /* out of memory: no line for it */
	f->pending++;
	rs->f = f;
	rs->idx = idx;
	hc_strlcpy(rs->rule, link->string, sizeof(rs->rule));
	if (bad) {
		outcome(rs, PR_ST_INTERNAL_ERROR, NULL, "the rule's link is corrupted");
		return;
	}
	pr_fqn_string(&action, rs->action, sizeof(rs->action));
	if (!active) {
		pr_msg_inactive_rule(msg, sizeof(msg), rs->rule, rs->action);
		outcome(rs, PR_ST_APP_ERROR, NULL, msg);
		return;
	}
	if (strcmp(action.ns, f->ns) != 0) {
		/* TODO(entitle): ask the packages module's read check
		 * (controller/entitle.h, ctl_entitle_*) once it is on main:
		 * shared packages of other namespaces are allowed then */
		outcome(rs, PR_ST_APP_ERROR, NULL, MSG_FORBIDDEN);
		return;
	}
	pr_fqn_rel(&action, rel, sizeof(rel));
	hc_strlcpy(rs->rel, rel, sizeof(rs->rel));
	hc_strlcpy(rs->ns, action.ns, sizeof(rs->ns));
	/* as OpenWhisk posts each rule's invoke: the namespace's invocation
	 * throttles first (a 429 is an application error in the logs) */
	ctl_limits_check_invoke(f->L, f->ns, on_rule_admitted, rs);
}

static int any_active(const cJSON *rules)
{
	const cJSON *link;
	cJSON_ArrayForEach(link, rules)
	{
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(link, "status");
		if (cJSON_IsString(st) && !strcmp(st->valuestring, PR_RULE_ACTIVE))
			return 1;
	}
	return 0;
}

static void on_trigger(int status, struct ctl_trigger *t, void *arg)
{
	struct fire *f = arg;
	struct hc_err err = {{0}};
	if (status != 0 || !any_active(t->rules)) {
		f->cb(status ? status : 204, NULL, f->arg);
		ctl_trigger_clear(t);
		fire_free(f);
		return;
	}
	/* the record first: the caller hears its id at once */
	struct pr_activation *r = &f->rec;
	const cJSON *ver = cJSON_GetObjectItemCaseSensitive(t->d.doc, "version");
	r->start_ms = hc_now_ms();
	pr_activation_id_new(r->id, r->start_ms);
	hc_strlcpy(r->ns, f->ns, sizeof(r->ns));
	hc_strlcpy(r->name, f->name, sizeof(r->name));
	hc_strlcpy(r->subject, f->ns, sizeof(r->subject));
	hc_strlcpy(r->version, cJSON_IsString(ver) ? ver->valuestring : "0.0.1",
		   sizeof(r->version));
	r->trigger = 1;
	r->status = PR_ST_SUCCESS;
	r->result = f->payload ? cJSON_Duplicate(f->payload, 1) : cJSON_CreateObject();
	f->args = pr_params_merge(pr_entity_parameters(t->d.doc), f->payload, NULL, &err);
	f->nrules = cJSON_GetArraySize(t->rules);
	f->lines = calloc((size_t)f->nrules, sizeof(*f->lines));
	if (!r->result || !f->args || !f->lines) {
		f->cb(500, NULL, f->arg);
		ctl_trigger_clear(t);
		f->nrules = f->lines ? f->nrules : 0;
		fire_free(f);
		return;
	}
	f->cb(202, r->id, f->arg);
	f->pending = 1; /* held while the rules start: outcomes may come at once */
	int i = 0;
	const cJSON *link;
	cJSON_ArrayForEach(link, t->rules) start_rule(f, i++, link);
	ctl_trigger_clear(t);
	unref(f);
}

static void on_fire_admitted(int status, const char *msg, struct ctl_nslim *held, void *arg)
{
	struct fire *f = arg;
	if (status) {
		f->cb(status, msg, f->arg);
		fire_free(f);
		return;
	}
	if (ctl_trig_read(f->L, f->ns, f->name, on_trigger, f) < 0) {
		f->cb(500, NULL, f->arg);
		fire_free(f);
	}
}

int ctl_fire(struct ctl_loop *L, const char *ns, const char *name, cJSON *payload,
	     const char *caller_key, ctl_fire_cb cb, void *arg)
{
	struct fire *f = calloc(1, sizeof(*f));
	if (!f) {
		cJSON_Delete(payload);
		return -1;
	}
	f->L = L;
	hc_strlcpy(f->ns, ns, sizeof(f->ns));
	hc_strlcpy(f->name, name, sizeof(f->name));
	hc_strlcpy(f->caller_key, caller_key ? caller_key : "", sizeof(f->caller_key));
	f->payload = payload;
	f->cb = cb;
	f->arg = arg;
	pr_activation_init(&f->rec);
	/* the namespace's fires per minute first, as OpenWhisk's entitlement */
	ctl_limits_check_fire(L, ns, on_fire_admitted, f);
	return 0;
}
