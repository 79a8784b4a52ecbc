/* scheduler/map.h — a string-keyed hash map for the scheduler's tables
 * (containers by id, actions by key, prewarm sets, controllers).
 *
 * Chained buckets, FNV-1a, doubling when the load passes 1. Keys are copied;
 * values are the caller's (the map never frees them). Not thread-safe: the
 * scheduler runs on one loop. */
#ifndef SCH_MAP_H
#define SCH_MAP_H

#include <stddef.h>

struct sch_map;

/* A new empty map, or NULL on ENOMEM. */
struct sch_map *sch_map_new(void);

/* Free the map and its keys (not the values). NULL is fine. */
void sch_map_free(struct sch_map *m);

/* The value stored under key, or NULL. */
void *sch_map_get(const struct sch_map *m, const char *key);

/* Store val (not NULL) under key, replacing any previous value.
 * Returns 0, or -1 on ENOMEM (the map is unchanged). */
int sch_map_put(struct sch_map *m, const char *key, void *val);

/* Remove key; returns its value, or NULL when absent. */
void *sch_map_del(struct sch_map *m, const char *key);

size_t sch_map_count(const struct sch_map *m);

/* Call fn for every entry; fn must not change the map (collect first). */
void sch_map_each(const struct sch_map *m, void (*fn)(const char *key, void *val, void *arg),
		  void *arg);

#endif
