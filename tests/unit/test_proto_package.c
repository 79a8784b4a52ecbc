/* test_proto_package.c — the OpenWhisk package document (PUT decoding,
 * create/update rules, the binding annotation, summaries, GET with
 * actions and feeds), parameter inheritance, and the activation record's
 * path/binding/conductor fields (annotations, packing, the index name). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "proto/activation.h"
#include "proto/package.h"

static int decode(const char *body, struct pr_package_put *p, int *status, struct hc_err *err)
{
	return pr_package_put_decode(body, strlen(body), "guest", p, status, err);
}

static const cJSON *get(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *v = get(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The value of annotation or parameter key in a {key,value} array. */
static const cJSON *kv(const cJSON *arr, const char *key)
{
	const cJSON *e;
	cJSON_ArrayForEach(e, arr) if (!strcmp(str(e, "key"), key)) return get(e, "value");
	return NULL;
}

static void test_decode(void **state)
{
	struct pr_package_put p;
	struct hc_err err;
	int st;
	assert_int_equal(decode("", &p, &st, &err), 0); /* wsk sends {} or nothing */
	assert_int_equal(p.has_binding, 0);
	assert_int_equal(p.publish, -1);
	pr_package_put_free(&p);
	assert_int_equal(decode("{\"binding\":{}}", &p, &st, &err), 0);
	assert_int_equal(p.has_binding, 0); /* {} is a package */
	pr_package_put_free(&p);
	assert_int_equal(decode("{\"binding\":{\"namespace\":\"_\",\"name\":\"base\"},"
				"\"publish\":true,\"version\":\"1.2.3\"}",
				&p, &st, &err),
			 0);
	assert_int_equal(p.has_binding, 1);
	assert_string_equal(p.bind_ns, "guest"); /* `_` is the caller's */
	assert_string_equal(p.bind_name, "base");
	assert_int_equal(p.publish, 1);
	assert_string_equal(p.version, "1.2.3");
	pr_package_put_free(&p);

	assert_int_equal(decode("[1]", &p, &st, &err), -1);
	assert_int_equal(st, 400);
	assert_int_equal(decode("{\"binding\":{\"name\":\"x\"}}", &p, &st, &err), -1);
	assert_int_equal(st, 400);
	assert_int_equal(decode("{\"parameters\":{\"a\":1}}", &p, &st, &err), -1);
	assert_int_equal(st, 400);
	assert_int_equal(decode("{\"publish\":\"yes\"}", &p, &st, &err), -1);
	assert_int_equal(decode("{\"version\":\"1\"}", &p, &st, &err), -1);

	/* over 1 MB of parameters: 413 with OpenWhisk's message */
	size_t n = 1100 * 1024;
	char *big = malloc(n + 64);
	assert_non_null(big);
	int len = snprintf(big, 64, "{\"parameters\":[{\"key\":\"k\",\"value\":\"");
	memset(big + len, 'x', n);
	strcpy(big + len + n, "\"}]}");
	assert_int_equal(decode(big, &p, &st, &err), -1);
	assert_int_equal(st, 413);
	assert_non_null(strstr(err.msg, "parameters larger than allowed: "));
	free(big);
}

static cJSON *build(const cJSON *old, const char *body)
{
	struct pr_package_put p;
	struct hc_err err;
	int st;
	assert_int_equal(decode(body, &p, &st, &err), 0);
	cJSON *d = pr_package_build(old, &p, "guest", "pkg", 1000, &err);
	assert_non_null(d);
	pr_package_put_free(&p);
	return d;
}

