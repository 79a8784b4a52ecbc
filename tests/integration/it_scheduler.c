/* it_scheduler.c — hearth-scheduler against a real redis-server, real
 * scheduler processes and a real agent (process backend):
 *   - the leader killed with SIGKILL: a standby takes over within lease + 1 s
 *     with a higher epoch;
 *   - a standby answers 503 naming the leader; the token is enforced;
 *   - a leader SIGSTOPped past its lease and continued steps down and does
 *     not allocate, and the agent refuses its old epoch (409);
 *   - allocations made during a failover succeed once the new leader is up
 *     (the client follows the 503 leader hint), and the new leader knows the
 *     containers the old one placed;
 *   - a host that is down, or registered but silent, while a new leader
 *     rebuilds gets its free warm container back, with its owner, once it
 *     answers again;
 *   - a controller whose registration expires while it holds a busy
 *     container loses it: destroyed, its memory serves the next one; also
 *     when a new leader restored that container after a failover. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"
#include "common/clock.h"
#include "common/json.h"
#include "common/redis.h"
#include "proto/agent.h"
#include "proto/keys.h"
#include "proto/scheduler.h"
#include "tests/lib/harness.h"
#include "tests/lib/wait.h"

#define LEASE_MS 1000
#define TOKEN	 "it-sched-token"
#define NSCHED	 3

static struct th_redis redis;
static char statedir[256];

struct sched {
	pid_t pid;
	int port;
	char url[64];
	char id[16];
};

static const char *const auth_hdr[] = {"Authorization: Bearer " TOKEN,
				       "Content-Type: application/json", NULL};

static int start_sched(struct sched *s, const char *id, const char *prewarm)
{
	char port[16];

	s->port = th_free_port();
	snprintf(port, sizeof(port), "%d", s->port);
	snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%d", s->port);
	snprintf(s->id, sizeof(s->id), "%s", id);
	char *argv[] = {"hearth-scheduler",
			"--id",
			s->id,
			"--port",
			port,
			"--redis",
			redis.url,
			"--token",
			TOKEN,
			"--lease",
			"1s",
			"--renew",
			"250ms",
			"--retry",
			"250ms",
			"--lease-margin",
			"100ms",
			"--refresh",
			"200ms",
			"--tick",
			"200ms",
			"--prewarm",
			(char *)prewarm,
			NULL};
	s->pid = th_daemon_start(argv, NULL, s->port, 5000, NULL, 0);
	return s->pid > 0 ? 0 : -1;
}

static int start_agent(pid_t *pid, int *port, const char *id)
{
	char p[16], range[32], dir[300];
	static int nagents;
	int base = 20000 + (getpid() % 100) * 80 + (nagents++ % 2) * 40;

	*port = th_free_port();
	snprintf(p, sizeof(p), "%d", *port);
	snprintf(range, sizeof(range), "%d-%d", base, base + 39);
	snprintf(dir, sizeof(dir), "%s/%s", statedir, id);
	char *argv[] = {"hearth-agent", "--id",	    (char *)id,	   "--port",	   p,
			"--redis",	redis.url,  "--token",	   TOKEN,	   "--backend",
			"process",	"--memory", "1024",	   "--port-range", range,
			"--state-dir",	dir,	    "--heartbeat", "200ms",	   NULL};
	*pid = th_daemon_start(argv, NULL, *port, 5000, NULL, 0);
	return *pid > 0 ? 0 : -1;
}

static int health(const struct sched *s, struct pr_sched_health *h)
{
	char url[96], *body = NULL;
	long st;
	int rc = -1;

	snprintf(url, sizeof(url), "%s/healthz", s->url);
	st = th_http("GET", url, NULL, NULL, 0, &body);
	if (st == 200 && body) {
		cJSON *j = hc_json_parse(body, strlen(body), 8, NULL);
		rc = j ? pr_sched_health_from_json(j, h, NULL) : -1;
		cJSON_Delete(j);
	}
	free(body);
	return rc;
}

/* Index of the one leader among s[0..n) (skipping pid <= 0), or -1 after
 * timeout_ms. */
static int wait_leader(struct sched *s, int n, long timeout_ms)
{
	TH_RETRY(timeout_ms, 10) {
		int found = -1, count = 0;
		for (int i = 0; i < n; i++) {
			struct pr_sched_health h;
			if (s[i].pid <= 0 || health(&s[i], &h) < 0)
				continue;
			if (!strcmp(h.role, "leader")) {
				found = i;
				count++;
			}
		}
		if (count == 1)
			return found;
	}
	return -1;
}

