/* agent/agent.c — the agent's core: the container table, the lifecycle of
 * each container across its backend, output drains and /log cuts,
 * registration and bookkeeping in Redis (contract in agent/agent.h). */
#include "agent/agent.h"

#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
#include "common/redis.h"
#include "proto/keys.h"
#include "proto/limits.h"

/* /healthz polls back off from 1 ms to 8 ms: a runtime listens within a few
 * ms of its start, and refused connects cost CPU that runc needs. */
#define HEALTH_POLL_MIN_US     1000
#define HEALTH_POLL_MAX_US     8000
#define HEALTH_CALL_TIMEOUT_MS 1000
#define READ_CHUNK	       65536
#define RPUSH_BATCH	       256
#define STALE_MAX	       4096

/* ---- metrics ---- */

enum { M_CREATE, M_SUSPEND, M_RESUME, M_DESTROY, M_LOG, M_NOPS };
static const char *const op_names[M_NOPS] = {"create", "suspend", "resume", "destroy", "log"};

struct state_gauge {
	struct agt_agent *a;
	enum pr_cstate s;
};

struct agt_metrics {
	struct hc_counter *ok[M_NOPS], *fail[M_NOPS];
	struct hc_hist *lat[M_NOPS];
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

static void metrics_init(struct agt_agent *a)
{
	static struct agt_metrics m;
	char labels[64];

	for (int i = 0; i < M_NOPS; i++) {
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

static void observe(struct agt_agent *a, int op, int ok, uint64_t start_us)
{
	hc_counter_inc(ok ? a->m->ok[op] : a->m->fail[op]);
	if (start_us)
		hc_hist_observe(a->m->lat[op], (double)(hc_mono_us() - start_us) / 1e6);
}

/* ---- Redis bookkeeping (fire and forget; the heartbeat repairs drift) ---- */

static void mirror(struct agt_container *c)
{
	struct agt_agent *a = c->agent;
	char key[160];
	cJSON *j;
	char *s;

	if (!a->redis)
		return;
	j = pr_container_to_json(&c->d);
	s = j ? hc_json_print(j) : NULL;
	cJSON_Delete(j);
	if (!s)
		return;
	snprintf(key, sizeof(key), PR_KEY_AGENT_CONTAINERS, a->cfg->id);
	hc_redis_cmd(a->redis, NULL, NULL, "HSET %s %s %s", key, c->d.id, s);
	free(s);
}

static void publish(struct agt_agent *a, const char *event, const char *id)
{
	struct pr_container_event ev;
	char *s;

	if (!a->redis)
		return;
	memset(&ev, 0, sizeof(ev));
	snprintf(ev.event, sizeof(ev.event), "%s", event);
	snprintf(ev.container, sizeof(ev.container), "%s", id);
	snprintf(ev.agent, sizeof(ev.agent), "%s", a->cfg->id);
	s = pr_container_event_encode(&ev);
	if (!s)
		return;
	hc_redis_cmd(a->redis, NULL, NULL, "PUBLISH %s %s", PR_CH_CONTAINERS, s);
	free(s);
}

static void heartbeat_send(struct agt_agent *a)
{
	char key[160];

	if (!a->redis || !hc_redis_connected(a->redis))
		return;
	snprintf(key, sizeof(key), PR_KEY_AGENT, a->cfg->id);
	hc_redis_cmd(a->redis, NULL, NULL, "MULTI");
	hc_redis_cmd(a->redis, NULL, NULL, "HSET %s %s %s %s %s %s %s %s %d %s %d %s %d %s %d", key,
		     PR_AGENT_F_ID, a->cfg->id, PR_AGENT_F_URL, a->cfg->url, PR_AGENT_F_HOST,
		     a->cfg->host_address, PR_AGENT_F_MEMORY, (int)a->cfg->memory_mb,
		     PR_AGENT_F_USED, a->used_mb, PR_AGENT_F_CONTAINERS, a->ncontainers,
		     PR_AGENT_F_DRAINING, a->draining);
	hc_redis_cmd(a->redis, NULL, NULL, "PEXPIRE %s %lld", key,
		     (long long)a->cfg->heartbeat_ms * 3);
	hc_redis_cmd(a->redis, NULL, NULL, "SADD %s %s", PR_KEY_AGENTS, a->cfg->id);
	hc_redis_cmd(a->redis, NULL, NULL, "EXEC");
}

static void on_heartbeat(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	heartbeat_send(arg);
}

static void on_epoch(redisReply *r, void *arg)
{
	struct agt_agent *a = arg;
	if (r && r->type == REDIS_REPLY_STRING) {
		long long v = strtoll(r->str, NULL, 10);
		if (v > a->epoch)
			a->epoch = v;
	}
}

static void on_redis_connect(struct hc_redis *r, void *arg)
{
	struct agt_agent *a = arg;
	char key[160];

	snprintf(key, sizeof(key), PR_KEY_AGENT_EPOCH, a->cfg->id);
	hc_redis_cmd(r, on_epoch, a, "GET %s", key);
	heartbeat_send(a);
	for (struct agt_container *c = a->containers; c; c = c->next)
		mirror(c);
}

int agt_epoch_check(struct agt_agent *a, int64_t epoch)
{
	char key[160];

	if (epoch < a->epoch)
		return -1;
	if (epoch > a->epoch) {
		a->epoch = epoch;
		if (a->redis) {
			snprintf(key, sizeof(key), PR_KEY_AGENT_EPOCH, a->cfg->id);
			hc_redis_cmd(a->redis, NULL, NULL, "SET %s %lld", key, (long long)epoch);
		}
	}
	return 0;
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
	mirror(c);
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

static void close_stream(struct agt_container *c, int i)
{
	if (c->ev[i]) {
		event_free(c->ev[i]);
		c->ev[i] = NULL;
	}
	if (c->fd[i] >= 0) {
		close(c->fd[i]);
		c->fd[i] = -1;
	}
}

static void free_container(struct agt_container *c)
{
	for (int i = 0; i < 2; i++) {
		close_stream(c, i);
		agt_logstream_free(&c->log[i]);
	}
	if (c->timer)
		event_free(c->timer);
	if (c->health_call)
		hc_call_cancel(c->health_call);
	free(c);
}

/* ---- output drains and /log ---- */

static void logwait_finish(struct agt_logwait *w, int final);

static void retry_logwaits(struct agt_container *c, int final)
{
	struct agt_logwait *w = c->logwaits, *next;

	while (w) {
		next = w->next;
		logwait_finish(w, final);
		w = next;
	}
}

static void on_output(evutil_socket_t fd, short what, void *arg)
{
	struct agt_container *c = arg;
	int i = fd == c->fd[AGT_STDOUT] ? AGT_STDOUT : AGT_STDERR;
	char buf[READ_CHUNK];
	ssize_t n;

	(void)what;
	/* Bounded work per wake-up so one chatty container cannot starve the loop. */
	for (int round = 0; round < 4; round++) {
		n = read(fd, buf, sizeof(buf));
		if (n > 0) {
			agt_logstream_feed(&c->log[i], buf, (size_t)n, hc_now_us());
			if ((size_t)n < sizeof(buf))
				break;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		/* EOF or error: the container (and everything holding the pipe) is gone. */
		agt_logstream_flush(&c->log[i], hc_now_us());
		close_stream(c, i);
		break;
	}
	if (c->logwaits)
		retry_logwaits(c, 0);
}

int agt_container_pipes(struct agt_container *c, int wfd[2], struct hc_err *err)
{
	for (int i = 0; i < 2; i++) {
		int p[2];

		if (agt_pipe(p) < 0) {
			if (i == 1)
				close(wfd[0]);
			return hc_err_set(err, "pipe: %s", strerror(errno));
		}
		c->fd[i] = p[0];
		wfd[i] = p[1];
		c->ev[i] = event_new(c->agent->base, p[0], EV_READ | EV_PERSIST, on_output, c);
		if (!c->ev[i] || event_add(c->ev[i], NULL) < 0) {
			close(wfd[0]);
			if (i == 1)
				close(wfd[1]);
			return hc_err_set(err, "cannot watch the container's output");
		}
	}
	return 0;
}

const char *agt_container_last_error(struct agt_container *c)
{
	const struct agt_logline *l = c->log[AGT_STDERR].tail;
	/* Not yet drained? Take what the pipe holds (runc has exited). */
	if (!l && c->fd[AGT_STDERR] >= 0) {
		char buf[4096];
		ssize_t n = read(c->fd[AGT_STDERR], buf, sizeof(buf));
		if (n > 0)
			agt_logstream_feed(&c->log[AGT_STDERR], buf, (size_t)n, hc_now_us());
		agt_logstream_flush(&c->log[AGT_STDERR], hc_now_us());
		l = c->log[AGT_STDERR].tail;
	}
	return l ? l->text : "";
}

struct logwrite {
	struct hc_req *req;
	struct agt_agent *a;
	uint64_t start_us;
};

static void on_logs_written(redisReply *r, void *arg)
{
	struct logwrite *lw = arg;

	if (r && r->type == REDIS_REPLY_ARRAY) {
		observe(lw->a, M_LOG, 1, lw->start_us);
		hc_reply(lw->req, 204, NULL, NULL, 0);
	} else {
		observe(lw->a, M_LOG, 0, lw->start_us);
		hc_reply_error(lw->req, 500, "cannot write logs to redis: %s",
			       r && r->type == REDIS_REPLY_ERROR ? r->str : "not connected");
	}
	free(lw);
}

/* KEYS: the activation's log list, the namespace's log bytes of the day,
 * its overrides. ARGV: the TTL (ms), the default quota, the override's
 * field, the note to store when lines are dropped ("{quota}" is replaced),
 * then the lines. The lines that fit go in, counted; {stored, dropped}. */
static struct hc_redis_script quota_script = {
    .src = "local q = tonumber(redis.call('HGET', KEYS[3], ARGV[3]) or ARGV[2])\n"
	   "local used = tonumber(redis.call('GET', KEYS[2]) or '0')\n"
	   "local n, bytes, batch = 0, 0, {}\n"
	   "for i = 5, #ARGV do\n"
	   "  if used + bytes + #ARGV[i] > q then break end\n"
	   "  bytes, n = bytes + #ARGV[i], n + 1\n"
	   "  batch[#batch + 1] = ARGV[i]\n"
	   "  if #batch == 256 then redis.call('RPUSH', KEYS[1], unpack(batch)); batch = {} end\n"
	   "end\n"
	   "if #batch > 0 then redis.call('RPUSH', KEYS[1], unpack(batch)) end\n"
	   "local dropped = #ARGV - 4 - n\n"
	   "if bytes > 0 then\n"
	   "  redis.call('INCRBY', KEYS[2], bytes)\n"
	   "  redis.call('PEXPIRE', KEYS[2], 172800000)\n"
	   "end\n"
	   "if dropped > 0 then\n"
	   "  redis.call('RPUSH', KEYS[1], (string.gsub(ARGV[4], '{quota}', tostring(q))))\n"
	   "end\n"
	   "if n > 0 or dropped > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end\n"
	   "return {n, dropped}\n",
};

static void on_quota_logs_written(redisReply *r, void *arg)
{
	struct logwrite *lw = arg;
	int ok = r && r->type == REDIS_REPLY_ARRAY;
	observe(lw->a, M_LOG, ok, lw->start_us);
	if (ok)
		hc_reply(lw->req, 204, NULL, NULL, 0);
	else
		hc_reply_error(lw->req, 500, "cannot write logs to redis: %s",
			       r && r->type == REDIS_REPLY_ERROR ? r->str : "not connected");
	free(lw);
}

/* The lines through quota_script (see agt_log). */
static void write_logs_quota(struct agt_agent *a, struct logwrite *lw, const char *key,
			     const struct agt_logwait *w, struct agt_logcut *cut)
{
	char k_day[AGT_LOG_NS_MAX + 64], k_lim[AGT_LOG_NS_MAX + 32], ttl[24], q[24], iso[40];
	char note[2 * AGT_LOG_NS_MAX + 300];
	size_t argc = 7 + cut->n;
	const char **argv = calloc(argc, sizeof(*argv));
	if (!argv) {
		hc_reply_error(lw->req, 500, "out of memory");
		free(lw);
		return;
	}
	snprintf(k_day, sizeof(k_day), PR_KEY_LOG_BYTES_PREFIX "%s:%llu", w->ns,
		 (unsigned long long)(hc_now_ms() / 86400000));
	snprintf(k_lim, sizeof(k_lim), PR_KEY_NS_LIMITS, w->ns);
	snprintf(ttl, sizeof(ttl), "%lld", (long long)a->cfg->activation_ttl_ms);
	snprintf(q, sizeof(q), "%lld", w->quota);
	hc_iso8601_us(hc_now_us(), iso);
	snprintf(note, sizeof(note),
		 "%s stderr: Logs were truncated because the namespace '%s' has stored its "
		 "quota of {quota} log bytes for today; the operator can raise it (hearth admin "
		 "limits %s --log-bytes N).",
		 iso, w->ns, w->ns);
	argv[0] = key;
	argv[1] = k_day;
	argv[2] = k_lim;
	argv[3] = ttl;
	argv[4] = q;
	argv[5] = PR_LIM_F_LOGS;
	argv[6] = note;
	for (size_t i = 0; i < cut->n; i++)
		argv[7 + i] = cut->lines[i];
	if (hc_redis_eval(a->redis, &quota_script, on_quota_logs_written, lw, 3, (int)argc, argv,
			  NULL) < 0) {
		hc_reply_error(lw->req, 500, "cannot write logs to redis");
		free(lw);
	}
	free(argv);
}

static void write_logs(struct agt_agent *a, struct hc_req *req, const char *act,
		       struct agt_logcut *cut, uint64_t start_us, const struct agt_logwait *w)
{
	const char *argv[RPUSH_BATCH + 2];
	size_t lens[RPUSH_BATCH + 2];
	struct logwrite *lw;
	char key[160];

	if (cut->n == 0) {
		observe(a, M_LOG, 1, start_us);
		hc_reply(req, 204, NULL, NULL, 0);
		return;
	}
	lw = calloc(1, sizeof(*lw));
	if (!lw) {
		hc_reply_error(req, 500, "out of memory");
		return;
	}
	lw->req = req;
	lw->a = a;
	lw->start_us = start_us;
	snprintf(key, sizeof(key), PR_KEY_LOGS, act);
	if (w && w->ns[0] && w->quota >= 0) {
		write_logs_quota(a, lw, key, w, cut);
		return;
	}
	/* One transaction: the lines and their expiry land together. */
	hc_redis_cmd(a->redis, NULL, NULL, "MULTI");
	for (size_t i = 0; i < cut->n;) {
		int n = 0;
		argv[n] = "RPUSH";
		lens[n++] = 5;
		argv[n] = key;
		lens[n++] = strlen(key);
		for (; i < cut->n && n < RPUSH_BATCH + 2; i++) {
			argv[n] = cut->lines[i];
			lens[n++] = strlen(cut->lines[i]);
		}
		hc_redis_cmdargv(a->redis, NULL, NULL, n, argv, lens);
	}
	hc_redis_cmd(a->redis, NULL, NULL, "PEXPIRE %s %lld", key,
		     (long long)a->cfg->activation_ttl_ms);
	hc_redis_cmd(a->redis, on_logs_written, lw, "EXEC");
}

static void logwait_free(struct agt_logwait *w)
{
	struct agt_container *c = w->c;

	for (struct agt_logwait **p = &c->logwaits; *p; p = &(*p)->next) {
		if (*p == w) {
			*p = w->next;
			break;
		}
	}
	if (w->timer)
		event_free(w->timer);
	free(w);
}

static void logwait_finish(struct agt_logwait *w, int final)
{
	struct agt_container *c = w->c;
	struct agt_logstream *streams[2] = {&c->log[AGT_STDOUT], &c->log[AGT_STDERR]};
	struct hc_err err = {{0}};
	struct agt_logcut cut;
	enum agt_cut_result r;

	/* Once both streams are closed nothing more will come. */
	if (c->fd[0] < 0 && c->fd[1] < 0)
		final = 1;
	r = agt_log_cut(streams, 2, w->activation, w->limit, final, hc_now_us(), &cut, &err);
	if (r == AGT_CUT_WAIT)
		return;
	if (r == AGT_CUT_ERROR) {
		observe(c->agent, M_LOG, 0, w->start_us);
		hc_reply_error(w->req, strncmp(err.msg, "out of memory", 13) ? 400 : 500, "%s",
			       err.msg);
	} else {
		if (cut.incomplete || cut.truncated)
			hc_info("container=%s activation=%s logs%s%s", c->d.id, w->activation,
				cut.incomplete ? " incomplete" : "",
				cut.truncated ? " truncated" : "");
		write_logs(c->agent, w->req, w->activation, &cut, w->start_us, w);
		agt_logcut_free(&cut);
	}
	logwait_free(w);
}

static void on_logwait_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	logwait_finish(arg, 1);
}

void agt_log(struct agt_agent *a, struct agt_container *c, struct hc_req *req,
	     const char *activation, long long limit, const char *ns, long long quota)
{
	struct agt_logwait *w = calloc(1, sizeof(*w));
	struct timeval tv;

	if (!w) {
		hc_reply_error(req, 500, "out of memory");
		return;
	}
	w->c = c;
	w->req = req;
	w->limit = limit;
	snprintf(w->ns, sizeof(w->ns), "%s", ns ? ns : "");
	w->quota = ns ? quota : -1;
	w->start_us = hc_req_start_us(req);
	snprintf(w->activation, sizeof(w->activation), "%s", activation);
	w->next = c->logwaits;
	c->logwaits = w;
	/* Read what the pipes hold right now before deciding to wait. */
	for (int i = 0; i < 2; i++)
		if (c->fd[i] >= 0)
			on_output(c->fd[i], EV_READ, c);
	/* on_output may have finished it */
	for (struct agt_logwait *x = c->logwaits; x; x = x->next) {
		if (x != w)
			continue;
		logwait_finish(w, 0);
		break;
	}
	for (struct agt_logwait *x = c->logwaits; x; x = x->next) {
		if (x != w)
			continue;
		w->timer = evtimer_new(a->base, on_logwait_timeout, w);
		tv = hc_ms_timeval(a->cfg->log_wait_ms);
		if (!w->timer || evtimer_add(w->timer, &tv) < 0)
			logwait_finish(w, 1);
		break;
	}
}

/* ---- lifecycle ---- */

static void begin_destroy(struct agt_container *c);

static void reply_create(struct agt_container *c, int ok, const char *msg)
{
	struct hc_req *req = c->create_req;

	if (!req)
		return;
	c->create_req = NULL;
	observe(c->agent, M_CREATE, ok, c->create_start_us);
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
		publish(a, "warm", c->d.id);
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
	mirror(c);
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
		publish(a, "dead", c->d.id);
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
	int op = c->op == AGT_OP_SUSPEND ? M_SUSPEND : M_RESUME;

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
	observe(c->agent, op, ok, c->op_start_us);
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
		observe(a, op == AGT_OP_SUSPEND ? M_SUSPEND : M_RESUME, 0, 0);
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
	retry_logwaits(c, 1);
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
	char key[160];

	if (c->d.pid > 0 && !c->exited)
		agt_reaper_unwatch(c->d.pid);
	agt_ports_release(&a->ports, c->d.port);
	a->used_mb -= c->d.memory_mb;
	hc_gauge_set(a->m->used, a->used_mb);
	unlink_container(a, c);
	if (a->redis) {
		snprintf(key, sizeof(key), PR_KEY_AGENT_CONTAINERS, a->cfg->id);
		hc_redis_cmd(a->redis, NULL, NULL, "HDEL %s %s", key, c->d.id);
	}
	publish(a, "destroyed", c->d.id);
	hc_info("container=%s removed", c->d.id);
	retry_logwaits(c, 1);
	while (w) {
		struct agt_waiter *next = w->next;
		observe(a, M_DESTROY, 1, w->start_us);
		hc_reply(w->req, 204, NULL, NULL, 0);
		free(w);
		w = next;
	}
	free_container(c);
}

void agt_create(struct agt_agent *a, struct hc_req *req, const struct pr_agent_create *cr)
{
	struct agt_container *c;
	struct hc_err err = {{0}};
	struct timeval tv;
	int port;

	if (a->used_mb + cr->memory_mb > a->cfg->memory_mb) {
		cJSON *j;
		char msg[200];
		snprintf(msg, sizeof(msg),
			 "not enough memory on this host: %d MB requested, %d of %d MB in use",
			 cr->memory_mb, a->used_mb, (int)a->cfg->memory_mb);
		j = pr_agent_capacity_error(msg, (int)a->cfg->memory_mb, a->used_mb, cr->memory_mb);
		observe(a, M_CREATE, 0, 0);
		if (!j) {
			hc_reply_error(req, 503, "%s", msg);
			return;
		}
		hc_reply_json(req, 503, j);
		cJSON_Delete(j);
		return;
	}
	port = agt_ports_alloc(&a->ports);
	if (port < 0) {
		observe(a, M_CREATE, 0, 0);
		hc_reply_error(req, 503, "no free port in %s on this host", a->cfg->port_range);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		agt_ports_release(&a->ports, port);
		hc_reply_error(req, 500, "out of memory");
		return;
	}
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
	c->timer = evtimer_new(a->base, on_launch_timeout, c);
	if (!c->timer) {
		hc_reply_error(req, 500, "out of memory");
		agt_ports_release(&a->ports, port);
		free_container(c);
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
		/* nothing runs: undo without a backend destroy */
		observe(a, M_CREATE, 0, c->create_start_us);
		hc_reply_error(req, 500, "container %s: %s", c->d.id, err.msg);
		hc_warn("container=%s create failed: %s", c->d.id, err.msg);
		c->create_req = NULL;
		agt_rmtree(c->dir);
		agt_ports_release(&a->ports, port);
		a->used_mb -= c->d.memory_mb;
		hc_gauge_set(a->m->used, a->used_mb);
		unlink_container(a, c);
		free_container(c);
		return;
	}
	if (!c->launched)
		mirror(c);
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

/* ---- start-up and shutdown ---- */

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

/* Blocking: what an earlier run of this agent left, from local bookkeeping
 * and from Redis; the backend removes it and adds what it finds itself. */
static void cleanup_stale(struct agt_agent *a, const struct hc_redis_opts *ropts)
{
	struct agt_stale *st = calloc(STALE_MAX, sizeof(*st));
	char dir[PATH_MAX], key[160];
	struct hc_err err = {{0}};
	struct hc_redis_opts o = *ropts;
	redisContext *rc;
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
	o.connect_timeout_ms = 1000;
	rc = hc_redis_sync_connect(&o, &err);
	if (rc) {
		redisReply *r, *e;
		snprintf(key, sizeof(key), PR_KEY_AGENT_CONTAINERS, a->cfg->id);
		r = hc_redis_sync_cmd(rc, &err, "HGETALL %s", key);
		if (r && r->type == REDIS_REPLY_ARRAY) {
			for (size_t i = 0; i + 1 < r->elements; i += 2) {
				struct pr_container pc;
				cJSON *j = hc_json_parse(r->element[i + 1]->str,
							 r->element[i + 1]->len, 8, NULL);
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
	} else {
		hc_warn("redis not reachable at start (%s): only local bookkeeping is checked",
			err.msg);
	}
	a->backend->cleanup_stale(a, st, n);
	free(st);
}

int agt_init(struct agt_agent *a, struct agt_config *cfg, struct event_base *base,
	     struct hc_err *err)
{
	struct hc_redis_opts ropts;
	char real[PATH_MAX], dir[PATH_MAX];
	int lo, hi, have_runc;
	char *slash;

	memset(a, 0, sizeof(*a));
	a->cfg = cfg;
	a->base = base;
	metrics_init(a);

	if (hc_redis_parse_url(cfg->redis, &ropts, err) < 0)
		return hc_err_prefix(err, "redis");
	if (agt_ports_parse(cfg->port_range, &lo, &hi, err) < 0)
		return -1;
	if (!realpath(cfg->runtime, real) || access(real, X_OK) < 0)
		return hc_err_set(err, "runtime %s: %s (set --runtime)", cfg->runtime,
				  strerror(errno));
	slash = strrchr(real, '/');
	*slash = '\0';
	if (copy_str(a->runtime_dir, sizeof(a->runtime_dir), real[0] ? real : "/") < 0 ||
	    copy_str(a->runtime_name, sizeof(a->runtime_name), slash + 1) < 0)
		return hc_err_set(err, "runtime path too long");

	/* backend */
	have_runc = find_exe(cfg->runc, a->runc_path, sizeof(a->runc_path)) == 0;
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

	/* state dirs */
	snprintf(dir, sizeof(dir), "%s/containers", cfg->state_dir);
	if (mkdirs(cfg->state_dir) < 0 || mkdirs(dir) < 0)
		return hc_err_set(err, "state dir %s: %s", cfg->state_dir, strerror(errno));
	/* runc and the bundles need absolute paths whatever the cwd */
	if (cfg->state_dir[0] != '/') {
		char *abs = realpath(cfg->state_dir, NULL);
		if (!abs)
			return hc_err_set(err, "state dir %s: %s", cfg->state_dir, strerror(errno));
		free(cfg->state_dir);
		cfg->state_dir = abs;
		snprintf(dir, sizeof(dir), "%s/containers", cfg->state_dir);
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
	if (agt_ports_init(&a->ports, lo, hi, cfg->host_address, err) < 0)
		return -1;
	warn_ephemeral(lo, hi);
	if (agt_reaper_init(base, err) < 0)
		return -1;

	cleanup_stale(a, &ropts);

	a->http = hc_client_new(base, NULL);
	if (!a->http)
		return hc_err_set(err, "cannot create the HTTP client");
	a->redis = hc_redis_new(base, &ropts);
	if (!a->redis)
		return hc_err_set(err, "cannot create the redis client");
	hc_redis_on_connect(a->redis, on_redis_connect, a);
	a->heartbeat = event_new(base, -1, EV_PERSIST, on_heartbeat, a);
	if (!a->heartbeat)
		return hc_err_set(err, "out of memory");
	struct timeval tv = hc_ms_timeval(cfg->heartbeat_ms);
	event_add(a->heartbeat, &tv);
	hc_info("agent id=%s url=%s backend=%s memory=%d MB ports=%s state=%s epoch=%lld", cfg->id,
		cfg->url, a->backend->name, (int)cfg->memory_mb, cfg->port_range, cfg->state_dir,
		(long long)a->epoch);
	return 0;
}

void agt_shutdown(struct agt_agent *a)
{
	struct agt_container *c;
	redisContext *rc = NULL;
	struct hc_redis_opts ropts;
	struct hc_err err = {{0}};
	char key[160], parent[160];

	if (a->heartbeat) {
		event_free(a->heartbeat);
		a->heartbeat = NULL;
	}
	a->stopping = 1;
	/* First silence every callback of every container, so that reaping
	 * during the blocking removals below cannot start other work. */
	for (c = a->containers; c; c = c->next) {
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
	if (a->containers && a->backend) {
		hc_info("removing %d containers", a->ncontainers);
		a->backend->remove_all_sync(a);
	}
	while ((c = a->containers)) {
		struct agt_waiter *w;
		a->containers = c->next;
		hc_info("container=%s removed at shutdown", c->d.id);
		agt_ports_release(&a->ports, c->d.port);
		while (c->logwaits) {
			hc_reply_error(c->logwaits->req, 503, "shutting down");
			logwait_free(c->logwaits);
		}
		if (c->create_req)
			hc_reply_error(c->create_req, 503, "shutting down");
		if (c->op_req)
			hc_reply_error(c->op_req, 503, "shutting down");
		while ((w = c->destroy_waiters)) {
			c->destroy_waiters = w->next;
			hc_reply(w->req, 204, NULL, NULL, 0);
			free(w);
		}
		free_container(c);
	}
	a->ncontainers = 0;
	if (a->backend == &agt_backend_runc) {
		snprintf(parent, sizeof(parent), "/hearth/%s", a->cfg->id);
		agt_cgroup_remove(&a->cgroups, parent);
		/* the parent all agents share goes too, once none is left in it
		 * (rmdir refuses while another agent's cgroup is there) */
		agt_cgroup_remove(&a->cgroups, "/hearth");
	}
	/* Leave the state dir as we found it: what the agent made in it goes
	 * (per-container dirs, the shared rootfs of empty mount points and
	 * links); the runc root and the dir itself go only when empty, so
	 * state of a container runc failed to delete, or an operator's files,
	 * are never thrown away. */
	if (a->cfg && a->cfg->state_dir) {
		char p[PATH_MAX];
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
	if (a->cfg && hc_redis_parse_url(a->cfg->redis, &ropts, &err) == 0) {
		ropts.connect_timeout_ms = 500;
		rc = hc_redis_sync_connect(&ropts, &err);
	}
	if (rc) {
		redisReply *r;
		snprintf(key, sizeof(key), PR_KEY_AGENT_CONTAINERS, a->cfg->id);
		if ((r = hc_redis_sync_cmd(rc, &err, "DEL %s", key)))
			freeReplyObject(r);
		snprintf(key, sizeof(key), PR_KEY_AGENT, a->cfg->id);
		if ((r = hc_redis_sync_cmd(rc, &err, "DEL %s", key)))
			freeReplyObject(r);
		redisFree(rc);
	}
	if (a->redis)
		hc_redis_free(a->redis);
	if (a->http)
		hc_client_free(a->http);
	a->redis = NULL;
	a->http = NULL;
	agt_reaper_free();
	agt_ports_free(&a->ports);
}
