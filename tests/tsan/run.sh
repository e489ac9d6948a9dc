#!/usr/bin/env bash
# ThreadSanitizer run of libdunlin's concurrency test: builds the dn_*
# libraries and tests/unit/test_api_threads.c with -fsanitize=thread
# (-DDUNLIN_TSAN=ON) in a build directory of its own, and runs it: many
# threads deciding on one loaded policy must show no data race.
#
#   bash tests/tsan/run.sh [BUILD_DIR]
# BUILD_DIR defaults to build-tsan next to the ctest build directory (when
# run by ctest) or in the source tree. A rebuild is incremental. On this
# 2-core machine a first build takes about a minute, a rerun seconds.
set -u
SRC=${DUNLIN_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
if [ $# -ge 1 ]; then
  B=$1
elif [ -n "${DUNLIN:-}" ]; then
  B="$(cd "$(dirname "$DUNLIN")" && pwd)/tsan"
else
  B="$SRC/build-tsan"
fi
PASS=0
FAIL=0
step() { # step NAME CMD...: runs CMD, counts it, shows the log on failure
  local name=$1
  shift
  if "$@" >"$B.log" 2>&1; then
    PASS=$((PASS + 1))
  else
    FAIL=$((FAIL + 1))
    echo "FAIL: $name"
    tail -50 "$B.log"
  fi
}
mkdir -p "$B"
step "configure with -DDUNLIN_TSAN=ON" cmake -S "$SRC" -B "$B" -DCMAKE_BUILD_TYPE=Debug -DDUNLIN_TSAN=ON \
  -DDUNLIN_SANITIZE=OFF -DDUNLIN_WERROR=OFF
[ "$FAIL" -eq 0 ] && step "build test_api_threads" cmake --build "$B" --target test_api_threads -j2
# halt_on_error: a race is a failure, not a warning in a log nobody reads
[ "$FAIL" -eq 0 ] && step "test_api_threads under ThreadSanitizer" \
  env TSAN_OPTIONS="halt_on_error=1 exitcode=66 ${TSAN_OPTIONS:-}" "$B/tests/test_api_threads"
[ "$FAIL" -eq 0 ] && grep -E "PASSED|FAILED" "$B.log"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
