/* cli/trigger.c — `hearth trigger create|update|get|list|delete|fire` and
 * `hearth rule create|update|get|list|delete|enable|disable|status`, as
 * `wsk` has them.
 *
 * A trigger with --feed is made the way wsk makes it, on the client: the
 * trigger is created with a "feed" annotation, then the feed action is
 * invoked (blocking) with lifecycleEvent CREATE, triggerName and authKey
 * and the -p parameters; when the feed fails the trigger is deleted again.
 * get, update and delete of such a trigger invoke the feed with READ,
 * UPDATE and DELETE. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/json.h"

#define OUT_MAX (64u * 1024 * 1024)

static const char trigger_usage[] =
    "usage: hearth trigger create NAME [--feed FEED] [-p KEY VALUE]... [-P FILE] [-a KEY "
    "VALUE]...\n"
    "       hearth trigger update NAME [-p KEY VALUE]... [-P FILE] [-a KEY VALUE]...\n"
    "       hearth trigger get NAME\n"
    "       hearth trigger list [--limit N] [--skip N]\n"
    "       hearth trigger delete NAME\n"
    "       hearth trigger fire NAME [-p KEY VALUE]... [-P FILE]\n"
    "With --feed (e.g. /whisk.system/alarms/interval -p minutes 5), the -p parameters go\n"
    "to the feed action, which is told CREATE; get, update and delete tell it READ,\n"
    "UPDATE and DELETE.\n";

static const char rule_usage[] =
    "usage: hearth rule create|update NAME TRIGGER ACTION\n"
    "       hearth rule enable|disable|status|get|delete NAME\n"
    "       hearth rule list [--limit N] [--skip N]\n"
    "TRIGGER and ACTION are `name`, `pkg/name` (actions) or `/namespace/...`.\n";

/* "/ns/rest" as given, or "/_/name" for a name of the caller's namespace. */
static void qualify(const char *name, char *out, size_t n)
{
	if (name[0] == '/')
		snprintf(out, n, "%s", name);
	else
		snprintf(out, n, "/_/%s", name);
}

/* The REST path of an entity: "/api/v1/namespaces/NS/COLL/REST". */
static int entity_path(const char *coll, const char *name, char *out, size_t n)
{
	char q[1024], ens[900], erest[1800];
	qualify(name, q, sizeof q);
	const char *s = strchr(q + 1, '/');
	if (!s || !s[1]) {
		fprintf(stderr, "hearth: '%s' is not a valid name\n", name);
		return -1;
	}
	char ns[300];
	snprintf(ns, sizeof ns, "%.*s", (int)(s - q - 1), q + 1);
	cli_urlencode(ns, ens, sizeof ens);
	/* a package's action keeps its slash */
	char rest[1024];
	snprintf(rest, sizeof rest, "%s", s + 1);
	char *slash = strchr(rest, '/');
	if (slash) {
		char a[300], b[300];
		*slash = 0;
		cli_urlencode(rest, a, sizeof a);
		cli_urlencode(slash + 1, b, sizeof b);
		snprintf(erest, sizeof erest, "%s/%s", a, b);
	} else {
		cli_urlencode(rest, erest, sizeof erest);
	}
	snprintf(out, n, "/api/v1/namespaces/%s/%s/%s", ens, coll, erest);
	return 0;
}

static cJSON *kv(const char *k, cJSON *v)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "key", k);
	cJSON_AddItemToObject(o, "value", v);
	return o;
}

static cJSON *parse(const struct hc_buf *b)
{
	return hc_json_parse(b->data ? b->data : "", b->len, HC_JSON_MAX_DEPTH, NULL);
}

/* The options of create/update/fire. */
struct topts {
	const char *name, *feed;
	cJSON *params, *annots;
	long limit, skip;
};

