# title: suspend/resume
# needs: shared-node
# Issue 9 section 4: an invoke after the pause grace has suspended the
# container, vs a warm invoke (same client: one curl per invoke); and the
# agent's suspend/resume (cgroup freezer, timed over HTTP) vs `runc pause`
# / `runc resume` of the same container.
# Target: resume <= 2 ms p99.
# Sourced by bench/run.sh.

section "suspend/resume"
K=100
[ "$QUICK" = 1 ] && K=20
act=bench-susp
if ! action_put "$act" nodejs:20 'function main(params) { return {a: "bench-susp"}; }' >/dev/null ||
	! invoke "$act" >/dev/null; then
	skip "suspend/resume" "could not create or invoke $act"
	return 0
fi
hurl="$HEARTH_API/api/v1/namespaces/_/actions/$act?blocking=true"
# Same client for both: loadgen over one keep-alive connection. Warm:
# back to back. After suspend: an open-loop stream at 6/s, so every invoke
# arrives ~165 ms after the previous one, well past the 50 ms pause grace.
"$LOADGEN" -q -n 50 -u "$HEARTH_AUTH" -d '{}' "$hurl" >/dev/null
w=$("$LOADGEN" -q -n "$K" -w 5 -u "$HEARTH_AUTH" -d '{}' -s "$TMP/warm_us" "$hurl")
r=$("$LOADGEN" -q -n "$K" -r 6 -u "$HEARTH_AUTH" -d '{}' -s "$TMP/resumed_us" "$hurl")
awk '{printf "%.3f\n", $1 / 1000}' "$TMP/warm_us" >"$TMP/warm_ms"
awk '{printf "%.3f\n", $1 / 1000}' "$TMP/resumed_us" >"$TMP/resumed_ms"
[ "$(kv errors "$r")" = 0 ] || warn "invoke after suspend: $(kv errors "$r") errors, codes $(kv codes "$r")"
table_head
for p in 50 99; do
	row "invoke after suspend p$p" ms "$(pctl "$TMP/resumed_ms" $p)" "$(pctl "$TMP/warm_ms" $p)" "warm invoke"
done
row "resume cost on invoke p50" ms \
	"$(calc "$(pctl "$TMP/resumed_ms" 50) - $(pctl "$TMP/warm_ms" 50)" 3)" "" ""

for i in 1 2 3; do
	sleep 0.3
	set -- $(find_container nodejs:20 "$act" "$act")
	[ $# -ge 4 ] && break
done
if [ $# -lt 4 ]; then
	skip "agent suspend/resume" "could not find the container: $(agent GET /containers | head -c 300)"
	return 0
fi
cid=$1
[ "$(container_state "$cid")" = suspended ] && agent GET "/resume/$cid" >/dev/null
agent_ms() { agent GET "$1" -o /dev/null -w '%{http_code} %{time_total}\n' | awk '$1 == 204 {printf "%.3f\n", $2 * 1000}'; }
: >"$TMP/a_susp"
: >"$TMP/a_res"
for i in $(seq 1 $K); do
	agent_ms "/suspend/$cid" >>"$TMP/a_susp"
	agent_ms "/resume/$cid" >>"$TMP/a_res"
done
# runc pause/resume of the same container, timed in-process (a shell
# timer would add a fork). The agent's runc root is <state-dir>/runc.
rroot=$(ls -d "$NODE_DATA"/agent*/runc 2>/dev/null | head -n 1)
if [ "$(id -u)" = 0 ] && command -v runc >/dev/null 2>&1 && [ -n "$rroot" ] && [ -d "$rroot" ]; then
	python3 - "$rroot" "$cid" "$K" >"$TMP/runc_pr" <<'PY'
import subprocess, sys, time
root, cid, k = sys.argv[1], sys.argv[2], min(int(sys.argv[3]), 50)
for _ in range(k):
    out = []
    for verb in ("pause", "resume"):
        t = time.monotonic()
        subprocess.run(["runc", "--root", root, verb, cid], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=True)
        out.append("%.3f" % ((time.monotonic() - t) * 1000))
    print(" ".join(out))
PY
	awk '{print $1}' "$TMP/runc_pr" >"$TMP/r_p"
	awk '{print $2}' "$TMP/runc_pr" >"$TMP/r_r"
else
	skip "runc pause/resume" "needs root, runc and the agent's runc root"
	: >"$TMP/r_p"
	: >"$TMP/r_r"
fi
agent GET "/suspend/$cid" >/dev/null # hand it back as the controller left it
for p in 50 99; do
	row "agent suspend p$p" ms "$(pctl "$TMP/a_susp" $p)" "$(pctl "$TMP/r_p" $p)" "runc pause"
	row "agent resume p$p" ms "$(pctl "$TMP/a_res" $p)" "$(pctl "$TMP/r_r" $p)" "runc resume"
done
row "agent resume p99 vs target" ms "$(pctl "$TMP/a_res" 99)" 2 "target 2ms"
