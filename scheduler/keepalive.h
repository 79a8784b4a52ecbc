/* scheduler/keepalive.h — how long an idle (free) container is kept.
 *
 * The pool asks the policy for each free container's idle TTL when it reaps,
 * and tells it when a free container was reused and after how long, so an
 * adaptive policy (e.g. a per-action histogram of idle times, as in
 * "Serverless in the Wild") can replace the fixed one without touching the
 * pool. */
#ifndef SCH_KEEPALIVE_H
#define SCH_KEEPALIVE_H

#include <stdint.h>

struct sch_keepalive_policy {
	const char *name;
	/* Idle time (ms) after which a free container of this action (key
	 * "/ns/name@version", kind, memory) is destroyed. Must be >= 0. */
	int64_t (*idle_ttl_ms)(struct sch_keepalive_policy *p, const char *action, const char *kind,
			       int memory_mb);
	/* A free container of action was taken again after idle_ms. May be NULL. */
	void (*observe_reuse)(struct sch_keepalive_policy *p, const char *action, uint64_t idle_ms);
	/* Free the policy. */
	void (*destroy)(struct sch_keepalive_policy *p);
};

/* The fixed policy: every free container lives ttl_ms (OpenWhisk's
 * idle-container timeout is 10 min). Returns NULL on ENOMEM. */
struct sch_keepalive_policy *sch_keepalive_fixed(int64_t ttl_ms);

#endif
