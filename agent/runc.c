/* agent/runc.c — the runc backend.
 *
 * One `runc run -d` per container, run as an asynchronous child whose
 * stdout/stderr are pipes the agent drains (they become the container's
 * stdio, so they are never read to EOF synchronously; MEASURED.md gotcha
 * 1). runc writes the container init's pid to <bundle>/pid (--pid-file);
 * after runc exits the init is re-parented to the agent (a subreaper), so
 * its death is seen by the reaper. Suspend and resume write the cgroup
 * freezer directly and poll it in bounded slices on the loop. Destroy is
 * `runc kill KILL`, the init's exit, then `runc delete -f`, all as
 * asynchronous children (delete -f alone sleeps 100 ms on a running
 * container). The cgroup parent /hearth/<agent-id> is removed only at
 * start-up and shutdown: removing it per destroy would race with a
 * concurrent create's mkdir. Each agent has its own runc root (<state-dir>/runc) and cgroup
 * parent (/hearth/<agent-id>), so agents sharing a machine never see each
 * other's containers. */
#include <dirent.h>
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

/* Freezer polls per loop pass: ~1.5 ms of work at most; then yield. */
#define FREEZE_POLLS	   300
#define FREEZE_DEADLINE_US (2 * 1000 * 1000)
#define SYNC_WAIT_MS	   15000

static void cg_path(struct agt_agent *a, const char *id, char *out, size_t n)
{
	snprintf(out, n, "/hearth/%s/%s", a->cfg->id, id);
}

static int read_pid(const char *dir)
{
	char p[AGT_PATH_MAX + 8], buf[32];
	FILE *f;
	int pid = 0;

	snprintf(p, sizeof(p), "%s/pid", dir);
	f = fopen(p, "re");
	if (!f)
		return 0;
	if (fgets(buf, sizeof(buf), f))
		pid = atoi(buf);
	fclose(f);
	return pid > 0 ? pid : 0;
}

static void on_run_exit(pid_t pid, int status, void *arg)
{
	struct agt_container *c = arg;
	char msg[512];
	int init;

	(void)pid;
	c->helper_pid = 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		init = read_pid(c->dir);
		if (init <= 0) {
			agt_container_failed(c, "runc run succeeded but wrote no pid");
			return;
		}
		c->d.pid = init;
		if (agt_container_watch(c, init) < 0) {
			agt_container_failed(c, "out of memory");
			return;
		}
		agt_container_launched(c);
		return;
	}
	snprintf(msg, sizeof(msg), "runc run failed (%s %d): %s",
		 WIFEXITED(status) ? "exit" : "signal",
		 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
		 agt_container_last_error(c));
	agt_container_failed(c, msg);
}

static int runc_start(struct agt_agent *a, struct agt_container *c, struct hc_err *err)
{
	struct agt_spec sp;
	char pidfile[AGT_PATH_MAX + 8];
	int wfd[2] = {-1, -1};
	cJSON *cfg;
	pid_t pid;

	cg_path(a, c->d.id, c->cgpath, sizeof(c->cgpath));
	memset(&sp, 0, sizeof(sp));
	sp.rootfs = &a->rootfs;
	sp.runtime_dir = a->runtime_dir;
	sp.runtime_name = a->runtime_name;
	sp.host = c->d.host;
	sp.port = c->d.port;
	sp.unix_name = c->d.sock;
	sp.kind = c->d.kind;
	sp.api_host = a->cfg->api_host;
	sp.memory_mb = c->d.memory_mb;
	sp.pids_limit = (int)a->cfg->pids_limit;
	sp.tmp_mb = (int)(a->cfg->tmp_size >> 20);
	sp.cgroups_path = c->cgpath;
	cfg = agt_spec_build(&sp, err);
	if (!cfg)
		return -1;
	if (agt_spec_write(c->dir, cfg, err) < 0) {
		cJSON_Delete(cfg);
		return -1;
	}
	cJSON_Delete(cfg);
	snprintf(pidfile, sizeof(pidfile), "%s/pid", c->dir);
	const char *argv[] = {a->runc_path, "--root",	  a->runc_root, "run",	 "-d", "--bundle",
			      c->dir,	    "--pid-file", pidfile,	c->d.id, NULL};
	if (agt_container_pipes(c, wfd, err) < 0)
		return -1;
	struct agt_spawn s = {
	    .argv = argv, .stdin_fd = -1, .stdout_fd = wfd[0], .stderr_fd = wfd[1]};
	pid = agt_spawn(&s, err);
	close(wfd[0]);
	close(wfd[1]);
	if (pid < 0)
		return -1;
	c->helper_pid = pid;
	if (agt_reaper_watch(pid, on_run_exit, c) < 0) {
		/* cannot happen short of ENOMEM; the exit would be lost */
		kill(pid, SIGKILL);
		c->helper_pid = 0;
		return hc_err_set(err, "out of memory");
	}
	return 0;
}

