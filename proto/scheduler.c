/* proto/scheduler.c — JSON encoding of the scheduler's API messages and the
 * leader announcement (the contract is proto/scheduler.h).
 *
 * Every JSON field name of these messages is spelled here and nowhere else. */
#include "proto/scheduler.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"

#define F_NAMESPACE   "namespace"
#define F_NAME	      "name"
#define F_VERSION     "version"
#define F_KIND	      "kind"
#define F_MEMORY      "memory"
#define F_DIGEST      "digest"
#define F_CONTROLLER  "controller"
#define F_CONCURRENCY "concurrency"
#define F_WAIT_MS     "wait_ms"
#define F_CONTAINER   "container"
#define F_OWNER	      "owner"
#define F_OWNER_URL   "owner_url"
#define F_INIT	      "init"
#define F_REASON      "reason"
#define F_ERROR	      "error"
#define F_LEADER      "leader"
#define F_RETRY_AFTER "retry_after_ms"
#define F_ROLE	      "role"
#define F_PID	      "pid"
#define F_EVENT	      "event"
#define F_ACTION      "action"
#define F_AGENT	      "agent"

/* Messages here are small and flat; deeper nesting is garbage. */
#define MAX_DEPTH 8

#define DEFAULT_WAIT_MS 10000
#define MAX_WAIT_MS	300000

/* Names travel inside keys and "/ns/name" strings: no '/' and not empty. */
static int check_segment(const char *what, const char *s, struct hc_err *err)
{
	if (!*s)
		return hc_err_set(err, "%s must not be empty", what);
	if (strchr(s, '/'))
		return hc_err_set(err, "%s must not contain '/'", what);
	return 0;
}

