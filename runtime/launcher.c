/* launcher.c — the function's long-lived child and its line protocols
 * (see launcher.h). Raw events over the pipes rather than bufferevents, so
 * that a reply can be drained from fd 3 at the moment the child is reaped
 * (exit and reply arrive in the same loop pass, in either order). */
#include "runtime/launcher.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/proc.h"

#define FIFO_MAX 64 /* actionloop replies come in order: seqs awaiting one */

struct rt_launcher {
	enum rt_proto proto;
	pid_t pid;
	int in_fd, fd3;
	int out_fd[2]; /* the child's stdout, stderr (relayed) */
	struct event *relay[2];
	uint64_t output; /* bytes relayed */
	struct event *wr, *rd;
	struct evbuffer *out; /* waiting to be written to stdin */
	struct evbuffer *in;  /* read from fd 3, not yet a whole line */
	size_t max_reply;
	int discarding; /* inside an over-long line */
	uint64_t discard_seq;
	size_t discard_total;
	uint64_t fifo[FIFO_MAX];
	int fifo_head, fifo_len;
	int reaped, eof, exited_reported;
	char why[96];
	struct rt_launcher_cbs cbs;
};

pid_t rt_launcher_pid(const struct rt_launcher *l)
{
	return l->pid;
}

int rt_launcher_alive(const struct rt_launcher *l)
{
	return !l->exited_reported && !l->reaped && !l->eof;
}

static uint64_t fifo_pop(struct rt_launcher *l)
{
	uint64_t s = 0;
	if (l->fifo_len > 0) {
		s = l->fifo[l->fifo_head];
		l->fifo_head = (l->fifo_head + 1) % FIFO_MAX;
		l->fifo_len--;
	}
	return s;
}

/* "<seq>\t" at the start of a tagged line; 0 when absent. */
static uint64_t parse_seq(const char *p, size_t len, size_t *used)
{
	uint64_t s = 0;
	size_t i = 0;

	while (i < len && i < 20 && p[i] >= '0' && p[i] <= '9')
		s = s * 10 + (uint64_t)(p[i++] - '0');
	if (i == 0 || i >= len || p[i] != '\t')
		return 0;
	*used = i + 1;
	return s;
}

static void deliver_line(struct rt_launcher *l, const char *line, size_t len)
{
	struct rt_reply r = {0};
	size_t used = 0;

	if (len && line[len - 1] == '\r')
		len--;
	if (l->proto == RT_PROTO_ACTIONLOOP) {
		if (len == 0)
			return; /* blank lines are not replies */
		r.seq = fifo_pop(l);
		r.kind = RT_REPLY_RESULT;
		r.data = line;
		r.len = len;
	} else {
		r.seq = parse_seq(line, len, &used);
		if (!r.seq && !(len > 1 && line[0] == '0' && line[1] == '\t'))
			return; /* not a protocol line */
		line += used;
		len -= used;
		if (len < 2 || line[1] != '\t' || (line[0] != 'r' && line[0] != 'e'))
			return;
		r.kind = line[0] == 'r' ? RT_REPLY_RESULT : RT_REPLY_ERROR;
		r.data = line + 2;
		r.len = len - 2;
	}
	r.total = r.len;
	l->cbs.on_reply(&r, l->cbs.arg);
}

/* Hand over every complete line; enter discard mode on an over-long one. */
static void process_input(struct rt_launcher *l)
{
	for (;;) {
		size_t avail = evbuffer_get_length(l->in);
		struct evbuffer_ptr nl;

		if (avail == 0)
			return;
		nl = evbuffer_search(l->in, "\n", 1, NULL);
		if (l->discarding) {
			size_t n = nl.pos >= 0 ? (size_t)nl.pos + 1 : avail;
			l->discard_total += nl.pos >= 0 ? (size_t)nl.pos : avail;
			evbuffer_drain(l->in, n);
			if (nl.pos < 0)
				return;
			l->discarding = 0;
			struct rt_reply r = {.seq = l->discard_seq,
					     .kind = RT_REPLY_TOO_LONG,
					     .total = l->discard_total};
			l->cbs.on_reply(&r, l->cbs.arg);
			continue;
		}
		if (nl.pos < 0) {
			if (avail <= l->max_reply + 64)
				return; /* wait for the rest */
			size_t used = 0;
			const char *head =
			    (const char *)evbuffer_pullup(l->in, 32 < avail ? 32 : avail);
			l->discarding = 1;
			l->discard_total = 0;
			l->discard_seq = l->proto == RT_PROTO_ACTIONLOOP
					     ? fifo_pop(l)
					     : parse_seq(head, 32 < avail ? 32 : avail, &used);
			continue;
		}
		{
			size_t n = (size_t)nl.pos;
			const char *line = (const char *)evbuffer_pullup(l->in, (ev_ssize_t)n + 1);
			if (n > l->max_reply + 64) {
				/* a long line that arrived whole: still too long */
				size_t used = 0;
				struct rt_reply r = {.kind = RT_REPLY_TOO_LONG};
				r.seq = l->proto == RT_PROTO_ACTIONLOOP ? fifo_pop(l)
									: parse_seq(line, n, &used);
				r.total = n;
				evbuffer_drain(l->in, n + 1);
				l->cbs.on_reply(&r, l->cbs.arg);
				continue;
			}
			deliver_line(l, line, n);
			evbuffer_drain(l->in, n + 1);
		}
	}
}

