/* test_ctl_record.c — activation records and how /init and /run replies
 * become them; API credentials; the forwarding message. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/activation.h"
#include "proto/auth.h"

static const cJSON *get(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

static const cJSON *ann(const cJSON *rec, const char *key)
{
	const cJSON *e;
	cJSON_ArrayForEach(e, get(rec, "annotations")) if (!strcmp(get(e, "key")->valuestring,
								   key)) return get(e, "value");
	return NULL;
}

static void test_record_shape(void **state)
{
	struct pr_activation a;
	pr_activation_init(&a);
	strcpy(a.id, "0123456789abcdef0123456789abcdef");
	strcpy(a.ns, "guest");
	strcpy(a.name, "hello");
	strcpy(a.subject, "guest");
	strcpy(a.kind, "nodejs:20");
	strcpy(a.version, "0.0.3");
	a.start_ms = 1000;
	a.end_ms = 1007;
	a.limits = (struct pr_limits){60000, 256, 10, 1};
	a.wait_ms = 5;
	a.status = PR_ST_SUCCESS;
	a.result = cJSON_Parse("{\"payload\":\"hi\"}");
	cJSON *j = pr_activation_to_json(&a);
	assert_int_equal(get(j, "duration")->valueint, 7);
	const cJSON *resp = get(j, "response");
	assert_string_equal(get(resp, "status")->valuestring, "success");
	assert_int_equal(get(resp, "statusCode")->valueint, 0);
	assert_true(cJSON_IsTrue(get(resp, "success")));
	assert_string_equal(ann(j, "path")->valuestring, "guest/hello");
	assert_string_equal(ann(j, "kind")->valuestring, "nodejs:20");
	assert_int_equal(ann(j, "waitTime")->valueint, 5);
	assert_null(ann(j, "initTime")); /* warm: no initTime */
	assert_true(cJSON_IsFalse(ann(j, "timeout")));
	assert_int_equal(get(ann(j, "limits"), "memory")->valueint, 256);
	assert_null(get(j, "cause"));

	cJSON *ext = pr_activation_extended(j);
	assert_null(get(get(ext, "response"), "statusCode"));
	cJSON *sum = pr_activation_summary(j);
	assert_int_equal(get(sum, "statusCode")->valueint, 0);
	assert_null(get(sum, "response"));
	assert_null(get(sum, "logs"));
	cJSON *res = pr_activation_result(j);
	assert_string_equal(get(get(res, "result"), "payload")->valuestring, "hi");
	assert_string_equal(get(res, "status")->valuestring, "success");
	assert_int_equal(get(j, "start")->valueint, 1000);
	assert_string_equal(get(j, "name")->valuestring, "hello");
	cJSON_Delete(ext);
	cJSON_Delete(sum);
	cJSON_Delete(res);
	cJSON_Delete(j);

	/* an open activation's summary has no end/duration/statusCode */
	a.end_ms = 0;
	a.init_ms = 30;
	strcpy(a.cause, "fedcba9876543210fedcba9876543210");
	j = pr_activation_to_json(&a);
	sum = pr_activation_summary(j);
	assert_null(get(sum, "end"));
	assert_null(get(sum, "statusCode"));
	assert_string_equal(get(sum, "cause")->valuestring, a.cause);
	assert_int_equal(ann(j, "initTime")->valueint, 30);
	assert_string_equal(ann(j, "causedBy")->valuestring, "sequence");
	cJSON_Delete(sum);
	cJSON_Delete(j);
	pr_activation_clear(&a);
}

