/* test_proto_action.c — the OpenWhisk action document: PUT decoding and
 * validation messages, create/update rules, GET/list encodings, kinds,
 * parameter merging. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/action.h"

static struct pr_limit_bounds B;

static int setup(void **state)
{
	pr_limit_bounds_default(&B);
	return 0;
}

static int decode(const char *body, struct pr_action_put *p, int *status, struct hc_err *err)
{
	return pr_action_put_decode(body, strlen(body), &B, "guest", p, status, err);
}

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void test_kinds(void **state)
{
	char k[32];
	struct hc_err err;
	const char *ok[][2] = {{"nodejs", "nodejs:20"},	   {"nodejs:default", "nodejs:20"},
			       {"nodejs:20", "nodejs:20"}, {"python:default", "python:3"},
			       {"python:3", "python:3"},   {"python", "python:3"},
			       {"blackbox", "blackbox"},   {"sequence", "sequence"}};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(pr_kind_resolve(ok[i][0], k, sizeof(k), &err), 0);
		assert_string_equal(k, ok[i][1]);
	}
	assert_int_equal(pr_kind_resolve("java:8", k, sizeof(k), &err), -1);
	assert_non_null(strstr(err.msg, "The specified runtime 'java:8' is not supported"));
	assert_int_equal(pr_kind_resolve("python:3.x", k, sizeof(k), &err), -1);
	/* versions the (built-in) list does not have are refused, not swapped */
	assert_int_equal(pr_kind_resolve("nodejs:18", k, sizeof(k), &err), -1);
	assert_int_equal(pr_kind_resolve("python:3.11", k, sizeof(k), &err), -1);
}

