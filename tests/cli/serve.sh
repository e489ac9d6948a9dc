#!/usr/bin/env bash
# dunlin serve: every endpoint over HTTP on a free loopback port, with a
# temporary ledger. Expected JSON is worked out by hand from the policy
# below (the action key, a hash, is left out of the comparison).
. "$(dirname "$0")/lib.sh"
command -v curl >/dev/null && command -v jq >/dev/null || { echo "curl and jq are needed"; exit 1; }

SP=""
stop_server() { [ -n "$SP" ] && kill "$SP" 2>/dev/null && wait "$SP" 2>/dev/null; SP=""; }
trap 'stop_server; rm -rf "$WORK"' EXIT
trap 'exit 1' INT TERM HUP

# One step, one day after due: an email whose priority is the balance.
cat >"$WORK/good.dun" <<'DUN'
policy "svc" version 1
currency USD
timezone "America/New_York"
send_window 09:00 .. 17:00

segment everyone otherwise

escalation remind for invoice in everyone {
  step 1 day: email tone friendly priority invoice.balance
}
DUN
P="$WORK/live.dun"
cp "$WORK/good.dun" "$P"
L="$WORK/ledger.db"
printf 'id,name,tier,country,timezone,language,currency\nC1,One Co,standard,US,America/New_York,en,USD\nC2,Two Co,standard,US,America/New_York,en,USD\n' >"$WORK/customers.csv"
printf 'id,customer_id,number,issue_date,due_date,currency,amount\nI1,C1,N1,2026-05-21,2026-06-20,USD,1000.00\n' >"$WORK/invoices.csv"
"$DUNLIN" ledger init "$L" >/dev/null
"$DUNLIN" ledger import "$L" --customers "$WORK/customers.csv" --invoices "$WORK/invoices.csv" >/dev/null
TOKEN="t0ken-$$-$RANDOM"
printf '%s\n' "$TOKEN" >"$WORK/token"

# --- refusals at startup (under timeout: a server that wrongly starts
# must not hang the test) ----------------------------------------------
refused() { timeout 30 "$DUNLIN" serve "$@" >"$WORK/out" 2>"$WORK/err"; STATUS=$?; }
refused "$P" --ledger "$L" --listen 0.0.0.0:0
expect_status 2 "a non-loopback address without a token file is refused"
expect_err "without --token-file" "and says why"
refused "$P" --ledger "$L" --listen nonsense
expect_status 2 "a bad --listen"
refused "$P" --ledger "$WORK/missing.db"
expect_status 1 "a missing ledger"
refused "$P" --ledger "$L" --max-body 0
expect_status 2 "--max-body 0"

# --- start on a free port (port 0: the system picks, the server says) --
# start_server ARGS...: starts `dunlin serve ARGS` in the background;
# false when it did not say its port. Leaves $SP, $PORT and $URL.
start_server() {
  : >"$WORK/serve.err"
  "$DUNLIN" serve "$@" 2>"$WORK/serve.err" &
  SP=$!
  PORT=""
  for _ in $(seq 1 100); do
    PORT=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$WORK/serve.err")
    [ -n "$PORT" ] && break
    kill -0 "$SP" 2>/dev/null || break
    sleep 0.1
  done
  URL="http://127.0.0.1:$PORT"
  [ -n "$PORT" ]
}
if ! start_server "$P" --ledger "$L" --listen 127.0.0.1:0 --token-file "$WORK/token" --max-body 2048 --threads 2; then
  echo "FAIL: the server did not start"; cat "$WORK/serve.err"; exit 1
fi

# req METHOD PATH [curl args...]: leaves $CODE and $BODY.
req() {
  local m=$1 p=$2
  shift 2
  CODE=$(curl -s -o "$WORK/body" -w '%{http_code}' -X "$m" -H "Authorization: Bearer $TOKEN" "$@" "$URL$p")
  BODY=$(cat "$WORK/body")
}
nokey() { printf '%s' "$BODY" | jq -c 'del(.actions[]?.key)'; }
metric() { req GET /metrics; printf '%s\n' "$BODY" | grep -F -- "$1 " | grep -v '^#' | awk '{print $NF}'; }

