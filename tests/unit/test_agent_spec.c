/* test_agent_spec.c — runc bundles (agent/spec.c): the shared rootfs built
 * from a fake host tree, and config.json checked field by field. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/spec.h"
#include "common/json.h"

static char tmpdir[256];

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/hearth-test-spec-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	agt_rmtree(tmpdir);
	return 0;
}

static void test_rootfs(void **state)
{
	char host[PATH_MAX], root[PATH_MAX], p[PATH_MAX + 300], link[64];
	struct agt_rootfs rf;
	struct hc_err err = {{0}};
	struct stat st;
	ssize_t n;
	(void)state;

	/* a host where bin and lib64 are merged-/usr links and lib is real */
	snprintf(host, sizeof(host), "%s/host", tmpdir);
	mkdir(host, 0755);
	snprintf(p, sizeof(p), "%s/usr", host);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/bin", host);
	assert_int_equal(symlink("usr/bin", p), 0);
	snprintf(p, sizeof(p), "%s/lib64", host);
	assert_int_equal(symlink("/usr/lib64", p), 0);
	snprintf(p, sizeof(p), "%s/lib", host);
	mkdir(p, 0755);
	snprintf(root, sizeof(root), "%s/rootfs", tmpdir);

	assert_int_equal(agt_rootfs_prepare(root, host, &rf, &err), 0);
	assert_int_equal(rf.path[0], '/');
	/* mount points */
	const char *mp[] = {"usr", "etc", "tmp", "proc", "dev", "sys", "hearth", "lib"};
	for (size_t i = 0; i < sizeof(mp) / sizeof(mp[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", rf.path, mp[i]);
		assert_int_equal(lstat(p, &st), 0);
		assert_true(S_ISDIR(st.st_mode));
	}
	/* links copied, absolute ones made relative */
	snprintf(p, sizeof(p), "%s/bin", rf.path);
	n = readlink(p, link, sizeof(link) - 1);
	assert_true(n > 0);
	link[n] = '\0';
	assert_string_equal(link, "usr/bin");
	snprintf(p, sizeof(p), "%s/lib64", rf.path);
	n = readlink(p, link, sizeof(link) - 1);
	assert_true(n > 0);
	link[n] = '\0';
	assert_string_equal(link, "usr/lib64");
	/* missing on the host: not created */
	snprintf(p, sizeof(p), "%s/sbin", rf.path);
	assert_int_equal(lstat(p, &st), -1);
	/* the real directory is to be bound */
	assert_int_equal(rf.nbinds, 1);
	assert_string_equal(rf.binds[0], "lib");
	/* idempotent */
	assert_int_equal(agt_rootfs_prepare(root, host, &rf, &err), 0);
	assert_int_equal(rf.nbinds, 1);
}

static const cJSON *find_mount(const cJSON *cfg, const char *dest)
{
	const cJSON *m;
	cJSON_ArrayForEach(m, cJSON_GetObjectItem(cfg, "mounts"))
	{
		if (strcmp(cJSON_GetObjectItem(m, "destination")->valuestring, dest) == 0)
			return m;
	}
	return NULL;
}

static int has_opt(const cJSON *m, const char *opt)
{
	const cJSON *o;
	cJSON_ArrayForEach(o, cJSON_GetObjectItem(m, "options"))
	{
		if (strcmp(o->valuestring, opt) == 0)
			return 1;
	}
	return 0;
}

static void test_config(void **state)
{
	struct agt_rootfs rf;
	struct agt_spec s;
	struct hc_err err = {{0}};
	const cJSON *p, *l, *m, *x;
	cJSON *cfg;
	(void)state;

	memset(&rf, 0, sizeof(rf));
	strcpy(rf.path, "/run/hearth-agent/a1/rootfs");
	strcpy(rf.binds[0], "lib");
	rf.nbinds = 1;
	memset(&s, 0, sizeof(s));
	s.rootfs = &rf;
	s.runtime_dir = "/opt/hearth/bin";
	s.runtime_name = "hearth-runtime";
	s.host = "127.0.0.1";
	s.port = 20123;
	s.kind = "nodejs:20";
	s.api_host = "http://127.0.0.1:3233";
	s.memory_mb = 256;
	s.pids_limit = 64;
	s.tmp_mb = 32;
	s.cgroups_path = "/hearth/a1/c1";
	cfg = agt_spec_build(&s, &err);
	assert_non_null(cfg);

	/* process */
	p = cJSON_GetObjectItem(cfg, "process");
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(p, "terminal")));
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(p, "noNewPrivileges")));
	x = cJSON_GetObjectItem(p, "args");
	const char *want[] = {"/hearth/hearth-runtime",
			      "--port",
			      "20123",
			      "--addr",
			      "127.0.0.1",
			      "--kind",
			      "nodejs:20",
			      "--workdir",
			      "/tmp/action",
			      "--api-host",
			      "http://127.0.0.1:3233"};
	assert_int_equal(cJSON_GetArraySize(x), 11);
	for (int i = 0; i < 11; i++)
		assert_string_equal(cJSON_GetArrayItem(x, i)->valuestring, want[i]);
	x = cJSON_GetObjectItem(p, "capabilities");
	assert_non_null(x);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(x, "bounding")), 0);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(x, "effective")), 0);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(x, "permitted")), 0);
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(p, "user"), "uid")->valueint, 0);

	/* root */
	x = cJSON_GetObjectItem(cfg, "root");
	assert_string_equal(cJSON_GetObjectItem(x, "path")->valuestring, rf.path);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(x, "readonly")));

	/* mounts */
	m = find_mount(cfg, "/usr");
	assert_non_null(m);
	assert_string_equal(cJSON_GetObjectItem(m, "source")->valuestring, "/usr");
	assert_true(has_opt(m, "ro") && has_opt(m, "rbind"));
	m = find_mount(cfg, "/etc");
	assert_non_null(m);
	assert_true(has_opt(m, "ro"));
	m = find_mount(cfg, "/lib");
	assert_non_null(m);
	assert_true(has_opt(m, "ro"));
	m = find_mount(cfg, "/hearth");
	assert_non_null(m);
	assert_string_equal(cJSON_GetObjectItem(m, "source")->valuestring, "/opt/hearth/bin");
	assert_true(has_opt(m, "ro"));
	m = find_mount(cfg, "/tmp");
	assert_non_null(m);
	assert_string_equal(cJSON_GetObjectItem(m, "type")->valuestring, "tmpfs");
	assert_true(has_opt(m, "size=32m"));
	assert_non_null(find_mount(cfg, "/proc"));
	assert_non_null(find_mount(cfg, "/dev"));

	/* linux */
	l = cJSON_GetObjectItem(cfg, "linux");
	assert_string_equal(cJSON_GetObjectItem(l, "cgroupsPath")->valuestring, "/hearth/a1/c1");
	x = cJSON_GetObjectItem(cJSON_GetObjectItem(l, "resources"), "memory");
	assert_true(cJSON_GetObjectItem(x, "limit")->valuedouble == 256.0 * 1024 * 1024);
	assert_true(cJSON_GetObjectItem(x, "swap")->valuedouble == 256.0 * 1024 * 1024);
	x = cJSON_GetObjectItem(cJSON_GetObjectItem(l, "resources"), "pids");
	assert_int_equal(cJSON_GetObjectItem(x, "limit")->valueint, 64);
	/* host network: no network namespace; pid and mount are private */
	int has_pid = 0, has_mnt = 0;
	cJSON_ArrayForEach(x, cJSON_GetObjectItem(l, "namespaces"))
	{
		const char *t = cJSON_GetObjectItem(x, "type")->valuestring;
		assert_string_not_equal(t, "network");
		has_pid |= !strcmp(t, "pid");
		has_mnt |= !strcmp(t, "mount");
	}
	assert_true(has_pid && has_mnt);
	cJSON_Delete(cfg);

	/* relative cgroupsPath refused (MEASURED.md: it nests under the caller) */
	s.cgroups_path = "hearth/a1/c1";
	assert_null(agt_spec_build(&s, &err));
	assert_non_null(strstr(err.msg, "absolute"));
	/* no pids limit, no api host */
	s.cgroups_path = "/hearth/a1/c1";
	s.pids_limit = 0;
	s.api_host = NULL;
	cfg = agt_spec_build(&s, &err);
	assert_non_null(cfg);
	l = cJSON_GetObjectItem(cfg, "linux");
	assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(l, "resources"), "pids"));
	assert_int_equal(
	    cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(cfg, "process"), "args")),
	    9);
	cJSON_Delete(cfg);
}

static void test_write(void **state)
{
	char bundle[PATH_MAX], p[PATH_MAX + 32];
	struct hc_err err = {{0}};
	cJSON *cfg = cJSON_CreateObject(), *back;
	FILE *f;
	char buf[256];
	size_t n;
	(void)state;

	cJSON_AddStringToObject(cfg, "ociVersion", "1.0.2-dev");
	snprintf(bundle, sizeof(bundle), "%s/containers/abc", tmpdir);
	assert_int_equal(agt_spec_write(bundle, cfg, &err), 0);
	snprintf(p, sizeof(p), "%s/config.json", bundle);
	f = fopen(p, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	back = hc_json_parse(buf, n, 8, &err);
	assert_non_null(back);
	assert_string_equal(cJSON_GetObjectItem(back, "ociVersion")->valuestring, "1.0.2-dev");
	cJSON_Delete(back);
	cJSON_Delete(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rootfs),
	    cmocka_unit_test(test_config),
	    cmocka_unit_test(test_write),
	};
	return cmocka_run_group_tests_name("agent_spec", tests, setup, teardown);
}
