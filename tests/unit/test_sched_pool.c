/* test_sched_pool.c — the pool algorithm with a fake clock and fake hosts:
 * every step of allocation, LRU eviction, prewarm refill, keep-alive,
 * waiting allocations, capacity accounting, failover restore. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scheduler/keepalive.h"
#include "scheduler/pool.h"

#define MAXREC 256

struct fake {
	uint64_t now;
	uint64_t creates[MAXREC];
	char create_host[MAXREC][PR_OWNER_MAX];
	int ncreates;
	uint64_t destroys[MAXREC];
	char destroy_ids[MAXREC][HC_ID_LEN + 1];
	int ndestroys;
	struct {
		long cookie;
		struct sch_alloc_result res;
	} replies[MAXREC];
	int nreplies;
	int nowner_changes, ngone;
	/* controllers: "ctl-a" url known, "ctl-gone" gone, others unknown */
	int id_counter;
};

static uint64_t f_now(void *arg)
{
	return ((struct fake *)arg)->now;
}

static void f_create(void *arg, const struct sch_container *c)
{
	struct fake *f = arg;
	assert_true(f->ncreates < MAXREC);
	snprintf(f->create_host[f->ncreates], PR_OWNER_MAX, "%s", c->host->id);
	f->creates[f->ncreates++] = c->seq;
}

static void f_destroy(void *arg, const struct sch_container *c)
{
	struct fake *f = arg;
	assert_true(f->ndestroys < MAXREC);
	snprintf(f->destroy_ids[f->ndestroys], HC_ID_LEN + 1, "%s", c->desc.id);
	f->destroys[f->ndestroys++] = c->seq;
}

static void f_reply(void *arg, void *cookie, const struct sch_alloc_result *res)
{
	struct fake *f = arg;
	assert_true(f->nreplies < MAXREC);
	f->replies[f->nreplies].cookie = (long)(intptr_t)cookie;
	f->replies[f->nreplies].res = *res;
	f->nreplies++;
}

static void f_owner(void *arg, const struct sch_container *c)
{
	((struct fake *)arg)->nowner_changes++;
}

static void f_gone(void *arg, const struct sch_container *c, const char *why)
{
	((struct fake *)arg)->ngone++;
}

static int f_url(void *arg, const char *controller, char *url, size_t len)
{
	if (strcmp(controller, "ctl-a") == 0 || strcmp(controller, "ctl-b") == 0) {
		snprintf(url, len, "http://%s:3233", controller);
		return 1;
	}
	if (strcmp(controller, "ctl-gone") == 0)
		return -1;
	return 0;
}

static const struct sch_pool_ops fake_ops = {
    .now_ms = f_now,
    .create = f_create,
    .destroy = f_destroy,
    .reply = f_reply,
    .owner_changed = f_owner,
    .gone = f_gone,
    .controller_url = f_url,
};

struct env {
	struct fake f;
	struct sch_pool *p;
	struct sch_keepalive_policy *ka;
};

static struct env *env_new(const char *prewarm, int max_creating)
{
	struct env *e = calloc(1, sizeof(*e));
	struct sch_pool_config cfg;
	struct sch_prewarm_target *ts = NULL;
	int n = 0;

	assert_non_null(e);
	assert_int_equal(sch_prewarm_parse(prewarm, &ts, &n, NULL), 0);
	memset(&cfg, 0, sizeof(cfg));
	cfg.prewarm = ts;
	cfg.nprewarm = n;
	e->ka = sch_keepalive_fixed(600000);
	cfg.keepalive = e->ka;
	cfg.max_creating_per_action = max_creating;
	cfg.retry_after_ms = 250;
	e->f.now = 1000000;
	e->p = sch_pool_new(&cfg, &fake_ops, &e->f);
	assert_non_null(e->p);
	free(ts);
	return e;
}

static void env_free(struct env *e)
{
	sch_pool_free(e->p);
	e->ka->destroy(e->ka);
	free(e);
}

/* The agent answers create number i with a fresh id. */
static void agent_created(struct env *e, int i)
{
	struct pr_container d;
	memset(&d, 0, sizeof(d));
	snprintf(d.id, sizeof(d.id), "%032x", ++e->f.id_counter);
	snprintf(d.host, sizeof(d.host), "127.0.0.1");
	d.port = 20000 + e->f.id_counter;
	d.state = PR_CS_WARM;
	assert_int_equal(sch_pool_created(e->p, e->f.creates[i], &d), 0);
}

static void req_init(struct pr_alloc_req *r, const char *name, const char *controller, int memory)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->ns, sizeof(r->ns), "guest");
	snprintf(r->name, sizeof(r->name), "%s", name);
	snprintf(r->version, sizeof(r->version), "0.0.1");
	snprintf(r->kind, sizeof(r->kind), "nodejs:20");
	snprintf(r->digest, sizeof(r->digest), "d1");
	snprintf(r->controller, sizeof(r->controller), "%s", controller);
	r->memory_mb = memory;
	r->concurrency = 1;
	r->wait_ms = 5000;
}