static const char alloc_body[] =
    "{\"namespace\":\"guest\",\"name\":\"%s\",\"version\":\"0.0.1\",\"kind\":\"nodejs:20\","
    "\"memory\":%d,\"digest\":\"\",\"controller\":\"%s\",\"wait_ms\":%ld}";

/* POST /allocate of memory_mb, waiting up to wait_ms in the scheduler's
 * queue. */
static long allocate_sized(const struct sched *s, const char *name, const char *ctl, int memory_mb,
			   long wait_ms, char **body)
{
	char url[96], data[512];

	snprintf(url, sizeof(url), "%s/allocate", s->url);
	snprintf(data, sizeof(data), alloc_body, name, memory_mb, ctl, wait_ms);
	return th_http("POST", url, auth_hdr, data, strlen(data), body);
}

static long allocate(const struct sched *s, const char *name, const char *ctl, char **body)
{
	return allocate_sized(s, name, ctl, 128, 5000, body);
}

/* A 200's body as an allocation reply (body freed): 200, or -1 when it does
 * not read as one. */
static long take_reply(char *body, struct pr_alloc_reply *out)
{
	cJSON *j = hc_json_parse(body, strlen(body), 16, NULL);
	int ok = j && pr_alloc_reply_from_json(j, out, NULL) == 0;
	cJSON_Delete(j);
	free(body);
	return ok ? 200 : -1;
}

/* A controller's retry loop: follow the 503 leader hint (or try the others),
 * until 200 or the deadline. */
static long allocate_retrying(struct sched *s, int n, const char *name, const char *ctl,
			      long deadline_ms, struct pr_alloc_reply *out)
{
	uint64_t end = hc_mono_us() + (uint64_t)deadline_ms * 1000;
	int cur = 0;
	long st = 0;
	char hint[PR_URL_MAX] = "";

	while (hc_mono_us() < end) {
		char *body = NULL;
		int target = cur;
		for (int i = 0; hint[0] && i < n; i++) {
			if (s[i].pid > 0 && !strcmp(s[i].url, hint))
				target = i;
		}
		if (s[target].pid <= 0) {
			cur = (cur + 1) % n;
			continue;
		}
		st = allocate(&s[target], name, ctl, &body);
		if (st == 200) {
			return take_reply(body, out);
		}
		hint[0] = '\0';
		if (st == 503 && body) {
			cJSON *j = hc_json_parse(body, strlen(body), 8, NULL);
			struct pr_sched_redirect r;
			if (j && pr_sched_redirect_from_json(j, &r, NULL) == 0)
				snprintf(hint, sizeof(hint), "%s", r.leader);
			cJSON_Delete(j);
		}
		free(body);
		if (!hint[0]) {
			cur = (target + 1) % n;
			th_sleep_ms(20);
		}
	}
	return st;
}

/* An allocation of the agent's whole memory (--memory 1024), waiting up to
 * 300 ms in the scheduler's queue. */
static long allocate_big_once(const struct sched *s, const char *name, const char *ctl, char **body)
{
	return allocate_sized(s, name, ctl, 1024, 300, body);
}

/* The same, retried for up to within_ms until it is granted. */
static long allocate_big(const struct sched *s, const char *name, const char *ctl, long within_ms,
			 struct pr_alloc_reply *out)
{
	long st = 0;

	TH_RETRY(within_ms, 50) {
		char *body = NULL;
		st = allocate_big_once(s, name, ctl, &body);
		if (st == 200) {
			return take_reply(body, out);
		}
		free(body);
	}
	return st;
}

static int agent_count(int port)
{
	char url[96], *body = NULL;
	struct pr_container *list = NULL;
	int n = -1;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/containers", port);
	if (th_http("GET", url, auth_hdr, NULL, 0, &body) == 200 && body) {
		cJSON *j = hc_json_parse(body, strlen(body), 16, NULL);
		if (!j || pr_container_list_from_json(j, &list, &n, NULL) < 0)
			n = -1;
		cJSON_Delete(j);
		free(list);
	}
	free(body);
	return n;
}

/* A blocking connection to the test's Redis, or NULL. */
static redisContext *redis_connect(void)
{
	return th_redis_connect(&redis);
}

