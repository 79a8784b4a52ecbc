/* test_proto_kinds.c — the kinds a deployment runs (proto/kinds.h): the
 * list's parser, resolution with OpenWhisk's "not supported" message, the
 * runtimes manifest of GET /, versioned interpreter names; and the
 * controller's reading of `--version` (controller/kinds.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "controller/kinds.h"
#include "proto/kinds.h"
#include "runtime/kind.h"

static void test_parse(void **state)
{
	struct pr_kinds k;
	struct hc_err err;
	assert_int_equal(pr_kinds_parse(" nodejs:22 , nodejs:20,python:3.12,nodejs:22", &k, &err),
			 0);
	/* in order, without duplicates, python:3 brought by python:3.12, blackbox always */
	assert_int_equal(k.n, 5);
	assert_string_equal(k.kind[0], "nodejs:22");
	assert_string_equal(k.kind[1], "nodejs:20");
	assert_string_equal(k.kind[2], "python:3.12");
	assert_string_equal(k.kind[3], "python:3");
	assert_string_equal(k.kind[4], "blackbox");
	assert_int_equal(pr_kinds_parse("", &k, &err), 0);
	assert_int_equal(k.n, 1);
	assert_int_equal(pr_kinds_parse("nodejs:20,java:8", &k, &err), -1);
	assert_non_null(strstr(err.msg, "\"java:8\" is not a kind"));
	assert_int_equal(pr_kinds_parse("nodejs:", &k, &err), -1);
	assert_int_equal(pr_kinds_parse("python:3.x", &k, &err), -1);
	assert_int_equal(pr_kinds_parse("python:2.7", &k, &err), -1);
	assert_int_equal(pr_kinds_parse("nodejs:123456", &k, &err), -1);
}

static void test_resolve(void **state)
{
	struct pr_kinds k;
	struct hc_err err;
	char out[32];
	assert_int_equal(pr_kinds_parse("nodejs:22,nodejs:18,python:3.11", &k, &err), 0);
	const char *ok[][2] = {{"nodejs", "nodejs:22"},	   {"nodejs:default", "nodejs:22"},
			       {"nodejs:18", "nodejs:18"}, {"nodejs:22", "nodejs:22"},
			       {"python", "python:3"},	   {"python:default", "python:3"},
			       {"python:3", "python:3"},   {"python:3.11", "python:3.11"},
			       {"blackbox", "blackbox"},   {"sequence", "sequence"}};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(pr_kinds_resolve(&k, ok[i][0], out, sizeof(out), &err), 0);
		assert_string_equal(out, ok[i][1]);
	}
	assert_int_equal(pr_kinds_resolve(&k, "nodejs:20", out, sizeof(out), &err), -1);
	assert_string_equal(err.msg,
			    "The request content was malformed:\nThe specified runtime "
			    "'nodejs:20' is not supported by this platform. Valid values are: "
			    "'blackbox', 'nodejs:18', 'nodejs:22', 'python:3', 'python:3.11', "
			    "'sequence'.");
	assert_int_equal(pr_kinds_resolve(&k, "python:3.12", out, sizeof(out), &err), -1);
	assert_int_equal(pr_kinds_resolve(&k, NULL, out, sizeof(out), &err), -1);
	/* no nodejs at all: the aliases have nothing to resolve to */
	assert_int_equal(pr_kinds_parse("python:3.11", &k, &err), 0);
	assert_int_equal(pr_kinds_resolve(&k, "nodejs", out, sizeof(out), &err), -1);
	assert_int_equal(pr_kinds_resolve(&k, "nodejs:default", out, sizeof(out), &err), -1);
}

static const cJSON *find_kind(const cJSON *family, const char *kind)
{
	const cJSON *e;
	cJSON_ArrayForEach(e, family)
	{
		const cJSON *k = cJSON_GetObjectItemCaseSensitive(e, "kind");
		if (cJSON_IsString(k) && !strcmp(k->valuestring, kind))
			return e;
	}
	return NULL;
}

