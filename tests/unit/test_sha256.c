/* test_sha256.c — SHA-256 against FIPS 180-4 / NIST test vectors. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/sha256.h"

static void test_vectors(void **state)
{
	char hex[HC_SHA256_HEX + 1];
	hc_sha256_hex("", 0, hex);
	assert_string_equal(hex,
			    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	hc_sha256_hex("abc", 3, hex);
	assert_string_equal(hex,
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	hc_sha256_hex(m, strlen(m), hex);
	assert_string_equal(hex,
			    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_million_a_incremental(void **state)
{
	/* one million 'a' fed in odd-sized pieces exercises the block carry */
	struct hc_sha256 s;
	uint8_t d[HC_SHA256_LEN];
	char chunk[997];
	memset(chunk, 'a', sizeof(chunk));
	hc_sha256_init(&s);
	size_t left = 1000000;
	while (left) {
		size_t n = left < sizeof(chunk) ? left : sizeof(chunk);
		hc_sha256_update(&s, chunk, n);
		left -= n;
	}
	hc_sha256_final(&s, d);
	static const uint8_t want[32] = {0xcd, 0xc7, 0x6e, 0x5c, 0x99, 0x14, 0xfb, 0x92,
					 0x81, 0xa1, 0xc7, 0xe2, 0x84, 0xd7, 0x3e, 0x67,
					 0xf1, 0x80, 0x9a, 0x48, 0xa4, 0x97, 0x20, 0x0e,
					 0x04, 0x6d, 0x39, 0xcc, 0xc7, 0x11, 0x2c, 0xd0};
	assert_memory_equal(d, want, 32);
}

static void test_padding_edges(void **state)
{
	/* 55, 56 and 64 bytes straddle the padding boundary; incremental and
	 * one-shot must agree */
	size_t lens[] = {55, 56, 63, 64, 65, 119, 120};
	char buf[128];
	memset(buf, 'x', sizeof(buf));
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		char a[65], b[65];
		hc_sha256_hex(buf, lens[i], a);
		struct hc_sha256 s;
		uint8_t d[32];
		hc_sha256_init(&s);
		for (size_t j = 0; j < lens[i]; j++)
			hc_sha256_update(&s, buf + j, 1);
		hc_sha256_final(&s, d);
		for (int k = 0; k < 32; k++)
			snprintf(b + 2 * k, 3, "%02x", d[k]);
		assert_string_equal(a, b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vectors),
	    cmocka_unit_test(test_million_a_incremental),
	    cmocka_unit_test(test_padding_edges),
	};
	return cmocka_run_group_tests_name("sha256", tests, NULL, NULL);
}
