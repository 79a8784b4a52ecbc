/* it_controller_details.c — the details OpenWhisk clients depend on, and
 * namespace limits, end to end: Redis, a scheduler, an agent (runc when
 * th_have_runc(), else the process backend; HEARTH_IT_PROCESS=1 forces
 * it) and two controllers of one loop each.
 *
 * Covers: GET / (runtimes and limits in OpenWhisk's shape), GET /ping,
 * /limits in OpenWhisk's units with an operator's override; kinds refused
 * with OpenWhisk's message or run at exactly their version; a zip sent
 * without exec.binary stored and run as a zip; a nodejs action returning
 * nothing succeeding with {}; ?timeout= out of range; activations listed
 * with docs=true carrying their logs; require('openwhisk') inside an action
 * calling the API with its key; invocations per minute and concurrent
 * invocations shared by both controllers, with OpenWhisk's 429 messages;
 * quotas on actions, code bytes and log bytes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "common/redis.h"
#include "proto/auth.h"
#include "proto/keys.h"
#include "tests/lib/harness.h"

#define TOKEN "it-token"

static struct th_redis R;
static redisContext *rc;
static pid_t ctl_pid[2];
static char agent_url[64], sched_url[64], ctl_url[2][64];
static char tmpdir[256];

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static pid_t start(char **argv, int port, char *url)
{
	char health[128];
	pid_t pid = th_spawn(argv, NULL, NULL, 0);
	assert_true(pid > 0);
	snprintf(url, 64, "http://127.0.0.1:%d", port);
	snprintf(health, sizeof(health), "%s/healthz", url);
	assert_int_equal(th_wait_http_ok(health, 15000), 0);
	return pid;
}

/* ---- namespaces and their credentials ---- */

struct ns {
	const char *name;
	char auth[300]; /* "Authorization: Basic ..." */
	char cred[PR_AUTH_CRED_LEN + 1];
};
static struct ns guest = {.name = "guest"}, lim1 = {.name = "lim1"}, lim2 = {.name = "lim2"},
		 quota1 = {.name = "quota1"}, quota2 = {.name = "quota2"};

static void ns_create(struct ns *n)
{
	struct hc_err err;
	char b64[256];
	assert_int_equal(pr_auth_key_create(rc, n->name, NULL, n->cred, &err), 0);
	pr_base64_encode(n->cred, strlen(n->cred), b64, sizeof(b64));
	snprintf(n->auth, sizeof(n->auth), "Authorization: Basic %s", b64);
}

static void redis_cmd(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	redisReply *r = redisvCommand(rc, fmt, ap);
	va_end(ap);
	assert_non_null(r);
	assert_int_not_equal(r->type, REDIS_REPLY_ERROR);
	freeReplyObject(r);
}

static int setup(void **state)
{
	struct hc_redis_opts ro;
	struct hc_err err;
	char port[16];
	if (th_redis_start(&R) < 0)
		return -1;
	assert_int_equal(hc_redis_parse_url(R.url, &ro, &err), 0);
	rc = hc_redis_sync_connect(&ro, &err);
	assert_non_null(rc);
	struct ns *all[] = {&guest, &lim1, &lim2, &quota1, &quota2};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		ns_create(all[i]);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/hearth-it-details-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));

	const char *backend = th_have_runc() && !getenv("HEARTH_IT_PROCESS") ? "runc" : "process";
	int p = th_free_port();
	int lo = 30000 + (p % 20) * 1000;
	char range[32];
	snprintf(range, sizeof(range), "%d-%d", lo, lo + 999);
	snprintf(port, sizeof(port), "%d", p);
	char *aargv[] = {"hearth-agent", "--port",    port,
			 "--redis",	 R.url,	      "--token",
			 TOKEN,		 "--backend", (char *)backend,
			 "--port-range", range,	      "--log-wait",
			 "1s",		 NULL};
	start(aargv, p, agent_url);
	p = th_free_port();
	snprintf(port, sizeof(port), "%d", p);
	char *sargv[] = {"hearth-scheduler", "--port", port, "--redis", R.url,
			 "--token",	     TOKEN,    NULL};
	start(sargv, p, sched_url);
	for (int i = 0; i < 2; i++) {
		p = th_free_port();
		snprintf(port, sizeof(port), "%d", p);
		/* one loop each: every request of a test meets the same counters */
		char *cargv[] = {"hearth-controller",
				 "--port",
				 port,
				 "--threads",
				 "1",
				 "--redis",
				 R.url,
				 "--token",
				 TOKEN,
				 "--pause-grace",
				 "100ms",
				 "--blocking-wait",
				 "20s",
				 NULL};
		ctl_pid[i] = start(cargv, p, ctl_url[i]);
	}
	sleep_ms(300); /* the controllers learn the leader */
	return 0;
}

