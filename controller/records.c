/* controller/records.c — write an activation record, packed
 * (pr_activation_pack: a warm noop's record is ~110 bytes where OpenWhisk's
 * object is ~500). Fire and forget, write-behind on the loop's Redis
 * connection: a loop sends the records of up to 5 ms in one write, as
 * one block the server does not answer command by command; the records of
 * one bucket and the ids of one index slice written in a row share one
 * APPEND and one RPUSH (the record write was a third of the controller's
 * CPU per warm invoke, and Redis's was as much again).
 *
 * Each record is a line of its creation time's log (proto/keys.h), and its
 * id pushed on its action's index slice for its start second in the
 * invoking namespace. The log gets its TTL once per loop, bucket and
 * second, before its lines; a slice gets its TTL, its name in the second's
 * names and its place in the directories once per loop, slice and second
 * (announce_slice). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/redis.h"
#include "controller/records.h"
#include "proto/activation.h"
#include "proto/keys.h"
#include "proto/runtime.h"

/* What a loop has announced lately (slices, namespace seconds, action
 * directories), by a hash of their key, two per set: an entry pushed out
 * only costs its few commands again, and 4096 sets keep that rare with a
 * thousand actions busy at once. 128 KiB per loop, resident as it is
 * used. */
#define SEEN_SETS 4096
struct ctl_seen {
	uint64_t h, at;
};

/* A loop's part: the announce table on the heap, whose pages are not
 * touched before they are used (a __thread array was zeroed, so resident,
 * in every thread), and the bucket whose TTL was sent last. */
struct ctl_records {
	struct ctl_seen seen[2 * SEEN_SETS];
	char last_key[40];
	uint64_t last_exp;
};

int ctl_records_loop_init(struct ctl_loop *L)
{
	L->records = calloc(1, sizeof(*L->records));
	return L->records ? 0 : -1;
}

void ctl_records_loop_fini(struct ctl_loop *L)
{
	free(L->records);
	L->records = NULL;
}

/* The slot for hash h at now in L's table: -1 when h was announced less
 * than window ms ago, else its own slot or, in its set, the older one. */
static int seen_slot(const struct ctl_loop *L, uint64_t h, uint64_t now, uint64_t window)
{
	const struct ctl_seen *seen = L->records->seen;
	unsigned i = (unsigned)(h % SEEN_SETS) * 2;
	for (unsigned w = i; w < i + 2; w++)
		if (seen[w].h == h)
			return now - seen[w].at < window ? -1 : (int)w;
	return (int)(seen[i].at <= seen[i + 1].at ? i : i + 1);
}

static void seen_mark(struct ctl_loop *L, int i, uint64_t h, uint64_t now)
{
	L->records->seen[i].h = h;
	L->records->seen[i].at = now;
}

static uint64_t key_hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

/* The slice's TTL did not take (Redis gone, or the key missing): announce
 * it again with its next record. arg: its entry in the loop's table, which
 * is freed after the loop's Redis client (whose callbacks run first). */
static void on_slice_ttl(redisReply *r, void *arg)
{
	struct ctl_seen *e = arg;
	if (!r || r->type != REDIS_REPLY_INTEGER || r->integer != 1)
		e->at = 0;
}

/* A directory (PR_KEY_ACT_DIR) drops its slices expired before cut and
 * lives dttl past now. */
static int dir_trim(struct ctl_loop *L, const struct hc_buf *dk, const struct hc_buf *cut,
		    const struct hc_buf *dttl)
{
	const char *trim[] = {"ZREMRANGEBYSCORE", dk->data, "-inf", cut->data};
	const size_t triml[] = {16, dk->len, 4, cut->len};
	const char *exp[] = {"PEXPIRE", dk->data, dttl->data};
	const size_t expl[] = {7, dk->len, dttl->len};
	return hc_redis_cmdargv(L->redis, NULL, NULL, 4, trim, triml) |
	       hc_redis_cmdargv(L->redis, NULL, NULL, 3, exp, expl);
}

/* Slice number sl (its own score) into the directory dk. */
static int dir_add(struct ctl_loop *L, const struct hc_buf *dk, const struct hc_buf *sl)
{
	const char *add[] = {"ZADD", dk->data, sl->data, sl->data};
	const size_t addl[] = {4, dk->len, sl->len, sl->len};
	return hc_redis_cmdargv(L->redis, NULL, NULL, 4, add, addl);
}

