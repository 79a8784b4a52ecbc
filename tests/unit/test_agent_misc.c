/* test_agent_misc.c — the agent's small modules: port allocator, state
 * machine, freezer files (on a fake cgroup tree), token check, and child
 * spawning + reaping through a real event loop. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <event2/event.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/api.h"
#include "common/id.h"
#include "agent/cgroup.h"
#include "agent/child.h"
#include "agent/config.h"
#include "agent/lifecycle.h"
#include "agent/ports.h"
#include "tests/lib/wait.h"

static void test_ports(void **state)
{
	struct agt_ports p;
	struct hc_err err = {{0}};
	int lo, hi, seen[5] = {0};
	(void)state;

	assert_int_equal(agt_ports_parse("20000-29999", &lo, &hi, &err), 0);
	assert_int_equal(lo, 20000);
	assert_int_equal(hi, 29999);
	assert_int_equal(agt_ports_parse("5-4", &lo, &hi, &err), -1);
	assert_int_equal(agt_ports_parse("0-4", &lo, &hi, &err), -1);
	assert_int_equal(agt_ports_parse("1-70000", &lo, &hi, &err), -1);
	assert_int_equal(agt_ports_parse("abc", &lo, &hi, &err), -1);
	assert_int_equal(agt_ports_parse("10-", &lo, &hi, &err), -1);

	assert_int_equal(agt_ports_init(&p, 100, 104, NULL, &err), 0);
	for (int i = 0; i < 5; i++) {
		int port = agt_ports_alloc(&p);
		assert_true(port >= 100 && port <= 104);
		assert_false(seen[port - 100]);
		seen[port - 100] = 1;
	}
	assert_int_equal(agt_ports_alloc(&p), -1); /* exhausted */
	agt_ports_release(&p, 102);
	agt_ports_release(&p, 102);  /* double release ignored */
	agt_ports_release(&p, 9999); /* out of range ignored */
	assert_int_equal(agt_ports_alloc(&p), 102);
	assert_int_equal(agt_ports_alloc(&p), -1);
	assert_int_equal(agt_ports_claim(&p, 101), -1);
	agt_ports_free(&p);
}

static void test_ports_probe(void **state)
{
	struct agt_ports p;
	struct hc_err err = {{0}};
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int fd, busy;
	(void)state;

	/* hold a port with a listener: the allocator must skip it */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 1), 0);
	getsockname(fd, (struct sockaddr *)&sa, &sl);
	busy = ntohs(sa.sin_port);
	assert_int_equal(
	    agt_ports_init(&p, busy, busy + 1 > 65535 ? busy : busy + 1, "127.0.0.1", &err), 0);
	for (int i = 0; i < 2; i++) {
		int port = agt_ports_alloc(&p);
		assert_int_not_equal(port, busy);
	}
	agt_ports_free(&p);
	close(fd);
}

