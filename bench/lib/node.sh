# bench/lib/node.sh — a single hearth node for a benchmark (sourced; needs
# common.sh).
#
# node_start [VAR=value ...] starts deploy/hearth-node.sh in the background
# with a fresh HEARTH_DATA under $TMP and a free API port (the extra
# assignments are passed in its environment: HEARTH_PREWARM,
# HEARTH_CONTROLLER_THREADS, HEARTH_PAUSE_GRACE, ...). It waits for
# cluster.env, loads it (HEARTH_API, HEARTH_AUTH, HEARTH_AGENT_URLS,
# HEARTH_CLUSTER_TOKEN, HEARTH_REDIS_URL, ...) and sets NODE_PID and
# NODE_DATA. node_stop stops it by PID (the launcher stops its daemons and
# containers). Returns 1 with NODE_ERR set when the node cannot start.

node_missing() { # -> prints what is missing, if anything
	for _b in hearth-controller hearth-scheduler hearth-agent hearth-runtime hearth; do
		[ -x "$B/$_b" ] || printf '%s ' "$_b"
	done
}

node_start() {
	NODE_ERR=""
	_m=$(node_missing)
	if [ -n "$_m" ]; then
		NODE_ERR="not built yet: $_m"
		return 1
	fi
	# A fresh directory every time: sections run in subshells, so a counter
	# would repeat and a stale cluster.env would be read.
	NODE_DATA=$(mktemp -d "$TMP/node.XXXXXX")
	_port=$(free_port)
	bg_start "$NODE_DATA/launcher.log" env HEARTH_DATA="$NODE_DATA" HEARTH_PORT="$_port" \
		HEARTH_BUILD="$B" HEARTH_CLUSTER=0 "$@" "$REPO_ROOT/deploy/hearth-node.sh"
	NODE_PID=$BG_PID
	_i=0
	while [ ! -s "$NODE_DATA/cluster.env" ]; do
		if ! kill -0 "$NODE_PID" 2>/dev/null || [ $_i -gt 600 ]; then
			NODE_ERR="the node did not start: $(tail -n 3 "$NODE_DATA/launcher.log" | tr '\n' ' ')"
			stop_pid "$NODE_PID"
			return 1
		fi
		sleep 0.1
		_i=$((_i + 1))
	done
	sleep 0.2 # cluster.env is written in one go, but let the launcher finish it
	. "$NODE_DATA/cluster.env"
	AGENT_URL=${HEARTH_AGENT_URLS%%,*}
	export HEARTH_API HEARTH_AUTH HEARTH_CLUSTER_TOKEN HEARTH_AGENT_URLS HEARTH_REDIS_URL HEARTH_SCHEDULER_URLS
	return 0
}

