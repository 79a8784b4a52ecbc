/* proto/scheduler.h — messages between controllers and the scheduler
 * (hearth-scheduler), and the leader announcement.
 *
 * The scheduler's HTTP API (every route except /healthz and /metrics needs
 * "Authorization: Bearer <cluster token>"):
 *
 *   POST /allocate  pr_alloc_req
 *        -> 200 pr_alloc_reply
 *        -> 503 pr_sched_redirect   this scheduler is a standby (or a leader
 *                                   that has just fenced itself): retry at
 *                                   "leader" ("" when no leader is known yet:
 *                                   retry shortly, e.g. after 100 ms)
 *        -> 429 pr_sched_busy       no capacity: retry after retry_after_ms
 *        -> 400 bad request, 401 missing/wrong token
 *   POST /release   pr_container_ref  -> 204   container is free (suspended)
 *   POST /busy      pr_container_ref  -> 204   container is busy (resumed)
 *   POST /discard   pr_container_ref  -> 204   the controller saw it die or
 *                                              time out: the scheduler destroys it
 *        release/busy/discard: 503 pr_sched_redirect on a standby; 404 when the
 *        container is unknown; 409 when the caller is not its owner.
 *   GET  /healthz   -> 200 pr_sched_health
 *   GET  /metrics   -> 200 Prometheus text
 *
 * Allocation reply: "init" is true when the container still needs /init
 * (a fresh container or a prewarm stem cell) and false when it is a free
 * warm container already initialised with this action+version. The
 * "version" of these messages (and of container descriptors and agent
 * labels) is the action document's revision (pr_action_info.revision),
 * which changes with every write, not its semver: containers are matched
 * on it, so a re-created action never gets its predecessor's. When
 * "owner" is not the calling controller, the container is another
 * controller's free warm container: the caller should forward the activation
 * to "owner_url" (that controller runs it) rather than use the container.
 *
 * Leader announcement: on every win the leader writes PR_KEY_LEADER_INFO
 * (hash with fields "id", "url", "epoch") and publishes the same as JSON
 * on PR_CH_LEADER. */
#ifndef PR_SCHEDULER_H
#define PR_SCHEDULER_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "proto/container.h"

#define PR_SCHED_DEFAULT_PORT 3234

#define PR_SCHED_ROUTE_ALLOCATE "/allocate"
#define PR_SCHED_ROUTE_RELEASE	"/release"
#define PR_SCHED_ROUTE_BUSY	"/busy"
#define PR_SCHED_ROUTE_DISCARD	"/discard"

/* Fields of the hash PR_KEY_LEADER_INFO (same names as the JSON message). */
#define PR_SCHED_F_ID	 "id"
#define PR_SCHED_F_URL	 "url"
#define PR_SCHED_F_EPOCH "epoch"

/* Fields of the hash PR_KEY_CONTROLLER: the controller's base URL, and
 * "1" while it drains before a stop (its free containers are anyone's). */
#define PR_CONTROLLER_F_URL	 "url"
#define PR_CONTROLLER_F_DRAINING "draining"

#define PR_SCHED_NS_MAX	  128
#define PR_SCHED_NAME_MAX 192

/* POST /allocate body:
 * {"namespace","name","version","kind","memory","digest","controller"}
 * plus optional "concurrency" (the action's limits.concurrency, default 1)
 * and "wait_ms" (how long the caller will wait for a reply; the scheduler
 * answers 429 rather than hold a request past it; default 10000). */
struct pr_alloc_req {
	char ns[PR_SCHED_NS_MAX];
	char name[PR_SCHED_NAME_MAX];
	char version[32];
	char kind[PR_KIND_MAX];
	int memory_mb;		       /* 1 .. PR_SCHED_MEMORY_MAX */
	char digest[PR_DIGEST_MAX];    /* "" allowed (e.g. blackbox without code) */
	char controller[PR_OWNER_MAX]; /* caller's controller id */
	int concurrency;	       /* 1 .. 1000 */
	int64_t wait_ms;	       /* 1 .. 300000 */
};
#define PR_SCHED_MEMORY_MAX (1024 * 1024)

/* Encode (caller frees with cJSON_Delete); NULL on ENOMEM. */
cJSON *pr_alloc_req_to_json(const struct pr_alloc_req *r);
/* Decode; -1 with err naming the field on bad input (missing or too long
 * field, memory out of range, namespace or name containing '/'). Optional
 * fields get their defaults. */
