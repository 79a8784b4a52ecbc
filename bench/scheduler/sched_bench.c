/* bench/scheduler/sched_bench.c — issue 6's bar for hearth-scheduler.
 *
 *   sched_bench pool [N]                         the pool function alone
 *   sched_bench http URL TOKEN REDIS CONC SECS   /allocate + /release over HTTP
 *   sched_bench prewarm URL TOKEN REDIS N        /allocate latency, prewarm hits
 *   sched_bench failover KILLS LEASE_MS          SIGKILL the leader KILLS times
 *   sched_bench agent REDIS SECS                 only the fake agent (for wrk runs)
 *
 * http and prewarm host a fake agent in this process (answers POST
 * /containers at once and registers in Redis), so the numbers are the
 * scheduler's, not container start-up. failover starts redis-server and
 * two hearth-schedulers from $HEARTH_BUILD through the test harness. */
#include <event2/event.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/client.h"
#include "common/clock.h"
#include "common/http.h"
#include "common/id.h"
#include "common/json.h"
#include "common/redis.h"
#include "proto/keys.h"
#include "proto/scheduler.h"
#include "scheduler/pool.h"
#include "tests/lib/harness.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void pct(uint64_t *v, size_t n, const char *what, const char *unit, double div)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	printf("%-44s n=%zu p50=%.1f p90=%.1f p99=%.1f max=%.1f %s\n", what, n,
	       (double)v[n / 2] / div, (double)v[n * 9 / 10] / div,
	       (double)v[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1] / div, (double)v[n - 1] / div,
	       unit);
}

/* ---- pool ---- */

static uint64_t fake_ms = 1;
static uint64_t last_seq, last_destroy;
static char last_id[HC_ID_LEN + 1];

static uint64_t p_now(void *arg)
{
	return fake_ms;
}
static void p_create(void *arg, const struct sch_container *c)
{
	last_seq = c->seq;
}
static void p_destroy(void *arg, const struct sch_container *c)
{
	last_destroy = c->seq;
}
static void p_reply(void *arg, void *cookie, const struct sch_alloc_result *res)
{
	memcpy(last_id, res->reply.container.id, sizeof(last_id));
}
static const struct sch_pool_ops pops = {
    .now_ms = p_now, .create = p_create, .destroy = p_destroy, .reply = p_reply};

static void created(struct sch_pool *p, uint64_t seq, int n)
{
	struct pr_container d;
	memset(&d, 0, sizeof(d));
	snprintf(d.id, sizeof(d.id), "%032x", n);
	d.state = PR_CS_WARM;
	sch_pool_created(p, seq, &d);
}

