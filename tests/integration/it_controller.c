/* it_controller.c — hearth-controller's REST API against a real Redis:
 * auth (401 with OpenWhisk's challenge, 403, `_`), namespaces, limits,
 * actions CRUD with OpenWhisk's codes and shapes, code stored once per
 * digest, cache invalidation when a key is deleted, activations read API
 * (records and logs as the controller and agent write them), invoke's
 * request errors, and the per-thread memory of verified credentials. The invoke path with real
 * containers is it_controller_invoke.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "common/redis.h"
#include "proto/activation.h"
#include "proto/auth.h"
#include "proto/keys.h"
#include "tests/lib/harness.h"
#include "tests/lib/wait.h"

static struct th_redis R;
static redisContext *rc;
static int port;
static pid_t ctl_pid;
static char base[64];
static char auth_hdr[256];
static const char *const hdrs[] = {auth_hdr, "Content-Type: application/json", NULL};

static void make_auth(char *out, size_t n, const char *cred)
{
	char b64[200];
	pr_base64_encode(cred, strlen(cred), b64, sizeof(b64));
	snprintf(out, n, "Authorization: Basic %s", b64);
}

/* A request with the guest credential; returns status, *json parsed body. */
static long req(const char *method, const char *path, const char *body, cJSON **json)
{
	char url[512], *out = NULL;
	snprintf(url, sizeof(url), "%s%s", base, path);
	long st = th_http(method, url, hdrs, body, body ? strlen(body) : 0, &out);
	if (json)
		*json = out ? cJSON_Parse(out) : NULL;
	free(out);
	return st;
}

/* Raw HTTP/1.1 exchange to see headers; returns the whole response. */
static char *raw(const char *request)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(write(fd, request, strlen(request)), (ssize_t)strlen(request));
	char *buf = calloc(1, 65536);
	size_t len = 0;
	ssize_t n;
	while (len < 65535 && (n = read(fd, buf + len, 65535 - len)) > 0)
		len += (size_t)n;
	close(fd);
	return buf;
}

static const char *sget(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int setup(void **state)
{
	struct hc_err err;
	char cred[PR_AUTH_CRED_LEN + 1], ports[16];
	if (th_redis_start(&R) < 0)
		return -1;
	rc = th_redis_connect(&R);
	assert_non_null(rc);
	assert_int_equal(pr_auth_key_create(rc, "guest", PR_AUTH_GUEST, cred, &err), 0);
	make_auth(auth_hdr, sizeof(auth_hdr), PR_AUTH_GUEST);
	port = th_free_port();
	snprintf(ports, sizeof(ports), "%d", port);
	char *argv[] = {"hearth-controller", "--port", ports, "--threads", "2", "--redis", R.url,
			"--token", "t0ken", "--activation-ttl", "1h", "--queue-max", "2",
			/* no scheduler here: the activations test_overflow_queue
			 * leaves waiting would hold a drain to its end */
			"--drain", "0", NULL};
	ctl_pid = th_daemon_start(argv, NULL, port, 10000, NULL, 0);
	assert_true(ctl_pid > 0);
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
	return 0;
}

static int teardown(void **state)
{
	/* a clean exit (status 0) also means no leak report under ASan */
	int st = th_stop(ctl_pid, 15, 5000);
	redisFree(rc);
	th_redis_stop(&R);
	assert_int_equal(st, 0);
	return 0;
}

static void test_info_and_health(void **state)
{
	char url[128], *out = NULL;
	snprintf(url, sizeof(url), "%s/api/v1", base);
	assert_int_equal(th_http("GET", url, NULL, NULL, 0, &out), 200);
	cJSON *j = cJSON_Parse(out);
	assert_string_equal(sget(j, "api_version_path"), "v1");
	assert_non_null(cJSON_GetObjectItemCaseSensitive(j, "swagger_paths"));
	cJSON_Delete(j);
	free(out);
	snprintf(url, sizeof(url), "%s/healthz", base);
	assert_int_equal(th_http("GET", url, NULL, NULL, 0, &out), 200);
	j = cJSON_Parse(out);
	assert_non_null(sget(j, "id"));
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(j, "containers")->valueint, 0);
	cJSON_Delete(j);
	free(out);
}

