/* controller/agentcli.c — the agent client (see agentcli.h). */
#include <stdio.h>

#include "common/buf.h"
#include "controller/agentcli.h"
#include "controller/call.h"

static void agent_get(struct ctl_loop *L, const struct ctl_ctr *c, const char *route,
		      hc_client_cb cb, void *arg)
{
	char url[512];
	snprintf(url, sizeof(url), "%s/%s/%s", c->d.agent, route, c->d.id);
	ctl_call_json(L, "GET", url, NULL, CTL_AGENT_TIMEOUT_MS, cb, arg);
}

void ctl_agent_suspend(struct ctl_loop *L, const struct ctl_ctr *c, hc_client_cb cb, void *arg)
{
	agent_get(L, c, "suspend", cb, arg);
}

void ctl_agent_resume(struct ctl_loop *L, const struct ctl_ctr *c, hc_client_cb cb, void *arg)
{
	agent_get(L, c, "resume", cb, arg);
}

void ctl_agent_logs(struct ctl_loop *L, const struct ctl_ctr *c, const char *activation,
		    int64_t limit, const char *ns, int64_t quota)
{
	char url[1024];
	if (!c->d.agent[0])
		return;
	struct hc_buf u = HC_BUF_FIXED(url); /* no printf: once per activation */
	if (hc_buf_adds(&u, c->d.agent) | hc_buf_adds(&u, "/log/") | hc_buf_adds(&u, c->d.id) |
	    hc_buf_adds(&u, "?activation=") | hc_buf_adds(&u, activation) |
	    hc_buf_adds(&u, "&limit=") | hc_buf_add_int(&u, limit) | hc_buf_adds(&u, "&ns=") |
	    hc_buf_adds(&u, ns) | hc_buf_adds(&u, "&quota=") | hc_buf_add_int(&u, quota))
		return;
	/* one per activation: the lean client keeps it cheap */
	struct hc_request rq = {
	    .method = "GET",
	    .url = url,
	    .headers = ctl_call_headers(L),
	    .timeout_ms = CTL_AGENT_TIMEOUT_MS,
	};
	ctl_call(L, &rq, ctl_call_ignore, "logs");
}
