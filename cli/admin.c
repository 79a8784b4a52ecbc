/* cli/admin.c — operator commands that talk to Redis directly:
 * `hearth admin key create|delete`, `hearth admin namespace delete`, and
 * `hearth status` (the cluster at a glance: the leader and its pools by
 * state, every controller with its containers and queue, every host). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/client.h"
#include "common/json.h"
#include "common/redis.h"
#include "proto/auth.h"
#include "proto/keys.h"
#include "proto/limits.h"
#include "proto/scheduler.h"

static const char admin_usage[] =
    "usage: hearth admin key create NAMESPACE [--cred UUID:KEY]\n"
    "       hearth admin key delete UUID\n"
    "       hearth admin namespace delete NAMESPACE\n"
    "       hearth admin limits NAMESPACE [--invocations-per-minute N] [--concurrent N]\n"
    "                           [--fires-per-minute N] [--actions N] [--code-bytes SIZE]\n"
    "                           [--log-bytes SIZE] [--reset]\n"
    "           one namespace's limits over the controllers' defaults (every controller\n"
    "           applies them within a second); a value of \"default\" removes one,\n"
    "           --reset all; with no option, show them. SIZE: bytes, or 64k, 500m, 2g.\n"
    "These talk to Redis: --redis URL, HEARTH_REDIS_URL, or $HEARTH_DATA/cluster.env.\n";

static redisContext *connect_redis(struct cli_ctx *ctx)
{
	struct hc_redis_opts o;
	struct hc_err err = {{0}};
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
	redisContext *rc = hc_redis_sync_connect(&o, &err);
	if (!rc)
		fprintf(stderr, "hearth: cannot reach Redis at %s:%d: %s\n", o.host, o.port,
			err.msg);
	return rc;
}

static cJSON *hgetall(redisContext *r, const char *key);

/* A whole number >= 0, or with size a size ("64k", "2g"). */
static int parse_value(const char *v, int size, int64_t *out)
{
	char *end;
	if (size)
		return pr_size_parse(v, out);
	long long n = strtoll(v, &end, 10);
	if (!v[0] || *end || n < 0)
		return -1;
	*out = n;
	return 0;
}

/* `hearth admin limits NS [--flag VALUE]... [--reset]`: the PR_KEY_NS_LIMITS
 * hash (proto/limits.h). */
static int admin_limits(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct {
		const char *flag, *field;
		int size;
	} flags[] = {
	    {"--invocations-per-minute", PR_LIM_F_INVOKES, 0},
	    {"--concurrent", PR_LIM_F_CONCURRENT, 0},
	    {"--fires-per-minute", PR_LIM_F_FIRES, 0},
	    {"--actions", PR_LIM_F_ACTIONS, 0},
	    {"--code-bytes", PR_LIM_F_CODE, 1},
	    {"--log-bytes", PR_LIM_F_LOGS, 1},
	};
	const size_t nflags = sizeof(flags) / sizeof(flags[0]);
	const char *ns = argv[2];
	char key[PR_NAME_MAX + 32], vals[sizeof(flags) / sizeof(flags[0])][24];
	const char *set[sizeof(flags) / sizeof(flags[0])] = {0};
	int reset = 0, rc = 1;
	struct hc_err err = {{0}};
	if (!pr_namespace_valid(ns)) {
		fprintf(stderr, "hearth: namespace '%s' is not valid\n", ns);
		return 2;
	}
	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--reset")) {
			reset = 1;
			continue;
		}
		size_t f = 0;
		while (f < nflags && strcmp(argv[i], flags[f].flag) != 0)
			f++;
		if (f == nflags || i + 1 >= argc) {
			fprintf(stderr, "hearth: %s %s\n", argv[i],
				f == nflags ? "is not an option of admin limits" : "needs a value");
			fputs(admin_usage, stderr);
			return 2;
		}
		const char *v = argv[++i];
		int64_t n;
		if (!strcmp(v, "default")) {
			set[f] = "";
			continue;
		}
		if (parse_value(v, flags[f].size, &n) < 0) {
			fprintf(stderr, "hearth: %s: '%s' is not %s\n", flags[f].flag, v,
				flags[f].size ? "a size (bytes, or 64k, 500m, 2g)"
					      : "a whole number >= 0");
			return 2;
		}
		snprintf(vals[f], sizeof(vals[f]), "%lld", (long long)n);
		set[f] = vals[f];
	}
	redisContext *r = connect_redis(ctx);
	if (!r)
		return 3;
	snprintf(key, sizeof(key), PR_KEY_NS_LIMITS, ns);
	redisReply *rep;
	if (reset && !(rep = hc_redis_sync_cmd(r, &err, "DEL %s", key)))
		goto fail;
	if (reset)
		freeReplyObject(rep);
	for (size_t f = 0; f < nflags; f++) {
		if (!set[f])
			continue;
		rep = set[f][0]
			  ? hc_redis_sync_cmd(r, &err, "HSET %s %s %s", key, flags[f].field, set[f])
			  : hc_redis_sync_cmd(r, &err, "HDEL %s %s", key, flags[f].field);
		if (!rep)
			goto fail;
		freeReplyObject(rep);
	}
	cJSON *o = hgetall(r, key);
	if (ctx->json) {
		cli_print_json(ctx, o);
	} else {
		printf("%s:", ns);
		for (size_t f = 0; f < nflags; f++) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, flags[f].field);
			printf(" %s=%s", flags[f].field,
			       cJSON_IsString(v) ? v->valuestring : "default");
		}
		printf("\n");
	}
	cJSON_Delete(o);
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "hearth: cannot set the limits: %s\n", err.msg);
out:
	redisFree(r);
	return rc;
}

