/* controller/forward.c — activations between controllers and loops.
 *
 * Out: when the scheduler names another controller's free warm container,
 * the activation goes once to that controller's POST /internal/run and its
 * record comes back. In: /internal/run runs it on the loop owning the
 * container (handing it across loops when the kernel delivered it to
 * another loop), never forwarding again. Also: container events from
 * PR_CH_CONTAINERS reach the loop holding the container. */
#include <event2/event.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/client.h"
#include "common/clock.h"
#include "common/id.h"
#include "common/json.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/str.h"
#include "controller/inv.h"

/* ---- forwarding to the owner of a warm container ---- */

static void on_forwarded(const struct hc_response *r, void *arg)
{
	struct ctl_inv *v = arg;
	if (r->status == 200) {
		cJSON *rec = hc_json_parse(r->body, r->body_len, HC_JSON_MAX_DEPTH, NULL);
		if (rec && pr_activation_status(rec) >= 0) {
			v->fwd_record = rec;
			v->rec.end_ms = hc_now_ms();
			ctl_inv_finish(v);
			return;
		}
		cJSON_Delete(rec);
	}
	if (r->status == 202) {
		/* the other controller's wait ran out: the activation still runs
		 * there and records itself */
		if (v->done) {
			/* a sequence cannot wait on a record it will never see */
			ctl_inv_fail(v, PR_ST_INTERNAL_ERROR,
				     "the forwarded activation did not finish in time");
			return;
		}
		if (v->req)
			ctl_inv_accepted(v);
		ctl_inv_free(v);
		return;
	}
	if ((r->error && r->status == 0 && strstr(r->error, "onnect")) || r->status == 503) {
		/* never reached the other controller, or it ran nothing (it is
		 * stopping, or lacks the action): safe to run it here */
		v->no_forward = 1;
		v->attempts++;
		ctl_inv_dispatch(v);
		return;
	}
	ctl_inv_fail(v, PR_ST_INTERNAL_ERROR, "the controller owning the container did not answer");
}

void ctl_inv_forward(struct ctl_inv *v, const char *owner_url, const char *owner)
{
	char url[256];
	struct pr_forward f;
	memset(&f, 0, sizeof(f));
	uint64_t waited = (hc_mono_us() - v->t0_us) / 1000;
	int64_t wait = v->L->ctl->cfg.blocking_wait_ms - (int64_t)waited;
	hc_counter_inc(v->L->ctl->m.forwards);
	hc_strlcpy(f.ns, v->rec.ns, sizeof(f.ns));
	hc_strlcpy(f.name, v->rec.name, sizeof(f.name));
	hc_strlcpy(f.subject, v->rec.subject, sizeof(f.subject));
	hc_strlcpy(f.id, v->rec.id, sizeof(f.id));
	hc_strlcpy(f.cause, v->rec.cause, sizeof(f.cause));
	hc_strlcpy(f.api_key, v->api_key, sizeof(f.api_key));
	hc_strlcpy(f.owner, owner, sizeof(f.owner));
	f.params = v->params_json;
	f.wait_ms = wait > 1 ? wait : 1;
	cJSON *j = pr_forward_to_json(&f);
	snprintf(url, sizeof(url), "%s/internal/run", owner_url);
	ctl_send_json(v->L, "POST", url, j, f.wait_ms + v->rec.limits.timeout_ms + 5000,
		      on_forwarded, v);
	cJSON_Delete(j);
}

/* ---- handing work to another loop of this controller ----
 *
 * With several loops each is its own owner towards the scheduler, and a
 * forward from another controller lands on whichever loop the kernel picks.
 * When that is not the owner loop, the activation is handed to the owner
 * loop (hc_server_each_loop) and its record handed back for the reply. */

struct xmsg {
	int target;	 /* a loop index, or -1 for every loop */
	atomic_int refs; /* one per loop the message was posted to */
	void (*fn)(struct ctl_loop *L, void *p);
	void *p;
	char id[HC_ID_LEN + 1]; /* a small payload carried by the message itself */
};

