/* metrics.h — Prometheus counters, gauges and histograms.
 *
 * One process-wide registry. Register series at start-up (not on the hot
 * path); update them from any thread (lock-free atomics). A series is one
 * name plus one fixed label set, e.g. name "hearth_invokes_total" with
 * labels "status=\"success\"". Series with the same name share HELP/TYPE.
 * Render with hc_metrics_render() for GET /metrics (text format 0.0.4). */
#ifndef HC_METRICS_H
#define HC_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

struct hc_counter;
struct hc_gauge;
struct hc_hist;

/* labels may be NULL or "" for none; otherwise `key="value",key2="v"`
 * (values may use \\ \" \n escapes). Registering the same name+labels twice
 * returns the same series. Returns NULL with errno ENOMEM, or EINVAL for an
 * invalid metric name or label set, a name already registered with another
 * type, or (histograms) bounds not strictly ascending or a label named "le".
 * Every update and getter accepts NULL and does nothing (returns 0). */
struct hc_counter *hc_counter_new(const char *name, const char *labels, const char *help);
void hc_counter_add(struct hc_counter *c, uint64_t n);
#define hc_counter_inc(c) hc_counter_add((c), 1)

struct hc_gauge *hc_gauge_new(const char *name, const char *labels, const char *help);
void hc_gauge_set(struct hc_gauge *g, int64_t v);
void hc_gauge_add(struct hc_gauge *g, int64_t delta);
int64_t hc_gauge_get(const struct hc_gauge *g);

/* A gauge whose value is computed when rendered (pool sizes, queue lengths).
 * fn runs on the thread that renders /metrics. */
typedef double (*hc_gauge_fn)(void *arg);
struct hc_gauge *hc_gauge_fn_new(const char *name, const char *labels, const char *help,
				 hc_gauge_fn fn, void *arg);

/* Histogram with the given upper bounds (ascending, in the metric's unit,
 * seconds by convention); NULL bounds = a default latency scale from 50 us to
 * 10 s. */
struct hc_hist *hc_hist_new(const char *name, const char *labels, const char *help,
			    const double *bounds, size_t nbounds);
void hc_hist_observe(struct hc_hist *h, double v);

/* Append every series in text exposition format. Returns 0 or -1 (buffer full). */
int hc_metrics_render(struct hc_buf *out);

/* Read a counter's current value (tests, status pages). */
uint64_t hc_counter_get(const struct hc_counter *c);

/* Free every series (at exit, so leak checkers stay quiet). */
void hc_metrics_free_all(void);

#endif
