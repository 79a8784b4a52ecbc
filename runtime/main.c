/* main.c — hearth-runtime: the OpenWhisk action protocol inside a container.
 *
 * One event loop thread serves /init, /run and /healthz (service.h) and
 * drives the action's long-lived launcher over pipes (launcher.h). */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/config.h"
#include "common/http.h"
#include "common/log.h"
#include "proto/runtime.h"
#include "runtime/embed.h"
#include "runtime/kind.h"
#include "runtime/proc.h"
#include "runtime/service.h"

struct rt_config {
	int64_t port;
	char *addr;
	char *unix_name;
	char *kind;
	char *workdir;
	char *api_host;
	char *node;
	char *python;
	char *node_path;
	int64_t init_max;
	int64_t run_max;
	int64_t result_max;
};

#define OFF(f) offsetof(struct rt_config, f)
static const struct hc_opt opts[] = {
    {"port", HC_OPT_INT, "8080", 'p', "__OW_PORT", OFF(port), 0, 65535,
     "port to listen on (0 = any free port)"},
    {"addr", HC_OPT_STR, "127.0.0.1", 0, "HEARTH_RUNTIME_ADDR", OFF(addr), 0, 0,
     "address to listen on"},
    {"unix", HC_OPT_STR, NULL, 'u', "HEARTH_RUNTIME_UNIX", OFF(unix_name), 0, 0,
     "also listen on this local socket (\"@name\": abstract), for a caller on the same host"},
    {"kind", HC_OPT_STR, NULL, 'k', "HEARTH_RUNTIME_KIND", OFF(kind), 0, 0,
     "kind to prewarm (nodejs:20, python:3, blackbox): its launcher starts at once"},
    {"workdir", HC_OPT_STR, NULL, 'w', "HEARTH_RUNTIME_WORKDIR", OFF(workdir), 0, 0,
     "where /init writes the code (default: a fresh directory under $TMPDIR or /tmp)"},
    {"api-host", HC_OPT_STR, NULL, 0, "__OW_API_HOST", OFF(api_host), 0, 0,
     "API host given to functions as __OW_API_HOST"},
    {"node", HC_OPT_STR, NULL, 0, "HEARTH_RUNTIME_NODE", OFF(node), 0, 0,
     "node binary (default: /usr/bin/node, /usr/local/bin/node, then $PATH)"},
    {"python", HC_OPT_STR, NULL, 0, "HEARTH_RUNTIME_PYTHON", OFF(python), 0, 0,
     "python3 binary (default: /usr/bin/python3, /usr/local/bin/python3, then $PATH)"},
    {"node-path", HC_OPT_STR, NULL, 0, "HEARTH_RUNTIME_NODE_PATH", OFF(node_path), 0, 0,
     "NODE_PATH of nodejs actions (default: node_modules beside this binary, else "
     "../lib/hearth/node_modules: the openwhisk npm client `make` installs there; \"\" = none)"},
    {"init-max-body", HC_OPT_SIZE, "48m", 0, "HEARTH_RUNTIME_INIT_MAX_BODY", OFF(init_max), 1024,
     (int64_t)1 << 30, "largest /init body (the code)"},
    {"run-max-body", HC_OPT_SIZE, "1m", 0, "HEARTH_RUNTIME_RUN_MAX_BODY", OFF(run_max), 1024,
     (int64_t)1 << 30, "largest /run body (the parameters)"},
    {"result-max", HC_OPT_SIZE, "1m", 0, "HEARTH_RUNTIME_RESULT_MAX", OFF(result_max), 2,
     (int64_t)1 << 30, "largest result a function may return"},
};

static const struct hc_config_spec spec = {
    .prog = "hearth-runtime",
    .summary = "the OpenWhisk action runtime (/init, /run) that runs inside each container",
    .opts = opts,
    .nopts = sizeof opts / sizeof opts[0],
};

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	if (remove(path) < 0)
		hc_warn("cannot remove %s: %s", path, strerror(errno));
	return 0;
}

