/* cli/cli.h — shared state of the `hearth` command line client.
 *
 * The CLI talks to the controller's OpenWhisk REST API (like `wsk`) and,
 * for operator commands (admin, status), to Redis directly. */
#ifndef CLI_H
#define CLI_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "common/buf.h"

struct cli_ctx {
	char apihost[512];    /* "http://127.0.0.1:3233" */
	char auth[256];	      /* "uuid:key" */
	char redis[512];      /* redis://:pw@host:port */
	char props_path[512]; /* where apihost/auth came from, for error messages */
	int json;	      /* --json: machine-readable output */
	long timeout_ms;
};

/* Fill ctx from --flags (already parsed into ctx), HEARTH_* environment,
 * $WSK_CONFIG_FILE / $HEARTH_DATA/wskprops / ./.hearth/wskprops / ~/.wskprops,
 * and $HEARTH_DATA/cluster.env (for the Redis URL). */
void cli_props_load(struct cli_ctx *ctx);

/* A REST call to the controller. path starts with "/api/v1/...". The body
 * may be NULL. Returns the HTTP status (0 when the API could not be reached,
 * after printing why and what to do); the reply body is in out. */
long cli_rest(struct cli_ctx *ctx, const char *method, const char *path, const char *body,
	      struct hc_buf *out);

/* Print an API error reply ("hearth: <what>: <error> (code ...)") with a
 * hint for the common statuses. Returns the process exit code to use. */
int cli_fail(struct cli_ctx *ctx, const char *what, long status, const struct hc_buf *body);

/* Print JSON pretty (people) or compact (--json). */
void cli_print_json(const struct cli_ctx *ctx, const cJSON *j);

/* Parse a parameter value as wsk does: JSON if it parses, else a string. */
cJSON *cli_param_value(const char *v);

/* Append the parameters of a JSON file (an object) to a {key,value} array. */
int cli_params_file(const char *path, cJSON *arr);

/* Percent-encode a path segment or query value into out. */
void cli_urlencode(const char *s, char *out, size_t outlen);

/* Sub-commands; argv[0] is the sub-command's own name. Return exit codes. */
int cli_action(struct cli_ctx *ctx, int argc, char **argv);
int cli_package(struct cli_ctx *ctx, int argc, char **argv);
/* trigger.c: `hearth trigger ...` and `hearth rule ...`. */
int cli_trigger(struct cli_ctx *ctx, int argc, char **argv);
int cli_rule(struct cli_ctx *ctx, int argc, char **argv);
int cli_activation(struct cli_ctx *ctx, int argc, char **argv);
int cli_namespace(struct cli_ctx *ctx, int argc, char **argv);
int cli_admin(struct cli_ctx *ctx, int argc, char **argv);
int cli_status(struct cli_ctx *ctx, int argc, char **argv);
/* host.c: `hearth host list|drain|undrain` (Redis). */
int cli_host(struct cli_ctx *ctx, int argc, char **argv);

#endif
