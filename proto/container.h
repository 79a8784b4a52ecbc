/* proto/container.h — the container descriptor shared by agent, scheduler
 * and controller, and the agent's container list.
 *
 * This is the one place the JSON field names of a container are spelled. */
#ifndef PR_CONTAINER_H
#define PR_CONTAINER_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "common/err.h"
#include "common/id.h"

/* The life of a container on its host (agent's view). */
enum pr_cstate {
	PR_CS_CREATING = 0, /* runc run / fork in progress, runtime not answering yet */
	PR_CS_WARM,	    /* running: can take /init and /run */
	PR_CS_SUSPENDED,    /* frozen (cgroup freezer or SIGSTOP) */
	PR_CS_DESTROYING,   /* being removed */
	PR_CS_DEAD,	    /* its process exited; will be removed */
};
const char *pr_cstate_name(enum pr_cstate s); /* "creating", "warm", ... */
int pr_cstate_parse(const char *s, enum pr_cstate *out);

#define PR_KIND_MAX   32
#define PR_ACTION_MAX 256
#define PR_OWNER_MAX  64
#define PR_HOST_MAX   64
#define PR_URL_MAX    128
#define PR_SOCK_MAX   64
/* A runtime's local socket is this prefix and its container's id (an
 * abstract name, common/localnet.h); a controller dials no other name. */
#define PR_SOCK_PREFIX "@hearth-"
#define PR_DIGEST_MAX  65

struct pr_container {
	char id[HC_ID_LEN + 1];
	char agent[PR_URL_MAX]; /* agent base URL, "http://127.0.0.2:3235" */
	char host[PR_HOST_MAX]; /* address the container's runtime listens on */
	int port;
	char sock[PR_SOCK_MAX]; /* the runtime's local socket ("@name", localnet.h) for a
				 * caller on its host, or "": host:port only */
	char kind[PR_KIND_MAX]; /* "nodejs:20", "python:3", "blackbox" */
	int memory_mb;
	enum pr_cstate state;
	char action[PR_ACTION_MAX]; /* "/ns/name" of the initialised action; "" = stem cell */
	char version[32];	    /* action version it was initialised with */
	char digest[PR_DIGEST_MAX]; /* code digest; "" = stem cell */
	char owner[PR_OWNER_MAX];   /* controller id that owns it; "" = none */
	int pid;
	uint64_t created_ms;
	uint64_t last_used_ms;
};

/* Encode as a JSON object (caller frees with cJSON_Delete); NULL on ENOMEM. */
cJSON *pr_container_to_json(const struct pr_container *c);

/* Decode; missing optional fields are zero/empty. -1 with err on bad input. */
int pr_container_from_json(const cJSON *j, struct pr_container *c, struct hc_err *err);

/* {"containers":[...]} — encode n descriptors / decode into a malloc'd array
 * (*out, *n; caller frees). */
cJSON *pr_container_list_to_json(const struct pr_container *cs, int n);
int pr_container_list_from_json(const cJSON *j, struct pr_container **out, int *n,
				struct hc_err *err);

#endif
