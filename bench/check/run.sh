#!/usr/bin/env bash
# bench/check/run.sh - `dunlin check` of a large policy (issue 5: a
# 10,000-line policy in under 100 ms). Median wall time of REPEAT runs
# (default 7) of a Release build, for 1,000, 10,000 and 50,000 lines.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${BUILD_DIR:-$root/build-bench}
work=${WORK_DIR:-/tmp/dunlin-bench-check}
repeat=${REPEAT:-7}
mkdir -p "$work"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DDUNLIN_WERROR=OFF >/dev/null
cmake --build "$build" --target dunlin -j2 >/dev/null
printf '%-8s %-10s %-12s\n' lines bytes median_ms
for lines in 1000 10000 50000; do
  f=$work/big-$lines.dun
  python3 "$here/gen_policy.py" "$lines" >"$f"
  "$build/dunlin" check "$f" >/dev/null 2>&1 || { echo "check failed on $f" >&2; "$build/dunlin" check "$f" | head; exit 1; }
  ms=$(for _ in $(seq "$repeat"); do
         s=$(date +%s%N); "$build/dunlin" check "$f" >/dev/null 2>&1; e=$(date +%s%N)
         echo $(((e - s) / 1000000))
       done | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  printf '%-8s %-10s %-12s\n' "$(wc -l <"$f")" "$(wc -c <"$f")" "$ms"
done
