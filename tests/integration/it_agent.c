/* it_agent.c — hearth-agent with a real redis-server and real runtimes, for
 * both backends (runc only as root with runc installed): create each kind,
 * /init + /run straight to the container, its local socket, suspend (really frozen), resume,
 * /log into Redis, destroy and nothing left behind; the error cases; destroy
 * while a /run is in flight; the dead-container event; kill -9 and restart. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/json.h"
#include "agent/agent.h"
#include "common/redis.h"
#include "common/localnet.h"
#include "proto/agent.h"
#include "proto/container.h"
#include "proto/keys.h"
#include "tests/lib/harness.h"
#include "tests/lib/wait.h"

#define TOKEN "it-agent-token"

static struct th_redis redis;
static char tmpdir[128];
static int port_base;

struct agent {
	const char *backend;
	char id[40];
	pid_t pid;
	int port;
	char base[64];
	char state[256];
	char log[512];
};

static redisContext *rconn(void)
{
	redisContext *c = th_redis_connect(&redis);

	assert_non_null(c);
	return c;
}

static void agent_start(struct agent *a, const char *backend, const char *id, int memory)
{
	char port[16], mem[16], range[32];
	char *argv[40];
	int n = 0;

	memset(a, 0, sizeof(*a));
	a->backend = backend;
	snprintf(a->id, sizeof(a->id), "%s", id);
	a->port = th_free_port();
	snprintf(port, sizeof(port), "%d", a->port);
	snprintf(mem, sizeof(mem), "%d", memory);
	/* a private slice of ports so parallel suites do not collide */
	snprintf(range, sizeof(range), "%d-%d", port_base, port_base + 199);
	snprintf(a->state, sizeof(a->state), "%s/%s", tmpdir, id);
	argv[n++] = "hearth-agent";
	argv[n++] = "--id";
	argv[n++] = a->id;
	argv[n++] = "--port";
	argv[n++] = port;
	argv[n++] = "--redis";
	argv[n++] = redis.url;
	argv[n++] = "--token";
	argv[n++] = TOKEN;
	argv[n++] = "--backend";
	argv[n++] = (char *)backend;
	argv[n++] = "--state-dir";
	argv[n++] = a->state;
	argv[n++] = "--memory";
	argv[n++] = mem;
	argv[n++] = "--port-range";
	argv[n++] = range;
	argv[n++] = "--heartbeat";
	argv[n++] = "200ms";
	argv[n++] = "--log-wait";
	argv[n++] = "1s";
	argv[n] = NULL;
	a->pid = th_daemon_start(argv, NULL, a->port, 15000, a->log, sizeof(a->log));
	assert_true(a->pid > 0);
	snprintf(a->base, sizeof(a->base), "http://127.0.0.1:%d", a->port);
}

/* SIGTERM: the agent removes its containers and exits 0 (under the
 * sanitizer build a leak would make it nonzero). */
static void agent_stop(struct agent *a)
{
	int st = th_stop(a->pid, SIGTERM, 15000);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fprintf(stderr, "agent ended with status %#x; see %s\n", st, a->log);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* A call to the agent with the token (auth 0: none; 2: a wrong one) and an
 * optional epoch. */
static long call(struct agent *a, const char *method, const char *path, const char *body, int auth,
		 long long epoch, char **out)
{
	char url[700], h_auth[128], h_epoch[64];
	const char *hdrs[4];
	int n = 0;

	snprintf(url, sizeof(url), "%s%s", a->base, path);
	if (auth) {
		snprintf(h_auth, sizeof(h_auth), "Authorization: Bearer %s",
			 auth == 1 ? TOKEN : "wrong");
		hdrs[n++] = h_auth;
	}
	if (epoch >= 0) {
		snprintf(h_epoch, sizeof(h_epoch), "%s: %lld", PR_AGENT_EPOCH_HEADER, epoch);
		hdrs[n++] = h_epoch;
	}
	hdrs[n] = NULL;
	return th_http(method, url, hdrs, body, body ? strlen(body) : 0, out);
}

static long api(struct agent *a, const char *method, const char *path, const char *body, char **out)
{
	return call(a, method, path, body, 1, -1, out);
}

static void create(struct agent *a, const char *kind, int memory, struct pr_container *c)
{
	char body[128], *out = NULL;
	struct hc_err err = {{0}};
	cJSON *j;
	long st;

	snprintf(body, sizeof(body), "{\"kind\":\"%s\",\"memory\":%d,\"owner\":\"it\"}", kind,
		 memory);
	st = api(a, "POST", "/containers", body, &out);
	if (st != 201)
		fprintf(stderr, "create %s: %ld %s (see %s)\n", kind, st, out ? out : "", a->log);
	assert_int_equal(st, 201);
	j = hc_json_parse(out, strlen(out), 16, &err);
	assert_non_null(j);
	assert_int_equal(pr_container_from_json(j, c, &err), 0);
	cJSON_Delete(j);
	free(out);
	assert_int_equal(c->state, PR_CS_WARM);
	assert_string_equal(c->kind, kind);
	assert_string_equal(c->owner, "it");
	assert_true(c->port >= port_base && c->port < port_base + 200);
	assert_true(c->pid > 0);
}

static long rt_post(const struct pr_container *c, const char *path, const char *body, char **out)
{
	char url[128];

	snprintf(url, sizeof(url), "http://%s:%d%s", c->host, c->port, path);
	return th_http("POST", url, NULL, body, strlen(body), out);
}

/* POST with a short timeout (for a frozen container): curl as a child. */
static int rt_post_answers_within(const struct pr_container *c, const char *body, long ms)
{
	char url[128], to[32];
	int st;
	pid_t pid;

	snprintf(url, sizeof(url), "http://%s:%d/run", c->host, c->port);
	snprintf(to, sizeof(to), "%.3f", (double)ms / 1000);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);
		dup2(fd, 1);
		dup2(fd, 2);
		execlp("curl", "curl", "-s", "-m", to, "-X", "POST", "-d", body, url, (char *)NULL);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_not_equal(WEXITSTATUS(st), 127);
	return WEXITSTATUS(st) == 0; /* 28 = timed out */
}

