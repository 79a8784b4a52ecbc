#!/bin/sh
# hearth-node.sh — start a single hearth node in the foreground.
#
# Until the daemons land (issues 4-8) this starts what exists: the node's own
# Redis (password, AOF persistence in $HEARTH_DATA, loopback only). Ctrl-C
# stops everything it started, by PID.
set -eu
case "${1:-}" in
  -h|--help)
    cat <<USAGE
usage: deploy/hearth-node.sh        (what \`make run\` calls)
Starts a single hearth node in the foreground; Ctrl-C stops it.
  HEARTH_DATA  data directory (default ./.hearth): Redis data, logs
USAGE
    exit 0 ;;
esac
DATA=${HEARTH_DATA:-./.hearth}
mkdir -p "$DATA/logs"
DATA=$(cd "$DATA" && pwd)
[ -f "$DATA/redis.pass" ] || head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$DATA/redis.pass"
chmod 600 "$DATA/redis.pass"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --requirepass "$(cat "$DATA/redis.pass")" \
  --appendonly yes --dir "$DATA" --daemonize no > "$DATA/logs/redis.log" 2>&1 &
rpid=$!
trap 'kill $rpid 2>/dev/null; wait $rpid 2>/dev/null; echo "hearth: stopped"; exit 0' INT TERM
echo "hearth: redis on 127.0.0.1:$port (pid $rpid), data in $DATA"
echo "hearth: the controller, scheduler and agent are not built yet; press Ctrl-C to stop"
wait $rpid
