#!/bin/sh
# End-to-end with @adobe/aio-cli and @adobe/aio-cli-plugin-runtime 8.1.0
# (`aio rt ...`), installed from npm (tests/e2e/clients) and driven
# unchanged: packages, actions in a package, a binding, triggers, rules,
# fire, `aio rt deploy -m manifest.yml` and `aio rt deploy undeploy -m
# manifest.yml` (so spelled: there is no `aio rt undeploy`); every step
# checked through the REST API.
#
# Configuration, with no Adobe login (src/RuntimeBaseCommand.js,
# src/DeployServiceCommand.js, @adobe/aio-lib-core-config):
#   AIO_RUNTIME_APIHOST, AIO_RUNTIME_AUTH, AIO_RUNTIME_NAMESPACE — the config
#     keys runtime.apihost/.auth/.namespace (a ~/.wskprops APIHOST/AUTH/
#     NAMESPACE works too); the namespace must be set: `rt deploy` writes
#     rules' actions as /<namespace>/pkg/action;
#   USE_RUNTIME_AUTH=true — without it, action/trigger/rule create and
#     delete, api create/delete and undeploy (the DeployServiceCommand ones)
#     go to Adobe's deploy service with an IMS token instead of the API host;
#   AIO_TELEMETRY_DISABLED=true, AIO_SKIP_NEW_VERSION_CHECK=true; HOME and
#     XDG_CONFIG_HOME temporary, the commands run in a temporary directory
#     (aio also reads .aio and .env in the working directory).
. "${HEARTH_SRC:-.}/tests/e2e/pending/lib.sh"
clients_install
client_env
node_start
proxy_start
NS=$(curl -fsS -u "$AUTH" "$API/api/v1/namespaces" | jq -r '.[0]')
export AIO_RUNTIME_APIHOST=$CLIENT_API AIO_RUNTIME_AUTH=$AUTH AIO_RUNTIME_NAMESPACE=$NS USE_RUNTIME_AUTH=true
A=/api/v1/namespaces/_
WORK="$E2E_TMP/aio"
mkdir -p "$WORK"
aio() { (cd "$WORK" && "$BIN/aio" "$@"); }

cat >"$WORK/hello.js" <<'JS'
function main(params) {
	console.log('aio hello log');
	return { greeting: params.greeting + ' ' + (params.name || 'world'), source: params.source || null };
}
JS
cat >"$WORK/hello.py" <<'PY'
def main(args):
    return {"py": True, "greeting": args.get("greeting")}
PY
cat >"$WORK/manifest.yml" <<'YML'
packages:
  aiodeploy:
    version: 1.0.0
    license: Apache-2.0
    inputs:
      greeting: howdy
    actions:
      hello:
        function: hello.js
        runtime: nodejs:20
        limits:
          memory: 128
    sequences:
      twice:
        actions: hello, hello
    triggers:
      deploytrig:
        inputs:
          source: manifest
    rules:
      deployrule:
        trigger: deploytrig
        action: hello
YML
cat >"$WORK/manifest-python.yml" <<'YML'
packages:
  aiopy:
    actions:
      pyhello:
        function: hello.py
        runtime: python:3
    triggers:
      pytrig: {}
    rules:
      pyrule:
        trigger: pytrig
        action: pyhello
YML

a_namespace() {
	run_client "$E2E_TMP/out" aio rt namespace list
	grep -q "$NS" "$E2E_TMP/out" || fail "namespace list does not show $NS"
}

a_pkg_create() {
	run_client "$E2E_TMP/out" aio rt package create aiopkg -p greeting hi
	p=$(get_json "$A/packages/aiopkg")
	check_jq "$p" '.name == "aiopkg" and .namespace == "'"$NS"'"' "package created"
	check_jq "$p" '[.parameters[] | select(.key == "greeting" and .value == "hi")] | length == 1' "package parameter"
}

a_pkg_get() {
	run_client "$E2E_TMP/out" aio rt package get aiopkg
	check_jq "$(cat "$E2E_TMP/out")" '.name == "aiopkg"' "package get prints the package"
}

a_pkg_list() {
	run_client "$E2E_TMP/out" aio rt package list --json
	check_jq "$(cat "$E2E_TMP/out")" '[.[] | select(.name == "aiopkg")] | length == 1' "package list has aiopkg"
}

a_action_node() {
	run_client "$E2E_TMP/out" aio rt action create aiopkg/hello "$WORK/hello.js"
	a=$(get_json "$A/actions/aiopkg/hello")
	check_jq "$a" '.namespace == "'"$NS"'/aiopkg"' "the action is in the package"
	check_jq "$a" '.exec.kind | test("^nodejs:[0-9]+$")' "nodejs:default resolved to a version"
	api POST "$A/actions/aiopkg/hello?blocking=true&result=true" '{"name":"aio"}'
	[ "$STATUS" = 200 ] || fail "invoke aiopkg/hello answered $STATUS: $(body)"
	check_jq "$(body)" '.greeting == "hi aio"' "it runs with the package's parameter"
}

