/* test_ctl_config.c — the controller's settings table and what is derived
 * from it: limit bounds (OpenWhisk's ranges, overridable), the default id,
 * and refusal of inconsistent ranges. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "common/id.h"
#include "controller/ctl.h"

static void test_defaults(void **state)
{
	struct ctl c;
	struct hc_err err;
	memset(&c, 0, sizeof(c));
	assert_int_equal(hc_config_defaults(&ctl_config_spec, &c.cfg, &err), 0);
	assert_int_equal(c.cfg.port, 3233);
	assert_int_equal(c.cfg.pause_grace_ms, 50);
	assert_int_equal(c.cfg.activation_ttl_ms, 24LL * 3600 * 1000);
	assert_int_equal(c.cfg.blocking_wait_ms, 60000);
	assert_int_equal(ctl_config_finish(&c, &err), 0);
	assert_true(hc_id_valid(c.cfg.id)); /* a new id when none is configured */
	assert_int_equal(c.bounds.min.timeout_ms, 100);
	assert_int_equal(c.bounds.max.timeout_ms, 300000);
	assert_int_equal(c.bounds.min.memory_mb, 128);
	assert_int_equal(c.bounds.max.memory_mb, 512);
	assert_int_equal(c.bounds.def.memory_mb, 256);
	assert_int_equal(c.bounds.max.logs_mb, 10);
	hc_config_free(&ctl_config_spec, &c.cfg);
}

static void test_overrides(void **state)
{
	struct ctl c;
	struct hc_err err;
	memset(&c, 0, sizeof(c));
	const char *text = "limit-memory-max = 2048\nlimit-memory-min = 512\n"
			   "limit-concurrency-max = 8\npause-grace = 2s\nid = ctl-a\n";
	assert_int_equal(hc_config_defaults(&ctl_config_spec, &c.cfg, &err), 0);
	assert_int_equal(
	    hc_config_parse_text(&ctl_config_spec, text, strlen(text), "t", &c.cfg, &err), 0);
	assert_int_equal(ctl_config_finish(&c, &err), 0);
	assert_string_equal(c.cfg.id, "ctl-a");
	assert_int_equal(c.cfg.pause_grace_ms, 2000);
	assert_int_equal(c.bounds.max.memory_mb, 2048);
	/* the default moves into the range */
	assert_int_equal(c.bounds.def.memory_mb, 512);
	assert_int_equal(c.bounds.max.concurrency, 8);
	/* a minimum above its maximum is refused */
	c.cfg.memory_min = 4096;
	assert_int_equal(ctl_config_finish(&c, &err), -1);
	assert_non_null(strstr(err.msg, "minimum above its maximum"));
	hc_config_free(&ctl_config_spec, &c.cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_overrides),
	};
	return cmocka_run_group_tests_name("ctl_config", tests, NULL, NULL);
}
