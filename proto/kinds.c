/* proto/kinds.c — the runtime kinds this deployment runs (see kinds.h). */
#include "proto/kinds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"

#define MALFORMED "The request content was malformed:\n"

const char *const pr_kind_node_paths[] = {"/usr/bin/node", "/usr/local/bin/node", "/usr/bin/nodejs",
					  NULL};
const char *const pr_kind_python_paths[] = {"/usr/bin/python3", "/usr/local/bin/python3", NULL};
const char *const pr_kind_bin_dirs[] = {"/usr/bin", "/usr/local/bin", NULL};

static struct pr_kinds current;
static int current_set;

/* n decimal digits and nothing else, at most 4 */
static int all_digits(const char *s)
{
	size_t n = strspn(s, "0123456789");
	return n > 0 && n <= 4 && s[n] == '\0';
}

/* One well-formed kind of a list. */
static int kind_valid(const char *k)
{
	if (!strncmp(k, "nodejs:", 7))
		return all_digits(k + 7);
	if (!strcmp(k, "python:3") || !strcmp(k, "blackbox"))
		return 1;
	if (!strncmp(k, "python:3.", 9))
		return all_digits(k + 9);
	return 0;
}

static int add(struct pr_kinds *k, const char *kind)
{
	if (pr_kinds_has(k, kind))
		return 0;
	if (k->n >= PR_KINDS_MAX || strlen(kind) >= PR_KIND_NAME_MAX)
		return -1;
	snprintf(k->kind[k->n++], PR_KIND_NAME_MAX, "%s", kind);
	return 0;
}

int pr_kinds_parse(const char *list, struct pr_kinds *out, struct hc_err *err)
{
	memset(out, 0, sizeof(*out));
	const char *p = list ? list : "";
	while (*p) {
		char item[PR_KIND_NAME_MAX];
		p += strspn(p, " \t,");
		size_t n = strcspn(p, ",");
		size_t m = n;
		while (m > 0 && (p[m - 1] == ' ' || p[m - 1] == '\t'))
			m--;
		if (m == 0) {
			p += n;
			continue;
		}
		if (m >= sizeof(item))
			return hc_err_set(err, "kind \"%.*s\" is too long", (int)m, p);
		memcpy(item, p, m);
		item[m] = '\0';
		if (!kind_valid(item))
			return hc_err_set(err,
					  "\"%s\" is not a kind hearth runs (nodejs:<major>, "
					  "python:3, python:3.<minor>, blackbox)",
					  item);
		if (add(out, item) < 0)
			return hc_err_set(err, "more than %d kinds", PR_KINDS_MAX - 2);
		if (!strncmp(item, "python:3.", 9) && add(out, "python:3") < 0)
			return hc_err_set(err, "more than %d kinds", PR_KINDS_MAX - 2);
		p += n;
	}
	if (add(out, "blackbox") < 0)
		return hc_err_set(err, "more than %d kinds", PR_KINDS_MAX - 1);
	return 0;
}

void pr_kinds_set(const struct pr_kinds *k)
{
	current = *k;
	current_set = 1;
}

const struct pr_kinds *pr_kinds_get(void)
{
	if (!current_set) {
		/* never fails: a constant, well-formed list */
		pr_kinds_parse(PR_KINDS_BUILTIN, &current, NULL);
		current_set = 1;
	}
	return &current;
}

int pr_kinds_has(const struct pr_kinds *k, const char *kind)
{
	for (int i = 0; i < k->n; i++)
		if (!strcmp(k->kind[i], kind))
			return 1;
	return 0;
}

