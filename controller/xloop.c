/* controller/xloop.c — messages between this controller's loops (xloop.h). */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/str.h"
#include "controller/xloop.h"

struct xmsg {
	int target;	 /* a loop index, or -1 for every loop */
	atomic_int refs; /* one per loop the message was posted to */
	ctl_xloop_fn fn;
	void *p;
	char id[64]; /* a small payload carried by the message itself */
};

static int xmsg_run(struct hc_loop *loop, void *arg)
{
	struct xmsg *m = arg;
	if ((m->target < 0 || loop->index == m->target) && loop->data)
		m->fn(loop->data, m->p ? m->p : m->id);
	if (atomic_fetch_sub(&m->refs, 1) == 1)
		free(m);
	return 0;
}

static int post(struct ctl *c, int target, ctl_xloop_fn fn, void *p, const char *id)
{
	struct xmsg *m;
	if (!c->server || !(m = malloc(sizeof(*m))))
		return -1;
	m->target = target;
	atomic_init(&m->refs, hc_server_nloops(c->server));
	m->fn = fn;
	m->p = p;
	hc_strlcpy(m->id, id ? id : "", sizeof(m->id));
	hc_server_each_loop(c->server, xmsg_run, m);
	return 0;
}

int ctl_xloop_post(struct ctl *c, int target, ctl_xloop_fn fn, void *p)
{
	return post(c, target, fn, p, NULL);
}

int ctl_xloop_broadcast_id(struct ctl *c, ctl_xloop_fn fn, const char *id)
{
	return strlen(id) < sizeof(((struct xmsg *)0)->id) ? post(c, -1, fn, NULL, id) : -1;
}

int ctl_xloop_of_owner(const struct ctl *c, const char *owner)
{
	size_t n = strlen(c->cfg.id);
	int nloops = c->server ? hc_server_nloops(c->server) : 1;
	if (nloops <= 1 || strncmp(owner, c->cfg.id, n) != 0 || owner[n] != '.')
		return -1;
	char *end;
	long i = strtol(owner + n + 1, &end, 10);
	return (*end || i < 0 || i >= nloops) ? -1 : (int)i;
}
