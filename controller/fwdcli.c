/* controller/fwdcli.c — forwarding to another controller (see fwdcli.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/metrics.h"
#include "controller/call.h"
#include "controller/fwdcli.h"

struct fwd {
	ctl_fwd_cb cb;
	void *arg;
};

static void on_forwarded(const struct hc_response *r, void *arg)
{
	struct fwd f = *(struct fwd *)arg;
	free(arg);
	if (r->status == 200) {
		cJSON *rec = hc_json_parse(r->body, r->body_len, HC_JSON_MAX_DEPTH, NULL);
		if (rec && pr_activation_status(rec) >= 0) {
			f.cb(CTL_FWD_RECORD, rec, f.arg);
			return;
		}
		cJSON_Delete(rec);
	}
	if (r->status == 202) {
		f.cb(CTL_FWD_ACCEPTED, NULL, f.arg);
		return;
	}
	/* never reached the other controller (the connect failed or nothing
	 * was sent), or it ran nothing (503: it is stopping, or lacks the
	 * action): safe to run it here */
	if ((r->error && r->status == 0 && (r->not_sent || strstr(r->error, "onnect"))) ||
	    r->status == 503) {
		f.cb(CTL_FWD_NOT_RUN, NULL, f.arg);
		return;
	}
	f.cb(CTL_FWD_FAILED, NULL, f.arg);
}

int ctl_fwd_send(struct ctl_loop *L, const char *owner_url, const struct pr_forward *f,
		 long timeout_ms, ctl_fwd_cb cb, void *arg)
{
	char url[256];
	struct fwd *fw = malloc(sizeof(*fw));
	cJSON *j = fw ? pr_forward_to_json(f) : NULL;
	if (!j) {
		free(fw);
		return -1;
	}
	hc_counter_inc(L->ctl->m.forwards);
	snprintf(url, sizeof(url), "%s/internal/run", owner_url);
	fw->cb = cb;
	fw->arg = arg;
	ctl_call_json(L, "POST", url, j, timeout_ms, on_forwarded, fw);
	cJSON_Delete(j);
	return 0;
}
