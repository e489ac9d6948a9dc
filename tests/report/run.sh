#!/usr/bin/env bash
# tests/report/run.sh - the HTML reports really show their charts.
#
# Writes `kpi --report` (on a small hand-made ledger and on a demo
# ledger) and `simulate --report` (when simulate is available), renders
# each page in headless Chromium, and decodes the screenshot
# (pngcheck.py) to count pixels of the fixed series colours of
# cli/html.c: each chart must show up as a region of its colour. A
# deliberately broken page (broken.html) must make the checker fail, so
# the check is known to be able to fail.
#
# Chromium and python3 are required: without them the test FAILS (CI
# installs both through scripts/deps.sh); it never skips silently.
. "$(dirname "$0")/../cli/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
BLUE='#1f77b4'   # series 0 in cli/html.c
ORANGE='#ff7f0e' # series 1

CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
need() {
  CHECKS=$((CHECKS + 1))
  if [ -z "$2" ]; then
    echo "FAIL: $1 is not installed (scripts/deps.sh installs it); the report test cannot run"
    FAILS=$((FAILS + 1))
  fi
}
need chromium "$CHROMIUM"
need python3 "$(command -v python3 || true)"
if [ "$FAILS" -ne 0 ]; then finish; exit 1; fi

# shot PAGE.html OUT.png: a full-page screenshot; its own profile dir so
# parallel runs never share Chromium state.
shot() {
  rm -f "$2"
  timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --user-data-dir="$WORK/profile" --screenshot="$2" --window-size=1200,2000 \
    "file://$1" >"$WORK/chromium.log" 2>&1
  CHECKS=$((CHECKS + 1))
  [ -s "$2" ] || { echo "FAIL: chromium wrote no screenshot of $1"; tail -5 "$WORK/chromium.log"; FAILS=$((FAILS + 1)); }
}

# charts NAME PNG SPEC...: pngcheck must find the charts.
charts() {
  local name=$1 png=$2
  shift 2
  CHECKS=$((CHECKS + 1))
  if ! python3 "$HERE/pngcheck.py" "$png" "$@" >"$WORK/check.log" 2>&1; then
    echo "FAIL: $name: charts missing from the screenshot"
    cat "$WORK/check.log"
    FAILS=$((FAILS + 1))
  fi
}

# The page carries no script and no URL of any kind.
self_contained() {
  CHECKS=$((CHECKS + 1))
  if grep -qiE 'https?:|<script|src=|href=|@import|url\(' "$1"; then
    echo "FAIL: $1 has a script or an external reference"
    FAILS=$((FAILS + 1))
  fi
}

# --- the checker can fail: a page whose SVG does not render ---------------
shot "$HERE/broken.html" "$WORK/broken.png"
CHECKS=$((CHECKS + 1))
if python3 "$HERE/pngcheck.py" "$WORK/broken.png" "$BLUE:3" "$ORANGE:1" >"$WORK/check.log" 2>&1; then
  echo "FAIL: pngcheck accepted the broken page"
  cat "$WORK/check.log"
  FAILS=$((FAILS + 1))
fi
# ... and a blank page, and a file that is not a PNG.
printf 'not a png' >"$WORK/garbage.png"
CHECKS=$((CHECKS + 1))
python3 "$HERE/pngcheck.py" "$WORK/garbage.png" "$BLUE:1" >/dev/null 2>&1 &&
  { echo "FAIL: pngcheck accepted garbage"; FAILS=$((FAILS + 1)); }

# --- cli/html.c itself: hostile text, three stacked series, gaps ----------
CHECKS=$((CHECKS + 1))
if ${CC:-cc} -std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -I"$SRC" \
    "$HERE/html_driver.c" "$SRC/cli/html.c" -lm -o "$WORK/html_driver" 2>"$WORK/cc.log"; then
  "$WORK/html_driver" "$WORK/driver.html"
  expect_eq "$?" "0" "html driver writes its page"
  self_contained_tags() {
    CHECKS=$((CHECKS + 1))
    if grep -qE '<(script|img|a |b>|td>inject)' "$1" || LC_ALL=C grep -q $'[\x01\x1b]' "$1"; then
      echo "FAIL: $1: text reached the page unescaped"
      FAILS=$((FAILS + 1))
    fi
  }
  self_contained_tags "$WORK/driver.html"
  expect_eq "$(grep -c '&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;title&quot;' "$WORK/driver.html")" "2" \
    "title escaped in <title> and <h1>"
  shot "$WORK/driver.html" "$WORK/driver.png"
  # Blue and orange: the bars and the lines; green: the third bar series.
  charts "html driver" "$WORK/driver.png" "$BLUE:2" "$ORANGE:2" '#2ca02c:1'
