#!/bin/sh
# Web actions end to end with curl against a node from the launcher: every
# extension, the arguments a request becomes, raw HTTP, binary bodies,
# final parameters, require-whisk-auth both ways, CORS and OPTIONS, and
# OpenWhisk's answers to bad requests.
. "${HEARTH_SRC:-.}/tests/lib/e2e.sh"
node_start
NS=guest
W="$API/api/v1/web/$NS/default"

put() { # name kind file annotations-json [parameters-json]
	jq -n --arg k "$2" --rawfile c "$3" --argjson a "$4" --argjson p "${5:-[]}" \
		'{exec: {kind: $k, code: $c}, annotations: $a, parameters: $p}' >"$E2E_TMP/body.json"
	st=$(curl -s -o "$E2E_TMP/put.out" -w '%{http_code}' -u "$AUTH" -X PUT \
		-H 'Content-Type: application/json' --data-binary @"$E2E_TMP/body.json" \
		"$API/api/v1/namespaces/_/actions/$1?overwrite=true")
	[ "$st" = 200 ] || fail "PUT $1: $st $(cat "$E2E_TMP/put.out")"
}
# call METHOD URL [curl args...]: status in $ST, body in $E2E_TMP/out, headers in $E2E_TMP/hdr
call() {
	m=$1 u=$2
	shift 2
	ST=$(curl -s -D "$E2E_TMP/hdr" -o "$E2E_TMP/out" -w '%{http_code}' -X "$m" "$@" "$u")
}
hdr() { grep -i "^$1:" "$E2E_TMP/hdr" | head -n 1 | cut -d' ' -f2- | tr -d '\r'; }
expect() { [ "$ST" = "$1" ] || fail "$2: status $ST, wanted $1: $(head -c 400 "$E2E_TMP/out")"; }

cat >"$E2E_TMP/echo.js" <<'EOF'
function main(p) { return p; }
EOF
cat >"$E2E_TMP/http.js" <<'EOF'
function main(p) {
  if (p.kind === 'png') return {headers: {'Content-Type': 'image/png'}, body: p.__ow_body};
  if (p.kind === 'fail') return {error: {statusCode: 418, body: 'teapot'}};
  if (p.kind === 'empty') return {statusCode: 200};
  if (p.kind === 'bad') return {statusCode: 'abc'};
  if (p.kind === 'crash') throw new Error('boom');
  return {statusCode: 201, headers: {'X-Made-By': 'hearth', 'Set-Cookie': ['a=1', 'b=2']},
          body: '<h1>' + (p.name || 'anon') + '</h1>'};
}
EOF
cat >"$E2E_TMP/echo.py" <<'EOF'
def main(args):
    return {"body": {"method": args.get("__ow_method"), "name": args.get("name")}}
EOF

put echo nodejs:20 "$E2E_TMP/echo.js" '[{"key":"web-export","value":true}]'
put page nodejs:20 "$E2E_TMP/http.js" '[{"key":"web-export","value":true}]'
put pyweb python:3 "$E2E_TMP/echo.py" '[{"key":"web-export","value":true}]'
put hidden nodejs:20 "$E2E_TMP/echo.js" '[]'
put raw nodejs:20 "$E2E_TMP/echo.js" '[{"key":"web-export","value":true},{"key":"raw-http","value":true}]'
put final nodejs:20 "$E2E_TMP/echo.js" '[{"key":"web-export","value":true},{"key":"final","value":true}]' \
	'[{"key":"name","value":"Jane"}]'
put secret nodejs:20 "$E2E_TMP/echo.js" '[{"key":"web-export","value":true},{"key":"require-whisk-auth","value":"s3cret"}]'
put authed nodejs:20 "$E2E_TMP/echo.js" '[{"key":"web-export","value":true},{"key":"require-whisk-auth","value":true}]'
put options nodejs:20 "$E2E_TMP/http.js" '[{"key":"web-export","value":true},{"key":"web-custom-options","value":true}]'

