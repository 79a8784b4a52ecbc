/* controller/activation.c — an activation finds a container and runs on
 * it (see activation.h); finish.c ends it. */
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/str.h"
#include "controller/activation.h"
#include "controller/fwdcli.h"
#include "controller/limits.h"

#define DISPATCH_ATTEMPTS 3 /* dispatches of one activation that never reached a container */
#define RESEND_MAX	  2 /* containers that may refuse one activation before it fails */

static void run(struct ctl_inv *v, struct ctl_ctr *c);

/* What v's containers are matched on (store.h: version_key; the
 * revision for an action put together without a lookup). */
static const char *ctl_inv_version(const struct ctl_inv *v)
{
	return v->a->version_key[0] ? v->a->version_key : v->a->info.revision;
}

/* ---- the overflow queue ---- */

static struct ctl_inv *pop_waiter(struct ctl_loop *L, const char *akey)
{
	struct ctl_inv *v = (struct ctl_inv *)ctl_queue_pop(L->pool, akey);
	if (v)
		v->queued = 0;
	return v;
}

/* Back in the queue (a container is coming for it), whatever the bound. */
static void requeue(struct ctl_inv *v)
{
	ctl_queue_push(v->L->pool, v->akey, &v->w, INT32_MAX);
	v->queued = 1;
}

/* Ask for one more container when the waiters of v's action outnumber
 * the slots coming (containers being initialised or resumed, and
 * allocations under way). */
static void maybe_allocate(struct ctl_inv *v)
{
	struct ctl_loop *L = v->L;
	struct ctl_queue *q = ctl_queue_get(L->pool, v->akey, 0);
	int maxc = (int)v->a->info.limits.concurrency;
	if (!q || q->len == 0 || L->stopping)
		return;
	int slots = ctl_pool_coming(L->pool, v->akey) + q->allocating * (maxc > 0 ? maxc : 1);
	if (q->len <= slots)
		return;
	const struct pr_action_info *ai = &v->a->info;
	struct pr_alloc_req rq;
	memset(&rq, 0, sizeof(rq));
	/* an action in a package is "pkg/name" of its namespace there */
	hc_strlcpy(rq.ns, ctl_str_or(v->a->owner, ai->ns), sizeof(rq.ns));
	hc_strlcpy(rq.name, ctl_str_or(v->a->sname, ai->name), sizeof(rq.name));
	/* containers are matched on the revision, which changes with every
	 * write: the scheduler's "version" is the document's revision (with
	 * the digest of inherited init parameters, store.h) */
	hc_strlcpy(rq.version, ctl_inv_version(v), sizeof(rq.version));
	hc_strlcpy(rq.kind, ai->kind, sizeof(rq.kind));
	hc_strlcpy(rq.digest, ai->digest, sizeof(rq.digest));
	rq.memory_mb = (int)ai->limits.memory_mb;
	rq.concurrency = maxc;
	rq.wait_ms = CTL_SCHED_TIMEOUT_MS - 1000;
	ctl_my_owner(L, rq.controller, sizeof(rq.controller));
	q->allocating++;
	ctl_sched_allocate(L, &rq, v->akey, maxc);
}

/* The first waiter of akey, if any, goes round again. */
static void redispatch_first(struct ctl_loop *L, const char *akey)
{
	struct ctl_inv *w = pop_waiter(L, akey);
	if (w)
		ctl_inv_dispatch(w);
}

/* Give queued activations of c's action to c while it has free slots. */
static void drain(struct ctl_loop *L, struct ctl_ctr *c)
{
	while (c->st == CTL_CS_READY && c->inflight < c->maxc) {
		struct ctl_inv *v = pop_waiter(L, c->akey);
		if (!v)
			break;
		ctl_ctr_take(L, c);
		run(v, c);
	}
}

/* ---- /run ---- */

