/* cli/activation.c — `hearth activation list|get|logs|result` and
 * `hearth namespace list`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "common/id.h"
#include "common/json.h"

static const char activation_usage[] =
    "usage: hearth activation list [NAME] [--limit N] [--skip N] [--since MS] [--upto MS]\n"
    "       hearth activation get ID\n"
    "       hearth activation logs ID\n"
    "       hearth activation result ID\n";

static cJSON *get_json(struct cli_ctx *ctx, const char *path, const char *what, int *rc)
{
	struct hc_buf out;
	hc_buf_init(&out, 64 * 1024 * 1024);
	long status = cli_rest(ctx, "GET", path, NULL, &out);
	cJSON *j = NULL;
	if (status == 200)
		j = hc_json_parse(hc_buf_str(&out), out.len, HC_JSON_MAX_DEPTH, NULL);
	*rc = j ? 0 : cli_fail(ctx, what, status, &out);
	hc_buf_free(&out);
	return j;
}

static long num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? (long)v->valuedouble : -1;
}

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : "";
}

static const cJSON *annotation(const cJSON *item, const char *key)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(item, "annotations");
	for (const cJSON *e = a ? a->child : NULL; e; e = e->next)
		if (!strcmp(str(e, "key"), key))
			return cJSON_GetObjectItemCaseSensitive(e, "value");
	return NULL;
}

static int act_list(struct cli_ctx *ctx, int argc, char **argv)
{
	char path[2048], q[1024] = "", enc[600];
	const char *name = NULL;
	for (int i = 1; i < argc; i++) {
		size_t n = strlen(q);
		if (!strcmp(argv[i], "--limit") && i + 1 < argc)
			snprintf(q + n, sizeof q - n, "&limit=%ld", atol(argv[++i]));
		else if (!strcmp(argv[i], "--skip") && i + 1 < argc)
			snprintf(q + n, sizeof q - n, "&skip=%ld", atol(argv[++i]));
		else if (!strcmp(argv[i], "--since") && i + 1 < argc)
			snprintf(q + n, sizeof q - n, "&since=%ld", atol(argv[++i]));
		else if (!strcmp(argv[i], "--upto") && i + 1 < argc)
			snprintf(q + n, sizeof q - n, "&upto=%ld", atol(argv[++i]));
		else if (argv[i][0] != '-' && !name)
			name = argv[i];
		else {
			fprintf(stderr, "hearth: unexpected argument %s\n%s", argv[i],
				activation_usage);
			return 1;
		}
	}
	if (name) {
		cli_urlencode(name, enc, sizeof enc);
		size_t n = strlen(q);
		snprintf(q + n, sizeof q - n, "&name=%s", enc);
	}
	snprintf(path, sizeof path, "/api/v1/namespaces/_/activations?docs=false%s", q);
	int rc;
	cJSON *j = get_json(ctx, path, "list failed", &rc);
	if (!j)
		return rc;
	if (ctx->json) {
		cli_print_json(ctx, j);
	} else {
		printf("%-19s %-32s %-10s %-5s %-9s %-24s %s\n", "Datetime", "Activation ID",
		       "Kind", "Start", "Duration", "Status", "Entity");
		for (const cJSON *e = j->child; e; e = e->next) {
			time_t t = (time_t)(num(e, "start") / 1000);
			struct tm tm;
			char when[32];
			localtime_r(&t, &tm);
			strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
			const cJSON *kind = annotation(e, "kind");
			const char *start = annotation(e, "initTime") ? "cold" : "warm";
			long dur = num(e, "duration"), sc = num(e, "statusCode");
			static const char *st[] = {"success", "application error",
						   "developer error", "internal error"};
			char d[24] = "";
			if (dur >= 0)
				snprintf(d, sizeof d, "%ldms", dur);
			printf("%-19s %-32s %-10s %-5s %-9s %-24s %s/%s:%s\n", when,
			       str(e, "activationId"),
			       cJSON_IsString(kind) ? kind->valuestring : "", start, d,
			       sc >= 0 && sc <= 3 ? st[sc] : "running", str(e, "namespace"),
			       str(e, "name"), str(e, "version"));
		}
	}
	cJSON_Delete(j);
	return 0;
}

static int act_one(struct cli_ctx *ctx, const char *id, const char *suffix)
{
	if (!hc_id_valid(id)) {
		fprintf(stderr, "hearth: '%s' is not an activation id (32 hex characters)\n", id);
		return 1;
	}
	char path[256];
	snprintf(path, sizeof path, "/api/v1/namespaces/_/activations/%s%s", id, suffix);
	int rc;
	cJSON *j = get_json(ctx, path, "get failed", &rc);
	if (!j)
		return rc;
	const cJSON *logs = cJSON_GetObjectItemCaseSensitive(j, "logs");
	if (!strcmp(suffix, "/logs") && !ctx->json && cJSON_IsArray(logs)) {
		for (const cJSON *l = logs->child; l; l = l->next)
			if (cJSON_IsString(l))
				puts(l->valuestring);
	} else if (!strcmp(suffix, "/result") && !ctx->json &&
		   cJSON_GetObjectItemCaseSensitive(j, "result")) {
		cli_print_json(ctx, cJSON_GetObjectItemCaseSensitive(j, "result"));
	} else {
		cli_print_json(ctx, j);
	}
	cJSON_Delete(j);
	return 0;
}

int cli_activation(struct cli_ctx *ctx, int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(activation_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *sub = argv[1];
	if (!strcmp(sub, "list"))
		return act_list(ctx, argc - 1, argv + 1);
	if (argc == 3 && !strcmp(sub, "get"))
		return act_one(ctx, argv[2], "");
	if (argc == 3 && !strcmp(sub, "logs"))
		return act_one(ctx, argv[2], "/logs");
	if (argc == 3 && !strcmp(sub, "result"))
		return act_one(ctx, argv[2], "/result");
	fprintf(stderr, "hearth: unknown or incomplete activation command\n%s", activation_usage);
	return 2;
}

int cli_namespace(struct cli_ctx *ctx, int argc, char **argv)
{
	if (argc != 2 || strcmp(argv[1], "list") != 0) {
		fprintf(stderr, "usage: hearth namespace list\n");
		return 2;
	}
	int rc;
	cJSON *j = get_json(ctx, "/api/v1/namespaces", "list failed", &rc);
	if (!j)
		return rc;
	if (ctx->json) {
		cli_print_json(ctx, j);
	} else {
		puts("namespaces");
		for (const cJSON *e = j->child; e; e = e->next)
			if (cJSON_IsString(e))
				puts(e->valuestring);
	}
	cJSON_Delete(j);
	return 0;
}
