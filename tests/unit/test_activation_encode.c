/* test_activation_encode.c — pr_activation_encode (the record as text, the
 * warm invoke's path) must say exactly what pr_activation_to_json says, in
 * both the stored and the API form, for every optional part of a record;
 * pr_activation_pack / pr_activation_unpack (Redis's form) must give it
 * back unchanged. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "proto/activation.h"

/* Encode a, print pr_activation_to_json(a) (or its extended form), compare. */
static void check_same(const struct pr_activation *a)
{
	for (int with_sc = 0; with_sc < 2; with_sc++) {
		struct hc_buf b;
		hc_buf_init(&b, 1 << 20);
		assert_int_equal(pr_activation_encode(&b, a, NULL, 0, with_sc), 0);
		cJSON *tree = pr_activation_to_json(a);
		assert_non_null(tree);
		cJSON *want = with_sc ? tree : pr_activation_extended(tree);
		char *w = cJSON_PrintUnformatted(want);
		assert_string_equal(hc_buf_str(&b), w);
		/* and it parses */
		cJSON *back = cJSON_Parse(hc_buf_str(&b));
		assert_non_null(back);
		assert_true(cJSON_Compare(back, want, 1));
		cJSON_Delete(back);
		free(w);
		if (want != tree)
			cJSON_Delete(want);
		cJSON_Delete(tree);
		hc_buf_free(&b);
	}
	/* packed for Redis, unpacked it is the stored form again, and smaller */
	struct hc_buf pk, st;
	hc_buf_init(&pk, 1 << 20);
	hc_buf_init(&st, 1 << 20);
	assert_int_equal(pr_activation_pack(&pk, a, NULL, 0), 0);
	assert_int_equal(pr_activation_encode(&st, a, NULL, 0, 1), 0);
	assert_true(pk.len < st.len);
	cJSON *back = pr_activation_unpack(pk.data, pk.len, a->id);
	assert_non_null(back);
	char *got = cJSON_PrintUnformatted(back);
	assert_string_equal(got, hc_buf_str(&st));
	free(got);
	cJSON_Delete(back);
	hc_buf_free(&pk);
	hc_buf_free(&st);
}

static void fill(struct pr_activation *a)
{
	pr_activation_init(a);
	strcpy(a->id, "0123456789abcdef0123456789abcdef");
	strcpy(a->ns, "guest");
	strcpy(a->name, "noop");
	strcpy(a->version, "0.0.3");
	strcpy(a->kind, "nodejs:20");
	a->start_ms = 1763900000123ULL;
	a->limits.timeout_ms = 60000;
	a->limits.memory_mb = 256;
	a->limits.logs_mb = 10;
	a->limits.concurrency = 1;
}

static void test_warm_success(void **state)
{
	(void)state;
	struct pr_activation a;
	fill(&a);
	a.end_ms = a.start_ms + 7;
	a.wait_ms = 0;
	a.result = cJSON_Parse("{\"x\":[1,2.5,\"y\"],\"z\":null}");
	check_same(&a);
	pr_activation_clear(&a);
}

static void test_all_optional_parts(void **state)
{
	(void)state;
	struct pr_activation a;
	fill(&a);
	strcpy(a.subject, "other");
	strcpy(a.cause, "fedcba9876543210fedcba9876543210");
	a.end_ms = a.start_ms + 1234;
	a.wait_ms = 12;
	a.init_ms = 80;
	a.timeout = 1;
	a.publish = 1;
	a.status = PR_ST_DEVELOPER_ERROR;
	a.result = pr_error_result("The action exceeded its time limits of 60000 milliseconds.");
	a.logs = cJSON_Parse("[\"2026-01-01T00:00:00.000000Z stdout: hi \\\"there\\\"\"]");
	check_same(&a);
	a.sequence = 1;
	a.status = PR_ST_APP_ERROR;
	check_same(&a);
	pr_activation_clear(&a);
}

