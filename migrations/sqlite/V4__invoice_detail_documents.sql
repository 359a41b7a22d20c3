-- Reading an invoice took three statements and about ten B-tree descents: the row, its
-- lines (an index, then each line) and its applied payments (an index, each application,
-- each payment). These columns hold the detail view's `items` and `payments` arrays as
-- the API renders them, so a read is one row. The normalized tables stay the record:
-- the triggers below clear a copy whenever what it was rendered from changes, the
-- writer renders cleared copies before it commits, and a read of a cleared copy falls
-- back to the normalized tables. NULL means "not rendered".
ALTER TABLE invoices ADD COLUMN items_json TEXT;
ALTER TABLE invoices ADD COLUMN payments_json TEXT;

-- Finds what is left to render without scanning the table; empty once all is rendered.
CREATE INDEX invoices_unrendered ON invoices(id)
    WHERE items_json IS NULL OR payments_json IS NULL;

CREATE TRIGGER invoice_items_insert_clears AFTER INSERT ON invoice_items BEGIN
    UPDATE invoices SET items_json = NULL WHERE id = NEW.invoice_id AND items_json IS NOT NULL;
END;
CREATE TRIGGER invoice_items_update_clears AFTER UPDATE ON invoice_items BEGIN
    UPDATE invoices SET items_json = NULL WHERE id IN (OLD.invoice_id, NEW.invoice_id);
END;
CREATE TRIGGER invoice_items_delete_clears AFTER DELETE ON invoice_items BEGIN
    UPDATE invoices SET items_json = NULL WHERE id = OLD.invoice_id;
END;

CREATE TRIGGER payment_applications_insert_clears AFTER INSERT ON payment_applications BEGIN
    UPDATE invoices SET payments_json = NULL WHERE id = NEW.invoice_id AND payments_json IS NOT NULL;
END;
CREATE TRIGGER payment_applications_update_clears AFTER UPDATE ON payment_applications BEGIN
    UPDATE invoices SET payments_json = NULL WHERE id IN (OLD.invoice_id, NEW.invoice_id);
END;
CREATE TRIGGER payment_applications_delete_clears AFTER DELETE ON payment_applications BEGIN
    UPDATE invoices SET payments_json = NULL WHERE id = OLD.invoice_id;
END;

-- The payments array shows each payment's method and reference.
CREATE TRIGGER payments_update_clears AFTER UPDATE ON payments BEGIN
    UPDATE invoices SET payments_json = NULL
    WHERE id IN (SELECT invoice_id FROM payment_applications WHERE payment_id = NEW.id);
END;