/* Registers controller id with Redis as a controller's heartbeat does, for
 * ttl_ms (-1: for good). */
static int set_controller(const char *id, long ttl_ms)
{
	redisContext *rc = redis_connect();
	char key[128];
	int rc2 = -1;

	if (!rc)
		return -1;
	snprintf(key, sizeof(key), PR_KEY_CONTROLLER, id);
	redisReply *r =
	    hc_redis_sync_cmd(rc, NULL, "HSET %s %s http://127.0.0.1:1", key, PR_CONTROLLER_F_URL);
	if (r && r->type == REDIS_REPLY_INTEGER)
		rc2 = 0;
	freeReplyObject(r);
	if (rc2 == 0 && ttl_ms > 0) {
		r = hc_redis_sync_cmd(rc, NULL, "PEXPIRE %s %ld", key, ttl_ms);
		rc2 = r && r->type == REDIS_REPLY_INTEGER && r->integer == 1 ? 0 : -1;
		freeReplyObject(r);
	}
	redisFree(rc);
	return rc2;
}

/* Waits up to within_ms until Redis records owner for container id (NULL:
 * no owner). 0 when it does. (An allocation's answer waits for the owner
 * write since test_owner_stored_before_answer, so a wait for an owner only
 * guards against a regression hiding in the tests that use it.) */
static int wait_owner(const char *id, const char *owner, long within_ms)
{
	redisContext *rc = redis_connect();
	int found = 0;

	if (!rc)
		return -1;
	TH_RETRY(within_ms, 20) {
		redisReply *r = hc_redis_sync_cmd(rc, NULL, "HGET %s %s", PR_KEY_OWNERS, id);
		found = owner ? r && r->type == REDIS_REPLY_STRING && !strcmp(r->str, owner)
			      : r && r->type == REDIS_REPLY_NIL;
		freeReplyObject(r);
		if (found)
			break;
	}
	redisFree(rc);
	return found ? 0 : -1;
}

/* Two schedulers (s[0], s[1]; ids id0, id1) started on a clean s; the index
 * of the one that leads. */
static int two_scheds(struct sched *s, const char *id0, const char *id1, const char *prewarm)
{
	memset(s, 0, 2 * sizeof(*s));
	assert_int_equal(start_sched(&s[0], id0, prewarm), 0);
	assert_int_equal(start_sched(&s[1], id1, prewarm), 0);
	int l = wait_leader(s, 2, 5000);
	assert_true(l >= 0);
	return l;
}

/* Each test gets its own redis-server: a fresh lease and epoch, and a test
 * that fails half way leaves nothing behind for the next. */
static int setup(void **state)
{
	snprintf(statedir, sizeof(statedir), "/tmp/it_scheduler.%d", (int)getpid());
	if (mkdir(statedir, 0700) < 0 && errno != EEXIST)
		return -1;
	if (th_redis_start(&redis) < 0)
		return -1;
	/* "c1", the controller the tests speak for, is registered for good */
	return set_controller("c1", -1);
}

static int teardown(void **state)
{
	struct stat st;
	th_stop_all();
	memset(&redis, 0, sizeof(redis));
	agt_rmtree(statedir);
	return stat(statedir, &st) == 0 ? -1 : 0;
}

static void stop_all_sched(struct sched *s, int n)
{
	for (int i = 0; i < n; i++) {
		if (s[i].pid > 0)
			th_stop(s[i].pid, SIGTERM, 2000);
		s[i].pid = 0;
	}
}

static void test_failover_sigkill(void **state)
{
	struct sched s[NSCHED];
	struct pr_sched_health h;
	char id[16];
	int l, l2;

	memset(s, 0, sizeof(s));
	for (int i = 0; i < NSCHED; i++) {
		snprintf(id, sizeof(id), "k%d", i);
		assert_int_equal(start_sched(&s[i], id, ""), 0);
	}
	l = wait_leader(s, NSCHED, 5000);
	assert_true(l >= 0);
	assert_int_equal(health(&s[l], &h), 0);
	int64_t e1 = h.epoch;
	assert_true(e1 >= 1);
	/* Standbys know the leader. */
	for (int i = 0; i < NSCHED; i++) {
		if (i == l)
			continue;
		TH_RETRY(2000, 20) {
			if (health(&s[i], &h) != 0 || !strcmp(h.leader, s[l].url))
				break;
		}
		assert_string_equal(h.role, "standby");
		assert_string_equal(h.leader, s[l].url);
	}

	th_stop(s[l].pid, SIGKILL, 1000);
	uint64_t t0 = hc_mono_us();
	s[l].pid = 0;
	l2 = wait_leader(s, NSCHED, LEASE_MS + 3000);
	uint64_t took_ms = (hc_mono_us() - t0) / 1000;
	assert_true(l2 >= 0 && l2 != l);
	printf("# failover after SIGKILL took %llu ms (lease %d ms)\n", (unsigned long long)took_ms,
	       LEASE_MS);
	assert_true(took_ms <= LEASE_MS + 1000);
	assert_int_equal(health(&s[l2], &h), 0);
	assert_true(h.epoch > e1);
	stop_all_sched(s, NSCHED);
}

