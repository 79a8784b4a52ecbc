/* controller/trigstore.c — triggers, rules and alarms in Redis (see
 * trigstore.h for what the scripts keep true). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/id.h"
#include "common/json.h"
#include "common/redis.h"
#include "common/str.h"
#include "controller/trigstore.h"
#include "proto/alarm.h"
#include "proto/keys.h"

/* KEYS: document, links. {document, links as a flat list} or nil. */
static const char read_lua[] = "local d = redis.call('GET', KEYS[1])\n"
			       "if not d then return false end\n"
			       "return {d, redis.call('HGETALL', KEYS[2])}\n";

/* KEYS: document, index, links, alarm, alarms, the rules' index; ARGV:
 * name, alarm member, rule key prefix ("hearth:rule:<ns>/"), "1" = delete
 * the linked rules too. What was deleted, as read_lua returns it, or nil. */
static const char delete_lua[] = "local d = redis.call('GET', KEYS[1])\n"
				 "if not d then return false end\n"
				 "local links = redis.call('HGETALL', KEYS[3])\n"
				 "redis.call('DEL', KEYS[1], KEYS[3], KEYS[4])\n"
				 "redis.call('ZREM', KEYS[2], ARGV[1])\n"
				 "redis.call('ZREM', KEYS[5], ARGV[2])\n"
				 "if ARGV[4] == '1' then\n"
				 "  for i = 1, #links, 2 do\n"
				 "    local rule = string.match(links[i], '/(.*)$')\n"
				 "    if rule then\n"
				 "      redis.call('DEL', ARGV[3] .. rule)\n"
				 "      redis.call('ZREM', KEYS[6], rule)\n"
				 "    end\n"
				 "  end\n"
				 "end\n"
				 "return {d, links}\n";

/* KEYS: rule, rules index, new trigger's document, its links, the old
 * trigger's links; ARGV: expected rule text ("" = none), new text,
 * updated, name, "ns/rule", link prefix, status ("" = the old link's).
 * 0 changed, -1 no trigger, 1 written inactive, 2 written active. */
static const char rule_write_lua[] =
    "local cur = redis.call('GET', KEYS[1])\n"
    "if (cur or '') ~= ARGV[1] then return 0 end\n"
    "if redis.call('EXISTS', KEYS[3]) == 0 then return -1 end\n"
    "local status = ARGV[7]\n"
    "if status == '' then\n"
    "  status = '" PR_RULE_INACTIVE "'\n"
    "  local old = redis.call('HGET', KEYS[5], ARGV[5])\n"
    "  if old and string.find(old, '\"status\":\"" PR_RULE_ACTIVE "\"', 1, true) then\n"
    "    status = '" PR_RULE_ACTIVE "'\n"
    "  end\n"
    "end\n"
    "redis.call('HDEL', KEYS[5], ARGV[5])\n"
    "redis.call('HSET', KEYS[4], ARGV[5], ARGV[6] .. status .. '\"}')\n"
    "redis.call('SET', KEYS[1], ARGV[2])\n"
    "redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])\n"
    "if status == '" PR_RULE_ACTIVE "' then return 2 end\n"
    "return 1\n";

/* KEYS: rule, rules index, its trigger's links; ARGV: expected text,
 * name, "ns/rule". -1 gone, 0 changed, 1 deleted. */
static const char rule_remove_lua[] = "local cur = redis.call('GET', KEYS[1])\n"
				      "if not cur then return -1 end\n"
				      "if cur ~= ARGV[1] then return 0 end\n"
				      "redis.call('DEL', KEYS[1])\n"
				      "redis.call('ZREM', KEYS[2], ARGV[2])\n"
				      "redis.call('HDEL', KEYS[3], ARGV[3])\n"
				      "return 1\n";

/* KEYS: rule, trigger's document, its links; ARGV: expected rule text,
 * "ns/rule", link prefix, status. 0 changed, -1 no trigger, 1 written. */
