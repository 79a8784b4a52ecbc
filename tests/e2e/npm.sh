#!/bin/sh
# End-to-end with the `openwhisk` npm client, unchanged, against a node
# from the launcher. The client is installed from the npm registry into
# tests/e2e/node_modules (git-ignored) on first use.
. "${HEARTH_SRC:-.}/tests/lib/e2e.sh"
E2E_DIR="$SRC/tests/e2e"
if [ ! -f "$E2E_DIR/node_modules/openwhisk/package.json" ]; then
	(cd "$E2E_DIR" && npm install --no-audit --no-fund --no-save --loglevel=error openwhisk@3) ||
		fail "could not install the openwhisk npm client"
fi
node_start
cd "$E2E_DIR"
__OW_API_HOST=$API __OW_API_KEY=$AUTH node "$E2E_DIR/npm_client.js" || fail "npm client flow"
cd "$SRC"
node_stop
ok "node stopped, nothing left behind"
