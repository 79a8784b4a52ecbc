/* controller/rtcli.h — the runtime in a container: /init and /run, and
 * what their replies mean for the activation and for the container.
 *
 * A container on this host (its address is one of the host's) is reached
 * by its runtime's local socket when its agent named one (the one name a
 * runtime's socket may have: its id's), anything else by its host and
 * port. Calls as in call.h: the callback never runs before the call
 * returns. */
#ifndef CTL_RTCLI_H
#define CTL_RTCLI_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "controller/ctl.h"
#include "controller/pool.h"
#include "proto/runtime.h"

/* What a /init or /run came to. */
struct ctl_rt_outcome {
	int status;	     /* PR_ST_* of the activation */
	cJSON *result;	     /* the activation's result; the callback may take it (set NULL) */
	int refused;	     /* nothing reached the container: safe to run it elsewhere */
	int timeout;	     /* the activation exceeded its time limit */
	int dead;	     /* the container must not be used again */
	int printed_nothing; /* /run: the runtime said the action printed nothing */
	/* /run: the result's own bytes when they are the result (result was
	 * parsed from them whole), valid during the callback; else NULL */
	const char *text;
	size_t text_len;
};

typedef void (*ctl_rt_cb)(struct ctl_rt_outcome *o, void *arg);

/* One call's state, in storage of the caller's that lives until cb runs
 * (an activation holds one: no allocation per call). */
struct ctl_rt_call {
	ctl_rt_cb cb;
	void *arg;
	int64_t timeout_ms; /* the action's limit (for its messages) */
	int init;	    /* a /init */
};

/* POST /init with in to c, bounded by call->timeout_ms. */
void ctl_rt_init(struct ctl_loop *L, struct ctl_ctr *c, const struct pr_rt_init *in,
		 struct ctl_rt_call *call);

/* POST /run with run to c, bounded by call->timeout_ms (with a backstop:
 * the runtime enforces the limit itself). */
void ctl_rt_run(struct ctl_loop *L, struct ctl_ctr *c, const struct pr_rt_run *run,
		struct ctl_rt_call *call);

#endif
