#!/bin/sh
# End-to-end with the Serverless Framework v3 and serverless-openwhisk
# 0.18.4, installed from npm (tests/e2e/clients) and driven unchanged:
# a service with zip-deployed node and python functions, a function in a
# package, a sequence and a trigger event: sls deploy, invoke, logs, info,
# remove; then a second service with an `http` event (web actions and API
# routes, issue 25). Every step is checked through the REST API.
#
# serverless-openwhisk reads its credentials from ~/.wskprops (or the file
# WSK_CONFIG_FILE names: APIHOST, AUTH, NAMESPACE), overridden by
# OW_APIHOST / OW_AUTH / OW_NAMESPACE (provider/credentials.js); `sls deploy`
# insists on all three (deploy/lib/initializeResources.js). Here: a
# .wskprops in a temporary HOME. APIHOST carries the scheme, http://, since
# the openwhisk client assumes https:// for a bare host.
. "${HEARTH_SRC:-.}/tests/e2e/pending/lib.sh"
clients_install
client_env
node_start
proxy_start
NS=$(curl -fsS -u "$AUTH" "$API/api/v1/namespaces" | jq -r '.[0]')
printf 'APIHOST=%s\nAUTH=%s\nNAMESPACE=%s\n' "$CLIENT_API" "$AUTH" "$NS" >"$HOME/.wskprops"
SLS="$BIN/sls"
A=/api/v1/namespaces/_

# ---- the service -----------------------------------------------------------
SVC="$E2E_TMP/hearthsls"
mkdir -p "$SVC"
cat >"$SVC/serverless.yml" <<'YML'
service: hearthsls
frameworkVersion: '3'
provider:
  name: openwhisk
plugins:
  - serverless-openwhisk
functions:
  hello:
    handler: handler.hello
    runtime: nodejs:20
    parameters:
      greeting: hello
    events:
      - trigger: hearthsls-fire
  pyhello:
    handler: pyhandler.main
    runtime: python:3
  inpkg:
    name: hearthsls-pkg/inpkg
    handler: handler.inpkg
    runtime: nodejs:20
  chain:
    sequence:
      - hello
      - pyhello
resources:
  packages:
    hearthsls-pkg:
      parameters:
        from: package
  triggers:
    hearthsls-fire: {}
YML
# (serverless-openwhisk 0.18.4 drops resources.triggers.X.parameters: its
# compile/triggers puts them beside the `trigger` body the openwhisk client
# sends, so PUT /triggers/X always carries {}; not checked here)
cat >"$SVC/handler.js" <<'JS'
'use strict';
function hello(params) {
	console.log('sls hello log ' + (params.name || 'nobody'));
	return { greeting: params.greeting + ' ' + (params.name || 'world'), source: params.source || null };
}
function inpkg(params) {
	return { from: params.from || null, where: 'in a package' };
}
exports.hello = hello;
exports.inpkg = inpkg;
JS
cat >"$SVC/pyhandler.py" <<'PY'
def main(args):
    print("sls python log")
    return {"py": True, "got": args.get("greeting")}
PY

HELLO=hearthsls-dev-hello
PYHELLO=hearthsls-dev-pyhello
CHAIN=hearthsls-dev-chain
RULE=hearthsls_hearthsls-fire_to_hello

sls() { (cd "$SVC" && "$SLS" "$@"); }

# zip_has CODE_B64 FILE [JQ_ON_FILE] — the base64 zip holds FILE.
zip_has() {
	printf '%s' "$1" | base64 -d >"$E2E_TMP/code.zip" 2>/dev/null || fail "exec.code is not base64"
	python3 - "$E2E_TMP/code.zip" "$2" <<'PY' || fail "exec.code is not a zip holding $2"
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
names = z.namelist()
print("zip holds", names)
sys.exit(0 if sys.argv[2] in names else 1)
PY
}

s_deploy() {
	run_client "$E2E_TMP/deploy.log" sls deploy
	grep -q "Deployment successful" "$E2E_TMP/deploy.log" || fail "no 'Deployment successful'"
}

s_node_action() {
	a=$(get_json "$A/actions/$HELLO")
	check_jq "$a" '.exec.kind == "nodejs:20"' "kind nodejs:20"
	check_jq "$a" '.exec.binary == true' "exec.binary is true (the code is a base64 zip)"
	check_jq "$a" '.exec.main == "hello"' "exec.main is the handler's function"
	check_jq "$a" '[.parameters[] | select(.key == "greeting" and .value == "hello")] | length == 1' "the function's parameters"
	check_jq "$a" '.limits.memory == 256 and .limits.timeout == 60000' "limits 256 MB, 60 s"
	zip_has "$(printf '%s' "$a" | jq -r .exec.code)" package.json
}

s_python_action() {
	a=$(get_json "$A/actions/$PYHELLO")
	check_jq "$a" '.exec.kind == "python:3"' "kind python:3"
	check_jq "$a" '.exec.binary == true' "exec.binary is true"
	check_jq "$a" '.exec.main == "main"' "exec.main"
	zip_has "$(printf '%s' "$a" | jq -r .exec.code)" __main__.py
}

