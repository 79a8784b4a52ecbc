/* cli/action.c — `hearth action create|update|get|list|delete|invoke`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "common/json.h"
#include "proto/auth.h"

static const char action_usage[] =
    "usage: hearth action create|update NAME [FILE] [options]\n"
    "       hearth action invoke NAME [-p KEY VALUE]... [-P FILE] [-b|--blocking] [-r|--result]\n"
    "       hearth action get NAME [--code] [--url]\n"
    "       hearth action list [--limit N] [--skip N]\n"
    "       hearth action delete NAME\n"
    "NAME is `name`, `pkg/name` or `/namespace/name`.\n"
    "create/update options:\n"
    "  --kind KIND         nodejs:20, python:3, blackbox (default: from the file's extension;\n"
    "                      an executable or a file starting with #! is a blackbox)\n"
    "  --main NAME         the function to call (default: main)\n"
    "  --memory MB         memory limit (128..512)\n"
    "  --timeout MS        time limit in milliseconds (100..300000)\n"
    "  --concurrency N     activations one container may run at once\n"
    "  --logsize MB        log limit\n"
    "  --sequence A,B,C    make a sequence of existing actions (no FILE)\n"
    "  -p KEY VALUE        default parameter (VALUE is JSON if it parses, else a string)\n"
    "  -P FILE             default parameters from a JSON object file\n"
    "  -a KEY VALUE        annotation\n"
    "  --binary            send FILE base64-encoded (zip files always are)\n";

/* "name", "pkg/name", "/ns/name", "/ns/pkg/name" -> ns and the rest. */
static int split_name(const char *q, char *ns, size_t nslen, char *rest, size_t restlen)
{
	if (q[0] == '/') {
		const char *s = strchr(q + 1, '/');
		if (!s || !s[1])
			return -1;
		snprintf(ns, nslen, "%.*s", (int)(s - q - 1), q + 1);
		snprintf(rest, restlen, "%s", s + 1);
	} else {
		snprintf(ns, nslen, "_");
		snprintf(rest, restlen, "%s", q);
	}
	return rest[0] ? 0 : -1;
}

static int action_path(const char *name, char *out, size_t len)
{
	char ns[300], rest[600], ens[900], erest[1800];
	if (split_name(name, ns, sizeof ns, rest, sizeof rest) < 0) {
		fprintf(stderr, "hearth: '%s' is not an action name\n", name);
		return -1;
	}
	cli_urlencode(ns, ens, sizeof ens);
	cli_urlencode(rest, erest, sizeof erest);
	snprintf(out, len, "/api/v1/namespaces/%s/actions/%s", ens, erest);
	return 0;
}

static int read_file(const char *path, struct hc_buf *b)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "hearth: cannot read %s: %s\n", path, strerror(errno));
		return -1;
	}
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		if (hc_buf_add(b, chunk, n) < 0) {
			fprintf(stderr, "hearth: %s is larger than the 48 MB code limit\n", path);
			fclose(f);
			return -1;
		}
	fclose(f);
	return 0;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Text that JSON can carry as a string: valid UTF-8 without NUL. */
static int is_text(const char *p, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)p[i];
		size_t k = c < 0x80	    ? 1
			   : (c >> 5) == 6  ? 2
			   : (c >> 4) == 14 ? 3
			   : (c >> 3) == 30 ? 4
					    : 0;
		if (k == 0 || c == 0 || i + k > n)
			return 0;
		for (size_t j = 1; j < k; j++)
			if (((unsigned char)p[i + j] >> 6) != 2)
				return 0;
		i += k;
	}
	return 1;
}

static cJSON *kv(const char *k, cJSON *v)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "key", k);
	cJSON_AddItemToObject(o, "value", v);
	return o;
}

/* What `action create|update` was asked for. */
struct put_args {
	const char *name, *file, *kind, *main_fn, *seq;
	long memory, timeout, concurrency, logsize;
	int binary;
	cJSON *params, *annots; /* {key, value} arrays */
};