static void test_standby_redirect_and_auth(void **state)
{
	struct sched s[2];
	char url[96], *body = NULL;
	long st;
	int l;

	l = two_scheds(s, "r0", "r1", "");
	int sb = 1 - l;
	/* The standby learns the leader within a retry interval or two. */
	struct pr_sched_redirect r;
	TH_RETRY(2000, 10) {
		free(body);
		body = NULL;
		st = allocate(&s[sb], "x", "c1", &body);
		assert_int_equal(st, 503);
		cJSON *j = hc_json_parse(body, strlen(body), 8, NULL);
		assert_int_equal(pr_sched_redirect_from_json(j, &r, NULL), 0);
		cJSON_Delete(j);
		if (!strcmp(r.leader, s[l].url))
			break;
	}
	assert_string_equal(r.leader, s[l].url);
	free(body);
	body = NULL;
	/* No token: 401; bad body: 400; no hosts: 429 with a hint. */
	snprintf(url, sizeof(url), "%s/allocate", s[l].url);
	st = th_http("POST", url, NULL, "{}", 2, NULL);
	assert_int_equal(st, 401);
	st = th_http("POST", url, auth_hdr, "{\"namespace\":1}", 15, NULL);
	assert_int_equal(st, 400);
	st = allocate(&s[l], "x", "c1", &body);
	assert_int_equal(st, 429);
	assert_non_null(strstr(body, "retry_after_ms"));
	free(body);
	body = NULL;
	snprintf(url, sizeof(url), "%s/release", s[l].url);
	const char *ref =
	    "{\"container\":\"0123456789abcdef0123456789abcdef\",\"controller\":\"c1\"}";
	st = th_http("POST", url, auth_hdr, ref, strlen(ref), NULL);
	assert_int_equal(st, 404);
	snprintf(url, sizeof(url), "%s/metrics", s[l].url);
	st = th_http("GET", url, NULL, NULL, 0, &body);
	assert_int_equal(st, 200);
	assert_non_null(strstr(body, "hearth_scheduler_allocations_total{outcome=\"rejected\"} 1"));
	free(body);
	stop_all_sched(s, 2);
}

/* SIGSTOP the leader past its lease; the other wins and creates on the
 * agent; SIGCONT: the old leader must not allocate, and the agent refuses
 * its epoch. */
static void test_sigstop_leader(void **state)
{
	struct sched s[2];
	struct pr_alloc_reply rep;
	struct pr_sched_health h;
	pid_t agent;
	int aport, l, l2;
	char *body = NULL;

	assert_int_equal(start_agent(&agent, &aport, "agent-stop"), 0);
	l = two_scheds(s, "p0", "p1", "");
	assert_int_equal(health(&s[l], &h), 0);
	int64_t old_epoch = h.epoch;
	/* The leader places one container (the agent sees its epoch). */
	assert_int_equal(allocate_retrying(s, 2, "before", "c1", 5000, &rep), 200);
	assert_int_equal(rep.init, 1);
	assert_int_equal(agent_count(aport), 1);

	kill(s[l].pid, SIGSTOP);
	s[l].pid = -s[l].pid; /* a stopped process answers nothing: do not ask it */
	l2 = wait_leader(s, 2, LEASE_MS + 3000);
	assert_true(l2 >= 0 && l2 != l);
	/* The new leader places a container: the agent now knows the new epoch. */
	assert_int_equal(allocate_retrying(&s[l2], 1, "after", "c1", 5000, &rep), 200);
	assert_int_equal(agent_count(aport), 2);
	/* The new leader knows the container the old one placed. */
	assert_int_equal(allocate_retrying(&s[l2], 1, "before", "c1", 5000, &rep), 200);
	assert_int_equal(agent_count(aport), 3);

	s[l].pid = -s[l].pid;
	kill(s[l].pid, SIGCONT);
	/* The very first request after SIGCONT must not be served as leader. */
	long st = allocate(&s[l], "stopped", "c1", &body);
	assert_int_equal(st, 503);
	free(body);
	body = NULL;
	assert_int_equal(health(&s[l], &h), 0);
	assert_string_equal(h.role, "standby");
	assert_int_equal(agent_count(aport), 3);

	/* The agent refuses the old epoch outright. */
	char url[96], ep[64], data[] = "{\"kind\":\"nodejs:20\",\"memory\":128}";
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/containers", aport);
	snprintf(ep, sizeof(ep), "%s: %lld", PR_AGENT_EPOCH_HEADER, (long long)old_epoch);
	const char *hs[] = {auth_hdr[0], auth_hdr[1], ep, NULL};
	st = th_http("POST", url, hs, data, strlen(data), NULL);
	assert_int_equal(st, 409);
	assert_int_equal(agent_count(aport), 3);

	stop_all_sched(s, 2);
	th_stop(agent, SIGTERM, 3000);
}

