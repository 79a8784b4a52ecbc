/* proto/agent.h — messages to and from the agent (hearth-agent).
 *
 * The agent's HTTP API (every route except /healthz and /metrics needs
 * "Authorization: Bearer <cluster token>"):
 *
 *   POST   /containers            body pr_agent_create -> 201 descriptor
 *                                 (proto/container.h); 503 over capacity
 *                                 (pr_agent_capacity_error body)
 *   DELETE /containers/{id}       -> 204; 404 unknown
 *   GET    /containers            -> 200 {"containers":[descriptor...]}
 *   GET    /suspend/{id}          -> 204; 404 unknown; 409 not warm; 500 failed
 *   GET    /resume/{id}           -> 204; 404 unknown; 409 not suspended; 500 failed
 *   GET    /log/{id}?activation=ID[&limit=BYTES]
 *                                 -> 204 lines written to PR_KEY_LOGS;
 *                                    400 unparseable output; 500 failure
 *   GET    /healthz, GET /metrics -> 200
 *
 * Errors are OpenWhisk-shaped: {"error": "...", "code": "<request id>"}.
 *
 * Fencing: mutating calls from the scheduler (create, destroy) carry the
 * scheduler's epoch in PR_AGENT_EPOCH_HEADER. The agent remembers the highest
 * epoch seen (PR_KEY_AGENT_EPOCH) and refuses a lower one with 409. Calls
 * without the header (suspend/resume/log from controllers) are not checked.
 *
 * Suspend of a suspended container and resume of a warm one are refused
 * with 409 (invalid transition), never silently accepted.
 *
 * Registration: the agent keeps the hash PR_KEY_AGENT(id) with the fields
 * below, refreshed every heartbeat with a TTL of 3 heartbeats. */
#ifndef PR_AGENT_H
#define PR_AGENT_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "proto/container.h"

#define PR_AGENT_EPOCH_HEADER "X-Hearth-Epoch"
#define PR_AGENT_DEFAULT_PORT 3235

/* Log markers written by the runtime on stdout and stderr around every
 * activation (see contracts): "<START> <activation id or ->" and "<END>". */
#define PR_LOG_START_MARKER "XXX_THE_START_OF_A_WHISK_ACTIVATION_XXX"
#define PR_LOG_END_MARKER   "XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX"
/* OpenWhisk's default log limit and its truncation message (printf, %lld). */
#define PR_LOG_DEFAULT_LIMIT (10LL * 1024 * 1024)
#define PR_LOG_TRUNCATED_FMT                                                                       \
	"Logs were truncated because the total bytes size exceeds the limit of %lld bytes."

/* Fields of the registration hash PR_KEY_AGENT. */
#define PR_AGENT_F_ID	      "id"
#define PR_AGENT_F_URL	      "url"
#define PR_AGENT_F_HOST	      "host"
#define PR_AGENT_F_MEMORY     "memory"	   /* capacity, MB */
#define PR_AGENT_F_USED	      "used"	   /* MB held by containers */
#define PR_AGENT_F_CONTAINERS "containers" /* count */
#define PR_AGENT_F_DRAINING   "draining"   /* "0" / "1" */

/* POST /containers body. Only kind and memory are needed: the container
 * always starts as a runtime with its kind's interpreter running (a stem
 * cell). action/version/digest/owner are labels the agent records in the
 * descriptor ("" when absent). */
struct pr_agent_create {
	char kind[PR_KIND_MAX];
	int memory_mb; /* 1 .. PR_AGENT_MEMORY_MAX */
	char action[PR_ACTION_MAX];
	char version[32];
	char digest[PR_DIGEST_MAX];
	char owner[PR_OWNER_MAX];
};
#define PR_AGENT_MEMORY_MAX (1024 * 1024) /* MB; a sanity bound, not a policy */

/* Encode (caller frees with cJSON_Delete); NULL on ENOMEM. Empty labels are
 * left out. */
cJSON *pr_agent_create_to_json(const struct pr_agent_create *r);
/* Decode; -1 with err naming the field on bad input (missing kind, memory
 * out of range, a label too long). */
int pr_agent_create_from_json(const cJSON *j, struct pr_agent_create *r, struct hc_err *err);

/* 503 body when a create would exceed the host's memory:
 * {"error": msg, "memory": capacity MB, "used": MB in use, "requested": MB}. */
cJSON *pr_agent_capacity_error(const char *msg, int capacity_mb, int used_mb, int requested_mb);

/* Parse an X-Hearth-Epoch value: a decimal integer >= 0. -1 on garbage. */
int pr_agent_epoch_parse(const char *s, int64_t *out);

/* Container events published on PR_CH_CONTAINERS:
 * {"event": "dead"|"destroyed"|"warm", "container": id, "agent": agent id}. */
struct pr_container_event {
	char event[16];
	char container[HC_ID_LEN + 1];
	char agent[PR_OWNER_MAX];
};
/* Encode as compact JSON text (malloc'd, caller frees) or NULL on ENOMEM. */
char *pr_container_event_encode(const struct pr_container_event *ev);
/* Decode len bytes of JSON; -1 with err on bad input. */
int pr_container_event_decode(const char *data, size_t len, struct pr_container_event *ev,
			      struct hc_err *err);

/* GET /healthz body. */
struct pr_agent_health {
	char id[PR_OWNER_MAX];
	int pid;
	char backend[16]; /* "runc" | "process" */
	int containers;
	int memory_mb;
	int used_mb;
};
cJSON *pr_agent_health_to_json(const struct pr_agent_health *h);
int pr_agent_health_from_json(const cJSON *j, struct pr_agent_health *h, struct hc_err *err);

#endif