/* Parse argv into pa (params and annots must exist). -1 after printing why. */
static int put_parse(int argc, char **argv, int overwrite, struct put_args *pa)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int more = i + 1 < argc, more2 = i + 2 < argc;
		if (!strcmp(a, "--kind") && more)
			pa->kind = argv[++i];
		else if (!strcmp(a, "--main") && more)
			pa->main_fn = argv[++i];
		else if (!strcmp(a, "--memory") && more)
			pa->memory = atol(argv[++i]);
		else if ((!strcmp(a, "--timeout") || !strcmp(a, "-t")) && more)
			pa->timeout = atol(argv[++i]);
		else if (!strcmp(a, "--concurrency") && more)
			pa->concurrency = atol(argv[++i]);
		else if (!strcmp(a, "--logsize") && more)
			pa->logsize = atol(argv[++i]);
		else if (!strcmp(a, "--sequence") && more)
			pa->seq = argv[++i];
		else if (!strcmp(a, "--binary"))
			pa->binary = 1;
		else if ((!strcmp(a, "-p") || !strcmp(a, "--param")) && more2) {
			cJSON_AddItemToArray(pa->params,
					     kv(argv[i + 1], cli_param_value(argv[i + 2])));
			i += 2;
		} else if ((!strcmp(a, "-a") || !strcmp(a, "--annotation")) && more2) {
			cJSON_AddItemToArray(pa->annots,
					     kv(argv[i + 1], cli_param_value(argv[i + 2])));
			i += 2;
		} else if ((!strcmp(a, "-P") || !strcmp(a, "--param-file")) && more) {
			if (cli_params_file(argv[++i], pa->params) < 0)
				return -1;
		} else if (a[0] == '-') {
			fprintf(stderr, "hearth: unknown or incomplete option %s\n%s", a,
				action_usage);
			return -1;
		} else if (!pa->name)
			pa->name = a;
		else if (!pa->file)
			pa->file = a;
		else {
			fprintf(stderr, "hearth: unexpected argument %s\n%s", a, action_usage);
			return -1;
		}
	}
	if (!pa->name || (!pa->file && !pa->seq && !overwrite)) {
		fprintf(stderr, "hearth: action %s needs a NAME and a FILE (or --sequence)\n%s",
			overwrite ? "update" : "create", action_usage);
		return -1;
	}
	return 0;
}

/* exec of a sequence: its components, fully qualified ("/_/name"). */
static void put_sequence(cJSON *body, const char *seq)
{
	cJSON *exec = cJSON_AddObjectToObject(body, "exec");
	cJSON_AddStringToObject(exec, "kind", "sequence");
	cJSON *comps = cJSON_AddArrayToObject(exec, "components");
	char *dup = strdup(seq), *save = NULL;
	for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char fq[1024];
		if (t[0] == '/')
			snprintf(fq, sizeof fq, "%s", t);
		else
			snprintf(fq, sizeof fq, "/_/%s", t);
		cJSON_AddItemToArray(comps, cJSON_CreateString(fq));
	}
	free(dup);
}

/* The kind of file (its code in code) from its extension, or blackbox for
 * an executable or a #! script. NULL after printing why. */
static const char *guess_kind(const char *file, const struct hc_buf *code)
{
	struct stat st;
	int executable = stat(file, &st) == 0 && (st.st_mode & 0111);
	int shebang = code->len > 2 && code->data[0] == '#' && code->data[1] == '!';

	if (ends_with(file, ".js"))
		return "nodejs:default";
	if (ends_with(file, ".py"))
		return "python:default";
	if (ends_with(file, ".zip")) {
		fprintf(stderr, "hearth: a zip file needs --kind (nodejs:20, python:3 or "
				"blackbox)\n");
		return NULL;
	}
	if (executable || shebang)
		return "blackbox";
	fprintf(stderr, "hearth: cannot tell the kind of %s; add --kind\n", file);
	return NULL;
}

/* exec of code from pa->file (read into code): text as it is, anything
 * else (and zip files) base64-encoded. -1 after printing why. */
static int put_code(cJSON *body, const struct put_args *pa, struct hc_buf *code)
{
	const char *kind = pa->kind;
	int binary = pa->binary;

	if (read_file(pa->file, code) < 0)
		return -1;
	if (!kind && !(kind = guess_kind(pa->file, code)))
		return -1;
	if (ends_with(pa->file, ".zip") || !is_text(code->data ? code->data : "", code->len))
		binary = 1;
	cJSON *exec = cJSON_AddObjectToObject(body, "exec");
	cJSON_AddStringToObject(exec, "kind", kind);
	if (binary) {
		size_t cap = code->len / 3 * 4 + 8;
		char *b64 = malloc(cap);
		if (!b64 || pr_base64_encode(code->data, code->len, b64, cap) < 0) {
			free(b64);
			fprintf(stderr, "hearth: out of memory encoding %s\n", pa->file);
			return -1;
		}
		cJSON_AddStringToObject(exec, "code", b64);
		free(b64);
	} else {
		cJSON_AddStringToObject(exec, "code", hc_buf_str(code));
	}
	cJSON_AddBoolToObject(exec, "binary", binary);
	if (pa->main_fn)
		cJSON_AddStringToObject(exec, "main", pa->main_fn);
	return 0;
}

