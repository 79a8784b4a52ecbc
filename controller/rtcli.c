/* controller/rtcli.c — the runtime client (see rtcli.h). */
#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "common/localnet.h"
#include "controller/call.h"
#include "controller/rtcli.h"
#include "proto/activation.h"

/* The container's local socket when the controller may use it: the
 * agent gave it the one name a runtime's socket may have (its id's, never
 * a path from a descriptor), and the container's address is this host's
 * (asked once per container: a netlink round trip). A container elsewhere
 * is never looked for here, so nothing on this host can stand in for it. */
static const char *local_socket(const struct ctl_loop *L, struct ctl_ctr *c)
{
	static const size_t plen = sizeof(PR_SOCK_PREFIX) - 1;
	if (!L->ctl->cfg.local_socket || !c->d.sock[0])
		return NULL;
	if (!c->local)
		c->local = !strncmp(c->d.sock, PR_SOCK_PREFIX, plen) &&
				   !strcmp(c->d.sock + plen, c->d.id) && hc_ipv4_is_local(c->d.host)
			       ? 1
			       : -1;
	return c->local > 0 ? c->d.sock : NULL;
}

/* The result's own bytes, without the JSON whitespace around them. */
static void result_text(struct ctl_rt_outcome *o, const char *p, size_t len)
{
	const char *e = p + len;
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		e--;
	o->text = p;
	o->text_len = (size_t)(e - p);
}

static void outcome_failed(struct ctl_rt_outcome *o, const struct ctl_rt_call *call,
			   const struct hc_response *r)
{
	char msg[160];
	o->status = PR_ST_DEVELOPER_ERROR;
	o->dead = 1;
	if (r->timed_out) {
		snprintf(msg, sizeof(msg),
			 call->init ? "The action exceeded its time limits of %lld milliseconds "
				      "during initialization."
				    : PR_RT_MSG_TIMEOUT,
			 (long long)call->timeout_ms);
		o->result = pr_error_result(msg);
		o->timeout = 1;
	} else {
		o->result =
		    pr_error_result(call->init ? PR_RT_MSG_ABNORMAL_INIT : PR_RT_MSG_ABNORMAL_RUN);
	}
}

static void on_reply(const struct hc_response *r, void *arg)
{
	struct ctl_rt_call *call = arg;
	struct ctl_rt_outcome o = {0};
	struct pr_rt_meta m;
	pr_rt_meta_parse(r->header, r->header_len, &m);
	if (r->error && r->not_sent && !r->timed_out) {
		/* nothing reached it (its process or host is gone): at most
		 * once still allows another container */
		o.refused = 1;
		o.dead = 1;
		o.status = PR_ST_INTERNAL_ERROR;
	} else if (r->error || r->timed_out) {
		outcome_failed(&o, call, r);
	} else if (call->init) {
		o.status = r->status == 200 ? PR_ST_SUCCESS : PR_ST_DEVELOPER_ERROR;
		if (r->status != 200) {
			pr_init_response(r->status, r->body, r->body_len, &o.result);
			o.dead = 1; /* a container whose /init failed is not used again */
		}
	} else {
		o.status = pr_run_response(r->status, r->body, r->body_len, &o.result);
		o.printed_nothing = r->status == 200 && m.log_bytes == 0;
		o.dead = m.fate != PR_RT_FATE_OK;
		o.timeout = m.fate == PR_RT_FATE_TIMEOUT;
		if (r->status == 200 && (o.status == PR_ST_SUCCESS || o.status == PR_ST_APP_ERROR))
			result_text(&o, r->body, r->body_len);
	}
	call->cb(&o, call->arg);
	cJSON_Delete(o.result);
}

/* POST body to path in c. */
static void post(struct ctl_loop *L, struct ctl_ctr *c, const char *path, struct hc_buf *body,
		 size_t max_response, struct ctl_rt_call *call)
{
	static const char *const hdr[] = {"Content-Type: application/json", NULL};
	char url[256];
	struct hc_buf u = HC_BUF_FIXED(url); /* no printf: once per invoke */
	hc_buf_adds(&u, "http://");
	hc_buf_adds(&u, c->d.host);
	hc_buf_addc(&u, ':');
	hc_buf_add_int(&u, c->d.port);
	hc_buf_adds(&u, path);
	struct hc_request rq = {
	    .method = "POST",
	    .url = url,
	    .headers = hdr,
	    .body = hc_buf_str(body),
	    .body_len = body->len,
	    /* the runtime enforces the limit itself; this is the backstop */
	    .timeout_ms = call->timeout_ms + 2000,
	    .max_response = max_response,
	    .want_header = PR_RT_HDR_RUN,
	    /* a container on this host: its local socket, without TCP */
	    .unix_name = local_socket(L, c),
	};
	ctl_call(L, &rq, on_reply, call); /* the client copies the body */
}

/* A request that could not be encoded: answered on a later turn, as a
 * reply would be. The container stays usable after a /run (nothing was
 * sent), not after a /init (it has no action). */
static void on_unencodable(const struct hc_response *r, void *arg)
{
	struct ctl_rt_call *call = arg;
	struct ctl_rt_outcome o = {.status = PR_ST_INTERNAL_ERROR, .dead = call->init};
	o.result = pr_error_result(call->init ? "could not encode the init request"
					      : "could not encode the run request");
	call->cb(&o, call->arg);
	cJSON_Delete(o.result);
}

void ctl_rt_init(struct ctl_loop *L, struct ctl_ctr *c, const struct pr_rt_init *in,
		 struct ctl_rt_call *call)
{
	struct hc_buf body;
	struct hc_err err = {{0}};
	call->init = 1;
	hc_buf_init(&body, PR_RT_INIT_MAX_BODY + (1 << 20));
	if (pr_rt_init_encode(&body, in, &err) < 0)
		ctl_call_later(L, on_unencodable, call, "unencodable");
	else
		post(L, c, PR_RT_PATH_INIT, &body, 0, call);
	hc_buf_free(&body);
}

void ctl_rt_run(struct ctl_loop *L, struct ctl_ctr *c, const struct pr_rt_run *run,
		struct ctl_rt_call *call)
{
	struct hc_err err = {{0}};
	call->init = 0;
	/* the usual body is ~250 bytes: on the stack, or on the heap when
	 * the parameters make it larger */
	char small[1024];
	struct hc_buf body = HC_BUF_FIXED(small);
	int enc = pr_rt_run_encode(&body, run, &err);
	if (enc < 0) {
		hc_buf_init(&body, PR_RT_RUN_MAX_BODY + 4096);
		hc_buf_reserve(&body, run->value_len + 512);
		enc = pr_rt_run_encode(&body, run, &err);
	}
	if (enc < 0)
		ctl_call_later(L, on_unencodable, call, "unencodable");
	else
		post(L, c, PR_RT_PATH_RUN, &body, PR_RT_RESULT_MAX + 4096, call);
	if (body.data != small)
		hc_buf_free(&body);
}
