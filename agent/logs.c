/* agent/logs.c — each container's output drains (stdout, stderr) and the
 * /log requests that cut one activation's lines out of them and write
 * them to Redis (agent/logbuf.h does the cutting). */
#include "agent/agent_int.h"

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/child.h"
#include "common/clock.h"
#include "common/http.h"
#include "common/log.h"
#include "proto/keys.h"
#include "proto/limits.h"

#define READ_CHUNK  65536
#define RPUSH_BATCH 256

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

static void logwait_finish(struct agt_logwait *w, int final);

void agt_logs_retry(struct agt_container *c, int final)
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
		agt_logs_retry(c, 0);
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
		agt_observe(lw->a, AGT_M_LOG, 1, lw->start_us);
		hc_reply(lw->req, 204, NULL, NULL, 0);
	} else {
		agt_observe(lw->a, AGT_M_LOG, 0, lw->start_us);
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
	agt_observe(lw->a, AGT_M_LOG, ok, lw->start_us);
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
		agt_observe(a, AGT_M_LOG, 1, start_us);
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
		agt_observe(c->agent, AGT_M_LOG, 0, w->start_us);
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

void agt_logs_free(struct agt_container *c)
{
	for (int i = 0; i < 2; i++) {
		close_stream(c, i);
		agt_logstream_free(&c->log[i]);
	}
}

void agt_logs_abort(struct agt_container *c)
{
	/* logwait_free unlinks each: the analyzer loses that */
	// NOLINTBEGIN(clang-analyzer-unix.Malloc)
	while (c->logwaits) {
		hc_reply_error(c->logwaits->req, 503, "shutting down");
		logwait_free(c->logwaits);
	}
	// NOLINTEND(clang-analyzer-unix.Malloc)
}
