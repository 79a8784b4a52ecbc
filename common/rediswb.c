/* common/rediswb.c — the write-behind block of fire-and-forget commands and
 * the folds that gather values for one command (redis.h:
 * hc_redis_cmdargv_later, hc_redis_fold_later).
 *
 * Fire-and-forget commands (hc_redis_cmdargv_later without a callback)
 * gather in r->wb and go to hiredis as one block framed by CLIENT REPLY OFF
 * and CLIENT REPLY ON: the server answers the whole block with the one +OK
 * of the ON, so neither it nor we handle a reply per command (per warm
 * invoke, the record's SET and ZADD replies had cost the controller more
 * than writing them). The block is handed over before any other command
 * (order is kept), when redisev writes (its write-behind timer, armed by
 * the first command of a block), or when it is full. A server without
 * CLIENT REPLY (probed at connect) gets the commands one by one. */
#include "common/redis_int.h"

#include "common/redisev.h"

#define WB_MAX_CMDS    128
#define WB_MAX_BYTES   (512 << 10)
#define FOLD_MAX_BYTES (WB_MAX_BYTES / 4)
static const char wb_off[] = "*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$3\r\nOFF\r\n";
static const char wb_on[] = "*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$2\r\nON\r\n";

/* Hand wb to hiredis as it is. */
static void wb_send(struct hc_redis *r)
{
	struct hc_rcmd *c;

	if (r->wb_n && r->state == RS_READY && r->ac &&
	    hc_buf_add(&r->wb, wb_on, sizeof wb_on - 1) == 0 && (c = calloc(1, sizeof *c))) {
		c->r = r;
		if (redisAsyncFormattedCommand(r->ac, hc_rd_on_reply, c, r->wb.data, r->wb.len) !=
		    REDIS_OK)
			hc_rd_cmd_free(c);
	}
	hc_buf_reset(&r->wb);
	r->wb_n = 0;
}

/* Room in wb for a command of up to need bytes (sending wb first when it is
 * full); the new command is written at the end. NULL: too big for a block. */
static char *wb_room(struct hc_redis *r, size_t need)
{
	size_t frame = sizeof wb_off + sizeof wb_on;

	if (need + frame > WB_MAX_BYTES)
		return NULL;
	if (r->wb.len + need + frame > WB_MAX_BYTES)
		wb_send(r);
	if (hc_buf_reserve(&r->wb, need + frame) < 0)
		return NULL;
	if (!r->wb_n)
		hc_buf_add(&r->wb, wb_off, sizeof wb_off - 1); /* fits: reserved */
	return r->wb.data + r->wb.len;
}

static void wb_added(struct hc_redis *r, char *end)
{
	r->wb.len = (size_t)(end - r->wb.data);
	r->wb.data[r->wb.len] = '\0';
	r->wb_n++;
}

/* A fold becomes one command in wb. */
static void fold_close(struct hc_redis *r, struct hc_rfold *f)
{
	char *p;

	if (!f->n)
		return;
	if ((p = wb_room(r, f->b.len + f->cmdlen + f->keylen + 64))) {
		p = resp_len(p, '*', f->concat ? 3 : 2 + (size_t)f->n);
		p = resp_bulk(p, f->cmd, f->cmdlen);
		p = resp_bulk(p, f->key, f->keylen);
		if (f->concat)
			p = resp_bulk(p, f->b.data, f->b.len);
		else {
			memcpy(p, f->b.data, f->b.len);
			p += f->b.len;
		}
		wb_added(r, p);
	}
	r->fold_n -= f->n;
	f->n = 0;
	hc_buf_reset(&f->b);
}

static void folds_close(struct hc_redis *r)
{
	for (int i = 0; i < HC_REDIS_FOLDS; i++)
		fold_close(r, &r->fold[i]);
}

void hc_rd_wb_emit(struct hc_redis *r)
{
	folds_close(r);
	wb_send(r);
}

void hc_rd_wb_hook(void *arg)
{
	hc_rd_wb_emit(arg);
}

/* After a command or value was added: a full block goes now (redisev
 * writes it in this pass), else the write-behind timer is armed (unless it
 * is already). */