static const char *code_for(const char *kind)
{
	if (!strncmp(kind, "nodejs", 6))
		return "function main(p) { console.log('hello ' + p.name); "
		       "console.error('to stderr'); return {greeting: 'hi ' + p.name}; }";
	if (!strncmp(kind, "python", 6))
		return "import sys\n"
		       "def main(a):\n"
		       "    print('hello ' + a['name'])\n"
		       "    print('to stderr', file=sys.stderr)\n"
		       "    return {'greeting': 'hi ' + a['name']}\n";
	return "#!/bin/sh\n"
	       "while read -r line; do\n"
	       "  case \"$line\" in *sleepy*) sleep 5 ;; esac\n"
	       "  echo \"hello bb\"\n"
	       "  echo 'to stderr' >&2\n"
	       "  echo '{\"greeting\":\"hi bb\"}' >&3\n"
	       "done\n";
}

static void init_container(const struct pr_container *c, const char *code)
{
	struct hc_buf b;
	char *out = NULL;
	long st;

	hc_buf_init(&b, 1 << 20);
	assert_int_equal(hc_buf_adds(&b, "{\"value\":{\"name\":\"t\",\"main\":\"main\",\"code\":"),
			 0);
	assert_int_equal(hc_buf_add_json_str(&b, code, strlen(code)), 0);
	assert_int_equal(hc_buf_adds(&b, ",\"binary\":false}}"), 0);
	st = rt_post(c, "/init", hc_buf_str(&b), &out);
	if (st != 200)
		fprintf(stderr, "init %s: %ld %s\n", c->kind, st, out ? out : "");
	assert_int_equal(st, 200);
	free(out);
	hc_buf_free(&b);
}

/* /run with an activation id; retried briefly in case an abandoned run
 * (sent while frozen) is still finishing. */
static void run_ok(const struct pr_container *c, const char *name, const char *act)
{
	char body[256], *out = NULL;
	long st = 0;

	snprintf(body, sizeof(body), "{\"value\":{\"name\":\"%s\"},\"activation_id\":\"%s\"}", name,
		 act);
	TH_RETRY(2000, 50) {
		free(out);
		out = NULL;
		st = rt_post(c, "/run", body, &out);
		if (st == 200)
			break;
	}
	if (st != 200)
		fprintf(stderr, "run %s: %ld %s\n", c->kind, st, out ? out : "");
	assert_int_equal(st, 200);
	assert_non_null(strstr(out, "greeting"));
	free(out);
}

/* The activation's log lines in Redis contain want_out on stdout and
 * "to stderr" on stderr, formatted as OpenWhisk lines, with a TTL. */
