/* controller/fire.h — firing a trigger (Triggers.scala activateRules): the
 * action of every active rule the trigger links runs as a non-blocking
 * activation, with the trigger's parameters under the payload as its
 * argument; the trigger's own activation record (result: the payload;
 * end 0; no annotations) logs every linked rule's outcome, inactive ones
 * included. A composition above the activation module, as sequence.c is:
 * it starts activations with ctl_inv_new + ctl_inv_dispatch and hears
 * through their accepted hook whether each was taken. */
#ifndef CTL_FIRE_H
#define CTL_FIRE_H

#include <cjson/cJSON.h>

#include "controller/ctl.h"

/* The fire's answer, once the trigger has been read: 202 with the
 * trigger's activation id (its rules then start), 204 when it links no
 * active rule (no record, as OpenWhisk), 404 no such trigger, 429 the
 * namespace's fires per minute are spent (id is then OpenWhisk's message),
 * 503 Redis unreachable, 500 out of memory. id is valid during the call. */
typedef void (*ctl_fire_cb)(int status, const char *id, void *arg);

/* Fire trigger ns/name (ns is also the subject of every record) with
 * payload (taken; NULL = none). caller_key ("uuid:key", or "" when none)
 * goes to actions that ask for it. The trigger's record is written once
 * every rule has been accepted or refused; each rule's invocation passes
 * the namespace's invocation throttles first (controller/limits.h). cb may
 * run before this returns. 0, or -1 when it could not be started (cb will
 * not run). */
int ctl_fire(struct ctl_loop *L, const char *ns, const char *name, cJSON *payload,
	     const char *caller_key, ctl_fire_cb cb, void *arg);

#endif