static void on_run(struct ctl_rt_outcome *o, void *arg)
{
	struct ctl_inv *v = arg;
	struct ctl_loop *L = v->L;
	struct ctl_ctr *c = v->ctr;
	v->ctr = NULL;
	if (o->refused && v->resent < RESEND_MAX && !L->stopping) {
		/* nothing reached the container (its process or host is gone:
		 * connection refused): at most once allows running it on
		 * another one; this container is dropped */
		hc_warn("container %s refused activation %s; trying another", c->d.id, v->rec.id);
		v->resent++;
		hc_counter_inc(L->ctl->m.resent);
		ctl_ctr_release(L, c, 1);
		ctl_inv_dispatch(v);
		return;
	}
	v->rec.end_ms = hc_now_ms();
	cJSON_Delete(v->rec.result);
	v->rec.result = o->result;
	o->result = NULL;
	v->rec.status = o->refused ? PR_ST_DEVELOPER_ERROR : o->status;
	if (o->refused)
		v->rec.result = pr_error_result(PR_RT_MSG_ABNORMAL_RUN);
	v->rec.timeout = o->timeout;
	v->printed_nothing = o->printed_nothing;
	v->result_text = o->text;
	v->result_text_len = o->text_len;
	v->ctr = c; /* for its logs */
	int dead = o->dead;
	ctl_inv_finish(v); /* frees v; the result text is used only inside */
	ctl_ctr_release(L, c, dead);
}

static void run(struct ctl_inv *v, struct ctl_ctr *c)
{
	v->ctr = c;
	v->run_start_us = c->last_used_us;
	if (v->rec.wait_ms < 0)
		v->rec.wait_ms = (int64_t)(v->run_start_us - v->t0_us) / 1000;
	struct pr_rt_run r = {
	    .value_json = v->params ? v->params : "{}",
	    .value_len = v->params ? strlen(v->params) : 2,
	    .activation_id = v->rec.id,
	    .action_name = v->a->fqn,
	    .action_version = v->rec.version,
	    .namespace_ = v->rec.subject,
	    .transaction_id = v->rec.id,
	    .deadline_ms = (int64_t)(hc_now_ms() + (uint64_t)v->rec.limits.timeout_ms),
	    .timeout_ms = v->rec.limits.timeout_ms,
	    .api_key = v->api_key[0] ? v->api_key : NULL,
	};
	v->rt.cb = on_run;
	v->rt.arg = v;
	v->rt.timeout_ms = v->rec.limits.timeout_ms;
	ctl_rt_run(v->L, c, &r, &v->rt);
}

/* ---- /init ---- */

static void on_init(struct ctl_rt_outcome *o, void *arg)
{
	struct ctl_inv *v = arg;
	struct ctl_loop *L = v->L;
	struct ctl_ctr *c = v->ctr;
	v->rec.init_ms = (int64_t)(hc_mono_us() - v->run_start_us) / 1000;
	if (o->status == PR_ST_SUCCESS && ctl_ctr_initialised(L, c, 1)) {
		ctl_ctr_take(L, c);
		run(v, c);
		drain(L, c);
		return;
	}
	ctl_ctr_initialised(L, c, 0);
	v->ctr = NULL;
	if (o->refused && v->resent < RESEND_MAX && !L->stopping) {
		/* nothing reached it: another container may still take it */
		v->resent++;
		hc_counter_inc(L->ctl->m.resent);
		ctl_ctr_settle(L, c);
		ctl_inv_dispatch(v);
		return;
	}
	/* the activation reached the container: it fails, the container goes */
	cJSON_Delete(v->rec.result);
	v->rec.result = o->result ? o->result : pr_error_result(PR_RT_MSG_ABNORMAL_INIT);
	o->result = NULL;
	v->rec.status =
	    o->status == PR_ST_SUCCESS || o->refused ? PR_ST_DEVELOPER_ERROR : o->status;
	v->rec.timeout = o->timeout;
	ctl_inv_finish(v);
	ctl_ctr_settle(L, c);
}

