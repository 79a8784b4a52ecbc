/* common/cron.h — cron expressions and their next match (pure, no I/O).
 *
 * The alarms feed's syntax (openwhisk-package-alarms, node-cron): five
 * fields "minute hour day-of-month month day-of-week", or six with a
 * leading second. Each field is "*", a number, a range "a-b", a step
 * "*\/n" or "a-b/n" or "a/n", or a comma list of those; months take
 * jan..dec and days sun..sat (0 and 7 are Sunday). When both day fields
 * are restricted a day matches either (Vixie cron). Times are UTC.
 *
 * Both daemons use it: the controller checks an alarm's cron and computes
 * its first period, the scheduler leader computes each next one. */
#ifndef HC_CRON_H
#define HC_CRON_H

#include <stdint.h>

#include "common/err.h"

struct hc_cron {
	uint64_t sec, min;    /* bit n: second / minute n matches */
	uint32_t hour, dom;   /* bit n: hour n, day of month n (1..31) */
	uint16_t mon;	      /* bit n: month n (1..12) */
	uint8_t dow;	      /* bit n: weekday n (0 = Sunday .. 6) */
	int dom_any, dow_any; /* the field was "*" (or "?") */
	int seconds;	      /* six fields: the first is the second */
};

/* Parse expr. 0, or -1 with err naming the field that is wrong. */
int hc_cron_parse(const char *expr, struct hc_cron *c, struct hc_err *err);

/* The first whole second strictly after after_ms (unix ms) that c matches,
 * in unix ms; -1 when none comes within eight years (e.g. "0 0 30 2 *"). */
int64_t hc_cron_next(const struct hc_cron *c, int64_t after_ms);

#endif