/* POST route (/release, /busy, /discard) for container id as controller
 * ctl (post_ref: as "c1"); the HTTP status. */
static long post_ref_as(const struct sched *s, const char *route, const char *id, const char *ctl)
{
	char url[96], data[192];

	snprintf(url, sizeof(url), "%s%s", s->url, route);
	snprintf(data, sizeof(data), "{\"container\":\"%s\",\"controller\":\"%s\"}", id, ctl);
	return th_http("POST", url, auth_hdr, data, strlen(data), NULL);
}

static long post_ref(const struct sched *s, const char *route, const char *id)
{
	return post_ref_as(s, route, id, "c1");
}

/* Allocate a container of action for controller c1 on the leader s[l],
 * then suspend and release it, as a controller does: a free warm one. */
static void free_warm(struct sched *s, int l, int aport, const char *action,
		      struct pr_alloc_reply *out)
{
	char url[96];

	assert_int_equal(allocate_retrying(s, 2, action, "c1", 5000, out), 200);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/suspend/%s", aport, out->container.id);
	assert_int_equal(th_http("GET", url, auth_hdr, NULL, 0, NULL), 204);
	assert_int_equal(post_ref(&s[l], "/release", out->container.id), 204);
}

/* Allocations issued right after the leader dies succeed via the new one. */
static void test_alloc_during_failover(void **state)
{
	struct sched s[2];
	struct pr_alloc_reply rep, first;
	pid_t agent;
	int aport, l;

	assert_int_equal(start_agent(&agent, &aport, "agent-fo"), 0);
	l = two_scheds(s, "f0", "f1", "nodejs:20:128:1");
	/* a free warm container the next leader must find */
	free_warm(s, l, aport, "fo", &first);

	th_stop(s[l].pid, SIGKILL, 1000);
	s[l].pid = 0;
	for (int i = 0; i < 3; i++) {
		char name[16];
		snprintf(name, sizeof(name), "during%d", i);
		assert_int_equal(allocate_retrying(s, 2, name, "c1", LEASE_MS + 4000, &rep), 200);
		assert_string_equal(rep.owner, "c1");
	}
	/* The free warm container survived the failover with its owner. */
	assert_int_equal(allocate_retrying(s, 2, "fo", "c1", 3000, &rep), 200);
	assert_string_equal(rep.container.id, first.container.id);
	assert_int_equal(rep.init, 0);
	stop_all_sched(s, 2);
	th_stop(agent, SIGTERM, 3000);
}

/* A host that is down while a new leader rebuilds (its agent stopped, its
 * registration expired) is read when it comes back, and its free warm
 * container keeps its owner: the next allocation for that controller gets
 * it back, not a new container. */