/* The /init environment: parameters marked init:true (OpenWhisk exports
 * them at /init) and __OW_API_HOST (--api-host, default this controller's
 * URL). */
static cJSON *init_env(const struct ctl_inv *v)
{
	struct ctl *ctl = v->L->ctl;
	cJSON *env = cJSON_CreateObject();
	const cJSON *p;
	if (!env)
		return NULL;
	cJSON_ArrayForEach(p, v->a->info.parameters)
	{
		const cJSON *k = cJSON_GetObjectItemCaseSensitive(p, "key");
		if (cJSON_IsString(k) &&
		    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "init"))) {
			const cJSON *val = cJSON_GetObjectItemCaseSensitive(p, "value");
			cJSON_AddItemToObject(env, k->valuestring,
					      val ? cJSON_Duplicate(val, 1) : cJSON_CreateNull());
		}
	}
	cJSON_AddStringToObject(env, "__OW_API_HOST",
				ctl->cfg.api_host && ctl->cfg.api_host[0] ? ctl->cfg.api_host
									  : ctl->url);
	return env;
}

static void init(struct ctl_inv *v, struct ctl_ctr *c)
{
	const struct ctl_action *a = v->a;
	v->ctr = c;
	v->run_start_us = hc_mono_us();
	v->rec.wait_ms = (int64_t)(v->run_start_us - v->t0_us) / 1000;
	cJSON *env = init_env(v);
	struct pr_rt_init in = {
	    .env = env,
	    .name = a->info.name,
	    .main = a->info.main,
	    .code = a->code ? a->code : "",
	    .code_len = a->code ? a->code_len : 0,
	    .binary = a->info.binary,
	    .kind = a->info.kind,
	    .concurrency = (int)a->info.limits.concurrency,
	};
	v->rt.cb = on_init;
	v->rt.arg = v;
	v->rt.timeout_ms = v->rec.limits.timeout_ms;
	ctl_rt_init(v->L, c, &in, &v->rt);
	cJSON_Delete(env);
}

/* ---- resume ---- */

static void on_resumed(struct ctl_loop *L, struct ctl_ctr *c, void *arg)
{
	struct ctl_inv *v = arg;
	if (c) {
		run(v, c);
		drain(L, c);
		return;
	}
	/* it never reached the container: dispatch again */
	if (++v->attempts >= DISPATCH_ATTEMPTS)
		ctl_inv_fail(v, PR_ST_INTERNAL_ERROR, "could not resume a container");
	else
		ctl_inv_dispatch(v);
}

static void resume_for(struct ctl_inv *v, struct ctl_ctr *c)
{
	if (ctl_ctr_resume(v->L, c, on_resumed, v) < 0)
		ctl_inv_fail(v, PR_ST_INTERNAL_ERROR, "could not resume a container");
}

/* ---- forwarding ---- */

static void on_forwarded(enum ctl_fwd_result res, cJSON *record, void *arg)
{
	struct ctl_inv *v = arg;
	switch (res) {
	case CTL_FWD_RECORD:
		v->relayed = record;
		v->rec.end_ms = hc_now_ms();
		ctl_inv_finish(v);
		return;
	case CTL_FWD_ACCEPTED:
		/* the other controller's wait ran out: the activation still runs
		 * there and records itself */
		if (v->done) {
			/* a composition cannot wait on a record it will never see */
			ctl_inv_fail(v, PR_ST_INTERNAL_ERROR,
				     "the forwarded activation did not finish in time");
			return;
		}
		if (v->req)
			ctl_inv_accepted(v);
		ctl_inv_free(v);
		return;
	case CTL_FWD_NOT_RUN:
		v->no_forward = 1;
		v->attempts++;
		ctl_inv_dispatch(v);
		return;
	case CTL_FWD_FAILED:
		break;
	}
	ctl_inv_fail(v, PR_ST_INTERNAL_ERROR, "the controller owning the container did not answer");
}

/* Send v to the controller that owns a free warm container of its action;
 * -1 when it could not be sent. */
