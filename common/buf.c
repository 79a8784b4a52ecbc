/* buf.c — bounded growable buffer, after curl's dynbuf (see buf.h).
 *
 * Growth doubles the allocation but never past max + 1 (room for the
 * terminator), so a buffer's memory is bounded by its maximum. */
#include "common/buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HC_BUF_MIN_CAP 32

void hc_buf_init(struct hc_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

/* Make room for n more bytes plus the terminator. */
static int buf_grow(struct hc_buf *b, size_t n);

static inline int buf_reserve(struct hc_buf *b, size_t n)
{
	/* cap never exceeds max + 1, so this also keeps len + n <= max */
	if (n < b->cap - b->len)
		return 0;
	return buf_grow(b, n);
}

static int buf_grow(struct hc_buf *b, size_t n)
{
	size_t need, cap, limit;
	char *p;

	if (n > b->max - b->len) {
		errno = E2BIG;
		return -1;
	}
	need = b->len + n + 1;
	if (need <= b->cap)
		return 0;
	limit = b->max < SIZE_MAX ? b->max + 1 : SIZE_MAX;
	cap = b->cap ? b->cap : HC_BUF_MIN_CAP;
	while (cap < need) {
		if (cap > limit / 2) {
			cap = limit;
			break;
		}
		cap *= 2;
	}
	if (cap > limit)
		cap = limit;
	p = realloc(b->data, cap);
	if (!p) {
		errno = ENOMEM;
		return -1;
	}
	b->data = p;
	b->cap = cap;
	b->data[b->len] = '\0'; /* a first reserve leaves a valid "" */
	return 0;
}

int hc_buf_reserve(struct hc_buf *b, size_t n)
{
	return buf_reserve(b, n);
}

int hc_buf_add_grow(struct hc_buf *b, const void *p, size_t n)
{
	if (buf_reserve(b, n) < 0)
		return -1;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int hc_buf_add_int(struct hc_buf *b, int64_t v)
{
	static const char pairs[] = "00010203040506070809101112131415161718192021222324"
				    "25262728293031323334353637383940414243444546474849"
				    "50515253545556575859606162636465666768697071727374"
				    "75767778798081828384858687888990919293949596979899";
	char tmp[24], *p = tmp + sizeof(tmp);
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	/* two digits per division: timestamps have thirteen */
	while (u >= 100) {
		unsigned d = (unsigned)(u % 100) * 2;
		u /= 100;
		*--p = pairs[d + 1];
		*--p = pairs[d];
	}
	if (u >= 10) {
		*--p = pairs[u * 2 + 1];
		*--p = pairs[u * 2];
	} else {
		*--p = (char)('0' + u);
	}
	if (v < 0)
		*--p = '-';
	return hc_buf_add(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

int hc_buf_addf(struct hc_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	/* usually it fits what is already allocated: format once */
	if (b->cap - b->len > 1) {
		size_t room = b->cap - b->len;
		va_start(ap, fmt);
		n = vsnprintf(b->data + b->len, room, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < room && (size_t)n <= b->max - b->len) {
			b->len += (size_t)n;
			return 0;
		}
		b->data[b->len] = '\0';
	}
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		errno = EINVAL;
		return -1;
	}
	if (buf_reserve(b, (size_t)n) < 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

/* 1 for the bytes a JSON string cannot hold as they are. */
static const unsigned char json_esc[256] = {
    [0x00] = 1, [0x01] = 1, [0x02] = 1, [0x03] = 1, [0x04] = 1, [0x05] = 1, [0x06] = 1,
    [0x07] = 1, [0x08] = 1, [0x09] = 1, [0x0a] = 1, [0x0b] = 1, [0x0c] = 1, [0x0d] = 1,
    [0x0e] = 1, [0x0f] = 1, [0x10] = 1, [0x11] = 1, [0x12] = 1, [0x13] = 1, [0x14] = 1,
    [0x15] = 1, [0x16] = 1, [0x17] = 1, [0x18] = 1, [0x19] = 1, [0x1a] = 1, [0x1b] = 1,
    [0x1c] = 1, [0x1d] = 1, [0x1e] = 1, [0x1f] = 1, ['"'] = 1,	['\\'] = 1, [0x7f] = 1,
};

/* The escape of byte c (one json_esc marks) into esc: its length, or 0
 * when c passes as it is. */
static size_t json_escape(unsigned char c, char esc[6])
{
	static const char hex[] = "0123456789abcdef";
	char two;

	switch (c) {
	case '"':
	case '\\':
		two = (char)c;
		break;
	case '\n':
		two = 'n';
		break;
	case '\r':
		two = 'r';
		break;
	case '\t':
		two = 't';
		break;
	case '\b':
		two = 'b';
		break;
	case '\f':
		two = 'f';
		break;
	default:
		if (c >= 0x20 && c != 0x7f)
			return 0;
		esc[0] = '\\';
		esc[1] = 'u';
		esc[2] = '0';
		esc[3] = '0';
		esc[4] = hex[c >> 4];
		esc[5] = hex[c & 0xf];
		return 6;
	}
	esc[0] = '\\';
	esc[1] = two;
	return 2;
}

/* s (n bytes, nothing to escape) between quotes, in one copy. */
static int add_quoted(struct hc_buf *b, const char *s, size_t n)
{
	if (buf_reserve(b, n + 2) < 0)
		return -1;
	b->data[b->len] = '"';
	memcpy(b->data + b->len + 1, s, n);
	b->data[b->len + 1 + n] = '"';
	b->len += n + 2;
	b->data[b->len] = '\0';
	return 0;
}

int hc_buf_add_json_str(struct hc_buf *b, const char *s, size_t n)
{
	size_t old = b->len, i, run = 0;
	char esc[6];

	/* the common case, nothing to escape: one copy */
	for (i = 0; i < n && !json_esc[(unsigned char)s[i]]; i++)
		;
	if (i == n)
		return add_quoted(b, s, n);
	if (hc_buf_addc(b, '"') < 0)
		return -1;
	/* Copy runs of plain bytes at once; UTF-8 passes through unchanged. */
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		size_t elen = json_esc[c] ? json_escape(c, esc) : 0;

		if (!elen) {
			run++;
			continue;
		}
		if (hc_buf_add(b, s + i - run, run) < 0 || hc_buf_add(b, esc, elen) < 0)
			goto fail;
		run = 0;
	}
	if (hc_buf_add(b, s + n - run, run) < 0 || hc_buf_addc(b, '"') < 0)
		goto fail;
	return 0;
fail:
	/* All or nothing: drop the partial string. */
	b->len = old;
	if (b->data)
		b->data[old] = '\0';
	return -1;
}

const char *hc_buf_str(const struct hc_buf *b)
{
	return b->data ? b->data : "";
}

char *hc_buf_take(struct hc_buf *b, size_t *len)
{
	char *p = b->data;

	if (len)
		*len = b->len;
	if (!p) {
		p = calloc(1, 1);
		if (!p) {
			errno = ENOMEM;
			return NULL;
		}
	}
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return p;
}

void hc_buf_reset(struct hc_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void hc_buf_consume(struct hc_buf *b, size_t n)
{
	if (n >= b->len) {
		hc_buf_reset(b);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

void hc_buf_free(struct hc_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}