# --- health, auth ---------------------------------------------------------
H=$(curl -s -o "$WORK/h" -w '%{http_code}' "$URL/healthz")
expect_eq "$H $(jq -c '[.status,.policy,.version,(.hash|test("^[0-9a-f]{16}$"))]' "$WORK/h")" '200 ["ok","svc",1,true]' "healthz needs no token"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "$URL/metrics")" 401 "no token: 401"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer wrong' "$URL/metrics")" 401 "wrong token: 401"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer ${TOKEN}x" "$URL/metrics")" 401 "token plus a byte: 401"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Basic $TOKEN" "$URL/metrics")" 401 "another scheme: 401"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -X POST -d '{}' "$URL/v1/decide")" 401 "decide needs the token"
req GET /metrics
expect_eq "$CODE" 200 "right token: 200"
expect_eq "$(printf '%s\n' "$BODY" | grep -c '^dunlin_policy_version 1$')" 1 "metrics: policy version"

# --- routing ------------------------------------------------------------
req GET /nope
expect_eq "$CODE" 404 "unknown route"
req GET /v1/decide
expect_eq "$CODE" 405 "wrong method"
expect_eq "$(curl -s -o /dev/null -D - -H "Authorization: Bearer $TOKEN" "$URL/v1/events" | tr -d '\r' | grep -i '^allow:')" "Allow: POST" "405 names the method"

# --- decide (by hand: X1 due 2026-06-29 is 1 day past due on 2026-06-30;
# the 1-day step sends the friendly email at 09:00 New York, EDT) -------
DECIDE='{"id":"r1","as_of":"2026-06-30","customer":{"id":"C9","currency":"USD","timezone":"America/New_York"},"invoices":[{"id":"X1","issue_date":"2026-05-01","due_date":"2026-06-29","currency":"USD","amount":"50.00"}]}'
d0=$(metric 'dunlin_http_requests_total{endpoint="decide",code="200"}')
req POST /v1/decide -d "$DECIDE"
expect_eq "$CODE" 200 "decide"
expect_eq "$(nokey)" '{"id":"r1","actions":[{"customer":"C9","invoices":["X1"],"kind":"email","tone":"friendly","template":"email-friendly","scheduled_at":"2026-06-30T09:00:00-04:00","rule":"remind","step":"1d","priority":50,"assignee":null,"status":"scheduled","reason":"segment everyone; remind step 1 day; invoice X1 1 day past due"}]}' "decide JSON"
expect_eq "$(printf '%s' "$BODY" | jq -r '.actions[0].key' | grep -cE '^[0-9a-f]{32}$')" 1 "decide: a 128-bit hex key"
req POST /v1/decide -d '{"id":"r2",'
expect_eq "$CODE" 400 "decide: malformed JSON"
expect_eq "$(printf '%s' "$BODY" | jq -r 'has("error")')" true "with an error message"
req POST /v1/decide -d '{"id":"r3","as_of":"2026-06-31","customer":{"id":"C9"}}'
expect_eq "$CODE" 400 "decide: a bad date"
expect_eq "$(metric 'dunlin_http_requests_total{endpoint="decide",code="200"}')" "$(( ${d0:-0} + 1 ))" "metrics: decide 200 counted"
expect_eq "$(metric 'dunlin_http_requests_total{endpoint="decide",code="400"}')" 2 "metrics: decide 400 counted"
expect_eq "$(metric 'dunlin_decision_duration_seconds_count')" 3 "metrics: three decisions timed"

