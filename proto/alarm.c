/* proto/alarm.c — the alarms feed's specs, periods and fires (see alarm.h). */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/json.h"
#include "proto/alarm.h"

static const char *const feed_names[] = {NULL, "alarm", "interval", "once"};

int pr_alarm_feed_kind(const char *feed)
{
	for (int k = PR_ALARM_CRON; k <= PR_ALARM_ONCE; k++)
		if (feed && !strcmp(feed, feed_names[k]))
			return k;
	return 0;
}

const char *pr_alarm_feed_name(enum pr_alarm_kind k)
{
	return k >= PR_ALARM_CRON && k <= PR_ALARM_ONCE ? feed_names[k] : "?";
}

void pr_alarm_clear(struct pr_alarm *a)
{
	cJSON_Delete(a->payload);
	cJSON_Delete(a->given);
	memset(a, 0, sizeof(*a));
}

/* ---- parameters ---- */

/* JavaScript's !v: absent, null, false, 0, "" (and NaN). */
static int falsy(const cJSON *v)
{
	return !v || cJSON_IsNull(v) || cJSON_IsFalse(v) ||
	       (cJSON_IsNumber(v) && (v->valuedouble == 0 || isnan(v->valuedouble))) ||
	       (cJSON_IsString(v) && !v->valuestring[0]);
}

/* A value as JavaScript's template strings print it, into out. */
static void js_text(const cJSON *v, char *out, size_t n)
{
	if (cJSON_IsString(v)) {
		snprintf(out, n, "%s", v->valuestring);
	} else if (cJSON_IsNumber(v)) {
		snprintf(out, n, "%.17g", v->valuedouble);
	} else {
		char *t = v ? cJSON_PrintUnformatted(v) : NULL;
		snprintf(out, n, "%s", t ? t : "undefined");
		free(t);
	}
}

static int digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++, (*p)++) {
		if (!isdigit((unsigned char)**p))
			return -1;
		v = v * 10 + (**p - '0');
	}
	*out = v;
	return 0;
}

/* ISO 8601: YYYY-MM-DD[(T| )HH:MM[:SS[.fff]]][Z|(+|-)HH[:]MM]. */
static int iso_parse(const char *s, int64_t *ms)
{
	struct tm tm;
	int y, mo, d, h = 0, mi = 0, sec = 0, frac = 0, oh = 0, om = 0, sign = 0;
	memset(&tm, 0, sizeof(tm));
	if (digits(&s, 4, &y) || *s++ != '-' || digits(&s, 2, &mo) || *s++ != '-' ||
	    digits(&s, 2, &d))
		return -1;
	if (*s == 'T' || *s == 't' || *s == ' ') {
		s++;
		if (digits(&s, 2, &h) || *s++ != ':' || digits(&s, 2, &mi))
			return -1;
		if (*s == ':') {
			s++;
			if (digits(&s, 2, &sec))
				return -1;
			if (*s == '.') {
				int n = 0;
				for (s++; isdigit((unsigned char)*s); s++, n++)
					if (n < 3)
						frac = frac * 10 + (*s - '0');
				if (n == 0)
					return -1;
				for (; n < 3; n++)
					frac *= 10;
			}
		}
		if (*s == 'Z' || *s == 'z') {
			s++;
		} else if (*s == '+' || *s == '-') {
			sign = *s++ == '+' ? 1 : -1;
			if (digits(&s, 2, &oh))
				return -1;
			if (*s == ':')
				s++;
			if (digits(&s, 2, &om))
				return -1;
		}
	}
	if (*s || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 24 || mi > 59 || sec > 60 ||
	    oh > 23 || om > 59)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	time_t t = timegm(&tm);
	if (t == (time_t)-1 && !(y == 1969 && mo == 12 && d == 31))
		return -1;
	*ms = (int64_t)t * 1000 + frac - (int64_t)sign * (oh * 3600 + om * 60) * 1000;
	return 0;
}

