/* metrics.c — the process-wide Prometheus registry (see metrics.h).
 *
 * Families (one per metric name) keep registration order, and each holds
 * its series in registration order, so /metrics output is stable and every
 * family's lines are contiguous as the text format requires. The mutex only
 * guards registration and rendering; updates are relaxed C11 atomics, so
 * the hot path never takes a lock. */
#include "common/metrics.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum metric_type { M_COUNTER, M_GAUGE, M_HIST };

struct series {
	struct series *next;
	char *labels; /* "" for none */
};

struct hc_counter {
	struct series s;
	_Atomic uint64_t v;
};

struct hc_gauge {
	struct series s;
	_Atomic int64_t v;
	hc_gauge_fn fn; /* when set, the value comes from fn(arg) at render time */
	void *arg;
};

struct hc_hist {
	struct series s;
	double *bounds;
	size_t nbounds;
	_Atomic uint64_t *buckets; /* nbounds + 1: the last one is above every bound */
	_Atomic uint64_t sum_bits; /* a double, updated by compare-and-swap */
};

struct family {
	struct family *next;
	enum metric_type type;
	char *name;
	char *help;
	struct series *first, *last;
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct family *families, *families_last;

static const double default_bounds[] = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
					0.005,	 0.01,	 0.025,	  0.05,	  0.1,	 0.25,
					0.5,	 1,	 2.5,	  5,	  10};

/* [a-zA-Z_:][a-zA-Z0-9_:]* as Prometheus requires. */
static int valid_name(const char *s)
{
	size_t i;

	if (!s || !*s)
		return 0;
	for (i = 0; s[i]; i++) {
		char c = s[i];
		int alpha =
		    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';

		if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
			return 0;
	}
	return 1;
}

/* key="value"[,key="value"]...; values may hold \\ \" \n escapes. A
 * histogram's own labels may not use "le". */
static int valid_labels(const char *s, int is_hist)
{
	const char *p = s;

	while (*p) {
		const char *k = p;

		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_'))
			return 0;
		while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' ||
		       (*p >= '0' && *p <= '9'))
			p++;
		if (is_hist && p - k == 2 && k[0] == 'l' && k[1] == 'e')
			return 0;
		if (*p++ != '=' || *p++ != '"')
			return 0;
		while (*p != '"') {
			if (*p == '\0' || *p == '\n')
				return 0;
			if (*p == '\\') {
				p++;
				if (*p != '\\' && *p != '"' && *p != 'n')
					return 0;
			}
			p++;
		}
		p++;
		if (*p == ',' && p[1] != '\0')
			p++;
		else if (*p != '\0')
			return 0;
	}
	return 1;
}

/* Find or create the family and look for an existing series with these
 * labels. Called with the lock held. Returns the family or NULL (errno). */
