/* service.c — /init, /run, /healthz and the runtime's states (see service.h). */
#include "runtime/service.h"

#include <errno.h>
#include <event2/event.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/http.h"
#include "common/json.h"
#include "common/log.h"
#include "common/str.h"
#include "proto/kinds.h"
#include "proto/runtime.h"
#include "runtime/code.h"
#include "runtime/kind.h"
#include "runtime/launcher.h"

#define ENV_MAX 1100 /* entries in a child's environment */

struct act {
	struct act *next, *prev;
	struct rt_service *s;
	uint64_t seq;
	struct hc_req *req;
	struct event *timer;
	int64_t limit_ms;
	uint64_t out0;		   /* the launcher's output count when it started */
	char id[PR_RT_ID_MAX + 1]; /* activation_id, for the start marker */
	int marked;		   /* its start marker is out */
};

struct rt_service {
	struct event_base *base;
	enum rt_state state;
	enum rt_family fam;
	char kind[32]; /* as started (--kind) or as /init named it: picks the interpreter */
	int init_started;
	char broken[256];
	enum pr_rt_fate fate; /* why it is RT_BROKEN (PR_RT_HDR_RUN) */
	char workdir[PATH_MAX];
	char *api_host;
	char *node, *python;
	char *node_path; /* NODE_PATH given to nodejs launchers, NULL = none */
	size_t max_result;
	struct rt_launcher *l;
	struct rt_code *code;
	struct hc_req *init_req;
	char main[PR_RT_MAIN_MAX + 1];
	cJSON *env; /* init env, every value a string */
	int concurrency;
	uint64_t next_seq;
	struct act *acts;
	int nacts;
};

const char *rt_state_name(enum rt_state s)
{
	static const char *const names[] = {"empty",   "stem",	"preparing",
					    "loading", "ready", "broken"};
	return s <= RT_BROKEN ? names[s] : "?";
}

enum rt_state rt_service_state(const struct rt_service *s)
{
	return s->state;
}

/* ---- replies and markers ---- */

static void mark(const char *line)
{
	size_t n = strlen(line);
	rt_write_all(STDOUT_FILENO, line, n);
	rt_write_all(STDERR_FILENO, line, n);
}

static void mark_start(const char *activation_id)
{
	char line[PR_RT_ID_MAX + 64];
	snprintf(line, sizeof line, RT_MARK_START " %s\n",
		 activation_id && activation_id[0] ? activation_id : "-");
	/* an id with a newline would forge a line: keep the marker one line */
	for (char *p = line + sizeof RT_MARK_START; *p && p[1]; p++)
		if (*p == '\n' || *p == '\r')
			*p = '_';
	mark(line);
}

static void mark_end(void)
{
	mark(RT_MARK_END "\n");
}

/* Markers exist for the agent to cut one activation's logs out of the
 * streams, which only means something when activations run one at a time
 * (concurrency 1; with more, OpenWhisk and hearth keep no per-activation
 * logs, and the markers cost four writes and an agent wake-up each). Even
 * then they are written only when they will be read: the start marker
 * just before the function's first output (on_output), or at the end of a
 * failed run, whose logs the controller always asks for. A run that
 * printed nothing and succeeded leaves no trace in the streams. */
static void act_mark_start(struct act *a)
{
	if (!a->marked && a->s->concurrency == 1) {
		mark_start(a->id);
		a->marked = 1;
	}
}

static void on_output(void *arg)
{
	struct rt_service *s = arg;
	if (s->concurrency == 1 && s->acts)
		act_mark_start(s->acts);
}

/* PR_RT_HDR_RUN on req: the bytes printed (log_bytes, -1: not said) and,
 * once the container is unusable, its fate. Nothing when there is nothing
 * to say. */
