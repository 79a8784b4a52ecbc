#!/bin/sh
# cluster_faults.sh — a 3-host cluster on loopback survives the loss of any
# one part (issue 10). Started with the launcher (HEARTH_CLUSTER=1: agents on
# 127.0.0.2-4, 2 schedulers, 2 controllers behind nginx), the process backend
# for speed (runc is not the point here), stopped by PID.
#
#  1. spread: cold invokes of 6 actions land on every host, evenly by memory;
#  2. drain: `hearth host drain` empties a host of idle containers and it
#     gets no new container, even for new actions; undrain takes it back;
#  3. leader kill under a steady stream of blocking invokes: each succeeds or
#     gets a clear error, none outlives its deadline, none runs twice (the
#     action appends its activation id to a file shared with this script);
#  4. host kill (SIGKILL of an agent and its containers): detected within a
#     few seconds, and every action answers on the next invoke (re-created
#     elsewhere);
#  5. controller kill: the other one serves everything through the front.
#
# Needs curl, jq, redis-cli, nginx. Bounded: about a minute.
. "${HEARTH_SRC:-.}/tests/lib/e2e.sh"
export HEARTH_CLUSTER=1 HEARTH_BACKEND=process HEARTH_MEMORY=1024 HEARTH_PREWARM=nodejs:20:256:1
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || fail "nginx is needed (make deps)"
node_start
HEARTH="$BUILD/hearth --redis $HEARTH_REDIS_URL"

