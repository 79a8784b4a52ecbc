#!/bin/sh
# bench/controller/run.sh — what the controller adds to a warm invoke.
#
#   bench/controller/run.sh [BUILD_DIR] [SECONDS] [ROUNDS]   (defaults: build, 2, 5)
#
# Starts redis-server, hearth-agent (process backend; HEARTH_BENCH_RUNC=1 for
# runc), hearth-scheduler and hearth-controller on free ports, creates noop
# actions (nodejs `return {}`), warms them, then measures with wrk:
#   - direct:     POST straight to the container's /run (the floor)
#   - nginx:      the same /run through an nginx reverse proxy (keep-alive
#                 upstream): the cost of one generic HTTP hop
#   - controller: POST /api/v1/namespaces/_/actions/noop?blocking=true
#   - ctl-tcp:    the same through a second controller started with
#                 --no-local-socket (its own actions noop1t/noop32t and
#                 containers): what reaching the container by its local
#                 socket instead of TCP is worth. nginx reaches the
#                 container by TCP (nginx 1.22 cannot dial an abstract socket)
# at 1 connection (sequential: p50/p99 latency) and at 8 and 32 connections
# (throughput). The machine is shared and noisy, so the three setups are
# interleaved: ROUNDS rounds of SECONDS each, direct / nginx / controller in
# every round (the order reversed every other round), and each cell is the
# median over the rounds. The action for
# c=1 has concurrency 1 (logs collected per activation, as OpenWhisk's
# latency.sh); for 8/32 it has concurrency 32 so one container serves every
# connection in all three setups.
# The controller runs with --pause-grace 10m so the container is never
# frozen under the direct and nginx runs. Everything started is stopped by
# PID at the end. Prints a markdown table, then the CPU each kind of
# process spent per request (from /proc, over all rounds): steadier than
# req/s on a shared machine, and it says where the difference goes; then
# the overheads and ratios, and the controller / nginx ratio taken within
# each round (median and range over the rounds).
set -u
B=${1:-build}
SECS=${2:-2}
ROUNDS=${3:-5}
B=$(cd "$B" && pwd)
D=$(mktemp -d /tmp/hearth-bench-ctl.XXXXXX)
TOKEN=bench-token
CRED="23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP"
B64=$(printf %s "$CRED" | base64 -w0)
PIDS=""

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
cleanup() {
	# SIGTERM, then up to 5 s (the agent stops its containers) before SIGKILL
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for _ in $(seq 1 50); do
		alive=0
		for p in $PIDS; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$D"
}
trap cleanup EXIT INT TERM
wait_ok() { # url
	for _ in $(seq 1 100); do
		curl -sf -o /dev/null "$1" && return 0
		sleep 0.1
	done
	echo "timeout waiting for $1" >&2
	exit 1
}

RP=$(free_port)
redis-server --port "$RP" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
	--logfile "$D/redis.log" --dir "$D" &
PIDS="$PIDS $!"
R=redis://127.0.0.1:$RP/0
sleep 0.3

BACKEND=process
[ "${HEARTH_BENCH_RUNC:-0}" = 1 ] && BACKEND=runc
AP=$(free_port); SP=$(free_port); CP=$(free_port)
"$B/hearth-agent" --port "$AP" --redis "$R" --token $TOKEN --backend $BACKEND \
	--port-range 31000-31999 --log-level warn >"$D/agent.log" 2>&1 &
PIDS="$PIDS $!"
"$B/hearth-scheduler" --port "$SP" --redis "$R" --token $TOKEN --log-level warn \
	>"$D/sched.log" 2>&1 &
PIDS="$PIDS $!"
"$B/hearth-controller" --port "$CP" --redis "$R" --token $TOKEN --pause-grace 10m \
	--guest "$CRED" --log-level warn >"$D/ctl.log" 2>&1 &
CTL_PID=$!
PIDS="$PIDS $CTL_PID"
CP2=$(free_port)
"$B/hearth-controller" --port "$CP2" --redis "$R" --token $TOKEN --pause-grace 10m \
	--no-local-socket --log-level warn >"$D/ctl2.log" 2>&1 &
PIDS="$PIDS $!"
wait_ok "http://127.0.0.1:$AP/healthz"
wait_ok "http://127.0.0.1:$SP/healthz"
wait_ok "http://127.0.0.1:$CP/healthz"
wait_ok "http://127.0.0.1:$CP2/healthz"
sleep 1
API="http://127.0.0.1:$CP/api/v1/namespaces/_/actions"
API2="http://127.0.0.1:$CP2/api/v1/namespaces/_/actions"
for a in "noop1 1 $API" "noop32 32 $API" "noop1t 1 $API2" "noop32t 32 $API2"; do
	set -- $a
	curl -sf -u "$CRED" -X PUT "$3/$1?overwrite=true" -H 'Content-Type: application/json' \
		-d "{\"exec\":{\"kind\":\"nodejs:20\",\"code\":\"function main(){return {}}\"},\"limits\":{\"concurrency\":$2}}" \
		>/dev/null || { echo "cannot create $1" >&2; exit 1; }
	curl -sf -u "$CRED" -X POST "$3/$1?blocking=true" >/dev/null || {
		echo "cold invoke of $1 failed" >&2; cat "$D/ctl.log" "$D/ctl2.log" >&2; exit 1; }