static int teardown(void **state)
{
	int st0 = th_stop(ctl_pid[0], SIGTERM, 5000);
	int st1 = th_stop(ctl_pid[1], SIGTERM, 5000);
	th_stop_all();
	redisFree(rc);
	th_redis_stop(&R);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(st0, 0);
	assert_int_equal(st1, 0);
	return 0;
}

/* ---- requests ---- */

/* method path (under /api/v1/namespaces/_) on controller c as namespace n. */
static long api_as(const struct ns *n, int c, const char *method, const char *path,
		   const char *body, cJSON **json)
{
	char url[512], *out = NULL;
	const char *h[] = {n->auth, "Content-Type: application/json", NULL};
	snprintf(url, sizeof(url), "%s/api/v1/namespaces/_%s", ctl_url[c], path);
	long st = th_http(method, url, h, body, body ? strlen(body) : 0, &out);
	if (json)
		*json = out ? cJSON_Parse(out) : NULL;
	free(out);
	return st;
}

static long api(const char *method, const char *path, const char *body, cJSON **json)
{
	return api_as(&guest, 0, method, path, body, json);
}

static const cJSON *get(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

static const char *sget(const cJSON *o, const char *k)
{
	const cJSON *v = get(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* PUT ?overwrite=true {"exec":{kind, code}, extra...}; the status. */
static long put_as(const struct ns *n, const char *name, const char *kind, const char *code,
		   const char *extra, cJSON **json)
{
	char path[128];
	cJSON *e = cJSON_CreateObject(), *x = cJSON_AddObjectToObject(e, "exec");
	cJSON_AddStringToObject(x, "kind", kind);
	cJSON_AddStringToObject(x, "code", code);
	char *body = cJSON_PrintUnformatted(e);
	char *full = malloc(strlen(body) + (extra ? strlen(extra) : 0) + 4);
	strcpy(full, body);
	if (extra) {
		full[strlen(full) - 1] = ',';
		strcat(full, extra);
		strcat(full, "}");
	}
	snprintf(path, sizeof(path), "/actions/%s?overwrite=true", name);
	long st = api_as(n, 0, "PUT", path, full, json);
	cJSON_Delete(e);
	free(body);
	free(full);
	return st;
}

static void put_ok(const char *name, const char *kind, const char *code, const char *extra)
{
	cJSON *j = NULL;
	long st = put_as(&guest, name, kind, code, extra, &j);
	if (st != 200) {
		char *t = j ? cJSON_PrintUnformatted(j) : NULL;
		fprintf(stderr, "PUT %s: %ld %s\n", name, st, t ? t : "");
		free(t);
	}
	assert_int_equal(st, 200);
	cJSON_Delete(j);
}

/* A blocking invoke as guest on controller 0 whose result is returned. */
static cJSON *invoke_result(const char *name, const char *body, long want)
{
	char path[128];
	cJSON *j = NULL;
	snprintf(path, sizeof(path), "/actions/%s?blocking=true&result=true", name);
	long st = api("POST", path, body ? body : "{}", &j);
	if (st != want) {
		char *t = j ? cJSON_PrintUnformatted(j) : NULL;
		fprintf(stderr, "POST %s: %ld %s\n", name, st, t ? t : "");
		free(t);
	}
	assert_int_equal(st, want);
	return j;
}

/* ---- GET /, /ping, /limits ---- */

static const cJSON *find_kind(const cJSON *family, const char *kind)
{
	const cJSON *e;
	cJSON_ArrayForEach(e, family)
	{
		if (sget(e, "kind") && !strcmp(sget(e, "kind"), kind))
			return e;
	}
	return NULL;
}

static void test_info_ping_limits(void **state)
{
	char url[128], *out = NULL;
	snprintf(url, sizeof(url), "%s/", ctl_url[0]);
	assert_int_equal(th_http("GET", url, NULL, NULL, 0, &out), 200);
	cJSON *j = cJSON_Parse(out);
	free(out);
	const cJSON *rt = get(j, "runtimes"), *lim = get(j, "limits");
	assert_true(cJSON_IsObject(rt));
	/* exactly one default per family, and the kinds the host runs */
	const cJSON *fam;
	cJSON_ArrayForEach(fam, rt)
	{
		int defaults = 0;
		const cJSON *e;
		cJSON_ArrayForEach(e, fam) defaults += cJSON_IsTrue(get(e, "default"));
		assert_int_equal(defaults, 1);
	}
	assert_non_null(find_kind(get(rt, "blackbox"), "blackbox"));
	if (access("/usr/bin/node", X_OK) == 0)
		assert_int_equal(cJSON_GetArraySize(get(rt, "nodejs")) >= 1, 1);
	if (access("/usr/bin/node18", X_OK) != 0 && access("/usr/local/bin/node18", X_OK) != 0)
		assert_null(find_kind(get(rt, "nodejs"), "nodejs:18"));
	/* Controller.scala's limits: durations in ms, memory and logs in bytes */
	assert_int_equal(get(lim, "actions_per_minute")->valuedouble, 60000000);
	assert_int_equal(get(lim, "concurrent_actions")->valuedouble, 100000);
	assert_int_equal(get(lim, "triggers_per_minute")->valuedouble, 6000000);
	assert_int_equal(get(lim, "max_action_duration")->valuedouble, 300000);
	assert_int_equal(get(lim, "max_action_memory")->valuedouble, 512.0 * 1024 * 1024);
	assert_int_equal(get(lim, "min_action_memory")->valuedouble, 128.0 * 1024 * 1024);
	assert_int_equal(get(lim, "max_action_logs")->valuedouble, 10.0 * 1024 * 1024);
	assert_int_equal(get(lim, "sequence_length")->valuedouble, 50);
	cJSON_Delete(j);

	snprintf(url, sizeof(url), "%s/ping", ctl_url[1]);
	assert_int_equal(th_http("GET", url, NULL, NULL, 0, &out), 200);
	assert_string_equal(out, "{\"ping\":\"pong\"}");
	free(out);

	/* OpenWhisk's units: MB, ms, a ByteSize string; the defaults first */
	assert_int_equal(api("GET", "/limits", NULL, &j), 200);
	assert_int_equal(get(j, "maxActionMemory")->valueint, 512);
	assert_int_equal(get(j, "minActionMemory")->valueint, 128);
	assert_int_equal(get(j, "maxActionLogs")->valueint, 10);
	assert_int_equal(get(j, "maxActionTimeout")->valueint, 300000);
	assert_int_equal(get(j, "minActionTimeout")->valueint, 100);
	assert_string_equal(sget(j, "maxParameterSize"), "1 MB");
	assert_int_equal(get(j, "invocationsPerMinute")->valuedouble, 60000000);
	assert_int_equal(get(j, "maxActionInstances")->valuedouble, 100000);
	assert_int_equal(get(j, "maxActions")->valuedouble, 10000);
	cJSON_Delete(j);
	/* an operator's override is what /limits reports, at once */
	redis_cmd("HSET " PR_KEY_NS_LIMITS " invocationsPerMinute 77 concurrentInvocations 7 "
		  "maxActions 9",
		  "guest");
	assert_int_equal(api("GET", "/limits", NULL, &j), 200);
	assert_int_equal(get(j, "invocationsPerMinute")->valueint, 77);
	assert_int_equal(get(j, "concurrentInvocations")->valueint, 7);
	assert_int_equal(get(j, "maxActionInstances")->valueint, 7);
	assert_int_equal(get(j, "maxActions")->valueint, 9);
	assert_int_equal(get(j, "firesPerMinute")->valuedouble, 6000000);
	cJSON_Delete(j);
	redis_cmd("DEL " PR_KEY_NS_LIMITS, "guest");
	/* another namespace's limits are not the caller's to read */
	char path[128];
	snprintf(path, sizeof(path), "%s/api/v1/namespaces/lim1/limits", ctl_url[0]);
	const char *h[] = {guest.auth, NULL};
	assert_int_equal(th_http("GET", path, h, NULL, 0, NULL), 403);
}

/* ---- kinds ---- */

static void test_kinds(void **state)
{
	cJSON *j = NULL;
	if (access("/usr/bin/node18", X_OK) != 0 && access("/usr/local/bin/node18", X_OK) != 0) {
		assert_int_equal(put_as(&guest, "k18", "nodejs:18", "function main(){}", NULL, &j),
				 400);
		assert_non_null(strstr(sget(j, "error"), "The specified runtime 'nodejs:18' is "
							 "not supported by this platform. "
							 "Valid values are: 'blackbox', "));
		cJSON_Delete(j);
		/* nothing was stored */
		assert_int_equal(api("GET", "/actions/k18", NULL, NULL), 404);
	}
	assert_int_equal(
	    put_as(&guest, "k99", "python:3.99", "def main(a):\n  return a\n", NULL, &j), 400);
	assert_non_null(strstr(sget(j, "error"), "'python:3.99' is not supported"));
	cJSON_Delete(j);
	/* the kind nodejs:default resolves to is the one the node runs */
	put_ok("kver", "nodejs:default", "function main() { return {v: process.version}; }", NULL);
	assert_int_equal(api("GET", "/actions/kver", NULL, &j), 200);
	const char *kind = sget(get(j, "exec"), "kind");
	assert_non_null(kind);
	assert_true(!strncmp(kind, "nodejs:", 7));
	char want[32];
	snprintf(want, sizeof(want), "v%s.", kind + 7);
	cJSON_Delete(j);
	j = invoke_result("kver", NULL, 200);
	assert_true(!strncmp(sget(j, "v"), want, strlen(want)));
	cJSON_Delete(j);
	/* python:3.<minor> of the host: stored as given, run by that version */
	if (access("/usr/bin/python3.11", X_OK) == 0) {
		put_ok("kpy", "python:3.11",
		       "import sys\ndef main(a):\n  return {'v': '%d.%d' % sys.version_info[:2]}\n",
		       NULL);
		assert_int_equal(api("GET", "/actions/kpy", NULL, &j), 200);
		assert_string_equal(sget(get(j, "exec"), "kind"), "python:3.11");
		cJSON_Delete(j);
		j = invoke_result("kpy", NULL, 200);
		assert_string_equal(sget(j, "v"), "3.11");
		cJSON_Delete(j);
	}
}

/* ---- binary code without exec.binary ---- */

static char *b64_file(const char *path)
{
	char cmd[600], *out = malloc(1 << 20);
	snprintf(cmd, sizeof(cmd), "base64 -w0 %s", path);
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	size_t n = fread(out, 1, (1 << 20) - 1, f);
	out[n] = '\0';
	assert_int_equal(pclose(f), 0);
	return out;
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_zip_without_binary_flag(void **state)
{
	char dir[300], cmd[800], zip[320];
	snprintf(dir, sizeof(dir), "%s/pkg", tmpdir);
	assert_int_equal(mkdir(dir, 0700), 0);
	write_file(dir, "package.json", "{\"name\":\"p\",\"main\":\"lib.js\"}");
	write_file(dir, "lib.js",
		   "const h = require('./helper');\nexports.main = (a) => ({msg: h(a.who)});\n");
	write_file(dir, "helper.js", "module.exports = (w) => 'zip says hi to ' + w;\n");
	snprintf(zip, sizeof(zip), "%s/pkg.zip", tmpdir);
	snprintf(cmd, sizeof(cmd), "cd %s && zip -q -r %s . >/dev/null", dir, zip);
	assert_int_equal(system(cmd), 0);
	char *code = b64_file(zip);
	/* what the openwhisk npm client sends for a Buffer: no "binary" */
	put_ok("zipped", "nodejs:default", code, NULL);
	cJSON *j;
	assert_int_equal(api("GET", "/actions/zipped?code=false", NULL, &j), 200);
	assert_true(cJSON_IsTrue(get(get(j, "exec"), "binary")));
	cJSON_Delete(j);
	j = invoke_result("zipped", "{\"who\":\"you\"}", 200);
	assert_string_equal(sget(j, "msg"), "zip says hi to you");
	cJSON_Delete(j);
	free(code);
	/* plain source stays text */
	put_ok("plain", "nodejs:default", "function main() { return {ok: true}; }", NULL);
	assert_int_equal(api("GET", "/actions/plain?code=false", NULL, &j), 200);
	assert_true(cJSON_IsFalse(get(get(j, "exec"), "binary")));
	cJSON_Delete(j);
}

/* ---- a nodejs main that returns nothing ---- */

static void test_node_undefined_is_empty_object(void **state)
{
	put_ok("undef", "nodejs:default", "function main(a) { if (a.n) return; }", NULL);
	cJSON *j = invoke_result("undef", NULL, 200);
	assert_true(cJSON_IsObject(j));
	assert_int_equal(cJSON_GetArraySize(j), 0);
	cJSON_Delete(j);
	j = invoke_result("undef", "{\"n\":1}", 200);
	assert_int_equal(cJSON_GetArraySize(j), 0);
	cJSON_Delete(j);
	put_ok("undefasync", "nodejs:default", "async function main() { await null; }", NULL);
	j = invoke_result("undefasync", NULL, 200);
	assert_true(cJSON_IsObject(j));
	assert_int_equal(cJSON_GetArraySize(j), 0);
	cJSON_Delete(j);
	/* null is still not a dictionary (OpenWhisk's runner checks undefined only) */
	put_ok("nul", "nodejs:default", "function main() { return null; }", NULL);
	j = invoke_result("nul", NULL, 502);
	assert_non_null(strstr(sget(j, "error"), "did not return a dictionary"));
	cJSON_Delete(j);
}

/* ---- ?timeout= ---- */

static void test_timeout_parameter(void **state)
{
	cJSON *j;
	put_ok("slowish", "nodejs:default",
	       "function main() { return new Promise((r) => setTimeout(() => r({done: 1}), "
	       "1500)); }",
	       NULL);
	const char *bad[] = {"0", "20001", "-5", "abc", ""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char path[128];
		snprintf(path, sizeof(path), "/actions/slowish?blocking=true&timeout=%s", bad[i]);
		assert_int_equal(api("POST", path, "{}", &j), 400);
		/* the longest wait is this controller's --blocking-wait (20s) */
		assert_string_equal(sget(j, "error"),
				    "The query parameter 'timeout' was malformed:\nTimeout must "
				    "be number of milliseconds up to 20000.");
		cJSON_Delete(j);
	}
	/* in range: waits that long, then 202 with the id */
	assert_int_equal(api("POST", "/actions/slowish?blocking=true&timeout=300", "{}", &j), 202);
	assert_non_null(sget(j, "activationId"));
	cJSON_Delete(j);
	assert_int_equal(api("POST", "/actions/slowish?blocking=true&timeout=20000", "{}", &j),
			 200);
	cJSON_Delete(j);
	assert_int_equal(api("POST", "/actions/slowish?blocking=maybe", "{}", &j), 400);
	assert_non_null(strstr(sget(j, "error"), "The query parameter 'blocking' was malformed"));
	cJSON_Delete(j);
}

/* ---- docs=true lists with logs ---- */

static void test_list_docs_with_logs(void **state)
{
	put_ok("talker", "nodejs:default",
	       "function main(a) { console.log('hello ' + a.n); console.error('oops ' + a.n); "
	       "return {n: a.n}; }",
	       NULL);
	char ids[2][64];
	for (int i = 0; i < 2; i++) {
		char body[32], path[64];
		cJSON *j;
		snprintf(body, sizeof(body), "{\"n\":%d}", i);
		snprintf(path, sizeof(path), "/actions/talker?blocking=true");
		assert_int_equal(api("POST", path, body, &j), 200);
		snprintf(ids[i], sizeof(ids[i]), "%s", sget(j, "activationId"));
		cJSON_Delete(j);
	}
	/* the agent writes the logs just after the reply */
	cJSON *list = NULL;
	int found = 0;
	for (int tries = 0; tries < 60 && found < 2; tries++) {
		cJSON_Delete(list);
		sleep_ms(100);
		assert_int_equal(api("GET", "/activations?name=talker&docs=true", NULL, &list),
				 200);
		found = 0;
		const cJSON *rec;
		cJSON_ArrayForEach(rec, list)
		{
			const cJSON *logs = get(rec, "logs");
			for (int i = 0; i < 2; i++) {
				if (strcmp(sget(rec, "activationId"), ids[i]) != 0)
					continue;
				char hello[32], oops[32];
				snprintf(hello, sizeof(hello), "stdout: hello %d", i);
				snprintf(oops, sizeof(oops), "stderr: oops %d", i);
				int h = 0, o = 0;
				const cJSON *l;
				cJSON_ArrayForEach(l, logs)
				{
					h |= strstr(l->valuestring, hello) != NULL;
					o |= strstr(l->valuestring, oops) != NULL;
				}
				found += h && o && cJSON_GetArraySize(logs) == 2;
			}
		}
	}
	assert_int_equal(found, 2);
	/* full records: the response is there too */
	assert_non_null(get(get(cJSON_GetArrayItem(list, 0), "response"), "result"));
	cJSON_Delete(list);
	/* without docs: summaries, no logs */
	assert_int_equal(api("GET", "/activations?name=talker", NULL, &list), 200);
	assert_null(get(cJSON_GetArrayItem(list, 0), "logs"));
	cJSON_Delete(list);
}

/* ---- require('openwhisk') inside an action ---- */

static void test_openwhisk_module_in_action(void **state)
{
	put_ok("owtarget", "nodejs:default", "function main(a) { return {twice: a.x * 2}; }", NULL);
	put_ok(
	    "owcaller", "nodejs:default",
	    "const openwhisk = require('openwhisk');\n"
	    "async function main(a) {\n"
	    "  const ow = openwhisk();\n"
	    "  const list = await ow.actions.list();\n"
	    "  const r = await ow.actions.invoke({name: 'owtarget', blocking: true, result: true,"
	    " params: {x: a.x}});\n"
	    "  return {names: list.map((x) => x.name), r: r, host: process.env.__OW_API_HOST};\n"
	    "}\n",
	    "\"annotations\":[{\"key\":\"provide-api-key\",\"value\":true}]");
	cJSON *j = invoke_result("owcaller", "{\"x\":21}", 200);
	assert_int_equal(get(get(j, "r"), "twice")->valueint, 42);
	int seen = 0;
	const cJSON *n;
	cJSON_ArrayForEach(n, get(j, "names")) seen |= !strcmp(n->valuestring, "owtarget");
	assert_true(seen);
	assert_string_equal(sget(j, "host"), ctl_url[0]);
	cJSON_Delete(j);
	/* without the key the client has nothing to authenticate with */
	put_ok("owcaller", "nodejs:default",
	       "const openwhisk = require('openwhisk');\n"
	       "function main() { try { openwhisk(); return {made: true}; }"
	       " catch (e) { return {err: String(e)}; } }\n",
	       "\"annotations\":[{\"key\":\"provide-api-key\",\"value\":false}]");
	j = invoke_result("owcaller", NULL, 200);
	assert_non_null(strstr(sget(j, "err"), "api_key"));
	cJSON_Delete(j);
}

/* ---- invocations per minute, across controllers ---- */

/* Far enough from a minute's end that a test's counts share one window
 * (OpenWhisk counts per wall-clock minute). */
static void wait_minute_start(int need_s)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int left = 60 - (int)(ts.tv_sec % 60);
	if (left < need_s)
		sleep_ms(left * 1000L + 200);
}

static long invoke_as(const struct ns *n, int c, const char *name, cJSON **j)
{
	char path[128];
	snprintf(path, sizeof(path), "/actions/%s?blocking=true", name);
	return api_as(n, c, "POST", path, "{}", j);
}

static void test_invocations_per_minute_shared(void **state)
{
	cJSON *j;
	assert_int_equal(
	    put_as(&lim1, "noop", "nodejs:default", "function main() { return {}; }", NULL, &j),
	    200);
	cJSON_Delete(j);
	wait_minute_start(25);
	redis_cmd("HSET " PR_KEY_NS_LIMITS " invocationsPerMinute 5", "lim1");
	for (int i = 0; i < 3; i++) {
		assert_int_equal(invoke_as(&lim1, 0, "noop", &j), 200);
		cJSON_Delete(j);
	}
	sleep_ms(1600); /* controller 0 has added its 3 to the shared count */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(invoke_as(&lim1, 1, "noop", &j), 200);
		cJSON_Delete(j);
	}
	assert_int_equal(invoke_as(&lim1, 1, "noop", &j), 429);
	assert_string_equal(sget(j, "error"),
			    "Too many requests in the last minute (count: 6, allowed: 5).");
	cJSON_Delete(j);
	/* a refused invoke is charged too, and controller 0 learns of the rest
	 * (a second for controller 1 to add them, one for 0 to read them) */
	sleep_ms(2400);
	assert_int_equal(invoke_as(&lim1, 0, "noop", &j), 429);
	assert_string_equal(sget(j, "error"),
			    "Too many requests in the last minute (count: 7, allowed: 5).");
	cJSON_Delete(j);
	/* nothing ran for the refused ones: no activation records */
	assert_int_equal(api_as(&lim1, 0, "GET", "/activations?count=true", NULL, &j), 200);
	assert_int_equal(get(j, "activations")->valueint, 5);
	cJSON_Delete(j);
	/* other namespaces are not throttled by lim1's limit */
	assert_int_equal(invoke_as(&guest, 1, "plain", &j), 200);
	cJSON_Delete(j);
	redis_cmd("DEL " PR_KEY_NS_LIMITS, "lim1");
}

/* ---- concurrent invocations, across controllers ---- */

struct bg {
	const struct ns *n;
	int c;
	const char *name;
	long status;
};

static void *bg_invoke(void *arg)
{
	struct bg *b = arg;
	b->status = invoke_as(b->n, b->c, b->name, NULL);
	return NULL;
}

static void test_concurrent_invocations_shared(void **state)
{
	cJSON *j;
	assert_int_equal(put_as(&lim2, "slow", "nodejs:default",
				"function main() { return new Promise((r) => setTimeout(() => "
				"r({}), 3000)); }",
				NULL, &j),
			 200);
	cJSON_Delete(j);
	wait_minute_start(20);
	redis_cmd("HSET " PR_KEY_NS_LIMITS " concurrentInvocations 1", "lim2");
	struct bg b = {&lim2, 0, "slow", 0};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, bg_invoke, &b), 0);
	sleep_ms(400);
	/* the same controller: its own count is exact */
	assert_int_equal(invoke_as(&lim2, 0, "slow", &j), 429);
	assert_string_equal(sget(j, "error"),
			    "Too many concurrent requests in flight (count: 1, allowed: 1).");
	cJSON_Delete(j);
	/* the other controller sees it within a second (controller 0 reports
	 * its count once a second; 1 reads it at its first check) */
	sleep_ms(1500);
	assert_int_equal(invoke_as(&lim2, 1, "slow", &j), 429);
	assert_string_equal(sget(j, "error"),
			    "Too many concurrent requests in flight (count: 1, allowed: 1).");
	cJSON_Delete(j);
	pthread_join(t, NULL);
	assert_int_equal(b.status, 200);
	/* once it ended (0 reports it, 1 reads it: two seconds), either
	 * controller admits again */
	sleep_ms(2600);
	redis_cmd("HSET " PR_KEY_NS_LIMITS " concurrentInvocations 1 invocationsPerMinute 1000",
		  "lim2");
	assert_int_equal(
	    put_as(&lim2, "quick", "nodejs:default", "function main() { return {}; }", NULL, &j),
	    200);
	cJSON_Delete(j);
	assert_int_equal(invoke_as(&lim2, 1, "quick", &j), 200);
	cJSON_Delete(j);
	assert_int_equal(invoke_as(&lim2, 0, "quick", &j), 200);
	cJSON_Delete(j);
	redis_cmd("DEL " PR_KEY_NS_LIMITS, "lim2");
}