static const char rule_status_lua[] =
    "if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end\n"
    "if redis.call('EXISTS', KEYS[2]) == 0 then return -1 end\n"
    "redis.call('HSET', KEYS[3], ARGV[2], ARGV[3] .. ARGV[4] .. '\"}')\n"
    "return 1\n";

/* KEYS: alarm, alarms, trigger's document; ARGV: member, spec, rev, now,
 * first ("" = none), "1" = update. -1 no trigger, 0 no alarm to update,
 * 1 written. */
static const char alarm_put_lua[] =
    "if redis.call('EXISTS', KEYS[3]) == 0 then return -1 end\n"
    "local upd = ARGV[6] == '1'\n"
    "if upd and redis.call('EXISTS', KEYS[1]) == 0 then return 0 end\n"
    "local state = '" PR_ALARM_ACTIVE "'\n"
    "if ARGV[5] == '' then state = '" PR_ALARM_DONE "' end\n"
    "if upd and redis.call('HGET', KEYS[1], '" PR_ALARM_F_STATE "') == '" PR_ALARM_PAUSED "' then\n"
    "  state = '" PR_ALARM_PAUSED "'\n"
    "end\n"
    "if not upd then\n"
    "  redis.call('DEL', KEYS[1])\n"
    "  redis.call('HSET', KEYS[1], '" PR_ALARM_F_FIRED "', 0)\n"
    "end\n"
    "redis.call('HSET', KEYS[1], '" PR_ALARM_F_SPEC "', ARGV[2], '" PR_ALARM_F_REV "', ARGV[3],\n"
    "  '" PR_ALARM_F_STATE "', state, '" PR_ALARM_F_REASON "', '', '" PR_ALARM_F_CHANGED
    "', ARGV[4])\n"
    "if state == '" PR_ALARM_ACTIVE "' then redis.call('ZADD', KEYS[2], ARGV[5], ARGV[1])\n"
    "else redis.call('ZREM', KEYS[2], ARGV[1]) end\n"
    "return 1\n";

/* KEYS: alarm, alarms; ARGV: member, state, reason, now, next ("" = none).
 * 0 no alarm, 1 set. */
static const char alarm_state_lua[] =
    "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end\n"
    "local state = ARGV[2]\n"
    "if state == '" PR_ALARM_ACTIVE "' and ARGV[5] == '' then state = '" PR_ALARM_DONE "' end\n"
    "redis.call('HSET', KEYS[1], '" PR_ALARM_F_STATE "', state, '" PR_ALARM_F_REASON "', ARGV[3],\n"
    "  '" PR_ALARM_F_CHANGED "', ARGV[4])\n"
    "if state == '" PR_ALARM_ACTIVE "' then redis.call('ZADD', KEYS[2], ARGV[5], ARGV[1])\n"
    "else redis.call('ZREM', KEYS[2], ARGV[1]) end\n"
    "return 1\n";

/* KEYS: alarm, alarms; ARGV: member. 0 none, 1 deleted. */
static const char alarm_remove_lua[] = "redis.call('ZREM', KEYS[2], ARGV[1])\n"
				       "return redis.call('DEL', KEYS[1])\n";

struct ctl_trig_loop {
	struct hc_redis_script read, del, rule_write, rule_remove, rule_status, alarm_put,
	    alarm_state, alarm_remove;
};

int ctl_trig_loop_init(struct ctl_loop *L)
{
	struct ctl_trig_loop *T = calloc(1, sizeof(*T));
	if (!T)
		return -1;
	T->read.src = read_lua;
	T->del.src = delete_lua;
	T->rule_write.src = rule_write_lua;
	T->rule_remove.src = rule_remove_lua;
	T->rule_status.src = rule_status_lua;
	T->alarm_put.src = alarm_put_lua;
	T->alarm_state.src = alarm_state_lua;
	T->alarm_remove.src = alarm_remove_lua;
	L->trig = T;
	return 0;
}

void ctl_trig_loop_fini(struct ctl_loop *L)
{
	free(L->trig);
	L->trig = NULL;
}

/* ---- keys ---- */

#define KEY_MAX (CTL_KEY_MAX + PR_NAME_MAX)

