/* agent_bench.c — measures a running hearth-agent (issue 5's bar).
 *
 *   agent_bench URL TOKEN RUNC_ROOT [ITER]
 *
 * 1. create-to-ready (POST /containers until its 201, which the agent sends
 *    only once the runtime answers /healthz) for nodejs:20 and blackbox;
 * 2. suspend and resume, each timed from the HTTP call's start to its reply
 *    on a kept-alive connection;
 * 3. creates per second with 16 in flight (libcurl multi);
 * 4. the baseline in the same run: `runc pause` / `runc resume` of the same
 *    container (fork + exec + wait), when RUNC_ROOT is not "-".
 * Prints one line per measurement: name, n, p50, p95, p99 (ms). */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_INFLIGHT 16

static const char *base, *token, *runc_root;
static char auth[256];

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

struct buf {
	char data[8192];
	size_t len;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;
	size_t k = size * n;
	if (b->len + k >= sizeof(b->data))
		k = sizeof(b->data) - 1 - b->len;
	memcpy(b->data + b->len, p, k);
	b->len += k;
	b->data[b->len] = '\0';
	return size * n;
}

static CURL *easy(const char *method, const char *path, const char *body, struct buf *b,
		  struct curl_slist *hdrs)
{
	static char url[512];
	CURL *e = curl_easy_init();

	snprintf(url, sizeof(url), "%s%s", base, path);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 60000L);
	if (body) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	return e;
}

static struct curl_slist *headers(void)
{
	struct curl_slist *h = NULL;
	h = curl_slist_append(h, auth);
	h = curl_slist_append(h, "Expect:");
	h = curl_slist_append(h, "Content-Type: application/json");
	return h;
}

/* One call on a reused handle (keep-alive); returns the status. */
static long call(CURL *e, const char *method, const char *path, const char *body, struct buf *b)
{
	char url[512];
	long st = 0;

	snprintf(url, sizeof(url), "%s%s", base, path);
	b->len = 0;
	b->data[0] = '\0';
	curl_easy_setopt(e, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	if (body) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	} else {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, NULL);
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	}
	if (curl_easy_perform(e) != CURLE_OK)
		return 0;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &st);
	return st;
}