static void report_exit(struct rt_launcher *l)
{
	if (l->exited_reported)
		return;
	l->exited_reported = 1;
	if (l->rd)
		event_del(l->rd);
	if (l->wr)
		event_del(l->wr);
	if (l->cbs.on_exit)
		l->cbs.on_exit(l->why[0] ? l->why : "exited", l->cbs.arg);
}

/* Read all that fd 3 holds now. Returns 1 on EOF. */
static int read_fd3(struct rt_launcher *l)
{
	for (;;) {
		int n = evbuffer_read(l->in, l->fd3, 65536);
		if (n > 0 && n < 65536)
			return 0; /* a short read from a pipe: it is empty now */
		if (n > 0)
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		return 1;
	}
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
	struct rt_launcher *l = arg;
	int eof = read_fd3(l);

	process_input(l);
	if (eof && !l->eof) {
		l->eof = 1;
		if (!l->why[0])
			snprintf(l->why, sizeof l->why, "closed its reply pipe (fd 3)");
		report_exit(l);
	}
}

void rt_write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* a lost log line must not stop the function */
		p += w;
		n -= (size_t)w;
	}
}

/* Pass on what stream i (0 stdout, 1 stderr) holds now; blocking writes,
 * as the function's own writes were before they came through here. */
static void relay_stream(struct rt_launcher *l, int i)
{
	char buf[65536];
	for (;;) {
		ssize_t n = read(l->out_fd[i], buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0 && l->relay[i]) /* closed: the child is gone */
				event_del(l->relay[i]);
			return;
		}
		if (l->cbs.on_output)
			l->cbs.on_output(l->cbs.arg);
		rt_write_all(i == 0 ? STDOUT_FILENO : STDERR_FILENO, buf, (size_t)n);
		l->output += (uint64_t)n;
		if ((size_t)n < sizeof buf)
			return; /* a short read from a pipe: it is empty now */
	}
}

static void on_relay(evutil_socket_t fd, short what, void *arg)
{
	struct rt_launcher *l = arg;
	relay_stream(l, fd == l->out_fd[0] ? 0 : 1);
}

uint64_t rt_launcher_output(const struct rt_launcher *l)
{
	return l ? l->output : 0;
}

void rt_launcher_drain(struct rt_launcher *l)
{
	for (int i = 0; l && i < 2; i++)
		if (l->out_fd[i] >= 0)
			relay_stream(l, i);
}

static void on_reaped(pid_t pid, int status, void *arg)
{
	struct rt_launcher *l = arg;

	l->reaped = 1;
	rt_proc_describe(status, l->why, sizeof l->why);
	if (!l->exited_reported) {
		read_fd3(l); /* a reply written just before exiting is delivered first */
		process_input(l);
	}
	report_exit(l);
}

static void flush_out(struct rt_launcher *l)
{
	while (evbuffer_get_length(l->out) > 0) {
		int n = evbuffer_write(l->out, l->in_fd);
		if (n > 0)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			event_add(l->wr, NULL);
			return;
		}
		if (n < 0 && errno == EINTR)
			continue;
		/* EPIPE: the child is gone; its exit is reported by the reaper */
		evbuffer_drain(l->out, evbuffer_get_length(l->out));
		return;
	}
}

static void on_write(evutil_socket_t fd, short what, void *arg)
{
	flush_out(arg);
}

