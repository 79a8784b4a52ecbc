/* controller/activations.c — the activation read API (list, get, logs,
 * result); records are written by rectext.c.
 *
 * Logs are written by the agent to PR_KEY_LOGS after the activation; a GET
 * merges them into the record when the record itself has none. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/id.h"
#include "common/json.h"
#include "common/log.h"
#include "common/str.h"
#include "controller/activations.h"
#include "controller/api.h"
#include "controller/records.h"
#include "proto/activation.h"
#include "proto/keys.h"

/* The records of ARGV's ids, each from its log KEYS[2i - 1] (the line
 * "\n<id> <packed>"), else its hash KEYS[2i] (big records, and those
 * written before the logs), or false; the last line of an id written
 * twice (a forwarded activation whose answer was lost is recorded by both
 * controllers). Ids of one bucket come together (a list is newest first),
 * so one log is held at a time. */
const char *const ctl_records_lua = "local r, lk, s = {}, nil, false\n"
				    "for i, id in ipairs(ARGV) do\n"
				    "  if KEYS[2 * i - 1] ~= lk then\n"
				    "    lk = KEYS[2 * i - 1]\n"
				    "    s = redis.call('GET', lk)\n"
				    "  end\n"
				    "  local v = false\n"
				    "  if s then\n"
				    "    local pat, at, x = '\\n' .. id .. ' ', nil, 0\n"
				    "    repeat\n"
				    "      x = string.find(s, pat, x + 1, true)\n"
				    "      at = x or at\n"
				    "    until not x\n"
				    "    if at then\n"
				    "      local e = string.find(s, '\\n', at + 1, true)\n"
				    "      v = string.sub(s, at + #id + 2, e and e - 1 or #s)\n"
				    "    end\n"
				    "  end\n"
				    "  r[i] = v or redis.call('HGET', KEYS[2 * i], id)\n"
				    "end\n"
				    "return r\n";

/* One call reads at most ARGV[11] slices of the range, newest first, from
 * the cursor ARGV[10] ("" = upto's slice) down to since's, and returns
 * {ids, count, skip left, next cursor ("" = done)}. A slice holds one list
 * of ids per action name: with ARGV[3] = "" every name in the slice's set
 * of names, else just that name's. Ids begin with their record's start ms
 * in 12 hex digits, so ordering ids orders records by start, then id.
 * Lists wholly inside the range are counted with LLEN and read with
 * SORT_RO (in C, only the ids wanted); those of the two slices at its ends
 * are sorted whole and cut from the id ARGV[13] to the id ARGV[14] (since
 * and upto as ids) by binary search; the names' ids are merged by sorting
 * them, an id written twice listed once. Whole slices are skipped by their
 * count. A call also stops after the slice where it has read ARGV[12]
 * lists, and the caller calls again from the cursor, so a count over a day
 * of busy seconds never holds Redis for more than a few milliseconds at a
 * time. The slices are read by names built here, which a standalone Redis
 * allows (not a cluster). */
