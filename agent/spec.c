/* agent/spec.c — shared rootfs and per-container config.json for runc
 * (contract in agent/spec.h). */
#include "agent/spec.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/json.h"

static const char *const mount_points[] = {"usr", "etc", "tmp", "proc", "dev", "sys", "hearth"};
static const char *const top_dirs[] = {"bin", "sbin", "lib", "lib32", "lib64", "libx32"};

static int mkdir_p(const char *path, mode_t mode)
{
	char tmp[AGT_PATH_MAX];
	size_t len = strlen(path);

	if (len >= sizeof(tmp))
		return -1;
	memcpy(tmp, path, len + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, mode) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

int agt_rootfs_prepare(const char *dir, const char *host_root, struct agt_rootfs *out,
		       struct hc_err *err)
{
	char p[AGT_PATH_MAX + 64], hp[AGT_PATH_MAX + 64], target[AGT_PATH_MAX];
	struct stat st;

	memset(out, 0, sizeof(*out));
	if (mkdir_p(dir, 0755) < 0)
		return hc_err_set(err, "rootfs %s: %s", dir, strerror(errno));
	if (!realpath(dir, out->path))
		return hc_err_set(err, "rootfs %s: %s", dir, strerror(errno));
	for (size_t i = 0; i < sizeof(mount_points) / sizeof(mount_points[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", out->path, mount_points[i]);
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return hc_err_set(err, "rootfs %s: %s", p, strerror(errno));
	}
	for (size_t i = 0; i < sizeof(top_dirs) / sizeof(top_dirs[0]); i++) {
		ssize_t n;

		snprintf(hp, sizeof(hp), "%s/%s", strcmp(host_root, "/") ? host_root : "",
			 top_dirs[i]);
		snprintf(p, sizeof(p), "%s/%s", out->path, top_dirs[i]);
		if (lstat(hp, &st) < 0)
			continue; /* the host has no such directory */
		if (S_ISLNK(st.st_mode)) {
			/* merged /usr: the same relative link ("usr/bin") works here */
			n = readlink(hp, target, sizeof(target) - 1);
			if (n < 0)
				return hc_err_set(err, "readlink %s: %s", hp, strerror(errno));
			target[n] = '\0';
			if (target[0] == '/') {
				/* make an absolute link relative to the rootfs */
				memmove(target, target + 1, (size_t)n);
			}
			unlink(p);
			rmdir(p);
			if (symlink(target, p) < 0)
				return hc_err_set(err, "symlink %s: %s", p, strerror(errno));
		} else if (S_ISDIR(st.st_mode)) {
			struct stat pst;
			if (lstat(p, &pst) == 0 && S_ISLNK(pst.st_mode))
				unlink(p);
			if (mkdir(p, 0755) < 0 && errno != EEXIST)
				return hc_err_set(err, "rootfs %s: %s", p, strerror(errno));
			if (out->nbinds < AGT_ROOTFS_MAX_BINDS)
				snprintf(out->binds[out->nbinds++], sizeof(out->binds[0]), "%s",
					 top_dirs[i]);
		}
	}
	return 0;
}

static cJSON *str_array(const char *const *v, size_t n)
{
	return cJSON_CreateStringArray(v, (int)n);
}

static int add_mount(cJSON *mounts, const char *dest, const char *type, const char *src,
		     const char *const *opts, size_t nopts)
{
	cJSON *m = cJSON_CreateObject();

	if (!m)
		return -1;
	cJSON_AddItemToArray(mounts, m);
	if (hc_json_add_str(m, "destination", dest) || hc_json_add_str(m, "type", type) ||
	    hc_json_add_str(m, "source", src))
		return -1;
	return cJSON_AddItemToObject(m, "options", str_array(opts, nopts)) ? 0 : -1;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static int add_mounts(cJSON *cfg, const struct agt_spec *s)
{
	static const char *const proc_o[] = {"nosuid", "noexec", "nodev"};
	static const char *const dev_o[] = {"nosuid", "strictatime", "mode=755", "size=65536k"};
	static const char *const pts_o[] = {"nosuid", "noexec", "newinstance", "ptmxmode=0666",
					    "mode=0620"};
	static const char *const shm_o[] = {"nosuid", "noexec", "nodev", "mode=1777",
					    "size=65536k"};
	static const char *const mq_o[] = {"nosuid", "noexec", "nodev"};
	static const char *const sys_o[] = {"nosuid", "noexec", "nodev", "ro"};
	static const char *const cg_o[] = {"nosuid", "noexec", "nodev", "relatime", "ro"};
	static const char *const bind_o[] = {"rbind", "ro", "nosuid", "nodev"};
	char tmp_size[32], dst[64], src[AGT_PATH_MAX];
	const char *tmp_o[] = {"nosuid", "nodev", "mode=1777", tmp_size};
	cJSON *mounts = cJSON_AddArrayToObject(cfg, "mounts");
	int rc = 0;

	if (!mounts)
		return -1;
	snprintf(tmp_size, sizeof(tmp_size), "size=%dm", s->tmp_mb > 0 ? s->tmp_mb : 64);
	rc |= add_mount(mounts, "/proc", "proc", "proc", proc_o, N(proc_o));
	rc |= add_mount(mounts, "/dev", "tmpfs", "tmpfs", dev_o, N(dev_o));
	rc |= add_mount(mounts, "/dev/pts", "devpts", "devpts", pts_o, N(pts_o));
	rc |= add_mount(mounts, "/dev/shm", "tmpfs", "shm", shm_o, N(shm_o));
	rc |= add_mount(mounts, "/dev/mqueue", "mqueue", "mqueue", mq_o, N(mq_o));
	rc |= add_mount(mounts, "/sys", "sysfs", "sysfs", sys_o, N(sys_o));
	rc |= add_mount(mounts, "/sys/fs/cgroup", "cgroup", "cgroup", cg_o, N(cg_o));
	rc |= add_mount(mounts, "/usr", "bind", "/usr", bind_o, N(bind_o));
	rc |= add_mount(mounts, "/etc", "bind", "/etc", bind_o, N(bind_o));
	for (int i = 0; i < s->rootfs->nbinds; i++) {
		snprintf(dst, sizeof(dst), "/%s", s->rootfs->binds[i]);
		rc |= add_mount(mounts, dst, "bind", dst, bind_o, N(bind_o));
	}
	snprintf(src, sizeof(src), "%s", s->runtime_dir);
	rc |= add_mount(mounts, AGT_RUNTIME_MOUNT, "bind", src, bind_o, N(bind_o));
	rc |= add_mount(mounts, "/tmp", "tmpfs", "tmpfs", tmp_o, N(tmp_o));
	return rc;
}

static int add_process(cJSON *cfg, const struct agt_spec *s)
{
	static const char *const env[] = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/tmp",
					  "LANG=C.UTF-8", "TMPDIR=/tmp"};
	static const char *const cap_sets[] = {"bounding", "effective", "inheritable", "permitted",
					       "ambient"};
	char bin[AGT_PATH_MAX], port[16];
	const char *args[16];
	int n = 0;
	cJSON *p = cJSON_AddObjectToObject(cfg, "process"), *user, *caps, *rl, *nofile;

	if (!p)
		return -1;
	snprintf(bin, sizeof(bin), "%s/%s", AGT_RUNTIME_MOUNT, s->runtime_name);
	snprintf(port, sizeof(port), "%d", s->port);
	args[n++] = bin;
	args[n++] = "--port";
	args[n++] = port;
	args[n++] = "--addr";
	args[n++] = s->host;
	args[n++] = "--kind";
	args[n++] = s->kind;
	args[n++] = "--workdir";
	args[n++] = AGT_CONTAINER_WORKDIR;
	if (s->unix_name && s->unix_name[0]) {
		/* abstract: the container shares the host network, so no mount */
		args[n++] = "--unix";
		args[n++] = s->unix_name;
	}
	if (s->api_host && s->api_host[0]) {
		args[n++] = "--api-host";
		args[n++] = s->api_host;
	}
	if (s->log_level && s->log_level[0]) {
		args[n++] = "--log-level";
		args[n++] = s->log_level;
	}
	if (!cJSON_AddFalseToObject(p, "terminal"))
		return -1;
	user = cJSON_AddObjectToObject(p, "user");
	if (!user || hc_json_add_int(user, "uid", 0) || hc_json_add_int(user, "gid", 0))
		return -1;
	if (!cJSON_AddItemToObject(p, "args", str_array(args, (size_t)n)) ||
	    !cJSON_AddItemToObject(p, "env", str_array(env, N(env))) ||
	    hc_json_add_str(p, "cwd", "/tmp"))
		return -1;
	/* The runtime only listens on a high port: it needs no capability. */
	caps = cJSON_AddObjectToObject(p, "capabilities");
	if (!caps)
		return -1;
	for (size_t i = 0; i < N(cap_sets); i++)
		if (!cJSON_AddArrayToObject(caps, cap_sets[i]))
			return -1;
	rl = cJSON_AddArrayToObject(p, "rlimits");
	nofile = cJSON_CreateObject();
	if (!rl || !nofile)
		return -1;
	cJSON_AddItemToArray(rl, nofile);
	if (hc_json_add_str(nofile, "type", "RLIMIT_NOFILE") ||
	    hc_json_add_int(nofile, "hard", 4096) || hc_json_add_int(nofile, "soft", 4096))
		return -1;
	return cJSON_AddTrueToObject(p, "noNewPrivileges") ? 0 : -1;
}

static int add_linux(cJSON *cfg, const struct agt_spec *s)
{
	/* No network namespace: the runtime listens on the host network (the
	 * prototype's choice; this is not network isolation). */
	static const char *const ns[] = {"pid", "ipc", "uts", "mount"};
	static const char *const masked[] = {
	    "/proc/acpi",	   "/proc/asound",     "/proc/kcore",	    "/proc/keys",
	    "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
	    "/proc/scsi",	   "/sys/firmware"};
	static const char *const ro[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
					 "/proc/sysrq-trigger"};
	cJSON *l = cJSON_AddObjectToObject(cfg, "linux"), *res, *mem, *pids, *nss, *devs, *d;
	int64_t bytes = (int64_t)s->memory_mb * 1024 * 1024;

	if (!l)
		return -1;
	res = cJSON_AddObjectToObject(l, "resources");
	if (!res)
		return -1;
	devs = cJSON_AddArrayToObject(res, "devices");
	d = cJSON_CreateObject();
	if (!devs || !d)
		return -1;
	cJSON_AddItemToArray(devs, d);
	if (!cJSON_AddFalseToObject(d, "allow") || hc_json_add_str(d, "access", "rwm"))
		return -1;
	mem = cJSON_AddObjectToObject(res, "memory");
	/* v1: swap is the memory+swap limit, so equal means no swap. */
	if (!mem || hc_json_add_int(mem, "limit", bytes) || hc_json_add_int(mem, "swap", bytes))
		return -1;
	if (s->pids_limit > 0) {
		pids = cJSON_AddObjectToObject(res, "pids");
		if (!pids || hc_json_add_int(pids, "limit", s->pids_limit))
			return -1;
	}
	if (hc_json_add_str(l, "cgroupsPath", s->cgroups_path))
		return -1;
	nss = cJSON_AddArrayToObject(l, "namespaces");
	if (!nss)
		return -1;
	for (size_t i = 0; i < N(ns); i++) {
		cJSON *o = cJSON_CreateObject();
		if (!o)
			return -1;
		cJSON_AddItemToArray(nss, o);
		if (hc_json_add_str(o, "type", ns[i]))
			return -1;
	}
	if (!cJSON_AddItemToObject(l, "maskedPaths", str_array(masked, N(masked))) ||
	    !cJSON_AddItemToObject(l, "readonlyPaths", str_array(ro, N(ro))))
		return -1;
	return 0;
}

cJSON *agt_spec_build(const struct agt_spec *s, struct hc_err *err)
{
	cJSON *cfg, *root;

	if (!s->cgroups_path || s->cgroups_path[0] != '/') {
		hc_err_set(err, "cgroupsPath must be absolute");
		return NULL;
	}
	if (s->memory_mb <= 0 || s->port <= 0 || !s->kind || !s->host) {
		hc_err_set(err, "spec: memory, port, kind and host are required");
		return NULL;
	}
	cfg = cJSON_CreateObject();
	if (!cfg)
		goto nomem;
	if (hc_json_add_str(cfg, "ociVersion", "1.0.2-dev") || add_process(cfg, s))
		goto nomem;
	root = cJSON_AddObjectToObject(cfg, "root");
	if (!root || hc_json_add_str(root, "path", s->rootfs->path) ||
	    !cJSON_AddTrueToObject(root, "readonly"))
		goto nomem;
	if (hc_json_add_str(cfg, "hostname", "fn") || add_mounts(cfg, s) || add_linux(cfg, s))
		goto nomem;
	return cfg;
nomem:
	cJSON_Delete(cfg);
	hc_err_set(err, "out of memory building config.json");
	return NULL;
}

int agt_spec_write(const char *bundle_dir, const cJSON *config, struct hc_err *err)
{
	char path[AGT_PATH_MAX];
	char *text = NULL;
	size_t len, off = 0;
	int fd = -1, rc = -1;

	if (mkdir_p(bundle_dir, 0700) < 0)
		return hc_err_set(err, "bundle %s: %s", bundle_dir, strerror(errno));
	if ((size_t)snprintf(path, sizeof(path), "%s/config.json", bundle_dir) >= sizeof(path))
		return hc_err_set(err, "bundle path too long");
	text = hc_json_print(config);
	if (!text)
		return hc_err_set(err, "out of memory");
	len = strlen(text);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		hc_err_set(err, "%s: %s", path, strerror(errno));
		goto out;
	}
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			hc_err_set(err, "%s: %s", path, strerror(errno));
			goto out;
		}
		off += (size_t)w;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(text);
	return rc;
}
