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
[ "$QUICK" = 1 ] && N=1000 && W=100

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
	[ "$4" = suspended ] && agent GET "/resume/$cid" >/dev/null
	body=$(run_body "$act")

	d=$("$LOADGEN" -q -n "$N" -w "$W" -d "$body" -s "$DATA/lat_${label}_direct.txt" "http://$target/run")
	g=""
	if [ -n "$(nginx_bin)" ] && nginx_proxy "$target" 1; then
		g=$("$LOADGEN" -q -n "$N" -w "$W" -d "$body" -s "$DATA/lat_${label}_nginx.txt" \
			"http://127.0.0.1:$NGINX_PORT/run")
		nginx_stop
	else
		skip "warm $label nginx hop" "nginx is missing or did not start"
	fi
	# Hand the container back as the controller left it (suspended).
	agent GET "/suspend/$cid" >/dev/null
	sleep 0.1
	h=$("$LOADGEN" -q -n "$N" -w "$W" -u "$HEARTH_AUTH" -d '{}' -s "$DATA/lat_${label}_hearth.txt" "$hurl")
	[ "$(kv ok "$h")" = "$N" ] || warn "hearth $label: $(kv errors "$h") errors, codes $(kv codes "$h")"
	[ "$(kv ok "$d")" = "$N" ] || warn "direct $label: $(kv errors "$d") errors, codes $(kv codes "$d")"

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
