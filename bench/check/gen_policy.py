#!/usr/bin/env python3
"""gen_policy.py - a large, realistic policy for timing `dunlin check`.

Usage: gen_policy.py LINES > big.dun. It writes the header and tone
ladders, then blocks until about LINES lines: a `let`, a segment using it,
an escalation of ten steps for that segment, an `on` rule and a condition
rule, each referring to earlier declarations so the checker resolves names
across the whole file.
"""
import sys

target = int(sys.argv[1])
out = ['policy "big" version 1', '', 'currency USD', 'timezone "America/New_York"',
       'calendar "US"', 'send_window 09:00 .. 17:00', '',
       'tones standard: friendly < neutral < firm < final', '']
i = 0
while len(out) < target - 20:
    out += [f'let big{i} = customer.total_overdue >= {1000 + i}_000 USD and customer.risk_score > 0.{i % 9 + 1}',
            f'segment s{i} when big{i} or customer.tier == "tier{i}" {{',
            '  tone -1',
            f'  assign "team{i % 7}"',
            '}',
            f'escalation e{i} for invoice in s{i}',
            '  unless invoice.disputed or customer.promise_active',
            '{']
    for k, days in enumerate([-3, 1, 7, 15, 30, 45, 60, 75, 90, 120]):
        tone = ['friendly', 'neutral', 'firm', 'final'][min(k // 3, 3)]
        out.append(f'  step {days} days: email tone {tone}, call priority invoice.balance '
                   f'when invoice.balance >= {100 + k} USD')
    out += ['}',
            f'on payment.failed for invoice when customer.segment == "s{i}" do email tone neutral template "pf-{i}"',
            f'rule r{i} for customer when customer.total_open > customer.credit_limit and big{i}',
            '  do hold credit', '  once per 30 days', '']
    i += 1
out += ['segment rest otherwise', '', 'limit contacts per customer: 1 per 3 days, 4 per 30 days']
print('\n'.join(out))