static void freeze_step(evutil_socket_t fd, short what, void *arg)
{
	struct agt_container *c = arg;
	struct agt_agent *a = c->agent;
	struct hc_err err = {{0}};
	int freeze = c->op == AGT_OP_SUSPEND, r;
	struct timeval tv = {0, 500};

	(void)fd;
	(void)what;
	r = agt_freezer_drive(&a->cgroups, c->cgpath, freeze, FREEZE_POLLS, &err);
	if (r == 1) {
		agt_container_op_done(c, 1, NULL);
	} else if (r < 0) {
		agt_container_op_done(c, 0, err.msg);
	} else if (hc_mono_us() > c->op_deadline_us) {
		/* Leave it thawed rather than half frozen. */
		if (freeze)
			agt_freezer_set(&a->cgroups, c->cgpath, 0, NULL);
		agt_container_op_done(c, 0, "the cgroup freezer did not settle within 2 s");
	} else {
		evtimer_add(c->timer, &tv);
	}
}

static int freezer_op(struct agt_agent *a, struct agt_container *c, struct hc_err *err)
{
	(void)a;
	c->op_deadline_us = hc_mono_us() + FREEZE_DEADLINE_US;
	if (!c->timer) {
		c->timer = evtimer_new(a->base, freeze_step, c);
		if (!c->timer)
			return hc_err_set(err, "out of memory");
	} else {
		evtimer_del(c->timer);
		event_assign(c->timer, a->base, -1, 0, freeze_step, c);
	}
	/* The first slice runs now: usually it settles within it. */
	freeze_step(-1, 0, c);
	return 0;
}

static void on_delete_exit(pid_t pid, int status, void *arg)
{
	struct agt_container *c = arg;
	struct agt_agent *a = c->agent;

	(void)pid;
	c->helper_pid = 0;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		hc_warn("container=%s runc delete -f failed (status %d): %s", c->d.id, status,
			agt_container_last_error(c));
	/* runc kills the init; if it could not, do it ourselves (the pid is
	 * our unreaped child, so it cannot have been reused). */
	if (!c->exited && c->d.pid > 0)
		kill(c->d.pid, SIGKILL);
	if (agt_cgroup_remove(&a->cgroups, c->cgpath) > 0)
		hc_warn("container=%s cgroup %s could not be removed", c->d.id, c->cgpath);
	agt_rmtree(c->dir);
	agt_container_removed(c);
}

static pid_t spawn_delete(struct agt_agent *a, const char *id, struct hc_err *err)
{
	const char *argv[] = {a->runc_path, "--root", a->runc_root, "delete", "-f", id, NULL};
	struct agt_spawn s = {.argv = argv, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1};
	return agt_spawn(&s, err);
}

