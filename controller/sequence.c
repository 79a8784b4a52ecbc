/* controller/sequence.c — sequences (see sequence.h): the components run
 * one after another as activations of their own (cause = the sequence's
 * id), each one's result the next one's argument; the first failure ends
 * the chain. The sequence's record lists the component ids and ends with
 * the last component's response. Also what every composition shares: how
 * a component activation is made, started and a composition ended. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/json.h"
#include "common/str.h"
#include "controller/sequence.h"
#include "controller/store.h"

/* ---- compositions ---- */

struct ctl_inv *ctl_comp_new(struct ctl_inv *parent, struct ctl_ref *ref, cJSON *params,
			     ctl_inv_done_fn done, void *arg)
{
	const struct ctl_action *a = ref->val;
	struct hc_err err = {{0}};
	/* the component's own parameters (and its package's) under what it
	 * is given, as OpenWhisk's invokeSimpleAction merges them */
	if (cJSON_GetArraySize(a->info.parameters) > 0) {
		cJSON *m = pr_params_merge(a->info.parameters, params, NULL, &err);
		cJSON_Delete(params);
		if (!m) {
			ctl_cache_release(ref);
			return NULL;
		}
		params = m;
	}
	struct ctl_inv *cv = ctl_inv_new(parent->L, ref, params, parent->rec.subject, NULL);
	if (!cv)
		return NULL;
	hc_strlcpy(cv->rec.cause, parent->rec.id, sizeof(cv->rec.cause));
	if (pr_annotation_true(cv->a->info.annotations, "provide-api-key", 1))
		hc_strlcpy(cv->api_key, parent->caller_key, sizeof(cv->api_key));
	hc_strlcpy(cv->caller_key, parent->caller_key, sizeof(cv->caller_key));
	cv->done = done;
	cv->done_arg = arg;
	return cv;
}

int ctl_comp_is_conductor(const struct ctl_action *a)
{
	return !a->info.is_sequence && pr_annotation_true(a->info.annotations, "conductor", 0);
}

static void seq_run(struct ctl_inv *v, struct ctl_seq_count *count);

void ctl_comp_run(struct ctl_inv *cv, struct ctl_seq_count *count)
{
	const struct ctl_comp_hooks *h = cv->L->ctl->comp_hooks;
	if (cv->a->info.is_sequence)
		seq_run(cv, count);
	else if (ctl_comp_is_conductor(cv->a) && h && h->conductor)
		h->conductor(cv);
	else
		ctl_inv_dispatch(cv);
}

void ctl_comp_end(struct ctl_inv *v, cJSON *ids, int status, cJSON *result, int64_t max_memory)
{
	v->rec.end_ms = hc_now_ms();
	cJSON_Delete(v->rec.logs);
	v->rec.logs = ids;
	if (max_memory > v->rec.limits.memory_mb)
		v->rec.limits.memory_mb = max_memory;
	v->rec.status = status;
	cJSON_Delete(v->rec.result);
	v->rec.result = result;
	ctl_inv_finish(v);
}

/* ---- sequences ---- */

struct ctl_seq {
	struct ctl_inv *top;
	struct ctl_seq_count *count; /* the tree's: own, or the enclosing sequence's */
	struct ctl_seq_count own;
	int next; /* index of the next component */
	int n;
	cJSON *ids;	  /* component activation ids (the record's logs) */
	cJSON *last_resp; /* last component's stored record */
	int64_t max_memory;
};

static void seq_end(struct ctl_seq *s)
{
	struct ctl_inv *v = s->top;
	int status = v->rec.status;
	cJSON *result = v->rec.result;
	v->rec.result = NULL;
	if (s->last_resp) {
		int code = pr_activation_status(s->last_resp);
		const cJSON *res = pr_activation_response_result(s->last_resp);
		status = code >= 0 ? code : PR_ST_INTERNAL_ERROR;
		cJSON_Delete(result);
		result = res ? cJSON_Duplicate(res, 1) : NULL;
	}
	cJSON *ids = s->ids;
	int64_t mem = s->max_memory;
	s->count->nest--;
	cJSON_Delete(s->last_resp);
	free(s);
	ctl_comp_end(v, ids, status, result, mem);
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
	char what[CTL_APATH_MAX];
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
	cJSON *params = cl->params;
	if (!ref) {
		char msg[CTL_APATH_MAX + 128];
		if (status == 403)
			snprintf(msg, sizeof(msg), CTL_MSG_NOT_AUTHORIZED, cl->what);
		free(cl);
		cJSON_Delete(params);
		seq_abort(s, status == 404   ? CTL_MSG_SEQ_NOT_FOUND
			     : status == 403 ? msg
					     : "Sequence component could not be loaded.");
		return;
	}
	free(cl);
	const struct ctl_action *a = ref->val;
	/* a nested sequence counts its own atomic actions; anything else is one */
	if (!a->info.is_sequence)
		s->count->atomic++;
	struct ctl_inv *cv = ctl_comp_new(s->top, ref, params, on_component_done, s);
	if (!cv) {
		seq_abort(s, "out of memory");
		return;
	}
	ctl_comp_run(cv, s->count);
}

