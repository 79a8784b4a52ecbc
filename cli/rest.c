/* cli/rest.c — where the CLI finds the API and its key, and how it calls it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/client.h"
#include "common/json.h"
#include "proto/auth.h"

/* Read KEY=VALUE lines (wskprops and cluster.env share the shape). */
static void read_kv_file(const char *path, struct cli_ctx *ctx, int *found)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	char line[1024];
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\r\n")] = 0;
		char *eq = strchr(line, '=');
		if (!eq || line[0] == '#')
			continue;
		*eq = 0;
		char *v = eq + 1;
		size_t n = strlen(v);
		if (n >= 2 && (v[0] == '\'' || v[0] == '"') && v[n - 1] == v[0]) {
			v[n - 1] = 0;
			v++;
		}
		if ((!strcmp(line, "APIHOST") || !strcmp(line, "HEARTH_API")) && !ctx->apihost[0]) {
			snprintf(ctx->apihost, sizeof ctx->apihost, "%s", v);
			*found = 1;
		} else if ((!strcmp(line, "AUTH") || !strcmp(line, "HEARTH_AUTH")) &&
			   !ctx->auth[0]) {
			snprintf(ctx->auth, sizeof ctx->auth, "%s", v);
			*found = 1;
		} else if (!strcmp(line, "HEARTH_REDIS_URL") && !ctx->redis[0]) {
			snprintf(ctx->redis, sizeof ctx->redis, "%s", v);
		}
	}
	fclose(f);
	if (*found && !ctx->props_path[0])
		snprintf(ctx->props_path, sizeof ctx->props_path, "%s", path);
}

static void env_default(char *dst, size_t len, const char *name)
{
	const char *v = getenv(name);
	if (!dst[0] && v && *v)
		snprintf(dst, len, "%s", v);
}

void cli_props_load(struct cli_ctx *ctx)
{
	env_default(ctx->apihost, sizeof ctx->apihost, "HEARTH_API");
	env_default(ctx->apihost, sizeof ctx->apihost, "HEARTH_APIHOST");
	env_default(ctx->auth, sizeof ctx->auth, "HEARTH_AUTH");
	env_default(ctx->redis, sizeof ctx->redis, "HEARTH_REDIS_URL");

	char path[600];
	int found = 0;
	const char *data = getenv("HEARTH_DATA");
	const char *wsk = getenv("WSK_CONFIG_FILE");
	const char *home = getenv("HOME");
	if (wsk && *wsk)
		read_kv_file(wsk, ctx, &found);
	if (data && *data) {
		snprintf(path, sizeof path, "%s/wskprops", data);
		read_kv_file(path, ctx, &found);
		snprintf(path, sizeof path, "%s/cluster.env", data);
		read_kv_file(path, ctx, &found);
	}
	read_kv_file(".hearth/wskprops", ctx, &found);
	read_kv_file(".hearth/cluster.env", ctx, &found);
	if (home) {
		snprintf(path, sizeof path, "%s/.wskprops", home);
		read_kv_file(path, ctx, &found);
	}
	if (!ctx->apihost[0])
		snprintf(ctx->apihost, sizeof ctx->apihost, "http://127.0.0.1:3233");
	/* wsk accepts a bare host:port */
	if (!strstr(ctx->apihost, "://")) {
		size_t n = strlen(ctx->apihost);
		if (n + 8 > sizeof ctx->apihost)
			n = sizeof ctx->apihost - 8;
		memmove(ctx->apihost + 7, ctx->apihost, n);
		memcpy(ctx->apihost, "http://", 7);
		ctx->apihost[n + 7] = 0;
	}
	size_t n = strlen(ctx->apihost);
	while (n > 0 && ctx->apihost[n - 1] == '/')
		ctx->apihost[--n] = 0;
}

