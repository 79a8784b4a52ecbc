/* config.c — settings from one declarative table (see config.h).
 *
 * The table drives everything: defaults, the config file, HEARTH_* variables,
 * flags, --help and -t. Arguments are walked twice with the same tokenizer:
 * the first pass finds -c, -t and --help and rejects bad syntax before
 * anything is read; the second applies flags over file and environment so
 * that flags win. */
#include "common/config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/log.h"

#define CONFIG_FILE_MAX ((size_t)1 << 20)

/* The options every daemon gets without declaring them. */
enum implicit {
	IMP_NONE = 0,
	IMP_CONFIG,
	IMP_CHECK,
	IMP_HELP,
	IMP_LOG_LEVEL,
	IMP_LOG_FORMAT,
};

struct implicit_opt {
	enum implicit id;
	const char *name;
	char shortflag;
	int takes_value;
	const char *env;
	const char *arg;
	const char *help;
};

static const struct implicit_opt implicit_opts[] = {
    {IMP_CONFIG, "config", 'c', 1, NULL, "FILE", "read settings from FILE (name = value lines)"},
    {IMP_CHECK, "check", 't', 0, NULL, NULL, "check the configuration, print it and exit"},
    {IMP_HELP, "help", 'h', 0, NULL, NULL, "print this help and exit"},
    {IMP_LOG_LEVEL, "log-level", 0, 1, "HEARTH_LOG_LEVEL", "LEVEL",
     "debug, info, warn, error or off (default info)"},
    {IMP_LOG_FORMAT, "log-format", 0, 1, "HEARTH_LOG_FORMAT", "FORMAT",
     "text or json (default text)"},
};
#define NIMPLICIT (sizeof(implicit_opts) / sizeof(implicit_opts[0]))

static const char *const level_names[] = {"debug", "info", "warn", "error", "off"};

struct log_settings {
	enum hc_log_level level;
	int json;
};

/* Names match with '_' and '-' treated alike. n is the length of a. */
static int name_eq(const char *a, size_t n, const char *b)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char x = a[i], y = b[i];

		if (x == '_')
			x = '-';
		if (y == '_')
			y = '-';
		if (!y || x != y)
			return 0;
	}
	return b[n] == '\0';
}

static const struct hc_opt *find_opt(const struct hc_config_spec *spec, const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < spec->nopts; i++)
		if (name_eq(name, n, spec->opts[i].name))
			return &spec->opts[i];
	return NULL;
}

static const struct implicit_opt *find_implicit(const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < NIMPLICIT; i++)
		if (name_eq(name, n, implicit_opts[i].name))
			return &implicit_opts[i];
	return NULL;
}

static void *field(void *cfg, const struct hc_opt *o)
{
	return (char *)cfg + o->offset;
}

static const char *type_arg(enum hc_opt_type t)
{
	switch (t) {
	case HC_OPT_STR:
		return "STR";
	case HC_OPT_INT:
		return "N";
	case HC_OPT_BOOL:
		return "BOOL";
	case HC_OPT_DURATION:
		return "DURATION";
	case HC_OPT_SIZE:
		return "SIZE";
	}
	return "?";
}

static int parse_bool(const char *s, int *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};
	size_t i;

	for (i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

/* Strict decimal integer: optional '-', digits, nothing else. */
static int parse_int(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (!*s || (*s != '-' && (*s < '0' || *s > '9')))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || end == s)
		return -1;
	*out = v;
	return 0;
}

/* Validate val for o and store it in cfg. Strings replace (and free) the old
 * value. err names the setting. */