static int bench_pool(long n)
{
	struct sch_prewarm_target t = {.kind = "nodejs:20", .memory_mb = 256, .count = 1};
	struct sch_pool_config cfg = {.prewarm = &t, .nprewarm = 1};
	struct sch_pool *p = sch_pool_new(&cfg, &pops, NULL);
	struct pr_alloc_req r;
	const int actions = 1000;
	int ids = 0;

	sch_pool_host_set(p, "h1", "http://127.0.0.1:1", 1 << 30, 0);
	created(p, last_seq, ++ids);
	memset(&r, 0, sizeof(r));
	strcpy(r.ns, "guest");
	strcpy(r.version, "0.0.1");
	strcpy(r.kind, "nodejs:20");
	strcpy(r.controller, "c1");
	r.memory_mb = 128;
	r.concurrency = 1;
	r.wait_ms = 1000;
	/* A free warm container for each of 1000 actions. */
	for (int i = 0; i < actions; i++) {
		snprintf(r.name, sizeof(r.name), "a%d", i);
		sch_pool_allocate(p, &r, NULL);
		created(p, last_seq, ++ids);
		sch_pool_release(p, last_id, "c1");
	}
	uint64_t t0 = hc_mono_us();
	for (long i = 0; i < n; i++) {
		snprintf(r.name, sizeof(r.name), "a%ld", i % actions);
		sch_pool_allocate(p, &r, NULL);
		sch_pool_release(p, last_id, "c1");
	}
	double s = (double)(hc_mono_us() - t0) / 1e6;
	struct sch_pool_stats st;
	sch_pool_stats(p, &st);
	printf("%-44s %.0f allocations/s (%ld allocate+release pairs in %.2f s; warm=%llu)\n",
	       "pool: warm hit + release, 1000 actions", n / s, n, s,
	       (unsigned long long)st.outcomes[SCH_OUT_WARM]);

	/* Prewarm hits: each allocation takes the stem cell; its refill is
	 * answered at once, as if the agent were instant. */
	long m = n / 10 > 100000 ? 100000 : n / 10;
	uint64_t *lat = calloc((size_t)m, sizeof(*lat));
	r.memory_mb = 256;
	for (long i = 0; i < m; i++) {
		struct timespec a, b;
		snprintf(r.name, sizeof(r.name), "p%ld", i % actions);
		clock_gettime(CLOCK_MONOTONIC, &a);
		sch_pool_allocate(p, &r, NULL);
		clock_gettime(CLOCK_MONOTONIC, &b);
		lat[i] = (uint64_t)((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec));
		/* Refill lands, the used one goes away: the pool stays the same size. */
		uint64_t refill = last_seq;
		sch_pool_discard(p, last_id, "c1");
		sch_pool_destroyed(p, last_destroy);
		created(p, refill, ++ids);
		fake_ms++;
		if (i % 1000 == 0)
			sch_pool_tick(p);
	}
	sch_pool_stats(p, &st);
	pct(lat, (size_t)m, "pool: allocate with a prewarm hit", "ns", 1);
	printf("    (prewarm hits=%llu)\n", (unsigned long long)st.outcomes[SCH_OUT_PREWARM]);
	free(lat);
	sch_pool_free(p);
	return 0;
}

/* ---- a fake agent ---- */

static struct hc_server *agent_srv;
static int agent_port;

static void fa_create(struct hc_req *req, void *arg)
{
	struct pr_container d;
	size_t len;
	const char *body = hc_req_body(req, &len);
	cJSON *j = hc_json_parse(body, len, 8, NULL), *out;

	memset(&d, 0, sizeof(d));
	hc_id_new(d.id);
	snprintf(d.agent, sizeof(d.agent), "http://127.0.0.1:%d", agent_port);
	snprintf(d.host, sizeof(d.host), "127.0.0.1");
	d.port = 1;
	d.state = PR_CS_WARM;
	if (j) {
		hc_json_strcpy(j, "kind", 0, d.kind, sizeof(d.kind), NULL);
		int64_t mem = 0;
		hc_json_int(j, "memory", 0, 0, 1 << 30, &mem, NULL);
		d.memory_mb = (int)mem;
	}
	cJSON_Delete(j);
	out = pr_container_to_json(&d);
	hc_reply_json(req, 201, out);
	cJSON_Delete(out);
}

static void fa_delete(struct hc_req *req, void *arg)
{
	hc_reply(req, 204, NULL, NULL, 0);
}

static void fa_list(struct hc_req *req, void *arg)
{
	static const char empty[] = "{\"containers\":[]}";
	hc_reply(req, 200, "application/json", empty, sizeof(empty) - 1);
}

static void *agent_thread(void *arg)
{
	hc_server_run(agent_srv);
	return NULL;
}

