/* test_misc.c — the small common modules: err, log, clock, id, str, localnet. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/id.h"
#include "common/localnet.h"
#include "common/log.h"
#include "common/str.h"

/* ---- err ---- */

static void test_err_set(void **state)
{
	struct hc_err err = {""};

	assert_int_equal(hc_err_set(&err, "bad %s at %d", "thing", 7), -1);
	assert_string_equal(err.msg, "bad thing at 7");
	assert_int_equal(hc_err_set(NULL, "ignored %d", 1), -1);
	assert_int_equal(hc_err_prefix(NULL, "ignored"), -1);
}

static void test_err_prefix(void **state)
{
	struct hc_err err;

	hc_err_set(&err, "connection refused");
	assert_int_equal(hc_err_prefix(&err, "redis %s:%d", "10.0.0.1", 6379), -1);
	assert_string_equal(err.msg, "redis 10.0.0.1:6379: connection refused");
	hc_err_prefix(&err, "start-up");
	assert_string_equal(err.msg, "start-up: redis 10.0.0.1:6379: connection refused");
}

static void test_err_truncates(void **state)
{
	struct hc_err err;
	char big[600];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	hc_err_set(&err, "%s", big);
	assert_int_equal(strlen(err.msg), HC_ERR_MAX - 1);
	hc_err_set(&err, "tail");
	hc_err_prefix(&err, "%s", big);
	assert_int_equal(strlen(err.msg), HC_ERR_MAX - 1);
	hc_err_set(&err, "%s", big);
	hc_err_prefix(&err, "p");
	assert_int_equal(strlen(err.msg), HC_ERR_MAX - 1);
	assert_memory_equal(err.msg, "p: xxx", 6);
}

/* ---- log ---- */

/* Run fn with stderr redirected to a temp file; return what was written. */
static char *capture_stderr(void (*fn)(void *), void *arg)
{
	char path[] = "/tmp/hc_test_log_XXXXXX";
	int fd = mkstemp(path), saved;
	char *out;
	long n;
	FILE *f;

	assert_true(fd >= 0);
	unlink(path);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(fd, STDERR_FILENO) >= 0);
	fn(arg);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	f = fdopen(fd, "r");
	assert_non_null(f);
	n = lseek(fd, 0, SEEK_END);
	assert_true(n >= 0);
	out = calloc(1, (size_t)n + 1);
	assert_non_null(out);
	rewind(f);
	assert_int_equal(fread(out, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return out;
}

static void log_text_lines(void *arg)
{
	hc_log_setup("test-daemon", HC_LOG_INFO, 0);
	hc_debug("hidden %d", 1);
	hc_info("hello %d container=%s", 5, "ab12");
	hc_warn("two\nlines");
	hc_error("bad");
}

static void test_log_text(void **state)
{
	char *out = capture_stderr(log_text_lines, NULL), *line, *save = NULL;
	char expect[128];
	int n = 0;

	snprintf(expect, sizeof(expect), " INFO  test-daemon[%ld] hello 5 container=ab12",
		 (long)getpid());
	assert_null(strstr(out, "hidden"));
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		/* 2026-11-23T10:00:00.123Z */
		assert_true(strlen(line) > 24);
		assert_int_equal(line[4], '-');
		assert_int_equal(line[10], 'T');
		assert_int_equal(line[19], '.');
		assert_int_equal(line[23], 'Z');
		assert_int_equal(line[24], ' ');
		if (n == 0)
			assert_string_equal(line + 24, expect);
		if (n == 1)
			assert_non_null(strstr(line, " WARN  test-daemon["));
		if (n == 1)
			assert_non_null(strstr(line, "] two\\nlines"));
		if (n == 2)
			assert_non_null(strstr(line, " ERROR test-daemon["));
		n++;
	}
	assert_int_equal(n, 3);
	free(out);
}

static void log_json_lines(void *arg)
{
	hc_log_setup("jd", HC_LOG_DEBUG, 1);
	hc_debug("quote \" back \\ nl \n tab \t ctl \x01 utf8 \xc3\xa9");
	hc_log_setup("jd", HC_LOG_INFO, 0);
}