static int opt_set(const struct hc_opt *o, void *cfg, const char *val, struct hc_err *err)
{
	const char *unit = "";
	int64_t v = 0;
	int b;
	char *s;

	switch (o->type) {
	case HC_OPT_STR:
		s = strdup(val);
		if (!s)
			return hc_err_set(err, "%s: out of memory", o->name);
		free(*(char **)field(cfg, o));
		*(char **)field(cfg, o) = s;
		return 0;
	case HC_OPT_BOOL:
		if (parse_bool(val, &b) < 0)
			return hc_err_set(
			    err, "%s: '%s' is not a boolean (true/false/yes/no/on/off/1/0)",
			    o->name, val);
		*(int *)field(cfg, o) = b;
		return 0;
	case HC_OPT_INT:
		if (parse_int(val, &v) < 0)
			return hc_err_set(err, "%s: '%s' is not an integer", o->name, val);
		break;
	case HC_OPT_DURATION:
		unit = "ms";
		if (hc_parse_duration_ms(val, &v) < 0)
			return hc_err_set(err,
					  "%s: '%s' is not a duration (e.g. 250ms, 2s, 10m, 1h)",
					  o->name, val);
		break;
	case HC_OPT_SIZE:
		if (hc_parse_size(val, &v) < 0)
			return hc_err_set(err, "%s: '%s' is not a size (e.g. 512, 64k, 48m, 1g)",
					  o->name, val);
		break;
	default:
		return hc_err_set(err, "%s: unknown option type", o->name);
	}
	if ((o->min || o->max) && (v < o->min || v > o->max))
		return hc_err_set(err, "%s: %s is out of range %" PRId64 "%s..%" PRId64 "%s",
				  o->name, val, o->min, unit, o->max, unit);
	*(int64_t *)field(cfg, o) = v;
	return 0;
}

static int implicit_set(const struct implicit_opt *io, struct log_settings *log, const char *val,
			struct hc_err *err)
{
	if (!val && (io->id == IMP_LOG_LEVEL || io->id == IMP_LOG_FORMAT))
		return hc_err_set(err, "--%s needs a value", io->name);
	if (io->id == IMP_LOG_LEVEL) {
		if (hc_log_parse_level(val, &log->level) < 0)
			return hc_err_set(err,
					  "log-level: '%s' is not one of debug, info, warn, "
					  "error, off",
					  val);
	} else if (io->id == IMP_LOG_FORMAT) {
		if (strcmp(val, "text") == 0)
			log->json = 0;
		else if (strcmp(val, "json") == 0)
			log->json = 1;
		else
			return hc_err_set(err, "log-format: '%s' is not text or json", val);
	}
	return 0;
}

int hc_config_defaults(const struct hc_config_spec *spec, void *cfg, struct hc_err *err)
{
	size_t i;
	int rc = 0;

	/* Clear every field first so a failure leaves nothing dangling. */
	for (i = 0; i < spec->nopts; i++) {
		const struct hc_opt *o = &spec->opts[i];

		if (o->type == HC_OPT_STR)
			*(char **)field(cfg, o) = NULL;
		else if (o->type == HC_OPT_BOOL)
			*(int *)field(cfg, o) = 0;
		else
			*(int64_t *)field(cfg, o) = 0;
	}
	for (i = 0; i < spec->nopts; i++) {
		const struct hc_opt *o = &spec->opts[i];

		if (o->def && opt_set(o, cfg, o->def, err) < 0) {
			hc_err_prefix(err, "default");
			rc = -1;
		}
	}
	return rc;
}

/* Parse one config-file line in place: on success *key, *klen and *val are
 * set (val NUL-terminated, unquoted); *key NULL for blank and comment lines.
 * Returns 0 or -1 with err set (no location prefix). */
