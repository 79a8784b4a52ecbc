/* test_runtime_proto.c — the /init and /run body codecs (proto/runtime.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "proto/runtime.h"

static enum pr_rt_decode init_of(const char *body, cJSON **tree, struct pr_rt_init *in,
				 struct hc_err *err)
{
	return pr_rt_init_decode(body, strlen(body), tree, in, err);
}

static void test_init_decode_full(void **state)
{
	struct pr_rt_init in;
	struct hc_err err = {""};
	cJSON *tree = NULL;

	assert_int_equal(
	    init_of("{\"value\":{\"name\":\"a\",\"main\":\"go\",\"code\":\"x=1\","
		    "\"binary\":true,\"env\":{\"K\":\"v\",\"N\":1},\"kind\":\"nodejs:20\","
		    "\"concurrency\":4}}",
		    &tree, &in, &err),
	    PR_RT_OK);
	assert_non_null(tree);
	assert_string_equal(in.name, "a");
	assert_string_equal(in.main, "go");
	assert_string_equal(in.code, "x=1");
	assert_int_equal(in.code_len, 3);
	assert_true(in.binary);
	assert_string_equal(in.kind, "nodejs:20");
	assert_int_equal(in.concurrency, 4);
	assert_non_null(in.env);
	{
		char *v = pr_rt_env_string(cJSON_GetObjectItem(in.env, "N"));
		assert_string_equal(v, "1");
		free(v);
		v = pr_rt_env_string(cJSON_GetObjectItem(in.env, "K"));
		assert_string_equal(v, "v");
		free(v);
	}
	cJSON_Delete(tree);
}

static void test_init_decode_defaults(void **state)
{
	struct pr_rt_init in;
	struct hc_err err = {""};
	cJSON *tree = NULL;

	assert_int_equal(init_of("{\"value\":{\"code\":\"c\",\"main\":\"\"}}", &tree, &in, &err),
			 PR_RT_OK);
	assert_string_equal(in.main, "main");
	assert_false(in.binary);
	assert_null(in.kind);
	assert_null(in.env);
	assert_int_equal(in.concurrency, 1);
	cJSON_Delete(tree);
}

static void test_init_decode_no_code(void **state)
{
	struct pr_rt_init in;
	struct hc_err err = {""};
	cJSON *tree = (cJSON *)1;

	assert_int_equal(init_of("{\"value\":{\"main\":\"m\"}}", &tree, &in, &err), PR_RT_NO_CODE);
	assert_null(tree);
	assert_int_equal(init_of("{\"value\":{\"code\":\"\"}}", &tree, &in, &err), PR_RT_NO_CODE);
	assert_int_equal(init_of("{\"value\":{\"code\":null}}", &tree, &in, &err), PR_RT_NO_CODE);
	assert_int_equal(init_of("{}", &tree, &in, &err), PR_RT_NO_CODE);
}

static void test_init_decode_bad(void **state)
{
	static const char *const bad[] = {
	    "",
	    "nope",
	    "[1]",
	    "{\"value\":3}",
	    "{\"value\":{\"code\":5}}",
	    "{\"value\":{\"code\":\"c\",\"binary\":\"yes\"}}",
	    "{\"value\":{\"code\":\"c\",\"env\":[1]}}",
	    "{\"value\":{\"code\":\"c\",\"env\":{\"A=B\":\"x\"}}}",
	    "{\"value\":{\"code\":\"c\",\"env\":{\"\":\"x\"}}}",
	    "{\"value\":{\"code\":\"c\",\"concurrency\":0}}",
	    "{\"value\":{\"code\":\"c\",\"concurrency\":100000}}",
	    "{\"value\":{\"code\":\"c\",\"main\":7}}",
	    "{\"value\":{\"code\":\"c\"}} trailing",
	};
	struct pr_rt_init in;
	cJSON *tree;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct hc_err err = {""};
		tree = (cJSON *)1;
		assert_int_equal(init_of(bad[i], &tree, &in, &err), PR_RT_BAD);
		assert_null(tree);
		assert_true(err.msg[0] != '\0');
	}
}

static void test_init_encode_roundtrip(void **state)
{
	struct pr_rt_init in = {.name = "n",
				.main = "m",
				.code = "a\"b\nc",
				.code_len = 5,
				.binary = 0,
				.kind = "python:3",
				.concurrency = 3};
	struct pr_rt_init out;
	struct hc_buf b;
	struct hc_err err = {""};
	cJSON *env = cJSON_CreateObject(), *tree = NULL;

	cJSON_AddStringToObject(env, "X", "y");
	in.env = env;
	hc_buf_init(&b, 1 << 20);
	assert_int_equal(pr_rt_init_encode(&b, &in, &err), 0);
	assert_int_equal(pr_rt_init_decode(b.data, b.len, &tree, &out, &err), PR_RT_OK);
	assert_string_equal(out.name, "n");
	assert_string_equal(out.main, "m");
	assert_memory_equal(out.code, "a\"b\nc", 5);
	assert_string_equal(out.kind, "python:3");
	assert_int_equal(out.concurrency, 3);
	assert_string_equal(cJSON_GetObjectItem(out.env, "X")->valuestring, "y");
	cJSON_Delete(tree);
	cJSON_Delete(env);
	hc_buf_free(&b);

	/* a bounded buffer that is too small reports an error */
	hc_buf_init(&b, 8);
	assert_int_equal(pr_rt_init_encode(&b, &in, &err), -1);
	hc_buf_free(&b);
}