static void test_log_json(void **state)
{
	char *out = capture_stderr(log_json_lines, NULL);
	cJSON *j, *it;
	size_t len = strlen(out);

	assert_true(len > 0);
	assert_int_equal(out[len - 1], '\n');
	assert_null(memchr(out, '\n', len - 1)); /* one line */
	j = cJSON_Parse(out);
	assert_non_null(j);
	it = cJSON_GetObjectItem(j, "level");
	assert_string_equal(it->valuestring, "debug");
	it = cJSON_GetObjectItem(j, "daemon");
	assert_string_equal(it->valuestring, "jd");
	it = cJSON_GetObjectItem(j, "pid");
	assert_int_equal((long)it->valuedouble, (long)getpid());
	it = cJSON_GetObjectItem(j, "msg");
	assert_string_equal(it->valuestring,
			    "quote \" back \\ nl \n tab \t ctl \x01 utf8 \xc3\xa9");
	it = cJSON_GetObjectItem(j, "ts");
	assert_int_equal(strlen(it->valuestring), 24);
	cJSON_Delete(j);
	free(out);
}

static void log_long_and_off(void *arg)
{
	char big[5000];

	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	hc_log_setup("t", HC_LOG_INFO, 0);
	hc_info("%s", big);
	hc_log_setup("t", HC_LOG_OFF, 0);
	hc_error("never");
	hc_log_setup("t", HC_LOG_INFO, 0);
}

static void test_log_long_and_off(void **state)
{
	char *out = capture_stderr(log_long_and_off, NULL);
	size_t len = strlen(out);

	assert_null(strstr(out, "never"));
	assert_true(len > 1000 && len < 5000);
	assert_memory_equal(out + len - 4, "...\n", 4);
	free(out);
}

static void *log_thread(void *arg)
{
	int i;

	for (i = 0; i < 200; i++)
		hc_info("thread=%ld line=%d %s", (long)(intptr_t)arg, i,
			"padding-padding-padding-padding-padding-padding-padding");
	return NULL;
}

static void log_threads(void *arg)
{
	pthread_t t[4];
	long i;

	hc_log_setup("mt", HC_LOG_INFO, 0);
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, log_thread, (void *)(intptr_t)i), 0);
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
}

static void test_log_threads_whole_lines(void **state)
{
	char *out = capture_stderr(log_threads, NULL), *line, *save = NULL;
	int n = 0;

	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		assert_int_equal(line[23], 'Z');
		assert_non_null(strstr(line, " INFO  mt["));
		assert_non_null(
		    strstr(line, "padding-padding-padding-padding-padding-padding-padding"));
		assert_int_equal(line[strlen(line) - 1], 'g');
		n++;
	}
	assert_int_equal(n, 800);
	free(out);
}

static void test_log_levels(void **state)
{
	enum hc_log_level l;

	assert_int_equal(hc_log_parse_level("debug", &l), 0);
	assert_int_equal(l, HC_LOG_DEBUG);
	assert_int_equal(hc_log_parse_level("warn", &l), 0);
	assert_int_equal(l, HC_LOG_WARN);
	assert_int_equal(hc_log_parse_level("off", &l), 0);
	assert_int_equal(l, HC_LOG_OFF);
	assert_int_equal(hc_log_parse_level("loud", &l), -1);
	assert_int_equal(hc_log_parse_level("", &l), -1);
	hc_log_setup("x", HC_LOG_WARN, 0);
	assert_false(hc_log_enabled(HC_LOG_INFO));
	assert_true(hc_log_enabled(HC_LOG_WARN));
	assert_true(hc_log_enabled(HC_LOG_ERROR));
	assert_false(hc_log_enabled(HC_LOG_OFF));
	hc_log_setup("x", HC_LOG_INFO, 0);
}

/* ---- clock ---- */