cJSON *pr_alloc_req_to_json(const struct pr_alloc_req *r)
{
	cJSON *j = cJSON_CreateObject();
	if (!j)
		return NULL;
	if (hc_json_add_str(j, F_NAMESPACE, r->ns) || hc_json_add_str(j, F_NAME, r->name) ||
	    hc_json_add_str(j, F_VERSION, r->version) || hc_json_add_str(j, F_KIND, r->kind) ||
	    hc_json_add_int(j, F_MEMORY, r->memory_mb) || hc_json_add_str(j, F_DIGEST, r->digest) ||
	    hc_json_add_str(j, F_CONTROLLER, r->controller) ||
	    hc_json_add_int(j, F_CONCURRENCY, r->concurrency > 0 ? r->concurrency : 1) ||
	    hc_json_add_int(j, F_WAIT_MS, r->wait_ms > 0 ? r->wait_ms : DEFAULT_WAIT_MS)) {
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

int pr_alloc_req_from_json(const cJSON *j, struct pr_alloc_req *r, struct hc_err *err)
{
	int64_t memory = 0, conc = 1, wait = DEFAULT_WAIT_MS;

	memset(r, 0, sizeof(*r));
	if (!cJSON_IsObject(j))
		return hc_err_set(err, "allocate: expected a JSON object");
	if (hc_json_strcpy(j, F_NAMESPACE, 1, r->ns, sizeof(r->ns), err) < 0 ||
	    hc_json_strcpy(j, F_NAME, 1, r->name, sizeof(r->name), err) < 0 ||
	    hc_json_strcpy(j, F_VERSION, 1, r->version, sizeof(r->version), err) < 0 ||
	    hc_json_strcpy(j, F_KIND, 1, r->kind, sizeof(r->kind), err) < 0 ||
	    hc_json_int(j, F_MEMORY, 1, 1, PR_SCHED_MEMORY_MAX, &memory, err) < 0 ||
	    hc_json_strcpy(j, F_DIGEST, 0, r->digest, sizeof(r->digest), err) < 0 ||
	    hc_json_strcpy(j, F_CONTROLLER, 1, r->controller, sizeof(r->controller), err) < 0 ||
	    hc_json_int(j, F_CONCURRENCY, 0, 1, 1000, &conc, err) < 0 ||
	    hc_json_int(j, F_WAIT_MS, 0, 1, MAX_WAIT_MS, &wait, err) < 0)
		return hc_err_prefix(err, "allocate");
	if (check_segment(F_NAMESPACE, r->ns, err) < 0 || check_segment(F_KIND, r->kind, err) < 0 ||
	    check_segment(F_CONTROLLER, r->controller, err) < 0)
		return hc_err_prefix(err, "allocate");
	if (!r->name[0] || r->name[0] == '/' || r->name[strlen(r->name) - 1] == '/')
		return hc_err_set(err, "allocate: name must not be empty or start or end with '/'");
	r->memory_mb = (int)memory;
	r->concurrency = (int)conc;
	r->wait_ms = wait;
	return 0;
}

int pr_alloc_req_parse(const char *data, size_t len, struct pr_alloc_req *r, struct hc_err *err)
{
	cJSON *j = hc_json_parse(data, len, MAX_DEPTH, err);
	int rc;

	if (!j) {
		memset(r, 0, sizeof(*r));
		return hc_err_prefix(err, "allocate");
	}
	rc = pr_alloc_req_from_json(j, r, err);
	cJSON_Delete(j);
	return rc;
}

cJSON *pr_alloc_reply_to_json(const struct pr_alloc_reply *r)
{
	cJSON *j = cJSON_CreateObject();
	cJSON *c = pr_container_to_json(&r->container);
	if (!j || !c)
		goto fail;
	cJSON_AddItemToObject(j, F_CONTAINER, c);
	c = NULL;
	if (hc_json_add_str(j, F_OWNER, r->owner) ||
	    hc_json_add_str(j, F_OWNER_URL, r->owner_url) || hc_json_add_bool(j, F_INIT, r->init))
		goto fail;
	return j;
fail:
	cJSON_Delete(c);
	cJSON_Delete(j);
	return NULL;
}

int pr_alloc_reply_from_json(const cJSON *j, struct pr_alloc_reply *r, struct hc_err *err)
{
	const cJSON *c = NULL;
	int init = 0;

	memset(r, 0, sizeof(*r));
	if (!cJSON_IsObject(j))
		return hc_err_set(err, "allocation: expected a JSON object");
	if (hc_json_obj(j, F_CONTAINER, 1, &c, err) < 0 ||
	    hc_json_strcpy(j, F_OWNER, 1, r->owner, sizeof(r->owner), err) < 0 ||
	    hc_json_strcpy(j, F_OWNER_URL, 0, r->owner_url, sizeof(r->owner_url), err) < 0 ||
	    hc_json_bool(j, F_INIT, 1, &init, err) < 0)
		return hc_err_prefix(err, "allocation");
	if (pr_container_from_json(c, &r->container, err) < 0)
		return hc_err_prefix(err, "allocation");
	r->init = init != 0;
	return 0;
}

cJSON *pr_container_ref_to_json(const struct pr_container_ref *r)
{
	cJSON *j = cJSON_CreateObject();
	if (!j)
		return NULL;
	if (hc_json_add_str(j, F_CONTAINER, r->container) ||
	    hc_json_add_str(j, F_CONTROLLER, r->controller) ||
	    (r->reason[0] && hc_json_add_str(j, F_REASON, r->reason))) {
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

int pr_container_ref_from_json(const cJSON *j, struct pr_container_ref *r, struct hc_err *err)
{
	memset(r, 0, sizeof(*r));
	if (!cJSON_IsObject(j))
		return hc_err_set(err, "container reference: expected a JSON object");
	if (hc_json_strcpy(j, F_CONTAINER, 1, r->container, sizeof(r->container), err) < 0 ||
	    hc_json_strcpy(j, F_CONTROLLER, 1, r->controller, sizeof(r->controller), err) < 0)
		return hc_err_prefix(err, "container reference");
	if (!hc_id_valid(r->container))
		return hc_err_set(err, "container reference: container must be %d hex characters",
				  HC_ID_LEN);
	/* The reason is free text for logs: keep what fits rather than refuse. */
	const char *reason = NULL;
	if (hc_json_str(j, F_REASON, 0, &reason, err) < 0)
		return hc_err_prefix(err, "container reference");
	if (reason)
		snprintf(r->reason, sizeof(r->reason), "%s", reason);
	return 0;
}

int pr_container_ref_parse(const char *data, size_t len, struct pr_container_ref *r,
			   struct hc_err *err)
{
	cJSON *j = hc_json_parse(data, len, MAX_DEPTH, err);
	int rc;

	if (!j) {
		memset(r, 0, sizeof(*r));
		return hc_err_prefix(err, "container reference");
	}
	rc = pr_container_ref_from_json(j, r, err);
	cJSON_Delete(j);
	return rc;
}

cJSON *pr_sched_redirect_to_json(const struct pr_sched_redirect *r)
{
	cJSON *j = cJSON_CreateObject();
	if (!j)
		return NULL;
	if (hc_json_add_str(j, F_ERROR, r->error) || hc_json_add_str(j, F_LEADER, r->leader)) {
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

int pr_sched_redirect_from_json(const cJSON *j, struct pr_sched_redirect *r, struct hc_err *err)
{
	const char *msg = NULL;

	memset(r, 0, sizeof(*r));
	if (!cJSON_IsObject(j))
		return hc_err_set(err, "redirect: expected a JSON object");
	if (hc_json_str(j, F_ERROR, 0, &msg, err) < 0 ||
	    hc_json_strcpy(j, F_LEADER, 0, r->leader, sizeof(r->leader), err) < 0)
		return hc_err_prefix(err, "redirect");
	if (msg)
		snprintf(r->error, sizeof(r->error), "%s", msg);
	return 0;
}

cJSON *pr_sched_busy_to_json(const struct pr_sched_busy *r)
{
	cJSON *j = cJSON_CreateObject();
	if (!j)
		return NULL;
	if (hc_json_add_str(j, F_ERROR, r->error) ||
	    hc_json_add_int(j, F_RETRY_AFTER, r->retry_after_ms)) {
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

int pr_sched_busy_from_json(const cJSON *j, struct pr_sched_busy *r, struct hc_err *err)
{
	const char *msg = NULL;

	memset(r, 0, sizeof(*r));
	if (!cJSON_IsObject(j))
		return hc_err_set(err, "busy reply: expected a JSON object");
	if (hc_json_str(j, F_ERROR, 0, &msg, err) < 0 ||
	    hc_json_int(j, F_RETRY_AFTER, 1, 0, 3600000, &r->retry_after_ms, err) < 0)
		return hc_err_prefix(err, "busy reply");
	if (msg)
		snprintf(r->error, sizeof(r->error), "%s", msg);
	return 0;
}

char *pr_leader_info_encode(const struct pr_leader_info *li)
{
	cJSON *j = cJSON_CreateObject();
	char *s = NULL;

	if (!j)
		return NULL;
	if (hc_json_add_str(j, PR_SCHED_F_ID, li->id) ||
	    hc_json_add_str(j, PR_SCHED_F_URL, li->url) ||
	    hc_json_add_int(j, PR_SCHED_F_EPOCH, li->epoch))
		goto out;
	s = hc_json_print(j);
out:
	cJSON_Delete(j);
	return s;
}

int pr_leader_info_decode(const char *data, size_t len, struct pr_leader_info *li,
			  struct hc_err *err)
{
	cJSON *j;
	int rc = -1;

	memset(li, 0, sizeof(*li));
	j = hc_json_parse(data, len, MAX_DEPTH, err);
	if (!j)
		return hc_err_prefix(err, "leader info");
	if (!cJSON_IsObject(j)) {
		hc_err_set(err, "leader info: expected a JSON object");
		goto out;
	}
	if (hc_json_strcpy(j, PR_SCHED_F_ID, 1, li->id, sizeof(li->id), err) < 0 ||
	    hc_json_strcpy(j, PR_SCHED_F_URL, 1, li->url, sizeof(li->url), err) < 0 ||
	    hc_json_int(j, PR_SCHED_F_EPOCH, 1, 0, INT64_MAX, &li->epoch, err) < 0) {
		hc_err_prefix(err, "leader info");
		goto out;
	}
	rc = 0;
out:
	cJSON_Delete(j);
	return rc;
}

cJSON *pr_sched_health_to_json(const struct pr_sched_health *h)
{
	cJSON *j = cJSON_CreateObject();
	if (!j)
		return NULL;
	if (hc_json_add_str(j, PR_SCHED_F_ID, h->id) || hc_json_add_int(j, F_PID, h->pid) ||
	    hc_json_add_str(j, F_ROLE, h->role) || hc_json_add_int(j, PR_SCHED_F_EPOCH, h->epoch) ||
	    hc_json_add_str(j, F_LEADER, h->leader)) {
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

int pr_sched_health_from_json(const cJSON *j, struct pr_sched_health *h, struct hc_err *err)
{
	int64_t pid = 0;

	memset(h, 0, sizeof(*h));
	if (!cJSON_IsObject(j))
		return hc_err_set(err, "scheduler health: expected a JSON object");
	if (hc_json_strcpy(j, PR_SCHED_F_ID, 1, h->id, sizeof(h->id), err) < 0 ||
	    hc_json_int(j, F_PID, 0, 0, INT32_MAX, &pid, err) < 0 ||
	    hc_json_strcpy(j, F_ROLE, 1, h->role, sizeof(h->role), err) < 0 ||
	    hc_json_int(j, PR_SCHED_F_EPOCH, 0, 0, INT64_MAX, &h->epoch, err) < 0 ||
	    hc_json_strcpy(j, F_LEADER, 0, h->leader, sizeof(h->leader), err) < 0)
		return hc_err_prefix(err, "scheduler health");
	h->pid = (int)pid;
	return 0;
}

char *pr_host_event_encode(const struct pr_host_event *ev)
{
	cJSON *j = cJSON_CreateObject();
	char *s = NULL;

	if (!j)
		return NULL;
	if (hc_json_add_str(j, F_EVENT, ev->event) || hc_json_add_str(j, F_AGENT, ev->agent))
		goto out;
	s = hc_json_print(j);
out:
	cJSON_Delete(j);
	return s;
}

int pr_host_event_decode(const char *data, size_t len, struct pr_host_event *ev, struct hc_err *err)
{
	cJSON *j;
	int rc = -1;

	memset(ev, 0, sizeof(*ev));
	j = hc_json_parse(data, len, MAX_DEPTH, err);
	if (!j)
		return hc_err_prefix(err, "host event");
	if (hc_json_strcpy(j, F_EVENT, 1, ev->event, sizeof(ev->event), err) < 0 ||
	    hc_json_strcpy(j, F_AGENT, 1, ev->agent, sizeof(ev->agent), err) < 0) {
		hc_err_prefix(err, "host event");
		goto out;
	}
	rc = 0;
out:
	cJSON_Delete(j);
	return rc;
}

char *pr_assignment_encode(const struct pr_assignment *a)
{
	cJSON *j = cJSON_CreateObject();
	char *s = NULL;

	if (!j)
		return NULL;
	if (hc_json_add_str(j, F_ACTION, a->action) || hc_json_add_str(j, F_VERSION, a->version) ||
	    hc_json_add_str(j, F_DIGEST, a->digest))
		goto out;
	s = hc_json_print(j);
out:
	cJSON_Delete(j);
	return s;
}

int pr_assignment_decode(const char *data, size_t len, struct pr_assignment *a, struct hc_err *err)
{
	cJSON *j;
	int rc = -1;

	memset(a, 0, sizeof(*a));
	j = hc_json_parse(data, len, MAX_DEPTH, err);
	if (!j)
		return hc_err_prefix(err, "assignment");
	if (hc_json_strcpy(j, F_ACTION, 1, a->action, sizeof(a->action), err) < 0 ||
	    hc_json_strcpy(j, F_VERSION, 0, a->version, sizeof(a->version), err) < 0 ||
	    hc_json_strcpy(j, F_DIGEST, 0, a->digest, sizeof(a->digest), err) < 0) {
		hc_err_prefix(err, "assignment");
		goto out;
	}
	rc = 0;
out:
	cJSON_Delete(j);
	return rc;
}
