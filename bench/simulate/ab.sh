#!/usr/bin/env bash
# bench/simulate/ab.sh - two builds of dunlin, `simulate` alternated on one
# pinned core: OLD, NEW, OLD, NEW, ... over the same demo ledger and span.
#
# Why this shape: on the 2-core VM of bench/RESULTS.md the host's speed
# drifts by a third within an hour and one core is at times much slower
# than the other, so two binaries run at the same time on the two cores,
# or an hour apart, compare the host more than the binaries (simulate,
# "fewer full runs": pairs at once said 38 % faster, then 10 % slower).
# Alternating on one core leaves only the drift between neighbouring runs.
#
# Prints each run (wall, user, system seconds, peak RSS) and the means;
# stops if the two builds' summaries differ (the evaluations line aside:
# that one counts work, which a change may save).
#
# Usage: bash bench/simulate/ab.sh OLD_DUNLIN NEW_DUNLIN [ROUNDS]   (default 3)
#        CUSTOMERS=100000 FROM=2026-04-29 TO=2027-04-28 CORE=1 WORK_DIR=...
#        POLICY=policies/b2b_net30.dun
# A 30-day span (FROM=2026-10-27 TO=2026-11-25) takes ~11 s a run at 100k
# customers and tells apart changes of 2 to 3 %; the year takes ~60 s.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
[ $# -ge 2 ] || { sed -n '16,18p' "$0"; exit 2; }
old=$1 new=$2 rounds=${3:-3}
customers=${CUSTOMERS:-100000}
from=${FROM:-2026-04-29} to=${TO:-2027-04-28}
core=${CORE:-1}
policy=${POLICY:-$root/policies/b2b_net30.dun}
work=${WORK_DIR:-/tmp/dunlin-bench-sim}
for tool in taskset /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "missing: $tool (Debian: util-linux, time)" >&2; exit 2; }
done
mkdir -p "$work"
# The ledger of bench/simulate/run.sh: the demo pinned to its last day.
ledger=$work/demo-$customers-2026-11-25.db
[ -f "$ledger" ] || "$new" ledger demo "$ledger" --customers "$customers" --seed 42 \
  --today 2026-11-25 >/dev/null
echo "$customers customers, $from .. $to, core $core; $(uptime)"

# one NAME BINARY: a run, its line, and its summary in $work/NAME.out.
one() {
  taskset -c "$core" /usr/bin/time -f '%e %U %S %M' -o "$work/time" \
    "$2" simulate "$policy" --ledger "$ledger" --from "$from" --to "$to" \
    >"$work/$1.out" 2>"$work/$1.err" || { echo "$1: simulate failed:"; cat "$work/$1.err"; exit 1; }
  awk -v n="$1" '{printf "%-4s %7.2f s wall %7.2f s user %6.2f s sys %6.0f MiB\n", n, $1, $2, $3, $4 / 1024}' \
    "$work/time" | tee -a "$work/ab.log"
}

: >"$work/ab.log"
for ((r = 1; r <= rounds; r++)); do
  one old "$old"
  one new "$new"
  if ! cmp -s <(grep -v 'customer evaluations' "$work/old.out") \
              <(grep -v 'customer evaluations' "$work/new.out"); then
    echo "the two builds' summaries differ:"
    diff "$work/old.out" "$work/new.out" | head -10
    exit 1
  fi
done
awk '{w[$1] += $2; u[$1] += $5; n[$1]++}
     END {for (k in w) printf "%-4s mean %7.2f s wall %7.2f s user (%d runs)\n", k, w[k] / n[k], u[k] / n[k], n[k]}' \
  "$work/ab.log" | sort
