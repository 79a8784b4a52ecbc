/* controller/sequence.h — compositions of activations: sequences (here)
 * and conductor actions (conductor.c), above the activation module, which
 * they drive through ctl_inv_dispatch and the done callback.
 *
 * A sequence's components run one after another as activations of their
 * own (cause = the sequence's id), each one's result the next one's
 * argument; the first failure ends the chain. A component that is itself
 * a sequence runs as a sequence of its own (its record's cause is the
 * enclosing one's), and the atomic actions of the whole tree count
 * against OpenWhisk's limit of 50 ("Too many actions in the sequence.").
 * Components are "/ns/name" or "/ns/pkg/name" (pkg may be a binding, or
 * another namespace's shared package). */
#ifndef CTL_SEQUENCE_H
#define CTL_SEQUENCE_H

#include "controller/activation.h"

#define CTL_MSG_SEQ_TOO_LONG	 "Too many actions in the sequence."
#define CTL_MSG_SEQ_CYCLIC	 "Sequence may not refer to itself."
#define CTL_MSG_SEQ_NOT_FOUND	 "Sequence component does not exist."
#define CTL_MSG_SEQ_NO_COMPONENT "No component specified for the sequence."

/* Run v (an activation of a sequence action) to its end. */
void ctl_seq_start(struct ctl_inv *v);

/* Check a sequence's components for caller. check_tree 0: only that
 * caller may invoke every component (invoke time, OpenWhisk's ACTIVATE
 * entitlement of the referenced entities); 1 (PUT): also that every
 * component exists, that none resolves to self (the sequence's own path,
 * "ns/name" or "ns/pkg/name") at any depth, and that the atomic actions
 * of the inlined tree are at most 50. cb gets 0, or the status and
 * OpenWhisk's message (403 not authorized, 400 sequenceComponentNotFound,
 * sequenceIsCyclic, sequenceIsTooLong; 503). cb may run before this
 * returns. */
typedef void (*ctl_seq_check_cb)(int status, const char *msg, void *arg);
void ctl_seq_check(struct ctl_loop *L, const char *caller, const char *self,
		   const cJSON *components, int check_tree, ctl_seq_check_cb cb, void *arg);

/* ---- what compositions share (sequence.c, conductor.c) ---- */

/* Atomic actions a sequence tree has run so far. */
struct ctl_seq_count {
	int atomic;
	int nest; /* sequences open in the tree now */
};

/* How a composition runs a component that is a conductor action:
 * conductor.c, wired into struct ctl by server.c. */
struct ctl_comp_hooks {
	void (*conductor)(struct ctl_inv *v);
};

/* A component activation of composition parent: the action in ref
 * (taken) with params (taken; NULL = {}) under its own default
 * parameters, for parent's subject, cause = parent's id, done(arg) called
 * with its record. NULL when out of memory (ref and params released). */
struct ctl_inv *ctl_comp_new(struct ctl_inv *parent, struct ctl_ref *ref, cJSON *params,
			     ctl_inv_done_fn done, void *arg);

/* Start component cv: a sequence runs as a nested sequence counting into
 * count (NULL: a count of its own), a conductor action as a composition
 * (conductor.c), anything else is dispatched. */
void ctl_comp_run(struct ctl_inv *cv, struct ctl_seq_count *count);

/* a is a conductor action: the conductor annotation, on a non-sequence. */
int ctl_comp_is_conductor(const struct ctl_action *a);

/* End composition v: its record's logs are ids (taken), its status and
 * result (taken) as given, its memory limit the largest of its steps'. */
void ctl_comp_end(struct ctl_inv *v, cJSON *ids, int status, cJSON *result, int64_t max_memory);

#endif