static void check_logs(const char *act, const char *want_out)
{
	redisContext *rc = rconn();
	struct hc_err err = {{0}};
	char key[128], want[128];
	int found_out = 0, found_err = 0;
	redisReply *r;

	snprintf(key, sizeof(key), PR_KEY_LOGS, act);
	r = hc_redis_sync_cmd(rc, &err, "LRANGE %s 0 -1", key);
	assert_non_null(r);
	assert_int_equal(r->type, REDIS_REPLY_ARRAY);
	snprintf(want, sizeof(want), "stdout: %s", want_out);
	for (size_t i = 0; i < r->elements; i++) {
		const char *l = r->element[i]->str;
		/* "2026-01-01T00:00:00.000000Z stdout: text" */
		assert_true(strlen(l) > 28);
		assert_int_equal(l[4], '-');
		assert_int_equal(l[26], 'Z');
		assert_null(strstr(l, "XXX_THE_"));
		if (!strcmp(l + 28, want))
			found_out = 1;
		if (!strcmp(l + 28, "stderr: to stderr"))
			found_err = 1;
	}
	if (!found_out || !found_err)
		for (size_t i = 0; i < r->elements; i++)
			fprintf(stderr, "log[%zu] %s\n", i, r->element[i]->str);
	assert_true(found_out);
	assert_true(found_err);
	freeReplyObject(r);
	r = hc_redis_sync_cmd(rc, &err, "PTTL %s", key);
	assert_non_null(r);
	assert_true(r->integer > 0);
	freeReplyObject(r);
	redisFree(rc);
}

static void check_truncated(const char *act, int limit)
{
	redisContext *rc = rconn();
	struct hc_err err = {{0}};
	char key[128], want[160];
	redisReply *r;

	snprintf(key, sizeof(key), PR_KEY_LOGS, act);
	r = hc_redis_sync_cmd(rc, &err, "LRANGE %s 0 -1", key);
	assert_non_null(r);
	assert_true(r->elements >= 1);
	snprintf(want, sizeof(want), "stderr: " PR_LOG_TRUNCATED_FMT, (long long)limit);
	assert_string_equal(r->element[r->elements - 1]->str + 28, want);
	for (size_t i = 0; i + 1 < r->elements; i++)
		assert_true(strlen(r->element[i]->str) <= 28 + 8 + (size_t)limit);
	freeReplyObject(r);
	redisFree(rc);
}

static int read_file(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "r");
	size_t got;

	if (!f)
		return -1;
	got = fread(buf, 1, n - 1, f);
	fclose(f);
	buf[got] = '\0';
	return 0;
}

static char proc_state(pid_t pid)
{
	char p[64], buf[512], *rp;

	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	if (read_file(p, buf, sizeof(buf)) < 0)
		return 0;
	rp = strrchr(buf, ')');
	return rp && rp[1] == ' ' ? rp[2] : 0;
}

/* Processes (not zombies) whose process group is pgid. */
static int count_pgrp(pid_t pgid)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d))) {
		char p[300], buf[512], st;
		int pg;
		char *rp;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(p, sizeof(p), "/proc/%s/stat", de->d_name);
		if (read_file(p, buf, sizeof(buf)) < 0 || !(rp = strrchr(buf, ')')))
			continue;
		if (sscanf(rp + 2, "%c %*d %d", &st, &pg) == 2 && pg == pgid && st != 'Z')
			n++;
	}
	closedir(d);
	return n;
}

static void freezer_path(struct agent *a, const struct pr_container *c, char *out, size_t n)
{
	snprintf(out, n, "/sys/fs/cgroup/freezer/hearth/%s/%s", a->id, c->id);
}

static void check_frozen(struct agent *a, const struct pr_container *c, int frozen)
{
	if (!strcmp(a->backend, "runc")) {
		char p[256], buf[64];
		freezer_path(a, c, p, sizeof(p) - 16);
		strcat(p, "/freezer.state");
		assert_int_equal(read_file(p, buf, sizeof(buf)), 0);
		assert_int_equal(strncmp(buf, frozen ? "FROZEN" : "THAWED", 6), 0);
	} else {
		char s = proc_state(c->pid);
		if (frozen)
			assert_int_equal(s, 'T');
		else
			assert_int_not_equal(s, 'T');
	}
}

static int runc_list_count(struct agent *a)
{
	char cmd[512], buf[4096];
	FILE *p;
	int lines = 0;

	snprintf(cmd, sizeof(cmd), "runc --root %s/runc list -q 2>/dev/null", a->state);
	/* runc's own view; the test's thread runs no loop */
	p = popen(cmd, "r"); /* NOLINT(cert-env33-c) */
	assert_non_null(p);
	while (fgets(buf, sizeof(buf), p))
		lines++;
	pclose(p);
	return lines;
}

