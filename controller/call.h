/* controller/call.h — a loop's HTTP calls: to containers, agents, the
 * scheduler and other controllers.
 *
 * Every call started here gets exactly one callback, on the loop thread,
 * and never before the call that started it returns: a request that
 * cannot start (no memory, no file descriptor, the loop stopping) fails on
 * a later loop turn with status 0, error set and not_sent 1, as a refused
 * connection does in common/kclient.c. Callers may therefore use what
 * they hold after starting a call, and a callback may start calls. */
#ifndef CTL_CALL_H
#define CTL_CALL_H

#include <cjson/cJSON.h>

#include "common/client.h"
#include "controller/ctl.h"

/* The lean client (kclient.h) for what it can do, else libcurl; a request
 * naming a local socket is never sent to the URL's address instead. */
void ctl_call(struct ctl_loop *L, const struct hc_request *rq, hc_client_cb cb, void *arg);

/* libcurl with the cluster token and a JSON body (NULL: none); cb NULL is
 * fire and forget. */
void ctl_call_json(struct ctl_loop *L, const char *method, const char *url, const cJSON *body,
		   long timeout_ms, hc_client_cb cb, void *arg);

/* Call cb with a failure (error) on a later loop turn, as for a call that
 * could not start. */
void ctl_call_later(struct ctl_loop *L, hc_client_cb cb, void *arg, const char *error);

/* The cluster token and JSON content type, as a request's headers. */
const char *const *ctl_call_headers(const struct ctl_loop *L);

/* A callback that only logs a failure at debug level; arg: what it was. */
void ctl_call_ignore(const struct hc_response *r, void *arg);

int ctl_calls_loop_init(struct ctl_loop *L);
/* Stopping: calls in flight fail now ("cancelled"), later ones on a later
 * turn. Their callbacks may start others, which fail the same way. */
void ctl_calls_loop_stop(struct ctl_loop *L);
/* After the loop has stopped running: deliver the failures still waiting
 * for a loop turn (and those their callbacks cause), then free. */
void ctl_calls_loop_fini(struct ctl_loop *L);

#endif
