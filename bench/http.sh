#!/bin/sh
# bench/http.sh — the common HTTP server on a trivial route vs nginx
# returning a static reply, with 1 and 2 loop threads / workers, measured
# with wrk in the same run. Loopback only; everything stops by PID.
# usage: bench/http.sh [BUILD_DIR] [SECONDS]
set -eu
B=${1:-build}; D=${2:-5}
tmp=$(mktemp -d); pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

start_nginx() { # workers -> port
  port=$(free_port); mkdir -p "$tmp/ngx$1"
  cat > "$tmp/ngx$1/nginx.conf" <<CONF
worker_processes $1;
pid $tmp/ngx$1/nginx.pid;
error_log $tmp/ngx$1/error.log;
daemon off;
events { worker_connections 4096; }
http {
  access_log off;
  server { listen 127.0.0.1:$port reuseport; location /hello { default_type application/json; return 200 '{"ok":true}'; } }
}
CONF
  "$nginx_bin" -c "$tmp/ngx$1/nginx.conf" -p "$tmp/ngx$1" >/dev/null 2>&1 &
  pids="$pids $!"; sleep 0.5; echo "$port"
}
start_hearth() { # threads -> port
  "$B/bench/hello_server" --threads "$1" > "$tmp/h$1.port" &
  pids="$pids $!"; sleep 0.3; cat "$tmp/h$1.port"
}
run_wrk() { # port conns threads -> "rps p99"
  wrk -t"$3" -c"$2" -d"${D}s" --latency "http://127.0.0.1:$1/hello" > "$tmp/wrk.out" 2>&1
  rps=$(awk '/Requests\/sec/ {print $2}' "$tmp/wrk.out")
  p99=$(awk '$1=="99%" {print $2}' "$tmp/wrk.out")
  echo "$rps $p99"
}

printf '%-22s %6s %12s %10s\n' target conns req/s p99
for n in 1 2; do
  hp=$(start_hearth $n); np=$(start_nginx $n)
  for c in 1 32; do
    t=1; [ "$c" -gt 1 ] && t=2
    set -- $(run_wrk "$hp" $c $t); hr=$1; h99=$2
    set -- $(run_wrk "$np" $c $t); nr=$1; n99=$2
    printf '%-22s %6s %12s %10s\n' "hearth ${n} thread(s)" "$c" "$hr" "$h99"
    printf '%-22s %6s %12s %10s\n' "nginx ${n} worker(s)" "$c" "$nr" "$n99"
    awk -v a="$hr" -v b="$nr" -v n="$n" -v c="$c" 'BEGIN { printf "%-22s %6s %12.2f\n", "ratio hearth/nginx", c, a / b }'
  done
done
