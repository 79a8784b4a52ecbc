/* Fuzz target: path matching and capture decoding against hearth's real
 * route shapes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/router.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct hc_router *router;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int tag;
	if (!router) {
		router = hc_router_new();
		hc_router_add(router, HC_GET, "/api/v1", &tag);
		hc_router_add(router, HC_GET, "/api/v1/namespaces", &tag);
		hc_router_add(router, HC_ANY_METHOD, "/api/v1/namespaces/{ns}/actions/{name+}",
			      &tag);
		hc_router_add(router, HC_GET, "/api/v1/namespaces/{ns}/activations/{id}/logs",
			      &tag);
		hc_router_add(router, HC_GET, "/api/v1/namespaces/{ns}/activations/{id}", &tag);
		hc_router_add(router, HC_GET, "/suspend/{id}", &tag);
		hc_router_add(router, HC_POST, "/containers", &tag);
	}
	if (size == 0)
		return 0;
	int method = 1 << (data[0] % 7);
	struct hc_route_match *m = malloc(sizeof *m);
	enum hc_route_result r =
	    hc_router_match(router, method, (const char *)data + 1, size - 1, m);
	if (r == HC_ROUTE_FOUND) {
		for (int i = 0; i < m->nparams; i++)
			if (strlen(m->values[i]) >= HC_ROUTE_MAX_PATH)
				abort();
		hc_route_param(m, "name");
	}
	free(m);
	return 0;
}