static void test_auth(void **state)
{
	/* no credentials: 401, OpenWhisk's challenge and error shape */
	char *r = raw("GET /api/v1/namespaces HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_non_null(strstr(r, "HTTP/1.1 401"));
	assert_non_null(strstr(r, "WWW-Authenticate: Basic realm=\"OpenWhisk secure realm\""));
	assert_non_null(strstr(r, "\"code\":"));
	free(r);
	/* wrong key */
	char bad[256], url[256], *out = NULL;
	char cred[PR_AUTH_CRED_LEN + 1];
	snprintf(cred, sizeof(cred), "%s", PR_AUTH_GUEST);
	cred[40] = cred[40] == 'a' ? 'b' : 'a';
	make_auth(bad, sizeof(bad), cred);
	const char *h[] = {bad, NULL};
	snprintf(url, sizeof(url), "%s/api/v1/namespaces", base);
	assert_int_equal(th_http("GET", url, h, NULL, 0, &out), 401);
	assert_non_null(strstr(out, "The supplied authentication is invalid"));
	free(out);
	/* unknown uuid, and garbage */
	make_auth(bad, sizeof(bad), PR_AUTH_SYSTEM);
	assert_int_equal(th_http("GET", url, h, NULL, 0, NULL), 401);
	const char *g[] = {"Authorization: Basic ****", NULL};
	assert_int_equal(th_http("GET", url, g, NULL, 0, NULL), 401);
	/* right key */
	cJSON *j;
	assert_int_equal(req("GET", "/api/v1/namespaces", NULL, &j), 200);
	assert_int_equal(cJSON_GetArraySize(j), 1);
	assert_string_equal(cJSON_GetArrayItem(j, 0)->valuestring, "guest");
	cJSON_Delete(j);
	/* another namespace: 403 */
	assert_int_equal(req("GET", "/api/v1/namespaces/whisk.system/actions", NULL, &j), 403);
	assert_string_equal(sget(j, "error"),
			    "The supplied authentication is not authorized to access this "
			    "resource.");
	cJSON_Delete(j);
	assert_int_equal(req("GET", "/api/v1/namespaces/guest/limits", NULL, &j), 200);
	assert_non_null(cJSON_GetObjectItemCaseSensitive(j, "maxActionTimeout"));
	cJSON_Delete(j);
}

static void test_actions_crud(void **state)
{
	cJSON *j;
	const char *code = "{\"exec\":{\"kind\":\"nodejs:default\",\"code\":\"function main(a)"
			   "{return {x:1}}\"},\"parameters\":[{\"key\":\"p\",\"value\":1}]}";
	assert_int_equal(req("PUT", "/api/v1/namespaces/_/actions/crud1", code, &j), 200);
	assert_string_equal(sget(j, "version"), "0.0.1");
	assert_string_equal(sget(cJSON_GetObjectItemCaseSensitive(j, "exec"), "kind"), "nodejs:20");
	assert_non_null(sget(cJSON_GetObjectItemCaseSensitive(j, "exec"), "code"));
	cJSON_Delete(j);
	assert_int_equal(req("PUT", "/api/v1/namespaces/_/actions/crud1", code, &j), 409);
	assert_string_equal(sget(j, "error"), "resource already exists");
	cJSON_Delete(j);
	assert_int_equal(req("PUT", "/api/v1/namespaces/_/actions/crud1?overwrite=true",
			     "{\"limits\":{\"memory\":256}}", &j),
			 200);
	assert_string_equal(sget(j, "version"), "0.0.2");
	/* the update kept the code and the parameters */
	assert_non_null(
	    strstr(sget(cJSON_GetObjectItemCaseSensitive(j, "exec"), "code"), "return {x:1}"));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "parameters")), 1);
	cJSON_Delete(j);
	assert_int_equal(req("GET", "/api/v1/namespaces/guest/actions/crud1?code=false", NULL, &j),
			 200);
	assert_null(sget(cJSON_GetObjectItemCaseSensitive(j, "exec"), "code"));
	cJSON_Delete(j);
	assert_int_equal(req("GET", "/api/v1/namespaces/guest/actions/crud1", NULL, &j), 200);
	assert_non_null(sget(cJSON_GetObjectItemCaseSensitive(j, "exec"), "code"));
	cJSON_Delete(j);

	/* validation: OpenWhisk's messages and codes */
	assert_int_equal(req("PUT", "/api/v1/namespaces/_/actions/crud2",
			     "{\"exec\":{\"kind\":\"nodejs:20\",\"code\":\"x\"},\"limits\":{"
			     "\"timeout\":10}}",
			     &j),
			 400);
	assert_non_null(strstr(sget(j, "error"), "duration 10 milliseconds below allowed "
						 "threshold of 100 milliseconds"));
	cJSON_Delete(j);
	assert_int_equal(req("PUT", "/api/v1/namespaces/_/actions/crud2",
			     "{\"exec\":{\"kind\":\"cobol\",\"code\":\"x\"}}", &j),
			 400);
	assert_non_null(strstr(sget(j, "error"), "not supported"));
	cJSON_Delete(j);
	assert_int_equal(req("PUT", "/api/v1/namespaces/_/actions/crud2", "{oops", NULL), 400);
	assert_int_equal(req("PUT", "/api/v1/namespaces/_/actions/crud2", "{}", &j), 400);
	assert_non_null(strstr(sget(j, "error"), "exec undefined"));
	cJSON_Delete(j);
	/* parameters over 1 MB: 413 */
	size_t n = 1100 * 1000;
	char *big = malloc(n + 200);
	int off = sprintf(big, "{\"exec\":{\"kind\":\"nodejs:20\",\"code\":\"x\"},\"parameters\":"
			       "[{\"key\":\"k\",\"value\":\"");
	memset(big + off, 'a', n);
	strcpy(big + off + n, "\"}]}");
	assert_int_equal(req("PUT", "/api/v1/namespaces/_/actions/crud2", big, NULL), 413);
	free(big);
	assert_int_equal(req("GET", "/api/v1/namespaces/_/actions/crud2", NULL, &j), 404);
	assert_string_equal(sget(j, "error"), "The requested resource does not exist.");
	cJSON_Delete(j);

	/* delete returns the document; then 404 */
	assert_int_equal(req("DELETE", "/api/v1/namespaces/_/actions/crud1", NULL, &j), 200);
	assert_string_equal(sget(j, "name"), "crud1");
	cJSON_Delete(j);
	assert_int_equal(req("DELETE", "/api/v1/namespaces/_/actions/crud1", NULL, NULL), 404);
	assert_int_equal(req("GET", "/api/v1/namespaces/_/actions/crud1", NULL, NULL), 404);
}

