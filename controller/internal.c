/* controller/internal.c — POST /internal/run (cluster token): an activation
 * another controller forwarded here because one of this controller's loops
 * owns a free warm container of its action. It runs on that loop (handed
 * across when the kernel delivered it to another loop), never forwarded
 * again, and its stored record is the reply. */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/metrics.h"
#include "common/str.h"
#include "controller/activation.h"
#include "controller/api.h"
#include "controller/store.h"
#include "controller/xloop.h"

/* ---- run on this loop ---- */

struct fwd_req {
	struct hc_req *req;
	struct ctl_loop *L;
	struct pr_forward f;
};

/* A new activation from f (its params taken), to run here. */
static struct ctl_inv *forwarded_inv(struct ctl_loop *L, struct ctl_ref *ref, struct pr_forward *f)
{
	struct ctl_inv *v = ctl_inv_new(L, ref, f->params, f->subject, f->id);
	f->params = NULL;
	if (!v)
		return NULL;
	hc_strlcpy(v->rec.cause, f->cause, sizeof(v->rec.cause));
	hc_strlcpy(v->api_key, f->api_key, sizeof(v->api_key));
	v->no_forward = 1;
	return v;
}

static void on_fwd_action(struct ctl_ref *ref, int status, void *arg)
{
	struct fwd_req *fr = arg;
	if (!ref) {
		hc_reply_error(fr->req, status == 404 ? 404 : 503, "the action is not available");
		goto out;
	}
	struct ctl_inv *v = forwarded_inv(fr->L, ref, &fr->f);
	if (!v) {
		hc_reply_error(fr->req, 500, "out of memory");
		goto out;
	}
	v->req = fr->req;
	v->forwarded = 1;
	ctl_inv_wait(v, fr->f.wait_ms);
	ctl_inv_dispatch(v);
out:
	cJSON_Delete(fr->f.params);
	free(fr);
}

/* ---- run on another loop ----
 *
 * With several loops each is its own owner towards the scheduler, and a
 * forward from another controller lands on whichever loop the kernel
 * picks. When that is not the owner loop, the activation is handed to the
 * owner loop and its record handed back for the reply. */

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
	if (ctl_xloop_post(L->ctl, x->from, xfwd_reply, x) < 0)
		hc_error("lost the reply of forwarded activation=%s", x->f.id);
}

static void xfwd_done(struct ctl_inv *v, cJSON *record, void *arg)
{
	struct xfwd *x = arg;
	x->stored = record;
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
	struct ctl_inv *v = forwarded_inv(L, ref, &x->f);
	if (!v) {
		x->status = 500;
		xfwd_back(L, x);
		return;
	}
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

static void hand_across(struct hc_req *req, struct ctl_loop *L, int target, struct pr_forward *f)
{
	struct xfwd *x = calloc(1, sizeof(*x));
	if (!x) {
		hc_reply_error(req, 500, "out of memory");
		cJSON_Delete(f->params);
		return;
	}
	x->req = req;
	x->from = L->loop->index;
	x->f = *f;
	if (ctl_xloop_post(L->ctl, target, xfwd_run, x) < 0) {
		hc_reply_error(req, 500, "out of memory");
		xfwd_free(x);
	}
}

void ctl_h_internal_run(struct hc_req *req, void *arg)
{
	struct ctl_loop *L = ctl_loop_of(req);
	struct hc_err err = {{0}};
	struct pr_forward f;
	const char *auth = hc_req_header(req, "Authorization");
	const char *want = L->ctl->bearer + strlen("Authorization: ");
	if (!auth || strcmp(auth, want) != 0) {
		hc_reply_error(req, 401, "the cluster token is missing or wrong");
		return;
	}
	size_t len;
	const char *body = hc_req_body(req, &len);
	if (pr_forward_parse(body, len, &f, &err) < 0) {
		hc_reply_error(req, 400, "%s", err.msg);
		return;
	}
	int target = ctl_xloop_of_owner(L->ctl, f.owner);
	int across = target >= 0 && target != L->loop->index;
	hc_counter_inc(L->ctl->m.forwards_in[across]);
	if (across) {
		hand_across(req, L, target, &f);
		return;
	}
	struct fwd_req *fr = calloc(1, sizeof(*fr));
	if (!fr) {
		hc_reply_error(req, 500, "out of memory");
		cJSON_Delete(f.params);
		return;
	}
	fr->req = req;
	fr->L = L;
	fr->f = f;
	ctl_action_lookup(L, fr->f.ns, fr->f.name, on_fwd_action, fr);
}
