/* clock.h — wall and monotonic time. */
#ifndef HC_CLOCK_H
#define HC_CLOCK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

/* Wall clock, milliseconds / microseconds since the epoch (for records). */
uint64_t hc_now_ms(void);
uint64_t hc_now_us(void);

/* Monotonic clock in microseconds (for measuring and deadlines). */
uint64_t hc_mono_us(void);

/* ms as a timeval (timers, timeouts). */
static inline struct timeval hc_ms_timeval(int64_t ms)
{
	struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000)};
	return tv;
}

/* Format epoch microseconds as "2026-01-01T00:00:00.000000Z" (27 chars).
 * out must hold HC_ISO_LEN + 1 bytes. */
#define HC_ISO_LEN 27
void hc_iso8601_us(uint64_t epoch_us, char *out);

/* Parse a duration: "250ms", "2s", "10m", "1h", or a plain number of
 * milliseconds. Returns 0 and sets *ms, or -1. */
int hc_parse_duration_ms(const char *s, int64_t *ms);

/* Parse a size: "512", "64k", "48m"/"48MB", "1g" (powers of 1024). */
int hc_parse_size(const char *s, int64_t *bytes);

#endif