static int parse_line(char *line, const char **key, size_t *klen, char **val, struct hc_err *err)
{
	char *p = line, *k, *end, *out;
	char q;

	*key = NULL;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	k = p;
	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
	       *p == '-' || *p == '_')
		p++;
	if (p == k)
		return hc_err_set(err, "expected 'name = value'");
	*klen = (size_t)(p - k);
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '=')
		return hc_err_set(err, "expected 'name = value'");
	p++;
	while (*p == ' ' || *p == '\t')
		p++;
	*key = k;

	if (*p != '"' && *p != '\'') {
		/* Unquoted: up to a " #" comment, trailing blanks trimmed. */
		*val = p;
		for (end = p; *end; end++)
			if (*end == '#' && end > p && (end[-1] == ' ' || end[-1] == '\t'))
				break;
		while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		*end = '\0';
		return 0;
	}
	/* Quoted: double quotes take \" \\ \n \t escapes; single quotes none. */
	q = *p++;
	*val = out = p;
	for (;;) {
		if (*p == '\0')
			return hc_err_set(err, "unterminated quoted value");
		if (*p == q)
			break;
		if (q == '"' && *p == '\\') {
			p++;
			switch (*p) {
			case '"':
			case '\\':
				*out++ = *p;
				break;
			case 'n':
				*out++ = '\n';
				break;
			case 't':
				*out++ = '\t';
				break;
			default:
				return hc_err_set(err, "bad escape in quoted value");
			}
			p++;
			continue;
		}
		*out++ = *p++;
	}
	p++;
	*out = '\0';
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '\0' && *p != '#')
		return hc_err_set(err, "unexpected text after the quoted value");
	return 0;
}

/* Apply one line (a C string of len bytes, without its newline). Returns 0
 * or -1 with err set, without the location. */
static int apply_line(const struct hc_config_spec *spec, char *line, size_t len, void *cfg,
		      struct log_settings *log, struct hc_err *err)
{
	const struct implicit_opt *io;
	const struct hc_opt *o;
	const char *key;
	size_t klen = 0;
	char *val = NULL;

	if (strlen(line) != len)
		return hc_err_set(err, "NUL byte in line");
	if (parse_line(line, &key, &klen, &val, err) < 0)
		return -1;
	if (!key)
		return 0;
	o = find_opt(spec, key, klen);
	if (o)
		return opt_set(o, cfg, val, err);
	io = find_implicit(key, klen);
	if (io && (io->id == IMP_LOG_LEVEL || io->id == IMP_LOG_FORMAT))
		return implicit_set(io, log, val, err);
	return hc_err_set(err, "unknown setting '%.*s' (see --help)", (int)(klen > 64 ? 64 : klen),
			  key);
}

static int parse_text(const struct hc_config_spec *spec, const char *text, size_t len,
		      const char *origin, void *cfg, struct log_settings *log, struct hc_err *err)
{
	struct hc_buf line;
	size_t pos = 0, lineno = 0;
	int rc = -1;

	/* Each line is copied so it can be NUL-terminated and unquoted in place. */
	hc_buf_init(&line, len);
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;

		lineno++;
		hc_buf_reset(&line);
		if (hc_buf_add(&line, text + pos, n) < 0) {
			hc_err_set(err, "%s: out of memory", origin);
			goto out;
		}
		pos += n + (nl ? 1 : 0);
		if (line.len && line.data[line.len - 1] == '\r')
			line.data[--line.len] = '\0';
		/* hc_buf_add allocated even for n == 0, so line.data is a string. */
		if (apply_line(spec, line.data, line.len, cfg, log, err) < 0) {
			hc_err_prefix(err, "%s:%zu", origin, lineno);
			goto out;
		}
	}
	rc = 0;
out:
	hc_buf_free(&line);
	return rc;
}

int hc_config_parse_text(const struct hc_config_spec *spec, const char *text, size_t len,
			 const char *origin, void *cfg, struct hc_err *err)
{
	struct log_settings ignored = {HC_LOG_INFO, 0};

	return parse_text(spec, text, len, origin ? origin : "config", cfg, &ignored, err);
}

static int read_file(const struct hc_config_spec *spec, const char *path, void *cfg,
		     struct log_settings *log, struct hc_err *err)
{
	struct hc_buf data;
	char chunk[4096];
	int fd, rc = -1;

	hc_buf_init(&data, CONFIG_FILE_MAX);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		hc_err_set(err, "cannot open config file %s: %s", path, strerror(errno));
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			hc_err_set(err, "cannot read config file %s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (hc_buf_add(&data, chunk, (size_t)n) < 0) {
			hc_err_set(err, "config file %s is larger than %zu bytes", path,
				   CONFIG_FILE_MAX);
			goto out;
		}
	}
	rc = parse_text(spec, hc_buf_str(&data), data.len, path, cfg, log, err);