static int forward(struct ctl_inv *v, const char *owner_url, const char *owner)
{
	struct pr_forward f;
	memset(&f, 0, sizeof(f));
	uint64_t waited = (hc_mono_us() - v->t0_us) / 1000;
	int64_t wait = v->L->ctl->cfg.blocking_wait_ms - (int64_t)waited;
	/* the path it was asked for ("ns/name" or "ns/pkg/name"): the owner
	 * resolves it as this controller did (the same container key) */
	const char *key = ctl_str_or(v->a->key, v->a->fqn + 1), *slash = strchr(key, '/');
	if (!slash || (size_t)(slash - key) >= sizeof(f.ns))
		return -1;
	memcpy(f.ns, key, (size_t)(slash - key));
	f.ns[slash - key] = '\0';
	hc_strlcpy(f.name, slash + 1, sizeof(f.name));
	hc_strlcpy(f.subject, v->rec.subject, sizeof(f.subject));
	hc_strlcpy(f.id, v->rec.id, sizeof(f.id));
	hc_strlcpy(f.cause, v->rec.cause, sizeof(f.cause));
	hc_strlcpy(f.api_key, v->api_key, sizeof(f.api_key));
	hc_strlcpy(f.owner, owner, sizeof(f.owner));
	f.params = v->params_json;
	f.wait_ms = wait > 1 ? wait : 1;
	return ctl_fwd_send(v->L, owner_url, &f, f.wait_ms + v->rec.limits.timeout_ms + 5000,
			    on_forwarded, v);
}

/* ---- dispatch ---- */

void ctl_inv_dispatch(struct ctl_inv *v)
{
	struct ctl_loop *L = v->L;
	struct ctl_ctr *c = ctl_pool_pick(L->pool, v->akey);
	if (c && c->st == CTL_CS_READY) {
		ctl_ctr_take(L, c);
		hc_counter_inc(L->ctl->m.starts[CTL_START_WARM]);
		ctl_inv_accept_now(v);
		run(v, c);
		return;
	}
	if (c && c->st == CTL_CS_SUSPENDED) {
		hc_counter_inc(L->ctl->m.starts[CTL_START_WARM]);
		ctl_inv_accept_now(v);
		resume_for(v, c);
		return;
	}
	if (v->attempts >= DISPATCH_ATTEMPTS) {
		ctl_inv_fail(v, PR_ST_INTERNAL_ERROR,
			     "no container could be found for the activation");
		return;
	}
	if (L->stopping) {
		/* no container will be asked for any more */
		ctl_inv_fail(v, PR_ST_INTERNAL_ERROR, "the controller is shutting down");
		return;
	}
	if (ctl_queue_push(L->pool, v->akey, &v->w, (int)L->ctl->cfg.queue_max) < 0) {
		ctl_inv_reject(v, "Too many requests");
		return;
	}
	v->queued = 1;
	ctl_inv_accept_now(v);
	maybe_allocate(v);
}

/* ---- what the container module says ---- */

static void on_room(struct ctl_loop *L, struct ctl_ctr *c)
{
	if (c->st == CTL_CS_READY) {
		drain(L, c);
		return;
	}
	struct ctl_inv *v = c->st == CTL_CS_SUSPENDED ? pop_waiter(L, c->akey) : NULL;
	if (v)
		resume_for(v, c);
}

static void on_lost(struct ctl_loop *L, const char *akey)
{
	redispatch_first(L, akey);
}

const struct ctl_ctr_hooks ctl_inv_ctr_hooks = {
    .room = on_room,
    .lost = on_lost,
};

/* ---- what the scheduler client says ---- */

/* Fail waiters of akey that have waited too long; how many remain. */
static int alloc_waiting(struct ctl_loop *L, const char *akey, int status, const char *msg)
{
	uint64_t now = hc_mono_us();
	for (;;) {
		struct ctl_queue *q = ctl_queue_get(L->pool, akey, 0);
		if (!q || !q->head)
			return 0;
		struct ctl_inv *v = (struct ctl_inv *)q->head;
		if (now - v->t0_us < CTL_QUEUE_RETENTION_US)
			return q->len;
		pop_waiter(L, akey);
		if (status == 429)
			ctl_inv_reject(v, msg);
		else
			ctl_inv_fail(v, PR_ST_INTERNAL_ERROR, msg);
	}
}

