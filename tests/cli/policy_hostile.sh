#!/usr/bin/env bash
# Hostile policy sources: binary garbage, an empty file, a huge single
# line, 10,000 nested parentheses, long operator chains, many lets,
# invalid UTF-8 and NUL bytes. `dunlin check` exits 0 or 1 (1 with an
# error diagnostic naming the file), within 20 s, without a sanitizer
# report; `run` and `compile` agree with `check`. Text that is not valid
# UTF-8 still yields complete JSON records (each bad byte as U+FFFD).
. "$(dirname "$0")/lib.sh"
L="$WORK/small.ledger"
"$DUNLIN" ledger demo "$L" --customers 4 --seed 3 --today 2026-11-25 >/dev/null
TAIL='segment all otherwise
escalation e for invoice in all { step 1 day: email tone friendly }'

# hostile FILE LABEL [EXPECTED_STATUS]: check, compile and run on FILE.
hostile() {
  local f=$1 label=$2 want=${3:-}
  timeout 20 "$DUNLIN" check "$f" >"$WORK/out" 2>"$WORK/err"
  STATUS=$?
  CHECKS=$((CHECKS + 1))
  if [ "$STATUS" -ne 0 ] && [ "$STATUS" -ne 1 ]; then fail "check $label: exit 0 or 1 (124 = hang)"; return; fi
  [ -z "$want" ] || expect_status "$want" "check $label"
  CHECKS=$((CHECKS + 1)); ! grep -qE 'Sanitizer|runtime error:' "$WORK/err" || fail "check $label: sanitizer"
  if [ "$STATUS" -eq 1 ]; then
    expect_err "$(basename "$f"):" "check $label: diagnostic names the file"
    expect_err "error" "check $label: says error"
  fi
  local checked=$STATUS
  timeout 20 "$DUNLIN" run "$f" --ledger "$L" --as-of 2026-11-25 >"$WORK/out" 2>"$WORK/err"
  STATUS=$?
  CHECKS=$((CHECKS + 1)); [ "$STATUS" -le 1 ] || fail "run $label: exit 0 or 1"
  CHECKS=$((CHECKS + 1)); ! grep -qE 'Sanitizer|runtime error:' "$WORK/err" || fail "run $label: sanitizer"
  CHECKS=$((CHECKS + 1)); [ "$checked" -eq 0 ] || [ "$STATUS" -eq 1 ] || fail "run $label: check failed, so must run"
  timeout 20 "$DUNLIN" compile "$f" -o "$WORK/h.dbc" >"$WORK/out" 2>"$WORK/err"
  STATUS=$?
  expect_status "$checked" "compile $label agrees with check"
}

head -c 4096 /dev/urandom >"$WORK/garbage.dun"
hostile "$WORK/garbage.dun" "binary garbage" 1
: >"$WORK/empty.dun"
hostile "$WORK/empty.dun" "empty file" 1
expect_err "policy" "empty file: says the header is missing"

{ printf 'policy "p" version 1\ncurrency USD\nlet x = '; head -c 1000000 /dev/zero | tr '\0' '1'; echo; echo "$TAIL"; } >"$WORK/bignum.dun"
hostile "$WORK/bignum.dun" "a 1 MB number" 1
{ printf 'policy "p" version 1\ncurrency USD\n'; head -c 1000000 /dev/zero | tr '\0' ' '; echo "let x = 1"; echo "$TAIL"; } >"$WORK/spaces.dun"
hostile "$WORK/spaces.dun" "a 1 MB line of blanks"
{ printf 'policy "p" version 1\ncurrency USD\nlet s = "'; head -c 1000000 /dev/zero | tr '\0' 'a'; echo '" == customer.tier'; echo "$TAIL"; } >"$WORK/bigstr.dun"
hostile "$WORK/bigstr.dun" "a 1 MB string"

