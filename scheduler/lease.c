/* scheduler/lease.c — the leader-election state machine (lease.h). */
#include "scheduler/lease.h"

#include <string.h>

#define MS 1000ULL

const char *sch_role_name(enum sch_role r)
{
	switch (r) {
	case SCH_ROLE_STANDBY:
		return "standby";
	case SCH_ROLE_CLAIMING:
		return "claiming";
	case SCH_ROLE_LEADER:
		return "leader";
	}
	return "unknown";
}

void sch_lease_init(struct sch_lease *l, const struct sch_lease_config *cfg, uint64_t now_us)
{
	memset(l, 0, sizeof(*l));
	l->cfg = *cfg;
	if (l->cfg.lease_ms <= 0)
		l->cfg.lease_ms = 2000;
	if (l->cfg.renew_ms <= 0)
		l->cfg.renew_ms = l->cfg.lease_ms / 3;
	if (l->cfg.retry_ms <= 0)
		l->cfg.retry_ms = 500;
	if (l->cfg.margin_ms <= 0)
		l->cfg.margin_ms = l->cfg.lease_ms / 10;
	if (l->cfg.margin_ms >= l->cfg.lease_ms)
		l->cfg.margin_ms = l->cfg.lease_ms / 2;
	if (l->cfg.renew_ms <= 0)
		l->cfg.renew_ms = 1;
	l->role = SCH_ROLE_STANDBY;
	l->next_us = now_us;
	l->next_op = 1;
}

static void become_standby(struct sch_lease *l, uint64_t next_us)
{
	if (l->role != SCH_ROLE_STANDBY)
		l->stepdowns++;
	l->role = SCH_ROLE_STANDBY;
	l->epoch = 0;
	l->valid_until_us = 0;
	l->op = 0; /* a late reply to what was in flight is now stale */
	l->inflight = SCH_LEASE_NONE;
	l->next_us = next_us;
}

static void send(struct sch_lease *l, enum sch_lease_cmd cmd, uint64_t now_us,
		 struct sch_lease_step *out)
{
	l->op = l->next_op++;
	l->inflight = cmd;
	l->sent_us = now_us;
	out->cmd = cmd;
	out->op = l->op;
}

void sch_lease_tick(struct sch_lease *l, uint64_t now_us, struct sch_lease_step *out)
{
	memset(out, 0, sizeof(*out));
	if (l->role != SCH_ROLE_STANDBY && now_us >= l->valid_until_us) {
		/* Self-fencing: another may have won since our lease lapsed. */
		become_standby(l, now_us);
		out->event = SCH_LEASE_EV_STEPPED_DOWN;
	}
	/* A command unanswered for a whole lease is lost; forget it. */
	if (l->inflight != SCH_LEASE_NONE &&
	    now_us - l->sent_us >= (uint64_t)l->cfg.lease_ms * MS) {
		l->op = 0;
		l->inflight = SCH_LEASE_NONE;
	}
	if (l->inflight != SCH_LEASE_NONE)
		return;
	switch (l->role) {
	case SCH_ROLE_STANDBY:
		if (now_us >= l->next_us)
			send(l, SCH_LEASE_ACQUIRE, now_us, out);
		break;
	case SCH_ROLE_CLAIMING:
		send(l, SCH_LEASE_EPOCH, now_us, out);
		break;
	case SCH_ROLE_LEADER:
		if (now_us >= l->next_us)
			send(l, SCH_LEASE_RENEW, now_us, out);
		break;
	}
}

void sch_lease_reply(struct sch_lease *l, uint64_t op, enum sch_lease_reply r,
		     int64_t epoch_or_pttl, uint64_t now_us, struct sch_lease_step *out)
{
	enum sch_lease_cmd cmd = l->inflight;
	uint64_t sent = l->sent_us;

	memset(out, 0, sizeof(*out));
	if (op == 0 || op != l->op)
		return;
	l->op = 0;
	l->inflight = SCH_LEASE_NONE;
	switch (cmd) {
	case SCH_LEASE_ACQUIRE:
		if (r == SCH_LR_OK) {
			l->role = SCH_ROLE_CLAIMING;
			l->won_sent_us = sent;
			l->valid_until_us =
			    sent + (uint64_t)(l->cfg.lease_ms - l->cfg.margin_ms) * MS;
			if (now_us >= l->valid_until_us) {
				become_standby(l, now_us);
				break;
			}
			send(l, SCH_LEASE_EPOCH, now_us, out);
			break;
		}
		l->next_us = now_us + (uint64_t)l->cfg.retry_ms * MS;
		/* Try again right when the holder's lease runs out, if sooner. */
		if (r == SCH_LR_LOST && epoch_or_pttl >= 0 && epoch_or_pttl < l->cfg.retry_ms)
			l->next_us = now_us + (uint64_t)(epoch_or_pttl + 1) * MS;
		break;
	case SCH_LEASE_EPOCH:
		if (l->role != SCH_ROLE_CLAIMING)
			break;
		if (r != SCH_LR_OK || now_us >= l->valid_until_us) {
			/* Retried by the next tick while the lease holds. */
			break;
		}
		l->role = SCH_ROLE_LEADER;
		l->epoch = epoch_or_pttl;
		l->elections++;
		l->next_us = l->won_sent_us + (uint64_t)l->cfg.renew_ms * MS;
		out->event = SCH_LEASE_EV_ELECTED;
		break;
	case SCH_LEASE_RENEW:
		if (l->role != SCH_ROLE_LEADER)
			break;
		if (r == SCH_LR_OK) {
			uint64_t until = sent + (uint64_t)(l->cfg.lease_ms - l->cfg.margin_ms) * MS;
			if (until > l->valid_until_us)
				l->valid_until_us = until;
			l->next_us = sent + (uint64_t)l->cfg.renew_ms * MS;
		} else if (r == SCH_LR_LOST) {
			become_standby(l, now_us + (uint64_t)l->cfg.retry_ms * MS);
			out->event = SCH_LEASE_EV_STEPPED_DOWN;
		} else {
			/* Redis unreachable: keep trying; the clock fences us. */
			l->next_us = now_us + (uint64_t)(l->cfg.renew_ms / 4 + 1) * MS;
		}
		break;
	default:
		break;
	}
}

int sch_lease_may_act(const struct sch_lease *l, uint64_t now_us)
{
	return l->role == SCH_ROLE_LEADER && now_us < l->valid_until_us;
}

void sch_lease_kick(struct sch_lease *l, uint64_t now_us)
{
	uint64_t at = now_us > l->hold_until_us ? now_us : l->hold_until_us;

	if (l->role == SCH_ROLE_STANDBY && l->inflight == SCH_LEASE_NONE && l->next_us > at)
		l->next_us = at;
}

void sch_lease_step_down(struct sch_lease *l, uint64_t now_us)
{
	/* Do not grab the lease straight back: let another take it. */
	l->hold_until_us = now_us + (uint64_t)l->cfg.lease_ms * MS;
	become_standby(l, l->hold_until_us);
}

uint64_t sch_lease_next_wake_us(const struct sch_lease *l, uint64_t now_us)
{
	uint64_t at = l->next_us;

	if (l->role != SCH_ROLE_STANDBY && l->valid_until_us < at)
		at = l->valid_until_us;
	if (l->inflight != SCH_LEASE_NONE) {
		uint64_t lost = l->sent_us + (uint64_t)l->cfg.lease_ms * MS;
		if (lost < at || at <= now_us)
			at = lost;
	}
	return at > now_us ? at - now_us : 0;
}
