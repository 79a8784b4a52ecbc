/* scheduler/rebuild.h — what a leader learns from Redis and the agents: the
 * failover rebuild of its pool, and the periodic refresh of its hosts. */
#ifndef SCH_REBUILD_H
#define SCH_REBUILD_H

#include "scheduler/sched.h"

struct sch_rebuild_hooks {
	/* Every host of the rebuild is settled: the pool may serve. */
	void (*on_rebuilt)(struct sch *s);
};

/* Read the owners and every host into s->pool (new and empty, phase
 * REBUILDING); ends with hooks->on_rebuilt, unless a step-down comes first.
 * hooks must outlive the term. 0, or -1 when out of memory (nothing sent). */
int sch_rebuild_start(struct sch *s, const struct sch_rebuild_hooks *hooks);

/* One refresh round (serving leader only, after the caller's fence): every
 * watched controller is looked up, hosts whose registration expired are
 * dropped, new ones are read. A round of hosts still out is not doubled. */
void sch_refresh(struct sch *s);

/* Forget rebuild/refresh state in flight (step-down, shutdown). */
void sch_rebuild_reset(struct sch *s);

#endif
