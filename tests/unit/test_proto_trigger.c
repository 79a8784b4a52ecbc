/* test_proto_trigger.c — trigger and rule documents: fully qualified names
 * as requests give them (and OpenWhisk's messages), PUT decoding and the
 * documents built on it (update keeps, bumps the version), the API shapes
 * (rules map, rule status), links there and back, and a fire's log lines. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/trigger.h"

#define FQN_MSG                                                                                    \
	"The request content was malformed:\nrequirement failed: The fully qualified name of "     \
	"the entity must contain at least the namespace and the name of the entity."

static void test_fqn(void **state)
{
	struct pr_fqn f;
	struct hc_err err = {{0}};
	char s[PR_FQN_MAX];
	assert_int_equal(pr_fqn_parse("/_/t", "guest", 3, &f, &err), 0);
	assert_string_equal(f.ns, "guest");
	assert_string_equal(f.pkg, "");
	assert_string_equal(f.name, "t");
	assert_int_equal(pr_fqn_parse("other/pkg/a", "guest", 3, &f, &err), 0);
	pr_fqn_string(&f, s, sizeof(s));
	assert_string_equal(s, "other/pkg/a");
	pr_fqn_rel(&f, s, sizeof(s));
	assert_string_equal(s, "pkg/a");
	cJSON *j = pr_fqn_to_json(&f);
	char *t = cJSON_PrintUnformatted(j);
	assert_string_equal(t, "{\"path\":\"other/pkg\",\"name\":\"a\"}");
	free(t);
	/* the object form reads back */
	struct pr_fqn g;
	assert_int_equal(pr_fqn_decode(j, "guest", 3, &g, &err), 0);
	assert_string_equal(g.pkg, "pkg");
	cJSON_Delete(j);
	static const char *const bad[] = {"t", "/t", "", "/a/b/c/d", "/a//b", "/a/b/", NULL};
	for (int i = 0; bad[i]; i++)
		if (pr_fqn_parse(bad[i], "guest", 3, &f, &err) == 0)
			fail_msg("'%s' parsed", bad[i]);
	assert_int_equal(pr_fqn_parse("t", "guest", 3, &f, &err), -1);
	assert_string_equal(err.msg, FQN_MSG);
	assert_int_equal(pr_fqn_parse("/guest/a,b", "guest", 3, &f, &err), -1);
	assert_int_equal(pr_fqn_parse("/g/p/a", "guest", 2, &f, &err), -1);
}

static void test_trigger_docs(void **state)
{
	struct pr_entity_put p;
	struct hc_err err = {{0}};
	int st;
	const char *body = "{\"parameters\":[{\"key\":\"x\",\"value\":1}]}";
	assert_int_equal(pr_trigger_put_decode(body, strlen(body), &p, &st, &err), 0);
	cJSON *d = pr_trigger_build(NULL, &p, "guest", "t", 1000);
	pr_entity_put_free(&p);
	char *t = cJSON_PrintUnformatted(d);
	assert_string_equal(t,
			    "{\"namespace\":\"guest\",\"name\":\"t\",\"parameters\":[{\"key\":"
			    "\"x\",\"value\":1}],\"limits\":{},\"version\":\"0.0.1\",\"publish\":"
			    "false,\"annotations\":[],\"updated\":1000}");
	free(t);
	/* an update keeps what it does not give and bumps the version */
	body = "{\"annotations\":[{\"key\":\"feed\",\"value\":\"/whisk.system/alarms/alarm\"}]}";
	assert_int_equal(pr_trigger_put_decode(body, strlen(body), &p, &st, &err), 0);
	cJSON *u = pr_trigger_build(d, &p, "guest", "t", 2000);
	pr_entity_put_free(&p);
	assert_string_equal(cJSON_GetObjectItem(u, "version")->valuestring, "0.0.2");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(u, "parameters")), 1);
	assert_string_equal(pr_trigger_feed(u), "/whisk.system/alarms/alarm");
	/* the API's form: rules before updated */
	cJSON *rules = cJSON_Parse("{\"guest/r\":{\"action\":{\"path\":\"guest\",\"name\":\"a\"},"
				   "\"status\":\"active\"}}");
	cJSON *api = pr_trigger_to_api(u, rules);
	assert_string_equal(api->child->string, "namespace");
	cJSON *last = api->child;
	while (last->next)
		last = last->next;
	assert_string_equal(last->string, "updated");
	assert_string_equal(last->prev->string, "rules");
	cJSON *sum = pr_entity_summary(api);
	assert_null(cJSON_GetObjectItem(sum, "parameters"));
	assert_null(cJSON_GetObjectItem(sum, "rules"));
	assert_non_null(cJSON_GetObjectItem(sum, "updated"));
	cJSON_Delete(sum);
	cJSON_Delete(api);
	cJSON_Delete(rules);
	cJSON_Delete(u);
	cJSON_Delete(d);
	/* refusals */
	static const struct {
		const char *body;
		int status;
		const char *msg;
	} bad[] = {
	    {"{\"annotations\":[{\"key\":\"feed\",\"value\":\"a,b\"}]}", 400,
	     "Feed name is not valid"},
	    {"{\"annotations\":[{\"key\":\"feed\",\"value\":7}]}", 400, "Feed name is not valid"},
	    {"{\"parameters\":{}}", 400, NULL},
	    {"{\"version\":\"x\"}", 400, NULL},
	    {"{\"limits\":3}", 400, NULL},
	    {"[1]", 400, NULL},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		if (pr_trigger_put_decode(bad[i].body, strlen(bad[i].body), &p, &st, &err) == 0)
			fail_msg("%s accepted", bad[i].body);
		assert_int_equal(st, bad[i].status);
		if (bad[i].msg)
			assert_string_equal(err.msg, bad[i].msg);
	}
	/* blank is {} */
	assert_int_equal(pr_trigger_put_decode("", 0, &p, &st, &err), 0);
	pr_entity_put_free(&p);
}

