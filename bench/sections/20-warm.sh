# title: warm latency: sequential blocking invokes of a noop action
# needs: shared-node
# Issue 9 section 1: p50/p90/p99/max of sequential warm invokes of a noop
# action (nodejs and native) against the container's /run called directly,
# an nginx reverse-proxy hop to the same container, and hearth.
# Target: hearth <= direct + 60 us at p50 and + 1 ms at p99.
# Sourced by bench/run.sh (shared node already started).

section "warm latency: sequential blocking invokes of a noop action"
N=10000
W=500
K=5
[ "$QUICK" = 1 ] && N=1000 && W=100 && K=2

# A native noop: the actionloop protocol in C (one line in, {} on fd 3).
native_noop() {
	cat >"$TMP/noop.c" <<'C'
#include <stdio.h>
#include <unistd.h>
int main(void)
{
	static char line[1 << 20];
	static const char reply[] = "{\"a\":\"bench-noop-native\"}\n";
	while (fgets(line, sizeof(line), stdin))
		if (write(3, reply, sizeof(reply) - 1) != (ssize_t)sizeof(reply) - 1)
			return 1;
	return 0;
}
C
	cc -O2 -o "$TMP/noop" "$TMP/noop.c" && base64 -w0 "$TMP/noop" >"$TMP/noop.b64"
}

warm_kind() { # label kind code
	label=$1
	act=bench-noop-$label
	if ! action_put "$act" "$2" "$3" >/dev/null; then
		skip "warm $label" "could not create the action"
		return 0
	fi
	if ! invoke "$act" >/dev/null; then
		skip "warm $label" "the first invoke failed: $(head -c 200 "$TMP/inv.out")"
		return 0
	fi
	hurl="$HEARTH_API/api/v1/namespaces/_/actions/$act?blocking=true"
	"$LOADGEN" -q -n 200 -u "$HEARTH_AUTH" -d '{}' "$hurl" >/dev/null || true
	sleep 0.3 # past the pause grace: the controller suspends and releases it
	set -- $(find_container "$2" "$act" "$act")
	if [ $# -lt 4 ]; then
		skip "warm $label" "the agent lists no warm container of kind $2"
		return 0
	fi
	cid=$1
	target=$2:$3
	body=$(run_body "$act")

	# The machine is shared and noisy: the three targets take turns in K
	# rounds of N/K requests, and the percentiles are taken over all the
	# samples of each, so a burst of noise falls on all three alike.
	have_nginx=0
	# nginx checks its upstream as it starts: the container must be awake
	[ "$(container_state "$cid")" = suspended ] && agent GET "/resume/$cid" >/dev/null
	[ -n "$(nginx_bin)" ] && nginx_proxy "$target" 1 && have_nginx=1
	[ $have_nginx = 1 ] || skip "warm $label nginx hop" "nginx is missing or did not start"
	: >"$DATA/lat_${label}_direct.txt"
	: >"$DATA/lat_${label}_hearth.txt"
	[ $have_nginx = 1 ] && : >"$DATA/lat_${label}_nginx.txt"
	n=$((N / K))
	okd=0 okh=0
	for k in $(seq 1 "$K"); do
		w=$W
		[ "$k" -gt 1 ] && w=50
		# the controller suspends it after each of its turns: wake it
		# behind its back for the direct and nginx turns...
		[ "$(container_state "$cid")" = suspended ] && agent GET "/resume/$cid" >/dev/null
		d=$("$LOADGEN" -q -n "$n" -w "$w" -d "$body" -s "$TMP/lat.txt" "http://$target/run")
		cat "$TMP/lat.txt" >>"$DATA/lat_${label}_direct.txt"
		okd=$((okd + $(kv ok "$d")))
		if [ $have_nginx = 1 ]; then
			"$LOADGEN" -q -n "$n" -w "$w" -d "$body" -s "$TMP/lat.txt" \
				"http://127.0.0.1:$NGINX_PORT/run" >/dev/null
			cat "$TMP/lat.txt" >>"$DATA/lat_${label}_nginx.txt"
		fi
		# ...and hand it back as the controller left it (suspended)
		agent GET "/suspend/$cid" >/dev/null
		sleep 0.1
		h=$("$LOADGEN" -q -n "$n" -w "$w" -u "$HEARTH_AUTH" -d '{}' -s "$TMP/lat.txt" "$hurl")
		cat "$TMP/lat.txt" >>"$DATA/lat_${label}_hearth.txt"
		okh=$((okh + $(kv ok "$h")))
		[ "$(kv ok "$h")" = "$n" ] || warn "hearth $label: $(kv errors "$h") errors, codes $(kv codes "$h")"
		sleep 0.3 # past the pause grace: the controller suspends it again
	done
	[ $have_nginx = 1 ] && nginx_stop
	[ "$okd" = $((n * K)) ] || warn "direct $label: $((n * K - okd)) requests failed"
	# loadgen-style summaries over every sample (kv reads them)
	summary() { # file
		printf 'p50_us=%s p90_us=%s p99_us=%s max_us=%s\n' "$(pctl "$1" 50)" "$(pctl "$1" 90)" \
			"$(pctl "$1" 99)" "$(pctl "$1" 100)"
	}
	d=$(summary "$DATA/lat_${label}_direct.txt")
	h=$(summary "$DATA/lat_${label}_hearth.txt")
	g=""
	[ $have_nginx = 1 ] && g=$(summary "$DATA/lat_${label}_nginx.txt")

	for p in p50 p90 p99 max; do
		row "warm $label $p vs direct" us "$(kv ${p}_us "$h")" "$(kv ${p}_us "$d")" "direct /run"
		[ -n "$g" ] && row "warm $label $p vs nginx hop" us "$(kv ${p}_us "$h")" "$(kv ${p}_us "$g")" "nginx hop"
	done
	row "warm $label overhead p50" us "$(calc "$(kv p50_us "$h") - $(kv p50_us "$d")")" 60 "target +60us"
	row "warm $label overhead p99" us "$(calc "$(kv p99_us "$h") - $(kv p99_us "$d")")" 1000 "target +1ms"
	if [ -n "$g" ]; then
		row "nginx hop $label overhead p50" us "$(calc "$(kv p50_us "$g") - $(kv p50_us "$d")")" "" ""
	fi
}

table_head
warm_kind nodejs nodejs:20 'function main(params) { return {a: "bench-noop-nodejs"}; }'
if command -v cc >/dev/null 2>&1 && native_noop; then
	warm_kind native blackbox "@$TMP/noop.b64"
else
	skip "warm native" "no C compiler to build the native noop"
fi
