/* test_proto_container.c — the container descriptor and the agent's
 * messages (proto/container.c, proto/agent.c): round trips, field names,
 * and refusal of bad input. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "proto/agent.h"
#include "proto/container.h"

static const char *ID1 = "0123456789abcdef0123456789abcdef";
static const char *ID2 = "fedcba9876543210fedcba9876543210";

static void fill(struct pr_container *c, const char *id)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->id, id);
	strcpy(c->agent, "http://127.0.0.2:3235");
	strcpy(c->host, "127.0.0.2");
	c->port = 20001;
	strcpy(c->kind, "nodejs:20");
	c->memory_mb = 256;
	c->state = PR_CS_SUSPENDED;
	strcpy(c->action, "/guest/hello");
	strcpy(c->version, "0.0.3");
	strcpy(c->digest, "abcd");
	strcpy(c->owner, "ctl1");
	c->pid = 4242;
	c->created_ms = 1790000000123ULL;
	c->last_used_ms = 1790000000999ULL;
}

static cJSON *parse(const char *s)
{
	struct hc_err err = {{0}};
	cJSON *j = hc_json_parse(s, strlen(s), HC_JSON_MAX_DEPTH, &err);
	assert_non_null(j);
	return j;
}

static void test_state_names(void **state)
{
	enum pr_cstate s;
	(void)state;
	for (int i = PR_CS_CREATING; i <= PR_CS_DEAD; i++) {
		assert_int_equal(pr_cstate_parse(pr_cstate_name((enum pr_cstate)i), &s), 0);
		assert_int_equal(s, i);
	}
	assert_string_equal(pr_cstate_name(PR_CS_WARM), "warm");
	assert_string_equal(pr_cstate_name(PR_CS_SUSPENDED), "suspended");
	assert_string_equal(pr_cstate_name((enum pr_cstate)99), "unknown");
	assert_int_equal(pr_cstate_parse("frozen", &s), -1);
	assert_int_equal(pr_cstate_parse(NULL, &s), -1);
}

static void test_roundtrip(void **state)
{
	struct pr_container a, b;
	struct hc_err err = {{0}};
	cJSON *j;
	(void)state;

	fill(&a, ID1);
	j = pr_container_to_json(&a);
	assert_non_null(j);
	/* The field names the issue lists are the wire names. */
	assert_string_equal(cJSON_GetObjectItem(j, "id")->valuestring, ID1);
	assert_string_equal(cJSON_GetObjectItem(j, "state")->valuestring, "suspended");
	assert_int_equal(cJSON_GetObjectItem(j, "port")->valueint, 20001);
	assert_int_equal(cJSON_GetObjectItem(j, "memory")->valueint, 256);
	assert_non_null(cJSON_GetObjectItem(j, "last_used"));
	assert_non_null(cJSON_GetObjectItem(j, "created"));
	assert_int_equal(pr_container_from_json(j, &b, &err), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	/* no local socket: no field (an older reader sees what it always did) */
	assert_null(cJSON_GetObjectItem(j, "socket"));
	cJSON_Delete(j);

	strcpy(a.sock, "@hearth-0123456789abcdef0123456789abcdef");
	j = pr_container_to_json(&a);
	assert_non_null(j);
	assert_string_equal(cJSON_GetObjectItem(j, "socket")->valuestring,
			    "@hearth-0123456789abcdef0123456789abcdef");
	assert_int_equal(pr_container_from_json(j, &b, &err), 0);
	assert_string_equal(b.sock, a.sock);
	cJSON_Delete(j);
}

static void test_minimal_and_bad(void **state)
{
	struct pr_container c;
	struct hc_err err = {{0}};
	cJSON *j;
	(void)state;

	j = parse("{\"id\":\"0123456789abcdef0123456789abcdef\"}");
	assert_int_equal(pr_container_from_json(j, &c, &err), 0);
	assert_int_equal(c.state, PR_CS_CREATING);
	assert_string_equal(c.kind, "");
	assert_string_equal(c.sock, "");
	cJSON_Delete(j);

	/* a socket name longer than a descriptor holds is refused, not cut */
	j = parse("{\"id\":\"0123456789abcdef0123456789abcdef\",\"socket\":"
		  "\"@0123456789012345678901234567890123456789012345678901234567890123456789\"}");
	assert_int_equal(pr_container_from_json(j, &c, &err), -1);
	assert_non_null(strstr(err.msg, "socket"));
	cJSON_Delete(j);

	j = parse("{\"id\":\"xyz\"}");
	assert_int_equal(pr_container_from_json(j, &c, &err), -1);
	assert_non_null(strstr(err.msg, "id"));
	cJSON_Delete(j);

	j = parse("{\"kind\":\"blackbox\"}");
	assert_int_equal(pr_container_from_json(j, &c, &err), -1);
	cJSON_Delete(j);

	j = parse("{\"id\":\"0123456789abcdef0123456789abcdef\",\"state\":\"sleepy\"}");
	assert_int_equal(pr_container_from_json(j, &c, &err), -1);
	assert_non_null(strstr(err.msg, "state"));
	cJSON_Delete(j);

	j = parse("{\"id\":\"0123456789abcdef0123456789abcdef\",\"port\":70000}");
	assert_int_equal(pr_container_from_json(j, &c, &err), -1);
	cJSON_Delete(j);

	j = parse("{\"id\":\"0123456789abcdef0123456789abcdef\",\"port\":\"80\"}");
	assert_int_equal(pr_container_from_json(j, &c, &err), -1);
	cJSON_Delete(j);

	/* a kind longer than the field */
	j = parse("{\"id\":\"0123456789abcdef0123456789abcdef\",\"kind\":"
		  "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}");
	assert_int_equal(pr_container_from_json(j, &c, &err), -1);
	cJSON_Delete(j);

	j = parse("[1]");
	assert_int_equal(pr_container_from_json(j, &c, &err), -1);
	cJSON_Delete(j);
}

