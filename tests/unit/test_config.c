/* test_config.c — the declarative settings table: precedence, flag forms,
 * the file format, bounds, --help and -t. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/log.h"

struct tcfg {
	int64_t port;
	char *name;
	int verbose;
	int64_t grace_ms;
	int64_t memory;
	char *token;
	int64_t any;
};

static const struct hc_opt opts[] = {
    {"port", HC_OPT_INT, "3233", 'p', "HEARTH_TEST_PORT", offsetof(struct tcfg, port), 1, 65535,
     "port to listen on"},
    {"name", HC_OPT_STR, "hearth", 'n', "HEARTH_TEST_NAME", offsetof(struct tcfg, name), 0, 0,
     "instance name"},
    {"verbose", HC_OPT_BOOL, "false", 'v', "HEARTH_TEST_VERBOSE", offsetof(struct tcfg, verbose), 0,
     0, "say more"},
    {"pause-grace", HC_OPT_DURATION, "50ms", 0, "HEARTH_TEST_PAUSE_GRACE",
     offsetof(struct tcfg, grace_ms), 0, 60000, "idle time before pausing"},
    {"memory", HC_OPT_SIZE, "256m", 'm', NULL, offsetof(struct tcfg, memory), 1024,
     (int64_t)1 << 34, "memory budget"},
    {"token", HC_OPT_STR, NULL, 0, NULL, offsetof(struct tcfg, token), 0, 0, "secret"},
    {"any", HC_OPT_INT, "-5", 0, NULL, offsetof(struct tcfg, any), 0, 0, "unbounded"},
};

static const struct hc_config_spec spec = {
    "hearth-test", "A test daemon.", opts, sizeof(opts) / sizeof(opts[0]), NULL,
};

static const char *const env_names[] = {"HEARTH_TEST_PORT",    "HEARTH_TEST_NAME",
					"HEARTH_TEST_VERBOSE", "HEARTH_TEST_PAUSE_GRACE",
					"HEARTH_LOG_LEVEL",    "HEARTH_LOG_FORMAT"};

static int clean_env(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(env_names) / sizeof(env_names[0]); i++)
		unsetenv(env_names[i]);
	hc_log_setup("test_config", HC_LOG_INFO, 0);
	return 0;
}

/* Load from a NULL-terminated argument list (argv[0] is added). */
#define LOAD(cfg, err, ...) load((cfg), (err), (const char *[]){"hearth-test", __VA_ARGS__, NULL})

static enum hc_config_result load(struct tcfg *cfg, struct hc_err *err, const char **args)
{
	int argc = 0;

	while (args[argc])
		argc++;
	memset(cfg, 0x5a, sizeof(*cfg)); /* garbage: load must overwrite every field */
	err->msg[0] = '\0';
	return hc_config_load(&spec, argc, (char **)args, cfg, err);
}

static char *write_temp(const char *text)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/hc_test_config_XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_defaults(void **state)
{
	struct tcfg c;
	struct hc_err err;

	assert_int_equal(load(&c, &err, (const char *[]){"hearth-test", NULL}), HC_CONFIG_OK);
	assert_int_equal(c.port, 3233);
	assert_string_equal(c.name, "hearth");
	assert_int_equal(c.verbose, 0);
	assert_int_equal(c.grace_ms, 50);
	assert_int_equal(c.memory, 256 * 1024 * 1024);
	assert_null(c.token);
	assert_int_equal(c.any, -5);
	hc_config_free(&spec, &c);
	assert_null(c.name);
}

static void test_precedence(void **state)
{
	struct tcfg c;
	struct hc_err err;
	char *path = write_temp("port = 1000\nname = file\npause-grace = 1s\n");

	/* file over default */
	assert_int_equal(LOAD(&c, &err, "-c", path), HC_CONFIG_OK);
	assert_int_equal(c.port, 1000);
	assert_string_equal(c.name, "file");
	assert_int_equal(c.grace_ms, 1000);
	hc_config_free(&spec, &c);
	/* env over file */
	setenv("HEARTH_TEST_PORT", "2000", 1);
	setenv("HEARTH_TEST_NAME", "", 1); /* empty counts as unset */
	assert_int_equal(LOAD(&c, &err, "--config", path), HC_CONFIG_OK);
	assert_int_equal(c.port, 2000);
	assert_string_equal(c.name, "file");
	hc_config_free(&spec, &c);
	/* flag over env, wherever -c appears */
	assert_int_equal(LOAD(&c, &err, "--port", "3000", "--config=", "x"), HC_CONFIG_ERROR);
	assert_int_equal(LOAD(&c, &err, "--port", "3000", "-c", path), HC_CONFIG_OK);
	assert_int_equal(c.port, 3000);
	assert_string_equal(c.name, "file");
	assert_int_equal(c.grace_ms, 1000);
	hc_config_free(&spec, &c);
	unlink(path);
}

