/* scheduler/agents.h — the pool's decisions carried out on agents.
 *
 * Answers go back to the pool (sch_pool_created / _create_failed /
 * _destroyed) unless the pool they were meant for is gone (the generation
 * changed). An agent that refuses our epoch (409: it has seen a newer
 * leader) makes us resign at once. */
#ifndef SCH_AGENTS_H
#define SCH_AGENTS_H

#include "scheduler/sched.h"

/* The pool's create and destroy ops: POST {agent}/containers, DELETE
 * {agent}/containers/{id}, with the cluster token and X-Hearth-Epoch. A
 * leader whose lease has lapsed by our clock sends nothing: the pool hears
 * of a failure on the next loop pass, and we resign. */
void sch_agent_create(struct sch *s, const struct sch_container *c);
void sch_agent_destroy(struct sch *s, const struct sch_container *c);

/* Fetch GET /containers from one agent; calls done(s, host_id, list, n, gen)
 * on the loop: n < 0 on failure (list NULL); an empty list may be NULL too. */
typedef void (*sch_list_cb)(struct sch *s, const char *host_id, struct pr_container *list, int n,
			    uint64_t gen);
int sch_agent_list(struct sch *s, const char *host_id, const char *url, sch_list_cb cb);

#endif