static void test_iso8601(void **state)
{
	char buf[HC_ISO_LEN + 1];

	hc_iso8601_us(0, buf);
	assert_string_equal(buf, "1970-01-01T00:00:00.000000Z");
	hc_iso8601_us(1767225600000000ull, buf);
	assert_string_equal(buf, "2026-01-01T00:00:00.000000Z");
	hc_iso8601_us(1795435199123456ull, buf); /* date -u -d @1795435199 */
	assert_string_equal(buf, "2026-11-23T11:59:59.123456Z");
	hc_iso8601_us(951782400000001ull, buf); /* leap day 2000 */
	assert_string_equal(buf, "2000-02-29T00:00:00.000001Z");
	assert_int_equal(strlen(buf), HC_ISO_LEN);
}

static void test_ms_timeval(void **state)
{
	struct timeval tv = hc_ms_timeval(2500);
	assert_int_equal(tv.tv_sec, 2);
	assert_int_equal(tv.tv_usec, 500000);
	tv = hc_ms_timeval(999);
	assert_int_equal(tv.tv_sec, 0);
	assert_int_equal(tv.tv_usec, 999000);
	tv = hc_ms_timeval(0);
	assert_int_equal(tv.tv_sec, 0);
	assert_int_equal(tv.tv_usec, 0);
	tv = hc_ms_timeval(3600000);
	assert_int_equal(tv.tv_sec, 3600);
	assert_int_equal(tv.tv_usec, 0);
}

static void test_clocks(void **state)
{
	uint64_t ms = hc_now_ms(), us = hc_now_us(), m1 = hc_mono_us(), m2 = hc_mono_us();

	assert_true(ms > 1700000000000ull); /* after 2023 */
	assert_true(us / 1000 >= ms);
	assert_true(us / 1000 - ms < 10000);
	assert_true(m2 >= m1);
}

static void test_parse_duration(void **state)
{
	static const struct {
		const char *s;
		int64_t ms;
	} ok[] = {{"0", 0},	   {"250", 250}, {"250ms", 250}, {"2s", 2000},	  {"10m", 600000},
		  {"1h", 3600000}, {"3MS", 3},	 {"5sec", 5000}, {"2min", 120000}};
	static const char *const bad[] = {
	    "",
	    "-1",
	    "1x",
	    "1.5s",
	    " 1s",
	    "1s ",
	    "s",
	    "ms",
	    "0x10",
	    "1 s",
	    "+5",
	    "99999999999999999999",
	    "9223372036854775807h",
	};
	int64_t v;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(hc_parse_duration_ms(ok[i].s, &v), 0);
		assert_int_equal(v, ok[i].ms);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = -7;
		assert_int_equal(hc_parse_duration_ms(bad[i], &v), -1);
		assert_int_equal(v, -7);
	}
	assert_int_equal(hc_parse_duration_ms(NULL, &v), -1);
	assert_int_equal(hc_parse_duration_ms("9223372036854775807", &v), 0);
	assert_int_equal(v, INT64_MAX);
}

static void test_parse_size(void **state)
{
	static const struct {
		const char *s;
		int64_t b;
	} ok[] = {{"512", 512},
		  {"64k", 65536},
		  {"48m", 48 * 1024 * 1024},
		  {"48MB", 48 * 1024 * 1024},
		  {"1g", 1024 * 1024 * 1024},
		  {"1GB", 1024 * 1024 * 1024},
		  {"7b", 7},
		  {"0", 0}};
	static const char *const bad[] = {
	    "", "-1", "1t", "1.5m", "m", " 1", "1 k", "1kk", "9007199254740993g"};
	int64_t v;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(hc_parse_size(ok[i].s, &v), 0);
		assert_int_equal(v, ok[i].b);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(hc_parse_size(bad[i], &v), -1);
}