static void test_flag_forms(void **state)
{
	struct tcfg c;
	struct hc_err err;

	assert_int_equal(LOAD(&c, &err, "--port=80", "-n", "x y", "-v"), HC_CONFIG_OK);
	assert_int_equal(c.port, 80);
	assert_string_equal(c.name, "x y");
	assert_int_equal(c.verbose, 1);
	hc_config_free(&spec, &c);

	assert_int_equal(LOAD(&c, &err, "-p81", "--name=", "--verbose"), HC_CONFIG_OK);
	assert_int_equal(c.port, 81);
	assert_string_equal(c.name, "");
	assert_int_equal(c.verbose, 1);
	hc_config_free(&spec, &c);

	assert_int_equal(LOAD(&c, &err, "-p", "82", "--verbose", "--no-verbose"), HC_CONFIG_OK);
	assert_int_equal(c.port, 82);
	assert_int_equal(c.verbose, 0);
	hc_config_free(&spec, &c);

	setenv("HEARTH_TEST_VERBOSE", "yes", 1);
	assert_int_equal(LOAD(&c, &err, "--verbose=off", "--port", "-1", "--any", "-9"),
			 HC_CONFIG_ERROR);
	assert_string_equal(err.msg, "port: -1 is out of range 1..65535");
	assert_int_equal(LOAD(&c, &err, "--any", "-9"), HC_CONFIG_OK);
	assert_int_equal(c.verbose, 1);
	assert_int_equal(c.any, -9);
	hc_config_free(&spec, &c);
	assert_int_equal(LOAD(&c, &err, "--verbose=OFF", "--"), HC_CONFIG_OK);
	assert_int_equal(c.verbose, 0);
	hc_config_free(&spec, &c);
}

static void test_bool_values(void **state)
{
	static const char *const yes[] = {"true", "yes", "on", "1", "TRUE", "Yes"};
	static const char *const no[] = {"false", "no", "off", "0", "False"};
	char arg[32];
	struct tcfg c;
	struct hc_err err;
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		snprintf(arg, sizeof(arg), "--verbose=%s", yes[i]);
		assert_int_equal(LOAD(&c, &err, arg), HC_CONFIG_OK);
		assert_int_equal(c.verbose, 1);
		hc_config_free(&spec, &c);
	}
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		snprintf(arg, sizeof(arg), "--verbose=%s", no[i]);
		assert_int_equal(LOAD(&c, &err, "-v", arg), HC_CONFIG_OK);
		assert_int_equal(c.verbose, 0);
		hc_config_free(&spec, &c);
	}
	assert_int_equal(LOAD(&c, &err, "--verbose=maybe"), HC_CONFIG_ERROR);
	assert_string_equal(err.msg,
			    "verbose: 'maybe' is not a boolean (true/false/yes/no/on/off/1/0)");
	/* a bare bool takes no separate value: "maybe" is then a stray argument */
	assert_int_equal(LOAD(&c, &err, "--verbose", "maybe"), HC_CONFIG_ERROR);
	assert_string_equal(err.msg, "unexpected argument 'maybe' (see --help)");
	assert_int_equal(LOAD(&c, &err, "-vv"), HC_CONFIG_ERROR);
	assert_int_equal(LOAD(&c, &err, "--no-port"), HC_CONFIG_ERROR);
	assert_int_equal(LOAD(&c, &err, "--no-verbose=1"), HC_CONFIG_ERROR);
	assert_string_equal(err.msg, "option '--no-verbose' takes no value");
	assert_null(c.name); /* freed on error */
}

