#!/bin/sh
# hearth-node.sh — start a single hearth node in the foreground (`make run`).
#
# Starts the node's own redis-server (password, AOF in the data dir, loopback
# only), one scheduler, one agent and one controller; waits until each is
# healthy; writes $HEARTH_DATA/wskprops and $HEARTH_DATA/cluster.env; prints
# how to use it. Ctrl-C or SIGTERM stops everything it started, by PID,
# containers included. Run with --help for the settings.
set -eu

usage() {
	cat <<USAGE
usage: deploy/hearth-node.sh [--help]      (what \`make run\` calls)

Starts a single-node hearth cluster in the foreground; Ctrl-C stops it.

environment:
  HEARTH_DATA     data directory (default ./.hearth): Redis data, daemon logs,
                  wskprops, cluster.env, the generated guest key
  HEARTH_PORT     controller (API) port (default 3233); the other ports are
                  picked free and written to cluster.env
  HEARTH_BUILD    where the binaries are (default ./build)
  HEARTH_BACKEND  agent backend: auto (default; runc when root and runc are
                  there), runc, or process (not isolated)
  HEARTH_MEMORY   memory the agent may give to containers, MB (default 4096)
  HEARTH_PREWARM  prewarm stem cells per host (default nodejs:20:256:1)
  HEARTH_CLUSTER  1 = a multi-host cluster on this machine (what
                  \`make run CLUSTER=1\` sets): HEARTH_AGENTS agents (default 3),
                  each on its own loopback address 127.0.0.2, .3, ... with
                  HEARTH_MEMORY MB; HEARTH_SCHEDULERS schedulers (default 2, one
                  leads, the others stand by); HEARTH_CONTROLLERS controllers
                  (default 2) behind an nginx front on HEARTH_PORT
USAGE
}
case "${1:-}" in
-h | --help) usage; exit 0 ;;
"") ;;
*) echo "hearth: unknown argument $1" >&2; usage >&2; exit 2 ;;
esac

BUILD=$(cd "${HEARTH_BUILD:-./build}" && pwd)
DATA=${HEARTH_DATA:-./.hearth}
API_PORT=${HEARTH_PORT:-3233}
BACKEND=${HEARTH_BACKEND:-auto}
MEMORY=${HEARTH_MEMORY:-4096}
PREWARM=${HEARTH_PREWARM:-nodejs:20:256:1}
CLUSTER=${HEARTH_CLUSTER:-0}
if [ "$CLUSTER" = 1 ]; then
	NAGENTS=${HEARTH_AGENTS:-3}
	NSCHED=${HEARTH_SCHEDULERS:-2}
	NCTL=${HEARTH_CONTROLLERS:-2}
else
	NAGENTS=1 NSCHED=1 NCTL=1
fi
mkdir -p "$DATA/logs"
DATA=$(cd "$DATA" && pwd)
umask 077

say() { printf 'hearth: %s\n' "$*"; }
die() { printf 'hearth: %s\n' "$*" >&2; exit 1; }

for b in hearth-controller hearth-scheduler hearth-agent hearth-runtime hearth; do
	[ -x "$BUILD/$b" ] || die "$BUILD/$b is missing; build with \`make\` first"
done
command -v redis-server >/dev/null || die "redis-server is not installed; run \`make deps\`"

# A free port that is neither the API's nor one handed out already: a port
# stays free until its daemon binds it, and the daemons start one by one
# (the controller, on the API port, last). Callers add theirs to TAKEN.
TAKEN=" $API_PORT "
free_port() {
	while :; do
		p=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
		case "$TAKEN" in *" $p "*) ;; *) echo "$p"; return ;; esac
	done
}
port_in_use() {
	python3 -c 'import socket,sys; s=socket.socket(); sys.exit(0 if s.connect_ex(("127.0.0.1",int(sys.argv[1])))==0 else 1)' "$1"
}
rand_hex() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }

port_in_use "$API_PORT" && die "port $API_PORT is in use; is another node running? Set HEARTH_PORT to use another port."

# Secrets survive restarts, so the node keeps its key and its data.
[ -s "$DATA/redis.pass" ] || rand_hex 24 >"$DATA/redis.pass"
[ -s "$DATA/cluster.token" ] || rand_hex 24 >"$DATA/cluster.token"
# Daemon ids must be unique on the machine (an agent's id names its cgroup
# parent), so two nodes side by side prefix them with their own node id.
[ -s "$DATA/node.id" ] || rand_hex 4 >"$DATA/node.id"
NODE_ID=$(cat "$DATA/node.id")
REDIS_PASS=$(cat "$DATA/redis.pass")
TOKEN=$(cat "$DATA/cluster.token")

REDIS_PORT=$(free_port)
TAKEN="$TAKEN$REDIS_PORT "
REDIS_URL="redis://:$REDIS_PASS@127.0.0.1:$REDIS_PORT/0"
API="http://127.0.0.1:$API_PORT"

pids=""
redis_pid=""
ctl_pids=""
stopping=0
# Wait for daemon p to exit: an agent removes all its containers first,
# which on a busy machine takes a while, and killing it early would orphan
# them; a controller drains for up to 10 s.
wait_gone() {
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 600 ]; do
		sleep 0.1
		i=$((i + 1))
		[ $i -eq 50 ] && say "waiting for pid $1 to finish cleaning up..."
	done
	if kill -0 "$1" 2>/dev/null; then
		say "pid $1 did not stop within 60 s; killing it (containers may be left)"
		kill -KILL "$1" 2>/dev/null || true
	fi
	wait "$1" 2>/dev/null || true
}
stop_all() {
	[ "$stopping" = 1 ] && return
	stopping=1
	# Cleanup must not depend on stdout: if whatever reads it went away
	# (a pipe closed by the same Ctrl-C), a write would kill us midway.
	trap '' INT TERM PIPE
	say "stopping..."
	# Controllers first: they drain (what is under way finishes, idle
	# containers are handed back) while agents and schedulers still answer.
	for p in $ctl_pids; do kill -TERM "$p" 2>/dev/null || true; done
	for p in $ctl_pids; do wait_gone "$p"; done
	# Then the other daemons (the agent removes its containers), in reverse
	# start order; Redis last, so the agent can still write while cleaning up.
	rest=""
	for p in $pids; do
		case " $ctl_pids " in *" $p "*) ;; *) rest="$rest $p" ;; esac
	done
	for p in $rest; do kill -TERM "$p" 2>/dev/null || true; done
	for p in $rest; do wait_gone "$p"; done
	if [ -n "$redis_pid" ]; then
		kill -TERM "$redis_pid" 2>/dev/null || true
		wait "$redis_pid" 2>/dev/null || true
	fi
	say "stopped"
}
trap 'stop_all; exit 0' INT TERM
trap 'stop_all' EXIT

wait_http() { # url name log
	_w=0
	until curl -fsS -o /dev/null --max-time 1 "$1" 2>/dev/null; do
		_w=$((_w + 1))
		if [ $_w -gt 150 ]; then
			echo "hearth: $2 did not become healthy; the end of its log ($3):" >&2
			tail -n 20 "$3" >&2
			exit 1
		fi
		for p in $pids; do
			kill -0 "$p" 2>/dev/null || { echo "hearth: $2 exited; its log ($3) ends with:" >&2; tail -n 20 "$3" >&2; exit 1; }
		done
		sleep 0.1
	done
}

# Redis in its own session, so a terminal's Ctrl-C reaches it only through us.
setsid redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --requirepass "$REDIS_PASS" \
	--appendonly yes --appendfsync everysec --dir "$DATA" --save '' \
	--daemonize no >"$DATA/logs/redis.log" 2>&1 &
redis_pid=$!
i=0
until redis-cli -p "$REDIS_PORT" --no-auth-warning -a "$REDIS_PASS" ping 2>/dev/null | grep -q PONG; do
	i=$((i + 1))
	[ $i -gt 100 ] && { tail -n 20 "$DATA/logs/redis.log" >&2; die "redis did not start"; }
	sleep 0.1
done
say "redis       127.0.0.1:$REDIS_PORT (pid $redis_pid, data in $DATA)"

# The guest namespace and its key: made on first start, kept in Redis (AOF).
if [ -s "$DATA/auth" ] && redis-cli -p "$REDIS_PORT" --no-auth-warning -a "$REDIS_PASS" \
	exists "hearth:auth:$(cut -d: -f1 "$DATA/auth")" | grep -q 1; then
	AUTH=$(cat "$DATA/auth")
else
	AUTH=$("$BUILD/hearth" --redis "$REDIS_URL" admin key create guest) || die "could not create the guest key"
	printf '%s\n' "$AUTH" >"$DATA/auth"
fi

export HEARTH_REDIS_URL="$REDIS_URL" HEARTH_CLUSTER_TOKEN="$TOKEN"

SCHED_URLS="" AGENT_URLS="" CTL_URLS=""
join() { if [ -n "$1" ]; then printf '%s,%s' "$1" "$2"; else printf '%s' "$2"; fi; }

n=1
while [ $n -le "$NSCHED" ]; do
	port=$(free_port)
	TAKEN="$TAKEN$port "
	"$BUILD/hearth-scheduler" --id "$NODE_ID-scheduler-$n" --port "$port" --url "http://127.0.0.1:$port" \
		--prewarm "$PREWARM" >"$DATA/logs/scheduler-$n.log" 2>&1 &
	pids="$! $pids"
	wait_http "http://127.0.0.1:$port/healthz" "scheduler $n" "$DATA/logs/scheduler-$n.log"
	role=$(curl -fsS "http://127.0.0.1:$port/healthz" | sed -n 's/.*"role":"\([a-z]*\)".*/\1/p')
	say "scheduler   http://127.0.0.1:$port (${role:-?})"
	SCHED_URLS=$(join "$SCHED_URLS" "http://127.0.0.1:$port")
	n=$((n + 1))
done

n=1
while [ $n -le "$NAGENTS" ]; do
	# one loopback address per agent stands in for one host
	if [ "$CLUSTER" = 1 ]; then addr=127.0.0.$((n + 1)); else addr=127.0.0.1; fi
	port=$(free_port)
	TAKEN="$TAKEN$port "
	"$BUILD/hearth-agent" --id "$NODE_ID-agent-$n" --addr "$addr" --port "$port" --backend "$BACKEND" \
		--memory "$MEMORY" --api-host "$API" --state-dir "$DATA/agent-$n" \
		>"$DATA/logs/agent-$n.log" 2>&1 &
	pids="$! $pids"
	wait_http "http://$addr:$port/healthz" "agent $n" "$DATA/logs/agent-$n.log"
	backend=$(curl -fsS "http://$addr:$port/healthz" | sed -n 's/.*"backend":"\([a-z]*\)".*/\1/p')
	say "agent       http://$addr:$port (backend: ${backend:-?}, $MEMORY MB)"
	[ "$backend" = process ] && say "WARNING: the process backend does not isolate containers (no root or no runc)"
	AGENT_URLS=$(join "$AGENT_URLS" "http://$addr:$port")
	n=$((n + 1))
done

n=1
while [ $n -le "$NCTL" ]; do
	if [ "$CLUSTER" = 1 ]; then port=$(free_port); else port=$API_PORT; fi
	TAKEN="$TAKEN$port "
	"$BUILD/hearth-controller" --id "$NODE_ID-controller-$n" --port "$port" --url "http://127.0.0.1:$port" \
		--api-host "$API" >"$DATA/logs/controller-$n.log" 2>&1 &
	pids="$! $pids"
	ctl_pids="$! $ctl_pids"
	wait_http "http://127.0.0.1:$port/api/v1" "controller $n" "$DATA/logs/controller-$n.log"
	[ "$CLUSTER" = 1 ] && say "controller  http://127.0.0.1:$port"
	CTL_URLS=$(join "$CTL_URLS" "http://127.0.0.1:$port")
	n=$((n + 1))
done

if [ "$CLUSTER" = 1 ]; then
	# The front: nginx spreads API calls over the controllers.
	nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
	[ -x "$nginx_bin" ] || die "cluster mode needs nginx (apt-get install nginx-light, or \`make deps\`)"
	mkdir -p "$DATA/front"
	{
		echo "worker_processes 1; pid $DATA/front/nginx.pid; error_log $DATA/logs/front.log; daemon off;"
		echo "events { worker_connections 4096; }"
		echo "http { access_log off; client_max_body_size 50m; proxy_read_timeout 330s;"
		echo "  upstream controllers { least_conn;"
		echo "$CTL_URLS" | tr ',' '\n' | sed 's|http://|    server |; s|$|;|'
		echo "    keepalive 64; }"
		echo "  server { listen 127.0.0.1:$API_PORT;"
		echo "    location / { proxy_pass http://controllers; proxy_http_version 1.1;"
		echo "      proxy_set_header Connection \"\"; proxy_set_header Host \$host; } } }"
	} >"$DATA/front/nginx.conf"
	"$nginx_bin" -c "$DATA/front/nginx.conf" -p "$DATA/front" >>"$DATA/logs/front.log" 2>&1 &
	pids="$! $pids"
	wait_http "$API/api/v1" "front (nginx)" "$DATA/logs/front.log"
	say "front       $API -> $CTL_URLS"
else
	say "controller  $API"
fi

cat >"$DATA/wskprops" <<EOF
APIHOST=$API
AUTH=$AUTH
EOF
cat >"$DATA/cluster.env" <<EOF
HEARTH_API='$API'
HEARTH_AUTH='$AUTH'
HEARTH_CONTROLLER_URLS='$CTL_URLS'
HEARTH_SCHEDULER_URLS='$SCHED_URLS'
HEARTH_AGENT_URLS='$AGENT_URLS'
HEARTH_CLUSTER_TOKEN='$TOKEN'
HEARTH_REDIS_URL='$REDIS_URL'
EOF

cat <<EOF

hearth is running.
  API host : $API
  auth     : $AUTH
  (both are in $DATA/wskprops; every part is listed in $DATA/cluster.env)

Try it (in another terminal, from this directory):
  printf 'function main(p) { return {hello: p.name || "world"}; }\n' > hello.js
  build/hearth action create hello hello.js
  build/hearth action invoke hello --result -p name you
  build/hearth activation list

  or with curl:
  curl -u $AUTH -X POST '$API/api/v1/namespaces/_/actions/hello?blocking=true&result=true' \\
       -H 'Content-Type: application/json' -d '{"name":"curl"}'

Logs are in $DATA/logs/. Press Ctrl-C to stop.
EOF

# Stay in the foreground until told to stop. A single node cannot work
# without any of its daemons, so it stops when one dies; a cluster is built
# to survive the loss of a part, so it reports the loss and carries on.
while :; do
	alive=""
	for p in $pids; do
		if kill -0 "$p" 2>/dev/null; then
			alive="$alive $p"
			continue
		fi
		wait "$p" 2>/dev/null || true
		if [ "$CLUSTER" = 1 ]; then
			say "a daemon (pid $p) exited; the cluster carries on without it (see $DATA/logs/)"
		else
			say "a daemon (pid $p) exited unexpectedly; stopping (see $DATA/logs/)"
			exit 1
		fi
	done
	pids=$alive
	sleep 1 &
	wait $! 2>/dev/null || true
done
