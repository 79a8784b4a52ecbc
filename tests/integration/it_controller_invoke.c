/* it_controller_invoke.c — the invoke path end to end with real processes:
 * Redis, two schedulers (leader + standby), one agent (runc backend when
 * th_have_runc(), else the process backend; HEARTH_IT_PROCESS=1 forces
 * it), hearth-runtime in every container, and two controllers (the second
 * with two loops).
 *
 * Covers: blocking / non-blocking / result-only invokes and their codes
 * (200, 202, 502), array results, the blocking wait running out (202), an
 * action timeout and a container dying mid-run (developer errors, the
 * container discarded, the activation never run again), provide-api-key and
 * init parameters, cold then warm invokes where the warm ones never ask the
 * scheduler for an allocation, pause grace suspending the container and the
 * next invoke resuming it, logs collected by the agent (and not asked for
 * when the runtime says the action printed nothing), a sequence of three
 * actions, concurrency > 1 on nodejs sharing one container, two controllers
 * sharing one warm container through forwarding (also across the receiving
 * controller's loops), the scheduler leader killed while invokes keep
 * succeeding, and a controller killed and restarted under the same id
 * whose old busy container is taken back. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "common/redis.h"
#include "proto/activation.h"
#include "proto/auth.h"
#include "proto/keys.h"
#include "tests/lib/harness.h"
#include "tests/lib/wait.h"

#define TOKEN "it-token"

static struct th_redis R;
static pid_t agent_pid, sched_pid[2], ctl_pid[2];
static char agent_url[64], sched_url[2][64], ctl_url[2][64];
static char auth_hdr[256];
static const char *const hdrs[] = {auth_hdr, "Content-Type: application/json", NULL};
static const char *const tok_hdrs[] = {"Authorization: Bearer " TOKEN, NULL};

static pid_t start(char **argv, int port, char *url)
{
	pid_t pid = th_daemon_start(argv, NULL, port, 15000, NULL, 0);
	assert_true(pid > 0);
	snprintf(url, 64, "http://127.0.0.1:%d", port);
	return pid;
}

static pid_t start_scheduler(int i)
{
	char port[16];
	int p = th_free_port();
	snprintf(port, sizeof(port), "%d", p);
	char *argv[] = {"hearth-scheduler",
			"--port",
			port,
			"--redis",
			R.url,
			"--token",
			TOKEN,
			"--lease",
			"800ms",
			"--renew",
			"200ms",
			"--retry",
			"100ms",
			"--lease-margin",
			"100ms",
			NULL};
	return start(argv, p, sched_url[i]);
}

static int setup(void **state)
{
	struct hc_err err;
	char cred[PR_AUTH_CRED_LEN + 1], port[16], b64[200];
	if (th_redis_start(&R) < 0)
		return -1;
	redisContext *rc = th_redis_connect(&R);
	assert_non_null(rc);
	assert_int_equal(pr_auth_key_create(rc, "guest", PR_AUTH_GUEST, cred, &err), 0);
	redisFree(rc);
	pr_base64_encode(PR_AUTH_GUEST, strlen(PR_AUTH_GUEST), b64, sizeof(b64));
	snprintf(auth_hdr, sizeof(auth_hdr), "Authorization: Basic %s", b64);

	/* runc where root and runc are there; HEARTH_IT_PROCESS=1 forces the
	 * process backend */
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
	sched_pid[0] = start_scheduler(0);
	th_sleep_ms(300); /* let the first one win the lease */
	sched_pid[1] = start_scheduler(1);
	for (int i = 0; i < 2; i++) {
		p = th_free_port();
		snprintf(port, sizeof(port), "%d", p);
		/* controller 1 runs two loops (each its own owner towards the
		 * scheduler), so forwards to it also cross between its loops */
		char *cargv[] = {"hearth-controller",
				 "--port",
				 port,
				 "--threads",
				 i ? "2" : "1",
				 "--redis",
				 R.url,
				 "--token",
				 TOKEN,
				 "--pause-grace",
				 "100ms",
				 NULL};
		ctl_pid[i] = start(cargv, p, ctl_url[i]);
	}
	th_sleep_ms(300); /* controllers learn the leader */
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

static long api(int c, const char *method, const char *path, const char *body, cJSON **json)
{
	char url[512], *out = NULL;
	snprintf(url, sizeof(url), "%s/api/v1/namespaces/_%s", ctl_url[c], path);
	long st = th_http(method, url, hdrs, body, body ? strlen(body) : 0, &out);
	if (json)
		*json = out ? cJSON_Parse(out) : NULL;
	free(out);
	return st;
}

