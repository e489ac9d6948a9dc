#!/usr/bin/env bash
# Message templates: `check --templates` (shipped policies and templates
# pass; a typo, a missing file, a missing subject fail with positions and
# a did-you-mean), `run --render` (exact subject and body per language,
# money and dates formatted for the customer's language, non-contacts and
# the table unchanged), finding templates/ next to the policy.
# Expected texts are written by hand from docs/templates.md.
. "$(dirname "$0")/lib.sh"
NB=$'\xc2\xa0'

# ---- shipped policies and templates ----
run_dunlin check "$SRC/policies/b2b_net30.dun" "$SRC/policies/smb_gentle.dun" "$SRC/policies/subscription.dun" \
  --templates "$SRC/templates"
expect_status 0 "shipped policies pass against shipped templates"
expect_err "3 of 3 files checked clean" "all three clean"
run_dunlin check "$SRC/policies/b2b_net30.dun"
expect_status 0 "templates/ in the policy's parent is found and passes"
for lang in en de fr es; do
  n=$(ls "$SRC/templates/$lang" | grep -c '\.tmpl$')
  expect_eq "$n" 29 "29 templates shipped in $lang"
done

# ---- a small policy, ledger and template set of our own ----
mkdir -p "$WORK/p" "$WORK/tpl/en" "$WORK/tpl/de"
P="$WORK/p/policy.dun"
cat >"$P" <<'DUN'
policy "r" version 1
currency USD
timezone "America/New_York"
tones standard: friendly < firm
segment all otherwise
escalation dunning for invoice in all {
  step 1 day: email tone friendly
  step 7 days: email tone firm, sms, hold credit
}
DUN
T="$WORK/tpl"
cat >"$T/en/email-firm.tmpl" <<'TPL'
subject: Overdue: {{invoice_numbers}} ({{amount_due}})

Dear {{customer.name}},
{{invoices}}
Oldest due date: {{oldest_due_date}}. Total overdue: {{total_overdue}}.
Pay: {{pay_link}}
{{company.name}}
TPL
cat >"$T/de/email-firm.tmpl" <<'TPL'
subject: Mahnung: {{invoice_numbers}} ({{amount_due}})

Guten Tag {{customer.name}},
{{invoices}}
Älteste Fälligkeit: {{oldest_due_date}}. Überfällig: {{total_overdue}}.
Zahlen: {{pay_link}}
{{company.name}}
TPL
for l in en de; do
  printf 'subject: Hi\n\n{{customer.name}} {{date}}\n' >"$T/$l/email-friendly.tmpl"
  printf '{{customer.id}} {{amount_due}} {{pay_link}}\n' >"$T/$l/sms-firm.tmpl"
  printf '{{customer.id}} friendly\n' >"$T/$l/sms-friendly.tmpl"
done
cat >"$WORK/c.csv" <<'CSV'
id,name,tier,country,timezone,language,email,phone,credit_limit_minor,currency,risk_score
C1,Acme Corp,standard,US,America/New_York,en-US,a@example.com,1,1000000,USD,0.1
C2,Müller GmbH,standard,AT,Europe/Vienna,de-AT,m@example.com,2,1000000,USD,0.1
C3,Pérez y Hijos SA,standard,MX,America/Mexico_City,es-MX,p@example.com,3,1000000,USD,0.1
CSV
cat >"$WORK/i.csv" <<'CSV'
id,customer_id,number,issue_date,due_date,currency,amount
I1,C1,INV-1001,2026-02-01,2026-03-03,USD,1234.56
I2,C2,RE-2001,2026-02-01,2026-03-03,EUR,1234.56
I3,C3,F-3001,2026-02-01,2026-03-03,EUR,12345.67
CSV
printf 'date,base,quote,rate\n2026-01-01,EUR,USD,1.10\n' >"$WORK/fx.csv"
L="$WORK/r.ledger"
"$DUNLIN" ledger init "$L" >/dev/null
"$DUNLIN" ledger import "$L" --customers "$WORK/c.csv" --invoices "$WORK/i.csv" --fx-rates "$WORK/fx.csv" >/dev/null \
  || { echo "FAIL: cannot import the fixture"; exit 1; }

run_dunlin check "$P" --templates "$T"
expect_status 0 "own templates pass"

