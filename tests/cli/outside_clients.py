#!/usr/bin/env python3
"""outside_clients.py - Dunlin driven as an outside system would drive it,
written from docs/decide.md and docs/serve.md alone (stdlib only):
`dunlin decide` as a co-process and `dunlin serve` over HTTP, on the
shipped policies/b2b_net30.dun. Expected actions are worked out by hand
from that policy and LANGUAGE.md s.5 (the comments say how); keys are
hashes and are not compared, except between two ways of asking.

Usage: outside_clients.py DUNLIN SOURCE_DIR WORKDIR
Prints `N passed, N failed`; exits 1 on any failure."""
import concurrent.futures
import http.client
import json
import os
import socket
import subprocess
import sys
import time

DUNLIN, SRC, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
POLICY = os.path.join(SRC, "policies", "b2b_net30.dun")
passed = 0
failed = 0


def check(cond, what, detail=""):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL: %s %s" % (what, str(detail)[:1500]))


class Decider:
    """The co-process of docs/decide.md: one JSON line in, one line out."""

    def __init__(self, policy):
        self.p = subprocess.Popen([DUNLIN, "decide", policy], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def raw(self, line):
        self.p.stdin.write(line + b"\n")
        self.p.stdin.flush()
        return self.p.stdout.readline()

    def decide(self, req):
        return json.loads(self.raw(json.dumps(req).encode()))

    def close(self):
        self.p.stdin.close()
        return self.p.wait(timeout=30)


def summary(answer):
    """(kind, step, status) of each action, in the answer's order."""
    return [(a["kind"], a["step"], a["status"]) for a in answer.get("actions", [])]


def sent(answer):
    """The actions that are not catch-up records."""
    return [a for a in answer.get("actions", []) if a["status"] != "skipped"]


def customer(cid="C-100", **kw):
    c = {"id": cid, "name": "Northwind", "tier": "standard", "country": "US",
         "timezone": "America/New_York", "language": "en", "currency": "USD",
         "credit_limit": "100000.00"}
    c.update(kw)
    return c


def inv(iid, due, amount, issue=None):
    return {"id": iid, "number": "N-" + iid, "issue_date": issue or "2026-01-01",
            "due_date": due, "currency": "USD", "amount": amount}


# ---------------------------------------------------------------------------
# decide as a co-process
# ---------------------------------------------------------------------------
d = Decider(POLICY)
answers = {}  # request id -> raw answer line, to compare with serve later
requests = []


def ask(req):
    line = d.raw(json.dumps(req).encode())
    answers[json.dumps(req.get("id"))] = line
    requests.append(req)
    return json.loads(line)


# 1. One invoice of 2,500.00 due 2026-03-02, decided 2026-03-10 (8 days past
# due): the latest step is 7d (email neutral + sms); 1d and -3d are caught
# up as skipped; the cap "1 per 3 days" lets one contact through: the sms is
# deferred. Scheduled at 09:00 New York, EDT (-04:00) since 2026-03-08.
r1 = {"id": "day1", "as_of": "2026-03-10", "customer": customer(),
      "invoices": [inv("INV-1", "2026-03-02", "2500.00", "2026-01-31")]}
a1 = ask(r1)
check(sorted(summary(a1)) == sorted([("email", "7d", "scheduled"), ("sms", "7d", "deferred"),
                                     ("email", "1d", "skipped"), ("email", "-3d", "skipped")]),
      "day 1: 7d email, sms deferred, 1d and -3d skipped", a1)
em = [a for a in a1.get("actions", []) if a["kind"] == "email" and a["step"] == "7d"]
check(em and em[0]["tone"] == "neutral" and em[0]["template"] == "email-neutral"
      and em[0]["scheduled_at"] == "2026-03-10T09:00:00-04:00" and em[0]["invoices"] == ["INV-1"]
      and em[0]["customer"] == "C-100", "day 1: the email's record", em)
check("diagnostics" not in a1, "day 1: no diagnostics key without data errors", a1)

# 2. Yesterday's answer fed back as "actions". On 03-11 the 7d step was
# already emitted; the sms stays deferred (the email of 03-10 is in the
# 3-day window 03-09..03-11). On 03-13 (window 03-11..03-13) the sms goes.
hist = a1["actions"]
a2 = ask({"id": "day4", "as_of": "2026-03-13", "customer": customer(),
          "invoices": r1["invoices"], "actions": hist})
check(summary(a2) == [("sms", "7d", "scheduled")], "day 4: only the deferred sms, now sent", a2)
check(all(a["step"] not in ("1d", "-3d") for a in a2.get("actions", [])),
      "day 4: no second catch-up", a2)
# Feeding the 03-10 answer back on 03-10 itself reproduces it (only
# history before D counts).
a1b = ask(dict(r1, id="day1-again", actions=hist))
check([x["key"] for x in a1b.get("actions", [])] == [x["key"] for x in a1["actions"]],
      "re-deciding 03-10 with its own answer as history reproduces it", a1b)

# 3. Partial payments and the 60-day step (escalate "agency" when balance >=
# 500 USD). Invoice 1,000.00 due 2026-01-01, decided 2026-03-10: 68 days.
base = {"as_of": "2026-03-10", "customer": customer("C-200", credit_limit="100000.00"),
        "invoices": [inv("I-60", "2026-01-01", "1000.00", "2025-12-02")]}
# paid 400 in two parts -> balance 600 >= 500: step 60d, escalate agency.
a3 = ask(dict(base, id="pp-600", payments=[
    {"id": "P1", "invoice_id": "I-60", "date": "2026-02-01", "amount": "150.00"},
    {"id": "P2", "invoice_id": "I-60", "date": "2026-03-01", "amount_minor": 25000}]))
s3 = [(a["kind"], a["step"], a["status"], a.get("text")) for a in sent(a3)]
check(s3 == [("escalate", "60d", "scheduled", "agency")], "balance 600: escalate to agency only", a3)
# paid 600 -> balance 400 < 500: the 60d guard fails; latest step 30d:
# letter final + hold credit (contacts: one letter, within the caps).
a4 = ask(dict(base, id="pp-400", payments=[
    {"id": "P1", "invoice_id": "I-60", "date": "2026-02-01", "amount": "600.00"}]))
check(sorted((a["kind"], a["step"], a["status"]) for a in sent(a4)) ==
      [("hold", "30d", "scheduled"), ("letter", "30d", "scheduled")],
      "balance 400: letter final and hold at 30d, no agency", a4)
lt = [a for a in sent(a4) if a["kind"] == "letter"]
check(lt and lt[0]["tone"] == "final" and lt[0]["template"] == "letter-final", "the letter is final", lt)
# paid in full on D: nothing open, nothing to do.
a5 = ask(dict(base, id="paid", payments=[
    {"id": "P1", "invoice_id": "I-60", "date": "2026-03-10", "amount": "1000.00"}]))
check(a5.get("actions") == [], "paid in full: no actions", a5)
# a payment dated after D does not count: same as unpaid (60d, 1000).
a6 = ask(dict(base, id="future-pay", payments=[
    {"id": "P1", "invoice_id": "I-60", "date": "2026-03-11", "amount": "1000.00"}]))
check([(a["kind"], a["step"]) for a in sent(a6)] == [("escalate", "60d")],
      "a payment after D is not counted", a6)

# 4. A dispute: two invoices 8 days past due; I-D1's dispute opened on D.
# I-D1 leaves the ladder (invoice.disputed), the dispute.opened event gives
# a task "review dispute" assigned to billing; I-D2 gets its 7d step.
a7 = ask({"id": "dispute", "as_of": "2026-03-10", "customer": customer("C-300"),
          "invoices": [inv("I-D1", "2026-03-02", "300.00"), inv("I-D2", "2026-03-02", "700.00")],
          "disputes": [{"id": "D1", "invoice_id": "I-D1", "opened_on": "2026-03-10", "reason": "price"}]})
tasks = [a for a in sent(a7) if a["kind"] == "task"]
check(len(tasks) == 1 and tasks[0]["invoices"] == ["I-D1"] and tasks[0]["assignee"] == "billing"
      and tasks[0]["text"] == "review dispute", "dispute opened on D: one review task for I-D1", a7)
dun = [a for a in a7.get("actions", []) if a["rule"] == "dunning"]
check(dun and all(a["invoices"] == ["I-D2"] for a in dun), "the disputed invoice is not dunned", a7)
# the same dispute opened yesterday: no task today (events fire on their date).
a7b = ask({"id": "dispute-old", "as_of": "2026-03-10", "customer": customer("C-300"),
           "invoices": [inv("I-D1", "2026-03-02", "300.00")],
           "disputes": [{"id": "D1", "invoice_id": "I-D1", "opened_on": "2026-03-09"}]})
check(a7b.get("actions") == [], "an older open dispute: nothing", a7b)

# 5. A promise: made 03-05 for 03-20 covering the balance: active, so no
# dunning on 03-10 (customer.promise_active).
a8 = ask({"id": "promise", "as_of": "2026-03-10", "customer": customer("C-400"),
          "invoices": [inv("I-P", "2026-03-02", "900.00")],
          "promises": [{"id": "PR1", "invoice_id": "I-P", "made_on": "2026-03-05",
                        "promised_date": "2026-03-20", "amount": "900.00"}]})
check(a8.get("actions") == [], "an active promise stops the ladder", a8)
# broken: promised 03-02, grace 3 days -> broken on 03-06 (Fri) when the
# payments up to 03-05 do not cover it: the customer rule gives a call with
# priority total_overdue (900.00, the invoice due 02-20 being overdue).
a9 = ask({"id": "broken", "as_of": "2026-03-06", "customer": customer("C-400"),
          "invoices": [inv("I-P", "2026-02-20", "900.00")],
          "promises": [{"id": "PR1", "invoice_id": "I-P", "made_on": "2026-02-21",
                        "promised_date": "2026-03-02", "amount": "900.00"}]})
calls = [a for a in a9.get("actions", []) if a["rule"] == "on promise.broken"]
check(len(calls) == 1 and calls[0]["kind"] == "call" and calls[0]["priority"] == 900.0
      and calls[0]["step"] == "PR1" and calls[0]["status"] == "scheduled",
      "broken promise: one call PR1, priority 900, scheduled (the highest priority)", a9)
# the promise no longer holds the ladder: step 7d (14 days past due), its
# two contacts deferred behind the call by "1 per 3 days".
check(sorted((a["kind"], a["step"], a["status"]) for a in sent(a9) if a["rule"] == "dunning") ==
      [("email", "7d", "deferred"), ("sms", "7d", "deferred")], "broken promise: ladder resumes", a9)

# 6. Over the credit limit: 1,500.00 open, limit 1,000.00, not yet due (due
# in 20 days, before the -3d step): the over_limit rule holds credit once.
r10 = {"id": "limit", "as_of": "2026-03-10", "customer": customer("C-500", credit_limit="1000.00"),
       "invoices": [inv("I-L", "2026-03-30", "1500.00", "2026-02-28")]}
a10 = ask(r10)
check([(a["kind"], a["rule"], a["step"], a["status"]) for a in a10.get("actions", [])] ==
      [("hold", "over_limit", None, "scheduled")], "over the limit: one hold", a10)
# fed back 10 days later: "once per 30 days" -> nothing.
a11 = ask(dict(r10, id="limit+10", as_of="2026-03-20", actions=a10.get("actions", [])))
check(a11.get("actions") == [], "the hold is not repeated within 30 days", a11)

# 7. Strategic: tone -1 and team key-accounts. 15 days past due on 03-17:
# step 15d = email firm (-> neutral) + call; one of the two is deferred by
# "1 per 3 days".
a12 = ask({"id": "strategic", "as_of": "2026-03-17", "customer": customer("C-600", tier="strategic"),
           "invoices": [inv("I-S", "2026-03-02", "2000.00")]})
s12 = sent(a12)
check(sorted(a["kind"] for a in s12) == ["call", "email"]
      and all(a["assignee"] == "key-accounts" and a["step"] == "15d" for a in s12)
      and sorted(a["status"] for a in s12) == ["deferred", "scheduled"],
      "strategic 15d: email + call, one deferred, key-accounts", a12)
check([a["tone"] for a in s12 if a["kind"] == "email"] == ["neutral"], "strategic: firm shifted to neutral", a12)

# 8. A Saturday and a Berlin customer: scheduled on Monday 09:00 CET.
a13 = ask({"id": "weekend", "as_of": "2026-03-14",
           "customer": customer("C-700", timezone="Europe/Berlin", language="de"),
           "invoices": [inv("I-W", "2026-03-13", "100.00")]})
check([(a["step"], a["scheduled_at"]) for a in sent(a13)] == [("1d", "2026-03-16T09:00:00+01:00")],
      "Saturday: scheduled Monday 09:00 Berlin time", a13)

# 9. Several invoices on one day: consolidation makes one email listing both.
a14 = ask({"id": "two", "as_of": "2026-03-10", "customer": customer("C-800"),
           "invoices": [inv("I-A", "2026-03-09", "100.00"), inv("I-B", "2026-03-09", "200.00")]})
check([(a["kind"], sorted(a["invoices"])) for a in sent(a14)] == [("email", ["I-A", "I-B"])],
      "two invoices due the same day: one email for both", a14)

# 9b. A EUR invoice without a EUR->USD rate: a data error, the invoice is
# skipped (no actions), the answer says why, naming the request.
a15 = ask({"id": "no-rate", "as_of": "2026-03-10", "customer": customer("C-900"),
           "invoices": [dict(inv("I-E", "2026-03-09", "100.00"), currency="EUR")]})
dg = a15.get("diagnostics") or [{}]
check(a15.get("actions") == [] and dg[0].get("code") == "E0501" and dg[0].get("file") == "request"
      and "no fx rate EUR->USD" in dg[0].get("message", ""), "missing fx rate: E0501 on the request", a15)
# with the rate (1 EUR = 1.0850 USD) the invoice is back: step 1d.
a16 = ask({"id": "rate", "as_of": "2026-03-10", "customer": customer("C-900"),
           "invoices": [dict(inv("I-E", "2026-03-09", "100.00"), currency="EUR")],
           "fx_rates": [{"date": "2026-03-01", "base": "EUR", "quote": "USD", "rate": "1.0850"}]})
check([(a["kind"], a["step"], a["status"]) for a in sent(a16)] == [("email", "1d", "scheduled")]
      and "diagnostics" not in a16, "with the fx rate: step 1d", a16)

# 10. Bad requests: an error line each, and the co-process carries on.
bad = [
    (b'{"id":1,', "request: not JSON"),
    (b'[1,2]', "request: expected a JSON object, got an array"),
    (b'null', "request: expected a JSON object, got null"),
    (b'42', "request: expected a JSON object, got an integer"),
    (json.dumps({"id": 3, "customer": {"id": "C"}}).encode(), "as_of: missing"),
    (json.dumps({"id": 4, "as_of": "2026-03-10", "customer": {"id": "C"},
                 "invoices": [{"id": "I", "due_date": "2026-03-01", "issue_date": "2026-03-01",
                               "currency": "USD", "amount": 1200.5}]}).encode(),
     "invoices[0].amount: expected a decimal string, got a number"),
    (json.dumps({"id": 5, "as_of": "2026-03-10", "customer": {"id": "C"},
                 "invoices": [{"id": "I", "due_date": "2026-03-01", "issue_date": "2026-03-01",
                               "currency": "USD", "amount_minor": 10 ** 30}]}).encode(),
     "too big integer"),
    (json.dumps({"id": 6, "as_of": "2026-03-10", "customer": {"id": "C"},
                 "invoices": [{"id": "I", "due_date": "2026-03-01", "issue_date": "2026-03-01",
                               "currency": "USD", "amount_minor": 2 ** 63 - 1}],
                 "payments": [{"id": "P", "invoice_id": "I", "date": "2026-03-02",
                               "amount_minor": -(2 ** 63) + 1}]}).encode(),
     None),  # must answer (an error or actions), never die
    (b'{"id":7,"as_of":"2026-03-10","customer":{"id":"C\xff\xfe"}}', "request: not JSON"),
    (b'{"id":8,"as_of":"2026-03-10","customer":' + b'[' * 100000 + b']' * 100000 + b'}', "request: not JSON"),
    (json.dumps({"id": 9, "as_of": "2026-03-10", "customer": {"id": "C"}, "invoces": []}).encode(),
     'did you mean \\"invoices\\"'),
    (json.dumps({"id": 10, "as_of": 20260310, "customer": {"id": "C"}}).encode(), "as_of"),
    (json.dumps({"id": 11, "as_of": "2026-03-10", "customer": {"id": "C"},
                 "invoices": {"id": "x"}}).encode(), "invoices"),
]
for line, want in bad:
    out = d.raw(line)
    try:
        ans = json.loads(out)
    except ValueError:
        ans = None
    if want is None:
        check(ans is not None and ("actions" in ans or "error" in ans), "answered: %r" % line[:60], out)
        continue
    check(ans is not None and "error" in ans and want in out.decode("utf-8", "replace"),
          "bad request %r -> %s" % (line[:50], want), out)
# still alive after all that
check(d.decide(r1).get("actions") == a1["actions"], "decide still answers after bad requests")
# an oversized line (9 MiB) is skipped with an error, then the next is read
out = d.raw(b'{"id":"big","pad":"' + b"x" * (9 << 20) + b'"}')
check(b"longer than 8388608 bytes" in out, "a 9 MiB line is refused", out[:200])
check(d.decide(r1).get("actions") == a1["actions"], "and decide goes on")
check(d.close() == 0, "decide exits 0 at end of input")

# ---------------------------------------------------------------------------
# serve over HTTP
# ---------------------------------------------------------------------------
ledger = os.path.join(WORK, "ledger.db")
subprocess.run([DUNLIN, "ledger", "init", ledger], check=True, stdout=subprocess.DEVNULL)
token_file = os.path.join(WORK, "token")
TOKEN = "s3cret-%d" % os.getpid()
with open(token_file, "w") as f:
    f.write(TOKEN + "\n")
os.chmod(token_file, 0o600)
errlog = open(os.path.join(WORK, "serve.err"), "w+")
srv = subprocess.Popen([DUNLIN, "serve", POLICY, "--ledger", ledger, "--listen", "127.0.0.1:0",
                        "--token-file", token_file, "--threads", "4", "--timeout", "3"],
                       stderr=errlog, stdout=subprocess.DEVNULL)
port = None
for _ in range(200):
    errlog.seek(0)
    txt = errlog.read()
    if "listening on port" in txt:
        port = int(txt.split("listening on port")[1].split()[0].strip(",;:."))
        break
    if srv.poll() is not None:
        break
    time.sleep(0.05)
if port is None:
    check(False, "serve started", txt)
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1)