static long long key_exists(const char *prefix, const char *arg)
{
	char key[256];
	struct hc_err err;
	snprintf(key, sizeof(key), "%s%s", prefix, arg);
	redisReply *r = hc_redis_sync_cmd(rc, &err, "EXISTS %s", key);
	long long v = r ? r->integer : -1;
	freeReplyObject(r);
	return v;
}

static void test_list_and_code_dedup(void **state)
{
	cJSON *j;
	const char *body = "{\"exec\":{\"kind\":\"python:3\",\"code\":\"def main(a):\\n  return "
			   "a\"}}";
	char name[128], path[128];
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "/api/v1/namespaces/_/actions/list%d", i);
		assert_int_equal(req("PUT", path, body, NULL), 200);
		th_sleep_ms(5); /* distinct `updated` */
	}
	/* newest first, summaries only */
	assert_int_equal(req("GET", "/api/v1/namespaces/_/actions", NULL, &j), 200);
	assert_int_equal(cJSON_GetArraySize(j), 3);
	assert_string_equal(sget(cJSON_GetArrayItem(j, 0), "name"), "list2");
	assert_string_equal(sget(cJSON_GetArrayItem(j, 2), "name"), "list0");
	assert_null(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(j, 0), "parameters"));
	cJSON_Delete(j);
	assert_int_equal(req("GET", "/api/v1/namespaces/_/actions?limit=1&skip=1", NULL, &j), 200);
	assert_int_equal(cJSON_GetArraySize(j), 1);
	assert_string_equal(sget(cJSON_GetArrayItem(j, 0), "name"), "list1");
	cJSON_Delete(j);
	assert_int_equal(req("GET", "/api/v1/namespaces/_/actions?count=true", NULL, &j), 200);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(j, "actions")->valueint, 3);
	cJSON_Delete(j);
	assert_int_equal(req("GET", "/api/v1/namespaces/_/actions?limit=201", NULL, &j), 400);
	assert_string_equal(sget(j, "error"),
			    "The value '201' is not in the range of 0 to 200 for actions.");
	cJSON_Delete(j);

	/* one code blob for the three; deleting the last user deletes it */
	redisReply *r = hc_redis_sync_cmd(rc, NULL, "KEYS hearth:code:*");
	assert_int_equal(r->elements, 1);
	char digest[80];
	snprintf(digest, sizeof(digest), "%s", r->element[0]->str + strlen("hearth:code:"));
	freeReplyObject(r);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(key_exists("hearth:code:", digest), 1);
		snprintf(name, sizeof(name), "/api/v1/namespaces/_/actions/list%d", i);
		assert_int_equal(req("DELETE", name, NULL, NULL), 200);
	}
	assert_int_equal(key_exists("hearth:code:", digest), 0);
	assert_int_equal(key_exists("hearth:coderefs:", digest), 0);
}

