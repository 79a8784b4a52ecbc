/* scheduler/poolhost.c — the pool's hosts: adding, updating and losing
 * them, their stem cells (the prewarm targets, refilled), draining, and the
 * containers an agent reports at a failover rebuild. */
#include "scheduler/pool_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/id.h"
#include "common/str.h"
#include "scheduler/map.h"

int sch_prewarm_parse(const char *spec, struct sch_prewarm_target **out, int *n, struct hc_err *err)
{
	struct sch_prewarm_target *ts = NULL;
	char *copy = NULL, *save = NULL, *item;
	int count = 0, rc = -1;

	*out = NULL;
	*n = 0;
	if (!spec || !*spec)
		return 0;
	copy = strdup(spec);
	ts = calloc(MAX_PREWARM_TARGETS, sizeof(*ts));
	if (!copy || !ts) {
		hc_err_set(err, "out of memory");
		goto out;
	}
	for (item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *c2 = strrchr(item, ':'), *c1, *end;
		long mem, cnt;

		if (count == MAX_PREWARM_TARGETS) {
			hc_err_set(err, "prewarm: at most %d entries", MAX_PREWARM_TARGETS);
			goto out;
		}
		if (!c2 || c2 == item)
			goto bad;
		*c2 = '\0';
		c1 = strrchr(item, ':');
		if (!c1 || c1 == item)
			goto bad;
		*c1 = '\0';
		mem = strtol(c1 + 1, &end, 10);
		if (*end || c1[1] == '\0' || mem < 1 || mem > PR_SCHED_MEMORY_MAX)
			goto bad;
		cnt = strtol(c2 + 1, &end, 10);
		if (*end || c2[1] == '\0' || cnt < 0 || cnt > 1000)
			goto bad;
		if (strlen(item) >= PR_KIND_MAX)
			goto bad;
		hc_strlcpy(ts[count].kind, item, sizeof(ts[count].kind));
		ts[count].memory_mb = (int)mem;
		ts[count].count = (int)cnt;
		count++;
	}
	*out = ts;
	*n = count;
	ts = NULL;
	rc = 0;
	goto out;
bad:
	hc_err_set(err, "prewarm: \"%.64s\" is not kind:memoryMB:count", item);
out:
	free(ts);
	free(copy);
	return rc;
}

void sch_pl_refill_host(struct sch_pool *p, struct sch_host *h)
{
	if (!sch_pl_host_usable(p, h, sch_pl_now(p)))
		return;
	for (int i = 0; i < p->nprewarm; i++) {
		const struct sch_prewarm_target *t = &p->prewarm[i];
		while (h->prewarm_have[i] < t->count && sch_pl_host_free_mb(h) >= t->memory_mb) {
			struct sch_container *c =
			    sch_pl_new_container(p, h, t->kind, t->memory_mb, NULL, i);
			if (!c)
				return;
			p->ops.create(p->arg, c);
		}
	}
}

void sch_pl_refill_all(struct sch_pool *p)
{
	struct sch_host *h;
	TAILQ_FOREACH(h, &p->hosts, link)
	sch_pl_refill_host(p, h);
}

int sch_pool_host_set(struct sch_pool *p, const char *id, const char *url, int capacity_mb,
		      int draining)
{
	struct sch_host *h = sch_map_get(p->hostmap, id);

	if (capacity_mb < 0 || !id[0])
		return -1;
	if (!h) {
		h = calloc(1, sizeof(*h));
		if (!h)
			return -1;
		h->prewarm_have = calloc((size_t)(p->nprewarm > 0 ? p->nprewarm : 1), sizeof(int));
		if (!h->prewarm_have || sch_map_put(p->hostmap, id, h) < 0) {
			free(h->prewarm_have);
			free(h);
			return -1;
		}
		hc_strlcpy(h->id, id, sizeof(h->id));
		TAILQ_INIT(&h->containers);
		TAILQ_INSERT_TAIL(&p->hosts, h, link);
		p->nhosts++;
	}
	hc_strlcpy(h->url, url, sizeof(h->url));
	h->capacity_mb = capacity_mb;
	h->draining = draining != 0;
	sch_pl_refill_host(p, h);
	return 0;
}

struct sch_host *sch_pool_host(const struct sch_pool *p, const char *id)
{
	return sch_map_get(p->hostmap, id);
}

void sch_pool_host_remove(struct sch_pool *p, const char *id)
{
	struct sch_host *h = sch_map_del(p->hostmap, id);
	struct sch_container *c;
	struct sch_action *a, *next;

	if (!h)
		return;
	while ((c = TAILQ_FIRST(&h->containers))) {
		if (c->desc.id[0] && c->state != SCH_C_DESTROYING && p->ops.gone)
			p->ops.gone(p->arg, c, "host lost");
		sch_pl_drop(p, c);
	}
	TAILQ_REMOVE(&p->hosts, h, link);
	p->nhosts--;
	free(h->prewarm_have);
	free(h);
	/* Waiters that counted on creates there need new ones. */
	for (a = TAILQ_FIRST(&p->waiting); a; a = next) {
		next = TAILQ_NEXT(a, wait_link);
		sch_pl_place(p, a);
	}
}