done

# The container of an action, as host:port, from the agent.
container_of() {
	curl -sf -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$AP/containers" |
		jq -r ".containers[] | select(.action == \"/guest/$1\") | \"\(.host):\(.port)\"" | head -n 1
}

DEADLINE=$(( $(date +%s) * 1000 + 3600000 ))
runbody() {
	printf '{"value":{},"activation_id":"00000000000000000000000000000000","action_name":"/guest/%s","action_version":"0.0.1","namespace":"guest","transaction_id":"bench","deadline":"%s","timeout":60000}' "$1" "$DEADLINE"
}
lua() { # file body extra-header
	cat >"$1" <<EOF
wrk.method = "POST"
wrk.body = '$2'
wrk.headers["Content-Type"] = "application/json"
$3
EOF
}
lua "$D/ctl.lua" '{}' "wrk.headers[\"Authorization\"] = \"Basic $B64\""

# Warm every loop of the controller (each loop holds its own containers),
# so no cold start lands inside a measurement.
lua "$D/warm.lua" '{}' "wrk.headers[\"Authorization\"] = \"Basic $B64\""
for a in "noop1 2 $API" "noop32 16 $API" "noop1t 2 $API2" "noop32t 16 $API2"; do
	set -- $a
	wrk -t2 -c"$2" -d2s -s "$D/warm.lua" "$3/$1?blocking=true" >/dev/null 2>&1
done

start_nginx() { # upstream host:port -> prints nginx port
	NP=$(free_port)
	mkdir -p "$D/nginx"
	cat >"$D/nginx/nginx.conf" <<EOF
worker_processes 2;
daemon off;
pid $D/nginx/nginx.pid;
error_log $D/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $D/nginx;
  proxy_temp_path $D/nginx;
  upstream rt { server $1; keepalive 64; }
  server {
    listen 127.0.0.1:$NP;
    location / { proxy_pass http://rt; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
EOF
	nginx -c "$D/nginx/nginx.conf" -p "$D/nginx" >/dev/null 2>&1 &
	NGINX_PID=$!
	PIDS="$PIDS $NGINX_PID"
	for _ in $(seq 1 50); do
		curl -s -o /dev/null "http://127.0.0.1:$NP/" && break
		sleep 0.1
	done
}

# CPU ticks used so far by the processes that serve a request, by kind:
# "nginx controller redis runtime node" (wrk is left out: it has exited by
# the second reading).
cpu_ticks() {
	for f in /proc/[0-9]*/stat; do cat "$f" 2>/dev/null; echo; done | awk '
	    { c = $2; sub(/^[^)]*\) /, ""); split($0, f, " "); t = f[12] + f[13] }
	    c == "(nginx)" {n += t} c == "(hearth-controll)" {h += t} c == "(redis-server)" {r += t}
	    c == "(hearth-runtime)" {u += t} c == "(node)" {o += t}
	    END {printf "%d %d %d %d %d\n", n, h, r, u, o}'
}

# wrk summary in microseconds: "req/s p50 p99 non2xx requests", and the CPU
# the serving processes used meanwhile in $D/cpu.out (ticks, as cpu_ticks)
measure() { # conns url luafile
	t=1; [ "$1" -gt 1 ] && t=2
	c0=$(cpu_ticks)
	wrk -t$t -c"$1" -d"${SECS}s" --latency --timeout 10s -s "$3" "$2" >"$D/wrk.out" 2>&1
	c1=$(cpu_ticks)
	echo "$c0 $c1" | awk '{print $6 - $1, $7 - $2, $8 - $3, $9 - $4, $10 - $5}' >"$D/cpu.out"
	awk 'function us(v) { if (v ~ /us$/) return v + 0; if (v ~ /ms$/) return v * 1000;
			      if (v ~ /s$/) return v * 1000000; return v + 0 }
	     /^Requests\/sec/ {r = $2} $1 == "50%" {p = us($2)} $1 == "99%" {q = us($2)}
	     /Non-2xx/ {e = $5} / requests in / {n = $1}
	     END {printf "%s %d %d %d %d\n", r, p, q, e + 0, n}' "$D/wrk.out"
}

