/* Unit tests for common/router.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "common/router.h"

static int A, B, C, D, E;

static struct hc_router *make(void)
{
	struct hc_router *r = hc_router_new();
	assert_non_null(r);
	assert_int_equal(hc_router_add(r, HC_GET, "/api/v1", &A), 0);
	assert_int_equal(hc_router_add(r, HC_GET | HC_PUT | HC_DELETE | HC_POST,
				       "/api/v1/namespaces/{ns}/actions/{name+}", &B),
			 0);
	assert_int_equal(hc_router_add(r, HC_GET, "/api/v1/namespaces/{ns}/actions", &C), 0);
	assert_int_equal(hc_router_add(r, HC_GET, "/suspend/{id}", &D), 0);
	assert_int_equal(hc_router_add(r, HC_POST, "/suspend/{id}", &E), 0);
	return r;
}

static void test_match(void **state)
{
	struct hc_router *r = make();
	struct hc_route_match m;
	const char *p = "/api/v1/namespaces/guest/actions/hello";
	assert_int_equal(hc_router_match(r, HC_POST, p, strlen(p), &m), HC_ROUTE_FOUND);
	assert_ptr_equal(m.data, &B);
	assert_string_equal(hc_route_param(&m, "ns"), "guest");
	assert_string_equal(hc_route_param(&m, "name"), "hello");
	assert_null(hc_route_param(&m, "nope"));

	p = "/api/v1/namespaces/_/actions/pkg/act%20ion";
	assert_int_equal(hc_router_match(r, HC_GET, p, strlen(p), &m), HC_ROUTE_FOUND);
	assert_string_equal(hc_route_param(&m, "name"), "pkg/act ion");

	p = "/api/v1/namespaces/_/actions/";
	assert_int_equal(hc_router_match(r, HC_GET, p, strlen(p), &m), HC_ROUTE_FOUND);
	assert_ptr_equal(m.data, &C);
	assert_string_equal(hc_route_param(&m, "ns"), "_");

	assert_int_equal(hc_router_match(r, HC_GET, "/api/v1", 7, &m), HC_ROUTE_FOUND);
	assert_ptr_equal(m.data, &A);
	assert_int_equal(m.nparams, 0);
	/* same path, two routes for different methods */
	assert_int_equal(hc_router_match(r, HC_POST, "/suspend/abc", 12, &m), HC_ROUTE_FOUND);
	assert_ptr_equal(m.data, &E);
	hc_router_free(r);
}

static void test_no_match(void **state)
{
	struct hc_router *r = make();
	struct hc_route_match m;
	assert_int_equal(hc_router_match(r, HC_GET, "/api/v2", 7, &m), HC_ROUTE_NOT_FOUND);
	assert_int_equal(hc_router_match(r, HC_GET, "/", 1, &m), HC_ROUTE_NOT_FOUND);
	assert_int_equal(hc_router_match(r, HC_GET, "/suspend/", 9, &m), HC_ROUTE_NOT_FOUND);
	assert_int_equal(hc_router_match(r, HC_GET, "/suspend/a/b", 12, &m), HC_ROUTE_NOT_FOUND);
	assert_int_equal(hc_router_match(r, HC_DELETE, "/api/v1", 7, &m), HC_ROUTE_BAD_METHOD);
	assert_int_equal(m.allowed, HC_GET);
	assert_int_equal(hc_router_match(r, HC_PUT, "/suspend/x", 10, &m), HC_ROUTE_BAD_METHOD);
	assert_int_equal(m.allowed, HC_GET | HC_POST);
	assert_int_equal(hc_router_match(r, HC_GET, "/suspend/%zz", 12, &m), HC_ROUTE_BAD_PATH);
	assert_int_equal(hc_router_match(r, HC_GET, "nope", 4, &m), HC_ROUTE_BAD_PATH);
	char longp[3000];
	memset(longp, 'a', sizeof longp);
	longp[0] = '/';
	assert_int_equal(hc_router_match(r, HC_GET, longp, sizeof longp, &m), HC_ROUTE_BAD_PATH);
	hc_router_free(r);
}

static void test_bad_patterns(void **state)
{
	struct hc_router *r = hc_router_new();
	assert_int_equal(hc_router_add(r, HC_GET, "nope", &A), -1);
	assert_int_equal(hc_router_add(r, HC_GET, "/a/{}", &A), -1);
	assert_int_equal(hc_router_add(r, HC_GET, "/a/{x+}/b", &A), -1);
	assert_int_equal(hc_router_add(r, 0, "/a", &A), -1);
	assert_int_equal(hc_router_add(r, HC_GET, "/", &A), 0);
	struct hc_route_match m;
	assert_int_equal(hc_router_match(r, HC_GET, "/", 1, &m), HC_ROUTE_FOUND);
	hc_router_free(r);
}

static void test_methods(void **state)
{
	assert_int_equal(hc_method_parse("GET", 3), HC_GET);
	assert_int_equal(hc_method_parse("DELETE", 6), HC_DELETE);
	assert_int_equal(hc_method_parse("get", 3), 0);
	assert_int_equal(hc_method_parse("BREW", 4), 0);
	assert_string_equal(hc_method_name(HC_OPTIONS), "OPTIONS");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_match),
	    cmocka_unit_test(test_no_match),
	    cmocka_unit_test(test_bad_patterns),
	    cmocka_unit_test(test_methods),
	};
	return cmocka_run_group_tests_name("router", tests, NULL, NULL);
}
