/* cli/package.c — `hearth package create|update|get|list|delete|bind`, as
 * `wsk package` has them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/json.h"

static const char package_usage[] =
    "usage: hearth package create|update NAME [-p KEY VALUE]... [-P FILE] [-a KEY VALUE]...\n"
    "                                     [--shared yes|no]\n"
    "       hearth package bind PACKAGE BINDING [-p KEY VALUE]... [-P FILE] [-a KEY VALUE]...\n"
    "       hearth package get NAME [--summary]\n"
    "       hearth package list [NAMESPACE] [--limit N] [--skip N]\n"
    "       hearth package delete NAME [--force]\n"
    "NAME is `name` or `/namespace/name`; PACKAGE may be another namespace's shared\n"
    "package, e.g. /whisk.system/samples. --force deletes the package's actions too.\n";

/* "name" or "/ns/name" -> ns ("_" when not given) and name. */
static int split(const char *q, char *ns, size_t nslen, char *name, size_t namelen)
{
	if (q[0] == '/') {
		const char *s = strchr(q + 1, '/');
		if (!s || !s[1] || strchr(s + 1, '/'))
			return -1;
		snprintf(ns, nslen, "%.*s", (int)(s - q - 1), q + 1);
		snprintf(name, namelen, "%s", s + 1);
	} else {
		if (!q[0] || strchr(q, '/'))
			return -1;
		snprintf(ns, nslen, "_");
		snprintf(name, namelen, "%s", q);
	}
	return 0;
}

static int package_path(const char *q, char *out, size_t len)
{
	char ns[300], name[300], ens[900], ename[900];
	if (split(q, ns, sizeof ns, name, sizeof name) < 0) {
		fprintf(stderr, "hearth: '%s' is not a package name\n", q);
		return -1;
	}
	cli_urlencode(ns, ens, sizeof ens);
	cli_urlencode(name, ename, sizeof ename);
	snprintf(out, len, "/api/v1/namespaces/%s/packages/%s", ens, ename);
	return 0;
}

static cJSON *kv(const char *k, cJSON *v)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "key", k);
	cJSON_AddItemToObject(o, "value", v);
	return o;
}

/* create, update, bind: argv[1] the name (bind: the package, then the
 * binding's name). */
