/* common/cron.c — cron expressions (see cron.h). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/cron.h"

#define EXPR_MAX 256

struct field {
	const char *what;
	int lo, hi;
	const char *const *names; /* names[i] stands for lo + i */
};

static const char *const months[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul",
				     "aug", "sep", "oct", "nov", "dec", NULL};
static const char *const days[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};

static const struct field fields[6] = {
    {"second", 0, 59, NULL},	   {"minute", 0, 59, NULL},  {"hour", 0, 23, NULL},
    {"day of month", 1, 31, NULL}, {"month", 1, 12, months}, {"day of week", 0, 7, days},
};

/* A number or a name at *p; advances *p. -1 when there is neither. */
static int value(const char **p, const struct field *f)
{
	const char *s = *p;
	if (isdigit((unsigned char)*s)) {
		long v = 0;
		while (isdigit((unsigned char)*s) && v < 1000)
			v = v * 10 + (*s++ - '0');
		*p = s;
		return (int)v;
	}
	for (int i = 0; f->names && f->names[i]; i++)
		if (!strncasecmp(s, f->names[i], 3) && !isalpha((unsigned char)s[3])) {
			*p = s + 3;
			return f->lo + i;
		}
	return -1;
}

/* One comma-separated element ("*", "a", "a-b", with "/n") into *mask. */
static int element(const char *s, const struct field *f, uint64_t *mask)
{
	int a, b, step = 1;
	const char *p = s;
	if (*p == '*' || *p == '?') {
		a = f->lo;
		b = f->hi;
		p++;
	} else {
		if ((a = value(&p, f)) < 0)
			return -1;
		b = a;
		if (*p == '-') {
			p++;
			if ((b = value(&p, f)) < 0)
				return -1;
		} else if (*p == '/') {
			b = f->hi; /* "a/n": from a to the end */
		}
	}
	if (*p == '/') {
		p++;
		if (!isdigit((unsigned char)*p) || (step = value(&p, f)) <= 0)
			return -1;
	}
	if (*p || a < f->lo || b > f->hi || a > b)
		return -1;
	for (int v = a; v <= b; v += step)
		*mask |= (uint64_t)1 << v;
	return 0;
}

static int parse_field(char *text, const struct field *f, uint64_t *mask, int *any)
{
	char *save = NULL;
	*mask = 0;
	*any = !strcmp(text, "*") || !strcmp(text, "?");
	if (text[0] == ',' || text[strlen(text) - 1] == ',' || strstr(text, ",,"))
		return -1;
	for (char *e = strtok_r(text, ",", &save); e; e = strtok_r(NULL, ",", &save))
		if (element(e, f, mask) < 0)
			return -1;
	return *mask ? 0 : -1;
}

int hc_cron_parse(const char *expr, struct hc_cron *c, struct hc_err *err)
{
	char buf[EXPR_MAX], *tok[7], *save = NULL;
	int n = 0;
	memset(c, 0, sizeof(*c));
	if (!expr || strlen(expr) >= sizeof(buf))
		return hc_err_set(err, "cron: expected 5 or 6 fields");
	memcpy(buf, expr, strlen(expr) + 1);
	for (char *t = strtok_r(buf, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		if (n == 7)
			return hc_err_set(err, "cron: expected 5 or 6 fields");
		tok[n++] = t;
	}
	if (n != 5 && n != 6)
		return hc_err_set(err, "cron: expected 5 or 6 fields");
	c->seconds = n == 6;
	uint64_t m[6];
	int any[6] = {0};
	m[0] = 1; /* five fields: at second 0 */
	for (int i = c->seconds ? 0 : 1, k = 0; i < 6; i++, k++)
		if (parse_field(tok[k], &fields[i], &m[i], &any[i]) < 0)
			return hc_err_set(err, "cron: the %s field '%s' is not valid",
					  fields[i].what, tok[k]);
	if (m[5] & ((uint64_t)1 << 7))
		m[5] = (m[5] | 1) & 0x7f; /* 7 is Sunday too */
	c->sec = m[0];
	c->min = m[1];
	c->hour = (uint32_t)m[2];
	c->dom = (uint32_t)m[3];
	c->mon = (uint16_t)m[4];
	c->dow = (uint8_t)m[5];
	c->dom_any = any[3];
	c->dow_any = any[5];
	return 0;
}

static int day_matches(const struct hc_cron *c, const struct tm *tm)
{
	int dom = (c->dom >> tm->tm_mday) & 1, dow = (c->dow >> tm->tm_wday) & 1;
	if (c->dom_any && c->dow_any)
		return 1;
	if (c->dom_any)
		return dow;
	if (c->dow_any)
		return dom;
	return dom || dow;
}

/* The lowest set bit of mask at or above from (below 64), or -1. */
static int next_bit(uint64_t mask, int from)
{
	for (int i = from; i < 64; i++)
		if ((mask >> i) & 1)
			return i;
	return -1;
}

int64_t hc_cron_next(const struct hc_cron *c, int64_t after_ms)
{
	int64_t s = after_ms >= 0 ? after_ms / 1000 : -((-after_ms + 999) / 1000);
	time_t t = (time_t)(s + 1);
	const time_t limit = t + (time_t)8 * 366 * 86400;
	struct tm tm;
	while (t < limit) {
		if (!gmtime_r(&t, &tm))
			return -1;
		int b;
		if (!((c->mon >> (tm.tm_mon + 1)) & 1)) {
			tm.tm_mon++;
			tm.tm_mday = 1;
			tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
		} else if (!day_matches(c, &tm)) {
			tm.tm_mday++;
			tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
		} else if (!((c->hour >> tm.tm_hour) & 1)) {
			tm.tm_hour++;
			tm.tm_min = tm.tm_sec = 0;
		} else if (!((c->min >> tm.tm_min) & 1) || (b = next_bit(c->sec, tm.tm_sec)) < 0 ||
			   b > 59) {
			/* not this minute, or no second left in it */
			tm.tm_min++;
			tm.tm_sec = 0;
		} else {
			return ((int64_t)t + (b - tm.tm_sec)) * 1000;
		}
		tm.tm_isdst = 0;
		t = timegm(&tm);
	}
	return -1;
}
