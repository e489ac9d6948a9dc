#!/usr/bin/env python3
"""kpi_check.py - checks `dunlin kpi` on the IBM sample against an
independent computation straight from the source CSV.

The figures are recomputed here from ../../../shared/data/
ibm-accounts-receivable.csv with nothing from Dunlin: the file is read
with the csv module, amounts become integer cents, and every definition of
docs/kpi.md is applied with exact fractions (round half to even to two
decimals). The reading of the data is the one README.md documents for
convert.sh: all USD, one payment of the full amount on SettledDate, a
dispute opened on the due date (the invoice date when settled before the
due date) and resolved on SettledDate, no promises.

Then the ledger is built the documented way (convert.sh, ledger init,
ledger import), `dunlin kpi --format json` is run for each date, and every
key must agree. Exit 0 when all agree, 1 otherwise.

usage: kpi_check.py [--dunlin PATH] [--data CSV] [--period DAYS] [DATE ...]
"""
import argparse
import csv
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
from decimal import Decimal
from fractions import Fraction

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DEFAULT_DATES = ["2012-06-30", "2012-12-31", "2013-06-28", "2013-12-31", "2014-01-31"]


def day(text, fmt="%Y-%m-%d"):
    return dt.datetime.strptime(text, fmt).date()


def cents(text):
    d = Decimal(text)
    c = d * 100
    if c != c.to_integral_value():
        raise ValueError("amount with more than two decimals: " + text)
    return int(c)


def load(path):
    rows = []
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            issue = day(r["InvoiceDate"], "%d/%m/%Y")
            due = day(r["DueDate"], "%d/%m/%Y")
            settled = day(r["SettledDate"], "%d/%m/%Y")
            opened = None
            if r["Disputed"] == "Yes":
                opened = due if due <= settled else issue
            rows.append({"issue": issue, "due": due, "amount": cents(r["InvoiceAmount"]),
                         "settled": settled, "opened": opened})
    return rows


def balance(inv, x):
    """Balance at the end of day x: the one payment counts once dated <= x."""
    if inv["issue"] > x:
        return 0
    return 0 if inv["settled"] <= x else inv["amount"]


def ar(rows, x):
    open_ar = current = 0
    for inv in rows:
        b = balance(inv, x)
        if b > 0:
            open_ar += b
            if inv["due"] >= x:
                current += b
    return open_ar, current


def sales(rows, after, upto):
    return sum(inv["amount"] for inv in rows if after < inv["issue"] <= upto)


def r2(num, den):
    """num/den rounded half to even to two decimals; None when den is 0."""
    if den == 0:
        return None
    q = round(Fraction(num, den), 2)  # Fraction rounds half to even
    return (Decimal(q.numerator) / Decimal(q.denominator)).quantize(Decimal("0.01"))


