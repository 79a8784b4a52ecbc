/* agent/api.h — the agent's HTTP routes (listed in proto/agent.h). */
#ifndef AGT_API_H
#define AGT_API_H

#include "agent/agent.h"

struct hc_server;

/* Register every route on s; handlers run on the server's loop 0 and call
 * into the agent a. 0 or -1. */
int agt_api_routes(struct hc_server *s, struct agt_agent *a);

/* Nonzero when header (an Authorization value) carries token as a Bearer
 * credential. Constant time in the token's length. An empty or NULL token
 * accepts everything (authentication disabled). */
int agt_api_authorized(const char *header, const char *token);

#endif