static void test_errors(void **state)
{
	struct tcfg c;
	struct hc_err err;

	assert_int_equal(LOAD(&c, &err, "--bogus"), HC_CONFIG_ERROR);
	assert_string_equal(err.msg, "unknown option '--bogus' (see --help)");
	assert_int_equal(LOAD(&c, &err, "--bogus=1"), HC_CONFIG_ERROR);
	assert_string_equal(err.msg, "unknown option '--bogus' (see --help)");
	assert_int_equal(LOAD(&c, &err, "-x"), HC_CONFIG_ERROR);
	assert_string_equal(err.msg, "unknown option '-x' (see --help)");
	assert_int_equal(LOAD(&c, &err, "serve"), HC_CONFIG_ERROR);
	assert_string_equal(err.msg, "unexpected argument 'serve' (see --help)");
	assert_int_equal(LOAD(&c, &err, "-"), HC_CONFIG_ERROR);
	assert_int_equal(LOAD(&c, &err, "--", "x"), HC_CONFIG_ERROR);
	assert_string_equal(err.msg, "unexpected argument 'x' (see --help)");
	assert_int_equal(LOAD(&c, &err, "--port"), HC_CONFIG_ERROR);
	assert_string_equal(err.msg, "option '--port' needs a value");
	assert_int_equal(LOAD(&c, &err, "-p"), HC_CONFIG_ERROR);
	assert_string_equal(err.msg, "option '-p' needs a value");
	assert_int_equal(LOAD(&c, &err, "--check=1"), HC_CONFIG_ERROR);
	assert_string_equal(err.msg, "option '--check' takes no value");
	assert_int_equal(LOAD(&c, &err, "--port", "70000"), HC_CONFIG_ERROR);
	assert_string_equal(err.msg, "port: 70000 is out of range 1..65535");
	assert_int_equal(LOAD(&c, &err, "--port", "12ab"), HC_CONFIG_ERROR);
	assert_string_equal(err.msg, "port: '12ab' is not an integer");
	assert_int_equal(LOAD(&c, &err, "--port", "99999999999999999999"), HC_CONFIG_ERROR);
	assert_int_equal(LOAD(&c, &err, "--port", ""), HC_CONFIG_ERROR);
	assert_int_equal(LOAD(&c, &err, "-c", "/nonexistent/hearth.conf"), HC_CONFIG_ERROR);
	assert_string_equal(err.msg, "cannot open config file /nonexistent/hearth.conf: No such "
				     "file or directory");
	setenv("HEARTH_TEST_PORT", "0", 1);
	assert_int_equal(LOAD(&c, &err, "-v"), HC_CONFIG_ERROR);
	assert_string_equal(err.msg,
			    "environment HEARTH_TEST_PORT: port: 0 is out of range 1..65535");
	/* the error is reported even though a flag would have overridden it */
	assert_int_equal(LOAD(&c, &err, "-p", "5"), HC_CONFIG_ERROR);
	unsetenv("HEARTH_TEST_PORT");
	assert_null(c.name);
}

static void test_durations_sizes(void **state)
{
	struct tcfg c;
	struct hc_err err;

	assert_int_equal(LOAD(&c, &err, "--pause-grace", "2s", "--memory", "64k"), HC_CONFIG_OK);
	assert_int_equal(c.grace_ms, 2000);
	assert_int_equal(c.memory, 65536);
	hc_config_free(&spec, &c);
	assert_int_equal(LOAD(&c, &err, "--pause-grace=250", "-m", "1g"), HC_CONFIG_OK);
	assert_int_equal(c.grace_ms, 250);
	assert_int_equal(c.memory, 1 << 30);
	hc_config_free(&spec, &c);
	assert_int_equal(LOAD(&c, &err, "--pause-grace", "5x"), HC_CONFIG_ERROR);
	assert_string_equal(err.msg,
			    "pause-grace: '5x' is not a duration (e.g. 250ms, 2s, 10m, 1h)");
	assert_int_equal(LOAD(&c, &err, "--pause-grace", "2m"), HC_CONFIG_ERROR);
	assert_string_equal(err.msg, "pause-grace: 2m is out of range 0ms..60000ms");
	assert_int_equal(LOAD(&c, &err, "--memory", "1000"), HC_CONFIG_ERROR);
	assert_string_equal(err.msg, "memory: 1000 is out of range 1024..17179869184");
	assert_int_equal(LOAD(&c, &err, "--memory", "-1k"), HC_CONFIG_ERROR);
	assert_string_equal(err.msg, "memory: '-1k' is not a size (e.g. 512, 64k, 48m, 1g)");
}