int pr_alarm_date(const cJSON *v, int64_t *ms)
{
	if (cJSON_IsNumber(v)) {
		if (!isfinite(v->valuedouble) || fabs(v->valuedouble) > 8.64e15)
			return -1;
		*ms = (int64_t)v->valuedouble;
		return 0;
	}
	return cJSON_IsString(v) ? iso_parse(v->valuestring, ms) : -1;
}

/* alarmWebAction.js validateDate: valid, in the future, after start. */
static int check_date(const cJSON *v, const char *what, int64_t now_ms, const cJSON *start,
		      int64_t start_ms, int64_t *ms, struct hc_err *err)
{
	char text[128], st[128];
	js_text(v, text, sizeof(text));
	if (pr_alarm_date(v, ms) < 0)
		return hc_err_set(err, "%s parameter '%s' is not a valid Date", what, text);
	if (now_ms >= *ms)
		return hc_err_set(err, "%s parameter '%s' must be in the future", what, text);
	if (start && *ms <= start_ms) {
		js_text(start, st, sizeof(st));
		return hc_err_set(err,
				  "%s parameter '%s' must be greater than the startDate parameter "
				  "'%s'",
				  what, text, st);
	}
	return 0;
}

/* The payload a fire sends: an object ({"payload": v} for anything else,
 * as the package makes of a string). */
static cJSON *payload_of(const cJSON *v)
{
	if (cJSON_IsObject(v))
		return cJSON_Duplicate(v, 1);
	cJSON *o = cJSON_CreateObject();
	if (o && v && !falsy(v))
		cJSON_AddItemToObject(o, "payload", cJSON_Duplicate(v, 1));
	return o;
}

static int set_given(struct pr_alarm *a, const char *key, const cJSON *v)
{
	if (!a->given && !(a->given = cJSON_CreateObject()))
		return -1;
	cJSON *d = cJSON_Duplicate(v, 1);
	if (!d)
		return -1;
	cJSON_DeleteItemFromObjectCaseSensitive(a->given, key);
	cJSON_AddItemToObject(a->given, key, d);
	return 0;
}

static int minutes_of(const cJSON *v, int64_t *out, struct hc_err *err)
{
	/* +v !== parseInt(v): whole numbers (or their text) only */
	double d = NAN;
	if (cJSON_IsNumber(v)) {
		d = v->valuedouble;
	} else if (cJSON_IsString(v)) {
		char *end;
		d = strtod(v->valuestring, &end);
		while (isspace((unsigned char)*end))
			end++;
		if (*end || end == v->valuestring)
			d = NAN;
	}
	if (!isfinite(d) || d != floor(d) || fabs(d) > 1e9)
		return hc_err_set(err, "the minutes parameter must be an integer");
	if (d <= 0)
		return hc_err_set(err,
				  "the minutes parameter must be an integer greater than zero");
	*out = (int64_t)d;
	return 0;
}

static int cron_of(struct pr_alarm *a, const cJSON *v, const cJSON *tz, struct hc_err *err)
{
	char text[128];
	js_text(v, text, sizeof(text));
	if (!falsy(tz) && !(cJSON_IsString(tz) && (!strcmp(tz->valuestring, "UTC") ||
						   !strcmp(tz->valuestring, "Etc/UTC"))))
		return hc_err_set(err, "Invalid timezone. hearth's alarms run in UTC: leave "
				       "timezone out or set it to UTC");
	if (!cJSON_IsString(v) || strlen(v->valuestring) >= sizeof(a->cron) ||
	    hc_cron_parse(v->valuestring, &a->cr, NULL) < 0)
		return hc_err_set(err, "cron pattern '%s' is not valid", text);
	snprintf(a->cron, sizeof(a->cron), "%s", v->valuestring);
	return 0;
}

static int delete_after_fire_of(struct pr_alarm *a, const cJSON *v, struct hc_err *err)
{
	char text[64], *p = text;
	js_text(v, text, sizeof(text));
	while (isspace((unsigned char)*p))
		p++;
	for (char *q = p; *q; q++)
		*q = (char)tolower((unsigned char)*q);
	for (size_t n = strlen(p); n && isspace((unsigned char)p[n - 1]); n--)
		p[n - 1] = '\0';
	if (strcmp(p, "false") && strcmp(p, "true") && strcmp(p, "rules"))
		return hc_err_set(err, "deleteAfterFire parameter must be one of [false, true, "
				       "rules].");
	snprintf(a->delete_after_fire, sizeof(a->delete_after_fire), "%s", p);
	return 0;
}

