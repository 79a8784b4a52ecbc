/* sha256.h — SHA-256 (FIPS 180-4), for key hashes and code digests.
 *
 * A small self-contained implementation so hearth needs no OpenSSL. Not
 * constant-time with respect to anything but the input length, which is
 * all a hash of public-length data needs. */
#ifndef HC_SHA256_H
#define HC_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define HC_SHA256_LEN 32
#define HC_SHA256_HEX 64 /* hex digest length, without the NUL */

struct hc_sha256 {
	uint32_t h[8];
	uint64_t total; /* bytes hashed so far */
	uint8_t block[64];
	size_t used; /* bytes waiting in block */
};

void hc_sha256_init(struct hc_sha256 *s);
void hc_sha256_update(struct hc_sha256 *s, const void *data, size_t len);
/* Finish and write the 32-byte digest; s must be re-initialised to reuse. */
void hc_sha256_final(struct hc_sha256 *s, uint8_t out[HC_SHA256_LEN]);

/* One call: hash data and write 64 lower-case hex characters plus NUL. */
void hc_sha256_hex(const void *data, size_t len, char out[HC_SHA256_HEX + 1]);

#endif
