-- What an invoice's open amount did on each date, summed (as SQLite's V22): a payment's
-- rules and the paid intervals need only that, so a payment against an invoice paid in
-- thousands of instalments costs no more than the first. SQLite keeps it with triggers;
-- the Citus-ready schema has none, so the statements that write an allocation or a
-- write-off keep it (`db::allocations::moved`), in the same transaction. `doctor` checks it
-- against the facts and `doctor --repair` writes it again from them.
CREATE TABLE invoice_movements (
    organization_id BIGINT NOT NULL REFERENCES organizations (id),
    invoice_id      BIGINT NOT NULL,
    facts           TEXT NOT NULL CHECK (facts IN ('allocations', 'write_offs')),
    moved_on        DATE NOT NULL,
    delta_minor     BIGINT NOT NULL,
    PRIMARY KEY (organization_id, invoice_id, facts, moved_on),
    FOREIGN KEY (organization_id, invoice_id) REFERENCES invoices (organization_id, id)
);

-- Filled for every organization at once: the marker tells the statement check so.
INSERT INTO invoice_movements (organization_id, invoice_id, facts, moved_on, delta_minor)
SELECT /* every organization */ organization_id, invoice_id, facts, moved_on, SUM(delta_minor) FROM (
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
) AS movement
GROUP BY organization_id, invoice_id, facts, moved_on;

-- An invoice's latest payments (its detail lists the last 100) in the order they are shown,
-- read backwards from this index: without `id` in it, every allocation of a date was sorted
-- to find them, so against an invoice paid thousands of times in a day each payment cost more
-- than the last. (SQLite's index holds the rowid, which is the id.)
DROP INDEX allocations_invoice;
CREATE INDEX allocations_invoice ON allocations (organization_id, invoice_id, applied_date, id);
