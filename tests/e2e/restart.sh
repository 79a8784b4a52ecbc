#!/bin/sh
# A restarted node keeps its actions and its key (Redis AOF in HEARTH_DATA);
# SIGTERM leaves nothing behind, containers included.
. "${HEARTH_SRC:-.}/tests/lib/e2e.sh"
node_start
printf 'function main() { return {kept: true}; }\n' >"$E2E_TMP/k.js"
body=$(jq -n --rawfile c "$E2E_TMP/k.js" '{exec: {kind: "nodejs:20", code: $c}}')
api PUT "/api/v1/namespaces/_/actions/kept" "$body"
expect 200
api POST "/api/v1/namespaces/_/actions/kept?blocking=true&result=true" '{}'
expect 200
auth1=$AUTH
node_stop
ok "first run stopped cleanly with a warm container"

node_start "$DATA"
[ "$AUTH" = "$auth1" ] || fail "the key changed across a restart"
api POST "/api/v1/namespaces/_/actions/kept?blocking=true&result=true" '{}'; r=$(body)
expect 200
[ "$(echo "$r" | jq -r .kept)" = true ] || fail "the action did not survive: $r"
node_stop
ok "restart kept the action and the key; nothing left behind"