else
  echo "FAIL: cannot compile tests/report/html_driver.c with ${CC:-cc}"
  cat "$WORK/cc.log"
  FAILS=$((FAILS + 1))
fi

# --- kpi on the ledger of tests/unit/test_kpi.c (4 months) -----------------
L=$WORK/kpi.ledger
mk() { local name=$1; shift; printf '%s\n' "$@" >"$WORK/$name.csv"; }
mk customers "id,name,currency" "C1,Acme,USD" "C2,Bernard,EUR"
mk invoices "id,customer_id,number,issue_date,due_date,currency,amount" \
  "I1,C1,1,2026-01-05,2026-02-04,USD,1000.00" "I2,C1,2,2026-02-15,2026-03-17,USD,2000.00" \
  "I3,C1,3,2026-03-20,2026-04-19,USD,300.00" "I4,C2,4,2026-01-20,2026-02-19,EUR,500.00" \
  "I5,C1,5,2025-12-01,2025-12-20,USD,250.00" "I6,C1,6,2026-02-20,2026-03-22,USD,150.00"
mk payments "id,customer_id,invoice_id,date,amount,currency,status" \
  "P1,C1,I1,2026-02-10,400.00,USD,settled" "P3,C1,I2,2026-03-17,2000.00,USD,settled"
mk fx_rates "date,base,quote,rate" "2026-01-01,EUR,USD,1.2000"
run_dunlin ledger init "$L"
run_dunlin ledger import "$L" --customers "$WORK/customers.csv" --invoices "$WORK/invoices.csv" \
  --payments "$WORK/payments.csv" --fx-rates "$WORK/fx_rates.csv"
expect_status 0 "import the small ledger"
run_dunlin kpi --ledger "$L" --as-of 2026-03-31 --report "$WORK/kpi.html"
expect_status 0 "kpi --report"
self_contained "$WORK/kpi.html"
shot "$WORK/kpi.html" "$WORK/kpi.png"
# Blue: aging bars, the DSO line, CEI bars; orange: the best possible DSO line.
charts "kpi report" "$WORK/kpi.png" "$BLUE:3" "$ORANGE:1"

# --- kpi and simulate on a demo ledger (several currencies) ----------------
D=$WORK/demo.ledger
run_dunlin ledger demo "$D" --customers 30 --seed 7
expect_status 0 "ledger demo"
UPTO=$(printf '%s' "$OUT" | sed -n 's/.*dated up to \([0-9-]*\).*/\1/p')
expect_eq "$(printf '%s' "$UPTO" | grep -cE '^[0-9]{4}-[0-9]{2}-[0-9]{2}$')" "1" "demo end date"
if [ -n "$UPTO" ]; then
  run_dunlin kpi --ledger "$D" --as-of "$UPTO" --report "$WORK/demo_kpi.html"
  expect_status 0 "kpi --report on the demo ledger"
  self_contained "$WORK/demo_kpi.html"
  shot "$WORK/demo_kpi.html" "$WORK/demo_kpi.png"
  charts "kpi report (demo)" "$WORK/demo_kpi.png" "$BLUE:3" "$ORANGE:1"

  if "$DUNLIN" simulate --help >/dev/null 2>&1; then
    FROM=$(date -u -d "$UPTO - 20 days" +%F)
    run_dunlin simulate "$SRC/policies/b2b_net30.dun" --ledger "$D" --from "$FROM" --to "$UPTO" \
      --report "$WORK/sim.html"
    expect_status 0 "simulate --report"
    self_contained "$WORK/sim.html"
    shot "$WORK/sim.html" "$WORK/sim.png"
    # At least the weekly actions chart, whose first series is blue.
    charts "simulate report" "$WORK/sim.png" "$BLUE:1"
  else
    echo "note: dunlin simulate is not available in this build: simulate --report not checked"
  fi
fi

finish