# .json: the arguments a request becomes
call POST "$W/echo.json?name=Jane&x=1" -H 'Content-Type: application/json' -d '{"x":"2","n":3}'
expect 200 ".json"
[ "$(jq -r .__ow_method "$E2E_TMP/out")" = post ] || fail "__ow_method: $(cat "$E2E_TMP/out")"
[ "$(jq -r .__ow_path "$E2E_TMP/out")" = "" ] || fail "__ow_path"
[ "$(jq -r .name "$E2E_TMP/out")" = Jane ] || fail "query parameter"
[ "$(jq -r .x "$E2E_TMP/out")" = 2 ] || fail "the body wins over the query"
[ "$(jq -r .n "$E2E_TMP/out")" = 3 ] || fail "body parameter"
[ "$(jq -r '.__ow_headers["content-type"]' "$E2E_TMP/out")" = application/json ] || fail "__ow_headers"
[ "$(jq -r '.__ow_user // "none"' "$E2E_TMP/out")" = none ] || fail "anonymous has no __ow_user"
[ -n "$(hdr x-openwhisk-activation-id)" ] || fail "the activation id header"
[ "$(hdr access-control-allow-origin)" = "*" ] || fail "CORS on web answers"
ok ".json: method, path, query, body, headers; activation id and CORS headers"

# authenticated callers get __ow_user; their records are the owner's
call GET "$W/echo.json" -u "$AUTH"
[ "$(jq -r .__ow_user "$E2E_TMP/out")" = "$NS" ] || fail "__ow_user: $(cat "$E2E_TMP/out")"
aid=$(hdr x-openwhisk-activation-id)
i=0
until curl -sf -u "$AUTH" "$API/api/v1/namespaces/_/activations/$aid" >"$E2E_TMP/rec"; do
	i=$((i + 1)); [ $i -gt 50 ] && fail "the web activation's record"; sleep 0.1
done
[ "$(jq -r .name "$E2E_TMP/rec")" = echo ] || fail "record name"
ok "__ow_user when authenticated; the record is the owner's"

# form bodies merge; projection; other extensions
call POST "$W/echo.json" -H 'Content-Type: application/x-www-form-urlencoded' -d 'a=1&b=two'
[ "$(jq -r .b "$E2E_TMP/out")" = two ] || fail "form body"
call GET "$W/echo.json/__ow_headers"
expect 200 "projection"
[ "$(jq -r .host "$E2E_TMP/out")" != null ] || fail ".json projection: $(cat "$E2E_TMP/out")"
call GET "$W/echo.json/__ow_method"
expect 400 "a projected string is not JSON media"
call GET "$W/echo.text/__ow_method"
expect 200 ".text"
[ "$(cat "$E2E_TMP/out")" = get ] || fail ".text projection: $(cat "$E2E_TMP/out")"
call GET "$W/echo.text/__ow_path"
[ "$(cat "$E2E_TMP/out")" = /__ow_path ] || fail "__ow_path is what follows the action: $(cat "$E2E_TMP/out")"
call GET "$W/echo.json/nope"
expect 404 "missing property"
[ "$(jq -r .error "$E2E_TMP/out")" = "Response does not include requested property." ] || fail "404 message"
call GET "$W/pyweb.json?name=Py"
expect 200 "python .json"
[ "$(jq -r .body.name "$E2E_TMP/out")" = Py ] || fail "python web action: $(cat "$E2E_TMP/out")"
ok "form body, projections, .text, python"

# .http: status, headers (repeated), text/html by default
call GET "$W/page?name=Web"
expect 201 ".http"
[ "$(cat "$E2E_TMP/out")" = "<h1>Web</h1>" ] || fail ".http body"
hdr content-type | grep -q '^text/html' || fail ".http content type: $(hdr content-type)"
[ "$(hdr x-made-by)" = hearth ] || fail "action header"
[ "$(grep -ci '^set-cookie:' "$E2E_TMP/hdr")" = 2 ] || fail "repeated header"
call GET "$W/page.http?kind=empty"
expect 200 "no body"
call GET "$W/page?kind=bad"
expect 400 "bad status code"
[ "$(jq -r .error "$E2E_TMP/out")" = "Response is not valid 'message/http'." ] || fail "bad shape message"
call GET "$W/page?kind=fail"
expect 418 "application error projected"
call GET "$W/page?kind=crash"
expect 400 "developer error"
[ "$(jq -r .error "$E2E_TMP/out")" = "There was an error processing your request." ] || fail "developer error message"
ok ".http: status, headers, defaults, errors"

