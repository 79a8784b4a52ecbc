/* fuzz_agent_log.c — the agent's log buffer and per-activation cut
 * (agent/logbuf.c) over arbitrary container output.
 *
 * Input: byte 0 picks the stream buffer bound and the log limit; the rest
 * is split at 0xff bytes into chunks fed alternately to stdout and stderr
 * (so partial lines, markers split across reads and interleaving all
 * happen). Then the activations "a1", "-" and one taken from the input are
 * cut, non-final and final. Invariants: no crash, no leak, formatted lines
 * never contain a marker, and the buffers stay within their bound. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/logbuf.h"
#include "proto/agent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A stored line never holds a marker: a start marker followed by a space
 * or ending the line, or an end sentinel ending it. */
static int is_marker(const char *line)
{
	size_t n = strlen(line), sl = strlen(PR_LOG_START_MARKER), el = strlen(PR_LOG_END_MARKER);
	const char *m = line;

	while ((m = strstr(m, PR_LOG_START_MARKER))) {
		if (m[sl] == ' ' || m[sl] == '\0')
			return 1;
		m++;
	}
	return n >= el && strcmp(line + n - el, PR_LOG_END_MARKER) == 0;
}

static void cut(struct agt_logstream **s, const char *act, long long limit, int final)
{
	struct agt_logcut c;
	struct hc_err err;

	if (agt_log_cut(s, 2, act, limit, final, 1, &c, &err) == AGT_CUT_DONE) {
		for (size_t i = 0; i < c.n; i++)
			if (is_marker(c.lines[i]))
				abort();
		agt_logcut_free(&c);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agt_logstream out, err;
	struct agt_logstream *s[2] = {&out, &err};
	size_t max, start, i;
	long long limit;
	uint64_t ts = 1;
	int which = 0;
	char act[AGT_LOG_ACT_MAX + 1] = "x";

	if (size < 1)
		return 0;
	max = 256u << (data[0] & 7);
	limit = (data[0] & 0x80) ? -1 : (long long)(data[0] & 0x78) * 4;
	agt_logstream_init(&out, "stdout", max);
	agt_logstream_init(&err, "stderr", max);
	for (start = i = 1; i <= size; i++) {
		if (i < size && data[i] != 0xff)
			continue;
		agt_logstream_feed(s[which], (const char *)data + start, i - start, ts++);
		which ^= 1;
		start = i + 1;
	}
	for (int k = 0; k < 2; k++)
		if (s[k]->bytes > s[k]->max_bytes + AGT_LOG_LINE_MAX + 64)
			abort();
	/* an activation id that appears in the input, if any */
	for (struct agt_logline *l = out.head; l; l = l->next) {
		if (l->kind == AGT_LINE_START) {
			memcpy(act, l->text, l->len + 1);
			break;
		}
	}
	cut(s, "a1", limit, 0);
	cut(s, act, limit, 0);
	cut(s, "-", limit, 1);
	agt_logstream_flush(&out, ts);
	agt_logstream_flush(&err, ts);
	cut(s, act, limit, 1);
	agt_logstream_free(&out);
	agt_logstream_free(&err);
	return 0;
}
