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
	NODE_SEQ=$((${NODE_SEQ:-0} + 1))
	NODE_DATA=$TMP/node$NODE_SEQ
	mkdir -p "$NODE_DATA"
	_port=$(free_port)
	bg_start "$NODE_DATA/launcher.log" env HEARTH_DATA="$NODE_DATA" HEARTH_PORT="$_port" \
		HEARTH_BUILD="$B" "$@" "$REPO_ROOT/deploy/hearth-node.sh"
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
	export HEARTH_API HEARTH_AUTH HEARTH_CLUSTER_TOKEN HEARTH_AGENT_URLS HEARTH_REDIS_URL
	return 0
}

node_stop() {
	[ -n "${NODE_PID:-}" ] && stop_pid "$NODE_PID"
	NODE_PID=""
}

# PIDs of the node's daemons (children of the launcher), by binary name.
node_daemon_pid() { # hearth-controller | hearth-agent | hearth-scheduler
	pgrep -P "$NODE_PID" -x "$1" 2>/dev/null | head -n 1
}

# ---- REST helpers (OpenWhisk API) ----

api() { # method path [curl args...]
	_m=$1
	_p=$2
	shift 2
	curl -s -u "$HEARTH_AUTH" -X "$_m" -H 'Content-Type: application/json' "$@" \
		"$HEARTH_API/api/v1/namespaces/_$_p"
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
	_m=$1
	_p=$2
	shift 2
	curl -s -H "Authorization: Bearer $HEARTH_CLUSTER_TOKEN" -X "$_m" "$@" "$AGENT_URL$_p"
}

# The container an action runs in: the agent's most recently used container
# of that kind (labels are used when the agent has them). Prints
# "id host port state".
find_container() { # kind [action]
	agent GET /containers | jq -r --arg k "$1" --arg a "${2:-}" '
		[.containers[] | select(.kind == $k and (.state == "warm" or .state == "suspended"))]
		| (map(select($a != "" and (.action | endswith($a))))) as $lab
		| (if ($lab | length) > 0 then $lab else . end)
		| sort_by(.last_used) | last // empty
		| "\(.id) \(.host) \(.port) \(.state)"'
}

container_state() { # id
	agent GET /containers | jq -r --arg i "$1" '.containers[] | select(.id == $i) | .state'
}

# A /run body shaped like the controller's.
run_body() { # action-name
	printf '{"value":{},"namespace":"guest","action_name":"/guest/%s","action_version":"0.0.1","activation_id":"0123456789abcdef0123456789abcdef","transaction_id":"bench","deadline":"%s"}' \
		"$1" "$(($(date +%s) * 1000 + 3600000))"
}
