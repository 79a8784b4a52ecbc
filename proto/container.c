/* proto/container.c — JSON encoding of the container descriptor and the
 * agent's container list (the contract is proto/container.h).
 *
 * Every JSON field name of a container is spelled here and nowhere else. */
#include "proto/container.h"

#include <stdlib.h>
#include <string.h>

#include "common/json.h"

#define F_ID	     "id"
#define F_AGENT	     "agent"
#define F_HOST	     "host"
#define F_PORT	     "port"
#define F_SOCKET     "socket"
#define F_KIND	     "kind"
#define F_MEMORY     "memory"
#define F_STATE	     "state"
#define F_ACTION     "action"
#define F_VERSION    "version"
#define F_DIGEST     "digest"
#define F_OWNER	     "owner"
#define F_PID	     "pid"
#define F_CREATED    "created"
#define F_LAST_USED  "last_used"
#define F_CONTAINERS "containers"

/* A list longer than this is not something one agent can hold. */
#define LIST_MAX 100000

static const char *const state_names[] = {
    [PR_CS_CREATING] = "creating",     [PR_CS_WARM] = "warm", [PR_CS_SUSPENDED] = "suspended",
    [PR_CS_DESTROYING] = "destroying", [PR_CS_DEAD] = "dead",
};

const char *pr_cstate_name(enum pr_cstate s)
{
	if ((unsigned)s >= sizeof(state_names) / sizeof(state_names[0]))
		return "unknown";
	return state_names[s];
}

int pr_cstate_parse(const char *s, enum pr_cstate *out)
{
	if (!s)
		return -1;
	for (size_t i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++) {
		if (strcmp(s, state_names[i]) == 0) {
			*out = (enum pr_cstate)i;
			return 0;
		}
	}
	return -1;
}

cJSON *pr_container_to_json(const struct pr_container *c)
{
	cJSON *j = cJSON_CreateObject();
	if (!j)
		return NULL;
	if (hc_json_add_str(j, F_ID, c->id) || hc_json_add_str(j, F_AGENT, c->agent) ||
	    hc_json_add_str(j, F_HOST, c->host) || hc_json_add_int(j, F_PORT, c->port) ||
	    (c->sock[0] && hc_json_add_str(j, F_SOCKET, c->sock)) ||
	    hc_json_add_str(j, F_KIND, c->kind) || hc_json_add_int(j, F_MEMORY, c->memory_mb) ||
	    hc_json_add_str(j, F_STATE, pr_cstate_name(c->state)) ||
	    hc_json_add_str(j, F_ACTION, c->action) || hc_json_add_str(j, F_VERSION, c->version) ||
	    hc_json_add_str(j, F_DIGEST, c->digest) || hc_json_add_str(j, F_OWNER, c->owner) ||
	    hc_json_add_int(j, F_PID, c->pid) ||
	    hc_json_add_int(j, F_CREATED, (int64_t)c->created_ms) ||
	    hc_json_add_int(j, F_LAST_USED, (int64_t)c->last_used_ms)) {
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

int pr_container_from_json(const cJSON *j, struct pr_container *c, struct hc_err *err)
{
	const char *state = NULL;
	int64_t port = 0, memory = 0, pid = 0, created = 0, last_used = 0;

	memset(c, 0, sizeof(*c));
	if (!cJSON_IsObject(j))
		return hc_err_set(err, "container: expected a JSON object");
	if (hc_json_strcpy(j, F_ID, 1, c->id, sizeof(c->id), err) < 0)
		return hc_err_prefix(err, "container");
	if (!hc_id_valid(c->id))
		return hc_err_set(err, "container: id must be %d hex characters", HC_ID_LEN);
	if (hc_json_strcpy(j, F_AGENT, 0, c->agent, sizeof(c->agent), err) < 0 ||
	    hc_json_strcpy(j, F_HOST, 0, c->host, sizeof(c->host), err) < 0 ||
	    hc_json_int(j, F_PORT, 0, 0, 65535, &port, err) < 0 ||
	    hc_json_strcpy(j, F_SOCKET, 0, c->sock, sizeof(c->sock), err) < 0 ||
	    hc_json_strcpy(j, F_KIND, 0, c->kind, sizeof(c->kind), err) < 0 ||
	    hc_json_int(j, F_MEMORY, 0, 0, 1 << 30, &memory, err) < 0 ||
	    hc_json_str(j, F_STATE, 0, &state, err) < 0 ||
	    hc_json_strcpy(j, F_ACTION, 0, c->action, sizeof(c->action), err) < 0 ||
	    hc_json_strcpy(j, F_VERSION, 0, c->version, sizeof(c->version), err) < 0 ||
	    hc_json_strcpy(j, F_DIGEST, 0, c->digest, sizeof(c->digest), err) < 0 ||
	    hc_json_strcpy(j, F_OWNER, 0, c->owner, sizeof(c->owner), err) < 0 ||
	    hc_json_int(j, F_PID, 0, 0, 1 << 30, &pid, err) < 0 ||
	    hc_json_int(j, F_CREATED, 0, 0, INT64_MAX, &created, err) < 0 ||
	    hc_json_int(j, F_LAST_USED, 0, 0, INT64_MAX, &last_used, err) < 0)
		return hc_err_prefix(err, "container %s", c->id);
	if (state && pr_cstate_parse(state, &c->state) < 0)
		return hc_err_set(err, "container %s: unknown state \"%.32s\"", c->id, state);
	c->port = (int)port;
	c->memory_mb = (int)memory;
	c->pid = (int)pid;
	c->created_ms = (uint64_t)created;
	c->last_used_ms = (uint64_t)last_used;
	return 0;
}

cJSON *pr_container_list_to_json(const struct pr_container *cs, int n)
{
	cJSON *j = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(j, F_CONTAINERS);
	if (!j || !arr)
		goto fail;
	for (int i = 0; i < n; i++) {
		cJSON *one = pr_container_to_json(&cs[i]);
		if (!one)
			goto fail;
		cJSON_AddItemToArray(arr, one);
	}
	return j;
fail:
	cJSON_Delete(j);
	return NULL;
}

int pr_container_list_from_json(const cJSON *j, struct pr_container **out, int *n,
				struct hc_err *err)
{
	const cJSON *arr = NULL, *it;
	struct pr_container *cs = NULL;
	int count, i = 0;

	*out = NULL;
	*n = 0;
	if (!cJSON_IsObject(j))
		return hc_err_set(err, "container list: expected a JSON object");
	if (hc_json_arr(j, F_CONTAINERS, 1, &arr, err) < 0)
		return -1;
	count = cJSON_GetArraySize(arr);
	if (count > LIST_MAX)
		return hc_err_set(err, "container list: more than %d containers", LIST_MAX);
	if (count > 0) {
		cs = calloc((size_t)count, sizeof(*cs));
		if (!cs)
			return hc_err_set(err, "container list: out of memory");
	}
	if (count == 0)
		return 0;
	cJSON_ArrayForEach(it, arr)
	{
		if (i >= count || !cs)
			break;
		if (pr_container_from_json(it, &cs[i], err) < 0) {
			free(cs);
			return hc_err_prefix(err, "containers[%d]", i);
		}
		i++;
	}
	*out = cs;
	*n = count;
	return 0;
}