static void seq_next(struct ctl_seq *s)
{
	struct ctl_inv *v = s->top;
	const cJSON *comps = v->a->info.components;
	if (s->next >= s->n) {
		seq_end(s);
		return;
	}
	/* the tree may have grown since it was written: the limit holds as it
	 * runs too (and bounds how deep sequences nest) */
	if (s->count->atomic >= PR_SEQUENCE_MAX || s->count->nest > PR_SEQUENCE_MAX) {
		seq_abort(s, CTL_MSG_SEQ_TOO_LONG);
		return;
	}
	const cJSON *c = cJSON_GetArrayItem(comps, s->next++);
	char ns[PR_NAME_MAX + 1], name[2 * PR_NAME_MAX + 2];
	if (!cJSON_IsString(c) || c->valuestring[0] != '/' ||
	    ctl_action_name_resolve(c->valuestring, v->rec.subject, ns, sizeof ns, name,
				    sizeof name) < 0) {
		seq_abort(s, CTL_MSG_SEQ_NOT_FOUND);
		return;
	}
	/* each component's result is the next one's argument */
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
	cl->s = s;
	cl->params = params;
	/* what a refusal names: the package, or the action of a default package */
	const char *slash = strchr(name, '/');
	if (slash)
		snprintf(cl->what, sizeof(cl->what), "%s/%.*s", ns, (int)(slash - name), name);
	else
		snprintf(cl->what, sizeof(cl->what), "%s/%s", ns, name);
	ctl_action_lookup_as(v->L, v->rec.subject, ns, name, on_component_action, cl);
}

static void seq_run(struct ctl_inv *v, struct ctl_seq_count *count)
{
	struct ctl_seq *s = calloc(1, sizeof(*s));
	if (!s || !(s->ids = cJSON_CreateArray())) {
		free(s);
		ctl_inv_fail(v, PR_ST_INTERNAL_ERROR, "out of memory");
		return;
	}
	s->top = v;
	s->count = count ? count : &s->own;
	s->count->nest++;
	s->n = cJSON_GetArraySize(v->a->info.components);
	v->rec.sequence = 1;
	v->rec.wait_ms = (int64_t)(hc_mono_us() - v->t0_us) / 1000;
	seq_next(s);
}

void ctl_seq_start(struct ctl_inv *v)
{
	seq_run(v, NULL);
}

/* ---- checks of the components ---- */

/* Lookups one check may make (a tree of distinct sequences can be large
 * without many atomic actions): beyond, the sequence is too long. */
#define CHECK_LOOKUPS_MAX 200

struct seq_check {
	struct ctl_loop *L;
	ctl_seq_check_cb cb;
	void *arg;
	int tree;
	char caller[PR_NAME_MAX + 1];
	char self[CTL_APATH_MAX];
	int atomic, lookups;
	/* the components still to look at: a stack of "/ns/..." names, the
	 * first ones (the sequence's own) marked to be entitled */
	int n, cap;
	char **names;
	unsigned char *top;
	char what[CTL_APATH_MAX];
	/* a lookup answered from the cache, inside the call: its outcome,
	 * for the loop in check_run (no recursion per component) */
	int in_call, answered, status;
	struct ctl_ref ref;
};

static void check_free(struct seq_check *k)
{
	for (int i = 0; i < k->n; i++)
		free(k->names[i]);
	free(k->names);
	free(k->top);
	free(k);
}

static void check_done(struct seq_check *k, int status, const char *msg)
{
	k->cb(status, msg, k->arg);
	check_free(k);
}

static int check_push(struct seq_check *k, const char *name, int top)
{
	if (k->n == k->cap) {
		int cap = k->cap ? 2 * k->cap : 64;
		char **nn = realloc(k->names, (size_t)cap * sizeof(*nn));
		if (nn)
			k->names = nn;
		unsigned char *nt = realloc(k->top, (size_t)cap);
		if (nt)
			k->top = nt;
		if (!nn || !nt)
			return -1;
		k->cap = cap;
	}
	if (!(k->names[k->n] = strdup(name)))
		return -1;
	k->top[k->n++] = (unsigned char)top;
	return 0;
}

/* One component looked up (ref->val NULL: not found, status says why).
 * 1: go on; 0: the check is over (k freed). */
