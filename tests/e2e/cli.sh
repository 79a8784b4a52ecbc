#!/bin/sh
# End-to-end with the `hearth` CLI against a node from the launcher.
. "${HEARTH_SRC:-.}/tests/lib/e2e.sh"
node_start
H="$BUILD/hearth"
export HEARTH_DATA=$DATA # the CLI finds the API and key in its wskprops

printf 'function main(p) { console.log("cli log line"); return {hi: p.name || "world", n: p.n}; }\n' >"$E2E_TMP/hi.js"
printf 'def main(a):\n    return {"py": a.get("x", 0) + 1}\n' >"$E2E_TMP/inc.py"

$H action create hi "$E2E_TMP/hi.js" --memory 128 --timeout 5000 -p n 7 | grep -q "ok: created" || fail "create"
$H action create hi "$E2E_TMP/hi.js" 2>"$E2E_TMP/err" && fail "a second create must fail"
grep -q "update" "$E2E_TMP/err" || fail "the 409 error does not suggest update: $(cat "$E2E_TMP/err")"
$H action create inc "$E2E_TMP/inc.py" | grep -q "ok: created" || fail "create python"

r=$($H action invoke hi --result -p name cli)
[ "$(echo "$r" | jq -r .hi)" = cli ] || fail "invoke --result: $r"
[ "$(echo "$r" | jq -r .n)" = 7 ] || fail "default parameter not merged: $r"
echo '{"x": 41}' >"$E2E_TMP/p.json"
r=$($H --json action invoke inc -r -P "$E2E_TMP/p.json")
[ "$(echo "$r" | jq -r .py)" = 42 ] || fail "invoke -P: $r"
out=$($H action invoke hi)
echo "$out" | grep -q "ok: invoked hi with id" || fail "non-blocking invoke: $out"
id=$(echo "$out" | awk '{print $NF}')

$H action get hi | jq -e '.limits.memory == 128 and .limits.timeout == 5000' >/dev/null || fail "get shows the limits"
$H action list | grep -q "/hi" || fail "list"
$H namespace list | grep -q guest || fail "namespace list"
wait_for sh -c "$H activation get $id | grep -q success" || fail "activation get $id"
$H activation result "$id" | jq -e '.hi == "world"' >/dev/null || fail "activation result"
wait_for sh -c "$H activation logs $id | grep -q 'cli log line'" || fail "activation logs"
$H activation list | grep -q "$id" || fail "activation list"
$H activation list hi --limit 1 | grep -c guest/hi | grep -q 1 || fail "activation list NAME --limit 1"

printf 'function main(p) { return {hi: "v2"}; }\n' >"$E2E_TMP/hi2.js"
$H action update hi "$E2E_TMP/hi2.js" | grep -q "ok: updated" || fail "update"
[ "$($H action invoke hi -r | jq -r .hi)" = v2 ] || fail "the update did not run"
$H action delete hi | grep -q "ok: deleted" || fail "delete"
$H action get hi 2>/dev/null && fail "get after delete must fail"
rc=0; $H action invoke nope -r 2>"$E2E_TMP/err" || rc=$?
[ $rc -ne 0 ] || fail "invoking a missing action must fail"
grep -q "HTTP 404" "$E2E_TMP/err" || fail "missing action error: $(cat "$E2E_TMP/err")"

# a wrong key gets a clear message
$H --auth 23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP \
	action list 2>"$E2E_TMP/err" && fail "a wrong key must fail"
grep -q "refused the key" "$E2E_TMP/err" || fail "401 message: $(cat "$E2E_TMP/err")"

# operator commands
cred=$($H admin key create team2) || fail "admin key create"
echo "$cred" | grep -Eq '^[0-9a-f-]{36}:[A-Za-z0-9]{64}$' || fail "bad credential: $cred"
$H --auth "$cred" namespace list | grep -q team2 || fail "the new key works"
$H admin key delete "$(echo "$cred" | cut -d: -f1)" | grep -q "ok: deleted" || fail "admin key delete"
$H status | grep -q "scheduler leader" || fail "status"
ok "hearth CLI: action, activation, namespace, admin, status"

node_stop
ok "node stopped, nothing left behind"