static void trigger_keys(const struct pr_fqn *t, char *doc, char *links)
{
	char rel[2 * PR_NAME_MAX + 2];
	pr_fqn_rel(t, rel, sizeof(rel));
	if (doc)
		ctl_entity_key(&ctl_coll_triggers, t->ns, rel, doc, KEY_MAX);
	if (links)
		snprintf(links, KEY_MAX, PR_KEY_TRIGGER_RULES, t->ns, rel);
}

static struct pr_fqn fqn_of(const char *ns, const char *name)
{
	struct pr_fqn f;
	memset(&f, 0, sizeof(f));
	hc_strlcpy(f.ns, ns, sizeof(f.ns));
	hc_strlcpy(f.name, name, sizeof(f.name));
	return f;
}

/* ---- calls ---- */

struct op {
	ctl_trigger_cb trigger_cb;
	ctl_rule_cb rule_cb;
	ctl_store_cb store_cb;
	ctl_alarm_cb alarm_cb;
	void *arg;
};

static struct op *op_new(void *arg)
{
	struct op *op = calloc(1, sizeof(*op));
	if (op)
		op->arg = arg;
	return op;
}

static int started(int rc, struct op *op)
{
	if (rc < 0) {
		free(op);
		return -1;
	}
	return 0;
}

static int unreachable(const redisReply *r)
{
	return !r || r->type == REDIS_REPLY_ERROR;
}

static int eval(struct ctl_loop *L, struct hc_redis_script *s, hc_redis_cb cb, struct op *op,
		int nkeys, int argc, const char **argv)
{
	size_t lens[16];
	for (int i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	return started(hc_redis_eval(L->redis, s, cb, op, nkeys, argc, argv, lens), op);
}

void ctl_trigger_clear(struct ctl_trigger *t)
{
	ctl_entity_doc_clear(&t->d);
	cJSON_Delete(t->rules);
	t->rules = NULL;
}

/* {document, flat links} into t: 0, 404, or 500. */
static int read_trigger(const redisReply *r, struct ctl_trigger *t)
{
	memset(t, 0, sizeof(*t));
	if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING)
		return 404;
	const redisReply *d = r->element[0], *links = r->element[1];
	if (!(t->d.doc = hc_json_parse(d->str, d->len, HC_JSON_MAX_DEPTH, NULL)))
		return 404;
	if (!(t->d.raw = malloc(d->len + 1)))
		goto oom;
	memcpy(t->d.raw, d->str, d->len);
	t->d.raw[d->len] = '\0';
	if (links->type != REDIS_REPLY_ARRAY || links->elements == 0)
		return 0;
	if (!(t->rules = cJSON_CreateObject()))
		goto oom;
	for (size_t i = 0; i + 1 < links->elements; i += 2) {
		const redisReply *k = links->element[i], *v = links->element[i + 1];
		if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
			continue;
		cJSON *link = hc_json_parse(v->str, v->len, 8, NULL);
		if (link)
			cJSON_AddItemToObject(t->rules, k->str, link);
	}
	return 0;
oom:
	ctl_trigger_clear(t);
	return 500;
}

static void on_trigger(redisReply *r, void *arg)
{
	struct op *op = arg;
	struct ctl_trigger t = {0};
	int st = unreachable(r) ? 503 : read_trigger(r, &t);
	op->trigger_cb(st, &t, op->arg);
	free(op);
}

int ctl_trig_read(struct ctl_loop *L, const char *ns, const char *name, ctl_trigger_cb cb,
		  void *arg)
{
	char doc[KEY_MAX], links[KEY_MAX];
	struct pr_fqn f = fqn_of(ns, name);
	struct op *op = op_new(arg);
	if (!op)
		return -1;
	op->trigger_cb = cb;
	trigger_keys(&f, doc, links);
	const char *argv[] = {doc, links};
	return eval(L, &L->trig->read, on_trigger, op, 2, 2, argv);
}

int ctl_trig_delete(struct ctl_loop *L, const char *ns, const char *name, ctl_trigger_cb cb,
		    void *arg)
{
	return ctl_trig_delete_all(L, ns, name, 0, cb, arg);
}