static int alloc(struct env *e, const char *name, const char *controller, int memory, long cookie)
{
	struct pr_alloc_req r;
	req_init(&r, name, controller, memory);
	return sch_pool_allocate(e->p, &r, (void *)(intptr_t)cookie);
}

static const struct sch_alloc_result *last_reply(struct env *e)
{
	assert_true(e->f.nreplies > 0);
	return &e->f.replies[e->f.nreplies - 1].res;
}

/* Check memory accounting on every host: never negative, never over. */
static void check_accounting(struct env *e, const char *const *hosts, int nhosts)
{
	for (int i = 0; i < nhosts; i++) {
		struct sch_host *h = sch_pool_host(e->p, hosts[i]);
		if (!h)
			continue;
		assert_true(h->used_mb >= 0);
		assert_true(h->used_mb <= h->capacity_mb);
		int sum = 0;
		const struct sch_container *c;
		TAILQ_FOREACH(c, &h->containers, host_link)
		{
			if (!c->mem_handed_over)
				sum += c->desc.memory_mb;
		}
		assert_int_equal(sum, h->used_mb);
	}
}

/* Step 4 then step 2: create for the first call, reuse it when released. */
static void test_create_then_warm(void **state)
{
	struct env *e = env_new("", 0);
	char id[HC_ID_LEN + 1];

	assert_int_equal(sch_pool_host_set(e->p, "h1", "http://h1:3235", 1024, 0), 0);
	assert_int_equal(e->f.ncreates, 0);
	assert_int_equal(alloc(e, "hello", "ctl-a", 256, 1), 1);
	assert_int_equal(e->f.ncreates, 1);
	assert_int_equal(e->f.nreplies, 0);
	assert_int_equal(sch_pool_host(e->p, "h1")->used_mb, 256);
	agent_created(e, 0);
	assert_int_equal(e->f.nreplies, 1);
	assert_int_equal(last_reply(e)->outcome, SCH_OUT_CREATED);
	assert_int_equal(last_reply(e)->reply.init, 1);
	assert_string_equal(last_reply(e)->reply.owner, "ctl-a");
	assert_string_equal(last_reply(e)->reply.container.action, "/guest/hello");
	snprintf(id, sizeof(id), "%s", last_reply(e)->reply.container.id);
	assert_int_equal(sch_pool_find(e->p, id)->state, SCH_C_BUSY);

	assert_int_equal(sch_pool_release(e->p, id, "ctl-a"), SCH_REF_OK);
	assert_int_equal(sch_pool_find(e->p, id)->state, SCH_C_FREE);
	assert_int_equal(alloc(e, "hello", "ctl-a", 256, 2), 0);
	assert_int_equal(last_reply(e)->outcome, SCH_OUT_WARM);
	assert_int_equal(last_reply(e)->reply.init, 0);
	assert_string_equal(last_reply(e)->reply.container.id, id);
	assert_int_equal(e->f.ncreates, 1);
	/* A different version is a different action: no reuse. */
	struct pr_alloc_req r;
	req_init(&r, "hello", "ctl-a", 256);
	snprintf(r.version, sizeof(r.version), "0.0.2");
	assert_int_equal(sch_pool_allocate(e->p, &r, (void *)3), 1);
	assert_int_equal(e->f.ncreates, 2);
	env_free(e);
}

/* Step 2 with another owner: forward when its url is known, skip when not,
 * take over when the owner is gone. */
static void test_warm_other_owner(void **state)
{
	struct env *e = env_new("", 0);
	char id[HC_ID_LEN + 1];

	sch_pool_host_set(e->p, "h1", "http://h1:3235", 4096, 0);
	alloc(e, "hello", "ctl-a", 256, 1);
	agent_created(e, 0);
	snprintf(id, sizeof(id), "%s", last_reply(e)->reply.container.id);
	sch_pool_release(e->p, id, "ctl-a");

	assert_int_equal(alloc(e, "hello", "ctl-b", 256, 2), 0);
	assert_int_equal(last_reply(e)->outcome, SCH_OUT_FORWARD);
	assert_string_equal(last_reply(e)->reply.owner, "ctl-a");
	assert_string_equal(last_reply(e)->reply.owner_url, "http://ctl-a:3233");
	assert_string_equal(last_reply(e)->reply.container.id, id);
	/* Still free and still ctl-a's: nothing was taken from its owner. */
	assert_int_equal(sch_pool_find(e->p, id)->state, SCH_C_FREE);
	assert_string_equal(sch_pool_find(e->p, id)->desc.owner, "ctl-a");
	env_free(e);

	/* Owner with an unknown url: never taken; a new container is made. */
	e = env_new("", 0);
	sch_pool_host_set(e->p, "h1", "http://h1:3235", 4096, 0);
	alloc(e, "hello", "ctl-unknown", 256, 1);
	agent_created(e, 0);
	snprintf(id, sizeof(id), "%s", last_reply(e)->reply.container.id);
	sch_pool_release(e->p, id, "ctl-unknown");
	assert_int_equal(alloc(e, "hello", "ctl-b", 256, 2), 1);
	assert_int_equal(e->f.ncreates, 2);
	assert_int_equal(sch_pool_find(e->p, id)->state, SCH_C_FREE);
	env_free(e);

	/* Owner gone: the container becomes the caller's. */
	e = env_new("", 0);
	sch_pool_host_set(e->p, "h1", "http://h1:3235", 4096, 0);
	alloc(e, "hello", "ctl-gone", 256, 1);
	agent_created(e, 0);
	snprintf(id, sizeof(id), "%s", last_reply(e)->reply.container.id);
	sch_pool_release(e->p, id, "ctl-gone");
	assert_int_equal(alloc(e, "hello", "ctl-b", 256, 2), 0);
	assert_int_equal(last_reply(e)->outcome, SCH_OUT_WARM);
	assert_string_equal(last_reply(e)->reply.owner, "ctl-b");
	assert_string_equal(sch_pool_find(e->p, id)->desc.owner, "ctl-b");
	env_free(e);
}

