/* test_proto_web.c — web actions' arguments and responses (proto/web.c),
 * against the cases of OpenWhisk's docs/webactions.md and WebActions.scala. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "proto/web.h"

static void test_split(void **state)
{
	char name[64];
	enum pr_web_ext e;
	pr_web_split("hello.json", name, sizeof(name), &e);
	assert_string_equal(name, "hello");
	assert_int_equal(e, PR_WEB_JSON);
	pr_web_split("hello", name, sizeof(name), &e);
	assert_string_equal(name, "hello");
	assert_int_equal(e, PR_WEB_HTTP);
	pr_web_split("hello.png", name, sizeof(name), &e); /* unknown: part of the name */
	assert_string_equal(name, "hello.png");
	assert_int_equal(e, PR_WEB_HTTP);
	pr_web_split(".json", name, sizeof(name), &e); /* nothing before it: a name */
	assert_string_equal(name, ".json");
	pr_web_split("a.text", name, sizeof(name), &e);
	assert_int_equal(e, PR_WEB_TEXT);
	pr_web_split("a.svg", name, sizeof(name), &e);
	assert_int_equal(e, PR_WEB_SVG);
	pr_web_split("a.html", name, sizeof(name), &e);
	assert_int_equal(e, PR_WEB_HTML);
}

static const char *const hn[] = {"Content-Type", "X-Thing"};
static const char *const hv[] = {"application/json", "yes"};

static cJSON *arg(const char *query, const char *ct, const char *body, int raw, const cJSON *final,
		  struct hc_err *err)
{
	struct pr_web_request rq = {
	    .method = "POST",
	    .header_names = hn,
	    .header_values = hv,
	    .nheaders = 2,
	    .path = "/x/y",
	    .query = query,
	    .body = body,
	    .body_len = body ? strlen(body) : 0,
	    .content_type = ct,
	    .raw = raw,
	};
	return pr_web_argument(&rq, final, err);
}

static const char *str(const cJSON *o, const char *k)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

static void test_argument_merges_query_and_json_body(void **state)
{
	struct hc_err err = {{0}};
	cJSON *a = arg("name=Jane&x=%41+b", "application/json", "{\"name\":\"Joe\",\"n\":1}", 0,
		       NULL, &err);
	assert_non_null(a);
	assert_string_equal(str(a, "__ow_method"), "post");
	assert_string_equal(str(a, "__ow_path"), "/x/y");
	assert_string_equal(str(cJSON_GetObjectItemCaseSensitive(a, "__ow_headers"), "x-thing"),
			    "yes");
	assert_string_equal(str(a, "name"), "Joe"); /* the body wins over the query */
	assert_string_equal(str(a, "x"), "A b");
	assert_int_equal((int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(a, "n")), 1);
	assert_null(cJSON_GetObjectItemCaseSensitive(a, "__ow_body"));
	assert_null(cJSON_GetObjectItemCaseSensitive(a, "__ow_user"));
	cJSON_Delete(a);
}

static void test_argument_bodies(void **state)
{
	struct hc_err err = {{0}};
	cJSON *a = arg(NULL, "application/x-www-form-urlencoded", "a=1&b=two", 0, NULL, &err);
	assert_string_equal(str(a, "a"), "1");
	assert_string_equal(str(a, "b"), "two");
	cJSON_Delete(a);
	a = arg(NULL, "text/plain", "hello", 0, NULL, &err);
	assert_string_equal(str(a, "__ow_body"), "hello");
	cJSON_Delete(a);
	a = arg(NULL, "image/png", "\x89PNG", 0, NULL, &err);
	assert_string_equal(str(a, "__ow_body"), "iVBORw=="); /* binary: base64 */
	cJSON_Delete(a);
	a = arg(NULL, "application/json", "[1,2]", 0, NULL, &err); /* not an object */
	assert_true(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(a, "__ow_body")));
	cJSON_Delete(a);
	assert_null(arg(NULL, "application/json", "{nope", 0, NULL, &err));
}

