# tests/e2e/pending/lib.sh — what the client scripts share (POSIX sh).
# Sourced after tests/lib/e2e.sh's variables are wanted: it sources it.
#
#   clients_install      the pinned clients of tests/e2e/clients/package.json,
#                        installed from the npm registry on first use (npm ci)
#   client_env           a temporary HOME, so no client reads or writes the
#                        user's ~/.wskprops, ~/.config/aio, ~/.serverlessrc
#   proxy_start          a tracing proxy in front of the node: CLIENT_API is
#                        what the clients are pointed at (E2E_DIRECT=1: the
#                        node itself)
#   step NAME FN [ARGS]  run one checked step in a subshell; a step fails when
#                        FN exits non-zero (e2e.sh's `fail` does that)
#   node_stop_step       stop the node as a checked step
#   summary              the passed/failed line; exit status 1 if any failed
#
# E2E_VERBOSE=1 prints every step's output and REST calls, not only a failed
# step's.

. "${HEARTH_SRC:-.}/tests/lib/e2e.sh"
CLIENTS="$SRC/tests/e2e/clients"
PENDING="$SRC/tests/e2e/pending"
BIN="$CLIENTS/node_modules/.bin"
PROXY_PID=""
STEPS_PASSED=0
STEPS_FAILED=0
FAILED_STEPS=""
SUITE=$(basename "$0" .sh)