static void wb_later(struct hc_redis *r)
{
	if (r->wb_n + r->fold_n >= WB_MAX_CMDS)
		hc_rd_wb_emit(r);
	else
		hc_redisev_arm(r->ac);
}

/* Whether commands may go into the write-behind block now. */
static int wb_usable(const struct hc_redis *r)
{
	return r->wb_ok && r->state == RS_READY && r->ac;
}

int hc_redis_cmdargv_later(struct hc_redis *r, hc_redis_cb cb, void *arg, int argc,
			   const char **argv, const size_t *argvlen)
{
	char *p = NULL;

	if (argc > 0 && !hc_rd_multi_reply_command(argv[0], arg_len(argv, argvlen, 0)) && !cb &&
	    wb_usable(r)) {
		folds_close(r); /* what was called before goes before */
		p = wb_room(r, resp_size(argc, argv, argvlen));
	}
	if (!p) {
		/* with a reply to deliver, or too big for a block: queued now,
		 * written behind by redisev (refused there if malformed) */
		if (r->ac)
			hc_redisev_later(r->ac, 1);
		int rc = hc_redis_cmdargv(r, cb, arg, argc, argv, argvlen);
		if (r->ac)
			hc_redisev_later(r->ac, 0);
		return rc;
	}
	wb_added(r, resp_argv(p, argc, argv, argvlen));
	wb_later(r);
	return 0;
}

/* The open fold for cmd and key, or a new one in place of the older. */
static struct hc_rfold *fold_for(struct hc_redis *r, int concat, const char *cmd, size_t cmdlen,
				 const char *key, size_t keylen)
{
	struct hc_rfold *old = &r->fold[0];
	for (int i = 0; i < HC_REDIS_FOLDS; i++) {
		struct hc_rfold *f = &r->fold[i];
		if (f->n && f->concat == concat && f->cmdlen == cmdlen && f->keylen == keylen &&
		    memcmp(f->cmd, cmd, cmdlen) == 0 && memcmp(f->key, key, keylen) == 0)
			return f;
		if (!f->n || (old->n && f->used < old->used))
			old = f;
	}
	fold_close(r, old);
	old->concat = concat;
	memcpy(old->cmd, cmd, cmdlen);
	old->cmdlen = cmdlen;
	memcpy(old->key, key, keylen);
	old->keylen = keylen;
	return old;
}

int hc_redis_fold_later(struct hc_redis *r, enum hc_fold_kind kind, const char *cmd,
			const char *key, size_t keylen, const char *val, size_t vallen)
{
	size_t cmdlen = strlen(cmd);
	int concat = kind == HC_FOLD_CONCAT;

	if (!wb_usable(r) || cmdlen >= sizeof r->fold[0].cmd || keylen >= sizeof r->fold[0].key ||
	    vallen + 64 > FOLD_MAX_BYTES) {
		const char *argv[] = {cmd, key, val};
		const size_t argvlen[] = {cmdlen, keylen, vallen};
		return hc_redis_cmdargv_later(r, NULL, NULL, 3, argv, argvlen);
	}
	struct hc_rfold *f = fold_for(r, concat, cmd, cmdlen, key, keylen);
	if (f->n && f->b.len + vallen + 64 > FOLD_MAX_BYTES)
		fold_close(r, f); /* full: this value starts it again */
	if (hc_buf_reserve(&f->b, vallen + 64) < 0)
		return -1;
	if (concat) {
		memcpy(f->b.data + f->b.len, val, vallen);
		f->b.len += vallen;
	} else {
		f->b.len = (size_t)(resp_bulk(f->b.data + f->b.len, val, vallen) - f->b.data);
	}
	f->b.data[f->b.len] = '\0';
	f->n++;
	f->used = ++r->fold_seq;
	r->fold_n++;
	wb_later(r);
	return 0;
}

void hc_rd_wb_init(struct hc_redis *r)
{
	hc_buf_init(&r->wb, WB_MAX_BYTES);
	for (int i = 0; i < HC_REDIS_FOLDS; i++)
		hc_buf_init(&r->fold[i].b, FOLD_MAX_BYTES);
}

void hc_rd_wb_free(struct hc_redis *r)
{
	hc_buf_free(&r->wb);
	for (int i = 0; i < HC_REDIS_FOLDS; i++)
		hc_buf_free(&r->fold[i].b);
}
