#!/usr/bin/env bash
# dunlin decide: one JSON request per stdin line, one JSON line back, in
# order; bad requests answered with an error naming the field, never an
# exit; the result equals `dunlin run` on a ledger holding the same rows.
#
# Worked by hand for the policy below: invoice I1 is due 2026-02-23; on
# 2026-03-10 it is 15 days past due (February 2026 has 28 days), so the
# latest step is `15 days` (email firm + call with priority 1200.00 =
# the balance) and steps 1d and 7d, never emitted, are recorded skipped.
# On 2026-03-09 it is 14 days past due: step 7d (email neutral), 1d
# skipped. New York is on daylight time from 2026-03-08: 09:00 is -04:00.
. "$(dirname "$0")/lib.sh"

cat >"$WORK/p.dun" <<'DUN'
policy "decide-test" version 1
currency USD
timezone "America/New_York"
send_window 09:00 .. 17:00
segment vip when customer.tier == "strategic" { tone -1 }
segment standard otherwise
escalation dunning for invoice in vip, standard unless invoice.disputed {
  step 1 day: email tone friendly
  step 7 days: email tone neutral
  step 15 days: email tone firm, call priority invoice.balance
}
DUN
CUST='"customer":{"id":"C1","name":"Acme","tier":"standard","currency":"USD"}'
INV='"invoices":[{"id":"I1","number":"1001","issue_date":"2026-01-24","due_date":"2026-02-23","currency":"USD","amount":"1200.00"}]'

# decide_lines FILE: runs decide on the request lines of FILE.
decide_lines() {
  "$DUNLIN" decide "$WORK/p.dun" "${@:2}" <"$1" >"$WORK/out" 2>"$WORK/err"
  STATUS=$?
  OUT=$(cat "$WORK/out")
}
# field LINE_NO PYTHON_EXPR: evaluates EXPR on response LINE_NO (1-based) as `r`.
field() {
  python3 -c 'import json,sys; r=json.loads(open(sys.argv[1]).read().splitlines()[int(sys.argv[2])-1]); print(eval(sys.argv[3]))' "$WORK/out" "$1" "$2"
}

# --- a good request -------------------------------------------------------
echo "{\"id\":\"r-1\",\"as_of\":\"2026-03-10\",$CUST,$INV}" >"$WORK/req1"
decide_lines "$WORK/req1"
expect_status 0 "end of input: exit 0"
expect_eq "$(wc -l <"$WORK/out")" "1" "one line per request"
expect_eq "$(field 1 'r["id"]')" "r-1" "the id comes back as given"
expect_eq "$(field 1 'len(r["actions"])')" "4" "15d email + call, 1d and 7d skipped"
expect_eq "$(field 1 'sorted((a["kind"],a["step"],a["status"],a["tone"]) for a in r["actions"])')" \
  "[('call', '15d', 'scheduled', 'firm'), ('email', '15d', 'scheduled', 'firm'), ('email', '1d', 'skipped', 'friendly'), ('email', '7d', 'skipped', 'neutral')]" \
  "the actions worked out by hand"
expect_eq "$(field 1 '[a["priority"] for a in r["actions"] if a["kind"]=="call"][0]')" "1200.0" "call priority = balance"
expect_eq "$(field 1 'set(a["scheduled_at"] for a in r["actions"])')" "{'2026-03-10T09:00:00-04:00'}" "window start, EDT"
expect_eq "$(field 1 'set(tuple(a["invoices"]) for a in r["actions"])')" "{('I1',)}" "all about I1"

