# title: cold paths: first invoke of a new action
# Issue 9 section 3: the first invoke of a new action (a) with a prewarm
# stem cell of its kind and memory available, (b) with none (create +
# init: the actions ask for 128 MB while stem cells are 256 MB), for nodejs,
# python and native; p50/p95 over 30 actions each (5 in the quick run).
# For comparison, in the same run: `runc run -d` of the same bundle until
# the runtime answers /healthz, the runtime alone outside runc, and the
# interpreter alone answering HTTP (node / python http servers).
# Targets: prewarm hit <= 10 ms p50; no-prewarm within 15 ms of runc run +
# the interpreter's own start.
# Runs its own node: prewarm for all three kinds, a short keep-alive so the
# many one-shot containers are reaped and the host never fills up.
# Sourced by bench/run.sh.

section "cold paths: first invoke of a new action"
K=30
KINDS="nodejs python native"
PREWARM="nodejs:20:256:1,python:3:256:1,blackbox:256:1"
[ "$QUICK" = 1 ] && K=2 && KINDS=nodejs && PREWARM="nodejs:20:256:1"
# The quick run reuses the shared node (its one nodejs stem cell is all
# the quick run needs) to save a node start.
if [ "$QUICK" = 1 ] && [ "${SHARED_NODE:-0}" = 1 ]; then
	OWN_NODE=0
else
	OWN_NODE=1
	if ! node_start HEARTH_PREWARM="$PREWARM" \
		HEARTH_KEEPALIVE=3s HEARTH_MEMORY=8192; then
		skip "cold paths" "$NODE_ERR"
		return 0
	fi
fi
: >"$DATA/cold.dat"
have_native=0
if command -v cc >/dev/null 2>&1; then
	printf '#include <stdio.h>\n#include <unistd.h>\nint main(void){static char l[1<<20];while(fgets(l,sizeof l,stdin))if(write(3,"{}\\n",3)!=3)return 1;return 0;}\n' >"$TMP/cnoop.c"
	cc -O2 -o "$TMP/cnoop" "$TMP/cnoop.c" && base64 -w0 "$TMP/cnoop" >"$TMP/cnoop.b64" && have_native=1
fi
code_of() { # label
	case $1 in
	nodejs) echo 'function main(params) { return {}; }' ;;
	python) printf 'def main(args):\n    return {}\n' ;;
	native) echo "@$TMP/cnoop.b64" ;;
	esac
}
kind_of() { case $1 in nodejs) echo nodejs:20 ;; python) echo python:3 ;; native) echo blackbox ;; esac; }

# One cold invoke: prints "total_ms init_ms".
cold_once() { # action
	_t=$(api POST "/actions/$1?blocking=true" -o "$TMP/cold.out" -w '%{http_code} %{time_total}' -d '{}')
	[ "${_t%% *}" = 200 ] || {
		warn "cold invoke of $1: ${_t%% *} $(head -c 200 "$TMP/cold.out")"
		return 1
	}
	_i=$(jq -r '[.annotations[]? | select(.key == "initTime") | .value][0] // 0' "$TMP/cold.out")
	echo "$(calc "${_t#* } * 1000" 2) $_i"
}

table_head
sleep 2 # let the first stem cells come up
for label in $KINDS; do
	[ $label = native ] && [ $have_native = 0 ] && {
		skip "cold native" "no C compiler to build the native noop"
		continue
	}
	kind=$(kind_of $label)
	code=$(code_of $label)
	for mode in prewarm create; do
		mem=256
		[ $mode = create ] && mem=128
		: >"$TMP/cold_${label}_$mode"
		: >"$TMP/init_${label}_$mode"
		for i in $(seq 1 $K); do
			a=bench-cold-$label-$mode-$i
			action_put "$a" "$kind" "$code" "{\"memory\":$mem}" || continue
			# Prewarm: the scheduler refills stem cells on its tick (1 s);
			# wait until the agent shows one (it may be unlabelled but
			# initialised, hence the short floor), at most 5 s.
			if [ $mode = prewarm ]; then
				sleep 0.3
				wait_stem_cell "$kind" 256 5 || warn "no $kind stem cell after 5 s"
			fi
			r=$(cold_once "$a") || continue
			echo "${r% *}" >>"$TMP/cold_${label}_$mode"
			echo "${r#* }" >>"$TMP/init_${label}_$mode"
			api DELETE "/actions/$a" >/dev/null
		done
		n=$(wc -l <"$TMP/cold_${label}_$mode")
		[ "$n" -gt 0 ] || {
			skip "cold $label $mode" "no cold invoke succeeded"
			continue
		}
		p50=$(pctl "$TMP/cold_${label}_$mode" 50)
		p95=$(pctl "$TMP/cold_${label}_$mode" 95)
		eval "cold_${label}_${mode}_p50=$p50"
		echo "$label-$mode $p50 $p95" >>"$DATA/cold.dat"
		if [ $mode = prewarm ]; then
			row "cold $label prewarm hit p50 (n=$n)" ms "$p50" 10 "target 10ms"
			row "cold $label prewarm hit p95" ms "$p95" "" ""
		else
			row "cold $label create+init p50 (n=$n)" ms "$p50" "" ""
			row "cold $label create+init p95" ms "$p95" "" ""
		fi
		row1 "cold $label $mode initTime p50" ms "$(pctl "$TMP/init_${label}_$mode" 50)"
	done
done

# The parts, measured in the same run.
M=10
[ "$QUICK" = 1 ] && M=2
startup="python3 $BENCH_ROOT/lib/startup.py"
rt=$B/hearth-runtime
parts() { # label -> measures; rows compare create+init with runc run + interpreter
	label=$1
	kind=$(kind_of $label)
	: >"$TMP/p_alone"
	: >"$TMP/p_runtime"
	: >"$TMP/p_runc"
	for i in $(seq 1 $M); do
		p=$(free_port)
		case $label in
		nodejs) $startup --url "http://127.0.0.1:$p/" -- /usr/bin/node -e \
			"require('http').createServer((q,s)=>s.end('{}')).listen($p,'127.0.0.1')" >>"$TMP/p_alone" ;;
		python) $startup --url "http://127.0.0.1:$p/" -- /usr/bin/python3 -c \
			"import http.server as h