static void test_manifest(void **state)
{
	struct pr_kinds k;
	struct hc_err err;
	assert_int_equal(pr_kinds_parse("nodejs:20,nodejs:22,python:3.11", &k, &err), 0);
	cJSON *m = pr_kinds_manifest(&k);
	assert_non_null(m);
	const cJSON *node = cJSON_GetObjectItemCaseSensitive(m, "nodejs");
	const cJSON *py = cJSON_GetObjectItemCaseSensitive(m, "python");
	const cJSON *bb = cJSON_GetObjectItemCaseSensitive(m, "blackbox");
	assert_int_equal(cJSON_GetArraySize(node), 2);
	assert_int_equal(cJSON_GetArraySize(py), 2);
	assert_int_equal(cJSON_GetArraySize(bb), 1);
	assert_int_equal(cJSON_GetArraySize(m), 3);
	const cJSON *n20 = find_kind(node, "nodejs:20"), *n22 = find_kind(node, "nodejs:22");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(n20, "default")));
	assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(n22, "default")));
	assert_true(
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(find_kind(py, "python:3"), "default")));
	assert_true(cJSON_IsFalse(
	    cJSON_GetObjectItemCaseSensitive(find_kind(py, "python:3.11"), "default")));
	/* OpenWhisk's fields, every one */
	static const char *const fields[] = {"kind",	"image",    "deprecated",
					     "default", "attached", "requireMain"};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		assert_non_null(cJSON_GetObjectItemCaseSensitive(n20, fields[i]));
	cJSON_Delete(m);
	/* a family with no kind is left out */
	assert_int_equal(pr_kinds_parse("python:3", &k, &err), 0);
	m = pr_kinds_manifest(&k);
	assert_null(cJSON_GetObjectItemCaseSensitive(m, "nodejs"));
	cJSON_Delete(m);
}

static void test_versioned_names(void **state)
{
	char n[32];
	pr_kind_versioned_name("nodejs:18", n, sizeof(n));
	assert_string_equal(n, "node18");
	pr_kind_versioned_name("python:3.12", n, sizeof(n));
	assert_string_equal(n, "python3.12");
	pr_kind_versioned_name("python:3", n, sizeof(n));
	assert_string_equal(n, "");
	pr_kind_versioned_name("blackbox", n, sizeof(n));
	assert_string_equal(n, "");
	pr_kind_versioned_name("nodejs:1/../x", n, sizeof(n)); /* no path ever */
	assert_string_equal(n, "");
}

static void test_from_version(void **state)
{
	char k[32];
	assert_int_equal(ctl_kinds_from_version("nodejs", "v20.20.2\n", k, sizeof(k)), 0);
	assert_string_equal(k, "nodejs:20");
	assert_int_equal(ctl_kinds_from_version("python", "Python 3.11.7\n", k, sizeof(k)), 0);
	assert_string_equal(k, "python:3.11");
	assert_int_equal(ctl_kinds_from_version("python", "Python 2.7.18\n", k, sizeof(k)), -1);
	assert_int_equal(ctl_kinds_from_version("nodejs", "command not found", k, sizeof(k)), -1);
	assert_int_equal(ctl_kinds_from_version("java", "v20", k, sizeof(k)), -1);
}

/* "auto" on this machine: what it finds must run (its version matches). */
static void test_probe_auto(void **state)
{
	struct pr_kinds k;
	struct hc_err err;
	assert_int_equal(ctl_kinds_setup("auto", &k, &err), 0);
	assert_true(pr_kinds_has(&k, "blackbox"));
	/* the interpreters the runtime would start are found and named */
	int node = 0;
	for (int i = 0; i < k.n; i++)
		node |= !strncmp(k.kind[i], "nodejs:", 7);
	if (access("/usr/bin/node", X_OK) == 0 || access("/usr/local/bin/node", X_OK) == 0)
		assert_true(node);
	if (access("/usr/bin/python3", X_OK) == 0)
		assert_true(pr_kinds_has(&k, "python:3"));
	assert_int_equal(ctl_kinds_setup("nodejs:18", &k, &err), 0);
	assert_true(pr_kinds_has(&k, "nodejs:18"));
	assert_false(pr_kinds_has(&k, "nodejs:20"));
}

/* the runtime starts exactly the version a kind names when the host has it */
static void test_runtime_interpreter(void **state)
{
	char p[256], g[256];
	struct hc_err err;
	if (access("/usr/bin/python3.11", X_OK) == 0) {
		assert_int_equal(
		    rt_kind_interpreter("python:3.11", RT_FAM_PYTHON, NULL, p, sizeof(p), &err), 0);
		assert_string_equal(p, "/usr/bin/python3.11");
	}
	if (rt_family_interpreter(RT_FAM_PYTHON, NULL, g, sizeof(g), &err) == 0) {
		assert_int_equal(
		    rt_kind_interpreter("python:3", RT_FAM_PYTHON, NULL, p, sizeof(p), &err), 0);
		assert_string_equal(p, g);
		/* no python3.99 anywhere: the family's (which the controller checked) */
		assert_int_equal(
		    rt_kind_interpreter("python:3.99", RT_FAM_PYTHON, NULL, p, sizeof(p), &err), 0);
		assert_string_equal(p, g);
		/* an operator's --python wins */
		assert_int_equal(
		    rt_kind_interpreter("python:3.11", RT_FAM_PYTHON, g, p, sizeof(p), &err), 0);
		assert_string_equal(p, g);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_resolve),
	    cmocka_unit_test(test_manifest),
	    cmocka_unit_test(test_versioned_names),
	    cmocka_unit_test(test_from_version),
	    cmocka_unit_test(test_probe_auto),
	    cmocka_unit_test(test_runtime_interpreter),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