static void test_run_response(void **state)
{
	cJSON *r;
	assert_int_equal(pr_run_response(200, "{\"a\":1}", 7, &r), PR_ST_SUCCESS);
	cJSON_Delete(r);
	assert_int_equal(pr_run_response(200, "[1,2]", 5, &r), PR_ST_SUCCESS);
	assert_true(cJSON_IsArray(r));
	cJSON_Delete(r);
	assert_int_equal(pr_run_response(200, "{\"error\":\"x\"}", 13, &r), PR_ST_APP_ERROR);
	cJSON_Delete(r);
	assert_int_equal(pr_run_response(502, "{\"error\":\"boom\"}", 16, &r),
			 PR_ST_DEVELOPER_ERROR);
	assert_string_equal(get(r, "error")->valuestring, "boom");
	cJSON_Delete(r);
	assert_int_equal(pr_run_response(200, "42", 2, &r), PR_ST_DEVELOPER_ERROR);
	assert_non_null(strstr(get(r, "error")->valuestring,
			       "The action did not produce a valid JSON or JSON Array response"));
	cJSON_Delete(r);
	assert_int_equal(pr_run_response(200, "not json", 8, &r), PR_ST_DEVELOPER_ERROR);
	cJSON_Delete(r);
	assert_int_equal(pr_init_response(200, "{\"ok\":true}", 11, &r), PR_ST_SUCCESS);
	assert_null(r);
	assert_int_equal(pr_init_response(502, "{\"error\":\"syntax\"}", 18, &r),
			 PR_ST_DEVELOPER_ERROR);
	assert_string_equal(get(r, "error")->valuestring, "syntax");
	cJSON_Delete(r);
	assert_int_equal(pr_init_response(500, "oops", 4, &r), PR_ST_DEVELOPER_ERROR);
	assert_string_equal(get(r, "error")->valuestring,
			    "The action failed during initialization: oops");
	cJSON_Delete(r);
	assert_string_equal(pr_status_message(2), "action developer error");
	assert_string_equal(pr_status_message(3), "whisk internal error");
}

static void test_credentials(void **state)
{
	struct pr_cred c;
	struct hc_err err;
	char b64[200], hash[65];
	const char *guest = PR_AUTH_GUEST;
	assert_int_equal(pr_cred_parse(guest, strlen(guest), &c, &err), 0);
	assert_string_equal(c.uuid, "23bc46b1-71f6-4ed5-8c54-816aa4f8c502");
	assert_int_equal(strlen(c.key), 64);
	char hdr[256];
	pr_base64_encode(guest, strlen(guest), b64, sizeof(b64));
	snprintf(hdr, sizeof(hdr), "basic %s", b64);
	struct pr_cred c2;
	assert_int_equal(pr_cred_from_basic(hdr, &c2, &err), 0);
	assert_string_equal(c2.key, c.key);
	pr_cred_hash(&c, hash);
	assert_true(pr_cred_matches(&c2, hash));
	c2.key[0] ^= 1;
	assert_false(pr_cred_matches(&c2, hash));
	/* wrong shapes */
	assert_int_equal(pr_cred_parse("abc:def", 7, &c, &err), -1);
	assert_int_equal(pr_cred_from_basic("Bearer xyz", &c, &err), -1);
	assert_int_equal(pr_cred_from_basic("Basic !!!!", &c, &err), -1);
	char shortkey[128];
	snprintf(shortkey, sizeof(shortkey), "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:%.63s",
		 guest + 37);
	assert_int_equal(pr_cred_parse(shortkey, strlen(shortkey), &c, &err), -1);
	/* base64 round trip with padding */
	char dec[16];
	pr_base64_encode("ab", 2, b64, sizeof(b64));
	assert_string_equal(b64, "YWI=");
	assert_int_equal(pr_base64_decode(b64, 4, dec, sizeof(dec)), 2);
	assert_string_equal(dec, "ab");
	assert_true(pr_namespace_valid("guest"));
	assert_false(pr_namespace_valid("_"));
	assert_false(pr_namespace_valid("a/b"));
}

static void test_forward_message(void **state)
{
	struct pr_forward f, g;
	struct hc_err err;
	memset(&f, 0, sizeof(f));
	strcpy(f.ns, "guest");
	strcpy(f.name, "a");
	strcpy(f.subject, "guest");
	strcpy(f.id, "0123456789abcdef0123456789abcdef");
	f.wait_ms = 500;
	f.params = cJSON_Parse("{\"x\":1}");
	cJSON *j = pr_forward_to_json(&f);
	char *s = cJSON_PrintUnformatted(j);
	assert_int_equal(pr_forward_parse(s, strlen(s), &g, &err), 0);
	assert_string_equal(g.id, f.id);
	assert_int_equal(g.wait_ms, 500);
	assert_int_equal(get(g.params, "x")->valueint, 1);
	cJSON_Delete(g.params);
	free(s);
	cJSON_Delete(j);
	cJSON_Delete(f.params);
	const char *bad = "{\"namespace\":\"g\",\"name\":\"a\",\"subject\":\"g\","
			  "\"activationId\":\"nothex\",\"wait_ms\":1}";
	assert_int_equal(pr_forward_parse(bad, strlen(bad), &g, &err), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_record_shape),
	    cmocka_unit_test(test_run_response),
	    cmocka_unit_test(test_credentials),
	    cmocka_unit_test(test_forward_message),
	};
	return cmocka_run_group_tests_name("ctl_record", tests, NULL, NULL);
}