nest() { local i; for i in $(seq "$1"); do printf '('; done; printf '%s' "$2"; for i in $(seq "$1"); do printf ')'; done; }
{ printf 'policy "p" version 1\ncurrency USD\nlet x = '; nest 10000 1; echo; echo "$TAIL"; } >"$WORK/nest.dun"
hostile "$WORK/nest.dun" "10,000 nested parentheses"
{ printf 'policy "p" version 1\ncurrency USD\nsegment a when '; nest 10000 'customer.total_open > 0 USD'; echo; echo "$TAIL"; } >"$WORK/nestseg.dun"
hostile "$WORK/nestseg.dun" "10,000 parentheses around a condition"
{ printf 'policy "p" version 1\ncurrency USD\nlet x = 1'; for i in $(seq 20000); do printf ' + 1'; done; echo; echo "$TAIL"; } >"$WORK/chain.dun"
hostile "$WORK/chain.dun" "a chain of 20,000 additions"
{ printf 'policy "p" version 1\ncurrency USD\nsegment a when '; for i in $(seq 10000); do printf 'not '; done; echo 'true'; echo "$TAIL"; } >"$WORK/nots.dun"
hostile "$WORK/nots.dun" "10,000 nots"
{ printf 'policy "p" version 1\ncurrency USD\n'; for i in $(seq 1500); do echo "let v$i = customer.total_open > $i USD"; done; echo "$TAIL"; } >"$WORK/lets.dun"
hostile "$WORK/lets.dun" "1,500 lets"
{ printf 'policy "p" version 1\ncurrency USD\nlet v1 = 1\n'; for i in $(seq 2 300); do echo "let v$i = v$((i - 1)) + 1"; done; echo "$TAIL"; } >"$WORK/letchain.dun"
hostile "$WORK/letchain.dun" "300 lets each using the one before"
{ printf 'policy "p" version 1\ncurrency USD\n'; for i in $(seq 1000); do echo "segment s$i when customer.total_open > $i USD"; done; echo "$TAIL"; } >"$WORK/segs.dun"
hostile "$WORK/segs.dun" "1,000 segments"

printf 'policy "p" version 1\ncurrency\0 USD\n%s\n' "$TAIL" >"$WORK/nul.dun"
hostile "$WORK/nul.dun" "a NUL byte" 1
printf 'policy "p" version 1\0\0\0\ncurrency USD\n%s\n' "$TAIL" >"$WORK/nul2.dun"
hostile "$WORK/nul2.dun" "NUL bytes at the end of a line" 1
printf 'policy "p" version 1\ncurrency USD\nlet \xff\xfe = 1\n%s\n' "$TAIL" >"$WORK/utf8name.dun"
hostile "$WORK/utf8name.dun" "invalid UTF-8 in a name" 1
printf '\xef\xbb\xbfpolicy "p" version 1\ncurrency USD\n%s\n' "$TAIL" >"$WORK/bom.dun"
hostile "$WORK/bom.dun" "a UTF-8 byte order mark"
printf 'policy "p" version 1\r\ncurrency USD\r\n%s\r\n' "$TAIL" >"$WORK/crlf.dun"
hostile "$WORK/crlf.dun" "CRLF line ends" 0
printf 'policy "p" version 1\ncurrency USD\nlet s = "unterminated\n%s\n' "$TAIL" >"$WORK/unterm.dun"
hostile "$WORK/unterm.dun" "an unterminated string" 1
printf 'policy "p" version 1\ncurrency USD\n/* never closed\n%s\n' "$TAIL" >"$WORK/comment.dun"
hostile "$WORK/comment.dun" "an unterminated comment" 1
# a ledger passed where the policy goes: one clear error, at once
"$DUNLIN" ledger init "$WORK/x.ledger" >/dev/null
hostile "$WORK/x.ledger" "a ledger as the policy" 1
expect_err "SQLite" "a ledger as the policy: says what the file is"
expect_eq "$(grep -c 'error\[' "$WORK/err")" 1 "a ledger as the policy: one error, not one per byte"
hostile "$WORK" "a directory" 1
hostile "$WORK/none.dun" "a missing file" 1

# Invalid UTF-8 inside string literals (template, task text, assignee,
# policy name): whatever check decides, every record that run prints must
# keep all its keys -- jansson drops a string that is not UTF-8.
printf 'policy "p\xff" version 1\ncurrency USD\nsegment all otherwise\nescalation e for invoice in all {\n  step 1 day: email tone friendly template "t\xfe\xff"\n  step 5 days: task "x\xc3" assign "a\xff"\n}\n' >"$WORK/utf8str.dun"
hostile "$WORK/utf8str.dun" "invalid UTF-8 in strings"
run_dunlin run "$WORK/utf8str.dun" --ledger "$L" --as-of 2026-11-25
if [ "$STATUS" -eq 0 ]; then
  n=$(grep -c . "$WORK/out")
  CHECKS=$((CHECKS + 1)); [ "$n" -gt 0 ] || fail "utf8 strings: some actions"
  for key in '"key":' '"customer":' '"invoices":' '"template":' '"assignee":' '"reason":'; do
    expect_eq "$(grep -c -- "$key" "$WORK/out")" "$n" "utf8 strings: every record has $key"
  done
  fffd=$(printf '\xef\xbf\xbd')
  expect_out "\"template\":\"t$fffd$fffd\"" "bad bytes become U+FFFD"
  expect_out "\"text\":\"x$fffd\"" "a cut-off sequence becomes U+FFFD"
fi
finish
