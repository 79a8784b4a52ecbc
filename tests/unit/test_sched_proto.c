/* test_sched_proto.c — proto/scheduler.c: every message round-trips, and
 * bad input is refused with a message naming the field. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "proto/scheduler.h"

static int parse_req(const char *s, struct pr_alloc_req *r, struct hc_err *e)
{
	return pr_alloc_req_parse(s, strlen(s), r, e);
}

static void test_alloc_req(void **state)
{
	struct pr_alloc_req r, back;
	struct hc_err err = {{0}};
	cJSON *j;

	assert_int_equal(parse_req("{\"namespace\":\"guest\",\"name\":\"pkg/hello\",\"version\":"
				   "\"0.0.1\",\"kind\":\"nodejs:20\",\"memory\":256,\"digest\":"
				   "\"ab\",\"controller\":\"c1\"}",
				   &r, &err),
			 0);
	assert_string_equal(r.ns, "guest");
	assert_string_equal(r.name, "pkg/hello");
	assert_int_equal(r.memory_mb, 256);
	assert_int_equal(r.concurrency, 1);
	assert_int_equal(r.wait_ms, 10000);
	j = pr_alloc_req_to_json(&r);
	assert_non_null(j);
	assert_int_equal(pr_alloc_req_from_json(j, &back, &err), 0);
	cJSON_Delete(j);
	assert_memory_equal(&r, &back, sizeof(r));

	/* Each problem is named. */
	assert_int_equal(parse_req("{\"namespace\":\"guest\",\"name\":\"x\",\"version\":\"1\","
				   "\"kind\":\"k\",\"memory\":0,\"controller\":\"c\"}",
				   &r, &err),
			 -1);
	assert_non_null(strstr(err.msg, "memory"));
	assert_int_equal(parse_req("{\"namespace\":\"a/b\",\"name\":\"x\",\"version\":\"1\","
				   "\"kind\":\"k\",\"memory\":1,\"controller\":\"c\"}",
				   &r, &err),
			 -1);
	assert_non_null(strstr(err.msg, "namespace"));
	assert_int_equal(parse_req("{\"namespace\":\"a\",\"name\":\"x/\",\"version\":\"1\","
				   "\"kind\":\"k\",\"memory\":1,\"controller\":\"c\"}",
				   &r, &err),
			 -1);
	assert_non_null(strstr(err.msg, "name"));
	assert_int_equal(parse_req("{\"namespace\":\"a\",\"name\":\"x\",\"version\":\"1\","
				   "\"kind\":\"k\",\"memory\":1}",
				   &r, &err),
			 -1);
	assert_non_null(strstr(err.msg, "controller"));
	assert_int_equal(parse_req("{\"namespace\":\"a\",\"name\":\"x\",\"version\":\"1\","
				   "\"kind\":\"k\",\"memory\":1,\"controller\":\"c\","
				   "\"concurrency\":0}",
				   &r, &err),
			 -1);
	assert_int_equal(parse_req("[1,2]", &r, &err), -1);
	assert_int_equal(parse_req("{", &r, &err), -1);
	char big[600];
	memset(big, 'a', sizeof(big));
	big[sizeof(big) - 1] = '\0';
	char body[900];
	snprintf(body, sizeof(body),
		 "{\"namespace\":\"%s\",\"name\":\"x\",\"version\":\"1\",\"kind\":\"k\","
		 "\"memory\":1,\"controller\":\"c\"}",
		 big);
	assert_int_equal(parse_req(body, &r, &err), -1);
	assert_non_null(strstr(err.msg, "namespace"));
}

