/* agent/lifecycle.h — the container state machine.
 *
 *   creating --ready--> warm --suspend--> suspended --resume--> warm
 *   creating | warm | suspended --destroy--> destroying --> (gone)
 *   creating | warm | suspended --process exits--> dead --destroy--> destroying
 *
 * Every change of a container's state goes through agt_transition_ok, and
 * every request through agt_op_check, so an invalid request is refused
 * (409 with a reason), never silently ignored. In particular suspending a
 * suspended container and resuming a warm one are refused: the scheduler
 * and controllers track state, and a double suspend means their view is
 * wrong, which they should learn. */
#ifndef AGT_LIFECYCLE_H
#define AGT_LIFECYCLE_H

#include "proto/container.h"

enum agt_op {
	AGT_OP_SUSPEND = 0,
	AGT_OP_RESUME,
	AGT_OP_DESTROY,
	AGT_OP_LOG,
};

/* Nonzero when a container may go from one state to the other. */
int agt_transition_ok(enum pr_cstate from, enum pr_cstate to);

/* May op start on a container in state s while another suspend/resume is
 * in flight (busy != 0)? Returns 0 when it may; otherwise the HTTP status to
 * answer (409) with *why set to a short reason. Destroy is always allowed
 * (a destroy of a container already being destroyed joins it). */
int agt_op_check(enum pr_cstate s, int busy, enum agt_op op, const char **why);

#endif