/* ---- storage quotas ---- */

static void test_action_and_code_quotas(void **state)
{
	cJSON *j;
	const char *code = "function main() { return {}; }"; /* 30 bytes */
	/* a namespace with actions from before the quotas is counted at its
	 * first PUT */
	assert_int_equal(put_as(&quota1, "a", "nodejs:default", code, NULL, &j), 200);
	cJSON_Delete(j);
	redis_cmd("DEL " PR_KEY_NS_USAGE, "quota1");
	redis_cmd("HSET " PR_KEY_NS_LIMITS " maxActions 2 maxCodeBytes 70", "quota1");
	assert_int_equal(put_as(&quota1, "b", "nodejs:default", code, NULL, &j), 200);
	cJSON_Delete(j);
	assert_int_equal(put_as(&quota1, "c", "nodejs:default", code, NULL, &j), 403);
	assert_string_equal(sget(j, "error"),
			    "The namespace 'quota1' may hold at most 2 actions (its quota); "
			    "delete one first, or ask the operator to raise the quota (hearth "
			    "admin limits quota1 --actions N).");
	cJSON_Delete(j);
	assert_int_equal(api_as(&quota1, 0, "GET", "/actions/c", NULL, NULL), 404);
	/* updating one it holds is no new action; growing its code past 70 is refused */
	assert_int_equal(put_as(&quota1, "a", "nodejs:default",
				"function main() { return {grown: 'xxxxxxxxxxxxxxxxxx'}; }", NULL,
				&j),
			 403);
	assert_non_null(strstr(sget(j, "error"),
			       "The code of the namespace 'quota1' would take 87 bytes, over its "
			       "quota of 70 bytes"));
	cJSON_Delete(j);
	assert_int_equal(put_as(&quota1, "a", "nodejs:default", "function main() {}", NULL, &j),
			 200);
	cJSON_Delete(j);
	/* a deletion frees a place */
	assert_int_equal(api_as(&quota1, 0, "DELETE", "/actions/b", NULL, NULL), 200);
	assert_int_equal(put_as(&quota1, "c", "nodejs:default", code, NULL, &j), 200);
	cJSON_Delete(j);
	/* the usage follows the writes (just after their replies) */
	char actions[16] = "", code_bytes[16] = "";
	for (int tries = 0; tries < 50; tries++) {
		redisReply *r =
		    redisCommand(rc, "HMGET " PR_KEY_NS_USAGE " actions code", "quota1");
		assert_non_null(r);
		snprintf(actions, sizeof(actions), "%s",
			 r->element[0]->str ? r->element[0]->str : "");
		snprintf(code_bytes, sizeof(code_bytes), "%s",
			 r->element[1]->str ? r->element[1]->str : "");
		freeReplyObject(r);
		if (!strcmp(actions, "2") && !strcmp(code_bytes, "48"))
			break;
		sleep_ms(20);
	}
	assert_string_equal(actions, "2");
	assert_string_equal(code_bytes, "48"); /* 18 + 30 */
	redis_cmd("DEL " PR_KEY_NS_LIMITS, "quota1");
}