s_package() {
	p=$(get_json "$A/packages/hearthsls-pkg")
	check_jq "$p" '.name == "hearthsls-pkg"' "package exists"
	check_jq "$p" '[.parameters[] | select(.key == "from" and .value == "package")] | length == 1' "package parameters"
	check_jq "$p" '[.actions[]? | select(.name == "inpkg")] | length == 1' "the package lists its action"
	a=$(get_json "$A/actions/hearthsls-pkg/inpkg")
	check_jq "$a" '.exec.binary == true and .namespace == "'"$NS"'/hearthsls-pkg"' "the action in the package"
}

s_sequence() {
	a=$(get_json "$A/actions/$CHAIN")
	check_jq "$a" '.exec.kind == "sequence"' "kind sequence"
	check_jq "$a" '.exec.components == ["/'"$NS"'/'"$HELLO"'", "/'"$NS"'/'"$PYHELLO"'"]' "components resolved to /$NS/..."
}

s_trigger_rule() {
	t=$(get_json "$A/triggers/hearthsls-fire")
	check_jq "$t" '.name == "hearthsls-fire" and .namespace == "'"$NS"'"' "trigger exists"
	r=$(get_json "$A/rules/$RULE")
	check_jq "$r" '.status == "active"' "rule active"
	check_jq "$r" '.trigger.name == "hearthsls-fire" and .action.name == "'"$HELLO"'"' "rule links trigger to action"
}

s_invoke_node() {
	run_client "$E2E_TMP/inv.log" sls invoke -f hello -d '{"name":"sls"}'
	check_jq "$(cat "$E2E_TMP/inv.log")" '.greeting == "hello sls"' "sls invoke prints the function's result"
}

s_invoke_python() {
	run_client "$E2E_TMP/inv.log" sls invoke -f pyhello -d '{"greeting":"py"}'
	check_jq "$(cat "$E2E_TMP/inv.log")" '.py == true and .got == "py"' "python result"
}

s_invoke_package() {
	run_client "$E2E_TMP/inv.log" sls invoke -f inpkg
	check_jq "$(cat "$E2E_TMP/inv.log")" '.from == "package"' "the package's parameter reaches its action"
}

s_invoke_sequence() {
	run_client "$E2E_TMP/inv.log" sls invoke -f chain -d '{"name":"seq"}'
	check_jq "$(cat "$E2E_TMP/inv.log")" '.py == true and .got == "hello seq"' "hello's result went into pyhello"
}

s_fire() {
	since=$(now_ms)
	api POST "$A/triggers/hearthsls-fire" '{"name":"fired"}'
	[ "$STATUS" = 202 ] || fail "POST triggers/hearthsls-fire answered $STATUS, expected 202: $(body)"
	check_jq "$(body)" '.activationId | test("^[0-9a-f]{32}$")' "fire answers the trigger's activation id"
	activation_of "$HELLO" "$since" '.response.result.greeting == "hello fired"' >/dev/null
	echo "ok: the rule ran $HELLO with its parameters and the payload"
}

s_logs() {
	# an invoke whose record must carry the line (logs arrive a moment after
	# the reply); then sls logs must show it
	api POST "$A/actions/$HELLO?blocking=true" '{"name":"sls"}'
	[ "$STATUS" = 200 ] || fail "invoke $HELLO answered $STATUS: $(body)"
	id=$(body | jq -r .activationId)
	i=0
	until api GET "$A/activations/$id/logs" && [ "$STATUS" = 200 ] && body | grep -q "sls hello log sls"; do
		i=$((i + 1)); [ $i -lt 30 ] || fail "GET activations/$id/logs has no 'sls hello log sls': $STATUS $(body)"
		sleep 0.2
	done
	run_client "$E2E_TMP/logs.log" sls logs -f hello
	grep -q "activation ($id)" "$E2E_TMP/logs.log" || fail "sls logs does not show activation $id"
	grep -q "sls hello log sls" "$E2E_TMP/logs.log" || fail "sls logs does not show the function's output"
	echo "ok: sls logs shows the function's console.log"
}

s_info() {
	run_client "$E2E_TMP/info.log" sls info
	for w in hearthsls-pkg "$HELLO" "$PYHELLO" "$CHAIN" hearthsls-pkg/inpkg hearthsls-fire "$RULE"; do
		grep -q -- "$w" "$E2E_TMP/info.log" || fail "sls info does not list $w"
	done
	echo "ok: sls info lists the package, actions, trigger and rule"
}

s_remove() {
	run_client "$E2E_TMP/remove.log" sls remove
	# sls remove logs failures and exits 0: only the REST API tells
	for p in actions/$HELLO actions/$PYHELLO actions/$CHAIN actions/hearthsls-pkg/inpkg \
		packages/hearthsls-pkg triggers/hearthsls-fire rules/$RULE; do
		gone "$A/$p"
	done
	for kind in actions packages triggers rules; do
		l=$(get_json "$A/$kind?limit=200")
		check_jq "$l" '[.[] | select(.name | test("hearthsls"))] | length == 0' "no $kind left"
	done
}