static void test_run_decode(void **state)
{
	const char *body =
	    "{\"value\":{\"a\":1},\"activation_id\":\"abc\",\"action_name\":\"/ns/a\","
	    "\"action_version\":\"0.0.1\",\"namespace\":\"ns\",\"transaction_id\":\"t\","
	    "\"api_key\":\"k\",\"deadline\":\"1700000000000\",\"timeout\":60000}";
	struct pr_rt_run r;
	struct hc_err err = {""};
	cJSON *tree = NULL;

	assert_int_equal(pr_rt_run_decode(body, strlen(body), &tree, &r, &err), 0);
	assert_true(cJSON_IsObject(r.value));
	assert_string_equal(r.activation_id, "abc");
	assert_string_equal(r.action_name, "/ns/a");
	assert_string_equal(r.action_version, "0.0.1");
	assert_string_equal(r.namespace_, "ns");
	assert_string_equal(r.transaction_id, "t");
	assert_string_equal(r.api_key, "k");
	assert_int_equal(r.deadline_ms, 1700000000000LL);
	assert_int_equal(r.timeout_ms, 60000);
	cJSON_Delete(tree);

	/* everything but value is optional; a numeric deadline is accepted */
	assert_int_equal(pr_rt_run_decode("{\"deadline\":5}", 14, &tree, &r, &err), 0);
	assert_null(r.value);
	assert_null(r.activation_id);
	assert_int_equal(r.deadline_ms, 5);
	cJSON_Delete(tree);
	assert_int_equal(pr_rt_run_decode("{\"deadline\":\"\"}", 15, &tree, &r, &err), 0);
	assert_int_equal(r.deadline_ms, 0);
	cJSON_Delete(tree);
}

static void test_run_decode_bad(void **state)
{
	static const char *const bad[] = {
	    "",
	    "[]",
	    "\"x\"",
	    "{\"activation_id\":7}",
	    "{\"deadline\":\"tomorrow\"}",
	    "{\"deadline\":\"-5\"}",
	    "{\"deadline\":-5}",
	    "{\"deadline\":true}",
	    "{\"api_key\":[]}",
	    "{\"value\":{}",
	};
	struct pr_rt_run r;
	cJSON *tree;
	char longid[400];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct hc_err err = {""};
		tree = (cJSON *)1;
		assert_int_equal(pr_rt_run_decode(bad[i], strlen(bad[i]), &tree, &r, &err), -1);
		assert_null(tree);
		assert_true(err.msg[0] != '\0');
	}
	snprintf(longid, sizeof longid, "{\"activation_id\":\"%0200d\"}", 0);
	assert_int_equal(pr_rt_run_decode(longid, strlen(longid), &tree, &r, NULL), -1);
}

static void test_run_encode_roundtrip(void **state)
{
	struct pr_rt_run in = {.value_json = "{\"x\":[1,2]}",
			       .value_len = 11,
			       .activation_id = "id1",
			       .action_name = "/g/a",
			       .namespace_ = "g",
			       .deadline_ms = 1234567,
			       .timeout_ms = 500};
	struct pr_rt_run out;
	struct hc_buf b;
	cJSON *tree = NULL;

	hc_buf_init(&b, 4096);
	assert_int_equal(pr_rt_run_encode(&b, &in, NULL), 0);
	assert_null(strstr(b.data, "api_key")); /* omitted when NULL */
	assert_non_null(strstr(b.data, "\"deadline\":\"1234567\""));
	assert_int_equal(pr_rt_run_decode(b.data, b.len, &tree, &out, NULL), 0);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(out.value, "x")), 2);
	assert_string_equal(out.activation_id, "id1");
	assert_string_equal(out.action_name, "/g/a");
	assert_string_equal(out.namespace_, "g");
	assert_null(out.api_key);
	assert_int_equal(out.deadline_ms, 1234567);
	assert_int_equal(out.timeout_ms, 500);
	cJSON_Delete(tree);
	hc_buf_reset(&b);

	/* no value: {} */
	memset(&in, 0, sizeof in);
	assert_int_equal(pr_rt_run_encode(&b, &in, NULL), 0);
	assert_string_equal(b.data, "{\"value\":{}}");
	hc_buf_free(&b);
}

static void test_classify(void **state)
{
	assert_int_equal(pr_rt_classify(200, "{}", 2), PR_RT_SUCCESS);
	assert_int_equal(pr_rt_classify(200, "[1]", 3), PR_RT_SUCCESS);
	assert_int_equal(pr_rt_classify(200, "{\"error\":\"x\"}", 13), PR_RT_APP_ERROR);
	assert_int_equal(pr_rt_classify(200, "42", 2), PR_RT_DEV_ERROR);
	assert_int_equal(pr_rt_classify(200, "not json", 8), PR_RT_DEV_ERROR);
	assert_int_equal(pr_rt_classify(502, "{}", 2), PR_RT_DEV_ERROR);
	assert_int_equal(pr_rt_classify(0, "", 0), PR_RT_DEV_ERROR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_init_decode_full),
	    cmocka_unit_test(test_init_decode_defaults),
	    cmocka_unit_test(test_init_decode_no_code),
	    cmocka_unit_test(test_init_decode_bad),
	    cmocka_unit_test(test_init_encode_roundtrip),
	    cmocka_unit_test(test_run_decode),
	    cmocka_unit_test(test_run_decode_bad),
	    cmocka_unit_test(test_run_encode_roundtrip),
	    cmocka_unit_test(test_classify),
	};
	return cmocka_run_group_tests_name("runtime_proto", tests, NULL, NULL);
}
