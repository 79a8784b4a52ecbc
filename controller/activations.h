/* controller/activations.h — writing activation records. */
#ifndef CTL_ACTIVATIONS_H
#define CTL_ACTIVATIONS_H

#include "controller/ctl.h"
#include "proto/activation.h"

/* Store the record with the activation TTL and index it under the invoking
 * namespace (fire and forget on L's Redis connection). Returns 0, or -1
 * when it could not be encoded. */
int ctl_record_write(struct ctl_loop *L, const struct pr_activation *a);

#endif