static const cJSON *get(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

static void put_action(const char *name, const char *kind, const char *code, const char *extra)
{
	char path[128], *body = malloc(strlen(code) * 2 + 512);
	cJSON *c = cJSON_CreateString(code);
	char *cs = cJSON_PrintUnformatted(c);
	sprintf(body, "{\"exec\":{\"kind\":\"%s\",\"code\":%s}%s%s}", kind, cs, extra ? "," : "",
		extra ? extra : "");
	snprintf(path, sizeof(path), "/actions/%s?overwrite=true", name);
	cJSON *j = NULL;
	long st = api(0, "PUT", path, body, &j);
	if (st != 200)
		fprintf(stderr, "PUT %s: %ld %s\n", name, st, j ? cJSON_PrintUnformatted(j) : "");
	assert_int_equal(st, 200);
	cJSON_Delete(j);
	cJSON_Delete(c);
	free(cs);
	free(body);
}

/* Sum of the scheduler's allocation counters (every outcome). */
static long allocations(const char *url)
{
	char u[128], *out = NULL;
	long sum = 0;
	snprintf(u, sizeof(u), "%s/metrics", url);
	if (th_http("GET", u, NULL, NULL, 0, &out) != 200) {
		free(out);
		return -1;
	}
	for (char *p = out; (p = strstr(p, "hearth_scheduler_allocations_total{")); p++) {
		char *sp = strchr(p, ' ');
		if (sp)
			sum += strtol(sp + 1, NULL, 10);
	}
	free(out);
	return sum;
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

/* The state the agent reports for the containers of /guest/<name>. */
static int container_states(const char *name, char states[][16], int max)
{
	char u[128], *out = NULL, action[128];
	int n = 0;
	snprintf(u, sizeof(u), "%s/containers", agent_url);
	snprintf(action, sizeof(action), "/guest/%s", name);
	assert_int_equal(th_http("GET", u, tok_hdrs, NULL, 0, &out), 200);
	cJSON *j = cJSON_Parse(out);
	const cJSON *c;
	cJSON_ArrayForEach(c, get(j, "containers"))
	{
		const cJSON *a = get(c, "action");
		if (cJSON_IsString(a) && !strcmp(a->valuestring, action) && n < max)
			snprintf(states[n++], 16, "%s", get(c, "state")->valuestring);
	}
	cJSON_Delete(j);
	free(out);
	return n;
}

/* The local socket the agent named for the first container of
 * /guest/<name> ("" when none). */
static void container_socket(const char *name, char *out, size_t n)
{
	char u[128], *body = NULL, action[128];
	snprintf(u, sizeof(u), "%s/containers", agent_url);
	snprintf(action, sizeof(action), "/guest/%s", name);
	assert_int_equal(th_http("GET", u, tok_hdrs, NULL, 0, &body), 200);
	cJSON *j = cJSON_Parse(body);
	const cJSON *c;
	out[0] = '\0';
	cJSON_ArrayForEach(c, get(j, "containers"))
	{
		const cJSON *a = get(c, "action"), *sk = cJSON_GetObjectItem(c, "socket");
		if (cJSON_IsString(a) && !strcmp(a->valuestring, action) && cJSON_IsString(sk)) {
			snprintf(out, n, "%s", sk->valuestring);
			break;
		}
	}
	cJSON_Delete(j);
	free(body);
}

/* Polls the agent every 50 ms until /guest/<name> has no container left,
 * for up to within_ms; how many are left then. */
static int wait_containers_gone(const char *name, long within_ms)
{
	char st[8][16];
	int n = 1;
	TH_RETRY(within_ms, 50) {
		n = container_states(name, st, 8);
		if (n == 0)
			break;
	}
	return n;
}

/* GET /log requests the agent has served (every outcome), from its metrics. */
static long agent_log_requests(void)
{
	char u[128], *out = NULL;
	long sum = 0;
	int seen = 0;
	snprintf(u, sizeof(u), "%s/metrics", agent_url);
	assert_int_equal(th_http("GET", u, NULL, NULL, 0, &out), 200);
	for (char *p = out; (p = strstr(p, "hearth_agent_ops_total{op=\"log\",")); p++) {
		if (p > out && p[-1] != '\n')
			continue;
		sum += strtol(strchr(p, ' ') + 1, NULL, 10);
		seen++;
	}
	free(out);
	assert_true(seen > 0); /* the series exist from the start */
	return sum;
}

/* The logs of activation id, as GET .../activations/{id}/logs shows them. */
static cJSON *activation_logs(const char *id)
{
	char path[128];
	cJSON *j = NULL;
	snprintf(path, sizeof(path), "/activations/%s/logs", id);
	assert_int_equal(api(0, "GET", path, NULL, &j), 200);
	cJSON *logs = cJSON_DetachItemFromObjectCaseSensitive(j, "logs");
	cJSON_Delete(j);
	assert_true(cJSON_IsArray(logs));
	return logs;
}

/* Blocking invoke of name with body; returns the activation id (in id). */
static void invoke_id(const char *name, const char *body, char *id, size_t idlen)
{
	char path[128];
	cJSON *j;
	snprintf(path, sizeof(path), "/actions/%s?blocking=true", name);
	assert_int_equal(api(0, "POST", path, body, &j), 200);
	assert_string_equal(get(get(j, "response"), "status")->valuestring, "success");
	/* logs never travel with the reply (the agent writes them) */
	assert_true(cJSON_IsArray(get(j, "logs")));
	assert_int_equal(cJSON_GetArraySize(get(j, "logs")), 0);
	snprintf(id, idlen, "%s", get(j, "activationId")->valuestring);
	cJSON_Delete(j);
}

static void test_silent_actions_skip_logs(void **state)
{
	char quiet[6][40], loud[40];
	put_action("quiet", "nodejs:20",
		   "function main(a){ if (a.say) { console.log('said ' + a.say);"
		   " console.error('warned ' + a.say); } return {ok: true} }",
		   NULL);
	put_action("quietpy", "python:3", "def main(a):\n  return {'ok': True}\n", NULL);
	/* first in the file: no earlier invoke has a log request in flight */
	long before = agent_log_requests();
	/* cold and warm, nodejs and python: the runtime answers
	 * x-hearth-log-bytes: 0 and the controller does not ask the agent */
	invoke_id("quiet", "{}", quiet[0], sizeof(quiet[0]));
	invoke_id("quietpy", NULL, quiet[1], sizeof(quiet[1]));
	invoke_id("quiet", "{}", quiet[2], sizeof(quiet[2]));
	invoke_id("quiet", "{\"say\":\"\"}", quiet[3], sizeof(quiet[3]));
	invoke_id("quietpy", NULL, quiet[4], sizeof(quiet[4]));
	/* one that prints on the same container: its logs are collected, and
	 * only its own lines (the silent ones' frames do not leak in) */
	invoke_id("quiet", "{\"say\":\"hi\"}", loud, sizeof(loud));
	int found = 0;
	cJSON *logs = NULL;
	TH_RETRY(5000, 50) {
		cJSON_Delete(logs);
		logs = activation_logs(loud);
		found = cJSON_GetArraySize(logs) >= 2;
		if (found)
			break;
	}
	assert_true(found);
	assert_int_equal(cJSON_GetArraySize(logs), 2);
	int out = 0, err = 0;
	const cJSON *l;
	cJSON_ArrayForEach(l, logs)
	{
		out += strstr(l->valuestring, " stdout: said hi") != NULL;
		err += strstr(l->valuestring, " stderr: warned hi") != NULL;
	}
	cJSON_Delete(logs);
	assert_int_equal(out, 1);
	assert_int_equal(err, 1);
	/* the agent served exactly one log request: the printing one's (a
	 * silent one's request, had there been one, went out before it) */
	long n = before;
	TH_RETRY(2000, 20) {
		n = agent_log_requests();
		if (n != before)
			break;
	}
	assert_int_equal(n, before + 1);
	th_sleep_ms(300); /* nothing else was on its way */
	assert_int_equal(agent_log_requests(), before + 1);
	/* silent again after it: still nothing asked */
	invoke_id("quiet", "{}", quiet[5], sizeof(quiet[5]));
	th_sleep_ms(300);
	assert_int_equal(agent_log_requests(), before + 1);
	/* and the silent ones read as [] (logs and the record) */
	for (int i = 0; i < 6; i++) {
		char path[300];
		cJSON *j;
		logs = activation_logs(quiet[i]);
		assert_int_equal(cJSON_GetArraySize(logs), 0);
		cJSON_Delete(logs);
		snprintf(path, sizeof(path), "/activations/%s", quiet[i]);
		assert_int_equal(api(0, "GET", path, NULL, &j), 200);
		assert_true(cJSON_IsArray(get(j, "logs")));
		assert_int_equal(cJSON_GetArraySize(get(j, "logs")), 0);
		cJSON_Delete(j);
	}
}

static void test_blocking_result_and_codes(void **state)
{
	cJSON *j;
	put_action("echo", "nodejs:20", "function main(a){console.log('echo', a.x); return a}",
		   "\"parameters\":[{\"key\":\"d\",\"value\":1}]");
	assert_int_equal(api(0, "POST", "/actions/echo?blocking=true", "{\"x\":7}", &j), 200);
	const cJSON *resp = get(j, "response");
	assert_string_equal(get(resp, "status")->valuestring, "success");
	assert_int_equal(get(get(resp, "result"), "x")->valueint, 7);
	assert_int_equal(get(get(resp, "result"), "d")->valueint, 1); /* default parameter */
	char id[40];
	snprintf(id, sizeof(id), "%s", get(j, "activationId")->valuestring);
	cJSON_Delete(j);

	assert_int_equal(api(0, "POST", "/actions/echo?blocking=true&result=true", "{\"x\":8}", &j),
			 200);
	assert_int_equal(get(j, "x")->valueint, 8);
	assert_null(get(j, "response"));
	cJSON_Delete(j);

	/* the record and the logs the agent collected (written off the reply path) */
	char path[128];
	snprintf(path, sizeof(path), "/activations/%s/logs", id);
	int found = 0;
	TH_RETRY(5000, 50) {
		assert_int_equal(api(0, "GET", path, NULL, &j), 200);
		const cJSON *l = cJSON_GetArrayItem(get(j, "logs"), 0);
		found = l && strstr(l->valuestring, "stdout: echo 7") != NULL;
		cJSON_Delete(j);
		if (found)
			break;
	}
	assert_true(found);
	snprintf(path, sizeof(path), "/activations/%s", id);
	assert_int_equal(api(0, "GET", path, NULL, &j), 200);
	assert_string_equal(get(j, "name")->valuestring, "echo");
	uint64_t start = (uint64_t)get(j, "start")->valuedouble;
	cJSON_Delete(j);
	/* stored in its creation time's bucket (the id's first 12 hex digits,
	 * its start), a line of the bucket's log, which lives the activation
	 * TTL (24 h by default) past its end */
	uint64_t now = (uint64_t)time(NULL) * 1000;
	assert_true(pr_activation_id_ms(id) + 60000 > now && pr_activation_id_ms(id) < now + 60000);
	assert_true(pr_activation_id_ms(id) == start);
	redisContext *rc = th_redis_connect(&R);
	assert_non_null(rc);
	char key[40];
	struct hc_buf kb = HC_BUF_FIXED(key);
	pr_activation_log_key(&kb, id);
	redisReply *rr = hc_redis_sync_cmd(rc, NULL, "GET %s", key);
	char line[64];
	snprintf(line, sizeof line, "\n%s [", id);
	assert_true(rr && rr->type == REDIS_REPLY_STRING && strstr(rr->str, line));
	freeReplyObject(rr);
	rr = hc_redis_sync_cmd(rc, NULL, "PTTL %s", key);
	assert_true(rr && rr->type == REDIS_REPLY_INTEGER);
	assert_true(rr->integer > 86400000 - 60000 && rr->integer <= 86400000 + 100);
	freeReplyObject(rr);
	/* indexed in its action's slice for its start second, which lives as
	 * long, as does the second's set of names; the slice is in the
	 * namespace's and the action's directories, which outlive it */
	char skey[128], nkey[128], dkey[2][128];
	struct hc_buf sb = HC_BUF_FIXED(skey), nb = HC_BUF_FIXED(nkey);
	struct hc_buf db0 = HC_BUF_FIXED(dkey[0]), db1 = HC_BUF_FIXED(dkey[1]);
	pr_activation_slice_key(&sb, "guest", "echo", start);
	pr_activation_names_key(&nb, "guest", start);
	pr_activation_dir_key(&db0, "guest", NULL);
	pr_activation_dir_key(&db1, "guest", "echo");
	rr = hc_redis_sync_cmd(rc, NULL, "LPOS %s %s", skey, id);
	assert_true(rr && rr->type == REDIS_REPLY_INTEGER);
	freeReplyObject(rr);
	rr = hc_redis_sync_cmd(rc, NULL, "SISMEMBER %s echo", nkey);
	assert_true(rr && rr->type == REDIS_REPLY_INTEGER && rr->integer == 1);
	freeReplyObject(rr);
	const char *ttl_keys[] = {skey, nkey};
	for (int i = 0; i < 2; i++) {
		rr = hc_redis_sync_cmd(rc, NULL, "PTTL %s", ttl_keys[i]);
		assert_true(rr && rr->type == REDIS_REPLY_INTEGER);
		assert_true(rr->integer > 86400000 - 60000 && rr->integer <= 86400000 + 1000);
		freeReplyObject(rr);
	}
	for (int i = 0; i < 2; i++) {
		rr = hc_redis_sync_cmd(rc, NULL, "ZSCORE %s %llu", dkey[i],
				       (unsigned long long)(start / PR_ACT_SLICE_MS));
		assert_true(rr && rr->type == REDIS_REPLY_STRING);
		freeReplyObject(rr);
		/* the action's is refreshed once a minute, so it has a minute more */
		long long spare = i == 0 ? 2000 : 62000;
		rr = hc_redis_sync_cmd(rc, NULL, "PTTL %s", dkey[i]);
		assert_true(rr && rr->type == REDIS_REPLY_INTEGER);
		assert_true(rr->integer > 86400000 - 60000 && rr->integer <= 86400000 + spare);
		freeReplyObject(rr);
	}
	/* a record bigger than PR_ACT_LOG_MAX is a field of the bucket's
	 * hash instead, and reads back whole, alone and in a list */
	put_action("bigres", "nodejs:20", "function main(){return {s: 'x'.repeat(20000)}}", NULL);
	assert_int_equal(api(0, "POST", "/actions/bigres?blocking=true", NULL, &j), 200);
	char bid[HC_ID_LEN + 1];
	snprintf(bid, sizeof bid, "%s", get(j, "activationId")->valuestring);
	cJSON_Delete(j);
	kb = (struct hc_buf)HC_BUF_FIXED(key);
	pr_activation_key(&kb, bid);
	int there = 0;
	TH_RETRY(2000, 20) {
		rr = hc_redis_sync_cmd(rc, NULL, "HEXISTS %s %s", key, bid);
		there = rr && rr->type == REDIS_REPLY_INTEGER && rr->integer == 1;
		freeReplyObject(rr);
		if (there)
			break;
	}
	assert_true(there);
	rr = hc_redis_sync_cmd(rc, NULL, "PTTL %s", key);
	assert_true(rr && rr->type == REDIS_REPLY_INTEGER && rr->integer > 86400000 - 60000);
	freeReplyObject(rr);
	snprintf(path, sizeof(path), "/activations/%s/result", bid);
	assert_int_equal(api(0, "GET", path, NULL, &j), 200);
	assert_int_equal(strlen(get(get(j, "result"), "s")->valuestring), 20000);
	cJSON_Delete(j);
	assert_int_equal(api(0, "GET", "/activations?docs=true&name=bigres", NULL, &j), 200);
	assert_int_equal(cJSON_GetArraySize(j), 1);
	assert_int_equal(
	    strlen(get(get(get(cJSON_GetArrayItem(j, 0), "response"), "result"), "s")->valuestring),
	    20000);
	cJSON_Delete(j);
	redisFree(rc);

	/* non-blocking: 202 with the id at once, the record appears later */
	assert_int_equal(api(0, "POST", "/actions/echo", "{\"x\":9}", &j), 202);
	snprintf(path, sizeof(path), "/activations/%s/result", get(j, "activationId")->valuestring);
	cJSON_Delete(j);
	long st = 0;
	TH_RETRY(5000, 50) {
		st = api(0, "GET", path, NULL, &j);
		if (st == 200)
			break;
		cJSON_Delete(j);
	}
	assert_int_equal(st, 200);
	assert_int_equal(get(get(j, "result"), "x")->valueint, 9);
	cJSON_Delete(j);

	/* array results come back as is; errors are 502 with the record */
	put_action("arr", "nodejs:20", "function main(){return [1,2,3]}", NULL);
	assert_int_equal(api(0, "POST", "/actions/arr?blocking=true", NULL, &j), 200);
	assert_true(cJSON_IsArray(j) && cJSON_GetArraySize(j) == 3);
	cJSON_Delete(j);
	put_action("apperr", "python:3", "def main(a):\n  return {'error': 'nope'}\n", NULL);
	assert_int_equal(api(0, "POST", "/actions/apperr?blocking=true", NULL, &j), 502);
	assert_string_equal(get(get(j, "response"), "status")->valuestring, "application error");
	cJSON_Delete(j);
	put_action("throws", "nodejs:20", "function main(){throw new Error('bad')}", NULL);
	assert_int_equal(api(0, "POST", "/actions/throws?blocking=true", NULL, &j), 502);
	assert_string_equal(get(get(j, "response"), "status")->valuestring,
			    "action developer error");
	cJSON_Delete(j);
}

/* A slice's index keys (its TTL, the second's names, the directories) go
 * out once per loop, slice and second, not with every record: 30 warm
 * invokes over 2.4 s make a few SADDs of the action's name (each new
 * second, on each loop that served one), where every record writes its
 * own APPEND (each in its own write-behind block, 80 ms apart), and each
 * log has its TTL (SET "" NX PXAT) before its first line. */
static void test_index_announced_once(void **state)
{
	cJSON *j;
	put_action("once", "nodejs:20", "function main(a){return a}", NULL);
	assert_int_equal(api(0, "POST", "/actions/once?blocking=true&result=true", "{}", &j), 200);
	cJSON_Delete(j);
	/* the watched records land in buckets (100 ms) no record before them
	 * used: a loop sends a bucket's SET once, before its first line */
	th_sleep_ms(250);
	redisContext *mc = th_redis_connect(&R);
	assert_non_null(mc);
	redisReply *rr = redisCommand(mc, "MONITOR");
	assert_true(rr && rr->type == REDIS_REPLY_STATUS);
	freeReplyObject(rr);
	for (int i = 0; i < 30; i++) { /* over 2.4 s: two or three new seconds */
		assert_int_equal(
		    api(0, "POST", "/actions/once?blocking=true&result=true", "{}", &j), 200);
		cJSON_Delete(j);
		th_sleep_ms(80);
	}
	th_sleep_ms(300); /* the last write-behind block is out */
	/* the monitor never goes quiet (heartbeats): read up to a marker */
	redisContext *rc = th_redis_connect(&R);
	assert_non_null(rc);
	freeReplyObject(hc_redis_sync_cmd(rc, NULL, "ECHO once-end"));
	redisFree(rc);
	struct timeval tv = {5, 0};
	redisSetTimeout(mc, tv);
	/* the SADDs of "once", by names key (one key per second) */
	char keys[16][64];
	int per_key[16] = {0}, nkeys = 0, sadd = 0, appends = 0, end = 0, nset = 0, unset = 0;
	char set[64][64];
	while (!end && redisGetReply(mc, (void **)&rr) == REDIS_OK && rr) {
		const char *k;
		if (rr->type == REDIS_REPLY_STATUS &&
		    (k = strstr(rr->str, "\"SADD\" \"" PR_KEY_ACT_NAMES_PREFIX)) &&
		    strstr(rr->str, "\"once\"")) {
			char key[64];
			snprintf(key, sizeof key, "%.*s", (int)strcspn(k + 8, "\""), k + 8);
			int i = 0;
			while (i < nkeys && strcmp(keys[i], key) != 0)
				i++;
			if (i == nkeys && nkeys < 16)
				strcpy(keys[nkeys++], key);
			if (i < 16)
				per_key[i]++;
			sadd++;
		}
		if (rr->type == REDIS_REPLY_STATUS &&
		    (k = strstr(rr->str, "\"SET\" \"" PR_KEY_ACT_LOG_PREFIX)) && nset < 64)
			snprintf(set[nset++], sizeof set[0], "%.*s", (int)strcspn(k + 7, "\""),
				 k + 7);
		if (rr->type == REDIS_REPLY_STATUS &&
		    (k = strstr(rr->str, "\"APPEND\" \"" PR_KEY_ACT_LOG_PREFIX))) {
			/* the log had its TTL before its first line */
			char key[64];
			snprintf(key, sizeof key, "%.*s", (int)strcspn(k + 10, "\""), k + 10);
			int i = 0;
			while (i < nset && strcmp(set[i], key) != 0)
				i++;
			unset += i == nset;
		}
		if (rr->type == REDIS_REPLY_STATUS) {
			appends += strstr(rr->str, "\"APPEND\" \"" PR_KEY_ACT_LOG_PREFIX) != NULL;
			end = strstr(rr->str, "\"once-end\"") != NULL;
		}
		freeReplyObject(rr);
	}
	redisFree(mc);
	assert_true(end);
	assert_true(appends >= 30);
	assert_int_equal(unset, 0);
	assert_true(nset >= 1);
	/* two seconds at least; in each, once per loop that stored a record
	 * (two controllers of two loops at most), where every record would
	 * have sent its own */
	assert_true(nkeys >= 2 && sadd < 30);
	for (int i = 0; i < nkeys; i++)
		assert_true(per_key[i] <= 4);
}

static void test_api_key_and_init_env(void **state)
{
	cJSON *j;
	const char *code = "function main(){return {key: process.env.__OW_API_KEY || '', "
			   "secret: process.env.SECRET || '', host: process.env.__OW_API_HOST}}";
	/* new actions get provide-api-key:false, so no key */
	put_action("nokey", "nodejs:20", code, NULL);
	assert_int_equal(api(0, "POST", "/actions/nokey?blocking=true&result=true", NULL, &j), 200);
	assert_string_equal(get(j, "key")->valuestring, "");
	cJSON_Delete(j);
	/* with the annotation the caller's uuid:key is handed over; an init
	 * parameter is exported at /init */
	put_action("withkey", "nodejs:20", code,
		   "\"annotations\":[{\"key\":\"provide-api-key\",\"value\":true}],"
		   "\"parameters\":[{\"key\":\"SECRET\",\"value\":\"s3\",\"init\":true}]");
	assert_int_equal(api(0, "POST", "/actions/withkey?blocking=true&result=true", NULL, &j),
			 200);
	assert_string_equal(get(j, "key")->valuestring, PR_AUTH_GUEST);
	assert_string_equal(get(j, "secret")->valuestring, "s3");
	/* __OW_API_HOST defaults to the controller's own URL */
	assert_string_equal(get(j, "host")->valuestring, ctl_url[0]);
	cJSON_Delete(j);
}

static void test_timeouts(void **state)
{
	cJSON *j;
	/* the blocking wait runs out first: 202, and the activation finishes later */
	put_action("slow", "nodejs:20",
		   "function main(){return new Promise(r => setTimeout(() => r({done:true}), "
		   "700))}",
		   NULL);
	assert_int_equal(api(0, "POST", "/actions/slow?blocking=true&timeout=200", NULL, &j), 202);
	assert_non_null(get(j, "activationId"));
	cJSON_Delete(j);
	/* the action outlives its own limit: developer error with OpenWhisk's message */
	put_action("hang", "nodejs:20", "function main(){return new Promise(() => {})}",
		   "\"limits\":{\"timeout\":300}");
	assert_int_equal(api(0, "POST", "/actions/hang?blocking=true", NULL, &j), 502);
	const cJSON *res = get(get(j, "response"), "result");
	assert_non_null(strstr(get(res, "error")->valuestring,
			       "The action exceeded its time limits of 300 milliseconds."));
	cJSON_Delete(j);
	/* a container whose process dies mid-run: developer error, never retried;
	 * the next invoke gets a new container */
	put_action("dies", "nodejs:20",
		   "let n = 0; function main(){ if (n++ === 0) process.exit(3); return {n} }",
		   NULL);
	long before = allocations(sched_url[0]);
	assert_int_equal(api(0, "POST", "/actions/dies?blocking=true", NULL, &j), 502);
	assert_string_equal(get(get(j, "response"), "status")->valuestring,
			    "action developer error");
	cJSON_Delete(j);
	/* one allocation only: the activation was not run again elsewhere */
	assert_int_equal(allocations(sched_url[0]), before + 1);
	/* a fresh container: its n starts at 0 again, so it dies again */
	assert_int_equal(api(0, "POST", "/actions/dies?blocking=true&result=true", NULL, &j), 502);
	cJSON_Delete(j);
	assert_int_equal(allocations(sched_url[0]), before + 2);
	/* the container was discarded: eventually none is left for it */
	assert_int_equal(wait_containers_gone("hang", 5000), 0);
}

/* Whether activation record rec carries the initTime annotation (a run
 * that needed /init). */
static int has_init_time(const cJSON *rec)
{
	const cJSON *e;
	cJSON_ArrayForEach(e, get(rec, "annotations"))
	{
		if (!strcmp(get(e, "key")->valuestring, "initTime"))
			return 1;
	}
	return 0;
}

static void test_cold_then_warm_and_pause(void **state)
{
	cJSON *j;
	char st[8][16];
	put_action("warm", "python:3", "def main(a):\n  return {'ok': True}\n", NULL);
	assert_int_equal(api(0, "POST", "/actions/warm?blocking=true", NULL, &j), 200);
	assert_true(has_init_time(j)); /* a cold start carries initTime */
	cJSON_Delete(j);
	long before = allocations(sched_url[0]);
	assert_true(before > 0);
	for (int i = 0; i < 20; i++) {
		assert_int_equal(
		    api(0, "POST", "/actions/warm?blocking=true&result=true", NULL, &j), 200);
		cJSON_Delete(j);
	}
	/* warm invokes never ask the scheduler for an allocation */
	assert_int_equal(allocations(sched_url[0]), before);
	assert_int_equal(container_states("warm", st, 8), 1);
	/* and reach the container on this host by its local socket, not TCP */
	char sock[64];
	container_socket("warm", sock, sizeof(sock));
	assert_true(sock[0] == '@');
	assert_true(th_unix_accepted(sock) >= 1);

	/* after the pause grace the container is suspended... */
	int n = 0;
	TH_RETRY(2000, 20) {
		n = container_states("warm", st, 8);
		if (n == 1 && !strcmp(st[0], "suspended"))
			break;
	}
	assert_int_equal(n, 1);
	assert_string_equal(st[0], "suspended");
	/* ...and the next invoke resumes it, still without an allocation */
	assert_int_equal(api(0, "POST", "/actions/warm?blocking=true&result=true", NULL, &j), 200);
	assert_true(cJSON_IsTrue(get(j, "ok")));
	cJSON_Delete(j);
	container_states("warm", st, 8);
	assert_string_equal(st[0], "warm");
	assert_int_equal(allocations(sched_url[0]), before);
}

/* A deleted and re-created action starts again at version 0.0.1: its warm
 * containers (still holding the old code) must not run it. */
static void test_recreated_action_runs_its_new_code(void **state)
{
	cJSON *j;
	for (int gen = 1; gen <= 3; gen++) {
		char code[96];
		snprintf(code, sizeof(code), "function main() { return {gen: %d}; }", gen);
		put_action("reborn", "nodejs:20", code, NULL);
		for (int i = 0; i < 2; i++) { /* the second one warm */
			assert_int_equal(
			    api(0, "POST", "/actions/reborn?blocking=true&result=true", NULL, &j),
			    200);
			assert_int_equal((int)cJSON_GetNumberValue(get(j, "gen")), gen);
			cJSON_Delete(j);
		}
		assert_int_equal(api(0, "GET", "/actions/reborn", NULL, &j), 200);
		assert_string_equal(cJSON_GetStringValue(get(j, "version")), "0.0.1");
		assert_null(get(j, "rev")); /* the revision stays hearth's own */
		cJSON_Delete(j);
		assert_int_equal(api(0, "DELETE", "/actions/reborn", NULL, NULL), 200);
	}
}

static long ctl_containers(int c)
{
	char u[128], *out = NULL;
	snprintf(u, sizeof(u), "%s/healthz", ctl_url[c]);
	th_http("GET", u, NULL, NULL, 0, &out);
	cJSON *j = out ? cJSON_Parse(out) : NULL;
	long n = j ? (long)get(j, "containers")->valuedouble : -1;
	cJSON_Delete(j);
	free(out);
	return n;
}

static void test_container_destroyed_elsewhere(void **state)
{
	cJSON *j;
	char u[256], *out = NULL, id[40] = "";
	put_action("gone", "nodejs:20",
		   "const me = Math.floor(Math.random() * 1e9); function main(){return {pid: me}}",
		   NULL);
	assert_int_equal(api(0, "POST", "/actions/gone?blocking=true&result=true", NULL, &j), 200);
	int pid = get(j, "pid")->valueint;
	cJSON_Delete(j);
	long before = ctl_containers(0);
	/* remove it behind the controller's back: the agent announces it */
	snprintf(u, sizeof(u), "%s/containers", agent_url);
	assert_int_equal(th_http("GET", u, tok_hdrs, NULL, 0, &out), 200);
	cJSON *l = cJSON_Parse(out);
	free(out);
	const cJSON *c;
	cJSON_ArrayForEach(
	    c, get(l, "containers")) if (!strcmp(get(c, "action")->valuestring, "/guest/gone"))
	    snprintf(id, sizeof(id), "%s", get(c, "id")->valuestring);
	cJSON_Delete(l);
	assert_true(id[0]);
	snprintf(u, sizeof(u), "%s/containers/%s", agent_url, id);
	assert_int_equal(th_http("DELETE", u, tok_hdrs, NULL, 0, NULL), 204);
	long n = before;
	TH_RETRY(2000, 20) {
		n = ctl_containers(0);
		if (n != before)
			break;
	}
	assert_int_equal(n, before - 1);
	/* the next invoke gets a new container */
	assert_int_equal(api(0, "POST", "/actions/gone?blocking=true&result=true", NULL, &j), 200);
	assert_int_not_equal(get(j, "pid")->valueint, pid);
	cJSON_Delete(j);
}

/* The pid of the hearth-runtime listening on port (a container's main
 * process, under either backend), from /proc; 0 when there is none. */
static pid_t runtime_on_port(int port)
{
	char want[32], path[300], buf[4096];
	/* argv is NUL-separated: "--port\0<port>\0" */
	int wl = snprintf(want, sizeof(want), "--port!%d!", port);
	want[6] = want[wl - 1] = '\0';
	pid_t found = 0;
	DIR *d = opendir("/proc");
	struct dirent *e;
	while (d && !found && (e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		size_t n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		if (n && strstr(buf, "hearth-runtime") && memmem(buf, n, want, (size_t)wl))
			found = (pid_t)atoi(e->d_name);
	}
	if (d)
		closedir(d);
	return found;
}

struct bg_invoke {
	pthread_t t;
	const char *path;
	long status;
	cJSON *j;
};

static void *bg_invoke_main(void *arg)
{
	struct bg_invoke *b = arg;
	b->status = api(0, "POST", b->path, NULL, &b->j);
	return NULL;
}

/* A container that refuses the connection (its process is gone and nobody
 * has said so yet) never saw the activation: at-most-once allows running it
 * on another container, and the caller gets its result, not an error. */
static void test_refused_container_is_replaced(void **state)
{
	cJSON *j;
	char u[256], *out = NULL;
	put_action("refused", "nodejs:20",
		   "const me = Math.floor(Math.random() * 1e9); function main(){return {pid: me}}",
		   NULL);
	assert_int_equal(api(0, "POST", "/actions/refused?blocking=true&result=true", NULL, &j),
			 200);
	int me = get(j, "pid")->valueint;
	cJSON_Delete(j);
	/* its port, from the agent */
	snprintf(u, sizeof(u), "%s/containers", agent_url);
	assert_int_equal(th_http("GET", u, tok_hdrs, NULL, 0, &out), 200);
	cJSON *l = cJSON_Parse(out);
	free(out);
	int port = 0;
	const cJSON *c;
	cJSON_ArrayForEach(c, get(l, "containers"))
	{
		if (!strcmp(get(c, "action")->valuestring, "/guest/refused"))
			port = get(c, "port")->valueint;
	}
	cJSON_Delete(l);
	assert_true(port > 0);
	pid_t rt = runtime_on_port(port);
	assert_true(rt > 0);
	long before = allocations(sched_url[0]);
	long refused = ctl_metric(0, "hearth_controller_resent_total");
	/* warm it again (it may have been suspended meanwhile): for the next
	 * pause grace (100 ms) the controller holds it ready, so nothing slow
	 * may come between this and the next invoke (a loaded machine used to
	 * spend the grace reading metrics here: the container was suspended and
	 * the activation never went the refused way) */
	assert_int_equal(api(0, "POST", "/actions/refused?blocking=true&result=true", NULL, &j),
			 200);
	assert_int_equal(get(j, "pid")->valueint, me);
	cJSON_Delete(j);
	/* the agent cannot tell anyone while it is stopped */
	assert_int_equal(kill(agent_pid, SIGSTOP), 0);
	assert_int_equal(kill(rt, SIGKILL), 0);
	th_sleep_ms(5); /* its socket closes with it */
	struct bg_invoke b = {.path = "/actions/refused?blocking=true&result=true"};
	assert_int_equal(pthread_create(&b.t, NULL, bg_invoke_main, &b), 0);
	th_sleep_ms(300); /* the controller finds the port closed and asks for another */
	assert_int_equal(kill(agent_pid, SIGCONT), 0);
	pthread_join(b.t, NULL);
	assert_int_equal(b.status, 200);
	assert_int_not_equal(get(b.j, "pid")->valueint, me);
	cJSON_Delete(b.j);
	assert_true(allocations(sched_url[0]) > before);
	/* it went the refused way (not a resume of a dead container) */
	assert_int_equal(ctl_metric(0, "hearth_controller_resent_total"), refused + 1);
}

static void test_sequence(void **state)
{
	cJSON *j;
	put_action("s1", "nodejs:20", "function main(a){return {n: (a.n||0) + 1, p: 's1'}}", NULL);
	put_action("s2", "python:3",
		   "def main(a):\n  return {'n': a['n'] * 10, 'p': a['p'] + 's2'}\n", NULL);
	put_action("s3", "nodejs:20", "function main(a){return {n: a.n + 3, p: a.p + 's3'}}", NULL);
	assert_int_equal(api(0, "PUT", "/actions/seq",
			     "{\"exec\":{\"kind\":\"sequence\",\"components\":[\"/_/s1\","
			     "\"/guest/s2\",\"/_/s3\"]}}",
			     &j),
			 200);
	cJSON_Delete(j);
	assert_int_equal(api(0, "POST", "/actions/seq?blocking=true", "{\"n\":1}", &j), 200);
	const cJSON *res = get(get(j, "response"), "result");
	assert_int_equal(get(res, "n")->valueint, 23); /* ((1+1)*10)+3 */
	assert_string_equal(get(res, "p")->valuestring, "s1s2s3");
	const cJSON *logs = get(j, "logs");
	assert_int_equal(cJSON_GetArraySize(logs), 3); /* component activation ids */
	char path[128];
	snprintf(path, sizeof(path), "/activations/%s", cJSON_GetArrayItem(logs, 1)->valuestring);
	char seq_id[40];
	snprintf(seq_id, sizeof(seq_id), "%s", get(j, "activationId")->valuestring);
	cJSON_Delete(j);
	long s = 0;
	TH_RETRY(1000, 20) {
		s = api(0, "GET", path, NULL, &j);
		if (s == 200)
			break;
		cJSON_Delete(j);
	}
	assert_int_equal(s, 200);
	assert_string_equal(get(j, "cause")->valuestring, seq_id);
	assert_string_equal(get(j, "name")->valuestring, "s2");
	cJSON_Delete(j);
	/* a failing component ends the chain with its error */
	assert_int_equal(api(0, "PUT", "/actions/seqbad",
			     "{\"exec\":{\"kind\":\"sequence\",\"components\":[\"/_/s1\","
			     "\"/_/throws\",\"/_/s3\"]}}",
			     NULL),
			 200);
	assert_int_equal(api(0, "POST", "/actions/seqbad?blocking=true", "{}", &j), 502);
	assert_int_equal(cJSON_GetArraySize(get(j, "logs")), 2);
	cJSON_Delete(j);
}

struct conc {
	long status;
	int done;
};

static void *conc_call(void *arg)
{
	struct conc *c = arg;
	cJSON *j = NULL;
	c->status = api(0, "POST", "/actions/conc?blocking=true&result=true", NULL, &j);
	c->done = c->status == 200 && cJSON_IsTrue(get(j, "done"));
	cJSON_Delete(j);
	return NULL;
}

static void test_concurrency(void **state)
{
	char st[8][16];
	put_action("conc", "nodejs:20",
		   "function main(){return new Promise(r => setTimeout(() => r({done:true}), "
		   "400))}",
		   "\"limits\":{\"concurrency\":4}");
	pthread_t t[4];
	struct conc c[4] = {{0}};
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, conc_call, &c[i]);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(c[i].status, 200);
		assert_true(c[i].done);
	}
	/* four at once on one container */
	assert_int_equal(container_states("conc", st, 8), 1);
}

/* Controller 1 runs name cold and waits until its container is suspended. */
static int run_on_1_then_idle(const char *name)
{
	cJSON *j;
	char st[8][16], path[128];
	snprintf(path, sizeof(path), "/actions/%s?blocking=true&result=true", name);
	assert_int_equal(api(1, "POST", path, NULL, &j), 200);
	int pid = get(j, "pid")->valueint;
	cJSON_Delete(j);
	TH_RETRY(2000, 20) {
		if (container_states(name, st, 8) == 1 && !strcmp(st[0], "suspended"))
			break;
	}
	return pid;
}

/* A controller run with a fixed id, its port and URL. */
/* A controller of its own with a fixed id, --pause-grace 10m and --drain
 * drain ("0": SIGTERM stops at once). */
static pid_t start_fixed(const char *id, char *url, const char *drain)
{
	char port[16];
	int p = th_free_port();
	snprintf(port, sizeof(port), "%d", p);
	char *argv[] = {
	    "hearth-controller", "--id", (char *)id,	  "--port", port,      "--redis",     R.url,
	    "--token",		 TOKEN,	 "--pause-grace", "10m",    "--drain", (char *)drain, NULL};
	return start(argv, p, url);
}

/* A controller with a fixed id killed while its container is busy (inside
 * its pause grace) and restarted at once under the same id: the new run
 * finds the old run's registration, drops it and waits until the
 * scheduler has taken back what the old run held, so the old container is
 * destroyed instead of staying busy for an owner that no longer knows it.
 * Then the same after SIGTERM (the old run leaves a mark of its stop). */
static void test_restart_same_id(void **state)
{
	char url[64], u[192], st[8][16], *out = NULL;
	put_action("sameid", "nodejs:20", "function main(){return {v:1}}", NULL);
	pid_t pid = start_fixed("fixed-ctl", url, "0");
	snprintf(u, sizeof(u), "%s/api/v1/namespaces/_/actions/sameid?blocking=true&result=true",
		 url);
	assert_int_equal(th_http("POST", u, hdrs, "{}", 2, &out), 200);
	free(out);
	assert_int_equal(container_states("sameid", st, 8), 1);
	th_stop(pid, SIGKILL, 2000);
	pid = start_fixed("fixed-ctl", url, "0");
	assert_int_equal(wait_containers_gone("sameid", 8000), 0);
	/* and the new run serves it (a new container) */
	snprintf(u, sizeof(u), "%s/api/v1/namespaces/_/actions/sameid?blocking=true&result=true",
		 url);
	out = NULL;
	assert_int_equal(th_http("POST", u, hdrs, "{}", 2, &out), 200);
	free(out);
	assert_int_equal(container_states("sameid", st, 8), 1);
	/* the same after a clean stop and an immediate restart */
	assert_int_equal(th_stop(pid, SIGTERM, 5000), 0);
	pid = start_fixed("fixed-ctl", url, "0");
	assert_int_equal(wait_containers_gone("sameid", 8000), 0);
	assert_int_equal(th_stop(pid, SIGTERM, 5000), 0);
}

struct bg_post {
	pthread_t t;
	const char *url;
	const char *body;
	long status;
	char *out;
	atomic_int done;
};

static void *bg_post_main(void *arg)
{
	struct bg_post *b = arg;
	b->status = th_http("POST", b->url, hdrs, b->body, strlen(b->body), &b->out);
	atomic_store(&b->done, 1);
	return NULL;
}

/* SIGTERM drains: an invoke under way finishes (200, where a stop at once
 * answers 503); meanwhile the idle container is suspended and released and
 * the scheduler hands it to another controller (no forward to one that is
 * stopping); after the stop the container stays warm instead of going with
 * its owner. */
static void test_drain_on_sigterm(void **state)
{
	char url[64], u[192], st[8][16];
	cJSON *j;
	put_action("drain", "nodejs:20",
		   "function main(p){return new Promise(r => setTimeout(() => r({v:1}), p.ms))}",
		   NULL);
	pid_t pid = start_fixed("drain-ctl", url, "10s");
	snprintf(u, sizeof(u), "%s/api/v1/namespaces/_/actions/drain?blocking=true&result=true",
		 url);
	/* two containers: two invokes at once */
	struct bg_post w[2] = {{.url = u, .body = "{\"ms\":500}"},
			       {.url = u, .body = "{\"ms\":500}"}};
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&w[i].t, NULL, bg_post_main, &w[i]), 0);
	for (int i = 0; i < 2; i++) {
		pthread_join(w[i].t, NULL);
		assert_int_equal(w[i].status, 200);
		free(w[i].out);
	}
	assert_int_equal(container_states("drain", st, 8), 2);
	struct bg_post b = {.url = u, .body = "{\"ms\":4000}"};
	assert_int_equal(pthread_create(&b.t, NULL, bg_post_main, &b), 0);
	th_sleep_ms(300);
	assert_int_equal(kill(pid, SIGTERM), 0);
	/* the idle one goes to controller 0 while the long run goes on */
	th_sleep_ms(1500); /* suspended, released, and seen draining at a refresh */
	assert_int_equal(api(0, "POST", "/actions/drain?blocking=true", "{\"ms\":0}", &j), 200);
	assert_false(atomic_load(&b.done));
	assert_false(has_init_time(j)); /* warm: the other controller's container, no /init */
	cJSON_Delete(j);
	assert_int_equal(container_states("drain", st, 8), 2);
	pthread_join(b.t, NULL);
	assert_int_equal(b.status, 200);
	assert_non_null(strstr(b.out, "\"v\""));
	free(b.out);
	assert_true(th_wait_exit(pid, 8000) >= 0);
	/* the scheduler sees the controller gone at its next refresh (1 s): a
	 * busy container would be destroyed then, a free one stays */
	th_sleep_ms(2500);
	assert_int_equal(container_states("drain", st, 8), 2);
}