/* An id for a record started at start (its first 12 hex digits, which
 * order the index), told apart by tag. */
static void mkid(char *out, uint64_t start, unsigned tag)
{
	snprintf(out, HC_ID_LEN + 1, "%012llx%020x", (unsigned long long)start, tag);
}

/* A record as the controller stores it (packed, a line of its bucket's
 * log), or as OpenWhisk's object in its bucket's hash, as records stored
 * before the packed form were: the API reads both. Its index entries as
 * the controller writes them. */

static void put_record(const char *id, const char *name, uint64_t start, int status, int packed)
{
	struct pr_activation a;
	pr_activation_init(&a);
	snprintf(a.id, sizeof(a.id), "%s", id);
	strcpy(a.ns, "guest");
	snprintf(a.name, sizeof(a.name), "%s", name);
	strcpy(a.subject, "guest");
	strcpy(a.kind, "nodejs:20");
	a.start_ms = start;
	a.end_ms = start + 3;
	a.status = status;
	a.limits = (struct pr_limits){60000, 256, 10, 1};
	a.result = cJSON_Parse("{\"r\":1}");
	struct hc_buf pb;
	hc_buf_init(&pb, 1 << 16);
	assert_int_equal(pr_activation_pack(&pb, &a, NULL, 0), 0);
	cJSON *j = pr_activation_to_json(&a);
	char *s = packed ? strdup(hc_buf_str(&pb)) : cJSON_PrintUnformatted(j);
	hc_buf_free(&pb);
	char key[40], skey[128], nkey[128], dkey[128], adkey[128];
	struct hc_buf kb = HC_BUF_FIXED(key), sb = HC_BUF_FIXED(skey), nb = HC_BUF_FIXED(nkey);
	struct hc_buf db = HC_BUF_FIXED(dkey), adb = HC_BUF_FIXED(adkey);
	pr_activation_slice_key(&sb, "guest", name, start);
	pr_activation_names_key(&nb, "guest", start);
	pr_activation_dir_key(&db, "guest", NULL);
	pr_activation_dir_key(&adb, "guest", name);
	unsigned long long slice = start / PR_ACT_SLICE_MS;
	if (packed) { /* a line of the bucket's log */
		pr_activation_log_key(&kb, id);
		char *line = NULL;
		assert_true(asprintf(&line, "\n%s %s", id, s) > 0);
		freeReplyObject(hc_redis_sync_cmd(rc, NULL, "APPEND %s %s", key, line));
		free(line);
	} else { /* as hearth wrote records before they were packed */
		pr_activation_key(&kb, id);
		freeReplyObject(hc_redis_sync_cmd(rc, NULL, "HSET %s %s %s", key, id, s));
	}
	freeReplyObject(hc_redis_sync_cmd(rc, NULL, "RPUSH %s %s", skey, id));
	freeReplyObject(hc_redis_sync_cmd(rc, NULL, "SADD %s %s", nkey, name));
	freeReplyObject(hc_redis_sync_cmd(rc, NULL, "ZADD %s %llu %llu", dkey, slice, slice));
	freeReplyObject(hc_redis_sync_cmd(rc, NULL, "ZADD %s %llu %llu", adkey, slice, slice));
	free(s);
	cJSON_Delete(j);
	pr_activation_clear(&a);
}

/* GET the activation list with query: n records, and id at index at (no
 * check with id NULL). */
static void expect_list(const char *query, int n, int at, const char *id)
{
	char path[160];
	cJSON *j;

	snprintf(path, sizeof(path), "/api/v1/namespaces/_/activations?%s", query);
	assert_int_equal(req("GET", path, NULL, &j), 200);
	assert_int_equal(cJSON_GetArraySize(j), n);
	if (id)
		assert_string_equal(sget(cJSON_GetArrayItem(j, at), "activationId"), id);
	cJSON_Delete(j);
}

/* GET the activation count with query: n. */
static void expect_count(const char *query, int n)
{
	char path[160];
	cJSON *j;
	snprintf(path, sizeof(path), "/api/v1/namespaces/_/activations?count=true&%s", query);
	assert_int_equal(req("GET", path, NULL, &j), 200);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(j, "activations")->valueint, n);
	cJSON_Delete(j);
}