def money(c):
    return "%s%d.%02d" % ("-" if c < 0 else "", abs(c) // 100, abs(c) % 100)


def month_end(y, m):
    nxt = dt.date(y + (m == 12), m % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def months(rows, d):
    """The last 12 calendar months ending on or before d, less those
    ending before the first invoice issued by d."""
    issued = [inv["issue"] for inv in rows if inv["issue"] <= d]
    y, m = d.year, d.month
    if month_end(y, m) != d:
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    out = []
    for _ in range(12):
        out.append((y, m))
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    out.reverse()
    first = min(issued) if issued else d + dt.timedelta(days=1)
    return [(y, m) for (y, m) in out if month_end(y, m) >= first]


def expected(rows, d, period):
    rows_d = [inv for inv in rows if inv["issue"] <= d]
    open_ar, current = ar(rows_d, d)
    s = sales(rows_d, d - dt.timedelta(days=period), d)
    aging = {"current": 0, "1-30": 0, "31-60": 0, "61-90": 0, "90+": 0}
    n_open = 0
    for inv in rows_d:
        b = balance(inv, d)
        if b <= 0:
            continue
        n_open += 1
        late = (d - inv["due"]).days
        key = ("current" if late <= 0 else "1-30" if late <= 30 else "31-60" if late <= 60
               else "61-90" if late <= 90 else "90+")
        aging[key] += b
    dso = r2(open_ar * period, s)
    bpd = r2(current * period, s)
    cei = {}
    for (y, m) in months(rows_d, d):
        first, last = dt.date(y, m, 1), month_end(y, m)
        start, _ = ar(rows_d, first - dt.timedelta(days=1))
        end, cur_end = ar(rows_d, last)
        sm = sales(rows_d, first - dt.timedelta(days=1), last)
        cei["%04d-%02d" % (y, m)] = r2((start + sm - end) * 100, start + sm - cur_end)
    disputes = [(inv["settled"] - inv["opened"]).days for inv in rows
                if inv["opened"] is not None and inv["opened"] <= d and inv["settled"] <= d]
    return {
        "as_of": d.isoformat(), "currency": "USD", "period_days": period,
        "open_invoices": n_open, "open_ar": money(open_ar),
        "dso": dso, "best_possible_dso": bpd,
        "add": None if dso is None else dso - bpd,
        "aging": {k: money(v) for k, v in aging.items()},
        "cei": cei,
        "promise_kept_rate": None,
        "dispute_resolution_days": r2(sum(disputes), len(disputes)),
    }


def build_ledger(dunlin, data, work):
    out = os.path.join(work, "csv")
    subprocess.run(["sh", os.path.join(HERE, "convert.sh"), data, out], check=True)
    ledger = os.path.join(work, "ibm.ledger")
    subprocess.run([dunlin, "ledger", "init", ledger], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([dunlin, "ledger", "import", ledger,
                    "--customers", os.path.join(out, "customers.csv"),
                    "--invoices", os.path.join(out, "invoices.csv"),
                    "--payments", os.path.join(out, "payments.csv"),
                    "--disputes", os.path.join(out, "disputes.csv")],
                   check=True, stdout=subprocess.DEVNULL)
    return ledger


def show(v):
    return "null" if v is None else str(v)


def compare(want, got, path=""):
    """Differences as lines; numbers compare as decimals (32.00 == 32.0)."""
    diffs = []
    if isinstance(want, dict):
        if not isinstance(got, dict) or list(want) != list(got):
            return ["%s: keys %s, dunlin has %s" % (path or "object", list(want),
                                                    list(got) if isinstance(got, dict) else got)]
        for k in want:
            diffs += compare(want[k], got[k], path + "." + k if path else k)
        return diffs
    if isinstance(want, Decimal) or isinstance(got, Decimal):
        ok = want is not None and got is not None and Decimal(want) == Decimal(got)
    else:
        ok = want == got
    return [] if ok else ["%s: expected %s, dunlin says %s" % (path, show(want), show(got))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dunlin", default=os.environ.get("DUNLIN", os.path.join(ROOT, "build", "dunlin")))
    ap.add_argument("--data", default=os.environ.get(
        "IBM_DATA", os.path.join(ROOT, "..", "shared", "data", "ibm-accounts-receivable.csv")))
    ap.add_argument("--period", type=int, default=90)
    ap.add_argument("dates", nargs="*", default=DEFAULT_DATES)
    a = ap.parse_args()
    rows = load(a.data)
    failed = 0
    with tempfile.TemporaryDirectory() as work:
        ledger = build_ledger(a.dunlin, a.data, work)
        for text in a.dates:
            d = day(text)
            want = expected(rows, d, a.period)
            res = subprocess.run([a.dunlin, "kpi", "--ledger", ledger, "--as-of", text,
                                  "--period", str(a.period), "--format", "json"],
                                 capture_output=True, text=True)
            if res.returncode != 0:
                print("%s: dunlin kpi failed (%d): %s" % (text, res.returncode, res.stderr.strip()))
                failed += 1
                continue
            got = json.loads(res.stdout, parse_float=Decimal)
            diffs = compare(want, got)
            print("%s: open_ar %s dso %s bpd %s add %s disputes %s days; %d cei months: %s" % (
                text, want["open_ar"], show(want["dso"]), show(want["best_possible_dso"]),
                show(want["add"]), show(want["dispute_resolution_days"]), len(want["cei"]),
                "agree" if not diffs else "DISAGREE"))
            for line in diffs:
                print("  " + line)
            failed += bool(diffs)
    print("%d dates checked, %d disagree" % (len(a.dates), failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
