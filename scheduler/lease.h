/* scheduler/lease.h — the leader-election state machine (no I/O).
 *
 * The Redis side (scheduler/election.c) sends the commands this machine
 * asks for and feeds their replies back; time is a monotonic clock in
 * microseconds passed in by the caller, so tests drive it with a fake one.
 *
 *   STANDBY --acquire won--> CLAIMING --epoch taken (INCR)--> LEADER
 *      ^                        |                              |
 *      +------ lease lapsed by our own clock, or renew lost ---+
 *
 * Fencing by the clock: a lease is valid until (time the winning or
 * renewing command was *sent* + lease - margin). Redis starts the TTL when it
 * executes the command, which is later than the send, so this bound is
 * safe. A leader that has not renewed by then steps down by itself; callers
 * ask sch_lease_may_act() before every mutation, so a process that was
 * SIGSTOPped past its lease and continued never acts before noticing. */
#ifndef SCH_LEASE_H
#define SCH_LEASE_H

#include <stdint.h>

enum sch_role { SCH_ROLE_STANDBY = 0, SCH_ROLE_CLAIMING, SCH_ROLE_LEADER };
const char *sch_role_name(enum sch_role r);

struct sch_lease_config {
	int64_t lease_ms;  /* PX of the leader key (default 2000) */
	int64_t renew_ms;  /* leader renews this often (default lease / 3) */
	int64_t retry_ms;  /* standby tries to acquire this often (default 500) */
	int64_t margin_ms; /* safety margin before the lease end (default lease / 10) */
};

enum sch_lease_cmd {
	SCH_LEASE_NONE = 0,
	SCH_LEASE_ACQUIRE, /* SET leader id NX PX lease (and PTTL on failure) */
	SCH_LEASE_EPOCH,   /* INCR epoch */
	SCH_LEASE_RENEW,   /* compare-and-set PEXPIRE */
};

enum sch_lease_event {
	SCH_LEASE_EV_NONE = 0,
	SCH_LEASE_EV_ELECTED,	   /* now LEADER with a new epoch: rebuild, then serve */
	SCH_LEASE_EV_STEPPED_DOWN, /* no longer leader: stop acting at once */
};

/* What the caller must do after a call: send `cmd` tagged `op` (if not
 * NONE), and handle `event`. */
struct sch_lease_step {
	enum sch_lease_cmd cmd;
	uint64_t op;
	enum sch_lease_event event;
};

enum sch_lease_reply {
	SCH_LR_OK = 0, /* acquired / renewed / INCR answered */
	SCH_LR_LOST,   /* someone else holds the lease */
	SCH_LR_ERROR,  /* no answer (Redis down, timeout) */
};

struct sch_lease {
	struct sch_lease_config cfg;
	enum sch_role role;
	int64_t epoch;		 /* valid while LEADER */
	uint64_t valid_until_us; /* CLAIMING / LEADER */
	uint64_t next_us;	 /* when to send the next acquire / renew */
	uint64_t op;		 /* tag of the command in flight; 0 = none */
	enum sch_lease_cmd inflight;
	uint64_t sent_us;     /* when the command in flight was sent */
	uint64_t won_sent_us; /* send time of the winning acquire */
	uint64_t next_op;
	uint64_t hold_until_us; /* after a deliberate step-down: no acquire before */
	uint64_t elections, stepdowns;
};

/* Fill defaults for zero fields and start as STANDBY, acquiring at once. */
void sch_lease_init(struct sch_lease *l, const struct sch_lease_config *cfg, uint64_t now_us);

/* Time passed: may fence (event STEPPED_DOWN) and may ask for a command. */
void sch_lease_tick(struct sch_lease *l, uint64_t now_us, struct sch_lease_step *out);

/* The reply to command `op`. epoch_or_pttl: for EPOCH the new epoch; for a
 * lost ACQUIRE the remaining lease of the holder in ms (-1 unknown), used to
 * try again right when it lapses. Replies to stale ops are ignored. */
void sch_lease_reply(struct sch_lease *l, uint64_t op, enum sch_lease_reply r,
		     int64_t epoch_or_pttl, uint64_t now_us, struct sch_lease_step *out);

/* Nonzero when this process may act as leader right now (LEADER and the
 * lease is valid by our clock). Does not change state: call tick to fence. */
int sch_lease_may_act(const struct sch_lease *l, uint64_t now_us);

/* The store just became reachable: a standby tries at once instead of
 * waiting out its retry interval. */
void sch_lease_kick(struct sch_lease *l, uint64_t now_us);

/* Give up leadership (shutdown, an agent refused our epoch). */
void sch_lease_step_down(struct sch_lease *l, uint64_t now_us);

/* Microseconds until the next thing this machine wants to do (for a timer). */
uint64_t sch_lease_next_wake_us(const struct sch_lease *l, uint64_t now_us);

#endif
