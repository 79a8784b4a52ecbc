/* proto/agent.c — JSON of the agent's requests, errors, events and health
 * (the contract is proto/agent.h). */
#include "proto/agent.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"

#define F_KIND	     "kind"
#define F_MEMORY     "memory"
#define F_ACTION     "action"
#define F_VERSION    "version"
#define F_DIGEST     "digest"
#define F_OWNER	     "owner"
#define F_ERROR	     "error"
#define F_USED	     "used"
#define F_REQUESTED  "requested"
#define F_EVENT	     "event"
#define F_CONTAINER  "container"
#define F_AGENT	     "agent"
#define F_ID	     "id"
#define F_PID	     "pid"
#define F_BACKEND    "backend"
#define F_CONTAINERS "containers"

/* Events are tiny; anything bigger is not one of ours. */
#define EVENT_MAX_BYTES 4096

static int add_label(cJSON *j, const char *key, const char *val)
{
	return val[0] ? hc_json_add_str(j, key, val) : 0;
}

cJSON *pr_agent_create_to_json(const struct pr_agent_create *r)
{
	cJSON *j = cJSON_CreateObject();
	if (!j)
		return NULL;
	if (hc_json_add_str(j, F_KIND, r->kind) || hc_json_add_int(j, F_MEMORY, r->memory_mb) ||
	    add_label(j, F_ACTION, r->action) || add_label(j, F_VERSION, r->version) ||
	    add_label(j, F_DIGEST, r->digest) || add_label(j, F_OWNER, r->owner)) {
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

int pr_agent_create_from_json(const cJSON *j, struct pr_agent_create *r, struct hc_err *err)
{
	int64_t mem = 0;

	memset(r, 0, sizeof(*r));
	if (!cJSON_IsObject(j))
		return hc_err_set(err, "create: expected a JSON object");
	if (hc_json_strcpy(j, F_KIND, 1, r->kind, sizeof(r->kind), err) < 0 ||
	    hc_json_int(j, F_MEMORY, 1, 1, PR_AGENT_MEMORY_MAX, &mem, err) < 0 ||
	    hc_json_strcpy(j, F_ACTION, 0, r->action, sizeof(r->action), err) < 0 ||
	    hc_json_strcpy(j, F_VERSION, 0, r->version, sizeof(r->version), err) < 0 ||
	    hc_json_strcpy(j, F_DIGEST, 0, r->digest, sizeof(r->digest), err) < 0 ||
	    hc_json_strcpy(j, F_OWNER, 0, r->owner, sizeof(r->owner), err) < 0)
		return -1;
	if (!r->kind[0])
		return hc_err_set(err, "kind must not be empty");
	r->memory_mb = (int)mem;
	return 0;
}

cJSON *pr_agent_capacity_error(const char *msg, int capacity_mb, int used_mb, int requested_mb)
{
	cJSON *j = cJSON_CreateObject();
	if (!j)
		return NULL;
	if (hc_json_add_str(j, F_ERROR, msg) || hc_json_add_int(j, F_MEMORY, capacity_mb) ||
	    hc_json_add_int(j, F_USED, used_mb) || hc_json_add_int(j, F_REQUESTED, requested_mb)) {
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

int pr_agent_epoch_parse(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < 0)
		return -1;
	*out = v;
	return 0;
}

char *pr_container_event_encode(const struct pr_container_event *ev)
{
	cJSON *j = cJSON_CreateObject();
	char *s = NULL;

	if (!j)
		return NULL;
	if (hc_json_add_str(j, F_EVENT, ev->event) == 0 &&
	    hc_json_add_str(j, F_CONTAINER, ev->container) == 0 &&
	    hc_json_add_str(j, F_AGENT, ev->agent) == 0)
		s = hc_json_print(j);
	cJSON_Delete(j);
	return s;
}

int pr_container_event_decode(const char *data, size_t len, struct pr_container_event *ev,
			      struct hc_err *err)
{
	cJSON *j;
	int rc = -1;

	memset(ev, 0, sizeof(*ev));
	if (len > EVENT_MAX_BYTES)
		return hc_err_set(err, "container event: larger than %d bytes", EVENT_MAX_BYTES);
	j = hc_json_parse(data, len, 4, err);
	if (!j)
		return -1;
	if (!cJSON_IsObject(j)) {
		hc_err_set(err, "container event: expected a JSON object");
		goto out;
	}
	if (hc_json_strcpy(j, F_EVENT, 1, ev->event, sizeof(ev->event), err) < 0 ||
	    hc_json_strcpy(j, F_CONTAINER, 1, ev->container, sizeof(ev->container), err) < 0 ||
	    hc_json_strcpy(j, F_AGENT, 0, ev->agent, sizeof(ev->agent), err) < 0)
		goto out;
	rc = 0;
out:
	cJSON_Delete(j);
	return rc;
}

cJSON *pr_agent_health_to_json(const struct pr_agent_health *h)
{
	cJSON *j = cJSON_CreateObject();
	if (!j)
		return NULL;
	if (hc_json_add_str(j, F_ID, h->id) || hc_json_add_int(j, F_PID, h->pid) ||
	    hc_json_add_str(j, F_BACKEND, h->backend) ||
	    hc_json_add_int(j, F_CONTAINERS, h->containers) ||
	    hc_json_add_int(j, F_MEMORY, h->memory_mb) || hc_json_add_int(j, F_USED, h->used_mb)) {
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

int pr_agent_health_from_json(const cJSON *j, struct pr_agent_health *h, struct hc_err *err)
{
	int64_t pid = 0, n = 0, mem = 0, used = 0;

	memset(h, 0, sizeof(*h));
	if (!cJSON_IsObject(j))
		return hc_err_set(err, "health: expected a JSON object");
	if (hc_json_strcpy(j, F_ID, 1, h->id, sizeof(h->id), err) < 0 ||
	    hc_json_int(j, F_PID, 0, 0, INT32_MAX, &pid, err) < 0 ||
	    hc_json_strcpy(j, F_BACKEND, 0, h->backend, sizeof(h->backend), err) < 0 ||
	    hc_json_int(j, F_CONTAINERS, 0, 0, INT32_MAX, &n, err) < 0 ||
	    hc_json_int(j, F_MEMORY, 0, 0, INT32_MAX, &mem, err) < 0 ||
	    hc_json_int(j, F_USED, 0, 0, INT32_MAX, &used, err) < 0)
		return hc_err_prefix(err, "health");
	h->pid = (int)pid;
	h->containers = (int)n;
	h->memory_mb = (int)mem;
	h->used_mb = (int)used;
	return 0;
}