static int fake_agent_start(const char *redis_url, pthread_t *th)
{
	struct hc_server_opts so = {.name = "fake-agent", .threads = 1};
	struct hc_err err = {{0}};
	struct hc_redis_opts ro;
	redisContext *rc;
	char key[128], url[64];

	agent_srv = hc_server_new(&so, &err);
	if (!agent_srv)
		return -1;
	hc_server_route(agent_srv, HC_POST, "/containers", fa_create, NULL, 0);
	hc_server_route(agent_srv, HC_DELETE, "/containers/{id}", fa_delete, NULL, 0);
	hc_server_route(agent_srv, HC_GET, "/containers", fa_list, NULL, 0);
	agent_port = hc_server_port(agent_srv);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", agent_port);
	if (hc_redis_parse_url(redis_url, &ro, &err) < 0 ||
	    !(rc = hc_redis_sync_connect(&ro, &err)))
		return -1;
	snprintf(key, sizeof(key), PR_KEY_AGENT, "fake");
	freeReplyObject(hc_redis_sync_cmd(rc, &err,
					  "HSET %s url %s host 127.0.0.1 memory 100000000 used 0 "
					  "containers 0 draining 0",
					  key, url));
	freeReplyObject(hc_redis_sync_cmd(rc, &err, "SADD %s fake", PR_KEY_AGENTS));
	redisFree(rc);
	return pthread_create(th, NULL, agent_thread, NULL);
}

/* ---- HTTP load: CONC workers, each allocate -> release -> allocate ... ---- */

struct worker {
	int idx;
	int phase; /* 0 allocate, 1 release */
	char id[HC_ID_LEN + 1];
	uint64_t t0;
};

static struct hc_client *cli;
static const char *g_url, *g_token;
static char auth_header[320];
static volatile int running = 1;
static uint64_t n_alloc, n_warm, n_err, measure_from_us;
static uint64_t *lat;
static size_t nlat, caplat;

static void fire(struct worker *w);

static void done(const struct hc_response *resp, void *arg)
{
	struct worker *w = arg;
	uint64_t now = hc_mono_us();

	if (w->phase == 0) {
		struct pr_alloc_reply rep;
		cJSON *j = resp->status == 200 ? hc_json_parse(resp->body, resp->body_len, 16, NULL)
					       : NULL;
		if (j && pr_alloc_reply_from_json(j, &rep, NULL) == 0) {
			memcpy(w->id, rep.container.id, sizeof(w->id));
			if (w->t0 >= measure_from_us) {
				n_alloc++;
				n_warm += rep.init == 0;
				if (nlat < caplat)
					lat[nlat++] = now - w->t0;
			}
			w->phase = 1;
		} else {
			n_err++;
		}
		cJSON_Delete(j);
	} else {
		if (resp->status != 204)
			n_err++;
		w->phase = 0;
	}
	if (running)
		fire(w);
}

static void fire(struct worker *w)
{
	char url[160], body[320];
	const char *hs[] = {auth_header, "Content-Type: application/json", NULL};
	struct hc_request req = {.method = "POST", .url = url, .headers = hs, .timeout_ms = 5000};

	if (w->phase == 0) {
		snprintf(url, sizeof(url), "%s/allocate", g_url);
		snprintf(body, sizeof(body),
			 "{\"namespace\":\"bench\",\"name\":\"w%d\",\"version\":\"1\",\"kind\":"
			 "\"nodejs:20\",\"memory\":128,\"digest\":\"\",\"controller\":\"bench\"}",
			 w->idx);
	} else {
		snprintf(url, sizeof(url), "%s/release", g_url);
		snprintf(body, sizeof(body), "{\"container\":\"%s\",\"controller\":\"bench\"}",
			 w->id);
	}
	req.body = body;
	req.body_len = strlen(body);
	w->t0 = hc_mono_us();
	if (!hc_client_request(cli, &req, done, w))
		n_err++;
}

static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
	running = 0;
}