int cli_admin(struct cli_ctx *ctx, int argc, char **argv)
{
	if (argc < 3) {
		fputs(admin_usage, stderr);
		return 2;
	}
	const char *what = argv[1], *sub = argv[2];
	if (!strcmp(what, "limits"))
		return admin_limits(ctx, argc, argv);
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

/* GET url+path (2 s timeout) into out; 0 on a 200. */
static int http_get(const char *url, const char *path, struct hc_buf *out)
{
	char u[700];
	long code = 0;
	snprintf(u, sizeof u, "%s%s", url, path);
	struct hc_request req = {.method = "GET", .url = u, .timeout_ms = 2000};
	return hc_http_sync(&req, &code, out, NULL) == 0 && code == 200 ? 0 : -1;
}

/* The leader's pools by state and its waiting allocations, from its
 * /metrics (its /healthz is about leadership only). */
static void leader_pools(const char *url, cJSON *st)
{
	struct hc_buf out;
	hc_buf_init(&out, 4 * 1024 * 1024);
	if (http_get(url, "/metrics", &out) == 0) {
		cJSON *pools = cJSON_AddObjectToObject(st, "pools");
		const char *line = hc_buf_str(&out);
		while (line && *line) {
			char state[32];
			double v;
			if (sscanf(line, "hearth_scheduler_containers{state=\"%31[a-z]\"} %lf",
				   state, &v) == 2)
				cJSON_AddNumberToObject(pools, state, v);
			else if (sscanf(line, "hearth_scheduler_waiting_allocations %lf", &v) == 1)
				cJSON_AddNumberToObject(st, "waiting_allocations", v);
			line = strchr(line, '\n');
			if (line)
				line++;
		}
	}
	hc_buf_free(&out);
}

/* Every registered controller (its loops register under ids sharing one
 * url) with its /healthz: warm containers it holds, queued activations. */
static void controllers(redisContext *r, cJSON *st)
{
	struct hc_err err = {{0}};
	cJSON *arr = cJSON_AddArrayToObject(st, "controllers");
	char cursor[32] = "0";
	for (int rounds = 0; rounds < 100; rounds++) { /* bounded: 100 x COUNT 1000 keys */
		char pat[64];
		snprintf(pat, sizeof pat, PR_KEY_CONTROLLER, "*");
		redisReply *rep =
		    hc_redis_sync_cmd(r, &err, "SCAN %s MATCH %s COUNT 1000", cursor, pat);
		if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
			if (rep)
				freeReplyObject(rep);
			break;
		}
		snprintf(cursor, sizeof cursor, "%s",
			 rep->element[0]->str ? rep->element[0]->str : "0");
		const redisReply *keys = rep->element[1];
		for (size_t i = 0; keys->type == REDIS_REPLY_ARRAY && i < keys->elements; i++) {
			redisReply *u = hc_redis_sync_cmd(
			    r, &err, "HGET %s %s", keys->element[i]->str, PR_CONTROLLER_F_URL);
			int seen = 0;
			if (u && u->type == REDIS_REPLY_STRING) {
				for (const cJSON *c = arr->child; c; c = c->next)
					seen |= !strcmp(field(c, "url"), u->str);
				if (!seen) {
					cJSON *c = cJSON_CreateObject();
					struct hc_buf out;
					cJSON_AddStringToObject(c, "url", u->str);
					hc_buf_init(&out, 64 * 1024);
					cJSON *h =
					    http_get(u->str, "/healthz", &out) == 0
						? hc_json_parse(hc_buf_str(&out), out.len, 8, NULL)
						: NULL;
					cJSON_AddBoolToObject(c, "alive", h != NULL);
					for (const cJSON *f = h ? h->child : NULL; f; f = f->next)
						if (strcmp(f->string, "url"))
							cJSON_AddItemToObject(
							    c, f->string, cJSON_Duplicate(f, 1));
					cJSON_Delete(h);
					hc_buf_free(&out);
					cJSON_AddItemToArray(arr, c);
				}
			}
			if (u)
				freeReplyObject(u);
		}
		freeReplyObject(rep);
		if (!strcmp(cursor, "0"))
			break;
	}
}