static int strict_of(const cJSON *v)
{
	char text[16];
	js_text(v, text, sizeof(text));
	for (char *q = text; *q; q++)
		*q = (char)tolower((unsigned char)*q);
	return !strcmp(text, "true");
}

static const cJSON *param(const cJSON *params, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(params, key);
}

int pr_alarm_from_params(struct pr_alarm *a, enum pr_alarm_kind kind, const cJSON *params,
			 int64_t now_ms, int64_t minute_ms, struct hc_err *err)
{
	const cJSON *v;
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	a->max_triggers = -1;
	if (!(a->payload = payload_of(param(params, "trigger_payload"))))
		return hc_err_set(err, "out of memory");
	if (!falsy(v = param(params, "maxTriggers"))) {
		if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble))
			return hc_err_set(err, "the maxTriggers parameter must be an integer");
		a->max_triggers = v->valuedouble > 0 ? (int64_t)v->valuedouble : -1;
	}
	if (!falsy(v = param(params, "strict")))
		a->strict = strict_of(v);
	if (kind == PR_ALARM_ONCE) {
		if (falsy(v = param(params, "date")))
			return hc_err_set(err,
					  "alarms once trigger feed is missing the date parameter");
		if (check_date(v, "date", now_ms, NULL, 0, &a->date_ms, err) < 0 ||
		    set_given(a, "date", v) < 0)
			return -1;
		snprintf(a->delete_after_fire, sizeof(a->delete_after_fire), "false");
		if (!falsy(v = param(params, "deleteAfterFire")) &&
		    delete_after_fire_of(a, v, err) < 0)
			return -1;
		return 0;
	}
	if (kind == PR_ALARM_INTERVAL) {
		if (falsy(v = param(params, "minutes")))
			return hc_err_set(err,
					  "interval trigger feed is missing the minutes parameter");
		if (minutes_of(v, &a->minutes, err) < 0)
			return -1;
		a->period_ms = a->minutes * minute_ms;
	} else {
		if (falsy(v = param(params, "cron")))
			return hc_err_set(err, "alarms trigger feed is missing the cron parameter");
		if (cron_of(a, v, param(params, "timezone"), err) < 0)
			return -1;
	}
	const cJSON *start = param(params, "startDate"), *stop = param(params, "stopDate");
	if (!falsy(start)) {
		if (check_date(start, "startDate", now_ms, NULL, 0, &a->start_ms, err) < 0 ||
		    set_given(a, "startDate", start) < 0)
			return -1;
	} else if (kind == PR_ALARM_INTERVAL) {
		/* the package starts an interval half a minute from now */
		a->start_ms = now_ms + minute_ms / 2;
		cJSON *n = cJSON_CreateNumber((double)a->start_ms);
		int rc = n ? set_given(a, "startDate", n) : -1;
		cJSON_Delete(n);
		if (rc < 0)
			return hc_err_set(err, "out of memory");
		start = cJSON_GetObjectItemCaseSensitive(a->given, "startDate");
	}
	if (a->max_triggers > 0 && !falsy(stop))
		return hc_err_set(err,
				  kind == PR_ALARM_INTERVAL
				      ? "maxTriggers is not supported for the interval trigger "
					"feed"
				      : "maxTriggers is not allowed when the stopDate parameter "
					"is specified");
	if (!falsy(stop)) {
		if (check_date(stop, "stopDate", now_ms, falsy(start) ? NULL : start, a->start_ms,
			       &a->stop_ms, err) < 0 ||
		    set_given(a, "stopDate", stop) < 0)
			return -1;
		if (kind == PR_ALARM_CRON && pr_alarm_next(a, now_ms) < 0)
			return hc_err_set(err,
					  "the first scheduled trigger fire is not until after "
					  "the stop date");
	}
	return 0;
}

