/* test_ctl_pool.c — the controller's local container list, overflow
 * queues and the shared snapshot cache. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/cache.h"
#include "controller/pool.h"

static struct pr_container ctr(const char *id)
{
	struct pr_container d;
	memset(&d, 0, sizeof(d));
	snprintf(d.id, sizeof(d.id), "%s", id);
	return d;
}

#define ID1 "00000000000000000000000000000001"
#define ID2 "00000000000000000000000000000002"
#define ID3 "00000000000000000000000000000003"

static void test_pick(void **state)
{
	struct ctl_pool p = {0};
	char ak[CTL_AKEY_MAX], other[CTL_AKEY_MAX];
	ctl_akey(ak, sizeof(ak), "guest", "a", "0.0.1");
	ctl_akey(other, sizeof(other), "guest", "a", "0.0.2");
	assert_string_equal(ak, "guest/a@0.0.1");
	assert_null(ctl_pool_pick(&p, ak));

	struct pr_container d1 = ctr(ID1), d2 = ctr(ID2), d3 = ctr(ID3);
	struct ctl_ctr *c1 = ctl_pool_add(&p, &d1, ak, 2, CTL_CS_SUSPENDED);
	struct ctl_ctr *c2 = ctl_pool_add(&p, &d2, ak, 2, CTL_CS_READY);
	struct ctl_ctr *c3 = ctl_pool_add(&p, &d3, other, 2, CTL_CS_READY);
	assert_int_equal(p.nctrs, 3);
	assert_int_equal(ctl_pool_total_containers() >= 3, 1);
	/* a ready one with a free slot beats a suspended one */
	assert_ptr_equal(ctl_pool_pick(&p, ak), c2);
	c2->inflight = 1;
	assert_ptr_equal(ctl_pool_pick(&p, ak), c2); /* still a slot */
	c2->inflight = 2;
	assert_ptr_equal(ctl_pool_pick(&p, ak), c1); /* full: resume the suspended one */
	c1->st = CTL_CS_RESUMING;
	c1->inflight = 1;
	assert_null(ctl_pool_pick(&p, ak));
	assert_int_equal(ctl_pool_coming(&p, ak), 1); /* one slot left on the resuming one */
	/* a different revision never matches */
	assert_ptr_equal(ctl_pool_pick(&p, other), c3);
	assert_ptr_equal(ctl_pool_find_id(&p, ID3), c3);
	ctl_pool_remove(&p, c3);
	assert_null(ctl_pool_find_id(&p, ID3));
	assert_int_equal(p.nctrs, 2);

	/* the busiest ready container with room is preferred (others can idle) */
	c1->st = CTL_CS_READY;
	c1->inflight = 0;
	c2->inflight = 1;
	assert_ptr_equal(ctl_pool_pick(&p, ak), c2);
	ctl_pool_clear(&p);
	assert_int_equal(p.nctrs, 0);
}

static void test_queue(void **state)
{
	struct ctl_pool p = {0};
	struct ctl_waiter w[4];
	const char *ak = "guest/a@0.0.1", *bk = "guest/b@0.0.1";
	assert_null(ctl_queue_pop(&p, ak));
	assert_int_equal(ctl_queue_push(&p, ak, &w[0], 3), 0);
	assert_int_equal(ctl_queue_push(&p, ak, &w[1], 3), 0);
	assert_int_equal(ctl_queue_push(&p, ak, &w[2], 3), 0);
	assert_int_equal(ctl_queue_push(&p, ak, &w[3], 3), -1); /* bounded */
	assert_int_equal(ctl_queue_push(&p, bk, &w[3], 3), 0);	/* per action */
	assert_int_equal(ctl_queue_len(&p, ak), 3);
	assert_int_equal(p.nqueued, 4);
	/* remove from the middle, then FIFO order */
	assert_int_equal(ctl_queue_remove(&p, ak, &w[1]), 1);
	assert_int_equal(ctl_queue_remove(&p, ak, &w[1]), 0);
	assert_ptr_equal(ctl_queue_pop(&p, ak), &w[0]);
	assert_ptr_equal(ctl_queue_pop(&p, ak), &w[2]);
	assert_null(ctl_queue_pop(&p, ak));
	/* tail is right after emptying */
	assert_int_equal(ctl_queue_push(&p, ak, &w[0], 3), 0);
	assert_ptr_equal(ctl_queue_pop(&p, ak), &w[0]);
	struct ctl_queue *q = ctl_queue_get(&p, ak, 0);
	assert_non_null(q);
	q->allocating = 1;
	ctl_queue_gc(&p);
	assert_non_null(ctl_queue_get(&p, ak, 0)); /* an allocation is in flight */
	q->allocating = 0;
	ctl_queue_gc(&p);
	assert_null(ctl_queue_get(&p, ak, 0));
	assert_int_equal(ctl_queue_len(&p, bk), 1);
	ctl_pool_clear(&p);
	assert_int_equal(p.nqueued, 0);
}

