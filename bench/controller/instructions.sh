#!/bin/sh
# bench/controller/instructions.sh — the controller's instructions per warm
# invoke, counted by callgrind: steady on a shared, noisy machine where
# wall-clock microseconds are not.
#
#   bench/controller/instructions.sh [BUILD_DIR...]   (default: build)
#
# For each build: redis-server, hearth-agent (process backend),
# hearth-scheduler, and hearth-controller under valgrind --tool=callgrind
# on free ports; a noop nodejs action (concurrency 1) warmed, then N1 and
# N1+N2 blocking invokes over one kept-alive connection in two runs of the
# controller. The difference of the two totals over N2 is the cost of one
# warm invoke, start-up and warming cancelled out. Prints one line per
# build; everything started is stopped by PID.
set -u
N1=${N1:-200}
N2=${N2:-1000}
CRED="23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP"
TOKEN=bench-token
[ $# -gt 0 ] || set -- build
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
wait_ok() {
	for _ in $(seq 1 300); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done
	echo "timeout waiting for $1" >&2
	return 1
}
stop() { # pids: SIGTERM, then SIGKILL after 10 s
	for p in "$@"; do kill "$p" 2>/dev/null; done
	for _ in $(seq 1 100); do
		alive=0
		for p in "$@"; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ $alive = 0 ] && return 0
		sleep 0.1
	done
	for p in "$@"; do kill -9 "$p" 2>/dev/null; done
}
# invokes HOSTPORT N: N blocking invokes of noop over one connection
invokes() {
	python3 - "$1" "$2" "$CRED" <<'EOF'
import base64, http.client, sys
host, port = sys.argv[1].split(":")
auth = "Basic " + base64.b64encode(sys.argv[3].encode()).decode()
c = http.client.HTTPConnection(host, int(port))
for _ in range(int(sys.argv[2])):
    c.request("POST", "/api/v1/namespaces/_/actions/noop?blocking=true", body=b"{}",
              headers={"Authorization": auth, "Content-Type": "application/json"})
    r = c.getresponse(); r.read()
    if r.status != 200:
        sys.exit("invoke: %d" % r.status)
EOF
}

# one BUILD N: total instructions of a controller that served N warm invokes
one() {
	B=$1 N=$2 D=$(mktemp -d /tmp/hearth-insn.XXXXXX)
	RP=$(free_port) AP=$(free_port) SP=$(free_port) CP=$(free_port)
	redis-server --port "$RP" --bind 127.0.0.1 --save '' --appendonly no \
		--logfile "$D/redis.log" --dir "$D" &
	RPID=$!
	R=redis://127.0.0.1:$RP/0
	sleep 0.3
	"$B/hearth-agent" --port "$AP" --redis "$R" --token $TOKEN --backend process \
		--port-range 32000-32999 --log-level warn >"$D/agent.log" 2>&1 &
	APID=$!
	"$B/hearth-scheduler" --port "$SP" --redis "$R" --token $TOKEN --log-level warn \
		>"$D/sched.log" 2>&1 &
	SPID=$!
	valgrind --tool=callgrind --callgrind-out-file="$D/cg.out" \
		"$B/hearth-controller" --port "$CP" --redis "$R" --token $TOKEN --pause-grace 10m \
		--guest "$CRED" --log-level warn >"$D/ctl.log" 2>&1 &
	CPID=$!
	wait_ok "http://127.0.0.1:$AP/healthz" && wait_ok "http://127.0.0.1:$SP/healthz" &&
		wait_ok "http://127.0.0.1:$CP/healthz" || { stop $CPID $SPID $APID $RPID; return 1; }
	curl -sf -u "$CRED" -X PUT "http://127.0.0.1:$CP/api/v1/namespaces/_/actions/noop" \
		-H 'Content-Type: application/json' \
		-d '{"exec":{"kind":"nodejs:20","code":"function main(){return {}}"}}' >/dev/null
	invokes "127.0.0.1:$CP" 20 && invokes "127.0.0.1:$CP" "$N" || echo "invokes failed" >&2
	stop $CPID
	stop $SPID $APID $RPID
	sed -n 's/^summary: //p' "$D/cg.out" | tail -n 1
	rm -rf "$D"
}

for b in "$@"; do
	B=$(cd "$b" && pwd)
	i1=$(one "$B" "$N1") && i2=$(one "$B" $((N1 + N2))) || { echo "$b: failed" >&2; continue; }
	echo "$b: $(( (i2 - i1) / N2 )) instructions per warm invoke (callgrind, $N2 invokes)"
done
