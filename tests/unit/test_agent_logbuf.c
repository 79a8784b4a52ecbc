/* test_agent_logbuf.c — the agent's output buffers and the per-activation
 * log cut (agent/logbuf.c): framing markers, direct runs, interleaving,
 * partial lines, truncation, bounds. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/logbuf.h"
#include "proto/agent.h"

#define START PR_LOG_START_MARKER
#define END   PR_LOG_END_MARKER

struct two {
	struct agt_logstream out, err;
	struct agt_logstream *s[2];
};

static int setup(void **state)
{
	struct two *t = calloc(1, sizeof(*t));
	agt_logstream_init(&t->out, "stdout", 1 << 20);
	agt_logstream_init(&t->err, "stderr", 1 << 20);
	t->s[0] = &t->out;
	t->s[1] = &t->err;
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct two *t = *state;
	agt_logstream_free(&t->out);
	agt_logstream_free(&t->err);
	free(t);
	return 0;
}

static void feed(struct agt_logstream *s, const char *text, uint64_t ts)
{
	assert_int_equal(agt_logstream_feed(s, text, strlen(text), ts), 0);
}

/* "2026...Z stdout: hello" -> check the stream and the text after the stamp */
static void check_line(const char *line, const char *stream, const char *text)
{
	char want[512];
	snprintf(want, sizeof(want), "%s: %s", stream, text);
	assert_true(strlen(line) > 28);
	assert_int_equal(line[26], 'Z');
	assert_int_equal(line[27], ' ');
	assert_string_equal(line + 28, want);
}

static void test_basic_cut(void **state)
{
	struct two *t = *state;
	struct agt_logcut cut;
	struct hc_err err = {{0}};

	feed(&t->out, START " act1\nhello\n", 1000);
	feed(&t->err, START " act1\n", 1000);
	/* end sentinels not there yet: wait */
	assert_int_equal(agt_log_cut(t->s, 2, "act1", -1, 0, 5, &cut, &err), AGT_CUT_WAIT);
	feed(&t->err, "oops\n" END "\n", 2000);
	assert_int_equal(agt_log_cut(t->s, 2, "act1", -1, 0, 5, &cut, &err), AGT_CUT_WAIT);
	feed(&t->out, "world\n" END "\n", 3000);
	assert_int_equal(agt_log_cut(t->s, 2, "act1", -1, 0, 5, &cut, &err), AGT_CUT_DONE);
	assert_int_equal(cut.n, 3);
	/* merged by read time: hello (1000), oops (2000), world (3000) */
	check_line(cut.lines[0], "stdout", "hello");
	check_line(cut.lines[1], "stderr", "oops");
	check_line(cut.lines[2], "stdout", "world");
	assert_false(cut.incomplete);
	assert_false(cut.truncated);
	/* the timestamp is the read time, microseconds, UTC */
	assert_memory_equal(cut.lines[0], "1970-01-01T00:00:00.001000Z", 27);
	agt_logcut_free(&cut);
	/* everything up to the sentinels is gone */
	assert_int_equal(t->out.nlines, 0);
	assert_int_equal(t->err.nlines, 0);
}

static void test_direct_runs_ignored(void **state)
{
	struct two *t = *state;
	struct agt_logcut cut;
	struct hc_err err = {{0}};

	/* a direct call (no activation id), then the controller's run, then
	 * another direct call that has started */
	feed(&t->out, START " -\ndirect one\n" END "\n", 1);
	feed(&t->err, START " -\n" END "\n", 1);
	feed(&t->out, "stray between runs\n", 2);
	feed(&t->out, START " abc\nmine\n" END "\n", 3);
	feed(&t->err, START " abc\n" END "\n", 3);
	feed(&t->out, START " -\ndirect two\n", 4);
	assert_int_equal(agt_log_cut(t->s, 2, "abc", -1, 0, 5, &cut, &err), AGT_CUT_DONE);
	assert_int_equal(cut.n, 1);
	check_line(cut.lines[0], "stdout", "mine");
	agt_logcut_free(&cut);
	/* the started direct run is kept, older output dropped */
	assert_int_equal(t->out.nlines, 2);
	/* a second cut for the same activation finds nothing */
	assert_int_equal(agt_log_cut(t->s, 2, "abc", -1, 1, 5, &cut, &err), AGT_CUT_ERROR);
	assert_non_null(strstr(err.msg, "abc"));
}