/* The family's default: the first nodejs kind listed; python:3 for python. */
static const char *family_default(const struct pr_kinds *k, const char *family)
{
	if (!strcmp(family, "python"))
		return pr_kinds_has(k, "python:3") ? "python:3" : NULL;
	for (int i = 0; i < k->n; i++)
		if (!strncmp(k->kind[i], "nodejs:", 7))
			return k->kind[i];
	return NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int pr_kinds_resolve(const struct pr_kinds *k, const char *kind, char *out, size_t outlen,
		     struct hc_err *err)
{
	const char *r = NULL;
	if (!kind)
		kind = "";
	if (!strcmp(kind, "sequence") || pr_kinds_has(k, kind))
		r = kind;
	else if (!strcmp(kind, "nodejs") || !strcmp(kind, "nodejs:default"))
		r = family_default(k, "nodejs");
	else if (!strcmp(kind, "python") || !strcmp(kind, "python:default"))
		r = family_default(k, "python");
	if (r) {
		if (strlen(r) >= outlen)
			return hc_err_set(err, "kind buffer too small");
		strcpy(out, r);
		return 0;
	}
	/* Messages.invalidRuntimeError(kind, knownContainerRuntimes ++ sequence) */
	const char *names[PR_KINDS_MAX + 1];
	int n = 0;
	for (int i = 0; i < k->n; i++)
		names[n++] = k->kind[i];
	names[n++] = "sequence";
	qsort(names, (size_t)n, sizeof(names[0]), cmp_str);
	char valid[PR_KINDS_MAX * (PR_KIND_NAME_MAX + 4)];
	size_t used = 0;
	valid[0] = '\0';
	for (int i = 0; i < n; i++) {
		int w =
		    snprintf(valid + used, sizeof(valid) - used, "%s'%s'", i ? ", " : "", names[i]);
		if (w < 0 || (size_t)w >= sizeof(valid) - used)
			break;
		used += (size_t)w;
	}
	return hc_err_set(err,
			  MALFORMED "The specified runtime '%.64s' is not supported by this "
				    "platform. Valid values are: %s.",
			  kind, valid);
}

static int add_runtime(cJSON *family, const char *kind, int dflt, int attached)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return -1;
	cJSON_AddItemToArray(family, o);
	/* hearth has no images: every kind runs in hearth-runtime with the
	 * host's interpreter */
	return hc_json_add_str(o, "kind", kind) | hc_json_add_str(o, "image", "hearth-runtime") |
	       hc_json_add_bool(o, "deprecated", 0) | hc_json_add_bool(o, "default", dflt) |
	       hc_json_add_bool(o, "attached", attached) | hc_json_add_bool(o, "requireMain", 0);
}

cJSON *pr_kinds_manifest(const struct pr_kinds *k)
{
	static const char *const families[] = {"nodejs", "python", "blackbox"};
	cJSON *m = cJSON_CreateObject();
	if (!m)
		return NULL;
	for (size_t f = 0; f < sizeof(families) / sizeof(families[0]); f++) {
		const char *fam = families[f];
		size_t fl = strlen(fam);
		const char *dflt = f < 2 ? family_default(k, fam) : "blackbox";
		cJSON *arr = NULL;
		for (int i = 0; i < k->n; i++) {
			const char *kd = k->kind[i];
			if (strncmp(kd, fam, fl) != 0 || (kd[fl] != ':' && kd[fl] != '\0'))
				continue;
			if (!arr && !(arr = cJSON_AddArrayToObject(m, fam)))
				goto oom;
			if (add_runtime(arr, kd, dflt && !strcmp(dflt, kd), f < 2) < 0)
				goto oom;
		}
	}
	return m;
oom:
	cJSON_Delete(m);
	return NULL;
}

void pr_kind_versioned_name(const char *kind, char *out, size_t outlen)
{
	out[0] = '\0';
	if (!kind)
		return;
	if (!strncmp(kind, "nodejs:", 7) && all_digits(kind + 7))
		snprintf(out, outlen, "node%s", kind + 7);
	else if (!strncmp(kind, "python:3.", 9) && all_digits(kind + 9))
		snprintf(out, outlen, "python3.%s", kind + 9);
}
