/* agent/agent_int.h — what the agent core's files share (agent.h is the
 * contract for the API and the backends):
 *
 *   agent.c     the container table, each container's lifecycle across its
 *               backend (the only writer of a container's state), metrics
 *   logs.c      output drains and /log cuts written to Redis
 *   register.c  the agent's registration and bookkeeping in Redis
 *               (heartbeat, container mirror and events, epoch)
 *   setup.c     start-up (backend, state dirs, stale containers) and shutdown
 */
#ifndef AGT_AGENT_INT_H
#define AGT_AGENT_INT_H

#include "agent/agent.h"
#include "common/redis.h"

/* ---- agent.c ---- */
/* The operations counted and timed per result. */
enum agt_metric_op {
	AGT_M_CREATE = 0,
	AGT_M_SUSPEND,
	AGT_M_RESUME,
	AGT_M_DESTROY,
	AGT_M_LOG,
	AGT_M__N
};
void agt_metrics_init(struct agt_agent *a);
/* Count op by result; time it from start_us (0: not timed). */
void agt_observe(struct agt_agent *a, enum agt_metric_op op, int ok, uint64_t start_us);
/* Free a container that is out of the table (no replies, no Redis). */
void agt_container_free(struct agt_container *c);

/* ---- logs.c ---- */
/* Try every waiting /log of c again; final: nothing more will come. */
void agt_logs_retry(struct agt_container *c, int final);
/* Close c's output drains and free what they hold. */
void agt_logs_free(struct agt_container *c);
/* Shutdown: answer every waiting /log of c 503 and forget it. */
void agt_logs_abort(struct agt_container *c);

/* ---- register.c ---- */
/* Connect to Redis (ropts), register now and on every (re)connect, and
 * every heartbeat_ms. 0 or -1 with err. */
int agt_reg_start(struct agt_agent *a, const struct hc_redis_opts *ropts, struct hc_err *err);
/* Write c's descriptor to the agent's container hash / remove it. */
void agt_reg_mirror(struct agt_container *c);
void agt_reg_forget(struct agt_agent *a, const char *id);
/* PUBLISH a container event ("warm", "dead", "destroyed"). */
void agt_reg_publish(struct agt_agent *a, const char *event, const char *id);
/* Shutdown: no more heartbeats. */
void agt_reg_heartbeat_stop(struct agt_agent *a);
/* Blocking (shutdown): delete the registration and the container hash,
 * then free the Redis client. */
void agt_reg_stop(struct agt_agent *a);

#endif
