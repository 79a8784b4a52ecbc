/* httpparse.h — HTTP/1.1 request parsing: pure functions over bytes.
 *
 * No allocation and no I/O, so the parser can be fuzzed on its own. The
 * server feeds it what has arrived; it answers "need more", "done" or an
 * HTTP status to reply with. */
#ifndef HC_HTTPPARSE_H
#define HC_HTTPPARSE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/buf.h"

#define HC_HTTP_MAX_HEADERS 64

struct hc_http_header {
	const char *name; /* points into the parsed buffer; not NUL-terminated */
	size_t name_len;
	const char *value; /* leading/trailing blanks trimmed */
	size_t value_len;
};

struct hc_http_head {
	const char *method;
	size_t method_len;
	const char *target; /* request-target as sent: path[?query] */
	size_t target_len;
	int minor; /* 0 for HTTP/1.0, 1 for HTTP/1.1 */
	struct hc_http_header headers[HC_HTTP_MAX_HEADERS];
	size_t nheaders;
	/* derived from the headers */
	int64_t content_length; /* -1 when absent */
	int chunked;		/* Transfer-Encoding: chunked */
	int keep_alive;		/* per version and Connection header */
	int expect_continue;	/* Expect: 100-continue */
};

/* Parse a request head at the start of buf.
 * Returns the head's length (through the blank line) when complete, 0 when
 * more bytes are needed (and len < max_head), or a negative HTTP status:
 * -400 malformed, -431 head larger than max_head or too many headers,
 * -501 unsupported Transfer-Encoding, -505 not HTTP/1.x.
 * On success the pointers in out point into buf. */
long hc_http_parse_head(const char *buf, size_t len, size_t max_head, struct hc_http_head *out);

/* Case-insensitive header lookup in a parsed head; NULL if absent. */
const struct hc_http_header *hc_http_find(const struct hc_http_head *h, const char *name);

/* Incremental chunked-body decoder. Zero-initialise before the first call. */
struct hc_chunked {
	int state;
	uint64_t remaining; /* bytes left in the current chunk */
	size_t line;	    /* bytes of the current size/trailer line seen */
};

/* Decode from in, appending data to out (out->max bounds the body).
 * Returns bytes consumed (>= 0) and sets *done at the end of the body, or a
 * negative status: -400 malformed, -413 body larger than out->max. */
ssize_t hc_chunked_decode(struct hc_chunked *st, const char *in, size_t len, struct hc_buf *out,
			  int *done);

/* Percent-decode len bytes of in into out (outlen bytes, NUL-terminated).
 * plus_space: '+' means ' ' (query strings). Returns decoded length or -1
 * (bad escape, embedded NUL, or too long). */
ssize_t hc_url_decode(const char *in, size_t len, char *out, size_t outlen, int plus_space);

/* Look up key in a query string ("a=1&b=2", without '?'), decode the value
 * into out. Returns 1 found, 0 absent, -1 undecodable or too long. A key
 * without '=' has the value "". With out NULL, only whether key is there
 * (1 or 0) and nothing is decoded. */
int hc_query_get(const char *query, size_t qlen, const char *key, char *out, size_t outlen);

#endif
