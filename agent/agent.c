/* agent/agent.c — the agent's core: the container table and the lifecycle
 * of each container across its backend (contract in agent/agent.h; how
 * the core's files divide the work, in agent/agent_int.h). A container is
 * made CREATING (container_new); from then on set_state is the only writer
 * of its state, every change checked by agent/lifecycle.c. */
#include "agent/agent_int.h"

#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/child.h"
#include "common/client.h"
#include "common/clock.h"
#include "common/http.h"
#include "common/id.h"
#include "common/json.h"
#include "common/log.h"
#include "common/metrics.h"

/* /healthz polls back off from 1 ms to 8 ms: a runtime listens within a few
 * ms of its start, and refused connects cost CPU that runc needs. */
#define HEALTH_POLL_MIN_US     1000
#define HEALTH_POLL_MAX_US     8000
#define HEALTH_CALL_TIMEOUT_MS 1000

/* ---- metrics ---- */

static const char *const op_names[AGT_M__N] = {"create", "suspend", "resume", "destroy", "log"};

struct state_gauge {
	struct agt_agent *a;
	enum pr_cstate s;
};

struct agt_metrics {
	struct hc_counter *ok[AGT_M__N], *fail[AGT_M__N];
	struct hc_hist *lat[AGT_M__N];
	struct hc_counter *dead;
	struct state_gauge sg[PR_CS_DEAD + 1];
	struct hc_gauge *used;
};

static double count_state(void *arg)
{
	struct state_gauge *g = arg;
	int n = 0;
	for (struct agt_container *c = g->a->containers; c; c = c->next)
		n += c->d.state == g->s;
	return n;
}

void agt_metrics_init(struct agt_agent *a)
{
	static struct agt_metrics m;
	char labels[64];

	for (int i = 0; i < AGT_M__N; i++) {
		snprintf(labels, sizeof(labels), "op=\"%s\",result=\"ok\"", op_names[i]);
		m.ok[i] = hc_counter_new("hearth_agent_ops_total", labels,
					 "container operations by result");
		snprintf(labels, sizeof(labels), "op=\"%s\",result=\"error\"", op_names[i]);
		m.fail[i] = hc_counter_new("hearth_agent_ops_total", labels,
					   "container operations by result");
		snprintf(labels, sizeof(labels), "op=\"%s\"", op_names[i]);
		m.lat[i] = hc_hist_new("hearth_agent_op_seconds", labels,
				       "from the HTTP request's arrival to its reply", NULL, 0);
	}
	m.dead = hc_counter_new("hearth_agent_dead_total", NULL,
				"containers whose process exited on its own");
	for (int s = 0; s <= PR_CS_DEAD; s++) {
		m.sg[s].a = a;
		m.sg[s].s = (enum pr_cstate)s;
		snprintf(labels, sizeof(labels), "state=\"%s\"", pr_cstate_name((enum pr_cstate)s));
		hc_gauge_fn_new("hearth_agent_containers", labels, "containers by state",
				count_state, &m.sg[s]);
	}
	m.used = hc_gauge_new("hearth_agent_memory_used_mb", NULL, "memory held by containers");
	a->m = &m;
}

void agt_observe(struct agt_agent *a, enum agt_metric_op op, int ok, uint64_t start_us)
{
	hc_counter_inc(ok ? a->m->ok[op] : a->m->fail[op]);
	if (start_us)
		hc_hist_observe(a->m->lat[op], (double)(hc_mono_us() - start_us) / 1e6);
}

/* ---- the table ---- */

struct agt_container *agt_find(struct agt_agent *a, const char *id)
{
	for (struct agt_container *c = a->containers; c; c = c->next)
		if (strcmp(c->d.id, id) == 0)
			return c;
	return NULL;
}

static void set_state(struct agt_container *c, enum pr_cstate to)
{
	if (!agt_transition_ok(c->d.state, to)) {
		/* A bug, not an input error: say so loudly and keep the old state. */
		hc_error("container=%s refused transition %s -> %s", c->d.id,
			 pr_cstate_name(c->d.state), pr_cstate_name(to));
		return;
	}
	hc_debug("container=%s %s -> %s", c->d.id, pr_cstate_name(c->d.state), pr_cstate_name(to));
	c->d.state = to;
	agt_reg_mirror(c);
}