/* ---- id ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

static void test_id_new(void **state)
{
	static char ids[1000][HC_ID_LEN + 1];
	size_t i, j;

	for (i = 0; i < 1000; i++) {
		hc_id_new(ids[i]);
		assert_int_equal(strlen(ids[i]), HC_ID_LEN);
		assert_true(hc_id_valid(ids[i]));
		for (j = 0; j < HC_ID_LEN; j++)
			assert_non_null(strchr("0123456789abcdef", ids[i][j]));
	}
	qsort(ids, 1000, sizeof(ids[0]), cmp_str);
	for (i = 1; i < 1000; i++)
		assert_string_not_equal(ids[i - 1], ids[i]);
}

static void test_id_valid(void **state)
{
	assert_true(hc_id_valid("0123456789abcdef0123456789ABCDEF"));
	assert_false(hc_id_valid("0123456789abcdef0123456789abcde"));
	assert_false(hc_id_valid("0123456789abcdef0123456789abcdef0"));
	assert_false(hc_id_valid("0123456789abcdef0123456789abcdeg"));
	assert_false(hc_id_valid(""));
	assert_false(hc_id_valid(NULL));
}

static void test_random(void **state)
{
	unsigned char a[32] = {0}, b[32] = {0}, zero[32] = {0};
	char s[201];
	int seen[256] = {0}, distinct = 0;
	size_t i;

	assert_int_equal(hc_random_bytes(a, sizeof(a)), 0);
	assert_int_equal(hc_random_bytes(b, sizeof(b)), 0);
	assert_memory_not_equal(a, zero, sizeof(a));
	assert_memory_not_equal(a, b, sizeof(a));
	assert_int_equal(hc_random_bytes(a, 0), 0);

	hc_random_alnum(s, 200);
	assert_int_equal(strlen(s), 200);
	for (i = 0; i < 200; i++) {
		unsigned char c = (unsigned char)s[i];

		assert_true((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9'));
		distinct += !seen[c]++;
	}
	assert_true(distinct > 30); /* 200 draws from 62: nearly all appear */
	hc_random_alnum(s, 0);
	assert_string_equal(s, "");
}

/* 10000 ids (many pool refills): all well-formed and distinct. */
static void test_id_many_distinct(void **state)
{
	enum { N = 10000 };
	char(*ids)[HC_ID_LEN + 1] = calloc(N, sizeof(*ids));
	size_t i;

	assert_non_null(ids);
	for (i = 0; i < N; i++) {
		memset(ids[i], 'x', sizeof(ids[i]));
		hc_id_new(ids[i]);
		assert_int_equal(ids[i][HC_ID_LEN], '\0');
		assert_true(hc_id_valid(ids[i]));
		for (size_t j = 0; j < HC_ID_LEN; j++)
			assert_non_null(strchr("0123456789abcdef", ids[i][j]));
	}
	qsort(ids, N, sizeof(ids[0]), cmp_str);
	for (i = 1; i < N; i++)
		assert_string_not_equal(ids[i - 1], ids[i]);
	free(ids);
}

struct id_thread {
	char ids[500][HC_ID_LEN + 1];
};

static void *id_thread_main(void *arg)
{
	struct id_thread *t = arg;

	for (int i = 0; i < 500; i++)
		hc_id_new(t->ids[i]);
	return NULL;
}

/* Threads have pools of their own: no id is shared between them. */
static void test_id_threads_distinct(void **state)
{
	enum { T = 4, PER = 500 };
	struct id_thread *t = calloc(T, sizeof(*t));
	char(*all)[HC_ID_LEN + 1] = calloc(T * PER, sizeof(*all));
	pthread_t th[T];

	assert_non_null(t);
	assert_non_null(all);
	for (int i = 0; i < T; i++)
		assert_int_equal(pthread_create(&th[i], NULL, id_thread_main, &t[i]), 0);
	for (int i = 0; i < T; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < T; i++)
		memcpy(all[i * PER], t[i].ids, sizeof(t[i].ids));
	qsort(all, T * PER, sizeof(all[0]), cmp_str);
	for (int i = 1; i < T * PER; i++) {
		assert_true(hc_id_valid(all[i]));
		assert_string_not_equal(all[i - 1], all[i]);
	}
	free(all);
	free(t);
}

/* A forked child must not hand out the ids its parent is about to use:
 * the child starts with an empty pool. */
