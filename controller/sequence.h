/* controller/sequence.h — sequences: components run one after another as
 * activations of their own (cause = the sequence's id), each one's result
 * the next one's argument; the first failure ends the chain. Above the
 * activation module, which it drives through ctl_inv_dispatch and the
 * done callback. */
#ifndef CTL_SEQUENCE_H
#define CTL_SEQUENCE_H

#include "controller/activation.h"

/* Run v (an activation of a sequence action) to its end. */
void ctl_seq_start(struct ctl_inv *v);

#endif
