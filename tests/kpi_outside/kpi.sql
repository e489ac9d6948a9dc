-- kpi.sql - the figures of CLI.md "KPI definitions", written straight from
-- the definitions in SQL for tests/cli/kpi_outside.sh (no Dunlin code):
-- one row `name|numerator|denominator` per figure, amounts in minor units.
-- The date D and the period P are substituted for @D@ and @P@.
WITH RECURSIVE
bal(id, due, b) AS (
  SELECT i.id, i.due_date,
    i.amount_minor
    - coalesce((SELECT sum(amount_minor) FROM payments p WHERE p.invoice_id = i.id AND p.status = 'settled' AND p.date <= '@D@'), 0)
    - coalesce((SELECT sum(amount_minor) FROM credits c WHERE c.invoice_id = i.id AND c.date <= '@D@'), 0)
  FROM invoices i WHERE i.issue_date <= '@D@'),
o AS (SELECT b, CAST(julianday('@D@') - julianday(due) AS INTEGER) AS dpd FROM bal WHERE b > 0),
s AS (SELECT coalesce(sum(amount_minor), 0) AS sales FROM invoices
      WHERE issue_date > date('@D@', '-@P@ days') AND issue_date <= '@D@'),
-- CEI months: the 12 calendar months ending on or before D
m(k, first, last) AS (
  SELECT 0, date('@D@', 'start of month', CASE WHEN date('@D@', '+1 day', 'start of month') = date('@D@', '+1 day') THEN '+0 months' ELSE '-1 months' END, '-11 months'),
         date('@D@', 'start of month', CASE WHEN date('@D@', '+1 day', 'start of month') = date('@D@', '+1 day') THEN '+0 months' ELSE '-1 months' END, '-10 months', '-1 day')
  UNION ALL SELECT k + 1, date(first, '+1 month'), date(first, '+2 months', '-1 day') FROM m WHERE k < 11),
ar(first, x_start, x_end, cur_end, sales) AS (
  SELECT first,
    (SELECT coalesce(sum(v), 0) FROM (SELECT i.amount_minor
       - coalesce((SELECT sum(amount_minor) FROM payments p WHERE p.invoice_id = i.id AND p.status = 'settled' AND p.date < first), 0)
       - coalesce((SELECT sum(amount_minor) FROM credits c WHERE c.invoice_id = i.id AND c.date < first), 0) AS v
       FROM invoices i WHERE i.issue_date < first) WHERE v > 0),
    (SELECT coalesce(sum(v), 0) FROM (SELECT i.amount_minor
       - coalesce((SELECT sum(amount_minor) FROM payments p WHERE p.invoice_id = i.id AND p.status = 'settled' AND p.date <= last), 0)
       - coalesce((SELECT sum(amount_minor) FROM credits c WHERE c.invoice_id = i.id AND c.date <= last), 0) AS v
       FROM invoices i WHERE i.issue_date <= last) WHERE v > 0),
    (SELECT coalesce(sum(v), 0) FROM (SELECT i.amount_minor
       - coalesce((SELECT sum(amount_minor) FROM payments p WHERE p.invoice_id = i.id AND p.status = 'settled' AND p.date <= last), 0)
       - coalesce((SELECT sum(amount_minor) FROM credits c WHERE c.invoice_id = i.id AND c.date <= last), 0) AS v
       FROM invoices i WHERE i.issue_date <= last AND i.due_date >= last) WHERE v > 0),
    (SELECT coalesce(sum(amount_minor), 0) FROM invoices WHERE issue_date BETWEEN first AND last)
  FROM m WHERE last >= (SELECT min(issue_date) FROM invoices))
SELECT 'open_invoices', count(*), 1 FROM o
UNION ALL SELECT 'open_ar', coalesce(sum(b), 0), 100 FROM o
UNION ALL SELECT 'dso', (SELECT coalesce(sum(b), 0) FROM o) * @P@, (SELECT sales FROM s)
UNION ALL SELECT 'best_possible_dso', (SELECT coalesce(sum(b), 0) FROM o WHERE dpd <= 0) * @P@, (SELECT sales FROM s)
UNION ALL SELECT 'aging.current', coalesce(sum(b), 0), 100 FROM o WHERE dpd <= 0
UNION ALL SELECT 'aging.1-30', coalesce(sum(b), 0), 100 FROM o WHERE dpd BETWEEN 1 AND 30
UNION ALL SELECT 'aging.31-60', coalesce(sum(b), 0), 100 FROM o WHERE dpd BETWEEN 31 AND 60
UNION ALL SELECT 'aging.61-90', coalesce(sum(b), 0), 100 FROM o WHERE dpd BETWEEN 61 AND 90
UNION ALL SELECT 'aging.90+', coalesce(sum(b), 0), 100 FROM o WHERE dpd > 90
UNION ALL SELECT 'cei.' || substr(first, 1, 7), (x_start + sales - x_end) * 100, x_start + sales - cur_end FROM ar
UNION ALL SELECT 'dispute_resolution_days', coalesce(sum(julianday(resolved_on) - julianday(opened_on)), 0), count(*)
  FROM disputes WHERE opened_on <= '@D@' AND resolved_on IS NOT NULL AND resolved_on <= '@D@' AND resolved_on >= opened_on;