static int bench_http(const char *url, const char *token, const char *redis_url, int conc, int secs)
{
	struct event_base *base = event_base_new();
	struct hc_client_opts co = {0};
	struct worker *ws = calloc((size_t)conc, sizeof(*ws));
	pthread_t th;

	g_url = url;
	g_token = token;
	snprintf(auth_header, sizeof(auth_header), "Authorization: Bearer %s", token);
	if (fake_agent_start(redis_url, &th) < 0) {
		fprintf(stderr, "fake agent failed\n");
		return 1;
	}
	sleep(2); /* the scheduler's host refresh picks the agent up */
	cli = hc_client_new(base, &co);
	caplat = 4000000;
	lat = calloc(caplat, sizeof(*lat));
	measure_from_us = hc_mono_us() + 1000000; /* 1 s warm-up: containers get made */
	for (int i = 0; i < conc; i++) {
		ws[i].idx = i;
		fire(&ws[i]);
	}
	struct timeval tv = {secs + 1, 0};
	event_base_once(base, -1, EV_TIMEOUT, stop_cb, NULL, &tv);
	while (running)
		event_base_loop(base, EVLOOP_ONCE);
	double s = (double)(hc_mono_us() - measure_from_us) / 1e6;
	printf("%-44s %.0f allocations/s (%d in flight, each followed by /release; "
	       "warm=%llu of %llu, errors=%llu, %.1f s)\n",
	       "http: /allocate warm hit", (double)n_alloc / s, conc, (unsigned long long)n_warm,
	       (unsigned long long)n_alloc, (unsigned long long)n_err, s);
	if (nlat)
		pct(lat, nlat, "http: /allocate latency (warm hit)", "us", 1);
	hc_client_free(cli);
	event_base_free(base);
	hc_server_stop(agent_srv);
	pthread_join(th, NULL);
	hc_server_free(agent_srv);
	free(ws);
	free(lat);
	return 0;
}

/* Sequential allocations of distinct actions, each a prewarm hit, over one
 * keep-alive connection (the way a controller talks to the scheduler). */
struct one {
	int done;
	long status;
	int init;
};

static void one_done(const struct hc_response *resp, void *arg)
{
	struct one *o = arg;
	o->done = 1;
	o->status = resp->status;
	o->init = resp->status == 200 && strstr(resp->body, "\"init\":true") != NULL;
}

static int bench_prewarm(const char *url, const char *token, const char *redis_url, int n)
{
	struct event_base *base = event_base_new();
	struct hc_client_opts co = {0};
	pthread_t th;
	char u[160], body[320], hdr[320];
	uint64_t *v = calloc((size_t)n, sizeof(*v));
	int k = 0;

	snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s", token);
	const char *hs[] = {hdr, "Content-Type: application/json", NULL};
	if (fake_agent_start(redis_url, &th) < 0)
		return 1;
	sleep(2);
	cli = hc_client_new(base, &co);
	snprintf(u, sizeof(u), "%s/allocate", url);
	for (int i = 0; i < n; i++) {
		struct one o = {0};
		snprintf(body, sizeof(body),
			 "{\"namespace\":\"bench\",\"name\":\"pw%d\",\"version\":\"1\",\"kind\":"
			 "\"nodejs:20\",\"memory\":256,\"digest\":\"\",\"controller\":\"bench\"}",
			 i);
		struct hc_request req = {.method = "POST",
					 .url = u,
					 .headers = hs,
					 .body = body,
					 .body_len = strlen(body),
					 .timeout_ms = 5000};
		uint64_t t0 = hc_mono_us();
		if (!hc_client_request(cli, &req, one_done, &o))
			break;
		while (!o.done)
			event_base_loop(base, EVLOOP_ONCE);
		uint64_t dt = hc_mono_us() - t0;
		if (o.init && i > 0) /* the first one pays for the connection */
			v[k++] = dt;
		usleep(2000); /* let the refill land: measure hits, not misses */
	}
	if (k)
		pct(v, (size_t)k, "http: /allocate latency (prewarm hit)", "us", 1);
	printf(
	    "    (%d of %d answered with a stem cell; one keep-alive connection, one in flight)\n",
	    k, n - 1);
	hc_client_free(cli);
	event_base_free(base);
	hc_server_stop(agent_srv);
	pthread_join(th, NULL);
	hc_server_free(agent_srv);
	free(v);
	return 0;
}

