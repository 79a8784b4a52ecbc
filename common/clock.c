/* clock.c — wall and monotonic time, ISO 8601 stamps, and the strict
 * duration and size parsers used by config (see clock.h). */
#include "common/clock.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static uint64_t clock_us(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t hc_now_ms(void)
{
	return clock_us(CLOCK_REALTIME) / 1000u;
}

uint64_t hc_now_us(void)
{
	return clock_us(CLOCK_REALTIME);
}

uint64_t hc_mono_us(void)
{
	return clock_us(CLOCK_MONOTONIC);
}

/* Write v as exactly width decimal digits (v fits by construction). */
static char *put_digits(char *p, unsigned v, int width)
{
	int i;

	for (i = width - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + width;
}

void hc_iso8601_us(uint64_t epoch_us, char *out)
{
	time_t secs = (time_t)(epoch_us / 1000000u);
	struct tm tm;
	char *p = out;

	/* Years past 9999 would not fit the fixed width: clamp. */
	if (!gmtime_r(&secs, &tm) || tm.tm_year + 1900 > 9999) {
		memcpy(out, "9999-12-31T23:59:59.999999Z", HC_ISO_LEN + 1);
		return;
	}
	p = put_digits(p, (unsigned)(tm.tm_year + 1900), 4);
	*p++ = '-';
	p = put_digits(p, (unsigned)tm.tm_mon + 1, 2);
	*p++ = '-';
	p = put_digits(p, (unsigned)tm.tm_mday, 2);
	*p++ = 'T';
	p = put_digits(p, (unsigned)tm.tm_hour, 2);
	*p++ = ':';
	p = put_digits(p, (unsigned)tm.tm_min, 2);
	*p++ = ':';
	p = put_digits(p, (unsigned)tm.tm_sec, 2);
	*p++ = '.';
	p = put_digits(p, (unsigned)(epoch_us % 1000000u), 6);
	*p++ = 'Z';
	*p = '\0';
}

/* A number, then a unit from the table; each unit scales to the result.
 * Digits only (no sign, no spaces, no hex), so "-1", " 5", "0x10" fail. */
struct unit {
	const char *suffix;
	int64_t mult;
};

static int parse_scaled(const char *s, const struct unit *units, int64_t *out)
{
	const char *p = s;
	uint64_t v = 0;
	size_t i;

	if (!s || !isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > ((uint64_t)INT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	for (i = 0; units[i].suffix; i++) {
		if (strcasecmp(p, units[i].suffix) != 0)
			continue;
		if (v > (uint64_t)(INT64_MAX / units[i].mult))
			return -1;
		*out = (int64_t)v * units[i].mult;
		return 0;
	}
	return -1;
}

int hc_parse_duration_ms(const char *s, int64_t *ms)
{
	static const struct unit units[] = {
	    {"", 1},	  {"ms", 1},	  {"s", 1000},	  {"sec", 1000},
	    {"m", 60000}, {"min", 60000}, {"h", 3600000}, {NULL, 0},
	};
	int64_t v;

	if (parse_scaled(s, units, &v) < 0) {
		errno = EINVAL;
		return -1;
	}
	*ms = v;
	return 0;
}

int hc_parse_size(const char *s, int64_t *bytes)
{
	static const struct unit units[] = {
	    {"", 1},
	    {"b", 1},
	    {"k", 1024},
	    {"kb", 1024},
	    {"m", (int64_t)1 << 20},
	    {"mb", (int64_t)1 << 20},
	    {"g", (int64_t)1 << 30},
	    {"gb", (int64_t)1 << 30},
	    {NULL, 0},
	};
	int64_t v;

	if (parse_scaled(s, units, &v) < 0) {
		errno = EINVAL;
		return -1;
	}
	*bytes = v;
	return 0;
}
