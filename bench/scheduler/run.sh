#!/bin/sh
# bench/scheduler/run.sh — issue 6's bar for hearth-scheduler on this host.
#
#   bench/scheduler/run.sh [BUILD_DIR] [KILLS]     (default build, 20)
#
# 1. the pool function alone: warm hits (allocate + release) per second,
#    allocate latency with a prewarm hit;
# 2. over HTTP against a real hearth-scheduler and a private redis-server,
#    with a fake agent inside the benchmark (it answers creates at once, so
#    the numbers are the scheduler's, not container start-up): /allocate +
#    /release from a free warm pool, and /allocate latency with a prewarm hit;
# 3. failover: two schedulers (default lease 2 s), the leader SIGKILLed KILLS
#    times; time from the kill until the standby reports itself leader.
# Everything started is stopped by PID; the work directory is removed.
set -eu
cd "$(dirname "$0")/../.."
B=${1:-build}
KILLS=${2:-20}
[ -x "$B/hearth-scheduler" ] && [ -f "$B/lib/libscheduler.a" ] && [ -f "$B/lib/libhc.a" ] || {
	echo "build $B/hearth-scheduler first (make B=$B)" >&2
	exit 2
}
WORK=$(mktemp -d /tmp/hearth-bench-sched.XXXXXX)
RPID=
SPID=
cleanup() {
	[ -n "$SPID" ] && kill "$SPID" 2>/dev/null || true
	[ -n "$RPID" ] && kill "$RPID" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

cc -O2 -std=c11 -D_GNU_SOURCE -I. -o "$WORK/sched_bench" bench/scheduler/sched_bench.c \
	tests/lib/harness.c "$B/lib/libscheduler.a" "$B/lib/libhc.a" \
	$(pkg-config --cflags --libs libevent libevent_pthreads libcurl hiredis libcjson) \
	-lpthread -lm

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

echo "== hearth-scheduler bar ($(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%M:%SZ), build $B)"
"$WORK/sched_bench" pool 2000000

run_sched() { # $1 = extra args
	RPORT=$(free_port)
	SPORT=$(free_port)
	redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no \
		--dir "$WORK" --logfile "$WORK/redis.log" &
	RPID=$!
	sleep 0.3
	# shellcheck disable=SC2086
	"$B/hearth-scheduler" --id bench --port "$SPORT" --redis "redis://127.0.0.1:$RPORT" \
		--token bench --log-level warn $1 2>>"$WORK/sched.log" &
	SPID=$!
	# the controller the load claims to be, registered (an owner never seen
	# registered loses its containers after a grace)
	redis-cli -p "$RPORT" HSET hearth:controller:bench url http://127.0.0.1:1 >/dev/null
	sleep 1
}
stop_sched() {
	kill "$SPID" "$RPID" 2>/dev/null || true
	wait "$SPID" "$RPID" 2>/dev/null || true
	SPID=
	RPID=
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)

run_sched ""
"$WORK/sched_bench" http "http://127.0.0.1:$SPORT" bench "redis://127.0.0.1:$RPORT" 16 5
stop_sched

if command -v wrk >/dev/null; then
	run_sched ""
	"$WORK/sched_bench" agent "redis://127.0.0.1:$RPORT" 30 &
	APID=$!
	sleep 2.5
	# warm-up: each connection's first allocation creates its container
	BENCH_TOKEN=bench wrk -t4 -c4 -d1s -s bench/scheduler/alloc_release.lua \
		"http://127.0.0.1:$SPORT" >/dev/null
	c0=$(cpu_ticks "$SPID")
	BENCH_TOKEN=bench wrk -t4 -c4 -d5s --latency -s bench/scheduler/alloc_release.lua \
		"http://127.0.0.1:$SPORT" >"$WORK/wrk.txt"
	c1=$(cpu_ticks "$SPID")
	rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.txt")
	awk -v rps="$rps" -v cpu="$(( c1 - c0 ))" -v hz="$HZ" 'BEGIN {
		a = rps / 2; s = cpu / hz;
		printf "%-44s %.0f allocations/s (+ as many releases; wrk -t4 -c4, 5 s)\n", "http (wrk): /allocate warm hit", a;
		if (s > 0) printf "%-44s %.0f allocations per scheduler CPU-second (%.2f CPU-s used)\n", "http (wrk): per core", a * 5 / s, s;
	}'
	grep -E '^ +(50|90|99)%' "$WORK/wrk.txt" | awk '{printf "    allocate/release latency p%s %s\n", $1, $2}'
	# allocate only: a free container of "shared" owned by controller "other"
	redis-cli -p "$RPORT" HSET hearth:controller:other url http://127.0.0.1:1 >/dev/null
	cid=$(curl -s -XPOST -H 'Authorization: Bearer bench' "http://127.0.0.1:$SPORT/allocate" \
		-d '{"namespace":"bench","name":"shared","version":"1","kind":"nodejs:20","memory":128,"digest":"","controller":"other"}' |
		sed -n 's/.*"container":{"id":"\([0-9a-f]*\)".*/\1/p')
	curl -s -XPOST -H 'Authorization: Bearer bench' "http://127.0.0.1:$SPORT/release" \
		-d "{\"container\":\"$cid\",\"controller\":\"other\"}" >/dev/null
	BENCH_TOKEN=bench wrk -t2 -c8 -d1s -s bench/scheduler/alloc_forward.lua \
		"http://127.0.0.1:$SPORT/allocate" >/dev/null
	c0=$(cpu_ticks "$SPID")
	BENCH_TOKEN=bench wrk -t2 -c8 -d5s --latency -s bench/scheduler/alloc_forward.lua \
		"http://127.0.0.1:$SPORT/allocate" >"$WORK/wrk-f.txt"
	c1=$(cpu_ticks "$SPID")
	rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk-f.txt")
	non2xx=$(awk '/Non-2xx/ {print $NF}' "$WORK/wrk-f.txt")
	awk -v rps="$rps" -v cpu="$(( c1 - c0 ))" -v hz="$HZ" -v bad="${non2xx:-0}" 'BEGIN {
		s = cpu / hz;
		printf "%-44s %.0f allocations/s (wrk -t2 -c8, 5 s, non-2xx %s)\n", "http (wrk): /allocate only (warm, forward)", rps, bad;
		if (s > 0) printf "%-44s %.0f allocations per scheduler CPU-second (%.2f CPU-s used)\n", "http (wrk): per core", rps * 5 / s, s;
	}'
	grep -E '^ +(50|90|99)%' "$WORK/wrk-f.txt" | awk '{printf "    allocate latency p%s %s\n", $1, $2}'
	c0=$(cpu_ticks "$SPID")
	wrk -t2 -c8 -d3s "http://127.0.0.1:$SPORT/healthz" >"$WORK/wrk-h.txt"
	c1=$(cpu_ticks "$SPID")
	awk -v cpu="$(( c1 - c0 ))" -v hz="$HZ" '/Requests\/sec/ {
		printf "%-44s %.0f requests/s, %.0f per scheduler CPU-second (HTTP floor)\n", "http (wrk): GET /healthz", $2, (cpu > 0 ? $2 * 3 / (cpu / hz) : 0)}' "$WORK/wrk-h.txt"
	kill "$APID" 2>/dev/null || true
	wait "$APID" 2>/dev/null || true
	stop_sched
fi
run_sched "--prewarm nodejs:20:256:4"
"$WORK/sched_bench" prewarm "http://127.0.0.1:$SPORT" bench "redis://127.0.0.1:$RPORT" 500
stop_sched

HEARTH_BUILD=$(cd "$B" && pwd) "$WORK/sched_bench" failover "$KILLS" 2000