# e2e.sh's api, bounded: no call here may hang the suite (a blocking invoke
# answers within 60 s at most, 202 past that)
api() {
	if [ $# -ge 3 ]; then
		STATUS=$(curl -sS -m 90 -o "$E2E_TMP/body" -w '%{http_code}' -u "$AUTH" -X "$1" \
			-H 'Content-Type: application/json' --data-binary "$3" "$API$2") || STATUS=timeout
	else
		STATUS=$(curl -sS -m 90 -o "$E2E_TMP/body" -w '%{http_code}' -u "$AUTH" -X "$1" \
			"$API$2") || STATUS=timeout
	fi
}

# redis-cli with the node's Redis (its URL is redis://:PASS@HOST:PORT/0).
rpass=${HEARTH_REDIS_URL#redis://:}; rpass=${rpass%%@*}
rhost=${HEARTH_REDIS_URL#*@}; rport=${rhost#*:}; rport=${rport%%/*}; rhost=${rhost%%:*}
rcli() { redis-cli -h "$rhost" -p "$rport" -a "$rpass" --no-auth-warning "$@"; }

nth() { echo "$1" | tr ',' '\n' | sed -n "${2}p"; } # nth LIST N
agent_url() { nth "$HEARTH_AGENT_URLS" "$1"; }
pid_of() { curl -fsS -m 2 "$1/healthz" | jq -r .pid; }
# container ids an agent holds, one per line
agent_containers() {
	curl -fsS -m 5 -H "Authorization: Bearer $HEARTH_CLUSTER_TOKEN" "$1/containers" |
		jq -r '.containers[].id'
}
# how many of an agent's containers run an action (the scheduler's record
# of assignments; a stem cell's agent labels stay empty)
agent_action_count() {
	rcli hkeys hearth:scheduler:assigned | sort >"$E2E_TMP/assigned"
	agent_containers "$1" | sort | comm -12 - "$E2E_TMP/assigned" | wc -l
}

REC=$E2E_TMP/rec
mkdir -p "$REC"
cat >"$E2E_TMP/rec.js" <<'JS'
// appends its activation id to dir/ids: an id twice means it ran twice
function main(p) {
	require('fs').appendFileSync(p.dir + '/ids', process.env.__OW_ACTIVATION_ID + '\n');
	return { id: process.env.__OW_ACTIVATION_ID };
}
JS
put_rec() { # name memory
	api PUT "/api/v1/namespaces/_/actions/$1?overwrite=true" \
		"$(jq -n --rawfile c "$E2E_TMP/rec.js" --argjson m "$2" \
			'{exec: {kind: "nodejs:20", code: $c}, limits: {memory: $m}}')"
	expect 200
}
invoke_ok() { # name
	api POST "/api/v1/namespaces/_/actions/$1?blocking=true&result=true" "{\"dir\":\"$REC\"}"
	expect 200
	[ -n "$(body | jq -r '.id // empty')" ] || fail "$1: no activation id in $(body)"
}

# ---- 1. invokes spread across hosts by memory ----
# The leader reads hosts that registered after it at its refresh (1 s): wait
# until it knows all three and their stem cells, or the first invokes can
# only land on the hosts it knew (an ASan run saw "3 2 1").
leader_has() { # metric line
	for u in $(echo "$HEARTH_SCHEDULER_URLS" | tr ',' ' '); do
		m=$(curl -fsS -m 2 "$u/metrics" 2>/dev/null) || continue
		echo "$m" | grep -qx 'hearth_scheduler_leader 1' && echo "$m" | grep -qxF "$1" && return 0
	done
	return 1
}
i=0
until leader_has 'hearth_scheduler_hosts 3' &&
	leader_has 'hearth_scheduler_containers{state="prewarm"} 3'; do
	i=$((i + 1))
	[ $i -gt 100 ] && fail "the leader does not know 3 hosts with a stem cell each after 10 s"
	sleep 0.1
done
for i in 1 2 3 4 5 6; do put_rec "rec$i" 256; done
for i in 1 2 3 4 5 6; do invoke_ok "rec$i"; done
counts=""
for n in 1 2 3; do counts="$counts $(agent_action_count "$(agent_url $n)")"; done
set -- $counts
min=$1 max=$1
for c; do [ "$c" -lt "$min" ] && min=$c; [ "$c" -gt "$max" ] && max=$c; done
[ "$min" -ge 1 ] && [ $((max - min)) -le 1 ] || fail "6 actions not spread over 3 hosts: $counts"
ok "spread: action containers per host:$counts"

# ---- 2. a drained host gets no new container ----
A2=$(agent_url 2)
addr2=$(echo "$A2" | sed 's|http://||; s|:.*||')
$HEARTH host drain "$addr2" >/dev/null || fail "hearth host drain $addr2"
$HEARTH host list --json | jq -e --arg u "$A2" '.[] | select(.url == $u) | .draining' >/dev/null ||
	fail "host list does not show $A2 draining: $($HEARTH host list)"
# its idle containers (stem cell, suspended ones) go within a few ticks
i=0
until [ "$(agent_containers "$A2" | wc -l)" -eq 0 ]; do
	i=$((i + 1))
	[ $i -gt 100 ] && fail "drained host $A2 still has containers after 10 s"
	sleep 0.1
done
for i in 7 8; do put_rec "rec$i" 128; done
for i in 1 2 3 4 5 6 7 8; do invoke_ok "rec$i"; done
n=$(agent_containers "$A2" | wc -l)
[ "$n" -eq 0 ] || fail "drained host $A2 received $n new containers"
# the flag lives apart from the registration: heartbeats do not undo it
sleep 1.5
$HEARTH host list --json | jq -e --arg u "$A2" '.[] | select(.url == $u) | .draining' >/dev/null ||
	fail "the drain did not survive the agent's heartbeats"
$HEARTH host undrain "$A2" >/dev/null || fail "hearth host undrain"
# undrained, it gets its stem cell back
i=0
until [ "$(agent_containers "$A2" | wc -l)" -ge 1 ]; do
	i=$((i + 1))
	[ $i -gt 100 ] && fail "undrained host $A2 got no container back within 10 s"
	sleep 0.1
done
ok "drain: no container on a drained host; idle ones removed; undrain restores it"

# ---- 3. the scheduler leader killed under a steady stream of invokes ----
leader=$(rcli hget hearth:scheduler:info url)
[ -n "$leader" ] || fail "no scheduler leader in Redis"
lpid=$(pid_of "$leader")
epoch0=$(curl -fsS -m 5 "$leader/healthz" | jq -r .epoch)
: >"$REC/ids"
# 4 clients, 6 s each (the kill at 1 s), blocking invokes over 8 actions (scheduler calls on
# every resume and suspend), each bounded by a 30 s deadline
client() { # n
	end=$(($(date +%s) + 6))
	k=0
	while [ "$(date +%s)" -lt $end ]; do
		a=rec$(((k + $1) % 8 + 1))
		code=$(curl -sS -m 30 -o "$E2E_TMP/c$1.$k" -w '%{http_code}' -u "$AUTH" -X POST \
			-H 'Content-Type: application/json' -d "{\"dir\":\"$REC\"}" \
			"$API/api/v1/namespaces/_/actions/$a?blocking=true&result=true") || code=timeout
		echo "$code $E2E_TMP/c$1.$k" >>"$E2E_TMP/stream.$1"
		k=$((k + 1))
		sleep 0.1
	done
}
cpids=""
for c in 1 2 3 4; do
	client $c &
	cpids="$cpids $!"
done
sleep 1
kill -KILL "$lpid"
t0=$(date +%s%N)
for p in $cpids; do wait "$p"; done
# a standby leads now, with a higher epoch
newleader=""
for u in $(echo "$HEARTH_SCHEDULER_URLS" | tr ',' ' '); do
	[ "$u" = "$leader" ] && continue
	i=0
	until [ "$(curl -fsS -m 1 "$u/healthz" 2>/dev/null | jq -r .role)" = leader ]; do
		i=$((i + 1))
		[ $i -gt 100 ] && fail "standby $u did not take over within 10 s of the leader's death"
		sleep 0.1
	done
	newleader=$u
done
epoch1=$(curl -fsS -m 5 "$newleader/healthz" | jq -r .epoch)
[ "$epoch1" -gt "$epoch0" ] || fail "epoch did not grow: $epoch0 -> $epoch1"
cat "$E2E_TMP"/stream.* >"$E2E_TMP/stream"
total=$(wc -l <"$E2E_TMP/stream")
good=$(grep -c '^200 ' "$E2E_TMP/stream" || true)
grep -q '^timeout ' "$E2E_TMP/stream" && fail "an invoke outlived its 30 s deadline"
# each failure is a clear error: an HTTP error status with a JSON "error"
grep -v '^200 ' "$E2E_TMP/stream" >"$E2E_TMP/failed" || true
while read -r code f; do
	jq -e '.error | strings' "$f" >/dev/null 2>&1 || fail "unclear failure $code: $(cat "$f")"
done <"$E2E_TMP/failed"
# none ran twice, and every success ran exactly once
dups=$(sort "$REC/ids" | uniq -d | wc -l)
[ "$dups" -eq 0 ] || fail "$dups activations ran twice"
grep '^200 ' "$E2E_TMP/stream" >"$E2E_TMP/good" || true
while read -r code f; do
	id=$(jq -r .id "$f")
	[ "$(grep -c "^$id\$" "$REC/ids")" -eq 1 ] || fail "activation $id of a 200 is not recorded once"
done <"$E2E_TMP/good"
[ "$good" -ge 1 ] || fail "no invoke succeeded during the leader kill"
ok "leader kill: $total invokes, $good succeeded, $((total - good)) clear errors, none twice," \
	"epoch $epoch0 -> $epoch1"

# ---- 4. a host killed with SIGKILL: detected, its actions re-created elsewhere ----
A1=$(agent_url 1)
apid=$(pid_of "$A1")
kill -KILL "$apid"
# a dead host takes its containers with it (the process backend leaves them
# running, so kill them too: each is its own process group)
for pg in $(ps -eo pgid=,args= | grep -F -- "--workdir $DATA/agent-1/" | grep -v grep |
	awk '{print $1}' | sort -u); do
	kill -KILL -- "-$pg" 2>/dev/null || true
done
t0=$(date +%s%N)
i=0
until $HEARTH host list --json | jq -e --arg u "$A1" \
	'[.[] | select(.alive == false)] | length == 1' >/dev/null; do
	i=$((i + 1))
	[ $i -gt 150 ] && fail "host $A1 not seen as lost within 15 s"
	sleep 0.1
done
# the leader drops it at its next refresh (1 s) after the registration expires
i=0
until curl -fsS -m 2 -o "$E2E_TMP/metrics" "$newleader/metrics" &&
	grep -q '^hearth_scheduler_hosts_lost_total [1-9]' "$E2E_TMP/metrics"; do
	i=$((i + 1))
	[ $i -gt 50 ] && fail "the leader did not drop host $A1 within 5 s of its expiry"
	sleep 0.1
done
detect_ms=$((($(date +%s%N) - t0) / 1000000))
sleep 0.3 # the "destroyed" events reach the controllers
for i in 1 2 3 4 5 6 7 8; do invoke_ok "rec$i"; done
ok "host kill: detected in ${detect_ms} ms; all 8 actions answered on the next invoke"

# ---- 5. one controller killed: the other serves through the front ----
C1=$(nth "$HEARTH_CONTROLLER_URLS" 1)
kill -KILL "$(pid_of "$C1")"
# A POST that the front had already written on a kept-alive connection to
# the killed controller gets 502 (nginx never resends a POST: at-most-once,
# as OpenWhisk); give the front a moment to see those connections close.
sleep 0.5
for k in 1 2 3; do for i in 1 2 3 4 5 6 7 8; do invoke_ok "rec$i"; done; done
ok "controller kill: 24 invokes through the front, all answered"

# the operator's view of what is left: the new leader, one controller
# alive, the killed host LOST (exit status checked: a sanitizer build fails
# it on a leak)
$HEARTH status >"$E2E_TMP/status" || fail "hearth status failed"
grep -q "^scheduler leader: .* epoch $epoch1\$" "$E2E_TMP/status" || fail "status: $(cat "$E2E_TMP/status")"
grep -q '^pools: ' "$E2E_TMP/status" || fail "status shows no pools: $(cat "$E2E_TMP/status")"
$HEARTH status --json >"$E2E_TMP/status.json" || fail "hearth status --json failed"
jq -e '[.controllers[] | select(.alive)] | length == 1' "$E2E_TMP/status.json" >/dev/null ||
	fail "status does not show one live controller: $(cat "$E2E_TMP/status.json")"
jq -e '[.hosts[] | select(.alive | not)] | length == 1' "$E2E_TMP/status.json" >/dev/null ||
	fail "status does not show one lost host: $(cat "$E2E_TMP/status.json")"
$HEARTH host list >/dev/null || fail "hearth host list failed"
ok "status: leader, pools, controllers and hosts as expected"

node_stop
# sanitizer builds: the daemons that were stopped (not killed) report here
if grep -l -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$DATA"/logs/*.log; then
	fail "sanitizer reports in the daemons' logs"
fi
ok "stopped cleanly"
