-- Currencies (ISO 4217). Amounts stay integers in the minor units of their currency; the
-- books from before are in USD, whose minor unit is the cent they were already kept in.
ALTER TABLE organizations ADD COLUMN currency TEXT NOT NULL DEFAULT 'USD';

-- A customer's own currency. NULL follows the organization's; either way it is fixed once
-- the customer has a document, so every document of a customer is in one currency.
ALTER TABLE customers ADD COLUMN currency TEXT;
-- The reports' question "does this organization keep books in another currency?".
CREATE INDEX customers_own_currency ON customers(organization_id, currency)
    WHERE currency IS NOT NULL;

-- Each document names its currency (its customer's when it was written).
ALTER TABLE invoices ADD COLUMN currency TEXT NOT NULL DEFAULT 'USD';
ALTER TABLE payments ADD COLUMN currency TEXT NOT NULL DEFAULT 'USD';
ALTER TABLE credit_notes ADD COLUMN currency TEXT NOT NULL DEFAULT 'USD';

-- The dashboard's summaries count each currency apart: a sum over two currencies means
-- nothing.
CREATE TABLE invoice_daily_new (
    organization_id INTEGER NOT NULL,
    currency        TEXT NOT NULL,
    issue_date      TEXT NOT NULL,
    status          TEXT NOT NULL,
    invoice_count   INTEGER NOT NULL,
    total_minor     INTEGER NOT NULL,
    PRIMARY KEY (organization_id, currency, issue_date, status)
) WITHOUT ROWID;
INSERT INTO invoice_daily_new
SELECT organization_id, 'USD', issue_date, status, invoice_count, total_minor FROM invoice_daily;
DROP TABLE invoice_daily;
ALTER TABLE invoice_daily_new RENAME TO invoice_daily;

CREATE TABLE settled_daily_new (
    organization_id INTEGER NOT NULL,
    currency        TEXT NOT NULL,
    settled_on      TEXT NOT NULL,
    invoice_count   INTEGER NOT NULL,
    days_to_pay     INTEGER NOT NULL,
    PRIMARY KEY (organization_id, currency, settled_on)
) WITHOUT ROWID;
INSERT INTO settled_daily_new
SELECT organization_id, 'USD', settled_on, invoice_count, days_to_pay FROM settled_daily;
DROP TABLE settled_daily;
ALTER TABLE settled_daily_new RENAME TO settled_daily;
