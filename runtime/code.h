/* code.h — put an action's code into the work directory for its launcher.
 *
 * Layout under WORKDIR: code/ holds the code, either one file (index.js,
 * __main__.py, or exec for blackbox, mode 0700) or an extracted zip;
 * action.zip keeps the archive. Zips are vetted by zipcheck.h before
 * `unzip` runs (asynchronously, through cmd.h; never through a shell). */
#ifndef RT_CODE_H
#define RT_CODE_H

#include <limits.h>

#include "common/err.h"
#include "proto/runtime.h"
#include "runtime/kind.h"

struct event_base;
struct rt_code;

#define RT_CODE_MAX_EXPANDED ((uint64_t)256 << 20) /* bytes a zip may expand to */

struct rt_code_out {
	char path[PATH_MAX]; /* the file to load or execute, or the package directory */
	int is_dir;	     /* path is an extracted package */
};

/* rc 0: out is filled; rc -1: errmsg says why the code is unusable. */
typedef void (*rt_code_done)(int rc, const struct rt_code_out *out, const char *errmsg, void *arg);

/* Prepare init's code for family fam. Returns 0 when done at once (out
 * filled, cb not called), 1 when an unzip is running (cb will be called once
 * on the loop; *pending can cancel it), or -1 with err (bad base64, unsafe
 * zip, I/O error: the caller answers 502). init is not used after return. */
int rt_code_prepare(struct event_base *base, const char *workdir, enum rt_family fam,
		    const struct pr_rt_init *init, struct rt_code_out *out, rt_code_done cb,
		    void *arg, struct rt_code **pending, struct hc_err *err);

/* Stop a pending preparation; its callback will not run. */
void rt_code_cancel(struct rt_code *c);

/* Write len bytes to path (created or truncated, never through a symlink)
 * with mode. Returns 0 or -1 with err. */
int rt_code_write_file(const char *path, const void *data, size_t len, int mode,
		       struct hc_err *err);

#endif
