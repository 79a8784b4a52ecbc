#!/bin/sh
# bench/runtime/run.sh [BUILD_DIR] [N] — p50/p99 of N sequential warm /run
# calls on a noop action for each kind through hearth-runtime, beside a bare
# node http server answering {} and, when express can be installed from npm
# (into a temporary directory), the shape of OpenWhisk's own node runtime
# (owshape.js). Same client for all: rtbench.c. Not a test.
set -eu
B=${1:-build}; N=${2:-5000}
here=$(cd "$(dirname "$0")" && pwd)
rt="$(cd "$B" && pwd)/hearth-runtime"
tmp=$(mktemp -d); pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM
cc -O2 -o "$tmp/rtbench" "$here/rtbench.c"
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 100); do curl -sf "http://127.0.0.1:$1/healthz" >/dev/null 2>&1 && return 0; sleep 0.05; done; return 1; }
body='{"value":{},"activation_id":"0123456789abcdef0123456789abcdef","namespace":"guest","action_name":"/guest/noop"}'

bench_kind() { # kind init-json
  p=$(port)
  "$rt" --port "$p" --kind "$1" --log-level warn >"$tmp/$p.log" 2>&1 & pids="$pids $!"
  wait_up "$p"
  curl -sf -XPOST "http://127.0.0.1:$p/init" -d "$2" >/dev/null
  printf '%-22s ' "hearth-runtime $1"; "$tmp/rtbench" "$p" /run "$body" "$N"
}

bench_kind nodejs:20 '{"value":{"code":"function main(a) { return {}; }"}}'
bench_kind python:3 '{"value":{"code":"def main(a):\n    return {}\n"}}'
bench_kind blackbox '{"value":{"code":"#!/bin/sh\nwhile read -r l; do echo \"{}\" >&3; done\n"}}'
bench_kind native '{"value":{"code":"#!/usr/bin/python3\nimport os,sys\nfor l in sys.stdin:\n    os.write(3, b\"{}\\n\")\n"}}'
p=$(port); node "$here/bare.js" "$p" & pids="$pids $!"
for _ in $(seq 100); do curl -sf -XPOST "http://127.0.0.1:$p/" -d '{}' >/dev/null 2>&1 && break; sleep 0.05; done
printf '%-22s ' "bare node http"; "$tmp/rtbench" "$p" /run "$body" "$N"

if npm install --silent --no-audit --no-fund --prefix "$tmp/ow" express >/dev/null 2>&1; then
  p=$(port); NODE_PATH="$tmp/ow/node_modules" node "$here/owshape.js" "$p" >/dev/null 2>&1 & pids="$pids $!"
  for _ in $(seq 100); do curl -sf -XPOST "http://127.0.0.1:$p/init" -H 'Content-Type: application/json' \
    -d '{"value":{"code":"function main(a) { return {}; }"}}' >/dev/null 2>&1 && break; sleep 0.05; done
  printf '%-22s ' "OpenWhisk-shape express"; "$tmp/rtbench" "$p" /run "$body" "$N"
else
  echo "OpenWhisk-shape express: skipped (npm install express failed)"
fi