static void test_rule_docs(void **state)
{
	struct pr_entity_put p;
	struct hc_err err = {{0}};
	struct pr_fqn t, a;
	int st, active;
	const char *body = "{\"trigger\":\"/_/t\",\"action\":\"/_/pkg/a\"}";
	assert_int_equal(pr_rule_put_decode(body, strlen(body), "guest", &p, &st, &err), 0);
	assert_true(p.has_trigger && p.has_action);
	cJSON *d = pr_rule_build(NULL, &p, "guest", "r", 5);
	pr_entity_put_free(&p);
	assert_int_equal(pr_rule_refs(d, &t, &a), 0);
	assert_string_equal(t.name, "t");
	assert_string_equal(a.pkg, "pkg");
	/* status goes right after name (WhiskRuleResponse) */
	cJSON *api = pr_rule_to_api(d, "inactive");
	assert_string_equal(api->child->next->next->string, "status");
	assert_string_equal(api->child->next->next->valuestring, "inactive");
	cJSON_Delete(api);
	/* an update moving it keeps the action */
	body = "{\"trigger\":\"/guest/t2\"}";
	assert_int_equal(pr_rule_put_decode(body, strlen(body), "guest", &p, &st, &err), 0);
	cJSON *u = pr_rule_build(d, &p, "guest", "r", 6);
	pr_entity_put_free(&p);
	assert_int_equal(pr_rule_refs(u, &t, &a), 0);
	assert_string_equal(t.name, "t2");
	assert_string_equal(a.name, "a");
	assert_string_equal(cJSON_GetObjectItem(u, "version")->valuestring, "0.0.2");
	/* a link there and back */
	char *prefix = pr_rule_link_prefix(&a);
	assert_string_equal(prefix,
			    "{\"action\":{\"path\":\"guest/pkg\",\"name\":\"a\"},\"status\":\"");
	char link[256];
	snprintf(link, sizeof(link), "%sinactive\"}", prefix);
	free(prefix);
	assert_int_equal(pr_rule_link_parse(link, strlen(link), &a, &active), 0);
	assert_false(active);
	assert_string_equal(a.ns, "guest");
	assert_int_equal(pr_rule_link_parse("{}", 2, &a, &active), -1);
	cJSON_Delete(u);
	cJSON_Delete(d);
	body = "{\"trigger\":\"t\",\"action\":\"/_/a\"}";
	assert_int_equal(pr_rule_put_decode(body, strlen(body), "guest", &p, &st, &err), -1);
	assert_string_equal(err.msg, FQN_MSG);
}

static void test_outcome_lines(void **state)
{
	char *l =
	    pr_rule_outcome(0, "guest/r", "guest/a", "0123456789abcdef0123456789abcdef", NULL);
	assert_string_equal(l,
			    "{\"statusCode\":0,\"success\":true,\"activationId\":"
			    "\"0123456789abcdef0123456789abcdef\",\"rule\":\"guest/r\",\"action\":"
			    "\"guest/a\"}");
	free(l);
	char msg[256];
	pr_msg_inactive_rule(msg, sizeof(msg), "guest/r", "guest/a");
	l = pr_rule_outcome(1, "guest/r", "guest/a", NULL, msg);
	assert_string_equal(l, "{\"statusCode\":1,\"success\":false,\"error\":\"Rule 'guest/r' is "
			       "inactive, action 'guest/a' was not activated.\",\"rule\":"
			       "\"guest/r\",\"action\":\"guest/a\"}");
	free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fqn),
	    cmocka_unit_test(test_trigger_docs),
	    cmocka_unit_test(test_rule_docs),
	    cmocka_unit_test(test_outcome_lines),
	};
	return cmocka_run_group_tests_name("proto_trigger", tests, NULL, NULL);
}