/* The work directory: the one given, or a fresh one we remove at exit. */
static int make_workdir(const char *given, char *out, size_t outlen, int *owned)
{
	const char *tmp = getenv("TMPDIR");

	*owned = 0;
	if (given && given[0]) {
		snprintf(out, outlen, "%s", given);
		if (mkdir(out, 0700) < 0 && errno != EEXIST) {
			fprintf(stderr, "hearth-runtime: cannot create %s: %s\n", out,
				strerror(errno));
			return -1;
		}
		return 0;
	}
	snprintf(out, outlen, "%s/hearth-runtime-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
	if (!mkdtemp(out)) {
		fprintf(stderr, "hearth-runtime: cannot create a work directory in %s: %s\n",
			tmp && tmp[0] ? tmp : "/tmp", strerror(errno));
		return -1;
	}
	*owned = 1;
	return 0;
}

int main(int argc, char **argv)
{
	struct rt_config cfg;
	struct hc_err err = {""};
	struct hc_server *srv = NULL;
	struct rt_service *svc = NULL;
	char workdir[PATH_MAX];
	int owned = 0, rc = 1;

	memset(&cfg, 0, sizeof cfg);
	switch (hc_config_load(&spec, argc, argv, &cfg, &err)) {
	case HC_CONFIG_EXIT:
		hc_config_free(&spec, &cfg);
		return 0;
	case HC_CONFIG_ERROR:
		fprintf(stderr, "hearth-runtime: %s\n", err.msg);
		hc_config_free(&spec, &cfg);
		return 2;
	default:
		break;
	}
	rt_family_set_launcher(RT_FAM_NODEJS, rt_embed_node_js, rt_embed_node_js_len);
	rt_family_set_launcher(RT_FAM_PYTHON, rt_embed_python_py, rt_embed_python_py_len);
	if (make_workdir(cfg.workdir, workdir, sizeof workdir, &owned) < 0)
		goto out;
	{
		struct hc_server_opts so = {.name = "runtime",
					    .addr = cfg.addr,
					    .port = (int)cfg.port,
					    .unix_name = cfg.unix_name,
					    .threads = 1,
					    .max_body = (size_t)cfg.run_max};
		srv = hc_server_new(&so, &err);
	}
	if (!srv) {
		hc_error("%s", err.msg);
		goto out;
	}
	if (rt_reaper_init(hc_server_loop(srv, 0)->base, &err) < 0) {
		hc_error("%s", err.msg);
		goto out;
	}
	{
		struct rt_service_opts o = {.kind = cfg.kind,
					    .workdir = workdir,
					    .api_host = cfg.api_host,
					    .node = cfg.node,
					    .python = cfg.python,
					    .node_path = cfg.node_path,
					    .max_result = (size_t)cfg.result_max};
		svc = rt_service_new(hc_server_loop(srv, 0)->base, &o, &err);
	}
	if (!svc) {
		hc_error("%s", err.msg);
		goto out;
	}
	if (rt_service_routes(svc, srv, (size_t)cfg.init_max, (size_t)cfg.run_max) < 0 ||
	    hc_server_stop_on_signals(srv) < 0) {
		hc_error("cannot set up the server");
		goto out;
	}
	hc_info("listening on %s:%d%s%s kind=%s state=%s workdir=%s", cfg.addr, hc_server_port(srv),
		cfg.unix_name ? " and " : "", cfg.unix_name ? cfg.unix_name : "",
		cfg.kind ? cfg.kind : "-", rt_state_name(rt_service_state(svc)), workdir);
	rc = hc_server_run(srv) < 0 ? 1 : 0;
out:
	rt_service_free(svc);
	rt_reaper_fini();
	hc_server_free(srv);
	if (owned)
		nftw(workdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	hc_config_free(&spec, &cfg);
	return rc;
}
