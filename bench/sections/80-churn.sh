# title: churn: containers created and destroyed per second
# needs: shared-node
# Issue 9 section 7: containers created (until the runtime answers) and
# destroyed per second on one host with 16 in flight, through the agent's
# API (bench/lib/churn.py), for the native runtime (no interpreter: the cost
# of the container machinery) and for nodejs (a stem cell with node up).
# Target: >= 100 creates/s per host.
# Sourced by bench/run.sh.

section "churn: containers created and destroyed per second (16 in flight)"
D=10
KINDS="blackbox nodejs:20"
[ "$QUICK" = 1 ] && D=2 && KINDS=blackbox
table_head
for kind in $KINDS; do
	r=$(python3 "$BENCH_ROOT/lib/churn.py" "$AGENT_URL" "$HEARTH_CLUSTER_TOKEN" "$kind" 64 16 "$D")
	if [ "$(kv cycles "$r")" = 0 ]; then
		skip "churn $kind" "no container was created and destroyed ($(kv errors "$r") errors)"
		continue
	fi
	row "churn $kind create+destroy per s" "/s" "$(kv per_s "$r")" 100 "target 100/s"
	row1 "churn $kind create to ready p50" ms "$(kv ready_p50_ms "$r")"
	row1 "churn $kind create to ready p95" ms "$(kv ready_p95_ms "$r")"
	row1 "churn $kind destroy p50" ms "$(kv delete_p50_ms "$r")"
	[ "$(kv errors "$r")" = 0 ] || row1 "churn $kind errors" n "$(kv errors "$r")"
done
