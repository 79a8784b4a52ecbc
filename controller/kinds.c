/* controller/kinds.c — the kinds this controller accepts (see kinds.h).
 *
 * "auto" describes the host the controller runs on, which is where the
 * single-node launcher runs the agent too. In a cluster whose agents run
 * elsewhere, set `kinds` to what every agent host has. */
#include "controller/kinds.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"

#define PROBE_TIMEOUT_MS 5000

int ctl_kinds_from_version(const char *family, const char *text, char *out, size_t outlen)
{
	const char *p = text;
	int major = -1, minor = -1;
	if (!strcmp(family, "nodejs")) {
		p += strspn(p, " \t\r\n");
		if (*p == 'v')
			p++;
		if (sscanf(p, "%d", &major) != 1 || major <= 0 || major > 9999)
			return -1;
		return snprintf(out, outlen, "nodejs:%d", major) < (int)outlen ? 0 : -1;
	}
	if (!strcmp(family, "python")) {
		p = strstr(text, "Python ");
		if (!p || sscanf(p + 7, "%d.%d", &major, &minor) != 2 || major != 3 || minor < 0 ||
		    minor > 9999)
			return -1;
		return snprintf(out, outlen, "python:3.%d", minor) < (int)outlen ? 0 : -1;
	}
	return -1;
}

/* What `path --version` prints (stdout and stderr: old pythons use the
 * latter) into out; -1 when it could not be run or did not finish. */
static int run_version(const char *path, char *out, size_t outlen)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		execl(path, path, "--version", (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	size_t len = 0;
	uint64_t deadline = hc_mono_us() + (uint64_t)PROBE_TIMEOUT_MS * 1000;
	for (;;) {
		uint64_t now = hc_mono_us();
		if (now >= deadline)
			break;
		struct pollfd pf = {.fd = fds[0], .events = POLLIN};
		int r = poll(&pf, 1, (int)((deadline - now) / 1000) + 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		ssize_t n = read(fds[0], out + len, outlen - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len >= outlen - 1)
			break;
	}
	out[len] = '\0';
	close(fds[0]);
	/* its output has ended; it exits next (or is killed at the deadline) */
	int st = 0;
	pid_t w;
	while ((w = waitpid(pid, &st, WNOHANG)) == 0 && hc_mono_us() < deadline) {
		struct timespec ts = {0, 2000000};
		nanosleep(&ts, NULL);
	}
	if (w == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		return -1;
	}
	return w == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* The generic interpreter hearth-runtime would pick: the first of paths,
 * else name on $PATH. */
static int find_generic(const char *const *paths, const char *name, char *out, size_t outlen)
{
	for (; *paths; paths++) {
		if (access(*paths, X_OK) == 0) {
			snprintf(out, outlen, "%s", *paths);
			return 0;
		}
	}
	const char *path = getenv("PATH");
	while (path && *path) {
		const char *colon = strchr(path, ':');
		size_t n = colon ? (size_t)(colon - path) : strlen(path);
		if (n && snprintf(out, outlen, "%.*s/%s", (int)n, path, name) < (int)outlen &&
		    access(out, X_OK) == 0)
			return 0;
		path = colon ? colon + 1 : NULL;
	}
	return -1;
}

/* Kinds past what a list holds are left out (a host with a dozen pythons
 * still starts), each python bringing python:3 and blackbox always there. */
static void append(char *list, size_t cap, const char *kind)
{
	size_t n = strlen(list);
	int items = n ? 1 : 0;
	for (const char *p = list; (p = strchr(p, ',')); p++)
		items++;
	if (items >= PR_KINDS_MAX - 2) {
		hc_warn("kinds: more than %d on this host; %s left out", PR_KINDS_MAX - 2, kind);
		return;
	}
	snprintf(list + n, cap - n, "%s%s", n ? "," : "", kind);
}

/* "node18", "python3.12" in pr_kind_bin_dirs, as kinds. */
static void add_versioned(char *list, size_t cap)
{
	for (const char *const *d = pr_kind_bin_dirs; *d; d++) {
		DIR *dir = opendir(*d);
		struct dirent *e;
		if (!dir)
			continue;
		while ((e = readdir(dir))) {
			char kind[PR_KIND_NAME_MAX], path[512], want[32];
			const char *nm = e->d_name;
			if (!strncmp(nm, "node", 4) && nm[4] &&
			    strspn(nm + 4, "0123456789") == strlen(nm + 4))
				snprintf(kind, sizeof(kind), "nodejs:%.8s", nm + 4);
			else if (!strncmp(nm, "python3.", 8) && nm[8] &&
				 strspn(nm + 8, "0123456789") == strlen(nm + 8))
				snprintf(kind, sizeof(kind), "python:3.%.8s", nm + 8);
			else
				continue;
			/* the runtime must find this very file for the kind */
			pr_kind_versioned_name(kind, want, sizeof(want));
			snprintf(path, sizeof(path), "%s/%s", *d, nm);
			if (strcmp(want, nm) == 0 && access(path, X_OK) == 0)
				append(list, cap, kind);
		}
		closedir(dir);
	}
}

static void probe_generic(const char *family, const char *const *paths, const char *name,
			  char *list, size_t cap)
{
	char interp[512], text[256], kind[PR_KIND_NAME_MAX];
	if (find_generic(paths, name, interp, sizeof(interp)) < 0) {
		hc_info("kinds: no %s interpreter on this host", name);
		return;
	}
	if (run_version(interp, text, sizeof(text)) < 0 ||
	    ctl_kinds_from_version(family, text, kind, sizeof(kind)) < 0) {
		hc_warn("kinds: %s --version did not say its version; no %s kind", interp, family);
		return;
	}
	hc_info("kinds: %s is %s", interp, kind);
	append(list, cap, kind);
}

int ctl_kinds_setup(const char *setting, struct pr_kinds *out, struct hc_err *err)
{
	char list[PR_KINDS_MAX * (PR_KIND_NAME_MAX + 1) * 2] = "";
	if (setting && strcmp(setting, "auto") != 0)
		return pr_kinds_parse(setting, out, err);
	/* the generic node first: nodejs:default is its version */
	probe_generic("nodejs", pr_kind_node_paths, "node", list, sizeof(list));
	probe_generic("python", pr_kind_python_paths, "python3", list, sizeof(list));
	add_versioned(list, sizeof(list));
	if (pr_kinds_parse(list, out, err) < 0)
		return -1;
	return 0;
}
