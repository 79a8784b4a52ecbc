/* controller/sequence.c — sequences: the components run one after another
 * as activations of their own (cause = the sequence's id), each one's
 * result the next one's argument; the first failure ends the chain. The
 * sequence's record lists the component ids and ends with the last
 * component's response. */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/client.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/json.h"
#include "common/str.h"
#include "controller/sequence.h"

/* ---- sequences ---- */

struct ctl_seq {
	struct ctl_inv *top;
	int next; /* index of the next component */
	int n;
	cJSON *ids;	  /* component activation ids (the record's logs) */
	cJSON *last_resp; /* last component's stored record */
	int64_t max_memory;
};

static void seq_end(struct ctl_seq *s)
{
	struct ctl_inv *v = s->top;
	v->rec.end_ms = hc_now_ms();
	cJSON_Delete(v->rec.logs);
	v->rec.logs = s->ids;
	s->ids = NULL;
	v->rec.limits.memory_mb = s->max_memory ? s->max_memory : v->rec.limits.memory_mb;
	if (s->last_resp) {
		int code = pr_activation_status(s->last_resp);
		v->rec.status = code >= 0 ? code : PR_ST_INTERNAL_ERROR;
		const cJSON *res = pr_activation_response_result(s->last_resp);
		cJSON_Delete(v->rec.result);
		v->rec.result = res ? cJSON_Duplicate(res, 1) : NULL;
	}
	cJSON_Delete(s->last_resp);
	free(s);
	ctl_inv_finish(v);
}

static void seq_next(struct ctl_seq *s);

static void on_component_done(struct ctl_inv *cv, cJSON *stored, void *arg)
{
	struct ctl_seq *s = arg;
	cJSON_AddItemToArray(s->ids, cJSON_CreateString(cv->rec.id));
	if (cv->rec.limits.memory_mb > s->max_memory)
		s->max_memory = cv->rec.limits.memory_mb;
	cJSON_Delete(s->last_resp);
	s->last_resp = stored;
	if (!stored || pr_activation_status(stored) != PR_ST_SUCCESS) {
		seq_end(s); /* the first failing component ends the sequence */
		return;
	}
	seq_next(s);
}

struct comp_lookup {
	struct ctl_seq *s;
	cJSON *params;
};

/* End the sequence early with an application error of its own. */
static void seq_abort(struct ctl_seq *s, const char *msg)
{
	struct ctl_inv *v = s->top;
	cJSON_Delete(s->last_resp);
	s->last_resp = NULL;
	v->rec.status = PR_ST_APP_ERROR;
	cJSON_Delete(v->rec.result);
	v->rec.result = pr_error_result(msg);
	seq_end(s);
}

static void on_component_action(struct ctl_ref *ref, int status, void *arg)
{
	struct comp_lookup *cl = arg;
	struct ctl_seq *s = cl->s;
	struct ctl_inv *v = s->top;
	cJSON *params = cl->params;
	free(cl);
	if (!ref) {
		cJSON_Delete(params);
		seq_abort(s, status == 404 ? "Sequence component does not exist."
					   : "Sequence component could not be loaded.");
		return;
	}
	if (((const struct ctl_action *)ref->val)->info.is_sequence) {
		ctl_cache_release(ref);
		cJSON_Delete(params);
		seq_abort(s, "Nested sequences are not supported.");
		return;
	}
	struct ctl_inv *cv = ctl_inv_new(v->L, ref, params, v->rec.subject, NULL);
	if (!cv) {
		seq_abort(s, "out of memory");
		return;
	}
	hc_strlcpy(cv->rec.cause, v->rec.id, sizeof(cv->rec.cause));
	if (pr_annotation_true(cv->a->info.annotations, "provide-api-key", 1))
		hc_strlcpy(cv->api_key, v->caller_key, sizeof(cv->api_key));
	hc_strlcpy(cv->caller_key, v->caller_key, sizeof(cv->caller_key));
	cv->done = on_component_done;
	cv->done_arg = s;
	ctl_inv_dispatch(cv);
}

static void seq_next(struct ctl_seq *s)
{
	struct ctl_inv *v = s->top;
	const cJSON *comps = v->a->info.components;
	if (s->next >= s->n) {
		seq_end(s);
		return;
	}
	const cJSON *c = cJSON_GetArrayItem(comps, s->next++);
	/* "/ns/name": each component's result is the next one's argument */
	char ns[PR_NAME_MAX + 1] = "", name[PR_NAME_MAX + 1] = "";
	const char *p = cJSON_IsString(c) ? c->valuestring : "";
	const char *slash = p[0] == '/' ? strchr(p + 1, '/') : NULL;
	if (slash && (size_t)(slash - p - 1) <= PR_NAME_MAX && strlen(slash + 1) <= PR_NAME_MAX) {
		memcpy(ns, p + 1, (size_t)(slash - p - 1));
		ns[slash - p - 1] = '\0';
		hc_strlcpy(name, slash + 1, sizeof(name));
	}
	cJSON *params;
	if (s->last_resp) {
		const cJSON *res = pr_activation_response_result(s->last_resp);
		params = cJSON_IsObject(res) ? cJSON_Duplicate(res, 1) : cJSON_CreateObject();
	} else {
		/* NULL: invoked without parameters */
		params = v->params_json ? cJSON_Duplicate(v->params_json, 1) : cJSON_CreateObject();
	}
	struct comp_lookup *cl = calloc(1, sizeof(*cl));
	if (!cl || !params) {
		free(cl);
		cJSON_Delete(params);
		seq_abort(s, "out of memory");
		return;
	}
	if (!ns[0] || strcmp(ns, v->rec.subject) != 0) {
		/* components must live in the caller's namespace */
		free(cl);
		cJSON_Delete(params);
		seq_abort(s, "Sequence component does not exist.");
		return;
	}
	cl->s = s;
	cl->params = params;
	ctl_action_lookup(v->L, ns, name, on_component_action, cl);
}

void ctl_seq_start(struct ctl_inv *v)
{
	struct ctl_seq *s = calloc(1, sizeof(*s));
	if (!s || !(s->ids = cJSON_CreateArray())) {
		free(s);
		ctl_inv_fail(v, PR_ST_INTERNAL_ERROR, "out of memory");
		return;
	}
	s->top = v;
	s->n = cJSON_GetArraySize(v->a->info.components);
	v->rec.sequence = 1;
	v->rec.wait_ms = (int64_t)(hc_mono_us() - v->t0_us) / 1000;
	seq_next(s);
}