out:
	if (fd >= 0)
		close(fd);
	hc_buf_free(&data);
	return rc;
}

static int read_env(const struct hc_config_spec *spec, void *cfg, struct log_settings *log,
		    struct hc_err *err)
{
	const char *v;
	size_t i;

	for (i = 0; i < spec->nopts; i++) {
		const struct hc_opt *o = &spec->opts[i];

		if (!o->env || !(v = getenv(o->env)) || !*v)
			continue;
		if (opt_set(o, cfg, v, err) < 0)
			return hc_err_prefix(err, "environment %s", o->env);
	}
	for (i = 0; i < NIMPLICIT; i++) {
		const struct implicit_opt *io = &implicit_opts[i];

		if (!io->env || !(v = getenv(io->env)) || !*v)
			continue;
		if (implicit_set(io, log, v, err) < 0)
			return hc_err_prefix(err, "environment %s", io->env);
	}
	return 0;
}

/* One parsed command-line option: either a table entry or an implicit one,
 * with its value (NULL for a bare flag). */
struct token {
	const struct hc_opt *opt;
	const struct implicit_opt *imp;
	const char *val;
	int negated; /* --no-NAME for a bool */
};

/* Read the option at argv[*i] and advance *i past it (and its value).
 * Returns 1 with a token, 0 at the end, or -1 with err set. */
static int next_token(const struct hc_config_spec *spec, int argc, char **argv, int *i,
		      struct token *t, struct hc_err *err)
{
	const char *a, *name, *eq;
	size_t n;
	int takes;

	memset(t, 0, sizeof(*t));
	if (*i >= argc)
		return 0;
	a = argv[(*i)++];
	if (strcmp(a, "--") == 0) {
		if (*i < argc)
			return hc_err_set(err, "unexpected argument '%s' (see --help)", argv[*i]);
		return 0;
	}
	if (a[0] != '-' || a[1] == '\0')
		return hc_err_set(err, "unexpected argument '%s' (see --help)", a);

	if (a[1] == '-') {
		name = a + 2;
		eq = strchr(name, '=');
		n = eq ? (size_t)(eq - name) : strlen(name);
		t->opt = find_opt(spec, name, n);
		if (!t->opt)
			t->imp = find_implicit(name, n);
		if (!t->opt && !t->imp && n > 3 && strncmp(name, "no-", 3) == 0) {
			t->opt = find_opt(spec, name + 3, n - 3);
			if (t->opt && t->opt->type != HC_OPT_BOOL)
				t->opt = NULL;
			t->negated = t->opt != NULL;
		}
		if (!t->opt && !t->imp)
			return hc_err_set(err, "unknown option '%.*s' (see --help)",
					  (int)(eq ? (size_t)(eq - a) : strlen(a)), a);
		takes = t->opt ? t->opt->type != HC_OPT_BOOL : t->imp->takes_value;
		if (eq) {
			if (!takes && !(t->opt && !t->negated))
				return hc_err_set(err, "option '--%.*s' takes no value", (int)n,
						  name);
			t->val = eq + 1;
		} else if (takes) {
			if (*i >= argc)
				return hc_err_set(err, "option '%s' needs a value", a);
			t->val = argv[(*i)++];
		}
		return 1;
	}

	/* Short flag: "-p 3233" or "-p3233"; flags without a value stand alone. */
	{
		size_t k;

		for (k = 0; k < spec->nopts; k++)
			if (spec->opts[k].shortflag && spec->opts[k].shortflag == a[1])
				t->opt = &spec->opts[k];
		for (k = 0; !t->opt && k < NIMPLICIT; k++)
			if (implicit_opts[k].shortflag == a[1])
				t->imp = &implicit_opts[k];
	}
	if (!t->opt && !t->imp)
		return hc_err_set(err, "unknown option '-%c' (see --help)", a[1]);
	takes = t->opt ? t->opt->type != HC_OPT_BOOL : t->imp->takes_value;
	if (!takes) {
		if (a[2] != '\0')
			return hc_err_set(err, "unknown option '%s' (see --help)", a);
		return 1;
	}
	if (a[2] != '\0') {
		t->val = a + 2;
	} else {
		if (*i >= argc)
			return hc_err_set(err, "option '%s' needs a value", a);
		t->val = argv[(*i)++];
	}
	return 1;
}

