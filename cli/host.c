/* cli/host.c — `hearth host list|drain|undrain`: the function hosts (agents)
 * of a cluster and whether new containers may be placed on them.
 *
 * Talks to Redis directly, like `hearth status`. Draining is an operator's
 * decision kept in its own set (PR_KEY_DRAINING), not in the agent's
 * registration, so heartbeats never undo it; the scheduler leader reads it
 * on every refresh, and the PR_CH_HOSTS event makes it act at once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/json.h"
#include "common/redis.h"
#include "proto/agent.h"
#include "proto/keys.h"
#include "proto/scheduler.h"

#define MAX_HOSTS 10000

static const char host_usage[] =
    "usage: hearth host list                 every host that registered: alive, memory, draining\n"
    "       hearth host drain HOST           no new containers on HOST; idle ones are removed\n"
    "       hearth host undrain HOST         place containers on HOST again\n"
    "HOST is an agent id, its URL (http://10.0.0.7:3235) or its address (10.0.0.7).\n"
    "These talk to Redis: --redis URL, HEARTH_REDIS_URL, or $HEARTH_DATA/cluster.env.\n";

static redisContext *host_redis(struct cli_ctx *ctx)
{
	struct hc_redis_opts o;
	struct hc_err err = {{0}};
	redisContext *rc;

	if (!ctx->redis[0]) {
		fprintf(stderr,
			"hearth: no Redis URL; pass --redis URL, set HEARTH_REDIS_URL, or set\n"
			"  HEARTH_DATA to a node's data directory (its cluster.env has it)\n");
		return NULL;
	}
	if (hc_redis_parse_url(ctx->redis, &o, &err) < 0) {
		fprintf(stderr, "hearth: bad Redis URL: %s\n", err.msg);
		return NULL;
	}
	rc = hc_redis_sync_connect(&o, &err);
	if (!rc)
		fprintf(stderr, "hearth: cannot reach Redis at %s:%d: %s\n", o.host, o.port,
			err.msg);
	return rc;
}

static const char *str_of(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : "";
}

/* Every registered host as a JSON array of {agent, alive, draining, url,
 * host, memory, used, containers}; NULL on a Redis error (printed). */
static cJSON *hosts_read(redisContext *r)
{
	struct hc_err err = {{0}};
	redisReply *ids = NULL, *drained = NULL;
	cJSON *arr = NULL;

	ids = hc_redis_sync_cmd(r, &err, "SMEMBERS %s", PR_KEY_AGENTS);
	if (ids)
		drained = hc_redis_sync_cmd(r, &err, "SMEMBERS %s", PR_KEY_DRAINING);
	if (!ids || !drained || ids->type != REDIS_REPLY_ARRAY ||
	    drained->type != REDIS_REPLY_ARRAY) {
		fprintf(stderr, "hearth: cannot read the hosts from Redis: %s\n",
			err.msg[0] ? err.msg : "unexpected reply");
		goto out;
	}
	arr = cJSON_CreateArray();
	for (size_t i = 0; arr && i < ids->elements && i < MAX_HOSTS; i++) {
		const char *id = ids->element[i]->str;
		char key[256];
		int drain = 0;
		redisReply *h;
		cJSON *o = cJSON_CreateObject();

		if (!o || ids->element[i]->type != REDIS_REPLY_STRING) {
			cJSON_Delete(o);
			continue;
		}
		for (size_t k = 0; k < drained->elements; k++)
			if (drained->element[k]->type == REDIS_REPLY_STRING &&
			    !strcmp(drained->element[k]->str, id))
				drain = 1;
		cJSON_AddStringToObject(o, "agent", id);
		snprintf(key, sizeof(key), PR_KEY_AGENT, id);
		h = hc_redis_sync_cmd(r, &err, "HGETALL %s", key);
		for (size_t k = 0; h && h->type == REDIS_REPLY_ARRAY && k + 1 < h->elements;
		     k += 2) {
			const char *f = h->element[k]->str, *v = h->element[k + 1]->str;
			if (!f || !v || !strcmp(f, PR_AGENT_F_ID) ||
			    !strcmp(f, PR_AGENT_F_DRAINING))
				continue;
			cJSON_AddStringToObject(o, f, v);
		}
		cJSON_AddBoolToObject(o, "alive",
				      h && h->type == REDIS_REPLY_ARRAY && h->elements > 0);
		cJSON_AddBoolToObject(o, "draining", drain);
		if (h)
			freeReplyObject(h);
		cJSON_AddItemToArray(arr, o);
	}
out:
	if (ids)
		freeReplyObject(ids);
	if (drained)
		freeReplyObject(drained);
	return arr;
}

/* The agent id HOST names (an id, a URL or an address), into out; -1 when
 * none or more than one matches (printed). */