step "sls deploy" s_deploy
step "deploy: node function is a binary zip action" s_node_action
step "deploy: python function is a binary zip action" s_python_action
step "deploy: package with parameters and its action" s_package
step "deploy: sequence" s_sequence
step "deploy: trigger and rule" s_trigger_rule
step "sls invoke (node)" s_invoke_node
step "sls invoke (python)" s_invoke_python
step "sls invoke (action in a package)" s_invoke_package
step "sls invoke (sequence)" s_invoke_sequence
step "trigger fire runs the rule's action" s_fire
step "sls logs" s_logs
step "sls info" s_info
step "sls remove" s_remove

# ---- issue 25: an http event (a web action behind an API route) -----------
WEB="$E2E_TMP/hearthweb"
mkdir -p "$WEB"
cat >"$WEB/serverless.yml" <<'YML'
service: hearthweb
frameworkVersion: '3'
provider:
  name: openwhisk
plugins:
  - serverless-openwhisk
functions:
  web:
    handler: web.main
    runtime: nodejs:20
    events:
      - http: GET /hello
YML
cat >"$WEB/web.js" <<'JS'
'use strict';
exports.main = (params) => ({ payload: 'hi ' + (params.name || 'web'), method: params.__ow_method || null });
JS
WEBACT=hearthweb-dev-web
slsw() { (cd "$WEB" && "$SLS" "$@"); }

w_deploy() {
	run_client "$E2E_TMP/wdeploy.log" slsw deploy
	grep -q "Deployment successful" "$E2E_TMP/wdeploy.log" || fail "no 'Deployment successful'"
}

w_action() {
	a=$(get_json "$A/actions/$WEBACT")
	check_jq "$a" '[.annotations[] | select(.key == "web-export" and .value == true)] | length == 1' "web-export annotation"
	check_jq "$a" '[.annotations[] | select(.key == "require-whisk-auth" and (.value | type) == "string")] | length == 1' "require-whisk-auth secret"
	printf '%s' "$a" | jq -r '.annotations[] | select(.key == "require-whisk-auth") | .value' >"$E2E_TMP/webkey"
}

w_webaction() {
	key=$(cat "$E2E_TMP/webkey")
	u="$API/api/v1/web/$NS/default/$WEBACT.json?name=direct"
	code=$(curl -sS -o "$E2E_TMP/wbody" -w '%{http_code}' "$u")
	[ "$code" = 401 ] || fail "without X-Require-Whisk-Auth: HTTP $code, expected 401: $(cat "$E2E_TMP/wbody")"
	echo "ok: no secret, 401"
	code=$(curl -sS -o "$E2E_TMP/wbody" -w '%{http_code}' -H "X-Require-Whisk-Auth: $key" "$u")
	[ "$code" = 200 ] || fail "with the secret: HTTP $code: $(cat "$E2E_TMP/wbody")"
	check_jq "$(cat "$E2E_TMP/wbody")" '.payload == "hi direct" and .method == "get"' "the web action answers"
}

w_route() {
	r=$(get_json /api/v1/web/whisk.system/apimgmt/getApi?basepath=/)
	check_jq "$r" '.apis | length == 1' "getApi lists the API"
	check_jq "$r" '.apis[0].value.apidoc.paths["/hello"].get["x-openwhisk"].action == "'"$WEBACT"'"' "the route maps GET /hello to the action"
	gw=$(printf '%s' "$r" | jq -r '.apis[0].value.gwApiUrl' | sed 's,/$,,')
	code=$(curl -sS -o "$E2E_TMP/wbody" -w '%{http_code}' "$gw/hello?name=route")
	[ "$code" = 200 ] || fail "GET $gw/hello: HTTP $code: $(cat "$E2E_TMP/wbody")"
	check_jq "$(cat "$E2E_TMP/wbody")" '.payload == "hi route"' "the route reaches the action"
}

w_info() {
	run_client "$E2E_TMP/winfo.log" slsw info
	grep -Eq "GET .*/hello --> $WEBACT" "$E2E_TMP/winfo.log" || fail "sls info does not show the route"
	echo "ok: sls info shows GET .../hello --> $WEBACT"
}

w_remove() {
	run_client "$E2E_TMP/wremove.log" slsw remove
	gone "$A/actions/$WEBACT"
	r=$(get_json /api/v1/web/whisk.system/apimgmt/getApi?basepath=/)
	check_jq "$r" '(.apis | type) == "array" and (.apis | length) == 0' "no API left"
}

step "sls deploy (http event)" w_deploy
step "http deploy: the function is a secured web action" w_action
step "http: the web action answers, and 401 without its secret" w_webaction
step "http: the API route answers" w_route
step "sls info (http event)" w_info
step "sls remove (http event)" w_remove

node_stop_step
summary
