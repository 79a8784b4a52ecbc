/* test_json.c — bounded parsing and the typed getters. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/json.h"

static cJSON *parse(const char *s, struct hc_err *err)
{
	return hc_json_parse(s, strlen(s), HC_JSON_MAX_DEPTH, err);
}

static void test_parse_valid(void **state)
{
	struct hc_err err = {""};
	cJSON *j = parse("  {\"a\": [1, 2, {\"b\": \"x]}\"}], \"c\": null}\n\t", &err);

	assert_non_null(j);
	assert_true(cJSON_IsObject(j));
	cJSON_Delete(j);
	j = parse("42", &err);
	assert_non_null(j);
	assert_int_equal((int)j->valuedouble, 42);
	cJSON_Delete(j);
	j = parse("\"caf\xc3\xa9 \xf0\x9f\x98\x80\"", &err);
	assert_non_null(j);
	assert_string_equal(j->valuestring, "caf\xc3\xa9 \xf0\x9f\x98\x80");
	cJSON_Delete(j);
}

static void test_parse_not_nul_terminated(void **state)
{
	struct hc_err err;
	/* Exactly-sized heap copy: ASan catches any read past the end. */
	const char src[] = "{\"k\":\"v\"}";
	char *p = malloc(sizeof(src) - 1);
	cJSON *j;

	memcpy(p, src, sizeof(src) - 1);
	j = hc_json_parse(p, sizeof(src) - 1, 4, &err);
	assert_non_null(j);
	assert_string_equal(cJSON_GetObjectItem(j, "k")->valuestring, "v");
	cJSON_Delete(j);
	j = hc_json_parse(p, 5, 4, &err); /* {"k": */
	assert_null(j);
	free(p);
}

static void test_parse_empty(void **state)
{
	struct hc_err err = {""};

	assert_null(hc_json_parse("", 0, 8, &err));
	assert_string_equal(err.msg, "empty JSON body");
	assert_null(parse(" \n\t\r ", &err));
	assert_string_equal(err.msg, "empty JSON body");
	assert_null(hc_json_parse(NULL, 0, 8, NULL));
}

/* What an invoke may skip parsing: nothing, whitespace, or {}. */
static void test_blank_and_empty_object(void **state)
{
	assert_true(hc_json_blank("", 0));
	assert_true(hc_json_blank(" \n\t\r", 4));
	assert_false(hc_json_blank(" {}", 3));
	assert_false(hc_json_blank("\f", 1)); /* not JSON whitespace */
	assert_true(hc_json_empty_object("{}", 2));
	assert_true(hc_json_empty_object(" \r\n{ \t}\n ", 9));
	assert_false(hc_json_empty_object("", 0));
	assert_false(hc_json_empty_object("{", 1));
	assert_false(hc_json_empty_object("{}}", 3));
	assert_false(hc_json_empty_object("{} x", 4));
	assert_false(hc_json_empty_object("{\"a\":1}", 7));
	assert_false(hc_json_empty_object("[]", 2));
	/* the length counts, not a terminator */
	assert_true(hc_json_empty_object("{}garbage", 2));
	assert_false(hc_json_empty_object("{}", 1));
}

static void test_parse_malformed_offset(void **state)
{
	struct hc_err err = {""};

	assert_null(parse("{\"a\": tru}", &err));
	assert_non_null(strstr(err.msg, "malformed JSON at byte "));
	assert_null(parse("{\"a\":1", &err));
	assert_non_null(strstr(err.msg, "malformed JSON at byte"));
	assert_null(parse("[1,2,]", &err));
	assert_null(parse("\"bad \\q escape\"", &err));
	assert_null(parse("\"\\ud800\"", &err)); /* lone surrogate */
	assert_null(parse("{'a':1}", &err));
}

static void test_parse_trailing(void **state)
{
	struct hc_err err = {""};

	assert_null(parse("{} x", &err));
	assert_string_equal(err.msg, "malformed JSON at byte 3: trailing data");
	assert_null(parse("1 2", &err));
	assert_string_equal(err.msg, "malformed JSON at byte 2: trailing data");
	/* an embedded NUL is trailing data too */
	assert_null(hc_json_parse("{}\0", 3, 8, &err));
	assert_string_equal(err.msg, "malformed JSON at byte 2: trailing data");
}

