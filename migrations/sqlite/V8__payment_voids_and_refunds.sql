-- Everyday receivables (issue 10), second step: a payment voided as of a date reverses its
-- allocations on that date, and unapplied credit can be given back as dated refunds.

-- Reports at a date add back what was reversed after it; this finds those reversals
-- without touching the allocations that were never reversed.
CREATE INDEX allocations_org_reversed
    ON allocations(organization_id, reversed_date, invoice_id, amount_minor, customer_id)
    WHERE reversed_date IS NOT NULL;

-- Collections in a window are payments dated in it less payments voided in it.
CREATE INDEX payments_org_void ON payments(organization_id, void_date, amount_minor)
    WHERE void_date IS NOT NULL;

CREATE TABLE refunds (
    id               INTEGER PRIMARY KEY,
    organization_id  INTEGER NOT NULL REFERENCES organizations(id),
    customer_id      INTEGER NOT NULL,
    -- The source refunded: a payment, or (from a later step) a credit note; exactly one.
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
        REFERENCES payments (organization_id, customer_id, id)
);
CREATE INDEX refunds_payment ON refunds(payment_id) WHERE payment_id IS NOT NULL;
CREATE INDEX refunds_org_date ON refunds(organization_id, refund_date, customer_id, amount_minor);

-- Money given back is a fact: never changed, never deleted.
CREATE TRIGGER refunds_never_changed BEFORE UPDATE ON refunds BEGIN
    SELECT RAISE(ABORT, 'refunds are never changed');
END;
CREATE TRIGGER refunds_never_deleted BEFORE DELETE ON refunds BEGIN
    SELECT RAISE(ABORT, 'refunds are never deleted');
END;