static int check_result(struct seq_check *k, struct ctl_ref *ref, int status)
{
	if (!ref->val) {
		if (status == 403) {
			char msg[CTL_APATH_MAX + 128];
			snprintf(msg, sizeof(msg), CTL_MSG_NOT_AUTHORIZED, k->what);
			check_done(k, 403, msg);
		} else if (status == 404 && k->tree) {
			check_done(k, 400, CTL_MSG_SEQ_NOT_FOUND);
		} else if (status == 404) {
			return 1; /* invoke time: found missing when it runs */
		} else {
			check_done(k, 503, "the entity store is unreachable; retry shortly");
		}
		return 0;
	}
	const struct ctl_action *a = ref->val;
	const char *path = ctl_str_or(a->path, a->fqn + 1);
	int rc = 0;
	if (!k->tree) {
		/* only the entitlement of the sequence's own components */
	} else if (!strcmp(path, k->self)) {
		rc = 1;
	} else if (a->info.is_sequence) {
		const cJSON *c;
		cJSON_ArrayForEach(c, a->info.components)
		{
			if (cJSON_IsString(c) && check_push(k, c->valuestring, 0) < 0)
				rc = -1;
		}
	} else {
		k->atomic++;
	}
	ctl_cache_release(ref);
	if (rc == 1)
		check_done(k, 400, CTL_MSG_SEQ_CYCLIC);
	else if (rc < 0)
		check_done(k, 503, "out of memory");
	else if (k->atomic > PR_SEQUENCE_MAX)
		check_done(k, 400, CTL_MSG_SEQ_TOO_LONG);
	else
		return 1;
	return 0;
}

static void check_run(struct seq_check *k);

static void on_check_action(struct ctl_ref *ref, int status, void *arg)
{
	struct seq_check *k = arg;
	struct ctl_ref r = ref ? *ref : (struct ctl_ref){0};
	if (k->in_call) {
		k->answered = 1;
		k->ref = r;
		k->status = status;
		return;
	}
	if (check_result(k, &r, status))
		check_run(k);
}

static void check_run(struct seq_check *k)
{
	char ns[PR_NAME_MAX + 1], name[2 * PR_NAME_MAX + 2];
	for (;;) {
		if (k->n == 0) {
			check_done(k, 0, NULL);
			return;
		}
		if (++k->lookups > CHECK_LOOKUPS_MAX) {
			check_done(k, 400, CTL_MSG_SEQ_TOO_LONG);
			return;
		}
		char *c = k->names[--k->n];
		int top = k->top[k->n];
		int bad = c[0] != '/' || ctl_action_name_resolve(c, k->caller, ns, sizeof ns, name,
								 sizeof name) < 0;
		free(c);
		if (bad && k->tree) {
			check_done(k, 400, CTL_MSG_SEQ_NOT_FOUND);
			return;
		}
		if (bad)
			continue;
		const char *slash = strchr(name, '/');
		if (slash)
			snprintf(k->what, sizeof(k->what), "%s/%.*s", ns, (int)(slash - name),
				 name);
		else
			snprintf(k->what, sizeof(k->what), "%s/%s", ns, name);
		k->in_call = 1;
		k->answered = 0;
		/* the sequence's own components are entitled; what they hold
		 * was when they were written */
		if (top)
			ctl_action_lookup_as(k->L, k->caller, ns, name, on_check_action, k);
		else
			ctl_action_lookup(k->L, ns, name, on_check_action, k);
		k->in_call = 0;
		if (!k->answered)
			return; /* loading: on_check_action goes on */
		if (!check_result(k, &k->ref, k->status))
			return;
	}
}

void ctl_seq_check(struct ctl_loop *L, const char *caller, const char *self,
		   const cJSON *components, int check_tree, ctl_seq_check_cb cb, void *arg)
{
	struct seq_check *k = calloc(1, sizeof(*k));
	const cJSON *c;
	if (!k) {
		cb(503, "out of memory", arg);
		return;
	}
	k->L = L;
	k->cb = cb;
	k->arg = arg;
	k->tree = check_tree;
	hc_strlcpy(k->caller, caller, sizeof(k->caller));
	hc_strlcpy(k->self, self ? self : "", sizeof(k->self));
	if (cJSON_GetArraySize(components) == 0) {
		check_done(k, 400, CTL_MSG_SEQ_NO_COMPONENT);
		return;
	}
	if (cJSON_GetArraySize(components) > PR_SEQUENCE_MAX) {
		check_done(k, 400, CTL_MSG_SEQ_TOO_LONG);
		return;
	}
	/* pushed last first: looked at in order */
	for (int i = cJSON_GetArraySize(components) - 1; i >= 0; i--) {
		c = cJSON_GetArrayItem(components, i);
		if (!cJSON_IsString(c) || check_push(k, c->valuestring, 1) < 0) {
			check_done(k, cJSON_IsString(c) ? 503 : 400,
				   cJSON_IsString(c) ? "out of memory" : CTL_MSG_SEQ_NOT_FOUND);
			return;
		}
	}
	check_run(k);
}
