/* scheduler/controllers.h — the controllers that own containers.
 *
 * Every controller that owns a container (given out, or restored with its
 * owner at a rebuild) is watched: looked up (PR_KEY_CONTROLLER) when first
 * met and at every refresh, which also gives the url other controllers
 * forward to. One whose registration has expired is gone: the pool hands
 * its free containers to anyone and destroys its busy ones
 * (sch_pool_owner_gone). */
#ifndef SCH_CONTROLLERS_H
#define SCH_CONTROLLERS_H

#include <stddef.h>

#include "scheduler/sched.h"

/* The table (s->controllers). 0 or -1 (out of memory). */
int sch_ctl_init(struct sch *s);
void sch_ctl_fini(struct sch *s);

/* Watch controller id (looked up when newly met). */
void sch_ctl_watch(struct sch *s, const char *id);

/* The pool's controller_url op: SCH_OWNER_KNOWN (url filled), _UNKNOWN
 * (newly met or being looked up: it may be alive), _GONE (gone, or draining:
 * its free containers are anyone's). Watches what it is asked about. */
int sch_ctl_url(struct sch *s, const char *id, char *url, size_t len);

/* Look every watched controller up again (each refresh). */
void sch_ctl_refresh(struct sch *s);

/* A new term: what was learnt while leading before may be stale, so every
 * known controller is looked up afresh (having been seen stays true). */
void sch_ctl_new_term(struct sch *s);

#endif
