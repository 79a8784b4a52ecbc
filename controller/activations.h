/* controller/activations.h — the activation read API's Redis scripts. */
#ifndef CTL_ACTIVATIONS_H
#define CTL_ACTIVATIONS_H

#include <stdint.h>

#include "controller/ctl.h"
#include "proto/activation.h"

/* KEYS: each record's log and hash (PR_KEY_ACT_LOG, PR_KEY_ACTIVATION),
 * pair by pair; ARGV: their ids, in the same order. Returns the records
 * (nil for one that expired). */
extern const char *const ctl_records_lua;

/* KEYS[1]: a namespace's slice directory, or one action's
 * (PR_KEY_ACT_DIR). ARGV: the namespace's slice key prefix
 * (PR_KEY_ACT_SLICE up to the name), its names key prefix
 * (PR_KEY_ACT_NAMES up to the slice number), the action name ("" = every
 * name), since, upto (start ms, inclusive), skip, limit, "1" to count
 * instead of listing, PR_ACT_SLICE_MS, the cursor ("" to begin), the most
 * slices and the most lists to read, and since and upto as the first and
 * last ids that start then (ids sort by start). Returns {ids started in [since, upto]
 * newest first after skip (at most limit), how many there are in the
 * slices read, skip left, the cursor to go on from ("" when done)}. */
extern const char *const ctl_index_lua;

#endif