static void test_activations(void **state)
{
	cJSON *j;
	char id1[HC_ID_LEN + 1], id2[HC_ID_LEN + 1], id3[HC_ID_LEN + 1];
	mkid(id1, 1000, 0xa01);
	mkid(id2, 2000, 0xa02);
	mkid(id3, 2500, 0xa03);
	put_record(id1, "act1", 1000, 0, 1);
	put_record(id2, "act2", 2000, 1, 0);
	put_record(id3, "act1", 2500, 0, 1); /* the index slice of id2 */
	char key[128];
	snprintf(key, sizeof(key), PR_KEY_LOGS, id1);
	freeReplyObject(hc_redis_sync_cmd(rc, NULL, "RPUSH %s %s", key,
					  "2026-01-01T00:00:00.000000Z stdout: hello"));

	assert_int_equal(req("GET", "/api/v1/namespaces/_/activations/nothex", NULL, &j), 400);
	assert_string_equal(sget(j, "error"), "The activation id is not valid.");
	cJSON_Delete(j);
	assert_int_equal(req("GET",
			     "/api/v1/namespaces/_/activations/ffffffffffffffffffffffffffffffff",
			     NULL, NULL),
			 404);
	char path[256];
	snprintf(path, sizeof(path), "/api/v1/namespaces/_/activations/%s", id1);
	assert_int_equal(req("GET", path, NULL, &j), 200);
	const cJSON *resp = cJSON_GetObjectItemCaseSensitive(j, "response");
	assert_null(cJSON_GetObjectItemCaseSensitive(resp, "statusCode"));
	assert_string_equal(sget(resp, "status"), "success");
	const cJSON *logs = cJSON_GetObjectItemCaseSensitive(j, "logs");
	assert_int_equal(cJSON_GetArraySize(logs), 1); /* merged from the agent's list */
	cJSON_Delete(j);
	snprintf(path, sizeof(path), "/api/v1/namespaces/_/activations/%s/logs", id1);
	assert_int_equal(req("GET", path, NULL, &j), 200);
	assert_non_null(
	    strstr(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "logs"), 0)->valuestring,
		   "stdout: hello"));
	cJSON_Delete(j);
	snprintf(path, sizeof(path), "/api/v1/namespaces/_/activations/%s/result", id2);
	assert_int_equal(req("GET", path, NULL, &j), 200);
	assert_string_equal(sget(j, "status"), "application error");
	assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "success")));
	cJSON_Delete(j);

	assert_int_equal(req("GET", "/api/v1/namespaces/_/activations", NULL, &j), 200);
	assert_int_equal(cJSON_GetArraySize(j), 3);
	assert_string_equal(sget(cJSON_GetArrayItem(j, 0), "activationId"), id3); /* newest */
	assert_string_equal(sget(cJSON_GetArrayItem(j, 1), "activationId"), id2);
	assert_string_equal(sget(cJSON_GetArrayItem(j, 2), "activationId"), id1);
	assert_int_equal(
	    cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(j, 1), "statusCode")->valueint, 1);
	assert_null(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(j, 1), "response"));
	cJSON_Delete(j);
	assert_int_equal(
	    req("GET", "/api/v1/namespaces/_/activations?docs=true&name=act1", NULL, &j), 200);
	assert_int_equal(cJSON_GetArraySize(j), 2);
	assert_non_null(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(j, 0), "response"));
	cJSON_Delete(j);
	/* by name: exact, from the action's own index (skip, count too) */
	expect_list("name=act1&skip=1", 1, 0, id1);
	expect_list("name=pkg/act1", 0, 0, NULL); /* a package's act1: none */
	expect_count("name=pkg/act1", 0);
	expect_list("name=act2", 1, 0, id2);
	expect_list("name=nosuch", 0, 0, NULL);
	expect_count("name=act1", 2);
	expect_count("name=act2&since=2001", 0);
	expect_count("name=nosuch", 0);
	assert_int_equal(req("GET", "/api/v1/namespaces/_/activations?name=a:b", NULL, &j), 400);
	assert_non_null(strstr(sget(j, "error"), "not a valid action name"));
	cJSON_Delete(j);
	assert_int_equal(req("GET", "/api/v1/namespaces/_/activations?name=p/a/b", NULL, NULL),
			 400);
	expect_list("since=1500", 2, 0, id3);
	expect_list("since=2001&upto=2999", 1, 0, id3); /* cut inside a slice */
	expect_list("upto=1500&skip=0", 1, 0, id1);
	/* skip and limit inside a slice, then across slices */
	expect_list("skip=1&limit=1", 1, 0, id2);
	expect_list("skip=1&limit=2", 2, 1, id1);
	expect_list("skip=2", 1, 0, id1);
	expect_list("skip=3", 0, 0, NULL);
	expect_count("since=0", 3);
	expect_count("since=1001&upto=2499", 1);
	assert_int_equal(
	    req("GET", "/api/v1/namespaces/_/activations?count=true&docs=true", NULL, NULL), 400);
	assert_int_equal(req("GET", "/api/v1/namespaces/_/activations?limit=300", NULL, NULL), 400);
	/* since after upto, both inside one second: none, not a negative count */
	expect_count("since=2600&upto=2100", 0);
	expect_list("since=2600&upto=2100", 0, 0, NULL);
	/* an id recorded twice (both controllers of a forward whose answer was
	 * lost): listed once, and read as the later record */
	char id4[HC_ID_LEN + 1];
	mkid(id4, 3000, 0xa04);
	put_record(id4, "dup", 3000, 0, 1);
	put_record(id4, "dup", 3000, 1, 1);
	expect_list("name=dup", 1, 0, id4);
	expect_list("since=2001", 2, 0, id4);
	expect_list("since=2001", 2, 1, id3);
	snprintf(path, sizeof(path), "/api/v1/namespaces/_/activations/%s/result", id4);
	assert_int_equal(req("GET", path, NULL, &j), 200);
	assert_string_equal(sget(j, "status"), "application error");
	cJSON_Delete(j);
}