static void unlink_container(struct agt_agent *a, struct agt_container *c)
{
	for (struct agt_container **p = &a->containers; *p; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			a->ncontainers--;
			return;
		}
	}
}

void agt_container_free(struct agt_container *c)
{
	agt_logs_free(c);
	if (c->timer)
		event_free(c->timer);
	if (c->health_call)
		hc_call_cancel(c->health_call);
	free(c);
}

/* ---- lifecycle ---- */

static void begin_destroy(struct agt_container *c);

static void reply_create(struct agt_container *c, int ok, const char *msg)
{
	struct hc_req *req = c->create_req;

	if (!req)
		return;
	c->create_req = NULL;
	agt_observe(c->agent, AGT_M_CREATE, ok, c->create_start_us);
	if (ok) {
		cJSON *j = pr_container_to_json(&c->d);
		if (j) {
			hc_reply_json(req, 201, j);
			cJSON_Delete(j);
		} else {
			hc_reply_error(req, 500, "out of memory");
		}
	} else {
		hc_reply_error(req, 500, "container %s: %s", c->d.id, msg);
	}
}

void agt_container_failed(struct agt_container *c, const char *msg)
{
	hc_warn("container=%s kind=%s create failed: %s", c->d.id, c->d.kind, msg);
	reply_create(c, 0, msg);
	if (c->d.state == PR_CS_CREATING)
		begin_destroy(c);
}

static void health_poll(struct agt_container *c);

static void on_health(const struct hc_response *resp, void *arg)
{
	struct agt_container *c = arg;
	struct agt_agent *a = c->agent;
	uint64_t since = hc_mono_us() - c->launched_us, wait_us;
	struct timeval tv;

	c->health_call = NULL;
	if (c->d.state != PR_CS_CREATING)
		return;
	if (resp->status == 200) {
		evtimer_del(c->timer);
		set_state(c, PR_CS_WARM);
		c->d.last_used_ms = hc_now_ms();
		hc_info("container=%s kind=%s port=%d pid=%d warm in %.1f ms (launch %.1f ms)",
			c->d.id, c->d.kind, c->d.port, c->d.pid,
			(double)(hc_mono_us() - c->create_start_us) / 1000,
			(double)(c->launched_us - c->create_start_us) / 1000);
		reply_create(c, 1, NULL);
		agt_reg_publish(a, "warm", c->d.id);
		return;
	}
	if (hc_mono_us() - c->create_start_us > (uint64_t)a->cfg->create_timeout_ms * 1000) {
		char msg[128];
		snprintf(msg, sizeof(msg), "the runtime did not answer /healthz within %lld ms",
			 (long long)a->cfg->create_timeout_ms);
		agt_container_failed(c, msg);
		return;
	}
	wait_us = since / 4;
	wait_us = wait_us < HEALTH_POLL_MIN_US	 ? HEALTH_POLL_MIN_US
		  : wait_us > HEALTH_POLL_MAX_US ? HEALTH_POLL_MAX_US
						 : wait_us;
	tv.tv_sec = 0;
	tv.tv_usec = (suseconds_t)wait_us;
	evtimer_add(c->timer, &tv);
}

static void on_health_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	health_poll(arg);
}

static void health_poll(struct agt_container *c)
{
	struct agt_agent *a = c->agent;
	char url[PR_HOST_MAX + 32];
	struct hc_request r;

	snprintf(url, sizeof(url), "http://%s:%d/healthz", c->d.host, c->d.port);
	memset(&r, 0, sizeof(r));
	r.method = "GET";
	r.url = url;
	r.timeout_ms = HEALTH_CALL_TIMEOUT_MS;
	r.max_response = 4096;
	c->health_call = hc_client_request(a->http, &r, on_health, c);
	if (!c->health_call)
		agt_container_failed(c, "cannot start the health check");
}

void agt_container_launched(struct agt_container *c)
{
	c->launched = 1;
	c->launched_us = hc_mono_us();
	agt_reg_mirror(c);
	if (c->destroy_requested) {
		agt_container_failed(c, "destroyed while being created");
		return;
	}
	evtimer_del(c->timer); /* the launch timeout: health polls check the deadline */
	event_assign(c->timer, c->agent->base, -1, 0, on_health_timer, c);
	health_poll(c);
}