static void test_limits_messages(void **state)
{
	struct pr_limits l;
	struct hc_err err;
	struct {
		const char *json, *msg;
	} bad[] = {
	    {"{\"timeout\":50}", "duration 50 milliseconds below allowed threshold of 100 "
				 "milliseconds"},
	    {"{\"timeout\":300001}", "duration 300001 milliseconds exceeds allowed threshold "
				     "of 300000 milliseconds"},
	    {"{\"memory\":64}", "memory 64 MB below allowed threshold of 128 MB"},
	    {"{\"memory\":1024}", "memory 1024 MB exceeds allowed threshold of 512 MB"},
	    {"{\"logs\":11}", "log size 11 MB exceeds allowed threshold of 10 MB"},
	    {"{\"concurrency\":0}", "concurrency 0 below allowed threshold of 1"},
	    {"{\"memory\":1.5}", "memory limit must be whole number"},
	    {"{\"timeout\":\"x\"}", "time limit must be whole number"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cJSON *j = cJSON_Parse(bad[i].json);
		assert_int_equal(pr_limits_decode(j, &B.def, &B, &l, &err), -1);
		assert_non_null(strstr(err.msg, bad[i].msg));
		assert_non_null(strstr(err.msg, "The request content was malformed:\n"));
		cJSON_Delete(j);
	}
	cJSON *j = cJSON_Parse("{\"memory\":128,\"concurrency\":4}");
	assert_int_equal(pr_limits_decode(j, &B.def, &B, &l, &err), 0);
	assert_int_equal(l.memory_mb, 128);
	assert_int_equal(l.concurrency, 4);
	assert_int_equal(l.timeout_ms, 60000); /* absent: the base value */
	assert_int_equal(l.logs_mb, 10);
	cJSON_Delete(j);
}

static void test_put_errors(void **state)
{
	struct pr_action_put p;
	struct hc_err err;
	int status;
	assert_int_equal(decode("{not json", &p, &status, &err), -1);
	assert_int_equal(status, 400);
	assert_int_equal(decode("[]", &p, &status, &err), -1);
	assert_int_equal(status, 400);
	assert_int_equal(
	    decode("{\"exec\":{\"kind\":\"cobol\",\"code\":\"x\"}}", &p, &status, &err), -1);
	assert_int_equal(status, 400);
	assert_int_equal(decode("{\"exec\":{\"kind\":\"nodejs:20\"}}", &p, &status, &err), -1);
	assert_non_null(strstr(err.msg, "exec.code is required"));
	assert_int_equal(decode("{\"parameters\":{\"a\":1}}", &p, &status, &err), -1);
	assert_int_equal(decode("{\"parameters\":[{\"value\":1}]}", &p, &status, &err), -1);
	assert_int_equal(decode("{\"version\":\"1.x\"}", &p, &status, &err), -1);
	assert_int_equal(decode("{\"publish\":\"yes\"}", &p, &status, &err), -1);
	assert_int_equal(decode("{\"limits\":{\"memory\":64}}", &p, &status, &err), -1);
	assert_non_null(strstr(err.msg, "memory 64 MB below"));
	assert_int_equal(
	    decode("{\"exec\":{\"kind\":\"sequence\",\"components\":[\"a\"]}}", &p, &status, &err),
	    -1);
	assert_non_null(strstr(err.msg, "fully qualified"));

	/* parameters over 1 MB -> 413 */
	size_t n = PR_PARAMS_MAX + 100;
	char *big = malloc(n + 64);
	int off = sprintf(big, "{\"parameters\":[{\"key\":\"k\",\"value\":\"");
	memset(big + off, 'a', n);
	strcpy(big + off + n, "\"}]}");
	assert_int_equal(decode(big, &p, &status, &err), -1);
	assert_int_equal(status, 413);
	assert_non_null(strstr(err.msg, "parameters larger than allowed"));
	free(big);
}

/* exec.binary absent: inferred from the code as OpenWhisk's
 * Exec.isBinaryCode; given: kept as given. */
static void test_binary_inferred(void **state)
{
	struct pr_action_put p;
	struct hc_err err;
	int status;
	assert_true(pr_code_is_binary("UEsDBA==", 8));
	assert_true(pr_code_is_binary("UEsDBAo=", 8));
	assert_true(pr_code_is_binary("UEsDBAoA", 8));
	assert_true(pr_code_is_binary("\n  UEsD+/9z \r\n", 14)); /* trimmed at the ends */
	assert_false(pr_code_is_binary("UEsDBA=", 7));		 /* not a multiple of 4 */
	assert_false(pr_code_is_binary("UEs=BA==", 8));		 /* padding inside */
	assert_false(pr_code_is_binary("UE===", 5));
	assert_false(pr_code_is_binary("U===", 4));
	assert_false(pr_code_is_binary("UEsD BAoA", 9)); /* a blank inside */
	assert_false(pr_code_is_binary("", 0));
	assert_false(pr_code_is_binary("    ", 4));
	assert_false(pr_code_is_binary("function main() { return {}; }", 30));
	assert_false(pr_code_is_binary("UEsD-_9z", 8)); /* the URL alphabet is not OpenWhisk's */

	const char *zip = "{\"exec\":{\"kind\":\"nodejs:default\",\"code\":\"UEsDBBQAAAAIAA==\"}}";
	assert_int_equal(decode(zip, &p, &status, &err), 0);
	assert_true(p.binary);
	cJSON *doc = pr_action_build(NULL, &p, "guest", "z", "d", &B, 1000, &err);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(doc, "exec"), "binary")));
	cJSON_Delete(doc);
	pr_action_put_free(&p);
	assert_int_equal(decode("{\"exec\":{\"kind\":\"nodejs:default\",\"code\":"
				"\"function main() {}\"}}",
				&p, &status, &err),
			 0);
	assert_false(p.binary);
	pr_action_put_free(&p);
	/* an explicit flag wins either way */
	assert_int_equal(decode("{\"exec\":{\"kind\":\"nodejs:default\",\"code\":"
				"\"UEsDBA==\",\"binary\":false}}",
				&p, &status, &err),
			 0);
	assert_false(p.binary);
	pr_action_put_free(&p);
	assert_int_equal(
	    decode("{\"exec\":{\"kind\":\"blackbox\",\"code\":\"f0VMRgIB\"}}", &p, &status, &err),
	    0);
	assert_true(p.binary);
	pr_action_put_free(&p);
}