static void test_forwarding(void **state)
{
	cJSON *j;
	char st[8][16], name[32], path[128];
	int forwards = 0;
	/* controller 1 starts a container and lets it go idle (suspended, free);
	 * controller 0 has none, the scheduler names controller 1's and
	 * controller 0 forwards: the same container answers (the action returns
	 * a random number drawn once per container), no new container.
	 * The scheduler learns an owner's URL the first time it meets one of
	 * its free containers and does not forward that time, so with two
	 * owners (loops) on controller 1 the first rounds may run elsewhere. */
	for (int i = 0; i < 10 && forwards < 3; i++) {
		snprintf(name, sizeof(name), "fwd%d", i);
		put_action(name, "nodejs:20",
			   "const me = Math.floor(Math.random() * 1e9); function main(a){return "
			   "{pid: me}}",
			   NULL);
		int pid = run_on_1_then_idle(name);
		long fw = ctl_metric(0, "hearth_controller_forwards_total");
		snprintf(path, sizeof(path), "/actions/%s?blocking=true&result=true", name);
		assert_int_equal(api(0, "POST", path, NULL, &j), 200);
		int pid2 = get(j, "pid")->valueint;
		cJSON_Delete(j);
		if (ctl_metric(0, "hearth_controller_forwards_total") == fw + 1) {
			assert_int_equal(pid2, pid);
			assert_int_equal(container_states(name, st, 8), 1);
			forwards++;
		}
		th_sleep_ms(150);
	}
	assert_int_equal(forwards, 3);
	/* informational: how many were handed between controller 1's loops */
	char u[128], *out = NULL;
	snprintf(u, sizeof(u), "%s/metrics", ctl_url[1]);
	th_http("GET", u, NULL, NULL, 0, &out);
	char *p =
	    out ? strstr(out, "hearth_controller_forwards_received_total{loop=\"other\"}") : NULL;
	if (p)
		fprintf(stderr, "forwards handed across loops: %ld\n",
			strtol(strchr(p, ' ') + 1, NULL, 10));
	free(out);
	/* the full record comes back through a forward too */
	put_action("fwdrec", "nodejs:20",
		   "const me = Math.floor(Math.random() * 1e9); function main(a){return {pid: me}}",
		   NULL);
	run_on_1_then_idle("fwdrec");
	assert_int_equal(api(0, "POST", "/actions/fwdrec?blocking=true", NULL, &j), 200);
	assert_string_equal(get(get(j, "response"), "status")->valuestring, "success");
	assert_string_equal(get(j, "name")->valuestring, "fwdrec");
	cJSON_Delete(j);
}