static void test_markers_never_stored(void **state)
{
	struct two *t = *state;
	struct agt_logcut cut;
	struct hc_err err = {{0}};

	/* a direct run's frame inside our segment (should not happen, but must
	 * not leak markers) and text written without a trailing newline before
	 * the sentinel */
	feed(&t->out, START " x1\na\n" START " -\nb\n", 1);
	feed(&t->out, "no newline" END "\n", 2);
	feed(&t->err, START " x1\n" END "\n", 1);
	assert_int_equal(agt_log_cut(t->s, 2, "x1", -1, 0, 5, &cut, &err), AGT_CUT_DONE);
	assert_int_equal(cut.n, 3);
	check_line(cut.lines[0], "stdout", "a");
	check_line(cut.lines[1], "stdout", "b");
	check_line(cut.lines[2], "stdout", "no newline");
	for (size_t i = 0; i < cut.n; i++)
		assert_null(strstr(cut.lines[i], "XXX_THE_"));
	agt_logcut_free(&cut);

	/* a start marker not followed by a space is text; a NUL becomes '?' */
	feed(&t->out, START " x2\n" START "ish\n", 3);
	{
		static const char nul[] = "nul\0byte\n" END "\n";
		assert_int_equal(agt_logstream_feed(&t->out, nul, sizeof(nul) - 1, 3), 0);
	}
	feed(&t->err, START " x2\n" END "\n", 3);
	assert_int_equal(agt_log_cut(t->s, 2, "x2", -1, 0, 5, &cut, &err), AGT_CUT_DONE);
	assert_int_equal(cut.n, 2);
	check_line(cut.lines[0], "stdout", START "ish");
	check_line(cut.lines[1], "stdout", "nul?byte");
	agt_logcut_free(&cut);
}

static void test_partial_lines(void **state)
{
	struct two *t = *state;
	struct agt_logcut cut;
	struct hc_err err = {{0}};
	const char *text = START " p\nhel";

	feed(&t->out, text, 10);
	feed(&t->out, "lo wor", 20);
	feed(&t->out, "ld\r\n" END, 30);
	feed(&t->err, START " p\n" END "\n", 10);
	assert_int_equal(agt_log_cut(t->s, 2, "p", -1, 0, 5, &cut, &err), AGT_CUT_WAIT);
	feed(&t->out, "\n", 40);
	assert_int_equal(agt_log_cut(t->s, 2, "p", -1, 0, 5, &cut, &err), AGT_CUT_DONE);
	assert_int_equal(cut.n, 1);
	check_line(cut.lines[0], "stdout", "hello world");
	/* stamped with the time its first byte was read */
	assert_memory_equal(cut.lines[0], "1970-01-01T00:00:00.000010Z", 27);
	agt_logcut_free(&cut);
}

static void test_final_incomplete(void **state)
{
	struct two *t = *state;
	struct agt_logcut cut;
	struct hc_err err = {{0}};

	feed(&t->out, START " q\nstill running\n", 1);
	/* stderr never saw the start (or the end) */
	assert_int_equal(agt_log_cut(t->s, 2, "q", -1, 0, 5, &cut, &err), AGT_CUT_WAIT);
	assert_int_equal(agt_log_cut(t->s, 2, "q", -1, 1, 5, &cut, &err), AGT_CUT_DONE);
	assert_true(cut.incomplete);
	assert_int_equal(cut.n, 2);
	check_line(cut.lines[0], "stdout", "still running");
	check_line(cut.lines[1], "stderr", AGT_LOG_INCOMPLETE_MSG);
	agt_logcut_free(&cut);
	/* nothing at all for an unknown activation: an error (400) */
	assert_int_equal(agt_log_cut(t->s, 2, "zzz", -1, 1, 5, &cut, &err), AGT_CUT_ERROR);
}