static void add_meta(struct rt_service *s, struct hc_req *req, int64_t log_bytes)
{
	char v[64];
	struct pr_rt_meta m = {.log_bytes = log_bytes,
			       .fate = s->state == RT_BROKEN ? s->fate : PR_RT_FATE_OK};
	pr_rt_meta_format(v, sizeof v, &m);
	if (v[0])
		hc_req_add_header(req, PR_RT_HDR_RUN, v);
}

/* End an activation's logs: what the function wrote before replying is
 * passed on first, then the end markers (see above). When it ran alone,
 * tell the caller how much it wrote (PR_RT_HDR_RUN logs=0 spares the
 * controller a call to the agent for logs). a is freed by the caller. */
static void act_end(struct act *a, struct hc_req *req, int ok)
{
	struct rt_service *s = a->s;
	if (s->concurrency != 1) {
		/* no markers to order the output against */
		if (req)
			add_meta(s, req, -1);
		return;
	}
	rt_launcher_drain(s->l);
	if (!ok)
		act_mark_start(a);
	if (a->marked)
		mark_end();
	if (req)
		add_meta(s, req, (int64_t)(rt_launcher_output(s->l) - a->out0));
}

/* {"error": "<message>"}: the runtime's error shape (OpenWhisk runtimes'). */
static void reply_err(struct hc_req *req, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void reply_err(struct hc_req *req, int status, const char *fmt, ...)
{
	char msg[1024];
	struct hc_buf b;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	hc_buf_init(&b, sizeof msg * 6 + 32);
	if (hc_buf_adds(&b, "{\"error\":") < 0 || hc_buf_add_json_str(&b, msg, strlen(msg)) < 0 ||
	    hc_buf_addc(&b, '}') < 0) {
		hc_buf_free(&b);
		hc_reply(req, status, "application/json", "{\"error\":\"\"}", 11);
		return;
	}
	hc_reply_buf(req, status, "application/json", &b);
}

static void set_broken(struct rt_service *s, enum pr_rt_fate fate, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_broken(struct rt_service *s, enum pr_rt_fate fate, const char *fmt, ...)
{
	va_list ap;

	if (s->state == RT_BROKEN)
		return; /* keep the first reason */
	s->fate = fate;
	va_start(ap, fmt);
	vsnprintf(s->broken, sizeof s->broken, fmt, ap);
	va_end(ap);
	s->state = RT_BROKEN;
	hc_warn("runtime unusable: %s", s->broken);
}

/* ---- activations ---- */

static void act_free(struct act *a)
{
	struct rt_service *s = a->s;

	if (a->prev)
		a->prev->next = a->next;
	else
		s->acts = a->next;
	if (a->next)
		a->next->prev = a->prev;
	s->nacts--;
	if (a->timer)
		event_free(a->timer);
	free(a);
}

static struct act *act_find(struct rt_service *s, uint64_t seq)
{
	for (struct act *a = s->acts; a; a = a->next)
		if (a->seq == seq)
			return a;
	return NULL;
}

/* Every activation ends here: end markers, then the answer. */
static void act_finish_err(struct act *a, int status, const char *msg)
{
	struct hc_req *req = a->req;

	act_end(a, req, 0);
	act_free(a);
	reply_err(req, status, "%s", msg);
}

static void fail_all(struct rt_service *s, const char *msg)
{
	/* act_free unlinks each from s->acts: the analyzer loses that */
	while (s->acts)
		act_finish_err(s->acts, 502, msg); // NOLINT(clang-analyzer-unix.Malloc)
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct act *a = arg;
	struct rt_service *s = a->s;
	char msg[128];

	snprintf(msg, sizeof msg, PR_RT_MSG_TIMEOUT, (long long)a->limit_ms);
	/* the function may still be running: kill everything it started */
	set_broken(s, PR_RT_FATE_TIMEOUT, "an activation exceeded its time limit of %lld ms",
		   (long long)a->limit_ms);
	rt_launcher_kill(s->l);
	act_finish_err(a, 502, msg);
}

static int first_char(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
			return p[i];
	return 0;
}

static const char *not_dict_msg(const struct rt_service *s)
{
	return s->fam == RT_FAM_NODEJS ? PR_RT_MSG_NOT_DICT_NODE : PR_RT_MSG_NOT_DICT;
}

static void run_reply(struct rt_service *s, const struct rt_reply *r)
{
	struct act *a = act_find(s, r->seq);
	struct hc_req *req;
	char msg[160];
	int c;

	if (!a)
		return; /* it timed out: already answered */
	if (r->kind == RT_REPLY_TOO_LONG || r->len > s->max_result) {
		snprintf(msg, sizeof msg, PR_RT_MSG_TOO_LONG,
			 r->kind == RT_REPLY_TOO_LONG ? r->total : r->len, s->max_result);
		act_finish_err(a, 502, msg);
		return;
	}
	if (r->kind == RT_REPLY_ERROR) {
		struct hc_buf b;
		req = a->req;
		act_end(a, req, 0);
		act_free(a);
		hc_buf_init(&b, r->len + 16);
		if (first_char(r->data, r->len) != '"' || hc_buf_adds(&b, "{\"error\":") < 0 ||
		    hc_buf_add(&b, r->data, r->len) < 0 || hc_buf_addc(&b, '}') < 0) {
			hc_buf_free(&b);
			reply_err(req, 502, PR_RT_MSG_ABNORMAL_RUN);
			return;
		}
		hc_reply_buf(req, 502, "application/json", &b);
		return;
	}
	c = first_char(r->data, r->len);
	if (c != '{' && c != '[') {
		act_finish_err(a, 502, not_dict_msg(s));
		return;
	}
	if (s->fam == RT_FAM_BLACKBOX) {
		/* an executable's line is unchecked: it must be JSON */
		cJSON *j = hc_json_parse(r->data, r->len, PR_RT_MAX_DEPTH, NULL);
		int ok = cJSON_IsObject(j) || cJSON_IsArray(j);
		cJSON_Delete(j);
		if (!ok) {
			act_finish_err(a, 502, not_dict_msg(s));
			return;
		}
	}
	req = a->req;
	act_end(a, req, 1);
	act_free(a);
	hc_reply(req, 200, "application/json", r->data, r->len);
}

/* ---- init ---- */

static void init_answer_err(struct rt_service *s, int status, const char *msg)
{
	struct hc_req *req = s->init_req;

	s->init_req = NULL;
	set_broken(s, PR_RT_FATE_BROKEN, "initialization failed: %s", msg);
	if (req) {
		add_meta(s, req, -1);
		reply_err(req, status, "%s", msg);
	}
}

static void init_reply(struct rt_service *s, const struct rt_reply *r)
{
	struct hc_req *req = s->init_req;

	if (s->state != RT_LOADING || !req)
		return;
	if (r->kind == RT_REPLY_RESULT) {
		s->init_req = NULL;
		s->state = RT_READY;
		hc_reply(req, 200, "application/json", PR_RT_INIT_OK, strlen(PR_RT_INIT_OK));
		return;
	}
	if (r->kind == RT_REPLY_ERROR) {
		cJSON *j = hc_json_parse(r->data, r->len, 4, NULL);
		char msg[1024];
		snprintf(msg, sizeof msg, "%s",
			 cJSON_IsString(j) ? j->valuestring : PR_RT_MSG_ABNORMAL_INIT);
		cJSON_Delete(j);
		init_answer_err(s, 502, msg);
		return;
	}
	init_answer_err(s, 502, PR_RT_MSG_ABNORMAL_INIT);
}

static void on_reply(const struct rt_reply *r, void *arg)
{
	struct rt_service *s = arg;

	if (r->seq == 0)
		init_reply(s, r);
	else
		run_reply(s, r);
}

static void on_exit_cb(const char *why, void *arg)
{
	struct rt_service *s = arg;

	if (s->state == RT_LOADING && s->init_req) {
		hc_warn("launcher %s during /init", why);
		init_answer_err(s, 502, PR_RT_MSG_ABNORMAL_INIT);
	}
	set_broken(s, PR_RT_FATE_EXITED, "the action's process %s", why);
	fail_all(s, PR_RT_MSG_ABNORMAL_RUN);
}

/* The environment every child starts with; extra "K=V" entries appended. */
static char **child_env(struct rt_service *s, const cJSON *extra)
{
	char **env = calloc(ENV_MAX + 8, sizeof *env);
	const cJSON *e;
	int n = 0;

	if (!env)
		return NULL;
	env[n++] = strdup("PATH=/usr/local/bin:/usr/bin:/bin");
	if (asprintf(&env[n++], "HOME=%s", s->workdir) < 0)
		env[n - 1] = NULL;
	env[n++] = strdup("LANG=C.UTF-8");
	if (s->api_host && asprintf(&env[n++], "__OW_API_HOST=%s", s->api_host) < 0)
		env[n - 1] = NULL;
	if (s->fam == RT_FAM_PYTHON)
		env[n++] = strdup("PYTHONDONTWRITEBYTECODE=1");
	if (s->fam == RT_FAM_NODEJS && s->node_path &&
	    asprintf(&env[n++], "NODE_PATH=%s", s->node_path) < 0)
		env[n - 1] = NULL;
	cJSON_ArrayForEach(e, extra)
	{
		if (n >= ENV_MAX)
			break;
		if (asprintf(&env[n++], "%s=%s", e->string, e->valuestring) < 0)
			env[n - 1] = NULL;
	}
	for (int i = 0; i < n; i++) {
		if (!env[i]) { /* ENOMEM somewhere: give up cleanly */
			for (int k = 0; k < n; k++)
				free(env[k]);
			free(env);
			return NULL;
		}
	}
	return env;
}

static void free_env(char **env)
{
	for (int i = 0; env && env[i]; i++)
		free(env[i]);
	free(env);
}

static int start_launcher(struct rt_service *s, struct hc_err *err)
{
	struct rt_launcher_cbs cbs = {
	    .on_reply = on_reply, .on_exit = on_exit_cb, .on_output = on_output, .arg = s};
	char interp[PATH_MAX], script[PATH_MAX];
	const char *text, *fname;
	size_t len;
	char **env = NULL;
	int rc = -1;

	if (rt_kind_interpreter(s->kind, s->fam, s->fam == RT_FAM_NODEJS ? s->node : s->python,
				interp, sizeof interp, err) < 0)
		return -1;
	text = rt_family_launcher(s->fam, &len, &fname);
	if (!text)
		return hc_err_set(err, "no launcher is built in for kind %s",
				  rt_family_name(s->fam));
	if (snprintf(script, sizeof script, "%s/%s", s->workdir, fname) >= (int)sizeof script)
		return hc_err_set(err, "work directory path is too long");
	if (rt_code_write_file(script, text, len, 0600, err) < 0)
		return -1;
	env = child_env(s, NULL);
	if (!env)
		return hc_err_set(err, "out of memory");
	{
		char *argv[] = {interp, script, NULL};
		struct rt_launcher_opts o = {.proto = RT_PROTO_TAGGED,
					     .path = interp,
					     .argv = argv,
					     .envp = env,
					     .cwd = s->workdir,
					     .max_reply = s->max_result};
		s->l = rt_launcher_start(s->base, &o, &cbs, err);
	}
	if (s->l)
		rc = 0;
	free_env(env);
	return rc;
}

static int start_blackbox(struct rt_service *s, const char *exec, struct hc_err *err)
{
	struct rt_launcher_cbs cbs = {
	    .on_reply = on_reply, .on_exit = on_exit_cb, .on_output = on_output, .arg = s};
	char dir[PATH_MAX];
	char **env = child_env(s, s->env);
	char *slash;

	if (!env)
		return hc_err_set(err, "out of memory");
	snprintf(dir, sizeof dir, "%s", exec);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	{
		char *argv[] = {(char *)exec, NULL};
		struct rt_launcher_opts o = {.proto = RT_PROTO_ACTIONLOOP,
					     .path = exec,
					     .argv = argv,
					     .envp = env,
					     .cwd = dir,
					     .max_reply = s->max_result};
		s->l = rt_launcher_start(s->base, &o, &cbs, err);
	}
	free_env(env);
	return s->l ? 0 : -1;
}

/* The code is in place: hand it to the launcher (or start the executable). */
static void code_ready(struct rt_service *s, const struct rt_code_out *out)
{
	struct hc_err err = {""};
	cJSON *msg = NULL;
	char *text = NULL;

	if (s->fam == RT_FAM_BLACKBOX) {
		if (start_blackbox(s, out->path, &err) < 0) {
			init_answer_err(s, 502, err.msg);
			return;
		}
		s->state = RT_READY;
		struct hc_req *req = s->init_req;
		s->init_req = NULL;
		hc_reply(req, 200, "application/json", PR_RT_INIT_OK, strlen(PR_RT_INIT_OK));
		return;
	}
	if (!s->l && start_launcher(s, &err) < 0) {
		init_answer_err(s, 502, err.msg);
		return;
	}
	msg = cJSON_CreateObject();
	if (!msg || hc_json_add_str(msg, "path", out->path) < 0 ||
	    hc_json_add_bool(msg, "dir", out->is_dir) < 0 ||
	    hc_json_add_str(msg, "main", s->main) < 0 ||
	    !cJSON_AddItemReferenceToObject(msg, "env", s->env) || !(text = hc_json_print(msg))) {
		cJSON_Delete(msg);
		init_answer_err(s, 500, "out of memory");
		return;
	}
	cJSON_Delete(msg);
	s->state = RT_LOADING;
	if (rt_launcher_send(s->l, 0, text, strlen(text)) < 0)
		init_answer_err(s, 502, PR_RT_MSG_ABNORMAL_INIT);
	free(text);
}

static void code_done(int rc, const struct rt_code_out *out, const char *errmsg, void *arg)
{
	struct rt_service *s = arg;

	s->code = NULL;
	if (rc < 0) {
		init_answer_err(s, 502, errmsg);
		return;
	}
	code_ready(s, out);
}

/* Keep the init env with every value as a string (what the function sees). */
static int keep_env(struct rt_service *s, const cJSON *env)
{
	const cJSON *e;

	cJSON_Delete(s->env); /* an earlier /init may have failed after this */
	s->env = cJSON_CreateObject();
	if (!s->env)
		return -1;
	cJSON_ArrayForEach(e, env)
	{
		char *v = pr_rt_env_string(e);
		if (!v || !cJSON_AddStringToObject(s->env, e->string, v)) {
			free(v);
			return -1;
		}
		free(v);
	}
	return 0;
}

static void handle_init(struct hc_req *req, void *arg)
{
	struct rt_service *s = arg;
	struct hc_err err = {""};
	struct pr_rt_init in;
	struct rt_code_out out;
	enum rt_family fam;
	cJSON *tree = NULL;
	size_t len;
	const char *body = hc_req_body(req, &len);
	enum pr_rt_decode d;
	int rc;

	if (s->init_started) {
		reply_err(req, 403, PR_RT_MSG_INIT_TWICE);
		return;
	}
	if (s->state == RT_BROKEN) {
		add_meta(s, req, -1);
		reply_err(req, 502, PR_RT_MSG_UNUSABLE, s->broken);
		return;
	}
	d = pr_rt_init_decode(body, len, &tree, &in, &err);
	if (d == PR_RT_NO_CODE) {
		reply_err(req, 403, PR_RT_MSG_NO_CODE);
		return;
	}
	if (d != PR_RT_OK) {
		reply_err(req, 400, "%s", err.msg);
		return;
	}
	fam = s->fam;
	if (in.kind) {
		if (rt_kind_family(in.kind, &fam, &err) < 0) {
			reply_err(req, 400, "%s", err.msg);
			goto out;
		}
		if (s->fam != RT_FAM_NONE && fam != s->fam) {
			reply_err(req, 400, "this runtime runs kind %s, not %s",
				  rt_family_name(s->fam), in.kind);
			goto out;
		}
		/* a stem cell of one version never runs another's code */
		char want[32], have[32];
		pr_kind_versioned_name(in.kind, want, sizeof want);
		pr_kind_versioned_name(s->kind, have, sizeof have);
		if (want[0] && have[0] && strcmp(want, have) != 0) {
			reply_err(req, 400, "this runtime runs kind %s, not %s", s->kind, in.kind);
			goto out;
		}
	}
	if (fam == RT_FAM_NONE) {
		reply_err(req, 400,
			  "the runtime was started without --kind and /init names no kind");
		goto out;
	}
	if (keep_env(s, in.env) < 0) {
		reply_err(req, 500, "out of memory");
		goto out;
	}
	s->fam = fam;
	if (!s->kind[0] && in.kind)
		snprintf(s->kind, sizeof s->kind, "%s", in.kind);
	s->init_started = 1;
	s->init_req = req;
	s->concurrency = fam == RT_FAM_NODEJS ? in.concurrency : 1;
	snprintf(s->main, sizeof s->main, "%s", in.main);
	s->state = RT_PREPARING;
	rc = rt_code_prepare(s->base, s->workdir, fam, &in, &out, code_done, s, &s->code, &err);
	if (rc < 0)
		init_answer_err(s, 502, err.msg);
	else if (rc == 0)
		code_ready(s, &out);
out:
	cJSON_Delete(tree);
}

/* ---- run ---- */

static void handle_run(struct hc_req *req, void *arg)
{
	struct rt_service *s = arg;
	struct hc_err err = {""};
	struct pr_rt_run in;
	cJSON *tree = NULL;
	size_t len;
	const char *body = hc_req_body(req, &len);
	struct act *a;
	int64_t now = 0, limit = 0;

	if (s->state != RT_READY) {
		if (s->state == RT_BROKEN && s->init_started) {
			add_meta(s, req, -1);
			reply_err(req, 502, PR_RT_MSG_UNUSABLE, s->broken);
		} else
			reply_err(req, 403, PR_RT_MSG_NOT_INIT);
		return;
	}
	if (s->nacts >= s->concurrency) {
		reply_err(req, 503, PR_RT_MSG_BUSY, s->concurrency);
		return;
	}
	if (pr_rt_run_decode(body, len, &tree, &in, &err) < 0) {
		reply_err(req, 400, "%s", err.msg);
		return;
	}
	if (in.deadline_ms > 0) {
		now = (int64_t)hc_now_ms();
		limit = in.timeout_ms > 0 ? in.timeout_ms : in.deadline_ms - now;
		if (in.deadline_ms <= now) {
			/* already late: nothing ran, so the container stays usable */
			mark_start(in.activation_id);
			mark_end();
			reply_err(req, 502, PR_RT_MSG_TIMEOUT, (long long)(limit > 0 ? limit : 0));
			goto out;
		}
	}
	a = calloc(1, sizeof *a);
	if (!a) {
		reply_err(req, 500, "out of memory");
		goto out;
	}
	a->s = s;
	a->req = req;
	a->seq = ++s->next_seq;
	a->limit_ms = limit;
	a->next = s->acts;
	if (s->acts)
		s->acts->prev = a;
	s->acts = a;
	s->nacts++;
	if (in.deadline_ms > 0) {
		int64_t left = in.deadline_ms - now;
		struct timeval tv = hc_ms_timeval(left);
		a->timer = evtimer_new(s->base, on_deadline, a);
		if (!a->timer || evtimer_add(a->timer, &tv) < 0) {
			act_free(a);
			reply_err(req, 500, "cannot arm the deadline timer");
			goto out;
		}
	}
	hc_strlcpy(a->id, in.activation_id ? in.activation_id : "", sizeof a->id);
	a->out0 = rt_launcher_output(s->l);
	if (rt_launcher_send(s->l, a->seq, body, len) < 0) {
		set_broken(s, PR_RT_FATE_EXITED, "the action's process is gone");
		act_finish_err(a, 502, PR_RT_MSG_ABNORMAL_RUN);
	}
out:
	cJSON_Delete(tree);
}

static void handle_health(struct hc_req *req, void *arg)
{
	struct rt_service *s = arg;
	char body[96];
	int n =
	    snprintf(body, sizeof body, "{\"ok\":true,\"state\":\"%s\"}", rt_state_name(s->state));
	hc_reply(req, 200, "application/json", body, (size_t)n);
}

/* ---- life ---- */

struct rt_service *rt_service_new(struct event_base *base, const struct rt_service_opts *o,
				  struct hc_err *err)
{
	struct rt_service *s = calloc(1, sizeof *s);
	struct hc_err lerr = {""};

	if (!s) {
		hc_err_set(err, "out of memory");
		return NULL;
	}
	s->base = base;
	s->state = RT_EMPTY;
	s->concurrency = 1;
	s->max_result = o->max_result ? o->max_result : PR_RT_RESULT_MAX;
	snprintf(s->workdir, sizeof s->workdir, "%s", o->workdir);
	s->api_host = o->api_host && o->api_host[0] ? strdup(o->api_host) : NULL;
	s->node = o->node ? strdup(o->node) : NULL;
	s->python = o->python ? strdup(o->python) : NULL;
	if (o->node_path) {
		s->node_path = o->node_path[0] ? strdup(o->node_path) : NULL;
	} else {
		char nm[PATH_MAX];
		if (rt_node_modules_dir(nm, sizeof nm) == 0)
			s->node_path = strdup(nm);
	}
	if (o->kind && o->kind[0] && rt_kind_family(o->kind, &s->fam, err) < 0) {
		rt_service_free(s);
		return NULL;
	}
	snprintf(s->kind, sizeof s->kind, "%s", o->kind ? o->kind : "");
	if (rt_family_has_launcher(s->fam)) {
		if (start_launcher(s, &lerr) < 0)
			set_broken(s, PR_RT_FATE_EXITED, "cannot start the %s launcher: %s",
				   rt_family_name(s->fam), lerr.msg);
		else
			s->state = RT_STEM;
	}
	return s;
}

int rt_service_routes(struct rt_service *s, struct hc_server *srv, size_t init_max, size_t run_max)
{
	if (hc_server_route(srv, HC_POST, PR_RT_PATH_INIT, handle_init, s, init_max) < 0 ||
	    hc_server_route(srv, HC_POST, PR_RT_PATH_RUN, handle_run, s, run_max) < 0 ||
	    hc_server_route(srv, HC_GET | HC_HEAD, PR_RT_PATH_HEALTH, handle_health, s, 0) < 0)
		return -1;
	return 0;
}

void rt_service_free(struct rt_service *s)
{
	if (!s)
		return;
	rt_code_cancel(s->code);
	while (s->acts) {
		struct hc_req *req =
		    s->acts->req; // NOLINT(clang-analyzer-unix.Malloc): as fail_all
		act_free(s->acts);
		reply_err(req, 503, "shutting down");
	}
	if (s->init_req)
		reply_err(s->init_req, 503, "shutting down");
	rt_launcher_free(s->l);
	cJSON_Delete(s->env);
	free(s->api_host);
	free(s->node);
	free(s->python);
	free(s->node_path);
	free(s);
}