/* Steps 1 and 3: stem cells per host, taken by kind+memory, refilled. */
static void test_prewarm(void **state)
{
	struct env *e = env_new("nodejs:20:256:2,python:3:128:1", 0);
	struct sch_pool_stats st;

	sch_pool_host_set(e->p, "h1", "http://h1:3235", 4096, 0);
	assert_int_equal(e->f.ncreates, 3);
	for (int i = 0; i < 3; i++)
		agent_created(e, i);
	sch_pool_stats(e->p, &st);
	assert_int_equal(st.count[SCH_C_PREWARM], 3);
	assert_int_equal(st.used_mb, 2 * 256 + 128);
	/* A second host gets its own. */
	sch_pool_host_set(e->p, "h2", "http://h2:3235", 4096, 0);
	assert_int_equal(e->f.ncreates, 6);
	assert_string_equal(e->f.create_host[5], "h2");

	/* Kind matches but memory does not: no prewarm hit. */
	assert_int_equal(alloc(e, "big", "ctl-a", 512, 1), 1);
	assert_int_equal(e->f.ncreates, 7);

	assert_int_equal(alloc(e, "hello", "ctl-a", 256, 2), 0);
	assert_int_equal(last_reply(e)->outcome, SCH_OUT_PREWARM);
	assert_int_equal(last_reply(e)->reply.init, 1);
	assert_string_equal(last_reply(e)->reply.owner, "ctl-a");
	assert_string_equal(last_reply(e)->reply.container.action, "/guest/hello");
	assert_string_equal(last_reply(e)->reply.container.host, "127.0.0.1");
	/* Refill on the host it came from. */
	assert_int_equal(e->f.ncreates, 8);
	assert_string_equal(e->f.create_host[7], "h1");
	sch_pool_stats(e->p, &st);
	assert_int_equal(st.count[SCH_C_PREWARM], 2);
	assert_int_equal(st.count[SCH_C_BUSY], 1);
	env_free(e);

	/* A prewarm hit takes the stem cell on the host with the most free
	 * memory, not the oldest stem cell (h1's). */
	e = env_new("nodejs:20:256:1", 0);
	sch_pool_host_set(e->p, "h1", "http://h1:3235", 2048, 0);
	sch_pool_host_set(e->p, "h2", "http://h2:3235", 2048, 0);
	assert_int_equal(e->f.ncreates, 2);
	agent_created(e, 0);
	agent_created(e, 1);
	assert_int_equal(alloc(e, "wide", "ctl-a", 512, 1), 1); /* no match: created */
	assert_string_equal(e->f.create_host[2], "h1");		/* a tie: the first */
	agent_created(e, 2);
	assert_int_equal(alloc(e, "y", "ctl-a", 256, 2), 0);
	assert_int_equal(last_reply(e)->outcome, SCH_OUT_PREWARM);
	assert_string_equal(sch_pool_find(e->p, last_reply(e)->reply.container.id)->host->id, "h2");
	env_free(e);
}

/* Step 4 picks the host with the most free memory; draining hosts get nothing. */
static void test_most_free_host(void **state)
{
	struct env *e = env_new("", 0);

	sch_pool_host_set(e->p, "h1", "http://h1:3235", 1024, 0);
	sch_pool_host_set(e->p, "h2", "http://h2:3235", 2048, 0);
	sch_pool_host_set(e->p, "h3", "http://h3:3235", 8192, 1); /* draining */
	alloc(e, "a", "ctl-a", 256, 1);
	assert_string_equal(e->f.create_host[0], "h2");
	alloc(e, "b", "ctl-a", 1024, 2);
	assert_string_equal(e->f.create_host[1], "h2");
	alloc(e, "c", "ctl-a", 512, 3);
	/* h1: 1024 free, h2: 768 free */
	assert_string_equal(e->f.create_host[2], "h1");
	/* A draining host that stops draining gets work again. */
	sch_pool_host_set(e->p, "h3", "http://h3:3235", 8192, 0);
	alloc(e, "d", "ctl-a", 256, 4);
	assert_string_equal(e->f.create_host[3], "h3");
	env_free(e);
}

