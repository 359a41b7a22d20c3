-- A list filtered by status alone (`GET /v1/invoices?status=written_off`) read the
-- organization's invoices in id order (V23's index) and tested each one's status: on a
-- 100k book, 63 ms for a first page of a rare status, growing with the book. This index
-- holds each status's invoices in id order (SQLite keeps the rowid last), so the page is
-- one range and needs no sort, for a rare status and a common one alike.
CREATE INDEX IF NOT EXISTS invoices_org_status ON invoices(organization_id, status);
