#!/bin/sh
# bench/cluster/failover.sh — scheduler failover time over N leader kills.
#
#   bench/cluster/failover.sh [KILLS]        (default 20; HEARTH_BUILD=build)
#
# Starts a cluster with the launcher (HEARTH_CLUSTER=1: 3 agents, 2
# schedulers, 2 controllers behind nginx; process backend), keeps a steady
# stream of blocking invokes running (2 clients, warm actions: every resume
# and suspend is a scheduler call), and KILLS times: SIGKILL the leader,
# start a fresh standby in its place, and measure
#   takeover  kill -> a standby's /healthz says role=leader (higher epoch);
#   cold      kill -> a blocking invoke of a new action version (a fresh
#             allocation: the leader must be serving) answers 200; the
#             invoke is sent at the moment of the kill.
# Prints p50/p99/max of both and how many stream invokes failed (and how),
# and writes the raw numbers to $OUT (default bench/out/cluster-failover.txt).
# Stops everything it started by PID.
set -eu
KILLS=${1:-20}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${HEARTH_BUILD:-$SRC/build}" && pwd)
OUT=${OUT:-$SRC/bench/out/cluster-failover.txt}
TMP=$(mktemp -d /tmp/hearth-failover.XXXXXX)
DATA=$TMP/data
NODE_PID=""
EXTRA_PIDS=""
CLIENT_PIDS=""