int pr_alarm_update(struct pr_alarm *a, const cJSON *params, int64_t now_ms, int64_t minute_ms,
		    struct hc_err *err)
{
	const cJSON *v;
	int changed = 0;
	if (!falsy(v = param(params, "trigger_payload"))) {
		cJSON *p = payload_of(v);
		if (!p)
			return hc_err_set(err, "out of memory");
		cJSON_Delete(a->payload);
		a->payload = p;
		changed = 1;
	}
	if (a->kind == PR_ALARM_ONCE) {
		if (!falsy(v = param(params, "date"))) {
			if (check_date(v, "date", now_ms, NULL, 0, &a->date_ms, err) < 0 ||
			    set_given(a, "date", v) < 0)
				return -1;
			changed = 1;
		}
		if (!falsy(v = param(params, "deleteAfterFire"))) {
			if (delete_after_fire_of(a, v, err) < 0)
				return -1;
			changed = 1;
		}
		return changed ? 0 : hc_err_set(err, "no updatable parameters were specified");
	}
	if (a->kind == PR_ALARM_INTERVAL) {
		if (!falsy(v = param(params, "minutes"))) {
			if (minutes_of(v, &a->minutes, err) < 0)
				return -1;
			a->period_ms = a->minutes * minute_ms;
			changed = 1;
		}
	} else {
		const cJSON *tz = param(params, "timezone");
		if (!falsy(v = param(params, "cron")) || !falsy(tz)) {
			cJSON *cur = cJSON_CreateString(a->cron);
			int rc = cron_of(a, falsy(v) ? cur : v, tz, err);
			cJSON_Delete(cur);
			if (rc < 0)
				return -1;
			changed = 1;
		}
		if (param(params, "strict")) {
			a->strict = strict_of(param(params, "strict"));
			changed = 1;
		}
	}
	const cJSON *start = param(params, "startDate"), *stop = param(params, "stopDate");
	if (!falsy(start)) {
		if (check_date(start, "startDate", now_ms, NULL, 0, &a->start_ms, err) < 0 ||
		    set_given(a, "startDate", start) < 0)
			return -1;
		changed = 1;
	}
	if (!falsy(stop)) {
		const cJSON *s =
		    falsy(start) ? cJSON_GetObjectItemCaseSensitive(a->given, "startDate") : start;
		if (check_date(stop, "stopDate", now_ms, s, a->start_ms, &a->stop_ms, err) < 0 ||
		    set_given(a, "stopDate", stop) < 0)
			return -1;
		changed = 1;
	} else if (!falsy(start) && a->stop_ms && a->start_ms >= a->stop_ms) {
		char st[128], sp[128];
		js_text(start, st, sizeof(st));
		js_text(cJSON_GetObjectItemCaseSensitive(a->given, "stopDate"), sp, sizeof(sp));
		return hc_err_set(err,
				  "startDate parameter '%s' must be less than the stopDate "
				  "parameter '%s'",
				  st, sp);
	}
	return changed ? 0 : hc_err_set(err, "no updatable parameters were specified");
}

/* ---- stored form ---- */

char *pr_alarm_encode(const struct pr_alarm *a)
{
	cJSON *j = cJSON_CreateObject();
	char *t = NULL;
	if (!j)
		return NULL;
	int bad = hc_json_add_str(j, "kind", pr_alarm_feed_name(a->kind)) |
		  hc_json_add_str(j, "cron", a->cron) | hc_json_add_int(j, "minutes", a->minutes) |
		  hc_json_add_int(j, "period", a->period_ms) |
		  hc_json_add_int(j, "start", a->start_ms) |
		  hc_json_add_int(j, "stop", a->stop_ms) | hc_json_add_int(j, "date", a->date_ms) |
		  hc_json_add_int(j, "maxTriggers", a->max_triggers) |
		  hc_json_add_str(j, "deleteAfterFire", a->delete_after_fire) |
		  hc_json_add_bool(j, "strict", a->strict);
	cJSON *p = a->payload ? cJSON_Duplicate(a->payload, 1) : cJSON_CreateObject();
	cJSON *g = a->given ? cJSON_Duplicate(a->given, 1) : cJSON_CreateObject();
	if (p)
		cJSON_AddItemToObject(j, "payload", p);
	if (g)
		cJSON_AddItemToObject(j, "given", g);
	if (!bad && p && g)
		t = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	return t;
}

