#!/usr/bin/env bash
# seeds.sh - builds the raw seed corpora from what the repository holds,
# into OUT (default /tmp/dunlin-seeds): policies and tests/check/*.dun and
# the golden cases' policies for fuzz_parse_check, their compiled .dbc for
# fuzz_bytecode, the golden cases' CSVs (one input per case, "%%TABLE"
# sections) for fuzz_csv_import, requests for fuzz_decide. Minimise them
# with `-merge=1` into fuzz/corpus/<target>/ (fuzz/README.md); the raw
# seeds are not kept.
#   fuzz/seeds.sh DUNLIN_BINARY [OUT]
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
DUNLIN=${1:?usage: seeds.sh DUNLIN_BINARY [OUT]}
OUT=${2:-${TMPDIR:-/tmp}/dunlin-seeds}
mkdir -p "$OUT"/{fuzz_parse_check,fuzz_bytecode,fuzz_csv_import,fuzz_decide}
n=0
for f in "$SRC"/policies/*.dun "$SRC"/tests/check/*.dun "$SRC"/tests/golden/cases/*.dun \
         "$SRC"/tests/golden/cases/*/policy.dun "$SRC"/examples/*/*.dun "$SRC"/tests/*/*.dun "$SRC"/tests/*/*/*.dun; do
  [ -f "$f" ] || continue
  n=$((n + 1))
  cp "$f" "$OUT/fuzz_parse_check/p$n.dun"
  "$DUNLIN" compile "$f" -o "$OUT/fuzz_bytecode/p$n.dbc" >/dev/null 2>&1 || rm -f "$OUT/fuzz_bytecode/p$n.dbc"
done
for c in "$SRC"/tests/golden/cases/*/; do
  out="$OUT/fuzz_csv_import/$(basename "$c").csv"
  : >"$out"
  for t in customers invoices payments credits disputes promises fx_rates holidays; do
    [ -f "$c/$t.csv" ] || continue
    printf '%%%%%s\n' "$t" >>"$out"
    cat "$c/$t.csv" >>"$out"
  done
done
for f in "$SRC"/tests/*/*.csv "$SRC"/tests/*/*/*.csv; do
  [ -f "$f" ] || continue
  n=$((n + 1))
  cp "$f" "$OUT/fuzz_csv_import/f$n.csv"
done
# decide: the hand-written requests kept in the corpus, and every ```json
# block of docs/decide.md (requests and responses alike).
cp "$SRC"/fuzz/corpus/fuzz_decide/seed-*.json "$OUT/fuzz_decide/" 2>/dev/null || true
[ -f "$SRC/docs/decide.md" ] && awk -v out="$OUT/fuzz_decide/doc" '
  /^```json/ { n++; f = out n ".json"; inblock = 1; next }
  /^```/ { inblock = 0; next }
  inblock { print > f }' "$SRC/docs/decide.md"
for d in "$OUT"/*/; do echo "$(basename "$d"): $(ls "$d" | wc -l) files"; done