static void test_argument_raw(void **state)
{
	struct hc_err err = {{0}};
	cJSON *a = arg("name=Jane", "application/json", "{\"name\":\"Jane\"}", 1, NULL, &err);
	assert_string_equal(str(a, "__ow_query"), "name=Jane");
	assert_string_equal(str(a, "__ow_body"), "eyJuYW1lIjoiSmFuZSJ9"); /* the docs' example */
	assert_null(cJSON_GetObjectItemCaseSensitive(a, "name"));
	cJSON_Delete(a);
	a = arg(NULL, NULL, NULL, 1, NULL, &err);
	assert_string_equal(str(a, "__ow_body"), "");
	assert_string_equal(str(a, "__ow_query"), "");
	cJSON_Delete(a);
}

static void test_argument_final_and_reserved(void **state)
{
	struct hc_err err = {{0}};
	cJSON *final = cJSON_Parse("[{\"key\":\"name\",\"value\":\"Jane\"}]");
	assert_null(arg("name=Eve", NULL, NULL, 0, final, &err));
	assert_string_equal(err.msg, PR_WEB_MSG_PARAMS);
	memset(&err, 0, sizeof(err));
	assert_null(arg(NULL, "application/json", "{\"name\":\"Eve\"}", 0, final, &err));
	memset(&err, 0, sizeof(err));
	assert_null(arg("__ow_method=get", NULL, NULL, 0, NULL, &err));
	memset(&err, 0, sizeof(err));
	cJSON *a = arg("other=1", NULL, NULL, 0, final, &err);
	assert_non_null(a);
	cJSON_Delete(a);
	cJSON_Delete(final);
}

struct out {
	struct pr_web_response r;
	struct hc_err err;
	int rc;
};

static void respond(struct out *o, enum pr_web_ext e, const char *result, const char *path)
{
	cJSON *j = cJSON_Parse(result);
	assert_non_null(j);
	memset(o, 0, sizeof(*o));
	pr_web_response_init(&o->r);
	o->rc = pr_web_respond(e, j, path, &o->r, &o->err);
	cJSON_Delete(j);
}

static void test_respond_http(void **state)
{
	struct out o;
	respond(&o, PR_WEB_HTTP, "{\"body\":\"<h1>hi</h1>\"}", NULL);
	assert_int_equal(o.rc, 0);
	assert_int_equal(o.r.status, 200);
	assert_string_equal(o.r.content_type, "text/html");
	assert_string_equal(hc_buf_str(&o.r.body), "<h1>hi</h1>");
	pr_web_response_free(&o.r);

	respond(&o, PR_WEB_HTTP,
		"{\"statusCode\":\"201\",\"headers\":{\"X-A\":[1,true]},\"body\":{\"k\":1}}", NULL);
	assert_int_equal(o.rc, 0);
	assert_int_equal(o.r.status, 201);
	assert_string_equal(o.r.content_type, "application/json");
	assert_string_equal(hc_buf_str(&o.r.headers), "X-A: 1\r\nX-A: true\r\n");
	assert_string_equal(hc_buf_str(&o.r.body), "{\"k\":1}");
	pr_web_response_free(&o.r);

	respond(&o, PR_WEB_HTTP, "{}", NULL); /* nothing: 204 */
	assert_int_equal(o.r.status, 204);
	assert_int_equal(o.r.body.len, 0);
	pr_web_response_free(&o.r);

	respond(&o, PR_WEB_HTTP,
		"{\"headers\":{\"Content-Type\":\"image/png\"},\"body\":\"iVBORw==\"}", NULL);
	assert_int_equal(o.rc, 0);
	assert_string_equal(o.r.content_type, "image/png");
	assert_int_equal(o.r.body.len, 4);
	assert_memory_equal(o.r.body.data, "\x89PNG", 4);
	pr_web_response_free(&o.r);

	respond(&o, PR_WEB_HTTP, "{\"headers\":{\"Content-Type\":\"image/png\"},\"body\":\"no!\"}",
		NULL);
	assert_int_equal(o.rc, -1);
	assert_int_equal(o.r.status, 400);
	assert_string_equal(o.err.msg, PR_WEB_MSG_CT_MISMATCH);
	pr_web_response_free(&o.r);

	respond(&o, PR_WEB_HTTP, "[1]", NULL);
	assert_int_equal(o.r.status, 400);
	assert_string_equal(o.err.msg, "Response is not valid 'message/http'.");
	pr_web_response_free(&o.r);

	respond(&o, PR_WEB_HTTP, "{\"statusCode\":\"abc\"}", NULL);
	assert_int_equal(o.r.status, 400);
	pr_web_response_free(&o.r);

	respond(&o, PR_WEB_HTTP, "{\"headers\":{\"X\":{\"a\":1}}}", NULL);
	assert_int_equal(o.r.status, 400);
	pr_web_response_free(&o.r);

	respond(&o, PR_WEB_HTTP, "{\"headers\":{\"X\":\"a\\r\\nSet-Cookie: b\"}}", NULL);
	assert_int_equal(o.r.status, 400); /* never a header split */
	pr_web_response_free(&o.r);

	respond(&o, PR_WEB_HTTP,
		"{\"headers\":{\"Content-Type\":\"text/plain\"},\"body\":{\"a\":1}}", NULL);
	assert_int_equal(o.r.status, 400);
	assert_string_equal(o.err.msg, PR_WEB_MSG_CT_MISMATCH);
	pr_web_response_free(&o.r);
}