# --- decide equals run on a ledger with the same rows ---------------------
cat >"$WORK/c.csv" <<'CSV'
id,name,tier,currency
C1,Acme,standard,USD
C2,Other,standard,USD
CSV
cat >"$WORK/i.csv" <<'CSV'
id,customer_id,number,issue_date,due_date,currency,amount
I1,C1,1001,2026-01-24,2026-02-23,USD,1200.00
I9,C2,9,2026-01-01,2026-02-01,USD,50.00
CSV
L="$WORK/l.ledger"
"$DUNLIN" ledger init "$L" >/dev/null 2>&1
"$DUNLIN" ledger import "$L" --customers "$WORK/c.csv" --invoices "$WORK/i.csv" >/dev/null 2>&1
"$DUNLIN" run "$WORK/p.dun" --ledger "$L" --as-of 2026-03-10 >"$WORK/run.jsonl" 2>/dev/null
python3 - "$WORK/out" "$WORK/run.jsonl" >"$WORK/cmp" <<'PY'
import json, sys
decide = [json.dumps(a, separators=(",", ":")) for a in json.loads(open(sys.argv[1]).readline())["actions"]]
run = [json.dumps(json.loads(l), separators=(",", ":")) for l in open(sys.argv[2]) if '"customer":"C1"' in l]
print("same" if decide == run and len(run) == 4 else "differ:\n%s\n%s" % (decide, run))
PY
expect_eq "$(cat "$WORK/cmp")" "same" "decide equals run for C1, in the same order"
# and byte for byte: each action text of the response is a line of run
ACTIONS_TEXT=$(sed -e 's/^{"id":"r-1","actions":\[//' -e 's/\]}$//' "$WORK/out")
RUN_TEXT=$(grep '"customer":"C1"' "$WORK/run.jsonl" | paste -sd, -)
expect_eq "$ACTIONS_TEXT" "$RUN_TEXT" "the same bytes as run's lines"

# --- --templates: each contact carries its message, as `run --render` -----
decide_lines "$WORK/req1" --templates "$SRC/templates" --company "Dunlin Test" --pay-link "https://pay.example/{customer}"
expect_status 0 "decide --templates"
"$DUNLIN" run "$WORK/p.dun" --ledger "$L" --as-of 2026-03-10 --render --templates "$SRC/templates" \
  --company "Dunlin Test" --pay-link "https://pay.example/{customer}" 2>/dev/null | grep '"customer":"C1"' >"$WORK/render.jsonl"
python3 - "$WORK/out" "$WORK/render.jsonl" >"$WORK/cmp" <<'PY'
import json, sys
decide = [json.dumps(a, separators=(",", ":")) for a in json.loads(open(sys.argv[1]).readline())["actions"]]
run = [json.dumps(json.loads(l), separators=(",", ":")) for l in open(sys.argv[2])]
print("same" if decide == run and len(run) == 4 else "differ:\n%s\n%s" % (decide, run))
PY
expect_eq "$(cat "$WORK/cmp")" "same" "decide --templates equals run --render"
expect_eq "$(field 1 '[(a["kind"], a["language"], "Dunlin Test" in a["body"], "https://pay.example/C1" in a["body"]) for a in r["actions"] if a["status"] == "scheduled" and a["kind"] == "email"]')" \
  "[('email', 'en', True, True)]" "the email is written in English with the company and the pay link"
mkdir -p "$WORK/tmpl/en"
decide_lines "$WORK/req1" --templates "$WORK/tmpl"
expect_status 1 "templates missing one the policy needs: nothing is answered"
expect_eq "$(cat "$WORK/out")" "" "no answer line"
CHECKS=$((CHECKS + 1)); grep -q "E0803" "$WORK/err" || fail "the missing template is named (E0803)"
decide_lines "$WORK/req1" --company "X"
expect_status 2 "--company without --templates"

# --- feeding back yesterday's answer as recent actions --------------------
echo "{\"id\":1,\"as_of\":\"2026-03-09\",$CUST,$INV}" >"$WORK/req2"
decide_lines "$WORK/req2"
expect_eq "$(field 1 'sorted((a["step"],a["status"]) for a in r["actions"])')" \
  "[('1d', 'skipped'), ('7d', 'scheduled')]" "on 03-09: step 7d, 1d skipped"
RECENT=$(field 1 'json.dumps(r["actions"])')
echo "{\"id\":2,\"as_of\":\"2026-03-10\",$CUST,$INV,\"actions\":$RECENT}" >"$WORK/req3"
decide_lines "$WORK/req3"
expect_eq "$(field 1 'sorted((a["kind"],a["step"],a["status"]) for a in r["actions"])')" \
  "[('call', '15d', 'scheduled'), ('email', '15d', 'scheduled')]" "history: no second catch-up of 1d and 7d"