median() { # numbers on stdin -> the median
	sort -n | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

echo "| action | conns | setup | req/s | p50 us | p99 us | non-2xx |"
echo "|---|---|---|---|---|---|---|"
: >"$D/summary"
: >"$D/ratios"
for spec in "noop1 1" "noop32 8" "noop32 32"; do
	set -- $spec
	act=$1; c=$2
	hp=$(container_of "$act")
	[ -n "$hp" ] || { echo "no container for $act" >&2; exit 1; }
	lua "$D/run.lua" "$(runbody "$act")" ""
	start_nginx "$hp"
	: >"$D/rounds"
	for r in $(seq 1 "$ROUNDS"); do
		# every other round in the reverse order: the setup that runs
		# after the others meets the container they have just loaded,
		# which cost a place 0.05-0.1 of the ratio
		order="direct nginx controller ctl-tcp"
		[ $((r % 2)) = 0 ] && order="ctl-tcp controller nginx direct"
		for setup in $order; do
			case $setup in
			direct) url="http://$hp/run"; l="$D/run.lua" ;;
			nginx) url="http://127.0.0.1:$NP/run"; l="$D/run.lua" ;;
			controller) url="$API/$act?blocking=true"; l="$D/ctl.lua" ;;
			ctl-tcp) url="$API2/${act}t?blocking=true"; l="$D/ctl.lua" ;;
			esac
			echo "$setup $(measure "$c" "$url" "$l") $(cat "$D/cpu.out") $r" >>"$D/rounds"
		done
	done
	for setup in direct nginx controller ctl-tcp; do
		rps=$(awk -v s=$setup '$1 == s {print $2}' "$D/rounds" | median)
		p50=$(awk -v s=$setup '$1 == s {print $3}' "$D/rounds" | median)
		p99=$(awk -v s=$setup '$1 == s {print $4}' "$D/rounds" | median)
		bad=$(awk -v s=$setup '$1 == s {n += $5} END {print n + 0}' "$D/rounds")
		echo "| $act | $c | $setup | $rps | $p50 | $p99 | $bad |"
		echo "$c $setup $rps $p50 $p99" >>"$D/summary"
		# controller / nginx within each round (they ran back to back, so
		# a slow spell of the shared machine hits both): median, min, max
		[ "$setup" = controller ] && awk '$1 == "nginx" {n[$12] = $2} $1 == "controller" {h[$12] = $2}
			END {for (r in h) if (n[r] > 0) print h[r] / n[r]}' \
			"$D/rounds" | sort -n | awk -v c=$c '{v[NR] = $1}
			    END {m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
				 printf "%d %.2f %.2f %.2f\n", c, m, v[1], v[NR]}' >>"$D/ratios"
		# CPU per request over all rounds (1 tick = 10 ms)
		awk -v s=$setup -v c=$c '$1 == s {n += $6; for (i = 0; i < 5; i++) t[i] += $(7 + i)}
		     END {if (n) printf "%d %s %.1f %.1f %.1f %.1f %.1f\n", c, s, t[0] * 1e4 / n,
				      t[1] * 1e4 / n, t[2] * 1e4 / n, t[3] * 1e4 / n, t[4] * 1e4 / n}' \
			"$D/rounds" >>"$D/cpu"
	done
	kill "$NGINX_PID" 2>/dev/null
	wait "$NGINX_PID" 2>/dev/null
done
echo
echo "CPU per request (us, all rounds; wrk not counted):"
echo "| conns | setup | nginx | controller | redis | runtime | node | total |"
echo "|---|---|---|---|---|---|---|---|"
awk '{printf "| %s | %s | %s | %s | %s | %s | %s | %.1f |\n", $1, $2, $3, $4, $5, $6, $7,
	     $3 + $4 + $5 + $6 + $7}' "$D/cpu"
RSS=$(ps -o rss= -p "$CTL_PID" 2>/dev/null | tr -d ' ')
echo
awk '{rps[$1, $2] = $3; p50[$1, $2] = $4; p99[$1, $2] = $5}
     END {
	printf "c=1 overhead over direct, p50: controller %+d us, nginx hop %+d us (target +60 us)\n",
	       p50[1, "controller"] - p50[1, "direct"], p50[1, "nginx"] - p50[1, "direct"]
	printf "c=1 overhead over direct, p50: controller over TCP to its container %+d us\n",
	       p50[1, "ctl-tcp"] - p50[1, "direct"]
	printf "c=1 overhead over direct, p99: controller %+d us, nginx hop %+d us (target +1 ms)\n",
	       p99[1, "controller"] - p99[1, "direct"], p99[1, "nginx"] - p99[1, "direct"]
	for (c = 8; c <= 32; c *= 4)
		printf "c=%d throughput: controller %.2fx an nginx hop (target 0.8x), %.2fx direct; over TCP %.2fx the hop\n",
		       c, rps[c, "controller"] / rps[c, "nginx"], rps[c, "controller"] / rps[c, "direct"],
		       rps[c, "ctl-tcp"] / rps[c, "nginx"]
     }' "$D/summary"
awk '$1 > 1 {printf "c=%d per-round ratio to the nginx hop: median %.2fx, range %.2f-%.2fx\n", $1, $2, $3, $4}' \
	"$D/ratios"
echo "ctl-tcp: a second controller with --no-local-socket, on its own containers of the same action"
echo "medians of $ROUNDS interleaved rounds of ${SECS}s; controller RSS after the runs: ${RSS:-?} KiB; backend: $BACKEND; $(nproc) cores shared by wrk, nginx, the controller, the runtime and Redis"
