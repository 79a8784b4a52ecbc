/* scheduler/agents.c — the pool's decisions carried out on agents
 * (agents.h), and GET {agent}/containers for the failover rebuild. */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/client.h"
#include "common/clock.h"
#include "common/json.h"
#include "common/log.h"
#include "common/str.h"
#include "proto/agent.h"
#include "scheduler/agents.h"
#include "scheduler/election.h"

#define MAX_LIST_RESPONSE (32u << 20)

enum call_kind { CALL_CREATE, CALL_DESTROY, CALL_ORPHAN, CALL_LIST };

struct agent_call {
	struct sch *s;
	enum call_kind kind;
	uint64_t gen;
	uint64_t seq;
	char host_id[PR_OWNER_MAX];
	char url[PR_URL_MAX];
	sch_list_cb list_cb;
};

/* Headers: token and (for mutations) our epoch. */
static void headers(struct sch *s, int epoch, char auth[320], char ep[64], const char *hs[4])
{
	int n = 0;

	if (s->cfg.token && s->cfg.token[0]) {
		snprintf(auth, 320, "Authorization: Bearer %.256s", s->cfg.token);
		hs[n++] = auth;
	}
	if (epoch) {
		snprintf(ep, 64, "%s: %lld", PR_AGENT_EPOCH_HEADER, (long long)s->lease.epoch);
		hs[n++] = ep;
	}
	hs[n++] = "Content-Type: application/json";
	hs[n] = NULL;
}

/* Called when the pool cannot be told synchronously (inside a pool op). */
static void deliver_failure(evutil_socket_t fd, short what, void *arg)
{
	struct agent_call *call = arg;
	struct sch *s = call->s;

	if (s->pool && call->gen == s->generation) {
		if (call->kind == CALL_CREATE)
			sch_pool_create_failed(s->pool, call->seq, "request not started");
		else if (call->kind == CALL_DESTROY)
			sch_pool_destroyed(s->pool, call->seq);
	}
	free(call);
}

static void fail_later(struct agent_call *call)
{
	if (event_base_once(call->s->base, -1, EV_TIMEOUT, deliver_failure, call, NULL) < 0)
		free(call);
}

static void destroy_orphan(struct sch *s, const char *agent_url, const char *id);

static void on_done(const struct hc_response *resp, void *arg)
{
	struct agent_call *call = arg;
	struct sch *s = call->s;
	int current = s->pool && call->gen == s->generation;
	struct hc_err err = {{0}};

	if (resp->status == 409 && call->kind != CALL_LIST && call->kind != CALL_ORPHAN &&
	    call->gen == s->generation) {
		hc_warn("agent %s refused epoch %lld: a newer leader exists", call->url,
			(long long)s->lease.epoch);
		sch_election_resign(s, "an agent refused our epoch");
		free(call);
		return;
	}
	switch (call->kind) {
	case CALL_CREATE:
		if (resp->status == 201) {
			struct pr_container d;
			cJSON *j = hc_json_parse(resp->body, resp->body_len, 16, &err);
			int ok = j && pr_container_from_json(j, &d, &err) == 0;
			cJSON_Delete(j);
			if (!ok) {
				hc_warn("agent %s: bad create reply: %s", call->url, err.msg);
				if (current)
					sch_pool_create_failed(s->pool, call->seq, "bad reply");
				break;
			}
			if (!current)
				break; /* a later leader's rebuild reclaims it */
			if (sch_pool_created(s->pool, call->seq, &d) < 0)
				destroy_orphan(s, call->url, d.id);
			break;
		}
		hc_warn("agent %s: create failed: status=%ld %s%.200s", call->url, resp->status,
			resp->error ? resp->error : "", resp->body);
		if (current)
			sch_pool_create_failed(s->pool, call->seq, "agent refused");
		break;
	case CALL_DESTROY:
		if (resp->status != 204 && resp->status != 404)
			hc_warn("agent %s: destroy failed: status=%ld %s", call->url, resp->status,
				resp->error ? resp->error : "");
		/* Forget it either way: a later rebuild reclaims what is left. */
		if (current)
			sch_pool_destroyed(s->pool, call->seq);
		break;
	case CALL_ORPHAN:
		break;
	case CALL_LIST: {
		struct pr_container *list = NULL;
		int n = 0, ok = 0;
		if (resp->status == 200) {
			cJSON *j = hc_json_parse(resp->body, resp->body_len, 16, &err);
			ok = j && pr_container_list_from_json(j, &list, &n, &err) == 0;
			cJSON_Delete(j);
		}
		if (!ok)
			hc_warn("agent %s: GET /containers failed: status=%ld %s%s", call->url,
				resp->status, resp->error ? resp->error : "", err.msg);
		call->list_cb(s, call->host_id, ok ? list : NULL, ok ? n : -1, call->gen);
		free(list);
		break;
	}
	}
	free(call);
}