def post(path, body, token=TOKEN, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    h = {"Content-Type": "application/json"}
    if token is not None:
        h["Authorization"] = "Bearer " + token
    h.update(headers or {})
    c.request("POST", path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    c.close()
    if path == "/v1/decide" and r.status == 200:
        with kinds_lock:
            for a in json.loads(data)["actions"]:
                kinds_sent[a["kind"]] = kinds_sent.get(a["kind"], 0) + 1
    return r.status, data


import threading
kinds_lock = threading.Lock()
kinds_sent = {}


try:
    # every decide request above, through HTTP: byte for byte the co-process
    # answer (serve adds nothing but the newline at the end of the body).
    same = 0
    for req in requests:
        st, body = post("/v1/decide", json.dumps(req).encode())
        if st == 200 and body == answers[json.dumps(req.get("id"))]:
            same += 1
        else:
            print("  differs: %s %d %r" % (req.get("id"), st, body[:300]))
    check(same == len(requests), "serve answers = decide answers (%d/%d)" % (same, len(requests)))

    # concurrency: 16 client threads, 10 rounds of every request, each answer
    # byte-identical to the sequential one.
    def one(req):
        return post("/v1/decide", json.dumps(req).encode())
    work = [r for _ in range(10) for r in requests]
    with concurrent.futures.ThreadPoolExecutor(16) as ex:
        results = list(ex.map(one, work))
    diff = [(r.get("id"), st) for r, (st, body) in zip(work, results)
            if st != 200 or body != answers[json.dumps(r.get("id"))]]
    check(not diff, "%d concurrent decides equal the sequential answers" % len(work), diff[:5])

    # reloads (SIGHUP) while 8 clients decide: every answer is still 200
    # and byte-identical (requests in flight finish on their policy).
    import signal
    import threading
    stop = threading.Event()
    def hup():
        for _ in range(10):
            srv.send_signal(signal.SIGHUP)
            time.sleep(0.1)
        stop.set()
    def loop(req):
        bad = 0
        while not stop.is_set():
            st, body = post("/v1/decide", json.dumps(req).encode())
            bad += st != 200 or body != answers[json.dumps(req.get("id"))]
        return bad
    th = threading.Thread(target=hup)
    th.start()
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        bads = list(ex.map(loop, requests[:8]))
    th.join()
    check(sum(bads) == 0 and srv.poll() is None, "decides during 10 reloads are unchanged", bads)
    errlog.seek(0)
    check(errlog.read().count("reload") >= 10, "the reloads happened (logged)")

    # tokens
    st, body = post("/v1/decide", json.dumps(r1).encode(), token=None)
    check(st == 401, "no token: 401", (st, body))
    st, body = post("/v1/decide", json.dumps(r1).encode(), token=TOKEN + "x")
    check(st == 401, "wrong token: 401", (st, body))
    st, body = post("/v1/decide", json.dumps(r1).encode(), token=TOKEN[:-1])
    check(st == 401, "a prefix of the token: 401", (st, body))
    st, body = post("/v1/decide", json.dumps(r1).encode(), headers={"Authorization": "Basic " + TOKEN})
    check(st == 401, "another scheme: 401", (st, body))

    # malformed bodies: 400 with the decider's error object, never a crash
    for body, want in [(b'{"id":1,', "not JSON"), (b"", "not JSON"), (b"null", "expected a JSON object"),
                       (b'{"id":7,"as_of":"2026-03-10","customer":{"id":"C\xff"}}', "not JSON"),
                       (b'[' * 200000, "not JSON"),
                       (json.dumps({"as_of": "2026-03-10", "customer": {"id": "C"},
                                    "payments": [{"id": "P", "invoice_id": "I404", "date": "2026-03-01",
                                                  "amount": "1.00", "currency": "USD"}]}).encode(),
                        'unknown invoice')]:
        st, out = post("/v1/decide", body)
        try:
            ok = st == 400 and want in json.loads(out)["error"]
        except (ValueError, KeyError):
            ok = False
        check(ok, "bad body %r: 400 %s" % (body[:40], want), (st, out[:300]))

    # other endpoints: a JSON value that is not an object is named as such
    for path in ("/v1/runs", "/v1/events"):
        st, out = post(path, b"null")
        check(st == 400 and b"must be a JSON object" in out, "%s null: 400, not an object" % path, (st, out))

    # 50 MB with a Content-Length: 413 from the headers alone
    big = b'{"pad":"' + b"x" * (50 << 20) + b'"}'
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(("POST /v1/decide HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
               "Content-Length: %d\r\n\r\n" % (TOKEN, len(big))).encode())
    resp = s.recv(4096)
    s.close()
    check(resp.startswith(b"HTTP/1.1 413"), "50 MB Content-Length: 413 before the body", resp[:100])

    # 50 MB chunked: the connection is closed past the limit (no reply possible)
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(("POST /v1/decide HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
               "Transfer-Encoding: chunked\r\n\r\n" % TOKEN).encode())
    chunk = b"x" * (1 << 20)
    t0 = time.time()
    closed = False
    try:
        for _ in range(50):
            s.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
        s.sendall(b"0\r\n\r\n")
        resp = s.recv(4096)
        closed = resp == b"" or resp.startswith(b"HTTP/1.1 413")
    except OSError:
        closed = True
    s.close()
    check(closed and time.time() - t0 < 20, "50 MB chunked: cut off past --max-body", resp[:100] if not closed else "")

    # a small chunked decide is answered as any other
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    body = json.dumps(r1).encode()
    s.sendall(("POST /v1/decide HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
               "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" % TOKEN).encode())
    for i in range(0, len(body), 50):
        part = body[i:i + 50]
        s.sendall(b"%x\r\n" % len(part) + part + b"\r\n")
    s.sendall(b"0\r\n\r\n")
    resp = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        resp += b
    s.close()
    check(resp.startswith(b"HTTP/1.1 200") and resp.endswith(answers['"day1"']),
          "a chunked decide: 200 and the same answer", resp[:200])
    for a in json.loads(answers['"day1"'])["actions"]:  # counted by the metrics too
        kinds_sent[a["kind"]] = kinds_sent.get(a["kind"], 0) + 1

    # slowloris: 12 connections (3x the worker threads) trickling headers;
    # meanwhile other clients are still answered quickly.
    slow = []
    for _ in range(12):
        c = socket.create_connection(("127.0.0.1", port), timeout=30)
        c.sendall(b"POST /v1/decide HTTP/1.1\r\nHost: x\r\n")
        slow.append(c)
    t0 = time.time()
    oks = 0
    for i in range(5):
        for c in slow:
            try:
                c.sendall(b"X-Slow-%d: y\r\n" % i)
            except OSError:
                pass
        st, body = post("/v1/decide", json.dumps(r1).encode())
        oks += st == 200 and body == answers['"day1"']
        time.sleep(0.2)
    check(oks == 5 and time.time() - t0 < 10, "served while 12 slow clients hang on", (oks, time.time() - t0))
    # ...and the idle ones are dropped after --timeout 3
    time.sleep(4.5)
    dropped = 0
    for c in slow:
        try:
            c.settimeout(2)
            dropped += c.recv(10) == b""
        except OSError:
            dropped += 1
        c.close()
    check(dropped == 12, "idle slow connections closed after --timeout", dropped)

    # the metrics count exactly the actions the answers carried
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", "/metrics", headers={"Authorization": "Bearer " + TOKEN})
    r = c.getresponse()
    metrics = r.read().decode()
    counted = {}
    for ln in metrics.splitlines():
        if ln.startswith('dunlin_actions_total{kind="'):
            counted[ln.split('"')[1]] = int(float(ln.split()[-1]))
    counted = {k: v for k, v in counted.items() if v}
    check(r.status == 200 and counted == kinds_sent, "dunlin_actions_total = the actions answered",
          (counted, kinds_sent))

    # health and still alive
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", "/healthz")
    r = c.getresponse()
    h = json.loads(r.read())
    check(r.status == 200 and h.get("policy") == "b2b-net30" and h.get("version") == 1, "healthz", h)
    check(srv.poll() is None, "the server is still running")
finally:
    srv.terminate()
    try:
        rc = srv.wait(timeout=30)
    except subprocess.TimeoutExpired:
        srv.kill()
        rc = -1
check(rc == 0, "SIGTERM: exit 0", rc)

# ---------------------------------------------------------------------------
# serve with the shipped templates: the language a customer gets
# ---------------------------------------------------------------------------
errlog2 = open(os.path.join(WORK, "serve2.err"), "w+")
srv = subprocess.Popen([DUNLIN, "serve", POLICY, "--ledger", ledger, "--listen", "127.0.0.1:0",
                        "--templates", os.path.join(SRC, "templates")], stderr=errlog2, stdout=subprocess.DEVNULL)
port = None
for _ in range(200):
    errlog2.seek(0)
    txt = errlog2.read()
    if "listening on port" in txt:
        port = int(txt.split("listening on port")[1].split()[0].strip(",;:."))
        break
    if srv.poll() is not None:
        break
    time.sleep(0.05)
check(port is not None, "serve --templates starts", txt)
try:
    # day 1 again (N-INV-1 2,500.00, the 7d neutral email and sms): ja has
    # no directory -> en; de-AT -> de; the sms has no subject.
    for lang, want_lang, want_subject in [("ja", "en", "Payment reminder: invoice N-INV-1"),
                                          ("de-AT", "de", "Zahlungserinnerung: Rechnung N-INV-1"),
                                          ("", "en", "Payment reminder: invoice N-INV-1")]:
        if port is None:
            break
        req = dict(r1, customer=customer(language=lang))
        st, body = post("/v1/decide", json.dumps(req).encode(), token=None)
        acts = json.loads(body).get("actions", []) if st == 200 else []
        em = [a for a in acts if a["kind"] == "email" and a["step"] == "7d"]
        sm = [a for a in acts if a["kind"] == "sms"]
        check(em and em[0].get("language") == want_lang and em[0].get("subject") == want_subject
              and "Northwind" in em[0].get("body", ""), "language %r -> %s templates" % (lang, want_lang), body[:400])
        check(sm and sm[0].get("subject") is None and sm[0].get("language") == want_lang,
              "language %r: the sms has a body and no subject" % lang, sm)
finally:
    srv.terminate()
    try:
        srv.wait(timeout=30)
    except subprocess.TimeoutExpired:
        srv.kill()

print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