static int xmsg_run(struct hc_loop *loop, void *arg)
{
	struct xmsg *m = arg;
	if ((m->target < 0 || loop->index == m->target) && loop->data)
		m->fn(loop->data, m->p ? m->p : m->id);
	if (atomic_fetch_sub(&m->refs, 1) == 1)
		free(m);
	return 0;
}

static int post_to_loop(struct ctl *c, int target, void (*fn)(struct ctl_loop *, void *), void *p)
{
	struct xmsg *m = malloc(sizeof(*m));
	if (!m)
		return -1;
	m->target = target;
	atomic_init(&m->refs, hc_server_nloops(c->server));
	m->fn = fn;
	m->p = p;
	m->id[0] = '\0';
	hc_server_each_loop(c->server, xmsg_run, m);
	return 0;
}

/* A container the agent or scheduler reports dead or destroyed: forget it
 * on whichever loop holds it (an activation running on it fails on its own
 * and the container is discarded then). */
static void container_gone(struct ctl_loop *L, void *p)
{
	const char *id = p;
	struct ctl_ctr *c = L->pool ? ctl_pool_find_id(L->pool, id) : NULL;
	if (!c)
		return;
	if (c->inflight > 0 || c->st == CTL_CS_RESUMING || c->st == CTL_CS_SUSPENDING ||
	    c->st == CTL_CS_INIT) {
		c->st = CTL_CS_DEAD; /* a call in flight will finish the job */
		return;
	}
	hc_info("container=%s gone (reported); dropped from the local list", id);
	if (c->grace) {
		event_free(c->grace);
		c->grace = NULL;
	}
	ctl_pool_remove(L->pool, c);
}

void ctl_pool_container_gone(struct ctl *c, const char *id)
{
	struct xmsg *m;
	if (!hc_id_valid(id) || !c->server || !(m = malloc(sizeof(*m))))
		return;
	m->target = -1;
	atomic_init(&m->refs, hc_server_nloops(c->server));
	m->fn = container_gone;
	m->p = NULL;
	hc_strlcpy(m->id, id, sizeof(m->id));
	hc_server_each_loop(c->server, xmsg_run, m);
}

/* The index of this controller's loop named by owner, or -1. */
static int owner_loop(struct ctl *c, const char *owner)
{
	size_t n = strlen(c->cfg.id);
	int nloops = hc_server_nloops(c->server);
	if (nloops <= 1 || strncmp(owner, c->cfg.id, n) != 0 || owner[n] != '.')
		return -1;
	char *end;
	long i = strtol(owner + n + 1, &end, 10);
	return (*end || i < 0 || i >= nloops) ? -1 : (int)i;
}

struct xfwd {
	struct hc_req *req;
	struct ctl_loop *L; /* the owner loop, once there */
	int from;
	struct pr_forward f;
	cJSON *stored;
	int status;
};

static void xfwd_free(struct xfwd *x)
{
	cJSON_Delete(x->f.params);
	cJSON_Delete(x->stored);
	free(x);
}

static void xfwd_reply(struct ctl_loop *L, void *p)
{
	struct xfwd *x = p;
	if (x->stored) {
		hc_req_add_header(x->req, "x-openwhisk-activation-id", x->f.id);
		hc_reply_json(x->req, 200, x->stored);
	} else {
		hc_reply_error(x->req, x->status ? x->status : 503, "the action is not available");
	}
	xfwd_free(x);
}

static void xfwd_back(struct ctl_loop *L, struct xfwd *x)
{
	if (post_to_loop(L->ctl, x->from, xfwd_reply, x) < 0)
		hc_error("lost the reply of forwarded activation=%s", x->f.id);
}

static void xfwd_done(struct ctl_inv *v, void *arg)
{
	struct xfwd *x = arg;
	x->stored = v->fwd_record; /* the record, taken */
	v->fwd_record = NULL;
	xfwd_back(v->L, x);
}

