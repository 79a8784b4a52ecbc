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
static int buf_reserve(struct hc_buf *b, size_t n)
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
	return 0;
}

int hc_buf_add(struct hc_buf *b, const void *p, size_t n)
{
	if (buf_reserve(b, n) < 0)
		return -1;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int hc_buf_adds(struct hc_buf *b, const char *s)
{
	return hc_buf_add(b, s, strlen(s));
}

int hc_buf_addc(struct hc_buf *b, char c)
{
	return hc_buf_add(b, &c, 1);
}

int hc_buf_addf(struct hc_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

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

int hc_buf_add_json_str(struct hc_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t old = b->len, i, run = 0;
	char esc[6];

	if (hc_buf_addc(b, '"') < 0)
		return -1;
	/* Copy runs of plain bytes at once; UTF-8 passes through unchanged. */
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *e = NULL;
		size_t elen = 2;

		switch (c) {
		case '"':
			e = "\\\"";
			break;
		case '\\':
			e = "\\\\";
			break;
		case '\n':
			e = "\\n";
			break;
		case '\r':
			e = "\\r";
			break;
		case '\t':
			e = "\\t";
			break;
		case '\b':
			e = "\\b";
			break;
		case '\f':
			e = "\\f";
			break;
		default:
			if (c < 0x20 || c == 0x7f) {
				esc[0] = '\\';
				esc[1] = 'u';
				esc[2] = '0';
				esc[3] = '0';
				esc[4] = hex[c >> 4];
				esc[5] = hex[c & 0xf];
				e = esc;
				elen = 6;
			}
		}
		if (!e) {
			run++;
			continue;
		}
		if (hc_buf_add(b, s + i - run, run) < 0 || hc_buf_add(b, e, elen) < 0)
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