# --- bad requests: an error line each, in order, and the next still served --
{
  echo '{"id":1,"as_of":"2026-03-10",'
  echo '[1,2]'
  echo "{\"id\":3,$CUST,$INV}"
  echo "{\"id\":4,\"as_of\":\"10/03/2026\",$CUST,$INV}"
  echo "{\"id\":5,\"as_of\":\"2026-03-10\",$CUST,\"invoices\":[{\"id\":\"I1\",\"issue_date\":\"2026-01-24\",\"due_date\":\"2026-02-23\",\"currency\":\"USD\",\"amount\":1200.5}]}"
  echo "{\"id\":6,\"as_of\":\"2026-03-10\",$CUST,\"invoices\":[{\"id\":\"I1\",\"issue_date\":\"2026-01-24\",\"due_dte\":\"2026-02-23\",\"currency\":\"USD\",\"amount\":\"1.00\"}]}"
  echo "{\"id\":7,\"as_of\":\"2026-03-10\",$CUST,\"invoices\":[{\"id\":\"I1\",\"customer_id\":\"C2\",\"issue_date\":\"2026-01-24\",\"due_date\":\"2026-02-23\",\"currency\":\"USD\",\"amount\":\"1.00\"}]}"
  echo "{\"id\":8,\"as_of\":\"2026-03-10\",\"customer\":{\"name\":\"no id\"}}"
  echo "{\"id\":9,\"as_of\":\"2026-03-10\",$CUST,\"invoces\":[]}"
  echo ""
  echo "{\"id\":10,\"as_of\":\"2026-03-10\",$CUST,\"payments\":[{\"id\":\"P1\",\"invoice_id\":\"I404\",\"date\":\"2026-03-01\",\"amount\":\"5.00\"}]}"
  echo "{\"id\":11,\"as_of\":\"2026-03-10\",$CUST,\"invoices\":{\"id\":\"I1\"}}"
  echo "{\"id\":12,\"as_of\":\"2026-03-10\",$CUST,$INV}"
} >"$WORK/bad"
decide_lines "$WORK/bad"
expect_status 0 "bad requests never stop it"
expect_eq "$(wc -l <"$WORK/out")" "12" "one line per non-blank request"
expect_eq "$(field 1 'r["id"], r["error"].startswith("request: not JSON")')" "(None, True)" "bad JSON"
expect_eq "$(field 2 'r["error"]')" "request: expected a JSON object, got an array" "not an object"
expect_eq "$(field 3 'r["id"], r["error"]')" "(3, 'as_of: missing: the date to decide for, as \"YYYY-MM-DD\"')" "missing as_of"
expect_eq "$(field 4 'r["error"]')" 'as_of: "10/03/2026" is not a date (YYYY-MM-DD)' "bad as_of"
expect_eq "$(field 5 'r["error"]')" "invoices[0].amount: expected a decimal string, got a number" "amount as a JSON number"
expect_eq "$(field 5 'r["diagnostics"][0]["code"], r["diagnostics"][0]["hint"] is not None')" "('E0508', True)" "with a code and a hint"
expect_eq "$(field 6 'r["error"]')" 'invoices[0].due_dte: unknown field "due_dte"; did you mean "due_date"?' "unknown field, did you mean"
expect_eq "$(field 7 'r["error"]')" 'invoices[0].customer_id: "C2" is another customer: this request is about "C1"' "an invoice of another customer"
expect_eq "$(field 8 'r["error"]')" "customer.id: missing: the customer's id is required" "customer without id"
expect_eq "$(field 9 'r["error"]')" 'invoces: unknown field "invoces"; did you mean "invoices"?' "unknown top-level field"
expect_eq "$(field 10 'r["error"]')" 'payments[0]: unknown invoice "I404"' "ledger rules: a payment of an unknown invoice"
expect_eq "$(field 11 'r["error"]')" "invoices: expected an array of objects, got an object" "wrong type of a list"
expect_eq "$(field 12 'r["id"], len(r["actions"]), "error" in r')" "(12, 4, False)" "a good request after the bad ones"

