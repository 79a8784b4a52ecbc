/* harness.c — start real processes for integration tests, stop them by PID.
 *
 * Every child is recorded in a small table so that th_stop_all() (run at
 * exit) and the SIGINT/SIGTERM handlers can stop it; children also get
 * PR_SET_PDEATHSIG(SIGKILL) so nothing outlives a test that crashes. The
 * environment and paths a child needs are built before fork(), because the
 * test process may have other threads (a fixture server) and only
 * async-signal-safe calls are allowed between fork() and exec(). */
#include "tests/lib/harness.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/redis.h"
#include "tests/lib/wait.h"

#define TH_MAX_CHILDREN 64
#define TH_MAX_ENV	512
#define TH_HTTP_MAX	(64u << 20)

extern char **environ;

struct th_child {
	pid_t pid;
	char dir[256]; /* removed when the child is stopped ("" for none) */
};

static struct th_child children[TH_MAX_CHILDREN];
static pthread_mutex_t children_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t setup_once = PTHREAD_ONCE_INIT;
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static unsigned spawn_seq;

/* A signal that would end the test must not leave children behind. Only
 * kill(2) is used here: it is async-signal-safe. */
static void on_fatal_signal(int sig)
{
	for (int i = TH_MAX_CHILDREN - 1; i >= 0; i--)
		if (children[i].pid > 0)
			kill(-children[i].pid, SIGKILL);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void setup(void)
{
	int sigs[] = {SIGINT, SIGTERM};

	atexit(th_stop_all);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct sigaction old;

		/* Keep a handler the test installed itself. */
		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_DFL)
			signal(sigs[i], on_fatal_signal);
	}
}

