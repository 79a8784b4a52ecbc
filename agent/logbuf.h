/* agent/logbuf.h — a container's drained stdout/stderr, and the per-activation
 * cut that GET /log makes of it.
 *
 * The agent reads every container's output as it arrives (a pipe read only
 * on /log would fill and stall the function) into one bounded line buffer
 * per stream, stamping each line with the time it was read. The runtime
 * frames each activation with "<START marker> <activation id>" and the end
 * sentinel on both streams (proto/agent.h); a cut for activation X takes the
 * lines between X's start line and the following end sentinel on each
 * stream, merges them by time, formats them as OpenWhisk log lines and drops
 * everything up to that end sentinel, so output of earlier activations and
 * of direct calls (start line "-") never leaks into the next cut.
 *
 * Pure logic: no I/O, no event loop. Not thread-safe. */
#ifndef AGT_LOGBUF_H
#define AGT_LOGBUF_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* Longer lines are split into pieces of this size (as docker does at 16 KiB). */
#define AGT_LOG_LINE_MAX 16384
/* Activation ids on start lines are cut to this length. */
#define AGT_LOG_ACT_MAX 64

/* OpenWhisk's message when the sentinels could not be found in time. */
#define AGT_LOG_INCOMPLETE_MSG                                                                     \
	"There was an issue while collecting your logs. Data might be missing."

enum agt_line_kind { AGT_LINE_TEXT = 0, AGT_LINE_START, AGT_LINE_END };

struct agt_logline {
	struct agt_logline *next;
	uint64_t ts_us; /* wall clock when read */
	uint32_t len;	/* bytes of text */
	uint8_t kind;	/* enum agt_line_kind; for START, text is the activation id */
	char text[];	/* NUL-terminated */
};

struct agt_logstream {
	const char *name; /* "stdout" / "stderr": the word in formatted lines */
	struct agt_logline *head, *tail;
	size_t bytes;	  /* accounted size of the lines held */
	size_t max_bytes; /* oldest lines are dropped beyond this */
	size_t nlines;
	uint64_t dropped_bytes; /* dropped since the last cut (reported, then reset) */
	uint64_t dropped_total;
	char *partial; /* an incomplete line (AGT_LOG_LINE_MAX bytes), or NULL */
	size_t partial_len;
	uint64_t partial_ts; /* when its first byte was read */
	int after_split;     /* the last line was split at the maximum: a newline next ends it */
};

/* name is not copied (use a string literal). */
void agt_logstream_init(struct agt_logstream *s, const char *name, size_t max_bytes);
void agt_logstream_free(struct agt_logstream *s);

/* Append n bytes read at now_us: complete lines become entries, the rest is
 * kept as a partial line. Returns 0, or -1 on ENOMEM (data is lost, counted
 * as dropped). */
int agt_logstream_feed(struct agt_logstream *s, const char *data, size_t n, uint64_t now_us);

/* End of stream: a pending partial line becomes an entry. */
void agt_logstream_flush(struct agt_logstream *s, uint64_t now_us);

/* The formatted lines of one cut. */
struct agt_logcut {
	char **lines; /* malloc'd strings; agt_logcut_free frees them */
	size_t n, cap;
	int truncated;	/* the limit was hit (the message line is included) */
	int incomplete; /* a sentinel was missing or lines were dropped */
};
void agt_logcut_free(struct agt_logcut *cut);

enum agt_cut_result {
	AGT_CUT_ERROR = -1, /* final and no start line for the activation: err set */
	AGT_CUT_WAIT = 0,   /* not final and a sentinel is still missing: nothing changed */
	AGT_CUT_DONE = 1,   /* cut filled; streams trimmed up to the end sentinels */
};

/* Cut activation act out of nstreams streams (stdout and stderr), merge by
 * time, format "<ISO time> <stream>: <text>" and enforce limit bytes of text
 * (negative = no limit) with OpenWhisk's truncation message. With final == 0
 * it returns AGT_CUT_WAIT until every stream holds act's start and end lines;
 * with final != 0 it takes what is there and marks the cut incomplete
 * (adding AGT_LOG_INCOMPLETE_MSG) where a sentinel is missing. now_us stamps
 * the message lines. */
enum agt_cut_result agt_log_cut(struct agt_logstream *const *streams, int nstreams, const char *act,
				long long limit, int final, uint64_t now_us, struct agt_logcut *cut,
				struct hc_err *err);

#endif