a_action_python() {
	run_client "$E2E_TMP/out" aio rt action create aiopkg/pyhello "$WORK/hello.py"
	a=$(get_json "$A/actions/aiopkg/pyhello")
	check_jq "$a" '.exec.kind | test("^python:[0-9.]+$")' "python:default resolved to a version"
	api POST "$A/actions/aiopkg/pyhello?blocking=true&result=true" '{}'
	[ "$STATUS" = 200 ] || fail "invoke aiopkg/pyhello answered $STATUS: $(body)"
	check_jq "$(body)" '.py == true and .greeting == "hi"' "the python action runs with the package's parameter"
}

a_bind() {
	run_client "$E2E_TMP/out" aio rt package bind aiopkg aiobind -p greeting bound
	p=$(get_json "$A/packages/aiobind")
	check_jq "$p" '.binding.name == "aiopkg" and .binding.namespace == "'"$NS"'"' "binding to aiopkg"
	api POST "$A/actions/aiobind/hello?blocking=true&result=true" '{"name":"x"}'
	[ "$STATUS" = 200 ] || fail "invoke aiobind/hello answered $STATUS: $(body)"
	check_jq "$(body)" '.greeting == "bound x"' "the binding's parameter overrides the package's"
}

a_trigger_create() {
	run_client "$E2E_TMP/out" aio rt trigger create aiotrig -p source aio
	t=$(get_json "$A/triggers/aiotrig")
	check_jq "$t" '[.parameters[] | select(.key == "source" and .value == "aio")] | length == 1' "trigger parameter"
}

a_trigger_get() {
	run_client "$E2E_TMP/out" aio rt trigger get aiotrig
	grep -q aiotrig "$E2E_TMP/out" || fail "trigger get does not show aiotrig"
}

a_rule_create() {
	run_client "$E2E_TMP/out" aio rt rule create aiorule aiotrig aiopkg/hello
	r=$(get_json "$A/rules/aiorule")
	check_jq "$r" '.status == "active"' "a new rule is active"
	check_jq "$r" '.trigger == {path: "'"$NS"'", name: "aiotrig"}' "rule trigger"
	check_jq "$r" '.action == {path: "'"$NS"'/aiopkg", name: "hello"}' "rule action"
}

a_fire() {
	since=$(now_ms)
	run_client "$E2E_TMP/out" aio rt trigger fire aiotrig -p name fire
	check_jq "$(cat "$E2E_TMP/out")" '.activationId | test("^[0-9a-f]{32}$")' "fire prints the trigger's activation id"
	activation_of aiopkg/hello "$since" '.response.result.greeting == "hi fire" and .response.result.source == "aio"' >/dev/null
	echo "ok: the rule ran aiopkg/hello with the trigger's parameter and the payload"
}

a_rule_disable() {
	run_client "$E2E_TMP/out" aio rt rule disable aiorule
	check_jq "$(get_json "$A/rules/aiorule")" '.status == "inactive"' "rule inactive"
	since=$(now_ms)
	expect_status POST "$A/triggers/aiotrig" 204 '{}'
	echo "ok: a fire with no active rule answers 204"
	no_activation_of aiopkg/hello "$since"
}

a_rule_enable() {
	run_client "$E2E_TMP/out" aio rt rule enable aiorule
	check_jq "$(get_json "$A/rules/aiorule")" '.status == "active"' "rule active again"
}

a_rule_get() {
	run_client "$E2E_TMP/out" aio rt rule get aiorule
	check_jq "$(cat "$E2E_TMP/out")" '.name == "aiorule" and .status == "active"' "rule get prints the rule and its status"
	run_client "$E2E_TMP/out" aio rt rule list --json
	check_jq "$(cat "$E2E_TMP/out")" '[.[] | select(.name == "aiorule")] | length == 1' "rule list has aiorule"
}

a_rule_delete() {
	run_client "$E2E_TMP/out" aio rt rule delete aiorule
	gone "$A/rules/aiorule"
	get_json "$A/triggers/aiotrig" >/dev/null
	echo "ok: the trigger stays"
}

a_trigger_delete() {
	run_client "$E2E_TMP/out" aio rt trigger delete aiotrig
	gone "$A/triggers/aiotrig"
}

a_pkg_delete() {
	# a package with actions cannot be deleted (409, OpenWhisk's message)
	rc=0
	aio rt package delete aiopkg </dev/null >"$E2E_TMP/out" 2>&1 || rc=$?
	cat "$E2E_TMP/out"
	[ $rc -ne 0 ] || fail "deleting a non-empty package must fail"
	grep -qi "package not empty" "$E2E_TMP/out" || fail "the error does not say the package is not empty"
	get_json "$A/packages/aiopkg" >/dev/null
	echo "ok: refused, the package stays"
	run_client "$E2E_TMP/out" aio rt package delete aiobind
	gone "$A/packages/aiobind"
	run_client "$E2E_TMP/out" aio rt package delete aiopkg --recursive
	gone "$A/actions/aiopkg/hello"
	gone "$A/actions/aiopkg/pyhello"
	gone "$A/packages/aiopkg"
}

