# title: memory vs threads and registered actions; containers per GB
# needs: shared-node
# Issue 9 section 6 (the shared-immutable-state question): controller RSS
# with 1, 2, 4, 8 loop threads and 10, 1,000, 10,000 registered actions
# (each a fresh controller on the node's Redis, after it has served a GET of
# every action so its entity cache holds them all), the agent's RSS, and how
# many noop nodejs containers fit in a GB of host memory (PSS of each
# container's processes, against the 128 MB limit the actions ask for).
# Target: controller RSS flat within 10 % from 1 to 8 threads.
# Sourced by bench/run.sh.

section "memory vs threads and registered actions; containers per GB"
AS="10 1000 10000"
TS="1 2 4 8"
C=16
[ "$QUICK" = 1 ] && AS="10 100" && TS="1 8" && C=4
table_head
registered=0
for A in $AS; do
	if [ $registered -lt "$A" ]; then
		# {i} is the request's sequence number: actions bench-mem-0 .. A-1.
		"$LOADGEN" -q -X PUT -n "$A" -c 4 -u "$HEARTH_AUTH" -H 'Content-Type: application/json' \
			-d '{"exec":{"kind":"nodejs:20","code":"function main(p) { return {}; }"}}' \
			"$HEARTH_API/api/v1/namespaces/_/actions/bench-mem-{i}?overwrite=true" >"$TMP/reg.out"
		[ "$(kv ok "$(cat "$TMP/reg.out")")" = "$A" ] ||
			warn "registering $A actions: $(cat "$TMP/reg.out")"
		registered=$A
	fi
	rss1=""
	for T in $TS; do
		p=$(free_port)
		bg_start "$TMP/ctl-$A-$T.log" "$B/hearth-controller" --id "bench-mem-$A-$T" --port "$p" \
			--threads "$T" --url "http://127.0.0.1:$p" --api-host "$HEARTH_API" \
			--scheduler "$HEARTH_SCHEDULER_URLS"
		cp=$BG_PID
		if ! wait_http "http://127.0.0.1:$p/api/v1" 15; then
			skip "controller RSS $A actions $T thr" "the controller did not start: $(tail -n 2 "$TMP/ctl-$A-$T.log")"
			stop_pid "$cp"
			continue
		fi
		"$LOADGEN" -q -n "$A" -c 4 -u "$HEARTH_AUTH" \
			"http://127.0.0.1:$p/api/v1/namespaces/_/actions/bench-mem-{i}" >/dev/null ||
			warn "GET of $A actions through the controller had errors"
		sleep 0.2
		rss=$(rss_kb "$cp")
		[ -z "$rss1" ] && rss1=$rss
		row "controller RSS $A actions $T thr" kB "$rss" "$rss1" "1 thread"
		stop_pid "$cp"
	done
	agt=$(node_daemon_pid hearth-agent)
	[ -n "$agt" ] && row1 "agent RSS ($A actions registered)" kB "$(rss_kb "$agt")"
done
row1 "agent HTTP loop threads" n 1

# Containers per GB: C noop nodejs actions of 128 MB, one container each.
tree_pss_kb() { # pid -> "PSS RSS" of it and its descendants (kB)
	_all="$1"
	_front="$1"
	while [ -n "$_front" ]; do
		_next=""
		for _x in $_front; do _next="$_next $(pgrep -P "$_x" 2>/dev/null | tr '\n' ' ')"; done
		_front=$(echo $_next)
		_all="$_all $_front"
	done
	for _x in $_all; do
		awk '/^Rss:/ {r = $2} /^Pss:/ {p = $2} END {print p + 0, r + 0}' "/proc/$_x/smaps_rollup" 2>/dev/null
	done | awk '{p += $1; r += $2} END {print p + 0, r + 0}'
}
t0=$(($(date +%s) * 1000))
for i in $(seq 1 $C); do
	action_put "bench-gb-$i" nodejs:20 'function main(p) { return {}; }' '{"memory":128}' >/dev/null &&
		invoke "bench-gb-$i" >/dev/null || warn "bench-gb-$i failed: $(head -c 200 "$TMP/inv.out")"
done
sleep 0.5
agent GET /containers | jq -r --argjson t "$t0" \
	'.containers[] | select(.created >= $t and .memory == 128 and .pid > 0) | .pid' >"$TMP/gbpids"
n=$(wc -l <"$TMP/gbpids")
if [ "$n" -gt 0 ]; then
	: >"$TMP/gbpss"
	while read -r pid; do tree_pss_kb "$pid" >>"$TMP/gbpss"; done <"$TMP/gbpids"
	mean=$(awk '{s += $1} END {printf "%.0f", s / NR}' "$TMP/gbpss")
	row1 "PSS per noop nodejs container (n=$n)" kB "$mean"
	row1 "RSS per noop nodejs container (shared pages too)" kB "$(awk '{s += $2} END {printf "%.0f", s / NR}' "$TMP/gbpss")"
	row "noop nodejs containers per GB" n "$(calc "1048576 / $mean" 1)" 8 "by 128 MB limit"
else
	skip "containers per GB" "the agent lists no new 128 MB container with a pid"
fi
