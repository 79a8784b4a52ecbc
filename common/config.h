/* config.h — settings from one declarative table.
 *
 * A daemon declares each setting once (name, type, default, flag, env var,
 * help) and points it at a field of its own config struct. The same table
 * drives --help, the config file (-c FILE: "name = value" lines, # comments),
 * HEARTH_* environment variables, command-line flags and -t (check the
 * configuration, print it, exit). Precedence, lowest first: default, file,
 * environment, flags.
 *
 * Every daemon also gets, without declaring them: -c/--config FILE,
 * -t/--check, -h/--help, --log-level LEVEL, --log-format text|json
 * (HEARTH_LOG_LEVEL, HEARTH_LOG_FORMAT); hc_config_load applies the log
 * settings with hc_log_setup. */
#ifndef HC_CONFIG_H
#define HC_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/err.h"

enum hc_opt_type {
	HC_OPT_STR,	 /* char * (strdup'd, freed by hc_config_free) */
	HC_OPT_INT,	 /* int64_t, bounded by min/max */
	HC_OPT_BOOL,	 /* int: true/false/yes/no/on/off/1/0; a bare flag means true */
	HC_OPT_DURATION, /* int64_t milliseconds: "250ms", "2s", "10m", plain = ms */
	HC_OPT_SIZE,	 /* int64_t bytes: "64k", "48m", plain = bytes */
};

struct hc_opt {
	const char *name; /* file key and long flag: "pause-grace" -> --pause-grace */
	enum hc_opt_type type;
	const char *def;  /* default, as it would be written in the file; NULL = unset */
	char shortflag;	  /* 0 for none */
	const char *env;  /* "HEARTH_PAUSE_GRACE", or NULL */
	size_t offset;	  /* offsetof(struct my_config, field) */
	int64_t min, max; /* for INT / DURATION / SIZE; min == max == 0 means unbounded */
	const char *help;
};

struct hc_config_spec {
	const char *prog;    /* "hearth-agent" */
	const char *summary; /* one line shown by --help */
	const struct hc_opt *opts;
	size_t nopts;
	/* settings -t must not print (NULL-terminated names): a URL shows all
	 * but its password, anything else only that it is set */
	const char *const *secrets;
};

enum hc_config_result {
	HC_CONFIG_OK = 0,    /* run */
	HC_CONFIG_EXIT = 1,  /* --help or -t handled and printed: exit 0 */
	HC_CONFIG_ERROR = -1 /* err says what was wrong: print it and exit 2 */
};

/* Fill cfg from defaults, file, environment and argv. With -t, also prints
 * the effective configuration to stdout and returns HC_CONFIG_EXIT; --help
 * prints usage to stdout and returns HC_CONFIG_EXIT. An unknown option or
 * setting, a positional argument, a bad value or an out-of-range number is
 * HC_CONFIG_ERROR with err naming it (an empty environment variable counts
 * as unset). Every string field of the table is written (strdup'd or NULL),
 * whatever was in cfg before. On HC_CONFIG_OK call hc_config_free when done;
 * on EXIT and ERROR the strings are already freed and the fields NULL. */
enum hc_config_result hc_config_load(const struct hc_config_spec *spec, int argc, char **argv,
				     void *cfg, struct hc_err *err);

/* Set every field of the table to its default. String fields are written
 * without freeing what was there. Returns 0, or -1 if a default does not
 * parse (a bug in the table); free with hc_config_free either way. */
int hc_config_defaults(const struct hc_config_spec *spec, void *cfg, struct hc_err *err);

/* Apply the "name = value" lines of a config file held in memory (what -c
 * FILE reads); origin names the source in errors ("agent.conf:3: ..."). cfg
 * must hold defaults (string fields NULL or owned; replaced ones are freed).
 * Lines: blank, "# comment", name = value, name = "quoted \"value\"" or
 * 'single quoted', optionally followed by " # comment"; '_' and '-' are the
 * same in names. log-level and log-format are accepted and ignored here.
 * Returns 0, or -1 with err set at the first bad line (earlier lines stay
 * applied). */
int hc_config_parse_text(const struct hc_config_spec *spec, const char *text, size_t len,
			 const char *origin, void *cfg, struct hc_err *err);

/* Print usage with every setting, its flag, env var, default and help. */
void hc_config_usage(const struct hc_config_spec *spec, FILE *out);

/* Print the effective settings as a config file would hold them. */
void hc_config_dump(const struct hc_config_spec *spec, const void *cfg, FILE *out);

/* Replace a string setting after loading (a daemon's derived default, e.g. a
 * generated id) with a copy of val, freeing the old one, so hc_config_free
 * still owns every string. Returns 0, or -1 on ENOMEM (field unchanged). */
int hc_config_set_str(char **field, const char *val);

/* Free the strings hc_config_load allocated in cfg. */
void hc_config_free(const struct hc_config_spec *spec, void *cfg);

#endif