static int dir_entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* Nothing of container c is left on the host. */
static void check_gone(struct agent *a, const struct pr_container *c)
{
	char p[512];
	struct stat st;

	/* the runtime and everything it started */
	TH_RETRY(5000, 20) {
		if (kill(c->pid, 0) < 0 || proc_state(c->pid) == 'Z')
			break;
	}
	assert_true(kill(c->pid, 0) < 0 || proc_state(c->pid) == 'Z');
	if (!strcmp(a->backend, "process")) {
		assert_int_equal(count_pgrp(c->pid), 0);
	} else {
		freezer_path(a, c, p, sizeof(p));
		assert_int_equal(stat(p, &st), -1);
		snprintf(p, sizeof(p), "/sys/fs/cgroup/memory/hearth/%s/%s", a->id, c->id);
		assert_int_equal(stat(p, &st), -1);
		snprintf(p, sizeof(p), "%s/runc/%s", a->state, c->id);
		assert_int_equal(stat(p, &st), -1);
	}
	snprintf(p, sizeof(p), "%s/containers/%s", a->state, c->id);
	assert_int_equal(stat(p, &st), -1);
	/* no mount of it on the host */
	{
		FILE *f = fopen("/proc/self/mounts", "r");
		char line[1024];
		assert_non_null(f);
		while (fgets(line, sizeof(line), f))
			assert_null(strstr(line, c->id));
		fclose(f);
	}
}

static int count_listed(struct agent *a)
{
	char *out = NULL;
	struct pr_container *cs = NULL;
	struct hc_err err = {{0}};
	int n = -1;
	cJSON *j;

	assert_int_equal(api(a, "GET", "/containers", NULL, &out), 200);
	j = hc_json_parse(out, strlen(out), 16, &err);
	assert_non_null(j);
	assert_int_equal(pr_container_list_from_json(j, &cs, &n, &err), 0);
	cJSON_Delete(j);
	free(cs);
	free(out);
	return n;
}

static void new_act(char *out)
{
	static const char hex[] = "0123456789abcdef";
	FILE *f = fopen("/dev/urandom", "r");
	unsigned char raw[16];
	assert_non_null(f);
	assert_int_equal(fread(raw, 1, 16, f), 16);
	fclose(f);
	for (int i = 0; i < 16; i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[32] = '\0';
}

/* ---- the whole life of each kind ---- */

/* The runtime's local socket (abstract, named in the descriptor): up means
 * it answers GET /healthz there; gone means nothing listens on it. */
static void check_local_socket(const struct pr_container *c, int up)
{
	char want[64], buf[512] = "";
	struct sockaddr_un sa;
	socklen_t sl;
	snprintf(want, sizeof(want), "@hearth-%s", c->id);
	assert_string_equal(c->sock, want);
	assert_int_equal(hc_unix_addr(c->sock, &sa, &sl), 0);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	int rc = connect(fd, (struct sockaddr *)&sa, sl);
	if (!up) {
		assert_int_equal(rc, -1);
		close(fd);
		return;
	}
	assert_int_equal(rc, 0);
	static const char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
	assert_int_equal(send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL), (ssize_t)sizeof(req) - 1);
	size_t len = 0;
	while (len < sizeof(buf) - 1 && !strstr(buf, "\"ok\"")) {
		struct pollfd p = {fd, POLLIN, 0};
		assert_int_equal(poll(&p, 1, 5000), 1);
		ssize_t n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
		assert_true(n > 0);
		len += (size_t)n;
		buf[len] = '\0';
	}
	assert_non_null(strstr(buf, "HTTP/1.1 200 OK\r\n"));
	close(fd);
}