const char *const ctl_index_lua =
    "local spre, npre, name = ARGV[1], ARGV[2], ARGV[3]\n"
    "local since, upto = tonumber(ARGV[4]), tonumber(ARGV[5])\n"
    "local skip, limit, count = tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8] == '1'\n"
    "local ms, max, budget = tonumber(ARGV[9]), tonumber(ARGV[11]), tonumber(ARGV[12])\n"
    "local s0 = math.floor(since / ms)\n"
    "local s1 = math.floor(upto / ms)\n"
    "local top = ARGV[10] ~= '' and ARGV[10] or s1\n"
    "local n, out, reads = 0, {}, 0\n"
    "local lo, hi = ARGV[13], ARGV[14]\n"
    "local function first(a, f)\n"
    "  local l, h = 1, #a + 1\n"
    "  while l < h do\n"
    "    local m = math.floor((l + h) / 2)\n"
    "    if f(a[m]) then h = m else l = m + 1 end\n"
    "  end\n"
    "  return l\n"
    "end\n"
    "local function below_hi(id) return id <= hi end\n"
    "local function below_lo(id) return id < lo end\n"
    "local function add(id)\n"
    "  if out[#out] ~= id then out[#out + 1] = id end\n"
    "end\n"
    "local function ranged(k)\n"
    "  local a = redis.call('SORT_RO', k, 'ALPHA', 'DESC')\n"
    "  return {a, first(a, below_hi), first(a, below_lo) - 1}\n"
    "end\n"
    "local sl = redis.call('ZREVRANGEBYSCORE', KEYS[1], top, s0, 'LIMIT', 0, max)\n"
    "for j, s in ipairs(sl) do\n"
    "  local sn = tonumber(s)\n"
    "  local whole = sn > s0 and sn < s1\n"
    "  local names = {name}\n"
    "  if name == '' then names = redis.call('SMEMBERS', npre .. s) end\n"
    "  local keys, part, c = {}, {}, 0\n"
    "  for i, nm in ipairs(names) do\n"
    "    keys[i] = spre .. nm .. ':' .. s\n"
    "    if whole then c = c + redis.call('LLEN', keys[i])\n"
    "    else\n"
    "      part[i] = ranged(keys[i])\n"
    "      c = c + part[i][3] - part[i][2] + 1\n"
    "    end\n"
    "  end\n"
    "  reads = reads + #names\n"
    "  if count then n = n + c\n"
    "  elseif skip >= c then skip = skip - c\n"
    "  else\n"
    "    local want = limit - #out\n"
    "    if whole and #keys == 1 then\n"
    "      local r = redis.call('SORT_RO', keys[1], 'ALPHA', 'DESC', 'LIMIT', skip, want)\n"
    "      for _, id in ipairs(r) do add(id) end\n"
    "    else\n"
    "      local got = {}\n"
    "      for i, k in ipairs(keys) do\n"
    "        if whole then\n"
    "          local r = redis.call('SORT_RO', k, 'ALPHA', 'DESC', 'LIMIT', 0, skip + want)\n"
    "          for _, id in ipairs(r) do got[#got + 1] = id end\n"
    "        else\n"
    "          local a, from, to = part[i][1], part[i][2], part[i][3]\n"
    "          for x = from, math.min(to, from + skip + want - 1) do got[#got + 1] = a[x] end\n"
    "        end\n"
    "      end\n"
    "      if #keys > 1 then table.sort(got, function(x, y) return x > y end) end\n"
    "      for i = skip + 1, math.min(#got, skip + want) do add(got[i]) end\n"
    "    end\n"
    "    skip = 0\n"
    "    if #out >= limit then return {out, n, 0, ''} end\n"
    "  end\n"
    "  if reads >= budget and j < #sl then return {out, n, skip, '(' .. s} end\n"
    "end\n"
    "local nxt = ''\n"
    "if #sl == max then nxt = '(' .. sl[#sl] end\n"
    "return {out, n, skip, nxt}\n";

/* Slices, and lists, read at most per call of ctl_index_lua (about a
 * millisecond of Redis). */
#define INDEX_SLICES_PER_CALL 256
#define INDEX_READS_PER_CALL  1024

struct rec_op {
	struct hc_req *req;
	struct ctl_loop *L;
	char ns[PR_NAME_MAX + 1];
	char id[HC_ID_LEN + 1];
	char name[PR_NAME_MAX + 1]; /* list filter, "" = none */
	int what;		    /* 0 record, 1 logs, 2 result */
	int docs;
	int64_t limit, skip; /* list: skip is what is still to skip in the index */
	cJSON *rec;
	/* list and count: the walk of the index (ctl_index_lua) */
	int count;
	int64_t since, upto;
	int64_t total;		    /* count=true: records counted so far */
	char cursor[32];	    /* where the next call starts, "" = upto */
	char (*ids)[HC_ID_LEN + 1]; /* the ids gathered, newest first */
	size_t nids, cap;
};

static void reply_take(struct hc_req *req, int status, cJSON *j)
{
	if (!j) {
		hc_reply_error(req, 500, "out of memory");
		return;
	}
	hc_reply_json(req, status, j);
	cJSON_Delete(j);
}

static void rec_free(struct rec_op *op)
{
	cJSON_Delete(op->rec);
	free(op->ids);
	free(op);
}

/* Redis did not answer, or not as it should: 503 and op is done. */
static void store_down(struct rec_op *op)
{
	hc_reply_error(op->req, 503, "the activation store is unreachable; retry shortly");
	rec_free(op);
}