static void test_host_down_during_rebuild(void **state)
{
	struct sched s[2];
	struct pr_alloc_reply rep, first;
	pid_t agent;
	int aport, l;

	assert_int_equal(start_agent(&agent, &aport, "agent-late"), 0);
	l = two_scheds(s, "g0", "g1", "");
	free_warm(s, l, aport, "late", &first);

	/* the host goes quiet, and the leader dies before it notices */
	assert_int_equal(kill(agent, SIGSTOP), 0);
	th_stop(s[l].pid, SIGKILL, 1000);
	s[l].pid = 0;
	/* the standby leads and rebuilds without the host (its registration
	 * expires after 3 heartbeats of 200 ms, before the 1 s lease) */
	assert_true(wait_leader(s, 2, LEASE_MS + 4000) == 1 - l);
	th_sleep_ms(1000);
	assert_int_equal(kill(agent, SIGCONT), 0);
	/* back: read at the next refresh, with the owners read at the rebuild */
	assert_int_equal(allocate_retrying(s, 2, "late", "c1", 8000, &rep), 200);
	assert_string_equal(rep.container.id, first.container.id);
	assert_int_equal(rep.init, 0);
	stop_all_sched(s, 2);
	th_stop(agent, SIGTERM, 3000);
}

static int metric(const struct sched *s, const char *line)
{
	char url[96], *body = NULL;
	int found = 0;

	snprintf(url, sizeof(url), "%s/metrics", s->url);
	if (th_http("GET", url, NULL, NULL, 0, &body) == 200 && body)
		found = strstr(body, line) != NULL;
	free(body);
	return found;
}

/* Keeps an agent's registration alive while the agent itself is stopped:
 * a host that is registered but does not answer. */
struct keep_reg {
	char key[128];
	atomic_int stop;
};

static void *keep_reg_thread(void *arg)
{
	struct keep_reg *k = arg;
	redisContext *rc = redis_connect();

	if (!rc)
		return NULL;
	while (!atomic_load(&k->stop)) {
		freeReplyObject(hc_redis_sync_cmd(rc, NULL, "PEXPIRE %s 1000", k->key));
		th_sleep_ms(100);
	}
	redisFree(rc);
	return NULL;
}

/* A host still registered but not answering while a new leader rebuilds
 * (its agent stopped, its registration kept alive) is left out of the
 * pool, not opened empty; once it answers, a refresh restores its free
 * warm container with the owner read at the rebuild. */
static void test_host_silent_during_rebuild(void **state)
{
	struct sched s[2];
	struct pr_alloc_reply rep, first;
	struct keep_reg k;
	pthread_t t;
	pid_t agent;
	int aport, l, n;

	memset(&k, 0, sizeof(k));
	assert_int_equal(start_agent(&agent, &aport, "agent-silent"), 0);
	l = two_scheds(s, "h0", "h1", "");
	n = 1 - l;
	free_warm(s, l, aport, "silent", &first);

	snprintf(k.key, sizeof(k.key), PR_KEY_AGENT, "agent-silent");
	assert_int_equal(pthread_create(&t, NULL, keep_reg_thread, &k), 0);
	assert_int_equal(kill(agent, SIGSTOP), 0);
	th_stop(s[l].pid, SIGKILL, 1000);
	s[l].pid = 0;
	assert_true(wait_leader(s, 2, LEASE_MS + 4000) == n);
	/* the rebuild's GET /containers times out (agent-timeout, 2 s): the
	 * host is left out (parked while each refresh tries to list it) */
	th_sleep_ms(3000);
	assert_int_equal(kill(agent, SIGCONT), 0);
	atomic_store(&k.stop, 1);
	pthread_join(t, NULL);
	/* it answers again: listed at a refresh, its container still c1's */
	assert_int_equal(allocate_retrying(s, 2, "silent", "c1", 8000, &rep), 200);
	assert_string_equal(rep.container.id, first.container.id);
	assert_int_equal(rep.init, 0);
	stop_all_sched(s, 2);
	th_stop(agent, SIGTERM, 3000);
}

/* One agent (agent_id) and one scheduler (sched_id, s[0]) that leads. */
static void one_host_one_leader(struct sched *s, pid_t *agent, int *aport, const char *agent_id,
				const char *sched_id, const char *prewarm)
{
	memset(s, 0, sizeof(*s));
	assert_int_equal(start_agent(agent, aport, agent_id), 0);
	assert_int_equal(start_sched(&s[0], sched_id, prewarm), 0);
	assert_true(wait_leader(s, 1, 5000) == 0);
}

/* A container whose process dies is destroyed; a host whose agent stops
 * heartbeating is dropped with its containers. */