static void curl_setup(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int remember(pid_t pid, const char *dir)
{
	int rc = -1;

	pthread_mutex_lock(&children_lock);
	for (int i = 0; i < TH_MAX_CHILDREN; i++) {
		if (children[i].pid == 0) {
			snprintf(children[i].dir, sizeof(children[i].dir), "%s", dir ? dir : "");
			children[i].pid = pid;
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&children_lock);
	return rc;
}

/* Forget pid; its directory (if any) is copied to dir. Returns 0 if known. */
static int forget(pid_t pid, char *dir, size_t dirlen)
{
	int rc = -1;

	pthread_mutex_lock(&children_lock);
	for (int i = 0; i < TH_MAX_CHILDREN; i++) {
		if (children[i].pid == pid) {
			snprintf(dir, dirlen, "%s", children[i].dir);
			children[i].pid = 0;
			children[i].dir[0] = '\0';
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&children_lock);
	return rc;
}

/* Remove a flat temporary directory (redis data dirs have no subdirs). */
static void remove_dir(const char *dir)
{
	DIR *d;
	struct dirent *e;
	char path[512];

	if (!dir[0])
		return;
	d = opendir(dir);
	if (d) {
		while ((e = readdir(d)) != NULL) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(dir);
}

static const char *build_dir(void)
{
	const char *b = getenv("HEARTH_BUILD");

	return b && *b ? b : "build";
}

const char *th_bin(const char *name, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s/%s", build_dir(), name);
	return out;
}

/* Find an executable: a path as given, else $HEARTH_BUILD/name, else PATH. */
static int resolve(const char *name, char *out, size_t outlen)
{
	const char *path = getenv("PATH");

	if (strchr(name, '/')) {
		snprintf(out, outlen, "%s", name);
		return access(out, X_OK);
	}
	th_bin(name, out, outlen);
	if (access(out, X_OK) == 0)
		return 0;
	while (path && *path) {
		const char *colon = strchr(path, ':');
		size_t n = colon ? (size_t)(colon - path) : strlen(path);

		if (n > 0) {
			snprintf(out, outlen, "%.*s/%s", (int)n, path, name);
			if (access(out, X_OK) == 0)
				return 0;
		}
		path = colon ? colon + 1 : NULL;
	}
	return -1;
}

int th_free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int fd, port = -1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* Copy the environment, with each "K=V" of extra replacing an entry K. */
static int build_env(char *const extra[], char **envp, size_t max)
{
	size_t n = 0;

	for (char **e = environ; e && *e; e++) {
		int replaced = 0;

		for (size_t i = 0; extra && extra[i]; i++) {
			const char *eq = strchr(extra[i], '=');
			size_t klen = eq ? (size_t)(eq - extra[i]) + 1 : strlen(extra[i]);

			if (!strncmp(*e, extra[i], klen))
				replaced = 1;
		}
		if (replaced)
			continue;
		if (n + 1 >= max)
			return -1;
		envp[n++] = *e;
	}
	for (size_t i = 0; extra && extra[i]; i++) {
		if (n + 1 >= max)
			return -1;
		envp[n++] = extra[i];
	}
	envp[n] = NULL;
	return 0;
}

/* Spawn and remember; dir is a directory to remove when the child stops. */
static pid_t spawn(char *const argv[], char *const envp_extra[], const char *dir, char *logpath,
		   size_t logpath_len)
{
	char exe[512], logdir[512], tmplog[700], finallog[700];
	char *envp[TH_MAX_ENV];
	const char *base;
	pid_t parent, pid;
	int fd;

	pthread_once(&setup_once, setup);
	if (!argv || !argv[0]) {
		fprintf(stderr, "th_spawn: no program\n");
		return -1;
	}
	if (resolve(argv[0], exe, sizeof(exe)) < 0) {
		fprintf(stderr, "th_spawn: %s: not found (built? HEARTH_BUILD=%s)\n", argv[0],
			build_dir());
		return -1;
	}
	if (build_env(envp_extra, envp, TH_MAX_ENV) < 0) {
		fprintf(stderr, "th_spawn: environment too large\n");
		return -1;
	}
	base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	snprintf(logdir, sizeof(logdir), "%s/test-logs", build_dir());
	mkdir(build_dir(), 0755);
	mkdir(logdir, 0755);
	/* The log is named after the child's pid, known only after fork: open
	 * a temporary name now and rename it once the pid is known. */
	parent = getpid();
	snprintf(tmplog, sizeof(tmplog), "%s/%s-spawn-%d-%u.log", logdir, base, (int)parent,
		 __atomic_fetch_add(&spawn_seq, 1, __ATOMIC_RELAXED));
	fd = open(tmplog, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "th_spawn: %s: %s\n", tmplog, strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "th_spawn: fork: %s\n", strerror(errno));
		close(fd);
		unlink(tmplog);
		return -1;
	}
	if (pid == 0) {
		sigset_t none;
		int in = open("/dev/null", O_RDONLY);

		/* Die with the test; the check closes the race with an early exit.
		 * Its own process group lets th_stop reach grandchildren too. */
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		if (in >= 0)
			dup2(in, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		close_range(3, ~0U, 0);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		execve(exe, argv, envp);
		_exit(127);
	}
	setpgid(pid, pid); /* also here, so it holds before fork() returns in both */
	close(fd);
	snprintf(finallog, sizeof(finallog), "%s/%s-%d.log", logdir, base, (int)pid);
	if (rename(tmplog, finallog) < 0)
		snprintf(finallog, sizeof(finallog), "%s", tmplog);
	if (logpath && logpath_len)
		snprintf(logpath, logpath_len, "%s", finallog);
	if (remember(pid, dir) < 0) {
		fprintf(stderr, "th_spawn: too many children\n");
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	return pid;
}

pid_t th_spawn(char *const argv[], char *const envp_extra[], char *logpath, size_t logpath_len)
{
	return spawn(argv, envp_extra, NULL, logpath, logpath_len);
}

int th_stop(pid_t pid, int sig, long grace_ms)
{
	char dir[256] = "";
	long long deadline = th_now_ms() + grace_ms;
	int status = 0;
	pid_t w;

	/* Only what we started: a pid stopped before may belong to someone else. */
	if (pid <= 0 || forget(pid, dir, sizeof(dir)) < 0)
		return -1;
	if (kill(pid, sig) < 0 && errno != ESRCH) {
		remove_dir(dir);
		return -1;
	}
	for (;;) {
		w = waitpid(pid, &status, WNOHANG);
		if (w == pid || (w < 0 && errno != EINTR))
			break;
		if (th_now_ms() >= deadline) {
			kill(-pid, SIGKILL);
			do
				w = waitpid(pid, &status, 0);
			while (w < 0 && errno == EINTR);
			break;
		}
		th_sleep_ms(5);
	}
	/* Whatever the child left behind in its group (a shell's children). */
	kill(-pid, SIGKILL);
	remove_dir(dir);
	return w == pid ? status : -1;
}

int th_wait_exit(pid_t pid, long timeout_ms)
{
	char dir[256];
	int status = 0;
	pid_t w = 0;

	TH_RETRY(timeout_ms, 5) {
		w = waitpid(pid, &status, WNOHANG);
		if (w == pid || (w < 0 && errno != EINTR))
			break;
	}
	if (w != pid)
		return -1;
	if (forget(pid, dir, sizeof(dir)) == 0) {
		kill(-pid, SIGKILL);
		remove_dir(dir);
	}
	return status;
}

void th_stop_all(void)
{
	for (int i = TH_MAX_CHILDREN - 1; i >= 0; i--) {
		pid_t pid;

		pthread_mutex_lock(&children_lock);
		pid = children[i].pid;
		pthread_mutex_unlock(&children_lock);
		if (pid > 0)
			th_stop(pid, SIGTERM, 3000);
	}
}

int th_wait_port(const char *host, int port, long timeout_ms)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};

	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return -1;
	TH_RETRY(timeout_ms, 10) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int ok;

		if (fd < 0)
			return -1;
		ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
		close(fd);
		if (ok)
			return 0;
	}
	return -1;
}

static size_t http_write(char *p, size_t size, size_t n, void *arg)
{
	/* Returning less than asked makes curl fail the transfer (too large). */
	return hc_buf_add(arg, p, size * n) == 0 ? size * n : 0;
}

static long http_do(const char *method, const char *url, const char *const *headers,
		    const char *data, size_t len, char **body, long timeout_ms)
{
	struct curl_slist *hl = NULL, *tmp;
	struct hc_buf buf;
	long status = 0;
	CURL *e;

	pthread_once(&curl_once, curl_setup);
	if (body)
		*body = NULL;
	hc_buf_init(&buf, TH_HTTP_MAX);
	e = curl_easy_init();
	if (!e)
		return 0;
	for (size_t i = 0; headers && headers[i]; i++) {
		tmp = curl_slist_append(hl, headers[i]);
		if (!tmp)
			goto out;
		hl = tmp;
	}
	tmp = curl_slist_append(hl, "Expect:");
	if (!tmp)
		goto out;
	hl = tmp;
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, http_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &buf);
	if (!strcmp(method, "HEAD"))
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	if (data) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, data);
	}
	if (curl_easy_perform(e) != CURLE_OK)
		goto out;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	if (body)
		*body = hc_buf_take(&buf, NULL);