# --- nothing stays behind: each request's rows are rolled back -------------
{
  echo "{\"id\":1,\"as_of\":\"2026-03-10\",$CUST,$INV}"
  echo "{\"id\":2,\"as_of\":\"2026-03-10\",$CUST}"
  echo "{\"id\":3,\"as_of\":\"2026-03-10\",$CUST,$INV,\"payments\":[{\"id\":\"P1\",\"invoice_id\":\"I1\",\"date\":\"2026-03-01\",\"amount\":\"-5\"}]}"
  echo "{\"id\":4,\"as_of\":\"2026-03-10\",$CUST}"
  echo "{\"id\":5,\"as_of\":\"2026-03-10\",$CUST,$INV}"
} >"$WORK/seq"
decide_lines "$WORK/seq"
expect_eq "$(field 1 'len(r["actions"])')" "4" "first request decided"
expect_eq "$(field 2 'r')" "{'id': 2, 'actions': []}" "the next request does not see its invoice"
expect_eq "$(field 3 '"error" in r')" "True" "a request failing halfway (negative payment)"
expect_eq "$(field 4 'r')" "{'id': 4, 'actions': []}" "leaves no invoice behind either"
expect_eq "$(field 5 'len(r["actions"])')" "4" "and the same invoice can come again"

# --- a line over the 8 MiB limit -------------------------------------------
python3 -c 'import sys; sys.stdout.write("{\"id\":1,\"pad\":\"" + "x" * (9 << 20) + "\"}\n")' >"$WORK/long"
echo "{\"id\":2,\"as_of\":\"2026-03-10\",$CUST,$INV}" >>"$WORK/long"
decide_lines "$WORK/long"
expect_status 0 "a long line is not fatal"
expect_eq "$(field 1 'r["error"]')" "request: line longer than 8388608 bytes (8 MiB); it was skipped" "long line error"
expect_eq "$(field 2 'r["id"], len(r["actions"])')" "(2, 4)" "the next request is served"

# --- a co-process: each answer arrives before the next request is sent -----
python3 - "$DUNLIN" "$WORK/p.dun" >"$WORK/coproc" 2>&1 <<PY
import json, subprocess, sys, select
p = subprocess.Popen([sys.argv[1], "decide", sys.argv[2]], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
ok = 0
for i, as_of in enumerate(["2026-03-09", "2026-03-10", "bad", "2026-02-25"]):
    p.stdin.write(json.dumps({"id": i, "as_of": as_of, "customer": {"id": "C1"},
        "invoices": [{"id": "I1", "issue_date": "2026-01-24", "due_date": "2026-02-23", "currency": "USD", "amount": "1200.00"}]}) + "\n")
    p.stdin.flush()
    r, _, _ = select.select([p.stdout], [], [], 20)
    if not r:
        print("no answer within 20 s to request", i); break
    ans = json.loads(p.stdout.readline())
    steps = sorted(a["step"] for a in ans.get("actions", []) if a["status"] == "scheduled")
    print(i, ans["id"], steps if "actions" in ans else "error")
p.stdin.close()
print("exit", p.wait(timeout=20))
PY
expect_eq "$(cat "$WORK/coproc")" "0 0 ['7d']
1 1 ['15d', '15d']
2 2 error
3 3 ['1d']
exit 0" "co-process: answered line by line, flushed"

# --- the policy must load before anything is read -------------------------
printf 'policy "broken" version 1\ncurrency USD\nsegment x when customer.total_open > 5\n' >"$WORK/bad.dun"
echo "{\"id\":1,\"as_of\":\"2026-03-10\",$CUST}" | "$DUNLIN" decide "$WORK/bad.dun" >"$WORK/out" 2>"$WORK/err"
STATUS=$?
expect_status 1 "a policy that does not load: exit 1"
expect_eq "$(cat "$WORK/out")" "" "nothing answered"
expect_err "error[E0203]" "the policy's diagnostics on stderr"
run_dunlin decide
expect_status 2 "POLICY is required"
run_dunlin decide --help
expect_status 0 "help"
expect_out "one JSON request per line" "help text"
run_dunlin decide "$WORK/nonexistent.dun"
expect_status 1 "a missing policy file"
finish