/* Step 5: evict the least recently used free container, create after it is gone. */
static void test_evict_lru(void **state)
{
	struct env *e = env_new("", 0);
	const char *hosts[] = {"h1"};
	char x[HC_ID_LEN + 1], y[HC_ID_LEN + 1];

	sch_pool_host_set(e->p, "h1", "http://h1:3235", 512, 0);
	alloc(e, "x", "ctl-a", 256, 1);
	alloc(e, "y", "ctl-a", 256, 2);
	agent_created(e, 0);
	snprintf(x, sizeof(x), "%s", last_reply(e)->reply.container.id);
	agent_created(e, 1);
	snprintf(y, sizeof(y), "%s", last_reply(e)->reply.container.id);
	/* y used longer ago than x: y is the LRU one. */
	e->f.now += 10;
	sch_pool_release(e->p, y, "ctl-a");
	e->f.now += 10;
	sch_pool_release(e->p, x, "ctl-a");
	check_accounting(e, hosts, 1);

	assert_int_equal(alloc(e, "z", "ctl-a", 256, 3), 1);
	assert_int_equal(e->f.ndestroys, 1);
	assert_string_equal(e->f.destroy_ids[0], y);
	/* The create waits for the destroy (the agent still holds y's memory). */
	assert_int_equal(e->f.ncreates, 2);
	check_accounting(e, hosts, 1);
	sch_pool_destroyed(e->p, e->f.destroys[0]);
	assert_int_equal(e->f.ncreates, 3);
	assert_null(sch_pool_find(e->p, y));
	agent_created(e, 2);
	assert_int_equal(last_reply(e)->outcome, SCH_OUT_EVICTED);
	assert_string_equal(last_reply(e)->reply.container.action, "/guest/z");
	assert_int_equal(sch_pool_find(e->p, x)->state, SCH_C_FREE);
	check_accounting(e, hosts, 1);

	/* Everything busy now: step 6, 429 with the retry hint. */
	assert_int_equal(alloc(e, "w", "ctl-a", 256, 4), 1); /* evicts x */
	assert_int_equal(e->f.ndestroys, 2);
	assert_string_equal(e->f.destroy_ids[1], x);
	assert_int_equal(alloc(e, "v", "ctl-a", 256, 5), 0);
	assert_int_equal(last_reply(e)->outcome, SCH_OUT_REJECTED);
	assert_int_equal(last_reply(e)->retry_after_ms, 250);
	check_accounting(e, hosts, 1);
	env_free(e);
}

/* Step 6 with no hosts at all; and a too-large request. */
static void test_reject(void **state)
{
	struct env *e = env_new("", 0);
	struct sch_pool_stats st;

	assert_int_equal(alloc(e, "x", "ctl-a", 256, 1), 0);
	assert_int_equal(last_reply(e)->outcome, SCH_OUT_REJECTED);
	sch_pool_host_set(e->p, "h1", "http://h1:3235", 512, 0);
	assert_int_equal(alloc(e, "big", "ctl-a", 1024, 2), 0);
	assert_int_equal(last_reply(e)->outcome, SCH_OUT_REJECTED);
	sch_pool_stats(e->p, &st);
	assert_int_equal(st.outcomes[SCH_OUT_REJECTED], 2);
	assert_int_equal(st.waiters, 0);
	env_free(e);
}

/* Keep-alive: free containers idle past the TTL are destroyed, not before. */
static void test_keepalive(void **state)
{
	struct env *e = env_new("", 0);
	char id[HC_ID_LEN + 1];

	sch_pool_host_set(e->p, "h1", "http://h1:3235", 1024, 0);
	alloc(e, "x", "ctl-a", 256, 1);
	agent_created(e, 0);
	snprintf(id, sizeof(id), "%s", last_reply(e)->reply.container.id);
	sch_pool_release(e->p, id, "ctl-a");
	e->f.now += 599999;
	sch_pool_tick(e->p);
	assert_int_equal(e->f.ndestroys, 0);
	e->f.now += 1;
	sch_pool_tick(e->p);
	assert_int_equal(e->f.ndestroys, 1);
	assert_string_equal(e->f.destroy_ids[0], id);
	assert_int_equal(sch_pool_find(e->p, id)->state, SCH_C_DESTROYING);
	assert_int_equal(sch_pool_host(e->p, "h1")->used_mb, 256);
	sch_pool_destroyed(e->p, e->f.destroys[0]);
	assert_int_equal(sch_pool_host(e->p, "h1")->used_mb, 0);
	/* Busy containers are never reaped. */
	alloc(e, "y", "ctl-a", 256, 2);
	agent_created(e, 1);
	e->f.now += 10000000;
	sch_pool_tick(e->p);
	assert_int_equal(e->f.ndestroys, 1);
	env_free(e);
}

/* Reaping a stem cell's host slot never happens, but a reap refills prewarm
 * only up to the target. */
