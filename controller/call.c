/* controller/call.c — a loop's HTTP calls (see call.h).
 *
 * The clients below promise one callback per started request and never
 * from inside the request; a request they refuse to start gets none. Such
 * a refusal is turned here into a failure delivered from an event of its
 * own, so no caller ever sees its callback run while it still holds what
 * the callback may free (a container that fails is discarded in its
 * callback). */
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "common/kclient.h"
#include "common/log.h"
#include "controller/call.h"

/* A failure waiting for its loop turn. Taken from malloc, or from a small
 * reserve when even that fails, so a call refused for want of memory is
 * still answered. */
struct later {
	struct later *next;
	hc_client_cb cb;
	void *arg;
	const char *error;
};

#define RESERVE 32

struct ctl_calls {
	struct hc_kclient *k; /* NULL: libcurl does it all */
	struct hc_client *curl;
	struct event *ev; /* delivers the waiting failures */
	struct later *head, **tail;
	struct later reserve[RESERVE];
	struct later *spare; /* unused reserve entries */
	const char *hdr[3];
};

static void later_put(struct ctl_calls *cs, struct later *l)
{
	if (l >= cs->reserve && l < cs->reserve + RESERVE) {
		l->next = cs->spare;
		cs->spare = l;
	} else {
		free(l);
	}
}

/* Deliver what waits now (not what these callbacks add: next turn). */
static void deliver(struct ctl_calls *cs)
{
	struct later *l = cs->head;
	cs->head = NULL;
	cs->tail = &cs->head;
	while (l) {
		struct later *next = l->next;
		hc_client_cb cb = l->cb;
		void *arg = l->arg;
		const char *error = l->error;
		later_put(cs, l);
		cb(&(struct hc_response){.body = "", .error = error, .not_sent = 1}, arg);
		l = next;
	}
}

static void on_later(evutil_socket_t fd, short what, void *arg)
{
	deliver(arg);
}

void ctl_call_later(struct ctl_loop *L, hc_client_cb cb, void *arg, const char *error)
{
	struct ctl_calls *cs = L->calls;
	if (!cb)
		return;
	if (!cs) {
		/* after ctl_calls_loop_fini: the loop is gone, nobody waits */
		hc_debug("call failed after the loop stopped: %s", error);
		return;
	}
	struct later *l = malloc(sizeof(*l));
	if (!l && (l = cs->spare))
		cs->spare = l->next;
	if (!l) {
		/* nothing left at all: the caller's activation waits out its
		 * deadline instead of being answered now */
		hc_error("out of memory: a failed call (%s) cannot be reported", error);
		return;
	}
	l->next = NULL;
	l->cb = cb;
	l->arg = arg;
	l->error = error;
	*cs->tail = l;
	cs->tail = &l->next;
	if (cs->ev)
		event_active(cs->ev, EV_TIMEOUT, 0);
}

void ctl_call(struct ctl_loop *L, const struct hc_request *rq, hc_client_cb cb, void *arg)
{
	struct ctl_calls *cs = L->calls;
	if (L->stopping) {
		ctl_call_later(L, cb, arg, "shutting down");
		return;
	}
	if (cs->k && hc_kclient_request(cs->k, rq, cb, arg) == 0)
		return;
	/* libcurl would go to the port, which only the socket vouches for */
	if (rq->unix_name || !hc_client_request(cs->curl, rq, cb, arg))
		ctl_call_later(L, cb, arg, "could not start the request");
}

const char *const *ctl_call_headers(const struct ctl_loop *L)
{
	return L->calls->hdr;
}

void ctl_call_ignore(const struct hc_response *r, void *arg)
{
	const char *what = arg;
	if (r->error || r->status >= 300)
		hc_debug("%s: status %ld %s", what, r->status, r->error ? r->error : "");
}

void ctl_call_json(struct ctl_loop *L, const char *method, const char *url, const cJSON *body,
		   long timeout_ms, hc_client_cb cb, void *arg)
{
	if (L->stopping) {
		ctl_call_later(L, cb, arg, "shutting down");
		return;
	}
	char *s = body ? cJSON_PrintUnformatted(body) : NULL;
	struct hc_request rq = {
	    .method = method,
	    .url = url,
	    .headers = L->calls->hdr,
	    .body = s,
	    .body_len = s ? strlen(s) : 0,
	    .timeout_ms = timeout_ms,
	};
	if ((body && !s) || !hc_client_request(L->calls->curl, &rq, cb ? cb : ctl_call_ignore,
					       cb ? arg : (void *)"call"))
		ctl_call_later(L, cb, arg, "could not start the request");
	free(s);
}

int ctl_calls_loop_init(struct ctl_loop *L)
{
	struct ctl_calls *cs = calloc(1, sizeof(*cs));
	if (!cs)
		return -1;
	L->calls = cs;
	cs->tail = &cs->head;
	for (int i = 0; i < RESERVE; i++)
		later_put(cs, &cs->reserve[i]);
	cs->hdr[0] = L->ctl->bearer;
	cs->hdr[1] = "Content-Type: application/json";
	cs->hdr[2] = NULL;
	struct hc_client_opts co = {0};
	cs->curl = hc_client_new(L->loop->base, &co);
	cs->k = hc_kclient_new(L->loop->base); /* NULL: libcurl does it all */
	cs->ev = event_new(L->loop->base, -1, 0, on_later, cs);
	return cs->curl && cs->ev ? 0 : -1;
}

void ctl_calls_loop_stop(struct ctl_loop *L)
{
	struct ctl_calls *cs = L->calls;
	L->stopping = 1;
	if (!cs)
		return;
	/* calls in flight fail now ("cancelled"); what their callbacks start
	 * fails on a later turn, as every call from now on */
	struct hc_kclient *k = cs->k;
	cs->k = NULL;
	hc_kclient_free(k);
	struct hc_client *curl = cs->curl;
	cs->curl = NULL;
	if (curl)
		hc_client_free(curl);
}

void ctl_calls_loop_fini(struct ctl_loop *L)
{
	struct ctl_calls *cs = L->calls;
	if (!cs)
		return;
	ctl_calls_loop_stop(L);
	/* no loop turn will come: deliver here until nothing waits */
	while (cs->head)
		deliver(cs);
	if (cs->ev)
		event_free(cs->ev);
	free(cs);
	L->calls = NULL;
}