static struct agent_call *new_call(struct sch *s, enum call_kind kind, const char *url)
{
	struct agent_call *call = calloc(1, sizeof(*call));
	if (!call)
		return NULL;
	call->s = s;
	call->kind = kind;
	call->gen = s->generation;
	hc_strlcpy(call->url, url, sizeof(call->url));
	return call;
}

void sch_agent_create(struct sch *s, const struct sch_container *c)
{
	struct agent_call *call = new_call(s, CALL_CREATE, c->host->url);
	struct pr_agent_create body;
	char auth[320], ep[64], url[PR_URL_MAX + 32], *text = NULL;
	const char *hs[4];
	cJSON *j;

	if (!call)
		return; /* ENOMEM: the slot stays "creating" until its host is dropped */
	call->seq = c->seq;
	/* Check the clock before every mutation: a lapsed leader sends nothing. */
	if (!sch_lease_may_act(&s->lease, hc_mono_us())) {
		sch_election_resign_soon(s);
		fail_later(call);
		return;
	}
	memset(&body, 0, sizeof(body));
	hc_strlcpy(body.kind, c->desc.kind, sizeof(body.kind));
	body.memory_mb = c->desc.memory_mb;
	hc_strlcpy(body.action, c->desc.action, sizeof(body.action));
	hc_strlcpy(body.version, c->desc.version, sizeof(body.version));
	hc_strlcpy(body.digest, c->desc.digest, sizeof(body.digest));
	j = pr_agent_create_to_json(&body);
	text = j ? hc_json_print(j) : NULL;
	cJSON_Delete(j);
	if (!text) {
		fail_later(call);
		return;
	}
	headers(s, 1, auth, ep, hs);
	snprintf(url, sizeof(url), "%s/containers", c->host->url);
	struct hc_request req = {.method = "POST",
				 .url = url,
				 .headers = hs,
				 .body = text,
				 .body_len = strlen(text),
				 .timeout_ms = s->cfg.create_timeout_ms};
	if (!hc_client_request(s->client, &req, on_done, call))
		fail_later(call);
	free(text);
}

void sch_agent_destroy(struct sch *s, const struct sch_container *c)
{
	struct agent_call *call = new_call(s, CALL_DESTROY, c->host->url);
	char auth[320], ep[64], url[PR_URL_MAX + 64];
	const char *hs[4];

	if (!call)
		return;
	call->seq = c->seq;
	if (!sch_lease_may_act(&s->lease, hc_mono_us())) {
		sch_election_resign_soon(s);
		fail_later(call);
		return;
	}
	headers(s, 1, auth, ep, hs);
	snprintf(url, sizeof(url), "%s/containers/%s", c->host->url, c->desc.id);
	struct hc_request req = {
	    .method = "DELETE", .url = url, .headers = hs, .timeout_ms = s->cfg.agent_timeout_ms};
	if (!hc_client_request(s->client, &req, on_done, call))
		fail_later(call);
}

/* DELETE a container the pool does not track (an orphan). */
static void destroy_orphan(struct sch *s, const char *agent_url, const char *id)
{
	struct agent_call *call;
	char auth[320], ep[64], url[PR_URL_MAX + 64];
	const char *hs[4];

	if (!sch_lease_may_act(&s->lease, hc_mono_us()))
		return;
	call = new_call(s, CALL_ORPHAN, agent_url);
	if (!call)
		return;
	headers(s, 1, auth, ep, hs);
	snprintf(url, sizeof(url), "%s/containers/%s", agent_url, id);
	struct hc_request req = {
	    .method = "DELETE", .url = url, .headers = hs, .timeout_ms = s->cfg.agent_timeout_ms};
	if (!hc_client_request(s->client, &req, on_done, call))
		free(call);
}

int sch_agent_list(struct sch *s, const char *host_id, const char *agent_url, sch_list_cb cb)
{
	struct agent_call *call = new_call(s, CALL_LIST, agent_url);
	char auth[320], ep[64], url[PR_URL_MAX + 32];
	const char *hs[4];

	if (!call)
		return -1;
	hc_strlcpy(call->host_id, host_id, sizeof(call->host_id));
	call->list_cb = cb;
	headers(s, 0, auth, ep, hs);
	snprintf(url, sizeof(url), "%s/containers", agent_url);
	struct hc_request req = {.method = "GET",
				 .url = url,
				 .headers = hs,
				 .timeout_ms = s->cfg.agent_timeout_ms,
				 .max_response = MAX_LIST_RESPONSE};
	if (!hc_client_request(s->client, &req, on_done, call)) {
		free(call);
		return -1;
	}
	return 0;
}