static void lifecycle(const char *backend)
{
	static const char *kinds[] = {"nodejs:20", "python:3", "blackbox"};
	struct agent a;
	char id[40], path[128], act[33], *out = NULL;

	snprintf(id, sizeof(id), "itlife-%s-%d", backend, (int)getpid());
	agent_start(&a, backend, id, 2048);
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		struct pr_container c;
		const char *want = k == 2 ? "hello bb" : "hello ann";

		create(&a, kinds[k], 256, &c);
		assert_int_equal(count_listed(&a), 1);
		check_local_socket(&c, 1);
		init_container(&c, code_for(kinds[k]));
		new_act(act);
		run_ok(&c, "ann", act);
		snprintf(path, sizeof(path), "/log/%s?activation=%s", c.id, act);
		assert_int_equal(api(&a, "GET", path, NULL, NULL), 204);
		check_logs(act, want);

		/* suspend: really frozen, and a /run gets no answer */
		snprintf(path, sizeof(path), "/suspend/%s", c.id);
		assert_int_equal(api(&a, "GET", path, NULL, NULL), 204);
		check_frozen(&a, &c, 1);
		assert_false(rt_post_answers_within(&c, "{\"value\":{\"name\":\"z\"}}", 300));
		/* double suspend is refused */
		assert_int_equal(api(&a, "GET", path, NULL, &out), 409);
		assert_non_null(strstr(out, "already suspended"));
		free(out);
		out = NULL;
		snprintf(path, sizeof(path), "/resume/%s", c.id);
		assert_int_equal(api(&a, "GET", path, NULL, NULL), 204);
		check_frozen(&a, &c, 0);
		assert_int_equal(api(&a, "GET", path, NULL, NULL), 409); /* not suspended */

		/* runs again; the log cut holds only this activation */
		new_act(act);
		run_ok(&c, "ann", act);
		snprintf(path, sizeof(path), "/log/%s?activation=%s", c.id, act);
		assert_int_equal(api(&a, "GET", path, NULL, NULL), 204);
		check_logs(act, want);

		if (k == 0) {
			/* the action's log limit, with OpenWhisk's message */
			new_act(act);
			run_ok(&c, "ann", act);
			snprintf(path, sizeof(path), "/log/%s?activation=%s&limit=3", c.id, act);
			assert_int_equal(api(&a, "GET", path, NULL, NULL), 204);
			check_truncated(act, 3);
		}

		snprintf(path, sizeof(path), "/containers/%s", c.id);
		assert_int_equal(api(&a, "DELETE", path, NULL, NULL), 204);
		assert_int_equal(api(&a, "DELETE", path, NULL, NULL), 404);
		check_gone(&a, &c);
		check_local_socket(&c, 0);
		assert_int_equal(count_listed(&a), 0);
	}
	if (!strcmp(backend, "runc"))
		assert_int_equal(runc_list_count(&a), 0);
	agent_stop(&a);
}

static void test_process_lifecycle(void **state)
{
	(void)state;
	lifecycle("process");
}

static void test_runc_lifecycle(void **state)
{
	(void)state;
	if (!th_have_runc())
		skip();
	lifecycle("runc");
}

/* ---- errors ---- */