int pr_alarm_decode(const char *text, size_t len, struct pr_alarm *a, struct hc_err *err)
{
	const char *kind = NULL;
	memset(a, 0, sizeof(*a));
	cJSON *j = hc_json_parse(text, len, HC_JSON_MAX_DEPTH, err);
	if (!j)
		return -1;
	int bad = hc_json_str(j, "kind", 1, &kind, err) ||
		  hc_json_strcpy(j, "cron", 0, a->cron, sizeof(a->cron), err) ||
		  hc_json_int(j, "minutes", 0, 0, INT64_MAX, &a->minutes, err) ||
		  hc_json_int(j, "period", 0, 0, INT64_MAX, &a->period_ms, err) ||
		  hc_json_int(j, "start", 0, INT64_MIN, INT64_MAX, &a->start_ms, err) ||
		  hc_json_int(j, "stop", 0, INT64_MIN, INT64_MAX, &a->stop_ms, err) ||
		  hc_json_int(j, "date", 0, INT64_MIN, INT64_MAX, &a->date_ms, err) ||
		  hc_json_int(j, "maxTriggers", 0, -1, INT64_MAX, &a->max_triggers, err) ||
		  hc_json_strcpy(j, "deleteAfterFire", 0, a->delete_after_fire,
				 sizeof(a->delete_after_fire), err) ||
		  hc_json_bool(j, "strict", 0, &a->strict, err);
	if (!bad && !(a->kind = pr_alarm_feed_kind(kind)))
		bad = hc_err_set(err, "unknown alarm kind");
	if (!bad && a->kind == PR_ALARM_CRON && hc_cron_parse(a->cron, &a->cr, err) < 0)
		bad = 1;
	if (!bad && a->kind == PR_ALARM_INTERVAL && a->period_ms <= 0)
		bad = hc_err_set(err, "an interval alarm without a period");
	if (!bad) {
		a->payload = cJSON_DetachItemFromObjectCaseSensitive(j, "payload");
		a->given = cJSON_DetachItemFromObjectCaseSensitive(j, "given");
	}
	cJSON_Delete(j);
	if (bad) {
		pr_alarm_clear(a);
		return -1;
	}
	return 0;
}

/* ---- periods ---- */

int64_t pr_alarm_next(const struct pr_alarm *a, int64_t after_ms)
{
	int64_t t = -1;
	switch (a->kind) {
	case PR_ALARM_ONCE:
		return after_ms < a->date_ms ? a->date_ms : -1;
	case PR_ALARM_INTERVAL:
		if (a->period_ms <= 0)
			return -1;
		if (after_ms < a->start_ms)
			t = a->start_ms;
		else
			t = a->start_ms +
			    ((after_ms - a->start_ms) / a->period_ms + 1) * a->period_ms;
		break;
	case PR_ALARM_CRON:
		t = hc_cron_next(&a->cr, a->start_ms && after_ms < a->start_ms ? a->start_ms - 1
									       : after_ms);
		break;
	}
	if (t < 0 || (a->stop_ms && t > a->stop_ms))
		return -1;
	return t;
}

/* moment().utc().format(): "2019-01-01T00:00:00Z" */
static void iso_text(int64_t ms, char *out, size_t n)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	if (!gmtime_r(&t, &tm) || !strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, n, "?");
}

static void add_given(cJSON *o, const struct pr_alarm *a, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(a->given, key);
	if (v)
		cJSON_AddItemToObject(o, key, cJSON_Duplicate(v, 1));
}

