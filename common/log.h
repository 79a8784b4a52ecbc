/* log.h — one line per event, to stderr.
 *
 * Text lines look like
 *   2026-11-23T10:00:00.123Z INFO  hearth-agent[1234] container=ab12.. created in 61 ms
 * and with --log-format json
 *   {"ts":"2026-11-23T10:00:00.123Z","level":"info","daemon":"hearth-agent","pid":1234,"msg":"..."}
 * Put the ids that matter into the message as key=value (activation=,
 * container=, host=). Safe to call from any thread; each line is written with
 * a single write(2). */
#ifndef HC_LOG_H
#define HC_LOG_H

enum hc_log_level { HC_LOG_DEBUG = 0, HC_LOG_INFO, HC_LOG_WARN, HC_LOG_ERROR, HC_LOG_OFF };

/* Set the daemon name shown on every line, the minimum level and the format
 * (json != 0 for JSON lines). May be called again (e.g. after config load). */
void hc_log_setup(const char *daemon, enum hc_log_level level, int json);

/* Parse "debug" / "info" / "warn" / "error" / "off". Returns 0 or -1. */
int hc_log_parse_level(const char *s, enum hc_log_level *out);

/* Nonzero when a message of this level would be written. */
int hc_log_enabled(enum hc_log_level level);

void hc_log(enum hc_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define hc_debug(...)                                                                              \
	do {                                                                                       \
		if (hc_log_enabled(HC_LOG_DEBUG))                                                  \
			hc_log(HC_LOG_DEBUG, __VA_ARGS__);                                         \
	} while (0)
#define hc_info(...)  hc_log(HC_LOG_INFO, __VA_ARGS__)
#define hc_warn(...)  hc_log(HC_LOG_WARN, __VA_ARGS__)
#define hc_error(...) hc_log(HC_LOG_ERROR, __VA_ARGS__)

#endif