out:
	hc_buf_free(&buf);
	curl_slist_free_all(hl);
	curl_easy_cleanup(e);
	return status;
}

long th_http(const char *method, const char *url, const char *const *headers, const char *data,
	     size_t len, char **body)
{
	return http_do(method, url, headers, data, len, body, 30000);
}

int th_wait_http_ok(const char *url, long timeout_ms)
{
	TH_RETRY(timeout_ms, 20) {
		if (http_do("GET", url, NULL, NULL, 0, NULL, 1000) == 200)
			return 0;
	}
	return -1;
}

pid_t th_daemon_start(char *const argv[], char *const envp_extra[], int port, long timeout_ms,
		      char *logpath, size_t logpath_len)
{
	char log[700] = "", url[64];
	pid_t pid = spawn(argv, envp_extra, NULL, log, sizeof(log));

	if (logpath && logpath_len)
		snprintf(logpath, logpath_len, "%s", log);
	if (pid < 0)
		return -1;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/healthz", port);
	if (th_wait_http_ok(url, timeout_ms) == 0)
		return pid;
	fprintf(stderr, "th_daemon_start: %s did not answer %s within %ld ms; see %s\n", argv[0],
		url, timeout_ms, log);
	th_stop(pid, SIGTERM, 2000);
	return -1;
}

redisContext *th_redis_connect(const struct th_redis *r)
{
	struct hc_redis_opts o;
	struct hc_err err = {""};
	redisContext *c = NULL;

	if (hc_redis_parse_url(r->url, &o, &err) == 0)
		c = hc_redis_sync_connect(&o, &err);
	if (!c)
		fprintf(stderr, "th_redis_connect: %s: %s\n", r->url, err.msg);
	return c;
}

int th_have_runc(void)
{
	char path[512];

	return geteuid() == 0 && resolve("runc", path, sizeof(path)) == 0 &&
	       strstr(path, "/runc") != NULL;
}

