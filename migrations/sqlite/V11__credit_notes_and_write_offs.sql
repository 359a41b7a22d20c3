-- Everyday receivables (issue 10), third step: credit notes (a second credit source) and
-- write-offs. An invoice's open amount becomes total - paid - credited - written off, and
-- an invoice closed by a write-off has its own status, so `invoices` is rebuilt (SQLite
-- cannot widen a CHECK in place): SQLite's twelve-step procedure, with foreign keys off
-- for the run (`db::migrate` switches them off around the runner and runs
-- `foreign_key_check` after it). `allocations` and `refunds` are rebuilt too, so their
-- credit-note column gets the typed, same-customer foreign key the payment column has.
-- Every existing value is copied verbatim; every new sum starts at 0, which is exact.

-- 1. Triggers on other tables whose bodies name a rebuilt table: the renames below would
--    re-parse them against a schema in which that table is missing.
DROP TRIGGER invoice_items_insert_clears;
DROP TRIGGER invoice_items_update_clears;
DROP TRIGGER invoice_items_delete_clears;
DROP TRIGGER payments_update_clears;
DROP TRIGGER allocations_insert_clears;
DROP TRIGGER allocations_update_clears;

-- 2. Invoices, with the wider status and the two new sums. AUTOINCREMENT: a deleted
--    draft's id is never given to another invoice (a client may still hold it, and an
--    idempotent replay answers its Location), as a plain rowid would after the last row.
CREATE TABLE invoices_new (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id     INTEGER NOT NULL REFERENCES organizations(id),
    customer_id         INTEGER NOT NULL REFERENCES customers(id),
    invoice_number      TEXT NOT NULL,
    status              TEXT NOT NULL
        CHECK (status IN ('draft', 'sent', 'partially_paid', 'paid', 'written_off', 'void')),
    issue_date          TEXT NOT NULL,
    due_date            TEXT NOT NULL,
    notes               TEXT,
    subtotal_minor      INTEGER NOT NULL,
    tax_total_minor     INTEGER NOT NULL,
    total_minor         INTEGER NOT NULL,
    -- Live allocations from payments, from credit notes, and live write-offs: each moved
    -- in the transaction of the fact it sums. Together they never pass the total.
    amount_paid_minor        INTEGER NOT NULL DEFAULT 0 CHECK (amount_paid_minor >= 0),
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    items_json          TEXT,
    payments_json       TEXT,
    amount_credited_minor    INTEGER NOT NULL DEFAULT 0 CHECK (amount_credited_minor >= 0),
    amount_written_off_minor INTEGER NOT NULL DEFAULT 0 CHECK (amount_written_off_minor >= 0),
    CHECK (amount_paid_minor + amount_credited_minor + amount_written_off_minor <= total_minor),
    UNIQUE (organization_id, invoice_number)
);
INSERT INTO invoices_new (id, organization_id, customer_id, invoice_number, status, issue_date,
    due_date, notes, subtotal_minor, tax_total_minor, total_minor, amount_paid_minor,
    created_at, updated_at, items_json, payments_json)
SELECT id, organization_id, customer_id, invoice_number, status, issue_date,
    due_date, notes, subtotal_minor, tax_total_minor, total_minor, amount_paid_minor,
    created_at, updated_at, items_json, payments_json
FROM invoices;
DROP TABLE invoices;
ALTER TABLE invoices_new RENAME TO invoices;

CREATE UNIQUE INDEX invoices_org_customer_id ON invoices(organization_id, customer_id, id);
CREATE INDEX invoices_org_issue ON invoices(organization_id, issue_date);
CREATE INDEX invoices_unrendered ON invoices(id)
    WHERE items_json IS NULL OR payments_json IS NULL;
-- Covering, as before, now with every sum the open amount is made of.
CREATE INDEX invoices_org_status_due
    ON invoices(organization_id, status, due_date, customer_id, issue_date, total_minor,
                amount_paid_minor, amount_credited_minor, amount_written_off_minor);
CREATE INDEX invoices_open_by_customer
    ON invoices(organization_id, customer_id, due_date, issue_date, total_minor,
                amount_paid_minor, amount_credited_minor, amount_written_off_minor, status)
    WHERE status IN ('sent', 'partially_paid');

