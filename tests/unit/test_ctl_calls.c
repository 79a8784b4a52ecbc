/* test_ctl_calls.c — the controller's calls never answer from inside the
 * call that started them, and the invoke machinery survives a container
 * call that cannot even start.
 *
 * The second test is the use-after-free of issue 22: a container gives its
 * slot back, takes a queued activation (the drain), whose /run cannot
 * start because the process is out of file descriptors. When that failure
 * was delivered from inside the call, the container was discarded (and
 * freed) while the drain still held it. Real controller modules on a real
 * event loop; no daemon is needed, since nothing is ever sent (the limit
 * on file descriptors sees to that). Run under `make SANITIZE=1` to see a
 * regression as ASan's report. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/json.h"
#include "controller/activation.h"
#include "controller/call.h"
#include "controller/records.h"
#include "proto/runtime.h"

#define CID "0123456789abcdef0123456789abcdef"

struct fixture {
	struct ctl ctl;
	struct hc_loop loop;
	struct ctl_loop L;
};

static void fixture_init(struct fixture *f)
{
	struct hc_redis_opts ro;
	memset(f, 0, sizeof(*f));
	f->loop.base = event_base_new();
	assert_non_null(f->loop.base);
	f->ctl.cfg.id = "test";
	f->ctl.cfg.local_socket = 1;
	f->ctl.cfg.queue_max = 10;
	f->ctl.cfg.blocking_wait_ms = 60000;
	f->ctl.cfg.activation_ttl_ms = 60000;
	f->ctl.ctr_hooks = &ctl_inv_ctr_hooks;
	f->ctl.alloc_hooks = &ctl_inv_alloc_hooks;
	pthread_mutex_init(&f->ctl.leader_mu, NULL);
	f->ctl.actions = ctl_cache_new(8, ctl_action_free);
	f->L.ctl = &f->ctl;
	f->L.loop = &f->loop;
	f->loop.data = &f->L;
	/* a Redis nobody listens on: commands queue or fail, never block */
	assert_int_equal(hc_redis_parse_url("redis://127.0.0.1:1/0", &ro, NULL), 0);
	f->L.redis = hc_redis_new(f->loop.base, &ro);
	assert_non_null(f->L.redis);
	assert_int_equal(ctl_calls_loop_init(&f->L), 0);
	assert_int_equal(ctl_sched_loop_init(&f->L), 0);
	assert_int_equal(ctl_ctrs_loop_init(&f->L), 0);
	assert_int_equal(ctl_inv_loop_init(&f->L), 0);
	assert_int_equal(ctl_records_loop_init(&f->L), 0);
}

static void fixture_fini(struct fixture *f)
{
	f->L.stopping = 1;
	ctl_inv_loop_stop(&f->L);
	ctl_calls_loop_stop(&f->L);
	ctl_sched_loop_stop(&f->L);
	ctl_calls_loop_fini(&f->L);
	hc_redis_free(f->L.redis);
	ctl_sched_loop_fini(&f->L);
	ctl_ctrs_loop_fini(&f->L);
	ctl_records_loop_fini(&f->L);
	ctl_cache_free(f->ctl.actions);
	pthread_mutex_destroy(&f->ctl.leader_mu);
	event_base_free(f->loop.base);
}

/* ---- the contract ---- */

struct seen {
	int calls;
	int not_sent;
	char error[64];
};

static void on_reply(const struct hc_response *r, void *arg)
{
	struct seen *s = arg;
	s->calls++;
	s->not_sent = r->not_sent;
	snprintf(s->error, sizeof(s->error), "%s", r->error ? r->error : "");
}

static void test_refused_call_is_answered_later(void **state)
{
	struct fixture f;
	struct seen s = {0};
	fixture_init(&f);
	/* the lean client takes only http://IPv4 URLs, and libcurl is never
	 * used for a local socket: nobody can start this request */
	struct hc_request rq = {.method = "POST", .url = "http://[::1]:1/run", .unix_name = "@x"};
	ctl_call(&f.L, &rq, on_reply, &s);
	assert_int_equal(s.calls, 0); /* not from inside the call */
	event_base_loop(f.loop.base, EVLOOP_NONBLOCK);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.not_sent, 1);
	assert_string_equal(s.error, "could not start the request");
	event_base_loop(f.loop.base, EVLOOP_NONBLOCK);
	assert_int_equal(s.calls, 1); /* once */
	fixture_fini(&f);
}

static void test_stopping_call_is_answered_later(void **state)
{
	struct fixture f;
	struct seen s = {0};
	fixture_init(&f);
	f.L.stopping = 1;
	ctl_call_json(&f.L, "GET", "http://127.0.0.1:1/x", NULL, 1000, on_reply, &s);
	assert_int_equal(s.calls, 0);
	fixture_fini(&f); /* no loop turn comes: the failure is delivered here */
	assert_int_equal(s.calls, 1);
	assert_string_equal(s.error, "shutting down");
}

