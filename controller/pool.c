/* controller/pool.c — local container list and overflow queues (see pool.h). */
#include "controller/pool.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/str.h"

/* Totals across loops, updated by each loop on its own pool. */
static atomic_long total_ctrs, total_queued;

const char *ctl_cstate_name(enum ctl_cstate s)
{
	static const char *const n[] = {"init",	     "ready",	 "suspending",
					"suspended", "resuming", "dead"};
	return (unsigned)s < sizeof(n) / sizeof(n[0]) ? n[s] : "?";
}

void ctl_akey(char *out, size_t outlen, const char *ns, const char *name, const char *revision)
{
	/* no printf: once per invoke */
	struct hc_buf b = {.data = out, .len = 0, .cap = outlen, .max = outlen - 1};
	out[0] = '\0';
	if (hc_buf_adds(&b, ns) | hc_buf_addc(&b, '/') | hc_buf_adds(&b, name) |
	    hc_buf_addc(&b, '@') | hc_buf_adds(&b, revision))
		out[0] = '\0'; /* cannot happen: names are bounded */
}

struct ctl_ctr *ctl_pool_pick(struct ctl_pool *p, const char *akey)
{
	struct ctl_ctr *best = NULL, *susp = NULL;
	for (struct ctl_ctr *c = p->ctrs; c; c = c->next) {
		if (strcmp(c->akey, akey) != 0)
			continue;
		if (c->st == CTL_CS_READY && c->inflight < c->maxc) {
			if (!best || c->inflight > best->inflight)
				best = c;
		} else if (c->st == CTL_CS_SUSPENDED && !susp) {
			susp = c;
		}
	}
	return best ? best : susp;
}

int ctl_pool_coming(struct ctl_pool *p, const char *akey)
{
	int n = 0;
	for (struct ctl_ctr *c = p->ctrs; c; c = c->next)
		if (!strcmp(c->akey, akey) && (c->st == CTL_CS_INIT || c->st == CTL_CS_RESUMING ||
					       c->st == CTL_CS_SUSPENDING))
			n += c->maxc - c->inflight > 0 ? c->maxc - c->inflight : 0;
	return n;
}

struct ctl_ctr *ctl_pool_add(struct ctl_pool *p, const struct pr_container *d, const char *akey,
			     int maxc, enum ctl_cstate st)
{
	struct ctl_ctr *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->d = *d;
	hc_strlcpy(c->akey, akey, sizeof(c->akey));
	c->maxc = maxc > 0 ? maxc : 1;
	c->st = st;
	c->next = p->ctrs;
	p->ctrs = c;
	p->nctrs++;
	atomic_fetch_add(&total_ctrs, 1);
	return c;
}

struct ctl_ctr *ctl_pool_find_id(struct ctl_pool *p, const char *id)
{
	for (struct ctl_ctr *c = p->ctrs; c; c = c->next)
		if (!strcmp(c->d.id, id))
			return c;
	return NULL;
}

void ctl_pool_remove(struct ctl_pool *p, struct ctl_ctr *c)
{
	for (struct ctl_ctr **pp = &p->ctrs; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			p->nctrs--;
			atomic_fetch_sub(&total_ctrs, 1);
			free(c);
			return;
		}
	}
}

struct ctl_queue *ctl_queue_get(struct ctl_pool *p, const char *akey, int create)
{
	for (struct ctl_queue *q = p->queues; q; q = q->next)
		if (!strcmp(q->akey, akey))
			return q;
	if (!create)
		return NULL;
	struct ctl_queue *q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	hc_strlcpy(q->akey, akey, sizeof(q->akey));
	q->next = p->queues;
	p->queues = q;
	return q;
}

int ctl_queue_push(struct ctl_pool *p, const char *akey, struct ctl_waiter *w, int max)
{
	struct ctl_queue *q = ctl_queue_get(p, akey, 1);
	if (!q || q->len >= max)
		return -1;
	w->next = NULL;
	if (q->tail)
		q->tail->next = w;
	else
		q->head = w;
	q->tail = w;
	q->len++;
	p->nqueued++;
	atomic_fetch_add(&total_queued, 1);
	return 0;
}

struct ctl_waiter *ctl_queue_pop(struct ctl_pool *p, const char *akey)
{
	struct ctl_queue *q = ctl_queue_get(p, akey, 0);
	if (!q || !q->head)
		return NULL;
	struct ctl_waiter *w = q->head;
	q->head = w->next;
	if (!q->head)
		q->tail = NULL;
	q->len--;
	p->nqueued--;
	atomic_fetch_sub(&total_queued, 1);
	w->next = NULL;
	return w;
}

int ctl_queue_remove(struct ctl_pool *p, const char *akey, struct ctl_waiter *w)
{
	struct ctl_queue *q = ctl_queue_get(p, akey, 0);
	if (!q)
		return 0;
	struct ctl_waiter *prev = NULL;
	for (struct ctl_waiter *x = q->head; x; prev = x, x = x->next) {
		if (x != w)
			continue;
		if (prev)
			prev->next = x->next;
		else
			q->head = x->next;
		if (q->tail == x)
			q->tail = prev;
		q->len--;
		p->nqueued--;
		atomic_fetch_sub(&total_queued, 1);
		x->next = NULL;
		return 1;
	}
	return 0;
}

int ctl_queue_len(struct ctl_pool *p, const char *akey)
{
	struct ctl_queue *q = ctl_queue_get(p, akey, 0);
	return q ? q->len : 0;
}

void ctl_queue_gc(struct ctl_pool *p)
{
	for (struct ctl_queue **pp = &p->queues; *pp;) {
		struct ctl_queue *q = *pp;
		if (q->len == 0 && q->allocating == 0) {
			*pp = q->next;
			free(q);
		} else {
			pp = &q->next;
		}
	}
}

void ctl_pool_clear(struct ctl_pool *p)
{
	while (p->ctrs)
		ctl_pool_remove(p, p->ctrs);
	while (p->queues) {
		struct ctl_queue *q = p->queues;
		p->queues = q->next;
		atomic_fetch_sub(&total_queued, q->len);
		free(q);
	}
	p->nqueued = 0;
}

long ctl_pool_total_containers(void)
{
	return atomic_load(&total_ctrs);
}

long ctl_pool_total_queued(void)
{
	return atomic_load(&total_queued);
}
