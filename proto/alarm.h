/* proto/alarm.h — hearth's built-in alarms feed (/whisk.system/alarms/alarm,
 * /interval, /once) and the fire the scheduler leader sends a controller.
 *
 * An alarm's spec comes from the feed action's parameters, checked with the
 * messages of openwhisk-package-alarms (action/alarmWebAction.js): cron
 * (5 or 6 fields, UTC), minutes, date, trigger_payload, startDate, stopDate,
 * maxTriggers, deleteAfterFire, strict. Dates are epoch ms or ISO 8601
 * strings (a string without a zone is UTC). Its periods are the times it
 * fires: a cron's matches, an interval's start + k * minutes, a date once.
 *
 * Redis (proto/keys.h): the alarm of trigger ns/name is the hash
 * PR_KEY_ALARM {spec, rev, state, reason, changed, fired}; its next period
 * is its score in the zset PR_KEY_ALARMS (absent while paused or done);
 * periods claimed but not yet handed to a controller are members
 * "<ns>/<name>|<period ms>" of PR_KEY_ALARMS_PENDING, scored by claim time.
 * This is the one place these field names are spelled. */
#ifndef PR_ALARM_H
#define PR_ALARM_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "common/cron.h"
#include "common/err.h"
#include "proto/action.h"

#define PR_ALARMS_NS  "whisk.system"
#define PR_ALARMS_PKG "alarms"

/* Controller route (cluster token): one period of an alarm to fire. */
#define PR_ROUTE_INTERNAL_FIRE "/internal/fire"

/* Fields of the hash PR_KEY_ALARM. */
#define PR_ALARM_F_SPEC	   "spec"    /* the spec's JSON (pr_alarm_encode) */
#define PR_ALARM_F_REV	   "rev"     /* changes with every write of the spec */
#define PR_ALARM_F_STATE   "state"   /* PR_ALARM_ACTIVE, _PAUSED or _DONE */
#define PR_ALARM_F_REASON  "reason"  /* why it is not active, "" when it is */
#define PR_ALARM_F_CHANGED "changed" /* ms of the last state change */
#define PR_ALARM_F_FIRED   "fired"   /* periods claimed so far */

#define PR_ALARM_ACTIVE "active"
#define PR_ALARM_PAUSED "paused"
#define PR_ALARM_DONE	"done" /* no period left (stop date, max triggers, fired once) */

enum pr_alarm_kind { PR_ALARM_CRON = 1, PR_ALARM_INTERVAL, PR_ALARM_ONCE };

/* The kind a feed action of the package names ("alarm", "interval",
 * "once"); 0 for any other name. */
int pr_alarm_feed_kind(const char *feed);
const char *pr_alarm_feed_name(enum pr_alarm_kind k);

struct pr_alarm {
	enum pr_alarm_kind kind;
	char cron[128];
	struct hc_cron cr;	    /* cron, parsed */
	int64_t minutes, period_ms; /* interval: as given, and in ms */
	int64_t start_ms, stop_ms;  /* 0 = none */
	int64_t date_ms;	    /* once */
	int64_t max_triggers;	    /* -1 = no limit */
	char delete_after_fire[8];  /* once: "false", "true" or "rules" */
	int strict;		    /* as given (hearth adds no delay either way) */
	cJSON *payload;		    /* an object, owned */
	cJSON *given;		    /* startDate, stopDate, date as given, owned */
};
void pr_alarm_clear(struct pr_alarm *a);

/* CREATE: the feed's parameters into a, at now_ms. minute_ms is the length
 * of an interval's minute (60000; tests shorten it). -1 with the alarms
 * package's message. */
int pr_alarm_from_params(struct pr_alarm *a, enum pr_alarm_kind kind, const cJSON *params,
			 int64_t now_ms, int64_t minute_ms, struct hc_err *err);
/* UPDATE: the updatable parameters over a ("no updatable parameters were
 * specified" when none). */
int pr_alarm_update(struct pr_alarm *a, const cJSON *params, int64_t now_ms, int64_t minute_ms,
		    struct hc_err *err);

/* The spec as stored (malloc'd), and back. */
char *pr_alarm_encode(const struct pr_alarm *a);
int pr_alarm_decode(const char *text, size_t len, struct pr_alarm *a, struct hc_err *err);

/* The first period strictly after after_ms within start and stop; -1 when
 * there is none. (maxTriggers is counted by the claimer.) */
int64_t pr_alarm_next(const struct pr_alarm *a, int64_t after_ms);

/* READ's result, as the package answers it: {config:{name, namespace,
 * payload, strict, startDate?, stopDate?, minutes|cron|date,
 * deleteAfterFire?}, status:{active, dateChanged, dateChangedISO, reason?}}. */
cJSON *pr_alarm_read_result(const struct pr_alarm *a, const char *ns, const char *trigger,
			    const char *state, int64_t changed_ms, const char *reason);

/* A date parameter: epoch ms (a number) or an ISO 8601 string. -1 when it
 * is neither. */
int pr_alarm_date(const cJSON *v, int64_t *ms);

/* ---- the fire: POST PR_ROUTE_INTERNAL_FIRE ----
 * {"namespace","name","period","payload","deleteAfterFire"?}: fire trigger
 * ns/name once for the period (ms) with payload; a once alarm's
 * deleteAfterFire ("true": then delete the trigger; "rules": it and its
 * rules) comes along. The controller answers 202/204 as a fire does, 200
 * {"duplicate":true} when that period was fired already, 404 when the
 * trigger is gone. */
struct pr_alarm_fire {
	char ns[PR_NAME_MAX + 1];
	char name[PR_NAME_MAX + 1];
	int64_t period_ms;
	cJSON *payload;	      /* owned after parse; borrowed for encode */
	char delete_after[8]; /* "", "true" or "rules" */
};
char *pr_alarm_fire_encode(const struct pr_alarm_fire *f);
int pr_alarm_fire_parse(const char *body, size_t len, struct pr_alarm_fire *f, struct hc_err *err);
#define PR_ALARM_F_DUPLICATE "duplicate"

/* A pending period's member "<ns>/<name>|<period>" and back (id: "ns/name"). */
void pr_alarm_pending_member(char *out, size_t outlen, const char *id, int64_t period_ms);
int pr_alarm_pending_parse(const char *m, char *id, size_t idlen, int64_t *period_ms);

#endif
