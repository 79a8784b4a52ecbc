/* buf.h — a growable byte buffer with a hard size limit (curl's dynbuf).
 *
 * Every buffer has a maximum, so input from outside can never grow memory
 * without bound. The data is always NUL-terminated (the terminator is not
 * counted in len), so a buffer of text can be used as a C string. */
#ifndef HC_BUF_H
#define HC_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct hc_buf {
	char *data; /* NULL until the first add; hc_buf_str() never returns NULL */
	size_t len; /* bytes held, without the terminator */
	size_t cap; /* bytes allocated */
	size_t max; /* len may never exceed this */
};

/* A buffer over a fixed array (never reallocated; an add that does not fit
 * fails with E2BIG and leaves it unchanged). arr[0] is set to '\0'. */
#define HC_BUF_FIXED(arr)                                                                          \
	((arr)[0] = '\0',                                                                          \
	 (struct hc_buf){.data = (arr), .len = 0, .cap = sizeof(arr), .max = sizeof(arr) - 1})

/* The same over a pointer and its size (n >= 1). */
#define HC_BUF_FIXED_N(p, n)                                                                       \
	((p)[0] = '\0', (struct hc_buf){.data = (p), .len = 0, .cap = (n), .max = (n)-1})

/* Initialise an empty buffer that may hold at most max bytes. */
void hc_buf_init(struct hc_buf *b, size_t max);

/* Make room for n more bytes now (one allocation instead of a doubling
 * series when the size is roughly known). 0, or -1 as hc_buf_add. */
int hc_buf_reserve(struct hc_buf *b, size_t n);

/* Append n bytes. Returns 0, or -1 with errno E2BIG when the result would
 * exceed max (the buffer is left unchanged) or ENOMEM. Inline when it fits
 * (the hot paths append many short literals: strlen folds away). */
int hc_buf_add_grow(struct hc_buf *b, const void *p, size_t n);
static inline int hc_buf_add(struct hc_buf *b, const void *p, size_t n)
{
	if (n && n < b->cap - b->len) { /* cap <= max + 1: len + n stays <= max */
		memcpy(b->data + b->len, p, n);
		b->len += n;
		b->data[b->len] = '\0';
		return 0;
	}
	return hc_buf_add_grow(b, p, n);
}
static inline int hc_buf_adds(struct hc_buf *b, const char *s)
{
	return hc_buf_add(b, s, strlen(s));
}
static inline int hc_buf_addc(struct hc_buf *b, char c)
{
	return hc_buf_add(b, &c, 1);
}
int hc_buf_addf(struct hc_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Decimal, no printf (hot paths). */
int hc_buf_add_int(struct hc_buf *b, int64_t v);

/* Append s as the contents of a JSON string, with quotes and escapes. */
int hc_buf_add_json_str(struct hc_buf *b, const char *s, size_t n);

/* The contents as a C string ("" when empty). Valid until the next change. */
const char *hc_buf_str(const struct hc_buf *b);

/* Hand the allocation to the caller (who frees it) and reset the buffer.
 * Returns a NUL-terminated string, "" allocated when empty, or NULL on ENOMEM. */
char *hc_buf_take(struct hc_buf *b, size_t *len);

/* Forget the contents but keep the allocation. */
void hc_buf_reset(struct hc_buf *b);

/* Remove the first n bytes (n > len removes everything). */
void hc_buf_consume(struct hc_buf *b, size_t n);

/* Free the allocation; the buffer can be used again (empty, same max). */
void hc_buf_free(struct hc_buf *b);

#endif