-- 2b. Customers, for the same reason: a deleted customer's id is never given to another.
CREATE TABLE customers_new (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id     INTEGER NOT NULL REFERENCES organizations(id),
    customer_code       TEXT NOT NULL,
    name                TEXT NOT NULL,
    email               TEXT,
    phone               TEXT,
    billing_address     TEXT,
    payment_terms_days  INTEGER NOT NULL,
    credit_limit_minor  INTEGER,
    notes               TEXT,
    is_active           INTEGER NOT NULL DEFAULT 1,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    UNIQUE (organization_id, customer_code)
);
INSERT INTO customers_new SELECT id, organization_id, customer_code, name, email, phone,
    billing_address, payment_terms_days, credit_limit_minor, notes, is_active, created_at,
    updated_at
FROM customers;
DROP TABLE customers;
ALTER TABLE customers_new RENAME TO customers;
CREATE INDEX customers_org_name ON customers(organization_id, name);

-- 3. Credit notes: documents with lines like an invoice's, and a source of credit like a
--    payment (unapplied, refunded, a dated void).
CREATE TABLE credit_notes (
    id                 INTEGER PRIMARY KEY,
    organization_id    INTEGER NOT NULL REFERENCES organizations(id),
    customer_id        INTEGER NOT NULL REFERENCES customers(id),
    credit_note_number TEXT NOT NULL,
    -- The invoice it credits, when it credits one.
    invoice_id         INTEGER,
    issue_date         TEXT NOT NULL,
    reason             TEXT NOT NULL,
    subtotal_minor     INTEGER NOT NULL,
    tax_total_minor    INTEGER NOT NULL,
    total_minor        INTEGER NOT NULL CHECK (total_minor > 0),
    refunded_minor     INTEGER NOT NULL DEFAULT 0 CHECK (refunded_minor >= 0),
    unapplied_minor    INTEGER NOT NULL
        CHECK (unapplied_minor >= 0 AND unapplied_minor + refunded_minor <= total_minor),
    void_date          TEXT CHECK (void_date IS NULL OR void_date >= issue_date),
    void_reason        TEXT,
    created_at         TEXT NOT NULL,
    UNIQUE (organization_id, credit_note_number),
    FOREIGN KEY (organization_id, customer_id, invoice_id)
        REFERENCES invoices (organization_id, customer_id, id)
);
CREATE UNIQUE INDEX credit_notes_org_customer_id ON credit_notes(organization_id, customer_id, id);
CREATE INDEX credit_notes_invoice ON credit_notes(invoice_id) WHERE invoice_id IS NOT NULL;
CREATE INDEX credit_notes_unapplied ON credit_notes(organization_id, customer_id, unapplied_minor)
    WHERE unapplied_minor > 0;
CREATE INDEX credit_notes_org_date
    ON credit_notes(organization_id, issue_date, total_minor, customer_id);
CREATE INDEX credit_notes_org_void
    ON credit_notes(organization_id, void_date, total_minor, customer_id)
    WHERE void_date IS NOT NULL;

CREATE TABLE credit_note_items (
    id                  INTEGER PRIMARY KEY,
    credit_note_id      INTEGER NOT NULL REFERENCES credit_notes(id),
    position            INTEGER NOT NULL,
    description         TEXT NOT NULL,
    quantity            TEXT NOT NULL,
    unit_price          TEXT NOT NULL,
    tax_rate            TEXT NOT NULL,
    line_subtotal_minor INTEGER NOT NULL,
    line_tax_minor      INTEGER NOT NULL,
    line_total_minor    INTEGER NOT NULL,
    UNIQUE (credit_note_id, position)
);
-- A credit note, once issued, is a document: only voided, never edited.
CREATE TRIGGER credit_note_items_never_changed BEFORE UPDATE ON credit_note_items BEGIN
    SELECT RAISE(ABORT, 'credit note lines are never changed');
END;
CREATE TRIGGER credit_note_items_never_deleted BEFORE DELETE ON credit_note_items BEGIN
    SELECT RAISE(ABORT, 'credit note lines are never deleted');
END;
CREATE TRIGGER credit_notes_never_deleted BEFORE DELETE ON credit_notes BEGIN
    SELECT RAISE(ABORT, 'credit notes are never deleted; void them');
END;