static void errors(const char *backend)
{
	struct agent a;
	struct pr_container c;
	char id[40], path[160], *out = NULL;
	redisContext *rc;
	redisReply *r;
	struct hc_err err = {{0}};
	const char *unknown = "00000000000000000000000000000000";

	snprintf(id, sizeof(id), "iterr-%s-%d", backend, (int)getpid());
	agent_start(&a, backend, id, 1024);

	/* no token / wrong token: 401 everywhere but /healthz and /metrics */
	assert_int_equal(call(&a, "GET", "/containers", NULL, 0, -1, NULL), 401);
	assert_int_equal(call(&a, "GET", "/containers", NULL, 2, -1, NULL), 401);
	assert_int_equal(
	    call(&a, "POST", "/containers", "{\"kind\":\"blackbox\",\"memory\":1}", 0, -1, NULL),
	    401);
	snprintf(path, sizeof(path), "/suspend/%s", unknown);
	assert_int_equal(call(&a, "GET", path, NULL, 0, -1, NULL), 401);
	assert_int_equal(call(&a, "GET", "/healthz", NULL, 0, -1, &out), 200);
	assert_non_null(strstr(out, backend));
	free(out);
	out = NULL;
	assert_int_equal(call(&a, "GET", "/metrics", NULL, 0, -1, NULL), 200);

	/* unknown ids */
	assert_int_equal(api(&a, "GET", path, NULL, NULL), 404);
	snprintf(path, sizeof(path), "/resume/%s", unknown);
	assert_int_equal(api(&a, "GET", path, NULL, NULL), 404);
	snprintf(path, sizeof(path), "/log/%s?activation=%s", unknown, unknown);
	assert_int_equal(api(&a, "GET", path, NULL, NULL), 404);
	snprintf(path, sizeof(path), "/containers/%s", unknown);
	assert_int_equal(api(&a, "DELETE", path, NULL, NULL), 404);

	/* bad bodies */
	assert_int_equal(api(&a, "POST", "/containers", "{not json", &out), 400);
	assert_non_null(strstr(out, "error"));
	free(out);
	out = NULL;
	assert_int_equal(api(&a, "POST", "/containers", "{\"memory\":128}", &out), 400);
	assert_non_null(strstr(out, "kind"));
	free(out);
	out = NULL;
	assert_int_equal(
	    api(&a, "POST", "/containers", "{\"kind\":\"blackbox\",\"memory\":-5}", NULL), 400);

	/* capacity: 1024 MB host */
	assert_int_equal(
	    api(&a, "POST", "/containers", "{\"kind\":\"blackbox\",\"memory\":2048}", &out), 503);
	assert_non_null(strstr(out, "not enough memory"));
	assert_non_null(strstr(out, "\"used\":0"));
	free(out);
	out = NULL;
	create(&a, "blackbox", 768, &c);
	assert_int_equal(
	    api(&a, "POST", "/containers", "{\"kind\":\"blackbox\",\"memory\":512}", &out), 503);
	assert_non_null(strstr(out, "768 of 1024 MB in use"));
	free(out);
	out = NULL;

	/* /log: missing activation, bad limit, an activation that never ran */
	snprintf(path, sizeof(path), "/log/%s", c.id);
	assert_int_equal(api(&a, "GET", path, NULL, NULL), 400);
	snprintf(path, sizeof(path), "/log/%s?activation=%s&limit=lots", c.id, unknown);
	assert_int_equal(api(&a, "GET", path, NULL, NULL), 400);
	snprintf(path, sizeof(path), "/log/%s?activation=%s", c.id, unknown);
	assert_int_equal(api(&a, "GET", path, NULL, &out), 400);
	assert_non_null(strstr(out, unknown));
	free(out);
	out = NULL;

	/* epochs: a higher one is remembered (in Redis too), a lower one refused */
	assert_int_equal(
	    call(&a, "POST", "/containers", "{\"kind\":\"blackbox\",\"memory\":2048}", 1, 7, NULL),
	    503);
	snprintf(path, sizeof(path), "/containers/%s", c.id);
	assert_int_equal(call(&a, "DELETE", path, NULL, 1, 6, &out), 409);
	assert_non_null(strstr(out, "stale"));
	free(out);
	out = NULL;
	assert_int_equal(call(&a, "DELETE", path, NULL, 1, -1, NULL), 204);
	rc = rconn();
	snprintf(path, sizeof(path), PR_KEY_AGENT_EPOCH, a.id);
	TH_RETRY(1000, 20) {
		r = hc_redis_sync_cmd(rc, &err, "GET %s", path);
		int ok = r && r->type == REDIS_REPLY_STRING && !strcmp(r->str, "7");
		if (r)
			freeReplyObject(r);
		if (ok)
			break;
	}
	r = hc_redis_sync_cmd(rc, &err, "GET %s", path);
	assert_non_null(r);
	assert_string_equal(r->str, "7");
	freeReplyObject(r);

	/* registration: hash with the agent's fields and a TTL, id in the set */
	snprintf(path, sizeof(path), PR_KEY_AGENT, a.id);
	r = hc_redis_sync_cmd(rc, &err, "HGET %s %s", path, PR_AGENT_F_MEMORY);
	assert_non_null(r);
	assert_string_equal(r->str, "1024");
	freeReplyObject(r);
	r = hc_redis_sync_cmd(rc, &err, "PTTL %s", path);
	assert_true(r->integer > 0 && r->integer <= 600);
	freeReplyObject(r);
	r = hc_redis_sync_cmd(rc, &err, "SISMEMBER %s %s", PR_KEY_AGENTS, a.id);
	assert_int_equal(r->integer, 1);
	freeReplyObject(r);
	agent_stop(&a);

	/* the epoch survives a restart: 6 is still stale */
	agent_start(&a, backend, id, 1024);
	assert_int_equal(
	    call(&a, "POST", "/containers", "{\"kind\":\"blackbox\",\"memory\":64}", 1, 6, NULL),
	    409);
	agent_stop(&a);
	/* a stopped agent deregisters */
	snprintf(path, sizeof(path), PR_KEY_AGENT, a.id);
	r = hc_redis_sync_cmd(rc, &err, "EXISTS %s", path);
	assert_int_equal(r->integer, 0);
	freeReplyObject(r);
	redisFree(rc);
}

static void test_process_errors(void **state)
{
	(void)state;
	errors("process");
}

static void test_runc_errors(void **state)
{
	(void)state;
	if (!th_have_runc())
		skip();
	errors("runc");
}

/* ---- destroy while a /run is in flight ---- */

struct bg_run {
	struct pr_container *c;
	long status;
	long long took_ms;
};

static void *bg_run(void *arg)
{
	struct bg_run *b = arg;
	long long t0 = th_now_ms();
	char *out = NULL;

	b->status = rt_post(b->c, "/run", "{\"value\":{\"sleepy\":1}}", &out);
	b->took_ms = th_now_ms() - t0;
	free(out);
	return NULL;
}