static int random_hex(char *out, size_t nbytes)
{
	unsigned char raw[64];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0 || nbytes > sizeof(raw))
		goto fail;
	n = read(fd, raw, nbytes);
	close(fd);
	if (n != (ssize_t)nbytes)
		return -1;
	for (size_t i = 0; i < nbytes; i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

/* PING with AUTH until it answers PONG, the child dies, or time runs out.
 * Returns 0, -1 on timeout, -2 when the child exited (port taken?). */
static int redis_wait(struct th_redis *r, long timeout_ms)
{
	struct timeval tv = {0, 200000};

	TH_RETRY(timeout_ms, 20) {
		redisContext *c = redisConnectWithTimeout("127.0.0.1", r->port, tv);
		int ok = 0;

		if (c && !c->err) {
			redisReply *a = redisCommand(c, "AUTH %s", r->password);
			redisReply *p = NULL;

			if (a && a->type == REDIS_REPLY_STATUS)
				p = redisCommand(c, "PING");
			ok = p && p->type == REDIS_REPLY_STATUS && !strcmp(p->str, "PONG");
			if (a)
				freeReplyObject(a);
			if (p)
				freeReplyObject(p);
		}
		if (c)
			redisFree(c);
		if (ok)
			return 0;
		if (waitpid(r->pid, NULL, WNOHANG) == r->pid)
			return -2;
	}
	return -1;
}

/* Start redis-server on r->port with r->password (both already set). */
static int redis_launch(struct th_redis *r)
{
	char port[16], log[700];
	char *argv[] = {"redis-server",
			"--port",
			port,
			"--bind",
			"127.0.0.1",
			"--requirepass",
			r->password,
			"--save",
			"",
			"--appendonly",
			"no",
			"--dir",
			r->dir,
			"--daemonize",
			"no",
			NULL};
	char dir[256];
	int rc;

	snprintf(r->dir, sizeof(r->dir), "/tmp/hearth-redis-XXXXXX");
	if (!mkdtemp(r->dir)) {
		fprintf(stderr, "th_redis_start: mkdtemp: %s\n", strerror(errno));
		r->dir[0] = '\0';
		return -1;
	}
	snprintf(port, sizeof(port), "%d", r->port);
	snprintf(r->url, sizeof(r->url), "redis://:%s@127.0.0.1:%d/0", r->password, r->port);
	r->pid = spawn(argv, NULL, r->dir, log, sizeof(log));
	if (r->pid < 0) {
		remove_dir(r->dir);
		r->dir[0] = '\0';
		return -1;
	}
	rc = redis_wait(r, 10000);
	if (rc == 0)
		return 0;
	if (rc == -1)
		fprintf(stderr, "th_redis_start: no PONG on port %d (log: %s)\n", r->port, log);
	if (rc == -2) {
		/* Already reaped by redis_wait; forget it and clean up. */
		forget(r->pid, dir, sizeof(dir));
		remove_dir(dir);
	} else {
		th_stop(r->pid, SIGKILL, 1000);
	}
	r->pid = 0;
	r->dir[0] = '\0';
	return rc;
}

int th_redis_start(struct th_redis *r)
{
	memset(r, 0, sizeof(*r));
	if (random_hex(r->password, 16) < 0) {
		fprintf(stderr, "th_redis_start: no randomness\n");
		return -1;
	}
	/* The free port can be taken between th_free_port() and redis' bind:
	 * try a few ports before giving up. */
	for (int attempt = 0; attempt < 5; attempt++) {
		int rc;

		r->port = th_free_port();
		if (r->port < 0)
			return -1;
		rc = redis_launch(r);
		if (rc == 0)
			return 0;
		if (rc != -2)
			return -1;
	}
	fprintf(stderr, "th_redis_start: redis-server kept exiting at start\n");
	return -1;
}

int th_redis_restart(struct th_redis *r)
{
	if (r->pid > 0)
		th_redis_stop(r);
	if (redis_launch(r) != 0) {
		fprintf(stderr, "th_redis_restart: could not start on port %d\n", r->port);
		return -1;
	}
	return 0;
}

void th_redis_stop(struct th_redis *r)
{
	if (r->pid > 0)
		th_stop(r->pid, SIGTERM, 5000);
	r->pid = 0;
	r->dir[0] = '\0';
}

int th_unix_accepted(const char *name)
{
	FILE *f = fopen("/proc/net/unix", "r");
	char line[512];
	int n = 0;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char path[256] = "";
		unsigned st = 0;
		/* Num RefCount Protocol Flags Type St Inode Path; St 03 = connected */
		if (sscanf(line, "%*s %*s %*s %*s %*s %x %*s %255s", &st, path) == 2 && st == 3 &&
		    !strcmp(path, name))
			n++;
	}
	fclose(f);
	return n;
}
