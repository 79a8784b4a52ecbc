/* fuzz_trigger_doc.c — what triggers, rules and alarms read from outside:
 * trigger and rule PUT bodies and the documents built on them, a rule
 * link, the alarms feed's parameters (cron, dates, minutes) and the
 * periods they give, and the scheduler's fire message. The first byte
 * picks the parser; the rest is the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "proto/alarm.h"
#include "proto/trigger.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void trigger_put(const char *s, size_t n)
{
	struct pr_entity_put p;
	struct hc_err err;
	int status;
	if (pr_trigger_put_decode(s, n, &p, &status, &err) < 0)
		return;
	cJSON *doc = pr_trigger_build(NULL, &p, "guest", "t", 1);
	cJSON *up = doc ? pr_trigger_build(doc, &p, "guest", "t", 2) : NULL;
	cJSON *api = up ? pr_trigger_to_api(up, p.parameters) : NULL;
	cJSON *sum = doc ? pr_entity_summary(doc) : NULL;
	(void)pr_trigger_feed(up);
	cJSON_Delete(api);
	cJSON_Delete(sum);
	cJSON_Delete(up);
	cJSON_Delete(doc);
	pr_entity_put_free(&p);
}

static void rule_put(const char *s, size_t n)
{
	struct pr_entity_put p;
	struct hc_err err;
	struct pr_fqn t, a;
	int status, active;
	if (pr_rule_put_decode(s, n, "guest", &p, &status, &err) < 0)
		return;
	if (p.has_trigger && p.has_action) {
		cJSON *doc = pr_rule_build(NULL, &p, "guest", "r", 1);
		if (doc && pr_rule_refs(doc, &t, &a) == 0) {
			char *prefix = pr_rule_link_prefix(&a);
			if (prefix) {
				size_t k = strlen(prefix);
				char *link = malloc(k + 16);
				memcpy(link, prefix, k);
				memcpy(link + k, "active\"}", 9);
				if (pr_rule_link_parse(link, strlen(link), &a, &active) < 0 ||
				    !active)
					abort(); /* a link we wrote must read back */
				free(link);
				free(prefix);
			}
			cJSON *api = pr_rule_to_api(doc, "active");
			cJSON_Delete(api);
		}
		cJSON_Delete(doc);
	}
	pr_entity_put_free(&p);
}

static void alarm_params(const char *s, size_t n, int kind)
{
	struct pr_alarm a;
	struct hc_err err;
	cJSON *p = hc_json_parse(s, n, HC_JSON_MAX_DEPTH, NULL);
	if (!p)
		return;
	if (pr_alarm_from_params(&a, kind, p, 1700000000000, 60000, &err) == 0) {
		int64_t t = pr_alarm_next(&a, 1700000000000);
		for (int i = 0; i < 3 && t >= 0; i++) {
			int64_t u = pr_alarm_next(&a, t);
			if (u >= 0 && u <= t)
				abort(); /* periods only go forward */
			t = u;
		}
		char *text = pr_alarm_encode(&a);
		struct pr_alarm b;
		if (text && pr_alarm_decode(text, strlen(text), &b, &err) == 0) {
			(void)pr_alarm_update(&b, p, 1700000000000, 60000, &err);
			pr_alarm_clear(&b);
		}
		free(text);
	}
	pr_alarm_clear(&a);
	cJSON_Delete(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const char *s = (const char *)data + 1;
	size_t n = size - 1;
	struct pr_alarm_fire f;
	struct hc_err err;
	switch (data[0] % 6) {
	case 0:
		trigger_put(s, n);
		break;
	case 1:
		rule_put(s, n);
		break;
	case 2:
	case 3:
	case 4:
		alarm_params(s, n, data[0] % 6 - 1);
		break;
	default:
		if (pr_alarm_fire_parse(s, n, &f, &err) == 0)
			cJSON_Delete(f.payload);
		break;
	}
	return 0;
}