static void test_dead_container_and_lost_host(void **state)
{
	struct sched s[1];
	struct pr_alloc_reply a, b;
	pid_t agent;
	int aport;

	one_host_one_leader(s, &agent, &aport, "agent-lost", "d0", "");
	assert_int_equal(allocate_retrying(s, 1, "dies", "c1", 5000, &a), 200);
	assert_int_equal(allocate_retrying(s, 1, "stays", "c1", 5000, &b), 200);
	assert_true(a.container.pid > 0 && b.container.pid > 0);

	/* The runtime process dies: the agent says so, the scheduler forgets it. */
	kill(a.container.pid, SIGKILL);
	TH_RETRY(3000, 50) {
		if (post_ref(&s[0], "/busy", a.container.id) == 404)
			break;
	}
	assert_int_equal(post_ref(&s[0], "/busy", a.container.id), 404);
	assert_int_equal(post_ref(&s[0], "/busy", b.container.id), 204);

	/* The agent dies without a word: its registration expires (3 heartbeats). */
	th_stop(agent, SIGKILL, 1000);
	kill(b.container.pid, SIGKILL); /* the process backend's child outlives it */
	TH_RETRY(5000, 50) {
		if (metric(&s[0], "hearth_scheduler_hosts_lost_total 1"))
			break;
	}
	assert_true(metric(&s[0], "hearth_scheduler_hosts_lost_total 1"));
	assert_int_equal(post_ref(&s[0], "/release", b.container.id), 404);
	char *body = NULL;
	assert_int_equal(allocate(&s[0], "after", "c1", &body), 429);
	free(body);
	stop_all_sched(s, 1);
}

/* A controller that dies (its registration expires) while it holds a busy
 * container gives it up: the scheduler destroys it at a refresh and its
 * memory serves the next allocation. The agent has room for exactly one
 * container of this size, so without that the allocation would get 429. */
static void test_owner_gone_frees_busy(void **state)
{
	struct sched s[1];
	struct pr_alloc_reply a, b;
	pid_t agent;
	int aport;

	one_host_one_leader(s, &agent, &aport, "agent-owner", "o0", "");
	/* "short" lives for 3 s and is never heard of again */
	assert_int_equal(set_controller("short", 3000), 0);
	assert_int_equal(allocate_big(&s[0], "held", "short", 8000, &a), 200);
	char *body = NULL;
	assert_int_equal(allocate_big_once(&s[0], "other", "c1", &body), 429);
	free(body);
	/* gone after 3 s, noticed at the next refresh (200 ms) */
	assert_int_equal(allocate_big(&s[0], "other", "c1", 8000, &b), 200);
	assert_string_not_equal(b.container.id, a.container.id);
	assert_int_equal(post_ref(&s[0], "/busy", a.container.id), 404);
	assert_int_equal(agent_count(aport), 1);
	stop_all_sched(s, 1);
	th_stop(agent, SIGTERM, 3000);
}

/* The answer that hands a container over goes out only once Redis has
 * its owner: a leader stopped right after answering must not leave a busy
 * container that the next leader finds without an owner and reclaims under
 * a running activation. Redis holds every write back for 400 ms (CLIENT
 * PAUSE WRITE; reads go on), and a stem cell is handed over meanwhile: the
 * owner must be readable as soon as the answer is. */