int pr_alloc_req_from_json(const cJSON *j, struct pr_alloc_req *r, struct hc_err *err);
/* Parse len bytes of JSON and decode (for request bodies). */
int pr_alloc_req_parse(const char *data, size_t len, struct pr_alloc_req *r, struct hc_err *err);

/* 200 reply to /allocate:
 * {"container": descriptor, "owner": controller id, "owner_url": url, "init": bool} */
struct pr_alloc_reply {
	struct pr_container container;
	char owner[PR_OWNER_MAX];
	char owner_url[PR_URL_MAX]; /* "" when unknown or owner is the caller */
	int init;
};
cJSON *pr_alloc_reply_to_json(const struct pr_alloc_reply *r);
int pr_alloc_reply_from_json(const cJSON *j, struct pr_alloc_reply *r, struct hc_err *err);

/* POST /release, /busy, /discard body: {"container", "controller", "reason"?}.
 * reason only matters for /discard ("timeout", "dead", ...; free text). */
struct pr_container_ref {
	char container[HC_ID_LEN + 1];
	char controller[PR_OWNER_MAX];
	char reason[64];
};
cJSON *pr_container_ref_to_json(const struct pr_container_ref *r);
/* Decode; container must be a valid id (common/id.h). */
int pr_container_ref_from_json(const cJSON *j, struct pr_container_ref *r, struct hc_err *err);
int pr_container_ref_parse(const char *data, size_t len, struct pr_container_ref *r,
			   struct hc_err *err);

/* 503 from a standby: {"error": msg, "leader": url or ""}. */
struct pr_sched_redirect {
	char error[128];
	char leader[PR_URL_MAX];
};
cJSON *pr_sched_redirect_to_json(const struct pr_sched_redirect *r);
int pr_sched_redirect_from_json(const cJSON *j, struct pr_sched_redirect *r, struct hc_err *err);

/* 429 when nothing can be placed: {"error": msg, "retry_after_ms": n}. */
struct pr_sched_busy {
	char error[128];
	int64_t retry_after_ms;
};
cJSON *pr_sched_busy_to_json(const struct pr_sched_busy *r);
int pr_sched_busy_from_json(const cJSON *j, struct pr_sched_busy *r, struct hc_err *err);

/* The leader announcement (PR_CH_LEADER payload and PR_KEY_LEADER_INFO):
 * {"id", "url", "epoch"}. */
struct pr_leader_info {
	char id[PR_OWNER_MAX];
	char url[PR_URL_MAX];
	int64_t epoch;
};
/* Encode as compact JSON text (malloc'd, caller frees) or NULL on ENOMEM. */
char *pr_leader_info_encode(const struct pr_leader_info *li);
int pr_leader_info_decode(const char *data, size_t len, struct pr_leader_info *li,
			  struct hc_err *err);

/* What the leader assigned a container to, kept in PR_KEY_ASSIGNED so a
 * new leader can restore containers that started as stem cells (whose
 * labels on the agent are empty): {"action": "/ns/name", "version", "digest"}. */
struct pr_assignment {
	char action[PR_ACTION_MAX];
	char version[32];
	char digest[PR_DIGEST_MAX];
};
char *pr_assignment_encode(const struct pr_assignment *a);
int pr_assignment_decode(const char *data, size_t len, struct pr_assignment *a, struct hc_err *err);

/* Host events on PR_CH_HOSTS: {"event": "lost"|"joined"|"drained"|
 * "undrained", "agent": agent id}; the leader publishes lost and joined,
 * `hearth host drain|undrain` the other two. When a host is lost, a
 * "destroyed" container event (proto/agent.h) is also published on
 * PR_CH_CONTAINERS for each container it held. */
struct pr_host_event {
	char event[16];
	char agent[PR_OWNER_MAX];
};
char *pr_host_event_encode(const struct pr_host_event *ev);
int pr_host_event_decode(const char *data, size_t len, struct pr_host_event *ev,
			 struct hc_err *err);

/* GET /healthz: {"id","pid","role":"leader"|"standby","epoch","leader"}
 * (leader = the known leader's url, "" when none). */
struct pr_sched_health {
	char id[PR_OWNER_MAX];
	int pid;
	char role[16];
	int64_t epoch;
	char leader[PR_URL_MAX];
};
cJSON *pr_sched_health_to_json(const struct pr_sched_health *h);
int pr_sched_health_from_json(const cJSON *j, struct pr_sched_health *h, struct hc_err *err);

#endif