static struct family *family_get(const char *name, const char *help, enum metric_type type,
				 const char *labels, struct series **existing)
{
	struct family *f;
	struct series *s;

	*existing = NULL;
	for (f = families; f; f = f->next)
		if (strcmp(f->name, name) == 0)
			break;
	if (f) {
		if (f->type != type) {
			errno = EINVAL;
			return NULL;
		}
		for (s = f->first; s; s = s->next)
			if (strcmp(s->labels, labels) == 0)
				*existing = s;
		return f;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		goto nomem;
	f->type = type;
	f->name = strdup(name);
	f->help = strdup(help ? help : "");
	if (!f->name || !f->help) {
		free(f->name);
		free(f->help);
		free(f);
		goto nomem;
	}
	if (families_last)
		families_last->next = f;
	else
		families = f;
	families_last = f;
	return f;
nomem:
	errno = ENOMEM;
	return NULL;
}

static void family_append(struct family *f, struct series *s)
{
	if (f->last)
		f->last->next = s;
	else
		f->first = s;
	f->last = s;
}

/* Register a series of the given size; init (may be NULL) fills the type's
 * fields and returns -1 on failure. Returns the series, an existing one, or
 * NULL with errno. */
static struct series *series_new(const char *name, const char *labels, const char *help,
				 enum metric_type type, size_t size,
				 int (*init)(struct series *, void *), void *arg)
{
	struct series *s = NULL, *existing;
	struct family *f;

	if (!labels)
		labels = "";
	if (!valid_name(name) || !valid_labels(labels, type == M_HIST)) {
		errno = EINVAL;
		return NULL;
	}
	pthread_mutex_lock(&registry_lock);
	f = family_get(name, help, type, labels, &existing);
	if (!f || existing) {
		s = existing;
		goto out;
	}
	s = calloc(1, size);
	if (!s || !(s->labels = strdup(labels)) || (init && init(s, arg) < 0)) {
		if (s)
			free(s->labels);
		free(s);
		s = NULL;
		errno = ENOMEM;
		goto out;
	}
	family_append(f, s);
out:
	pthread_mutex_unlock(&registry_lock);
	return s;
}

struct hc_counter *hc_counter_new(const char *name, const char *labels, const char *help)
{
	return (struct hc_counter *)series_new(name, labels, help, M_COUNTER,
					       sizeof(struct hc_counter), NULL, NULL);
}

void hc_counter_add(struct hc_counter *c, uint64_t n)
{
	if (c)
		atomic_fetch_add_explicit(&c->v, n, memory_order_relaxed);
}

uint64_t hc_counter_get(const struct hc_counter *c)
{
	return c ? atomic_load_explicit(&c->v, memory_order_relaxed) : 0;
}

struct hc_gauge *hc_gauge_new(const char *name, const char *labels, const char *help)
{
	return (struct hc_gauge *)series_new(name, labels, help, M_GAUGE, sizeof(struct hc_gauge),
					     NULL, NULL);
}

struct gauge_fn_arg {
	hc_gauge_fn fn;
	void *arg;
};

static int gauge_fn_init(struct series *s, void *arg)
{
	struct hc_gauge *g = (struct hc_gauge *)s;
	struct gauge_fn_arg *a = arg;

	g->fn = a->fn;
	g->arg = a->arg;
	return 0;
}

struct hc_gauge *hc_gauge_fn_new(const char *name, const char *labels, const char *help,
				 hc_gauge_fn fn, void *arg)
{
	struct gauge_fn_arg a = {fn, arg};

	if (!fn) {
		errno = EINVAL;
		return NULL;
	}
	return (struct hc_gauge *)series_new(name, labels, help, M_GAUGE, sizeof(struct hc_gauge),
					     gauge_fn_init, &a);
}

void hc_gauge_set(struct hc_gauge *g, int64_t v)
{
	if (g)
		atomic_store_explicit(&g->v, v, memory_order_relaxed);
}

void hc_gauge_add(struct hc_gauge *g, int64_t delta)
{
	if (g)
		atomic_fetch_add_explicit(&g->v, delta, memory_order_relaxed);
}

int64_t hc_gauge_get(const struct hc_gauge *g)
{
	if (!g)
		return 0;
	if (g->fn)
		return (int64_t)g->fn(g->arg);
	return atomic_load_explicit(&g->v, memory_order_relaxed);
}

struct hist_arg {
	const double *bounds;
	size_t nbounds;
};

static int hist_init(struct series *s, void *arg)
{
	struct hc_hist *h = (struct hc_hist *)s;
	struct hist_arg *a = arg;
	size_t i;

	h->bounds = malloc((a->nbounds ? a->nbounds : 1) * sizeof(double));
	h->buckets = calloc(a->nbounds + 1, sizeof(*h->buckets));
	if (!h->bounds || !h->buckets) {
		free(h->bounds);
		free((void *)h->buckets);
		return -1;
	}
	for (i = 0; i < a->nbounds; i++)
		h->bounds[i] = a->bounds[i];
	h->nbounds = a->nbounds;
	return 0;
}

struct hc_hist *hc_hist_new(const char *name, const char *labels, const char *help,
			    const double *bounds, size_t nbounds)
{
	struct hist_arg a = {bounds, nbounds};
	size_t i;

	if (!bounds) {
		a.bounds = default_bounds;
		a.nbounds = sizeof(default_bounds) / sizeof(default_bounds[0]);
	}
	for (i = 0; i < a.nbounds; i++) {
		if (!isfinite(a.bounds[i]) || (i > 0 && a.bounds[i] <= a.bounds[i - 1])) {
			errno = EINVAL;
			return NULL;
		}
	}
	return (struct hc_hist *)series_new(name, labels, help, M_HIST, sizeof(struct hc_hist),
					    hist_init, &a);
}

void hc_hist_observe(struct hc_hist *h, double v)
{
	size_t lo = 0, hi;
	uint64_t old, new;
	double d;

	if (!h || isnan(v))
		return;
	/* First bound >= v; the extra bucket past the end counts the rest. */
	hi = h->nbounds;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v <= h->bounds[mid])
			hi = mid;
		else
			lo = mid + 1;
	}
	atomic_fetch_add_explicit(&h->buckets[lo], 1, memory_order_relaxed);
	old = atomic_load_explicit(&h->sum_bits, memory_order_relaxed);
	do {
		memcpy(&d, &old, sizeof(d));
		d += v;
		memcpy(&new, &d, sizeof(new));
	} while (!atomic_compare_exchange_weak_explicit(
	    &h->sum_bits, &old, new, memory_order_relaxed, memory_order_relaxed));
}

