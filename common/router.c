/* router.c — method + path pattern matching.
 *
 * A linear scan over a few dozen routes, segment by segment: simpler than a
 * trie and, for the route counts hearth has, as fast (the path is split and
 * decoded once per request). */
#include "common/router.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/httpparse.h"

#define MAX_SEGS 32

struct seg {
	char *text;  /* literal text, or the capture's name */
	int capture; /* 0 literal, 1 one segment, 2 the rest of the path */
};

struct route {
	int methods;
	int nsegs;
	struct seg segs[MAX_SEGS];
	void *data;
};

struct hc_router {
	struct route *routes;
	int n, cap;
};

static const struct {
	const char *name;
	int m;
} methods[] = {
    {"GET", HC_GET},	   {"HEAD", HC_HEAD},	    {"POST", HC_POST},	 {"PUT", HC_PUT},
    {"DELETE", HC_DELETE}, {"OPTIONS", HC_OPTIONS}, {"PATCH", HC_PATCH},
};

int hc_method_parse(const char *s, size_t len)
{
	for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
		if (strlen(methods[i].name) == len && memcmp(methods[i].name, s, len) == 0)
			return methods[i].m;
	return 0;
}

const char *hc_method_name(int method)
{
	for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
		if (methods[i].m == method)
			return methods[i].name;
	return "?";
}

struct hc_router *hc_router_new(void)
{
	return calloc(1, sizeof(struct hc_router));
}

void hc_router_free(struct hc_router *r)
{
	if (!r)
		return;
	for (int i = 0; i < r->n; i++)
		for (int k = 0; k < r->routes[i].nsegs; k++)
			free(r->routes[i].segs[k].text);
	free(r->routes);
	free(r);
}

int hc_router_add(struct hc_router *r, int methods_mask, const char *pattern, void *data)
{
	if (!pattern || pattern[0] != '/' || !(methods_mask & HC_ANY_METHOD))
		return -1;
	struct route rt = {.methods = methods_mask, .data = data};
	const char *p = pattern + 1;
	while (*p) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (rt.nsegs == MAX_SEGS)
			goto bad;
		struct seg *s = &rt.segs[rt.nsegs];
		if (n >= 2 && p[0] == '{' && p[n - 1] == '}') {
			int rest = n >= 3 && p[n - 2] == '+';
			s->capture = rest ? 2 : 1;
			s->text = strndup(p + 1, n - 2 - (size_t)rest);
			if (rest && e)
				goto bad_free; /* {x+} must be last */
		} else {
			s->text = strndup(p, n);
		}
		if (!s->text || (s->capture && !*s->text))
			goto bad_free;
		rt.nsegs++;
		if (!e)
			break;
		p = e + 1;
	}
	if (r->n == r->cap) {
		int cap = r->cap ? r->cap * 2 : 16;
		struct route *nr = realloc(r->routes, (size_t)cap * sizeof *nr);
		if (!nr)
			goto bad;
		r->routes = nr;
		r->cap = cap;
	}
	r->routes[r->n++] = rt;
	return 0;

bad_free:
	rt.nsegs++;
bad:
	for (int k = 0; k < rt.nsegs; k++)
		free(rt.segs[k].text);
	return -1;
}

/* The path split into decoded segments, plus where each began in the raw
 * path (for rest-of-path captures). */
struct split {
	int n;
	const char *seg[MAX_SEGS];
	size_t raw_off[MAX_SEGS];
};

static int split_path(const char *path, size_t len, char *store, size_t storelen, struct split *sp)
{
	if (len == 0 || path[0] != '/')
		return -1;
	if (len > 1 && path[len - 1] == '/')
		len--; /* "/a/b/" matches "/a/b" */
	sp->n = 0;
	size_t i = 1, used = 0;
	if (len == 1)
		return 0;
	while (i <= len) {
		const char *e = memchr(path + i, '/', len - i);
		size_t n = e ? (size_t)(e - (path + i)) : len - i;
		if (sp->n == MAX_SEGS || used >= storelen)
			return -1;
		ssize_t dn = hc_url_decode(path + i, n, store + used, storelen - used, 0);
		if (dn < 0)
			return -1;
		sp->seg[sp->n] = store + used;
		sp->raw_off[sp->n] = i;
		sp->n++;
		used += (size_t)dn + 1;
		i += n + 1;
	}
	return (int)used;
}

static int match_route(const struct route *rt, const struct split *sp, const char *path,
		       size_t path_len, char *rest_store, size_t rest_len, struct hc_route_match *m)
{
	int np = 0;
	for (int k = 0; k < rt->nsegs; k++) {
		const struct seg *s = &rt->segs[k];
		if (s->capture == 2) {
			if (k >= sp->n)
				return 0;
			size_t off = sp->raw_off[k];
			size_t n = path_len - off;
			if (n > 0 && path[path_len - 1] == '/')
				n--;
			if (hc_url_decode(path + off, n, rest_store, rest_len, 0) < 0)
				return 0;
			m->names[np] = s->text;
			m->values[np++] = rest_store;
			m->nparams = np;
			return 1;
		}
		if (k >= sp->n)
			return 0;
		if (s->capture == 1) {
			if (!*sp->seg[k] || np == HC_ROUTE_MAX_PARAMS)
				return 0;
			m->names[np] = s->text;
			m->values[np++] = sp->seg[k];
		} else if (strcmp(s->text, sp->seg[k]) != 0) {
			return 0;
		}
	}
	if (rt->nsegs != sp->n)
		return 0;
	m->nparams = np;
	return 1;
}

enum hc_route_result hc_router_match(const struct hc_router *r, int method, const char *path,
				     size_t path_len, struct hc_route_match *m)
{
	struct split sp;
	m->data = NULL;
	m->allowed = 0;
	m->nparams = 0;
	if (path_len >= HC_ROUTE_MAX_PATH / 2)
		return HC_ROUTE_BAD_PATH;
	int used = split_path(path, path_len, m->storage, HC_ROUTE_MAX_PATH / 2, &sp);
	if (used < 0)
		return HC_ROUTE_BAD_PATH;
	char *rest = m->storage + HC_ROUTE_MAX_PATH / 2;
	for (int i = 0; i < r->n; i++) {
		const struct route *rt = &r->routes[i];
		if (!match_route(rt, &sp, path, path_len, rest, HC_ROUTE_MAX_PATH / 2, m))
			continue;
		if (rt->methods & method) {
			m->data = rt->data;
			return HC_ROUTE_FOUND;
		}
		m->allowed |= rt->methods;
	}
	m->nparams = 0;
	return m->allowed ? HC_ROUTE_BAD_METHOD : HC_ROUTE_NOT_FOUND;
}

const char *hc_route_param(const struct hc_route_match *m, const char *name)
{
	for (int i = 0; i < m->nparams; i++)
		if (strcmp(m->names[i], name) == 0)
			return m->values[i];
	return NULL;
}
