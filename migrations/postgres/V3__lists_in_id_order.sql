-- Every list reads an organization's rows in id order from one of these (as SQLite's
-- migration V23), rather than sorting all of the organization's rows for each page.
CREATE INDEX IF NOT EXISTS invoices_org_id ON invoices (organization_id, id);
CREATE INDEX IF NOT EXISTS payments_org_id ON payments (organization_id, id);
CREATE INDEX IF NOT EXISTS credit_notes_org_id ON credit_notes (organization_id, id);
CREATE INDEX IF NOT EXISTS customers_org_id ON customers (organization_id, id);
