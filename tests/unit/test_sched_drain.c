/* test_sched_drain.c — a drained host in the scheduler's pool (issue 10):
 * no new container, its stem cells and free containers neither handed out
 * nor kept (destroyed on the next tick), busy ones kept until released;
 * undrained, it gets its stem cells back. Fake clock and fake hosts, as in
 * test_sched_pool.c. */
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

#define MAXREC 64

struct fake {
	uint64_t now;
	uint64_t creates[MAXREC];
	char create_host[MAXREC][PR_OWNER_MAX];
	int ncreates;
	char destroy_host[MAXREC][PR_OWNER_MAX];
	enum sch_cstate destroy_was[MAXREC];
	int ndestroys;
	struct sch_alloc_result last;
	int nreplies;
	int ids;
	struct sch_pool *p;
	struct sch_keepalive_policy *ka;
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
	snprintf(f->destroy_host[f->ndestroys], PR_OWNER_MAX, "%s", c->host->id);
	f->ndestroys++;
}

static void f_reply(void *arg, void *cookie, const struct sch_alloc_result *res)
{
	struct fake *f = arg;
	f->last = *res;
	f->nreplies++;
}

static const struct sch_pool_ops ops = {
    .now_ms = f_now,
    .create = f_create,
    .destroy = f_destroy,
    .reply = f_reply,
};

static struct fake *fake_new(void)
{
	struct fake *f = calloc(1, sizeof(*f));
	struct sch_pool_config cfg;
	struct sch_prewarm_target *ts = NULL;
	int n = 0;

	assert_non_null(f);
	assert_int_equal(sch_prewarm_parse("nodejs:20:256:1", &ts, &n, NULL), 0);
	memset(&cfg, 0, sizeof(cfg));
	cfg.prewarm = ts;
	cfg.nprewarm = n;
	f->ka = sch_keepalive_fixed(600000);
	cfg.keepalive = f->ka;
	cfg.retry_after_ms = 250;
	f->now = 1000000;
	f->p = sch_pool_new(&cfg, &ops, f);
	assert_non_null(f->p);
	free(ts);
	return f;
}

static void fake_free(struct fake *f)
{
	sch_pool_free(f->p);
	f->ka->destroy(f->ka);
	free(f);
}

/* The agent answers create number i. */
static void created(struct fake *f, int i)
{
	struct pr_container d;
	memset(&d, 0, sizeof(d));
	snprintf(d.id, sizeof(d.id), "%032x", ++f->ids);
	snprintf(d.host, sizeof(d.host), "%s", f->create_host[i]);
	d.port = 20000 + f->ids;
	d.state = PR_CS_WARM;
	assert_int_equal(sch_pool_created(f->p, f->creates[i], &d), 0);
}

static int alloc(struct fake *f, const char *name)
{
	struct pr_alloc_req r;
	memset(&r, 0, sizeof(r));
	snprintf(r.ns, sizeof(r.ns), "guest");
	snprintf(r.name, sizeof(r.name), "%s", name);
	snprintf(r.version, sizeof(r.version), "0.0.1");
	snprintf(r.kind, sizeof(r.kind), "nodejs:20");
	snprintf(r.controller, sizeof(r.controller), "ctl-a");
	r.memory_mb = 256;
	r.concurrency = 1;
	r.wait_ms = 5000;
	return sch_pool_allocate(f->p, &r, NULL);
}

static int count_on(struct fake *f, const char *host, enum sch_cstate st)
{
	const struct sch_host *h = sch_pool_host(f->p, host);
	const struct sch_container *c;
	int n = 0;
	TAILQ_FOREACH(c, &h->containers, host_link)
	{
		n += c->state == st;
	}
	return n;
}