static void test_owner_stored_before_answer(void **state)
{
	struct sched s[1];
	struct pr_alloc_reply a;
	pid_t agent;
	int aport;

	one_host_one_leader(s, &agent, &aport, "agent-pause", "w0", "nodejs:20:128:1");
	TH_RETRY(5000, 20) {
		if (metric(&s[0], "hearth_scheduler_containers{state=\"prewarm\"} 1"))
			break;
	}
	assert_true(metric(&s[0], "hearth_scheduler_containers{state=\"prewarm\"} 1"));
	/* within the lease: renewals wait 400 ms, the lease is 1 s */
	redisContext *rc = redis_connect();
	assert_non_null(rc);
	redisReply *r = hc_redis_sync_cmd(rc, NULL, "CLIENT PAUSE 400 WRITE");
	assert_true(r && r->type == REDIS_REPLY_STATUS);
	freeReplyObject(r);
	char *body = NULL;
	assert_int_equal(allocate(&s[0], "paused", "c1", &body), 200);
	assert_int_equal(take_reply(body, &a), 200);
	assert_int_equal(a.init, 1); /* the stem cell */
	r = hc_redis_sync_cmd(rc, NULL, "HGET %s %s", PR_KEY_OWNERS, a.container.id);
	assert_true(r && r->type == REDIS_REPLY_STRING);
	assert_string_equal(r->str, "c1");
	freeReplyObject(r);

	/* The same for /busy taking over a free container nobody owns: its
	 * owner "short" lives 1 s, then the container is nobody's. */
	assert_int_equal(set_controller("short", 1000), 0);
	struct pr_alloc_reply b;
	assert_int_equal(allocate_retrying(s, 1, "busy", "short", 5000, &b), 200);
	assert_int_equal(post_ref_as(&s[0], "/release", b.container.id, "short"), 204);
	assert_int_equal(wait_owner(b.container.id, NULL, 5000), 0);
	r = hc_redis_sync_cmd(rc, NULL, "CLIENT PAUSE 400 WRITE");
	assert_true(r && r->type == REDIS_REPLY_STATUS);
	freeReplyObject(r);
	assert_int_equal(post_ref(&s[0], "/busy", b.container.id), 204);
	r = hc_redis_sync_cmd(rc, NULL, "HGET %s %s", PR_KEY_OWNERS, b.container.id);
	assert_true(r && r->type == REDIS_REPLY_STRING);
	assert_string_equal(r->str, "c1");
	freeReplyObject(r);
	redisFree(rc);
	stop_all_sched(s, 1);
	th_stop(agent, SIGTERM, 3000);
}

/* The same across a failover: the new leader restores the busy container
 * with its owner from Redis and watches that owner too. "short" outlives
 * the rebuild (seen registered, then gone), or if the machine is slow
 * expires before it (never seen: gone after SCH_CTL_UNSEEN_GRACE_MS). */
static void test_owner_gone_after_failover(void **state)
{
	struct sched s[2];
	struct pr_alloc_reply a, b;
	pid_t agent;
	int aport, l, n;

	assert_int_equal(start_agent(&agent, &aport, "agent-owner-fo"), 0);
	l = two_scheds(s, "w0", "w1", "");
	n = 1 - l;
	assert_int_equal(set_controller("short", 3000), 0);
	assert_int_equal(allocate_big(&s[l], "held", "short", 8000, &a), 200);
	/* the new leader must restore it busy with its owner, not reclaim it */
	assert_int_equal(wait_owner(a.container.id, "short", 3000), 0);
	th_stop(s[l].pid, SIGKILL, 1000);
	s[l].pid = 0;
	assert_true(wait_leader(s, 2, LEASE_MS + 4000) == n);
	assert_int_equal(allocate_big(&s[n], "other", "c1", 16000, &b), 200);
	assert_string_not_equal(b.container.id, a.container.id);
	assert_int_equal(agent_count(aport), 1);
	stop_all_sched(s, 2);
	th_stop(agent, SIGTERM, 3000);
}

/* A leader stopped with SIGTERM hands its lease back: the standby takes
 * over at its next attempt, well before the lease would have lapsed. */
static void test_graceful_handover(void **state)
{
	struct sched s[2];
	struct pr_sched_health h;
	int l, l2;

	l = two_scheds(s, "g0", "g1", "");
	assert_int_equal(health(&s[l], &h), 0);
	int64_t e1 = h.epoch;
	th_sleep_ms(300); /* a renew has happened: the lease is fresh */
	uint64_t t0 = hc_mono_us();
	th_stop(s[l].pid, SIGTERM, 2000);
	s[l].pid = 0;
	l2 = wait_leader(s, 2, LEASE_MS + 3000);
	uint64_t took_ms = (hc_mono_us() - t0) / 1000;
	assert_true(l2 >= 0 && l2 != l);
	printf("# handover after SIGTERM took %llu ms (lease %d ms)\n", (unsigned long long)took_ms,
	       LEASE_MS);
	assert_true(took_ms < LEASE_MS - 200);
	assert_int_equal(health(&s[l2], &h), 0);
	assert_true(h.epoch > e1);
	stop_all_sched(s, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_failover_sigkill, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_standby_redirect_and_auth, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sigstop_leader, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_alloc_during_failover, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_host_down_during_rebuild, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_host_silent_during_rebuild, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dead_container_and_lost_host, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_owner_gone_frees_busy, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_owner_gone_after_failover, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_owner_stored_before_answer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_graceful_handover, setup, teardown),
	};
	return cmocka_run_group_tests_name("it_scheduler", tests, NULL, NULL);
}