static void on_logs(redisReply *r, void *arg)
{
	struct rec_op *op = arg;
	if (r && r->type == REDIS_REPLY_ARRAY && r->elements > 0) {
		cJSON *lines = cJSON_CreateArray();
		for (size_t i = 0; lines && i < r->elements; i++)
			if (r->element[i]->type == REDIS_REPLY_STRING)
				cJSON_AddItemToArray(lines, cJSON_CreateString(r->element[i]->str));
		if (lines)
			pr_activation_set_logs(op->rec, lines);
		cJSON_Delete(lines);
	}
	if (op->what == 1) {
		cJSON *o = cJSON_CreateObject();
		const cJSON *logs = cJSON_GetObjectItemCaseSensitive(op->rec, "logs");
		if (o)
			cJSON_AddItemToObject(
			    o, "logs", logs ? cJSON_Duplicate(logs, 1) : cJSON_CreateArray());
		reply_take(op->req, 200, o);
	} else {
		reply_take(op->req, 200, pr_activation_extended(op->rec));
	}
	rec_free(op);
}

static void on_record(redisReply *rr, void *arg)
{
	struct rec_op *op = arg;
	if (!rr || rr->type != REDIS_REPLY_ARRAY || rr->elements != 1) {
		store_down(op);
		return;
	}
	const redisReply *r = rr->element[0];
	if (r->type != REDIS_REPLY_STRING ||
	    !(op->rec = pr_activation_unpack(r->str, r->len, op->id))) {
		hc_reply_error(op->req, 404, "The requested resource does not exist.");
		goto done;
	}
	/* records live per invoking namespace; another's id is not ours to show */
	const cJSON *subj = cJSON_GetObjectItemCaseSensitive(op->rec, "subject");
	if (cJSON_IsString(subj) && strcmp(subj->valuestring, op->ns) != 0) {
		hc_reply_error(op->req, 404, "The requested resource does not exist.");
		goto done;
	}
	if (op->what == 2) {
		reply_take(op->req, 200, pr_activation_result(op->rec));
		goto done;
	}
	const cJSON *logs = cJSON_GetObjectItemCaseSensitive(op->rec, "logs");
	if (!cJSON_IsArray(logs) || cJSON_GetArraySize(logs) == 0) {
		char key[128];
		snprintf(key, sizeof(key), PR_KEY_LOGS, op->id);
		hc_redis_cmd(op->L->redis, on_logs, op, "LRANGE %s 0 -1", key);
		return;
	}
	on_logs(NULL, op);
	return;
done:
	rec_free(op);
}

/* The records of the n ids at ids (HC_ID_LEN + 1 bytes apart) to cb,
 * through ctl_records_lua. 0, or -1 when it could not be asked. */
static int fetch(struct rec_op *op, const char *ids, size_t n, hc_redis_cb cb)
{
	const char **argv = calloc(3 * n, sizeof(*argv));
	size_t *lens = calloc(3 * n, sizeof(*lens));
	char(*keys)[40] = calloc(2 * n, sizeof(*keys));
	int rc = -1;
	if (!argv || !lens || !keys)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const char *id = ids + i * (HC_ID_LEN + 1);
		struct hc_buf lb = HC_BUF_FIXED(keys[2 * i]), hb = HC_BUF_FIXED(keys[2 * i + 1]);
		pr_activation_log_key(&lb, id);
		pr_activation_key(&hb, id);
		argv[2 * i] = lb.data;
		lens[2 * i] = lb.len;
		argv[2 * i + 1] = hb.data;
		lens[2 * i + 1] = hb.len;
		argv[2 * n + i] = id;
		lens[2 * n + i] = strlen(id);
	}
	rc = hc_redis_eval(op->L->redis, &op->L->records_script, cb, op, (int)(2 * n), (int)(3 * n),
			   argv, lens);
out:
	free(argv);
	free(lens);
	free(keys);
	return rc;
}

static void get_one(struct hc_req *req, const struct ctl_caller *who, int what)
{
	const char *ns = ctl_req_ns(req, who);
	if (!ns)
		return;
	const char *id = hc_req_param(req, "id");
	if (!id || !hc_id_valid(id)) {
		hc_reply_error(req, 400, "The activation id is not valid.");
		return;
	}
	struct rec_op *op = calloc(1, sizeof(*op));
	if (!op) {
		hc_reply_error(req, 500, "out of memory");
		return;
	}
	op->req = req;
	op->L = ctl_loop_of(req);
	op->what = what;
	hc_strlcpy(op->ns, ns, sizeof(op->ns));
	hc_strlcpy(op->id, id, sizeof(op->id));
	if (fetch(op, op->id, 1, on_record) < 0)
		store_down(op);
}

void ctl_activation_get(struct hc_req *req, const struct ctl_caller *who)
{
	get_one(req, who, 0);
}

void ctl_activation_logs(struct hc_req *req, const struct ctl_caller *who)
{
	get_one(req, who, 1);
}

void ctl_activation_result(struct hc_req *req, const struct ctl_caller *who)
{
	get_one(req, who, 2);
}

