-- decide.lua - wrk script: every request is the same POST /v1/decide of
-- one customer with four invoices (two overdue), a partial payment, a
-- broken-promise candidate and a recent email, as an ERP would send it.
-- The token, when the server has one, comes from the environment.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local token = os.getenv("DUNLIN_TOKEN")
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end
wrk.body = [[
{"id":"bench-1","as_of":"2026-11-25",
 "customer":{"id":"C42","name":"Bench Wholesale","tier":"standard","country":"US",
             "timezone":"America/Chicago","language":"en","currency":"USD",
             "credit_limit":"20000.00","risk_score":0.3},
 "invoices":[
  {"id":"I1","number":"INV-1","issue_date":"2026-09-01","due_date":"2026-10-01","currency":"USD","amount":"4200.00"},
  {"id":"I2","number":"INV-2","issue_date":"2026-10-01","due_date":"2026-10-31","currency":"USD","amount":"1800.50"},
  {"id":"I3","number":"INV-3","issue_date":"2026-10-20","due_date":"2026-11-19","currency":"USD","amount":"950.00"},
  {"id":"I4","number":"INV-4","issue_date":"2026-11-10","due_date":"2026-12-10","currency":"USD","amount":"3100.00"}],
 "payments":[
  {"id":"P1","invoice_id":"I1","date":"2026-10-20","amount":"1000.00","currency":"USD","status":"settled"}],
 "promises":[
  {"id":"PR1","invoice_id":"I2","made_on":"2026-11-05","promised_date":"2026-11-15","amount":"1800.50"}],
 "actions":[
  {"key":"k-prev-1","as_of":"2026-11-18","customer_id":"C42","invoice_ids":["I1"],"kind":"email",
   "tone":"neutral","template":"email-neutral","scheduled_at":"2026-11-18T09:00:00-06:00",
   "rule":"dunning","step":"45d","status":"scheduled"}]}
]]

-- Any answer but 200 is counted, so that a broken run is not reported as
-- fast.
local non200 = 0
function response(status, headers, body)
  if status ~= 200 then non200 = non200 + 1 end
end
function done(summary, latency, requests)
  io.write(string.format("non-200 responses (this thread's count is not shared; see the server log): %d\n", non200))
end
