/* controller/records.h — activation records into Redis, written behind
 * (records.c says how they are stored and indexed). */
#ifndef CTL_RECORDS_H
#define CTL_RECORDS_H

#include <stddef.h>

#include "controller/ctl.h"
#include "proto/activation.h"

/* Store a record (pr_activation_pack, with result_json as there) with the
 * activation TTL and index it by start time under its invoking namespace;
 * fire and forget on L's Redis connection. 0, or -1 when it could not be
 * packed or queued. */
int ctl_record_store(struct ctl_loop *L, const struct pr_activation *a, const char *result_json,
		     size_t result_len);

int ctl_records_loop_init(struct ctl_loop *L);
/* After the loop's Redis client is freed (its callbacks mark the table). */
void ctl_records_loop_fini(struct ctl_loop *L);

#endif