RUN=(run "$P" --ledger "$L" --as-of 2026-03-10 --templates "$T" --render
     --pay-link 'https://pay.example/{customer}' --company 'Acme Billing')
run_dunlin "${RUN[@]}"
expect_status 0 "run --render"
cp "$WORK/out" "$WORK/rendered"
field() { jq -r "select(.customer==\"$1\" and .kind==\"$2\" and .status==\"$3\") | .$4" "$WORK/rendered"; }

# C1, en-US: 7 days past due on 2026-03-10 -> the firm email and the sms
expect_eq "$(field C1 email scheduled language)" "en" "en-US customer gets en"
expect_eq "$(field C1 email scheduled subject)" 'Overdue: INV-1001 ($1,234.56)' "English subject"
expect_eq "$(field C1 email scheduled body)" "$(printf '%s\n' 'Dear Acme Corp,' \
  '- INV-1001, due March 3, 2026: $1,234.56' \
  'Oldest due date: March 3, 2026. Total overdue: $1,234.56.' \
  'Pay: https://pay.example/C1' 'Acme Billing')" "English body"
expect_eq "$(field C1 sms scheduled subject)" "null" "an sms has no subject"
expect_eq "$(field C1 sms scheduled body)" 'C1 $1,234.56 https://pay.example/C1' "sms body"
# the caught-up friendly email is a contact record too
expect_eq "$(field C1 email skipped body)" "Acme Corp March 10, 2026" "skipped contact rendered"

# C2, de-AT -> de; EUR invoice; total overdue in the policy currency:
# 1234.56 EUR * 1.10 = 1358.016 -> 1358.02 USD
expect_eq "$(field C2 email scheduled language)" "de" "de-AT customer gets de"
expect_eq "$(field C2 email scheduled subject)" "Mahnung: RE-2001 (1.234,56${NB}€)" "German subject"
expect_eq "$(field C2 email scheduled body)" "$(printf '%s\n' 'Guten Tag Müller GmbH,' \
  "- RE-2001, fällig am 3. März 2026: 1.234,56${NB}€" \
  "Älteste Fälligkeit: 3. März 2026. Überfällig: 1.358,02${NB}\$." \
  'Zahlen: https://pay.example/C2' 'Acme Billing')" "German body"
expect_eq "$(field C2 email skipped body)" "Müller GmbH 10. März 2026" "German date in skipped email"

# C3, es-MX: our set has no es, so English (with English formatting)
expect_eq "$(field C3 email scheduled language)" "en" "es-MX falls back to en without es/"
expect_eq "$(field C3 email scheduled subject)" "Overdue: F-3001 (€12,345.67)" "English formatting of EUR"

# non-contacts unchanged; the rendered fields come last
hold=$(grep '"kind":"hold"' "$WORK/rendered" | head -n 1)
CHECKS=$((CHECKS + 1)); [ -n "$hold" ] && ! grep -q '"subject"' <<<"$hold" || fail "hold has no subject/body"
CHECKS=$((CHECKS + 1)); grep '"kind":"email"' "$WORK/rendered" | grep -qv '"reason":"[^"]*","language":"[a-z]*","subject":' \
  && fail "language, subject, body follow reason"
# without --render the lines are the plain records
run_dunlin run "$P" --ledger "$L" --as-of 2026-03-10
plain="$OUT"
expect_eq "$(jq -c 'del(.language, .subject, .body)' "$WORK/rendered")" "$(jq -c . <<<"$plain")" \
  "--render only adds fields"
run_dunlin run "$P" --ledger "$L" --as-of 2026-03-10 --format table
table="$OUT"
run_dunlin "${RUN[@]}" --format table
expect_eq "$OUT" "$table" "table output unaffected by --render"

# no pay-link pattern: the token stays for the mailer
run_dunlin run "$P" --ledger "$L" --as-of 2026-03-10 --templates "$T" --render
expect_out 'C1 $1,234.56 {{pay_link}}' "pay_link token kept"
expect_out '"body":"Dear Acme Corp,\n- INV-1001' "default sender used"
expect_out 'Accounts Receivable' "default company name in English"

