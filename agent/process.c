/* agent/process.c — the process backend: hearth-runtime as a plain child.
 *
 * For machines without root or runc (laptops, CI). The runtime runs in its
 * own process group; suspend and resume send SIGSTOP / SIGCONT to the group
 * and are confirmed by the reaper's WUNTRACED / WCONTINUED status of the
 * group leader. There is no memory, pids, filesystem or network isolation
 * (the agent says so loudly at start); --process-rlimit adds RLIMIT_DATA. */
#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/child.h"
#include "common/clock.h"
#include "common/log.h"

#define OP_DEADLINE_US (2 * 1000 * 1000)

static int write_pid(const char *dir, pid_t pid)
{
	char p[AGT_PATH_MAX + 8];
	FILE *f;

	snprintf(p, sizeof(p), "%s/pid", dir);
	f = fopen(p, "we");
	if (!f)
		return -1;
	fprintf(f, "%d\n", (int)pid);
	return fclose(f);
}

static int proc_start(struct agt_agent *a, struct agt_container *c, struct hc_err *err)
{
	char work[AGT_PATH_MAX + 8], port[16];
	const char *argv[16];
	int wfd[2] = {-1, -1}, n = 0;
	pid_t pid;

	if (mkdir(c->dir, 0700) < 0 && errno != EEXIST)
		return hc_err_set(err, "%s: %s", c->dir, strerror(errno));
	snprintf(work, sizeof(work), "%s/work", c->dir);
	snprintf(port, sizeof(port), "%d", c->d.port);
	argv[n++] = a->cfg->runtime;
	argv[n++] = "--port";
	argv[n++] = port;
	argv[n++] = "--addr";
	argv[n++] = c->d.host;
	argv[n++] = "--kind";
	argv[n++] = c->d.kind;
	argv[n++] = "--workdir";
	argv[n++] = work;
	if (c->d.sock[0]) {
		argv[n++] = "--unix";
		argv[n++] = c->d.sock;
	}
	if (a->cfg->api_host) {
		argv[n++] = "--api-host";
		argv[n++] = a->cfg->api_host;
	}
	argv[n] = NULL;
	if (agt_container_pipes(c, wfd, err) < 0)
		return -1;
	struct agt_spawn s = {
	    .argv = argv,
	    .stdin_fd = -1,
	    .stdout_fd = wfd[0],
	    .stderr_fd = wfd[1],
	    .new_pgrp = 1,
	    .rlimit_data = a->cfg->process_rlimit ? (long long)c->d.memory_mb * 4 << 20 : 0,
	};
	pid = agt_spawn(&s, err);
	close(wfd[0]);
	close(wfd[1]);
	if (pid < 0)
		return -1;
	c->d.pid = pid;
	if (write_pid(c->dir, pid) < 0)
		hc_warn("container=%s cannot record pid in %s", c->d.id, c->dir);
	if (agt_container_watch(c, pid) < 0) {
		kill(-pid, SIGKILL);
		return hc_err_set(err, "out of memory");
	}
	agt_container_launched(c);
	return 0;
}

static void op_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct agt_container *c = arg;
	(void)fd;
	(void)what;
	if (c->op_busy)
		agt_container_op_done(c, 0,
				      c->op == AGT_OP_SUSPEND
					  ? "the process group did not stop within 2 s"
					  : "the process group did not continue within 2 s");
}

static int signal_op(struct agt_agent *a, struct agt_container *c, struct hc_err *err)
{
	struct timeval tv = {OP_DEADLINE_US / 1000000, 0};
	int sig = c->op == AGT_OP_SUSPEND ? SIGSTOP : SIGCONT;

	if (!c->timer) {
		c->timer = evtimer_new(a->base, op_timeout, c);
		if (!c->timer)
			return hc_err_set(err, "out of memory");
	} else {
		evtimer_del(c->timer);
		event_assign(c->timer, a->base, -1, 0, op_timeout, c);
	}
	if (kill(-c->d.pid, sig) < 0)
		return hc_err_set(err, "kill(-%d, %s): %s", (int)c->d.pid, strsignal(sig),
				  strerror(errno));
	/* The reaper reports WIFSTOPPED / WIFCONTINUED (proc_child_status). */
	evtimer_add(c->timer, &tv);
	return 0;
}

