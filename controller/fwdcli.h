/* controller/fwdcli.h — an activation sent to the controller that owns a
 * free warm container of its action (POST /internal/run), once. Calls as
 * in call.h: the callback never runs before the call returns. */
#ifndef CTL_FWDCLI_H
#define CTL_FWDCLI_H

#include <cjson/cJSON.h>

#include "controller/ctl.h"
#include "proto/activation.h"

enum ctl_fwd_result {
	CTL_FWD_RECORD,	  /* it ran there: here is its stored record */
	CTL_FWD_ACCEPTED, /* still running there past the wait: it records itself */
	CTL_FWD_NOT_RUN,  /* it never reached that controller, or it ran nothing: run it here */
	CTL_FWD_FAILED,	  /* no answer; it may have run */
};

/* record: with CTL_FWD_RECORD, the record (the callback takes it). */
typedef void (*ctl_fwd_cb)(enum ctl_fwd_result res, cJSON *record, void *arg);

/* Send f to the controller at owner_url; timeout_ms bounds the exchange.
 * 0, or -1 when it could not be sent (no memory): cb will not run. */
int ctl_fwd_send(struct ctl_loop *L, const char *owner_url, const struct pr_forward *f,
		 long timeout_ms, ctl_fwd_cb cb, void *arg);

#endif
