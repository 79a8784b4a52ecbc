/* agent/cgroup.c — cgroup freezer and clean-up (contract in agent/cgroup.h). */
#include "agent/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int agt_cgroup_detect(struct agt_cgroups *cg, const char *root, struct hc_err *err)
{
	char p[AGT_CG_PATH_MAX + 64];
	struct stat st;

	memset(cg, 0, sizeof(*cg));
	snprintf(cg->root, sizeof(cg->root), "%s", root);
	snprintf(p, sizeof(p), "%s/freezer", root);
	if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	snprintf(p, sizeof(p), "%s/cgroup.controllers", root);
	if (stat(p, &st) == 0) {
		cg->v2 = 1;
		return 0;
	}
	return hc_err_set(err, "no cgroup freezer under %s (neither v1 freezer nor cgroup v2)",
			  root);
}

static int file_path(const struct agt_cgroups *cg, const char *cgpath, const char *file, char *out,
		     size_t outlen)
{
	int n;

	if (cg->v2)
		n = snprintf(out, outlen, "%s%s/%s", cg->root, cgpath, file);
	else
		n = snprintf(out, outlen, "%s/freezer%s/%s", cg->root, cgpath, file);
	return n > 0 && (size_t)n < outlen ? 0 : -1;
}

int agt_freezer_set(const struct agt_cgroups *cg, const char *cgpath, int freeze,
		    struct hc_err *err)
{
	char p[AGT_CG_PATH_MAX * 2];
	const char *val = cg->v2 ? (freeze ? "1" : "0") : (freeze ? "FROZEN" : "THAWED");
	ssize_t w;
	int fd;

	if (file_path(cg, cgpath, cg->v2 ? "cgroup.freeze" : "freezer.state", p, sizeof(p)) < 0)
		return hc_err_set(err, "cgroup path too long");
	fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return hc_err_set(err, "%s: %s", p, strerror(errno));
	do
		w = write(fd, val, strlen(val));
	while (w < 0 && errno == EINTR);
	if (w < 0) {
		int e = errno;
		close(fd);
		return hc_err_set(err, "write %s: %s", p, strerror(e));
	}
	close(fd);
	return 0;
}

int agt_freezer_state(const struct agt_cgroups *cg, const char *cgpath, enum agt_fz *out,
		      struct hc_err *err)
{
	char p[AGT_CG_PATH_MAX * 2], buf[256];
	ssize_t n;
	int fd;

	if (file_path(cg, cgpath, cg->v2 ? "cgroup.events" : "freezer.state", p, sizeof(p)) < 0)
		return hc_err_set(err, "cgroup path too long");
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return hc_err_set(err, "%s: %s", p, strerror(errno));
	do
		n = read(fd, buf, sizeof(buf) - 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n < 0)
		return hc_err_set(err, "read %s: %s", p, strerror(errno));
	buf[n] = '\0';
	if (cg->v2) {
		/* "populated 1\nfrozen 1\n": v2 has no FREEZING; 0 until settled */
		const char *f = strstr(buf, "frozen ");
		if (!f)
			return hc_err_set(err, "%s: no frozen field", p);
		*out = f[7] == '1' ? AGT_FZ_FROZEN : AGT_FZ_THAWED;
		return 0;
	}
	if (strncmp(buf, "FROZEN", 6) == 0)
		*out = AGT_FZ_FROZEN;
	else if (strncmp(buf, "FREEZING", 8) == 0)
		*out = AGT_FZ_FREEZING;
	else if (strncmp(buf, "THAWED", 6) == 0)
		*out = AGT_FZ_THAWED;
	else
		return hc_err_set(err, "%s: unexpected state \"%.16s\"", p, buf);
	return 0;
}

int agt_freezer_drive(const struct agt_cgroups *cg, const char *cgpath, int freeze, int max_polls,
		      struct hc_err *err)
{
	enum agt_fz want = freeze ? AGT_FZ_FROZEN : AGT_FZ_THAWED, st = AGT_FZ_FREEZING;

	for (int i = 0; i < max_polls; i++) {
		/* Re-write now and then: a freeze can stall while a task forks. */
		if (i % 100 == 0 && agt_freezer_set(cg, cgpath, freeze, err) < 0)
			return -1;
		if (agt_freezer_state(cg, cgpath, &st, err) < 0)
			return -1;
		if (st == want)
			return 1;
	}
	return 0;
}

/* Call fn(dir) for every hierarchy directory: v2 the root; v1 each real
 * directory under the root (controllers and "unified"). */
static int each_hierarchy(const struct agt_cgroups *cg, const char *cgpath,
			  int (*fn)(const char *path))
{
	char p[AGT_CG_PATH_MAX * 2];
	struct dirent *de;
	DIR *d;
	int count = 0;

	if (cg->v2) {
		snprintf(p, sizeof(p), "%s%s", cg->root, cgpath);
		return fn(p);
	}
	d = opendir(cg->root);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		struct stat st;
		char base[AGT_CG_PATH_MAX + 300];

		if (de->d_name[0] == '.')
			continue;
		snprintf(base, sizeof(base), "%s/%s", cg->root, de->d_name);
		/* "cpu" -> "cpu,cpuacct" links would visit a hierarchy twice */
		if (lstat(base, &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		snprintf(p, sizeof(p), "%s%s", base, cgpath);
		count += fn(p);
	}
	closedir(d);
	return count;
}

static int rmdir_one(const char *path)
{
	if (rmdir(path) == 0 || errno == ENOENT || errno == ENOTDIR)
		return 0;
	return 1;
}

static int exists_one(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? 1 : 0;
}

int agt_cgroup_remove(const struct agt_cgroups *cg, const char *cgpath)
{
	return each_hierarchy(cg, cgpath, rmdir_one);
}

int agt_cgroup_exists(const struct agt_cgroups *cg, const char *cgpath)
{
	return each_hierarchy(cg, cgpath, exists_one) > 0;
}
