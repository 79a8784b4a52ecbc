/* agent/lifecycle.c — the container state machine (see agent/lifecycle.h). */
#include "agent/lifecycle.h"

int agt_transition_ok(enum pr_cstate from, enum pr_cstate to)
{
	switch (from) {
	case PR_CS_CREATING:
		return to == PR_CS_WARM || to == PR_CS_DESTROYING || to == PR_CS_DEAD;
	case PR_CS_WARM:
		return to == PR_CS_SUSPENDED || to == PR_CS_DESTROYING || to == PR_CS_DEAD;
	case PR_CS_SUSPENDED:
		return to == PR_CS_WARM || to == PR_CS_DESTROYING || to == PR_CS_DEAD;
	case PR_CS_DEAD:
		return to == PR_CS_DESTROYING;
	case PR_CS_DESTROYING:
		return 0;
	}
	return 0;
}

int agt_op_check(enum pr_cstate s, int busy, enum agt_op op, const char **why)
{
	switch (op) {
	case AGT_OP_DESTROY:
	case AGT_OP_LOG:
		return 0;
	case AGT_OP_SUSPEND:
	case AGT_OP_RESUME:
		if (busy) {
			*why = "a suspend or resume is already in progress";
			return 409;
		}
		break;
	}
	switch (s) {
	case PR_CS_WARM:
		if (op == AGT_OP_SUSPEND)
			return 0;
		*why = "container is not suspended";
		return 409;
	case PR_CS_SUSPENDED:
		if (op == AGT_OP_RESUME)
			return 0;
		*why = "container is already suspended";
		return 409;
	case PR_CS_CREATING:
		*why = "container is still being created";
		return 409;
	case PR_CS_DESTROYING:
		*why = "container is being destroyed";
		return 409;
	case PR_CS_DEAD:
		*why = "container is dead";
		return 409;
	}
	*why = "unknown state";
	return 409;
}