static void test_lifecycle(void **state)
{
	const char *why = NULL;
	(void)state;

	assert_true(agt_transition_ok(PR_CS_CREATING, PR_CS_WARM));
	assert_true(agt_transition_ok(PR_CS_WARM, PR_CS_SUSPENDED));
	assert_true(agt_transition_ok(PR_CS_SUSPENDED, PR_CS_WARM));
	assert_true(agt_transition_ok(PR_CS_WARM, PR_CS_DESTROYING));
	assert_true(agt_transition_ok(PR_CS_SUSPENDED, PR_CS_DEAD));
	assert_true(agt_transition_ok(PR_CS_DEAD, PR_CS_DESTROYING));
	assert_false(agt_transition_ok(PR_CS_CREATING, PR_CS_SUSPENDED));
	assert_false(agt_transition_ok(PR_CS_DESTROYING, PR_CS_WARM));
	assert_false(agt_transition_ok(PR_CS_DEAD, PR_CS_WARM));
	assert_false(agt_transition_ok(PR_CS_WARM, PR_CS_CREATING));
	assert_false(agt_transition_ok(PR_CS_SUSPENDED, PR_CS_SUSPENDED));

	assert_int_equal(agt_op_check(PR_CS_WARM, 0, AGT_OP_SUSPEND, &why), 0);
	assert_int_equal(agt_op_check(PR_CS_SUSPENDED, 0, AGT_OP_RESUME, &why), 0);
	/* double suspend / resume of a warm container: refused */
	assert_int_equal(agt_op_check(PR_CS_SUSPENDED, 0, AGT_OP_SUSPEND, &why), 409);
	assert_non_null(strstr(why, "already suspended"));
	assert_int_equal(agt_op_check(PR_CS_WARM, 0, AGT_OP_RESUME, &why), 409);
	assert_int_equal(agt_op_check(PR_CS_CREATING, 0, AGT_OP_SUSPEND, &why), 409);
	assert_int_equal(agt_op_check(PR_CS_DEAD, 0, AGT_OP_RESUME, &why), 409);
	assert_int_equal(agt_op_check(PR_CS_DESTROYING, 0, AGT_OP_SUSPEND, &why), 409);
	/* one freezer operation at a time */
	assert_int_equal(agt_op_check(PR_CS_WARM, 1, AGT_OP_SUSPEND, &why), 409);
	/* destroy and log always go ahead */
	assert_int_equal(agt_op_check(PR_CS_CREATING, 1, AGT_OP_DESTROY, &why), 0);
	assert_int_equal(agt_op_check(PR_CS_DEAD, 0, AGT_OP_LOG, &why), 0);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void mkdirs(const char *path)
{
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *q = tmp + 1; *q; q++) {
		if (*q == '/') {
			*q = '\0';
			mkdir(tmp, 0755);
			*q = '/';
		}
	}
	mkdir(tmp, 0755);
}

static void test_cgroup_fake(void **state)
{
	char root[] = "/tmp/hearth-test-cg-XXXXXX";
	char p[PATH_MAX];
	struct agt_cgroups cg;
	struct hc_err err = {{0}};
	enum agt_fz fz;
	(void)state;

	assert_non_null(mkdtemp(root));
	/* no freezer at all */
	assert_int_equal(agt_cgroup_detect(&cg, root, &err), -1);
	/* v1 layout: freezer and memory hierarchies, plus a cpu link */
	snprintf(p, sizeof(p), "%s/freezer/hearth/a/c", root);
	mkdirs(p);
	snprintf(p, sizeof(p), "%s/memory/hearth/a/c", root);
	mkdirs(p);
	snprintf(p, sizeof(p), "%s/cpu", root);
	assert_int_equal(symlink("memory", p), 0);
	snprintf(p, sizeof(p), "%s/freezer/hearth/a/c/freezer.state", root);
	write_file(p, "THAWED\n");
	assert_int_equal(agt_cgroup_detect(&cg, root, &err), 0);
	assert_int_equal(cg.v2, 0);
	assert_int_equal(agt_freezer_state(&cg, "/hearth/a/c", &fz, &err), 0);
	assert_int_equal(fz, AGT_FZ_THAWED);
	/* a plain file keeps what is written: FROZEN reads back at once */
	assert_int_equal(agt_freezer_drive(&cg, "/hearth/a/c", 1, 10, &err), 1);
	assert_int_equal(agt_freezer_state(&cg, "/hearth/a/c", &fz, &err), 0);
	assert_int_equal(fz, AGT_FZ_FROZEN);
	write_file(p, "FREEZING\n");
	assert_int_equal(agt_freezer_state(&cg, "/hearth/a/c", &fz, &err), 0);
	assert_int_equal(fz, AGT_FZ_FREEZING);
	write_file(p, "bogus\n");
	assert_int_equal(agt_freezer_state(&cg, "/hearth/a/c", &fz, &err), -1);
	/* a cgroup that does not exist */
	assert_int_equal(agt_freezer_set(&cg, "/hearth/a/none", 1, &err), -1);
	assert_non_null(strstr(err.msg, "/hearth/a/none"));
	/* removal: the freezer dir is not empty (a regular file in it), memory is */
	assert_true(agt_cgroup_exists(&cg, "/hearth/a/c"));
	assert_int_equal(agt_cgroup_remove(&cg, "/hearth/a/c"), 1);
	unlink(p);
	assert_int_equal(agt_cgroup_remove(&cg, "/hearth/a/c"), 0);
	assert_false(agt_cgroup_exists(&cg, "/hearth/a/c"));
	assert_int_equal(agt_cgroup_remove(&cg, "/hearth/a"), 0);
	agt_rmtree(root);

	/* v2 layout */
	char root2[] = "/tmp/hearth-test-cg2-XXXXXX";
	assert_non_null(mkdtemp(root2));
	snprintf(p, sizeof(p), "%s/cgroup.controllers", root2);
	write_file(p, "memory pids\n");
	snprintf(p, sizeof(p), "%s/hearth/a/c", root2);
	mkdirs(p);
	snprintf(p, sizeof(p), "%s/hearth/a/c/cgroup.events", root2);
	write_file(p, "populated 1\nfrozen 1\n");
	snprintf(p, sizeof(p), "%s/hearth/a/c/cgroup.freeze", root2);
	write_file(p, "0\n");
	assert_int_equal(agt_cgroup_detect(&cg, root2, &err), 0);
	assert_int_equal(cg.v2, 1);
	assert_int_equal(agt_freezer_state(&cg, "/hearth/a/c", &fz, &err), 0);
	assert_int_equal(fz, AGT_FZ_FROZEN);
	assert_int_equal(agt_freezer_set(&cg, "/hearth/a/c", 1, &err), 0);
	agt_rmtree(root2);
}

