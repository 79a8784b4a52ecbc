/* Fuzz target: the HTTP request head parser, the chunked decoder and URL /
 * query decoding — everything the server reads from a socket. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/httpparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct hc_http_head h;
	long n = hc_http_parse_head(p, size, 8192, &h);
	if (n > 0) {
		/* every pointer must stay inside the input */
		for (size_t i = 0; i < h.nheaders; i++) {
			const char *v = h.headers[i].value;
			if (v < p || v + h.headers[i].value_len > p + size)
				abort();
		}
		const struct hc_http_header *x = hc_http_find(&h, "x-test");
		(void)x;
		char out[512];
		const char *q = memchr(h.target, '?', h.target_len);
		if (q) {
			size_t ql = h.target_len - (size_t)(q + 1 - h.target);
			hc_query_get(q + 1, ql, "blocking", out, sizeof out);
		}
		hc_url_decode(h.target, h.target_len, out, sizeof out, 0);
		/* the rest of the input as a chunked body, fed in two pieces */
		struct hc_buf body;
		hc_buf_init(&body, 4096);
		struct hc_chunked st = {0};
		int done = 0;
		size_t rest = size - (size_t)n, half = rest / 2;
		ssize_t used = hc_chunked_decode(&st, p + n, half, &body, &done);
		if (used >= 0 && !done)
			hc_chunked_decode(&st, p + n + used, rest - (size_t)used, &body, &done);
		hc_buf_free(&body);
	} else if (n != 0 && n != -400 && n != -431 && n != -501 && n != -505) {
		abort();
	}
	return 0;
}