/* The index keys around a record's slice, each sent once per loop and
 * window (the seen table), after the write-behind block that holds the
 * slice's RPUSH, which these commands' replies make Redis flush first
 * (order is kept), so no TTL lands on a key that does not exist yet:
 *  - per action and second: the slice's TTL (its end + ttl; a slice that
 *    expired meanwhile and gets a late record must have it again), the
 *    name in the second's names, the second in the action's directory;
 *  - per namespace and second: the names' TTL (the slices'), the second in
 *    the namespace's directory, which drops its expired seconds and lives
 *    past its newest (that ends by about now + one slice and lives ttl);
 *  - per action and minute: the action's directory trimmed, and its TTL
 *    pushed past its newest slice's, with a minute to spare. */
static void announce_slice(struct ctl_loop *L, const struct pr_activation *a, const char *iname,
			   uint64_t t, const char *skey, size_t sklen, uint64_t ttl, uint64_t now)
{
	uint64_t h = key_hash(skey, sklen), slice = t / PR_ACT_SLICE_MS;
	int i = seen_slot(L, h, now, 1000);
	if (i < 0)
		return;
	char nkey[300], dkey[300], akey[900], at[24], sl[24], cut[24], dttl[24], attl[24];
	struct hc_buf nb = HC_BUF_FIXED(nkey), db = HC_BUF_FIXED(dkey), adb = HC_BUF_FIXED(akey);
	struct hc_buf ab = HC_BUF_FIXED(at), lb = HC_BUF_FIXED(sl);
	struct hc_buf cb = HC_BUF_FIXED(cut), tb = HC_BUF_FIXED(dttl), atb = HC_BUF_FIXED(attl);
	/* expired: slice + 1 <= (now - ttl) / SLICE, i.e. slice < that */
	uint64_t old = now > ttl ? (now - ttl) / PR_ACT_SLICE_MS : 0;
	if (pr_activation_names_key(&nb, a->subject, t) |
	    pr_activation_dir_key(&db, a->subject, NULL) |
	    pr_activation_dir_key(&adb, a->subject, iname) |
	    hc_buf_add_int(&ab, (int64_t)((slice + 1) * PR_ACT_SLICE_MS + ttl)) |
	    hc_buf_add_int(&lb, (int64_t)slice) | hc_buf_addc(&cb, '(') |
	    hc_buf_add_int(&cb, (int64_t)old) |
	    hc_buf_add_int(&tb, (int64_t)(ttl + 2 * PR_ACT_SLICE_MS)) |
	    hc_buf_add_int(&atb, (int64_t)(ttl + 2 * PR_ACT_SLICE_MS + 60000)))
		return;
	const char *exp[] = {"PEXPIREAT", skey, at};
	const size_t expl[] = {9, sklen, ab.len};
	const char *name[] = {"SADD", nkey, iname};
	const size_t namel[] = {4, nb.len, strlen(iname)};
	const char *nexp[] = {"PEXPIREAT", nkey, at};
	const size_t nexpl[] = {9, nb.len, ab.len};
	if (hc_redis_cmdargv(L->redis, on_slice_ttl, &L->records->seen[i], 3, exp, expl) < 0 ||
	    hc_redis_cmdargv(L->redis, NULL, NULL, 3, name, namel) < 0 || dir_add(L, &adb, &lb) < 0)
		return;
	seen_mark(L, i, h, now);
	uint64_t hn = key_hash(nkey, nb.len);
	int j = seen_slot(L, hn, now, 1000);
	if (j >= 0 && hc_redis_cmdargv(L->redis, NULL, NULL, 3, nexp, nexpl) == 0 &&
	    dir_add(L, &db, &lb) == 0 && dir_trim(L, &db, &cb, &tb) == 0)
		seen_mark(L, j, hn, now);
	uint64_t ha = key_hash(akey, adb.len);
	int k = seen_slot(L, ha, now, 60000);
	if (k >= 0 && dir_trim(L, &adb, &cb, &atb) == 0)
		seen_mark(L, k, ha, now);
}

/* The TTL of the bucket kb (id's): for a log, sent before its first line
 * of the second as SET "" NX with the TTL, so the key has its TTL from the
 * moment it exists (APPEND keeps it), even if the connection dies before
 * the rest of the block; once per loop, bucket and second is enough (a
 * bucket that expired meanwhile and gets a late record gets it again).
 * For a hash (big records), PEXPIREAT right after every HSET, in the same
 * block. */
