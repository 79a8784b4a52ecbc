/* agent/agent.h — the agent's core: its containers and what happens to them.
 *
 * Everything here runs on one event loop (the HTTP server's loop 0): the
 * container table, the backends' child processes and freezer polls, the
 * runtime health polls (hc_client), the log drains and Redis. Nothing
 * blocks the loop except at start-up and shutdown (stale clean-up, final
 * removal), which are documented as blocking.
 *
 * Request flow: agent/api.c authenticates and parses a request, then calls
 * one of the agt_* operations below, which answer the hc_req themselves,
 * possibly later (create answers when the runtime answers /healthz). */
#ifndef AGT_AGENT_H
#define AGT_AGENT_H

#include <stdint.h>
#include <sys/types.h>

#include "agent/cgroup.h"
#include "agent/config.h"
#include "agent/lifecycle.h"
#include "agent/logbuf.h"
#include "agent/ports.h"
#include "agent/spec.h"
#include "proto/agent.h"
#include "proto/container.h"

struct event;
struct event_base;
struct hc_call;
struct hc_client;
struct hc_redis;
struct hc_req;
struct agt_agent;
struct agt_container;

/* A request waiting for something to finish. */
struct agt_waiter {
	struct agt_waiter *next;
	struct hc_req *req;
	uint64_t start_us;
};

/* A /log request waiting for the end sentinels. */
#define AGT_LOG_NS_MAX 256

struct agt_logwait {
	struct agt_logwait *next;
	struct agt_container *c;
	struct hc_req *req;
	char activation[AGT_LOG_ACT_MAX + 1];
	long long limit;
	char ns[AGT_LOG_NS_MAX + 1]; /* whose log quota the lines count against; "" = none */
	long long quota;	     /* its default log bytes a day (an override may apply) */
	struct event *timer;
	uint64_t start_us;
};

enum agt_stream { AGT_STDOUT = 0, AGT_STDERR = 1 };

struct agt_container {
	struct agt_container *next; /* in the agent's table */
	struct agt_agent *agent;
	struct pr_container d; /* the descriptor (state lives in d.state) */

	/* output drains */
	int fd[2]; /* read ends of stdout/stderr pipes, -1 when closed */
	struct event *ev[2];
	struct agt_logstream log[2];
	struct agt_logwait *logwaits;

	/* creation */
	struct hc_req *create_req;
	uint64_t create_start_us;
	struct event *timer; /* health poll / freezer poll / timeouts */
	struct hc_call *health_call;
	int launched;	       /* the runtime process exists (pid known) */
	uint64_t launched_us;  /* when it was launched (hc_mono_us) */
	int destroy_requested; /* destroy asked while still launching */

	/* suspend / resume in flight */
	enum agt_op op;
	int op_busy;
	struct hc_req *op_req;
	uint64_t op_start_us;
	uint64_t op_deadline_us;

	/* destroy */
	struct agt_waiter *destroy_waiters;
	int exited; /* the runtime's process (or container init) is gone */
	int exit_status;

	/* backend private */
	pid_t helper_pid;	/* runc run / runc delete in flight, 0 = none */
	int killed;		/* destroy: runc kill was sent, waiting for the init to exit */
	char cgpath[128];	/* "/hearth/<agent>/<id>" (runc) */
	char dir[AGT_PATH_MAX]; /* <state-dir>/containers/<id> */
};

/* A container an earlier run of the agent left behind. */
struct agt_stale {
	char id[HC_ID_LEN + 1];
	pid_t pid; /* runtime / container init pid if known, else 0 */
};

/* A container backend. Operations start work and report completion through
 * the agt_container_* calls below; none blocks the loop. */
