/* base64.h — decoding the base64 code of a binary action. */
#ifndef RT_BASE64_H
#define RT_BASE64_H

#include <stddef.h>

/* Decode standard base64 (RFC 4648, '+' '/'; also the URL alphabet '-' '_').
 * Whitespace is skipped and padding is optional. Returns a malloc'd buffer
 * (caller frees) with its length in *outlen, or NULL when the text is not
 * base64 (or on ENOMEM). */
unsigned char *rt_base64_decode(const char *in, size_t len, size_t *outlen);

#endif