static void bucket_ttl(struct ctl_loop *L, const struct hc_buf *kb, const char *id, uint64_t ttl,
		       uint64_t now, int hash)
{
	struct ctl_records *R = L->records;
	if (!hash && strcmp(kb->data, R->last_key) == 0 && now - R->last_exp < 1000)
		return;
	char at[24];
	struct hc_buf ab = HC_BUF_FIXED(at);
	hc_buf_add_int(&ab, (int64_t)pr_activation_expiry(id, ttl, now));
	const char *set[] = {"SET", kb->data, "", "PXAT", at, "NX"};
	const size_t setl[] = {3, kb->len, 0, 4, ab.len, 2};
	const char *exp[] = {"PEXPIREAT", kb->data, at};
	const size_t expl[] = {9, kb->len, ab.len};
	int rc = hash ? hc_redis_cmdargv_later(L->redis, NULL, NULL, 3, exp, expl)
		      : hc_redis_cmdargv_later(L->redis, NULL, NULL, 6, set, setl);
	/* not when it may be lost: Redis gone, the command failing later */
	if (rc == 0 && !hash && hc_redis_connected(L->redis)) {
		memcpy(R->last_key, kb->data, kb->len + 1);
		R->last_exp = now;
	}
}

/* Store a's record: line is "\n<id> <packed>", the packed text from
 * line + head. Appended to the bucket's log (a big record: a field of the
 * bucket's hash), its id pushed on its index slice, the slice announced.
 * The slice is the id's second, the record's start (ctl_inv_new), as the
 * reader takes the id's time to be: the index stays ordered even where a
 * forwarded activation's start could not be its id's time. */
static int write_line(struct ctl_loop *L, const struct hc_buf *line, size_t head,
		      const struct pr_activation *a)
{
	struct ctl *c = L->ctl;
	char key[40], skey[900], ibuf[2 * PR_NAME_MAX + 2];
	/* listed by name, or "pkg/name" for an action in a package */
	const char *iname = pr_activation_index_name(a, ibuf, sizeof ibuf);
	uint64_t ttl = (uint64_t)c->cfg.activation_ttl_ms, now = hc_now_ms();
	uint64_t t = pr_activation_id_ms(a->id);
	size_t idlen = strlen(a->id);
	/* no printf here: it cost more than the rest of the write */
	struct hc_buf kb = HC_BUF_FIXED(key), sk = HC_BUF_FIXED(skey);
	int big = line->len - head > PR_ACT_LOG_MAX;
	if ((big ? pr_activation_key(&kb, a->id) : pr_activation_log_key(&kb, a->id)) |
	    pr_activation_slice_key(&sk, a->subject, iname, t))
		return -1; /* cannot happen with valid ids and names */
	if (big) {
		/* argv form: hiredis formats a printf-style command byte by
		 * byte */
		const char *hset[] = {"HSET", key, a->id, line->data + head};
		const size_t hsetl[] = {4, kb.len, idlen, line->len - head};
		if (hc_redis_cmdargv_later(L->redis, NULL, NULL, 4, hset, hsetl) < 0)
			return -1;
		bucket_ttl(L, &kb, a->id, ttl, now, 1);
	} else {
		bucket_ttl(L, &kb, a->id, ttl, now, 0);
		if (hc_redis_fold_later(L->redis, HC_FOLD_CONCAT, "APPEND", key, kb.len, line->data,
					line->len) < 0)
			return -1;
	}
	/* the ids of one slice written together share one RPUSH */
	if (hc_redis_fold_later(L->redis, HC_FOLD_ARGS, "RPUSH", skey, sk.len, a->id, idlen) < 0)
		return -1;
	announce_slice(L, a, iname, t, skey, sk.len, ttl, now);
	return 0;
}

/* a's line, "\n<id> <packed>", into b: 0, or -1 when b is full. */
static int add_line(struct hc_buf *b, const struct pr_activation *a, const char *result_json,
		    size_t result_len)
{
	if (hc_buf_addc(b, '\n') | hc_buf_adds(b, a->id) | hc_buf_addc(b, ' '))
		return -1;
	return pr_activation_pack(b, a, result_json, result_len);
}

int ctl_record_store(struct ctl_loop *L, const struct pr_activation *a, const char *result_json,
		     size_t result_len)
{
	/* a record with a small result packs on the stack: no allocation */
	char stack[2048];
	struct hc_buf b = HC_BUF_FIXED(stack);
	int rc = -1;
	if (add_line(&b, a, result_json, result_len) < 0) {
		hc_buf_init(&b, PR_RT_RESULT_MAX + (1u << 20)); /* the result and the rest */
		if (hc_buf_reserve(&b, 1024 + result_len) < 0 ||
		    add_line(&b, a, result_json, result_len) < 0)
			goto out;
	}
	size_t head = 1 + strlen(a->id) + 1; /* where the packed text starts */
	/* a raw newline would end the line early: in the container's result
	 * text (packing makes none) it can only be JSON whitespace */
	for (char *p = b.data + head; (p = memchr(p, '\n', b.len - (size_t)(p - b.data)));)
		*p = ' ';
	rc = write_line(L, &b, head, a);
out:
	if (b.data != stack)
		hc_buf_free(&b);
	return rc;
}