class R(h.BaseHTTPRequestHandler):
    def do_GET(s): s.send_response(200); s.end_headers(); s.wfile.write(b'{}')
h.HTTPServer(('127.0.0.1',$p),R).serve_forever()" >>"$TMP/p_alone" ;;
		native) $startup --url "http://127.0.0.1:$p/healthz" -- "$rt" --port "$p" \
			--workdir "$TMP/rtalone$i" >>"$TMP/p_alone"
			rm -rf "$TMP/rtalone$i" ;; # killed, it cannot remove its own
		esac
		p=$(free_port)
		$startup --url "http://127.0.0.1:$p/healthz" -- "$rt" --port "$p" --kind "$kind" \
			--workdir "$TMP/rtwork$i" >>"$TMP/p_runtime"
		rm -rf "$TMP/rtwork$i"
	done
	row1 "interpreter alone to HTTP 200 $label p50" ms "$(pctl "$TMP/p_alone" 50)"
	row1 "hearth-runtime (no runc) $label p50" ms "$(pctl "$TMP/p_runtime" 50)"
	echo "$label-interp $(pctl "$TMP/p_alone" 50) $(pctl "$TMP/p_alone" 95)" >>"$DATA/cold.dat"

	# runc run -d of the agent's own bundle for this kind (its config.json,
	# with our port, container id, cgroup and local socket: the agent's
	# container still holds its own).
	if [ "$(id -u)" != 0 ] || ! command -v runc >/dev/null 2>&1; then
		skip "runc run $label" "needs root and runc"
		return 0
	fi
	cfg=$(ls -t "$NODE_DATA"/agent*/containers/*/config.json 2>/dev/null | while read -r f; do
		grep -q "\"$kind\"" "$f" && echo "$f" && break
	done)
	if [ -z "$cfg" ]; then
		skip "runc run $label" "no bundle of kind $kind under the agent's state dir"
		return 0
	fi
	oldport=$(jq -r '.process.args | index("--port") as $i | if $i then .[$i + 1] else empty end' "$cfg")
	for i in $(seq 1 $M); do
		p=$(free_port)
		id=hbench$$-$label-$i
		mkdir -p "$TMP/bundle-$id"
		jq --arg o "$oldport" --arg p "$p" --arg c "/hearth-bench/$id" --arg u "@$id" \
			'.process.args |= map(if . == $o then $p else . end)
			 | (.process.args | index("--unix")) as $i
			 | (if $i then .process.args[$i + 1] = $u else . end)
			 | .linux.cgroupsPath = $c' \
			"$cfg" >"$TMP/bundle-$id/config.json"
		$startup --keep --url "http://127.0.0.1:$p/healthz" -- \
			runc --root "$TMP/runc" run -d --bundle "$TMP/bundle-$id" "$id" >>"$TMP/p_runc"
		runc --root "$TMP/runc" kill "$id" KILL >/dev/null 2>&1
		runc --root "$TMP/runc" delete -f "$id" >/dev/null 2>&1
		rm -rf "$TMP/bundle-$id"
	done
	rmdir /sys/fs/cgroup/*/hearth-bench 2>/dev/null || true
	runc_p50=$(pctl "$TMP/p_runc" 50)
	alone_p50=$(pctl "$TMP/p_alone" 50)
	row1 "runc run -d to /healthz $label p50" ms "$runc_p50"
	echo "$label-runc $runc_p50 $(pctl "$TMP/p_runc" 95)" >>"$DATA/cold.dat"
	eval "cp=\${cold_${label}_create_p50:-}"
	# Issue 9's yardstick: create+init vs runc run + the interpreter alone.
	[ -n "$cp" ] && row "cold $label create+init vs runc+interp" ms "$cp" \
		"$(calc "$runc_p50 + $alone_p50" 2)" "runc run + interp"
}
for label in $KINDS; do
	[ $label = native ] && [ $have_native = 0 ] && continue
	parts $label
done
if [ "$OWN_NODE" = 1 ]; then node_stop; fi