/* 300 records, each in its own index slice: lists and counts read the
 * index a bounded number of slices per call, so these cross calls. */
static void test_activations_many_slices(void **state)
{
	char ids[300][HC_ID_LEN + 1];
	for (int i = 0; i < 300; i++) {
		mkid(ids[i], 100000 + (uint64_t)i * 1000, 0xb00000 + (unsigned)i);
		put_record(ids[i], "many", 100000 + (uint64_t)i * 1000, 0, 1);
	}
	expect_count("since=100000", 300);
	expect_count("since=100000&name=many", 300);
	/* the two ends cut slices 100 and 102; slice 101 lies wholly inside */
	expect_count("since=100500&upto=102499", 2);
	expect_list("since=100000&skip=290&limit=20", 10, 0, ids[9]);
	expect_list("since=100000&skip=290&limit=20", 10, 9, ids[0]);
	expect_list("since=100000&limit=200", 200, 0, ids[299]);
	expect_list("since=100000&limit=200", 200, 199, ids[100]);
	expect_list("since=100000&skip=299", 1, 0, ids[0]);
	expect_list("since=100000&name=many&skip=290&limit=20", 10, 9, ids[0]);
}

/* 5 seconds of 300 actions each, one record per action and second: a
 * list of the namespace merges a second's 300 slices by start time, and a
 * call stops after the second where it has read 1024 of them, so these
 * cross calls within the first 256 seconds. */
static void test_activations_many_names(void **state)
{
	char ids[1500][HC_ID_LEN + 1], name[16];
	for (int i = 0; i < 1500; i++) {
		/* second 900 + i / 300, start ms rising with i */
		uint64_t start = 900000 + (uint64_t)(i / 300) * 1000 + (uint64_t)(i % 300);
		mkid(ids[i], start, 0xc00000 + (unsigned)i);
		snprintf(name, sizeof(name), "n%d", i % 300);
		put_record(ids[i], name, start, 0, 1);
	}
	expect_count("since=900000&upto=904999", 1500);
	expect_count("since=900000&upto=904999&name=n7", 5);
	expect_count("since=900150&upto=904149", 1200); /* cut inside the end seconds */
	expect_list("since=900000&upto=904999&limit=3", 3, 0, ids[1499]);
	expect_list("since=900000&upto=904999&limit=3", 3, 2, ids[1497]);
	expect_list("since=900000&upto=904999&skip=1450&limit=100", 50, 49, ids[0]);
	expect_list("since=900000&upto=904999&skip=1450&limit=100", 50, 0, ids[49]);
	expect_list("since=900000&upto=904999&skip=299&limit=2", 2, 1, ids[1199]);
	expect_list("since=900000&upto=904999&name=n7", 5, 4, ids[7]);
}