static int parse_opts(int argc, char **argv, struct topts *o, const char *usage)
{
	memset(o, 0, sizeof(*o));
	o->params = cJSON_CreateArray();
	o->annots = cJSON_CreateArray();
	o->limit = 30;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if ((!strcmp(a, "-p") || !strcmp(a, "--param")) && i + 2 < argc) {
			cJSON_AddItemToArray(o->params,
					     kv(argv[i + 1], cli_param_value(argv[i + 2])));
			i += 2;
		} else if ((!strcmp(a, "-a") || !strcmp(a, "--annotation")) && i + 2 < argc) {
			cJSON_AddItemToArray(o->annots,
					     kv(argv[i + 1], cli_param_value(argv[i + 2])));
			i += 2;
		} else if ((!strcmp(a, "-P") || !strcmp(a, "--param-file")) && i + 1 < argc) {
			if (cli_params_file(argv[++i], o->params) < 0)
				return -1;
		} else if ((!strcmp(a, "-f") || !strcmp(a, "--feed")) && i + 1 < argc) {
			o->feed = argv[++i];
		} else if (!strcmp(a, "--limit") && i + 1 < argc) {
			o->limit = atol(argv[++i]);
		} else if (!strcmp(a, "--skip") && i + 1 < argc) {
			o->skip = atol(argv[++i]);
		} else if (a[0] == '-' || o->name) {
			fprintf(stderr, "hearth: unexpected argument %s\n%s", a, usage);
			return -1;
		} else {
			o->name = a;
		}
	}
	return 0;
}

static void opts_free(struct topts *o)
{
	cJSON_Delete(o->params);
	cJSON_Delete(o->annots);
}

/* {k: v, ...} from a {key,value} array (a copy). */
static cJSON *as_object(const cJSON *arr)
{
	cJSON *o = cJSON_CreateObject();
	for (const cJSON *p = arr ? arr->child : NULL; p; p = p->next)
		cJSON_AddItemToObject(o, cJSON_GetObjectItem(p, "key")->valuestring,
				      cJSON_Duplicate(cJSON_GetObjectItem(p, "value"), 1));
	return o;
}

static const char *feed_of(const cJSON *trigger)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(trigger, "annotations");
	for (const cJSON *e = a ? a->child : NULL; e; e = e->next) {
		const cJSON *k = cJSON_GetObjectItemCaseSensitive(e, "key");
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, "value");
		if (cJSON_IsString(k) && !strcmp(k->valuestring, "feed") && cJSON_IsString(v))
			return v->valuestring;
	}
	return NULL;
}

/* Invoke feed (blocking) with lifecycleEvent event for trigger "/ns/name"
 * and params (an object, or NULL). 0 when the feed succeeded; else -1 after
 * saying why. result, when not NULL, gets the feed's result. */
static int run_feed(struct cli_ctx *ctx, const char *feed, const char *event, const char *ns,
		    const char *name, const cJSON *params, cJSON **result)
{
	char path[4096], tname[700];
	struct hc_buf out;
	int rc = -1;
	if (entity_path("actions", feed, path, sizeof path - 32) < 0)
		return -1;
	strcat(path, "?blocking=true");
	cJSON *body = params ? cJSON_Duplicate(params, 1) : cJSON_CreateObject();
	snprintf(tname, sizeof tname, "/%s/%s", ns, name);
	cJSON_DeleteItemFromObject(body, "lifecycleEvent");
	cJSON_AddStringToObject(body, "lifecycleEvent", event);
	cJSON_AddStringToObject(body, "triggerName", tname);
	cJSON_AddStringToObject(body, "authKey", ctx->auth);
	char *text = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	hc_buf_init(&out, OUT_MAX);
	long status = cli_rest(ctx, "POST", path, text, &out);
	free(text);
	cJSON *j = status ? parse(&out) : NULL;
	const cJSON *res = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(j, "response"), "result");
	if (status == 200) {
		rc = 0;
		if (result)
			*result = res ? cJSON_Duplicate(res, 1) : cJSON_CreateObject();
	} else {
		char what[128];
		snprintf(what, sizeof what, "feed %s (%s)", feed, event);
		cli_fail(ctx, what, status, &out);
	}
	cJSON_Delete(j);
	hc_buf_free(&out);
	return rc;
}

