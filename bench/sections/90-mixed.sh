# title: mixed load: skewed popularity, open loop, fixed keep-alive
# Issue 9 section 8: an open-loop Poisson arrival stream over many noop
# nodejs actions whose popularity is Zipf-distributed (s = 1: a few hot
# actions and a long tail of rare ones, the shape reported for production
# serverless traces), with the scheduler's fixed keep-alive policy scaled
# down to the run's length. Reports the cold-start fraction (replies whose
# activation carries initTime), p50/p99 latency, and the memory held by
# idle (warm or suspended) containers, sampled every second.
# Runs its own node (keep-alive and memory set for the run).
# Sourced by bench/run.sh.

section "mixed load: Zipf popularity, Poisson arrivals, fixed keep-alive"
NA=100
RATE=10
D=60
KA=20s
TO=30000
[ "$QUICK" = 1 ] && NA=20 && RATE=5 && D=6 && KA=4s && TO=8000
if ! node_start HEARTH_KEEPALIVE=$KA HEARTH_MEMORY=16384; then
	skip "mixed load" "$NODE_ERR"
	return 0
fi
r=$("$LOADGEN" -q -X PUT -n "$NA" -c 4 -u "$HEARTH_AUTH" -H 'Content-Type: application/json' \
	-d '{"exec":{"kind":"nodejs:20","code":"function main(p) { return {}; }"},"limits":{"memory":128}}' \
	"$HEARTH_API/api/v1/namespaces/_/actions/bench-mix-{i}?overwrite=true")
if [ "$(kv ok "$r")" != "$NA" ]; then
	skip "mixed load" "registering $NA actions failed: $r"
	node_stop
	return 0
fi
sampler() {
	while :; do
		agent GET /containers | jq -r '[.containers[] | select(.state == "warm" or .state == "suspended")]
			| "\(length) \(map(.memory) | add // 0)"' 2>/dev/null
		sleep 1
	done
}
sampler >"$TMP/idle.samples" &
SAMPLER=$!
BG_PIDS="$SAMPLER $BG_PIDS"
h=$("$LOADGEN" -q -r "$RATE" --poisson -t "$D" -c 64 --zipf "$NA,1.0" --seed 7 --timeout "$TO" \
	-u "$HEARTH_AUTH" -d '{}' --match '"initTime"' -s "$DATA/mixed_latency.txt" \
	"$HEARTH_API/api/v1/namespaces/_/actions/bench-mix-{z}?blocking=true")
stop_pid "$SAMPLER"
echo "$h" >"$DATA/mixed_loadgen.txt"
table_head
n=$(kv requests "$h")
row1 "mixed requests (rate $RATE/s, ${D}s, $NA actions)" n "$n"
row1 "mixed cold-start fraction (keep-alive $KA)" "%" "$(calc "$(kv matched "$h") * 100 / ($n + 0.000001)" 2)"
row1 "mixed latency p50" ms "$(calc "$(kv p50_us "$h") / 1000" 2)"
row1 "mixed latency p99" ms "$(calc "$(kv p99_us "$h") / 1000" 2)"
row1 "mixed errors" n "$(($(kv errors "$h") + $(kv bad_status "$h")))"
[ "$(kv codes "$h")" = "200:$n" ] || warn "mixed load: status codes $(kv codes "$h"), $(kv timeouts "$h") timeouts (node logs in $OUT/logs/)"
if [ -s "$TMP/idle.samples" ]; then
	row1 "mixed idle containers (mean)" n "$(awk '{s += $1} END {printf "%.1f", s / NR}' "$TMP/idle.samples")"
	row1 "mixed memory held by idle containers (mean)" MB "$(awk '{s += $2} END {printf "%.0f", s / NR}' "$TMP/idle.samples")"
	row1 "mixed memory held by idle containers (max)" MB "$(awk '$2 > m {m = $2} END {print m + 0}' "$TMP/idle.samples")"
fi
node_stop