static void test_put_sequence_resolves_underscore(void **state)
{
	struct pr_action_put p;
	struct hc_err err;
	int status;
	assert_int_equal(decode("{\"exec\":{\"kind\":\"sequence\",\"components\":[\"/_/a\","
				"\"/other/b\"]}}",
				&p, &status, &err),
			 0);
	assert_string_equal(p.kind, "sequence");
	assert_string_equal(cJSON_GetArrayItem(p.components, 0)->valuestring, "/guest/a");
	assert_string_equal(cJSON_GetArrayItem(p.components, 1)->valuestring, "/other/b");
	cJSON *doc = pr_action_build(NULL, &p, "guest", "s", "", &B, 1000, &err);
	assert_non_null(doc);
	const cJSON *exec = cJSON_GetObjectItemCaseSensitive(doc, "exec");
	assert_string_equal(str(exec, "kind"), "sequence");
	assert_null(cJSON_GetObjectItemCaseSensitive(exec, "digest"));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(exec, "components")),
			 2);
	cJSON_Delete(doc);
	pr_action_put_free(&p);
}

static void test_create_then_update(void **state)
{
	struct pr_action_put p;
	struct hc_err err;
	int status;
	assert_int_equal(decode("{\"exec\":{\"kind\":\"nodejs:default\",\"code\":\"function "
				"main(){}\"},\"parameters\":[{\"key\":\"a\",\"value\":1}],"
				"\"annotations\":[{\"key\":\"x\",\"value\":\"y\"}],"
				"\"limits\":{\"memory\":128}}",
				&p, &status, &err),
			 0);
	cJSON *doc = pr_action_build(NULL, &p, "guest", "hello", "d1", &B, 1000, &err);
	pr_action_put_free(&p);
	assert_non_null(doc);
	assert_string_equal(str(doc, "version"), "0.0.1");
	assert_string_equal(str(doc, "namespace"), "guest");
	const cJSON *ann = cJSON_GetObjectItemCaseSensitive(doc, "annotations");
	assert_string_equal(pr_annotation(ann, "exec")->valuestring, "nodejs:20");
	assert_true(cJSON_IsFalse(pr_annotation(ann, "provide-api-key")));
	assert_string_equal(pr_annotation(ann, "x")->valuestring, "y");
	const cJSON *exec = cJSON_GetObjectItemCaseSensitive(doc, "exec");
	assert_string_equal(str(exec, "digest"), "d1");
	assert_null(cJSON_GetObjectItemCaseSensitive(exec, "code"));

	/* update: only limits.timeout, an annotation deleted, one added */
	assert_int_equal(decode("{\"limits\":{\"timeout\":1000},\"delAnnotations\":[\"x\"],"
				"\"annotations\":[{\"key\":\"z\",\"value\":2}]}",
				&p, &status, &err),
			 0);
	cJSON *up = pr_action_build(doc, &p, "guest", "hello", "d1", &B, 2000, &err);
	pr_action_put_free(&p);
	assert_non_null(up);
	assert_string_equal(str(up, "version"), "0.0.2");
	const cJSON *lim = cJSON_GetObjectItemCaseSensitive(up, "limits");
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(lim, "timeout")->valueint, 1000);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(lim, "memory")->valueint, 128);
	ann = cJSON_GetObjectItemCaseSensitive(up, "annotations");
	assert_null(pr_annotation(ann, "x"));
	assert_int_equal(pr_annotation(ann, "z")->valueint, 2);
	assert_non_null(pr_annotation(ann, "provide-api-key")); /* kept from create */
	/* parameters and exec kept */
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(up, "parameters")), 1);
	assert_string_equal(str(cJSON_GetObjectItemCaseSensitive(up, "exec"), "digest"), "d1");

	/* explicit version wins */
	assert_int_equal(decode("{\"version\":\"2.0.0\"}", &p, &status, &err), 0);
	cJSON *v2 = pr_action_build(up, &p, "guest", "hello", "d1", &B, 3000, &err);
	pr_action_put_free(&p);
	assert_string_equal(str(v2, "version"), "2.0.0");

	/* create without exec is refused */
	assert_int_equal(decode("{\"publish\":true}", &p, &status, &err), 0);
	assert_null(pr_action_build(NULL, &p, "guest", "x", "", &B, 1, &err));
	assert_non_null(strstr(err.msg, "exec undefined"));
	pr_action_put_free(&p);

	/* GET encodings */
	cJSON *api = pr_action_to_api(v2, "CODE", 4);
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(api, "exec");
	assert_string_equal(str(e, "code"), "CODE");
	assert_null(cJSON_GetObjectItemCaseSensitive(e, "digest"));
	assert_string_equal(e->child->string, "kind"); /* OpenWhisk field order */
	cJSON *sum = pr_action_summary(v2);
	assert_null(cJSON_GetObjectItemCaseSensitive(sum, "parameters"));
	assert_non_null(cJSON_GetObjectItemCaseSensitive(sum, "updated"));
	assert_null(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(sum, "exec"),
						     "kind"));
	struct pr_action_info info;
	assert_int_equal(pr_action_info(v2, &B, &info, &err), 0);
	assert_string_equal(info.kind, "nodejs:20");
	assert_string_equal(info.main, "main");
	assert_int_equal(info.limits.timeout_ms, 1000);
	cJSON_Delete(api);
	cJSON_Delete(sum);
	cJSON_Delete(v2);
	cJSON_Delete(up);
	cJSON_Delete(doc);
}

