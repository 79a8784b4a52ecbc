/* kind.c — kinds, interpreters and launchers (see kind.h). */
#include "runtime/kind.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/kinds.h"

static int family_is(const char *kind, const char *fam)
{
	size_t n = strlen(fam);
	return strncmp(kind, fam, n) == 0 && (kind[n] == '\0' || kind[n] == ':');
}

int rt_kind_family(const char *kind, enum rt_family *out, struct hc_err *err)
{
	if (kind && family_is(kind, "nodejs"))
		*out = RT_FAM_NODEJS;
	else if (kind && (family_is(kind, "python") || family_is(kind, "python3")))
		*out = RT_FAM_PYTHON;
	else if (kind && (family_is(kind, "blackbox") || family_is(kind, "native")))
		*out = RT_FAM_BLACKBOX;
	else
		return hc_err_set(err,
				  "unknown kind '%.64s' (nodejs:*, python:*, blackbox, native)",
				  kind ? kind : "");
	return 0;
}

const char *rt_family_name(enum rt_family f)
{
	switch (f) {
	case RT_FAM_NODEJS:
		return "nodejs";
	case RT_FAM_PYTHON:
		return "python";
	case RT_FAM_BLACKBOX:
		return "blackbox";
	default:
		return "none";
	}
}

int rt_family_has_launcher(enum rt_family f)
{
	return f == RT_FAM_NODEJS || f == RT_FAM_PYTHON;
}

int rt_family_interpreter(enum rt_family f, const char *override, char *out, size_t outlen,
			  struct hc_err *err)
{
	const char *const *cand = f == RT_FAM_NODEJS   ? pr_kind_node_paths
				  : f == RT_FAM_PYTHON ? pr_kind_python_paths
						       : NULL;
	const char *name = f == RT_FAM_NODEJS ? "node" : "python3";
	const char *path;

	if (!cand)
		return hc_err_set(err, "kind %s has no interpreter", rt_family_name(f));
	if (override && override[0]) {
		if (access(override, X_OK) < 0)
			return hc_err_set(err, "interpreter %s is not executable", override);
		snprintf(out, outlen, "%s", override);
		return 0;
	}
	for (; *cand; cand++) {
		if (access(*cand, X_OK) == 0) {
			snprintf(out, outlen, "%s", *cand);
			return 0;
		}
	}
	path = getenv("PATH");
	while (path && *path) {
		const char *colon = strchr(path, ':');
		size_t n = colon ? (size_t)(colon - path) : strlen(path);
		if (n && n + strlen(name) + 2 <= outlen) {
			snprintf(out, outlen, "%.*s/%s", (int)n, path, name);
			if (access(out, X_OK) == 0)
				return 0;
		}
		path = colon ? colon + 1 : NULL;
	}
	return hc_err_set(
	    err, "no %s interpreter found (looked in /usr/bin, /usr/local/bin, $PATH)", name);
}

int rt_kind_interpreter(const char *kind, enum rt_family f, const char *override, char *out,
			size_t outlen, struct hc_err *err)
{
	char name[32];
	pr_kind_versioned_name(kind, name, sizeof(name));
	if (name[0] && !(override && override[0])) {
		for (const char *const *d = pr_kind_bin_dirs; *d; d++) {
			if (snprintf(out, outlen, "%s/%s", *d, name) < (int)outlen &&
			    access(out, X_OK) == 0)
				return 0;
		}
	}
	return rt_family_interpreter(f, override, out, outlen, err);
}

int rt_node_modules_dir(char *out, size_t outlen)
{
	static const char *const rel[] = {"node_modules", "../lib/hearth/node_modules", NULL};
	/* make install's with PREFIX /usr/local or /usr: /usr is visible in a
	 * runc container too, where ../lib from /hearth is not */
	static const char *const abs[] = {"/usr/local/lib/hearth/node_modules",
					  "/usr/lib/hearth/node_modules", NULL};
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		return -1;
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	for (const char *const *r = rel; *r; r++)
		if (snprintf(out, outlen, "%s/%s", exe, *r) < (int)outlen &&
		    access(out, R_OK | X_OK) == 0)
			return 0;
	for (const char *const *a = abs; *a; a++)
		if (snprintf(out, outlen, "%s", *a) < (int)outlen && access(out, R_OK | X_OK) == 0)
			return 0;
	out[0] = '\0';
	return -1;
}

/* Registered by main.c from the embedded scripts (embed.h): the library
 * itself never references the generated symbols, so builds that compile
 * the sources without them (libFuzzer targets) still link. */
static struct {
	const char *text;
	size_t len;
} launchers[RT_FAM_BLACKBOX + 1];

void rt_family_set_launcher(enum rt_family f, const char *text, size_t len)
{
	if (f == RT_FAM_NODEJS || f == RT_FAM_PYTHON) {
		launchers[f].text = text;
		launchers[f].len = len;
	}
}

const char *rt_family_launcher(enum rt_family f, size_t *len, const char **filename)
{
	*len = 0;
	*filename = NULL;
	if (f != RT_FAM_NODEJS && f != RT_FAM_PYTHON)
		return NULL;
	*filename = f == RT_FAM_NODEJS ? "hearth-launcher.js" : "hearth-launcher.py";
	*len = launchers[f].len;
	return launchers[f].text;
}