static void start_delete(struct agt_container *c)
{
	struct agt_agent *a = c->agent;
	struct hc_err err = {{0}};
	pid_t pid;

	if (c->timer)
		evtimer_del(c->timer);
	pid = spawn_delete(a, c->d.id, &err);
	if (pid < 0 || agt_reaper_watch(pid, on_delete_exit, c) < 0) {
		hc_error("container=%s cannot run runc delete: %s", c->d.id, err.msg);
		if (!c->exited && c->d.pid > 0)
			kill(c->d.pid, SIGKILL);
		agt_cgroup_remove(&a->cgroups, c->cgpath);
		agt_rmtree(c->dir);
		agt_container_removed(c);
		return;
	}
	c->helper_pid = pid;
}

/* The init did not exit after runc kill: let runc delete -f deal with it. */
static void on_kill_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct agt_container *c = arg;
	(void)fd;
	(void)what;
	if (c->helper_pid == 0)
		start_delete(c);
}

static void on_kill_exit(pid_t pid, int status, void *arg)
{
	struct agt_container *c = arg;
	struct timeval tv = {1, 0};

	(void)pid;
	c->helper_pid = 0;
	/* Failed (not running any more) or already exited: delete now. Else
	 * wait for the init's exit (runc_child_status), bounded. */
	if (c->exited || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || c->d.pid <= 0) {
		start_delete(c);
		return;
	}
	c->killed = 1;
	evtimer_del(c->timer);
	event_assign(c->timer, c->agent->base, -1, 0, on_kill_timeout, c);
	evtimer_add(c->timer, &tv);
}

/* Destroy is `runc kill KILL`, then, once the init has exited, `runc delete
 * -f`: delete -f of a running container sleeps 100 ms before it checks the
 * kill took effect, kill + delete costs ~40 ms. */
static void runc_destroy(struct agt_agent *a, struct agt_container *c)
{
	struct hc_err err = {{0}};
	pid_t pid;

	/* Frozen tasks do not die until thawed. */
	if (c->cgpath[0])
		agt_freezer_set(&a->cgroups, c->cgpath, 0, NULL);
	if (c->exited || c->d.pid <= 0) {
		start_delete(c);
		return;
	}
	const char *argv[] = {a->runc_path, "--root", a->runc_root, "kill", c->d.id, "KILL", NULL};
	struct agt_spawn s = {.argv = argv, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1};
	pid = agt_spawn(&s, &err);
	if (pid < 0 || agt_reaper_watch(pid, on_kill_exit, c) < 0) {
		start_delete(c);
		return;
	}
	c->helper_pid = pid;
}

static void runc_child_status(struct agt_agent *a, struct agt_container *c, int status)
{
	(void)a;
	if ((WIFEXITED(status) || WIFSIGNALED(status)) && c->killed && c->helper_pid == 0)
		start_delete(c);
}

/* Kill pid if it is still a hearth runtime (stale pids may be reused). */
static void kill_if_runtime(struct agt_agent *a, pid_t pid)
{
	char p[64], cmd[512];
	ssize_t n;
	FILE *f;

	if (pid <= 1)
		return;
	snprintf(p, sizeof(p), "/proc/%d/cmdline", (int)pid);
	f = fopen(p, "re");
	if (!f)
		return;
	n = (ssize_t)fread(cmd, 1, sizeof(cmd) - 1, f);
	fclose(f);
	if (n <= 0)
		return;
	cmd[n] = '\0';
	if (strstr(cmd, a->runtime_name)) {
		hc_info("stale runtime pid=%d killed", (int)pid);
		kill(pid, SIGKILL);
	}
}

/* Blocking removal of many containers at once (start-up and shutdown): kill
 * every init first, so that `runc delete -f` finds them stopped and does not
 * sleep; run the deletes in parallel; then clean up cgroups and dirs. pids
 * may be 0 (unknown); known ones are killed only if they are still a
 * hearth runtime (a stale pid may have been reused). */