static void test_parse_depth(void **state)
{
	struct hc_err err = {""};
	char deep[200];
	cJSON *j;
	int i;

	for (i = 0; i < 5; i++)
		deep[i] = '[';
	for (i = 5; i < 10; i++)
		deep[i] = ']';
	j = hc_json_parse(deep, 10, 5, &err);
	assert_non_null(j);
	cJSON_Delete(j);
	assert_null(hc_json_parse(deep, 10, 4, &err));
	assert_string_equal(err.msg, "JSON nested deeper than 4 at byte 4");
	/* brackets inside strings (even after an escaped quote) do not count */
	j = hc_json_parse("{\"a\\\"[[[[[[\":1}", 15, 1, &err);
	assert_non_null(j);
	cJSON_Delete(j);
	/* far too deep is refused before cJSON recurses */
	memset(deep, '{', sizeof(deep));
	assert_null(hc_json_parse(deep, sizeof(deep), HC_JSON_MAX_DEPTH, &err));
	assert_non_null(strstr(err.msg, "nested deeper than 64"));
}

static void test_parse_utf8(void **state)
{
	struct hc_err err = {""};

	assert_null(parse("\"\xff\"", &err));
	assert_string_equal(err.msg, "invalid UTF-8 in JSON at byte 1");
	assert_null(parse("\"\xc0\xaf\"", &err));	  /* overlong */
	assert_null(parse("\"\xed\xa0\x80\"", &err));	  /* surrogate */
	assert_null(parse("\"\xf4\x90\x80\x80\"", &err)); /* > U+10FFFF */
	assert_null(parse("\"\xe2\x82\"", &err));	  /* truncated */
	assert_null(parse("\"\xc3", &err));
}

static const char doc[] =
    "{\"s\":\"str\",\"i\":42,\"neg\":-7,\"f\":1.5,\"big\":9007199254740993,"
    "\"safe\":9007199254740991,\"exp\":1e3,\"t\":true,\"n\":null,\"o\":{\"x\":1},\"a\":[1,2],"
    "\"long\":\"0123456789\"}";

static int setup(void **state)
{
	struct hc_err err;

	*state = hc_json_parse(doc, strlen(doc), HC_JSON_MAX_DEPTH, &err);
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	cJSON_Delete(*state);
	return 0;
}

static void test_get_str(void **state)
{
	const cJSON *j = *state;
	struct hc_err err = {""};
	const char *s = "default";

	assert_int_equal(hc_json_str(j, "s", 1, &s, &err), 0);
	assert_string_equal(s, "str");
	s = "default";
	assert_int_equal(hc_json_str(j, "missing", 0, &s, &err), 0);
	assert_string_equal(s, "default");
	assert_int_equal(hc_json_str(j, "n", 0, &s, &err), 0);
	assert_string_equal(s, "default");
	assert_int_equal(hc_json_str(j, "missing", 1, &s, &err), -1);
	assert_string_equal(err.msg, "missing field \"missing\"");
	assert_int_equal(hc_json_str(j, "n", 1, &s, &err), -1);
	assert_string_equal(err.msg, "missing field \"n\"");
	assert_int_equal(hc_json_str(j, "i", 1, &s, &err), -1);
	assert_string_equal(err.msg, "field \"i\" must be a string");
	assert_int_equal(hc_json_str(cJSON_GetObjectItem(j, "a"), "x", 1, &s, &err), -1);
	assert_string_equal(err.msg, "expected a JSON object holding \"x\"");
	assert_int_equal(hc_json_str(NULL, "x", 0, &s, NULL), -1);
}

static void test_get_int(void **state)
{
	const cJSON *j = *state;
	struct hc_err err = {""};
	int64_t v = -1;

	assert_int_equal(hc_json_int(j, "i", 1, 0, 100, &v, &err), 0);
	assert_int_equal(v, 42);
	assert_int_equal(hc_json_int(j, "neg", 1, -10, 10, &v, &err), 0);
	assert_int_equal(v, -7);
	assert_int_equal(hc_json_int(j, "exp", 1, 0, 1000, &v, &err), 0);
	assert_int_equal(v, 1000);
	v = 5;
	assert_int_equal(hc_json_int(j, "missing", 0, 0, 10, &v, &err), 0);
	assert_int_equal(v, 5);
	assert_int_equal(hc_json_int(j, "i", 1, 0, 41, &v, &err), -1);
	assert_string_equal(err.msg, "field \"i\": 42 is out of range 0..41");
	assert_int_equal(hc_json_int(j, "neg", 1, 0, 10, &v, &err), -1);
	assert_int_equal(hc_json_int(j, "f", 1, 0, 10, &v, &err), -1);
	assert_string_equal(err.msg, "field \"f\" must be an integer");
	assert_int_equal(hc_json_int(j, "s", 1, 0, 10, &v, &err), -1);
	assert_string_equal(err.msg, "field \"s\" must be an integer");
	assert_int_equal(hc_json_int(j, "big", 1, INT64_MIN, INT64_MAX, &v, &err), -1);
	assert_string_equal(err.msg, "field \"big\" is too large to be exact");
	assert_int_equal(hc_json_int(j, "safe", 1, INT64_MIN, INT64_MAX, &v, &err), 0);
	assert_int_equal(v, 9007199254740991LL);
	v = 5;
	assert_int_equal(hc_json_int(j, "missing", 1, 0, 1, &v, &err), -1);
	assert_int_equal(v, 5);
}