static int package_put(struct cli_ctx *ctx, int argc, char **argv, int overwrite, int bind)
{
	const char *names[2] = {NULL, NULL}, *shared = NULL;
	int nnames = 0, rc = 1;
	cJSON *params = cJSON_CreateArray(), *annots = cJSON_CreateArray();
	cJSON *body = cJSON_CreateObject();
	struct hc_buf out;
	hc_buf_init(&out, 64 * 1024 * 1024);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int more = i + 1 < argc, more2 = i + 2 < argc;
		if ((!strcmp(a, "-p") || !strcmp(a, "--param")) && more2) {
			cJSON_AddItemToArray(params, kv(argv[i + 1], cli_param_value(argv[i + 2])));
			i += 2;
		} else if ((!strcmp(a, "-a") || !strcmp(a, "--annotation")) && more2) {
			cJSON_AddItemToArray(annots, kv(argv[i + 1], cli_param_value(argv[i + 2])));
			i += 2;
		} else if ((!strcmp(a, "-P") || !strcmp(a, "--param-file")) && more) {
			if (cli_params_file(argv[++i], params) < 0)
				goto out;
		} else if (!strcmp(a, "--shared") && more && !bind) {
			shared = argv[++i];
		} else if (a[0] == '-' || nnames == (bind ? 2 : 1)) {
			fprintf(stderr, "hearth: unexpected argument %s\n%s", a, package_usage);
			goto out;
		} else {
			names[nnames++] = a;
		}
	}
	if (nnames != (bind ? 2 : 1)) {
		fprintf(stderr, "hearth: package %s needs %s\n%s",
			bind	    ? "bind"
			: overwrite ? "update"
				    : "create",
			bind ? "a PACKAGE and a BINDING name" : "a NAME", package_usage);
		goto out;
	}
	if (shared) {
		int yes = !strcmp(shared, "yes") || !strcmp(shared, "true");
		if (!yes && strcmp(shared, "no") && strcmp(shared, "false")) {
			fprintf(stderr, "hearth: --shared takes yes or no\n");
			goto out;
		}
		cJSON_AddBoolToObject(body, "publish", yes);
	}
	if (bind) {
		char ns[300], name[300];
		if (split(names[0], ns, sizeof ns, name, sizeof name) < 0) {
			fprintf(stderr, "hearth: '%s' is not a package name\n", names[0]);
			goto out;
		}
		cJSON *b = cJSON_AddObjectToObject(body, "binding");
		cJSON_AddStringToObject(b, "namespace", ns);
		cJSON_AddStringToObject(b, "name", name);
	}
	if (cJSON_GetArraySize(params) > 0 || !overwrite)
		cJSON_AddItemToObject(body, "parameters", cJSON_Duplicate(params, 1));
	if (cJSON_GetArraySize(annots) > 0 || !overwrite)
		cJSON_AddItemToObject(body, "annotations", cJSON_Duplicate(annots, 1));
	const char *target = bind ? names[1] : names[0];
	char path[2048];
	if (package_path(target, path, sizeof path - 32) < 0)
		goto out;
	strcat(path, overwrite ? "?overwrite=true" : "?overwrite=false");
	char *text = cJSON_PrintUnformatted(body);
	long status = cli_rest(ctx, "PUT", path, text, &out);
	free(text);
	if (status != 200) {
		rc = cli_fail(ctx,
			      bind	  ? "bind failed"
			      : overwrite ? "update failed"
					  : "create failed",
			      status, &out);
		if (status == 409 && !overwrite && !bind)
			fprintf(stderr, "  Use `hearth package update %s ...` to change it.\n",
				target);
		goto out;
	}
	if (ctx->json)
		puts(hc_buf_str(&out));
	else if (bind)
		printf("ok: created binding %s\n", target);
	else
		printf("ok: %s package %s\n", overwrite ? "updated" : "created", target);
	rc = 0;
out:
	cJSON_Delete(params);
	cJSON_Delete(annots);
	cJSON_Delete(body);
	hc_buf_free(&out);
	return rc;
}

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : "?";
}

static int package_get(struct cli_ctx *ctx, int argc, char **argv)
{
	const char *name = NULL;
	int summary = 0, rc = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--summary") || !strcmp(argv[i], "-s"))
			summary = 1;
		else if (argv[i][0] != '-' && !name)
			name = argv[i];
		else {
			fprintf(stderr, "hearth: unexpected argument %s\n%s", argv[i],
				package_usage);
			return 2;
		}
	}
	char path[2048];
	if (!name) {
		fprintf(stderr, "hearth: package get needs a NAME\n%s", package_usage);
		return 2;
	}
	if (package_path(name, path, sizeof path) < 0)
		return 2;
	struct hc_buf out;
	hc_buf_init(&out, 64 * 1024 * 1024);
	long status = cli_rest(ctx, "GET", path, NULL, &out);
	cJSON *j = status == 200 ? hc_json_parse(hc_buf_str(&out), out.len, HC_JSON_MAX_DEPTH, NULL)
				 : NULL;
	if (!j) {
		rc = cli_fail(ctx, "get failed", status, &out);
	} else if (ctx->json || !summary) {
		if (!ctx->json)
			printf("ok: got package %s\n", name);
		cli_print_json(ctx, j);
	} else {
		printf("package /%s/%s\n", str(j, "namespace"), str(j, "name"));
		static const char *const lists[] = {"actions", "feeds"};
		for (int l = 0; l < 2; l++) {
			const cJSON *e;
			cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(j, lists[l]))
			    printf("   %s /%s/%s/%s\n", l ? "feed  " : "action",
				   str(j, "namespace"), str(j, "name"), str(e, "name"));
		}
	}
	cJSON_Delete(j);
	hc_buf_free(&out);
	return rc;
}

