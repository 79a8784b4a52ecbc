/* controller/cache.c — refcounted snapshot map (see cache.h). */
#include "controller/cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define NBUCKETS 1024

struct entry {
	struct entry *next;  /* bucket chain */
	struct entry *older; /* insertion order, for the size bound */
	struct entry *newer;
	atomic_int refs; /* the map holds one */
	struct ctl_cache *cache;
	void *val;
	char key[];
};

struct ctl_cache {
	pthread_mutex_t mu;
	struct entry *buckets[NBUCKETS];
	struct entry *oldest, *newest;
	size_t n, max;
	uint64_t gen;
	ctl_cache_free_fn free_fn;
};

static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static void unref(struct entry *e)
{
	if (atomic_fetch_sub(&e->refs, 1) == 1) {
		if (e->cache->free_fn)
			e->cache->free_fn(e->val);
		free(e);
	}
}

struct ctl_cache *ctl_cache_new(size_t max_entries, ctl_cache_free_fn free_fn)
{
	struct ctl_cache *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	pthread_mutex_init(&c->mu, NULL);
	c->max = max_entries ? max_entries : 1;
	c->free_fn = free_fn;
	return c;
}

/* Unlink e from the map (caller holds the lock); the map's reference is
 * returned to the caller to drop outside the lock. */
static void unlink_entry(struct ctl_cache *c, struct entry *e)
{
	struct entry **pp = &c->buckets[hash(e->key) % NBUCKETS];
	while (*pp && *pp != e)
		pp = &(*pp)->next;
	if (*pp)
		*pp = e->next;
	if (e->older)
		e->older->newer = e->newer;
	else
		c->oldest = e->newer;
	if (e->newer)
		e->newer->older = e->older;
	else
		c->newest = e->older;
	c->n--;
}

static struct entry *find(struct ctl_cache *c, const char *key)
{
	for (struct entry *e = c->buckets[hash(key) % NBUCKETS]; e; e = e->next)
		if (!strcmp(e->key, key))
			return e;
	return NULL;
}

void ctl_cache_free(struct ctl_cache *c)
{
	if (!c)
		return;
	ctl_cache_drop(c, NULL);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

int ctl_cache_get(struct ctl_cache *c, const char *key, struct ctl_ref *ref)
{
	pthread_mutex_lock(&c->mu);
	struct entry *e = find(c, key);
	if (e)
		atomic_fetch_add(&e->refs, 1);
	pthread_mutex_unlock(&c->mu);
	if (!e)
		return 0;
	ref->val = e->val;
	ref->entry_ = e;
	return 1;
}

void ctl_cache_release(struct ctl_ref *ref)
{
	if (ref && ref->entry_) {
		unref(ref->entry_);
		ref->entry_ = NULL;
		ref->val = NULL;
	}
}

void ctl_cache_ref_dup(const struct ctl_ref *src, struct ctl_ref *dst)
{
	struct entry *e = src->entry_;
	if (e)
		atomic_fetch_add(&e->refs, 1);
	*dst = *src;
}

uint64_t ctl_cache_gen(struct ctl_cache *c)
{
	pthread_mutex_lock(&c->mu);
	uint64_t g = c->gen;
	pthread_mutex_unlock(&c->mu);
	return g;
}

int ctl_cache_put(struct ctl_cache *c, const char *key, void *val, uint64_t gen,
		  struct ctl_ref *ref)
{
	size_t kl = strlen(key);
	struct entry *e = malloc(sizeof(*e) + kl + 1), *old = NULL, *evict = NULL;
	if (!e) {
		if (c->free_fn)
			c->free_fn(val);
		return -1;
	}
	memcpy(e->key, key, kl + 1);
	e->val = val;
	e->cache = c;
	atomic_init(&e->refs, ref ? 2 : 1);
	e->older = e->newer = NULL;
	if (ref) {
		ref->val = val;
		ref->entry_ = e;
	}
	pthread_mutex_lock(&c->mu);
	if (gen != c->gen) {
		pthread_mutex_unlock(&c->mu);
		unref(e); /* the map's share; the caller's ref keeps it alive */
		return 0;
	}
	if ((old = find(c, key)))
		unlink_entry(c, old);
	if (c->n >= c->max && (evict = c->oldest))
		unlink_entry(c, evict);
	uint32_t b = hash(key) % NBUCKETS;
	e->next = c->buckets[b];
	c->buckets[b] = e;
	e->older = c->newest;
	if (c->newest)
		c->newest->newer = e;
	else
		c->oldest = e;
	c->newest = e;
	c->n++;
	pthread_mutex_unlock(&c->mu);
	if (old)
		unref(old);
	if (evict)
		unref(evict);
	return 1;
}

void ctl_cache_drop(struct ctl_cache *c, const char *key)
{
	struct entry *gone = NULL;
	pthread_mutex_lock(&c->mu);
	c->gen++;
	if (key) {
		struct entry *e = find(c, key);
		if (e) {
			unlink_entry(c, e);
			e->next = NULL;
			gone = e;
		}
	} else {
		while (c->oldest) {
			struct entry *e = c->oldest;
			unlink_entry(c, e);
			e->next = gone;
			gone = e;
		}
	}
	pthread_mutex_unlock(&c->mu);
	while (gone) {
		struct entry *next = gone->next;
		unref(gone);
		gone = next;
	}
}

size_t ctl_cache_size(struct ctl_cache *c)
{
	pthread_mutex_lock(&c->mu);
	size_t n = c->n;
	pthread_mutex_unlock(&c->mu);
	return n;
}
