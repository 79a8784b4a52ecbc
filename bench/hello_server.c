/* hello_server — the common HTTP server with one trivial route, for
 * measuring the server itself (bench/http.sh runs wrk against it and
 * against nginx in the same run).
 * usage: hello_server [--port N] [--threads N] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/http.h"
#include "common/log.h"

static void hello(struct hc_req *req, void *arg)
{
	hc_reply(req, 200, "application/json", "{\"ok\":true}", 11);
}

int main(int argc, char **argv)
{
	int port = 0, threads = 1;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--port") && i + 1 < argc)
			port = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
			threads = atoi(argv[++i]);
		else {
			fprintf(stderr, "usage: %s [--port N] [--threads N]\n", argv[0]);
			return strcmp(argv[i], "--help") ? 2 : 0;
		}
	}
	hc_log_setup("hello_server", HC_LOG_WARN, 0);
	struct hc_err err = {{0}};
	struct hc_server_opts o = {.name = "hello", .port = port, .threads = threads};
	struct hc_server *s = hc_server_new(&o, &err);
	if (!s) {
		fprintf(stderr, "hello_server: %s\n", err.msg);
		return 1;
	}
	hc_server_route(s, HC_GET, "/hello", hello, NULL, 0);
	hc_server_stop_on_signals(s);
	printf("%d\n", hc_server_port(s));
	fflush(stdout);
	int rc = hc_server_run(s);
	hc_server_free(s);
	return rc ? 1 : 0;
}