static int package_list(struct cli_ctx *ctx, int argc, char **argv)
{
	const char *ns = "_";
	long limit = 30, skip = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--limit") && i + 1 < argc)
			limit = atol(argv[++i]);
		else if (!strcmp(argv[i], "--skip") && i + 1 < argc)
			skip = atol(argv[++i]);
		else if (argv[i][0] != '-' && !strcmp(ns, "_"))
			ns = argv[i][0] == '/' ? argv[i] + 1 : argv[i];
		else {
			fprintf(stderr, "hearth: unexpected argument %s\n%s", argv[i],
				package_usage);
			return 2;
		}
	}
	char path[1024], ens[900];
	cli_urlencode(ns, ens, sizeof ens);
	snprintf(path, sizeof path, "/api/v1/namespaces/%s/packages?limit=%ld&skip=%ld", ens, limit,
		 skip);
	struct hc_buf out;
	hc_buf_init(&out, 64 * 1024 * 1024);
	long status = cli_rest(ctx, "GET", path, NULL, &out);
	int rc = 0;
	cJSON *j = status == 200 ? hc_json_parse(hc_buf_str(&out), out.len, HC_JSON_MAX_DEPTH, NULL)
				 : NULL;
	if (!j) {
		rc = cli_fail(ctx, "list failed", status, &out);
	} else if (ctx->json) {
		cli_print_json(ctx, j);
	} else {
		puts("packages");
		const cJSON *e;
		cJSON_ArrayForEach(e, j)
		{
			char fq[600];
			const cJSON *b = cJSON_GetObjectItemCaseSensitive(e, "binding");
			snprintf(fq, sizeof fq, "/%s/%s", str(e, "namespace"), str(e, "name"));
			printf("%-60s %-8s%s\n", fq,
			       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "publish"))
				   ? "shared"
				   : "private",
			       cJSON_IsObject(b) ? " binding" : "");
		}
	}
	cJSON_Delete(j);
	hc_buf_free(&out);
	return rc;
}

static int package_delete(struct cli_ctx *ctx, int argc, char **argv)
{
	const char *name = NULL;
	int force = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--force"))
			force = 1;
		else if (argv[i][0] != '-' && !name)
			name = argv[i];
		else {
			fprintf(stderr, "hearth: unexpected argument %s\n%s", argv[i],
				package_usage);
			return 2;
		}
	}
	char path[2048];
	if (!name) {
		fprintf(stderr, "hearth: package delete needs a NAME\n%s", package_usage);
		return 2;
	}
	if (package_path(name, path, sizeof path - 16) < 0)
		return 2;
	if (force)
		strcat(path, "?force=true");
	struct hc_buf out;
	hc_buf_init(&out, 64 * 1024 * 1024);
	long status = cli_rest(ctx, "DELETE", path, NULL, &out);
	int rc = 0;
	if (status != 200) {
		rc = cli_fail(ctx, "delete failed", status, &out);
		if (status == 409)
			fprintf(stderr, "  Add --force to delete its actions with it.\n");
	} else if (ctx->json) {
		puts(hc_buf_str(&out));
	} else {
		printf("ok: deleted package %s\n", name);
	}
	hc_buf_free(&out);
	return rc;
}

int cli_package(struct cli_ctx *ctx, int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(package_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *sub = argv[1];
	argc--;
	argv++;
	if (!strcmp(sub, "create"))
		return package_put(ctx, argc, argv, 0, 0);
	if (!strcmp(sub, "update"))
		return package_put(ctx, argc, argv, 1, 0);
	if (!strcmp(sub, "bind"))
		return package_put(ctx, argc, argv, 0, 1);
	if (!strcmp(sub, "get"))
		return package_get(ctx, argc, argv);
	if (!strcmp(sub, "list"))
		return package_list(ctx, argc, argv);
	if (!strcmp(sub, "delete"))
		return package_delete(ctx, argc, argv);
	fprintf(stderr, "hearth: unknown package command '%s'\n%s", sub, package_usage);
	return 2;
}
