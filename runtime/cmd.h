/* cmd.h — run a helper command (unzip) without blocking the event loop:
 * its output is collected (bounded), it is killed after a timeout, and a
 * callback reports how it ended. */
#ifndef RT_CMD_H
#define RT_CMD_H

#include <stddef.h>

#include "common/err.h"

struct event_base;
struct rt_cmd;

/* status: the waitpid status, or -1 when the command timed out (it was
 * killed). output: what it wrote on stdout and stderr (truncated to
 * max_output), valid during the call. The command is freed after. */
typedef void (*rt_cmd_done)(int status, const char *output, void *arg);

/* Start argv[0] (an absolute path) with argv, a minimal environment and cwd
 * (NULL = inherit). Returns a handle, or NULL with err (cb is not called). */
struct rt_cmd *rt_cmd_run(struct event_base *base, char *const argv[], const char *cwd,
			  long timeout_ms, size_t max_output, rt_cmd_done cb, void *arg,
			  struct hc_err *err);

/* Kill the command and free it; the callback will not run. */
void rt_cmd_cancel(struct rt_cmd *c);

#endif