static void test_truncation(void **state)
{
	struct two *t = *state;
	struct agt_logcut cut;
	struct hc_err err = {{0}};
	char want[200];

	feed(&t->out, START " big\n0123456789\n0123456789\n0123456789\n" END "\n", 1);
	feed(&t->err, START " big\n" END "\n", 1);
	assert_int_equal(agt_log_cut(t->s, 2, "big", 25, 0, 5, &cut, &err), AGT_CUT_DONE);
	assert_true(cut.truncated);
	assert_int_equal(cut.n, 3);
	check_line(cut.lines[0], "stdout", "0123456789");
	check_line(cut.lines[1], "stdout", "0123456789");
	snprintf(want, sizeof(want),
		 "Logs were truncated because the total bytes size exceeds the limit of 25 bytes.");
	check_line(cut.lines[2], "stderr", want);
	agt_logcut_free(&cut);

	/* limit 0: only the message */
	feed(&t->out, START " z\nx\n" END "\n", 1);
	feed(&t->err, START " z\n" END "\n", 1);
	assert_int_equal(agt_log_cut(t->s, 2, "z", 0, 0, 5, &cut, &err), AGT_CUT_DONE);
	assert_int_equal(cut.n, 1);
	assert_true(cut.truncated);
	agt_logcut_free(&cut);
}

static void test_bounds(void **state)
{
	struct agt_logstream s;
	struct agt_logstream *sp[1] = {&s};
	struct agt_logcut cut;
	struct hc_err err = {{0}};
	char *big = malloc(AGT_LOG_LINE_MAX * 3 + 1);
	(void)state;

	/* a buffer of 4 KiB keeps only the newest lines */
	agt_logstream_init(&s, "stdout", 4096);
	for (int i = 0; i < 1000; i++)
		feed(&s, "some output line\n", (uint64_t)i);
	assert_true(s.bytes <= 4096);
	assert_true(s.dropped_bytes > 0);
	assert_true(s.nlines < 1000);
	agt_logstream_free(&s);

	/* a huge line without newline is split at AGT_LOG_LINE_MAX */
	agt_logstream_init(&s, "stdout", 1 << 20);
	memset(big, 'x', AGT_LOG_LINE_MAX * 3);
	big[AGT_LOG_LINE_MAX * 3] = '\0';
	feed(&s, START " h\n", 1);
	feed(&s, big, 2);
	feed(&s, "\n" END "\n", 3);
	assert_int_equal(agt_log_cut(sp, 1, "h", -1, 0, 5, &cut, &err), AGT_CUT_DONE);
	assert_int_equal(cut.n, 3);
	assert_int_equal(strlen(cut.lines[0]), 28 + 8 + AGT_LOG_LINE_MAX);
	agt_logcut_free(&cut);

	/* overflow since the last cut marks the next cut incomplete */
	agt_logstream_free(&s);
	agt_logstream_init(&s, "stdout", 2048);
	feed(&s, START " o\n", 1);
	for (int i = 0; i < 200; i++)
		feed(&s, "filler filler filler\n", 2);
	feed(&s, START " o2\nlast\n" END "\n", 3);
	assert_int_equal(agt_log_cut(sp, 1, "o2", -1, 0, 5, &cut, &err), AGT_CUT_DONE);
	assert_true(cut.incomplete);
	agt_logcut_free(&cut);
	agt_logstream_free(&s);
	/* a very long activation id on a start line is cut, not overflowed */
	agt_logstream_init(&s, "stdout", 1 << 20);
	memset(big, 'a', 500);
	big[500] = '\0';
	feed(&s, START " ", 1);
	feed(&s, big, 1);
	feed(&s, "\n", 1);
	assert_int_equal(s.tail->kind, AGT_LINE_START);
	assert_int_equal(s.tail->len, AGT_LOG_ACT_MAX);
	agt_logstream_free(&s);
	free(big);
}

static void test_eof_flush(void **state)
{
	struct two *t = *state;
	struct agt_logcut cut;
	struct hc_err err = {{0}};

	feed(&t->out, START " e\nlast words", 1);
	agt_logstream_flush(&t->out, 2);
	feed(&t->err, START " e\n" END "\n", 1);
	assert_int_equal(agt_log_cut(t->s, 2, "e", -1, 1, 5, &cut, &err), AGT_CUT_DONE);
	assert_int_equal(cut.n, 2);
	check_line(cut.lines[0], "stdout", "last words");
	assert_true(cut.incomplete);
	agt_logcut_free(&cut);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_basic_cut, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_direct_runs_ignored, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_markers_never_stored, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_partial_lines, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_final_incomplete, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_truncation, setup, teardown),
	    cmocka_unit_test(test_bounds),
	    cmocka_unit_test_setup_teardown(test_eof_flush, setup, teardown),
	};
	return cmocka_run_group_tests_name("agent_logbuf", tests, NULL, NULL);
}