static void test_file_format(void **state)
{
	struct tcfg c;
	struct hc_err err;
	char *path = write_temp("# a comment\n"
				"\n"
				"   port=8080   # trailing comment\r\n"
				"name = \"quoted # not a comment \\\"x\\\"\"  # comment\n"
				"token = 'single \\n raw'\n"
				"pause_grace = 10s\n"
				"log-level = debug\n"
				"verbose = yes");

	assert_int_equal(LOAD(&c, &err, "-c", path), HC_CONFIG_OK);
	assert_int_equal(c.port, 8080);
	assert_string_equal(c.name, "quoted # not a comment \"x\"");
	assert_string_equal(c.token, "single \\n raw");
	assert_int_equal(c.grace_ms, 10000);
	assert_int_equal(c.verbose, 1);
	assert_true(hc_log_enabled(HC_LOG_DEBUG));
	hc_config_free(&spec, &c);
	unlink(path);
}

static void parse_err(const char *text, const char *expect)
{
	struct tcfg c;
	struct hc_err err = {""};

	assert_int_equal(hc_config_defaults(&spec, &c, &err), 0);
	assert_int_equal(hc_config_parse_text(&spec, text, strlen(text), "t.conf", &c, &err), -1);
	assert_string_equal(err.msg, expect);
	hc_config_free(&spec, &c);
}

static void test_file_errors(void **state)
{
	struct tcfg c;
	struct hc_err err;
	char *path;

	parse_err("port = 1\nbogus = 2\n", "t.conf:2: unknown setting 'bogus' (see --help)");
	parse_err("port 80\n", "t.conf:1: expected 'name = value'");
	parse_err("= 80\n", "t.conf:1: expected 'name = value'");
	parse_err("name = \"open\n", "t.conf:1: unterminated quoted value");
	parse_err("name = \"a\" b\n", "t.conf:1: unexpected text after the quoted value");
	parse_err("name = \"\\q\"\n", "t.conf:1: bad escape in quoted value");
	parse_err("\n\nport = 0\n", "t.conf:3: port: 0 is out of range 1..65535");
	parse_err("config = x\n", "t.conf:1: unknown setting 'config' (see --help)");
	parse_err("log-format = xml\n", "t.conf:1: log-format: 'xml' is not text or json");
	{
		static const char nul[] = "port = 1\0 2\n";
		struct hc_err e;

		assert_int_equal(hc_config_defaults(&spec, &c, &e), 0);
		assert_int_equal(hc_config_parse_text(&spec, nul, sizeof(nul) - 1, NULL, &c, &e),
				 -1);
		assert_string_equal(e.msg, "config:1: NUL byte in line");
		hc_config_free(&spec, &c);
	}
	path = write_temp("memory = 12\n");
	assert_int_equal(LOAD(&c, &err, "-c", path), HC_CONFIG_ERROR);
	assert_non_null(strstr(err.msg, ":1: memory: 12 is out of range 1024..17179869184"));
	assert_memory_equal(err.msg, path, strlen(path));
	unlink(path);
}

/* Run hc_config_load with stdout captured into a malloc'd string. */
static char *load_captured(struct tcfg *c, const char **args, enum hc_config_result *r)
{
	char path[] = "/tmp/hc_test_stdout_XXXXXX";
	int fd = mkstemp(path), saved;
	struct hc_err err;
	char *out;
	off_t n;

	assert_true(fd >= 0);
	unlink(path);
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	assert_true(dup2(fd, STDOUT_FILENO) >= 0);
	*r = load(c, &err, args);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	n = lseek(fd, 0, SEEK_END);
	out = calloc(1, (size_t)n + 1);
	assert_non_null(out);
	assert_int_equal(pread(fd, out, (size_t)n, 0), n);
	close(fd);
	return out;
}

