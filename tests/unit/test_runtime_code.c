/* test_runtime_code.c — the runtime's pure helpers: base64, the zip vetting
 * before extraction, and kinds. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "runtime/base64.h"
#include "runtime/embed.h"
#include "runtime/kind.h"
#include "runtime/zipcheck.h"

static void test_base64(void **state)
{
	static const struct {
		const char *in, *out;
	} ok[] = {
	    {"", ""},
	    {"Zg==", "f"},
	    {"Zm8=", "fo"},
	    {"Zm9v", "foo"},
	    {"Zm9vYg", "foob"},
	    {"Zm9v\nYmFy", "foobar"},
	    {"-_-_", "\xfb\xff\xbf"},
	    {"+/+/", "\xfb\xff\xbf"},
	};
	static const char *const bad[] = {"Z", "Zm9vY", "Zg=a", "Zg===", "Z!==", "====="};
	size_t n;

	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		unsigned char *d = rt_base64_decode(ok[i].in, strlen(ok[i].in), &n);
		assert_non_null(d);
		assert_int_equal(n, strlen(ok[i].out));
		assert_memory_equal(d, ok[i].out, n);
		free(d);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_null(rt_base64_decode(bad[i], strlen(bad[i]), &n));
}

static void test_zip_names(void **state)
{
	static const char *const good[] = {
	    "a", "a/b.js", "dir/", "./x", "a..b", "..a/b", "a/b..", "node_modules/x/package.json"};
	static const char *const bad[] = {"",	       "/etc/passwd", "..",	  "../x",
					  "a/../../x", "a/..",	      "a\\..\\x", "a/./../b"};

	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		assert_true(rt_zip_name_ok(good[i], strlen(good[i])));
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_false(rt_zip_name_ok(bad[i], strlen(bad[i])));
	assert_false(rt_zip_name_ok("a\0b", 3));
}

/* A stored archive with the given entries (no CRCs: zipcheck reads only the
 * central directory). mode is st_mode for unix entries. */
struct ent {
	const char *name;
	unsigned int mode;
	uint32_t size;
};

static size_t build_zip(unsigned char *z, const struct ent *e, int n)
{
	size_t off = 0, cd, offs[8];
#define P16(v) (z[off++] = (unsigned char)((v)&0xff), z[off++] = (unsigned char)(((v) >> 8) & 0xff))
#define P32(v) (P16((v)&0xffff), P16(((uint32_t)(v) >> 16) & 0xffff))
	for (int i = 0; i < n; i++) {
		size_t nl = strlen(e[i].name);
		offs[i] = off;
		P32(0x04034b50u);
		P16(10);
		P16(0);
		P16(0);
		P16(0);
		P16(0);
		P32(0);
		P32(0);
		P32(0);
		P16(nl);
		P16(0);
		memcpy(z + off, e[i].name, nl);
		off += nl;
	}
	cd = off;
	for (int i = 0; i < n; i++) {
		size_t nl = strlen(e[i].name);
		P32(0x02014b50u);
		P16(0x031e); /* made by unix */
		P16(10);
		P16(0);
		P16(0);
		P16(0);
		P16(0);
		P32(0);
		P32(0);
		P32(e[i].size);
		P16(nl);
		P16(0);
		P16(0);
		P16(0);
		P16(0);
		P32((uint32_t)e[i].mode << 16);
		P32(offs[i]);
		memcpy(z + off, e[i].name, nl);
		off += nl;
	}
	{
		size_t cdlen = off - cd;
		P32(0x06054b50u);
		P16(0);
		P16(0);
		P16(n);
		P16(n);
		P32(cdlen);
		P32(cd);
		P16(0);
	}
#undef P16
#undef P32
	return off;
}

