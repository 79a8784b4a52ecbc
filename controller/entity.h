/* controller/entity.h — the store of OpenWhisk entities in Redis:
 * packages, triggers and rules (actions keep their own write scripts in
 * actions.c for their code, and share the reads here).
 *
 * An entity lives in a collection under a path: its namespace, or for an
 * action in a package "ns/pkg". Its document (the OpenWhisk JSON shape,
 * as the collection's handlers build it) is under
 *   hearth:<kind>:<path>/<name>
 * and its name in the path's index, a zset scored by `updated`,
 *   hearth:<kinds>:<path>
 * (proto/keys.h spells the action keys the same way). Writes are Lua
 * scripts, atomic, that compare the document read before (a concurrent
 * writer gets 409 as in OpenWhisk) and publish "<path>/<name>" on the
 * collection's invalidation channel.
 *
 * Each call returns 0, and its callback then runs exactly once, on a later
 * loop turn (a Redis reply, or its failure); or -1 when it could not be
 * started (out of memory), and the callback will not run. */
#ifndef CTL_ENTITY_H
#define CTL_ENTITY_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "controller/ctl.h"
#include "proto/action.h"

/* A collection: its key prefixes and invalidation channel. */
struct ctl_coll {
	const char *kind;    /* "package": documents under hearth:package:<path>/<name> */
	const char *index;   /* "packages": names under hearth:packages:<path> */
	const char *channel; /* PUBLISHed "<path>/<name>" on every write */
	const char *label;   /* "packages", for OpenWhisk's list messages */
};

extern const struct ctl_coll ctl_coll_packages, ctl_coll_triggers, ctl_coll_rules, ctl_coll_actions;

#define CTL_PATH_MAX (2 * PR_NAME_MAX + 2)	       /* "ns" or "ns/pkg" */
#define CTL_KEY_MAX  (CTL_PATH_MAX + PR_NAME_MAX + 32) /* a document's key */

/* The document's and the index's keys of path/name into out. */
void ctl_entity_key(const struct ctl_coll *c, const char *path, const char *name, char *out,
		    size_t outlen);
void ctl_entity_index_key(const struct ctl_coll *c, const char *path, char *out, size_t outlen);

/* Outcomes: 0 done; 404 no such document; 409 the document changed since
 * it was read (or exists, for a create); 503 Redis unreachable; 500 out of
 * memory. */

/* A document as read: the parsed tree and the stored text (to compare
 * against when writing it back). The receiver owns both. */
struct ctl_entity_doc {
	cJSON *doc;
	char *raw;
};
void ctl_entity_doc_clear(struct ctl_entity_doc *d);

/* Read path/name. d: the document (the callback takes it; zeroed unless
 * status 0). */
typedef void (*ctl_entity_doc_cb)(int status, struct ctl_entity_doc *d, void *arg);
int ctl_entity_get(struct ctl_loop *L, const struct ctl_coll *c, const char *path, const char *name,
		   ctl_entity_doc_cb cb, void *arg);

/* Write doc as path/name if the stored text is still old_raw (NULL: no
 * document may exist). The callback gets status 0, 409 or 503 (d zeroed). */
int ctl_entity_put(struct ctl_loop *L, const struct ctl_coll *c, const char *path, const char *name,
		   const char *old_raw, const cJSON *doc, ctl_entity_doc_cb cb, void *arg);

/* Delete path/name: the callback gets the deleted document (taken), or 404
 * / 503. */
int ctl_entity_delete(struct ctl_loop *L, const struct ctl_coll *c, const char *path,
		      const char *name, ctl_entity_doc_cb cb, void *arg);

/* The documents under path, newest first: skip, then at most limit (0: all)
 * of them. The callback gets an array (taken) or NULL with 503/500. */
typedef void (*ctl_entity_list_cb)(int status, cJSON *docs, void *arg);
int ctl_entity_list(struct ctl_loop *L, const struct ctl_coll *c, const char *path, int64_t skip,
		    int64_t limit, ctl_entity_list_cb cb, void *arg);

/* How many entities are under path: the callback gets the count, or -1
 * (503). */
typedef void (*ctl_entity_count_cb)(int64_t n, void *arg);
int ctl_entity_count(struct ctl_loop *L, const struct ctl_coll *c, const char *path,
		     ctl_entity_count_cb cb, void *arg);

int ctl_entity_loop_init(struct ctl_loop *L);
void ctl_entity_loop_fini(struct ctl_loop *L);

#endif