static void test_prewarm_refill_bounded(void **state)
{
	struct env *e = env_new("nodejs:20:256:1", 0);

	sch_pool_host_set(e->p, "h1", "http://h1:3235", 1024, 0);
	assert_int_equal(e->f.ncreates, 1);
	sch_pool_tick(e->p);
	sch_pool_host_set(e->p, "h1", "http://h1:3235", 1024, 0);
	assert_int_equal(e->f.ncreates, 1); /* creating counts toward the target */
	sch_pool_create_failed(e->p, e->f.creates[0], "agent said no");
	assert_int_equal(e->f.ncreates, 1); /* back off */
	e->f.now += 999;
	sch_pool_tick(e->p);
	assert_int_equal(e->f.ncreates, 1);
	e->f.now += 1;
	sch_pool_tick(e->p);
	assert_int_equal(e->f.ncreates, 2);
	assert_int_equal(sch_pool_host(e->p, "h1")->used_mb, 256);
	env_free(e);
}

/* No container is handed to two allocations. */
static void test_no_double_allocation(void **state)
{
	struct env *e = env_new("nodejs:20:256:1", 0);
	char first[HC_ID_LEN + 1];

	sch_pool_host_set(e->p, "h1", "http://h1:3235", 4096, 0);
	agent_created(e, 0);
	assert_int_equal(alloc(e, "x", "ctl-a", 256, 1), 0);
	snprintf(first, sizeof(first), "%s", last_reply(e)->reply.container.id);
	/* The refill is still being created: the next one must wait. */
	assert_int_equal(alloc(e, "x", "ctl-a", 256, 2), 1);
	assert_int_equal(alloc(e, "x", "ctl-b", 256, 3), 1);
	assert_int_equal(e->f.nreplies, 1);
	/* Releasing the first serves the oldest waiter (ctl-a's), once. */
	sch_pool_release(e->p, first, "ctl-a");
	assert_int_equal(e->f.nreplies, 2);
	assert_int_equal(e->f.replies[1].cookie, 2);
	assert_string_equal(last_reply(e)->reply.container.id, first);
	assert_int_equal(sch_pool_find(e->p, first)->state, SCH_C_BUSY);
	/* Every create answered: the holders after the release each have a
	 * different container. */
	for (int i = 1; i < e->f.ncreates; i++)
		agent_created(e, i);
	for (int i = 1; i < e->f.nreplies; i++) {
		for (int j = i + 1; j < e->f.nreplies; j++)
			assert_string_not_equal(e->f.replies[i].res.reply.container.id,
						e->f.replies[j].res.reply.container.id);
	}
	assert_int_equal(e->f.nreplies, 3);
	env_free(e);
}