static void test_invoke_request_errors(void **state)
{
	cJSON *j;
	assert_int_equal(req("POST", "/api/v1/namespaces/_/actions/nosuch?blocking=true", "{}", &j),
			 404);
	assert_string_equal(sget(j, "error"), "The requested resource does not exist.");
	cJSON_Delete(j);
	assert_int_equal(req("PUT", "/api/v1/namespaces/_/actions/inv",
			     "{\"exec\":{\"kind\":\"nodejs:20\",\"code\":\"x\"},"
			     "\"parameters\":[{\"key\":\"a\",\"value\":1}],"
			     "\"annotations\":[{\"key\":\"final\",\"value\":true}]}",
			     NULL),
			 200);
	assert_int_equal(req("POST", "/api/v1/namespaces/_/actions/inv", "[1,", NULL), 400);
	assert_int_equal(req("POST", "/api/v1/namespaces/_/actions/inv", "[1]", NULL), 400);
	assert_int_equal(req("POST", "/api/v1/namespaces/_/actions/inv?blocking=maybe", "{}", NULL),
			 400);
	/* final parameters cannot be overridden */
	assert_int_equal(req("POST", "/api/v1/namespaces/_/actions/inv", "{\"a\":2}", &j), 400);
	assert_non_null(strstr(sget(j, "error"), "Request defines parameters that are not "
						 "allowed"));
	cJSON_Delete(j);
	/* over 1 MB: 413 before the body is read */
	char *r = raw("POST /api/v1/namespaces/_/actions/inv HTTP/1.1\r\nHost: x\r\n"
		      "Content-Length: 2000000\r\nConnection: close\r\n\r\n");
	assert_non_null(strstr(r, "HTTP/1.1 413"));
	free(r);
	assert_int_equal(req("DELETE", "/api/v1/namespaces/_/actions/inv", NULL, NULL), 200);
}

static void test_overflow_queue(void **state)
{
	/* no scheduler runs here: activations wait in the overflow queue, which
	 * holds two per action on each of the two loops; past that, 429 */
	cJSON *j;
	assert_int_equal(req("PUT", "/api/v1/namespaces/_/actions/q",
			     "{\"exec\":{\"kind\":\"nodejs:20\",\"code\":\"x\"}}", NULL),
			 200);
	/* a blocking call whose wait runs out answers 202 as OpenWhisk does */
	assert_int_equal(
	    req("POST", "/api/v1/namespaces/_/actions/q?blocking=true&timeout=200", "{}", &j), 202);
	assert_non_null(sget(j, "activationId"));
	cJSON_Delete(j);
	int accepted = 1, rejected = 0;
	for (int i = 0; i < 5 && !rejected; i++) {
		long st = req("POST", "/api/v1/namespaces/_/actions/q", "{}", &j);
		if (st == 202) {
			accepted++;
		} else {
			assert_int_equal(st, 429);
			assert_string_equal(sget(j, "error"), "Too many requests");
			rejected = 1;
		}
		cJSON_Delete(j);
	}
	assert_true(rejected);
	assert_in_range(accepted, 2, 4);
	char url[128], *out = NULL;
	snprintf(url, sizeof(url), "%s/healthz", base);
	assert_int_equal(th_http("GET", url, NULL, NULL, 0, &out), 200);
	j = cJSON_Parse(out);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(j, "queued")->valueint, accepted);
	cJSON_Delete(j);
	free(out);
}

static void test_key_revocation(void **state)
{
	/* a second key for guest works, then stops working once deleted
	 * (the controller's cache is invalidated through pub/sub) */
	struct hc_err err;
	char cred[PR_AUTH_CRED_LEN + 1], h[256], url[256];
	assert_int_equal(pr_auth_key_create(rc, "guest", NULL, cred, &err), 0);
	make_auth(h, sizeof(h), cred);
	const char *hh[] = {h, NULL};
	snprintf(url, sizeof(url), "%s/api/v1/namespaces", base);
	assert_int_equal(th_http("GET", url, hh, NULL, 0, NULL), 200);
	cred[PR_AUTH_UUID_LEN] = '\0';
	assert_int_equal(pr_auth_key_delete(rc, cred, &err), 0);
	long st = 0;
	TH_RETRY(2000, 20) {
		st = th_http("GET", url, hh, NULL, 0, NULL);
		if (st != 200)
			break;
	}
	assert_int_equal(st, 401);
}

