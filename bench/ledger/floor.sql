-- The floor a run is compared with: read the rows a run reads and compute
-- every open invoice's balance as of the date (amount - settled payments
-- - credits dated <= D), in one plain SQLite query. Parameter :d is bound
-- by run.sh (substituted as a literal before the query runs).
SELECT i.customer_id, i.id, i.currency, i.due_date, bal
FROM (
  SELECT i.*,
         i.amount_minor
         - COALESCE((SELECT SUM(p.amount_minor) FROM payments p
                     WHERE p.invoice_id = i.id AND p.status = 'settled' AND p.date <= :d), 0)
         - COALESCE((SELECT SUM(c.amount_minor) FROM credits c
                     WHERE c.invoice_id = i.id AND c.date <= :d), 0) AS bal
  FROM invoices i
  WHERE i.issue_date <= :d
) AS i
WHERE bal > 0
ORDER BY i.customer_id, i.id;
