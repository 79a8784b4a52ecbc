/* scheduler/keepalive.c — the fixed-TTL keep-alive policy (keepalive.h). */
#include "scheduler/keepalive.h"

#include <stdlib.h>

struct fixed {
	struct sch_keepalive_policy base; /* first: the pool sees only this */
	int64_t ttl_ms;
};

static int64_t fixed_ttl(struct sch_keepalive_policy *p, const char *action, const char *kind,
			 int memory_mb)
{
	return ((struct fixed *)p)->ttl_ms;
}

static void fixed_destroy(struct sch_keepalive_policy *p)
{
	free(p);
}

struct sch_keepalive_policy *sch_keepalive_fixed(int64_t ttl_ms)
{
	struct fixed *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->base.name = "fixed";
	f->base.idle_ttl_ms = fixed_ttl;
	f->base.observe_reuse = NULL;
	f->base.destroy = fixed_destroy;
	f->ttl_ms = ttl_ms < 0 ? 0 : ttl_ms;
	return &f->base;
}