static int id_of(const char *json, char *out)
{
	cJSON *j = cJSON_Parse(json);
	cJSON *id = j ? cJSON_GetObjectItem(j, "id") : NULL;
	int ok = cJSON_IsString(id) && strlen(id->valuestring) < 40;
	if (ok)
		strcpy(out, id->valuestring);
	cJSON_Delete(j);
	return ok ? 0 : -1;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(double *v, int n, double p)
{
	int i = (int)(p * (n - 1) + 0.5);
	return v[i];
}

static void report(const char *name, double *v, int n)
{
	if (n == 0) {
		printf("%-34s n=0\n", name);
		return;
	}
	qsort(v, (size_t)n, sizeof(*v), cmp);
	printf("%-34s n=%-4d p50=%8.3f ms  p95=%8.3f ms  p99=%8.3f ms  max=%8.3f ms\n", name, n,
	       pct(v, n, 0.5), pct(v, n, 0.95), pct(v, n, 0.99), v[n - 1]);
	fflush(stdout);
}

static void destroy(CURL *e, const char *id)
{
	char path[128];
	struct buf b;
	snprintf(path, sizeof(path), "/containers/%s", id);
	if (call(e, "DELETE", path, NULL, &b) != 204)
		fprintf(stderr, "delete %s failed\n", id);
}

static void bench_create(CURL *e, const char *kind, int iter)
{
	double *v = calloc((size_t)iter, sizeof(double));
	char body[128], id[64], name[64];
	struct buf b;
	int n = 0;

	snprintf(body, sizeof(body), "{\"kind\":\"%s\",\"memory\":128}", kind);
	for (int i = 0; i < iter; i++) {
		double t0 = now_ms();
		long st = call(e, "POST", "/containers", body, &b);
		double t = now_ms() - t0;
		if (st != 201 || id_of(b.data, id) < 0) {
			fprintf(stderr, "create %s: %ld %s\n", kind, st, b.data);
			continue;
		}
		v[n++] = t;
		destroy(e, id);
	}
	snprintf(name, sizeof(name), "create-to-ready %s", kind);
	report(name, v, n);
	free(v);
}

static double run_cmd(const char *const *argv)
{
	double t0 = now_ms();
	int st;
	pid_t pid = fork();
	if (pid == 0) {
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fprintf(stderr, "%s %s failed\n", argv[0], argv[3]);
	return now_ms() - t0;
}

static void bench_freeze(CURL *e, int iter)
{
	double *s = calloc((size_t)iter, sizeof(double)), *r = calloc((size_t)iter, sizeof(double));
	char path[128], id[64];
	struct buf b;
	int ns = 0, nr = 0;

	if (call(e, "POST", "/containers", "{\"kind\":\"nodejs:20\",\"memory\":128}", &b) != 201 ||
	    id_of(b.data, id) < 0) {
		fprintf(stderr, "create for suspend bench failed: %s\n", b.data);
		return;
	}
	for (int i = 0; i < iter; i++) {
		double t0 = now_ms();
		snprintf(path, sizeof(path), "/suspend/%s", id);
		if (call(e, "GET", path, NULL, &b) == 204)
			s[ns++] = now_ms() - t0;
		t0 = now_ms();
		snprintf(path, sizeof(path), "/resume/%s", id);
		if (call(e, "GET", path, NULL, &b) == 204)
			r[nr++] = now_ms() - t0;
	}
	report("suspend (HTTP call)", s, ns);
	report("resume (HTTP call)", r, nr);
	if (strcmp(runc_root, "-") != 0) {
		int k = iter < 30 ? iter : 30;
		ns = nr = 0;
		for (int i = 0; i < k; i++) {
			const char *pa[] = {"runc", "--root", runc_root, "pause", id, NULL};
			const char *ra[] = {"runc", "--root", runc_root, "resume", id, NULL};
			s[ns++] = run_cmd(pa);
			r[nr++] = run_cmd(ra);
		}
		report("baseline: runc pause", s, ns);
		report("baseline: runc resume", r, nr);
	}
	destroy(e, id);
	free(s);
	free(r);
}

static void bench_parallel(int total)
{
	CURLM *m = curl_multi_init();
	struct curl_slist *h = headers();
	struct buf *bufs = calloc((size_t)total, sizeof(struct buf));
	char(*ids)[64] = calloc((size_t)total, 64);
	int started = 0, done = 0, ok = 0, running = 0;
	double t0 = now_ms(), t;
	CURL *e;

	curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)MAX_INFLIGHT);
	while (done < total) {
		while (started < total && started - done < MAX_INFLIGHT) {
			e = easy("POST", "/containers", "{\"kind\":\"blackbox\",\"memory\":32}",
				 &bufs[started], h);
			curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)(long)started);
			curl_multi_add_handle(m, e);
			started++;
		}
		curl_multi_perform(m, &running);
		curl_multi_poll(m, NULL, 0, 100, NULL);
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(m, &left))) {
			long st = 0, idx = 0;
			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &st);
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&idx);
			if (st == 201 && id_of(bufs[idx].data, ids[idx]) == 0)
				ok++;
			else
				fprintf(stderr, "parallel create: %ld %s\n", st, bufs[idx].data);
			curl_multi_remove_handle(m, msg->easy_handle);
			curl_easy_cleanup(msg->easy_handle);
			done++;
		}
	}
	t = now_ms() - t0;
	printf("%-34s %d/%d ok in %.0f ms = %.1f creates/s\n", "creates, 16 in flight", ok, total,
	       t, ok / (t / 1000));
	fflush(stdout);
	/* clean up, also 16 at a time */
	CURL *one = easy("GET", "/healthz", NULL, &bufs[0], h);
	t0 = now_ms();
	for (int i = 0; i < total; i++)
		if (ids[i][0])
			destroy(one, ids[i]);
	t = now_ms() - t0;
	printf("%-34s %d in %.0f ms = %.1f destroys/s (sequential)\n", "destroys", ok, t,
	       ok / (t / 1000));
	curl_easy_cleanup(one);
	curl_multi_cleanup(m);
	curl_slist_free_all(h);
	free(bufs);
	free(ids);
}

int main(int argc, char **argv)
{
	struct curl_slist *h;
	int iter;
	CURL *e;

	if (argc < 4) {
		fprintf(stderr, "usage: %s URL TOKEN RUNC_ROOT|- [ITER]\n", argv[0]);
		return 2;
	}
	base = argv[1];
	token = argv[2];
	runc_root = argv[3];
	iter = argc > 4 ? atoi(argv[4]) : 20;
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	h = headers();
	struct buf b;
	e = easy("GET", "/healthz", NULL, &b, h);
	bench_create(e, "nodejs:20", iter);
	bench_create(e, "blackbox", iter);
	bench_freeze(e, iter * 10);
	bench_parallel(iter * 4 > 64 ? iter * 4 : 64);
	curl_easy_cleanup(e);
	curl_slist_free_all(h);
	curl_global_cleanup();
	return 0;
}