static void test_params_merge(void **state)
{
	struct hc_err err;
	cJSON *defs = cJSON_Parse("[{\"key\":\"a\",\"value\":1},{\"key\":\"b\",\"value\":2}]");
	cJSON *body = cJSON_Parse("{\"b\":3,\"c\":4}");
	cJSON *m = pr_params_merge(defs, body, NULL, &err);
	assert_non_null(m);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(m, "a")->valueint, 1);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(m, "b")->valueint, 3);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(m, "c")->valueint, 4);
	cJSON_Delete(m);
	cJSON *fin = cJSON_Parse("[{\"key\":\"final\",\"value\":true}]");
	assert_null(pr_params_merge(defs, body, fin, &err));
	assert_string_equal(err.msg, "Request defines parameters that are not allowed (e.g., "
				     "reserved properties).");
	cJSON *body2 = cJSON_Parse("{\"c\":4}");
	m = pr_params_merge(defs, body2, fin, &err); /* new keys are fine under final */
	assert_non_null(m);
	cJSON_Delete(m);
	m = pr_params_merge(NULL, NULL, NULL, &err);
	assert_true(cJSON_IsObject(m) && m->child == NULL);
	cJSON_Delete(m);
	cJSON_Delete(defs);
	cJSON_Delete(body);
	cJSON_Delete(body2);
	cJSON_Delete(fin);
}

static void test_names_semver(void **state)
{
	char v[32];
	assert_true(pr_name_valid("hello"));
	assert_true(pr_name_valid("a.b-c@d"));
	assert_false(pr_name_valid(""));
	assert_false(pr_name_valid("-x"));
	assert_false(pr_name_valid("a/b"));
	assert_false(pr_name_valid("a "));
	assert_int_equal(pr_semver_uppatch("0.0.9", v, sizeof(v)), 0);
	assert_string_equal(v, "0.0.10");
	assert_int_equal(pr_semver_uppatch("1.2", v, sizeof(v)), -1);
	assert_false(pr_semver_valid("1.2.3x"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kinds),
	    cmocka_unit_test(test_limits_messages),
	    cmocka_unit_test(test_put_errors),
	    cmocka_unit_test(test_binary_inferred),
	    cmocka_unit_test(test_put_sequence_resolves_underscore),
	    cmocka_unit_test(test_create_then_update),
	    cmocka_unit_test(test_params_merge),
	    cmocka_unit_test(test_names_semver),
	};
	return cmocka_run_group_tests_name("proto_action", tests, setup, NULL);
}
