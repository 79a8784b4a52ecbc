/* controller/conductor.c — conductor actions (see conductor.h), on the
 * composition helpers of sequence.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/json.h"
#include "common/str.h"
#include "controller/conductor.h"
#include "controller/store.h"

/* What a composition and those nested in it may still run (OpenWhisk's
 * CompositionAccounting): components, and conductor runs. */
struct cond_acct {
	int components, conductors;
};

struct cond {
	struct ctl_inv *top;	/* the composition's own record */
	struct cond_acct *acct; /* own, or the enclosing composition's */
	struct cond_acct own;
	cJSON *state; /* merged into the next conductor run's params */
	cJSON *ids;   /* every step's activation id (the record's logs) */
	int64_t max_memory;
	cJSON *params;		 /* the next component's params (a lookup is under way) */
	char fqn[CTL_APATH_MAX]; /* the next component, "ns/name" or "ns/pkg/name" */
};

static void cond_end(struct cond *k, int status, cJSON *result)
{
	struct ctl_inv *v = k->top;
	cJSON *ids = k->ids;
	int64_t mem = k->max_memory;
	cJSON_Delete(k->state);
	cJSON_Delete(k->params);
	free(k);
	ctl_comp_end(v, ids, status, result, mem);
}

/* A step ended: its id is logged, its memory counted. */
static void cond_step(struct cond *k, const struct ctl_inv *sv)
{
	cJSON_AddItemToArray(k->ids, cJSON_CreateString(sv->rec.id));
	if (sv->rec.limits.memory_mb > k->max_memory)
		k->max_memory = sv->rec.limits.memory_mb;
}

/* {"error": "<before><what><after>"} (OpenWhisk's Messages.composition*) */
static cJSON *error_payload(const char *before, const char *what, const char *after)
{
	char msg[CTL_APATH_MAX + 256];
	snprintf(msg, sizeof msg, "%s%s%s", before, what, after);
	return pr_error_result(msg);
}

static void cond_run(struct ctl_inv *v, struct cond_acct *acct);
static void on_conductor_done(struct ctl_inv *sv, cJSON *stored, void *arg);

/* The conductor runs on payload (taken; an object, or NULL) with the
 * state merged in. */
static void cond_invoke(struct cond *k, cJSON *payload)
{
	struct ctl_inv *v = k->top;
	if (k->acct->conductors > 2 * PR_SEQUENCE_MAX) {
		cJSON_Delete(payload);
		cond_end(k, PR_ST_APP_ERROR, pr_error_result(CTL_MSG_COMP_TOO_LONG));
		return;
	}
	/* OpenWhisk merges the state into an object payload only */
	int obj = cJSON_IsObject(payload);
	cJSON *params = obj ? payload : cJSON_CreateObject();
	if (!obj)
		cJSON_Delete(payload);
	const cJSON *e;
	if (params && obj && cJSON_IsObject(k->state)) {
		cJSON_ArrayForEach(e, k->state)
		{
			cJSON_DeleteItemFromObjectCaseSensitive(params, e->string);
			cJSON_AddItemToObject(params, e->string, cJSON_Duplicate(e, 1));
		}
	}
	k->acct->conductors++;
	struct ctl_ref ref;
	ctl_cache_ref_dup(&v->aref, &ref);
	struct ctl_inv *sv = params ? ctl_comp_new(v, &ref, params, on_conductor_done, k) : NULL;
	if (!params)
		ctl_cache_release(&ref);
	if (!sv) {
		cond_end(k, PR_ST_INTERNAL_ERROR, pr_error_result(CTL_MSG_COMP_FAILURE));
		return;
	}
	ctl_inv_dispatch(sv); /* the conductor action itself, as a plain action */
}

static void on_component_done(struct ctl_inv *sv, cJSON *stored, void *arg)
{
	struct cond *k = arg;
	cond_step(k, sv);
	if (!stored) {
		cond_end(k, PR_ST_INTERNAL_ERROR, pr_error_result(CTL_MSG_COMP_FAILURE));
		return;
	}
	/* the component's result, even an error, goes back to the conductor */
	const cJSON *res = pr_activation_response_result(stored);
	cJSON *payload = res ? cJSON_Duplicate(res, 1) : cJSON_CreateObject();
	cJSON_Delete(stored);
	cond_invoke(k, payload);
}

