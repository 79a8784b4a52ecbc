/* cli/main.c — `hearth`, the command line client.
 *
 * Talks to a controller's OpenWhisk REST API like `wsk` does, and to Redis
 * for operator commands. Finds the API and key in --apihost/--auth,
 * HEARTH_API/HEARTH_AUTH, or a wskprops file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const char usage[] =
    "usage: hearth [--apihost URL] [--auth UUID:KEY] [--redis URL] [--json] COMMAND ...\n"
    "\n"
    "commands:\n"
    "  action create|update|get|list|delete|invoke   manage and run actions\n"
    "  package create|update|get|list|delete|bind    packages, bindings, shared packages\n"
    "  trigger create|update|get|list|delete|fire    triggers (--feed for feeds)\n"
    "  rule create|update|get|list|delete|enable|disable|status  rules\n"
    "  activation list|get|logs|result               look at what ran\n"
    "  namespace list                                 the namespaces of your key\n"
    "  admin key create|delete, admin namespace delete  operators: keys in Redis\n"
    "  status                                         the cluster at a glance\n"
    "  host list|drain HOST|undrain HOST              operators: function hosts\n"
    "\n"
    "`hearth COMMAND --help` tells more. The API host and key come from the flags,\n"
    "HEARTH_API and HEARTH_AUTH, $WSK_CONFIG_FILE, $HEARTH_DATA/wskprops,\n"
    "./.hearth/wskprops (what `make run` writes) or ~/.wskprops. Output is for people;\n"
    "--json prints JSON for scripts.\n";

int main(int argc, char **argv)
{
	struct cli_ctx ctx;
	memset(&ctx, 0, sizeof ctx);
	ctx.timeout_ms = 70000; /* a blocking invoke waits up to 60 s */
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--apihost") && i + 1 < argc)
			snprintf(ctx.apihost, sizeof ctx.apihost, "%s", argv[++i]);
		else if ((!strcmp(a, "--auth") || !strcmp(a, "-u")) && i + 1 < argc)
			snprintf(ctx.auth, sizeof ctx.auth, "%s", argv[++i]);
		else if (!strcmp(a, "--redis") && i + 1 < argc)
			snprintf(ctx.redis, sizeof ctx.redis, "%s", argv[++i]);
		else if (!strcmp(a, "--json"))
			ctx.json = 1;
		else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(usage, stdout);
			return 0;
		} else {
			fprintf(stderr, "hearth: unknown option %s\n\n%s", a, usage);
			return 2;
		}
	}
	if (i >= argc) {
		fputs(usage, stderr);
		return 2;
	}
	/* --json may also come after the command */
	for (int k = i; k < argc; k++)
		if (!strcmp(argv[k], "--json")) {
			ctx.json = 1;
			memmove(&argv[k], &argv[k + 1], (size_t)(argc - k - 1) * sizeof *argv);
			argc--;
			k--;
		}
	cli_props_load(&ctx);
	const char *cmd = argv[i];
	int n = argc - i;
	char **v = argv + i;
	if (!strcmp(cmd, "action"))
		return cli_action(&ctx, n, v);
	if (!strcmp(cmd, "package"))
		return cli_package(&ctx, n, v);
	if (!strcmp(cmd, "trigger"))
		return cli_trigger(&ctx, n, v);
	if (!strcmp(cmd, "rule"))
		return cli_rule(&ctx, n, v);
	if (!strcmp(cmd, "activation"))
		return cli_activation(&ctx, n, v);
	if (!strcmp(cmd, "namespace"))
		return cli_namespace(&ctx, n, v);
	if (!strcmp(cmd, "admin"))
		return cli_admin(&ctx, n, v);
	if (!strcmp(cmd, "status"))
		return cli_status(&ctx, n, v);
	if (!strcmp(cmd, "host"))
		return cli_host(&ctx, n, v);
	fprintf(stderr, "hearth: unknown command '%s'\n\n%s", cmd, usage);
	return 2;
}