/* Another controller's free warm container: forward one waiter there.
 * 1 when the waiter must stay (it came forwarded, or a forward failed):
 * the scheduler is asked again later for one of our own. */
static int use_theirs(struct ctl_loop *L, const char *akey, const struct pr_alloc_reply *ar)
{
	struct ctl_inv *v = pop_waiter(L, akey);
	if (!v)
		return 0;
	if (v->forwarded || v->no_forward || forward(v, ar->owner_url, ar->owner) < 0) {
		/* never forward twice: wait for capacity of our own */
		v->no_forward = 1;
		requeue(v);
		return 1;
	}
	return 0;
}

/* Put the first waiter of akey on the container c just granted. */
static void use_ours(struct ctl_loop *L, struct ctl_ctr *c, int fresh, enum ctl_start start)
{
	struct ctl_inv *v = pop_waiter(L, c->akey);
	if (!v) {
		/* nobody waits any more */
		if (c->st == CTL_CS_INIT && fresh)
			ctl_ctr_discard(L, c, "allocated after its activations left");
		else
			ctl_ctr_settle(L, c);
		return;
	}
	v->start = start;
	hc_counter_inc(L->ctl->m.starts[start]);
	switch (c->st) {
	case CTL_CS_INIT:
		if (fresh) {
			init(v, c); /* its run takes the first slot */
			break;
		}
		/* one being initialised, shared for concurrency: a slot opens soon */
		requeue(v);
		break;
	case CTL_CS_RESUMING:
	case CTL_CS_SUSPENDING:
		requeue(v); /* a slot opens soon */
		break;
	case CTL_CS_SUSPENDED:
		resume_for(v, c);
		break;
	case CTL_CS_READY:
		if (c->inflight < c->maxc) {
			ctl_ctr_take(L, c);
			run(v, c);
			drain(L, c);
		} else {
			requeue(v);
		}
		break;
	case CTL_CS_DEAD:
		ctl_inv_dispatch(v);
		break;
	}
}

static int alloc_granted(struct ctl_loop *L, const char *akey, int maxc,
			 const struct pr_alloc_reply *ar)
{
	struct ctl_queue *q = ctl_queue_get(L->pool, akey, 0);
	if (q && q->allocating > 0)
		q->allocating--;
	int again = 0;
	if (ar) {
		char me[80];
		ctl_my_owner(L, me, sizeof(me));
		if (strcmp(ar->owner, me) != 0 && ar->owner_url[0]) {
			again = use_theirs(L, akey, ar);
		} else {
			int fresh;
			struct ctl_ctr *c = ctl_ctr_adopt(L, ar, akey, maxc, &fresh);
			enum ctl_start start = !ar->init		 ? CTL_START_WARM
					       : ar->container.action[0] ? CTL_START_CREATED
									 : CTL_START_PREWARM;
			if (c)
				use_ours(L, c, fresh, start);
			else
				again = 1;
		}
	}
	if (again) {
		if ((q = ctl_queue_get(L->pool, akey, 0)))
			q->allocating++; /* the same exchange goes on */
		return 1;
	}
	/* more waiters than slots coming: another exchange (not after one
	 * given up: that would only give up again) */
	q = ctl_queue_get(L->pool, akey, 0);
	if (ar && q && q->head)
		maybe_allocate((struct ctl_inv *)q->head);
	if ((q = ctl_queue_get(L->pool, akey, 0)) && q->len == 0 && q->allocating == 0)
		ctl_queue_gc(L->pool); /* idle actions leave no queue behind */
	return 0;
}

