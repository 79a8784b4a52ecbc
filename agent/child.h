/* agent/child.h — starting child processes and reaping them without ever
 * blocking the event loop.
 *
 * The agent is a child subreaper (prctl PR_SET_CHILD_SUBREAPER): after
 * `runc run -d` exits, the container's init is re-parented to the agent,
 * so its exit is seen here and the container is reported dead. SIGCHLD is
 * turned into a libevent signal event; each one runs a waitpid(-1, WNOHANG)
 * loop that hands every status to whoever watches that pid. Exits of pids
 * nobody watches yet are remembered (bounded), because a container init can
 * die before the agent has read its pid from runc's state.
 *
 * One reaper per process (SIGCHLD and waitpid(-1) are process-wide); use it
 * from the loop thread only. */
#ifndef AGT_CHILD_H
#define AGT_CHILD_H

#include <sys/types.h>

#include "common/err.h"

struct event_base;

struct agt_spawn {
	const char *const *argv; /* argv[0] is a path; NULL-terminated */
	const char *const *envp; /* NULL = the agent's environment */
	int stdin_fd;		 /* -1 = /dev/null */
	int stdout_fd;		 /* -1 = /dev/null */
	int stderr_fd;		 /* -1 = /dev/null */
	int new_pgrp;		 /* put the child in its own process group */
	long long rlimit_data;	 /* bytes; 0 = leave alone */
};

/* fork + exec. The child gets only fds 0-2 (everything else is closed), its
 * signal mask cleared and SIGPIPE back to default. Returns the pid, or -1
 * with err (fork failed). An exec failure shows as exit status 127. */
pid_t agt_spawn(const struct agt_spawn *s, struct hc_err *err);

/* A pipe with both ends close-on-exec; the read end non-blocking. 0 / -1. */
int agt_pipe(int fds[2]);

/* status is as from waitpid: exits and deaths (WIFEXITED / WIFSIGNALED)
 * end the watch before fn runs; stops and continues (WIFSTOPPED /
 * WIFCONTINUED) are delivered too and keep it. */
typedef void (*agt_child_fn)(pid_t pid, int status, void *arg);

/* Become a subreaper and watch SIGCHLD on base. 0 or -1 with err. */
int agt_reaper_init(struct event_base *base, struct hc_err *err);

/* Call fn for pid's status changes. If pid already exited unwatched, fn
 * runs on the next loop pass. Returns 0 or -1 (ENOMEM). */
int agt_reaper_watch(pid_t pid, agt_child_fn fn, void *arg);

/* Stop watching pid (its exit will be reaped and ignored). */
void agt_reaper_unwatch(pid_t pid);

/* Reap whatever has changed now (what the SIGCHLD event does). */
void agt_reaper_poll(void);

/* Blocking wait for pid's exit, up to timeout_ms, still dispatching every
 * other child's status to its watcher. For start-up and shutdown only.
 * Returns 0 with *status, or -1 on timeout. */
int agt_reaper_wait_sync(pid_t pid, long timeout_ms, int *status);

/* Remove the signal event and forget every watch. */
void agt_reaper_free(void);

#endif