struct rt_launcher *rt_launcher_start(struct event_base *base, const struct rt_launcher_opts *o,
				      const struct rt_launcher_cbs *cbs, struct hc_err *err)
{
	struct rt_proc_spec spec = {.path = o->path,
				    .argv = o->argv,
				    .envp = o->envp,
				    .cwd = o->cwd,
				    .want_stdin = 1,
				    .want_fd3 = 1,
				    .split = 1};
	struct rt_proc_fds fds;
	struct rt_launcher *l = calloc(1, sizeof *l);

	if (!l) {
		hc_err_set(err, "out of memory");
		return NULL;
	}
	l->proto = o->proto;
	l->max_reply = o->max_reply;
	l->cbs = *cbs;
	l->in_fd = l->fd3 = l->out_fd[0] = l->out_fd[1] = -1;
	l->out = evbuffer_new();
	l->in = evbuffer_new();
	if (!l->out || !l->in) {
		hc_err_set(err, "out of memory");
		goto fail;
	}
	l->pid = rt_proc_spawn(&spec, &fds, err);
	if (l->pid < 0)
		goto fail;
	l->in_fd = fds.in;
	l->fd3 = fds.fd3;
	l->out_fd[0] = fds.out;
	l->out_fd[1] = fds.err;
	for (int i = 0; i < 2; i++) {
		l->relay[i] = event_new(base, l->out_fd[i], EV_READ | EV_PERSIST, on_relay, l);
		if (!l->relay[i] || event_add(l->relay[i], NULL) < 0) {
			hc_err_set(err, "cannot watch the launcher's output");
			goto fail;
		}
	}
	l->wr = event_new(base, l->in_fd, EV_WRITE, on_write, l);
	l->rd = event_new(base, l->fd3, EV_READ | EV_PERSIST, on_read, l);
	if (!l->wr || !l->rd || event_add(l->rd, NULL) < 0 ||
	    rt_reaper_watch(l->pid, on_reaped, l) < 0) {
		hc_err_set(err, "cannot watch the launcher");
		goto fail;
	}
	return l;
fail:
	rt_launcher_free(l);
	return NULL;
}

int rt_launcher_send(struct rt_launcher *l, uint64_t seq, const char *json, size_t len)
{
	char head[32];
	struct evbuffer_iovec v;

	if (!rt_launcher_alive(l))
		return -1;
	if (l->proto == RT_PROTO_ACTIONLOOP) {
		if (l->fifo_len == FIFO_MAX)
			return -1;
		l->fifo[(l->fifo_head + l->fifo_len++) % FIFO_MAX] = seq;
	} else {
		int n = snprintf(head, sizeof head, "%llu\t", (unsigned long long)seq);
		if (evbuffer_add(l->out, head, (size_t)n) < 0)
			return -1;
	}
	/* copy once, turning CR/LF into spaces on the way */
	if (evbuffer_reserve_space(l->out, (ev_ssize_t)len + 1, &v, 1) < 1)
		return -1;
	{
		char *d = v.iov_base;
		for (size_t i = 0; i < len; i++)
			d[i] = (json[i] == '\n' || json[i] == '\r') ? ' ' : json[i];
		d[len] = '\n';
	}
	v.iov_len = len + 1;
	if (evbuffer_commit_space(l->out, &v, 1) < 0)
		return -1;
	flush_out(l);
	return 0;
}

void rt_launcher_kill(struct rt_launcher *l)
{
	if (!l || l->reaped)
		return;
	rt_proc_kill(l->pid);
	/* SIGKILL is prompt, but a child running on another CPU may still
	 * finish a write after kill() returned: wait (up to 100 ms, without
	 * reaping it: the reaper does) until it is dead, so that everything it
	 * printed is in the pipes when the caller drains them and writes the
	 * end markers. */
	for (int i = 0; i < 1000; i++) {
		siginfo_t si = {0};
		if (waitid(P_PID, (id_t)l->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0 ||
		    si.si_pid == l->pid)
			break;
		usleep(100);
	}
}

void rt_launcher_free(struct rt_launcher *l)
{
	if (!l)
		return;
	if (l->pid > 0 && !l->reaped) {
		rt_reaper_forget(l->pid);
		rt_proc_kill(l->pid);
		/* SIGKILL is prompt: reap now rather than leave a zombie to init */
		while (waitpid(l->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (l->wr)
		event_free(l->wr);
	if (l->rd)
		event_free(l->rd);
	if (l->in_fd >= 0)
		close(l->in_fd);
	if (l->fd3 >= 0)
		close(l->fd3);
	for (int i = 0; i < 2; i++) {
		if (l->relay[i])
			event_free(l->relay[i]);
		l->relay[i] = NULL;
		if (l->out_fd[i] >= 0) {
			relay_stream(l, i); /* its last words still reach the logs */
			close(l->out_fd[i]);
		}
	}
	if (l->out)
		evbuffer_free(l->out);
	if (l->in)
		evbuffer_free(l->in);
	free(l);
}