int ctl_trig_delete_all(struct ctl_loop *L, const char *ns, const char *name, int with_rules,
			ctl_trigger_cb cb, void *arg)
{
	char doc[KEY_MAX], index[KEY_MAX], links[KEY_MAX], alarm[KEY_MAX], member[KEY_MAX];
	char rindex[KEY_MAX], rprefix[KEY_MAX];
	struct pr_fqn f = fqn_of(ns, name);
	struct op *op = op_new(arg);
	if (!op)
		return -1;
	op->trigger_cb = cb;
	trigger_keys(&f, doc, links);
	ctl_entity_index_key(&ctl_coll_triggers, ns, index, sizeof(index));
	snprintf(alarm, sizeof(alarm), PR_KEY_ALARM, ns, name);
	snprintf(member, sizeof(member), "%s/%s", ns, name);
	ctl_entity_index_key(&ctl_coll_rules, ns, rindex, sizeof(rindex));
	ctl_entity_key(&ctl_coll_rules, ns, "", rprefix, sizeof(rprefix));
	const char *argv[] = {doc,    index, links,  alarm,   PR_KEY_ALARMS,
			      rindex, name,  member, rprefix, with_rules ? "1" : "0"};
	return eval(L, &L->trig->del, on_trigger, op, 6, 10, argv);
}

/* ---- rules ---- */

static void on_rule_int(redisReply *r, void *arg)
{
	struct op *op = arg;
	int st = 503, active = 0;
	if (r && r->type == REDIS_REPLY_INTEGER) {
		st = r->integer == 0 ? 409 : r->integer < 0 ? 404 : 0;
		active = r->integer == 2;
	}
	op->rule_cb(st, active, op->arg);
	free(op);
}

int ctl_rule_write(struct ctl_loop *L, const char *ns, const char *name, const char *old_raw,
		   const cJSON *doc, const struct pr_fqn *trigger, const struct pr_fqn *old_trigger,
		   const struct pr_fqn *action, int create, ctl_rule_cb cb, void *arg)
{
	char rule[KEY_MAX], index[KEY_MAX], tdoc[KEY_MAX], links[KEY_MAX], olinks[KEY_MAX];
	char updated[24], fqn[2 * PR_NAME_MAX + 2];
	const cJSON *up = cJSON_GetObjectItemCaseSensitive(doc, "updated");
	struct op *op = op_new(arg);
	char *text = op ? cJSON_PrintUnformatted(doc) : NULL;
	char *prefix = text ? pr_rule_link_prefix(action) : NULL;
	int rc = -1;
	if (!prefix) {
		free(op);
		goto out;
	}
	op->rule_cb = cb;
	ctl_entity_key(&ctl_coll_rules, ns, name, rule, sizeof(rule));
	ctl_entity_index_key(&ctl_coll_rules, ns, index, sizeof(index));
	trigger_keys(trigger, tdoc, links);
	trigger_keys(old_trigger ? old_trigger : trigger, NULL, olinks);
	snprintf(updated, sizeof(updated), "%.0f", cJSON_IsNumber(up) ? up->valuedouble : 0.0);
	snprintf(fqn, sizeof(fqn), "%s/%s", ns, name);
	const char *argv[] = {rule,
			      index,
			      tdoc,
			      links,
			      olinks, /* the keys */
			      old_raw ? old_raw : "",
			      text,
			      updated,
			      name,
			      fqn,
			      prefix,
			      create ? PR_RULE_ACTIVE : ""};
	rc = eval(L, &L->trig->rule_write, on_rule_int, op, 5, 12, argv);
out:
	free(text);
	free(prefix);
	return rc;
}