# Stop the node; its daemons' logs are kept in $OUT/logs/<node dir>/ for
# looking into a bad number afterwards.
node_stop() {
	[ -n "${NODE_PID:-}" ] && stop_pid "$NODE_PID"
	NODE_PID=""
	if [ -n "${NODE_DATA:-}" ] && [ -d "$NODE_DATA/logs" ]; then
		mkdir -p "$OUT/logs/$(basename "$NODE_DATA")"
		cp "$NODE_DATA"/logs/* "$OUT/logs/$(basename "$NODE_DATA")/" 2>/dev/null || true
	fi
}

# PIDs of the node's daemons (children of the launcher), by binary name.
node_daemon_pid() { # hearth-controller | hearth-agent | hearth-scheduler
	# -f: process names are cut to 15 characters ("hearth-controll").
	pgrep -P "$NODE_PID" -f "(^|/)$1( |\$)" 2>/dev/null | head -n 1
}

# ---- REST helpers (OpenWhisk API) ----

api() { # method path [curl args...]
	api_m=$1
	api_p=$2
	shift 2
	curl -s --max-time 70 -u "$HEARTH_AUTH" -X "$api_m" -H 'Content-Type: application/json' "$@" \
		"$HEARTH_API/api/v1/namespaces/_$api_p"
}

# Create or replace an action. CODE is the source text, or @FILE with
# base64 of a binary (blackbox). Extra limits as a JSON object.
action_put() { # name kind code [limits-json]
	_lim=${4:-\{\}}
	case $3 in
	@*) jq -n --arg k "$2" --rawfile c "${3#@}" --argjson l "$_lim" \
		'{exec:{kind:$k,code:$c,binary:true},limits:$l}' >"$TMP/action.json" ;;
	*) jq -n --arg k "$2" --arg c "$3" --argjson l "$_lim" \
		'{exec:{kind:$k,code:$c},limits:$l}' >"$TMP/action.json" ;;
	esac
	_code=$(api PUT "/actions/$1?overwrite=true" -o "$TMP/put.out" -w '%{http_code}' \
		--data-binary @"$TMP/action.json")
	[ "$_code" = 200 ] || {
		warn "creating action $1 failed ($_code): $(head -c 300 "$TMP/put.out")"
		return 1
	}
}

# Blocking invoke; prints the whole activation record; returns 1 unless 200.
invoke() { # name
	_code=$(api POST "/actions/$1?blocking=true" -o "$TMP/inv.out" -w '%{http_code}' -d '{}')
	cat "$TMP/inv.out"
	[ "$_code" = 200 ]
}

# ---- agent helpers (cluster token) ----

agent() { # method path [curl args]
	ag_m=$1
	ag_p=$2
	shift 2
	curl -s --max-time 30 -H "Authorization: Bearer $HEARTH_CLUSTER_TOKEN" -X "$ag_m" "$@" "$AGENT_URL$ag_p"
}

# The container an action runs in. The agent's labels say which action a
# container was initialised with when the scheduler passes them; otherwise
# every warm or suspended container of the kind is asked (newest first) to
# /run, and the one whose reply contains MARKER is it (bench actions return
# their own name). A container resumed for the question is suspended again.
# Prints "id host port state".
find_container() { # kind action marker
	agent GET /containers | jq -r --arg k "$1" '
		[.containers[] | select(.kind == $k and (.state == "warm" or .state == "suspended"))]
		| sort_by(.last_used) | reverse | .[] | "\(.id) \(.host) \(.port) \(.state) \(.action)"' \
		>"$TMP/candidates"
	fc_body=$(run_body "$2")
	while read -r fc_id fc_h fc_p fc_s fc_a; do
		case $fc_a in */"$2") echo "$fc_id $fc_h $fc_p $fc_s"; return 0 ;; esac
		[ "$fc_s" = suspended ] && agent GET "/resume/$fc_id" >/dev/null
		fc_r=$(curl -s --max-time 2 -X POST -d "$fc_body" "http://$fc_h:$fc_p/run" || true)
		[ "$fc_s" = suspended ] && agent GET "/suspend/$fc_id" >/dev/null
		case $fc_r in *"$3"*) echo "$fc_id $fc_h $fc_p $fc_s"; return 0 ;; esac
	done <"$TMP/candidates"
	return 1
}

container_state() { # id
	agent GET /containers | jq -r --arg i "$1" '.containers[] | select(.id == $i) | .state'
}

# A /run body shaped like the controller's.
run_body() { # action-name
	printf '{"value":{},"namespace":"guest","action_name":"/guest/%s","action_version":"0.0.1","activation_id":"0123456789abcdef0123456789abcdef","transaction_id":"bench","deadline":"%s"}' \
		"$1" "$(($(date +%s) * 1000 + 3600000))"
}

# Wait (up to SECS) until the agent holds a stem cell of KIND and MEMORY:
# a warm container initialised with no action. Returns 1 on timeout.
wait_stem_cell() { # kind memory secs
	ws_i=0
	while [ $ws_i -lt $(($3 * 20)) ]; do
		ws_n=$(agent GET /containers | jq --arg k "$1" --argjson m "$2" \
			'[.containers[] | select(.kind == $k and .memory == $m and (.state == "warm" or .state == "suspended") and .action == "")] | length' 2>/dev/null)
		[ "${ws_n:-0}" -gt 0 ] && return 0
		sleep 0.05
		ws_i=$((ws_i + 1))
	done
	return 1
}