a_deploy() {
	run_client "$E2E_TMP/out" aio rt deploy -m manifest.yml
	p=$(get_json "$A/packages/aiodeploy")
	check_jq "$p" '[.parameters[] | select(.key == "greeting" and .value == "howdy")] | length == 1' "package from the manifest, with its inputs"
	a=$(get_json "$A/actions/aiodeploy/hello")
	check_jq "$a" '.exec.kind == "nodejs:20" and .limits.memory == 128' "action from the manifest"
	s=$(get_json "$A/actions/aiodeploy/twice")
	check_jq "$s" '.exec.kind == "sequence" and .exec.components == ["/'"$NS"'/aiodeploy/hello", "/'"$NS"'/aiodeploy/hello"]' "sequence from the manifest"
	t=$(get_json "$A/triggers/deploytrig")
	check_jq "$t" '[.parameters[] | select(.key == "source" and .value == "manifest")] | length == 1' "trigger from the manifest"
	r=$(get_json "$A/rules/deployrule")
	check_jq "$r" '.status == "active" and .action == {path: "'"$NS"'/aiodeploy", name: "hello"} and .trigger.name == "deploytrig"' "rule from the manifest"
}

a_deploy_fire() {
	since=$(now_ms)
	expect_status POST "$A/triggers/deploytrig" 202 '{"name":"manifest"}'
	activation_of aiodeploy/hello "$since" '.response.result.greeting == "howdy manifest" and .response.result.source == "manifest"' >/dev/null
	echo "ok: the deployed rule runs the deployed action"
	api POST "$A/actions/aiodeploy/twice?blocking=true&result=true" '{"name":"seq"}'
	[ "$STATUS" = 200 ] || fail "invoke aiodeploy/twice answered $STATUS: $(body)"
	check_jq "$(body)" '.greeting == "howdy howdy seq"' "the deployed sequence runs"
}

a_undeploy() {
	run_client "$E2E_TMP/out" aio rt deploy undeploy -m manifest.yml
	for p in actions/aiodeploy/hello actions/aiodeploy/twice triggers/deploytrig rules/deployrule packages/aiodeploy; do
		gone "$A/$p"
	done
}

# aio-lib-runtime 7.3.0 (this plugin's) deployPackage refuses a kind outside
# its nodejs list unless GET {apihost} lists it under runtimes.nodejs: it
# reads only runtimes.nodejs (utils.js getSupportedServerRuntimes), so a
# python action in a manifest is refused by the client against any
# OpenWhisk. What can be checked is that the client gets that far: GET /
# answers OpenWhisk's runtimes, and the package before the action was made.
a_deploy_python() {
	rc=0
	aio rt deploy -m manifest-python.yml </dev/null >"$E2E_TMP/out" 2>&1 || rc=$?
	cat "$E2E_TMP/out"
	[ $rc -ne 0 ] || fail "aio-lib-runtime 7.3.0 was expected to refuse python:3; it deployed (a newer client?)"
	# oclif wraps the message at 80 columns
	msg=$(tr '\n' ' ' <"$E2E_TMP/out" | sed 's/ *› */ /g')
	echo "$msg" | grep -q "Unsupported node version 'python:3'" || fail "not the client's refusal of python:3"
	echo "$msg" | grep -Eq "Supported runtimes on .*nodejs:[0-9]+" || fail "the client could not read the runtimes from GET /"
	echo "ok: the client read GET / and refused python:3 itself"
	get_json "$A/packages/aiopy" >/dev/null
	echo "ok: the package was deployed before the action"
	expect_status DELETE "$A/packages/aiopy" 200
}

step "aio rt namespace list" a_namespace
step "aio rt package create" a_pkg_create
step "aio rt package get" a_pkg_get
step "aio rt package list" a_pkg_list
step "aio rt action create (node, in a package)" a_action_node
step "aio rt action create (python, in a package)" a_action_python
step "aio rt package bind" a_bind
step "aio rt trigger create" a_trigger_create
step "aio rt trigger get" a_trigger_get
step "aio rt rule create" a_rule_create
step "aio rt trigger fire runs the rule's action" a_fire
step "aio rt rule disable (a fire runs nothing)" a_rule_disable
step "aio rt rule enable" a_rule_enable
step "aio rt rule get / list" a_rule_get
step "aio rt rule delete" a_rule_delete
step "aio rt trigger delete" a_trigger_delete
step "aio rt package delete (non-empty refused, then --recursive)" a_pkg_delete
step "aio rt deploy -m manifest.yml" a_deploy
step "deployed trigger, rule, action and sequence run" a_deploy_fire
step "aio rt deploy undeploy -m manifest.yml" a_undeploy
step "aio rt deploy of a python action (client-side refusal after GET /)" a_deploy_python

node_stop_step
summary