const struct ctl_alloc_hooks ctl_inv_alloc_hooks = {
    .waiting = alloc_waiting,
    .granted = alloc_granted,
};

/* ---- starting an activation ---- */

struct ctl_inv *ctl_inv_new(struct ctl_loop *L, struct ctl_ref *ref, cJSON *params,
			    const char *subject, const char *id)
{
	struct ctl_inv *v = calloc(1, sizeof(*v));
	if (!v) {
		ctl_cache_release(ref);
		cJSON_Delete(params);
		return NULL;
	}
	v->L = L;
	v->aref = *ref;
	v->a = ref->val;
	v->params_json = params;
	v->params = params ? cJSON_PrintUnformatted(params) : NULL;
	v->t0_us = hc_mono_us();
	pr_activation_init(&v->rec);
	v->rec.start_ms = hc_now_ms();
	if (id) {
		/* forwarded: it started when the first controller took it, the
		 * time its id carries, which orders the index (proto/keys.h) */
		uint64_t t = pr_activation_id_ms(id), now = v->rec.start_ms;
		if (t && (t <= now ? now - t : t - now) < 3600000)
			v->rec.start_ms = t;
		hc_strlcpy(v->rec.id, id, sizeof(v->rec.id));
	} else {
		pr_activation_id_new(v->rec.id, v->rec.start_ms);
	}
	const struct pr_action_info *ai = &v->a->info;
	/* OpenWhisk's record: the invoking namespace, the action's own name,
	 * the path of the action that ran (and the binding it was reached
	 * through) in annotations */
	hc_strlcpy(v->rec.ns, subject, sizeof(v->rec.ns));
	hc_strlcpy(v->rec.name, ai->name, sizeof(v->rec.name));
	hc_strlcpy(v->rec.version, ai->version, sizeof(v->rec.version));
	hc_strlcpy(v->rec.subject, subject, sizeof(v->rec.subject));
	hc_strlcpy(v->rec.kind, ai->kind, sizeof(v->rec.kind));
	if (v->a->in_package || strcmp(ai->ns, subject) != 0)
		v->rec.path = ctl_str_or(v->a->path, v->a->fqn + 1); /* the cached action's */
	v->rec.binding = v->a->binding;
	v->rec.limits = ai->limits;
	ctl_akey(v->akey, sizeof(v->akey), ai->ns, ai->name, ctl_inv_version(v));
	if (params && !v->params) {
		ctl_inv_free(v);
		return NULL;
	}
	return v;
}

void ctl_inv_free(struct ctl_inv *v)
{
	if (v->wait_armed)
		event_del(&v->wait_timer);
	ctl_limits_release(v->held);
	ctl_cache_release(&v->aref);
	pr_activation_clear(&v->rec);
	cJSON_Delete(v->params_json);
	cJSON_Delete(v->relayed);
	if (v->answer_free)
		v->answer_free(v->answer_arg);
	free(v->params);
	free(v);
}

/* ---- per loop ---- */

int ctl_inv_loop_init(struct ctl_loop *L)
{
	struct timeval tv = hc_ms_timeval(L->ctl->cfg.blocking_wait_ms);
	L->wait_tv = event_base_init_common_timeout(L->loop->base, &tv);
	int64_t ms = L->ctl->cfg.pause_grace_ms;
	struct timeval grace = hc_ms_timeval(ms);
	L->grace_tv = ms > 0 ? event_base_init_common_timeout(L->loop->base, &grace) : NULL;
	return 0;
}

void ctl_inv_loop_stop(struct ctl_loop *L)
{
	if (!L->pool)
		return;
	for (struct ctl_queue *q = L->pool->queues; q; q = q->next) {
		struct ctl_inv *v;
		while ((v = pop_waiter(L, q->akey)))
			ctl_inv_fail(v, PR_ST_INTERNAL_ERROR, "the controller is shutting down");
	}
}

int ctl_inv_queued(const struct ctl_loop *L)
{
	return L->pool ? L->pool->nqueued : 0;
}