static void destroy_busy(const char *backend)
{
	struct agent a;
	struct pr_container c;
	struct bg_run b;
	pthread_t t;
	char id[40], path[128];

	snprintf(id, sizeof(id), "itbusy-%s-%d", backend, (int)getpid());
	agent_start(&a, backend, id, 1024);
	create(&a, "blackbox", 128, &c);
	init_container(&c, code_for("blackbox"));
	memset(&b, 0, sizeof(b));
	b.c = &c;
	assert_int_equal(pthread_create(&t, NULL, bg_run, &b), 0);
	th_sleep_ms(300); /* let the run start (it sleeps 5 s) */
	snprintf(path, sizeof(path), "/containers/%s", c.id);
	assert_int_equal(api(&a, "DELETE", path, NULL, NULL), 204);
	pthread_join(t, NULL);
	/* the in-flight run failed instead of finishing */
	assert_int_not_equal(b.status, 200);
	assert_true(b.took_ms < 4500);
	check_gone(&a, &c);
	agent_stop(&a);
}

static void test_process_destroy_busy(void **state)
{
	(void)state;
	destroy_busy("process");
}

static void test_runc_destroy_busy(void **state)
{
	(void)state;
	if (!th_have_runc())
		skip();
	destroy_busy("runc");
}

/* ---- a container whose process dies is reported dead ---- */

static void dead_event(const char *backend)
{
	struct agent a;
	struct pr_container c;
	struct pr_container_event ev;
	struct hc_err err = {{0}};
	struct timeval tv = {5, 0};
	redisContext *sub = rconn();
	redisReply *r;
	char id[40];
	int got = 0;

	r = redisCommand(sub, "SUBSCRIBE %s", PR_CH_CONTAINERS);
	assert_non_null(r);
	freeReplyObject(r);
	redisSetTimeout(sub, tv);
	snprintf(id, sizeof(id), "itdead-%s-%d", backend, (int)getpid());
	agent_start(&a, backend, id, 1024);
	create(&a, "python:3", 128, &c);
	assert_int_equal(kill(c.pid, SIGKILL), 0);
	for (int i = 0; i < 20 && !got; i++) {
		void *vr = NULL;
		if (redisGetReply(sub, &vr) != REDIS_OK)
			break;
		r = vr;
		if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
		    pr_container_event_decode(r->element[2]->str, r->element[2]->len, &ev, &err) ==
			0 &&
		    !strcmp(ev.event, "dead") && !strcmp(ev.container, c.id)) {
			assert_string_equal(ev.agent, a.id);
			got = 1;
		}
		freeReplyObject(r);
	}
	assert_true(got);
	/* and it is cleaned up */
	TH_RETRY(2000, 20) {
		if (count_listed(&a) == 0)
			break;
	}
	assert_int_equal(count_listed(&a), 0);
	check_gone(&a, &c);
	redisFree(sub);
	agent_stop(&a);
}

static void test_process_dead_event(void **state)
{
	(void)state;
	dead_event("process");
}

static void test_runc_dead_event(void **state)
{
	(void)state;
	if (!th_have_runc())
		skip();
	dead_event("runc");
}

/* ---- many creates (and destroys) in flight at once ---- */

#define NPAR 8

struct par {
	struct agent *a;
	int i;
	long status;
	struct pr_container c;
};

static void *par_create(void *arg)
{
	struct par *p = arg;
	struct hc_err err = {{0}};
	char *out = NULL;
	cJSON *j;

	p->status = api(p->a, "POST", "/containers",
			p->i % 2 ? "{\"kind\":\"blackbox\",\"memory\":64}"
				 : "{\"kind\":\"python:3\",\"memory\":64}",
			&out);
	if (p->status == 201 && (j = hc_json_parse(out, strlen(out), 16, &err))) {
		if (pr_container_from_json(j, &p->c, &err) < 0)
			p->status = -1;
		cJSON_Delete(j);
	}
	free(out);
	return NULL;
}

static void *par_destroy(void *arg)
{
	struct par *p = arg;
	char path[128];

	snprintf(path, sizeof(path), "/containers/%s", p->c.id);
	p->status = api(p->a, "DELETE", path, NULL, NULL);
	return NULL;
}