# binary round trip: a PNG in, base64 in __ow_body, the same bytes out
printf '\211PNG\r\n\032\n\000\001\002binary' >"$E2E_TMP/img.png"
curl -s -o "$E2E_TMP/back.png" -D "$E2E_TMP/hdr" -X POST -H 'Content-Type: image/png' \
	--data-binary @"$E2E_TMP/img.png" "$W/page?kind=png"
cmp -s "$E2E_TMP/img.png" "$E2E_TMP/back.png" || fail "binary body round trip"
hdr content-type | grep -q '^image/png' || fail "binary content type"
ok "binary bodies round-trip"

# raw HTTP: query and body as they came
call POST "$W/raw.json?name=Jane" -H 'Content-Type: application/json' -d '{"name":"Jane"}'
[ "$(jq -r .__ow_query "$E2E_TMP/out")" = "name=Jane" ] || fail "__ow_query"
[ "$(jq -r .__ow_body "$E2E_TMP/out")" = eyJuYW1lIjoiSmFuZSJ9 ] || fail "raw __ow_body"
[ "$(jq -r '.name // "none"' "$E2E_TMP/out")" = none ] || fail "raw does not merge"
ok "raw-http"

# final parameters cannot be overridden
call GET "$W/final.json"
[ "$(jq -r .name "$E2E_TMP/out")" = Jane ] || fail "final default"
call GET "$W/final.json?name=Eve"
expect 400 "final override"
[ "$(jq -r .error "$E2E_TMP/out")" = "Request defines parameters that are not allowed (e.g., reserved properties)." ] ||
	fail "final message"
call GET "$W/echo.json?__ow_method=x"
expect 400 "reserved override"
ok "final and reserved parameters"

# require-whisk-auth: a secret header, or valid credentials
call GET "$W/secret.json"
expect 401 "secret missing"
call GET "$W/secret.json" -H 'X-Require-Whisk-Auth: wrong'
expect 401 "secret wrong"
call GET "$W/secret.json" -H 'X-Require-Whisk-Auth: s3cret'
expect 200 "secret right"
call GET "$W/authed.json"
expect 401 "credentials missing"
call GET "$W/authed.json" -u "not:valid"
expect 401 "credentials wrong"
call GET "$W/authed.json" -u "$AUTH"
expect 200 "credentials right"
ok "require-whisk-auth both ways"

# CORS: OPTIONS by the platform (echoing the requested headers), or by the action
call OPTIONS "$W/echo.json" -H 'Access-Control-Request-Headers: X-Custom, Content-Type' -H 'Origin: http://elsewhere'
expect 200 "preflight"
[ "$(hdr access-control-allow-headers)" = "X-Custom, Content-Type" ] || fail "echoed headers: $(hdr access-control-allow-headers)"
hdr access-control-allow-methods | grep -q PATCH || fail "allowed methods"
[ -z "$(hdr x-openwhisk-activation-id)" ] || fail "a preflight runs nothing"
call OPTIONS "$W/options"
expect 201 "web-custom-options reaches the action"
[ -z "$(hdr access-control-allow-origin)" ] || fail "no platform CORS with web-custom-options"
for m in PUT DELETE PATCH; do
	call "$m" "$W/echo.json"
	expect 200 "method $m"
done
ST=$(curl -s -o /dev/null -w '%{http_code}' --head "$W/echo.json")
expect 200 "method HEAD"
ok "CORS and methods"

# what is not a web action, or not there, or too big
call GET "$W/hidden.json"
expect 404 "not exported"
call GET "$API/api/v1/web/$NS/default/absent.json"
expect 404 "absent"
call GET "$API/api/v1/web/$NS/nopkg/echo.json"
expect 404 "absent package"
head -c 1100000 /dev/zero | tr '\0' a >"$E2E_TMP/big"
call POST "$W/echo.json" -H 'Content-Type: text/plain' --data-binary @"$E2E_TMP/big"
expect 413 "body over 1 MB"
jq -r .error "$E2E_TMP/out" | grep -q "^Request larger than allowed: 1100000 > 1048576 bytes.$" ||
	fail "413 message: $(cat "$E2E_TMP/out")"
ok "not exported, absent, too big"

node_stop
ok "node stopped, nothing left behind"
