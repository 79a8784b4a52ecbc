/* log.c — one line per event to stderr, text or JSON (see log.h).
 *
 * Each line is built in a stack buffer and written with one write(2), so
 * lines from different threads never interleave and logging needs no heap.
 * Messages longer than the buffer are cut and end in "...". */
#include "common/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"

#define LOG_MSG_MAX  2048
#define LOG_NAME_MAX 64
/* Worst case: every message byte becomes a six-byte \uXXXX escape. */
#define LOG_LINE_MAX (LOG_MSG_MAX * 6 + 256)

static atomic_int log_level = HC_LOG_INFO;
static atomic_int log_json;
static pthread_mutex_t log_name_lock = PTHREAD_MUTEX_INITIALIZER;
static char log_name[LOG_NAME_MAX] = "hearth";

static const char *const level_text[] = {"DEBUG", "INFO ", "WARN ", "ERROR"};
static const char *const level_json[] = {"debug", "info", "warn", "error"};

void hc_log_setup(const char *daemon, enum hc_log_level level, int json)
{
	if (daemon) {
		pthread_mutex_lock(&log_name_lock);
		snprintf(log_name, sizeof(log_name), "%s", daemon);
		pthread_mutex_unlock(&log_name_lock);
	}
	atomic_store(&log_level, (int)level);
	atomic_store(&log_json, json != 0);
}

int hc_log_parse_level(const char *s, enum hc_log_level *out)
{
	static const char *const names[] = {"debug", "info", "warn", "error", "off"};
	size_t i;

	if (!s)
		return -1;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = (enum hc_log_level)i;
			return 0;
		}
	}
	if (strcmp(s, "warning") == 0) {
		*out = HC_LOG_WARN;
		return 0;
	}
	return -1;
}

int hc_log_enabled(enum hc_log_level level)
{
	int min = atomic_load(&log_level);

	return level >= HC_LOG_DEBUG && level < HC_LOG_OFF && (int)level >= min;
}

/* Appends to a fixed line buffer; output past the end is dropped. */
struct line {
	char *p;
	size_t len, cap;
};

static void line_add(struct line *l, const char *s, size_t n)
{
	if (n > l->cap - l->len)
		n = l->cap - l->len;
	memcpy(l->p + l->len, s, n);
	l->len += n;
}

static void line_adds(struct line *l, const char *s)
{
	line_add(l, s, strlen(s));
}

/* Escape for JSON (json != 0) or, in text, only what would break the
 * one-line guarantee (control characters). UTF-8 passes through. */
static void line_add_escaped(struct line *l, const char *s, int json)
{
	static const char hex[] = "0123456789abcdef";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf]};

		if (c == '\n') {
			line_add(l, "\\n", 2);
		} else if (c == '\r') {
			line_add(l, "\\r", 2);
		} else if (c == '\t') {
			line_add(l, json ? "\\t" : "\t", json ? 2 : 1);
		} else if (json && (c == '"' || c == '\\')) {
			e[1] = (char)c;
			line_add(l, e, 2);
		} else if (c < 0x20 || c == 0x7f) {
			line_add(l, e, 6);
		} else {
			line_add(l, (const char *)&c, 1);
		}
	}
}

void hc_log(enum hc_log_level level, const char *fmt, ...)
{
	char msg[LOG_MSG_MAX], stamp[HC_ISO_LEN + 1], name[LOG_NAME_MAX], pid[24];
	char buf[LOG_LINE_MAX];
	struct line l = {buf, 0, sizeof(buf) - 1};
	va_list ap;
	int n, saved = errno;
	size_t off;

	if (!hc_log_enabled(level))
		return;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		snprintf(msg, sizeof(msg), "(bad log format)");
	else if ((size_t)n >= sizeof(msg))
		memcpy(msg + sizeof(msg) - 4, "...", 4);

	/* Milliseconds: cut the microsecond stamp after three decimals. */
	hc_iso8601_us(hc_now_us(), stamp);
	stamp[23] = 'Z';
	stamp[24] = '\0';
	pthread_mutex_lock(&log_name_lock);
	memcpy(name, log_name, sizeof(name));
	pthread_mutex_unlock(&log_name_lock);
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());

	if (atomic_load(&log_json)) {
		line_adds(&l, "{\"ts\":\"");
		line_adds(&l, stamp);
		line_adds(&l, "\",\"level\":\"");
		line_adds(&l, level_json[level]);
		line_adds(&l, "\",\"daemon\":\"");
		line_add_escaped(&l, name, 1);
		line_adds(&l, "\",\"pid\":");
		line_adds(&l, pid);
		line_adds(&l, ",\"msg\":\"");
		line_add_escaped(&l, msg, 1);
		line_adds(&l, "\"}");
	} else {
		line_adds(&l, stamp);
		line_adds(&l, " ");
		line_adds(&l, level_text[level]);
		line_adds(&l, " ");
		line_add_escaped(&l, name, 0);
		line_adds(&l, "[");
		line_adds(&l, pid);
		line_adds(&l, "] ");
		line_add_escaped(&l, msg, 0);
	}
	buf[l.len++] = '\n'; /* cap leaves room for it */

	for (off = 0; off < l.len;) {
		ssize_t w = write(STDERR_FILENO, buf + off, l.len - off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		off += (size_t)w;
	}
	errno = saved; /* logging must not disturb the caller's errno */
}
