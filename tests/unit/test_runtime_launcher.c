/* test_runtime_launcher.c — the launcher's pipes and line protocols against
 * real child processes (small fixed /bin/sh scripts), on a real event loop:
 * replies matched by seq, in-order actionloop replies, a reply written just
 * before exiting, over-long lines, exits and kills, exec failures. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "runtime/cmd.h"
#include "runtime/launcher.h"
#include "runtime/proc.h"
#include "tests/lib/wait.h"

#define MAXR 8

struct seen {
	int nreplies;
	uint64_t seq[MAXR];
	enum rt_reply_kind kind[MAXR];
	char data[MAXR][128];
	size_t total[MAXR];
	int exited;
	int replies_at_exit;
	char why[96];
};

static struct event_base *base;

static void on_reply(const struct rt_reply *r, void *arg)
{
	struct seen *s = arg;
	if (s->nreplies >= MAXR)
		return;
	s->seq[s->nreplies] = r->seq;
	s->kind[s->nreplies] = r->kind;
	s->total[s->nreplies] = r->total;
	snprintf(s->data[s->nreplies], sizeof s->data[0], "%.*s",
		 (int)(r->len < 127 ? r->len : 127), r->data ? r->data : "");
	s->nreplies++;
}

static void on_exit_cb(const char *why, void *arg)
{
	struct seen *s = arg;
	s->exited++;
	s->replies_at_exit = s->nreplies;
	snprintf(s->why, sizeof s->why, "%s", why);
}

static struct rt_launcher *start(const char *script, enum rt_proto proto, size_t max_reply,
				 struct seen *s)
{
	static char *const env[] = {"PATH=/usr/bin:/bin", NULL};
	char *argv[] = {"/bin/sh", "-c", (char *)script, NULL};
	struct rt_launcher_opts o = {
	    .proto = proto, .path = "/bin/sh", .argv = argv, .envp = env, .max_reply = max_reply};
	struct rt_launcher_cbs cbs = {.on_reply = on_reply, .on_exit = on_exit_cb, .arg = s};
	struct hc_err err = {""};
	struct rt_launcher *l;

	memset(s, 0, sizeof *s);
	l = rt_launcher_start(base, &o, &cbs, &err);
	if (!l)
		fprintf(stderr, "start: %s\n", err.msg);
	assert_non_null(l);
	return l;
}

/* Run the loop until *a reaches want (generous bound: 10 s). */
static void loop_until(const int *a, int want)
{
	struct th_at_least c = {a, want};

	th_run_until(base, th_reached, &c, 10000);
	assert_true(*a >= want);
}

static void test_actionloop_in_order(void **state)
{
	struct seen s;
	struct rt_launcher *l =
	    start("n=0; while read -r l; do n=$((n+1)); echo \"{\\\"n\\\":$n}\" >&3; done",
		  RT_PROTO_ACTIONLOOP, 1024, &s);

	assert_int_equal(rt_launcher_send(l, 7, "{\"a\":\n1}", 8), 0);
	assert_int_equal(rt_launcher_send(l, 9, "{}", 2), 0);
	loop_until(&s.nreplies, 2);
	assert_int_equal(s.seq[0], 7);
	assert_string_equal(s.data[0], "{\"n\":1}");
	assert_int_equal(s.seq[1], 9);
	assert_string_equal(s.data[1], "{\"n\":2}");
	assert_int_equal(s.kind[0], RT_REPLY_RESULT);
	assert_true(rt_launcher_alive(l));
	rt_launcher_free(l);
}

static void test_tagged_matches_seq(void **state)
{
	struct seen s;
	/* answer in reverse order: the second request first */
	struct rt_launcher *l = start("IFS= read -r a; IFS= read -r b;"
				      "printf '%s\\tr\\t{\"b\":1}\\n' \"${b%%\t*}\" >&3;"
				      "printf '%s\\te\\t\"bad\"\\n' \"${a%%\t*}\" >&3;"
				      "echo 'noise without tabs' >&3; sleep 5",
				      RT_PROTO_TAGGED, 1024, &s);

	assert_int_equal(rt_launcher_send(l, 11, "{}", 2), 0);
	assert_int_equal(rt_launcher_send(l, 12, "{}", 2), 0);
	loop_until(&s.nreplies, 2);
	assert_int_equal(s.seq[0], 12);
	assert_int_equal(s.kind[0], RT_REPLY_RESULT);
	assert_string_equal(s.data[0], "{\"b\":1}");
	assert_int_equal(s.seq[1], 11);
	assert_int_equal(s.kind[1], RT_REPLY_ERROR);
	assert_string_equal(s.data[1], "\"bad\"");
	rt_launcher_free(l); /* kills the sleeping child; no callback after free */
	assert_int_equal(s.exited, 0);
}