static void test_get_bool_obj_arr(void **state)
{
	const cJSON *j = *state, *o = NULL;
	struct hc_err err = {""};
	int b = 7;

	assert_int_equal(hc_json_bool(j, "t", 1, &b, &err), 0);
	assert_int_equal(b, 1);
	b = 7;
	assert_int_equal(hc_json_bool(j, "missing", 0, &b, &err), 0);
	assert_int_equal(b, 7);
	assert_int_equal(hc_json_bool(j, "i", 0, &b, &err), -1);
	assert_string_equal(err.msg, "field \"i\" must be true or false");

	assert_int_equal(hc_json_obj(j, "o", 1, &o, &err), 0);
	assert_non_null(cJSON_GetObjectItem(o, "x"));
	assert_int_equal(hc_json_obj(j, "a", 1, &o, &err), -1);
	assert_string_equal(err.msg, "field \"a\" must be an object");
	assert_int_equal(hc_json_arr(j, "a", 1, &o, &err), 0);
	assert_int_equal(cJSON_GetArraySize(o), 2);
	assert_int_equal(hc_json_arr(j, "o", 1, &o, &err), -1);
	assert_string_equal(err.msg, "field \"o\" must be an array");
	o = NULL;
	assert_int_equal(hc_json_arr(j, "missing", 0, &o, &err), 0);
	assert_null(o);
}

static void test_strcpy(void **state)
{
	const cJSON *j = *state;
	struct hc_err err = {""};
	char buf[11] = "unchanged";

	assert_int_equal(hc_json_strcpy(j, "long", 1, buf, sizeof(buf), &err), 0);
	assert_string_equal(buf, "0123456789");
	assert_int_equal(hc_json_strcpy(j, "long", 1, buf, 10, &err), -1);
	assert_string_equal(err.msg, "field \"long\" is too long (at most 9 bytes)");
	strcpy(buf, "unchanged");
	assert_int_equal(hc_json_strcpy(j, "missing", 0, buf, sizeof(buf), &err), 0);
	assert_string_equal(buf, "unchanged");
	assert_int_equal(hc_json_strcpy(j, "i", 0, buf, sizeof(buf), &err), -1);
}

static void test_build_and_print(void **state)
{
	cJSON *o = cJSON_CreateObject();
	struct hc_err err;
	char *s;
	cJSON *back;
	int64_t v;

	assert_int_equal(hc_json_add_str(o, "name", "a\"b"), 0);
	assert_int_equal(hc_json_add_int(o, "n", -123456789012LL), 0);
	assert_int_equal(hc_json_add_bool(o, "ok", 1), 0);
	assert_int_equal(hc_json_add_str(o, "empty", NULL), 0);
	s = hc_json_print(o);
	assert_string_equal(s,
			    "{\"name\":\"a\\\"b\",\"n\":-123456789012,\"ok\":true,\"empty\":\"\"}");
	back = hc_json_parse(s, strlen(s), 4, &err);
	assert_non_null(back);
	assert_int_equal(hc_json_int(back, "n", 1, INT64_MIN, INT64_MAX, &v, &err), 0);
	assert_int_equal(v, -123456789012LL);
	cJSON_Delete(back);
	free(s);
	cJSON_Delete(o);
	assert_null(hc_json_print(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_valid),
	    cmocka_unit_test(test_parse_not_nul_terminated),
	    cmocka_unit_test(test_parse_empty),
	    cmocka_unit_test(test_blank_and_empty_object),
	    cmocka_unit_test(test_parse_malformed_offset),
	    cmocka_unit_test(test_parse_trailing),
	    cmocka_unit_test(test_parse_depth),
	    cmocka_unit_test(test_parse_utf8),
	    cmocka_unit_test_setup_teardown(test_get_str, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_get_int, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_get_bool_obj_arr, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_strcpy, setup, teardown),
	    cmocka_unit_test(test_build_and_print),
	};
	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