static void on_component_action(struct ctl_ref *ref, int status, void *arg)
{
	struct cond *k = arg;
	cJSON *params = k->params;
	k->params = NULL;
	if (!ref) {
		cJSON_Delete(params);
		cond_invoke(k, error_payload(status == 403
						 ? "Failed entitlement check for action with name '"
						 : "Failed to resolve action with name '",
					     k->fqn, "' during composition."));
		return;
	}
	const struct ctl_action *a = ref->val;
	int nested = ctl_comp_is_conductor(a);
	if (!nested)
		k->acct->components++; /* a nested composition counts its own */
	struct ctl_inv *cv = ctl_comp_new(k->top, ref, params, on_component_done, k);
	if (!cv) {
		cond_end(k, PR_ST_INTERNAL_ERROR, pr_error_result(CTL_MSG_COMP_FAILURE));
		return;
	}
	if (nested)
		cond_run(cv, k->acct); /* shares this one's budget */
	else
		ctl_comp_run(cv, NULL);
}

/* params / state of a conductor's result: an object as it is, anything
 * else boxed as {box: value}; NULL when absent. */
static cJSON *boxed(const cJSON *res, const char *field, const char *box)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(res, field);
	if (!v)
		return NULL;
	if (cJSON_IsObject(v))
		return cJSON_Duplicate(v, 1);
	cJSON *o = cJSON_CreateObject();
	if (o)
		cJSON_AddItemToObject(o, box, cJSON_Duplicate(v, 1));
	return o;
}

static void on_conductor_done(struct ctl_inv *sv, cJSON *stored, void *arg)
{
	struct cond *k = arg;
	cond_step(k, sv);
	if (!stored) {
		cond_end(k, PR_ST_INTERNAL_ERROR, pr_error_result(CTL_MSG_COMP_FAILURE));
		return;
	}
	int status = pr_activation_status(stored);
	const cJSON *res = pr_activation_response_result(stored);
	cJSON *params = boxed(res, "params", "value");
	cJSON_Delete(k->state);
	k->state = boxed(res, "state", "state");
	const cJSON *next = cJSON_GetObjectItemCaseSensitive(res, "action");
	if (!next) {
		/* no next action: the composition's result */
		cJSON *out = params ? params : res ? cJSON_Duplicate(res, 1) : NULL;
		cJSON_Delete(stored);
		cond_end(k, status >= 0 ? status : PR_ST_INTERNAL_ERROR, out);
		return;
	}
	char ns[PR_NAME_MAX + 1], name[2 * PR_NAME_MAX + 2];
	if (!cJSON_IsString(next) ||
	    ctl_action_name_resolve(next->valuestring, k->top->rec.subject, ns, sizeof ns, name,
				    sizeof name) < 0) {
		char *j = cJSON_PrintUnformatted(next);
		cJSON *err = error_payload("Failed to parse action name from json value ",
					   j ? j : "null", " during composition.");
		free(j);
		cJSON_Delete(params);
		cJSON_Delete(stored);
		cond_invoke(k, err);
		return;
	}
	cJSON_Delete(stored);
	if (k->acct->components >= PR_SEQUENCE_MAX) {
		cJSON_Delete(params);
		cond_invoke(k, pr_error_result(CTL_MSG_COMP_TOO_LONG));
		return;
	}
	snprintf(k->fqn, sizeof k->fqn, "%s/%s", ns, name);
	k->params = params;
	ctl_action_lookup_as(k->top->L, k->top->rec.subject, ns, name, on_component_action, k);
}

static void cond_run(struct ctl_inv *v, struct cond_acct *acct)
{
	struct cond *k = calloc(1, sizeof(*k));
	if (!k || !(k->ids = cJSON_CreateArray())) {
		free(k);
		ctl_inv_fail(v, PR_ST_INTERNAL_ERROR, "out of memory");
		return;
	}
	k->top = v;
	k->acct = acct ? acct : &k->own;
	k->max_memory = v->a->info.limits.memory_mb;
	v->rec.sequence = 1;
	v->rec.conductor = 1;
	hc_strlcpy(v->rec.kind, "sequence", sizeof v->rec.kind);
	v->rec.wait_ms = (int64_t)(hc_mono_us() - v->t0_us) / 1000;
	cond_invoke(k, v->params_json ? cJSON_Duplicate(v->params_json, 1) : cJSON_CreateObject());
}

void ctl_cond_start(struct ctl_inv *v)
{
	cond_run(v, NULL);
}

static void hook_conductor(struct ctl_inv *v)
{
	cond_run(v, NULL); /* nested in a sequence: a budget of its own */
}

const struct ctl_comp_hooks ctl_cond_hooks = {
    .conductor = hook_conductor,
};