/* GET the trigger; NULL after saying why (unless quiet). */
static cJSON *get_trigger(struct cli_ctx *ctx, const char *name, long *status, int quiet)
{
	char path[4096];
	struct hc_buf out;
	if (entity_path("triggers", name, path, sizeof path) < 0)
		return NULL;
	hc_buf_init(&out, OUT_MAX);
	*status = cli_rest(ctx, "GET", path, NULL, &out);
	cJSON *j = *status == 200 ? parse(&out) : NULL;
	if (!j && !(quiet && *status == 404))
		cli_fail(ctx, "get failed", *status, &out);
	hc_buf_free(&out);
	return j;
}

static const char *str_of(const cJSON *o, const char *k, const char *dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : dflt;
}

static int delete_trigger(struct cli_ctx *ctx, const char *name, int quiet)
{
	char path[4096];
	struct hc_buf out;
	if (entity_path("triggers", name, path, sizeof path) < 0)
		return 1;
	hc_buf_init(&out, OUT_MAX);
	long status = cli_rest(ctx, "DELETE", path, NULL, &out);
	int rc = 0;
	if (status != 200)
		rc = cli_fail(ctx, "delete failed", status, &out);
	else if (ctx->json && !quiet)
		puts(hc_buf_str(&out));
	else if (!quiet)
		printf("ok: deleted trigger %s\n", name);
	hc_buf_free(&out);
	return rc;
}

static int trigger_put(struct cli_ctx *ctx, int argc, char **argv, int overwrite)
{
	struct topts o;
	struct hc_buf out;
	char path[4096];
	int rc = 1;
	hc_buf_init(&out, OUT_MAX);
	if (parse_opts(argc, argv, &o, trigger_usage) < 0)
		goto out;
	if (!o.name) {
		fprintf(stderr, "hearth: trigger %s needs a NAME\n%s",
			overwrite ? "update" : "create", trigger_usage);
		goto out;
	}
	if (overwrite && !o.feed) {
		/* a trigger with a feed: its -p parameters are the feed's (UPDATE) */
		long st = 0;
		cJSON *t = get_trigger(ctx, o.name, &st, 1);
		const char *feed = t ? feed_of(t) : NULL;
		if (feed && cJSON_GetArraySize(o.params) > 0) {
			cJSON *p = as_object(o.params);
			rc = run_feed(ctx, feed, "UPDATE", str_of(t, "namespace", "_"), o.name, p,
				      NULL) < 0
				 ? 1
				 : 0;
			cJSON_Delete(p);
			if (rc == 0)
				printf("ok: updated the feed of trigger %s\n", o.name);
			cJSON_Delete(t);
			goto out;
		}
		int unreadable = !t && st != 404;
		cJSON_Delete(t);
		if (unreadable)
			goto out; /* said why */
	}
	cJSON *body = cJSON_CreateObject();
	if (o.feed) {
		char fq[1024];
		qualify(o.feed, fq, sizeof fq);
		cJSON_AddItemToArray(o.annots, kv("feed", cJSON_CreateString(fq)));
	} else if (cJSON_GetArraySize(o.params) > 0) {
		cJSON_AddItemToObject(body, "parameters", cJSON_Duplicate(o.params, 1));
	}
	if (cJSON_GetArraySize(o.annots) > 0)
		cJSON_AddItemToObject(body, "annotations", cJSON_Duplicate(o.annots, 1));
	char *text = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	if (entity_path("triggers", o.name, path, sizeof path - 32) < 0) {
		free(text);
		goto out;
	}
	strcat(path, overwrite ? "?overwrite=true" : "?overwrite=false");
	long status = cli_rest(ctx, "PUT", path, text, &out);
	free(text);
	if (status != 200) {
		rc = cli_fail(ctx, overwrite ? "update failed" : "create failed", status, &out);
		goto out;
	}
	if (o.feed) {
		cJSON *t = parse(&out);
		cJSON *p = as_object(o.params);
		int frc =
		    run_feed(ctx, o.feed, "CREATE", str_of(t, "namespace", "_"), o.name, p, NULL);
		cJSON_Delete(p);
		cJSON_Delete(t);
		if (frc < 0) {
			/* as wsk: a trigger whose feed refused it is not kept */
			delete_trigger(ctx, o.name, 1);
			fprintf(stderr,
				"hearth: the feed refused trigger %s, which was not created\n",
				o.name);
			goto out;
		}
	}
	if (ctx->json)
		puts(hc_buf_str(&out));
	else
		printf("ok: %s trigger %s%s%s\n", overwrite ? "updated" : "created", o.name,
		       o.feed ? " with feed " : "", o.feed ? o.feed : "");
	rc = 0;
out:
	opts_free(&o);
	hc_buf_free(&out);
	return rc;
}