# templates/ next to the policy is found; none at all is a usage error
run_dunlin run "$P" --ledger "$L" --as-of 2026-03-10 --render
expect_status 2 "--render without templates"
expect_err "--render needs templates" "says why"
cp -r "$T" "$WORK/p/templates"
run_dunlin run "$P" --ledger "$L" --as-of 2026-03-10 --render --pay-link 'https://pay.example/{customer}' --company 'Acme Billing'
expect_status 0 "templates/ next to the policy"
expect_eq "$OUT" "$(cat "$WORK/rendered")" "same output as with --templates"
rm -rf "$WORK/p/templates"

# ---- errors at check time ----
cp -r "$T" "$WORK/typo"
sed -i 's/{{customer.name}},/{{custmer.name}},/' "$WORK/typo/en/email-firm.tmpl"
run_dunlin check "$P" --templates "$WORK/typo"
expect_status 1 "a typo fails check"
expect_err "$WORK/typo/en/email-firm.tmpl:3:8: error[E0801]: unknown variable \`custmer.name\`" "file:line:col"
expect_err "did you mean \`customer.name\`?" "did-you-mean"
expect_err "0 of 1 file checked clean" "not clean"
run_dunlin "${RUN[@]/$T/$WORK/typo}"
expect_status 1 "run --render refuses a bad template"
expect_eq "$OUT" "" "and prints no action"
run_dunlin run "$P" --ledger "$L" --as-of 2026-03-10 --templates "$WORK/typo"
expect_status 1 "run --templates checks even without --render"
run_dunlin explain "$P" --ledger "$L" --as-of 2026-03-10 --customer C1 --templates "$WORK/typo"
expect_status 1 "explain --templates checks"
run_dunlin check "$P" --templates "$WORK/typo" --format json
expect_status 1 "json"
expect_out '"code":"E0801"' "json code"

cp -r "$T" "$WORK/missing"
rm "$WORK/missing/de/sms-firm.tmpl"
printf 'no subject\n' >"$WORK/missing/en/email-friendly.tmpl"
printf 'x {{pay_link\n' >"$WORK/missing/en/sms-friendly.tmpl"
run_dunlin check "$P" --templates "$WORK/missing"
expect_status 1 "a missing template fails check"
expect_err "error[E0803]: template \`sms-firm\` (for sms) is missing in \`de\`" "missing in de"
expect_err "$WORK/missing/en/email-friendly.tmpl:1: error[E0804]" "email without subject"
expect_err "$WORK/missing/en/sms-friendly.tmpl:1:3: error[E0802]: unclosed \`{{\`" "unclosed tag"

run_dunlin check "$P" --templates "$WORK/nowhere"
expect_status 1 "a templates directory that does not exist"
expect_err "E0505" "io error"

run_dunlin check --explain E0801
expect_status 0 "explain the new code"
expect_out "unknown-template-variable" "slug"

# ---- German formatting through the shipped templates ----
run_dunlin run "$SRC/policies/b2b_net30.dun" --ledger "$L" --as-of 2026-03-10 --render \
  --pay-link 'https://pay.example/{customer}'
expect_status 0 "shipped policy renders with shipped templates"
de_body=$(jq -r 'select(.customer=="C2" and .kind=="email" and .status=="scheduled") | .body' <<<"$OUT")
CHECKS=$((CHECKS + 1)); grep -qF "RE-2001, fällig am 3. März 2026: 1.234,56${NB}€" <<<"$de_body" || fail "German invoice line"
CHECKS=$((CHECKS + 1)); grep -qF "Guten Tag Müller GmbH," <<<"$de_body" || fail "German greeting"
CHECKS=$((CHECKS + 1)); grep -qF "https://pay.example/C2" <<<"$de_body" || fail "pay link"
es_body=$(jq -r 'select(.customer=="C3" and .kind=="email" and .status=="scheduled") | .body' <<<"$OUT")
CHECKS=$((CHECKS + 1)); grep -qF "F-3001, vencimiento el 3 de marzo de 2026: 12.345,67${NB}€" <<<"$es_body" || fail "Spanish invoice line"
CHECKS=$((CHECKS + 1)); grep -qF "Buenos días, Pérez y Hijos SA:" <<<"$es_body" || fail "Spanish greeting"
en_subject=$(jq -r 'select(.customer=="C1" and .kind=="email" and .status=="scheduled") | .subject' <<<"$OUT")
expect_eq "$en_subject" "Payment reminder: invoice INV-1001" "English neutral subject (step 7 days)"

finish