static void proc_child_status(struct agt_agent *a, struct agt_container *c, int status)
{
	(void)a;
	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		if (c->d.state == PR_CS_DESTROYING) {
			agt_rmtree(c->dir);
			agt_container_removed(c);
		}
		return;
	}
	if (!c->op_busy)
		return;
	if ((c->op == AGT_OP_SUSPEND && WIFSTOPPED(status)) ||
	    (c->op == AGT_OP_RESUME && WIFCONTINUED(status))) {
		if (c->timer)
			evtimer_del(c->timer);
		agt_container_op_done(c, 1, NULL);
	}
}

static void proc_destroy(struct agt_agent *a, struct agt_container *c)
{
	(void)a;
	if (c->exited || c->d.pid <= 0) {
		agt_rmtree(c->dir);
		agt_container_removed(c);
		return;
	}
	/* SIGKILL also ends stopped processes; the exit finishes the destroy. */
	kill(-c->d.pid, SIGKILL);
	kill(c->d.pid, SIGKILL);
}

static int is_runtime(struct agt_agent *a, pid_t pid)
{
	char p[64], cmd[512];
	ssize_t n;
	FILE *f;

	snprintf(p, sizeof(p), "/proc/%d/cmdline", (int)pid);
	f = fopen(p, "re");
	if (!f)
		return 0;
	n = (ssize_t)fread(cmd, 1, sizeof(cmd) - 1, f);
	fclose(f);
	if (n <= 0)
		return 0;
	cmd[n] = '\0';
	return strstr(cmd, a->runtime_name) != NULL;
}

static void proc_cleanup_stale(struct agt_agent *a, const struct agt_stale *st, int n)
{
	char dir[AGT_PATH_MAX + 64], p[AGT_PATH_MAX + 80], buf[32];

	for (int i = 0; i < n; i++) {
		pid_t pid = st[i].pid;
		FILE *f;

		snprintf(dir, sizeof(dir), "%s/containers/%s", a->cfg->state_dir, st[i].id);
		snprintf(p, sizeof(p), "%s/pid", dir);
		f = fopen(p, "re");
		if (f) {
			if (fgets(buf, sizeof(buf), f))
				pid = atoi(buf);
			fclose(f);
		}
		hc_info("container=%s pid=%d left by an earlier run: removing", st[i].id, (int)pid);
		if (pid > 1 && is_runtime(a, pid)) {
			kill(-pid, SIGCONT);
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			/* not our child: wait (bounded) until it is gone */
			for (int t = 0; t < 200 && is_runtime(a, pid); t++)
				usleep(10 * 1000);
		}
		agt_rmtree(dir);
	}
}

static void proc_remove_all_sync(struct agt_agent *a)
{
	struct agt_container *c;
	int st;

	/* kill every group first, then reap: no one waits on another's grace */
	for (c = a->containers; c; c = c->next) {
		if (!c->exited && c->d.pid > 0) {
			kill(-c->d.pid, SIGKILL);
			kill(c->d.pid, SIGKILL);
		}
	}
	for (c = a->containers; c; c = c->next) {
		if (!c->exited && c->d.pid > 0)
			agt_reaper_wait_sync(c->d.pid, 2000, &st);
		c->exited = 1;
		agt_rmtree(c->dir);
	}
}

const struct agt_backend agt_backend_process = {
    .name = "process",
    .start = proc_start,
    .suspend = signal_op,
    .resume = signal_op,
    .destroy = proc_destroy,
    .child_status = proc_child_status,
    .cleanup_stale = proc_cleanup_stale,
    .remove_all_sync = proc_remove_all_sync,
};