/* parameters, annotations and limits, for those given. */
static void put_rest(cJSON *body, const struct put_args *pa)
{
	if (cJSON_GetArraySize(pa->params) > 0)
		cJSON_AddItemToObject(body, "parameters", cJSON_Duplicate(pa->params, 1));
	if (cJSON_GetArraySize(pa->annots) > 0)
		cJSON_AddItemToObject(body, "annotations", cJSON_Duplicate(pa->annots, 1));
	if (pa->memory || pa->timeout || pa->concurrency || pa->logsize) {
		cJSON *l = cJSON_AddObjectToObject(body, "limits");
		if (pa->memory)
			cJSON_AddNumberToObject(l, "memory", (double)pa->memory);
		if (pa->timeout)
			cJSON_AddNumberToObject(l, "timeout", (double)pa->timeout);
		if (pa->concurrency)
			cJSON_AddNumberToObject(l, "concurrency", (double)pa->concurrency);
		if (pa->logsize)
			cJSON_AddNumberToObject(l, "logs", (double)pa->logsize);
	}
}

static int action_put(struct cli_ctx *ctx, int argc, char **argv, int overwrite)
{
	struct put_args pa = {.params = cJSON_CreateArray(), .annots = cJSON_CreateArray()};
	cJSON *body = cJSON_CreateObject();
	struct hc_buf code, out;
	int rc = 1;
	hc_buf_init(&code, 48 * 1024 * 1024);
	hc_buf_init(&out, 64 * 1024 * 1024);

	if (put_parse(argc, argv, overwrite, &pa) < 0)
		goto out;
	if (pa.seq)
		put_sequence(body, pa.seq);
	else if (pa.file && put_code(body, &pa, &code) < 0)
		goto out;
	put_rest(body, &pa);
	char path[4096];
	if (action_path(pa.name, path, sizeof path - 32) < 0)
		goto out;
	strcat(path, overwrite ? "?overwrite=true" : "?overwrite=false");
	char *text = cJSON_PrintUnformatted(body);
	long status = cli_rest(ctx, "PUT", path, text, &out);
	free(text);
	if (status != 200) {
		rc = cli_fail(ctx, overwrite ? "update failed" : "create failed", status, &out);
		if (status == 409 && !overwrite)
			fprintf(stderr, "  Use `hearth action update %s ...` to change it.\n",
				pa.name);
		goto out;
	}
	if (ctx->json)
		puts(hc_buf_str(&out));
	else
		printf("ok: %s action %s\n", overwrite ? "updated" : "created", pa.name);
	rc = 0;
out:
	cJSON_Delete(pa.params);
	cJSON_Delete(pa.annots);
	cJSON_Delete(body);
	hc_buf_free(&code);
	hc_buf_free(&out);
	return rc;
}