# --- runs (by hand: I1, 1000.00 due 2026-06-20, is 10 days past due) -----
RUN1='{"as_of":"2026-06-30","policy":"svc","version":1,"hash":"HASH","committed":false,"data_errors":[],"actions":[{"customer":"C1","invoices":["I1"],"kind":"email","tone":"friendly","template":"email-friendly","scheduled_at":"2026-06-30T09:00:00-04:00","rule":"remind","step":"1d","priority":PRIO,"assignee":null,"status":"scheduled","reason":"segment everyone; remind step 1 day; invoice I1 10 days past due"}]}'
HASH=$(curl -s "$URL/healthz" | jq -r .hash)
expected_run() { printf '%s' "$RUN1" | sed "s/HASH/$HASH/; s/PRIO/$1/" | jq -c .; }
req POST /v1/runs -d '{"as_of":"2026-06-30"}'
expect_eq "$CODE" 200 "run"
expect_eq "$(nokey)" "$(expected_run 1000)" "run JSON"
req POST /v1/runs -d '{"as_of":"2026-06-30","commit":true}'
expect_eq "$CODE" 200 "run --commit"
expect_eq "$(printf '%s' "$BODY" | jq -c '[.committed,.already_committed,.inserted,(.run_id|type)]')" '[true,false,1,"number"]' "commit: a run id, one action added"
RUN_ID=$(printf '%s' "$BODY" | jq .run_id)
req POST /v1/runs -d '{"as_of":"2026-06-30","commit":true}'
expect_eq "$(printf '%s' "$BODY" | jq -c '[.already_committed,.inserted,.run_id]')" "[true,0,$RUN_ID]" "committing twice adds nothing"
expect_eq "$(sqlite3 "$L" 'SELECT count(*) FROM actions')" 1 "one outbox row"
req POST /v1/runs -d '{"as_of":"2026-02-30"}'
expect_eq "$CODE" 400 "run: a bad date"
req POST /v1/runs -d '{"as_of":"2026-06-30","commit":"yes"}'
expect_eq "$CODE" 400 "run: commit must be a boolean"
req POST /v1/runs -d '[1,2'
expect_eq "$CODE" 400 "run: malformed JSON"
expect_eq "$(printf '%s' "$BODY" | jq -r .error | grep -c 'malformed JSON at line 1')" 1 "which says where"

# --- actions ------------------------------------------------------------
req GET "/v1/actions?as_of=2026-06-30"
expect_eq "$CODE" 200 "actions"
expect_eq "$(printf '%s' "$BODY" | jq -c '[.actions[] | [.run_id,.customer_id,.invoice_ids,.kind,.priority,.status]]')" "[[$RUN_ID,\"C1\",[\"I1\"],\"email\",1000,\"scheduled\"]]" "the committed row"
req GET "/v1/actions?as_of=2026-06-30&customer=C2"
expect_eq "$(printf '%s' "$BODY" | jq -c .actions)" "[]" "another customer has none"
req GET "/v1/actions?as_of=2026-07-01"
expect_eq "$(printf '%s' "$BODY" | jq -c .actions)" "[]" "another date has none"
req GET "/v1/actions"
expect_eq "$CODE" 400 "actions needs as_of"

# --- levels: I1 due 06-20 is 10 days past due on 06-30, at the 1-day step;
# on its due date no step is due yet; C2 has no invoice -------------------
req GET "/v1/levels?as_of=2026-06-30"
expect_eq "$CODE" 200 "levels"
expect_eq "$(printf '%s' "$BODY" | jq -c '[.as_of, .policy, .version, .data_errors, .levels]')" '["2026-06-30","svc",1,[],[{"customer":"C1","invoice":"I1","segment":"everyone","escalation":"remind","status":"due","step":"1d","tone":"friendly","days_past_due":10,"balance":"1000.00","currency":"USD","rules":[],"as_of":"2026-06-30"}]]' "the level of I1"
req GET "/v1/levels?as_of=2026-06-20&customer=C1"
expect_eq "$(printf '%s' "$BODY" | jq -c '[.customer, (.levels[] | [.status, .step, .days_past_due])]')" '["C1",["none",null,0]]' "on the due date no step is due"
req GET "/v1/levels?as_of=2026-06-30&customer=C2"
expect_eq "$(printf '%s' "$BODY" | jq -c .levels)" "[]" "a customer without open invoices has no level"
req GET "/v1/levels?as_of=30-06-2026"
expect_eq "$CODE" 400 "levels needs a date"
expect_eq "$(printf '%s' "$BODY" | jq -r .error)" 'as_of: "30-06-2026" is not a date (YYYY-MM-DD)' "and says the date is wrong"
req GET "/v1/levels?as_of=2026-06-30&customer=NOPE"
expect_eq "$CODE $(printf '%s' "$BODY" | jq -r .error)" '404 no customer "NOPE" in the ledger' "an unknown customer is a 404, not an empty list"
req GET "/v1/levels?as_of=2026-06-30&customer_id=C1"
expect_eq "$CODE $(printf '%s' "$BODY" | jq -r .error)" '400 unknown query parameter "customer_id" (expected as_of or customer)' "a misspelt parameter does not widen the answer"
req GET "/v1/levels?as_of=2026-06-30&as_of=2026-06-01"
expect_eq "$CODE $(printf '%s' "$BODY" | jq -r .error)" '400 query parameter "as_of" given 2 times' "a repeated parameter"
req GET "/v1/actions?as_of=2026-06-30&customr=C1"
expect_eq "$CODE" 400 "actions refuses unknown parameters too"
expect_eq "$(sqlite3 "$L" 'SELECT count(*) FROM actions')" 1 "levels writes nothing"