/* Shortest text that reads back as the same double ("0.005", "1e-05"). */
static void format_double(char *out, size_t n, double v)
{
	int prec;

	if (isnan(v)) {
		snprintf(out, n, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(out, n, "%s", v > 0 ? "+Inf" : "-Inf");
		return;
	}
	/* Whole numbers in full ("10", not %g's "1e+01"). */
	if (v == floor(v) && fabs(v) < 1e15) {
		snprintf(out, n, "%.0f", v);
		return;
	}
	for (prec = 1; prec < 17; prec++) {
		snprintf(out, n, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			return;
	}
	snprintf(out, n, "%.17g", v);
}

static int render_help(struct hc_buf *out, const struct family *f)
{
	static const char *const types[] = {"counter", "gauge", "histogram"};
	const char *p;

	if (hc_buf_addf(out, "# HELP %s ", f->name) < 0)
		return -1;
	for (p = f->help; *p; p++) {
		int r;

		if (*p == '\\')
			r = hc_buf_adds(out, "\\\\");
		else if (*p == '\n')
			r = hc_buf_adds(out, "\\n");
		else
			r = hc_buf_addc(out, *p);
		if (r < 0)
			return -1;
	}
	return hc_buf_addf(out, "\n# TYPE %s %s\n", f->name, types[f->type]);
}

/* name{labels} or name, with an optional suffix and extra label. */
static int render_key(struct hc_buf *out, const char *name, const char *suffix, const char *labels,
		      const char *le)
{
	if (hc_buf_addf(out, "%s%s", name, suffix) < 0)
		return -1;
	if (!*labels && !le)
		return hc_buf_addc(out, ' ');
	return hc_buf_addf(out, "{%s%s%s%s%s} ", labels, *labels && le ? "," : "",
			   le ? "le=\"" : "", le ? le : "", le ? "\"" : "");
}

static int render_hist(struct hc_buf *out, const struct family *f, const struct hc_hist *h)
{
	char num[64];
	uint64_t cum = 0, bits;
	double sum;
	size_t i;

	for (i = 0; i <= h->nbounds; i++) {
		cum += atomic_load_explicit(&h->buckets[i], memory_order_relaxed);
		if (i < h->nbounds)
			format_double(num, sizeof(num), h->bounds[i]);
		else
			snprintf(num, sizeof(num), "+Inf");
		if (render_key(out, f->name, "_bucket", h->s.labels, num) < 0 ||
		    hc_buf_addf(out, "%llu\n", (unsigned long long)cum) < 0)
			return -1;
	}
	bits = atomic_load_explicit(&h->sum_bits, memory_order_relaxed);
	memcpy(&sum, &bits, sizeof(sum));
	format_double(num, sizeof(num), sum);
	if (render_key(out, f->name, "_sum", h->s.labels, NULL) < 0 ||
	    hc_buf_addf(out, "%s\n", num) < 0)
		return -1;
	/* The count is the +Inf bucket, so the two always agree. */
	if (render_key(out, f->name, "_count", h->s.labels, NULL) < 0 ||
	    hc_buf_addf(out, "%llu\n", (unsigned long long)cum) < 0)
		return -1;
	return 0;
}

static int render_series(struct hc_buf *out, const struct family *f, const struct series *s)
{
	const struct hc_gauge *g;
	char num[64];

	switch (f->type) {
	case M_COUNTER:
		return render_key(out, f->name, "", s->labels, NULL) < 0
			   ? -1
			   : hc_buf_addf(
				 out, "%llu\n",
				 (unsigned long long)hc_counter_get((const struct hc_counter *)s));
	case M_GAUGE:
		g = (const struct hc_gauge *)s;
		if (render_key(out, f->name, "", s->labels, NULL) < 0)
			return -1;
		if (!g->fn)
			return hc_buf_addf(out, "%lld\n", (long long)hc_gauge_get(g));
		format_double(num, sizeof(num), g->fn(g->arg));
		return hc_buf_addf(out, "%s\n", num);
	case M_HIST:
		return render_hist(out, f, (const struct hc_hist *)s);
	}
	return -1;
}

int hc_metrics_render(struct hc_buf *out)
{
	const struct family *f;
	const struct series *s;
	int rc = 0;

	pthread_mutex_lock(&registry_lock);
	for (f = families; f && rc == 0; f = f->next) {
		if (!f->first)
			continue;
		rc = render_help(out, f);
		for (s = f->first; s && rc == 0; s = s->next)
			rc = render_series(out, f, s);
	}
	pthread_mutex_unlock(&registry_lock);
	return rc;
}

void hc_metrics_free_all(void)
{
	struct family *f, *fn;
	struct series *s, *sn;

	pthread_mutex_lock(&registry_lock);
	for (f = families; f; f = fn) {
		fn = f->next;
		for (s = f->first; s; s = sn) {
			sn = s->next;
			if (f->type == M_HIST) {
				free(((struct hc_hist *)s)->bounds);
				free((void *)((struct hc_hist *)s)->buckets);
			}
			free(s->labels);
			free(s);
		}
		free(f->name);
		free(f->help);
		free(f);
	}
	families = families_last = NULL;
	pthread_mutex_unlock(&registry_lock);
}
