/* proto/limits.h — a namespace's limits: OpenWhisk's throttles
 * (invocations per minute, concurrent invocations, trigger fires per
 * minute) and hearth's quotas on what a namespace stores (actions, their
 * code, log bytes a day); the operator's overrides (the PR_KEY_NS_LIMITS
 * hash, written by `hearth admin limits`) and the /limits document.
 *
 * The override hash holds these fields, each a whole number >= 0; a field
 * that is absent takes the controller's default. Its field names are the
 * /limits document's. */
#ifndef PR_LIMITS_H
#define PR_LIMITS_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "proto/action.h"

#define PR_LIM_F_INVOKES    "invocationsPerMinute"
#define PR_LIM_F_CONCURRENT "concurrentInvocations"
#define PR_LIM_F_FIRES	    "firesPerMinute"
#define PR_LIM_F_ACTIONS    "maxActions"
#define PR_LIM_F_CODE	    "maxCodeBytes"
#define PR_LIM_F_LOGS	    "maxLogBytesPerDay"

struct pr_ns_limits {
	int64_t invocations_per_minute;
	int64_t concurrent_invocations;
	int64_t fires_per_minute;
	int64_t max_actions;
	int64_t max_code_bytes;	   /* the code of all its actions, as uploaded */
	int64_t max_log_bytes_day; /* log lines stored per day (UTC) */
};

/* Set the field named field (a PR_LIM_F_*) of l to value, a decimal whole
 * number in [0, 2^53]. 1 when set, 0 for a field this version does not
 * know (ignored), -1 for a bad value. */
int pr_ns_limits_set(struct pr_ns_limits *l, const char *field, const char *value);

/* Apply an override hash as HGETALL returns it (n strings: field, value,
 * ...) over l; bad or unknown fields are skipped. */
void pr_ns_limits_apply(struct pr_ns_limits *l, const char *const *kv, size_t n);

/* "1024", "64k", "48m", "2g" (powers of 1024) into bytes. 0 or -1. */
int pr_size_parse(const char *s, int64_t *out);

/* GET /namespaces/{ns}/limits in OpenWhisk's shape and units
 * (Limits.scala, UserLimits): invocationsPerMinute, concurrentInvocations,
 * firesPerMinute, min/maxActionMemory (MB), min/maxActionLogs (MB),
 * min/maxActionTimeout (ms), min/maxActionConcurrency, maxParameterSize
 * ("1 MB", a ByteSize), maxActionInstances (= concurrentInvocations, as
 * OpenWhisk answers), then hearth's quotas (maxActions, maxCodeBytes,
 * maxLogBytesPerDay). Caller frees; NULL on ENOMEM. */
cJSON *pr_ns_limits_json(const struct pr_ns_limits *l, const struct pr_limit_bounds *b,
			 int64_t max_param_bytes);

/* A byte count as OpenWhisk's ByteSize prints it: "1 MB" when a whole
 * number of MB, else "N KB", else "N B". */
void pr_byte_size(int64_t bytes, char *out, size_t outlen);

#endif
