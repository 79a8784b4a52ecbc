/* launcher.h — the one long-lived child that runs the function.
 *
 * Two line protocols over pipes (stdin in, fd 3 out):
 *  - hearth's launchers (nodejs, python; RT_PROTO_TAGGED): in
 *    "<seq>\t<json>\n" (seq 0 = init), out "<seq>\t<tag>\t<json>\n" with tag
 *    r (result) or e (error message as a JSON string). Replies may come in
 *    any order (concurrent activations).
 *  - the actionloop convention (blackbox executables; RT_PROTO_ACTIONLOOP):
 *    in one JSON line per activation, out one JSON line; replies in order.
 * The child is the leader of its own process group: killing it kills what
 * the function started. All callbacks run on the loop thread. */
#ifndef RT_LAUNCHER_H
#define RT_LAUNCHER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"

struct event_base;
struct rt_launcher;

enum rt_proto { RT_PROTO_TAGGED, RT_PROTO_ACTIONLOOP };

enum rt_reply_kind {
	RT_REPLY_RESULT,   /* data is the result JSON (unchecked for actionloop) */
	RT_REPLY_ERROR,	   /* data is a JSON string: a developer error message */
	RT_REPLY_TOO_LONG, /* the line exceeded max_reply; total = its length */
};

struct rt_reply {
	uint64_t seq;
	enum rt_reply_kind kind;
	const char *data; /* valid during the callback; not NUL-terminated for actionloop */
	size_t len;
	size_t total;
};

struct rt_launcher_cbs {
	void (*on_reply)(const struct rt_reply *r, void *arg);
	/* The child is gone (fd 3 closed or the process reaped); once, after any
	 * reply it managed to write has been delivered. Not called after
	 * rt_launcher_free. why: "exited with status 1" etc. */
	void (*on_exit)(const char *why, void *arg);
	/* The function wrote to stdout or stderr: called before the bytes are
	 * passed on (an activation's start marker can still go first). May be
	 * NULL. */
	void (*on_output)(void *arg);
	void *arg;
};

struct rt_launcher_opts {
	enum rt_proto proto;
	const char *path; /* executable */
	char *const *argv;
	char *const *envp;
	const char *cwd;
	size_t max_reply; /* longest reply line accepted */
};

/* Start the child. Returns NULL with err when it cannot be started. */
struct rt_launcher *rt_launcher_start(struct event_base *base, const struct rt_launcher_opts *o,
				      const struct rt_launcher_cbs *cbs, struct hc_err *err);

/* Queue one message (JSON text; its CR/LF bytes are sent as spaces, which
 * keeps valid JSON valid). Returns 0, or -1 when the child is gone or the
 * message could not be queued. */
int rt_launcher_send(struct rt_launcher *l, uint64_t seq, const char *json, size_t len);

/* The child's stdout and stderr come through the runtime, which passes
 * them on to its own (so the agent sees the same streams) and counts them:
 * bytes passed on so far. rt_launcher_drain passes on what the pipes hold
 * now (call it before an activation's end marker: what the function wrote
 * before replying is then counted and placed before the marker). */
uint64_t rt_launcher_output(const struct rt_launcher *l);
void rt_launcher_drain(struct rt_launcher *l);

/* Write n bytes to fd, blocking, retrying short writes; on an error it
 * gives up silently (a lost log line must not stop a function). */
void rt_write_all(int fd, const char *p, size_t n);

pid_t rt_launcher_pid(const struct rt_launcher *l);
int rt_launcher_alive(const struct rt_launcher *l);

/* Kill the process group (on_exit follows when it is reaped). */
void rt_launcher_kill(struct rt_launcher *l);

/* Kill and free; no callback runs afterwards. */
void rt_launcher_free(struct rt_launcher *l);

#endif