/* Allocations for an action being created wait for it (rule in pool.h). */
static void test_waiters(void **state)
{
	struct env *e = env_new("", 2);
	struct pr_alloc_req r;

	sch_pool_host_set(e->p, "h1", "http://h1:3235", 8192, 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(alloc(e, "x", "ctl-a", 256, 10 + i), 1);
	/* At most 2 creates at once for one action. */
	assert_int_equal(e->f.ncreates, 2);
	agent_created(e, 1); /* the second finishes first: serves the oldest */
	assert_int_equal(e->f.nreplies, 1);
	assert_int_equal(e->f.replies[0].cookie, 10);
	assert_int_equal(e->f.ncreates, 3); /* 4 still wait: a new create */
	agent_created(e, 0);
	assert_int_equal(e->f.replies[1].cookie, 11);
	env_free(e);

	/* concurrency 4, one controller: one container serves 3 waiters. */
	e = env_new("", 0);
	sch_pool_host_set(e->p, "h1", "http://h1:3235", 8192, 0);
	for (int i = 0; i < 3; i++) {
		req_init(&r, "y", "ctl-a", 256);
		r.concurrency = 4;
		assert_int_equal(sch_pool_allocate(e->p, &r, (void *)(intptr_t)(20 + i)), 1);
	}
	assert_int_equal(e->f.ncreates, 1);
	agent_created(e, 0);
	assert_int_equal(e->f.nreplies, 3);
	for (int i = 0; i < 3; i++)
		assert_string_equal(e->f.replies[i].res.reply.container.id,
				    e->f.replies[0].res.reply.container.id);
	env_free(e);

	/* A waiter past its wait_ms is rejected at the next tick. */
	e = env_new("", 0);
	sch_pool_host_set(e->p, "h1", "http://h1:3235", 8192, 0);
	alloc(e, "z", "ctl-a", 256, 30);
	e->f.now += 5001;
	sch_pool_tick(e->p);
	assert_int_equal(e->f.nreplies, 1);
	assert_int_equal(last_reply(e)->outcome, SCH_OUT_REJECTED);
	/* The container made meanwhile becomes a stem cell. */
	agent_created(e, 0);
	struct sch_pool_stats st;
	sch_pool_stats(e->p, &st);
	assert_int_equal(st.count[SCH_C_PREWARM], 1);
	assert_int_equal(alloc(e, "other", "ctl-a", 256, 31), 0);
	assert_int_equal(last_reply(e)->outcome, SCH_OUT_PREWARM);
	env_free(e);
}

/* A failed create moves to another host, or rejects when none is left. */
static void test_create_failed(void **state)
{
	struct env *e = env_new("", 0);

	sch_pool_host_set(e->p, "h1", "http://h1:3235", 2048, 0);
	sch_pool_host_set(e->p, "h2", "http://h2:3235", 1024, 0);
	alloc(e, "x", "ctl-a", 256, 1);
	assert_string_equal(e->f.create_host[0], "h1");
	sch_pool_create_failed(e->p, e->f.creates[0], "boom");
	assert_int_equal(e->f.ncreates, 2);
	assert_string_equal(e->f.create_host[1], "h2");
	sch_pool_create_failed(e->p, e->f.creates[1], "boom");
	assert_int_equal(e->f.nreplies, 1);
	assert_int_equal(last_reply(e)->outcome, SCH_OUT_REJECTED);
	assert_int_equal(sch_pool_host(e->p, "h1")->used_mb, 0);
	assert_int_equal(sch_pool_host(e->p, "h2")->used_mb, 0);
	env_free(e);
}

/* A lost host takes its containers; waiters get creates elsewhere. */
static void test_host_lost(void **state)
{
	struct env *e = env_new("", 0);
	char id[HC_ID_LEN + 1];

	sch_pool_host_set(e->p, "h1", "http://h1:3235", 2048, 0);
	alloc(e, "x", "ctl-a", 256, 1);
	agent_created(e, 0);
	snprintf(id, sizeof(id), "%s", last_reply(e)->reply.container.id);
	alloc(e, "y", "ctl-a", 256, 2);
	sch_pool_host_set(e->p, "h2", "http://h2:3235", 512, 0);
	sch_pool_host_remove(e->p, "h1");
	assert_null(sch_pool_find(e->p, id));
	assert_int_equal(e->f.ngone, 1);
	assert_null(sch_pool_host(e->p, "h1"));
	assert_int_equal(e->f.ncreates, 3);
	assert_string_equal(e->f.create_host[2], "h2");
	/* The answer for the lost create is refused. */
	struct pr_container d;
	memset(&d, 0, sizeof(d));
	snprintf(d.id, sizeof(d.id), "%032x", 999);
	assert_int_equal(sch_pool_created(e->p, e->f.creates[1], &d), -1);
	assert_int_equal(sch_pool_release(e->p, id, "ctl-a"), SCH_REF_UNKNOWN);
	env_free(e);
}

/* Release / busy / discard: owners only, right states. */
static void test_refs(void **state)
{
	struct env *e = env_new("", 0);
	char id[HC_ID_LEN + 1];

	sch_pool_host_set(e->p, "h1", "http://h1:3235", 2048, 0);
	alloc(e, "x", "ctl-a", 256, 1);
	agent_created(e, 0);
	snprintf(id, sizeof(id), "%s", last_reply(e)->reply.container.id);
	assert_int_equal(sch_pool_release(e->p, id, "ctl-b"), SCH_REF_NOT_OWNER);
	assert_int_equal(sch_pool_release(e->p, id, "ctl-a"), SCH_REF_OK);
	assert_int_equal(sch_pool_release(e->p, id, "ctl-a"), SCH_REF_OK);
	assert_int_equal(sch_pool_busy(e->p, id, "ctl-b"), SCH_REF_NOT_OWNER);
	assert_int_equal(sch_pool_busy(e->p, id, "ctl-a"), SCH_REF_OK);
	assert_int_equal(sch_pool_find(e->p, id)->state, SCH_C_BUSY);
	assert_int_equal(sch_pool_busy(e->p, "0123456789abcdef0123456789abcdef", "ctl-a"),
			 SCH_REF_UNKNOWN);
	assert_int_equal(sch_pool_discard(e->p, id, "ctl-b"), SCH_REF_NOT_OWNER);
	assert_int_equal(sch_pool_discard(e->p, id, "ctl-a"), SCH_REF_OK);
	assert_int_equal(e->f.ndestroys, 1);
	assert_int_equal(sch_pool_release(e->p, id, "ctl-a"), SCH_REF_BAD_STATE);
	sch_pool_destroyed(e->p, e->f.destroys[0]);
	assert_int_equal(sch_pool_host(e->p, "h1")->used_mb, 0);

	/* An agent's "dead" event: the container is destroyed, whoever owns it. */
	alloc(e, "y", "ctl-a", 256, 2);
	agent_created(e, 1);
	snprintf(id, sizeof(id), "%s", last_reply(e)->reply.container.id);
	assert_int_equal(sch_pool_dead(e->p, id), 0);
	assert_int_equal(sch_pool_find(e->p, id)->state, SCH_C_DESTROYING);
	assert_int_equal(e->f.ndestroys, 2);
	assert_int_equal(sch_pool_dead(e->p, "0123456789abcdef0123456789abcdef"), -1);
	env_free(e);
}

/* A gone controller: free ones become anybody's, busy ones are destroyed. */
static void test_owner_gone(void **state)
{
	struct env *e = env_new("", 0);
	char a[HC_ID_LEN + 1], b[HC_ID_LEN + 1];

	sch_pool_host_set(e->p, "h1", "http://h1:3235", 2048, 0);
	alloc(e, "x", "ctl-z", 256, 1);
	alloc(e, "x", "ctl-z", 256, 2);
	agent_created(e, 0);
	snprintf(a, sizeof(a), "%s", last_reply(e)->reply.container.id);
	agent_created(e, 1);
	snprintf(b, sizeof(b), "%s", last_reply(e)->reply.container.id);
	sch_pool_release(e->p, a, "ctl-z");
	sch_pool_owner_gone(e->p, "ctl-z");
	assert_string_equal(sch_pool_find(e->p, a)->desc.owner, "");
	assert_int_equal(sch_pool_find(e->p, b)->state, SCH_C_DESTROYING);
	assert_int_equal(alloc(e, "x", "ctl-a", 256, 3), 0);
	assert_int_equal(last_reply(e)->outcome, SCH_OUT_WARM);
	assert_string_equal(last_reply(e)->reply.container.id, a);
	env_free(e);

	/* Its waiting allocations are rejected; another's keeps waiting and
	 * gets the container being made. */
	e = env_new("", 1);
	sch_pool_host_set(e->p, "h1", "http://h1:3235", 2048, 0);
	assert_int_equal(alloc(e, "w", "ctl-z", 256, 4), 1);
	assert_int_equal(alloc(e, "w", "ctl-a", 256, 5), 1);
	assert_int_equal(alloc(e, "w", "ctl-z", 256, 6), 1);
	assert_int_equal(e->f.ncreates, 1);
	sch_pool_owner_gone(e->p, "ctl-z");
	assert_int_equal(e->f.nreplies, 2);
	assert_int_equal(e->f.replies[0].cookie, 4);
	assert_int_equal(e->f.replies[0].res.outcome, SCH_OUT_REJECTED);
	assert_int_equal(e->f.replies[1].cookie, 6);
	assert_int_equal(e->f.replies[1].res.outcome, SCH_OUT_REJECTED);
	agent_created(e, 0);
	assert_int_equal(e->f.nreplies, 3);
	assert_int_equal(last_reply(e)->outcome, SCH_OUT_CREATED);
	assert_string_equal(last_reply(e)->reply.owner, "ctl-a");
	struct sch_pool_stats st;
	sch_pool_stats(e->p, &st);
	assert_int_equal(st.waiters, 0);
	env_free(e);
}

static void mkdesc(struct pr_container *d, int n, const char *action, enum pr_cstate st,
		   uint64_t last_used)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->id, sizeof(d->id), "%032x", n);
	snprintf(d->kind, sizeof(d->kind), "nodejs:20");
	d->memory_mb = 256;
	d->state = st;
	if (action) {
		snprintf(d->action, sizeof(d->action), "%s", action);
		snprintf(d->version, sizeof(d->version), "0.0.1");
		snprintf(d->digest, sizeof(d->digest), "d1");
	}
	d->last_used_ms = last_used;
}