static void test_open_and_odd_names(void **state)
{
	(void)state;
	struct pr_activation a;
	fill(&a);
	/* still open: no end, duration; no version: "0.0.1"; escapes */
	a.version[0] = '\0';
	strcpy(a.name, "we\"ird\\name\x01");
	a.status = PR_ST_INTERNAL_ERROR;
	check_same(&a);
	pr_activation_clear(&a);
}

static void test_given_result_text_and_full_buffer(void **state)
{
	(void)state;
	struct pr_activation a;
	struct hc_buf b;
	fill(&a);
	a.end_ms = a.start_ms;
	hc_buf_init(&b, 1 << 16);
	assert_int_equal(pr_activation_encode(&b, &a, "[1,2]", 5, 1), 0);
	cJSON *j = cJSON_Parse(hc_buf_str(&b));
	assert_non_null(j);
	assert_true(cJSON_IsArray(pr_activation_response_result(j)));
	assert_int_equal(pr_activation_status(j), 0);
	cJSON_Delete(j);
	hc_buf_free(&b);
	/* a buffer too small is an error, not a truncated record */
	hc_buf_init(&b, 64);
	assert_int_equal(pr_activation_encode(&b, &a, NULL, 0, 1), -1);
	hc_buf_free(&b);
	pr_activation_clear(&a);
}

/* Redis's form read back: the packed array with the result as given, the
 * object of records stored before it as it is, and anything else refused
 * (NULL: the API answers 404) rather than half-read. */
