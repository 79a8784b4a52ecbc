/* id.c — random ids and strings from getrandom(2) (see id.h). */
#include "common/id.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"

int hc_random_bytes(void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n > 0) {
		ssize_t r = getrandom(p, n, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Fallback when getrandom fails (ENOSYS under old seccomp profiles): a
 * splitmix64 stream seeded from time and pid. Ids stay unique in practice;
 * nothing secret depends on them. */
static pthread_mutex_t fallback_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t fallback_state;

static uint64_t splitmix64(void)
{
	uint64_t z;

	pthread_mutex_lock(&fallback_lock);
	if (!fallback_state)
		fallback_state = hc_mono_us() ^ (hc_now_us() << 16) ^ ((uint64_t)getpid() << 40);
	z = (fallback_state += 0x9e3779b97f4a7c15ull);
	pthread_mutex_unlock(&fallback_lock);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void random_fill(void *buf, size_t n)
{
	unsigned char *p = buf;

	if (hc_random_bytes(buf, n) == 0)
		return;
	while (n > 0) {
		uint64_t v = splitmix64();
		size_t k = n < sizeof(v) ? n : sizeof(v);

		memcpy(p, &v, k);
		p += k;
		n -= k;
	}
}

/* Ids are made on every request (activation ids): draw them from a
 * per-thread pool of getrandom(2) bytes, one syscall per 64 ids. A forked
 * child starts with an empty pool, so it never repeats its parent's ids. */
#define ID_POOL 1024
static __thread unsigned char id_pool[ID_POOL];
static __thread size_t id_pool_left;
static pthread_once_t id_atfork_once = PTHREAD_ONCE_INIT;

static void id_pool_forget(void)
{
	id_pool_left = 0;
}

static void id_atfork(void)
{
	pthread_atfork(NULL, NULL, id_pool_forget);
}

static void id_random(unsigned char *raw, size_t n)
{
	if (id_pool_left < n) {
		pthread_once(&id_atfork_once, id_atfork);
		random_fill(id_pool, sizeof(id_pool));
		id_pool_left = sizeof(id_pool);
	}
	id_pool_left -= n;
	memcpy(raw, id_pool + id_pool_left, n);
	memset(id_pool + id_pool_left, 0, n); /* used bytes do not linger */
}

void hc_id_new(char *out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[HC_ID_LEN / 2];
	size_t i;

	id_random(raw, sizeof(raw));
	for (i = 0; i < sizeof(raw); i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 0xf];
	}
	out[HC_ID_LEN] = '\0';
}

int hc_id_valid(const char *s)
{
	size_t i;

	if (!s)
		return 0;
	for (i = 0; i < HC_ID_LEN; i++) {
		char c = s[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return 0;
	}
	return s[HC_ID_LEN] == '\0';
}

void hc_random_alnum(char *out, size_t n)
{
	static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char raw[64];
	size_t i = 0, have = 0, pos = 0;

	/* Rejection sampling: 62 * 4 = 248, so bytes >= 248 are dropped and the
	 * remaining ones map onto the set without bias. */
	while (i < n) {
		unsigned char c;

		if (pos == have) {
			random_fill(raw, sizeof(raw));
			have = sizeof(raw);
			pos = 0;
		}
		c = raw[pos++];
		if (c >= 248)
			continue;
		out[i++] = set[c % 62];
	}
	out[n] = '\0';
}