static void test_list(void **state)
{
	struct pr_container cs[2], *out = NULL;
	struct hc_err err = {{0}};
	int n = -1;
	cJSON *j;
	(void)state;

	fill(&cs[0], ID1);
	fill(&cs[1], ID2);
	cs[1].state = PR_CS_WARM;
	j = pr_container_list_to_json(cs, 2);
	assert_non_null(j);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "containers")), 2);
	assert_int_equal(pr_container_list_from_json(j, &out, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(&out[0], &cs[0], sizeof(cs[0]));
	assert_memory_equal(&out[1], &cs[1], sizeof(cs[1]));
	free(out);
	cJSON_Delete(j);

	j = pr_container_list_to_json(NULL, 0);
	assert_int_equal(pr_container_list_from_json(j, &out, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_null(out);
	cJSON_Delete(j);

	j = parse("{\"containers\":[{\"id\":\"0123456789abcdef0123456789abcdef\"},{\"id\":1}]}");
	assert_int_equal(pr_container_list_from_json(j, &out, &n, &err), -1);
	assert_null(out);
	assert_non_null(strstr(err.msg, "containers[1]"));
	cJSON_Delete(j);

	j = parse("{\"list\":[]}");
	assert_int_equal(pr_container_list_from_json(j, &out, &n, &err), -1);
	cJSON_Delete(j);
}

static void test_agent_create(void **state)
{
	struct pr_agent_create a, b;
	struct hc_err err = {{0}};
	cJSON *j;
	(void)state;

	memset(&a, 0, sizeof(a));
	strcpy(a.kind, "python:3");
	a.memory_mb = 128;
	strcpy(a.owner, "ctl");
	j = pr_agent_create_to_json(&a);
	assert_non_null(j);
	assert_null(cJSON_GetObjectItem(j, "action")); /* empty labels left out */
	assert_int_equal(pr_agent_create_from_json(j, &b, &err), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	cJSON_Delete(j);

	j = parse("{\"memory\":128}");
	assert_int_equal(pr_agent_create_from_json(j, &b, &err), -1);
	assert_non_null(strstr(err.msg, "kind"));
	cJSON_Delete(j);
	j = parse("{\"kind\":\"blackbox\",\"memory\":0}");
	assert_int_equal(pr_agent_create_from_json(j, &b, &err), -1);
	assert_non_null(strstr(err.msg, "memory"));
	cJSON_Delete(j);
	j = parse("{\"kind\":\"\",\"memory\":10}");
	assert_int_equal(pr_agent_create_from_json(j, &b, &err), -1);
	cJSON_Delete(j);
	j = parse("{\"kind\":\"blackbox\",\"memory\":10,\"owner\":5}");
	assert_int_equal(pr_agent_create_from_json(j, &b, &err), -1);
	assert_non_null(strstr(err.msg, "owner"));
	cJSON_Delete(j);
}

static void test_agent_misc(void **state)
{
	struct pr_container_event ev = {"dead", "", "agentA"}, ev2;
	struct pr_agent_health h = {"agentA", 77, "runc", 3, 4096, 512}, h2;
	struct hc_err err = {{0}};
	int64_t e = -1;
	char *s;
	cJSON *j;
	(void)state;

	assert_int_equal(pr_agent_epoch_parse("42", &e), 0);
	assert_int_equal(e, 42);
	assert_int_equal(pr_agent_epoch_parse("0", &e), 0);
	assert_int_equal(e, 0);
	assert_int_equal(pr_agent_epoch_parse("-1", &e), -1);
	assert_int_equal(pr_agent_epoch_parse("4x", &e), -1);
	assert_int_equal(pr_agent_epoch_parse("", &e), -1);
	assert_int_equal(pr_agent_epoch_parse("99999999999999999999999", &e), -1);
	assert_int_equal(pr_agent_epoch_parse(NULL, &e), -1);

	strcpy(ev.container, ID1);
	s = pr_container_event_encode(&ev);
	assert_non_null(s);
	assert_non_null(strstr(s, "\"event\":\"dead\""));
	assert_int_equal(pr_container_event_decode(s, strlen(s), &ev2, &err), 0);
	assert_memory_equal(&ev, &ev2, sizeof(ev));
	free(s);
	assert_int_equal(pr_container_event_decode("{\"event\":1}", 11, &ev2, &err), -1);
	assert_int_equal(pr_container_event_decode("nope", 4, &ev2, &err), -1);

	j = pr_agent_health_to_json(&h);
	assert_non_null(j);
	assert_int_equal(pr_agent_health_from_json(j, &h2, &err), 0);
	assert_memory_equal(&h, &h2, sizeof(h));
	cJSON_Delete(j);

	j = pr_agent_capacity_error("no room", 1024, 1000, 256);
	assert_non_null(j);
	assert_string_equal(cJSON_GetObjectItem(j, "error")->valuestring, "no room");
	assert_int_equal(cJSON_GetObjectItem(j, "used")->valueint, 1000);
	cJSON_Delete(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_state_names),	    cmocka_unit_test(test_roundtrip),
	    cmocka_unit_test(test_minimal_and_bad), cmocka_unit_test(test_list),
	    cmocka_unit_test(test_agent_create),    cmocka_unit_test(test_agent_misc),
	};
	return cmocka_run_group_tests_name("proto_container", tests, NULL, NULL);
}
