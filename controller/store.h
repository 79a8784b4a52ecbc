/* controller/store.h — actions as the invoke path reads them (store.c). */
#ifndef CTL_STORE_H
#define CTL_STORE_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "controller/cache.h"
#include "controller/ctl.h"
#include "proto/action.h"

/* A cached action: the stored document, its code, and the fields the
 * invoke path reads (pointing into doc). Immutable once published. */
struct ctl_action {
	cJSON *doc;
	struct pr_action_info info;
	char *code; /* NULL for sequences and image-only blackbox */
	size_t code_len;
	char fqn[2 * PR_NAME_MAX + 3]; /* "/ns/name" */
};
void ctl_action_free(void *a);

/* Look up ns/name in the action cache, loading it from Redis on a miss.
 * cb gets a reference (release it) or NULL with status 404 (no such
 * action) or 503 (Redis unreachable). cb may run before this returns (a
 * cache hit: the common case, and cheap). */
typedef void (*ctl_action_cb)(struct ctl_ref *ref, int status, void *arg);
void ctl_action_lookup(struct ctl_loop *L, const char *ns, const char *name, ctl_action_cb cb,
		       void *arg);

/* The cache key of ns/name ("ns/name") into out. */
void ctl_action_key(char *out, size_t outlen, const char *ns, const char *name);

#endif
