/* httpparse.c — HTTP/1.1 request head, chunked body and URL decoding.
 *
 * Strict where leniency has been a security problem (no obsolete line
 * folding, no whitespace before a header's colon, no Content-Length together
 * with Transfer-Encoding, no conflicting Content-Lengths), lenient where it
 * is harmless (bare LF line ends, leading empty lines). */
#include "common/httpparse.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

/* RFC 9110 token characters: letters, digits and !#$%&'*+-.^_`|~, as a
 * bitmap (every request's header names go through here). */
static int is_tchar(unsigned char c)
{
	static const uint32_t tchar[8] = {0x00000000, 0x03ff6cfa, 0xc7fffffe, 0x57ffffff};
	return (tchar[c >> 5] >> (c & 31)) & 1;
}

/* A header value's bytes are fine: no control characters but tab. Eight
 * at a time while none is below 0x20 or is 0x7f (values are long: keys,
 * user agents), then one by one. */
static int value_ok(const char *p, size_t n)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
	size_t k = 0;
	for (; k + 8 <= n; k += 8) {
		uint64_t x, d;
		memcpy(&x, p + k, 8);
		d = x ^ (ones * 0x7f); /* a zero byte where x has 0x7f */
		if ((((x - ones * 0x20) & ~x) | ((d - ones) & ~d)) & highs)
			break; /* maybe a byte below 0x20, or 0x7f: look closer */
	}
	for (; k < n; k++) {
		unsigned char c = (unsigned char)p[k];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return 0;
	}
	return 1;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Equal ignoring ASCII case, with the left side not NUL-terminated. */
static int ieq(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b);
	return alen == blen && strncasecmp(a, b, blen) == 0;
}
/* The same against a literal: the lengths are compared first, for free. */
#define IEQ_LIT(a, alen, lit)                                                                      \
	((alen) == sizeof(lit) - 1 && strncasecmp(a, lit, sizeof(lit) - 1) == 0)

/* Does a comma-separated header value contain token tok? */
static int has_token(const char *v, size_t len, const char *tok)
{
	size_t i = 0;
	while (i < len) {
		while (i < len && (is_blank(v[i]) || v[i] == ','))
			i++;
		size_t s = i;
		while (i < len && v[i] != ',')
			i++;
		size_t e = i;
		while (e > s && is_blank(v[e - 1]))
			e--;
		if (e > s && ieq(v + s, e - s, tok))
			return 1;
	}
	return 0;
}

/* Find the next line in [p, end): returns its length without CR/LF and sets
 * *next past the LF, or -1 when no LF is present yet. */
static long next_line(const char *p, const char *end, const char **next)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	if (!nl)
		return -1;
	*next = nl + 1;
	const char *e = nl;
	if (e > p && e[-1] == '\r')
		e--;
	return e - p;
}

static long parse_request_line(const char *p, size_t n, struct hc_http_head *out)
{
	size_t i = 0;
	while (i < n && is_tchar((unsigned char)p[i]))
		i++;
	if (i == 0 || i >= n || p[i] != ' ')
		return -400;
	out->method = p;
	out->method_len = i;
	size_t t = ++i;
	while (i < n && p[i] != ' ') {
		unsigned char c = (unsigned char)p[i];
		if (c < 0x21 || c == 0x7f)
			return -400;
		i++;
	}
	if (i == t || i >= n)
		return -400;
	out->target = p + t;
	out->target_len = i - t;
	i++;
	if (n - i != 8 || memcmp(p + i, "HTTP/", 5) != 0)
		return -400;
	if (p[i + 5] != '1' || p[i + 6] != '.') {
		if (p[i + 5] >= '0' && p[i + 5] <= '9')
			return -505;
		return -400;
	}
	if (p[i + 7] == '0')
		out->minor = 0;
	else if (p[i + 7] == '1')
		out->minor = 1;
	else
		return -505;
	return 0;
}

static long parse_header_line(const char *p, size_t n, struct hc_http_head *out)
{
	if (n > 0 && is_blank(p[0]))
		return -400; /* obsolete line folding */
	size_t i = 0;
	while (i < n && is_tchar((unsigned char)p[i]))
		i++;
	if (i == 0 || i >= n || p[i] != ':')
		return -400;
	if (out->nheaders >= HC_HTTP_MAX_HEADERS)
		return -431;
	struct hc_http_header *h = &out->headers[out->nheaders++];
	h->name = p;
	h->name_len = i;
	i++;
	while (i < n && is_blank(p[i]))
		i++;
	size_t e = n;
	while (e > i && is_blank(p[e - 1]))
		e--;
	if (!value_ok(p + i, e - i))
		return -400;
	h->value = p + i;
	h->value_len = e - i;
	return 0;
}