static int num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? v->valueint : 0;
}

/* The lease and the leader's announcement (PR_KEY_LEADER_INFO). */
static cJSON *status_leader(redisContext *r)
{
	struct hc_err err = {{0}};
	cJSON *leader = hgetall(r, PR_KEY_LEADER_INFO);
	redisReply *lease = hc_redis_sync_cmd(r, &err, "GET %s", PR_KEY_LEADER);
	cJSON_AddStringToObject(leader, "lease_holder",
				lease && lease->type == REDIS_REPLY_STRING ? lease->str : "");
	if (lease)
		freeReplyObject(lease);
	return leader;
}

/* The leader's own view: its /healthz, and its pools. */
static void status_scheduler(const char *url, cJSON *st)
{
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
	leader_pools(url, st);
}

/* Every registered agent with its registration, whether it is alive and
 * whether an operator drained it. */
static cJSON *status_hosts(redisContext *r, cJSON *st)
{
	struct hc_err err = {{0}};
	cJSON *hosts = cJSON_AddArrayToObject(st, "hosts");
	redisReply *ids = hc_redis_sync_cmd(r, &err, "SMEMBERS %s", PR_KEY_AGENTS);
	for (size_t i = 0; ids && ids->type == REDIS_REPLY_ARRAY && i < ids->elements; i++) {
		char key[256];
		snprintf(key, sizeof key, PR_KEY_AGENT, ids->element[i]->str);
		cJSON *h = hgetall(r, key);
		cJSON_AddStringToObject(h, "agent", ids->element[i]->str);
		cJSON_AddBoolToObject(h, "alive", cJSON_GetArraySize(h) > 1);
		/* an operator's drain lives in its own set (proto/keys.h) */
		redisReply *d = hc_redis_sync_cmd(r, &err, "SISMEMBER %s %s", PR_KEY_DRAINING,
						  ids->element[i]->str);
		cJSON_DeleteItemFromObjectCaseSensitive(h, "draining");
		cJSON_AddStringToObject(h, "draining",
					d && d->type == REDIS_REPLY_INTEGER && d->integer ? "yes"
											  : "no");
		if (d)
			freeReplyObject(d);
		cJSON_AddItemToArray(hosts, h);
	}
	if (ids)
		freeReplyObject(ids);
	return hosts;
}

/* The status for people: the leader, its pools, then a table of
 * controllers and one of hosts. */
static void status_print(const cJSON *st, const cJSON *leader, const char *url, const cJSON *hosts)
{
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
	const cJSON *pools = cJSON_GetObjectItemCaseSensitive(st, "pools");
	if (pools) {
		printf("pools:");
		for (const cJSON *p = pools->child; p; p = p->next)
			printf(" %s %d", p->string, p->valueint);
		printf("; waiting allocations %d\n", num(st, "waiting_allocations"));
	}
	const cJSON *ctls = cJSON_GetObjectItemCaseSensitive(st, "controllers");
	printf("%-34s %-28s %-6s %10s %7s\n", "controller", "url", "alive", "containers", "queued");
	for (const cJSON *c = ctls ? ctls->child : NULL; c; c = c->next) {
		int alive = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "alive"));
		printf("%-34s %-28s %-6s %10d %7d\n", field(c, "id"), field(c, "url"),
		       alive ? "yes" : "NO", num(c, "containers"), num(c, "queued"));
	}
	printf("%-34s %-28s %-6s %8s %8s %10s %s\n", "host (agent id)", "url", "alive", "memory",
	       "used", "containers", "draining");
	for (const cJSON *h = hosts->child; h; h = h->next)
		printf("%-34s %-28s %-6s %8s %8s %10s %s\n", field(h, "agent"), field(h, "url"),
		       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(h, "alive")) ? "yes" : "LOST",
		       field(h, "memory"), field(h, "used"), field(h, "containers"),
		       field(h, "draining"));
}

int cli_status(struct cli_ctx *ctx, int argc, char **argv)
{
	redisContext *r = connect_redis(ctx);
	if (!r)
		return 3;
	cJSON *st = cJSON_CreateObject();
	cJSON *leader = status_leader(r);
	cJSON_AddItemToObject(st, "leader", leader);
	const char *url = field(leader, "url");
	if (strcmp(url, "-") != 0)
		status_scheduler(url, st);
	controllers(r, st);
	cJSON *hosts = status_hosts(r, st);
	if (ctx->json)
		cli_print_json(ctx, st);
	else
		status_print(st, leader, url, hosts);
	cJSON_Delete(st);
	redisFree(r);
	return 0;
}