say() { printf 'failover: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }

cleanup() {
	for p in $CLIENT_PIDS; do kill -TERM "$p" 2>/dev/null || true; done
	for p in $EXTRA_PIDS; do kill -TERM "$p" 2>/dev/null || true; done
	for p in $EXTRA_PIDS $CLIENT_PIDS; do wait "$p" 2>/dev/null || true; done
	if [ -n "$NODE_PID" ]; then
		kill -TERM "$NODE_PID" 2>/dev/null || true
		wait "$NODE_PID" 2>/dev/null || true
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

PORT=$(free_port)
HEARTH_CLUSTER=1 HEARTH_DATA=$DATA HEARTH_PORT=$PORT HEARTH_BUILD=$BUILD \
	HEARTH_BACKEND=process HEARTH_MEMORY=2048 HEARTH_PREWARM=nodejs:20:256:1 \
	"$SRC/deploy/hearth-node.sh" >"$TMP/node.out" 2>&1 &
NODE_PID=$!
i=0
until grep -q "hearth is running" "$TMP/node.out" 2>/dev/null; do
	i=$((i + 1))
	[ $i -gt 600 ] || kill -0 "$NODE_PID" 2>/dev/null || { cat "$TMP/node.out" >&2; die "the cluster did not start"; }
	[ $i -gt 600 ] && die "the cluster did not start in 60 s"
	sleep 0.1
done
# shellcheck disable=SC1091
. "$DATA/cluster.env"
export HEARTH_REDIS_URL HEARTH_CLUSTER_TOKEN
rpass=${HEARTH_REDIS_URL#redis://:}; rpass=${rpass%%@*}
rhost=${HEARTH_REDIS_URL#*@}; rport=${rhost#*:}; rport=${rport%%/*}; rhost=${rhost%%:*}
rcli() { redis-cli -h "$rhost" -p "$rport" -a "$rpass" --no-auth-warning "$@"; }
api() { # METHOD PATH BODY -> prints the HTTP status; body in $TMP/body
	curl -sS -m 30 -o "$TMP/body" -w '%{http_code}' -u "$HEARTH_AUTH" -X "$1" \
		-H 'Content-Type: application/json' --data-binary "$3" "$HEARTH_API$2" || echo timeout
}
put_action() { # name code
	api PUT "/api/v1/namespaces/_/actions/$1?overwrite=true" \
		"$(jq -n --arg c "$2" '{exec: {kind: "nodejs:20", code: $c}, limits: {memory: 128}}')"
}
for a in s1 s2 s3 s4; do
	[ "$(put_action $a 'function main(p) { return {ok: true}; }')" = 200 ] || die "cannot create $a"
done

# The steady stream: 2 clients, blocking invokes, 50 ms apart (past the
# pause grace, so each invoke is a resume + a suspend: scheduler traffic).
client() { # n
	k=0
	while :; do
		a=s$(((k + $1) % 4 + 1))
		code=$(curl -sS -m 30 -o /dev/null -w '%{http_code}' -u "$HEARTH_AUTH" -X POST \
			-H 'Content-Type: application/json' -d '{}' \
			"$HEARTH_API/api/v1/namespaces/_/actions/$a?blocking=true&result=true") || code=timeout
		echo "$code" >>"$TMP/stream.$1"
		k=$((k + 1))
		sleep 0.05
	done
}
for c in 1 2; do
	client $c &
	CLIENT_PIDS="$CLIENT_PIDS $!"
done
sleep 1

role_of() { curl -fsS -m 1 "$1/healthz" 2>/dev/null | jq -r '"\(.role) \(.epoch)"' 2>/dev/null; }
SCHEDS=$(echo "$HEARTH_SCHEDULER_URLS" | tr ',' ' ')
: >"$TMP/takeover" && : >"$TMP/cold"
n=1
while [ $n -le "$KILLS" ]; do
	leader=$(rcli hget hearth:scheduler:info url)
	set -- $(role_of "$leader")
	[ "${1:-}" = leader ] || die "round $n: $leader is not leading (${1:-unreachable})"
	epoch0=$2
	lpid=$(curl -fsS -m 1 "$leader/healthz" | jq -r .pid)
	put_action cold "function main(p) { return {round: $n}; }" >/dev/null
	kill -KILL "$lpid"
	t0=$(now_ms)
	# the user-visible side: a fresh allocation, sent at the kill
	(
		api POST "/api/v1/namespaces/_/actions/cold?blocking=true&result=true" '{}' >"$TMP/cold.code"
		now_ms >"$TMP/cold.t"
	) &
	cold_pid=$!
	newl=""
	while [ -z "$newl" ]; do
		for u in $SCHEDS; do
			[ "$u" = "$leader" ] && continue
			set -- $(role_of "$u")
			[ "${1:-}" = leader ] && [ "${2:-0}" -gt "$epoch0" ] && newl=$u
		done
		[ $(($(now_ms) - t0)) -gt 30000 ] && die "round $n: no new leader 30 s after the kill"
		[ -z "$newl" ] && sleep 0.02
	done
	echo $(($(now_ms) - t0)) >>"$TMP/takeover"
	wait "$cold_pid" || true
	code=$(cat "$TMP/cold.code")
	[ "$code" = 200 ] || say "round $n: the cold invoke answered $code: $(cat "$TMP/body" 2>/dev/null)"
	echo $(($(cat "$TMP/cold.t") - t0)) "$code" >>"$TMP/cold"
	# a fresh standby replaces the dead leader
	port=$(free_port)
	"$BUILD/hearth-scheduler" --id "bench-scheduler-$n" --port "$port" \
		--url "http://127.0.0.1:$port" --prewarm nodejs:20:256:1 \
		>"$DATA/logs/bench-scheduler-$n.log" 2>&1 &
	EXTRA_PIDS="$EXTRA_PIDS $!"
	SCHEDS=$(for u in $SCHEDS; do [ "$u" != "$leader" ] && echo "$u"; done; echo "http://127.0.0.1:$port")
	i=0
	until [ "$(role_of "http://127.0.0.1:$port" | cut -d' ' -f1)" = standby ]; do
		i=$((i + 1))
		[ $i -gt 200 ] && die "round $n: the new standby did not start"
		sleep 0.05
	done
	say "round $n: takeover $(tail -n 1 "$TMP/takeover") ms, cold invoke $(tail -n 1 "$TMP/cold") (new leader $newl)"
	sleep 1
	n=$((n + 1))
done
for p in $CLIENT_PIDS; do kill -TERM "$p" 2>/dev/null || true; done
for p in $CLIENT_PIDS; do wait "$p" 2>/dev/null || true; done
CLIENT_PIDS=""

pct() { # file column p -> the p-th percentile (nearest rank)
	sort -n -k"$2","$2" "$1" | awk -v c="$2" -v p="$3" '{ v[NR] = $c }
		END { i = int((p / 100) * NR + 0.999999); if (i < 1) i = 1; if (i > NR) i = NR; print v[i] }'
}
cat "$TMP"/stream.* >"$TMP/stream"
total=$(wc -l <"$TMP/stream")
failed=$(grep -vc '^200$' "$TMP/stream" || true)
cold_failed=$(awk '$2 != 200' "$TMP/cold" | wc -l)
mkdir -p "$(dirname "$OUT")"
{
	echo "# hearth scheduler failover, $KILLS leader kills (SIGKILL), $(date -u +%Y-%m-%dT%H:%MZ)"
	echo "# lease default (2 s); 3 agents, 2 controllers behind nginx; process backend"
	echo "takeover_ms p50 $(pct "$TMP/takeover" 1 50) p99 $(pct "$TMP/takeover" 1 99) max $(pct "$TMP/takeover" 1 100)"
	echo "cold_invoke_ms p50 $(pct "$TMP/cold" 1 50) p99 $(pct "$TMP/cold" 1 99) max $(pct "$TMP/cold" 1 100) failed $cold_failed/$KILLS"
	echo "stream_invokes total $total failed $failed"
	[ "$failed" -gt 0 ] && grep -v '^200$' "$TMP/stream" | sort | uniq -c | sed 's/^/stream_failure /'
	echo "# raw takeover ms: $(tr '\n' ' ' <"$TMP/takeover")"
	echo "# raw cold invoke ms and status: $(tr '\n' ';' <"$TMP/cold")"
} | tee "$OUT"
