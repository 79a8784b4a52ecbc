/* controller/agentcli.h — the agent of a container's host: suspend,
 * resume, and the cut of an activation's logs. Calls as in call.h (the
 * callback never runs before the call returns). */
#ifndef CTL_AGENTCLI_H
#define CTL_AGENTCLI_H

#include <stdint.h>

#include "common/client.h"
#include "controller/ctl.h"
#include "controller/pool.h"

#define CTL_AGENT_TIMEOUT_MS 5000

/* GET /suspend/{id} or /resume/{id} on c's agent; 204 is success. */
void ctl_agent_suspend(struct ctl_loop *L, const struct ctl_ctr *c, hc_client_cb cb, void *arg);
void ctl_agent_resume(struct ctl_loop *L, const struct ctl_ctr *c, hc_client_cb cb, void *arg);

/* Ask c's agent to store activation's logs (at most limit bytes), counted
 * against namespace ns's log quota (quota bytes a day unless the operator
 * set ns's own); fire and forget. Nothing is asked of a container with no
 * agent. ns holds only URL-safe characters (pr_namespace_valid). */
void ctl_agent_logs(struct ctl_loop *L, const struct ctl_ctr *c, const char *activation,
		    int64_t limit, const char *ns, int64_t quota);

#endif