long cli_rest(struct cli_ctx *ctx, const char *method, const char *path, const char *body,
	      struct hc_buf *out)
{
	char url[2048], authz[512];
	const char *headers[4] = {"Content-Type: application/json", "Accept: application/json",
				  NULL, NULL};
	snprintf(url, sizeof url, "%s%s", ctx->apihost, path);
	if (ctx->auth[0]) {
		char b64[400];
		pr_base64_encode(ctx->auth, strlen(ctx->auth), b64, sizeof b64);
		snprintf(authz, sizeof authz, "Authorization: Basic %s", b64);
		headers[2] = authz;
	}
	struct hc_request req = {
	    .method = method,
	    .url = url,
	    .headers = headers,
	    .body = body,
	    .body_len = body ? strlen(body) : 0,
	    .timeout_ms = ctx->timeout_ms,
	    .max_response = 64 * 1024 * 1024,
	};
	long status = 0;
	struct hc_err err = {{0}};
	if (hc_http_sync(&req, &status, out, &err) < 0) {
		fprintf(stderr,
			"hearth: cannot reach the API at %s: %s\n"
			"  Is the node running? Start one with `make run`, or point the CLI at it "
			"with\n"
			"  --apihost URL, HEARTH_API, or an APIHOST line in a wskprops file.\n",
			ctx->apihost, err.msg);
		return 0;
	}
	return status;
}

int cli_fail(struct cli_ctx *ctx, const char *what, long status, const struct hc_buf *body)
{
	if (status == 0)
		return 3; /* already explained */
	struct hc_err err = {{0}};
	cJSON *j = hc_json_parse(body->data ? body->data : "", body->len, HC_JSON_MAX_DEPTH, &err);
	const char *msg = NULL, *code = NULL;
	if (j) {
		hc_json_str(j, "error", 0, &msg, NULL);
		hc_json_str(j, "code", 0, &code, NULL);
		/* a failed blocking invoke carries the error inside the record */
		const cJSON *resp = cJSON_GetObjectItemCaseSensitive(j, "response");
		const cJSON *res = resp ? cJSON_GetObjectItemCaseSensitive(resp, "result") : NULL;
		if (!msg && res)
			hc_json_str(res, "error", 0, &msg, NULL);
	}
	if (ctx->json && j) {
		cli_print_json(ctx, j);
	} else {
		fprintf(stderr, "hearth: %s: %s (HTTP %ld%s%s)\n", what,
			msg ? msg : (body->len ? hc_buf_str(body) : "no details"), status,
			code ? ", code " : "", code ? code : "");
		if (status == 401)
			fprintf(stderr,
				"  The API refused the key. Check --auth, HEARTH_AUTH or the AUTH "
				"line of %s.\n",
				ctx->props_path[0] ? ctx->props_path : "your wskprops file");
		else if (status == 403)
			fprintf(stderr,
				"  The key is not allowed to use that namespace; use `_` for your "
				"own.\n");
		else if (status == 429)
			fprintf(stderr, "  The platform is at capacity; retry in a moment.\n");
	}
	cJSON_Delete(j);
	return status == 404 ? 4 : status >= 500 ? 5 : 1;
}

void cli_print_json(const struct cli_ctx *ctx, const cJSON *j)
{
	char *s = ctx->json ? cJSON_PrintUnformatted(j) : cJSON_Print(j);
	if (s) {
		puts(s);
		free(s);
	}
}

cJSON *cli_param_value(const char *v)
{
	cJSON *j = hc_json_parse(v, strlen(v), HC_JSON_MAX_DEPTH, NULL);
	return j ? j : cJSON_CreateString(v);
}

int cli_params_file(const char *path, cJSON *arr)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "hearth: cannot read %s: %s\n", path, strerror(errno));
		return -1;
	}
	struct hc_buf b;
	hc_buf_init(&b, 1024 * 1024);
	char chunk[8192];
	size_t n;
	int rc = 0;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		if (hc_buf_add(&b, chunk, n) < 0) {
			fprintf(stderr, "hearth: %s is larger than 1 MB\n", path);
			rc = -1;
			break;
		}
	fclose(f);
	struct hc_err err = {{0}};
	cJSON *j = rc ? NULL : hc_json_parse(hc_buf_str(&b), b.len, HC_JSON_MAX_DEPTH, &err);
	if (!rc && (!j || !cJSON_IsObject(j))) {
		fprintf(stderr, "hearth: %s must hold a JSON object: %s\n", path,
			j ? "it holds something else" : err.msg);
		rc = -1;
	}
	for (cJSON *e = j && !rc ? j->child : NULL; e; e = e->next) {
		cJSON *kv = cJSON_CreateObject();
		cJSON_AddStringToObject(kv, "key", e->string);
		cJSON_AddItemToObject(kv, "value", cJSON_Duplicate(e, 1));
		cJSON_AddItemToArray(arr, kv);
	}
	cJSON_Delete(j);
	hc_buf_free(&b);
	return rc;
}

void cli_urlencode(const char *s, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	for (; *s && o + 4 < outlen; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("-_.~/@", c)) {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = 0;
}