static int trigger_get(struct cli_ctx *ctx, const char *name)
{
	long status = 0;
	cJSON *t = get_trigger(ctx, name, &status, 0);
	if (!t)
		return status == 404 ? 4 : 1;
	const char *feed = feed_of(t);
	cJSON *res = NULL;
	if (feed)
		run_feed(ctx, feed, "READ", str_of(t, "namespace", "_"), name, NULL, &res);
	if (ctx->json && res) {
		cJSON *both = cJSON_CreateObject();
		cJSON_AddItemToObject(both, "trigger", t);
		cJSON_AddItemToObject(both, "feed", res);
		cli_print_json(ctx, both);
		cJSON_Delete(both);
		return 0;
	}
	cli_print_json(ctx, t);
	if (res) {
		printf("feed %s:\n", feed);
		cli_print_json(ctx, res);
	}
	cJSON_Delete(t);
	cJSON_Delete(res);
	return 0;
}

static int trigger_delete(struct cli_ctx *ctx, const char *name)
{
	long status = 0;
	cJSON *t = get_trigger(ctx, name, &status, 0);
	if (!t)
		return status == 404 ? 4 : 1;
	const char *feed = feed_of(t);
	if (feed &&
	    run_feed(ctx, feed, "DELETE", str_of(t, "namespace", "_"), name, NULL, NULL) < 0)
		fprintf(stderr, "hearth: deleting trigger %s anyway\n", name);
	cJSON_Delete(t);
	return delete_trigger(ctx, name, 0);
}

static int trigger_fire(struct cli_ctx *ctx, int argc, char **argv)
{
	struct topts o;
	struct hc_buf out;
	char path[4096];
	int rc = 1;
	hc_buf_init(&out, OUT_MAX);
	if (parse_opts(argc, argv, &o, trigger_usage) < 0)
		goto out;
	if (!o.name) {
		fprintf(stderr, "hearth: trigger fire needs a NAME\n%s", trigger_usage);
		goto out;
	}
	cJSON *body = as_object(o.params);
	char *text = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	if (entity_path("triggers", o.name, path, sizeof path) < 0) {
		free(text);
		goto out;
	}
	long status = cli_rest(ctx, "POST", path, text, &out);
	free(text);
	cJSON *j = status == 202 ? parse(&out) : NULL;
	if (status == 202 && j) {
		if (ctx->json)
			cli_print_json(ctx, j);
		else
			printf("ok: triggered %s with id %s\n", o.name,
			       str_of(j, "activationId", "?"));
		rc = 0;
	} else if (status == 204) {
		if (ctx->json)
			puts("{}");
		else
			printf("ok: triggered %s; no rule is active, so nothing ran\n", o.name);
		rc = 0;
	} else {
		rc = cli_fail(ctx, "fire failed", status, &out);
	}
	cJSON_Delete(j);
out:
	opts_free(&o);
	hc_buf_free(&out);
	return rc;
}