static void concurrent(const char *backend)
{
	struct agent a;
	struct par p[NPAR];
	pthread_t t[NPAR];
	char id[40];

	snprintf(id, sizeof(id), "itpar-%s-%d", backend, (int)getpid());
	agent_start(&a, backend, id, 1024);
	for (int i = 0; i < NPAR; i++) {
		memset(&p[i], 0, sizeof(p[i]));
		p[i].a = &a;
		p[i].i = i;
		assert_int_equal(pthread_create(&t[i], NULL, par_create, &p[i]), 0);
	}
	for (int i = 0; i < NPAR; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < NPAR; i++) {
		assert_int_equal(p[i].status, 201);
		assert_int_equal(p[i].c.state, PR_CS_WARM);
		for (int k = 0; k < i; k++) {
			assert_int_not_equal(p[i].c.port, p[k].c.port);
			assert_string_not_equal(p[i].c.id, p[k].c.id);
		}
	}
	assert_int_equal(count_listed(&a), NPAR);
	for (int i = 0; i < NPAR; i++)
		assert_int_equal(pthread_create(&t[i], NULL, par_destroy, &p[i]), 0);
	for (int i = 0; i < NPAR; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < NPAR; i++) {
		assert_int_equal(p[i].status, 204);
		check_gone(&a, &p[i].c);
	}
	assert_int_equal(count_listed(&a), 0);
	agent_stop(&a);
}

static void test_process_concurrent(void **state)
{
	(void)state;
	concurrent("process");
}

static void test_runc_concurrent(void **state)
{
	(void)state;
	if (!th_have_runc())
		skip();
	concurrent("runc");
}

/* ---- kill -9 of the agent, then a restart removes everything ---- */

static void crash_restart(const char *backend)
{
	struct agent a;
	struct pr_container c[2];
	redisContext *rc;
	redisReply *r;
	struct hc_err err = {{0}};
	char id[40], key[128], p[512];

	snprintf(id, sizeof(id), "itcrash-%s-%d", backend, (int)getpid());
	agent_start(&a, backend, id, 1024);
	create(&a, "nodejs:20", 128, &c[0]);
	create(&a, "blackbox", 128, &c[1]);
	snprintf(p, sizeof(p), "/suspend/%s", c[1].id);
	assert_int_equal(api(&a, "GET", p, NULL, NULL), 204);
	th_stop(a.pid, SIGKILL, 1000);
	/* the containers outlive the agent */
	assert_int_equal(kill(c[0].pid, 0), 0);
	assert_int_equal(kill(c[1].pid, 0), 0);
	if (!strcmp(backend, "runc"))
		assert_int_equal(runc_list_count(&a), 2);

	agent_start(&a, backend, id, 1024);
	assert_int_equal(count_listed(&a), 0);
	for (int i = 0; i < 2; i++)
		check_gone(&a, &c[i]);
	if (!strcmp(backend, "runc"))
		assert_int_equal(runc_list_count(&a), 0);
	snprintf(p, sizeof(p), "%s/containers", a.state);
	assert_int_equal(dir_entries(p), 0);
	rc = rconn();
	snprintf(key, sizeof(key), PR_KEY_AGENT_CONTAINERS, a.id);
	r = hc_redis_sync_cmd(rc, &err, "HLEN %s", key);
	assert_non_null(r);
	assert_int_equal(r->integer, 0);
	freeReplyObject(r);
	redisFree(rc);
	/* the new run works */
	create(&a, "blackbox", 128, &c[0]);
	agent_stop(&a);
	check_gone(&a, &c[0]);
	if (!strcmp(backend, "runc")) {
		snprintf(p, sizeof(p), "/sys/fs/cgroup/freezer/hearth/%s", a.id);
		struct stat st;
		assert_int_equal(stat(p, &st), -1);
	}
}

static void test_process_crash_restart(void **state)
{
	(void)state;
	crash_restart("process");
}

static void test_runc_crash_restart(void **state)
{
	(void)state;
	if (!th_have_runc())
		skip();
	crash_restart("runc");
}

static int group_setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/hearth-it-agent-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	/* below the kernel's ephemeral ports (32768-), which outgoing
	 * connections could take between allocation and bind */
	port_base = 21000 + (int)(getpid() % 50) * 200;
	return th_redis_start(&redis);
}

static int group_teardown(void **state)
{
	(void)state;
	th_stop_all();
	agt_rmtree(tmpdir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_process_lifecycle),	  cmocka_unit_test(test_process_errors),
	    cmocka_unit_test(test_process_destroy_busy),  cmocka_unit_test(test_process_dead_event),
	    cmocka_unit_test(test_process_crash_restart), cmocka_unit_test(test_process_concurrent),
	    cmocka_unit_test(test_runc_lifecycle),	  cmocka_unit_test(test_runc_errors),
	    cmocka_unit_test(test_runc_destroy_busy),	  cmocka_unit_test(test_runc_dead_event),
	    cmocka_unit_test(test_runc_crash_restart),	  cmocka_unit_test(test_runc_concurrent),
	};
	return cmocka_run_group_tests_name("it_agent", tests, group_setup, group_teardown);
}