static void test_help(void **state)
{
	struct tcfg c;
	enum hc_config_result r;
	char *out =
	    load_captured(&c, (const char *[]){"hearth-test", "-p", "9", "--help", NULL}, &r);

	assert_int_equal(r, HC_CONFIG_EXIT);
	assert_null(c.name);
	assert_non_null(strstr(out, "usage: hearth-test [options]\nA test daemon.\n"));
	assert_non_null(strstr(out, "  -p, --port N\n        port to listen on\n"
				    "        file: port   env: HEARTH_TEST_PORT   default: 3233"
				    "   range: 1..65535\n"));
	assert_non_null(strstr(out, "--verbose[=BOOL], --no-verbose"));
	assert_non_null(strstr(out, "--pause-grace DURATION"));
	assert_non_null(strstr(out, "range: 0..60000 ms"));
	assert_non_null(strstr(out, "-m, --memory SIZE"));
	assert_non_null(strstr(out, "--token STR\n        secret\n        file: token   default: "
				    "(none)\n"));
	assert_non_null(strstr(out, "-c, --config FILE"));
	assert_non_null(strstr(out, "-t, --check"));
	assert_non_null(strstr(out, "-h, --help"));
	assert_non_null(strstr(out, "--log-level LEVEL"));
	assert_non_null(strstr(out, "env: HEARTH_LOG_FORMAT"));
	free(out);
	out = load_captured(&c, (const char *[]){"hearth-test", "-h", NULL}, &r);
	assert_int_equal(r, HC_CONFIG_EXIT);
	assert_non_null(strstr(out, "usage: "));
	free(out);
}

static void test_check(void **state)
{
	struct tcfg c;
	enum hc_config_result r;
	char *out = load_captured(&c,
				  (const char *[]){"hearth-test", "-t", "--port", "99", "--name",
						   "a \"q\"", "--pause-grace", "120000ms", NULL},
				  &r);

	/* 120000ms is out of range: -t reports errors like a normal start */
	assert_int_equal(r, HC_CONFIG_ERROR);
	assert_string_equal(out, "");
	free(out);
	out =
	    load_captured(&c,
			  (const char *[]){"hearth-test", "-t", "--port", "99", "--name", "a \"q\"",
					   "--pause-grace", "60000", "--log-format", "json", NULL},
			  &r);
	hc_log_setup("test_config", HC_LOG_INFO, 0);
	assert_int_equal(r, HC_CONFIG_EXIT);
	assert_null(c.name);
	assert_string_equal(out, "# effective configuration of hearth-test\n"
				 "port = 99\n"
				 "name = \"a \\\"q\\\"\"\n"
				 "verbose = false\n"
				 "pause-grace = 1m\n"
				 "memory = 256m\n"
				 "# token is not set\n"
				 "any = -5\n"
				 "log-level = info\n"
				 "log-format = json\n");
	free(out);
}

/* What -t prints reads back as the same configuration. */
static void test_dump_round_trip(void **state)
{
	struct tcfg a, b;
	struct hc_err err;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	assert_int_equal(LOAD(&a, &err, "-p", "7", "-n", "tab\there \\ \"q\"\nnl", "-v",
			      "--pause-grace", "1500", "--memory", "1536", "--token", ""),
			 HC_CONFIG_OK);
	f = open_memstream(&text, &len);
	assert_non_null(f);
	hc_config_dump(&spec, &a, f);
	fclose(f);
	assert_int_equal(hc_config_defaults(&spec, &b, &err), 0);
	assert_int_equal(hc_config_parse_text(&spec, text, len, "dump", &b, &err), 0);
	assert_int_equal(b.port, 7);
	assert_string_equal(b.name, a.name);
	assert_int_equal(b.verbose, 1);
	assert_int_equal(b.grace_ms, 1500);
	assert_int_equal(b.memory, 1536);
	assert_string_equal(b.token, "");
	free(text);
	hc_config_free(&spec, &a);
	hc_config_free(&spec, &b);
}

/* -t must not print secrets: a URL keeps all but its password, anything
 * else only says that it is set. */