/* Create timer before launch: runc run -d itself must not hang forever. */
static void on_launch_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct agt_container *c = arg;
	(void)fd;
	(void)what;
	if (c->helper_pid > 0 && !c->launched) {
		hc_warn("container=%s runc run did not finish in time: killing it", c->d.id);
		kill(c->helper_pid, SIGKILL);
	}
}

static void on_child(pid_t pid, int status, void *arg)
{
	struct agt_container *c = arg;
	struct agt_agent *a = c->agent;
	char msg[300];

	(void)pid;
	if (!WIFEXITED(status) && !WIFSIGNALED(status)) {
		a->backend->child_status(a, c, status);
		return;
	}
	c->exited = 1;
	c->exit_status = status;
	switch (c->d.state) {
	case PR_CS_DESTROYING:
		a->backend->child_status(a, c, status);
		return;
	case PR_CS_CREATING:
		snprintf(msg, sizeof(msg), "the runtime exited during start (status %d): %.200s",
			 status, agt_container_last_error(c));
		agt_container_failed(c, msg);
		return;
	case PR_CS_WARM:
	case PR_CS_SUSPENDED:
		hc_warn("container=%s pid=%d died (%s %d)", c->d.id, (int)pid,
			WIFEXITED(status) ? "exit" : "signal",
			WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		hc_counter_inc(a->m->dead);
		set_state(c, PR_CS_DEAD);
		agt_reg_publish(a, "dead", c->d.id);
		if (c->op_busy)
			agt_container_op_done(c, 0, "the container died");
		begin_destroy(c);
		return;
	case PR_CS_DEAD:
		return;
	}
}

int agt_container_watch(struct agt_container *c, pid_t pid)
{
	return agt_reaper_watch(pid, on_child, c);
}

void agt_container_op_done(struct agt_container *c, int ok, const char *msg)
{
	struct hc_req *req = c->op_req;
	enum agt_metric_op op = c->op == AGT_OP_SUSPEND ? AGT_M_SUSPEND : AGT_M_RESUME;

	if (!c->op_busy)
		return;
	c->op_busy = 0;
	c->op_req = NULL;
	if (c->timer)
		evtimer_del(c->timer);
	if (ok) {
		c->d.last_used_ms = hc_now_ms();
		set_state(c, c->op == AGT_OP_SUSPEND ? PR_CS_SUSPENDED : PR_CS_WARM);
	} else {
		hc_warn("container=%s %s failed: %s", c->d.id, op_names[op], msg);
	}
	agt_observe(c->agent, op, ok, c->op_start_us);
	if (!req)
		return;
	if (ok)
		hc_reply(req, 204, NULL, NULL, 0);
	else
		hc_reply_error(req, 500, "%s %s: %s", op_names[op], c->d.id, msg);
}

static void start_op(struct agt_agent *a, struct agt_container *c, struct hc_req *req,
		     enum agt_op op)
{
	struct hc_err err = {{0}};
	const char *why = "";
	int status = agt_op_check(c->d.state, c->op_busy, op, &why);
	int (*fn)(struct agt_agent *, struct agt_container *, struct hc_err *);

	if (status) {
		agt_observe(a, op == AGT_OP_SUSPEND ? AGT_M_SUSPEND : AGT_M_RESUME, 0, 0);
		hc_reply_error(req, status, "container %s: %s", c->d.id, why);
		return;
	}
	c->op = op;
	c->op_busy = 1;
	c->op_req = req;
	c->op_start_us = hc_req_start_us(req);
	fn = op == AGT_OP_SUSPEND ? a->backend->suspend : a->backend->resume;
	if (fn(a, c, &err) < 0 && c->op_busy)
		agt_container_op_done(c, 0, err.msg);
}

void agt_suspend(struct agt_agent *a, struct agt_container *c, struct hc_req *req)
{
	start_op(a, c, req, AGT_OP_SUSPEND);
}

void agt_resume(struct agt_agent *a, struct agt_container *c, struct hc_req *req)
{
	start_op(a, c, req, AGT_OP_RESUME);
}

static void begin_destroy(struct agt_container *c)
{
	struct agt_agent *a = c->agent;

	if (c->d.state == PR_CS_DESTROYING)
		return;
	if (c->health_call) {
		hc_call_cancel(c->health_call);
		c->health_call = NULL;
	}
	if (c->timer)
		evtimer_del(c->timer);
	if (c->op_busy)
		agt_container_op_done(c, 0, "the container is being destroyed");
	reply_create(c, 0, "destroyed while being created");
	set_state(c, PR_CS_DESTROYING);
	agt_logs_retry(c, 1);
	a->backend->destroy(a, c); /* may free c */
}

void agt_destroy(struct agt_agent *a, struct agt_container *c, struct hc_req *req)
{
	struct agt_waiter *w;

	(void)a;
	if (req) {
		w = calloc(1, sizeof(*w));
		if (!w) {
			hc_reply_error(req, 500, "out of memory");
			return;
		}
		w->req = req;
		w->start_us = hc_req_start_us(req);
		w->next = c->destroy_waiters;
		c->destroy_waiters = w;
	}
	if (c->d.state == PR_CS_CREATING && !c->launched) {
		/* runc run is still going: destroy when it is done */
		c->destroy_requested = 1;
		return;
	}
	begin_destroy(c);
}

void agt_container_removed(struct agt_container *c)
{
	struct agt_agent *a = c->agent;
	struct agt_waiter *w = c->destroy_waiters;

	if (c->d.pid > 0 && !c->exited)
		agt_reaper_unwatch(c->d.pid);
	agt_ports_release(&a->ports, c->d.port);
	a->used_mb -= c->d.memory_mb;
	hc_gauge_set(a->m->used, a->used_mb);
	unlink_container(a, c);
	agt_reg_forget(a, c->d.id);
	agt_reg_publish(a, "destroyed", c->d.id);
	hc_info("container=%s removed", c->d.id);
	agt_logs_retry(c, 1);
	while (w) {
		struct agt_waiter *next = w->next;
		agt_observe(a, AGT_M_DESTROY, 1, w->start_us);
		hc_reply(w->req, 204, NULL, NULL, 0);
		free(w);
		w = next;
	}
	agt_container_free(c);
}

/* Not enough memory left on this host for cr: answer 503 with the numbers
 * (OpenWhisk-style capacity error) and return 1; 0 when it fits. */
static int refuse_capacity(struct agt_agent *a, struct hc_req *req,
			   const struct pr_agent_create *cr)
{
	cJSON *j;
	char msg[200];

	if (a->used_mb + cr->memory_mb <= a->cfg->memory_mb)
		return 0;
	snprintf(msg, sizeof(msg),
		 "not enough memory on this host: %d MB requested, %d of %d MB in use",
		 cr->memory_mb, a->used_mb, (int)a->cfg->memory_mb);
	j = pr_agent_capacity_error(msg, (int)a->cfg->memory_mb, a->used_mb, cr->memory_mb);
	agt_observe(a, AGT_M_CREATE, 0, 0);
	if (!j) {
		hc_reply_error(req, 503, "%s", msg);
		return 1;
	}
	hc_reply_json(req, 503, j);
	cJSON_Delete(j);
	return 1;
}

/* A new container for cr on port, in state CREATING, not yet in the table;
 * its descriptor and log streams are set up. NULL on ENOMEM. */
static struct agt_container *container_new(struct agt_agent *a, struct hc_req *req,
					   const struct pr_agent_create *cr, int port)
{
	struct agt_container *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->agent = a;
	c->fd[0] = c->fd[1] = -1;
	agt_logstream_init(&c->log[AGT_STDOUT], "stdout", (size_t)a->cfg->log_buffer);
	agt_logstream_init(&c->log[AGT_STDERR], "stderr", (size_t)a->cfg->log_buffer);
	hc_id_new(c->d.id);
	snprintf(c->d.agent, sizeof(c->d.agent), "%s", a->cfg->url);
	snprintf(c->d.host, sizeof(c->d.host), "%s", a->cfg->host_address);
	c->d.port = port;
	if (a->cfg->local_socket)
		snprintf(c->d.sock, sizeof(c->d.sock), PR_SOCK_PREFIX "%s", c->d.id);
	memcpy(c->d.kind, cr->kind, sizeof(c->d.kind));
	c->d.memory_mb = cr->memory_mb;
	c->d.state = PR_CS_CREATING;
	memcpy(c->d.action, cr->action, sizeof(c->d.action));
	memcpy(c->d.version, cr->version, sizeof(c->d.version));
	memcpy(c->d.digest, cr->digest, sizeof(c->d.digest));
	memcpy(c->d.owner, cr->owner, sizeof(c->d.owner));
	c->d.created_ms = c->d.last_used_ms = hc_now_ms();
	c->create_req = req;
	c->create_start_us = hc_req_start_us(req);
	snprintf(c->dir, sizeof(c->dir), "%s/containers/%s", a->cfg->state_dir, c->d.id);
	return c;
}

/* The backend could not start c (nothing runs): answer req, and undo
 * without a backend destroy. */
static void create_undo(struct agt_agent *a, struct agt_container *c, struct hc_req *req,
			const char *why)
{
	agt_observe(a, AGT_M_CREATE, 0, c->create_start_us);
	hc_reply_error(req, 500, "container %s: %s", c->d.id, why);
	hc_warn("container=%s create failed: %s", c->d.id, why);
	c->create_req = NULL;
	agt_rmtree(c->dir);
	agt_ports_release(&a->ports, c->d.port);
	a->used_mb -= c->d.memory_mb;
	hc_gauge_set(a->m->used, a->used_mb);
	unlink_container(a, c);
	agt_container_free(c);
}

void agt_create(struct agt_agent *a, struct hc_req *req, const struct pr_agent_create *cr)
{
	struct agt_container *c;
	struct hc_err err = {{0}};
	struct timeval tv;
	int port;

	if (refuse_capacity(a, req, cr))
		return;
	port = agt_ports_alloc(&a->ports);
	if (port < 0) {
		agt_observe(a, AGT_M_CREATE, 0, 0);
		hc_reply_error(req, 503, "no free port in %s on this host", a->cfg->port_range);
		return;
	}
	c = container_new(a, req, cr, port);
	if (!c) {
		agt_ports_release(&a->ports, port);
		hc_reply_error(req, 500, "out of memory");
		return;
	}
	c->timer = evtimer_new(a->base, on_launch_timeout, c);
	if (!c->timer) {
		hc_reply_error(req, 500, "out of memory");
		agt_ports_release(&a->ports, port);
		agt_container_free(c);
		return;
	}
	tv = hc_ms_timeval(a->cfg->create_timeout_ms);
	evtimer_add(c->timer, &tv);

	c->next = a->containers;
	a->containers = c;
	a->ncontainers++;
	a->used_mb += c->d.memory_mb;
	hc_gauge_set(a->m->used, a->used_mb);
	hc_debug("container=%s kind=%s memory=%d port=%d creating", c->d.id, c->d.kind,
		 c->d.memory_mb, port);
	if (a->backend->start(a, c, &err) < 0) {
		create_undo(a, c, req, err.msg);
		return;
	}
	if (!c->launched)
		agt_reg_mirror(c);
}

void agt_list(struct agt_agent *a, struct hc_req *req)
{
	struct pr_container *cs = calloc((size_t)a->ncontainers + 1, sizeof(*cs));
	int n = 0;
	cJSON *j;

	if (!cs) {
		hc_reply_error(req, 500, "out of memory");
		return;
	}
	for (struct agt_container *c = a->containers; c; c = c->next)
		cs[n++] = c->d;
	j = pr_container_list_to_json(cs, n);
	free(cs);
	if (!j) {
		hc_reply_error(req, 500, "out of memory");
		return;
	}
	hc_reply_json(req, 200, j);
	cJSON_Delete(j);
}

void agt_health(struct agt_agent *a, struct hc_req *req)
{
	struct pr_agent_health h;
	cJSON *j;

	memset(&h, 0, sizeof(h));
	snprintf(h.id, sizeof(h.id), "%s", a->cfg->id);
	h.pid = (int)getpid();
	snprintf(h.backend, sizeof(h.backend), "%s", a->backend->name);
	h.containers = a->ncontainers;
	h.memory_mb = (int)a->cfg->memory_mb;
	h.used_mb = a->used_mb;
	j = pr_agent_health_to_json(&h);
	if (!j) {
		hc_reply_error(req, 500, "out of memory");
		return;
	}
	hc_reply_json(req, 200, j);
	cJSON_Delete(j);
}
