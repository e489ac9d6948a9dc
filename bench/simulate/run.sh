#!/usr/bin/env bash
# bench/simulate/run.sh - `dunlin simulate` over demo ledgers, incremental
# (the default: a customer is evaluated only on the days its actions could
# change) against the full replay (--full: every customer every day).
#
# For each size (customers of `dunlin ledger demo`; about 10 invoices per
# customer) and each span: 30 days = the demo's last 30 days (2026-10-27 ..
# 2026-11-25, the busiest); longer spans start on the demo's first fx rate
# (2026-04-29: before it, every EUR/GBP customer is a data error each day)
# and run past the ledger's last day (365 days: .. 2027-04-28),
# prints wall time, CPU (user + system, then system alone), peak RSS, the
# number of customer evaluations and of action records, for
# policies/b2b_net30.dun. System time is mostly the kernel zeroing memory
# the process touches for the first time; on a virtual machine whose host
# backs guest memory lazily it varies from run to run far more than user
# time does (bench/RESULTS.md, simulate, "what a megabyte costs"). The full
# replay is run only for sizes up to FULL_MAX customers (default 10000): at
# 100k it takes tens of minutes. Machine load is printed first (`uptime`):
# on a shared machine read the CPU column. The incremental replay reads the
# working copy from memory; DUNLIN_SIM_READ=keyed (or scan) in the
# environment measures it reading SQLite instead, as before 2026-11-25.
# Usage: bash bench/simulate/run.sh [SIZES...]   (default: 10000 100000)
#        SPANS="30 365" FULL_MAX=10000 BUILD_DIR=... WORK_DIR=...
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${BUILD_DIR:-$root/build-bench}
work=${WORK_DIR:-/tmp/dunlin-bench-sim}
spans=(${SPANS:-30 365})
full_max=${FULL_MAX:-10000}
policy=$root/policies/b2b_net30.dun
last=2026-11-25
first_fx=2026-04-29
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 100000)

if [ -z "${DUNLIN:-}" ]; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DDUNLIN_WERROR=OFF >/dev/null
  cmake --build "$build" --target dunlin -j2 >/dev/null
  DUNLIN=$build/dunlin
fi
mkdir -p "$work"
uptime

# one LEDGER FROM MODE: a table row.
one() {
  local ledger=$1 from=$2 to=$3 mode=$4 flag=()
  [ "$mode" = full ] && flag=(--full)
  /usr/bin/time -f '%e %M %U %S' -o "$work/time" \
    "$DUNLIN" simulate "$policy" --ledger "$ledger" --from "$from" --to "$to" "${flag[@]}" \
    >"$work/out" 2>"$work/err" || { echo "simulate failed:"; cat "$work/err"; exit 1; }
  local evals actions
  evals=$(awk '/customer evaluations/ {print $1}' "$work/out")
  actions=$(awk 'NR == 2 {print $1}' "$work/out")
  awk -v m="$mode" -v e="$evals" -v a="$actions" \
    '{printf "%-11s | %8.1f s | %8.1f s | %6.1f s | %7.0f MiB | %10s | %9s |\n", m, $1, $3 + $4, $4, $2 / 1024, e, a}' "$work/time"
}

for n in "${sizes[@]}"; do
  # The demo is dated up to --today, which defaults to the day it is made:
  # pinned to $last, so every rerun replays the same ledger.
  ledger=$work/demo-$n-$last.db
  [ -f "$ledger" ] || "$DUNLIN" ledger demo "$ledger" --customers "$n" --seed 42 --today "$last" >/dev/null
  for days in "${spans[@]}"; do
    if [ "$days" -le 30 ]; then
      from=$(date -u -d "$last - $((days - 1)) days" +%F) to=$last
    else
      from=$first_fx to=$(date -u -d "$first_fx + $((days - 1)) days" +%F)
    fi
    echo
    echo "## $n customers, $days days ($from .. $to)"
    echo "| mode | wall | cpu | of which sys | peak RSS | evaluations | actions |"
    echo "| --- | --- | --- | --- | --- | --- | --- |"
    one "$ledger" "$from" "$to" incremental
    if [ "$n" -le "$full_max" ]; then one "$ledger" "$from" "$to" full; fi
  done
done
