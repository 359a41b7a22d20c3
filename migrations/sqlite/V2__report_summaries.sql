-- Summaries the dashboard reads instead of scanning every invoice. Each is kept in the
-- same transaction as the change it counts (db::invoices::record_status).

-- Invoices and their totals per organization, issue date and current status.
CREATE TABLE invoice_daily (
    organization_id INTEGER NOT NULL,
    issue_date      TEXT NOT NULL,
    status          TEXT NOT NULL,
    invoice_count   INTEGER NOT NULL,
    total_minor     INTEGER NOT NULL,
    PRIMARY KEY (organization_id, issue_date, status)
) WITHOUT ROWID;

-- Invoices settled per organization and settlement date (the latest payment date of an
-- invoice paid in full), with the sum of their days from issue to settlement.
CREATE TABLE settled_daily (
    organization_id INTEGER NOT NULL,
    settled_on      TEXT NOT NULL,
    invoice_count   INTEGER NOT NULL,
    days_to_pay     INTEGER NOT NULL,
    PRIMARY KEY (organization_id, settled_on)
) WITHOUT ROWID;

INSERT INTO invoice_daily (organization_id, issue_date, status, invoice_count, total_minor)
SELECT organization_id, issue_date, status, COUNT(*), SUM(total_minor)
FROM invoices GROUP BY organization_id, issue_date, status;

INSERT INTO settled_daily (organization_id, settled_on, invoice_count, days_to_pay)
SELECT i.organization_id, s.settled_on, COUNT(*),
       SUM(CAST(julianday(s.settled_on) - julianday(i.issue_date) AS INTEGER))
FROM invoices i
JOIN (SELECT invoice_id, MAX(applied_date) AS settled_on FROM payment_applications GROUP BY invoice_id) s
  ON s.invoice_id = i.id
WHERE i.status = 'paid'
GROUP BY i.organization_id, s.settled_on;

-- Covering: collections by date and the aging's later-payments scan read only the index.
DROP INDEX payment_applications_org_date;
CREATE INDEX payment_applications_org_date
    ON payment_applications(organization_id, applied_date, invoice_id, amount_minor);

-- Covering for aging: today's open invoices by status, read from the index alone.
DROP INDEX invoices_org_status_due;
CREATE INDEX invoices_org_status_due
    ON invoices(organization_id, status, due_date, customer_id, issue_date, total_minor, amount_paid_minor);