static void test_alloc_reply(void **state)
{
	struct pr_alloc_reply r, back;
	struct hc_err err = {{0}};
	cJSON *j;

	memset(&r, 0, sizeof(r));
	strcpy(r.container.id, "0123456789abcdef0123456789abcdef");
	strcpy(r.container.host, "127.0.0.1");
	r.container.port = 20001;
	strcpy(r.container.kind, "nodejs:20");
	r.container.memory_mb = 256;
	r.container.state = PR_CS_SUSPENDED;
	strcpy(r.owner, "c2");
	strcpy(r.owner_url, "http://127.0.0.2:3233");
	r.init = 0;
	j = pr_alloc_reply_to_json(&r);
	assert_int_equal(pr_alloc_reply_from_json(j, &back, &err), 0);
	cJSON_Delete(j);
	assert_string_equal(back.container.id, r.container.id);
	assert_int_equal(back.container.state, PR_CS_SUSPENDED);
	assert_string_equal(back.owner, "c2");
	assert_string_equal(back.owner_url, "http://127.0.0.2:3233");
	assert_int_equal(back.init, 0);
	r.init = 1;
	j = pr_alloc_reply_to_json(&r);
	assert_int_equal(pr_alloc_reply_from_json(j, &back, &err), 0);
	assert_int_equal(back.init, 1);
	cJSON_DeleteItemFromObject(j, "container");
	assert_int_equal(pr_alloc_reply_from_json(j, &back, &err), -1);
	assert_non_null(strstr(err.msg, "container"));
	cJSON_Delete(j);
}

static void test_ref_and_small_messages(void **state)
{
	struct pr_container_ref ref;
	struct hc_err err = {{0}};
	const char *ok = "{\"container\":\"0123456789abcdef0123456789abcdef\",\"controller\":\"c\","
			 "\"reason\":\"a very long reason that is longer than the buffer keeps, "
			 "so it is cut rather than refused, which is fine for logs\"}";
	assert_int_equal(pr_container_ref_parse(ok, strlen(ok), &ref, &err), 0);
	assert_string_equal(ref.controller, "c");
	assert_true(strlen(ref.reason) == sizeof(ref.reason) - 1);
	const char *bad = "{\"container\":\"xyz\",\"controller\":\"c\"}";
	assert_int_equal(pr_container_ref_parse(bad, strlen(bad), &ref, &err), -1);
	assert_non_null(strstr(err.msg, "container"));

	struct pr_leader_info li = {.id = "s1", .url = "http://127.0.0.1:3234", .epoch = 42}, lb;
	char *s = pr_leader_info_encode(&li);
	assert_non_null(s);
	assert_int_equal(pr_leader_info_decode(s, strlen(s), &lb, &err), 0);
	free(s);
	assert_string_equal(lb.url, li.url);
	assert_int_equal(lb.epoch, 42);
	assert_int_equal(pr_leader_info_decode("{\"id\":\"s\"}", 10, &lb, &err), -1);

	struct pr_sched_busy b = {.error = "full", .retry_after_ms = 250}, bb;
	cJSON *j = pr_sched_busy_to_json(&b);
	assert_int_equal(pr_sched_busy_from_json(j, &bb, &err), 0);
	cJSON_Delete(j);
	assert_int_equal(bb.retry_after_ms, 250);

	struct pr_sched_redirect rd = {.error = "standby", .leader = "http://x:1"}, rb;
	j = pr_sched_redirect_to_json(&rd);
	assert_int_equal(pr_sched_redirect_from_json(j, &rb, &err), 0);
	cJSON_Delete(j);
	assert_string_equal(rb.leader, "http://x:1");

	struct pr_sched_health h = {.id = "s1", .pid = 7, .role = "leader", .epoch = 3}, hb;
	j = pr_sched_health_to_json(&h);
	assert_int_equal(pr_sched_health_from_json(j, &hb, &err), 0);
	cJSON_Delete(j);
	assert_string_equal(hb.role, "leader");
	assert_int_equal(hb.epoch, 3);

	struct pr_assignment a = {.action = "/guest/x", .version = "1", .digest = "d"}, ab;
	s = pr_assignment_encode(&a);
	assert_int_equal(pr_assignment_decode(s, strlen(s), &ab, &err), 0);
	free(s);
	assert_string_equal(ab.action, "/guest/x");

	struct pr_host_event ev = {.event = "lost", .agent = "a1"}, eb;
	s = pr_host_event_encode(&ev);
	assert_int_equal(pr_host_event_decode(s, strlen(s), &eb, &err), 0);
	free(s);
	assert_string_equal(eb.agent, "a1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_alloc_req),
	    cmocka_unit_test(test_alloc_reply),
	    cmocka_unit_test(test_ref_and_small_messages),
	};
	return cmocka_run_group_tests_name("sched_proto", tests, NULL, NULL);
}