static void test_log_quota(void **state)
{
	cJSON *j;
	/* each line is "<time> stdout: <text>", about 60 bytes */
	assert_int_equal(put_as(&quota2, "chatty", "nodejs:default",
				"function main() { for (let i = 0; i < 20; i++) "
				"console.log('line ' + i + ' xxxxxxxxxx'); return {}; }",
				NULL, &j),
			 200);
	cJSON_Delete(j);
	redis_cmd("HSET " PR_KEY_NS_LIMITS " maxLogBytesPerDay 300", "quota2");
	char id[64], path[128];
	assert_int_equal(invoke_as(&quota2, 0, "chatty", &j), 200);
	snprintf(id, sizeof(id), "%s", sget(j, "activationId"));
	cJSON_Delete(j);
	snprintf(path, sizeof(path), "/activations/%s/logs", id);
	const cJSON *logs = NULL;
	for (int tries = 0; tries < 50; tries++) {
		sleep_ms(100);
		j = NULL;
		assert_int_equal(api_as(&quota2, 0, "GET", path, NULL, &j), 200);
		logs = get(j, "logs");
		if (cJSON_GetArraySize(logs) > 0)
			break;
		cJSON_Delete(j);
		j = NULL;
	}
	assert_non_null(j);
	int n = cJSON_GetArraySize(logs);
	/* a few lines, then the note, well short of 20 */
	assert_true(n >= 2 && n <= 6);
	assert_non_null(strstr(cJSON_GetArrayItem(logs, 0)->valuestring, "stdout: line 0 "));
	assert_non_null(strstr(cJSON_GetArrayItem(logs, n - 1)->valuestring,
			       "Logs were truncated because the namespace 'quota2' has stored its "
			       "quota of 300 log bytes for today"));
	cJSON_Delete(j);
	/* the quota is spent: the next activation stores only the note */
	assert_int_equal(invoke_as(&quota2, 0, "chatty", &j), 200);
	snprintf(id, sizeof(id), "%s", sget(j, "activationId"));
	cJSON_Delete(j);
	snprintf(path, sizeof(path), "/activations/%s/logs", id);
	for (int tries = 0; tries < 50; tries++) {
		sleep_ms(100);
		assert_int_equal(api_as(&quota2, 0, "GET", path, NULL, &j), 200);
		n = cJSON_GetArraySize(get(j, "logs"));
		if (n > 0)
			break;
		cJSON_Delete(j);
	}
	assert_int_equal(n, 1);
	assert_non_null(
	    strstr(cJSON_GetArrayItem(get(j, "logs"), 0)->valuestring, "Logs were truncated"));
	cJSON_Delete(j);
	/* other namespaces keep theirs */
	redis_cmd("DEL " PR_KEY_NS_LIMITS, "quota2");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_info_ping_limits),
	    cmocka_unit_test(test_kinds),
	    cmocka_unit_test(test_zip_without_binary_flag),
	    cmocka_unit_test(test_node_undefined_is_empty_object),
	    cmocka_unit_test(test_timeout_parameter),
	    cmocka_unit_test(test_list_docs_with_logs),
	    cmocka_unit_test(test_openwhisk_module_in_action),
	    cmocka_unit_test(test_invocations_per_minute_shared),
	    cmocka_unit_test(test_concurrent_invocations_shared),
	    cmocka_unit_test(test_action_and_code_quotas),
	    cmocka_unit_test(test_log_quota),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
