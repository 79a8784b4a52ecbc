#!/bin/sh
# bench/run.sh — what `make bench` runs: every section of issue 9 on real
# daemons, loopback only, beside its baselines, then the report
# (tables on stdout, bench/out/results.json, PNG plots in bench/out/).
#
# usage: bench/run.sh [--quick] [SECTION...]
#   --quick     the short variant (`make bench QUICK=1`, under two minutes)
#   SECTION     run only the sections whose file name contains it
#               (e.g. `bench/run.sh warm throughput`)
# environment: HEARTH_BUILD (default ./build), BENCH_OUT (default bench/out)
#
# A section that needs something missing (a daemon not built, nginx, runc)
# prints "skipped: <why>" and the run goes on. Every process started is
# stopped by PID and the temporary directory removed, also on Ctrl-C.
set -eu
BENCH_ROOT=$(cd "$(dirname "$0")" && pwd)
. "$BENCH_ROOT/lib/common.sh"
. "$BENCH_ROOT/lib/results.sh"
. "$BENCH_ROOT/lib/nginx.sh"
. "$BENCH_ROOT/lib/node.sh"

QUICK=0
only=""
for a in "$@"; do
	case $a in
	--quick | -q) QUICK=1 ;;
	-h | --help)
		sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	-*)
		warn "unknown option $a"
		exit 2
		;;
	*) only="$only $a" ;;
	esac
done
export QUICK

bench_init
rm -f "$OUT/results.tsv" "$OUT/skipped.tsv" "$OUT"/*.png "$OUT/results.json"
rm -rf "$DATA" "$OUT/logs"
mkdir -p "$DATA"
: >"$OUT/results.tsv"
: >"$OUT/skipped.tsv"

[ -x "$LOADGEN" ] || {
	warn "$LOADGEN is missing; build it with make"
	exit 1
}

started=$(date +%s)
printf 'hearth benchmarks (%s) on %s: %s CPUs, %s MB RAM, kernel %s\n' \
	"$([ "$QUICK" = 1 ] && echo quick || echo full)" "$(hostname)" "$(nproc)" \
	"$(awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo)" "$(uname -r)"
printf 'build: %s   date: %s\n' "$B" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"

# Sections run in subshells with their own PID list, so what a section
# starts is stopped when it ends (or fails); the shared node, started here
# on first use, lives until the end of the run.
SHARED_NODE=0
shared_node() {
	[ "$SHARED_NODE" = 1 ] && return 0
	# Memory is the agent's accounting of container limits, not what they
	# use (a noop container holds a few MB): room for every section.
	if node_start HEARTH_PREWARM="nodejs:20:256:1" HEARTH_MEMORY=16384; then
		SHARED_NODE=1
		SHARED_NODE_PID=$NODE_PID
		return 0
	fi
	SHARED_NODE_ERR=$NODE_ERR
	return 1
}

run_section() { # file
	_name=$(basename "$1" .sh)
	_t0=$(date +%s)
	# In the background and waited for, so a signal to run.sh is handled
	# at once: bench_cleanup then stops the section (whose EXIT trap stops
	# what it started) before the rest.
	(
		BG_PIDS=""
		trap 'for _p in $BG_PIDS; do stop_pid "$_p"; done' EXIT
		trap 'exit 130' INT TERM
		set +e
		. "$1"
	) &
	SECTION_PID=$!
	wait "$SECTION_PID" || warn "section $_name ended with status $?"
	SECTION_PID=""
	printf '  (%s: %ss)\n' "$_name" "$(($(date +%s) - _t0))"
}

for f in "$BENCH_ROOT"/sections/*.sh; do
	if [ -n "$only" ]; then
		hit=0
		for w in $only; do case $(basename "$f") in *"$w"*) hit=1 ;; esac; done
		[ $hit = 1 ] || continue
	fi
	# Sections that use the shared node say so in their first lines.
	if grep -q '^# needs: shared-node' "$f"; then
		if ! shared_node; then
			section "$(sed -n 's/^# title: //p' "$f")"
			skip "$(basename "$f" .sh)" "${SHARED_NODE_ERR:-no node}"
			continue
		fi
	fi
	run_section "$f"
done

[ "$SHARED_NODE" = 1 ] && node_stop

section "report"
sh "$BENCH_ROOT/lib/report.sh" "$OUT" || warn "the report failed"
printf '\ntotal time: %ss; results in %s\n' "$(($(date +%s) - started))" "$OUT"