static void test_id_after_fork(void **state)
{
	enum { K = 40 };
	char parent[K][HC_ID_LEN + 1], child[K][HC_ID_LEN + 1], first[HC_ID_LEN + 1];
	int fds[2];
	pid_t pid;
	int status;
	size_t got = 0;

	/* the pool is filled (and the fork hook set) before the fork */
	hc_id_new(first);
	assert_true(hc_id_valid(first));
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char ids[K][HC_ID_LEN + 1];
		size_t off = 0;

		close(fds[0]);
		for (int i = 0; i < K; i++)
			hc_id_new(ids[i]);
		while (off < sizeof(ids)) {
			ssize_t w = write(fds[1], (char *)ids + off, sizeof(ids) - off);
			if (w <= 0)
				_exit(1);
			off += (size_t)w;
		}
		_exit(0);
	}
	close(fds[1]);
	for (int i = 0; i < K; i++)
		hc_id_new(parent[i]);
	while (got < sizeof(child)) {
		ssize_t r = read(fds[0], (char *)child + got, sizeof(child) - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(got, sizeof(child));
	for (int i = 0; i < K; i++) {
		assert_true(hc_id_valid(child[i]));
		assert_string_not_equal(child[i], first);
		for (int j = 0; j < K; j++)
			assert_string_not_equal(child[i], parent[j]);
	}
}

/* ---- str ---- */

static void test_strlcpy(void **state)
{
	char d[8];

	/* fits */
	memset(d, 'X', sizeof(d));
	assert_int_equal(hc_strlcpy(d, "abc", sizeof(d)), 3);
	assert_string_equal(d, "abc");
	/* exactly n - 1 fits whole */
	memset(d, 'X', sizeof(d));
	assert_int_equal(hc_strlcpy(d, "1234567", sizeof(d)), 7);
	assert_string_equal(d, "1234567");
	/* truncates, always terminated; the return says it was cut */
	memset(d, 'X', sizeof(d));
	assert_int_equal(hc_strlcpy(d, "12345678", sizeof(d)), 8);
	assert_string_equal(d, "1234567");
	memset(d, 'X', sizeof(d));
	assert_int_equal(hc_strlcpy(d, "a much longer string", sizeof(d)), 20);
	assert_string_equal(d, "a much ");
	assert_int_equal(d[7], '\0');
	/* NULL copies as "" */
	memset(d, 'X', sizeof(d));
	assert_int_equal(hc_strlcpy(d, NULL, sizeof(d)), 0);
	assert_string_equal(d, "");
	/* empty source */
	memset(d, 'X', sizeof(d));
	assert_int_equal(hc_strlcpy(d, "", sizeof(d)), 0);
	assert_string_equal(d, "");
	/* n == 1: only the terminator */
	memset(d, 'X', sizeof(d));
	assert_int_equal(hc_strlcpy(d, "abc", 1), 3);
	assert_int_equal(d[0], '\0');
	assert_int_equal(d[1], 'X'); /* nothing past n is written */
	/* n smaller than the array: bytes past n are left alone */
	memset(d, 'X', sizeof(d));
	assert_int_equal(hc_strlcpy(d, "abcdef", 4), 6);
	assert_string_equal(d, "abc");
	assert_int_equal(d[4], 'X');
}

/* ---- localnet ---- */

static void test_unix_addr(void **state)
{
	struct sockaddr_un sa;
	socklen_t len;
	char longest[HC_UNIX_NAME_MAX + 2];

	/* abstract: a leading NUL, the length counts the name and no terminator */
	assert_int_equal(hc_unix_addr("@hearth-x", &sa, &len), 0);
	assert_int_equal(sa.sun_family, AF_UNIX);
	assert_int_equal(sa.sun_path[0], '\0');
	assert_memory_equal(sa.sun_path + 1, "hearth-x", 8);
	assert_int_equal(len, offsetof(struct sockaddr_un, sun_path) + 9);
	/* a path: as it is, with its terminator */
	assert_int_equal(hc_unix_addr("/run/x.sock", &sa, &len), 0);
	assert_string_equal(sa.sun_path, "/run/x.sock");
	assert_int_equal(len, offsetof(struct sockaddr_un, sun_path) + 12);
	/* the longest name fits; one more byte does not */
	memset(longest, 'a', sizeof(longest));
	longest[HC_UNIX_NAME_MAX] = '\0';
	assert_int_equal(hc_unix_addr(longest, &sa, &len), 0);
	longest[HC_UNIX_NAME_MAX] = 'a';
	longest[HC_UNIX_NAME_MAX + 1] = '\0';
	assert_int_equal(hc_unix_addr(longest, &sa, &len), -1);
	/* nothing to name */
	assert_int_equal(hc_unix_addr("", &sa, &len), -1);
	assert_int_equal(hc_unix_addr("@", &sa, &len), -1);
	assert_int_equal(hc_unix_addr(NULL, &sa, &len), -1);
}

/* Whether ipv4 is one of this host's interface addresses, by getifaddrs. */
static int on_an_interface(const char *ipv4)
{
	struct ifaddrs *ifs;
	char a[INET_ADDRSTRLEN];
	int found = 0;
	assert_int_equal(getifaddrs(&ifs), 0);
	for (struct ifaddrs *i = ifs; i; i = i->ifa_next)
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
		    inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, a,
			      sizeof(a)))
			found |= !strcmp(a, ipv4);
	freeifaddrs(ifs);
	return found;
}