struct agt_backend {
	const char *name;
	/* Start the runtime; when its process exists call agt_container_launched
	 * (possibly from inside start), or agt_container_failed. -1 with err
	 * when nothing was started. */
	int (*start)(struct agt_agent *a, struct agt_container *c, struct hc_err *err);
	/* Freeze / thaw; finish with agt_container_op_done. -1 with err when it
	 * could not even begin. */
	int (*suspend)(struct agt_agent *a, struct agt_container *c, struct hc_err *err);
	int (*resume)(struct agt_agent *a, struct agt_container *c, struct hc_err *err);
	/* Remove everything of the container; finish with agt_container_removed. */
	void (*destroy)(struct agt_agent *a, struct agt_container *c);
	/* A status change of a watched pid that the core does not handle. */
	void (*child_status)(struct agt_agent *a, struct agt_container *c, int status);
	/* Blocking: remove what an earlier run of this agent left (containers
	 * from local bookkeeping and Redis are passed in; the backend adds what
	 * it finds itself, e.g. runc's state dir). Start-up only. */
	void (*cleanup_stale)(struct agt_agent *a, const struct agt_stale *st, int n);
	/* Blocking: remove every container in a->containers now (shutdown); the
	 * core frees them afterwards. Their pids are no longer watched. */
	void (*remove_all_sync)(struct agt_agent *a);
};

extern const struct agt_backend agt_backend_runc;
extern const struct agt_backend agt_backend_process;

struct agt_metrics;

struct agt_agent {
	struct agt_config *cfg;
	const struct agt_backend *backend;
	struct event_base *base;
	struct hc_client *http;
	struct hc_redis *redis;
	struct agt_ports ports;
	struct agt_cgroups cgroups;	/* runc backend */
	struct agt_rootfs rootfs;	/* runc backend */
	char runc_path[AGT_PATH_MAX];	/* runc binary, absolute */
	char runc_root[AGT_PATH_MAX];	/* <state-dir>/runc */
	char runtime_dir[AGT_PATH_MAX]; /* directory of hearth-runtime */
	char runtime_name[128];		/* its file name */

	struct agt_container *containers;
	int ncontainers;
	int used_mb;
	int64_t epoch; /* highest scheduler epoch seen */
	int draining;
	int stopping;
	struct event *heartbeat;
	struct agt_metrics *m;
};

/* Set up the agent on base: backend choice, state dirs, rootfs, ports,
 * Redis, HTTP client, reaper. Blocking parts: directory creation and the
 * removal of an earlier run's containers. 0 or -1 with err. */
int agt_init(struct agt_agent *a, struct agt_config *cfg, struct event_base *base,
	     struct hc_err *err);

/* Blocking: remove every container (SIGKILL, runc delete), deregister, free
 * everything. Called after the server stopped. */
void agt_shutdown(struct agt_agent *a);

/* ---- operations (each answers req) ---- */
void agt_create(struct agt_agent *a, struct hc_req *req, const struct pr_agent_create *cr);
void agt_destroy(struct agt_agent *a, struct agt_container *c, struct hc_req *req);
void agt_suspend(struct agt_agent *a, struct agt_container *c, struct hc_req *req);
void agt_resume(struct agt_agent *a, struct agt_container *c, struct hc_req *req);
/* ns and quota (NULL, -1: none): the lines stored count against ns's log
 * bytes of the day (PR_KEY_LOG_BYTES_PREFIX), at most quota or ns's
 * override (PR_KEY_NS_LIMITS); past it they are dropped with a note. */
void agt_log(struct agt_agent *a, struct agt_container *c, struct hc_req *req,
	     const char *activation, long long limit, const char *ns, long long quota);
void agt_list(struct agt_agent *a, struct hc_req *req);
void agt_health(struct agt_agent *a, struct hc_req *req);

struct agt_container *agt_find(struct agt_agent *a, const char *id);

/* Check (and remember) a scheduler epoch. 0 when acceptable; -1 when lower
 * than the highest seen. */
int agt_epoch_check(struct agt_agent *a, int64_t epoch);

/* ---- completions reported by backends ---- */
void agt_container_launched(struct agt_container *c);
void agt_container_failed(struct agt_container *c, const char *msg);
void agt_container_op_done(struct agt_container *c, int ok, const char *msg);
void agt_container_removed(struct agt_container *c);

/* Watch pid as the container's runtime process (exit = dead). */
int agt_container_watch(struct agt_container *c, pid_t pid);

/* Open the stdout/stderr pipes; the write ends go to the child (the caller
 * closes them after spawning). 0 or -1 with err. */
int agt_container_pipes(struct agt_container *c, int wfd[2], struct hc_err *err);

/* The last line of the container's stderr ("" if none): runc's error text. */
const char *agt_container_last_error(struct agt_container *c);

/* Remove a directory tree of plain files (bundle, bookkeeping). Blocking,
 * small. */
void agt_rmtree(const char *path);

#endif