static void test_auth(void **state)
{
	(void)state;
	assert_true(agt_api_authorized("Bearer s3cret", "s3cret"));
	assert_false(agt_api_authorized("Bearer s3cre", "s3cret"));
	assert_false(agt_api_authorized("Bearer s3cretX", "s3cret"));
	assert_false(agt_api_authorized("Basic s3cret", "s3cret"));
	assert_false(agt_api_authorized("s3cret", "s3cret"));
	assert_false(agt_api_authorized(NULL, "s3cret"));
	assert_false(agt_api_authorized("Bearer ", "s3cret"));
	assert_true(agt_api_authorized(NULL, NULL)); /* auth disabled */
	assert_true(agt_api_authorized("anything", ""));
}

struct seen {
	int exits, stops, conts;
	int status;
	struct event_base *base;
};

static void on_status(pid_t pid, int status, void *arg)
{
	struct seen *s = arg;
	(void)pid;
	if (WIFSTOPPED(status))
		s->stops++;
	else if (WIFCONTINUED(status))
		s->conts++;
	else {
		s->exits++;
		s->status = status;
	}
	event_base_loopbreak(s->base);
}

/* Run the loop until *counter reaches want, for up to 5 s. */
static void run_to_count(struct event_base *base, const int *counter, int want)
{
	struct th_at_least c = {counter, want};

	th_run_until(base, th_reached, &c, 5000);
	assert_true(*counter >= want);
}