/* GET a collection; the array, or NULL after saying why. */
static cJSON *list(struct cli_ctx *ctx, const char *coll, long limit, long skip)
{
	char path[512];
	struct hc_buf out;
	snprintf(path, sizeof path, "/api/v1/namespaces/_/%s?limit=%ld&skip=%ld", coll, limit,
		 skip);
	hc_buf_init(&out, OUT_MAX);
	long status = cli_rest(ctx, "GET", path, NULL, &out);
	cJSON *j = status == 200 ? parse(&out) : NULL;
	if (!j)
		cli_fail(ctx, "list failed", status, &out);
	hc_buf_free(&out);
	return j;
}

static int trigger_list(struct cli_ctx *ctx, int argc, char **argv)
{
	struct topts o;
	int rc = 1;
	if (parse_opts(argc, argv, &o, trigger_usage) == 0) {
		cJSON *j = list(ctx, "triggers", o.limit, o.skip);
		if (j && ctx->json) {
			cli_print_json(ctx, j);
		} else if (j) {
			puts("triggers");
			for (const cJSON *e = j->child; e; e = e->next)
				printf("/%s/%-50s %s\n", str_of(e, "namespace", "?"),
				       str_of(e, "name", "?"),
				       cJSON_IsTrue(cJSON_GetObjectItem(e, "publish")) ? "shared"
										       : "private");
		}
		rc = j ? 0 : 1;
		cJSON_Delete(j);
	}
	opts_free(&o);
	return rc;
}

int cli_trigger(struct cli_ctx *ctx, int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(trigger_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *sub = argv[1];
	argc--;
	argv++;
	if (!strcmp(sub, "create"))
		return trigger_put(ctx, argc, argv, 0);
	if (!strcmp(sub, "update"))
		return trigger_put(ctx, argc, argv, 1);
	if (!strcmp(sub, "fire"))
		return trigger_fire(ctx, argc, argv);
	if (!strcmp(sub, "list"))
		return trigger_list(ctx, argc, argv);
	if (!strcmp(sub, "get") && argc == 2)
		return trigger_get(ctx, argv[1]);
	if (!strcmp(sub, "delete") && argc == 2)
		return trigger_delete(ctx, argv[1]);
	fprintf(stderr, "hearth: unknown or incomplete trigger command '%s'\n%s", sub,
		trigger_usage);
	return 2;
}

/* ---- rules ---- */

static int rule_put(struct cli_ctx *ctx, int argc, char **argv, int overwrite)
{
	char path[4096], t[1024], a[1024];
	struct hc_buf out;
	if (argc != 4) {
		fprintf(stderr, "hearth: rule %s needs NAME TRIGGER ACTION\n%s",
			overwrite ? "update" : "create", rule_usage);
		return 2;
	}
	if (entity_path("rules", argv[1], path, sizeof path - 32) < 0)
		return 1;
	strcat(path, overwrite ? "?overwrite=true" : "?overwrite=false");
	qualify(argv[2], t, sizeof t);
	qualify(argv[3], a, sizeof a);
	cJSON *body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "trigger", t);
	cJSON_AddStringToObject(body, "action", a);
	char *text = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	hc_buf_init(&out, OUT_MAX);
	long status = cli_rest(ctx, "PUT", path, text, &out);
	free(text);
	int rc = 0;
	if (status != 200)
		rc = cli_fail(ctx, overwrite ? "update failed" : "create failed", status, &out);
	else if (ctx->json)
		puts(hc_buf_str(&out));
	else
		printf("ok: %s rule %s\n", overwrite ? "updated" : "created", argv[1]);
	hc_buf_free(&out);
	return rc;
}

