/* proc.c — spawning and reaping the runtime's children (see proc.h). */
#include "runtime/proc.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define REAPER_MAX 32

struct watch {
	pid_t pid;
	rt_exit_fn fn;
	void *arg;
};

static struct watch watches[REAPER_MAX];
static struct event *sigchld_ev;

static void close_pair(int p[2])
{
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	p[0] = p[1] = -1;
}

static int make_pipe(int p[2], int want)
{
	p[0] = p[1] = -1;
	if (!want)
		return 0;
	return pipe2(p, O_CLOEXEC);
}

/* Runs in the child between fork and exec: only async-signal-safe calls. */
static void child_exec(const struct rt_proc_spec *spec, int in[2], int fd3[2], int out[2],
		       int errout[2], int errp)
{
	sigset_t all;
	int e, devnull, fd;

	/* keep the error pipe clear of the fds about to be set up */
	e = fcntl(errp, F_DUPFD_CLOEXEC, 1000);
	if (e >= 0)
		errp = e;
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	/* exec keeps ignored signals ignored; the runtime ignores SIGPIPE */
	signal(SIGPIPE, SIG_DFL);
	if (spec->cwd && chdir(spec->cwd) < 0)
		goto fail;
	devnull = open("/dev/null", O_RDWR);
	fd = in[0] >= 0 ? in[0] : devnull;
	if (fd < 0 || dup2(fd, 0) < 0)
		goto fail;
	if (out[1] >= 0 &&
	    (dup2(out[1], 1) < 0 || dup2(errout[1] >= 0 ? errout[1] : out[1], 2) < 0))
		goto fail;
	if (fd3[1] >= 0 ? dup2(fd3[1], 3) < 0 : (close(3), 0))
		goto fail;
	/* nothing of the runtime's (sockets, pipes) leaks into the function;
	 * errp (moved above the range first) is close-on-exec */
	for (fd = 4; fd < 1100; fd++)
		if (fd != errp)
			close(fd);
	execve(spec->path, spec->argv, spec->envp);
fail:
	e = errno;
	if (write(errp, &e, sizeof e) < 0) {
		/* nothing more can be done */
	}
	_exit(127);
}

pid_t rt_proc_spawn(const struct rt_proc_spec *spec, struct rt_proc_fds *fds, struct hc_err *err)
{
	int in[2], fd3[2], out[2], errout[2], ep[2] = {-1, -1};
	int child_errno = 0;
	ssize_t n;
	pid_t pid = -1;

	fds->in = fds->fd3 = fds->out = fds->err = -1;
	in[0] = in[1] = fd3[0] = fd3[1] = out[0] = out[1] = errout[0] = errout[1] = -1;
	if (make_pipe(in, spec->want_stdin) < 0 || make_pipe(fd3, spec->want_fd3) < 0 ||
	    make_pipe(out, spec->capture || spec->split) < 0 ||
	    make_pipe(errout, spec->split) < 0 || pipe2(ep, O_CLOEXEC) < 0) {
		hc_err_set(err, "pipe: %s", strerror(errno));
		goto fail;
	}
	pid = fork();
	if (pid < 0) {
		hc_err_set(err, "fork: %s", strerror(errno));
		goto fail;
	}
	if (pid == 0)
		child_exec(spec, in, fd3, out, errout, ep[1]);
	/* both sides set the group, so nobody can signal it before it exists */
	setpgid(pid, pid);
	close(ep[1]);
	ep[1] = -1;
	/* exec closes ep (cloexec): EOF means success, an int means failure */
	do
		n = read(ep[0], &child_errno, sizeof child_errno);
	while (n < 0 && errno == EINTR);
	close(ep[0]);
	ep[0] = -1;
	if (n == (ssize_t)sizeof child_errno) {
		int st;
		waitpid(pid, &st, 0);
		hc_err_set(err, "exec %s: %s", spec->path, strerror(child_errno));
		goto fail;
	}
	if (in[0] >= 0)
		close(in[0]);
	if (fd3[1] >= 0)
		close(fd3[1]);
	if (out[1] >= 0)
		close(out[1]);
	if (errout[1] >= 0)
		close(errout[1]);
	fds->in = in[1];
	fds->fd3 = fd3[0];
	fds->out = out[0];
	fds->err = errout[0];
	if (fds->in >= 0)
		fcntl(fds->in, F_SETFL, O_NONBLOCK);
	if (fds->fd3 >= 0)
		fcntl(fds->fd3, F_SETFL, O_NONBLOCK);
	if (fds->out >= 0)
		fcntl(fds->out, F_SETFL, O_NONBLOCK);
	if (fds->err >= 0)
		fcntl(fds->err, F_SETFL, O_NONBLOCK);
	return pid;
fail:
	close_pair(in);
	close_pair(fd3);
	close_pair(out);
	close_pair(errout);
	close_pair(ep);
	return -1;
}

void rt_proc_kill(pid_t pid)
{
	if (pid > 0) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL); /* in case it left its group */
	}
}

void rt_reaper_poll(void)
{
	int st, i;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (i = 0; i < REAPER_MAX; i++) {
			if (watches[i].pid == pid) {
				struct watch w = watches[i];
				watches[i].pid = 0;
				w.fn(pid, st, w.arg);
				break;
			}
		}
	}
}

static void on_sigchld(evutil_socket_t fd, short what, void *arg)
{
	rt_reaper_poll();
}

int rt_reaper_init(struct event_base *base, struct hc_err *err)
{
	if (sigchld_ev)
		return 0;
	sigchld_ev = evsignal_new(base, SIGCHLD, on_sigchld, NULL);
	if (!sigchld_ev || evsignal_add(sigchld_ev, NULL) < 0) {
		if (sigchld_ev)
			event_free(sigchld_ev);
		sigchld_ev = NULL;
		return hc_err_set(err, "cannot watch SIGCHLD");
	}
	return 0;
}

int rt_reaper_watch(pid_t pid, rt_exit_fn fn, void *arg)
{
	for (int i = 0; i < REAPER_MAX; i++) {
		if (watches[i].pid == 0) {
			watches[i].pid = pid;
			watches[i].fn = fn;
			watches[i].arg = arg;
			return 0;
		}
	}
	return -1;
}

void rt_reaper_forget(pid_t pid)
{
	for (int i = 0; i < REAPER_MAX; i++)
		if (watches[i].pid == pid)
			watches[i].pid = 0;
}

void rt_reaper_fini(void)
{
	if (sigchld_ev) {
		event_free(sigchld_ev);
		sigchld_ev = NULL;
	}
	memset(watches, 0, sizeof watches);
}

void rt_proc_describe(int status, char *out, size_t outlen)
{
	if (WIFEXITED(status))
		snprintf(out, outlen, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(out, outlen, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(out, outlen, "stopped (status %d)", status);
}
