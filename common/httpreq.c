/* httpreq.c — the request as a handler sees it: its method, path, query,
 * headers, body and ids, and the headers it adds to its reply (http.h). */
#include "common/http_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/metrics.h"

void hc_req_add_header(struct hc_req *req, const char *name, const char *value)
{
	/* refuse anything that could split the response */
	if (strpbrk(name, "\r\n:") || strpbrk(value, "\r\n"))
		return;
	struct hc_buf *b = &req->out_headers;
	size_t old = b->len;
	if (!b->data)
		hc_buf_reserve(b, 128); /* one allocation for the usual one or two */
	if (hc_buf_adds(b, name) | hc_buf_add(b, ": ", 2) | hc_buf_adds(b, value) |
	    hc_buf_add(b, "\r\n", 2)) {
		b->len = old; /* all or nothing */
		if (b->data)
			b->data[old] = '\0';
	}
}

int hc_req_method(const struct hc_req *req)
{
	return req->method;
}

const char *hc_req_path(const struct hc_req *req)
{
	return req->path;
}

const char *hc_req_target(const struct hc_req *req)
{
	return req->h.target;
}

const char *hc_req_param(const struct hc_req *req, const char *name)
{
	return hc_route_param(&req->match, name);
}

const char *hc_req_query(struct hc_req *req, const char *name)
{
	if (!req->query)
		return NULL;
	for (struct hc_query_val *q = req->queries; q; q = q->next)
		if (strcmp(q->name, name) == 0)
			return q->value;
	/* decoded into the node itself; one allocation for value and name, and
	 * none for a name that is not there (the common case: most optional
	 * parameters are absent) */
	if (hc_query_get(req->query, req->qlen, name, NULL, 0) != 1)
		return NULL;
	size_t nl = strlen(name) + 1;
	struct hc_query_val *q = malloc(sizeof *q + req->qlen + 1 + nl);
	if (!q)
		return NULL;
	if (hc_query_get(req->query, req->qlen, name, q->value, req->qlen + 1) != 1) {
		free(q);
		return NULL;
	}
	q->name = q->value + req->qlen + 1;
	memcpy(q->name, name, nl);
	q->next = req->queries;
	req->queries = q;
	return q->value;
}

const char *hc_req_header(const struct hc_req *req, const char *name)
{
	for (size_t i = 0; i < req->h.nheaders; i++)
		if (strcasecmp(req->h.headers[i].name, name) == 0)
			return req->h.headers[i].value;
	return NULL;
}

size_t hc_req_nheaders(const struct hc_req *req)
{
	return req->h.nheaders;
}

int hc_req_header_at(const struct hc_req *req, size_t i, const char **name, const char **value)
{
	if (i >= req->h.nheaders)
		return -1;
	*name = req->h.headers[i].name;
	*value = req->h.headers[i].value;
	return 0;
}

const char *hc_req_query_string(const struct hc_req *req)
{
	return req->query; /* the end of the target, terminated with it */
}

const char *hc_req_body(const struct hc_req *req, size_t *len)
{
	if (len)
		*len = req->body_len;
	return req->body_ptr ? req->body_ptr : "";
}

const char *hc_req_id(const struct hc_req *req)
{
	struct hc_req *r = (struct hc_req *)req; /* the id is made lazily */
	if (!r->id[0])
		hc_id_new(r->id);
	return r->id;
}

const char *hc_req_peer(const struct hc_req *req)
{
	return req->conn ? req->conn->peer : "";
}

struct hc_loop *hc_req_loop(const struct hc_req *req)
{
	return &req->lp->pub;
}

uint64_t hc_req_start_us(const struct hc_req *req)
{
	return req->start_us;
}

int hc_req_detached(const struct hc_req *req)
{
	return req->conn == NULL;
}

void hc_handle_metrics(struct hc_req *req, void *arg)
{
	struct hc_buf b;
	hc_buf_init(&b, 64 * 1024 * 1024);
	if (hc_metrics_render(&b) < 0) {
		hc_buf_free(&b);
		hc_reply_error(req, 500, "metrics do not fit in the response");
		return;
	}
	hc_reply_buf(req, 200, "text/plain; version=0.0.4", &b);
}