static int action_invoke(struct cli_ctx *ctx, int argc, char **argv)
{
	const char *name = NULL;
	int blocking = 0, result = 0, rc = 1;
	cJSON *params = cJSON_CreateArray();
	struct hc_buf out;
	hc_buf_init(&out, 64 * 1024 * 1024);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if ((!strcmp(a, "-p") || !strcmp(a, "--param")) && i + 2 < argc) {
			cJSON_AddItemToArray(params, kv(argv[i + 1], cli_param_value(argv[i + 2])));
			i += 2;
		} else if ((!strcmp(a, "-P") || !strcmp(a, "--param-file")) && i + 1 < argc) {
			if (cli_params_file(argv[++i], params) < 0)
				goto out;
		} else if (!strcmp(a, "-b") || !strcmp(a, "--blocking")) {
			blocking = 1;
		} else if (!strcmp(a, "-r") || !strcmp(a, "--result")) {
			blocking = result = 1;
		} else if (a[0] == '-' || name) {
			fprintf(stderr, "hearth: unexpected argument %s\n%s", a, action_usage);
			goto out;
		} else {
			name = a;
		}
	}
	if (!name) {
		fprintf(stderr, "hearth: action invoke needs a NAME\n%s", action_usage);
		goto out;
	}
	cJSON *body = cJSON_CreateObject();
	for (cJSON *p = params->child; p; p = p->next)
		cJSON_AddItemToObject(body, cJSON_GetObjectItem(p, "key")->valuestring,
				      cJSON_Duplicate(cJSON_GetObjectItem(p, "value"), 1));
	char *text = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	char path[4096];
	if (action_path(name, path, sizeof path - 40) < 0) {
		free(text);
		goto out;
	}
	strcat(path, blocking ? "?blocking=true" : "?blocking=false");
	if (result)
		strcat(path, "&result=true");
	long status = cli_rest(ctx, "POST", path, text, &out);
	free(text);
	struct hc_err err = {{0}};
	cJSON *j = hc_json_parse(hc_buf_str(&out), out.len, HC_JSON_MAX_DEPTH, &err);
	if (status == 202 && j) {
		const char *id = NULL;
		hc_json_str(j, "activationId", 0, &id, NULL);
		if (ctx->json)
			cli_print_json(ctx, j);
		else if (blocking)
			printf(
			    "ok: invoked %s, still running after the blocking wait; activation %s\n"
			    "  see `hearth activation get %s`\n",
			    name, id ? id : "?", id ? id : "ID");
		else
			printf("ok: invoked %s with id %s\n", name, id ? id : "?");
		rc = 0;
	} else if ((status == 200 || status == 502) && j && blocking) {
		cli_print_json(ctx, j);
		rc = status == 200 ? 0 : 5;
		if (status == 502 && !ctx->json)
			fprintf(stderr, "hearth: the action failed (HTTP 502)\n");
	} else {
		rc = cli_fail(ctx, "invoke failed", status, &out);
	}
	cJSON_Delete(j);
out:
	cJSON_Delete(params);
	hc_buf_free(&out);
	return rc;
}

static int action_simple(struct cli_ctx *ctx, const char *method, const char *name,
			 const char *query, const char *what)
{
	char path[4096];
	struct hc_buf out;
	if (action_path(name, path, sizeof path - 32) < 0)
		return 1;
	strcat(path, query);
	hc_buf_init(&out, 64 * 1024 * 1024);
	long status = cli_rest(ctx, method, path, NULL, &out);
	int rc = 0;
	if (status != 200) {
		rc = cli_fail(ctx, what, status, &out);
	} else if (!strcmp(method, "DELETE") && !ctx->json) {
		printf("ok: deleted action %s\n", name);
	} else {
		cJSON *j = hc_json_parse(hc_buf_str(&out), out.len, HC_JSON_MAX_DEPTH, NULL);
		if (j)
			cli_print_json(ctx, j);
		else
			puts(hc_buf_str(&out));
		cJSON_Delete(j);
	}
	hc_buf_free(&out);
	return rc;
}

static const char *annotation(const cJSON *item, const char *key)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(item, "annotations");
	for (const cJSON *e = a ? a->child : NULL; e; e = e->next) {
		const cJSON *k = cJSON_GetObjectItemCaseSensitive(e, "key");
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, "value");
		if (cJSON_IsString(k) && !strcmp(k->valuestring, key) && cJSON_IsString(v))
			return v->valuestring;
	}
	return "";
}

static int action_list(struct cli_ctx *ctx, int argc, char **argv)
{
	char path[512];
	long limit = 30, skip = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--limit") && i + 1 < argc)
			limit = atol(argv[++i]);
		else if (!strcmp(argv[i], "--skip") && i + 1 < argc)
			skip = atol(argv[++i]);
		else {
			fprintf(stderr, "hearth: unexpected argument %s\n%s", argv[i],
				action_usage);
			return 1;
		}
	}
	snprintf(path, sizeof path, "/api/v1/namespaces/_/actions?limit=%ld&skip=%ld", limit, skip);
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
		puts("actions");
		for (const cJSON *e = j->child; e; e = e->next) {
			const cJSON *ns = cJSON_GetObjectItemCaseSensitive(e, "namespace");
			const cJSON *nm = cJSON_GetObjectItemCaseSensitive(e, "name");
			const cJSON *pub = cJSON_GetObjectItemCaseSensitive(e, "publish");
			char fq[600];
			snprintf(fq, sizeof fq, "/%s/%s",
				 cJSON_IsString(ns) ? ns->valuestring : "?",
				 cJSON_IsString(nm) ? nm->valuestring : "?");
			printf("%-60s %-8s %s\n", fq, cJSON_IsTrue(pub) ? "shared" : "private",
			       annotation(e, "exec"));
		}
	}
	cJSON_Delete(j);
	hc_buf_free(&out);
	return rc;
}