/* Verified Authorization headers are remembered per loop thread: the
 * memory is keyed on the whole header (a wrong key for a known uuid is
 * still refused right after the right one was used) and forgotten when
 * the key changes (deleted: 401 once the pub/sub invalidation arrives). */
static void test_auth_memo(void **state)
{
	struct hc_err err;
	char cred[PR_AUTH_CRED_LEN + 1], bad_cred[PR_AUTH_CRED_LEN + 1];
	char good[256], bad[256], url[256], *out = NULL;
	assert_int_equal(pr_auth_key_create(rc, "guest", NULL, cred, &err), 0);
	make_auth(good, sizeof(good), cred);
	snprintf(bad_cred, sizeof(bad_cred), "%s", cred);
	bad_cred[PR_AUTH_CRED_LEN - 1] = bad_cred[PR_AUTH_CRED_LEN - 1] == 'a' ? 'b' : 'a';
	make_auth(bad, sizeof(bad), bad_cred);
	const char *gh[] = {good, NULL}, *bh[] = {bad, NULL};
	snprintf(url, sizeof(url), "%s/api/v1/namespaces", base);

	/* new connections each time: both loop threads verify and remember it */
	for (int i = 0; i < 10; i++) {
		assert_int_equal(th_http("GET", url, gh, NULL, 0, &out), 200);
		assert_non_null(strstr(out, "\"guest\""));
		free(out);
		out = NULL;
	}
	/* the same uuid with another key: refused, every time, on every loop */
	for (int i = 0; i < 10; i++) {
		assert_int_equal(th_http("GET", url, bh, NULL, 0, &out), 401);
		assert_non_null(strstr(out, "The supplied authentication is invalid"));
		free(out);
		out = NULL;
		/* interleaved with the right one, which goes on working */
		assert_int_equal(th_http("GET", url, gh, NULL, 0, NULL), 200);
	}
	/* the same header on one keep-alive connection: remembered, same answer */
	{
		char request[1024];
		snprintf(
		    request, sizeof(request),
		    "GET /api/v1/namespaces HTTP/1.1\r\nHost: x\r\n%s\r\n\r\n"
		    "GET /api/v1/namespaces HTTP/1.1\r\nHost: x\r\n%s\r\n\r\n"
		    "GET /api/v1/namespaces HTTP/1.1\r\nHost: x\r\n%s\r\nConnection: close\r\n\r\n",
		    good, bad, good);
		char *r = raw(request);
		char *a = strstr(r, "HTTP/1.1 200");
		char *b = a ? strstr(a + 1, "HTTP/1.1 401") : NULL;
		char *c = b ? strstr(b + 1, "HTTP/1.1 200") : NULL;
		if (!a || !b || !c)
			fail_msg("expected 200, 401, 200 in order, got: %s", r);
		free(r);
	}
	/* an empty header is no credential */
	{
		char *r = raw("GET /api/v1/namespaces HTTP/1.1\r\nHost: x\r\nAuthorization: \r\n"
			      "Connection: close\r\n\r\n");
		assert_non_null(strstr(r, "HTTP/1.1 401"));
		free(r);
	}

	/* deleted: the remembered header stops working everywhere */
	char uuid[PR_AUTH_UUID_LEN + 1];
	snprintf(uuid, sizeof(uuid), "%.*s", PR_AUTH_UUID_LEN, cred);
	assert_int_equal(pr_auth_key_delete(rc, uuid, &err), 0);
	long st = 0;
	TH_RETRY(5000, 20) {
		st = th_http("GET", url, gh, NULL, 0, NULL);
		if (st != 200)
			break;
	}
	assert_int_equal(st, 401);
	for (int i = 0; i < 10; i++)
		assert_int_equal(th_http("GET", url, gh, NULL, 0, NULL), 401);
	/* and the guest key, never touched, still works */
	assert_int_equal(req("GET", "/api/v1/namespaces", NULL, NULL), 200);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_info_and_health),
	    cmocka_unit_test(test_auth),
	    cmocka_unit_test(test_actions_crud),
	    cmocka_unit_test(test_list_and_code_dedup),
	    cmocka_unit_test(test_activations),
	    cmocka_unit_test(test_activations_many_slices),
	    cmocka_unit_test(test_activations_many_names),
	    cmocka_unit_test(test_invoke_request_errors),
	    cmocka_unit_test(test_overflow_queue),
	    cmocka_unit_test(test_key_revocation),
	    cmocka_unit_test(test_auth_memo),
	};
	return cmocka_run_group_tests_name("it_controller", tests, setup, teardown);
}