# --- events: recorded, then visible in a run (1000.00 - 400.00 = 600.00) --
req POST /v1/events -d '{"payments":[{"id":"P1","customer_id":"C1","invoice_id":"I1","date":"2026-06-25","amount":"400.00","currency":"USD","status":"settled"}],"disputes":[{"id":"D1","invoice_id":"I1","opened_on":"2026-06-26","reason":"price"}],"promises":[{"id":"PR1","customer_id":"C1","invoice_id":"I1","made_on":"2026-06-26","promised_date":"2026-07-10","amount_minor":10000}],"credits":[]}'
expect_eq "$CODE" 200 "events"
expect_eq "$BODY" '{"recorded":{"payments":1,"disputes":1,"promises":1,"credits":0,"dispute_resolutions":0}}' "events counts"
req POST /v1/runs -d '{"as_of":"2026-06-30"}'
expect_eq "$(nokey)" "$(expected_run 600)" "the payment lowers the balance in a run"

# a bad row anywhere rolls back the whole request
req POST /v1/events -d '{"payments":[{"id":"P2","customer_id":"C1","invoice_id":"I1","date":"2026-06-27","amount":"100.00","currency":"USD","status":"settled"}],"credits":[{"id":"CR1","invoice_id":"I1","date":"2026-06-27","amount":"5.00","reason":"x"}],"disputes":[{"id":"D2","invoice_id":"I9","opened_on":"2026-06-01"}]}'
expect_eq "$CODE" 400 "an unknown invoice"
expect_eq "$(printf '%s' "$BODY" | jq -r .error | grep -c 'disputes\[0\]')" 1 "the message names the row"
expect_eq "$(sqlite3 "$L" "SELECT count(*) FROM payments WHERE id='P2'") $(sqlite3 "$L" 'SELECT count(*) FROM credits')" "0 0" "nothing of it was written"
req POST /v1/events -d '{"payments":[{"id":"P3","customer_id":"C1","date":"2026-06-27","amount":12.5,"currency":"USD","status":"settled"}]}'
expect_eq "$CODE" 400 "a float amount is refused"
expect_eq "$(printf '%s' "$BODY" | jq -r .error | grep -c 'payments\[0\].amount')" 1 "naming the field"
req POST /v1/events -d '{"refunds":[]}'
expect_eq "$CODE" 400 "an unknown table"
req POST /v1/events -d '{"payments":[{"id":"P1"'
expect_eq "$CODE" 400 "events: malformed JSON"

# dispute resolutions: an UPDATE, checked
req POST /v1/events -d '{"dispute_resolutions":[{"id":"D1","resolved_on":"2026-06-20"}]}'
expect_eq "$CODE" 400 "resolved before opened"
req POST /v1/events -d '{"payments":[{"id":"P4","customer_id":"C1","date":"2026-06-28","amount":"1.00","currency":"USD","status":"settled"}],"dispute_resolutions":[{"id":"D9","resolved_on":"2026-06-28"}]}'
expect_eq "$CODE" 400 "an unknown dispute"
expect_eq "$(sqlite3 "$L" "SELECT count(*) FROM payments WHERE id='P4'")" 0 "rolls back the payment with it"
req POST /v1/events -d '{"dispute_resolutions":[{"id":"D1","resolved_on":"2026-06-29"}]}'
expect_eq "$CODE" 200 "a resolution"
expect_eq "$(sqlite3 "$L" "SELECT resolved_on FROM disputes WHERE id='D1'")" 2026-06-29 "is written"
req POST /v1/events -d '{"dispute_resolutions":[{"id":"D1","resolved_on":"2026-06-30"}]}'
expect_eq "$CODE" 400 "resolving again on another date"

