/* test_metrics.c — registry, updates and the exact exposition text. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "common/metrics.h"

/* Every test starts from an empty registry. */
static int reset(void **state)
{
	hc_metrics_free_all();
	return 0;
}

static void render_equal(const char *expect)
{
	struct hc_buf b;

	hc_buf_init(&b, 1 << 20);
	assert_int_equal(hc_metrics_render(&b), 0);
	assert_string_equal(hc_buf_str(&b), expect);
	hc_buf_free(&b);
}

static void test_counter(void **state)
{
	struct hc_counter *c = hc_counter_new("hearth_invokes_total", NULL, "Invocations.");

	assert_non_null(c);
	hc_counter_inc(c);
	hc_counter_add(c, 41);
	assert_int_equal(hc_counter_get(c), 42);
	render_equal("# HELP hearth_invokes_total Invocations.\n"
		     "# TYPE hearth_invokes_total counter\n"
		     "hearth_invokes_total 42\n");
}

static void test_labelled_series_grouped(void **state)
{
	struct hc_counter *ok = hc_counter_new("req_total", "status=\"success\"", "Requests.");
	struct hc_gauge *g = hc_gauge_new("pool_size", "kind=\"nodejs:20\",mem=\"256\"", "Pool.");
	struct hc_counter *err = hc_counter_new("req_total", "status=\"error\"", "ignored");

	assert_non_null(ok);
	assert_non_null(g);
	assert_non_null(err);
	/* same name + labels -> the same series */
	assert_ptr_equal(hc_counter_new("req_total", "status=\"error\"", NULL), err);
	hc_counter_add(ok, 3);
	hc_counter_inc(err);
	hc_gauge_set(g, 10);
	hc_gauge_add(g, -13);
	assert_int_equal(hc_gauge_get(g), -3);
	render_equal("# HELP req_total Requests.\n"
		     "# TYPE req_total counter\n"
		     "req_total{status=\"success\"} 3\n"
		     "req_total{status=\"error\"} 1\n"
		     "# HELP pool_size Pool.\n"
		     "# TYPE pool_size gauge\n"
		     "pool_size{kind=\"nodejs:20\",mem=\"256\"} -3\n");
}

static double half(void *arg)
{
	return *(double *)arg / 2;
}

static void test_gauge_fn(void **state)
{
	double v = 5;
	struct hc_gauge *g = hc_gauge_fn_new("queue_len", "", "Queue\\length\nnow.", half, &v);

	assert_non_null(g);
	assert_int_equal(hc_gauge_get(g), 2);
	render_equal("# HELP queue_len Queue\\\\length\\nnow.\n"
		     "# TYPE queue_len gauge\n"
		     "queue_len 2.5\n");
	v = 8;
	render_equal("# HELP queue_len Queue\\\\length\\nnow.\n"
		     "# TYPE queue_len gauge\n"
		     "queue_len 4\n");
	assert_null(hc_gauge_fn_new("queue_len2", NULL, "", NULL, NULL));
}

static void test_histogram(void **state)
{
	static const double bounds[] = {0.005, 0.1, 1};
	struct hc_hist *h = hc_hist_new("lat_seconds", "route=\"invoke\"", "Latency.", bounds, 3);

	assert_non_null(h);
	hc_hist_observe(h, 0.001);
	hc_hist_observe(h, 0.005); /* le is inclusive */
	hc_hist_observe(h, 0.05);
	hc_hist_observe(h, 2);
	hc_hist_observe(h, 0.0 / 0.0); /* NaN is dropped */
	render_equal("# HELP lat_seconds Latency.\n"
		     "# TYPE lat_seconds histogram\n"
		     "lat_seconds_bucket{route=\"invoke\",le=\"0.005\"} 2\n"
		     "lat_seconds_bucket{route=\"invoke\",le=\"0.1\"} 3\n"
		     "lat_seconds_bucket{route=\"invoke\",le=\"1\"} 3\n"
		     "lat_seconds_bucket{route=\"invoke\",le=\"+Inf\"} 4\n"
		     "lat_seconds_sum{route=\"invoke\"} 2.056\n"
		     "lat_seconds_count{route=\"invoke\"} 4\n");
}

static void test_histogram_default_buckets(void **state)
{
	struct hc_hist *h = hc_hist_new("d_seconds", NULL, "D.", NULL, 0);
	struct hc_buf b;
	const char *s;

	assert_non_null(h);
	hc_hist_observe(h, 0.00003);
	hc_hist_observe(h, 20);
	hc_buf_init(&b, 1 << 16);
	assert_int_equal(hc_metrics_render(&b), 0);
	s = hc_buf_str(&b);
	assert_non_null(strstr(s, "d_seconds_bucket{le=\"5e-05\"} 1\n"));
	assert_non_null(strstr(s, "d_seconds_bucket{le=\"0.00025\"} 1\n"));
	assert_non_null(strstr(s, "d_seconds_bucket{le=\"10\"} 1\n"));
	assert_non_null(strstr(s, "d_seconds_bucket{le=\"+Inf\"} 2\n"));
	assert_non_null(strstr(s, "d_seconds_sum 20.00003\n"));
	assert_non_null(strstr(s, "d_seconds_count 2\n"));
	hc_buf_free(&b);
}

