#!/bin/sh
# End-to-end with the openwhisk npm client 3.21.9 (tests/e2e/clients),
# driven unchanged by npm_client.js beside this file: packages and
# bindings, triggers, rules, feeds (the alarms package), routes (issue 25),
# namespaces.get and zip Buffers. tests/e2e/npm.sh, run by `make test`,
# covers actions and activations with the same client.
# The client is configured as its README says: openwhisk({apihost, api_key}).
. "${HEARTH_SRC:-.}/tests/e2e/pending/lib.sh"
clients_install
client_env
node_start
proxy_start
NS=$(curl -fsS -u "$AUTH" "$API/api/v1/namespaces" | jq -r '.[0]')

# the zips the client uploads as Buffers
python3 - "$E2E_TMP" <<'PY'
import sys, zipfile
d = sys.argv[1]
with zipfile.ZipFile(d + "/node.zip", "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("package.json", '{"name": "zipped", "main": "lib/index.js"}')
    z.writestr("lib/index.js", 'exports.main = (p) => ({zipped: "hello " + p.name});\n')
with zipfile.ZipFile(d + "/python.zip", "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("__main__.py", 'from helper import greet\ndef main(args):\n    return {"zipped": greet(args.get("name"))}\n')
    z.writestr("helper.py", 'def greet(n):\n    return "hello " + n\n')
PY

echo "== the openwhisk npm client ($PENDING/npm_client.js)"
rc=0
(cd "$CLIENTS" && __OW_API_HOST=$CLIENT_API __OW_API_KEY=$AUTH HEARTH_API=$API HEARTH_NS=$NS \
	TRACE=$TRACE ZIP_NODE=$E2E_TMP/node.zip ZIP_PYTHON=$E2E_TMP/python.zip RESULT=$E2E_TMP/npm.result \
	OPENWHISK_MODULE=$CLIENTS/node_modules/openwhisk \
	node "$PENDING/npm_client.js") || rc=$?
[ $rc -eq 0 ] && [ -s "$E2E_TMP/npm.result" ] || fail "npm_client.js stopped outside its steps (exit $rc)"
STEPS_PASSED=$(head -n 1 "$E2E_TMP/npm.result" | cut -d' ' -f1)
STEPS_FAILED=$(head -n 1 "$E2E_TMP/npm.result" | cut -d' ' -f2)
FAILED_STEPS=$(tail -n +2 "$E2E_TMP/npm.result" | sed '/^$/d; s/^/  - /')
[ -z "$FAILED_STEPS" ] || FAILED_STEPS="
$FAILED_STEPS"

node_stop_step
summary
