/* controller/cache.h — a map of immutable, refcounted snapshots shared by
 * every loop thread (API keys, actions with their code).
 *
 * A reader takes a reference to the current entry under a short lock and
 * uses it without copying; an update publishes a new entry (the old one is
 * freed when its last reader lets go). Memory stays flat however many
 * threads read. Loads race with invalidations, so a loader reads the
 * cache's generation before it asks Redis and ctl_cache_put refuses the
 * result if an invalidation happened in between (it would be stale). */
#ifndef CTL_CACHE_H
#define CTL_CACHE_H

#include <stddef.h>
#include <stdint.h>

struct ctl_cache;

struct ctl_ref {
	void *val;    /* the snapshot; read-only */
	void *entry_; /* private */
};

typedef void (*ctl_cache_free_fn)(void *val);

/* max_entries bounds memory: beyond it the least recently inserted entry
 * is dropped. free_fn frees a value when its last reference goes. */
struct ctl_cache *ctl_cache_new(size_t max_entries, ctl_cache_free_fn free_fn);
void ctl_cache_free(struct ctl_cache *c);

/* Look key up; on a hit fill ref (release with ctl_cache_release) and
 * return 1; 0 on a miss. */
int ctl_cache_get(struct ctl_cache *c, const char *key, struct ctl_ref *ref);
void ctl_cache_release(struct ctl_ref *ref);
/* Another reference to what src refers to (release both). */
void ctl_cache_ref_dup(const struct ctl_ref *src, struct ctl_ref *dst);

/* The generation to pass to ctl_cache_put for a load starting now. */
uint64_t ctl_cache_gen(struct ctl_cache *c);

/* Publish val under key unless an invalidation happened since gen. Takes
 * val either way. When ref is not NULL it receives a reference to val even
 * when refused (the loader can still use what it loaded for its own call;
 * val is then freed on release). Returns 1 stored, 0 refused; -1 out of
 * memory (val freed, ref not filled). */
int ctl_cache_put(struct ctl_cache *c, const char *key, void *val, uint64_t gen,
		  struct ctl_ref *ref);

/* Drop key (NULL = everything) and bump the generation. */
void ctl_cache_drop(struct ctl_cache *c, const char *key);

size_t ctl_cache_size(struct ctl_cache *c);

#endif
