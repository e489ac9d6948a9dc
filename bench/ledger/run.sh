#!/usr/bin/env bash
# bench/ledger/run.sh - `dunlin run` end to end against the SQLite floor.
#
# For ledgers of 1k, 10k and 100k customers (about 10k, 100k and 1M
# invoices) made by `dunlin ledger demo`, measures in one go on this
# machine: the demo generation, `dunlin run` of policies/b2b_net30.dun
# (wall time, peak RSS) and the floor query (floor.sql through the sqlite3
# shell, the date substituted for :d: the same rows, every open balance). Each timing is the median of
# REPEAT runs (default 3), wall clock and CPU (user + system): on a machine
# shared with other work the CPU time is the steadier of the two.
# Usage: bash bench/ledger/run.sh [SIZES...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${BUILD_DIR:-$root/build-bench}
work=${WORK_DIR:-/tmp/dunlin-bench}
repeat=${REPEAT:-3}
as_of=2026-11-25
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 10000 100000)

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DDUNLIN_WERROR=OFF >/dev/null
cmake --build "$build" --target dunlin -j2 >/dev/null
dunlin=$build/dunlin
mkdir -p "$work"

# "wall_seconds peak_kib cpu_seconds" of one command, its output discarded.
measure() {
  /usr/bin/time -f '%e %M %U %S' -o "$work/time" "$@" >/dev/null 2>"$work/stderr" &&
    awk '{printf "%s %s %.2f\n", $1, $2, $3 + $4}' "$work/time"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# Median wall time, the largest peak RSS and the median CPU time of $repeat runs.
timed() {
  local walls=() cpus=() rss=0 w m c
  for _ in $(seq "$repeat"); do
    read -r w m c < <(measure "$@")
    walls+=("$w"); cpus+=("$c"); [ "$m" -gt "$rss" ] && rss=$m
  done
  printf '%s %s %s\n' "$(printf '%s\n' "${walls[@]}" | median)" "$rss" "$(printf '%s\n' "${cpus[@]}" | median)"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{if (b > 0) printf "%.2f", a/b; else printf "-"}'; }

printf '%-10s %-10s %-8s %-7s %-7s %-8s %-8s %-8s %-7s %-7s\n' customers invoices demo_s run_s run_cpu run_MiB floor_s floor_cpu ratio cpu_ratio
for n in "${sizes[@]}"; do
  ledger=$work/demo-$n.ledger
  rm -f "$ledger" "$ledger"-wal "$ledger"-shm
  read -r demo_s _ < <(measure "$dunlin" ledger demo "$ledger" --customers "$n" --seed 42 --today "$as_of")
  invoices=$(sqlite3 "$ledger" 'SELECT count(*) FROM invoices')
  read -r run_s run_kib run_cpu < <(timed "$dunlin" run "$root/policies/b2b_net30.dun" --ledger "$ledger" --as-of "$as_of")
  sed "s/:d/'$as_of'/g" "$here/floor.sql" >"$work/floor.sql"
  read -r floor_s _ floor_cpu < <(timed sqlite3 "$ledger" ".read $work/floor.sql")
  printf '%-10s %-10s %-8s %-7s %-7s %-8s %-8s %-8s %-7s %-7s\n' "$n" "$invoices" "$demo_s" "$run_s" "$run_cpu" \
    "$(awk -v k="$run_kib" 'BEGIN{printf "%.1f", k/1024}')" "$floor_s" "$floor_cpu" \
    "$(ratio "$run_s" "$floor_s")" "$(ratio "$run_cpu" "$floor_cpu")"
done