int ctl_rule_remove(struct ctl_loop *L, const char *ns, const char *name, const char *old_raw,
		    const struct pr_fqn *trigger, ctl_rule_cb cb, void *arg)
{
	char rule[KEY_MAX], index[KEY_MAX], links[KEY_MAX], fqn[2 * PR_NAME_MAX + 2];
	struct op *op = op_new(arg);
	if (!op)
		return -1;
	op->rule_cb = cb;
	ctl_entity_key(&ctl_coll_rules, ns, name, rule, sizeof(rule));
	ctl_entity_index_key(&ctl_coll_rules, ns, index, sizeof(index));
	trigger_keys(trigger, NULL, links);
	snprintf(fqn, sizeof(fqn), "%s/%s", ns, name);
	const char *argv[] = {rule, index, links, old_raw ? old_raw : "", name, fqn};
	return eval(L, &L->trig->rule_remove, on_rule_int, op, 3, 6, argv);
}

int ctl_rule_set_status(struct ctl_loop *L, const char *ns, const char *name, const char *old_raw,
			const struct pr_fqn *trigger, const struct pr_fqn *action, int active,
			ctl_rule_cb cb, void *arg)
{
	char rule[KEY_MAX], tdoc[KEY_MAX], links[KEY_MAX], fqn[2 * PR_NAME_MAX + 2];
	struct op *op = op_new(arg);
	char *prefix = op ? pr_rule_link_prefix(action) : NULL;
	if (!prefix) {
		free(op);
		return -1;
	}
	op->rule_cb = cb;
	ctl_entity_key(&ctl_coll_rules, ns, name, rule, sizeof(rule));
	trigger_keys(trigger, tdoc, links);
	snprintf(fqn, sizeof(fqn), "%s/%s", ns, name);
	const char *argv[] = {rule,
			      tdoc,
			      links,
			      old_raw ? old_raw : "",
			      fqn,
			      prefix,
			      active ? PR_RULE_ACTIVE : PR_RULE_INACTIVE};
	int rc = eval(L, &L->trig->rule_status, on_rule_int, op, 3, 7, argv);
	free(prefix);
	return rc;
}

static void on_link(redisReply *r, void *arg)
{
	struct op *op = arg;
	struct pr_fqn a;
	int active = 0;
	if (unreachable(r)) {
		op->rule_cb(503, 0, op->arg);
	} else {
		if (r->type == REDIS_REPLY_STRING &&
		    pr_rule_link_parse(r->str, r->len, &a, &active) < 0)
			active = 0;
		op->rule_cb(0, active, op->arg);
	}
	free(op);
}

int ctl_rule_link_status(struct ctl_loop *L, const struct pr_fqn *trigger, const char *rule,
			 ctl_rule_cb cb, void *arg)
{
	char links[KEY_MAX];
	struct op *op = op_new(arg);
	if (!op)
		return -1;
	op->rule_cb = cb;
	trigger_keys(trigger, NULL, links);
	return started(hc_redis_cmd(L->redis, on_link, op, "HGET %s %s", links, rule), op);
}

/* ---- alarms ---- */

static void on_store_int(redisReply *r, void *arg)
{
	struct op *op = arg;
	int st = 503;
	if (r && r->type == REDIS_REPLY_INTEGER)
		st = r->integer == 1 ? 0 : 404;
	op->store_cb(st, op->arg);
	free(op);
}

static void alarm_keys(const char *ns, const char *name, char *alarm, char *member)
{
	snprintf(alarm, KEY_MAX, PR_KEY_ALARM, ns, name);
	snprintf(member, KEY_MAX, "%s/%s", ns, name);
}

int ctl_alarm_put(struct ctl_loop *L, const char *ns, const char *name, const char *spec,
		  int64_t first, int update, ctl_store_cb cb, void *arg)
{
	char alarm[KEY_MAX], member[KEY_MAX], tdoc[KEY_MAX], rev[HC_ID_LEN + 1], now[24],
	    next[24] = "";
	struct pr_fqn f = fqn_of(ns, name);
	struct op *op = op_new(arg);
	if (!op)
		return -1;
	op->store_cb = cb;
	alarm_keys(ns, name, alarm, member);
	trigger_keys(&f, tdoc, NULL);
	hc_id_new(rev);
	snprintf(now, sizeof(now), "%" PRIu64, hc_now_ms());
	if (first >= 0)
		snprintf(next, sizeof(next), "%" PRId64, first);
	const char *argv[] = {alarm, PR_KEY_ALARMS,	tdoc, member, spec, rev, now,
			      next,  update ? "1" : "0"};
	return eval(L, &L->trig->alarm_put, on_store_int, op, 3, 9, argv);
}