static int freed;
static void count_free(void *v)
{
	freed++;
	free(v);
}

static void test_cache(void **state)
{
	struct ctl_cache *c = ctl_cache_new(2, count_free);
	struct ctl_ref r1, r2;
	freed = 0;
	assert_int_equal(ctl_cache_get(c, "a", &r1), 0);
	uint64_t g = ctl_cache_gen(c);
	assert_int_equal(ctl_cache_put(c, "a", strdup("A1"), g, NULL), 1);
	assert_int_equal(ctl_cache_get(c, "a", &r1), 1);
	assert_string_equal(r1.val, "A1");
	/* an update publishes a new snapshot; the old reader keeps its own */
	assert_int_equal(ctl_cache_put(c, "a", strdup("A2"), ctl_cache_gen(c), NULL), 1);
	assert_int_equal(freed, 0);
	assert_string_equal(r1.val, "A1");
	ctl_cache_get(c, "a", &r2);
	assert_string_equal(r2.val, "A2");
	ctl_cache_release(&r1);
	assert_int_equal(freed, 1);
	ctl_cache_release(&r2);
	/* a load that raced with an invalidation is refused but still usable */
	g = ctl_cache_gen(c);
	ctl_cache_drop(c, "a");
	assert_int_equal(freed, 2);
	struct ctl_ref r3;
	assert_int_equal(ctl_cache_put(c, "a", strdup("stale"), g, &r3), 0);
	assert_string_equal(r3.val, "stale");
	assert_int_equal(ctl_cache_get(c, "a", &r1), 0);
	ctl_cache_release(&r3);
	assert_int_equal(freed, 3);
	/* the size bound drops the oldest */
	ctl_cache_put(c, "x", strdup("X"), ctl_cache_gen(c), NULL);
	ctl_cache_put(c, "y", strdup("Y"), ctl_cache_gen(c), NULL);
	ctl_cache_put(c, "z", strdup("Z"), ctl_cache_gen(c), NULL);
	assert_int_equal(ctl_cache_size(c), 2);
	assert_int_equal(ctl_cache_get(c, "x", &r1), 0);
	ctl_cache_drop(c, NULL);
	assert_int_equal(ctl_cache_size(c), 0);
	ctl_cache_free(c);
	assert_int_equal(freed, 6);
}

struct hammer {
	struct ctl_cache *c;
	int iters;
};

static void *reader(void *arg)
{
	struct hammer *h = arg;
	for (int i = 0; i < h->iters; i++) {
		struct ctl_ref r;
		if (ctl_cache_get(h->c, "k", &r)) {
			if (strncmp(r.val, "v", 1) != 0)
				abort();
			ctl_cache_release(&r);
		}
	}
	return NULL;
}

static void test_cache_threads(void **state)
{
	/* readers and a writer at once: every reference stays valid (ASan) */
	struct hammer h = {ctl_cache_new(10, free), 20000};
	pthread_t t[3];
	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, reader, &h);
	for (int i = 0; i < 5000; i++) {
		char v[16];
		snprintf(v, sizeof(v), "v%d", i);
		ctl_cache_put(h.c, "k", strdup(v), ctl_cache_gen(h.c), NULL);
		if (i % 7 == 0)
			ctl_cache_drop(h.c, "k");
	}
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	ctl_cache_free(h.c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pick),
	    cmocka_unit_test(test_queue),
	    cmocka_unit_test(test_cache),
	    cmocka_unit_test(test_cache_threads),
	};
	return cmocka_run_group_tests_name("ctl_pool", tests, NULL, NULL);
}
