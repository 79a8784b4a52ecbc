#!/bin/sh
# Run hearth's tests and print one summary line per suite plus a total.
#   tests/run.sh BUILD_DIR [unit|integration|replay|e2e]...   (default: all)
# e2e runs tests/e2e/*.sh: a real node from deploy/hearth-node.sh, driven
# with curl, the hearth CLI and the openwhisk npm client.
# Unit tests are cmocka binaries (build/tests/test_*); integration tests are
# cmocka binaries that start real processes (build/tests/it_*) and shell
# scripts (tests/integration/*.sh); replay runs every fuzz target over its
# seed corpus without libFuzzer.
set -u
B=${1:-build}; shift || true
what=${*:-unit integration replay e2e}
export HEARTH_BUILD="$(cd "$B" && pwd)"
export HEARTH_SRC="$(pwd)"
passed=0; failed=0; failed_names=""
log_dir="$B/test-logs"; mkdir -p "$log_dir"

# One cmocka binary: show its summary lines, count its tests.
run_cmocka() {
  name=$(basename "$1")
  out="$log_dir/$name.log"
  start=$(date +%s)
  "$@" >"$out" 2>&1
  rc=$?
  p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -n 1)
  f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -n 1)
  p=${p:-0}; f=${f:-0}
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi   # crashed before its summary
  grep -E '^\[==========\]|^\[  (PASSED|FAILED)  \]' "$out" | sed "s/^/$name: /"
  echo "$name: $(( $(date +%s) - start ))s"
  if [ "$f" -gt 0 ]; then
    echo "---- $name failed; its log ($out) ends with:"; tail -n 40 "$out"; echo "----"
    failed_names="$failed_names $name"
  fi
  passed=$((passed + p)); failed=$((failed + f))
}

# One shell test script: it exits 0 on success.
run_script() {
  name=$(basename "$1" .sh)
  out="$log_dir/$name.log"
  start=$(date +%s)
  if sh "$1" >"$out" 2>&1; then
    passed=$((passed + 1)); echo "$name: ok ($(( $(date +%s) - start ))s)"
  else
    failed=$((failed + 1)); failed_names="$failed_names $name"
    echo "$name: FAILED ($(( $(date +%s) - start ))s); its log ($out) ends with:"; tail -n 40 "$out"
  fi
}

for w in $what; do
  case $w in
    unit)
      for t in "$B"/tests/test_*; do [ -x "$t" ] && run_cmocka "$t"; done ;;
    integration)
      for t in "$B"/tests/it_*; do [ -x "$t" ] && run_cmocka "$t"; done
      for t in tests/integration/*.sh; do [ -f "$t" ] && run_script "$t"; done ;;
    e2e)
      for t in tests/e2e/*.sh; do [ -f "$t" ] && run_script "$t"; done ;;
    replay)
      for t in "$B"/tests/replay_fuzz_*; do
        [ -x "$t" ] || continue
        corpus=tests/fuzz/corpus/$(basename "$t" | sed 's/^replay_fuzz_//')
        run_cmocka "$t" "$corpus"
      done ;;
  esac
done

echo "TOTAL: $passed passed, $failed failed"
[ -n "$failed_names" ] && echo "failed:$failed_names"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