int ctl_alarm_remove(struct ctl_loop *L, const char *ns, const char *name, ctl_store_cb cb,
		     void *arg)
{
	char alarm[KEY_MAX], member[KEY_MAX];
	struct op *op = op_new(arg);
	if (!op)
		return -1;
	op->store_cb = cb;
	alarm_keys(ns, name, alarm, member);
	const char *argv[] = {alarm, PR_KEY_ALARMS, member};
	return eval(L, &L->trig->alarm_remove, on_store_int, op, 2, 3, argv);
}

int ctl_alarm_set_state(struct ctl_loop *L, const char *ns, const char *name, const char *state,
			const char *reason, int64_t next, ctl_store_cb cb, void *arg)
{
	char alarm[KEY_MAX], member[KEY_MAX], now[24], nx[24] = "";
	struct op *op = op_new(arg);
	if (!op)
		return -1;
	op->store_cb = cb;
	alarm_keys(ns, name, alarm, member);
	snprintf(now, sizeof(now), "%" PRIu64, hc_now_ms());
	if (next >= 0)
		snprintf(nx, sizeof(nx), "%" PRId64, next);
	const char *argv[] = {alarm, PR_KEY_ALARMS, member, state, reason ? reason : "", now, nx};
	return eval(L, &L->trig->alarm_state, on_store_int, op, 2, 7, argv);
}

static void on_alarm_hash(redisReply *r, void *arg)
{
	struct op *op = arg;
	cJSON *o = NULL;
	int st = 503;
	if (r && r->type == REDIS_REPLY_ARRAY) {
		st = r->elements ? 0 : 404;
		if (st == 0 && !(o = cJSON_CreateObject()))
			st = 500;
		for (size_t i = 0; o && i + 1 < r->elements; i += 2)
			if (r->element[i]->type == REDIS_REPLY_STRING &&
			    r->element[i + 1]->type == REDIS_REPLY_STRING)
				cJSON_AddStringToObject(o, r->element[i]->str,
							r->element[i + 1]->str);
	}
	op->alarm_cb(st, o, op->arg);
	free(op);
}

int ctl_alarm_read(struct ctl_loop *L, const char *ns, const char *name, ctl_alarm_cb cb, void *arg)
{
	char alarm[KEY_MAX], member[KEY_MAX];
	struct op *op = op_new(arg);
	if (!op)
		return -1;
	op->alarm_cb = cb;
	alarm_keys(ns, name, alarm, member);
	return started(hc_redis_cmd(L->redis, on_alarm_hash, op, "HGETALL %s", alarm), op);
}

static void on_marked(redisReply *r, void *arg)
{
	struct op *op = arg;
	int st = unreachable(r) ? 503 : r->type == REDIS_REPLY_STATUS ? 0 : 409;
	op->store_cb(st, op->arg);
	free(op);
}

#define FIRED_TTL_MS (24LL * 3600 * 1000)

int ctl_alarm_mark_fired(struct ctl_loop *L, const char *ns, const char *name, int64_t period,
			 ctl_store_cb cb, void *arg)
{
	char key[KEY_MAX];
	struct op *op = op_new(arg);
	if (!op)
		return -1;
	op->store_cb = cb;
	snprintf(key, sizeof(key), PR_KEY_ALARM_FIRED, ns, name, (long long)period);
	return started(
	    hc_redis_cmd(L->redis, on_marked, op, "SET %s 1 NX PX %lld", key, FIRED_TTL_MS), op);
}

void ctl_alarm_unmark_fired(struct ctl_loop *L, const char *ns, const char *name, int64_t period)
{
	char key[KEY_MAX];
	snprintf(key, sizeof(key), PR_KEY_ALARM_FIRED, ns, name, (long long)period);
	hc_redis_cmd(L->redis, NULL, NULL, "DEL %s", key);
}
