/* it_packages.c — OpenWhisk's packages end to end with real processes:
 * Redis, a scheduler, an agent (runc backend when th_have_runc(), else
 * the process backend; HEARTH_IT_PROCESS=1 forces it) and two
 * controllers, with three namespaces: guest, alice and whisk.system.
 *
 * Covers: package CRUD (the reserved name, overwrite, upPatch, publish,
 * the binding annotation set by the controller, lists with limit/count),
 * actions in packages (PUT/GET/DELETE/invoke, the package's list, the
 * namespace's list holding them, the ambiguous GET without the slash, 404
 * without the package), GET of a package with its actions and feeds,
 * delete of a non-empty package (409, then force), bindings with OpenWhisk's
 * errors and parameter inheritance package < binding < action < invoke
 * (an action that echoes its parameters), the record's path and binding
 * annotations and the activation list by pkg/action, a published package
 * read and invoked from another namespace (and a binding to it there), a
 * private one refused (403), whisk.system's packages readable by all,
 * unpublishing seen by the other controller at once, bindings with
 * different init parameters never sharing a container, sequences of
 * packaged and shared components, nested sequences and the limit of 50
 * atomic actions, a cycle and a missing component refused at PUT, a
 * conductor running two components (and its errors and budget), warm
 * invokes of packaged actions costing Redis no read of an entity, and the
 * CLI's package commands and action get --url. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "common/redis.h"
#include "proto/auth.h"
#include "tests/lib/harness.h"

#define TOKEN "it-token"

enum { GUEST, ALICE, SYSTEM, NCRED };

static struct th_redis R;
static pid_t agent_pid, sched_pid, ctl_pid[2];
static char agent_url[64], sched_url[64], ctl_url[2][64];
static char cred[NCRED][PR_AUTH_CRED_LEN + 1];
static char auth_hdr[NCRED][256];
static const char *const tok_hdrs[] = {"Authorization: Bearer " TOKEN, NULL};

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

static int setup(void **state)
{
	struct hc_redis_opts ro;
	struct hc_err err;
	char port[16];
	if (th_redis_start(&R) < 0)
		return -1;
	assert_int_equal(hc_redis_parse_url(R.url, &ro, &err), 0);
	redisContext *rc = hc_redis_sync_connect(&ro, &err);
	assert_non_null(rc);
	/* three namespaces: guest and whisk.system with OpenWhisk's keys, the
	 * system one made as an operator would (hearth admin key create) */
	assert_int_equal(pr_auth_key_create(rc, "guest", PR_AUTH_GUEST, cred[GUEST], &err), 0);
	assert_int_equal(pr_auth_key_create(rc, "alice", NULL, cred[ALICE], &err), 0);
	assert_int_equal(pr_auth_key_create(rc, "whisk.system", PR_AUTH_SYSTEM, cred[SYSTEM], &err),
			 0);
	redisFree(rc);
	for (int i = 0; i < NCRED; i++) {
		char b64[200];
		pr_base64_encode(cred[i], strlen(cred[i]), b64, sizeof(b64));
		snprintf(auth_hdr[i], sizeof(auth_hdr[i]), "Authorization: Basic %s", b64);
	}
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
	agent_pid = start(aargv, p, agent_url);
	p = th_free_port();
	snprintf(port, sizeof(port), "%d", p);
	char *sargv[] = {"hearth-scheduler", "--port", port, "--redis", R.url,
			 "--token",	     TOKEN,    NULL};
	sched_pid = start(sargv, p, sched_url);
	for (int i = 0; i < 2; i++) {
		p = th_free_port();
		snprintf(port, sizeof(port), "%d", p);
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
				 "200ms",
				 NULL};
		ctl_pid[i] = start(cargv, p, ctl_url[i]);
	}
	sleep_ms(500); /* the scheduler wins its lease, the controllers learn it */
	return 0;
}

static int teardown(void **state)
{
	int st0 = th_stop(ctl_pid[0], SIGTERM, 5000);
	int st1 = th_stop(ctl_pid[1], SIGTERM, 5000);
	th_stop_all();
	th_redis_stop(&R);
	assert_int_equal(st0, 0);
	assert_int_equal(st1, 0);
	return 0;
}

/* A REST call as who, to controller c: path after /api/v1/namespaces/. */
static long call(int who, int c, const char *method, const char *path, const char *body,
		 cJSON **json)
{
	char url[1024], *out = NULL;
	const char *hdrs[] = {auth_hdr[who], "Content-Type: application/json", NULL};
	snprintf(url, sizeof(url), "%s/api/v1/namespaces/%s", ctl_url[c], path);
	long st = th_http(method, url, hdrs, body, body ? strlen(body) : 0, &out);
	if (json)
		*json = out ? cJSON_Parse(out) : NULL;
	free(out);
	return st;
}

/* The same as guest on controller 0. */
static long api(const char *method, const char *path, const char *body, cJSON **json)
{
	return call(GUEST, 0, method, path, body, json);
}

