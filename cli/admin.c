/* cli/admin.c — operator commands that talk to Redis directly:
 * `hearth admin key create|delete`, `hearth admin namespace delete`, and
 * `hearth status` (the cluster at a glance). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/client.h"
#include "common/json.h"
#include "common/redis.h"
#include "proto/auth.h"
#include "proto/keys.h"

static const char admin_usage[] =
	"usage: hearth admin key create NAMESPACE [--cred UUID:KEY]\n"
	"       hearth admin key delete UUID\n"
	"       hearth admin namespace delete NAMESPACE\n"
	"These talk to Redis: --redis URL, HEARTH_REDIS_URL, or $HEARTH_DATA/cluster.env.\n";

static redisContext *connect_redis(struct cli_ctx *ctx)
{
	struct hc_redis_opts o;
	struct hc_err err = {{0}};
	if (!ctx->redis[0]) {
		fprintf(stderr, "hearth: no Redis URL; pass --redis URL, set HEARTH_REDIS_URL, or set\n"
				"  HEARTH_DATA to a node's data directory (its cluster.env has it)\n");
		return NULL;
	}
	if (hc_redis_parse_url(ctx->redis, &o, &err) < 0) {
		fprintf(stderr, "hearth: bad Redis URL: %s\n", err.msg);
		return NULL;
	}
	redisContext *rc = hc_redis_sync_connect(&o, &err);
	if (!rc)
		fprintf(stderr, "hearth: cannot reach Redis at %s:%d: %s\n", o.host, o.port, err.msg);
	return rc;
}

int cli_admin(struct cli_ctx *ctx, int argc, char **argv)
{
	if (argc < 3) {
		fputs(admin_usage, stderr);
		return 2;
	}
	const char *what = argv[1], *sub = argv[2];
	int rc = 1;
	struct hc_err err = {{0}};
	redisContext *r = NULL;
	if (!strcmp(what, "key") && !strcmp(sub, "create") && argc >= 4) {
		const char *cred = NULL;
		if (argc == 6 && !strcmp(argv[4], "--cred"))
			cred = argv[5];
		else if (argc != 4)
			goto usage;
		if (!(r = connect_redis(ctx)))
			return 3;
		char out[PR_AUTH_CRED_LEN + 1];
		if (pr_auth_key_create(r, argv[3], cred, out, &err) < 0) {
			fprintf(stderr, "hearth: cannot create a key: %s\n", err.msg);
			goto out;
		}
		if (ctx->json)
			printf("{\"namespace\":\"%s\",\"auth\":\"%s\"}\n", argv[3], out);
		else
			printf("%s\n", out);
		rc = 0;
	} else if (!strcmp(what, "key") && !strcmp(sub, "delete") && argc == 4) {
		if (!(r = connect_redis(ctx)))
			return 3;
		if (pr_auth_key_delete(r, argv[3], &err) < 0) {
			fprintf(stderr, "hearth: cannot delete the key: %s\n", err.msg);
			goto out;
		}
		printf("ok: deleted key %s\n", argv[3]);
		rc = 0;
	} else if (!strcmp(what, "namespace") && !strcmp(sub, "delete") && argc == 4) {
		if (!(r = connect_redis(ctx)))
			return 3;
		if (pr_auth_ns_delete(r, argv[3], &err) < 0) {
			fprintf(stderr, "hearth: cannot delete the namespace: %s\n", err.msg);
			goto out;
		}
		printf("ok: deleted namespace %s and its keys\n", argv[3]);
		rc = 0;
	} else {
		goto usage;
	}
out:
	if (r)
		redisFree(r);
	return rc;
usage:
	fputs(admin_usage, stderr);
	return 2;
}

/* HGETALL into a JSON object of strings. */
static cJSON *hgetall(redisContext *r, const char *key)
{
	struct hc_err err = {{0}};
	redisReply *rep = hc_redis_sync_cmd(r, &err, "HGETALL %s", key);
	cJSON *o = cJSON_CreateObject();
	for (size_t i = 0; rep && rep->type == REDIS_REPLY_ARRAY && i + 1 < rep->elements; i += 2)
		cJSON_AddStringToObject(o, rep->element[i]->str, rep->element[i + 1]->str);
	if (rep)
		freeReplyObject(rep);
	return o;
}

static const char *field(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : "-";
}

int cli_status(struct cli_ctx *ctx, int argc, char **argv)
{
	redisContext *r = connect_redis(ctx);
	if (!r)
		return 3;
	struct hc_err err = {{0}};
	cJSON *st = cJSON_CreateObject();
	cJSON *leader = hgetall(r, PR_KEY_LEADER_INFO);
	redisReply *lease = hc_redis_sync_cmd(r, &err, "GET %s", PR_KEY_LEADER);
	cJSON_AddStringToObject(leader, "lease_holder",
				lease && lease->type == REDIS_REPLY_STRING ? lease->str : "");
	if (lease)
		freeReplyObject(lease);
	cJSON_AddItemToObject(st, "leader", leader);

	/* the leader's own view of its pools */
	const char *url = field(leader, "url");
	if (strcmp(url, "-") != 0) {
		char u[600];
		snprintf(u, sizeof u, "%s/healthz", url);
		struct hc_request req = {.method = "GET", .url = u, .timeout_ms = 2000};
		struct hc_buf out;
		long code = 0;
		hc_buf_init(&out, 1024 * 1024);
		if (hc_http_sync(&req, &code, &out, NULL) == 0 && code == 200) {
			cJSON *h = hc_json_parse(hc_buf_str(&out), out.len, HC_JSON_MAX_DEPTH, NULL);
			if (h)
				cJSON_AddItemToObject(st, "scheduler", h);
		}
		hc_buf_free(&out);
	}

	cJSON *hosts = cJSON_AddArrayToObject(st, "hosts");
	redisReply *ids = hc_redis_sync_cmd(r, &err, "SMEMBERS %s", PR_KEY_AGENTS);
	for (size_t i = 0; ids && ids->type == REDIS_REPLY_ARRAY && i < ids->elements; i++) {
		char key[256];
		snprintf(key, sizeof key, PR_KEY_AGENT, ids->element[i]->str);
		cJSON *h = hgetall(r, key);
		cJSON_AddStringToObject(h, "agent", ids->element[i]->str);
		cJSON_AddBoolToObject(h, "alive", cJSON_GetArraySize(h) > 1);
		cJSON_AddItemToArray(hosts, h);
	}
	if (ids)
		freeReplyObject(ids);

	if (ctx->json) {
		cli_print_json(ctx, st);
	} else {
		printf("scheduler leader: %s at %s, epoch %s\n", field(leader, "id"), url,
		       field(leader, "epoch"));
		const cJSON *sch = cJSON_GetObjectItemCaseSensitive(st, "scheduler");
		if (sch) {
			char *s = cJSON_PrintUnformatted(sch);
			printf("scheduler state: %s\n", s ? s : "?");
			free(s);
		} else {
			printf("scheduler state: not reachable\n");
		}
		printf("%-34s %-28s %-6s %8s %8s %10s %s\n", "host (agent id)", "url", "alive",
		       "memory", "used", "containers", "draining");
		for (const cJSON *h = hosts->child; h; h = h->next)
			printf("%-34s %-28s %-6s %8s %8s %10s %s\n", field(h, "agent"), field(h, "url"),
			       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(h, "alive")) ? "yes" : "LOST",
			       field(h, "memory"), field(h, "used"), field(h, "containers"),
			       field(h, "draining"));
	}
	cJSON_Delete(st);
	redisFree(r);
	return 0;
}