static int host_resolve(const cJSON *hosts, const char *name, char *out, size_t outlen)
{
	const cJSON *h, *found = NULL;
	int n = 0;

	cJSON_ArrayForEach(h, hosts)
	{
		const char *url = str_of(h, PR_AGENT_F_URL);
		size_t nl = strlen(name);
		int url_host = !strncmp(url, "http://", 7) && !strncmp(url + 7, name, nl) &&
			       (url[7 + nl] == ':' || url[7 + nl] == '/' || !url[7 + nl]);
		if (!strcmp(str_of(h, "agent"), name)) {
			found = h; /* an exact id wins */
			n = 1;
			break;
		}
		if (!strcmp(url, name) || !strcmp(str_of(h, PR_AGENT_F_HOST), name) || url_host) {
			found = h;
			n++;
		}
	}
	if (n != 1) {
		fprintf(stderr, "hearth: %s host '%s'; `hearth host list` shows them\n",
			n ? "more than one" : "no", name);
		return -1;
	}
	snprintf(out, outlen, "%s", str_of(found, "agent"));
	return 0;
}

static int host_list(struct cli_ctx *ctx, redisContext *r)
{
	cJSON *hosts = hosts_read(r);
	const cJSON *h;

	if (!hosts)
		return 1;
	if (ctx->json) {
		cli_print_json(ctx, hosts);
	} else {
		printf("%-34s %-28s %-6s %8s %8s %10s %s\n", "host (agent id)", "url", "alive",
		       "memory", "used", "containers", "draining");
		cJSON_ArrayForEach(h, hosts)
		{
			int alive = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(h, "alive"));
			printf("%-34s %-28s %-6s %8s %8s %10s %s\n", str_of(h, "agent"),
			       alive ? str_of(h, PR_AGENT_F_URL) : "-", alive ? "yes" : "LOST",
			       alive ? str_of(h, PR_AGENT_F_MEMORY) : "-",
			       alive ? str_of(h, PR_AGENT_F_USED) : "-",
			       alive ? str_of(h, PR_AGENT_F_CONTAINERS) : "-",
			       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(h, "draining"))
				   ? "yes"
				   : "no");
		}
	}
	cJSON_Delete(hosts);
	return 0;
}

static int host_drain(struct cli_ctx *ctx, redisContext *r, const char *name, int drain)
{
	struct hc_err err = {{0}};
	struct pr_host_event ev;
	cJSON *hosts = hosts_read(r);
	redisReply *rep = NULL;
	char *msg = NULL;
	int rc = 1;

	if (!hosts || host_resolve(hosts, name, ev.agent, sizeof(ev.agent)) < 0)
		goto out;
	rep = hc_redis_sync_cmd(r, &err, drain ? "SADD %s %s" : "SREM %s %s", PR_KEY_DRAINING,
				ev.agent);
	if (!rep || rep->type == REDIS_REPLY_ERROR) {
		fprintf(stderr, "hearth: cannot update %s: %s\n", PR_KEY_DRAINING,
			rep ? rep->str : err.msg);
		goto out;
	}
	/* Tell the leader now rather than at its next refresh. */
	snprintf(ev.event, sizeof(ev.event), "%s", drain ? "drained" : "undrained");
	msg = pr_host_event_encode(&ev);
	if (msg) {
		freeReplyObject(rep);
		rep = hc_redis_sync_cmd(r, &err, "PUBLISH %s %s", PR_CH_HOSTS, msg);
	}
	if (ctx->json)
		printf("{\"agent\":\"%s\",\"draining\":%s}\n", ev.agent, drain ? "true" : "false");
	else if (drain)
		printf("ok: host %s is draining: no new containers; idle ones are removed\n",
		       ev.agent);
	else
		printf("ok: host %s takes new containers again\n", ev.agent);
	rc = 0;
out:
	free(msg);
	if (rep)
		freeReplyObject(rep);
	cJSON_Delete(hosts);
	return rc;
}

int cli_host(struct cli_ctx *ctx, int argc, char **argv)
{
	redisContext *r;
	int rc;

	if (argc == 2 && !strcmp(argv[1], "--help")) {
		fputs(host_usage, stdout);
		return 0;
	}
	if (!(argc == 2 && !strcmp(argv[1], "list")) &&
	    !(argc == 3 && (!strcmp(argv[1], "drain") || !strcmp(argv[1], "undrain")))) {
		fputs(host_usage, stderr);
		return 2;
	}
	if (!(r = host_redis(ctx)))
		return 3;
	if (!strcmp(argv[1], "list"))
		rc = host_list(ctx, r);
	else
		rc = host_drain(ctx, r, argv[2], !strcmp(argv[1], "drain"));
	redisFree(r);
	return rc;
}
