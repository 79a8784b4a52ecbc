# title: http server: common/http.c (hello_server) vs nginx static reply
# Issue 3's note: the HTTP server's requests/s and p99 on a trivial route
# with one and two loop threads, next to nginx serving a static reply with
# one and two workers, same client, same run (measured with loadgen, and wrk in the full run).
# Sourced by bench/run.sh.

section "http server: hello_server vs nginx static reply"
if [ ! -x "$B/bench/hello_server" ]; then
	skip "http server" "$B/bench/hello_server is not built"
	return 0
fi
if [ -z "$(nginx_bin)" ]; then
	skip "http server" "nginx is not installed (deploy/deps.sh bench)"
	return 0
fi
D=5
N=20000
[ "$QUICK" = 1 ] && D=1 && N=5000
table_head
for n in 1 2; do
	bg_start "$TMP/hello$n.port" "$B/bench/hello_server" --threads "$n"
	hp=$BG_PID
	i=0
	while [ ! -s "$TMP/hello$n.port" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	hport=$(head -n 1 "$TMP/hello$n.port")
	nginx_static "$n" || {
		skip "http server $n" "nginx did not start"
		stop_pid "$hp"
		continue
	}
	# Sequential latency: one connection, one request at a time.
	h=$("$LOADGEN" -q -n "$N" -w 500 "http://127.0.0.1:$hport/hello")
	g=$("$LOADGEN" -q -n "$N" -w 500 "http://127.0.0.1:$NGINX_PORT/hello")
	row "http $n thr c1 p50" us "$(kv p50_us "$h")" "$(kv p50_us "$g")" "nginx $n worker"
	row "http $n thr c1 p99" us "$(kv p99_us "$h")" "$(kv p99_us "$g")" "nginx $n worker"
	# Throughput: 32 connections, closed loop.
	h=$("$LOADGEN" -q -c 32 -t $D "http://127.0.0.1:$hport/hello")
	g=$("$LOADGEN" -q -c 32 -t $D "http://127.0.0.1:$NGINX_PORT/hello")
	row "http $n thr c32 req/s" req/s "$(kv rps "$h")" "$(kv rps "$g")" "nginx $n worker"
	row "http $n thr c32 p99" us "$(kv p99_us "$h")" "$(kv p99_us "$g")" "nginx $n worker"
	[ "$(kv errors "$h")" = 0 ] || warn "hello_server: $(kv errors "$h") errors"
	if [ "$QUICK" != 1 ] && command -v wrk >/dev/null 2>&1; then
		# The same point with wrk, as a check on the client.
		w=$(wrk -t2 -c32 -d${D}s "http://127.0.0.1:$hport/hello" 2>/dev/null | awk '/Requests\/sec/ {print $2}')
		x=$(wrk -t2 -c32 -d${D}s "http://127.0.0.1:$NGINX_PORT/hello" 2>/dev/null | awk '/Requests\/sec/ {print $2}')
		row "http $n thr c32 req/s (wrk -t2)" req/s "$w" "$x" "nginx $n worker"
	fi
	nginx_stop
	stop_pid "$hp"
done
