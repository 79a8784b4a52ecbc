/* service.h — the action runtime's state machine and its HTTP handlers:
 * POST /init, POST /run and GET /healthz (protocol in proto/runtime.h).
 *
 * States (one action per runtime, as in OpenWhisk):
 *   EMPTY      nothing running; kind unknown or blackbox (no stem cell)
 *   STEM       the kind's launcher is running, waiting for code (prewarm)
 *   PREPARING  /init: writing / unzipping the code
 *   LOADING    /init: the launcher is loading the code
 *   READY      initialised: /run calls go to the launcher
 *   BROKEN     the launcher died, init failed or a run timed out (its
 *              process group was killed): /run answers 502, for good
 * Around every activation the runtime writes the log markers
 * "XXX_THE_START_OF_A_WHISK_ACTIVATION_XXX <activation id or ->" and
 * "XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX" on its stdout and stderr, which
 * the launcher and the function share; the launcher flushes both before it
 * replies, so a function's lines always fall between the two markers. */
#ifndef RT_SERVICE_H
#define RT_SERVICE_H

#include <stddef.h>

#include "common/err.h"

struct event_base;
struct hc_server;
struct rt_service;

#define RT_MARK_START "XXX_THE_START_OF_A_WHISK_ACTIVATION_XXX"
#define RT_MARK_END   "XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX"

enum rt_state { RT_EMPTY, RT_STEM, RT_PREPARING, RT_LOADING, RT_READY, RT_BROKEN };
const char *rt_state_name(enum rt_state s);

struct rt_service_opts {
	const char *kind;     /* NULL: learnt from /init's "kind" */
	const char *workdir;  /* existing, writable */
	const char *api_host; /* __OW_API_HOST for the function; NULL = unset */
	const char *node;     /* interpreter overrides; NULL/"" = search */
	const char *python;
	const char *node_path; /* NODE_PATH for nodejs; NULL = rt_node_modules_dir, "" = none */
	size_t max_result;     /* 0 = PR_RT_RESULT_MAX */
};

/* Create the service on base and, when the kind has a launcher, start it
 * at once (a stem cell). A launcher that cannot start leaves the service
 * BROKEN (it says why on /init), not a failure here. Returns NULL with err
 * on a bad kind or out of memory. */
struct rt_service *rt_service_new(struct event_base *base, const struct rt_service_opts *o,
				  struct hc_err *err);

/* Add /init, /run and /healthz to srv with these body limits. 0 or -1. */
int rt_service_routes(struct rt_service *s, struct hc_server *srv, size_t init_max, size_t run_max);

enum rt_state rt_service_state(const struct rt_service *s);

/* Kill the launcher, answer what is pending with 503, free. Call after
 * hc_server_run returns and before hc_server_free. */
void rt_service_free(struct rt_service *s);

#endif
