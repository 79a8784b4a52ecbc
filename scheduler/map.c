/* scheduler/map.c — string-keyed chained hash map (contract in map.h). */
#include "scheduler/map.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct entry {
	struct entry *next;
	uint64_t hash;
	void *val;
	char key[]; /* NUL-terminated copy */
};

struct sch_map {
	struct entry **buckets;
	size_t nbuckets; /* a power of two */
	size_t count;
};

#define INITIAL_BUCKETS 64

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 14695981039346656037ULL;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

struct sch_map *sch_map_new(void)
{
	struct sch_map *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->buckets = calloc(INITIAL_BUCKETS, sizeof(struct entry *));
	if (!m->buckets) {
		free(m);
		return NULL;
	}
	m->nbuckets = INITIAL_BUCKETS;
	return m;
}

void sch_map_free(struct sch_map *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nbuckets; i++) {
		struct entry *e = m->buckets[i];
		while (e) {
			struct entry *next = e->next;
			free(e);
			e = next;
		}
	}
	free(m->buckets);
	free(m);
}

static struct entry **find(const struct sch_map *m, const char *key, uint64_t h)
{
	struct entry **pp = &m->buckets[h & (m->nbuckets - 1)];
	for (; *pp; pp = &(*pp)->next) {
		if ((*pp)->hash == h && strcmp((*pp)->key, key) == 0)
			return pp;
	}
	return pp;
}

void *sch_map_get(const struct sch_map *m, const char *key)
{
	struct entry **pp = find(m, key, fnv1a(key));
	return *pp ? (*pp)->val : NULL;
}

/* Double the bucket array; on ENOMEM keep the old one (longer chains only). */
static void grow(struct sch_map *m)
{
	size_t n = m->nbuckets * 2;
	struct entry **b = calloc(n, sizeof(struct entry *));
	if (!b)
		return;
	for (size_t i = 0; i < m->nbuckets; i++) {
		struct entry *e = m->buckets[i];
		while (e) {
			struct entry *next = e->next;
			e->next = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
			e = next;
		}
	}
	free(m->buckets);
	m->buckets = b;
	m->nbuckets = n;
}

int sch_map_put(struct sch_map *m, const char *key, void *val)
{
	uint64_t h = fnv1a(key);
	struct entry **pp = find(m, key, h);
	size_t klen;

	if (*pp) {
		(*pp)->val = val;
		return 0;
	}
	klen = strlen(key);
	struct entry *e = malloc(sizeof(*e) + klen + 1);
	if (!e)
		return -1;
	memcpy(e->key, key, klen + 1);
	e->hash = h;
	e->val = val;
	e->next = NULL;
	*pp = e;
	if (++m->count > m->nbuckets)
		grow(m);
	return 0;
}

void *sch_map_del(struct sch_map *m, const char *key)
{
	struct entry **pp = find(m, key, fnv1a(key));
	struct entry *e = *pp;
	void *val;

	if (!e)
		return NULL;
	*pp = e->next;
	val = e->val;
	free(e);
	m->count--;
	return val;
}

size_t sch_map_count(const struct sch_map *m)
{
	return m->count;
}

void sch_map_each(const struct sch_map *m, void (*fn)(const char *key, void *val, void *arg),
		  void *arg)
{
	for (size_t i = 0; i < m->nbuckets; i++) {
		for (struct entry *e = m->buckets[i]; e; e = e->next)
			fn(e->key, e->val, arg);
	}
}
