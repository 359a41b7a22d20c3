-- A list filtered by status and customer reads one range of this index, in id order (as
-- SQLite's migration V21).
CREATE INDEX IF NOT EXISTS invoices_org_status_customer
    ON invoices (organization_id, status, customer_id, id);
