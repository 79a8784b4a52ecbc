/* harness.h — start real processes for integration tests, stop them by PID.
 *
 * Integration tests run the real redis-server and the real hearth daemons
 * on free loopback ports. Everything started here is remembered and killed
 * by PID (SIGTERM, then SIGKILL after a grace period) by th_stop_all(),
 * which is also registered with atexit() so a failing test leaves nothing
 * running. Binaries are found in $HEARTH_BUILD (set by tests/run.sh;
 * default "build"). */
#ifndef TH_HARNESS_H
#define TH_HARNESS_H

#include <stddef.h>
#include <sys/types.h>

#include <hiredis/hiredis.h>

struct th_redis {
	pid_t pid;
	int port;
	char password[33];
	char url[128]; /* redis://:password@127.0.0.1:port/0 */
	char dir[256]; /* temporary data dir, removed on stop */
};

/* A port that was free a moment ago (bind to 0, read, close). */
int th_free_port(void);

/* Start redis-server on a free port with a random password and no
 * persistence; wait until it answers PING. Returns 0 or -1 (message on stderr). */
int th_redis_start(struct th_redis *r);
/* Stop r's server, if running, and start a new one on the same port with the
 * same password (reconnect tests). Returns 0 or -1 (message on stderr). */
int th_redis_restart(struct th_redis *r);
/* Stop by PID (SIGTERM, SIGKILL after 5 s) and remove the data dir. */
void th_redis_stop(struct th_redis *r);

/* Start a program (argv[0] is a path, or a name looked up in
 * $HEARTH_BUILD, then in PATH) with extra environment entries ("K=V", NULL-terminated,
 * may be NULL). Its stdout/stderr go to $HEARTH_BUILD/test-logs/<name>-<pid>.log
 * (the path is written to logpath if given). The child gets
 * PR_SET_PDEATHSIG(SIGKILL), tied to the thread that spawned it: spawn from
 * a thread that lives as long as the child. Returns the pid or -1. */
pid_t th_spawn(char *const argv[], char *const envp_extra[], char *logpath, size_t logpath_len);

/* Start a daemon that serves HTTP on 127.0.0.1:port (argv must say so) as
 * th_spawn does, and wait up to timeout_ms until its /healthz answers 200.
 * Its log path is written to logpath if given. Returns the pid, or -1
 * with a message on stderr naming the log (a daemon that did not come up
 * is stopped). */
pid_t th_daemon_start(char *const argv[], char *const envp_extra[], int port, long timeout_ms,
		      char *logpath, size_t logpath_len);

/* A blocking connection to r's server, authenticated, for the test's own
 * checks (hc_redis_sync_cmd). NULL with a message on stderr on failure;
 * the caller frees it with redisFree. */
redisContext *th_redis_connect(const struct th_redis *r);

/* Wait until something accepts TCP connections on host:port, up to
 * timeout_ms. Returns 0 or -1. */
int th_wait_port(const char *host, int port, long timeout_ms);

/* GET http://host:port/path until it answers 200 or timeout_ms passes. */
int th_wait_http_ok(const char *url, long timeout_ms);

/* Send sig and wait up to grace_ms for the process to exit; then SIGKILL.
 * Every spawned child leads its own process group: once the child has
 * exited, whatever is left in that group (e.g. a shell's children) is
 * SIGKILLed too. Returns the exit status as from waitpid, or -1. Forgets
 * the pid; a pid the harness did not start (or already stopped) is left
 * alone and gives -1. */
int th_stop(pid_t pid, int sig, long grace_ms);

/* Wait up to timeout_ms for a spawned child to exit by itself (e.g. a
 * daemon that must refuse a bad config). Returns its status as from waitpid
 * and forgets it, or -1 on timeout (it is still running and remembered).
 * Use this rather than waitpid() on harness children. */
int th_wait_exit(pid_t pid, long timeout_ms);

/* Stop everything started through this harness (reverse order). */
void th_stop_all(void);

/* Nonzero when running as root with runc available (runc backend tests). */
int th_have_runc(void);

/* Connections accepted on the local socket name ("@abstract" or a path),
 * as /proc/net/unix lists them: under the listener's name, connected; the
 * client's end has no name. -1 when the list cannot be read. */
int th_unix_accepted(const char *name);

/* Path of a built binary: $HEARTH_BUILD/name (static buffer per call site is
 * not used: the result is written into out). */
const char *th_bin(const char *name, char *out, size_t outlen);

/* Blocking HTTP for tests: method, url, optional body and "K: V" headers
 * (NULL-terminated). Returns the status (0 on transport failure); the body
 * goes into *body (malloc'd, NUL-terminated; caller frees) if body is not NULL. */
long th_http(const char *method, const char *url, const char *const *headers, const char *data,
	     size_t len, char **body);

#endif