-- 4. Allocations, rebuilt with the credit-note foreign key.
CREATE TABLE allocations_new (
    id              INTEGER PRIMARY KEY,
    organization_id INTEGER NOT NULL REFERENCES organizations(id),
    customer_id     INTEGER NOT NULL,
    invoice_id      INTEGER NOT NULL,
    payment_id      INTEGER,
    credit_note_id  INTEGER,
    amount_minor    INTEGER NOT NULL CHECK (amount_minor > 0),
    applied_date    TEXT NOT NULL,
    reversed_date   TEXT CHECK (reversed_date IS NULL OR reversed_date >= applied_date),
    reversal_reason TEXT,
    created_at      TEXT NOT NULL,
    CHECK ((payment_id IS NULL) <> (credit_note_id IS NULL)),
    FOREIGN KEY (organization_id, customer_id, invoice_id)
        REFERENCES invoices (organization_id, customer_id, id),
    FOREIGN KEY (organization_id, customer_id, payment_id)
        REFERENCES payments (organization_id, customer_id, id),
    FOREIGN KEY (organization_id, customer_id, credit_note_id)
        REFERENCES credit_notes (organization_id, customer_id, id)
);
INSERT INTO allocations_new SELECT id, organization_id, customer_id, invoice_id, payment_id,
    credit_note_id, amount_minor, applied_date, reversed_date, reversal_reason, created_at
FROM allocations;
DROP TABLE allocations;
ALTER TABLE allocations_new RENAME TO allocations;
CREATE INDEX allocations_invoice ON allocations(invoice_id, applied_date);
CREATE INDEX allocations_org_date
    ON allocations(organization_id, applied_date, invoice_id, amount_minor, customer_id);
CREATE INDEX allocations_org_reversed
    ON allocations(organization_id, reversed_date, invoice_id, amount_minor, customer_id)
    WHERE reversed_date IS NOT NULL;
CREATE INDEX allocations_payment ON allocations(payment_id) WHERE payment_id IS NOT NULL;
CREATE INDEX allocations_credit_note ON allocations(credit_note_id) WHERE credit_note_id IS NOT NULL;
-- An invoice's credit notes, for its detail answer, without reading its payments.
CREATE INDEX allocations_invoice_credit ON allocations(invoice_id) WHERE credit_note_id IS NOT NULL;

CREATE TRIGGER allocations_never_deleted BEFORE DELETE ON allocations BEGIN
    SELECT RAISE(ABORT, 'allocations are never deleted; reverse them');
END;
CREATE TRIGGER allocations_only_reversed BEFORE UPDATE ON allocations
WHEN OLD.reversed_date IS NOT NULL OR NEW.reversed_date IS NULL
    OR NEW.id IS NOT OLD.id OR NEW.organization_id IS NOT OLD.organization_id
    OR NEW.customer_id IS NOT OLD.customer_id OR NEW.invoice_id IS NOT OLD.invoice_id
    OR NEW.payment_id IS NOT OLD.payment_id OR NEW.credit_note_id IS NOT OLD.credit_note_id
    OR NEW.amount_minor IS NOT OLD.amount_minor OR NEW.applied_date IS NOT OLD.applied_date
    OR NEW.created_at IS NOT OLD.created_at
BEGIN
    SELECT RAISE(ABORT, 'an allocation changes only by its one reversal');
END;
-- The payments array of an invoice's detail copy shows payment allocations only.
CREATE TRIGGER allocations_insert_clears AFTER INSERT ON allocations
WHEN NEW.payment_id IS NOT NULL BEGIN
    UPDATE invoices SET payments_json = NULL WHERE id = NEW.invoice_id AND payments_json IS NOT NULL;
END;
CREATE TRIGGER allocations_update_clears AFTER UPDATE ON allocations
WHEN NEW.payment_id IS NOT NULL BEGIN
    UPDATE invoices SET payments_json = NULL WHERE id IN (OLD.invoice_id, NEW.invoice_id);
END;

-- 5. Refunds, rebuilt the same way.
CREATE TABLE refunds_new (
    id               INTEGER PRIMARY KEY,
    organization_id  INTEGER NOT NULL REFERENCES organizations(id),
    customer_id      INTEGER NOT NULL,
    payment_id       INTEGER,
    credit_note_id   INTEGER,
    amount_minor     INTEGER NOT NULL CHECK (amount_minor > 0),
    refund_date      TEXT NOT NULL,
    payment_method   TEXT NOT NULL,
    reference_number TEXT,
    reason           TEXT,
    created_at       TEXT NOT NULL,
    CHECK ((payment_id IS NULL) <> (credit_note_id IS NULL)),
    FOREIGN KEY (organization_id, customer_id, payment_id)
        REFERENCES payments (organization_id, customer_id, id),
    FOREIGN KEY (organization_id, customer_id, credit_note_id)
        REFERENCES credit_notes (organization_id, customer_id, id)
);
INSERT INTO refunds_new SELECT id, organization_id, customer_id, payment_id, credit_note_id,
    amount_minor, refund_date, payment_method, reference_number, reason, created_at
