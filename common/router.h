/* router.h — match method + path against patterns.
 *
 * Patterns are '/'-separated segments; "{name}" captures one segment and a
 * final "{name+}" captures the rest of the path (one or more segments,
 * slashes included). Literal segments win over captures: routes are tried
 * in the order added, so add specific patterns first. Captured values are
 * percent-decoded. */
#ifndef HC_ROUTER_H
#define HC_ROUTER_H

#include <stddef.h>

enum hc_method {
	HC_GET = 1 << 0,
	HC_HEAD = 1 << 1,
	HC_POST = 1 << 2,
	HC_PUT = 1 << 3,
	HC_DELETE = 1 << 4,
	HC_OPTIONS = 1 << 5,
	HC_PATCH = 1 << 6,
};
#define HC_ANY_METHOD 0x7f

/* Map a method token to its enum; 0 when unknown. */
int hc_method_parse(const char *s, size_t len);
const char *hc_method_name(int method);

#define HC_ROUTE_MAX_PARAMS 8
#define HC_ROUTE_MAX_PATH   2048

struct hc_router;

struct hc_route_match {
	void *data;  /* what hc_router_add was given */
	int allowed; /* on HC_ROUTE_BAD_METHOD: methods the path accepts */
	int nparams;
	const char *names[HC_ROUTE_MAX_PARAMS];
	const char *values[HC_ROUTE_MAX_PARAMS]; /* point into storage */
	char storage[HC_ROUTE_MAX_PATH];
};

enum hc_route_result {
	HC_ROUTE_FOUND = 0,
	HC_ROUTE_NOT_FOUND,  /* 404 */
	HC_ROUTE_BAD_METHOD, /* 405, see allowed */
	HC_ROUTE_BAD_PATH,   /* 400: undecodable or too long */
};

struct hc_router *hc_router_new(void);
void hc_router_free(struct hc_router *r);

/* Add a route. Returns 0, or -1 when the pattern is malformed. */
int hc_router_add(struct hc_router *r, int methods, const char *pattern, void *data);

/* Match path (without the query string). */
enum hc_route_result hc_router_match(const struct hc_router *r, int method, const char *path,
				     size_t path_len, struct hc_route_match *m);

/* The captured value named name, or NULL. */
const char *hc_route_param(const struct hc_route_match *m, const char *name);

#endif
