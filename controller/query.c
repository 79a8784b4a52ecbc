/* controller/query.c — query parameters of REST requests (api.h). */
#include <stdlib.h>
#include <string.h>

#include "controller/api.h"

int ctl_query_int(struct hc_req *req, const char *name, int64_t dflt, int64_t max, int64_t *out)
{
	const char *v = hc_req_query(req, name);
	if (!v) {
		*out = dflt;
		return 0;
	}
	char *end;
	long long n = strtoll(v, &end, 10);
	if (!*v || *end || n < 0 || n > max)
		return -1;
	*out = n;
	return 0;
}

int ctl_query_bool(struct hc_req *req, const char *name, int dflt)
{
	const char *v = hc_req_query(req, name);
	if (!v)
		return dflt;
	if (!strcmp(v, "true") || !strcmp(v, ""))
		return 1;
	if (!strcmp(v, "false"))
		return 0;
	return -1;
}