/* ---- failover ---- */

struct sp {
	pid_t pid;
	int port;
	char url[64], id[16];
};

static int start_sched(struct sp *s, const char *redis_url, const char *lease, int i)
{
	char port[16];
	s->port = th_free_port();
	snprintf(port, sizeof(port), "%d", s->port);
	snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%d", s->port);
	snprintf(s->id, sizeof(s->id), "fo%d-%d", i, (int)(hc_mono_us() % 100000));
	char *argv[] = {"hearth-scheduler", "--id",    s->id, "--port",	 port,		"--redis",
			(char *)redis_url,  "--token", "t",   "--lease", (char *)lease, NULL};
	s->pid = th_spawn(argv, NULL, NULL, 0);
	char hz[96];
	snprintf(hz, sizeof(hz), "%s/healthz", s->url);
	return s->pid > 0 ? th_wait_http_ok(hz, 5000) : -1;
}

static int is_leader(const struct sp *s)
{
	char url[96], *body = NULL;
	int r = 0;
	snprintf(url, sizeof(url), "%s/healthz", s->url);
	if (th_http("GET", url, NULL, NULL, 0, &body) == 200 && body)
		r = strstr(body, "\"role\":\"leader\"") != NULL;
	free(body);
	return r;
}

static int bench_failover(int kills, long lease_ms)
{
	struct th_redis r;
	struct sp s[2];
	char lease[32];
	uint64_t *v = calloc((size_t)kills, sizeof(*v));
	int k = 0;

	snprintf(lease, sizeof(lease), "%ldms", lease_ms);
	if (th_redis_start(&r) < 0)
		return 1;
	for (int i = 0; i < 2; i++)
		if (start_sched(&s[i], r.url, lease, i) < 0)
			return 1;
	for (int n = 0; n < kills; n++) {
		int l = -1;
		uint64_t end = hc_mono_us() + 10000000;
		while (l < 0 && hc_mono_us() < end) {
			for (int i = 0; i < 2; i++)
				if (is_leader(&s[i]))
					l = i;
			if (l < 0)
				usleep(5000);
		}
		if (l < 0)
			break;
		/* Let the standby settle into its retry rhythm, like a real cluster. */
		usleep(300000);
		th_stop(s[l].pid, SIGKILL, 1000);
		uint64_t t0 = hc_mono_us();
		while (!is_leader(&s[1 - l]) && hc_mono_us() - t0 < 10000000)
			usleep(2000);
		v[k++] = hc_mono_us() - t0;
		if (start_sched(&s[l], r.url, lease, l) < 0)
			break;
	}
	if (k) {
		char what[80];
		snprintf(what, sizeof(what), "failover after SIGKILL (lease %ld ms)", lease_ms);
		pct(v, (size_t)k, what, "ms", 1000);
	}
	th_stop_all();
	free(v);
	return 0;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc >= 2 && !strcmp(argv[1], "pool"))
		return bench_pool(argc > 2 ? atol(argv[2]) : 2000000);
	if (argc >= 7 && !strcmp(argv[1], "http"))
		return bench_http(argv[2], argv[3], argv[4], atoi(argv[5]), atoi(argv[6]));
	if (argc >= 6 && !strcmp(argv[1], "prewarm"))
		return bench_prewarm(argv[2], argv[3], argv[4], atoi(argv[5]));
	if (argc >= 4 && !strcmp(argv[1], "agent")) {
		pthread_t th;
		if (fake_agent_start(argv[2], &th) < 0)
			return 1;
		sleep((unsigned)atoi(argv[3]));
		hc_server_stop(agent_srv);
		pthread_join(th, NULL);
		hc_server_free(agent_srv);
		return 0;
	}
	if (argc >= 4 && !strcmp(argv[1], "failover"))
		return bench_failover(atoi(argv[2]), atol(argv[3]));
	fprintf(stderr, "usage: see the comment at the top of sched_bench.c\n");
	return 2;
}
