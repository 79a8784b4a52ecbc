/* limits_check.c — what the namespace limits cost a warm invoke: the time
 * of ctl_limits_check_invoke + ctl_limits_release (controller/limits.h)
 * once the loop holds the namespace's counters, which is every invoke but
 * a namespace's first on a loop. Redis is not needed: the counters are
 * loaded (on the defaults) when the first sync fails, and the once-a-second
 * sync is outside what is timed here.
 *
 *   build/bench/limits_check [ITERATIONS] [NAMESPACES]   (defaults 10000000, 1)
 *
 * Prints nanoseconds per check and release, the median of 5 runs. */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/redis.h"
#include "controller/ctl.h"
#include "controller/limits.h"

struct res {
	int done, status;
	struct ctl_nslim *held;
};

static void on_check(int status, const char *msg, struct ctl_nslim *held, void *arg)
{
	struct res *r = arg;
	r->done++;
	r->status = status;
	r->held = held;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	long iters = argc > 1 ? atol(argv[1]) : 10000000;
	int nns = argc > 2 ? atoi(argv[2]) : 1;
	struct event_base *base = event_base_new();
	struct ctl c;
	struct hc_loop hl;
	struct ctl_loop L;
	struct hc_redis_opts ro;
	struct hc_err err;
	memset(&c, 0, sizeof(c));
	memset(&hl, 0, sizeof(hl));
	memset(&L, 0, sizeof(L));
	c.cfg.id = "bench";
	c.cfg.ns_invokes_per_minute = 1LL << 53;
	c.cfg.ns_concurrent = 1LL << 53;
	c.cfg.ns_fires_per_minute = 1LL << 53;
	hl.base = base;
	L.ctl = &c;
	L.loop = &hl;
	/* a port nothing listens on: every sync fails, the counters load on
	 * the defaults */
	if (hc_redis_parse_url("redis://127.0.0.1:1/0", &ro, &err) < 0 ||
	    !(L.redis = hc_redis_new(base, &ro)) || ctl_limits_loop_init(&L) < 0) {
		fprintf(stderr, "limits_check: setup failed\n");
		return 1;
	}
	char(*names)[32] = calloc((size_t)nns, sizeof(*names));
	if (!names) {
		fprintf(stderr, "limits_check: out of memory\n");
		return 1;
	}
	for (int i = 0; i < nns; i++) {
		struct res r = {0};
		snprintf(names[i], sizeof(names[i]), "ns%d", i);
		ctl_limits_check_invoke(&L, names[i], on_check, &r);
		for (int t = 0; t < 500 && !r.done; t++)
			event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		if (!r.done || r.status) {
			fprintf(stderr, "limits_check: the first check did not come back\n");
			free(names);
			return 1;
		}
		ctl_limits_release(r.held);
	}
	uint64_t ns_per[5];
	for (int run = 0; run < 5; run++) {
		struct res r = {0};
		uint64_t t0 = hc_mono_us();
		for (long i = 0; i < iters; i++) {
			ctl_limits_check_invoke(&L, names[i % nns], on_check, &r);
			ctl_limits_release(r.held);
		}
		uint64_t us = hc_mono_us() - t0;
		ns_per[run] = us * 1000 / (uint64_t)iters;
		if (r.done != iters || r.status) {
			fprintf(stderr, "limits_check: checks refused or not answered at once\n");
			free(names);
			return 1;
		}
	}
	qsort(ns_per, 5, sizeof(ns_per[0]), cmp_u64);
	printf("check+release: %llu ns (median of 5 runs of %ld, %d namespaces; runs %llu..%llu)\n",
	       (unsigned long long)ns_per[2], iters, nns, (unsigned long long)ns_per[0],
	       (unsigned long long)ns_per[4]);
	L.stopping = 1;
	hc_redis_free(L.redis);
	event_base_loop(base, EVLOOP_NONBLOCK);
	ctl_limits_loop_fini(&L);
	free(names);
	event_base_free(base);
	return 0;
}