static void test_zip_check(void **state)
{
	unsigned char z[2048];
	struct rt_zip_info info;
	struct hc_err err = {""};
	size_t n;

	{
		const struct ent e[] = {
		    {"index.js", 0100644, 10}, {"lib/", 040755, 0}, {"lib/a.js", 0100644, 5}};
		n = build_zip(z, e, 3);
		assert_true(rt_zip_is_zip(z, n));
		assert_int_equal(rt_zip_check(z, n, 1000, &info, &err), 0);
		assert_int_equal(info.entries, 3);
		assert_int_equal(info.total_size, 15);
		/* over the expansion bound */
		assert_int_equal(rt_zip_check(z, n, 14, NULL, &err), -1);
		assert_non_null(strstr(err.msg, "expands"));
		/* truncated archives are refused, never read past the end */
		for (size_t cut = 1; cut < n; cut += 7)
			assert_int_equal(rt_zip_check(z, n - cut, 1000, NULL, NULL), -1);
	}
	{
		const struct ent e[] = {{"ok.js", 0100644, 1}, {"../evil.js", 0100644, 1}};
		n = build_zip(z, e, 2);
		assert_int_equal(rt_zip_check(z, n, 1000, NULL, &err), -1);
		assert_non_null(strstr(err.msg, "escapes"));
	}
	{
		const struct ent e[] = {{"/abs", 0100644, 1}};
		n = build_zip(z, e, 1);
		assert_int_equal(rt_zip_check(z, n, 1000, NULL, &err), -1);
	}
	{
		const struct ent e[] = {{"link", 0120777, 11}};
		n = build_zip(z, e, 1);
		assert_int_equal(rt_zip_check(z, n, 1000, NULL, &err), -1);
		assert_non_null(strstr(err.msg, "symbolic link"));
	}
	{
		const struct ent e[] = {{"big", 0100644, 0xffffffffu}};
		n = build_zip(z, e, 1);
		assert_int_equal(rt_zip_check(z, n, (uint64_t)1 << 40, NULL, &err), -1);
		assert_non_null(strstr(err.msg, "zip64"));
	}
	assert_false(rt_zip_is_zip((const unsigned char *)"#!/bin/sh", 9));
	assert_int_equal(rt_zip_check((const unsigned char *)"PK\3\4junk", 8, 1000, NULL, &err),
			 -1);
}

static void test_kinds(void **state)
{
	enum rt_family f;
	struct hc_err err = {""};
	char path[256];
	size_t len;
	const char *fname;

	assert_int_equal(rt_kind_family("nodejs:20", &f, &err), 0);
	assert_int_equal(f, RT_FAM_NODEJS);
	assert_int_equal(rt_kind_family("nodejs", &f, &err), 0);
	assert_int_equal(rt_kind_family("python:3.11", &f, &err), 0);
	assert_int_equal(f, RT_FAM_PYTHON);
	assert_int_equal(rt_kind_family("blackbox", &f, &err), 0);
	assert_int_equal(f, RT_FAM_BLACKBOX);
	assert_int_equal(rt_kind_family("native", &f, &err), 0);
	assert_int_equal(f, RT_FAM_BLACKBOX);
	assert_int_equal(rt_kind_family("nodejsx:1", &f, &err), -1);
	assert_int_equal(rt_kind_family("java:8", &f, &err), -1);
	assert_int_equal(rt_kind_family(NULL, &f, &err), -1);
	assert_true(rt_family_has_launcher(RT_FAM_NODEJS));
	assert_false(rt_family_has_launcher(RT_FAM_BLACKBOX));
	assert_null(rt_family_launcher(RT_FAM_NODEJS, &len, &fname)); /* none registered */
	rt_family_set_launcher(RT_FAM_NODEJS, rt_embed_node_js, rt_embed_node_js_len);
	rt_family_set_launcher(RT_FAM_PYTHON, rt_embed_python_py, rt_embed_python_py_len);
	rt_family_set_launcher(RT_FAM_BLACKBOX, "x", 1); /* ignored: no launcher */
	assert_non_null(rt_family_launcher(RT_FAM_NODEJS, &len, &fname));
	assert_true(len > 100);
	assert_string_equal(fname, "hearth-launcher.js");
	assert_non_null(rt_family_launcher(RT_FAM_PYTHON, &len, &fname));
	assert_null(rt_family_launcher(RT_FAM_BLACKBOX, &len, &fname));
	/* python3 from /usr first, never a shim on $PATH */
	assert_int_equal(rt_family_interpreter(RT_FAM_PYTHON, NULL, path, sizeof path, &err), 0);
	assert_string_equal(path, "/usr/bin/python3");
	assert_int_equal(
	    rt_family_interpreter(RT_FAM_NODEJS, "/nonexistent/node", path, sizeof path, &err), -1);
	assert_int_equal(rt_family_interpreter(RT_FAM_BLACKBOX, NULL, path, sizeof path, &err), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_base64),
	    cmocka_unit_test(test_zip_names),
	    cmocka_unit_test(test_zip_check),
	    cmocka_unit_test(test_kinds),
	};
	return cmocka_run_group_tests_name("runtime_code", tests, NULL, NULL);
}
