/* fuzz_web.c — web actions' request and response translation (proto/web.c)
 * over arbitrary input.
 *
 * Input: byte 0 picks the extension, the raw-http flag and the request's
 * content type; the rest is split at the first 0xff byte into a query
 * string and a body (fed to pr_web_argument), and the whole rest is also
 * parsed as a result (fed to pr_web_respond, with a projection path taken
 * from the query). Invariants: no crash, no leak, an error always carries a
 * status, a success an HTTP status in range and headers without a bare CR
 * or LF inside a line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "proto/web.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const types[] = {
    NULL,	  "application/json",	"application/x-www-form-urlencoded",
    "text/plain", "image/png",		"application/vnd.x+json",
    "bad type",	  "multipart/form-data"};

static void check_headers(const struct hc_buf *h)
{
	for (size_t i = 0; i < h->len; i++) {
		if (h->data[i] == '\r' && (i + 1 >= h->len || h->data[i + 1] != '\n'))
			abort();
		if (h->data[i] == '\n' && (i == 0 || h->data[i - 1] != '\r'))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > (1 << 16))
		return 0;
	uint8_t sel = data[0];
	char *rest = malloc(size);
	if (!rest)
		return 0;
	memcpy(rest, data + 1, size - 1);
	rest[size - 1] = '\0';
	size_t n = size - 1;
	char *sep = memchr(rest, 0xff, n);
	char *query = rest, *body = sep ? sep + 1 : NULL;
	size_t body_len = sep ? n - (size_t)(body - rest) : 0;
	char *q = strndup(query, sep ? (size_t)(sep - rest) : n);
	static const char *const hn[] = {"Content-Type", "X-A"};
	static const char *const hv[] = {"application/json", "b"};
	struct pr_web_request rq = {
	    .method = "POST",
	    .header_names = hn,
	    .header_values = hv,
	    .nheaders = 2,
	    .path = "/p",
	    .query = q,
	    .body = body,
	    .body_len = body_len,
	    .content_type = types[(sel >> 3) & 7],
	    .raw = (sel >> 6) & 1,
	};
	struct hc_err err = {{0}};
	cJSON *final = cJSON_Parse("[{\"key\":\"name\",\"value\":\"x\"}]");
	cJSON *arg = pr_web_argument(&rq, final, &err);
	cJSON_Delete(arg);
	cJSON_Delete(final);

	cJSON *result = hc_json_parse(rest, n, HC_JSON_MAX_DEPTH, NULL);
	if (result) {
		struct pr_web_response r;
		memset(&err, 0, sizeof(err));
		pr_web_response_init(&r);
		int rc = pr_web_respond((enum pr_web_ext)(sel % 5), result, q, &r, &err);
		if (rc == 0 && (r.status < 100 || r.status > 599))
			abort();
		if (rc < 0 && (!r.status || !err.msg[0]))
			abort();
		check_headers(&r.headers);
		pr_web_response_free(&r);
		cJSON_Delete(result);
	}
	free(q);
	free(rest);
	return 0;
}