static void test_respond_other_extensions(void **state)
{
	struct out o;
	respond(&o, PR_WEB_JSON, "{\"a\":{\"b\":[1,2]}}", "/a/b");
	assert_int_equal(o.rc, 0);
	assert_string_equal(hc_buf_str(&o.r.body), "[1,2]");
	pr_web_response_free(&o.r);

	respond(&o, PR_WEB_JSON, "{\"a\":1}", "/nope");
	assert_int_equal(o.r.status, 404);
	assert_string_equal(o.err.msg, PR_WEB_MSG_PROPERTY);
	pr_web_response_free(&o.r);

	respond(&o, PR_WEB_JSON, "{\"a\":1}", "/a"); /* a number is not JSON media */
	assert_int_equal(o.r.status, 400);
	assert_string_equal(o.err.msg, "Response is not valid 'application/json'.");
	pr_web_response_free(&o.r);

	respond(&o, PR_WEB_HTML, "{\"html\":\"<p>x</p>\"}", NULL);
	assert_int_equal(o.r.status, 200);
	assert_string_equal(hc_buf_str(&o.r.body), "<p>x</p>");
	pr_web_response_free(&o.r);

	respond(&o, PR_WEB_SVG, "{\"body\":\"<svg/>\"}", NULL);
	assert_string_equal(o.r.content_type, "image/svg+xml");
	pr_web_response_free(&o.r);

	respond(&o, PR_WEB_TEXT, "{\"text\":42}", NULL);
	assert_string_equal(hc_buf_str(&o.r.body), "42");
	pr_web_response_free(&o.r);

	respond(&o, PR_WEB_TEXT, "{\"other\":1}", NULL);
	assert_int_equal(o.r.status, 404);
	pr_web_response_free(&o.r);
}

static void test_content_types(void **state)
{
	assert_true(pr_web_is_json("application/json; charset=utf-8"));
	assert_true(pr_web_is_json("application/vnd.api+json"));
	assert_false(pr_web_is_json("text/json"));
	assert_false(pr_web_is_binary("text/plain"));
	assert_false(pr_web_is_binary("application/json"));
	assert_false(pr_web_is_binary("image/svg+xml"));
	assert_true(pr_web_is_binary("image/png"));
	assert_true(pr_web_is_binary("application/octet-stream"));
	assert_true(pr_web_is_binary(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_split),
	    cmocka_unit_test(test_argument_merges_query_and_json_body),
	    cmocka_unit_test(test_argument_bodies),
	    cmocka_unit_test(test_argument_raw),
	    cmocka_unit_test(test_argument_final_and_reserved),
	    cmocka_unit_test(test_respond_http),
	    cmocka_unit_test(test_respond_other_extensions),
	    cmocka_unit_test(test_content_types),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