/* ---- list ---- */

/* docs=true: the log lists of KEYS (PR_KEY_LOGS), each as LRANGE gives
 * it, until ARGV[1] bytes are read; false for the rest. */
static const char logs_lua[] = "local r, total, max = {}, 0, tonumber(ARGV[1])\n"
			       "for i, k in ipairs(KEYS) do\n"
			       "  if total >= max then r[i] = false else\n"
			       "    local l = redis.call('LRANGE', k, 0, -1)\n"
			       "    for _, x in ipairs(l) do total = total + #x end\n"
			       "    r[i] = l\n"
			       "  end\n"
			       "end\n"
			       "return r\n";
static _Thread_local struct hc_redis_script logs_script = {.src = logs_lua};
/* The logs one page of docs=true carries at most, all records together. */
#define LIST_LOGS_MAX (16 << 20)

static void reply_list(struct rec_op *op)
{
	cJSON *arr = cJSON_CreateArray();
	cJSON *rec;
	while (arr && (rec = cJSON_DetachItemFromArray(op->rec, 0))) {
		cJSON *item = op->docs ? pr_activation_extended(rec) : pr_activation_summary(rec);
		cJSON_Delete(rec);
		if (item)
			cJSON_AddItemToArray(arr, item);
	}
	reply_take(op->req, 200, arr);
	rec_free(op);
}

/* The agent's logs into the records of the page that hold none. */
static void on_list_logs(redisReply *r, void *arg)
{
	struct rec_op *op = arg;
	if (!r || r->type != REDIS_REPLY_ARRAY) {
		store_down(op);
		return;
	}
	size_t k = 0;
	cJSON *rec;
	cJSON_ArrayForEach(rec, op->rec)
	{
		const cJSON *logs = cJSON_GetObjectItemCaseSensitive(rec, "logs");
		if (cJSON_IsArray(logs) && cJSON_GetArraySize(logs) > 0)
			continue; /* a sequence's component ids, or logs of its own */
		if (k >= r->elements)
			break;
		const redisReply *e = r->element[k++];
		cJSON *lines = cJSON_CreateArray();
		if (e->type == REDIS_REPLY_ARRAY) {
			for (size_t i = 0; lines && i < e->elements; i++)
				if (e->element[i]->type == REDIS_REPLY_STRING)
					cJSON_AddItemToArray(
					    lines, cJSON_CreateString(e->element[i]->str));
		} else if (lines) {
			const cJSON *id = cJSON_GetObjectItemCaseSensitive(rec, "activationId");
			char note[160];
			snprintf(note, sizeof(note),
				 "The logs of this page are over %d MB: this activation's are at "
				 "/activations/%s/logs.",
				 LIST_LOGS_MAX >> 20, cJSON_IsString(id) ? id->valuestring : "");
			cJSON_AddItemToArray(lines, cJSON_CreateString(note));
		}
		if (lines && cJSON_GetArraySize(lines) > 0)
			pr_activation_set_logs(rec, lines);
		cJSON_Delete(lines);
	}
	reply_list(op);
}

/* docs=true: the logs of the records that hold none, in one call. */
static void fetch_list_logs(struct rec_op *op)
{
	int n = 0, i = 0;
	cJSON *rec;
	cJSON_ArrayForEach(rec, op->rec)
	{
		const cJSON *logs = cJSON_GetObjectItemCaseSensitive(rec, "logs");
		if (!cJSON_IsArray(logs) || cJSON_GetArraySize(logs) == 0)
			n++;
	}
	if (n == 0) {
		reply_list(op);
		return;
	}
	const char **argv = calloc((size_t)n + 1, sizeof(*argv));
	char(*keys)[128] = calloc((size_t)n, sizeof(*keys));
	char max[24];
	if (!argv || !keys) {
		free(argv);
		free(keys);
		hc_reply_error(op->req, 500, "out of memory");
		rec_free(op);
		return;
	}
	cJSON_ArrayForEach(rec, op->rec)
	{
		const cJSON *logs = cJSON_GetObjectItemCaseSensitive(rec, "logs");
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(rec, "activationId");
		if (cJSON_IsArray(logs) && cJSON_GetArraySize(logs) > 0)
			continue;
		snprintf(keys[i], sizeof(keys[i]), PR_KEY_LOGS,
			 cJSON_IsString(id) ? id->valuestring : "-");
		argv[i] = keys[i];
		i++;
	}
	snprintf(max, sizeof(max), "%d", LIST_LOGS_MAX);
	argv[n] = max;
	if (hc_redis_eval(op->L->redis, &logs_script, on_list_logs, op, n, n + 1, argv, NULL) < 0)
		store_down(op);
	free(argv);
	free(keys);
}

