/* base64.c — base64 decoding for binary action code (see base64.h). */
#include "runtime/base64.h"

#include <stdlib.h>

static int b64_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

unsigned char *rt_base64_decode(const char *in, size_t len, size_t *outlen)
{
	unsigned char *out = malloc(len / 4 * 3 + 3);
	unsigned int acc = 0;
	size_t n = 0, i;
	int bits = 0, pad = 0;

	if (!out)
		return NULL;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		int v;

		if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		v = b64_val(c);
		if (v < 0 || pad) /* nothing but padding may follow padding */
			goto bad;
		acc = (acc << 6) | (unsigned int)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* 6 leftover bits cannot encode a byte; padding beyond 2 is malformed */
	if (bits >= 6 || pad > 2)
		goto bad;
	*outlen = n;
	return out;
bad:
	free(out);
	return NULL;
}
