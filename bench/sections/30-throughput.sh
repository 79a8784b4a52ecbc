# title: throughput vs connections (noop nodejs, action concurrency 64)
# needs: shared-node
# Issue 9 section 2: requests/s and p99 at 1, 4, 16, 64 connections against
# the container's /run directly, an nginx hop (one worker per core) to the
# same container, and hearth. The action has limits.concurrency = 64 so one
# container takes every connection (OpenWhisk's perf suite does the same),
# and the three targets see the same container.
# Target: hearth >= 0.8 x the nginx hop.
# Sourced by bench/run.sh.

section "throughput vs connections (noop nodejs, concurrency 64)"
D=3
CONNS="1 4 16 64"
[ "$QUICK" = 1 ] && D=0.5 && CONNS="1 16 64"
act=bench-tput
if ! action_put "$act" nodejs:20 'function main(params) { return {a: "bench-tput"}; }' '{"concurrency":64}' >/dev/null; then
	skip "throughput" "could not create an action with concurrency 64"
	return 0
fi
if ! invoke "$act" >/dev/null; then
	skip "throughput" "the first invoke failed: $(head -c 200 "$TMP/inv.out")"
	return 0
fi
hurl="$HEARTH_API/api/v1/namespaces/_/actions/$act?blocking=true"
"$LOADGEN" -q -c 4 -t 0.5 -u "$HEARTH_AUTH" -d '{}' "$hurl" >/dev/null || true
sleep 0.3
set -- $(find_container nodejs:20 "$act" "$act")
if [ $# -lt 4 ]; then
	skip "throughput" "the agent lists no warm nodejs container"
	return 0
fi
cid=$1
target=$2:$3
body=$(run_body "$act")
: >"$DATA/tput_direct.dat"
: >"$DATA/tput_hearth.dat"
have_nginx=0
[ -n "$(nginx_bin)" ] && have_nginx=1 && : >"$DATA/tput_nginx.dat"

table_head
for c in $CONNS; do
	[ "$(container_state "$cid")" = suspended ] && agent GET "/resume/$cid" >/dev/null
	d=$("$LOADGEN" -q -c $c -t $D -d "$body" "http://$target/run")
	echo "$c $(kv rps "$d") $(kv p99_us "$d")" >>"$DATA/tput_direct.dat"
	g=""
	if [ $have_nginx = 1 ] && nginx_proxy "$target" "$(nproc)"; then
		g=$("$LOADGEN" -q -c $c -t $D -d "$body" "http://127.0.0.1:$NGINX_PORT/run")
		echo "$c $(kv rps "$g") $(kv p99_us "$g")" >>"$DATA/tput_nginx.dat"
		nginx_stop
	fi
	agent GET "/suspend/$cid" >/dev/null
	sleep 0.1
	h=$("$LOADGEN" -q -c $c -t $D -u "$HEARTH_AUTH" -d '{}' "$hurl")
	echo "$c $(kv rps "$h") $(kv p99_us "$h")" >>"$DATA/tput_hearth.dat"
	[ "$(kv errors "$h")" = 0 ] && [ "$(kv bad_status "$h")" = 0 ] ||
		warn "hearth c$c: $(kv errors "$h") errors, codes $(kv codes "$h")"
	row "tput c$c req/s vs direct" req/s "$(kv rps "$h")" "$(kv rps "$d")" "direct /run"
	if [ -n "$g" ]; then
		row "tput c$c req/s vs nginx hop" req/s "$(kv rps "$h")" "$(kv rps "$g")" "nginx hop"
		row "tput c$c p99 vs nginx hop" us "$(kv p99_us "$h")" "$(kv p99_us "$g")" "nginx hop"
	fi
	row "tput c$c p99 vs direct" us "$(kv p99_us "$h")" "$(kv p99_us "$d")" "direct /run"
	sleep 0.2
done