/* `wsk action get NAME --url`: the URL that invokes the action, the web
 * one for a web action (annotation web-export), as wsk prints it. */
static int action_url(struct cli_ctx *ctx, const char *name)
{
	char path[4096];
	struct hc_buf out;
	int rc = 0;
	if (action_path(name, path, sizeof path - 32) < 0)
		return 1;
	strcat(path, "?code=false");
	hc_buf_init(&out, 64 * 1024 * 1024);
	long status = cli_rest(ctx, "GET", path, NULL, &out);
	cJSON *j = status == 200 ? hc_json_parse(hc_buf_str(&out), out.len, HC_JSON_MAX_DEPTH, NULL)
				 : NULL;
	const cJSON *ns = cJSON_GetObjectItemCaseSensitive(j, "namespace");
	const cJSON *nm = cJSON_GetObjectItemCaseSensitive(j, "name");
	if (!j || !cJSON_IsString(ns) || !cJSON_IsString(nm)) {
		rc = status == 200 ? 5 : cli_fail(ctx, "get failed", status, &out);
		if (status == 200)
			fprintf(stderr,
				"hearth: the API answered an action without its namespace\n");
		goto out;
	}
	/* the namespace is "ns" or "ns/pkg" */
	char root[300], pkg[300] = "", url[3072];
	const char *slash = strchr(ns->valuestring, '/');
	snprintf(root, sizeof root, "%.*s",
		 (int)(slash ? (size_t)(slash - ns->valuestring) : strlen(ns->valuestring)),
		 ns->valuestring);
	if (slash)
		snprintf(pkg, sizeof pkg, "%s", slash + 1);
	const cJSON *web = NULL, *e;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(j, "annotations"))
	{
		const cJSON *k = cJSON_GetObjectItemCaseSensitive(e, "key");
		if (cJSON_IsString(k) && !strcmp(k->valuestring, "web-export"))
			web = cJSON_GetObjectItemCaseSensitive(e, "value");
	}
	if (web &&
	    (cJSON_IsTrue(web) || (cJSON_IsString(web) && !strcmp(web->valuestring, "true"))))
		snprintf(url, sizeof url, "%s/api/v1/web/%s/%s/%s", ctx->apihost, root,
			 pkg[0] ? pkg : "default", nm->valuestring);
	else
		snprintf(url, sizeof url, "%s/api/v1/namespaces/%s/actions/%s%s%s", ctx->apihost,
			 root, pkg, pkg[0] ? "/" : "", nm->valuestring);
	if (ctx->json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "url", url);
		cli_print_json(ctx, o);
		cJSON_Delete(o);
	} else {
		printf("ok: got action %s\n%s\n", nm->valuestring, url);
	}
out:
	cJSON_Delete(j);
	hc_buf_free(&out);
	return rc;
}

int cli_action(struct cli_ctx *ctx, int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(action_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *sub = argv[1];
	argc--;
	argv++;
	if (!strcmp(sub, "create"))
		return action_put(ctx, argc, argv, 0);
	if (!strcmp(sub, "update"))
		return action_put(ctx, argc, argv, 1);
	if (!strcmp(sub, "invoke"))
		return action_invoke(ctx, argc, argv);
	if (!strcmp(sub, "list"))
		return action_list(ctx, argc, argv);
	if ((!strcmp(sub, "get") || !strcmp(sub, "delete")) && argc >= 2) {
		int code = 0, url = 0;
		for (int i = 2; i < argc; i++) {
			if (!strcmp(argv[i], "--code"))
				code = 1;
			else if (!strcmp(argv[i], "--url"))
				url = 1;
		}
		if (!strcmp(sub, "get") && url)
			return action_url(ctx, argv[1]);
		if (!strcmp(sub, "get"))
			return action_simple(ctx, "GET", argv[1],
					     code ? "?code=true" : "?code=false", "get failed");
		return action_simple(ctx, "DELETE", argv[1], "", "delete failed");
	}
	fprintf(stderr, "hearth: unknown action command '%s'\n%s", sub, action_usage);
	return 2;
}