static const cJSON *get(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

static const char *sget(const cJSON *o, const char *k)
{
	const cJSON *v = get(o, k);
	return cJSON_IsString(v) ? v->valuestring : "";
}

/* The value of key in a {key,value} array. */
static const cJSON *kv(const cJSON *arr, const char *key)
{
	const cJSON *e;
	cJSON_ArrayForEach(e, arr)
	{
		if (!strcmp(sget(e, "key"), key))
			return get(e, "value");
	}
	return NULL;
}

/* status and error message of a call whose reply is not kept */
static void expect(int who, const char *method, const char *path, const char *body, long status,
		   const char *error)
{
	cJSON *j = NULL;
	long st = call(who, 0, method, path, body, &j);
	if (st != status || (error && strcmp(sget(j, "error"), error) != 0)) {
		char *t = j ? cJSON_PrintUnformatted(j) : NULL;
		fprintf(stderr, "%s %s: %ld %s (wanted %ld %s)\n", method, path, st, t ? t : "",
			status, error ? error : "");
		free(t);
	}
	assert_int_equal(st, status);
	if (error)
		assert_string_equal(sget(j, "error"), error);
	cJSON_Delete(j);
}

/* PUT an action (ns_path: "_/actions/name" style, after namespaces/). */
static void put_action(int who, const char *path, const char *code, const char *extra)
{
	char url[512], *body = malloc(strlen(code) * 2 + 1024);
	cJSON *c = cJSON_CreateString(code);
	char *cs = cJSON_PrintUnformatted(c);
	sprintf(body, "{\"exec\":{\"kind\":\"nodejs:20\",\"code\":%s}%s%s}", cs, extra ? "," : "",
		extra ? extra : "");
	snprintf(url, sizeof(url), "%s?overwrite=true", path);
	expect(who, "PUT", url, body, 200, NULL);
	cJSON_Delete(c);
	free(cs);
	free(body);
}

static void put_json(int who, const char *path, const char *body)
{
	expect(who, "PUT", path, body, 200, NULL);
}

/* A blocking invoke's result (result=true), expecting status. */
static cJSON *invoke(int who, int c, const char *path, const char *body, long status)
{
	char url[512];
	cJSON *j = NULL;
	snprintf(url, sizeof(url), "%s?blocking=true&result=true", path);
	long st = call(who, c, "POST", url, body, &j);
	if (st != status) {
		char *t = j ? cJSON_PrintUnformatted(j) : NULL;
		fprintf(stderr, "POST %s: %ld %s\n", path, st, t ? t : "");
		free(t);
	}
	assert_int_equal(st, status);
	return j;
}

/* A blocking invoke's whole record. */
static cJSON *invoke_record(int who, const char *path, const char *body, long status)
{
	char url[512];
	cJSON *j = NULL;
	snprintf(url, sizeof(url), "%s?blocking=true", path);
	long st = call(who, 0, "POST", url, body, &j);
	if (st != status) {
		char *t = j ? cJSON_PrintUnformatted(j) : NULL;
		fprintf(stderr, "POST %s: %ld %s\n", path, st, t ? t : "");
		free(t);
	}
	assert_int_equal(st, status);
	return j;
}

/* GET a record (written behind: retried for a moment). */
static cJSON *record(int who, const char *id)
{
	char path[128];
	cJSON *j = NULL;
	snprintf(path, sizeof(path), "_/activations/%s", id);
	for (int i = 0; i < 100; i++) {
		if (call(who, 0, "GET", path, NULL, &j) == 200)
			return j;
		cJSON_Delete(j);
		j = NULL;
		sleep_ms(20);
	}
	fail_msg("no record %s", id);
	return NULL;
}

static int has_name(const cJSON *list, const char *ns, const char *name)
{
	const cJSON *e;
	cJSON_ArrayForEach(e, list)
	{
		if (!strcmp(sget(e, "name"), name) && !strcmp(sget(e, "namespace"), ns))
			return 1;
	}
	return 0;
}

#define ECHO "function main(p){return p}"
#define INC  "function main(p){return {n: (p.n || 0) + 1}}"

/* ---- packages ---- */

static void test_package_crud(void **state)
{
	cJSON *j;
	expect(GUEST, "PUT", "_/packages/default", "{}", 400,
	       "Package name 'default' is reserved.");
	assert_int_equal(api("PUT", "_/packages/p1",
			     "{\"parameters\":[{\"key\":\"a\",\"value\":1}],"
			     "\"annotations\":[{\"key\":\"binding\",\"value\":\"mine\"},"
			     "{\"key\":\"k\",\"value\":\"v\"}]}",
			     &j),
			 200);
	assert_string_equal(sget(j, "namespace"), "guest");
	assert_string_equal(sget(j, "name"), "p1");
	assert_string_equal(sget(j, "version"), "0.0.1");
	assert_true(cJSON_IsFalse(get(j, "publish")));
	assert_true(cJSON_IsObject(get(j, "binding")) && !get(j, "binding")->child);
	assert_null(kv(get(j, "annotations"), "binding")); /* the controller's to set */
	assert_string_equal(kv(get(j, "annotations"), "k")->valuestring, "v");
	assert_null(get(j, "rev"));
	cJSON_Delete(j);
	expect(GUEST, "PUT", "_/packages/p1", "{}", 409, "resource already exists");
	assert_int_equal(api("PUT", "_/packages/p1?overwrite=true", "{\"publish\":true}", &j), 200);
	assert_string_equal(sget(j, "version"), "0.0.2");
	assert_true(cJSON_IsTrue(get(j, "publish")));
	assert_int_equal(kv(get(j, "parameters"), "a")->valueint, 1); /* kept */
	cJSON_Delete(j);
	assert_int_equal(api("GET", "_/packages/p1", NULL, &j), 200);
	assert_int_equal(cJSON_GetArraySize(get(j, "actions")), 0);
	assert_int_equal(cJSON_GetArraySize(get(j, "feeds")), 0);
	cJSON_Delete(j);
	expect(GUEST, "GET", "_/packages/nope", NULL, 404,
	       "The requested resource does not exist.");
	/* the list: summaries, binding false for a package */
	put_json(GUEST, "_/packages/p2", "{}");
	assert_int_equal(api("GET", "_/packages", NULL, &j), 200);
	assert_true(has_name(j, "guest", "p1") && has_name(j, "guest", "p2"));
	const cJSON *e;
	cJSON_ArrayForEach(e, j)
	{
		assert_true(cJSON_IsFalse(get(e, "binding")));
		assert_null(get(e, "parameters"));
	}
	cJSON_Delete(j);
	assert_int_equal(api("GET", "_/packages?limit=1", NULL, &j), 200);
	assert_int_equal(cJSON_GetArraySize(j), 1);
	cJSON_Delete(j);
	assert_int_equal(api("GET", "_/packages?count=true", NULL, &j), 200);
	assert_true(get(j, "packages")->valueint >= 2);
	cJSON_Delete(j);
	expect(GUEST, "GET", "_/packages?limit=201", NULL, 400,
	       "The value '201' is not in the range of 0 to 200 for packages.");
	expect(GUEST, "GET", "_/packages?skip=-1", NULL, 400,
	       "The value '-1' is not greater than or equal to 0 for packages.");
	/* another namespace's: 403, naming it */
	expect(ALICE, "PUT", "guest/packages/p3", "{}", 403,
	       "The supplied authentication is not authorized to access 'guest/p3'.");
	expect(ALICE, "DELETE", "guest/packages/p1", NULL, 403,
	       "The supplied authentication is not authorized to access 'guest/p1'.");
	assert_int_equal(api("DELETE", "_/packages/p2", NULL, &j), 200);
	assert_string_equal(sget(j, "name"), "p2");
	cJSON_Delete(j);
	expect(GUEST, "DELETE", "_/packages/p2", NULL, 404, NULL);
}

static void test_package_actions(void **state)
{
	cJSON *j;
	put_json(GUEST, "_/packages/tools?overwrite=true",
		 "{\"parameters\":[{\"key\":\"pkg\",\"value\":\"P\"}]}");
	put_action(GUEST, "_/actions/tools/echo", ECHO, NULL);
	put_action(GUEST, "_/actions/tools/feedy", ECHO,
		   "\"annotations\":[{\"key\":\"feed\",\"value\":true}]");
	put_action(GUEST, "_/actions/plain", ECHO, NULL);
	expect(GUEST, "PUT", "_/actions/nopkg/x",
	       "{\"exec\":{\"kind\":\"nodejs:20\",\"code\":\"function main(){}\"}}", 404,
	       "The requested resource does not exist.");
	/* the action's namespace is the package's path */
	assert_int_equal(api("GET", "_/actions/tools/echo?code=false", NULL, &j), 200);
	assert_string_equal(sget(j, "namespace"), "guest/tools");
	assert_string_equal(sget(j, "name"), "echo");
	assert_string_equal(kv(get(j, "parameters"), "pkg")->valuestring, "P"); /* inherited */
	cJSON_Delete(j);
	/* the package's list, and the namespace's holding it too */
	assert_int_equal(api("GET", "_/actions/tools/", NULL, &j), 200);
	assert_int_equal(cJSON_GetArraySize(j), 2);
	assert_true(has_name(j, "guest/tools", "echo"));
	cJSON_Delete(j);
	assert_int_equal(api("GET", "_/actions", NULL, &j), 200);
	assert_true(has_name(j, "guest/tools", "echo") && has_name(j, "guest", "plain"));
	cJSON_Delete(j);
	/* without the slash it asks for an action named like the package */
	expect(GUEST, "GET", "_/actions/tools", NULL, 409,
	       "Resource by this name exists but is not in this collection.");
	expect(GUEST, "GET", "_/actions/nopkg/", NULL, 404, NULL);
	/* GET of the package: actions and feeds */
	assert_int_equal(api("GET", "_/packages/tools", NULL, &j), 200);
	assert_int_equal(cJSON_GetArraySize(get(j, "actions")), 1);
	assert_string_equal(sget(cJSON_GetArrayItem(get(j, "actions"), 0), "name"), "echo");
	assert_int_equal(cJSON_GetArraySize(get(j, "feeds")), 1);
	assert_string_equal(sget(cJSON_GetArrayItem(get(j, "feeds"), 0), "name"), "feedy");
	cJSON_Delete(j);
	/* invoke: the package's parameter under the body */
	j = invoke(GUEST, 0, "_/actions/tools/echo", "{\"x\":1}", 200);
	assert_string_equal(sget(j, "pkg"), "P");
	assert_int_equal(get(j, "x")->valueint, 1);
	cJSON_Delete(j);
	j = invoke_record(GUEST, "_/actions/tools/echo", "{}", 200);
	char id[64];
	snprintf(id, sizeof(id), "%s", sget(j, "activationId"));
	assert_string_equal(sget(j, "namespace"), "guest");
	assert_string_equal(sget(j, "name"), "echo");
	assert_string_equal(kv(get(j, "annotations"), "path")->valuestring, "guest/tools/echo");
	assert_null(kv(get(j, "annotations"), "binding"));
	cJSON_Delete(j);
	cJSON_Delete(record(GUEST, id));
	/* the activation list by pkg/action, not by the bare name */
	int found = 0;
	for (int i = 0; i < 50 && !found; i++) {
		assert_int_equal(api("GET", "_/activations?name=tools/echo", NULL, &j), 200);
		const cJSON *e;
		cJSON_ArrayForEach(e, j) found |= !strcmp(sget(e, "activationId"), id);
		cJSON_Delete(j);
		if (!found)
			sleep_ms(20);
	}
	assert_true(found);
	assert_int_equal(api("GET", "_/activations?name=echo", NULL, &j), 200);
	assert_int_equal(cJSON_GetArraySize(j), 0);
	cJSON_Delete(j);
	/* delete: one action, then the package only by force */
	assert_int_equal(api("DELETE", "_/actions/tools/feedy", NULL, &j), 200);
	assert_string_equal(sget(j, "namespace"), "guest/tools");
	cJSON_Delete(j);
	expect(GUEST, "DELETE", "_/actions/tools/feedy", NULL, 404, NULL);
	put_action(GUEST, "_/actions/tools/other", ECHO, NULL);
	expect(GUEST, "DELETE", "_/packages/tools", NULL, 409,
	       "Package not empty (contains 2 entities). Set force param or delete package "
	       "contents.");
	assert_int_equal(api("DELETE", "_/packages/tools?force=true", NULL, &j), 200);
	assert_string_equal(sget(j, "name"), "tools");
	cJSON_Delete(j);
	expect(GUEST, "GET", "_/actions/tools/echo", NULL, 404, NULL);
	expect(GUEST, "POST", "_/actions/tools/echo?blocking=true", "{}", 404, NULL);
	assert_int_equal(api("GET", "_/actions", NULL, &j), 200);
	assert_false(has_name(j, "guest/tools", "echo") || has_name(j, "guest/tools", "other"));
	assert_true(has_name(j, "guest", "plain"));
	cJSON_Delete(j);
	/* a package made again is empty */
	put_json(GUEST, "_/packages/tools", "{}");
	assert_int_equal(api("GET", "_/actions/tools/", NULL, &j), 200);
	assert_int_equal(cJSON_GetArraySize(j), 0);
	cJSON_Delete(j);
}

static void test_bindings(void **state)
{
	cJSON *j;
	put_json(GUEST, "_/packages/base?overwrite=true",
		 "{\"parameters\":[{\"key\":\"pkg\",\"value\":\"P\"},{\"key\":\"who\",\"value\":"
		 "\"pkg\"},{\"key\":\"bw\",\"value\":\"pkg\"}]}");
	put_action(GUEST, "_/actions/base/echo", ECHO,
		   "\"parameters\":[{\"key\":\"act\",\"value\":\"A\"},{\"key\":\"who\",\"value\":"
		   "\"act\"}]");
	assert_int_equal(api("PUT", "_/packages/b1",
			     "{\"binding\":{\"namespace\":\"_\",\"name\":\"base\"},"
			     "\"parameters\":[{\"key\":\"bind\",\"value\":\"B\"},{\"key\":\"who\","
			     "\"value\":\"bind\"},{\"key\":\"bw\",\"value\":\"bind\"}]}",
			     &j),
			 200);
	assert_string_equal(sget(get(j, "binding"), "namespace"), "guest"); /* _ resolved */
	assert_string_equal(sget(get(j, "binding"), "name"), "base");
	assert_string_equal(sget(kv(get(j, "annotations"), "binding"), "name"), "base");
	cJSON_Delete(j);
	/* package < binding < action < invoke */
	j = invoke(GUEST, 0, "_/actions/b1/echo", "{\"inv\":\"I\"}", 200);
	assert_string_equal(sget(j, "pkg"), "P");
	assert_string_equal(sget(j, "bind"), "B");
	assert_string_equal(sget(j, "act"), "A");
	assert_string_equal(sget(j, "inv"), "I");
	assert_string_equal(sget(j, "who"), "act");
	assert_string_equal(sget(j, "bw"), "bind");
	cJSON_Delete(j);
	j = invoke(GUEST, 0, "_/actions/b1/echo", "{\"who\":\"inv\"}", 200);
	assert_string_equal(sget(j, "who"), "inv");
	cJSON_Delete(j);
	/* straight through the package: no binding's */
	j = invoke(GUEST, 0, "_/actions/base/echo", "{}", 200);
	assert_string_equal(sget(j, "bw"), "pkg");
	assert_null(get(j, "bind"));
	cJSON_Delete(j);
	/* the record: the path of what ran, the binding it went through */
	j = invoke_record(GUEST, "_/actions/b1/echo", "{}", 200);
	char id[64];
	snprintf(id, sizeof(id), "%s", sget(j, "activationId"));
	assert_string_equal(kv(get(j, "annotations"), "path")->valuestring, "guest/base/echo");
	assert_string_equal(kv(get(j, "annotations"), "binding")->valuestring, "guest/b1");
	cJSON_Delete(j);
	cJSON_Delete(record(GUEST, id));
	int found = 0;
	for (int i = 0; i < 50 && !found; i++) {
		assert_int_equal(api("GET", "_/activations?name=b1/echo", NULL, &j), 200);
		const cJSON *e;
		cJSON_ArrayForEach(e, j) found |= !strcmp(sget(e, "activationId"), id);
		cJSON_Delete(j);
		if (!found)
			sleep_ms(20);
	}
	assert_true(found);
	/* GET of the binding: merged with its package, the package's actions */
	assert_int_equal(api("GET", "_/packages/b1", NULL, &j), 200);
	assert_string_equal(sget(j, "name"), "b1");
	assert_string_equal(kv(get(j, "parameters"), "pkg")->valuestring, "P");
	assert_string_equal(kv(get(j, "parameters"), "bw")->valuestring, "bind");
	assert_int_equal(cJSON_GetArraySize(get(j, "actions")), 1);
	cJSON_Delete(j);
	assert_int_equal(api("GET", "_/actions/b1/echo", NULL, &j), 200);
	assert_string_equal(sget(j, "namespace"), "guest/base");
	assert_string_equal(kv(get(j, "parameters"), "bind")->valuestring, "B");
	cJSON_Delete(j);
	assert_int_equal(api("GET", "_/actions/b1/", NULL, &j), 200);
	assert_true(has_name(j, "guest/base", "echo"));
	cJSON_Delete(j);
	/* a binding lists with its binding */
	assert_int_equal(api("GET", "_/packages", NULL, &j), 200);
	const cJSON *e;
	cJSON_ArrayForEach(e, j)
	{
		if (!strcmp(sget(e, "name"), "b1"))
			assert_string_equal(sget(get(e, "binding"), "name"), "base");
	}
	cJSON_Delete(j);
	/* OpenWhisk's binding errors */
	expect(GUEST, "PUT", "_/packages/bx",
	       "{\"binding\":{\"namespace\":\"guest\",\"name\":\"nothere\"}}", 400,
	       "Binding references a package that does not exist.");
	expect(GUEST, "PUT", "_/packages/bx", "{\"binding\":{\"namespace\":\"_\",\"name\":\"b1\"}}",
	       400, "Cannot bind to another package binding.");
	expect(GUEST, "PUT", "_/packages/base?overwrite=true",
	       "{\"binding\":{\"namespace\":\"_\",\"name\":\"base\"}}", 409,
	       "Resource is a package and cannot be converted into a binding.");
	put_action(GUEST, "_/actions/lonely", ECHO, NULL);
	expect(GUEST, "PUT", "_/packages/bx",
	       "{\"binding\":{\"namespace\":\"_\",\"name\":\"lonely\"}}", 409,
	       "Cannot bind to a resource that is not a package.");
	expect(GUEST, "PUT", "_/actions/b1/new",
	       "{\"exec\":{\"kind\":\"nodejs:20\",\"code\":\"function main(){}\"}}", 400,
	       "Operation not permitted on package binding.");
	expect(GUEST, "DELETE", "_/actions/b1/echo", NULL, 400,
	       "Operation not permitted on package binding.");
	/* a binding is deleted whatever its package holds */
	put_json(GUEST, "_/packages/b2", "{\"binding\":{\"namespace\":\"_\",\"name\":\"base\"}}");
	assert_int_equal(api("DELETE", "_/packages/b2", NULL, &j), 200);
	cJSON_Delete(j);
	/* a binding updated to another package, and the cache follows */
	put_json(GUEST, "_/packages/base2",
		 "{\"parameters\":[{\"key\":\"pkg\",\"value\":\"P2\"}]}");
	put_action(GUEST, "_/actions/base2/echo", ECHO, NULL);
	j = invoke(GUEST, 1, "_/actions/b1/echo", "{}", 200); /* cached there too */
	assert_string_equal(sget(j, "pkg"), "P");
	cJSON_Delete(j);
	put_json(GUEST, "_/packages/b1?overwrite=true",
		 "{\"binding\":{\"namespace\":\"_\",\"name\":\"base2\"}}");
	j = invoke(GUEST, 0, "_/actions/b1/echo", "{}", 200); /* its own write: at once */
	assert_string_equal(sget(j, "pkg"), "P2");
	assert_null(get(j, "act"));
	cJSON_Delete(j);
	int moved = 0; /* the other one hears of it through Redis */
	for (int i = 0; i < 50 && !moved; i++) {
		j = invoke(GUEST, 1, "_/actions/b1/echo", "{}", 200);
		moved = !strcmp(sget(j, "pkg"), "P2") && !get(j, "act");
		cJSON_Delete(j);
		if (!moved)
			sleep_ms(20);
	}
	assert_true(moved);
}

static void test_shared_across_namespaces(void **state)
{
	cJSON *j;
	put_json(GUEST, "_/packages/pub?overwrite=true",
		 "{\"publish\":true,\"parameters\":[{\"key\":\"pkg\",\"value\":\"pub\"}]}");
	put_json(GUEST, "_/packages/priv?overwrite=true", "{}");
	put_json(GUEST, "_/packages/pubbind?overwrite=true",
		 "{\"publish\":true,\"binding\":{\"namespace\":\"_\",\"name\":\"pub\"}}");
	put_action(GUEST, "_/actions/pub/echo", ECHO, NULL);
	put_action(GUEST, "_/actions/pub/inc", INC, NULL);
	put_action(GUEST, "_/actions/priv/echo", ECHO, NULL);
	put_action(GUEST, "_/actions/mine", ECHO, NULL);
	/* alice sees guest's published packages only, no bindings */
	assert_int_equal(call(ALICE, 0, "GET", "guest/packages", NULL, &j), 200);
	assert_true(has_name(j, "guest", "pub") && has_name(j, "guest", "p1"));
	assert_false(has_name(j, "guest", "priv") || has_name(j, "guest", "pubbind"));
	int shown = cJSON_GetArraySize(j);
	const cJSON *e;
	cJSON_ArrayForEach(e, j) assert_true(cJSON_IsTrue(get(e, "publish")));
	cJSON_Delete(j);
	assert_int_equal(call(ALICE, 0, "GET", "guest/packages?count=true", NULL, &j), 200);
	assert_int_equal(get(j, "packages")->valueint, shown);
	cJSON_Delete(j);
	assert_int_equal(call(ALICE, 0, "GET", "guest/packages?limit=1&skip=1", NULL, &j), 200);
	assert_int_equal(cJSON_GetArraySize(j), 1); /* of what is shown */
	cJSON_Delete(j);
	assert_int_equal(call(ALICE, 0, "GET", "guest/packages/pub", NULL, &j), 200);
	assert_int_equal(cJSON_GetArraySize(get(j, "actions")), 2);
	cJSON_Delete(j);
	expect(ALICE, "GET", "guest/packages/priv", NULL, 403,
	       "The supplied authentication is not authorized to access 'guest/priv'.");
	expect(ALICE, "GET", "guest/packages/nothere", NULL, 403, NULL); /* nothing leaks */
	expect(ALICE, "GET", "guest/packages/pubbind", NULL, 403, NULL);
	/* its actions: readable and invokable, never writable */
	assert_int_equal(call(ALICE, 0, "GET", "guest/actions/pub/echo", NULL, &j), 200);
	assert_string_equal(sget(j, "namespace"), "guest/pub");
	cJSON_Delete(j);
	assert_int_equal(call(ALICE, 0, "GET", "guest/actions/pub/", NULL, &j), 200);
	assert_int_equal(cJSON_GetArraySize(j), 2);
	cJSON_Delete(j);
	j = invoke(ALICE, 1, "guest/actions/pub/echo", "{\"from\":\"alice\"}", 200);
	assert_string_equal(sget(j, "pkg"), "pub");
	assert_string_equal(sget(j, "from"), "alice");
	cJSON_Delete(j);
	/* the record is alice's */
	assert_int_equal(call(ALICE, 0, "POST", "guest/actions/pub/echo?blocking=true", "{}", &j),
			 200);
	char id[64];
	snprintf(id, sizeof(id), "%s", sget(j, "activationId"));
	assert_string_equal(sget(j, "namespace"), "alice");
	assert_string_equal(kv(get(j, "annotations"), "path")->valuestring, "guest/pub/echo");
	cJSON_Delete(j);
	cJSON_Delete(record(ALICE, id));
	char path[128];
	snprintf(path, sizeof(path), "_/activations/%s", id);
	expect(GUEST, "GET", path, NULL, 404, NULL); /* not guest's */
	expect(ALICE, "PUT", "guest/actions/pub/evil",
	       "{\"exec\":{\"kind\":\"nodejs:20\",\"code\":\"function main(){}\"}}", 403,
	       "The supplied authentication is not authorized to access 'guest/pub/evil'.");
	expect(ALICE, "DELETE", "guest/actions/pub/echo", NULL, 403, NULL);
	/* private packages and the default package are refused */
	expect(ALICE, "POST", "guest/actions/priv/echo?blocking=true", "{}", 403,
	       "The supplied authentication is not authorized to access 'guest/priv'.");
	expect(ALICE, "GET", "guest/actions/priv/echo", NULL, 403, NULL);
	expect(ALICE, "GET", "guest/actions/priv/", NULL, 403, NULL);
	expect(ALICE, "POST", "guest/actions/mine?blocking=true", "{}", 403,
	       "The supplied authentication is not authorized to access 'guest/mine'.");
	expect(ALICE, "GET", "guest/actions/mine", NULL, 403, NULL);
	expect(ALICE, "POST", "guest/actions/pubbind/echo?blocking=true", "{}", 403, NULL);
	/* alice binds guest's shared package, with a parameter of her own */
	put_json(ALICE, "_/packages/mypub",
		 "{\"binding\":{\"namespace\":\"guest\",\"name\":\"pub\"},"
		 "\"parameters\":[{\"key\":\"by\",\"value\":\"alice\"}]}");
	j = invoke(ALICE, 0, "_/actions/mypub/echo", "{}", 200);
	assert_string_equal(sget(j, "by"), "alice");
	assert_string_equal(sget(j, "pkg"), "pub");
	cJSON_Delete(j);
	expect(ALICE, "PUT", "_/packages/mypriv",
	       "{\"binding\":{\"namespace\":\"guest\",\"name\":\"priv\"}}", 403,
	       "The supplied authentication is not authorized to access 'guest/priv'.");
	expect(ALICE, "PUT", "_/packages/mynone",
	       "{\"binding\":{\"namespace\":\"guest\",\"name\":\"nothere\"}}", 403, NULL);
	/* guest cannot use alice's binding */
	expect(GUEST, "POST", "alice/actions/mypub/echo?blocking=true", "{}", 403, NULL);
	/* whisk.system's packages: readable by every namespace, published or not */
	put_json(SYSTEM, "_/packages/utils", "{}");
	put_action(SYSTEM, "_/actions/utils/echo", ECHO, NULL);
	assert_int_equal(call(ALICE, 0, "GET", "whisk.system/packages", NULL, &j), 200);
	assert_true(has_name(j, "whisk.system", "utils"));
	cJSON_Delete(j);
	j = invoke(ALICE, 0, "whisk.system/actions/utils/echo", "{\"x\":2}", 200);
	assert_int_equal(get(j, "x")->valueint, 2);
	cJSON_Delete(j);
	j = invoke(GUEST, 1, "whisk.system/actions/utils/echo", "{}", 200);
	cJSON_Delete(j);
	expect(ALICE, "PUT", "whisk.system/actions/utils/x",
	       "{\"exec\":{\"kind\":\"nodejs:20\",\"code\":\"function main(){}\"}}", 403, NULL);
	/* unpublished: refused at once, also by the other controller (whose
	 * cache held it from the invoke above) */
	put_json(GUEST, "_/packages/pub?overwrite=true", "{\"publish\":false}");
	for (int c = 0; c < 2; c++) {
		long st = 0;
		for (int i = 0; i < 50; i++) {
			cJSON *x = NULL;
			st = call(ALICE, c, "POST", "guest/actions/pub/echo?blocking=true", "{}",
				  &x);
			cJSON_Delete(x);
			if (st == 403)
				break;
			sleep_ms(20); /* pub/sub reaches the other controller */
		}
		assert_int_equal(st, 403);
	}
	expect(ALICE, "POST", "_/actions/mypub/echo?blocking=true", "{}", 403, NULL);
	put_json(GUEST, "_/packages/pub?overwrite=true", "{\"publish\":true}");
	j = invoke(ALICE, 0, "_/actions/mypub/echo", "{}", 200);
	cJSON_Delete(j);
}

/* The containers the agent runs for action ("/ns/pkg/name"). */
static int containers_of(const char *action)
{
	char u[128], *out = NULL;
	int n = 0;
	snprintf(u, sizeof(u), "%s/containers", agent_url);
	assert_int_equal(th_http("GET", u, tok_hdrs, NULL, 0, &out), 200);
	cJSON *j = cJSON_Parse(out);
	const cJSON *c;
	cJSON_ArrayForEach(c, get(j, "containers"))
	{
		n += !strcmp(sget(c, "action"), action) && strcmp(sget(c, "state"), "dead") != 0;
	}
	cJSON_Delete(j);
	free(out);
	return n;
}

static void test_binding_init_parameters(void **state)
{
	cJSON *j;
	put_json(GUEST, "_/packages/ip", "{}");
	put_action(GUEST, "_/actions/ip/env",
		   "function main(){return {s: process.env.SECRET || ''}}", NULL);
	put_json(GUEST, "_/packages/ipa",
		 "{\"binding\":{\"namespace\":\"_\",\"name\":\"ip\"},\"parameters\":[{\"key\":"
		 "\"SECRET\",\"value\":\"A\",\"init\":true}]}");
	put_json(GUEST, "_/packages/ipb",
		 "{\"binding\":{\"namespace\":\"_\",\"name\":\"ip\"},\"parameters\":[{\"key\":"
		 "\"SECRET\",\"value\":\"B\",\"init\":true}]}");
	/* each binding's /init parameters: never a container of the other's */
	const char *order[] = {"ipa", "ipb", "ipa", "ipb", "ip"};
	const char *want[] = {"A", "B", "A", "B", ""};
	for (int i = 0; i < 5; i++) {
		char path[64];
		snprintf(path, sizeof(path), "_/actions/%s/env", order[i]);
		j = invoke(GUEST, 0, path, "{}", 200);
		assert_string_equal(sget(j, "s"), want[i]);
		cJSON_Delete(j);
	}
	/* (had ipb run on ipa's container it would have said A) */
	assert_true(containers_of("/guest/ip/env") <= 3);
	/* the package's own init parameter changes: a new container */
	put_json(GUEST, "_/packages/ip?overwrite=true",
		 "{\"parameters\":[{\"key\":\"SECRET\",\"value\":\"P\",\"init\":true}]}");
	j = invoke(GUEST, 0, "_/actions/ip/env", "{}", 200);
	assert_string_equal(sget(j, "s"), "P");
	cJSON_Delete(j);
	j = invoke(GUEST, 0, "_/actions/ipa/env", "{}", 200);
	assert_string_equal(sget(j, "s"), "A"); /* the binding's over the package's */
	cJSON_Delete(j);
}

static long ctl_metric(int c, const char *name)
{
	char u[128], *out = NULL;
	long v = -1;
	snprintf(u, sizeof(u), "%s/metrics", ctl_url[c]);
	th_http("GET", u, NULL, NULL, 0, &out);
	char *p = out ? strstr(out, name) : NULL;
	while (p && p > out && p[-1] != '\n')
		p = strstr(p + 1, name);
	if (p)
		v = strtol(strchr(p, ' ') + 1, NULL, 10);
	free(out);
	return v;
}

/* Whether action's one container is suspended (idle, free). */
static int suspended(const char *action)
{
	char u[128], *out = NULL;
	int n = 0, sus = 0;
	snprintf(u, sizeof(u), "%s/containers", agent_url);
	assert_int_equal(th_http("GET", u, tok_hdrs, NULL, 0, &out), 200);
	cJSON *j = cJSON_Parse(out);
	const cJSON *c;
	cJSON_ArrayForEach(c, get(j, "containers"))
	{
		if (strcmp(sget(c, "action"), action) != 0)
			continue;
		n++;
		sus = !strcmp(sget(c, "state"), "suspended");
	}
	cJSON_Delete(j);
	free(out);
	return n == 1 && sus;
}

/* An action in a package reached through a binding, warm on controller 1
 * and idle: controller 0 is sent to it and forwards there; the owner
 * resolves the same path to the same container, and the binding's
 * parameters travel with the activation. */
static void test_forwarded_through_binding(void **state)
{
	int forwards = 0;
	for (int i = 0; i < 10 && forwards < 2; i++) {
		char pkg[32], bind[256], path[128], action[128];
		snprintf(pkg, sizeof(pkg), "fp%d", i);
		snprintf(path, sizeof(path), "_/packages/%s", pkg);
		put_json(GUEST, path, "{}");
		snprintf(path, sizeof(path), "_/actions/%s/pid", pkg);
		put_action(GUEST, path,
			   "const me = Math.floor(Math.random() * 1e9);"
			   " function main(p){return {pid: me, b: p.b}}",
			   NULL);
		snprintf(path, sizeof(path), "_/packages/fb%d", i);
		snprintf(bind, sizeof(bind),
			 "{\"binding\":{\"namespace\":\"_\",\"name\":\"%s\"},\"parameters\":"
			 "[{\"key\":\"b\",\"value\":%d}]}",
			 pkg, i);
		put_json(GUEST, path, bind);
		snprintf(path, sizeof(path), "_/actions/fb%d/pid", i);
		snprintf(action, sizeof(action), "/guest/%s/pid", pkg);
		cJSON *j = invoke(GUEST, 1, path, "{}", 200);
		int pid = get(j, "pid")->valueint;
		cJSON_Delete(j);
		for (int k = 0; k < 100 && !suspended(action); k++)
			sleep_ms(20);
		long fw = ctl_metric(0, "hearth_controller_forwards_total");
		j = invoke(GUEST, 0, path, "{}", 200);
		if (ctl_metric(0, "hearth_controller_forwards_total") == fw + 1) {
			assert_int_equal(get(j, "pid")->valueint, pid); /* the same container */
			assert_int_equal(get(j, "b")->valueint, i);
			forwards++;
		}
		cJSON_Delete(j);
		sleep_ms(150);
	}
	assert_int_equal(forwards, 2);
}

/* ---- compositions ---- */

static void test_sequences(void **state)
{
	cJSON *j;
	put_json(GUEST, "_/packages/seqs?overwrite=true", "{}");
	put_action(GUEST, "_/actions/seqs/inc", INC, NULL);
	put_json(GUEST, "_/packages/seqb?overwrite=true",
		 "{\"binding\":{\"namespace\":\"_\",\"name\":\"seqs\"}}");
	put_action(GUEST, "_/actions/inc", INC, NULL);
	/* components in a package, through a binding, and a plain one */
	put_json(GUEST, "_/actions/seqs/s3?overwrite=true",
		 "{\"exec\":{\"kind\":\"sequence\",\"components\":[\"/_/seqs/inc\","
		 "\"/guest/seqb/inc\",\"/_/inc\"]}}");
	j = invoke(GUEST, 0, "_/actions/seqs/s3", "{\"n\":1}", 200);
	assert_int_equal(get(j, "n")->valueint, 4);
	cJSON_Delete(j);
	/* nested: a sequence of a sequence runs as one of its own */
	put_json(GUEST, "_/actions/inner?overwrite=true",
		 "{\"exec\":{\"kind\":\"sequence\",\"components\":[\"/_/inc\",\"/_/inc\"]}}");
	put_json(GUEST, "_/actions/outer?overwrite=true",
		 "{\"exec\":{\"kind\":\"sequence\",\"components\":[\"/_/inner\",\"/_/inc\"]}}");
	j = invoke_record(GUEST, "_/actions/outer", "{\"n\":0}", 200);
	assert_int_equal(get(get(get(j, "response"), "result"), "n")->valueint, 3);
	assert_int_equal(cJSON_GetArraySize(get(j, "logs")), 2);
	assert_true(cJSON_IsTrue(kv(get(j, "annotations"), "topmost")));
	char outer_id[64], inner_id[64];
	snprintf(outer_id, sizeof(outer_id), "%s", sget(j, "activationId"));
	snprintf(inner_id, sizeof(inner_id), "%s",
		 cJSON_GetArrayItem(get(j, "logs"), 0)->valuestring);
	cJSON_Delete(j);
	j = record(GUEST, inner_id);
	assert_string_equal(sget(j, "name"), "inner");
	assert_string_equal(sget(j, "cause"), outer_id);
	assert_true(cJSON_IsFalse(kv(get(j, "annotations"), "topmost")));
	assert_string_equal(kv(get(j, "annotations"), "kind")->valuestring, "sequence");
	assert_int_equal(cJSON_GetArraySize(get(j, "logs")), 2);
	cJSON_Delete(j);
	/* checked at PUT: missing, cyclic */
	expect(GUEST, "PUT", "_/actions/sbad",
	       "{\"exec\":{\"kind\":\"sequence\",\"components\":[\"/_/inc\",\"/_/nothere\"]}}", 400,
	       "Sequence component does not exist.");
	expect(GUEST, "PUT", "_/actions/inner?overwrite=true",
	       "{\"exec\":{\"kind\":\"sequence\",\"components\":[\"/_/outer\"]}}", 400,
	       "Sequence may not refer to itself.");
	expect(GUEST, "PUT", "_/actions/inner?overwrite=true",
	       "{\"exec\":{\"kind\":\"sequence\",\"components\":[\"/_/inner\"]}}", 400,
	       "Sequence may not refer to itself.");
	/* 50 atomic actions inlined, not one more */
	char body[4096];
	int n = snprintf(body, sizeof(body), "{\"exec\":{\"kind\":\"sequence\",\"components\":[");
	for (int i = 0; i < 25; i++)
		n += snprintf(body + n, sizeof(body) - (size_t)n, "%s\"/_/inc\"", i ? "," : "");
	snprintf(body + n, sizeof(body) - (size_t)n, "]}}");
	put_json(GUEST, "_/actions/s25?overwrite=true", body);
	put_json(GUEST, "_/actions/s50?overwrite=true",
		 "{\"exec\":{\"kind\":\"sequence\",\"components\":[\"/_/s25\",\"/_/s25\"]}}");
	j = invoke(GUEST, 0, "_/actions/s50", "{\"n\":0}", 200);
	assert_int_equal(get(j, "n")->valueint, 50);
	cJSON_Delete(j);
	expect(GUEST, "PUT", "_/actions/s51",
	       "{\"exec\":{\"kind\":\"sequence\",\"components\":[\"/_/s25\",\"/_/s25\","
	       "\"/_/inc\"]}}",
	       400, "Too many actions in the sequence.");
	/* grown after it was written: the limit holds as it runs */
	n = snprintf(body, sizeof(body), "{\"exec\":{\"kind\":\"sequence\",\"components\":[");
	for (int i = 0; i < 26; i++)
		n += snprintf(body + n, sizeof(body) - (size_t)n, "%s\"/_/inc\"", i ? "," : "");
	snprintf(body + n, sizeof(body) - (size_t)n, "]}}");
	put_json(GUEST, "_/actions/s25?overwrite=true", body);
	j = invoke_record(GUEST, "_/actions/s50", "{\"n\":0}", 502);
	assert_string_equal(sget(get(get(j, "response"), "result"), "error"),
			    "Too many actions in the sequence.");
	cJSON_Delete(j);
	/* shared components from another namespace */
	put_json(GUEST, "_/packages/pub?overwrite=true", "{\"publish\":true}");
	put_action(GUEST, "_/actions/pub/inc", INC, NULL);
	put_json(ALICE, "_/actions/aseq?overwrite=true",
		 "{\"exec\":{\"kind\":\"sequence\",\"components\":[\"/guest/pub/inc\","
		 "\"/guest/pub/inc\"]}}");
	j = invoke(ALICE, 0, "_/actions/aseq", "{\"n\":5}", 200);
	assert_int_equal(get(j, "n")->valueint, 7);
	cJSON_Delete(j);
	expect(ALICE, "PUT", "_/actions/aseq2",
	       "{\"exec\":{\"kind\":\"sequence\",\"components\":[\"/guest/priv/echo\"]}}", 403,
	       "The supplied authentication is not authorized to access 'guest/priv'.");
	expect(ALICE, "PUT", "_/actions/aseq3",
	       "{\"exec\":{\"kind\":\"sequence\",\"components\":[\"/guest/inc\"]}}", 403,
	       "The supplied authentication is not authorized to access 'guest/inc'.");
	/* unpublished later: invoking it is refused (403, as OpenWhisk) */
	put_json(GUEST, "_/packages/pub?overwrite=true", "{\"publish\":false}");
	expect(ALICE, "POST", "_/actions/aseq?blocking=true", "{}", 403,
	       "The supplied authentication is not authorized to access 'guest/pub'.");
	put_json(GUEST, "_/packages/pub?overwrite=true", "{\"publish\":true}");
}

/* A conductor: inc, then seqs/double... as its state says; the result is
 * params when there is no next action. */
#define CONDUCTOR                                                                                  \
	"function main(p) {"                                                                       \
	"  if (p.error) return {error: p.error};"                                                  \
	"  if (!p.step) return {action: 'inc', params: {n: p.n}, state: {step: 1}};"               \
	"  if (p.step === 1) return {action: 'cpkg/double', params: {n: p.n}, state: "             \
	"{step: 2}};"                                                                              \
	"  return {params: {n: p.n, done: true}};"                                                 \
	"}"

static void test_conductor(void **state)
{
	cJSON *j;
	put_action(GUEST, "_/actions/inc", INC, NULL);
	put_json(GUEST, "_/packages/cpkg?overwrite=true", "{}");
	put_action(GUEST, "_/actions/cpkg/double", "function main(p){return {n: p.n * 2}}", NULL);
	put_action(GUEST, "_/actions/cond", CONDUCTOR,
		   "\"annotations\":[{\"key\":\"conductor\",\"value\":true}]");
	j = invoke_record(GUEST, "_/actions/cond", "{\"n\":1}", 200);
	const cJSON *res = get(get(j, "response"), "result");
	assert_int_equal(get(res, "n")->valueint, 4); /* (1 + 1) * 2 */
	assert_true(cJSON_IsTrue(get(res, "done")));
	assert_int_equal(cJSON_GetArraySize(get(j, "logs")), 5); /* c, inc, c, double, c */
	const cJSON *ann = get(j, "annotations");
	assert_true(cJSON_IsTrue(kv(ann, "conductor")));
	assert_true(cJSON_IsTrue(kv(ann, "topmost")));
	assert_string_equal(kv(ann, "kind")->valuestring, "sequence");
	char cid[64], step[64];
	snprintf(cid, sizeof(cid), "%s", sget(j, "activationId"));
	snprintf(step, sizeof(step), "%s", cJSON_GetArrayItem(get(j, "logs"), 3)->valuestring);
	cJSON_Delete(j);
	j = record(GUEST, step);
	assert_string_equal(sget(j, "name"), "double");
	assert_string_equal(sget(j, "cause"), cid);
	assert_string_equal(kv(get(j, "annotations"), "path")->valuestring, "guest/cpkg/double");
	cJSON_Delete(j);
	/* an echoing conductor: its errors come back to it, then end it */
	put_action(GUEST, "_/actions/econd", ECHO,
		   "\"annotations\":[{\"key\":\"conductor\",\"value\":true}]");
	j = invoke_record(GUEST, "_/actions/econd", "{\"action\":\"nosuch\"}", 502);
	assert_string_equal(
	    sget(get(get(j, "response"), "result"), "error"),
	    "Failed to resolve action with name 'guest/nosuch' during composition.");
	assert_int_equal(cJSON_GetArraySize(get(j, "logs")), 2);
	cJSON_Delete(j);
	j = invoke_record(GUEST, "_/actions/econd", "{\"action\":\"/guest/priv/echo\"}", 200);
	assert_int_equal(cJSON_GetArraySize(get(j, "logs")), 3); /* its own package: fine */
	cJSON_Delete(j);
	j = invoke_record(GUEST, "_/actions/econd", "{\"action\":\"invalid#name\"}", 502);
	assert_string_equal(sget(get(get(j, "response"), "result"), "error"),
			    "Failed to parse action name from json value \"invalid#name\" during "
			    "composition.");
	cJSON_Delete(j);
	put_action(ALICE, "_/actions/acond", ECHO,
		   "\"annotations\":[{\"key\":\"conductor\",\"value\":true}]");
	cJSON *x = NULL;
	assert_int_equal(call(ALICE, 0, "POST", "_/actions/acond?blocking=true",
			      "{\"action\":\"/guest/priv/echo\"}", &x),
			 502);
	assert_string_equal(
	    sget(get(get(x, "response"), "result"), "error"),
	    "Failed entitlement check for action with name 'guest/priv/echo' during "
	    "composition.");
	cJSON_Delete(x);
	/* the budget: at most 50 components */
	put_action(GUEST, "_/actions/loop",
		   "function main(p){ if (p.error) return {error: p.error};"
		   " return {action: 'inc', params: {n: p.n || 0}} }",
		   "\"annotations\":[{\"key\":\"conductor\",\"value\":true}]");
	j = invoke_record(GUEST, "_/actions/loop", "{}", 502);
	assert_string_equal(sget(get(get(j, "response"), "result"), "error"),
			    "Too many actions in the composition.");
	/* 50 components, the conductor's 51 runs, and the one told it is too long */
	assert_int_equal(cJSON_GetArraySize(get(j, "logs")), 50 + 51 + 1);
	cJSON_Delete(j);
	/* a conductor as a sequence's component */
	put_json(GUEST, "_/actions/cseq?overwrite=true",
		 "{\"exec\":{\"kind\":\"sequence\",\"components\":[\"/_/cond\",\"/_/inc\"]}}");
	j = invoke(GUEST, 0, "_/actions/cseq", "{\"n\":1}", 200);
	assert_int_equal(get(j, "n")->valueint, 5);
	cJSON_Delete(j);
}

/* ---- the cached lookup ---- */

/* Commands Redis ran on entity keys while fn ran (MONITOR). */
static int entity_reads(void (*fn)(void))
{
	struct hc_redis_opts ro;
	struct hc_err err;
	redisReply *rr;
	assert_int_equal(hc_redis_parse_url(R.url, &ro, &err), 0);
	redisContext *mc = hc_redis_sync_connect(&ro, &err);
	assert_non_null(mc);
	rr = redisCommand(mc, "MONITOR");
	assert_true(rr && rr->type == REDIS_REPLY_STATUS);
	freeReplyObject(rr);
	fn();
	redisContext *rc = hc_redis_sync_connect(&ro, &err);
	assert_non_null(rc);
	freeReplyObject(hc_redis_sync_cmd(rc, NULL, "ECHO entity-reads-end"));
	redisFree(rc);
	struct timeval tv = {5, 0};
	redisSetTimeout(mc, tv);
	int reads = 0, end = 0, seen = 0;
	while (!end && redisGetReply(mc, (void **)&rr) == REDIS_OK && rr) {
		if (rr->type == REDIS_REPLY_STATUS) {
			seen++;
			reads += strstr(rr->str, "\"hearth:package:") != NULL ||
				 strstr(rr->str, "\"hearth:action:") != NULL ||
				 strstr(rr->str, "\"hearth:code:") != NULL;
			end = strstr(rr->str, "entity-reads-end") != NULL;
		}
		freeReplyObject(rr);
	}
	redisFree(mc);
	assert_true(end);
	assert_true(seen > 1); /* the records were seen being written */
	return reads;
}

static void warm_invokes(void)
{
	for (int i = 0; i < 20; i++) {
		cJSON *j = invoke(GUEST, 0, "_/actions/wb/echo", "{\"i\":1}", 200);
		assert_string_equal(sget(j, "b"), "B");
		cJSON_Delete(j);
		j = invoke(ALICE, 0, "guest/actions/wpub/echo", "{}", 200);
		cJSON_Delete(j);
	}
}

static void one_invoke(void)
{
	cJSON *j = invoke(GUEST, 0, "_/actions/wb/echo", "{}", 200);
	assert_null(get(j, "p")); /* the package's parameter went with the write */
	cJSON_Delete(j);
}

static void test_warm_packaged_invoke_reads_no_entity(void **state)
{
	put_json(GUEST, "_/packages/wpkg?overwrite=true",
		 "{\"parameters\":[{\"key\":\"p\",\"value\":\"P\"}]}");
	put_action(GUEST, "_/actions/wpkg/echo", ECHO, NULL);
	put_json(GUEST, "_/packages/wb?overwrite=true",
		 "{\"binding\":{\"namespace\":\"_\",\"name\":\"wpkg\"},\"parameters\":[{\"key\":"
		 "\"b\",\"value\":\"B\"}]}");
	put_json(GUEST, "_/packages/wpub?overwrite=true", "{\"publish\":true}");
	put_action(GUEST, "_/actions/wpub/echo", ECHO, NULL);
	/* cold once: the lookups load package, binding, action and code */
	cJSON *j = invoke(GUEST, 0, "_/actions/wb/echo", "{}", 200);
	cJSON_Delete(j);
	j = invoke(ALICE, 0, "guest/actions/wpub/echo", "{}", 200);
	cJSON_Delete(j);
	sleep_ms(300);
	/* then warm: the records are written, no entity is read */
	assert_int_equal(entity_reads(warm_invokes), 0);
	/* (which the watch would see: after a write of the package the next
	 * invoke reads its way through package, binding, action and code) */
	put_json(GUEST, "_/packages/wpkg?overwrite=true", "{\"parameters\":[]}");
	assert_true(entity_reads(one_invoke) >= 4);
}

/* ---- the CLI ---- */

/* Run the hearth CLI as guest; its stdout into out (the exit code back). */
static int cli(char *out, size_t outlen, const char *args)
{
	char bin[512], cmd[2048];
	snprintf(cmd, sizeof(cmd), "HEARTH_API=%s HEARTH_AUTH=%s WSK_CONFIG_FILE=/dev/null %s %s",
		 ctl_url[0], cred[GUEST], th_bin("hearth", bin, sizeof bin), args);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t n = fread(out, 1, outlen - 1, p);
	out[n] = '\0';
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_cli(void **state)
{
	char out[16384], want[512];
	cJSON *j;
	assert_int_equal(cli(out, sizeof out, "package create clip -p a 1 --shared yes"), 0);
	assert_non_null(strstr(out, "ok: created package clip"));
	assert_int_equal(api("GET", "_/packages/clip", NULL, &j), 200);
	assert_true(cJSON_IsTrue(get(j, "publish")));
	assert_int_equal(kv(get(j, "parameters"), "a")->valueint, 1);
	cJSON_Delete(j);
	assert_int_equal(cli(out, sizeof out, "package create clip"), 1); /* 409 */
	assert_int_equal(cli(out, sizeof out, "package update clip -p b two"), 0);
	assert_int_equal(cli(out, sizeof out, "package bind /guest/clip clib -p c 3"), 0);
	assert_non_null(strstr(out, "ok: created binding clib"));
	assert_int_equal(api("GET", "_/packages/clib", NULL, &j), 200);
	assert_string_equal(sget(get(j, "binding"), "name"), "clip");
	assert_string_equal(kv(get(j, "parameters"), "b")->valuestring, "two");
	cJSON_Delete(j);
	put_action(GUEST, "_/actions/clip/act", ECHO, NULL);
	assert_int_equal(cli(out, sizeof out, "package get clip --summary"), 0);
	assert_non_null(strstr(out, "package /guest/clip"));
	assert_non_null(strstr(out, "/guest/clip/act"));
	assert_int_equal(cli(out, sizeof out, "--json package get clib"), 0);
	j = cJSON_Parse(out);
	assert_int_equal(cJSON_GetArraySize(get(j, "actions")), 1);
	cJSON_Delete(j);
	assert_int_equal(cli(out, sizeof out, "package list"), 0);
	assert_non_null(strstr(out, "/guest/clip"));
	assert_non_null(strstr(out, "/guest/clib"));
	assert_int_equal(cli(out, sizeof out, "action invoke clib/act -r -p x 9"), 0);
	j = cJSON_Parse(out);
	assert_int_equal(get(j, "x")->valueint, 9);
	assert_int_equal(get(j, "c")->valueint, 3);
	cJSON_Delete(j);
	/* action get --url, as wsk prints it */
	assert_int_equal(cli(out, sizeof out, "action get clip/act --url"), 0);
	snprintf(want, sizeof want,
		 "ok: got action act\n%s/api/v1/namespaces/guest/actions/clip/act\n", ctl_url[0]);
	assert_string_equal(out, want);
	put_action(GUEST, "_/actions/clip/web", ECHO,
		   "\"annotations\":[{\"key\":\"web-export\",\"value\":true}]");
	put_action(GUEST, "_/actions/webby", ECHO,
		   "\"annotations\":[{\"key\":\"web-export\",\"value\":true}]");
	assert_int_equal(cli(out, sizeof out, "action get clip/web --url"), 0);
	snprintf(want, sizeof want, "ok: got action web\n%s/api/v1/web/guest/clip/web\n",
		 ctl_url[0]);
	assert_string_equal(out, want);
	assert_int_equal(cli(out, sizeof out, "action get webby --url"), 0);
	snprintf(want, sizeof want, "ok: got action webby\n%s/api/v1/web/guest/default/webby\n",
		 ctl_url[0]);
	assert_string_equal(out, want);
	assert_int_equal(cli(out, sizeof out, "package delete clip"), 1); /* not empty */
	assert_int_equal(cli(out, sizeof out, "package delete clib"), 0);
	assert_int_equal(cli(out, sizeof out, "package delete clip --force"), 0);
	assert_non_null(strstr(out, "ok: deleted package clip"));
	expect(GUEST, "GET", "_/packages/clip", NULL, 404, NULL);
	expect(GUEST, "GET", "_/actions/clip/act", NULL, 404, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_package_crud),
	    cmocka_unit_test(test_package_actions),
	    cmocka_unit_test(test_bindings),
	    cmocka_unit_test(test_shared_across_namespaces),
	    cmocka_unit_test(test_binding_init_parameters),
	    cmocka_unit_test(test_forwarded_through_binding),
	    cmocka_unit_test(test_sequences),
	    cmocka_unit_test(test_conductor),
	    cmocka_unit_test(test_warm_packaged_invoke_reads_no_entity),
	    cmocka_unit_test(test_cli),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