static void test_dump_hides_secrets(void **state)
{
	const struct hc_config_spec sspec = {
	    .prog = "hearth-test",
	    .opts = opts,
	    .nopts = sizeof(opts) / sizeof(opts[0]),
	    .secrets = (const char *const[]){"token", "name", NULL},
	};
	struct tcfg a;
	struct hc_err err;
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	const char *urls[][2] = {
	    {"redis://:s3cret@10.0.0.1:6379/0", "name = \"redis://:(hidden)@10.0.0.1:6379/0\""},
	    {"redis://user:s3cret@h:1", "name = \"redis://user:(hidden)@h:1\""},
	    {"redis://h:6379/0", "name = \"redis://h:6379/0\""},
	    {"s3cret", "# name is set (hidden)"},
	};

	for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		const char *argv[] = {"t", "-n", urls[i][0], "--token", "s3cret", "-p", "9", NULL};
		err.msg[0] = '\0';
		assert_int_equal(hc_config_load(&sspec, 7, (char **)argv, &a, &err), HC_CONFIG_OK);
		f = open_memstream(&text, &len);
		assert_non_null(f);
		hc_config_dump(&sspec, &a, f);
		fclose(f);
		assert_null(strstr(text, "s3cret"));
		assert_non_null(strstr(text, urls[i][1]));
		assert_non_null(strstr(text, "# token is set (hidden)"));
		assert_non_null(strstr(text, "port = 9"));
		free(text);
		text = NULL;
		hc_config_free(&sspec, &a);
	}
}

static void test_log_options(void **state)
{
	struct tcfg c;
	struct hc_err err;

	assert_int_equal(LOAD(&c, &err, "--log-level", "debug"), HC_CONFIG_OK);
	assert_true(hc_log_enabled(HC_LOG_DEBUG));
	hc_config_free(&spec, &c);
	setenv("HEARTH_LOG_LEVEL", "error", 1);
	assert_int_equal(LOAD(&c, &err, "-v"), HC_CONFIG_OK);
	assert_false(hc_log_enabled(HC_LOG_WARN));
	hc_config_free(&spec, &c);
	assert_int_equal(LOAD(&c, &err, "--log-level=warn"), HC_CONFIG_OK);
	assert_true(hc_log_enabled(HC_LOG_WARN));
	assert_false(hc_log_enabled(HC_LOG_INFO));
	hc_config_free(&spec, &c);
	assert_int_equal(LOAD(&c, &err, "--log-level", "loud"), HC_CONFIG_ERROR);
	assert_string_equal(err.msg,
			    "log-level: 'loud' is not one of debug, info, warn, error, off");
	assert_int_equal(LOAD(&c, &err, "--log-format", "xml"), HC_CONFIG_ERROR);
	assert_string_equal(err.msg, "log-format: 'xml' is not text or json");
}

static void test_bad_default(void **state)
{
	static const struct hc_opt bad[] = {
	    {"n", HC_OPT_INT, "lots", 0, NULL, offsetof(struct tcfg, port), 0, 0, ""},
	    {"s", HC_OPT_STR, "ok", 0, NULL, offsetof(struct tcfg, name), 0, 0, ""},
	};
	static const struct hc_config_spec bspec = {"b", NULL, bad, 2, NULL};
	struct tcfg c;
	struct hc_err err;

	assert_int_equal(hc_config_defaults(&bspec, &c, &err), -1);
	assert_string_equal(err.msg, "default: n: 'lots' is not an integer");
	hc_config_free(&bspec, &c);
	assert_int_equal(hc_config_load(&bspec, 1, (char *[]){"b", NULL}, &c, &err),
			 HC_CONFIG_ERROR);
	assert_null(c.name);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_defaults, clean_env, clean_env),
	    cmocka_unit_test_setup_teardown(test_precedence, clean_env, clean_env),
	    cmocka_unit_test_setup_teardown(test_flag_forms, clean_env, clean_env),
	    cmocka_unit_test_setup_teardown(test_bool_values, clean_env, clean_env),
	    cmocka_unit_test_setup_teardown(test_errors, clean_env, clean_env),
	    cmocka_unit_test_setup_teardown(test_durations_sizes, clean_env, clean_env),
	    cmocka_unit_test_setup_teardown(test_file_format, clean_env, clean_env),
	    cmocka_unit_test_setup_teardown(test_file_errors, clean_env, clean_env),
	    cmocka_unit_test_setup_teardown(test_help, clean_env, clean_env),
	    cmocka_unit_test_setup_teardown(test_check, clean_env, clean_env),
	    cmocka_unit_test_setup_teardown(test_dump_round_trip, clean_env, clean_env),
	    cmocka_unit_test_setup_teardown(test_dump_hides_secrets, clean_env, clean_env),
	    cmocka_unit_test_setup_teardown(test_log_options, clean_env, clean_env),
	    cmocka_unit_test_setup_teardown(test_bad_default, clean_env, clean_env),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