cJSON *pr_alarm_read_result(const struct pr_alarm *a, const char *ns, const char *trigger,
			    const char *state, int64_t changed_ms, const char *reason)
{
	char iso[32];
	cJSON *r = cJSON_CreateObject();
	cJSON *c = cJSON_AddObjectToObject(r, "config");
	cJSON *s = cJSON_AddObjectToObject(r, "status");
	if (!c || !s) {
		cJSON_Delete(r);
		return NULL;
	}
	hc_json_add_str(c, "name", trigger);
	hc_json_add_str(c, "namespace", ns);
	cJSON_AddItemToObject(c, "payload",
			      a->payload ? cJSON_Duplicate(a->payload, 1) : cJSON_CreateObject());
	hc_json_add_bool(c, "strict", a->strict);
	if (a->kind == PR_ALARM_ONCE) {
		add_given(c, a, "date");
		hc_json_add_str(c, "deleteAfterFire", a->delete_after_fire);
	} else {
		add_given(c, a, "startDate");
		add_given(c, a, "stopDate");
		if (a->kind == PR_ALARM_INTERVAL)
			hc_json_add_int(c, "minutes", a->minutes);
		else
			hc_json_add_str(c, "cron", a->cron);
	}
	hc_json_add_bool(s, "active", !strcmp(state, PR_ALARM_ACTIVE));
	hc_json_add_int(s, "dateChanged", changed_ms);
	iso_text(changed_ms, iso, sizeof(iso));
	hc_json_add_str(s, "dateChangedISO", iso);
	if (reason && reason[0]) {
		cJSON *why = cJSON_AddObjectToObject(s, "reason");
		if (why) {
			hc_json_add_str(why, "kind", "AUTO");
			hc_json_add_str(why, "message", reason);
		}
	}
	return r;
}

/* ---- the fire ---- */

char *pr_alarm_fire_encode(const struct pr_alarm_fire *f)
{
	cJSON *j = cJSON_CreateObject();
	char *t = NULL;
	if (!j)
		return NULL;
	int bad = hc_json_add_str(j, "namespace", f->ns) | hc_json_add_str(j, "name", f->name) |
		  hc_json_add_int(j, "period", f->period_ms);
	if (f->delete_after[0])
		bad |= hc_json_add_str(j, "deleteAfterFire", f->delete_after);
	cJSON *p = f->payload ? cJSON_Duplicate(f->payload, 1) : cJSON_CreateObject();
	if (p)
		cJSON_AddItemToObject(j, "payload", p);
	if (!bad && p)
		t = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	return t;
}

int pr_alarm_fire_parse(const char *body, size_t len, struct pr_alarm_fire *f, struct hc_err *err)
{
	memset(f, 0, sizeof(*f));
	cJSON *j = hc_json_parse(body, len, HC_JSON_MAX_DEPTH, err);
	if (!j)
		return -1;
	int bad =
	    hc_json_strcpy(j, "namespace", 1, f->ns, sizeof(f->ns), err) ||
	    hc_json_strcpy(j, "name", 1, f->name, sizeof(f->name), err) ||
	    hc_json_int(j, "period", 1, 0, INT64_MAX, &f->period_ms, err) ||
	    hc_json_strcpy(j, "deleteAfterFire", 0, f->delete_after, sizeof(f->delete_after), err);
	if (!bad && f->delete_after[0] && strcmp(f->delete_after, "true") &&
	    strcmp(f->delete_after, "rules"))
		bad = hc_err_set(err, "deleteAfterFire must be true or rules");
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "payload");
	if (!bad && p && !cJSON_IsObject(p))
		bad = hc_err_set(err, "payload must be an object");
	if (!bad)
		f->payload = p ? cJSON_DetachItemViaPointer(j, (cJSON *)p) : NULL;
	cJSON_Delete(j);
	return bad ? -1 : 0;
}

void pr_alarm_pending_member(char *out, size_t outlen, const char *id, int64_t period_ms)
{
	snprintf(out, outlen, "%s|%" PRId64, id, period_ms);
}

int pr_alarm_pending_parse(const char *m, char *id, size_t idlen, int64_t *period_ms)
{
	const char *bar = strrchr(m, '|');
	char *end;
	if (!bar || bar == m || (size_t)(bar - m) >= idlen)
		return -1;
	long long p = strtoll(bar + 1, &end, 10);
	if (*end || end == bar + 1 || p < 0)
		return -1;
	memcpy(id, m, (size_t)(bar - m));
	id[bar - m] = '\0';
	*period_ms = p;
	return 0;
}