static void test_unpack(void **state)
{
	(void)state;
	struct pr_activation a;
	struct hc_buf b;
	const char *id = "0123456789abcdef0123456789abcdef";
	fill(&a);
	a.end_ms = a.start_ms + 2;
	hc_buf_init(&b, 1 << 16);
	assert_int_equal(pr_activation_pack(&b, &a, "[1,2]", 5), 0);
	cJSON *j = pr_activation_unpack(b.data, b.len, id);
	assert_non_null(j);
	assert_true(cJSON_IsArray(pr_activation_response_result(j)));
	assert_string_equal(cJSON_GetObjectItem(j, "activationId")->valuestring, id);
	assert_string_equal(cJSON_GetObjectItem(j, "subject")->valuestring, "guest");
	assert_int_equal(pr_activation_status(j), 0);
	cJSON_Delete(j);
	hc_buf_free(&b);
	pr_activation_clear(&a);

	const char *old = "{\"name\":\"x\",\"response\":{\"statusCode\":1}}";
	j = pr_activation_unpack(old, strlen(old), id);
	assert_non_null(j);
	assert_string_equal(cJSON_GetObjectItem(j, "name")->valuestring, "x");
	cJSON_Delete(j);

	static const char *const bad[] = {
	    "not json",
	    "\"a string\"",
	    "[1,\"guest\",\"n\"]",
	    /* a format this build does not know */
	    "[2,\"guest\",\"n\",\"\",\"0.0.1\",1,2,\"\",0,{},[],\"nodejs:20\",1,2,3,4,0,0,-1]",
	    /* logs not an array */
	    "[1,\"guest\",\"n\",\"\",\"0.0.1\",1,2,\"\",0,{},{},\"nodejs:20\",1,2,3,4,0,0,-1]",
	    /* a number where a name goes */
	    "[1,7,\"n\",\"\",\"0.0.1\",1,2,\"\",0,{},[],\"nodejs:20\",1,2,3,4,0,0,-1]",
	    /* a kind longer than a record holds (one string on two lines) */
	    // NOLINTNEXTLINE(bugprone-suspicious-missing-comma)
	    "[1,\"guest\",\"n\",\"\",\"0.0.1\",1,2,\"\",0,{},[],"
	    "\"0123456789012345678901234567890123456789\",1,2,3,4,0,0,-1]",
	    /* one field too many */
	    "[1,\"guest\",\"n\",\"\",\"0.0.1\",1,2,\"\",0,{},[],\"nodejs:20\",1,2,3,4,0,0,-1,9]",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_null(pr_activation_unpack(bad[i], strlen(bad[i]), id));
	/* the same field list with format 1 is read */
	const char *good =
	    "[1,\"guest\",\"n\",\"\",\"0.0.1\",1,2,\"\",0,{},[],\"nodejs:20\",1,2,3,4,0,0,-1]";
	j = pr_activation_unpack(good, strlen(good), id);
	assert_non_null(j);
	cJSON_Delete(j);
}

/* Activation ids carry their creation time, which names their bucket. */
static void test_id_time_and_bucket(void **state)
{
	char a[HC_ID_LEN + 1], b[HC_ID_LEN + 1], key[40];
	const uint64_t t = 1795457919014ULL; /* 2026-11-23 */
	pr_activation_id_new(a, t);
	pr_activation_id_new(b, t);
	assert_true(hc_id_valid(a));
	assert_memory_equal(a, "01a209a1a826", 12);
	assert_int_equal(pr_activation_id_ms(a), t);
	assert_string_not_equal(a + 12, b + 12); /* 80 random bits each */
	pr_activation_id_new(b, t + 1);
	assert_true(memcmp(a, b, 12) < 0); /* ids sort by creation time */
	assert_int_equal(pr_activation_id_ms("ABCDEF012345ffffffffffffffffffff"),
			 0xABCDEF012345ULL);
	assert_int_equal(pr_activation_id_ms("nothex0000000000000000000000000a"), 0);

	struct hc_buf kb = HC_BUF_FIXED(key);
	assert_int_equal(pr_activation_key(&kb, a), 0);
	assert_string_equal(key, "hearth:actb:17954579190");
	kb = HC_BUF_FIXED(key);
	pr_activation_key(&kb, "01a209a1a8a9ffffffffffffffffffff"); /* t + 131: next bucket */
	assert_string_equal(key, "hearth:actb:17954579191");
	kb = HC_BUF_FIXED(key);
	assert_int_equal(pr_activation_log_key(&kb, a), 0); /* the same bucket's log */
	assert_string_equal(key, "hearth:actl:17954579190");

	/* the bucket lives ttl past its end; implausible times get now + ttl */
	assert_int_equal(pr_activation_expiry(a, 1000, t + 50), 17954579191ULL * 100 + 1000);
	assert_int_equal(pr_activation_expiry(a, 1000, t + 5000), t + 5000 + 1000);
	assert_int_equal(pr_activation_expiry(a, 1000, t - 500), t - 500 + 1000);
	assert_int_equal(pr_activation_expiry("nothex0000000000000000000000000a", 9, t), t + 9);

	/* the index: a slice per action and start second, the names in a
	 * namespace's second, the namespace's and the action's directories */
	char sk[64];
	struct hc_buf sb = HC_BUF_FIXED(sk);
	assert_int_equal(pr_activation_slice_key(&sb, "guest", "echo", 1795457919099ULL), 0);
	assert_string_equal(sk, "hearth:actq:guest/echo:1795457919");
	sb = HC_BUF_FIXED(sk);
	assert_int_equal(pr_activation_names_key(&sb, "guest", 1795457919099ULL), 0);
	assert_string_equal(sk, "hearth:actnames:guest:1795457919");
	sb = HC_BUF_FIXED(sk);
	assert_int_equal(pr_activation_dir_key(&sb, "guest", NULL), 0);
	assert_string_equal(sk, "hearth:actdir:guest");
	sb = HC_BUF_FIXED(sk);
	assert_int_equal(pr_activation_dir_key(&sb, "guest", "echo"), 0);
	assert_string_equal(sk, "hearth:actdir:guest/echo");
	char tiny[16];
	sb = HC_BUF_FIXED(tiny);
	assert_int_equal(pr_activation_slice_key(&sb, "guest", "echo", 1795457919099ULL), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_warm_success),
	    cmocka_unit_test(test_all_optional_parts),
	    cmocka_unit_test(test_open_and_odd_names),
	    cmocka_unit_test(test_given_result_text_and_full_buffer),
	    cmocka_unit_test(test_unpack),
	    cmocka_unit_test(test_id_time_and_bucket),
	};
	return cmocka_run_group_tests_name("activation_encode", tests, NULL, NULL);
}