static long derive(struct hc_http_head *out)
{
	out->content_length = -1;
	out->keep_alive = out->minor >= 1;
	int te = 0;
	for (size_t i = 0; i < out->nheaders; i++) {
		const struct hc_http_header *h = &out->headers[i];
		if (IEQ_LIT(h->name, h->name_len, "content-length")) {
			if (h->value_len == 0 || h->value_len > 15)
				return -400;
			int64_t v = 0;
			for (size_t k = 0; k < h->value_len; k++) {
				if (h->value[k] < '0' || h->value[k] > '9')
					return -400;
				v = v * 10 + (h->value[k] - '0');
			}
			if (out->content_length >= 0 && out->content_length != v)
				return -400;
			out->content_length = v;
		} else if (IEQ_LIT(h->name, h->name_len, "transfer-encoding")) {
			if (te || !ieq(h->value, h->value_len, "chunked"))
				return -501;
			te = 1;
		} else if (IEQ_LIT(h->name, h->name_len, "connection")) {
			if (has_token(h->value, h->value_len, "close"))
				out->keep_alive = 0;
			else if (has_token(h->value, h->value_len, "keep-alive"))
				out->keep_alive = 1;
		} else if (IEQ_LIT(h->name, h->name_len, "expect")) {
			if (ieq(h->value, h->value_len, "100-continue"))
				out->expect_continue = 1;
		}
	}
	if (te && out->content_length >= 0)
		return -400; /* request smuggling guard */
	if (te && out->minor == 0)
		return -400;
	out->chunked = te;
	return 0;
}

long hc_http_parse_head(const char *buf, size_t len, size_t max_head, struct hc_http_head *out)
{
	/* Only the scalars: zeroing the header array costs more than parsing. */
	out->method = out->target = NULL;
	out->method_len = out->target_len = 0;
	out->minor = 0;
	out->nheaders = 0;
	out->content_length = -1;
	out->chunked = out->keep_alive = out->expect_continue = 0;
	size_t avail = len < max_head ? len : max_head;
	const char *p = buf, *end = buf + avail, *next;
	long n;

	/* Ignore empty lines before the request line (RFC 9112 2.2). */
	for (;;) {
		n = next_line(p, end, &next);
		if (n < 0)
			goto incomplete;
		if (n > 0)
			break;
		p = next;
	}
	long rc = parse_request_line(p, (size_t)n, out);
	if (rc < 0)
		return rc;
	p = next;
	for (;;) {
		n = next_line(p, end, &next);
		if (n < 0)
			goto incomplete;
		if (n == 0)
			break;
		rc = parse_header_line(p, (size_t)n, out);
		if (rc < 0)
			return rc;
		p = next;
	}
	rc = derive(out);
	if (rc < 0)
		return rc;
	return next - buf;

incomplete:
	return len >= max_head ? -431 : 0;
}

const struct hc_http_header *hc_http_find(const struct hc_http_head *h, const char *name)
{
	for (size_t i = 0; i < h->nheaders; i++)
		if (ieq(h->headers[i].name, h->headers[i].name_len, name))
			return &h->headers[i];
	return NULL;
}

enum {
	CH_SIZE = 0,
	CH_EXT,
	CH_SIZE_LF,
	CH_DATA,
	CH_DATA_CR,
	CH_DATA_LF,
	CH_TRAILER_START,
	CH_TRAILER,
	CH_END_LF,
	CH_DONE,
};

#define CH_MAX_LINE 4096

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A size line has ended: go to the data or, for size 0, the trailer. */
static int size_line_done(struct hc_chunked *st)
{
	if (st->line == 0)
		return -400; /* no digits */
	st->line = 0;
	st->state = st->remaining ? CH_DATA : CH_TRAILER_START;
	return 0;
}

/* One character of a chunk-size line (CH_SIZE). 0 or a negative status. */
static int size_char(struct hc_chunked *st, char c, const struct hc_buf *out)
{
	int v = hexval(c);
	if (v >= 0) {
		if (st->remaining > (UINT64_MAX >> 4))
			return -400;
		st->remaining = st->remaining * 16 + (uint64_t)v;
		if (st->remaining > out->max - out->len)
			return -413;
		if (++st->line > 16)
			return -400;
	} else if (c == ';' || is_blank(c)) {
		if (st->line == 0)
			return -400;
		st->state = CH_EXT;
	} else if (c == '\r') {
		st->state = CH_SIZE_LF;
	} else if (c == '\n') {
		if (size_line_done(st) < 0)
			return -400;
	} else {
		return -400;
	}
	return 0;
}