static void on_list_records(redisReply *r, void *arg)
{
	struct rec_op *op = arg;
	if (!r || r->type != REDIS_REPLY_ARRAY) {
		store_down(op);
		return;
	}
	/* the page's stored records, in order, in op->rec */
	op->rec = cJSON_CreateArray();
	int64_t n = 0;
	for (size_t i = 0; op->rec && i < r->elements && n < op->limit; i++) {
		const redisReply *e = r->element[i];
		if (e->type != REDIS_REPLY_STRING)
			continue; /* expired */
		cJSON *rec = pr_activation_unpack(e->str, e->len, op->ids[i]);
		if (!rec)
			continue;
		cJSON_AddItemToArray(op->rec, rec);
		n++;
	}
	if (!op->rec) {
		hc_reply_error(op->req, 500, "out of memory");
		rec_free(op);
	} else if (op->docs) {
		/* OpenWhisk's full records carry their logs (wsk activation
		 * list --full, sls logs); the agent stored them apart */
		fetch_list_logs(op);
	} else {
		reply_list(op);
	}
}

/* The records of the gathered ids, through ctl_records_lua. */
static void fetch_records(struct rec_op *op)
{
	if (op->nids == 0) {
		reply_take(op->req, 200, cJSON_CreateArray());
		rec_free(op);
		return;
	}
	if (fetch(op, op->ids[0], op->nids, on_list_records) < 0)
		store_down(op);
}

static int index_call(struct rec_op *op);

/* One call's {ids, count, skip left, next cursor}: gather, go on from the
 * cursor while there is more to read, then answer. */
static void on_index(redisReply *r, void *arg)
{
	struct rec_op *op = arg;
	if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 4 ||
	    r->element[0]->type != REDIS_REPLY_ARRAY ||
	    r->element[1]->type != REDIS_REPLY_INTEGER ||
	    r->element[2]->type != REDIS_REPLY_INTEGER ||
	    r->element[3]->type != REDIS_REPLY_STRING || r->element[3]->len >= sizeof(op->cursor)) {
		store_down(op);
		return;
	}
	const redisReply *ids = r->element[0];
	for (size_t i = 0; i < ids->elements && op->nids < op->cap; i++) {
		const redisReply *e = ids->element[i];
		if (e->type == REDIS_REPLY_STRING && hc_id_valid(e->str))
			hc_strlcpy(op->ids[op->nids++], e->str, HC_ID_LEN + 1);
	}
	op->total += r->element[1]->integer;
	op->skip = r->element[2]->integer;
	memcpy(op->cursor, r->element[3]->str, r->element[3]->len + 1);
	if (op->cursor[0] && (op->count || op->nids < op->cap)) {
		if (index_call(op) < 0)
			store_down(op);
		return;
	}
	if (!op->count) {
		fetch_records(op);
		return;
	}
	cJSON *j = cJSON_CreateObject();
	if (j)
		cJSON_AddNumberToObject(j, "activations", (double)op->total);
	reply_take(op->req, 200, j);
	rec_free(op);
}

static int index_call(struct rec_op *op)
{
	char dkey[600], spre[300], npre[300], a_since[24], a_upto[24], a_skip[24], a_lim[24];
	char a_ms[24], a_max[24], a_reads[24], a_lo[40], a_hi[40];
	struct hc_buf db = HC_BUF_FIXED(dkey);
	if (pr_activation_dir_key(&db, op->ns, op->name[0] ? op->name : NULL) < 0)
		return -1;
	snprintf(spre, sizeof(spre), PR_KEY_ACT_SLICE_PREFIX "%s/", op->ns);
	snprintf(npre, sizeof(npre), PR_KEY_ACT_NAMES_PREFIX "%s:", op->ns);
	snprintf(a_since, sizeof(a_since), "%lld", (long long)op->since);
	snprintf(a_upto, sizeof(a_upto), "%lld", (long long)op->upto);
	snprintf(a_skip, sizeof(a_skip), "%lld", (long long)op->skip);
	snprintf(a_lim, sizeof(a_lim), "%lld", (long long)(op->cap - op->nids));
	snprintf(a_ms, sizeof(a_ms), "%d", PR_ACT_SLICE_MS);
	snprintf(a_max, sizeof(a_max), "%d", INDEX_SLICES_PER_CALL);
	snprintf(a_reads, sizeof(a_reads), "%d", INDEX_READS_PER_CALL);
	/* ids are the start ms in 12 hex digits, then 20 more: the range's
	 * first and last possible ids */
	const int64_t id_max = 0xffffffffffffLL;
	snprintf(a_lo, sizeof(a_lo), "%012" PRIx64 "00000000000000000000",
		 (uint64_t)(op->since < id_max ? op->since : id_max));
	snprintf(a_hi, sizeof(a_hi), "%012" PRIx64 "ffffffffffffffffffff",
		 (uint64_t)(op->upto < id_max ? op->upto : id_max));
	const char *argv[] = {dkey,	spre,	    npre,
			      op->name, a_since,    a_upto,
			      a_skip,	a_lim,	    op->count ? "1" : "0",
			      a_ms,	op->cursor, a_max,
			      a_reads,	a_lo,	    a_hi};
	return hc_redis_eval(op->L->redis, &op->L->index_script, on_index, op, 1, 15, argv, NULL);
}