# clients_install — npm ci from the committed lock, once per lock content.
clients_install() {
	stamp="$CLIENTS/node_modules/.hearth-lock"
	want=$(sha256sum "$CLIENTS/package-lock.json" | cut -c1-64)
	[ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && return 0
	command -v npm >/dev/null || fail "npm is not installed (Debian: apt-get install npm; npm 11 and node 20 are what this was written for)"
	echo "installing the clients (tests/e2e/clients/package.json) from the npm registry; the first time takes about 3 minutes"
	start=$(date +%s)
	(
		cd "$CLIENTS"
		# one install at a time when several scripts start together
		if command -v flock >/dev/null; then exec 9>"$CLIENTS/.install.lock"; flock 9; fi
		[ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && exit 0
		npm ci --no-audit --no-fund --loglevel=error >"$E2E_TMP/npm.log" 2>&1 || {
			tail -n 20 "$E2E_TMP/npm.log" >&2
			if ! npm ping >/dev/null 2>&1; then
				echo "the npm registry is not reachable from here (npm ping failed): these tests need it to install serverless, @adobe/aio-cli and openwhisk" >&2
			fi
			exit 1
		}
		echo "$want" >"$stamp"
	) || fail "could not install the clients with npm ci in $CLIENTS"
	echo "clients installed in $(($(date +%s) - start)) s"
}

# client_env — a temporary HOME and XDG dirs; nothing phones home.
client_env() {
	export HOME="$E2E_TMP/home"
	export XDG_CONFIG_HOME="$HOME/.config" XDG_CACHE_HOME="$HOME/.cache" XDG_DATA_HOME="$HOME/.local/share"
	mkdir -p "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME" "$XDG_DATA_HOME"
	unset WSK_CONFIG_FILE __OW_API_HOST __OW_API_KEY __OW_NAMESPACE OW_APIHOST OW_AUTH OW_NAMESPACE
	# serverless v3: no telemetry, no notifications, no prompts
	export SLS_TELEMETRY_DISABLED=1 SLS_NOTIFICATIONS_MODE=off SLS_INTERACTIVE_SETUP_DISABLE=1
	# aio: no telemetry, no update check
	export AIO_TELEMETRY_DISABLED=true AIO_SKIP_NEW_VERSION_CHECK=true
	export NO_UPDATE_NOTIFIER=1 NO_COLOR=1
	unset FORCE_COLOR
}

# proxy_start — the tracing proxy (trace_proxy.js) in front of $API.
proxy_start() {
	TRACE="$E2E_TMP/trace.log"
	: >"$TRACE"
	CLIENT_API=$API
	[ "${E2E_DIRECT:-0}" = 1 ] && return 0
	rm -f "$E2E_TMP/proxy.port"
	node "$PENDING/trace_proxy.js" "$API" "$TRACE" "$E2E_TMP/proxy.port" >"$E2E_TMP/proxy.out" 2>&1 &
	PROXY_PID=$!
	i=0
	until [ -s "$E2E_TMP/proxy.port" ]; do
		i=$((i + 1))
		[ $i -gt 100 ] && fail "the trace proxy did not start: $(cat "$E2E_TMP/proxy.out")"
		sleep 0.1
	done
	CLIENT_API="http://127.0.0.1:$(cat "$E2E_TMP/proxy.port")"
	echo "clients talk to $CLIENT_API (a tracing proxy in front of the node at $API)"
}

proxy_stop() {
	[ -n "$PROXY_PID" ] || return 0
	kill -TERM "$PROXY_PID" 2>/dev/null || true
	wait "$PROXY_PID" 2>/dev/null || true
	PROXY_PID=""
}
# On exit: e2e.sh's cleanup (stop the node, dump the daemons' logs if the
# script failed, remove E2E_TMP) unless the node was stopped by
# node_stop_step and the summary printed: then failed steps are the
# expected outcome and the summary stays the last thing printed. set +e
# first: under set -e the `(exit $rc_)` that hands cleanup the status would
# end the trap before cleanup stops the node.
SUMMARY_DONE=0
on_exit() {
	rc_=$1
	set +e
	proxy_stop
	if [ "$SUMMARY_DONE" = 1 ] && [ -z "$NODE_PID" ]; then
		rm -rf "$E2E_TMP"
		exit "$rc_"
	fi
	(exit "$rc_")
	cleanup
}
trap 'on_exit $?' EXIT INT TERM

# node_stop_step — e2e.sh's node_stop as a checked step; the launcher is
# gone afterwards whatever the step's outcome (node_stop waits for it).
node_stop_step() {
	proxy_stop
	step "node stopped, nothing left behind" node_stop
	NODE_PID=""
}

# trace_since LINE — the REST calls logged after line LINE, one a line.
trace_since() {
	[ -s "${TRACE:-/nonexistent}" ] || return 0
	tail -n +"$(($1 + 1))" "$TRACE" | jq -r '"    \(.method) \(.path)\(if .query then "?" + ([.query | to_entries[] | "\(.key)=\(.value)"] | join("&")) else "" end)"
		+ (if .body then " body=" + (.body | tojson | .[0:300]) else "" end)
		+ " -> \(.status // "no answer: " + .error)"
		+ (if .reply then " " + (.reply | tojson | .[0:300]) else "" end)'
}

step() {
	name=$1; shift
	mark=$(wc -l <"${TRACE:-/dev/null}" 2>/dev/null || echo 0)
	start=$(date +%s)
	set +e
	( set -e; "$@" ) >"$E2E_TMP/step.out" 2>&1
	rc=$?
	set -e
	t=$(($(date +%s) - start))
	if [ $rc -eq 0 ]; then
		STEPS_PASSED=$((STEPS_PASSED + 1))
		echo "PASS  $name (${t}s)"
	else
		STEPS_FAILED=$((STEPS_FAILED + 1))
		FAILED_STEPS="$FAILED_STEPS
  - $name"
		echo "FAIL  $name (${t}s)"
	fi
	if [ $rc -ne 0 ] || [ "${E2E_VERBOSE:-0}" = 1 ]; then
		sed 's/^/    | /' "$E2E_TMP/step.out" | tail -n 40
		calls=$(trace_since "$mark")
		if [ -n "$calls" ]; then echo "    REST calls of this step:"; echo "$calls"; fi
	fi
}

summary() {
	SUMMARY_DONE=1
	echo "$SUITE: $STEPS_PASSED passed, $STEPS_FAILED failed"
	if [ "$STEPS_FAILED" -gt 0 ]; then
		echo "failed steps:$FAILED_STEPS"
		return 1
	fi
}

# run_client LOG CMD... — run a client command, its output kept in LOG and
# shown; fail (the step) if it exits non-zero.
run_client() {
	log=$1; shift
	echo "\$ $*"
	rc=0
	"$@" </dev/null >"$log" 2>&1 || rc=$?
	sed 's/^/  /' "$log" | tail -n 30
	[ $rc -eq 0 ] || fail "$(basename "$1") exited $rc"
}

# get_json PATH — GET through the REST API; fail unless 200; the body on stdout.
get_json() {
	api GET "$1"
	[ "$STATUS" = 200 ] || fail "GET $1 answered $STATUS: $(body)"
	body
}

# expect_status METHOD PATH CODE [BODY]
expect_status() {
	if [ $# -ge 4 ]; then api "$1" "$2" "$4"; else api "$1" "$2"; fi
	[ "$STATUS" = "$3" ] || fail "$1 $2 answered $STATUS, expected $3: $(body)"
}

# check_jq JSON FILTER WHAT — fail unless jq -e FILTER holds on JSON.
check_jq() {
	printf '%s' "$1" | jq -e "$2" >/dev/null 2>&1 || fail "$3: $(printf '%s' "$1" | head -c 1500)"
	echo "ok: $3"
}

# gone PATH — the entity at PATH answers 404.
gone() {
	api GET "$1"
	[ "$STATUS" = 404 ] || fail "GET $1 answered $STATUS after the delete, expected 404: $(body)"
	echo "ok: $1 is gone"
}

# activation_of NAME SINCE_MS JQ — wait up to 20 s for an activation of the
# action NAME (pkg/name for one in a package) started after SINCE_MS whose
# record (GET /activations/{id}) satisfies JQ; print that record.
activation_of() {
	i=0
	while [ $i -lt 60 ]; do
		api GET "/api/v1/namespaces/_/activations?name=$1&since=$2&limit=10"
		if [ "$STATUS" = 200 ]; then
			for id in $(body | jq -r '.[].activationId' 2>/dev/null); do
				api GET "/api/v1/namespaces/_/activations/$id"
				if [ "$STATUS" = 200 ] && body | jq -e "$3" >/dev/null 2>&1; then
					body | jq -c .
					return 0
				fi
			done
		fi
		i=$((i + 1)); sleep 0.3
	done
	fail "no activation of $1 since $2 with $3; the list answered $STATUS: $(body | head -c 800)"
}

# no_activation_of NAME SINCE_MS — after 2 s, still none of NAME since SINCE_MS.
no_activation_of() {
	sleep 2
	api GET "/api/v1/namespaces/_/activations?name=$1&since=$2&limit=10"
	[ "$STATUS" = 200 ] || fail "GET activations?name=$1 answered $STATUS: $(body)"
	[ "$(body | jq length)" = 0 ] || fail "$1 ran, it should not have: $(body | head -c 800)"
	echo "ok: $1 did not run"
}

now_ms() { date +%s%3N; }
