/* cmd.c — asynchronous helper commands (see cmd.h). */
#include "runtime/cmd.h"

#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/clock.h"
#include "runtime/proc.h"

struct rt_cmd {
	pid_t pid;
	int fd;
	struct event *rd;
	struct event *timer;
	struct hc_buf out;
	int timed_out;
	rt_cmd_done cb;
	void *arg;
};

static void cmd_free(struct rt_cmd *c)
{
	if (c->rd)
		event_free(c->rd);
	if (c->timer)
		event_free(c->timer);
	if (c->fd >= 0)
		close(c->fd);
	hc_buf_free(&c->out);
	free(c);
}

/* Read what is there; past the limit the output is dropped, not stored. */
static void drain(struct rt_cmd *c)
{
	char buf[4096];
	ssize_t n;

	while (c->fd >= 0) {
		n = read(c->fd, buf, sizeof buf);
		if (n > 0) {
			size_t room = c->out.max - c->out.len;
			hc_buf_add(&c->out, buf, (size_t)n < room ? (size_t)n : room);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0) { /* EOF: stop watching */
			event_del(c->rd);
			close(c->fd);
			c->fd = -1;
		}
		break;
	}
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
	drain(arg);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct rt_cmd *c = arg;

	c->timed_out = 1;
	rt_proc_kill(c->pid);
}

static void on_exit_cb(pid_t pid, int status, void *arg)
{
	struct rt_cmd *c = arg;

	drain(c);
	c->cb(c->timed_out ? -1 : status, hc_buf_str(&c->out), c->arg);
	cmd_free(c);
}

struct rt_cmd *rt_cmd_run(struct event_base *base, char *const argv[], const char *cwd,
			  long timeout_ms, size_t max_output, rt_cmd_done cb, void *arg,
			  struct hc_err *err)
{
	static char *const env[] = {"PATH=/usr/bin:/bin", "LC_ALL=C", NULL};
	struct rt_proc_spec spec = {
	    .path = argv[0], .argv = argv, .envp = env, .cwd = cwd, .capture = 1};
	struct rt_proc_fds fds;
	struct timeval tv = hc_ms_timeval(timeout_ms);
	struct rt_cmd *c = calloc(1, sizeof *c);

	if (!c) {
		hc_err_set(err, "out of memory");
		return NULL;
	}
	c->fd = -1;
	c->cb = cb;
	c->arg = arg;
	hc_buf_init(&c->out, max_output);
	c->pid = rt_proc_spawn(&spec, &fds, err);
	if (c->pid < 0)
		goto fail;
	c->fd = fds.out;
	c->rd = event_new(base, c->fd, EV_READ | EV_PERSIST, on_read, c);
	c->timer = evtimer_new(base, on_timeout, c);
	if (!c->rd || !c->timer || event_add(c->rd, NULL) < 0 || evtimer_add(c->timer, &tv) < 0 ||
	    rt_reaper_watch(c->pid, on_exit_cb, c) < 0) {
		hc_err_set(err, "cannot watch %s", argv[0]);
		rt_proc_kill(c->pid);
		goto fail;
	}
	return c;
fail:
	cmd_free(c);
	return NULL;
}

void rt_cmd_cancel(struct rt_cmd *c)
{
	if (!c)
		return;
	rt_reaper_forget(c->pid);
	rt_proc_kill(c->pid);
	cmd_free(c);
}