/* A drained host keeps its busy containers until they are released; idle
 * ones (free, stem cells) go now, so the host empties as work finishes. */
void sch_pl_drain_hosts(struct sch_pool *p)
{
	struct sch_host *h;
	struct sch_container *c, *cnext;

	TAILQ_FOREACH(h, &p->hosts, link)
	{
		if (!h->draining)
			continue;
		for (c = TAILQ_FIRST(&h->containers); c; c = cnext) {
			cnext = TAILQ_NEXT(c, host_link);
			if (c->state == SCH_C_FREE || c->state == SCH_C_PREWARM)
				sch_pl_destroy(p, c, "host drained");
		}
	}
}

/* "/ns/name" -> ns, name. */
static int split_path(const char *path, char *ns, size_t nslen, char *name, size_t namelen)
{
	const char *slash;

	if (path[0] != '/')
		return -1;
	slash = strchr(path + 1, '/');
	if (!slash || slash == path + 1 || !slash[1])
		return -1;
	if ((size_t)(slash - path - 1) >= nslen || strlen(slash + 1) >= namelen)
		return -1;
	memcpy(ns, path + 1, (size_t)(slash - path - 1));
	ns[slash - path - 1] = '\0';
	snprintf(name, namelen, "%s", slash + 1);
	return 0;
}

enum sch_cstate sch_pool_restore(struct sch_pool *p, const char *host_id,
				 const struct pr_container *desc, const char *owner)
{
	struct sch_host *h = sch_map_get(p->hostmap, host_id);
	char ns[PR_SCHED_NS_MAX], name[PR_SCHED_NAME_MAX];
	struct sch_container *c, *it;
	struct sch_action *a = NULL;
	int stem = !desc->action[0] && !desc->digest[0];
	int alive = desc->state == PR_CS_WARM || desc->state == PR_CS_SUSPENDED;

	if (!h || !hc_id_valid(desc->id) || sch_map_get(p->by_id, desc->id))
		return SCH_C__N;
	if (!stem && alive && owner[0] &&
	    split_path(desc->action, ns, sizeof(ns), name, sizeof(name)) == 0)
		a = sch_pl_action(p, ns, name, desc->version, desc->digest, desc->kind,
				  desc->memory_mb);
	c = sch_pl_new_container(p, h, desc->kind, desc->memory_mb, NULL, -1);
	if (!c)
		return SCH_C__N;
	c->desc = *desc;
	hc_strlcpy(c->desc.agent, h->url, sizeof(c->desc.agent));
	c->desc.owner[0] = '\0';
	c->last_used_ms = desc->last_used_ms ? desc->last_used_ms : sch_pl_now(p);
	if (sch_map_put(p->by_id, c->desc.id, c) < 0) {
		sch_pl_drop(p, c);
		return SCH_C__N;
	}
	if (alive && stem) {
		sch_pl_unlink(p, c);
		if (sch_pl_stem_cell(p, c) == 0)
			return SCH_C_PREWARM;
	} else if (a) {
		hc_strlcpy(c->desc.owner, owner, sizeof(c->desc.owner));
		if (desc->state == PR_CS_WARM) {
			sch_pl_move(p, c, SCH_C_BUSY, a);
			return SCH_C_BUSY;
		}
		/* Keep the LRU lists ordered by last use. */
		sch_pl_unlink(p, c);
		sch_pl_link(p, c, SCH_C_FREE, a);
		TAILQ_REMOVE(&p->lru, c, lru_link);
		for (it = TAILQ_LAST(&p->lru, sch_container_list); it;
		     it = TAILQ_PREV(it, sch_container_list, lru_link)) {
			if (it->last_used_ms <= c->last_used_ms)
				break;
		}
		if (it)
			TAILQ_INSERT_AFTER(&p->lru, it, c, lru_link);
		else
			TAILQ_INSERT_HEAD(&p->lru, c, lru_link);
		TAILQ_REMOVE(&a->free, c, set_link);
		for (it = TAILQ_LAST(&a->free, sch_container_list); it;
		     it = TAILQ_PREV(it, sch_container_list, set_link)) {
			if (it->last_used_ms <= c->last_used_ms)
				break;
		}
		if (it)
			TAILQ_INSERT_AFTER(&a->free, it, c, set_link);
		else
			TAILQ_INSERT_HEAD(&a->free, c, set_link);
		return SCH_C_FREE;
	}
	/* Nobody's, dead or half made: reclaim it. */
	sch_pl_destroy(p, c, "reclaimed");
	return SCH_C_DESTROYING;
}