/* Print a duration or size as a config file would take it, in the largest
 * exact unit. */
static void print_scaled(FILE *out, int64_t v, enum hc_opt_type type)
{
	static const struct {
		const char *unit;
		int64_t mult;
	} dur[] = {{"h", 3600000}, {"m", 60000}, {"s", 1000}},
	  size[] = {{"g", (int64_t)1 << 30}, {"m", (int64_t)1 << 20}, {"k", 1024}};
	size_t i;

	for (i = 0; v != 0 && i < 3; i++) {
		int64_t m = type == HC_OPT_DURATION ? dur[i].mult : size[i].mult;

		if (v % m == 0) {
			fprintf(out, "%" PRId64 "%s", v / m,
				type == HC_OPT_DURATION ? dur[i].unit : size[i].unit);
			return;
		}
	}
	fprintf(out, "%" PRId64 "%s", v, type == HC_OPT_DURATION ? "ms" : "");
}

static void print_quoted(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(out, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", out);
		else if (*s == '\t')
			fputs("\\t", out);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

static int is_secret(const struct hc_config_spec *spec, const char *name)
{
	for (const char *const *s = spec->secrets; s && *s; s++)
		if (!strcmp(*s, name))
			return 1;
	return 0;
}

void hc_config_dump(const struct hc_config_spec *spec, const void *cfg, FILE *out)
{
	size_t i;

	fprintf(out, "# effective configuration of %s\n", spec->prog);
	for (i = 0; i < spec->nopts; i++) {
		const struct hc_opt *o = &spec->opts[i];
		const void *f = (const char *)cfg + o->offset;

		if (o->type == HC_OPT_STR && !*(char *const *)f) {
			fprintf(out, "# %s is not set\n", o->name);
			continue;
		}
		if (o->type == HC_OPT_STR && is_secret(spec, o->name)) {
			/* -t output ends up in tickets and logs */
			const char *v = *(char *const *)f, *s = strstr(v, "://");
			const char *at = s ? strchr(s + 3, '@') : NULL;
			const char *colon = at ? memchr(s + 3, ':', (size_t)(at - (s + 3))) : NULL;
			if (!s)
				fprintf(out, "# %s is set (hidden)\n", o->name);
			else if (colon)
				fprintf(out, "%s = \"%.*s:(hidden)%s\"\n", o->name,
					(int)(colon - v), v, at);
			else
				fprintf(out, "%s = \"%s\"\n", o->name, v);
			continue;
		}
		fprintf(out, "%s = ", o->name);
		switch (o->type) {
		case HC_OPT_STR:
			print_quoted(out, *(char *const *)f);
			break;
		case HC_OPT_BOOL:
			fputs(*(const int *)f ? "true" : "false", out);
			break;
		case HC_OPT_INT:
			fprintf(out, "%" PRId64, *(const int64_t *)f);
			break;
		case HC_OPT_DURATION:
		case HC_OPT_SIZE:
			print_scaled(out, *(const int64_t *)f, o->type);
			break;
		}
		fputc('\n', out);
	}
}

void hc_config_usage(const struct hc_config_spec *spec, FILE *out)
{
	size_t i;

	fprintf(out, "usage: %s [options]\n", spec->prog);
	if (spec->summary)
		fprintf(out, "%s\n", spec->summary);
	fputs("\nSettings (flag, config file name, environment variable):\n", out);
	for (i = 0; i < spec->nopts; i++) {
		const struct hc_opt *o = &spec->opts[i];

		fputs("  ", out);
		if (o->shortflag)
			fprintf(out, "-%c, ", o->shortflag);
		fprintf(out, "--%s", o->name);
		if (o->type != HC_OPT_BOOL)
			fprintf(out, " %s", type_arg(o->type));
		else
			fprintf(out, "[=BOOL], --no-%s", o->name);
		fprintf(out, "\n        %s\n        file: %s", o->help ? o->help : "", o->name);
		if (o->env)
			fprintf(out, "   env: %s", o->env);
		fprintf(out, "   default: %s", o->def ? (*o->def ? o->def : "\"\"") : "(none)");
		if (o->min || o->max)
			fprintf(out, "   range: %" PRId64 "..%" PRId64 "%s", o->min, o->max,
				o->type == HC_OPT_DURATION ? " ms" : "");
		fputc('\n', out);
	}
	fputs("\nCommon options:\n", out);
	for (i = 0; i < NIMPLICIT; i++) {
		const struct implicit_opt *io = &implicit_opts[i];

		fputs("  ", out);
		if (io->shortflag)
			fprintf(out, "-%c, ", io->shortflag);
		fprintf(out, "--%s", io->name);
		if (io->arg)
			fprintf(out, " %s", io->arg);
		fprintf(out, "\n        %s", io->help);
		if (io->env)
			fprintf(out, "   env: %s", io->env);
		fputc('\n', out);
	}
	fputs("\nPrecedence, lowest first: default, config file, environment, flags.\n"
	      "Durations: 250ms, 2s, 10m, 1h (plain numbers are ms). "
	      "Sizes: 512, 64k, 48m, 1g (powers of 1024).\n",
	      out);
}

void hc_config_free(const struct hc_config_spec *spec, void *cfg)
{
	size_t i;

	for (i = 0; i < spec->nopts; i++) {
		const struct hc_opt *o = &spec->opts[i];

		if (o->type == HC_OPT_STR) {
			free(*(char **)field(cfg, o));
			*(char **)field(cfg, o) = NULL;
		}
	}
}

enum hc_config_result hc_config_load(const struct hc_config_spec *spec, int argc, char **argv,
				     void *cfg, struct hc_err *err)
{
	struct log_settings log = {HC_LOG_INFO, 0};
	const char *file = NULL;
	int i, r, check = 0, help = 0;
	struct token t;

	if (hc_config_defaults(spec, cfg, err) < 0)
		goto fail;

	/* Pass 1: syntax, -c, -t, --help. */
	for (i = 1; (r = next_token(spec, argc, argv, &i, &t, err)) != 0;) {
		if (r < 0)
			goto fail;
		if (t.imp && t.imp->id == IMP_CONFIG)
			file = t.val;
		else if (t.imp && t.imp->id == IMP_CHECK)
			check = 1;
		else if (t.imp && t.imp->id == IMP_HELP)
			help = 1;
	}
	if (help) {
		hc_config_usage(spec, stdout);
		fflush(stdout);
		hc_config_free(spec, cfg);
		return HC_CONFIG_EXIT;
	}
	if (file && read_file(spec, file, cfg, &log, err) < 0)
		goto fail;
	if (read_env(spec, cfg, &log, err) < 0)
		goto fail;

	/* Pass 2: flags override file and environment. */
	for (i = 1; next_token(spec, argc, argv, &i, &t, err) > 0;) { /* pass 1 saw errors */
		if (t.opt && t.negated) {
			*(int *)field(cfg, t.opt) = 0;
		} else if (t.opt) {
			if (opt_set(t.opt, cfg, t.val ? t.val : "true", err) < 0)
				goto fail;
		} else if (!t.imp || implicit_set(t.imp, &log, t.val, err) < 0) {
			goto fail; /* next_token gives one of opt and imp */
		}
	}
	hc_log_setup(spec->prog, log.level, log.json);
	if (check) {
		hc_config_dump(spec, cfg, stdout);
		printf("log-level = %s\nlog-format = %s\n", level_names[log.level],
		       log.json ? "json" : "text");
		fflush(stdout);
		hc_config_free(spec, cfg);
		return HC_CONFIG_EXIT;
	}
	return HC_CONFIG_OK;
fail:
	hc_config_free(spec, cfg);
	return HC_CONFIG_ERROR;
}

int hc_config_set_str(char **field, const char *val)
{
	char *s = strdup(val);
	if (!s)
		return -1;
	free(*field);
	*field = s;
	return 0;
}