/* No activations: [] or, for count=true, {"activations": 0}. */
static void reply_none(struct hc_req *req, int count)
{
	cJSON *j = count ? cJSON_CreateObject() : cJSON_CreateArray();
	if (j && count)
		cJSON_AddNumberToObject(j, "activations", 0);
	reply_take(req, 200, j);
}

void ctl_activations_list(struct hc_req *req, const struct ctl_caller *who)
{
	const char *ns = ctl_req_ns(req, who);
	int64_t since, upto;
	if (!ns)
		return;
	struct rec_op *op = calloc(1, sizeof(*op));
	if (!op) {
		hc_reply_error(req, 500, "out of memory");
		return;
	}
	op->req = req;
	op->L = ctl_loop_of(req);
	hc_strlcpy(op->ns, ns, sizeof(op->ns));
	const char *lim = hc_req_query(req, "limit");
	int docs = ctl_query_bool(req, "docs", 0);
	int count = ctl_query_bool(req, "count", 0);
	const char *name = hc_req_query(req, "name");
	if (ctl_query_int(req, "limit", 30, 200, &op->limit) < 0) {
		hc_reply_error(req, 400,
			       "The value '%.32s' is not in the range of 0 to 200 for activations.",
			       lim ? lim : "");
		goto bad;
	}
	if (op->limit == 0)
		op->limit = 200;
	if (ctl_query_int(req, "skip", 0, INT32_MAX, &op->skip) < 0 ||
	    ctl_query_int(req, "since", 0, INT64_MAX / 2, &since) < 0 ||
	    ctl_query_int(req, "upto", INT64_MAX / 2, INT64_MAX / 2, &upto) < 0 || docs < 0 ||
	    count < 0) {
		hc_reply_error(req, 400,
			       "The request content was malformed:\nskip, since and "
			       "upto must be non-negative integers; docs and count "
			       "true or false");
		goto bad;
	}
	if (count && docs) {
		hc_reply_error(req, 400, "The parameters 'count' and 'docs' are not compatible.");
		goto bad;
	}
	if (name) {
		/* "action" or "pkg/action", no more segments */
		const char *slash = strchr(name, '/');
		if (slash && strchr(slash + 1, '/')) {
			hc_reply_error(req, 400,
				       "The request content was malformed:\nname may "
				       "have at most two segments");
			goto bad;
		}
		/* it names index keys: an entity name, or nothing matches */
		if (!pr_name_valid(slash ? slash + 1 : name)) {
			hc_reply_error(req, 400,
				       "The request content was malformed:\nname is not a "
				       "valid action name");
			goto bad;
		}
		/* "pkg/action" names a package's action, which OpenWhisk lists
		 * apart from the namespace's own "action"; hearth has no
		 * packages yet, so nothing ran under that name */
		if (slash) {
			reply_none(req, count);
			goto bad;
		}
		hc_strlcpy(op->name, name, sizeof(op->name));
	}
	if (since > upto) { /* an empty range */
		reply_none(req, count);
		goto bad;
	}
	op->docs = docs;
	op->count = count;
	op->since = since;
	op->upto = upto;
	op->cap = count ? 1 : (size_t)op->limit;
	op->ids = calloc(op->cap, sizeof(*op->ids));
	if (!op->ids) {
		hc_reply_error(req, 500, "out of memory");
		goto bad;
	}
	if (index_call(op) < 0)
		store_down(op);
	return;
bad: /* answered */
	rec_free(op);
}