static void test_scheduler_failover(void **state)
{
	cJSON *j;
	put_action("fo1", "nodejs:20", "function main(){return {v:1}}", NULL);
	assert_int_equal(api(0, "POST", "/actions/fo1?blocking=true&result=true", NULL, &j), 200);
	cJSON_Delete(j);
	/* kill the leader mid-stream; invokes keep succeeding, including a cold
	 * one that needs the standby to take over and allocate */
	for (int i = 0; i < 30; i++) {
		if (i == 5)
			th_stop(sched_pid[0], SIGKILL, 1000);
		if (i == 10)
			put_action("fo2", "python:3", "def main(a):\n  return {'v': 2}\n", NULL);
		const char *p = i >= 10 && i % 2 ? "/actions/fo2?blocking=true&result=true"
						 : "/actions/fo1?blocking=true&result=true";
		long s = api(0, "POST", p, NULL, &j);
		if (s != 200)
			fprintf(stderr, "invoke %d: %ld\n", i, s);
		assert_int_equal(s, 200);
		assert_non_null(get(j, "v"));
		cJSON_Delete(j);
		th_sleep_ms(30);
	}
	/* the standby is the leader now */
	assert_true(allocations(sched_url[1]) > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_silent_actions_skip_logs),
	    cmocka_unit_test(test_blocking_result_and_codes),
	    cmocka_unit_test(test_index_announced_once),
	    cmocka_unit_test(test_api_key_and_init_env),
	    cmocka_unit_test(test_timeouts),
	    cmocka_unit_test(test_cold_then_warm_and_pause),
	    cmocka_unit_test(test_recreated_action_runs_its_new_code),
	    cmocka_unit_test(test_container_destroyed_elsewhere),
	    cmocka_unit_test(test_refused_container_is_replaced),
	    cmocka_unit_test(test_sequence),
	    cmocka_unit_test(test_concurrency),
	    cmocka_unit_test(test_restart_same_id),
	    cmocka_unit_test(test_drain_on_sigterm),
	    cmocka_unit_test(test_forwarding),
	    cmocka_unit_test(test_scheduler_failover),
	};
	return cmocka_run_group_tests_name("it_controller_invoke", tests, setup, teardown);
}