# --- body limit ----------------------------------------------------------
head -c 5000 /dev/zero | tr '\0' ' ' >"$WORK/big"
req POST /v1/decide --data-binary "@$WORK/big"
expect_eq "$CODE" 413 "a body over --max-body"
req POST /v1/events --data-binary "@$WORK/big"
expect_eq "$CODE" 413 "on every endpoint"

# --- reload ----------------------------------------------------------------
sed 's/version 1/version 2/; s/otherwise/otherwize/' "$WORK/good.dun" >"$P"
kill -HUP "$SP"
for _ in $(seq 1 50); do grep -q 'reload failed' "$WORK/serve.err" && break; sleep 0.1; done
CHECKS=$((CHECKS + 1)); grep -q "otherwize" "$WORK/serve.err" || fail "a failed reload logs its diagnostics"
expect_eq "$(curl -s "$URL/healthz" | jq -c '[.policy,.version]')" '["svc",1]' "a broken policy leaves the old one serving"
req POST /v1/decide -d "$DECIDE"
expect_eq "$CODE" 200 "and it still decides"
req POST /v1/reload
expect_eq "$CODE" 422 "POST /v1/reload of a broken policy"
expect_eq "$(printf '%s' "$BODY" | jq -c '[.reloaded,.version,(.diagnostics|length>0)]')" '[false,1,true]' "says so with diagnostics"
sed 's/version 1/version 2/' "$WORK/good.dun" >"$P"
kill -HUP "$SP"
for _ in $(seq 1 50); do [ "$(curl -s "$URL/healthz" | jq .version)" = 2 ] && break; sleep 0.1; done
expect_eq "$(curl -s "$URL/healthz" | jq -c '[.policy,.version]')" '["svc",2]' "a good policy switches"
expect_eq "$(metric 'dunlin_policy_reloads_total{result="failed"}') $(metric 'dunlin_policy_reloads_total{result="ok"}')" "2 1" "metrics: reloads"
expect_eq "$(metric 'dunlin_policy_version')" 2 "metrics: the new version"
req POST /v1/reload
expect_eq "$(printf '%s' "$BODY" | jq -c '[.reloaded,.version]')" '[true,2]' "POST /v1/reload"
expect_eq "$(metric 'dunlin_actions_total{kind="email"}')" 6 "metrics: actions by kind"

# --- logs and a graceful stop ---------------------------------------------
CHECKS=$((CHECKS + 1)); grep -qE '^POST /v1/decide 200 [0-9.]+ms$' "$WORK/serve.err" || fail "one log line per request"
CHECKS=$((CHECKS + 1)); grep -qE '^GET /metrics 401 ' "$WORK/serve.err" || fail "refusals are logged too"
kill -TERM "$SP"
wait "$SP"
expect_eq "$?" 0 "SIGTERM stops with status 0"
SP=""

# --- --templates: contacts carry the rendered message ---------------------
if start_server "$WORK/good.dun" --ledger "$L" --listen 127.0.0.1:0 --templates "$SRC/templates"; then
  req POST /v1/decide -d "$(printf '%s' "$DECIDE" | sed 's/"timezone":"America\/New_York"}/"timezone":"America\/New_York","language":"de"}/')"
  expect_eq "$CODE $(printf '%s' "$BODY" | jq -c '.actions[0] | [.language, (.subject|type), (.body|test("X1"))]')" '200 ["de","string",true]' "decide renders in the customer's language"
  req POST /v1/runs -d '{"as_of":"2026-06-30"}'
  expect_eq "$(printf '%s' "$BODY" | jq -c '.actions[0] | [.language, (.body|test("600[.]00"))]')" '["en",true]' "runs render too"
else
  CHECKS=$((CHECKS + 1)); fail "the server starts with --templates"
fi
mkdir -p "$WORK/tmpl/en"
refused "$WORK/good.dun" --ledger "$L" --listen 127.0.0.1:0 --templates "$WORK/tmpl"
expect_status 1 "templates missing one the policy needs"
finish
