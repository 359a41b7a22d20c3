-- Every list (and its CSV export) reads an organization's rows in id order. With only
-- indexes that lead with organization_id and then another column, SQLite read the
-- organization's rows through one of them and sorted them all in a temporary B-tree: a
-- page of 50 sorted every row, and the CSV export of a 1M-invoice book held the whole sort
-- in memory (199 MiB). These indexes keep each organization's rows in id order, so a list
-- reads them in order and stops at its page.
CREATE INDEX IF NOT EXISTS invoices_org_id ON invoices(organization_id, id);
CREATE INDEX IF NOT EXISTS payments_org_id ON payments(organization_id, id);
CREATE INDEX IF NOT EXISTS credit_notes_org_id ON credit_notes(organization_id, id);
CREATE INDEX IF NOT EXISTS customers_org_id ON customers(organization_id, id);
