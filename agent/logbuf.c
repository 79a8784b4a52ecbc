/* agent/logbuf.c — bounded line buffers of container output and the
 * per-activation log cut (contract in agent/logbuf.h). */
#include "agent/logbuf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "proto/agent.h"

#define START_LEN (sizeof(PR_LOG_START_MARKER) - 1)
#define END_LEN	  (sizeof(PR_LOG_END_MARKER) - 1)
/* Accounted overhead of one entry, so a flood of empty lines is bounded too. */
#define LINE_OVERHEAD 32

void agt_logstream_init(struct agt_logstream *s, const char *name, size_t max_bytes)
{
	memset(s, 0, sizeof(*s));
	s->name = name;
	s->max_bytes = max_bytes;
}

static void drop_head(struct agt_logstream *s)
{
	struct agt_logline *l = s->head;

	s->head = l->next;
	if (!s->head)
		s->tail = NULL;
	s->bytes -= l->len + LINE_OVERHEAD;
	s->nlines--;
	free(l);
}

void agt_logstream_free(struct agt_logstream *s)
{
	while (s->head)
		drop_head(s);
	free(s->partial);
	s->partial = NULL;
	s->partial_len = 0;
}

static int push(struct agt_logstream *s, enum agt_line_kind kind, const char *text, size_t len,
		uint64_t ts)
{
	struct agt_logline *l = malloc(sizeof(*l) + len + 1);

	if (!l) {
		s->dropped_bytes += len;
		s->dropped_total += len;
		return -1;
	}
	l->next = NULL;
	l->ts_us = ts;
	l->len = (uint32_t)len;
	l->kind = (uint8_t)kind;
	memcpy(l->text, text, len);
	l->text[len] = '\0';
	/* Lines are C strings from here on (formatting, Redis): a NUL the
	 * function wrote becomes '?' rather than cutting the line short. */
	for (char *z = memchr(l->text, '\0', len); z;
	     z = memchr(z, '\0', len - (size_t)(z - l->text)))
		*z = '?';
	if (s->tail)
		s->tail->next = l;
	else
		s->head = l;
	s->tail = l;
	s->bytes += len + LINE_OVERHEAD;
	s->nlines++;
	/* Drop the oldest lines beyond the bound (but never the one just added). */
	while (s->bytes > s->max_bytes && s->head != l) {
		s->dropped_bytes += s->head->len;
		s->dropped_total += s->head->len;
		drop_head(s);
	}
	return 0;
}

/* Find needle in the first n bytes of hay. */
static const char *find(const char *hay, size_t n, const char *needle, size_t nlen)
{
	return memmem(hay, n, needle, nlen);
}

/* One complete line (without its newline): classify markers, which may
 * follow text the function wrote without a newline. */
static int add_line(struct agt_logstream *s, const char *p, size_t n, uint64_t ts)
{
	const char *m;
	int rc = 0;

	if (n && p[n - 1] == '\r')
		n--;
	/* the first occurrence that is a marker: followed by a space or the end */
	for (m = find(p, n, PR_LOG_START_MARKER, START_LEN); m;
	     m = find(m + 1, (size_t)(p + n - m - 1), PR_LOG_START_MARKER, START_LEN))
		if (m + START_LEN == p + n || m[START_LEN] == ' ')
			break;
	if (m) {
		const char *act = m + START_LEN;
		size_t alen = (size_t)(p + n - act);

		if (m > p)
			rc |= add_line(s, p, (size_t)(m - p), ts); /* may end with a sentinel */
		while (alen && *act == ' ') {
			act++;
			alen--;
		}
		while (alen && act[alen - 1] == ' ')
			alen--;
		if (alen > AGT_LOG_ACT_MAX)
			alen = AGT_LOG_ACT_MAX;
		return rc | push(s, AGT_LINE_START, act, alen, ts);
	}
	if (n >= END_LEN && memcmp(p + n - END_LEN, PR_LOG_END_MARKER, END_LEN) == 0) {
		if (n > END_LEN)
			rc |= add_line(s, p, n - END_LEN, ts); /* classify what precedes it too */
		return rc | push(s, AGT_LINE_END, "", 0, ts);
	}
	return push(s, AGT_LINE_TEXT, p, n, ts);
}

int agt_logstream_feed(struct agt_logstream *s, const char *data, size_t n, uint64_t now_us)
{
	int rc = 0;

	if (n > 0 && s->after_split && *data == '\n') {
		data++;
		n--;
	}
	s->after_split = 0;
	while (n > 0) {
		const char *nl = memchr(data, '\n', n);
		size_t take = nl ? (size_t)(nl - data) : n;

		if (s->partial_len == 0 && nl && take <= AGT_LOG_LINE_MAX) {
			/* Fast path: a whole line in the input. */
			rc |= add_line(s, data, take, now_us);
			data += take + 1;
			n -= take + 1;
			continue;
		}
		if (!s->partial) {
			s->partial = malloc(AGT_LOG_LINE_MAX);
			if (!s->partial) {
				s->dropped_bytes += n;
				s->dropped_total += n;
				return -1;
			}
		}
		if (s->partial_len == 0)
			s->partial_ts = now_us;
		if (take > AGT_LOG_LINE_MAX - s->partial_len)
			take = AGT_LOG_LINE_MAX - s->partial_len;
		memcpy(s->partial + s->partial_len, data, take);
		s->partial_len += take;
		data += take;
		n -= take;
		if (n > 0 && *data == '\n') {
			data++;
			n--;
		} else if (s->partial_len < AGT_LOG_LINE_MAX) {
			continue; /* no newline yet: wait for more */
		} else if (n == 0) {
			s->after_split = 1; /* a newline in the next read ends this line */
		}
		rc |= add_line(s, s->partial, s->partial_len, s->partial_ts);
		s->partial_len = 0;
	}
	return rc;
}

