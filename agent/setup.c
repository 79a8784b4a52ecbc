/* agent/setup.c — the agent's start-up (backend, state directories, rootfs,
 * ports, what an earlier run left behind) and shutdown (every container
 * removed, the state directory left as it was found). Both block: they run
 * before the loop serves and after it has stopped. */
#include "agent/agent_int.h"

#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/child.h"
#include "common/client.h"
#include "common/http.h"
#include "common/id.h"
#include "common/json.h"
#include "common/log.h"
#include "proto/keys.h"

#define STALE_MAX 4096

void agt_rmtree(const char *path)
{
	char p[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(path);

	if (d) {
		while ((de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			if ((size_t)snprintf(p, sizeof(p), "%s/%s", path, de->d_name) >= sizeof(p))
				continue;
			if (de->d_type == DT_DIR)
				agt_rmtree(p);
			else
				unlink(p);
		}
		closedir(d);
	}
	rmdir(path);
}

static int mkdirs(const char *path)
{
	char tmp[PATH_MAX];
	size_t len = strlen(path);

	if (len >= sizeof(tmp))
		return -1;
	memcpy(tmp, path, len + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(tmp, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

/* Copy src into dst[n]; -1 when it does not fit. */
static int copy_str(char *dst, size_t n, const char *src)
{
	size_t len = strlen(src);
	if (len >= n)
		return -1;
	memcpy(dst, src, len + 1);
	return 0;
}

/* Find an executable in PATH (or take it as a path). */
static int find_exe(const char *name, char *out, size_t n)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];

	if (strchr(name, '/')) {
		if (access(name, X_OK) < 0)
			return -1;
		return realpath(name, out) && strlen(out) < n ? 0 : -1;
	}
	if (!path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	while (*path) {
		const char *colon = strchr(path, ':');
		size_t len = colon ? (size_t)(colon - path) : strlen(path);
		if ((size_t)snprintf(buf, sizeof(buf), "%.*s/%s", (int)len, path, name) <
			sizeof(buf) &&
		    access(buf, X_OK) == 0) {
			return copy_str(out, n, buf);
		}
		path += len + (colon ? 1 : 0);
	}
	return -1;
}

/* Outgoing connections (the agent's own health polls) take ephemeral ports;
 * one can grab a container's port between allocation and the runtime's
 * bind. Say so when the ranges overlap. */
static void warn_ephemeral(int lo, int hi)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "re");
	int elo, ehi;

	if (!f)
		return;
	if (fscanf(f, "%d %d", &elo, &ehi) == 2 && lo <= ehi && hi >= elo)
		hc_warn("port range %d-%d overlaps the kernel's ephemeral ports %d-%d: creates may "
			"fail with \"address in use\"",
			lo, hi, elo, ehi);
	fclose(f);
}

static int add_stale(struct agt_stale *st, int n, const char *id, pid_t pid)
{
	if (!hc_id_valid(id))
		return n;
	for (int i = 0; i < n; i++) {
		if (strcmp(st[i].id, id) == 0) {
			if (!st[i].pid)
				st[i].pid = pid;
			return n;
		}
	}
	if (n >= STALE_MAX)
		return n;
	snprintf(st[n].id, sizeof(st[n].id), "%s", id);
	st[n].pid = pid;
	return n + 1;
}

/* Blocking: the containers an earlier run registered in Redis (the hash is
 * then deleted) and the highest epoch it saw. Returns the new count. */
static int stale_from_redis(struct agt_agent *a, const struct hc_redis_opts *ropts,
			    struct agt_stale *st, int n)
{
	struct hc_err err = {{0}};
	struct hc_redis_opts o = *ropts;
	redisReply *r, *e;
	redisContext *rc;
	char key[160];

	o.connect_timeout_ms = 1000;
	rc = hc_redis_sync_connect(&o, &err);
	if (!rc) {
		hc_warn("redis not reachable at start (%s): only local bookkeeping is checked",
			err.msg);
		return n;
	}
	snprintf(key, sizeof(key), PR_KEY_AGENT_CONTAINERS, a->cfg->id);
	r = hc_redis_sync_cmd(rc, &err, "HGETALL %s", key);
	if (r && r->type == REDIS_REPLY_ARRAY) {
		for (size_t i = 0; i + 1 < r->elements; i += 2) {
			struct pr_container pc;
			cJSON *j =
			    hc_json_parse(r->element[i + 1]->str, r->element[i + 1]->len, 8, NULL);
			if (j && pr_container_from_json(j, &pc, NULL) == 0)
				n = add_stale(st, n, pc.id, pc.pid);
			cJSON_Delete(j);
		}
	}
	if (r)
		freeReplyObject(r);
	e = hc_redis_sync_cmd(rc, &err, "DEL %s", key);
	if (e)
		freeReplyObject(e);
	snprintf(key, sizeof(key), PR_KEY_AGENT_EPOCH, a->cfg->id);
	e = hc_redis_sync_cmd(rc, &err, "GET %s", key);
	if (e && e->type == REDIS_REPLY_STRING)
		a->epoch = strtoll(e->str, NULL, 10);
	if (e)
		freeReplyObject(e);
	redisFree(rc);
	return n;
}

/* Blocking: what an earlier run of this agent left, from local bookkeeping
 * and from Redis; the backend removes it and adds what it finds itself. */
static void cleanup_stale(struct agt_agent *a, const struct hc_redis_opts *ropts)
{
	struct agt_stale *st = calloc(STALE_MAX, sizeof(*st));
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int n = 0;

	if (!st)
		return;
	snprintf(dir, sizeof(dir), "%s/containers", a->cfg->state_dir);
	d = opendir(dir);
	if (d) {
		while ((de = readdir(d)))
			n = add_stale(st, n, de->d_name, 0);
		closedir(d);
	}
	n = stale_from_redis(a, ropts, st, n);
	a->backend->cleanup_stale(a, st, n);
	free(st);
}

/* The runtime binary (cfg->runtime) as an absolute directory and name. */
static int find_runtime(struct agt_agent *a, const struct agt_config *cfg, struct hc_err *err)
{
	char real[PATH_MAX];
	char *slash;

	if (!realpath(cfg->runtime, real) || access(real, X_OK) < 0)
		return hc_err_set(err, "runtime %s: %s (set --runtime)", cfg->runtime,
				  strerror(errno));
	slash = strrchr(real, '/');
	*slash = '\0';
	if (copy_str(a->runtime_dir, sizeof(a->runtime_dir), real[0] ? real : "/") < 0 ||
	    copy_str(a->runtime_name, sizeof(a->runtime_name), slash + 1) < 0)
		return hc_err_set(err, "runtime path too long");
	return 0;
}

/* runc when asked for (or, by default, when root and runc exist and the
 * cgroups are usable), else the process backend. */
static int choose_backend(struct agt_agent *a, const struct agt_config *cfg, struct hc_err *err)
{
	int have_runc = find_exe(cfg->runc, a->runc_path, sizeof(a->runc_path)) == 0;

	if (!strcmp(cfg->backend, "runc")) {
		if (geteuid() != 0)
			return hc_err_set(err, "backend runc needs root");
		if (!have_runc)
			return hc_err_set(err, "backend runc: %s not found", cfg->runc);
		a->backend = &agt_backend_runc;
	} else if (!strcmp(cfg->backend, "process")) {
		a->backend = &agt_backend_process;
	} else {
		a->backend = geteuid() == 0 && have_runc ? &agt_backend_runc : &agt_backend_process;
	}
	if (a->backend == &agt_backend_runc &&
	    agt_cgroup_detect(&a->cgroups, cfg->cgroup_root, err) < 0) {
		if (!strcmp(cfg->backend, "runc"))
			return -1;
		hc_warn("%s: falling back to the process backend", err->msg);
		a->backend = &agt_backend_process;
	}
	return 0;
}

/* <state-dir>/containers (the state dir made absolute: runc and the
 * bundles need absolute paths whatever the cwd), and for runc its root
 * and the shared rootfs. */
static int prepare_state_dirs(struct agt_agent *a, struct agt_config *cfg, struct hc_err *err)
{
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s/containers", cfg->state_dir);
	if (mkdirs(cfg->state_dir) < 0 || mkdirs(dir) < 0)
		return hc_err_set(err, "state dir %s: %s", cfg->state_dir, strerror(errno));
	if (cfg->state_dir[0] != '/') {
		char *abs = realpath(cfg->state_dir, NULL);
		if (!abs)
			return hc_err_set(err, "state dir %s: %s", cfg->state_dir, strerror(errno));
		free(cfg->state_dir);
		cfg->state_dir = abs;
	}
	snprintf(a->runc_root, sizeof(a->runc_root), "%s/runc", cfg->state_dir);
	if (a->backend == &agt_backend_runc) {
		if (mkdirs(a->runc_root) < 0)
			return hc_err_set(err, "%s: %s", a->runc_root, strerror(errno));
		snprintf(dir, sizeof(dir), "%s/rootfs", cfg->state_dir);
		if (agt_rootfs_prepare(dir, "/", &a->rootfs, err) < 0)
			return -1;
		hc_info("runc backend: root %s, rootfs %s; containers share the host network "
			"(no network isolation)",
			a->runc_root, a->rootfs.path);
	} else {
		hc_warn("PROCESS BACKEND: containers are plain child processes with NO isolation "
			"(no memory, pids, filesystem or network limits). Use the runc backend "
			"(root + runc) for anything but development.");
	}
	return 0;
}

int agt_init(struct agt_agent *a, struct agt_config *cfg, struct event_base *base,
	     struct hc_err *err)
{
	struct hc_redis_opts ropts;
	int lo, hi;

	memset(a, 0, sizeof(*a));
	a->cfg = cfg;
	a->base = base;
	agt_metrics_init(a);

	if (hc_redis_parse_url(cfg->redis, &ropts, err) < 0)
		return hc_err_prefix(err, "redis");
	if (agt_ports_parse(cfg->port_range, &lo, &hi, err) < 0)
		return -1;
	if (find_runtime(a, cfg, err) < 0 || choose_backend(a, cfg, err) < 0 ||
	    prepare_state_dirs(a, cfg, err) < 0)
		return -1;
	if (agt_ports_init(&a->ports, lo, hi, cfg->host_address, err) < 0)
		return -1;
	warn_ephemeral(lo, hi);
	if (agt_reaper_init(base, err) < 0)
		return -1;

	cleanup_stale(a, &ropts);

	a->http = hc_client_new(base, NULL);
	if (!a->http)
		return hc_err_set(err, "cannot create the HTTP client");
	if (agt_reg_start(a, &ropts, err) < 0)
		return -1;
	hc_info("agent id=%s url=%s backend=%s memory=%d MB ports=%s state=%s epoch=%lld", cfg->id,
		cfg->url, a->backend->name, (int)cfg->memory_mb, cfg->port_range, cfg->state_dir,
		(long long)a->epoch);
	return 0;
}

/* First silence every callback of every container, so that reaping during
 * the blocking removals that follow cannot start other work. */
static void silence_containers(struct agt_agent *a)
{
	for (struct agt_container *c = a->containers; c; c = c->next) {
		if (c->health_call) {
			hc_call_cancel(c->health_call);
			c->health_call = NULL;
		}
		if (c->timer)
			evtimer_del(c->timer);
		for (struct agt_logwait *w = c->logwaits; w; w = w->next)
			if (w->timer)
				evtimer_del(w->timer);
		if (c->d.pid > 0 && !c->exited)
			agt_reaper_unwatch(c->d.pid);
		if (c->helper_pid > 0)
			agt_reaper_unwatch(c->helper_pid);
	}
}

/* After the backend removed them: answer what each container's requests
 * still wait for, and free them. */
static void drop_containers(struct agt_agent *a)
{
	struct agt_container *c;

	while ((c = a->containers)) {
		struct agt_waiter *w;
		a->containers = c->next;
		hc_info("container=%s removed at shutdown", c->d.id);
		agt_ports_release(&a->ports, c->d.port);
		agt_logs_abort(c);
		if (c->create_req)
			hc_reply_error(c->create_req, 503, "shutting down");
		if (c->op_req)
			hc_reply_error(c->op_req, 503, "shutting down");
		while ((w = c->destroy_waiters)) {
			c->destroy_waiters = w->next;
			hc_reply(w->req, 204, NULL, NULL, 0);
			free(w);
		}
		agt_container_free(c);
	}
	a->ncontainers = 0;
}

/* Leave the state dir as we found it: what the agent made in it goes
 * (per-container dirs, the shared rootfs of empty mount points and
 * links); the runc root and the dir itself go only when empty, so state
 * of a container runc failed to delete, or an operator's files, are never
 * thrown away. The cgroups the agent made go too. */
static void tidy_host(struct agt_agent *a)
{
	char p[PATH_MAX];

	if (a->backend == &agt_backend_runc) {
		snprintf(p, sizeof(p), "/hearth/%s", a->cfg->id);
		agt_cgroup_remove(&a->cgroups, p);
		/* the parent all agents share goes too, once none is left in it
		 * (rmdir refuses while another agent's cgroup is there) */
		agt_cgroup_remove(&a->cgroups, "/hearth");
	}
	if (!a->cfg || !a->cfg->state_dir)
		return;
	snprintf(p, sizeof(p), "%s/containers", a->cfg->state_dir);
	agt_rmtree(p);
	snprintf(p, sizeof(p), "%s/rootfs", a->cfg->state_dir);
	agt_rmtree(p);
	snprintf(p, sizeof(p), "%s/runc", a->cfg->state_dir);
	rmdir(p);
	rmdir(a->cfg->state_dir);
	/* the parent all root agents share, once none is left in it */
	if (!strncmp(a->cfg->state_dir, AGT_STATE_PARENT "/", sizeof(AGT_STATE_PARENT)))
		rmdir(AGT_STATE_PARENT);
}

void agt_shutdown(struct agt_agent *a)
{
	agt_reg_heartbeat_stop(a);
	a->stopping = 1;
	silence_containers(a);
	if (a->containers && a->backend) {
		hc_info("removing %d containers", a->ncontainers);
		a->backend->remove_all_sync(a);
	}
	drop_containers(a);
	tidy_host(a);
	agt_reg_stop(a);
	if (a->http)
		hc_client_free(a->http);
	a->http = NULL;
	agt_reaper_free();
	agt_ports_free(&a->ports);
}