/* Failover rebuild from what agents report plus owners from Redis. */
static void test_restore(void **state)
{
	struct env *e = env_new("nodejs:20:256:1", 0);
	struct pr_container d;
	struct sch_pool_stats st;

	/* Restore before the host's prewarm is computed: use capacity 0 first. */
	sch_pool_host_set(e->p, "h1", "http://h1:3235", 0, 0);
	assert_int_equal(e->f.ncreates, 0);
	mkdesc(&d, 1, NULL, PR_CS_WARM, 0);
	assert_int_equal(sch_pool_restore(e->p, "h1", &d, ""), SCH_C_PREWARM);
	mkdesc(&d, 2, "/guest/x", PR_CS_SUSPENDED, 900000);
	assert_int_equal(sch_pool_restore(e->p, "h1", &d, "ctl-a"), SCH_C_FREE);
	mkdesc(&d, 3, "/guest/x", PR_CS_WARM, 0);
	assert_int_equal(sch_pool_restore(e->p, "h1", &d, "ctl-a"), SCH_C_BUSY);
	mkdesc(&d, 4, "/guest/x", PR_CS_SUSPENDED, 0);
	assert_int_equal(sch_pool_restore(e->p, "h1", &d, ""), SCH_C_DESTROYING);
	mkdesc(&d, 5, NULL, PR_CS_DEAD, 0);
	assert_int_equal(sch_pool_restore(e->p, "h1", &d, ""), SCH_C_DESTROYING);
	mkdesc(&d, 6, "/guest/x", PR_CS_SUSPENDED, 800000); /* older than #2 */
	assert_int_equal(sch_pool_restore(e->p, "h1", &d, "ctl-a"), SCH_C_FREE);
	/* duplicates and unknown hosts are ignored */
	assert_int_equal(sch_pool_restore(e->p, "h1", &d, "ctl-a"), SCH_C__N);
	assert_int_equal(sch_pool_restore(e->p, "nope", &d, "ctl-a"), SCH_C__N);
	assert_int_equal(e->f.ndestroys, 2);
	sch_pool_host_set(e->p, "h1", "http://h1:3235", 4096, 0);
	/* the restored stem cell fills the prewarm target */
	assert_int_equal(e->f.ncreates, 0);
	sch_pool_stats(e->p, &st);
	assert_int_equal(st.count[SCH_C_FREE], 2);
	assert_int_equal(st.count[SCH_C_BUSY], 1);
	assert_int_equal(st.count[SCH_C_PREWARM], 1);
	assert_int_equal(st.used_mb, 6 * 256);
	/* warm hit for the owner: the most recently used first */
	assert_int_equal(alloc(e, "x", "ctl-a", 256, 1), 0);
	assert_int_equal(last_reply(e)->outcome, SCH_OUT_WARM);
	assert_string_equal(last_reply(e)->reply.container.id, "00000000000000000000000000000002");
	env_free(e);
}