static void test_invalid(void **state)
{
	static const double desc[] = {1, 0.5};

	errno = 0;
	assert_null(hc_counter_new("1bad", NULL, ""));
	assert_int_equal(errno, EINVAL);
	assert_null(hc_counter_new("bad-name", NULL, ""));
	assert_null(hc_counter_new("", NULL, ""));
	assert_null(hc_counter_new("ok", "noquotes=1", ""));
	assert_null(hc_counter_new("ok", "a=\"1\",", ""));
	assert_null(hc_counter_new("ok", "a=\"unterminated", ""));
	assert_null(hc_counter_new("ok", "a=\"bad\\x\"", ""));
	assert_null(hc_hist_new("h", "le=\"1\"", "", NULL, 0));
	assert_null(hc_hist_new("h", NULL, "", desc, 2));
	assert_non_null(hc_counter_new("ok", "a=\"esc\\\"aped\",b_2=\"\"", ""));
	/* one name, one type */
	assert_non_null(hc_gauge_new("taken", NULL, ""));
	errno = 0;
	assert_null(hc_counter_new("taken", "x=\"1\"", ""));
	assert_int_equal(errno, EINVAL);
	/* NULL series are ignored by updates */
	hc_counter_inc(NULL);
	hc_gauge_set(NULL, 1);
	hc_hist_observe(NULL, 1);
	assert_int_equal(hc_counter_get(NULL), 0);
}

static void test_render_full_buffer(void **state)
{
	struct hc_buf b;

	assert_non_null(hc_counter_new("a_long_metric_name_total", NULL, "Some help text."));
	hc_buf_init(&b, 20);
	assert_int_equal(hc_metrics_render(&b), -1);
	hc_buf_free(&b);
}

static void *hammer(void *arg)
{
	struct hc_hist *h = hc_hist_new("conc_seconds", NULL, "C.", NULL, 0);
	struct hc_counter *c = hc_counter_new("conc_total", NULL, "C.");
	int i;

	for (i = 0; i < 10000; i++) {
		hc_counter_inc(c);
		hc_hist_observe(h, 0.5);
	}
	return NULL;
}

static void test_concurrent_updates(void **state)
{
	pthread_t t[4];
	int i;

	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hammer, NULL), 0);
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	render_equal("# HELP conc_seconds C.\n# TYPE conc_seconds histogram\n"
		     "conc_seconds_bucket{le=\"5e-05\"} 0\n"
		     "conc_seconds_bucket{le=\"0.0001\"} 0\n"
		     "conc_seconds_bucket{le=\"0.00025\"} 0\n"
		     "conc_seconds_bucket{le=\"0.0005\"} 0\n"
		     "conc_seconds_bucket{le=\"0.001\"} 0\n"
		     "conc_seconds_bucket{le=\"0.0025\"} 0\n"
		     "conc_seconds_bucket{le=\"0.005\"} 0\n"
		     "conc_seconds_bucket{le=\"0.01\"} 0\n"
		     "conc_seconds_bucket{le=\"0.025\"} 0\n"
		     "conc_seconds_bucket{le=\"0.05\"} 0\n"
		     "conc_seconds_bucket{le=\"0.1\"} 0\n"
		     "conc_seconds_bucket{le=\"0.25\"} 0\n"
		     "conc_seconds_bucket{le=\"0.5\"} 40000\n"
		     "conc_seconds_bucket{le=\"1\"} 40000\n"
		     "conc_seconds_bucket{le=\"2.5\"} 40000\n"
		     "conc_seconds_bucket{le=\"5\"} 40000\n"
		     "conc_seconds_bucket{le=\"10\"} 40000\n"
		     "conc_seconds_bucket{le=\"+Inf\"} 40000\n"
		     "conc_seconds_sum 20000\n"
		     "conc_seconds_count 40000\n"
		     "# HELP conc_total C.\n# TYPE conc_total counter\n"
		     "conc_total 40000\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_counter, reset, reset),
	    cmocka_unit_test_setup_teardown(test_labelled_series_grouped, reset, reset),
	    cmocka_unit_test_setup_teardown(test_gauge_fn, reset, reset),
	    cmocka_unit_test_setup_teardown(test_histogram, reset, reset),
	    cmocka_unit_test_setup_teardown(test_histogram_default_buckets, reset, reset),
	    cmocka_unit_test_setup_teardown(test_invalid, reset, reset),
	    cmocka_unit_test_setup_teardown(test_render_full_buffer, reset, reset),
	    cmocka_unit_test_setup_teardown(test_concurrent_updates, reset, reset),
	};
	return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
