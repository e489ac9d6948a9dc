#!/usr/bin/env python3
"""gen_facts.py - the facts every engine of the evaluation benchmark reads.

One CSV row per open invoice, with its customer's fields repeated (so each
engine reads one flat table and none pays for a join): the fields the
LANGUAGE.md s.1 policy looks at, already computed as of the run date.
Money is in minor units (USD cents); risk_score and avg_days_late have two
decimals so that every engine reads the same binary value.
Usage: gen_facts.py CUSTOMERS SEED > facts.csv
"""
import random
import sys

customers, seed = int(sys.argv[1]), int(sys.argv[2])
rng = random.Random(seed)
out = sys.stdout
out.write("customer,tier,total_overdue,avg_days_late,risk_score,promise_active,"
          "total_open,credit_limit,invoice,days_past_due,disputed,balance\n")
for c in range(customers):
    tier = rng.choices(["strategic", "standard", "smb"], [5, 70, 25])[0]
    invoices = []
    for i in range(rng.randint(1, 19)):
        dpd = rng.randint(-20, 95)
        balance = rng.choice([rng.randint(100, 49_999), rng.randint(50_000, 2_000_000)])
        disputed = 1 if rng.random() < 0.05 else 0
        invoices.append((f"I{c:07d}{i:02d}", dpd, disputed, balance))
    total_open = sum(b for _, _, _, b in invoices)
    total_overdue = sum(b for _, d, _, b in invoices if d > 0)
    avg_days_late = f"{rng.uniform(0, 40):.2f}"
    risk = f"{rng.uniform(0, 1):.2f}"
    promise = 1 if rng.random() < 0.08 else 0
    limit = "" if rng.random() < 0.1 else str(rng.choice([500_000, 2_000_000, 10_000_000]))
    for inv, dpd, disputed, balance in invoices:
        out.write(f"C{c:07d},{tier},{total_overdue},{avg_days_late},{risk},{promise},"
                  f"{total_open},{limit},{inv},{dpd},{disputed},{balance}\n")
