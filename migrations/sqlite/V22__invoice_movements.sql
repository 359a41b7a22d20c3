-- What an invoice's open amount did on each date, summed: a payment's rules and the paid
-- intervals behind `settled_daily` need only that (`db::allocations::movements_of`). They
-- read every allocation and write-off of the invoice instead, so against an invoice paid
-- in thousands of instalments each payment cost more than the last. Kept by triggers, so
-- every writer (the API, the seeder, `migrate-db`) keeps it; the facts stay the record and
-- `doctor` checks the one against the other. PostgreSQL reads the facts.
-- `facts` names the table the movements come from: `allocations` (payments and credit
-- notes; their reversals back) or `write_offs` (theirs back).
CREATE TABLE invoice_movements (
    organization_id INTEGER NOT NULL,
    invoice_id      INTEGER NOT NULL,
    facts           TEXT NOT NULL CHECK (facts IN ('allocations', 'write_offs')),
    moved_on        TEXT NOT NULL,
    delta_minor     INTEGER NOT NULL,
    PRIMARY KEY (organization_id, invoice_id, facts, moved_on)
) WITHOUT ROWID;

INSERT INTO invoice_movements (organization_id, invoice_id, facts, moved_on, delta_minor)
SELECT organization_id, invoice_id, facts, moved_on, SUM(delta_minor) FROM (
    SELECT organization_id, invoice_id, 'allocations' AS facts, applied_date AS moved_on,
           -amount_minor AS delta_minor FROM allocations
    UNION ALL
    SELECT organization_id, invoice_id, 'allocations', reversed_date, amount_minor
    FROM allocations WHERE reversed_date IS NOT NULL
    UNION ALL
    SELECT organization_id, invoice_id, 'write_offs', write_off_date, -amount_minor FROM write_offs
    UNION ALL
    SELECT organization_id, invoice_id, 'write_offs', reversed_date, amount_minor
    FROM write_offs WHERE reversed_date IS NOT NULL
)
GROUP BY organization_id, invoice_id, facts, moved_on;

-- A fact is written once (reversed already, when `migrate-db` copies it) and changes only
-- by its one reversal (the triggers of V11 refuse anything else).
CREATE TRIGGER allocations_move_invoice AFTER INSERT ON allocations BEGIN
    INSERT INTO invoice_movements VALUES
        (NEW.organization_id, NEW.invoice_id, 'allocations', NEW.applied_date, -NEW.amount_minor)
    ON CONFLICT DO UPDATE SET delta_minor = delta_minor + excluded.delta_minor;
    INSERT INTO invoice_movements
    SELECT NEW.organization_id, NEW.invoice_id, 'allocations', NEW.reversed_date, NEW.amount_minor
    WHERE NEW.reversed_date IS NOT NULL
    ON CONFLICT DO UPDATE SET delta_minor = delta_minor + excluded.delta_minor;
END;
CREATE TRIGGER allocations_reversal_moves_invoice AFTER UPDATE OF reversed_date ON allocations
WHEN NEW.reversed_date IS NOT NULL BEGIN
    INSERT INTO invoice_movements VALUES
        (NEW.organization_id, NEW.invoice_id, 'allocations', NEW.reversed_date, NEW.amount_minor)
    ON CONFLICT DO UPDATE SET delta_minor = delta_minor + excluded.delta_minor;
END;
CREATE TRIGGER write_offs_move_invoice AFTER INSERT ON write_offs BEGIN
    INSERT INTO invoice_movements VALUES
        (NEW.organization_id, NEW.invoice_id, 'write_offs', NEW.write_off_date, -NEW.amount_minor)
    ON CONFLICT DO UPDATE SET delta_minor = delta_minor + excluded.delta_minor;
    INSERT INTO invoice_movements
    SELECT NEW.organization_id, NEW.invoice_id, 'write_offs', NEW.reversed_date, NEW.amount_minor
    WHERE NEW.reversed_date IS NOT NULL
    ON CONFLICT DO UPDATE SET delta_minor = delta_minor + excluded.delta_minor;
END;
CREATE TRIGGER write_offs_reversal_moves_invoice AFTER UPDATE OF reversed_date ON write_offs
WHEN NEW.reversed_date IS NOT NULL BEGIN
    INSERT INTO invoice_movements VALUES
        (NEW.organization_id, NEW.invoice_id, 'write_offs', NEW.reversed_date, NEW.amount_minor)
    ON CONFLICT DO UPDATE SET delta_minor = delta_minor + excluded.delta_minor;
END;
