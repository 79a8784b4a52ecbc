# title: scale with threads, and idle CPU
# Issue 9 section 5: controller throughput and CPU with 1, 2 (and 4) loop
# threads (a node per thread count; the same noop nodejs action with
# concurrency 64 and 16 connections); then the idle CPU of every daemon of
# the node over 10 s (3 s quick) with nothing to do (target: ~0, no busy
# waiting). On 2 cores the load generator shares the CPUs with the daemons,
# so more threads than cores cannot scale here; the numbers say how much
# threads cost, not how far they scale.
# Sourced by bench/run.sh.

section "scale with threads, and idle CPU"
D=4
IDLE=10
TS="1 2 4"
# The quick run measures the shared node's controller (default threads) only.
[ "$QUICK" = 1 ] && D=1 && IDLE=2 && TS="1"
[ "$QUICK" = 1 ] && [ "${SHARED_NODE:-0}" = 1 ] && TS=shared
hz=$(clk_tck)
base_rps=""
table_head
for T in $TS; do
	if [ "$T" = shared ]; then
		T=default # the quick run: the shared node's controller (one loop per core)
	elif ! node_start HEARTH_CONTROLLER_THREADS="$T"; then
		skip "threads $T" "$NODE_ERR"
		return 0
	fi
	act=bench-thr
	if ! action_put "$act" nodejs:20 'function main(params) { return {}; }' '{"concurrency":64}' >/dev/null ||
		! invoke "$act" >/dev/null; then
		skip "threads $T" "could not create or invoke $act"
		[ "$T" = default ] || node_stop
		continue
	fi
	hurl="$HEARTH_API/api/v1/namespaces/_/actions/$act?blocking=true"
	"$LOADGEN" -q -c 16 -t 0.5 -u "$HEARTH_AUTH" -d '{}' "$hurl" >/dev/null || true
	ctl=$(node_daemon_pid hearth-controller)
	c0=$(cpu_ticks "${ctl:-0}")
	h=$("$LOADGEN" -q -c 16 -t $D -u "$HEARTH_AUTH" -d '{}' "$hurl")
	c1=$(cpu_ticks "${ctl:-0}")
	rps=$(kv rps "$h")
	cpu=$(calc "($c1 - $c0) * 100 / $hz / $(kv duration_s "$h")")
	[ -z "$base_rps" ] && [ "$T" = 1 ] && base_rps=$rps
	row "controller $T thr c16 req/s" req/s "$rps" "$base_rps" "$([ -n "$base_rps" ] && echo "1 thread")"
	if [ -n "$ctl" ]; then
		row "controller $T thr CPU" "%" "$cpu" "" ""
		row "controller $T thr req per CPU-second" req "$(calc "$rps * 100 / ($cpu + 0.001)" 0)" "" ""
		row "controller $T thr RSS after load" kB "$(rss_kb "$ctl")" "" ""
	else
		skip "controller $T thr CPU" "could not find the controller's PID"
	fi

	if [ "$T" = 1 ] || [ "$T" = default ]; then
		# Idle: every daemon of the node, nothing to do (containers are
		# suspended after the pause grace).
		sleep 1
		pids=""
		for d in hearth-controller hearth-scheduler hearth-agent redis-server; do
			p=$(node_daemon_pid "$d")
			[ -n "$p" ] && pids="$pids $d:$p:$(cpu_ticks "$p")"
		done
		sleep $IDLE
		for e in $pids; do
			d=${e%%:*}
			r=${e#*:}
			p=${r%%:*}
			t0=${r#*:}
			row "idle CPU $d over ${IDLE}s" "%" "$(calc "($(cpu_ticks "$p") - $t0) * 100 / $hz / $IDLE" 2)" "" ""
		done
	fi
	[ "$T" = default ] || node_stop
done
