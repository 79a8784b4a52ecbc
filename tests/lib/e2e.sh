# tests/lib/e2e.sh — start a real single node with the launcher, on free
# ports and a temporary data dir; stop it by PID; check nothing is left.
# Sourced by the e2e scripts (POSIX sh). Needs: curl, jq.

set -eu
SRC=${HEARTH_SRC:-$(pwd)}
BUILD=${HEARTH_BUILD:-$SRC/build}
E2E_TMP=$(mktemp -d /tmp/hearth-e2e.XXXXXX)
NODE_PID=""

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# node_start [DATA_DIR] — start the launcher in the background, wait for it.
node_start() {
	DATA=${1:-$E2E_TMP/data}
	[ -n "${API_PORT:-}" ] || API_PORT=$(free_port)
	HEARTH_DATA=$DATA HEARTH_PORT=$API_PORT HEARTH_BUILD=$BUILD \
		"$SRC/deploy/hearth-node.sh" >"$E2E_TMP/node.out" 2>&1 &
	NODE_PID=$!
	i=0
	until grep -q "hearth is running" "$E2E_TMP/node.out" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 600 ] || ! kill -0 "$NODE_PID" 2>/dev/null; then
			cat "$E2E_TMP/node.out" >&2
			for l in "$DATA"/logs/*.log; do echo "== $l"; tail -n 30 "$l"; done >&2
			fail "the node did not start"
		fi
		sleep 0.1
	done
	# shellcheck disable=SC1091
	. "$DATA/cluster.env"
	API=$HEARTH_API
	AUTH=$HEARTH_AUTH
	export HEARTH_API HEARTH_AUTH HEARTH_REDIS_URL
}

# node_stop — SIGTERM the launcher, wait, and check it left nothing behind.
node_stop() {
	[ -n "$NODE_PID" ] || return 0
	kill -TERM "$NODE_PID" 2>/dev/null || true
	i=0
	while kill -0 "$NODE_PID" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 900 ] && { kill -KILL "$NODE_PID"; fail "the node did not stop within 90 s"; }
		sleep 0.1
	done
	wait "$NODE_PID" 2>/dev/null || true
	NODE_PID=""
	# nothing of this node may remain: processes using its data dir, runc
	# containers in its agent's runc root, cgroups named after its agent
	left=$(ps -eo pid,args | grep -F "$DATA" | grep -v grep || true)
	[ -z "$left" ] || fail "processes left behind: $left"
	for root in "$DATA"/agent-*/runc; do
		[ -d "$root" ] && command -v runc >/dev/null || continue
		n=$(runc --root "$root" list -q 2>/dev/null | wc -l)
		[ "$n" -eq 0 ] || fail "$n runc containers left behind in $root"
	done
	# and no runtime process of this node (they carry its API host)
	left=$(ps -eo pid,args | awk -v a="$API" '/hearth-runtime/ {
		for (i = 1; i < NF; i++) if ($i == "--api-host" && $(i + 1) == a) print }')
	[ -z "$left" ] || fail "container processes left behind: $left"
	if mount | grep -F "$DATA" >/dev/null; then fail "mounts left behind under $DATA"; fi
	# under SANITIZE=1 a daemon's sanitizer report must fail the test
	if grep -lE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$DATA"/logs/*.log 2>/dev/null; then
		grep -hE -A 20 "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$DATA"/logs/*.log >&2
		fail "a daemon reported a sanitizer error"
	fi
}

cleanup() {
	rc=$?
	if [ -n "$NODE_PID" ]; then
		kill -TERM "$NODE_PID" 2>/dev/null || true
		wait "$NODE_PID" 2>/dev/null || true
	fi
	if [ $rc -ne 0 ] && [ -d "${DATA:-/nonexistent}/logs" ]; then
		for l in "$DATA"/logs/*.log; do
			echo "== $l: warnings and errors"; grep -E ' (WARN|ERROR) ' "$l" | tail -n 60
			echo "== $l (end)"; tail -n 40 "$l"
		done >&2
	fi
	rm -rf "$E2E_TMP"
	exit $rc
}
trap cleanup EXIT INT TERM

# api METHOD PATH [BODY] — curl the API with the node's key; sets STATUS
# and keeps the reply for `body` (not printed: a $(...) would lose STATUS).
api() {
	if [ $# -ge 3 ]; then
		STATUS=$(curl -sS -o "$E2E_TMP/body" -w '%{http_code}' -u "$AUTH" -X "$1" \
			-H 'Content-Type: application/json' --data-binary "$3" "$API$2")
	else
		STATUS=$(curl -sS -o "$E2E_TMP/body" -w '%{http_code}' -u "$AUTH" -X "$1" "$API$2")
	fi
}

# body — the reply of the last api call.
body() { cat "$E2E_TMP/body"; }

# expect STATUS — fail unless the last api call answered STATUS.
expect() {
	[ "$STATUS" = "$1" ] || fail "expected HTTP $1, got $STATUS: $(cat "$E2E_TMP/body")"
}

# wait_for CMD... — retry a command for up to 10 s (records are written
# right after the reply; logs a moment later).
wait_for() {
	i=0
	until "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -gt 100 ] && return 1
		sleep 0.1
	done
}
