/* controller/conductor.h — conductor actions (OpenWhisk's compositions,
 * PrimitiveActions.scala invokeComposition): an action with a truthy
 * "conductor" annotation runs, and returns either its final result or
 * {action, params, state}; then the named component runs on params, and
 * the conductor runs again on the component's result with state merged
 * in, until it names no action. At most 50 components and 2 * 50 + 1
 * conductor runs per composition, shared with the compositions nested in
 * it ("Too many actions in the composition."). The composition's record
 * (kind sequence, annotation conductor: true) lists every step's
 * activation id in its logs. Built on sequence.c's helpers. */
#ifndef CTL_CONDUCTOR_H
#define CTL_CONDUCTOR_H

#include "controller/sequence.h"

#define CTL_MSG_COMP_TOO_LONG "Too many actions in the composition."
#define CTL_MSG_COMP_FAILURE  "Activation failure during composition."

/* Run v (an activation of a conductor action) as a composition. */
void ctl_cond_start(struct ctl_inv *v);

/* For compositions nesting a conductor action (wired by server.c). */
extern const struct ctl_comp_hooks ctl_cond_hooks;

#endif