static void test_ipv4_is_local(void **state)
{
	static const char *const others[] = {"192.0.2.1", "198.51.100.77", "203.0.113.9"};
	struct ifaddrs *ifs;
	char own[INET_ADDRSTRLEN] = "";
	int checked = 0;

	assert_true(hc_ipv4_is_local("127.0.0.1"));
	assert_true(hc_ipv4_is_local("127.0.0.3")); /* the cluster's stand-in hosts */
	/* documentation addresses (RFC 5737), unless this host has one */
	for (size_t k = 0; k < sizeof(others) / sizeof(others[0]); k++) {
		if (on_an_interface(others[k]))
			continue;
		assert_false(hc_ipv4_is_local(others[k]));
		checked++;
	}
	assert_true(checked > 0);
	assert_false(hc_ipv4_is_local(""));
	assert_false(hc_ipv4_is_local("localhost"));
	assert_false(hc_ipv4_is_local("127.0.0.1:80"));
	assert_false(hc_ipv4_is_local(NULL));
	/* an address of one of this host's interfaces (not loopback), when it
	 * has one */
	assert_int_equal(getifaddrs(&ifs), 0);
	for (struct ifaddrs *i = ifs; i && !own[0]; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
			continue;
		struct in_addr a = ((struct sockaddr_in *)i->ifa_addr)->sin_addr;
		if ((ntohl(a.s_addr) >> 24) != 127)
			inet_ntop(AF_INET, &a, own, sizeof(own));
	}
	freeifaddrs(ifs);
	if (own[0])
		assert_true(hc_ipv4_is_local(own));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_err_set),
	    cmocka_unit_test(test_err_prefix),
	    cmocka_unit_test(test_err_truncates),
	    cmocka_unit_test(test_log_text),
	    cmocka_unit_test(test_log_json),
	    cmocka_unit_test(test_log_long_and_off),
	    cmocka_unit_test(test_log_threads_whole_lines),
	    cmocka_unit_test(test_log_levels),
	    cmocka_unit_test(test_iso8601),
	    cmocka_unit_test(test_clocks),
	    cmocka_unit_test(test_ms_timeval),
	    cmocka_unit_test(test_parse_duration),
	    cmocka_unit_test(test_parse_size),
	    cmocka_unit_test(test_id_new),
	    cmocka_unit_test(test_id_valid),
	    cmocka_unit_test(test_random),
	    cmocka_unit_test(test_id_many_distinct),
	    cmocka_unit_test(test_id_threads_distinct),
	    cmocka_unit_test(test_id_after_fork),
	    cmocka_unit_test(test_strlcpy),
	    cmocka_unit_test(test_unix_addr),
	    cmocka_unit_test(test_ipv4_is_local),
	};
	return cmocka_run_group_tests_name("misc", tests, NULL, NULL);
}
