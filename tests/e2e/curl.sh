#!/bin/sh
# End-to-end with curl: a node started by the launcher; nodejs, python and
# native actions created, invoked (blocking, result-only, non-blocking),
# their activations, logs and results fetched, updated, deleted; errors.
. "${HEARTH_SRC:-.}/tests/lib/e2e.sh"
node_start

cat >"$E2E_TMP/hello.js" <<'JS'
function main(params) {
	console.log("hello from node");
	return { greeting: "hello " + (params.name || "world"), v: 1 };
}
JS
cat >"$E2E_TMP/hello.py" <<'PY'
def main(args):
    print("hello from python")
    return {"greeting": "hello " + args.get("name", "world"), "v": 1}
PY
cat >"$E2E_TMP/hello.sh" <<'SH'
#!/bin/sh
# actionloop convention: one JSON line in on stdin, one out on fd 3
while read -r line; do
	echo "hello from shell"
	printf '{"greeting":"hello native","v":1}\n' >&3
done
SH

put_action() { # name kind file [overwrite]
	body=$(jq -n --arg k "$2" --rawfile c "$3" '{exec: {kind: $k, code: $c}}')
	api PUT "/api/v1/namespaces/_/actions/$1?overwrite=${4:-false}" "$body"
}

for spec in "node nodejs:20 hello.js node" "py python:3 hello.py python" "sh blackbox hello.sh shell"; do
	set -- $spec
	name=e2e-$1 kind=$2 file=$E2E_TMP/$3 word=$4

	put_action "$name" "$kind" "$file"
	expect 200
	[ "$(jq -r .version "$E2E_TMP/body")" = 0.0.1 ] || fail "$name: version is not 0.0.1"
	put_action "$name" "$kind" "$file"
	expect 409

	# blocking, result only
	api POST "/api/v1/namespaces/_/actions/$name?blocking=true&result=true" '{"name":"e2e"}'; r=$(body)
	expect 200
	case $kind in
	blackbox) [ "$(echo "$r" | jq -r .greeting)" = "hello native" ] || fail "$name result: $r" ;;
	*) [ "$(echo "$r" | jq -r .greeting)" = "hello e2e" ] || fail "$name result: $r" ;;
	esac

	# blocking, whole record
	api POST "/api/v1/namespaces/_/actions/$name?blocking=true" '{"name":"rec"}'; rec=$(body)
	expect 200
	id=$(echo "$rec" | jq -r .activationId)
	[ "$(echo "$rec" | jq -r .response.success)" = true ] || fail "$name: record not successful: $rec"
	[ "$(echo "$rec" | jq -r .name)" = "$name" ] || fail "$name: record name: $rec"

	# the record, its result and its logs can be fetched
	wait_for sh -c "curl -fsS -u '$AUTH' '$API/api/v1/namespaces/_/activations/$id' >/dev/null" ||
		fail "$name: activation $id not found"
	api GET "/api/v1/namespaces/_/activations/$id/result"; res=$(body)
	expect 200
	[ "$(echo "$res" | jq -r .success)" = true ] || fail "$name: /result: $res"
	wait_for sh -c "curl -fsS -u '$AUTH' '$API/api/v1/namespaces/_/activations/$id/logs' | grep -q 'hello from $word'" ||
		fail "$name: logs of $id lack 'hello from $word': $(curl -sS -u "$AUTH" "$API/api/v1/namespaces/_/activations/$id/logs")"

	# non-blocking
	api POST "/api/v1/namespaces/_/actions/$name" '{}'; nb=$(body)
	expect 202
	nid=$(echo "$nb" | jq -r .activationId)
	echo "$nid" | grep -Eq '^[0-9a-f]{32}$' || fail "$name: bad activation id '$nid'"
	wait_for sh -c "curl -fsS -u '$AUTH' '$API/api/v1/namespaces/_/activations/$nid' | grep -q success" ||
		fail "$name: non-blocking activation $nid never completed"

	# update: the new version runs
	sed 's/"v": 1/"v": 2/; s/"v":1/"v":2/; s/v: 1/v: 2/' "$file" >"$file.v2"
	put_action "$name" "$kind" "$file.v2" true
	expect 200
	[ "$(jq -r .version "$E2E_TMP/body")" = 0.0.2 ] || fail "$name: version not bumped"
	api POST "/api/v1/namespaces/_/actions/$name?blocking=true&result=true" '{}'; r=$(body)
	expect 200
	[ "$(echo "$r" | jq -r .v)" = 2 ] || fail "$name: the update did not run: $r"

	# delete
	api DELETE "/api/v1/namespaces/_/actions/$name"
	expect 200
	api GET "/api/v1/namespaces/_/actions/$name"
	expect 404
	api POST "/api/v1/namespaces/_/actions/$name?blocking=true" '{}'
	expect 404
	ok "$kind: create, invoke (3 ways), activation/result/logs, update, delete"
done

# activation listing has what ran
api GET "/api/v1/namespaces/_/activations?limit=100"; l=$(body)
expect 200
[ "$(echo "$l" | jq length)" -ge 12 ] || fail "activation list too short: $l"

# errors
STATUS=$(curl -sS -o "$E2E_TMP/body" -w '%{http_code}' "$API/api/v1/namespaces/_/actions")
expect 401
jq -e .error "$E2E_TMP/body" >/dev/null || fail "401 without a JSON error"
api PUT "/api/v1/namespaces/_/actions/bad?overwrite=true" '{"exec": {'
expect 400
api PUT "/api/v1/namespaces/_/actions/bad?overwrite=true" '{"exec":{"kind":"cobol:1","code":"x"}}'
expect 400
api POST "/api/v1/namespaces/_/actions/missing?blocking=true" '{}'
expect 404
api GET "/api/v1/namespaces/other/actions"
expect 403
ok "errors: 401, 400 (malformed, bad kind), 404, 403"

node_stop
ok "node stopped, nothing left behind"