/* GET, DELETE or POST {status} on one rule. */
static int rule_one(struct cli_ctx *ctx, const char *method, const char *name, const char *status,
		    int print_status)
{
	char path[4096], body[64];
	struct hc_buf out;
	if (entity_path("rules", name, path, sizeof path) < 0)
		return 1;
	if (status)
		snprintf(body, sizeof body, "{\"status\":\"%s\"}", status);
	hc_buf_init(&out, OUT_MAX);
	long st = cli_rest(ctx, method, path, status ? body : NULL, &out);
	int rc = 0;
	if (st != 200) {
		rc = cli_fail(ctx,
			      status
				  ? (strcmp(status, "active") ? "disable failed" : "enable failed")
			      : !strcmp(method, "DELETE") ? "delete failed"
							  : "get failed",
			      st, &out);
	} else if (status) {
		printf("ok: %s rule %s\n", strcmp(status, "active") ? "disabled" : "enabled", name);
	} else if (!strcmp(method, "DELETE")) {
		if (ctx->json)
			puts(hc_buf_str(&out));
		else
			printf("ok: deleted rule %s\n", name);
	} else {
		cJSON *j = parse(&out);
		if (print_status && !ctx->json)
			printf("ok: rule %s is %s\n", name, str_of(j, "status", "?"));
		else
			cli_print_json(ctx, j);
		cJSON_Delete(j);
	}
	hc_buf_free(&out);
	return rc;
}

static int rule_list(struct cli_ctx *ctx, int argc, char **argv)
{
	struct topts o;
	int rc = 1;
	if (parse_opts(argc, argv, &o, rule_usage) == 0) {
		cJSON *j = list(ctx, "rules", o.limit, o.skip);
		if (j && ctx->json) {
			cli_print_json(ctx, j);
		} else if (j) {
			/* a list has no status (as OpenWhisk): each rule is asked, as wsk does */
			puts("rules");
			for (const cJSON *e = j->child; e; e = e->next) {
				char path[4096], q[700];
				struct hc_buf out;
				snprintf(q, sizeof q, "/%s/%s", str_of(e, "namespace", "_"),
					 str_of(e, "name", "?"));
				hc_buf_init(&out, OUT_MAX);
				cJSON *r = NULL;
				if (entity_path("rules", q, path, sizeof path) == 0 &&
				    cli_rest(ctx, "GET", path, NULL, &out) == 200)
					r = parse(&out);
				printf("%-56s %-8s %s\n", q,
				       cJSON_IsTrue(cJSON_GetObjectItem(e, "publish")) ? "shared"
										       : "private",
				       str_of(r, "status", "?"));
				cJSON_Delete(r);
				hc_buf_free(&out);
			}
		}
		rc = j ? 0 : 1;
		cJSON_Delete(j);
	}
	opts_free(&o);
	return rc;
}

int cli_rule(struct cli_ctx *ctx, int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(rule_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *sub = argv[1];
	argc--;
	argv++;
	if (!strcmp(sub, "create"))
		return rule_put(ctx, argc, argv, 0);
	if (!strcmp(sub, "update"))
		return rule_put(ctx, argc, argv, 1);
	if (!strcmp(sub, "list"))
		return rule_list(ctx, argc, argv);
	if (argc == 2) {
		const char *n = argv[1];
		if (!strcmp(sub, "get"))
			return rule_one(ctx, "GET", n, NULL, 0);
		if (!strcmp(sub, "status"))
			return rule_one(ctx, "GET", n, NULL, 1);
		if (!strcmp(sub, "delete"))
			return rule_one(ctx, "DELETE", n, NULL, 0);
		if (!strcmp(sub, "enable"))
			return rule_one(ctx, "POST", n, "active", 0);
		if (!strcmp(sub, "disable"))
			return rule_one(ctx, "POST", n, "inactive", 0);
	}
	fprintf(stderr, "hearth: unknown or incomplete rule command '%s'\n%s", sub, rule_usage);
	return 2;
}