void agt_logstream_flush(struct agt_logstream *s, uint64_t now_us)
{
	(void)now_us;
	if (s->partial_len) {
		add_line(s, s->partial, s->partial_len, s->partial_ts);
		s->partial_len = 0;
	}
}

void agt_logcut_free(struct agt_logcut *cut)
{
	for (size_t i = 0; i < cut->n; i++)
		free(cut->lines[i]);
	free(cut->lines);
	memset(cut, 0, sizeof(*cut));
}

static int cut_add(struct agt_logcut *cut, uint64_t ts, const char *stream, const char *text)
{
	char iso[HC_ISO_LEN + 1];
	char *line;

	if (cut->n == cut->cap) {
		size_t ncap = cut->cap ? cut->cap * 2 : 16;
		char **nl = realloc(cut->lines, ncap * sizeof(*nl));
		if (!nl)
			return -1;
		cut->lines = nl;
		cut->cap = ncap;
	}
	hc_iso8601_us(ts, iso);
	if (asprintf(&line, "%s %s: %s", iso, stream, text) < 0)
		return -1;
	cut->lines[cut->n++] = line;
	return 0;
}

/* Where activation act's segment is in one stream. */
struct seg {
	struct agt_logline *start; /* act's (last) start line, or NULL */
	struct agt_logline *end;   /* the first end sentinel after it, or NULL */
	struct agt_logline *cur;   /* merge cursor */
};

static void locate(struct agt_logstream *s, const char *act, struct seg *g)
{
	memset(g, 0, sizeof(*g));
	for (struct agt_logline *l = s->head; l; l = l->next) {
		if (l->kind == AGT_LINE_START && strcmp(l->text, act) == 0) {
			g->start = l;
			g->end = NULL;
		} else if (l->kind == AGT_LINE_END && g->start && !g->end) {
			g->end = l;
		}
	}
}

/* Drop lines up to and including last. */
static void trim_through(struct agt_logstream *s, const struct agt_logline *last)
{
	while (s->head) {
		int stop = s->head == last;
		drop_head(s);
		if (stop)
			break;
	}
}

#define MAX_STREAMS 4

/* Merge the segments by read time into cut (ties keep stream order), up to
 * limit bytes of text (cut->truncated past it). -1: out of memory. */
static int merge_segments(struct agt_logstream *const *streams, struct seg *g, int nstreams,
			  long long limit, struct agt_logcut *cut)
{
	long long used = 0;

	for (int i = 0; i < nstreams; i++)
		g[i].cur = g[i].start ? g[i].start->next : NULL;
	for (;;) {
		int best = -1;
		for (int i = 0; i < nstreams; i++) {
			struct agt_logline *l = g[i].cur;
			if (!l || l == g[i].end)
				continue;
			if (best < 0 || l->ts_us < g[best].cur->ts_us)
				best = i;
		}
		if (best < 0)
			return 0;
		struct agt_logline *l = g[best].cur;
		g[best].cur = l->next;
		/* Stray markers inside a segment (a direct run's frame) are never
		 * stored as log lines. */
		if (l->kind != AGT_LINE_TEXT)
			continue;
		if (limit >= 0 && used + l->len > limit) {
			cut->truncated = 1;
			return 0;
		}
		used += l->len;
		if (cut_add(cut, l->ts_us, streams[best]->name, l->text) < 0)
			return -1;
	}
}

/* The lines that say a cut is truncated or incomplete. -1: out of memory. */
static int add_notes(struct agt_logcut *cut, long long limit, uint64_t now_us)
{
	if (cut->truncated) {
		char msg[160];
		snprintf(msg, sizeof(msg), PR_LOG_TRUNCATED_FMT, limit);
		if (cut_add(cut, now_us, "stderr", msg) < 0)
			return -1;
	}
	if (cut->incomplete && cut_add(cut, now_us, "stderr", AGT_LOG_INCOMPLETE_MSG) < 0)
		return -1;
	return 0;
}

enum agt_cut_result agt_log_cut(struct agt_logstream *const *streams, int nstreams, const char *act,
				long long limit, int final, uint64_t now_us, struct agt_logcut *cut,
				struct hc_err *err)
{
	struct seg g[MAX_STREAMS];
	int any_start = 0, complete = 1, dropped = 0;

	memset(cut, 0, sizeof(*cut));
	if (nstreams < 1 || nstreams > MAX_STREAMS) {
		hc_err_set(err, "bad stream count");
		return AGT_CUT_ERROR;
	}
	for (int i = 0; i < nstreams; i++) {
		locate(streams[i], act, &g[i]);
		if (g[i].start)
			any_start = 1;
		if (!g[i].start || !g[i].end)
			complete = 0;
		if (streams[i]->dropped_bytes)
			dropped = 1;
	}
	if (!complete && !final)
		return AGT_CUT_WAIT;
	if (!any_start) {
		hc_err_set(err, "no output framed for activation %.64s in the container's logs",
			   act);
		return AGT_CUT_ERROR;
	}
	if (merge_segments(streams, g, nstreams, limit, cut) < 0)
		goto nomem;
	if (!complete || dropped)
		cut->incomplete = 1;
	if (add_notes(cut, limit, now_us) < 0)
		goto nomem;
	for (int i = 0; i < nstreams; i++) {
		if (g[i].end)
			trim_through(streams[i], g[i].end);
		else if (g[i].start)
			trim_through(streams[i], streams[i]->tail);
		streams[i]->dropped_bytes = 0;
	}
	return AGT_CUT_DONE;
nomem:
	agt_logcut_free(cut);
	hc_err_set(err, "out of memory formatting logs");
	return AGT_CUT_ERROR;
}
