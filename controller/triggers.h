/* controller/triggers.h — the REST handlers of triggers (triggers.c), rules
 * (rules.c) and the built-in alarms feed (alarmfeed.c), with api.h's
 * conventions (ctl_api_fn: they run after auth, with the caller). */
#ifndef CTL_TRIGGERS_H
#define CTL_TRIGGERS_H

#include <stdint.h>

#include "controller/api.h"

/* /api/v1/namespaces/{ns}/triggers[/{name}] */
void ctl_triggers_list(struct hc_req *req, const struct ctl_caller *who);
void ctl_trigger_get(struct hc_req *req, const struct ctl_caller *who);
void ctl_trigger_put(struct hc_req *req, const struct ctl_caller *who);
void ctl_trigger_delete(struct hc_req *req, const struct ctl_caller *who);
void ctl_trigger_fire(struct hc_req *req, const struct ctl_caller *who); /* POST */

/* /api/v1/namespaces/{ns}/rules[/{name}] */
void ctl_rules_list(struct hc_req *req, const struct ctl_caller *who);
void ctl_rule_get(struct hc_req *req, const struct ctl_caller *who);
void ctl_rule_put(struct hc_req *req, const struct ctl_caller *who);
void ctl_rule_delete(struct hc_req *req, const struct ctl_caller *who);
void ctl_rule_post(struct hc_req *req, const struct ctl_caller *who); /* {"status": ...} */

/* /api/v1/namespaces/whisk.system/actions/alarms/{feed}: the feed actions,
 * invoked (POST, any caller) and read (GET). */
void ctl_alarm_feed_invoke(struct hc_req *req, const struct ctl_caller *who);
void ctl_alarm_feed_get(struct hc_req *req, const struct ctl_caller *who);

/* POST /internal/fire (cluster token): one period of an alarm, from the
 * scheduler leader (proto/alarm.h). */
void ctl_h_internal_fire(struct hc_req *req, void *arg);

/* A list's skip, limit (0 = the maximum, 200) and count, with OpenWhisk's
 * messages for collection ("triggers", "rules"). 0, or -1 after answering
 * 400. */
int ctl_list_params(struct hc_req *req, const char *collection, int64_t *skip, int64_t *limit,
		    int *count);

#endif