static void test_reply_then_exit(void **state)
{
	struct seen s;
	struct rt_launcher *l =
	    start("read -r l; echo '{\"last\":true}' >&3; exit 3", RT_PROTO_ACTIONLOOP, 1024, &s);

	assert_int_equal(rt_launcher_send(l, 1, "{}", 2), 0);
	loop_until(&s.exited, 1);
	/* the reply written before exiting is delivered before the exit */
	assert_int_equal(s.replies_at_exit, 1);
	assert_string_equal(s.data[0], "{\"last\":true}");
	assert_false(rt_launcher_alive(l));
	assert_int_equal(rt_launcher_send(l, 2, "{}", 2), -1);
	rt_launcher_free(l);
}

static void test_too_long(void **state)
{
	struct seen s;
	struct rt_launcher *l =
	    start("read -r l; i=0; while [ $i -lt 400 ]; do printf 'xxxxxxxxxx' >&3;"
		  " i=$((i+1)); done; echo >&3; echo '{\"after\":1}' >&3; sleep 5",
		  RT_PROTO_ACTIONLOOP, 64, &s);

	assert_int_equal(rt_launcher_send(l, 1, "{}", 2), 0);
	assert_int_equal(rt_launcher_send(l, 2, "{}", 2), 0);
	loop_until(&s.nreplies, 2);
	assert_int_equal(s.kind[0], RT_REPLY_TOO_LONG);
	assert_int_equal(s.seq[0], 1);
	assert_int_equal(s.total[0], 4000);
	/* the stream stays in step after the long line */
	assert_int_equal(s.kind[1], RT_REPLY_RESULT);
	assert_int_equal(s.seq[1], 2);
	assert_string_equal(s.data[1], "{\"after\":1}");
	rt_launcher_free(l);
}

static void test_kill(void **state)
{
	struct seen s;
	struct rt_launcher *l = start("sleep 30 & wait", RT_PROTO_ACTIONLOOP, 64, &s);

	assert_true(rt_launcher_pid(l) > 0);
	rt_launcher_kill(l);
	loop_until(&s.exited, 1);
	assert_int_equal(s.exited, 1);
	assert_int_equal(s.nreplies, 0);
	rt_launcher_free(l);
}

static void test_exec_failure(void **state)
{
	static char *const env[] = {NULL};
	char *argv[] = {"/nonexistent/launcher", NULL};
	struct rt_launcher_opts o = {.proto = RT_PROTO_TAGGED,
				     .path = "/nonexistent/launcher",
				     .argv = argv,
				     .envp = env,
				     .max_reply = 10};
	struct seen s;
	struct rt_launcher_cbs cbs = {.on_reply = on_reply, .on_exit = on_exit_cb, .arg = &s};
	struct hc_err err = {""};

	assert_null(rt_launcher_start(base, &o, &cbs, &err));
	assert_non_null(strstr(err.msg, "No such file"));
}

struct cmd_result {
	int done;
	int status;
	char out[64];
};

static void cmd_done(int status, const char *output, void *arg)
{
	struct cmd_result *r = arg;
	r->done = 1;
	r->status = status;
	snprintf(r->out, sizeof r->out, "%s", output);
}

static void test_cmd(void **state)
{
	char *ok[] = {"/bin/sh", "-c", "echo out; echo err >&2; head -c 10000 /dev/zero; exit 3",
		      NULL};
	char *slow[] = {"/bin/sh", "-c", "sleep 30", NULL};
	struct cmd_result r = {0};
	struct hc_err err = {""};

	/* output (stdout and stderr) is kept up to the bound; the status is reported */
	assert_non_null(rt_cmd_run(base, ok, "/", 10000, 9, cmd_done, &r, &err));
	loop_until(&r.done, 1);
	assert_true(WIFEXITED(r.status));
	assert_int_equal(WEXITSTATUS(r.status), 3);
	assert_string_equal(r.out, "out\nerr\n\0");
	/* a command past its timeout is killed and reported as -1 */
	memset(&r, 0, sizeof r);
	assert_non_null(rt_cmd_run(base, slow, NULL, 100, 100, cmd_done, &r, &err));
	loop_until(&r.done, 1);
	assert_int_equal(r.status, -1);
	/* a cancelled command never calls back */
	memset(&r, 0, sizeof r);
	rt_cmd_cancel(rt_cmd_run(base, slow, NULL, 10000, 100, cmd_done, &r, &err));
	assert_int_equal(r.done, 0);
	char *missing[] = {"/nonexistent/unzip", NULL};
	assert_null(rt_cmd_run(base, missing, NULL, 100, 100, cmd_done, &r, &err));
}

static int setup(void **state)
{
	base = event_base_new();
	return base && rt_reaper_init(base, NULL) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	rt_reaper_fini();
	event_base_free(base);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_actionloop_in_order),
	    cmocka_unit_test(test_tagged_matches_seq),
	    cmocka_unit_test(test_reply_then_exit),
	    cmocka_unit_test(test_too_long),
	    cmocka_unit_test(test_kill),
	    cmocka_unit_test(test_exec_failure),
	    cmocka_unit_test(test_cmd),
	};
	return cmocka_run_group_tests_name("runtime_launcher", tests, setup, teardown);
}