static void test_build_create_update(void **state)
{
	/* a binding annotation from the request is the controller's to set */
	cJSON *d = build(NULL, "{\"parameters\":[{\"key\":\"a\",\"value\":1}],"
			       "\"annotations\":[{\"key\":\"binding\",\"value\":\"x\"},"
			       "{\"key\":\"k\",\"value\":\"v\"}]}");
	struct pr_package_info pi;
	assert_int_equal(pr_package_info(d, &pi), 0);
	assert_int_equal(pi.is_binding, 0);
	assert_int_equal(pi.publish, 0);
	assert_string_equal(str(d, "version"), "0.0.1");
	assert_null(kv(get(d, "annotations"), "binding"));
	assert_string_equal(kv(get(d, "annotations"), "k")->valuestring, "v");
	assert_true(cJSON_IsObject(get(d, "binding")) && !get(d, "binding")->child);
	assert_non_null(pi.revision);
	cJSON *api = pr_package_to_api(d);
	assert_null(get(api, "rev")); /* hearth's own */
	assert_non_null(get(api, "updated"));
	cJSON_Delete(api);

	/* update: absent fields stay, version upPatch, publish changes */
	cJSON *u = build(d, "{\"publish\":true}");
	assert_string_equal(str(u, "version"), "0.0.2");
	assert_true(cJSON_IsTrue(get(u, "publish")));
	assert_int_equal(kv(get(u, "parameters"), "a")->valueint, 1);
	struct pr_package_info ui;
	assert_int_equal(pr_package_info(u, &ui), 0);
	assert_string_not_equal(ui.revision, pi.revision); /* every write */
	cJSON *s = pr_package_summary(u);
	assert_true(cJSON_IsFalse(get(s, "binding")));
	assert_null(get(s, "parameters"));
	cJSON_Delete(s);
	cJSON_Delete(u);
	cJSON_Delete(d);

	/* a binding: the binding annotation is set from it */
	cJSON *b = build(NULL, "{\"binding\":{\"namespace\":\"other\",\"name\":\"base\"}}");
	struct pr_package_info bi;
	assert_int_equal(pr_package_info(b, &bi), 0);
	assert_int_equal(bi.is_binding, 1);
	assert_string_equal(bi.bind_ns, "other");
	assert_string_equal(bi.bind_name, "base");
	const cJSON *ann = kv(get(b, "annotations"), "binding");
	assert_string_equal(str(ann, "namespace"), "other");
	assert_string_equal(str(ann, "name"), "base");
	s = pr_package_summary(b);
	assert_string_equal(str(get(s, "binding"), "name"), "base");
	cJSON_Delete(s);
	/* an update without a binding keeps it */
	cJSON *b2 = build(b, "{\"parameters\":[]}");
	assert_int_equal(pr_package_info(b2, &bi), 0);
	assert_int_equal(bi.is_binding, 1);
	assert_non_null(kv(get(b2, "annotations"), "binding"));
	cJSON_Delete(b2);
	cJSON_Delete(b);
}

static void test_with_actions_and_inherit(void **state)
{
	const char *acts = "[{\"name\":\"a\",\"version\":\"0.0.1\",\"annotations\":[]},"
			   "{\"name\":\"f\",\"version\":\"0.0.2\",\"annotations\":[{\"key\":"
			   "\"feed\",\"value\":false}],\"exec\":{}}]";
	cJSON *list = cJSON_Parse(acts);
	cJSON *pkg = cJSON_Parse("{\"name\":\"b\",\"parameters\":[{\"key\":\"x\",\"value\":"
				 "\"bind\"},{\"key\":\"b\",\"value\":1}]}");
	cJSON *base =
	    cJSON_Parse("[{\"key\":\"x\",\"value\":\"pkg\"},{\"key\":\"p\",\"value\":2}]");
	cJSON *out = pr_package_with_actions(pkg, list, base);
	assert_non_null(out);
	assert_int_equal(cJSON_GetArraySize(get(out, "actions")), 1);
	assert_int_equal(cJSON_GetArraySize(get(out, "feeds")), 1); /* whatever its value */
	const cJSON *f = cJSON_GetArrayItem(get(out, "feeds"), 0);
	assert_string_equal(str(f, "name"), "f");
	assert_null(get(f, "exec")); /* name, version, annotations */
	/* the binding's parameters over its package's */
	const cJSON *params = get(out, "parameters");
	assert_string_equal(kv(params, "x")->valuestring, "bind");
	assert_int_equal(kv(params, "p")->valueint, 2);
	assert_int_equal(kv(params, "b")->valueint, 1);
	cJSON_Delete(out);
	cJSON_Delete(list);

	/* package < binding < action */
	cJSON *bind = cJSON_Parse("[{\"key\":\"x\",\"value\":\"bind\"}]");
	cJSON *act = cJSON_Parse("[{\"key\":\"x\",\"value\":\"act\"},{\"key\":\"s\",\"value\":"
				 "\"S\",\"init\":true}]");
	cJSON *pb = pr_params_inherit(base, bind);
	assert_string_equal(kv(pb, "x")->valuestring, "bind");
	cJSON *all = pr_params_inherit(pb, act);
	assert_string_equal(kv(all, "x")->valuestring, "act");
	assert_int_equal(kv(all, "p")->valueint, 2);
	assert_int_equal(cJSON_GetArraySize(all), 3);
	char *init = pr_params_init_text(all);
	assert_non_null(init);
	assert_non_null(strstr(init, "\"s\""));
	assert_null(strstr(init, "\"p\""));
	free(init);
	assert_null(pr_params_init_text(base)); /* none marked */
	cJSON_Delete(all);
	cJSON_Delete(pb);
	cJSON_Delete(act);
	cJSON_Delete(bind);
	cJSON_Delete(base);
}