/* Random operations: accounting stays within [0, capacity] and consistent. */
static void test_accounting_random(void **state)
{
	struct env *e = env_new("nodejs:20:256:1", 3);
	const char *hosts[] = {"h1", "h2"};
	const char *names[] = {"a", "b", "c", "d"};
	const char *ctls[] = {"ctl-a", "ctl-b"};
	unsigned seed = 12345;
	char busy[64][HC_ID_LEN + 1];
	int nbusy = 0, created = 0, destroyed = 0;

	sch_pool_host_set(e->p, "h1", "http://h1:3235", 1024, 0);
	sch_pool_host_set(e->p, "h2", "http://h2:3235", 768, 0);
	for (int step = 0; step < 2000; step++) {
		unsigned r = (seed = seed * 1103515245u + 12345u) >> 16;
		switch (r % 6) {
		case 0:
		case 1:
			if (e->f.nreplies >= MAXREC - 16)
				e->f.nreplies = 0;
			alloc(e, names[r % 4], ctls[(r >> 3) % 2], (r & 64) ? 256 : 128, step);
			break;
		case 2:
			if (created < e->f.ncreates) {
				const struct sch_container *c =
				    sch_pool_find_seq(e->p, e->f.creates[created]);
				if (c && c->state == SCH_C_CREATING && !c->after_destroy)
					agent_created(e, created);
				created++;
			}
			break;
		case 3:
			if (destroyed < e->f.ndestroys)
				sch_pool_destroyed(e->p, e->f.destroys[destroyed++]);
			break;
		case 4:
			if (nbusy > 0) {
				nbusy--;
				const struct sch_container *c = sch_pool_find(e->p, busy[nbusy]);
				if (c && c->state == SCH_C_BUSY)
					sch_pool_release(e->p, busy[nbusy], c->desc.owner);
			}
			break;
		case 5:
			e->f.now += r % 700;
			sch_pool_tick(e->p);
			break;
		}
		for (int i = 0; i < e->f.nreplies && nbusy < 64; i++) {
			const struct sch_alloc_result *res = &e->f.replies[i].res;
			if (res->outcome == SCH_OUT_CREATED || res->outcome == SCH_OUT_PREWARM ||
			    res->outcome == SCH_OUT_WARM || res->outcome == SCH_OUT_EVICTED)
				snprintf(busy[nbusy++], HC_ID_LEN + 1, "%s",
					 res->reply.container.id);
		}
		e->f.nreplies = 0;
		if (e->f.ncreates > MAXREC - 16 || e->f.ndestroys > MAXREC - 16)
			break;
		check_accounting(e, hosts, 2);
	}
	env_free(e);
}

static void test_prewarm_parse(void **state)
{
	struct sch_prewarm_target *ts = NULL;
	int n = -1;
	struct hc_err err;

	assert_int_equal(
	    sch_prewarm_parse("nodejs:20:256:2,python:3:128:1,blackbox:64:0", &ts, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(ts[0].kind, "nodejs:20");
	assert_int_equal(ts[0].memory_mb, 256);
	assert_int_equal(ts[0].count, 2);
	assert_string_equal(ts[2].kind, "blackbox");
	assert_int_equal(ts[2].count, 0);
	free(ts);
	assert_int_equal(sch_prewarm_parse("", &ts, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_int_equal(sch_prewarm_parse("nodejs:256", &ts, &n, &err), -1);
	assert_int_equal(sch_prewarm_parse("nodejs:20:x:1", &ts, &n, &err), -1);
	assert_int_equal(sch_prewarm_parse("nodejs:20:256:-1", &ts, &n, &err), -1);
	assert_int_equal(sch_prewarm_parse(":256:1", &ts, &n, &err), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_create_then_warm),
	    cmocka_unit_test(test_warm_other_owner),
	    cmocka_unit_test(test_prewarm),
	    cmocka_unit_test(test_most_free_host),
	    cmocka_unit_test(test_evict_lru),
	    cmocka_unit_test(test_reject),
	    cmocka_unit_test(test_keepalive),
	    cmocka_unit_test(test_prewarm_refill_bounded),
	    cmocka_unit_test(test_no_double_allocation),
	    cmocka_unit_test(test_waiters),
	    cmocka_unit_test(test_create_failed),
	    cmocka_unit_test(test_host_lost),
	    cmocka_unit_test(test_refs),
	    cmocka_unit_test(test_owner_gone),
	    cmocka_unit_test(test_restore),
	    cmocka_unit_test(test_accounting_random),
	    cmocka_unit_test(test_prewarm_parse),
	};
	return cmocka_run_group_tests_name("sched_pool", tests, NULL, NULL);
}