static void remove_many_sync(struct agt_agent *a, const struct agt_stale *v, int n)
{
	char cg[160], dir[AGT_PATH_MAX + 64];
	struct hc_err err = {{0}};
	pid_t *dp = calloc((size_t)n + 1, sizeof(*dp));
	int st;

	for (int i = 0; i < n; i++) {
		cg_path(a, v[i].id, cg, sizeof(cg));
		agt_freezer_set(&a->cgroups, cg, 0, NULL); /* frozen tasks cannot die */
		kill_if_runtime(a, v[i].pid);
	}
	for (int i = 0; i < n && dp; i++) {
		dp[i] = spawn_delete(a, v[i].id, &err);
		if (dp[i] < 0)
			hc_warn("container=%s runc delete: %s", v[i].id, err.msg);
	}
	for (int i = 0; i < n; i++) {
		if (dp && dp[i] > 0 && agt_reaper_wait_sync(dp[i], SYNC_WAIT_MS, &st) < 0)
			hc_warn("container=%s runc delete did not finish", v[i].id);
		cg_path(a, v[i].id, cg, sizeof(cg));
		if (agt_cgroup_remove(&a->cgroups, cg) > 0)
			hc_warn("container=%s cgroup %s could not be removed", v[i].id, cg);
		snprintf(dir, sizeof(dir), "%s/containers/%s", a->cfg->state_dir, v[i].id);
		agt_rmtree(dir);
		snprintf(dir, sizeof(dir), "%s/%s", a->runc_root, v[i].id);
		agt_rmtree(dir);
	}
	free(dp);
}

static void runc_cleanup_stale(struct agt_agent *a, const struct agt_stale *stale, int n)
{
	struct agt_stale *all = calloc((size_t)n + 256, sizeof(*all));
	char parent[160];
	struct dirent *de;
	int m = 0;
	DIR *d;

	if (!all)
		return;
	for (int i = 0; i < n; i++) {
		hc_info("container=%s pid=%d left by an earlier run: removing", stale[i].id,
			(int)stale[i].pid);
		all[m++] = stale[i];
	}
	/* Whatever runc itself still knows in our root. */
	d = opendir(a->runc_root);
	while (d && (de = readdir(d)) && m < n + 256) {
		int known = 0;
		if (de->d_name[0] == '.' || strlen(de->d_name) > HC_ID_LEN)
			continue;
		for (int i = 0; i < m; i++)
			known |= !strcmp(all[i].id, de->d_name);
		if (known)
			continue;
		hc_info("container=%s found in the runc root: removing", de->d_name);
		snprintf(all[m].id, sizeof(all[m].id), "%s", de->d_name);
		all[m++].pid = 0;
	}
	if (d)
		closedir(d);
	remove_many_sync(a, all, m);
	free(all);
	snprintf(parent, sizeof(parent), "/hearth/%s", a->cfg->id);
	agt_cgroup_remove(&a->cgroups, parent);
}

static void runc_remove_all_sync(struct agt_agent *a)
{
	struct agt_stale *v = calloc((size_t)a->ncontainers + 1, sizeof(*v));
	int n = 0, st;

	for (struct agt_container *c = a->containers; c; c = c->next) {
		if (c->helper_pid > 0) {
			/* runc run / kill / delete still going: let it finish */
			agt_reaper_wait_sync(c->helper_pid, SYNC_WAIT_MS, &st);
			c->helper_pid = 0;
		}
		if (!c->d.pid)
			c->d.pid = read_pid(c->dir);
		if (!v)
			continue;
		snprintf(v[n].id, sizeof(v[n].id), "%s", c->d.id);
		v[n++].pid = c->exited ? 0 : c->d.pid;
		c->exited = 1;
	}
	if (v)
		remove_many_sync(a, v, n);
	free(v);
}

const struct agt_backend agt_backend_runc = {
    .name = "runc",
    .start = runc_start,
    .suspend = freezer_op,
    .resume = freezer_op,
    .destroy = runc_destroy,
    .child_status = runc_child_status,
    .cleanup_stale = runc_cleanup_stale,
    .remove_all_sync = runc_remove_all_sync,
};
