/* agent/child.c — spawning and reaping children (contract in agent/child.h). */
#include "agent/child.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"

extern char **environ;

#define BUCKETS 256
/* Exits seen before anyone watched: enough for a burst of creates. */
#define UNCLAIMED_MAX 1024

struct watch {
	struct watch *next;
	pid_t pid;
	agt_child_fn fn;
	void *arg;
};

struct unclaimed {
	pid_t pid;
	int status;
};

struct pending_call {
	pid_t pid;
	int status;
	agt_child_fn fn;
	void *arg;
};

static struct {
	struct event_base *base;
	struct event *sigev;
	struct watch *table[BUCKETS];
	struct unclaimed lost[UNCLAIMED_MAX];
	int nlost, lost_next;
} R;

static void child_close_from(int lowfd)
{
#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned)lowfd, ~0U, 0) == 0)
		return;
#endif
	for (int fd = lowfd; fd < 65536; fd++)
		close(fd);
}

static int child_stdio(int fd, int target)
{
	if (fd == target)
		return fcntl(fd, F_SETFD, 0); /* keep it across exec */
	return dup2(fd, target) < 0 ? -1 : 0;
}

pid_t agt_spawn(const struct agt_spawn *s, struct hc_err *err)
{
	int devnull = -1;
	pid_t pid, parent;

	if (s->stdin_fd < 0 || s->stdout_fd < 0 || s->stderr_fd < 0) {
		devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (devnull < 0)
			return hc_err_set(err, "/dev/null: %s", strerror(errno));
	}
	parent = getpid();
	pid = fork();
	if (pid < 0) {
		int e = errno;
		if (devnull >= 0)
			close(devnull);
		return hc_err_set(err, "fork: %s", strerror(e));
	}
	if (pid == 0) {
		/* Only async-signal-safe calls from here to exec. */
		sigset_t all;
		struct sigaction dfl;

		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		sigaction(SIGPIPE, &dfl, NULL);
		sigaction(SIGCHLD, &dfl, NULL);
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		if (s->new_pgrp)
			setpgid(0, 0);
		/* A child (a process-backend runtime, a runc CLI call) dies with
		 * the agent: a restarted agent removes what an earlier run left
		 * rather than adopting it, and nothing else would manage it. The
		 * parent check closes the race with an agent dying before prctl. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(125);
		if (s->rlimit_data > 0) {
			struct rlimit rl = {(rlim_t)s->rlimit_data, (rlim_t)s->rlimit_data};
			setrlimit(RLIMIT_DATA, &rl);
		}
		if (child_stdio(s->stdin_fd >= 0 ? s->stdin_fd : devnull, 0) < 0 ||
		    child_stdio(s->stdout_fd >= 0 ? s->stdout_fd : devnull, 1) < 0 ||
		    child_stdio(s->stderr_fd >= 0 ? s->stderr_fd : devnull, 2) < 0)
			_exit(126);
		child_close_from(3);
		execve(s->argv[0], (char *const *)s->argv,
		       s->envp ? (char *const *)s->envp : environ);
		_exit(127);
	}
	if (s->new_pgrp)
		setpgid(pid, pid); /* both sides, so there is no race with a signal */
	if (devnull >= 0)
		close(devnull);
	return pid;
}

int agt_pipe(int fds[2])
{
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	if (fcntl(fds[0], F_SETFL, O_NONBLOCK) < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	return 0;
}

static struct watch **slot(pid_t pid)
{
	struct watch **w = &R.table[(unsigned)pid % BUCKETS];
	while (*w && (*w)->pid != pid)
		w = &(*w)->next;
	return w;
}

static void remember(pid_t pid, int status)
{
	R.lost[R.lost_next].pid = pid;
	R.lost[R.lost_next].status = status;
	R.lost_next = (R.lost_next + 1) % UNCLAIMED_MAX;
	if (R.nlost < UNCLAIMED_MAX)
		R.nlost++;
}

static void dispatch(pid_t pid, int status)
{
	struct watch **w = slot(pid), *x = *w;
	agt_child_fn fn;
	void *arg;

	if (!x) {
		if (WIFEXITED(status) || WIFSIGNALED(status))
			remember(pid, status);
		return;
	}
	fn = x->fn;
	arg = x->arg;
	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		*w = x->next;
		free(x);
	}
	fn(pid, status, arg);
}

void agt_reaper_poll(void)
{
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG | WUNTRACED | WCONTINUED);
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid <= 0)
			break;
		dispatch(pid, status);
	}
}

static void on_sigchld(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	agt_reaper_poll();
}

int agt_reaper_init(struct event_base *base, struct hc_err *err)
{
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		return hc_err_set(err, "prctl(PR_SET_CHILD_SUBREAPER): %s", strerror(errno));
	R.base = base;
	R.sigev = evsignal_new(base, SIGCHLD, on_sigchld, NULL);
	if (!R.sigev || evsignal_add(R.sigev, NULL) < 0)
		return hc_err_set(err, "cannot watch SIGCHLD");
	/* Children may have exited before the handler was in place. */
	agt_reaper_poll();
	return 0;
}

static void run_pending(evutil_socket_t fd, short what, void *arg)
{
	struct pending_call *p = arg;
	(void)fd;
	(void)what;
	p->fn(p->pid, p->status, p->arg);
	free(p);
}

int agt_reaper_watch(pid_t pid, agt_child_fn fn, void *arg)
{
	struct watch *w;

	for (int i = 0; i < R.nlost; i++) {
		if (R.lost[i].pid != pid)
			continue;
		struct pending_call *p = malloc(sizeof(*p));
		if (!p)
			return -1;
		*p = (struct pending_call){pid, R.lost[i].status, fn, arg};
		R.lost[i].pid = 0;
		if (!R.base || event_base_once(R.base, -1, EV_TIMEOUT, run_pending, p, NULL) < 0) {
			free(p);
			return -1;
		}
		return 0;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return -1;
	w->pid = pid;
	w->fn = fn;
	w->arg = arg;
	w->next = R.table[(unsigned)pid % BUCKETS];
	R.table[(unsigned)pid % BUCKETS] = w;
	return 0;
}

void agt_reaper_unwatch(pid_t pid)
{
	struct watch **w = slot(pid), *x = *w;
	if (x) {
		*w = x->next;
		free(x);
	}
}

int agt_reaper_wait_sync(pid_t pid, long timeout_ms, int *status)
{
	uint64_t deadline = hc_mono_us() + (uint64_t)timeout_ms * 1000;

	for (int i = 0; i < R.nlost; i++) {
		if (R.lost[i].pid == pid) {
			R.lost[i].pid = 0;
			*status = R.lost[i].status;
			return 0;
		}
	}
	for (;;) {
		int st;
		pid_t got = waitpid(-1, &st, WNOHANG | WUNTRACED | WCONTINUED);
		if (got == pid && (WIFEXITED(st) || WIFSIGNALED(st))) {
			agt_reaper_unwatch(pid);
			*status = st;
			return 0;
		}
		if (got > 0) {
			if (got != pid)
				dispatch(got, st);
			continue;
		}
		if (got < 0 && errno == ECHILD)
			break;
		if (hc_mono_us() >= deadline)
			break;
		struct timespec ts = {0, 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	return -1;
}

void agt_reaper_free(void)
{
	if (R.sigev)
		event_free(R.sigev);
	for (int i = 0; i < BUCKETS; i++) {
		while (R.table[i]) {
			struct watch *x = R.table[i];
			R.table[i] = x->next;
			free(x);
		}
	}
	memset(&R, 0, sizeof(R));
}
