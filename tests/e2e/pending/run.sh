#!/bin/sh
# Run the pending client suites (default: all three) one after the other and
# print each one's summary:   tests/e2e/pending/run.sh [sls] [aio] [npm]
# Each starts and stops its own node; logs in build/test-logs/pending-*.log.
set -u
B=${HEARTH_BUILD:-build}
export HEARTH_BUILD="$(cd "$B" && pwd)"
export HEARTH_SRC="$(pwd)"
mkdir -p "$B/test-logs"
rc=0
for s in ${*:-sls aio npm}; do
	log="$B/test-logs/pending-$s.log"
	start=$(date +%s)
	if sh "tests/e2e/pending/$s.sh" >"$log" 2>&1; then r=ok; else r=FAILED; rc=1; fi
	echo "$s: $r ($(( $(date +%s) - start ))s): $(grep -E "^$s: [0-9]+ passed" "$log" || echo 'no summary; see the log') [$log]"
done
exit $rc
