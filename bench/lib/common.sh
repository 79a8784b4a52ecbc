# bench/lib/common.sh — shared helpers of `make bench` (sourced, POSIX sh).
#
# Every process a bench starts goes through bg_start, which records its PID;
# bench_cleanup (installed as the EXIT/INT/TERM trap by bench_init) stops
# them by PID, newest first, and removes the temporary directory. Nothing is
# ever stopped by name.
#
# Variables a section can rely on after bench_init:
#   B      absolute build directory (binaries, build/bench/loadgen)
#   OUT    bench/out (results.tsv, data/, PNGs)
#   DATA   $OUT/data (samples and plot data)
#   TMP    a private temporary directory, removed on exit
#   QUICK  1 in the quick variant, else 0
#   LOADGEN path of the load generator

BENCH_ROOT=${BENCH_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
REPO_ROOT=$(cd "$BENCH_ROOT/.." && pwd)

say() { printf '%s\n' "$*"; }
warn() { printf 'bench: %s\n' "$*" >&2; }

# A section that cannot run says so on stdout (and in the results file) and
# carries on: the run as a whole never fails because a piece is missing.
skip() { # what why...
	_what=$1
	shift
	printf '  %-40s skipped: %s\n' "$_what" "$*"
	printf '%s\tskipped\t%s\n' "$_what" "$*" >>"$OUT/skipped.tsv"
}

bench_init() {
	B=$(cd "${HEARTH_BUILD:-$REPO_ROOT/build}" 2>/dev/null && pwd) || {
		warn "build directory ${HEARTH_BUILD:-build} is missing; run make first"
		exit 1
	}
	OUT=${BENCH_OUT:-$BENCH_ROOT/out}
	DATA=$OUT/data
	mkdir -p "$OUT" "$DATA"
	QUICK=${QUICK:-0}
	LOADGEN=$B/bench/loadgen
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/hearth-bench.XXXXXX")
	BG_PIDS=""
	export B OUT DATA QUICK LOADGEN BENCH_ROOT REPO_ROOT
	trap 'bench_cleanup' EXIT
	trap 'bench_cleanup; exit 130' INT TERM
}

bench_cleanup() {
	trap - EXIT INT TERM
	# A running section (run.sh) first: its EXIT trap stops what it started.
	# Polled, not waited for: a wait inside a trap that interrupted a wait
	# ends the shell in dash.
	if [ -n "${SECTION_PID:-}" ]; then
		kill -TERM "$SECTION_PID" 2>/dev/null
		_i=0
		while kill -0 "$SECTION_PID" 2>/dev/null && [ $_i -lt 300 ]; do
			sleep 0.1
			_i=$((_i + 1))
		done
	fi
	for _p in $BG_PIDS; do
		stop_pid "$_p"
	done
	BG_PIDS=""
	[ -n "${TMP:-}" ] && rm -rf "$TMP"
}

# Run a command in the background, log to a file; sets BG_PID.
bg_start() { # logfile cmd args...
	_log=$1
	shift
	"$@" >"$_log" 2>&1 &
	BG_PID=$!
	BG_PIDS="$BG_PID $BG_PIDS"
}

# Stop one process we started: TERM, up to 15 s (a node stops its
# containers first), then KILL.
stop_pid() { # pid
	kill -TERM "$1" 2>/dev/null || return 0
	_i=0
	while kill -0 "$1" 2>/dev/null && [ $_i -lt 150 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	_np=""
	for _q in $BG_PIDS; do [ "$_q" = "$1" ] || _np="$_np $_q"; done
	BG_PIDS=$_np
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Wait until URL answers (any HTTP status), up to SECS seconds.
wait_http() { # url secs
	_n=$(($2 * 20))
	_i=0
	while [ $_i -lt $_n ]; do
		curl -s -o /dev/null --max-time 1 "$1" 2>/dev/null && return 0
		sleep 0.05
		_i=$((_i + 1))
	done
	return 1
}

# One key of loadgen's key=value line.
kv() { # key line
	printf ' %s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1
}

# Arithmetic on decimals (awk; sh has integers only).
calc() { awk "BEGIN { printf \"%.${2:-1}f\", $1 }"; }

# Resident set size (kB) and CPU ticks (user+system) of a process.
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
clk_tck() { getconf CLK_TCK; }

# Percentile of the numbers in a file (one per line).
pctl() { # file p
	sort -n "$1" | awk -v p="$2" '{v[NR]=$1} END { if (NR == 0) { print ""; exit }
		i = int(p / 100 * NR + 0.999999); if (i < 1) i = 1; if (i > NR) i = NR; print v[i] }'
}

# Milliseconds since the epoch, with microseconds (for timing shell steps).
now_ms() { date +%s.%N | awk '{printf "%.3f", $1 * 1000}'; }
