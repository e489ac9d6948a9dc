#!/usr/bin/env bash
# The whole test suite: install what is missing, build with -Werror under
# AddressSanitizer and UndefinedBehaviorSanitizer, run every test through
# ctest, and end with one line `N passed, N failed`.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh || exit 3
build=${BUILD_DIR:-build-test}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DDUNLIN_WERROR=ON -DDUNLIN_SANITIZE=ON >/dev/null || exit 3
cmake --build "$build" -j"$(nproc)" || { echo "0 passed, 1 failed"; exit 1; }
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
log=$(mktemp)
ctest --test-dir "$build" --output-on-failure -j"$(nproc)" 2>&1 | tee "$log"
summary=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1)
rm -f "$log"
if [ -z "$summary" ]; then
  echo "0 passed, 1 failed"
  exit 1
fi
failed=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$summary")
total=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<"$summary")
echo "$((total - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
