/* proc.h — the runtime's child processes: spawned with execve and explicit
 * argv/env (never through a shell), each the leader of its own process
 * group so that a timeout can kill everything the function started, and
 * killed with the runtime (PR_SET_PDEATHSIG). Exits are learnt on the event
 * loop through SIGCHLD, never by a blocking wait. One loop per process. */
#ifndef RT_PROC_H
#define RT_PROC_H

#include <sys/types.h>

#include "common/err.h"

struct event_base;

struct rt_proc_spec {
	const char *path;  /* executable (absolute, or relative to cwd) */
	char *const *argv; /* NULL-terminated */
	char *const *envp; /* NULL-terminated; the whole environment */
	const char *cwd;   /* NULL = the runtime's */
	int want_stdin;	   /* a pipe to the child's stdin (else /dev/null) */
	int want_fd3;	   /* a pipe from the child's fd 3 (actionloop replies) */
	int capture;	   /* child's stdout+stderr into one pipe (else inherited) */
	int split;	   /* stdout into fds->out, stderr into fds->err (two pipes) */
};

/* The parent's ends (non-blocking, close-on-exec), -1 when not requested. */
struct rt_proc_fds {
	int in;
	int fd3;
	int out;
	int err;
};

/* Start a child. Returns its pid (also its process group id), or -1 with
 * err when the pipes could not be made or exec failed (the child's errno is
 * reported: "exec /usr/bin/node: No such file or directory"). The caller
 * owns the fds. */
pid_t rt_proc_spawn(const struct rt_proc_spec *spec, struct rt_proc_fds *fds, struct hc_err *err);

/* SIGKILL the child's whole process group. */
void rt_proc_kill(pid_t pid);

/* Called on the loop once the child has exited and been reaped; status as
 * from waitpid. */
typedef void (*rt_exit_fn)(pid_t pid, int status, void *arg);

/* Watch SIGCHLD on base (once per process). Returns 0 or -1 with err. */
int rt_reaper_init(struct event_base *base, struct hc_err *err);
/* Call fn when pid exits. Returns 0, or -1 when the table is full. */
int rt_reaper_watch(pid_t pid, rt_exit_fn fn, void *arg);
/* Stop watching pid (its exit will be reaped silently). */
void rt_reaper_forget(pid_t pid);
/* Reap whatever has exited now (also what the signal handler does). */
void rt_reaper_poll(void);
void rt_reaper_fini(void);

/* Describe a waitpid status: "exited with status 1", "killed by signal 9". */
void rt_proc_describe(int status, char *out, size_t outlen);

#endif