FROM refunds;
DROP TABLE refunds;
ALTER TABLE refunds_new RENAME TO refunds;
CREATE INDEX refunds_payment ON refunds(payment_id) WHERE payment_id IS NOT NULL;
CREATE INDEX refunds_credit_note ON refunds(credit_note_id) WHERE credit_note_id IS NOT NULL;
CREATE INDEX refunds_org_date ON refunds(organization_id, refund_date, customer_id, amount_minor);
CREATE TRIGGER refunds_never_changed BEFORE UPDATE ON refunds BEGIN
    SELECT RAISE(ABORT, 'refunds are never changed');
END;
CREATE TRIGGER refunds_never_deleted BEFORE DELETE ON refunds BEGIN
    SELECT RAISE(ABORT, 'refunds are never deleted');
END;

-- 6. Write-offs: a dated reduction of an invoice's open amount, reversed (a recovered bad
--    debt) at most once, never deleted.
CREATE TABLE write_offs (
    id              INTEGER PRIMARY KEY,
    organization_id INTEGER NOT NULL REFERENCES organizations(id),
    customer_id     INTEGER NOT NULL,
    invoice_id      INTEGER NOT NULL,
    amount_minor    INTEGER NOT NULL CHECK (amount_minor > 0),
    write_off_date  TEXT NOT NULL,
    reason          TEXT NOT NULL,
    reversed_date   TEXT CHECK (reversed_date IS NULL OR reversed_date >= write_off_date),
    reversal_reason TEXT,
    created_at      TEXT NOT NULL,
    FOREIGN KEY (organization_id, customer_id, invoice_id)
        REFERENCES invoices (organization_id, customer_id, id)
);
CREATE INDEX write_offs_invoice ON write_offs(invoice_id);
CREATE INDEX write_offs_org_date
    ON write_offs(organization_id, write_off_date, invoice_id, amount_minor, customer_id);
CREATE INDEX write_offs_org_reversed
    ON write_offs(organization_id, reversed_date, invoice_id, amount_minor, customer_id)
    WHERE reversed_date IS NOT NULL;
CREATE TRIGGER write_offs_never_deleted BEFORE DELETE ON write_offs BEGIN
    SELECT RAISE(ABORT, 'write-offs are never deleted; reverse them');
END;
CREATE TRIGGER write_offs_only_reversed BEFORE UPDATE ON write_offs
WHEN OLD.reversed_date IS NOT NULL OR NEW.reversed_date IS NULL
    OR NEW.id IS NOT OLD.id OR NEW.organization_id IS NOT OLD.organization_id
    OR NEW.customer_id IS NOT OLD.customer_id OR NEW.invoice_id IS NOT OLD.invoice_id
    OR NEW.amount_minor IS NOT OLD.amount_minor OR NEW.write_off_date IS NOT OLD.write_off_date
    OR NEW.reason IS NOT OLD.reason OR NEW.created_at IS NOT OLD.created_at
BEGIN
    SELECT RAISE(ABORT, 'a write-off changes only by its one reversal');
END;

-- 7. The dropped triggers, as they were.
CREATE TRIGGER invoice_items_insert_clears AFTER INSERT ON invoice_items BEGIN
    UPDATE invoices SET items_json = NULL WHERE id = NEW.invoice_id AND items_json IS NOT NULL;
END;
CREATE TRIGGER invoice_items_update_clears AFTER UPDATE ON invoice_items BEGIN
    UPDATE invoices SET items_json = NULL WHERE id IN (OLD.invoice_id, NEW.invoice_id);
END;
CREATE TRIGGER invoice_items_delete_clears AFTER DELETE ON invoice_items BEGIN
    UPDATE invoices SET items_json = NULL WHERE id = OLD.invoice_id;
END;
CREATE TRIGGER payments_update_clears
AFTER UPDATE OF payment_method, reference_number, payment_date ON payments BEGIN
    UPDATE invoices SET payments_json = NULL
    WHERE id IN (SELECT invoice_id FROM allocations WHERE payment_id = NEW.id);
END;
