-- Everyday receivables (issue 10), first step: payments reach invoices through dated
-- allocations, which a void or a correction later reverses as of a date instead of
-- deleting, and a payment keeps what is left of it as unapplied credit. Every existing
-- value is kept: each payment application becomes the allocation with the same id, and
-- every existing payment was applied whole, so its new sums are exactly 0.

-- An allocation joins a source and an invoice of the same organization and customer; the
-- composite keys make anything else a constraint failure, not only a failed check.
CREATE UNIQUE INDEX invoices_org_customer_id ON invoices(organization_id, customer_id, id);
DROP INDEX invoices_org_customer;
CREATE UNIQUE INDEX payments_org_customer_id ON payments(organization_id, customer_id, id);
DROP INDEX payments_org_customer;

CREATE TABLE allocations (
    id              INTEGER PRIMARY KEY,
    organization_id INTEGER NOT NULL REFERENCES organizations(id),
    customer_id     INTEGER NOT NULL,
    invoice_id      INTEGER NOT NULL,
    -- The source: a payment, or (from a later step) a credit note; exactly one.
    payment_id      INTEGER,
    credit_note_id  INTEGER,
    amount_minor    INTEGER NOT NULL CHECK (amount_minor > 0),
    applied_date    TEXT NOT NULL,
    -- Set once, when the allocation is undone; it counts on no date from then on.
    reversed_date   TEXT CHECK (reversed_date IS NULL OR reversed_date >= applied_date),
    reversal_reason TEXT,
    created_at      TEXT NOT NULL,
    CHECK ((payment_id IS NULL) <> (credit_note_id IS NULL)),
    FOREIGN KEY (organization_id, customer_id, invoice_id)
        REFERENCES invoices (organization_id, customer_id, id),
    FOREIGN KEY (organization_id, customer_id, payment_id)
        REFERENCES payments (organization_id, customer_id, id)
);

INSERT INTO allocations (id, organization_id, customer_id, invoice_id, payment_id,
                         amount_minor, applied_date, created_at)
SELECT a.id, a.organization_id, p.customer_id, a.invoice_id, a.payment_id,
       a.amount_minor, a.applied_date, a.created_at
FROM payment_applications a JOIN payments p ON p.id = a.payment_id;

-- The same indexes as the applications had, under the new name; the date index also
-- covers the customer, for credit per customer at a date.
CREATE INDEX allocations_invoice ON allocations(invoice_id, applied_date);
CREATE INDEX allocations_org_date
    ON allocations(organization_id, applied_date, invoice_id, amount_minor, customer_id);
CREATE INDEX allocations_payment ON allocations(payment_id) WHERE payment_id IS NOT NULL;

DROP TRIGGER payment_applications_insert_clears;
DROP TRIGGER payment_applications_update_clears;
DROP TRIGGER payment_applications_delete_clears;
DROP TRIGGER payments_update_clears;
DROP TABLE payment_applications;

-- Allocations are facts: one may only be reversed, once, and never deleted.
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

-- The detail copies (V4) follow allocations as they followed applications.
CREATE TRIGGER allocations_insert_clears AFTER INSERT ON allocations BEGIN
    UPDATE invoices SET payments_json = NULL WHERE id = NEW.invoice_id AND payments_json IS NOT NULL;
END;
CREATE TRIGGER allocations_update_clears AFTER UPDATE ON allocations BEGIN
    UPDATE invoices SET payments_json = NULL WHERE id IN (OLD.invoice_id, NEW.invoice_id);
END;
-- Only what the payments array shows: applying or refunding a payment's credit moves its
-- sums and must not clear the copies of every invoice it was applied to.
CREATE TRIGGER payments_update_clears
AFTER UPDATE OF payment_method, reference_number, payment_date ON payments BEGIN
    UPDATE invoices SET payments_json = NULL
    WHERE id IN (SELECT invoice_id FROM allocations WHERE payment_id = NEW.id);
END;

-- What is left of a payment (unapplied credit) and what of it was given back; a void
-- (bounced check, keyed twice) is dated. Refunded first: the unapplied CHECK reads it.
ALTER TABLE payments ADD COLUMN refunded_minor INTEGER NOT NULL DEFAULT 0
    CHECK (refunded_minor >= 0);
ALTER TABLE payments ADD COLUMN unapplied_minor INTEGER NOT NULL DEFAULT 0
    CHECK (unapplied_minor >= 0 AND unapplied_minor + refunded_minor <= amount_minor);
ALTER TABLE payments ADD COLUMN void_date TEXT CHECK (void_date IS NULL OR void_date >= payment_date);
ALTER TABLE payments ADD COLUMN void_reason TEXT;