static void test_drain(void **state)
{
	struct fake *f = fake_new();
	char busy_id[HC_ID_LEN + 1], free_id[HC_ID_LEN + 1];

	/* h1 has more room, so it is the first choice for everything; h2 has
	 * room for three containers. */
	assert_int_equal(sch_pool_host_set(f->p, "h1", "http://h1:3235", 2048, 0), 0);
	assert_int_equal(sch_pool_host_set(f->p, "h2", "http://h2:3235", 768, 0), 0);
	assert_int_equal(f->ncreates, 2); /* a stem cell each */
	created(f, 0);
	created(f, 1);

	/* Actions take the stem cell of the host with the most free memory
	 * (h1's) until two run on h1; each taken stem cell is refilled on its
	 * host. */
	const char *names[] = {"a", "b", "e", "f"};
	int on_h1 = 0;
	for (int i = 0; i < 4 && on_h1 < 2; i++) {
		assert_int_equal(alloc(f, names[i]), 0);
		assert_int_equal(f->last.outcome, SCH_OUT_PREWARM);
		if (!strcmp(f->last.reply.container.agent, "http://h1:3235"))
			snprintf(on_h1++ ? busy_id : free_id, HC_ID_LEN + 1, "%s",
				 f->last.reply.container.id);
		created(f, f->ncreates - 1);
	}
	assert_int_equal(on_h1, 2);
	/* The first goes idle (free); the second stays busy. */
	assert_int_equal(sch_pool_release(f->p, free_id, "ctl-a"), SCH_REF_OK);
	assert_int_equal(count_on(f, "h1", SCH_C_FREE), 1);
	assert_int_equal(count_on(f, "h1", SCH_C_PREWARM), 1);

	/* Drain h1: nothing of it is handed out, nothing new lands there. */
	int creates = f->ncreates;
	assert_int_equal(sch_pool_host_set(f->p, "h1", "http://h1:3235", 2048, 1), 0);
	assert_int_equal(f->ncreates, creates); /* no refill on a drained host */
	assert_int_equal(alloc(f, "a"), 0);	/* not h1's free "a": h2's stem cell */
	assert_int_equal(f->last.outcome, SCH_OUT_PREWARM);
	assert_string_not_equal(f->last.reply.container.id, free_id);
	assert_string_equal(f->create_host[f->ncreates - 1], "h2"); /* h2's refill */
	created(f, f->ncreates - 1);
	assert_int_equal(alloc(f, "c"), 0); /* h2's new stem cell, not h1's */
	assert_int_equal(f->last.outcome, SCH_OUT_PREWARM);
	for (int i = creates; i < f->ncreates; i++)
		assert_string_equal(f->create_host[i], "h2");
	/* h2 is full now: rejected, although h1 has room (and an idle container
	 * it could evict) */
	creates = f->ncreates;
	assert_int_equal(alloc(f, "d"), 0);
	assert_int_equal(f->last.outcome, SCH_OUT_REJECTED);
	assert_int_equal(f->ncreates, creates);

	/* The next tick removes h1's idle containers; the busy one stays. */
	f->ndestroys = 0;
	f->now += 1000;
	sch_pool_tick(f->p);
	assert_int_equal(f->ndestroys, 2);
	assert_string_equal(f->destroy_host[0], "h1");
	assert_string_equal(f->destroy_host[1], "h1");
	assert_int_equal(count_on(f, "h1", SCH_C_BUSY), 1);
	assert_int_equal(count_on(f, "h1", SCH_C_FREE), 0);
	assert_int_equal(count_on(f, "h1", SCH_C_PREWARM), 0);
	/* Released, the busy one goes too. */
	assert_int_equal(sch_pool_release(f->p, busy_id, "ctl-a"), SCH_REF_OK);
	f->now += 1000;
	sch_pool_tick(f->p);
	assert_int_equal(f->ndestroys, 3);
	assert_int_equal(count_on(f, "h1", SCH_C_FREE), 0);

	/* Undrained: its stem cell comes back. */
	creates = f->ncreates;
	assert_int_equal(sch_pool_host_set(f->p, "h1", "http://h1:3235", 2048, 0), 0);
	assert_int_equal(f->ncreates, creates + 1);
	assert_string_equal(f->create_host[creates], "h1");
	fake_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_drain),
	};
	return cmocka_run_group_tests_name("sched_drain", tests, NULL, NULL);
}
