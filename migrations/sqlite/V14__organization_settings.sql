-- The organization's own settings: who it is (for documents), the default payment terms of
-- new customers, and the prefixes of generated invoice and credit-note numbers.
ALTER TABLE organizations ADD COLUMN legal_name TEXT;
ALTER TABLE organizations ADD COLUMN address TEXT;
ALTER TABLE organizations ADD COLUMN tax_id TEXT;
ALTER TABLE organizations ADD COLUMN email TEXT;
ALTER TABLE organizations ADD COLUMN phone TEXT;
ALTER TABLE organizations ADD COLUMN default_payment_terms_days INTEGER NOT NULL DEFAULT 30
    CHECK (default_payment_terms_days BETWEEN 0 AND 365);
ALTER TABLE organizations ADD COLUMN invoice_number_prefix TEXT NOT NULL DEFAULT 'INV-';
ALTER TABLE organizations ADD COLUMN credit_note_number_prefix TEXT NOT NULL DEFAULT 'CN-';
ALTER TABLE organizations ADD COLUMN updated_at TEXT;
UPDATE organizations SET updated_at = created_at;

-- The organization itself is now journaled: existing ones get their first event on the
-- next open, like rows from before the journal.
INSERT OR IGNORE INTO journal_imports_due (organization_id) SELECT id FROM organizations;
