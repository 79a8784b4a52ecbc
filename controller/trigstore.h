/* controller/trigstore.h — triggers, rules and alarms in Redis: the reads
 * and writes that span more than one key, each one Lua script (atomic).
 *
 * A trigger is its document (entity.c's, collection ctl_coll_triggers)
 * plus the hash of its rule links (PR_KEY_TRIGGER_RULES) and, for the
 * built-in alarms feed, its alarm (PR_KEY_ALARM, PR_KEY_ALARMS). A rule is
 * its document (ctl_coll_rules). The invariants the scripts keep:
 *  - a link is written only while its trigger's document exists, in the
 *    same script that writes the rule's document; a rule's delete removes
 *    its link; a rule moved to another trigger leaves the old one in the
 *    same script. So no trigger ever holds a link to a missing rule.
 *  - deleting a trigger deletes its links and its alarm with its document.
 *    Rules that named it stay, as in OpenWhisk: they read as inactive, can
 *    be deleted, and are linked again when enabled once a trigger of that
 *    name exists.
 *  - an alarm is written only while its trigger's document exists.
 *
 * Every call returns 0 and its callback then runs exactly once on a later
 * loop turn, or -1 when it could not be started (the callback will not
 * run). Statuses: 0 done, 404 absent, 409 changed since read, 503 Redis
 * unreachable, 500 out of memory. */
#ifndef CTL_TRIGSTORE_H
#define CTL_TRIGSTORE_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "controller/ctl.h"
#include "controller/entity.h"
#include "proto/trigger.h"

/* A trigger as read: its document and its links ({"ns/rule": link}, NULL
 * when it has none). The receiver owns both. */
struct ctl_trigger {
	struct ctl_entity_doc d;
	cJSON *rules;
};
void ctl_trigger_clear(struct ctl_trigger *t);

typedef void (*ctl_trigger_cb)(int status, struct ctl_trigger *t, void *arg);
/* Read trigger ns/name with its links (t zeroed unless status 0). */
int ctl_trig_read(struct ctl_loop *L, const char *ns, const char *name, ctl_trigger_cb cb,
		  void *arg);
/* Delete trigger ns/name: document, links and alarm; t is what was
 * deleted. 404 when there was none. */
int ctl_trig_delete(struct ctl_loop *L, const char *ns, const char *name, ctl_trigger_cb cb,
		    void *arg);
/* The same, and with with_rules the rules it links too (a once alarm's
 * deleteAfterFire "rules"). */
int ctl_trig_delete_all(struct ctl_loop *L, const char *ns, const char *name, int with_rules,
			ctl_trigger_cb cb, void *arg);

/* status and, when 0, whether the rule's link is active. */
typedef void (*ctl_rule_cb)(int status, int active, void *arg);

/* Write rule ns/name as doc if its stored text is still old_raw (NULL: no
 * rule may exist), linking it into trigger with action: active when
 * create, else with the status of its link in old_trigger (the trigger it
 * named before; inactive when none), which loses the link. 409 when the
 * rule changed, 404 when trigger is gone. */
int ctl_rule_write(struct ctl_loop *L, const char *ns, const char *name, const char *old_raw,
		   const cJSON *doc, const struct pr_fqn *trigger, const struct pr_fqn *old_trigger,
		   const struct pr_fqn *action, int create, ctl_rule_cb cb, void *arg);
/* Delete rule ns/name (stored text old_raw) and its link in trigger. 409
 * when it changed, 404 when it is gone. */
int ctl_rule_remove(struct ctl_loop *L, const char *ns, const char *name, const char *old_raw,
		    const struct pr_fqn *trigger, ctl_rule_cb cb, void *arg);
/* Link rule ns/name (stored text old_raw) into trigger with action and
 * active or not. 404 when the trigger is gone, 409 when the rule changed. */
int ctl_rule_set_status(struct ctl_loop *L, const char *ns, const char *name, const char *old_raw,
			const struct pr_fqn *trigger, const struct pr_fqn *action, int active,
			ctl_rule_cb cb, void *arg);
/* Whether trigger links rule ("ns/rule") actively: 0 with active 0 also
 * when there is no such link or trigger. */
int ctl_rule_link_status(struct ctl_loop *L, const struct pr_fqn *trigger, const char *rule,
			 ctl_rule_cb cb, void *arg);

/* ---- alarms (proto/alarm.h) ---- */

typedef void (*ctl_store_cb)(int status, void *arg);
/* Write the alarm of trigger ns/name: spec (pr_alarm_encode), first period
 * (-1: none, the alarm is done). update keeps the count of fired periods
 * and a paused state, and is 404 when there is no alarm; otherwise a new
 * alarm replaces any. 404 also when the trigger is gone. */
int ctl_alarm_put(struct ctl_loop *L, const char *ns, const char *name, const char *spec,
		  int64_t first, int update, ctl_store_cb cb, void *arg);
/* Delete the alarm: 0, or 404 when there was none. */
int ctl_alarm_remove(struct ctl_loop *L, const char *ns, const char *name, ctl_store_cb cb,
		     void *arg);
/* Set the alarm's state (PR_ALARM_*) and reason; next is its next period
 * when it becomes active (-1 none). 404 when there is no alarm. */
int ctl_alarm_set_state(struct ctl_loop *L, const char *ns, const char *name, const char *state,
			const char *reason, int64_t next, ctl_store_cb cb, void *arg);
/* The alarm's hash as an object of strings ({spec, rev, state, ...}), or
 * NULL with 404 / 503. */
typedef void (*ctl_alarm_cb)(int status, cJSON *fields, void *arg);
int ctl_alarm_read(struct ctl_loop *L, const char *ns, const char *name, ctl_alarm_cb cb,
		   void *arg);
/* Mark period of trigger ns/name fired (SET NX, a day): 0 when this is the
 * first time, 409 when it was fired already, 503. */
int ctl_alarm_mark_fired(struct ctl_loop *L, const char *ns, const char *name, int64_t period,
			 ctl_store_cb cb, void *arg);
/* Forget that mark (the fire could not be started after all). */
void ctl_alarm_unmark_fired(struct ctl_loop *L, const char *ns, const char *name, int64_t period);

int ctl_trig_loop_init(struct ctl_loop *L);
void ctl_trig_loop_fini(struct ctl_loop *L);

#endif