static void test_spawn_reap(void **state)
{
	struct event_base *base = event_base_new();
	struct hc_err err = {{0}};
	struct seen s = {0};
	int fds[2], st;
	char buf[64];
	ssize_t n;
	(void)state;

	s.base = base;
	assert_int_equal(agt_reaper_init(base, &err), 0);

	/* output through a pipe, exit status through the reaper */
	assert_int_equal(agt_pipe(fds), 0);
	const char *argv1[] = {"/bin/sh", "-c", "echo hi; exit 3", NULL};
	struct agt_spawn sp = {.argv = argv1, .stdin_fd = -1, .stdout_fd = fds[1], .stderr_fd = -1};
	pid_t pid = agt_spawn(&sp, &err);
	assert_true(pid > 0);
	close(fds[1]);
	assert_int_equal(agt_reaper_watch(pid, on_status, &s), 0);
	run_to_count(base, &s.exits, 1);
	assert_true(WIFEXITED(s.status));
	assert_int_equal(WEXITSTATUS(s.status), 3);
	n = read(fds[0], buf, sizeof(buf));
	assert_int_equal(n, 3);
	assert_memory_equal(buf, "hi\n", 3);
	close(fds[0]);

	/* an exit that happens before anyone watches is not lost */
	const char *argv2[] = {"/bin/true", NULL};
	sp.argv = argv2;
	sp.stdout_fd = -1;
	pid = agt_spawn(&sp, &err);
	assert_true(pid > 0);
	th_sleep_ms(100);
	agt_reaper_poll(); /* reaped with nobody watching */
	assert_int_equal(agt_reaper_watch(pid, on_status, &s), 0);
	run_to_count(base, &s.exits, 2);
	assert_int_equal(WEXITSTATUS(s.status), 0);

	/* exec failure shows as 127 */
	const char *argv3[] = {"/nonexistent/binary", NULL};
	sp.argv = argv3;
	pid = agt_spawn(&sp, &err);
	assert_true(pid > 0);
	assert_int_equal(agt_reaper_wait_sync(pid, 5000, &st), 0);
	assert_int_equal(WEXITSTATUS(st), 127);

	/* stop / continue of a process group are reported */
	const char *argv4[] = {"/bin/sleep", "30", NULL};
	sp.argv = argv4;
	sp.new_pgrp = 1;
	pid = agt_spawn(&sp, &err);
	assert_true(pid > 0);
	assert_int_equal(agt_reaper_watch(pid, on_status, &s), 0);
	assert_int_equal(getpgid(pid), pid);
	kill(-pid, SIGSTOP);
	run_to_count(base, &s.stops, 1);
	kill(-pid, SIGCONT);
	run_to_count(base, &s.conts, 1);
	kill(-pid, SIGKILL);
	run_to_count(base, &s.exits, 3);
	assert_true(WIFSIGNALED(s.status));

	agt_reaper_free();
	event_base_free(base);
}

static void test_config(void **state)
{
	struct agt_config cfg;
	struct hc_err err = {{0}};
	char *a1[] = {"hearth-agent", "--id",	"node-7", "--addr",
		      "10.1.2.3",     "--port", "4000",	  NULL};
	char *a2[] = {"hearth-agent", "--id", "bad id!", NULL};
	char *a3[] = {"hearth-agent", "--backend", "docker", NULL};
	char *a4[] = {"hearth-agent", "--port", "0", "--host-address", "10.9.9.9", NULL};
	(void)state;

	assert_int_equal(agt_config_load(&cfg, 7, a1, &err), HC_CONFIG_OK);
	assert_string_equal(cfg.id, "node-7");
	assert_string_equal(cfg.host_address, "10.1.2.3");
	assert_string_equal(cfg.url, "http://10.1.2.3:4000");
	assert_string_equal(cfg.backend, "auto");
	assert_string_equal(cfg.port_range, "20000-29999");
	assert_int_equal(cfg.memory_mb, 4096);
	assert_int_equal(cfg.heartbeat_ms, 1000);
	assert_int_equal(cfg.activation_ttl_ms, 24LL * 3600 * 1000);
	assert_non_null(strstr(cfg.state_dir, "node-7"));
	assert_non_null(strstr(cfg.runtime, "/hearth-runtime"));
	agt_config_free(&cfg);

	assert_int_equal(agt_config_load(&cfg, 3, a2, &err), HC_CONFIG_ERROR);
	assert_non_null(strstr(err.msg, "id"));
	agt_config_free(&cfg);
	assert_int_equal(agt_config_load(&cfg, 3, a3, &err), HC_CONFIG_ERROR);
	assert_non_null(strstr(err.msg, "backend"));
	agt_config_free(&cfg);

	/* no id: a fresh one; port 0: the URL waits for the bound port */
	assert_int_equal(agt_config_load(&cfg, 5, a4, &err), HC_CONFIG_OK);
	assert_true(hc_id_valid(cfg.id));
	assert_null(cfg.url);
	assert_string_equal(cfg.host_address, "10.9.9.9");
	agt_config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ports),     cmocka_unit_test(test_ports_probe),
	    cmocka_unit_test(test_lifecycle), cmocka_unit_test(test_cgroup_fake),
	    cmocka_unit_test(test_auth),      cmocka_unit_test(test_spawn_reap),
	    cmocka_unit_test(test_config),
	};
	return cmocka_run_group_tests_name("agent_misc", tests, NULL, NULL);
}