/* One character in any state but CH_DATA. 0 or a negative status. */
static int framing_char(struct hc_chunked *st, char c, const struct hc_buf *out)
{
	switch (st->state) {
	case CH_SIZE:
		return size_char(st, c, out);
	case CH_EXT: /* chunk extensions are ignored, but bounded */
		if (c == '\r')
			st->state = CH_SIZE_LF;
		else if (c == '\n')
			size_line_done(st); /* digits were seen: cannot fail */
		else if (++st->line > CH_MAX_LINE)
			return -400;
		return 0;
	case CH_SIZE_LF:
		return c != '\n' || size_line_done(st) < 0 ? -400 : 0;
	case CH_DATA_CR:
		if (c == '\r')
			st->state = CH_DATA_LF;
		else if (c == '\n')
			st->state = CH_SIZE;
		else
			return -400;
		return 0;
	case CH_DATA_LF:
		if (c != '\n')
			return -400;
		st->state = CH_SIZE;
		return 0;
	case CH_TRAILER_START:
		if (c == '\r') {
			st->state = CH_END_LF;
		} else if (c == '\n') {
			st->state = CH_DONE;
		} else {
			st->state = CH_TRAILER;
			st->line = 1;
		}
		return 0;
	case CH_TRAILER:
		if (c == '\n') {
			st->state = CH_TRAILER_START;
			st->line = 0;
		} else if (++st->line > CH_MAX_LINE) {
			return -400;
		}
		return 0;
	case CH_END_LF:
		if (c != '\n')
			return -400;
		st->state = CH_DONE;
		return 0;
	default:
		return -400;
	}
}

/* The data of the current chunk (CH_DATA): bytes taken, or a negative status. */
static ssize_t chunk_data(struct hc_chunked *st, const char *in, size_t len, struct hc_buf *out)
{
	size_t n = len;
	if (n > st->remaining)
		n = (size_t)st->remaining;
	if (hc_buf_add(out, in, n) < 0)
		return errno == E2BIG ? -413 : -500;
	st->remaining -= n;
	if (st->remaining == 0)
		st->state = CH_DATA_CR;
	return (ssize_t)n;
}

ssize_t hc_chunked_decode(struct hc_chunked *st, const char *in, size_t len, struct hc_buf *out,
			  int *done)
{
	size_t i = 0;
	*done = st->state == CH_DONE;
	while (i < len && st->state != CH_DONE) {
		if (st->state == CH_DATA) {
			ssize_t n = chunk_data(st, in + i, len - i, out);
			if (n < 0)
				return n;
			i += (size_t)n;
			continue;
		}
		int rc = framing_char(st, in[i], out);
		if (rc < 0)
			return rc;
		i++;
	}
	*done = st->state == CH_DONE;
	return (ssize_t)i;
}

ssize_t hc_url_decode(const char *in, size_t len, char *out, size_t outlen, int plus_space)
{
	size_t o = 0;
	if (outlen == 0)
		return -1;
	if (len < outlen && !memchr(in, '%', len) && !(plus_space && memchr(in, '+', len)) &&
	    !memchr(in, 0, len)) {
		memcpy(out, in, len); /* nothing to decode (most path segments) */
		out[len] = 0;
		return (ssize_t)len;
	}
	for (size_t i = 0; i < len; i++) {
		char c = in[i];
		if (c == '%') {
			if (i + 2 >= len)
				return -1;
			int hi = hexval(in[i + 1]), lo = hexval(in[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (char)(hi * 16 + lo);
			if (c == 0)
				return -1;
			i += 2;
		} else if (c == '+' && plus_space) {
			c = ' ';
		} else if (c == 0) {
			return -1;
		}
		if (o + 1 >= outlen)
			return -1;
		out[o++] = c;
	}
	out[o] = 0;
	return (ssize_t)o;
}

int hc_query_get(const char *query, size_t qlen, const char *key, char *out, size_t outlen)
{
	size_t i = 0, klen = strlen(key);
	while (i < qlen) {
		size_t s = i;
		while (i < qlen && query[i] != '&')
			i++;
		size_t e = i++;
		if (e == s)
			continue;
		const char *eq = memchr(query + s, '=', e - s);
		size_t nlen = eq ? (size_t)(eq - (query + s)) : e - s;
		if (!memchr(query + s, '%', nlen) && !memchr(query + s, '+', nlen)) {
			/* nothing to decode (the usual name); no name of 128 bytes
			 * or more matches, as on the decoding path */
			if (nlen != klen || klen >= 128 || memcmp(query + s, key, klen) != 0)
				continue;
		} else {
			char name[128];
			ssize_t dn = hc_url_decode(query + s, nlen, name, sizeof name, 1);
			if (dn < 0 || (size_t)dn != klen || memcmp(name, key, klen) != 0)
				continue;
		}
		if (!out)
			return 1; /* only asked whether it is there */
		if (!eq) {
			if (outlen == 0)
				return -1;
			out[0] = 0;
			return 1;
		}
		size_t vs = (size_t)(eq + 1 - query);
		return hc_url_decode(query + vs, e - vs, out, outlen, 1) < 0 ? -1 : 1;
	}
	return 0;
}
