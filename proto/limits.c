/* proto/limits.c — a namespace's limits (see limits.h). */
#include "proto/limits.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"

#define NUM_MAX (1LL << 53) /* what JSON numbers hold exactly */

static const struct {
	const char *field;
	size_t off;
} fields[] = {
    {PR_LIM_F_INVOKES, offsetof(struct pr_ns_limits, invocations_per_minute)},
    {PR_LIM_F_CONCURRENT, offsetof(struct pr_ns_limits, concurrent_invocations)},
    {PR_LIM_F_FIRES, offsetof(struct pr_ns_limits, fires_per_minute)},
    {PR_LIM_F_ACTIONS, offsetof(struct pr_ns_limits, max_actions)},
    {PR_LIM_F_CODE, offsetof(struct pr_ns_limits, max_code_bytes)},
    {PR_LIM_F_LOGS, offsetof(struct pr_ns_limits, max_log_bytes_day)},
};

int pr_ns_limits_set(struct pr_ns_limits *l, const char *field, const char *value)
{
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (strcmp(field, fields[i].field) != 0)
			continue;
		char *end;
		errno = 0;
		long long v = value ? strtoll(value, &end, 10) : -1;
		if (!value || !value[0] || *end || errno || v < 0 || v > NUM_MAX)
			return -1;
		*(int64_t *)((char *)l + fields[i].off) = v;
		return 1;
	}
	return 0;
}

void pr_ns_limits_apply(struct pr_ns_limits *l, const char *const *kv, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		if (kv[i] && kv[i + 1])
			pr_ns_limits_set(l, kv[i], kv[i + 1]);
}

int pr_size_parse(const char *s, int64_t *out)
{
	char *end;
	if (!s || !s[0] || s[0] == '-')
		return -1;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s)
		return -1;
	long long mul = 1;
	switch (*end) {
	case '\0':
		break;
	case 'k':
	case 'K':
		mul = 1LL << 10;
		end++;
		break;
	case 'm':
	case 'M':
		mul = 1LL << 20;
		end++;
		break;
	case 'g':
	case 'G':
		mul = 1LL << 30;
		end++;
		break;
	default:
		return -1;
	}
	if ((*end == 'b' || *end == 'B') && mul > 1)
		end++;
	if (*end || v > NUM_MAX / mul)
		return -1;
	*out = v * mul;
	return 0;
}

void pr_byte_size(int64_t bytes, char *out, size_t outlen)
{
	if (bytes > 0 && bytes % (1 << 20) == 0)
		snprintf(out, outlen, "%lld MB", (long long)(bytes >> 20));
	else if (bytes > 0 && bytes % (1 << 10) == 0)
		snprintf(out, outlen, "%lld KB", (long long)(bytes >> 10));
	else
		snprintf(out, outlen, "%lld B", (long long)bytes);
}

cJSON *pr_ns_limits_json(const struct pr_ns_limits *l, const struct pr_limit_bounds *b,
			 int64_t max_param_bytes)
{
	char ps[32];
	cJSON *j = cJSON_CreateObject();
	if (!j)
		return NULL;
	pr_byte_size(max_param_bytes, ps, sizeof(ps));
	/* UserLimits' field order; memory and logs in MB, timeouts in ms */
	int bad = hc_json_add_int(j, PR_LIM_F_INVOKES, l->invocations_per_minute) |
		  hc_json_add_int(j, PR_LIM_F_CONCURRENT, l->concurrent_invocations) |
		  hc_json_add_int(j, PR_LIM_F_FIRES, l->fires_per_minute) |
		  hc_json_add_int(j, "minActionMemory", b->min.memory_mb) |
		  hc_json_add_int(j, "maxActionMemory", b->max.memory_mb) |
		  hc_json_add_int(j, "minActionLogs", b->min.logs_mb) |
		  hc_json_add_int(j, "maxActionLogs", b->max.logs_mb) |
		  hc_json_add_int(j, "minActionTimeout", b->min.timeout_ms) |
		  hc_json_add_int(j, "maxActionTimeout", b->max.timeout_ms) |
		  hc_json_add_int(j, "minActionConcurrency", b->min.concurrency) |
		  hc_json_add_int(j, "maxActionConcurrency", b->max.concurrency) |
		  hc_json_add_str(j, "maxParameterSize", ps) |
		  hc_json_add_int(j, "maxActionInstances", l->concurrent_invocations) |
		  hc_json_add_int(j, PR_LIM_F_ACTIONS, l->max_actions) |
		  hc_json_add_int(j, PR_LIM_F_CODE, l->max_code_bytes) |
		  hc_json_add_int(j, PR_LIM_F_LOGS, l->max_log_bytes_day);
	if (bad) {
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}
