#!/bin/sh
# bench/agent/run.sh — issue 5's bar for hearth-agent on this host.
#
#   bench/agent/run.sh [BUILD_DIR] [ITER]     (default build, 20)
#
# Starts a private redis-server and a hearth-agent (runc backend when root
# and runc exist, else process) on free ports, runs agent_bench against it
# (create-to-ready for nodejs:20 and blackbox, suspend/resume from the HTTP
# call's start to its reply, creates/s with 16 in flight, and `runc pause`
# / `runc resume` as the baseline in the same run), then stops both by PID.
set -eu
cd "$(dirname "$0")/../.."
B=${1:-build}
ITER=${2:-20}
[ -x "$B/hearth-agent" ] && [ -x "$B/hearth-runtime" ] || {
	echo "build $B/hearth-agent and $B/hearth-runtime first" >&2
	exit 2
}
WORK=$(mktemp -d /tmp/hearth-bench-agent.XXXXXX)
cc -O2 -o "$WORK/agent_bench" bench/agent/agent_bench.c \
	$(pkg-config --cflags --libs libcurl libcjson)

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
RPORT=$(free_port)
APORT=$(free_port)
TOKEN=bench-$$
BACKEND=${BACKEND:-auto}   # BACKEND=process to measure the fallback
RUNC_ROOT=-
if [ "$BACKEND" = auto ]; then
	BACKEND=process
	if [ "$(id -u)" = 0 ] && command -v runc >/dev/null; then
		BACKEND=runc
	fi
fi
if [ "$BACKEND" = runc ]; then
	RUNC_ROOT=$WORK/state/runc
fi

redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no \
	--dir "$WORK" --logfile "$WORK/redis.log" &
RPID=$!
"$B/hearth-agent" --id "bench$$" --port "$APORT" --redis "redis://127.0.0.1:$RPORT" \
	--token "$TOKEN" --backend "$BACKEND" --state-dir "$WORK/state" --memory 8192 \
	--port-range 21000-21999 --log-level ${LOGLEVEL:-warn} 2>"$WORK/agent.log" &
APID=$!
cleanup() {
	kill "$APID" 2>/dev/null || true
	wait "$APID" 2>/dev/null || true
	kill "$RPID" 2>/dev/null || true
	wait "$RPID" 2>/dev/null || true
	[ -n "${KEEP:-}" ] && cp "$WORK/agent.log" /tmp/agent-bench.log; rm -rf "$WORK"
}
trap cleanup EXIT INT TERM
for _ in $(seq 100); do
	curl -sf "http://127.0.0.1:$APORT/healthz" >/dev/null 2>&1 && break
	sleep 0.05
done
echo "hearth-agent backend=$BACKEND, $(nproc) cpus, $(uname -r)"
"$WORK/agent_bench" "http://127.0.0.1:$APORT" "$TOKEN" "$RUNC_ROOT" "$ITER"