static void on_xfwd_action(struct ctl_ref *ref, int status, void *arg)
{
	struct xfwd *x = arg;
	struct ctl_loop *L = x->L;
	if (!ref) {
		x->status = status == 404 ? 404 : 503;
		xfwd_back(L, x);
		return;
	}
	struct ctl_inv *v = ctl_inv_new(L, ref, x->f.params, x->f.subject, x->f.id);
	x->f.params = NULL;
	if (!v) {
		x->status = 500;
		xfwd_back(L, x);
		return;
	}
	hc_strlcpy(v->rec.cause, x->f.cause, sizeof(v->rec.cause));
	hc_strlcpy(v->api_key, x->f.api_key, sizeof(v->api_key));
	v->no_forward = 1;
	v->done = xfwd_done;
	v->done_arg = x;
	ctl_inv_dispatch(v);
}

/* On the owner loop: run the forwarded activation there. */
static void xfwd_run(struct ctl_loop *L, void *p)
{
	struct xfwd *x = p;
	x->L = L;
	ctl_action_lookup(L, x->f.ns, x->f.name, on_xfwd_action, x);
}

/* ---- forwarded activations ---- */

struct fwd_req {
	struct hc_req *req;
	struct ctl_loop *L;
	struct pr_forward f;
};

static void on_fwd_action(struct ctl_ref *ref, int status, void *arg)
{
	struct fwd_req *fr = arg;
	if (!ref) {
		hc_reply_error(fr->req, status == 404 ? 404 : 503, "the action is not available");
		goto out;
	}
	struct ctl_inv *v = ctl_inv_new(fr->L, ref, fr->f.params, fr->f.subject, fr->f.id);
	fr->f.params = NULL;
	if (!v) {
		hc_reply_error(fr->req, 500, "out of memory");
		goto out;
	}
	hc_strlcpy(v->rec.cause, fr->f.cause, sizeof(v->rec.cause));
	hc_strlcpy(v->api_key, fr->f.api_key, sizeof(v->api_key));
	v->req = fr->req;
	v->forwarded = 1;
	ctl_inv_wait(v, fr->f.wait_ms);
	ctl_inv_dispatch(v);
out:
	cJSON_Delete(fr->f.params);
	free(fr);
}

void ctl_h_internal_run(struct hc_req *req, void *arg)
{
	struct ctl_loop *L = ctl_loop_of(req);
	struct hc_err err = {{0}};
	const char *auth = hc_req_header(req, "Authorization");
	const char *want = L->ctl->bearer + strlen("Authorization: ");
	if (!auth || strcmp(auth, want) != 0) {
		hc_reply_error(req, 401, "the cluster token is missing or wrong");
		return;
	}
	struct fwd_req *fr = calloc(1, sizeof(*fr));
	if (!fr) {
		hc_reply_error(req, 500, "out of memory");
		return;
	}
	size_t len;
	const char *body = hc_req_body(req, &len);
	if (pr_forward_parse(body, len, &fr->f, &err) < 0) {
		hc_reply_error(req, 400, "%s", err.msg);
		free(fr);
		return;
	}
	int target = owner_loop(L->ctl, fr->f.owner);
	hc_counter_inc(L->ctl->m.forwards_in[target >= 0 && target != L->loop->index]);
	if (target >= 0 && target != L->loop->index) {
		struct xfwd *x = calloc(1, sizeof(*x));
		if (!x) {
			hc_reply_error(req, 500, "out of memory");
			cJSON_Delete(fr->f.params);
			free(fr);
			return;
		}
		x->req = req;
		x->from = L->loop->index;
		x->f = fr->f;
		free(fr);
		if (post_to_loop(L->ctl, target, xfwd_run, x) < 0) {
			hc_reply_error(req, 500, "out of memory");
			xfwd_free(x);
		}
		return;
	}
	fr->req = req;
	fr->L = L;
	ctl_action_lookup(L, fr->f.ns, fr->f.name, on_fwd_action, fr);
}