/* ---- the record of an action in a package ---- */

static void record(struct pr_activation *a)
{
	pr_activation_init(a);
	strcpy(a->id, "0123456789abcdef0123456789abcdef");
	strcpy(a->ns, "alice");
	strcpy(a->subject, "alice");
	strcpy(a->name, "echo");
	strcpy(a->version, "0.0.1");
	strcpy(a->kind, "nodejs:20");
	a->start_ms = 1000;
	a->end_ms = 1002;
	a->limits = (struct pr_limits){60000, 256, 10, 1};
}

static void test_record_path_and_binding(void **state)
{
	struct pr_activation a;
	char buf[1024];
	record(&a);
	/* no package: listed under its name, packed as before */
	assert_string_equal(pr_activation_index_name(&a, buf, sizeof buf), "echo");
	char small[4096], big[4096];
	struct hc_buf b1 = HC_BUF_FIXED(small);
	assert_int_equal(pr_activation_pack(&b1, &a, NULL, 0), 0);

	a.path = "guest/pub/echo";
	assert_string_equal(pr_activation_index_name(&a, buf, sizeof buf), "pub/echo");
	a.binding = "alice/mine";
	assert_string_equal(pr_activation_index_name(&a, buf, sizeof buf), "mine/echo");
	struct hc_buf b2 = HC_BUF_FIXED(big);
	assert_int_equal(pr_activation_pack(&b2, &a, NULL, 0), 0);
	assert_true(b2.len > b1.len);

	cJSON *j = pr_activation_unpack(b2.data, b2.len, a.id);
	assert_non_null(j);
	assert_string_equal(str(j, "namespace"), "alice");
	assert_string_equal(str(j, "name"), "echo");
	assert_string_equal(kv(get(j, "annotations"), "path")->valuestring, "guest/pub/echo");
	assert_string_equal(kv(get(j, "annotations"), "binding")->valuestring, "alice/mine");
	/* the text encoder says the same */
	char text[4096];
	struct hc_buf t = HC_BUF_FIXED(text);
	assert_int_equal(pr_activation_encode(&t, &a, NULL, 0, 1), 0);
	cJSON *tj = cJSON_Parse(text);
	cJSON *tree = pr_activation_to_json(&a);
	assert_true(cJSON_Compare(tj, tree, 1));
	assert_true(cJSON_Compare(j, tree, 1));
	cJSON_Delete(tj);
	cJSON_Delete(tree);
	cJSON_Delete(j);

	/* a plain record unpacks without them */
	j = pr_activation_unpack(b1.data, b1.len, a.id);
	assert_string_equal(kv(get(j, "annotations"), "path")->valuestring, "alice/echo");
	assert_null(kv(get(j, "annotations"), "binding"));
	cJSON_Delete(j);
}

static void test_record_compositions(void **state)
{
	struct pr_activation a;
	record(&a);
	strcpy(a.kind, "sequence");
	a.sequence = 1;
	a.conductor = 1;
	char text[4096];
	struct hc_buf b = HC_BUF_FIXED(text);
	assert_int_equal(pr_activation_pack(&b, &a, NULL, 0), 0);
	cJSON *j = pr_activation_unpack(b.data, b.len, a.id);
	const cJSON *ann = get(j, "annotations");
	assert_true(cJSON_IsTrue(kv(ann, "topmost")));
	assert_true(cJSON_IsTrue(kv(ann, "conductor")));
	assert_string_equal(kv(ann, "kind")->valuestring, "sequence");
	cJSON_Delete(j);
	/* nested (it has a cause): topmost false */
	strcpy(a.cause, "fedcba9876543210fedcba9876543210");
	a.conductor = 0;
	cJSON *tree = pr_activation_to_json(&a);
	assert_true(cJSON_IsFalse(kv(get(tree, "annotations"), "topmost")));
	assert_null(kv(get(tree, "annotations"), "conductor"));
	struct hc_buf t = HC_BUF_FIXED(text);
	assert_int_equal(pr_activation_encode(&t, &a, NULL, 0, 1), 0);
	cJSON *tj = cJSON_Parse(text);
	assert_true(cJSON_Compare(tj, tree, 1));
	cJSON_Delete(tj);
	cJSON_Delete(tree);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decode),
	    cmocka_unit_test(test_build_create_update),
	    cmocka_unit_test(test_with_actions_and_inherit),
	    cmocka_unit_test(test_record_path_and_binding),
	    cmocka_unit_test(test_record_compositions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