/* ---- the drain with a run that cannot start ---- */

static struct ctl_ref action_ref(struct fixture *f)
{
	static const char doc[] =
	    "{\"namespace\":\"guest\",\"name\":\"a\",\"version\":\"0.0.1\",\"rev\":\"r1\","
	    "\"exec\":{\"kind\":\"nodejs:20\",\"digest\":\"\"},\"parameters\":[],"
	    "\"annotations\":[],\"limits\":{\"timeout\":60000,\"memory\":256,\"logs\":10,"
	    "\"concurrency\":1}}";
	struct ctl_action *a = calloc(1, sizeof(*a));
	struct ctl_ref ref;
	assert_non_null(a);
	a->doc = hc_json_parse(doc, strlen(doc), 16, NULL);
	assert_non_null(a->doc);
	struct pr_limit_bounds b;
	pr_limit_bounds_default(&b);
	assert_int_equal(pr_action_info(a->doc, &b, &a->info, NULL), 0);
	a->fqn = "/guest/a";
	assert_int_equal(
	    ctl_cache_put(f->ctl.actions, "guest/a", a, ctl_cache_gen(f->ctl.actions), &ref), 1);
	return ref;
}

struct ended {
	int n;
	int status;
	char error[160];
};

static void on_done(struct ctl_inv *v, cJSON *record, void *arg)
{
	struct ended *e = arg;
	e->n++;
	e->status = record ? pr_activation_status(record) : -1;
	const cJSON *res = record ? pr_activation_response_result(record) : NULL;
	const cJSON *err = cJSON_GetObjectItemCaseSensitive(res, "error");
	snprintf(e->error, sizeof(e->error), "%s", cJSON_IsString(err) ? err->valuestring : "");
	cJSON_Delete(record);
}

/* The lowest descriptor not open now: a limit there makes every socket()
 * fail with EMFILE. */
static rlim_t lowest_free_fd(void)
{
	int fd = dup(0);
	assert_true(fd >= 0);
	close(fd);
	return (rlim_t)fd;
}

static void test_drain_survives_a_run_that_cannot_start(void **state)
{
	struct fixture f;
	struct ended e = {0};
	struct rlimit old;
	fixture_init(&f);
	struct ctl_ref ref = action_ref(&f);
	const struct ctl_action *a = ref.val;

	/* a warm container on this host, reached by its local socket, busy
	 * with one activation (its only slot) */
	struct pr_container d;
	memset(&d, 0, sizeof(d));
	snprintf(d.id, sizeof(d.id), "%s", CID);
	snprintf(d.host, sizeof(d.host), "127.0.0.1");
	d.port = 1;
	snprintf(d.sock, sizeof(d.sock), PR_SOCK_PREFIX "%s", CID);
	char akey[CTL_AKEY_MAX];
	ctl_akey(akey, sizeof(akey), "guest", "a", a->info.revision);
	struct ctl_ctr *c = ctl_pool_add(f.L.pool, &d, akey, 1, CTL_CS_READY);
	assert_non_null(c);
	c->owner_loop = &f.L;
	ctl_ctr_take(&f.L, c);

	/* a second activation waits for it */
	struct ctl_inv *v = ctl_inv_new(&f.L, &ref, NULL, "guest", NULL);
	assert_non_null(v);
	v->done = on_done;
	v->done_arg = &e;
	ctl_inv_dispatch(v);
	assert_int_equal(ctl_inv_queued(&f.L), 1);

	/* no descriptor left: the waiter's /run cannot start */
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	struct rlimit tight = {.rlim_cur = lowest_free_fd(), .rlim_max = old.rlim_max};
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &tight), 0);

	/* the first activation ends: the container takes the waiter */
	ctl_ctr_release(&f.L, c, 0);
	assert_int_equal(ctl_inv_queued(&f.L), 0);
	assert_int_equal(e.n, 0); /* its failure comes on a later turn */
	assert_int_equal(c->inflight, 1);

	/* the refusal: the container is dropped, the activation queued again
	 * (it never reached a container) */
	event_base_loop(f.loop.base, EVLOOP_NONBLOCK);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	assert_null(ctl_pool_find_id(f.L.pool, CID));
	assert_int_equal(e.n, 0);
	assert_int_equal(ctl_inv_queued(&f.L), 1);

	/* stopping ends it with a record */
	fixture_fini(&f);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.status, PR_ST_INTERNAL_ERROR);
	assert_string_equal(e.error, "the controller is shutting down");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_refused_call_is_answered_later),
	    cmocka_unit_test(test_stopping_call_is_answered_later),
	    cmocka_unit_test(test_drain_survives_a_run_that_cannot_start),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
