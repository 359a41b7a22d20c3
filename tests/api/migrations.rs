//! Taking a book back to an older schema, for the upgrade tests (`upgrades`, and the
//! weighted-mean and restore tests): each step undoes one migration as it was.

use rusqlite::Connection;

use crate::helpers::TestApp;

/// Every row of the report summaries, in key order.
pub(crate) fn summaries(path: &std::path::Path) -> Vec<String> {
    let conn = Connection::open(path).unwrap();
    let mut rows = Vec::new();
    for sql in [
        "SELECT organization_id, issue_date, status, invoice_count, total_minor
         FROM invoice_daily WHERE invoice_count <> 0 ORDER BY 1, 2, 3",
        "SELECT organization_id, settled_on, invoice_count, days_to_pay, ''
         FROM settled_daily WHERE invoice_count <> 0 ORDER BY 1, 2",
    ] {
        let mut stmt = conn.prepare(sql).unwrap();
        let found = stmt
            .query_map([], |row| {
                Ok(format!(
                    "{}|{}|{}|{}|{}",
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, rusqlite::types::Value>(2)
                        .map(|v| format!("{v:?}"))?,
                    row.get::<_, i64>(3)?,
                    row.get::<_, rusqlite::types::Value>(4)
                        .map(|v| format!("{v:?}"))?,
                ))
            })
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        rows.extend(found);
    }
    rows
}

/// Takes the file back from schema version 24 to 19 (20: daily paid counts without
/// amounts; 21: no index of invoices by status and customer; 22: no invoice movements;
/// 23: no indexes of each organization's rows in id order; 24: no index of invoices by
/// status in id order).
pub(crate) fn back_to_version_19(path: &std::path::Path) {
    Connection::open(path)
        .unwrap()
        .execute_batch(
            "DROP INDEX invoices_org_status;
             DELETE FROM refinery_schema_history WHERE version = 24;
             DROP INDEX invoices_org_id;
             DROP INDEX payments_org_id;
             DROP INDEX credit_notes_org_id;
             DROP INDEX customers_org_id;
             DELETE FROM refinery_schema_history WHERE version = 23;
             DROP TRIGGER allocations_move_invoice;
             DROP TRIGGER allocations_reversal_moves_invoice;
             DROP TRIGGER write_offs_move_invoice;
             DROP TRIGGER write_offs_reversal_moves_invoice;
             DROP TABLE invoice_movements;
             DELETE FROM refinery_schema_history WHERE version = 22;
             DROP INDEX invoices_org_status_customer;
             DELETE FROM refinery_schema_history WHERE version = 21;
             ALTER TABLE settled_daily DROP COLUMN paid_total_minor;
             ALTER TABLE settled_daily DROP COLUMN weighted_days;
             DROP TABLE settled_weights_due;
             DELETE FROM refinery_schema_history WHERE version = 20;",
        )
        .unwrap();
}

/// Takes the file back from schema version 19 to 18 (through 20 to 19): journal events
/// without `detail`.
pub(crate) fn back_to_version_18(path: &std::path::Path) {
    back_to_version_19(path);
    Connection::open(path)
        .unwrap()
        .execute_batch(
            "ALTER TABLE journal_events DROP COLUMN detail;
             DELETE FROM refinery_schema_history WHERE version = 19;",
        )
        .unwrap();
}

/// Takes the file back from schema version 18 to 17 (through 19 to 18): no statement indexes.
pub(crate) fn back_to_version_17(path: &std::path::Path) {
    back_to_version_18(path);
    Connection::open(path)
        .unwrap()
        .execute_batch(
            "DROP INDEX allocations_customer;
             DROP INDEX refunds_customer;
             DROP INDEX write_offs_customer;
             DELETE FROM refinery_schema_history WHERE version = 18;",
        )
        .unwrap();
}

/// Takes the file back from schema version 17 to 16 (through 18 to 17): no paper size.
pub(crate) fn back_to_version_16(path: &std::path::Path) {
    back_to_version_17(path);
    Connection::open(path)
        .unwrap()
        .execute_batch(
            "ALTER TABLE organizations DROP COLUMN paper_size;
             DELETE FROM refinery_schema_history WHERE version = 17;",
        )
        .unwrap();
}

/// Takes the file back from schema version 16 to 15 (through 17 to 16): no currencies
/// (SQLite 3.35+ drops columns), summaries without a currency.
pub(crate) fn back_to_version_15(path: &std::path::Path) {
    back_to_version_16(path);
    Connection::open(path)
        .unwrap()
        .execute_batch(
            "DROP INDEX customers_own_currency;
             ALTER TABLE organizations DROP COLUMN currency;
             ALTER TABLE customers DROP COLUMN currency;
             ALTER TABLE invoices DROP COLUMN currency;
             ALTER TABLE payments DROP COLUMN currency;
             ALTER TABLE credit_notes DROP COLUMN currency;
             CREATE TABLE invoice_daily_old (
                 organization_id INTEGER NOT NULL, issue_date TEXT NOT NULL,
                 status TEXT NOT NULL, invoice_count INTEGER NOT NULL,
                 total_minor INTEGER NOT NULL,
                 PRIMARY KEY (organization_id, issue_date, status)) WITHOUT ROWID;
             INSERT INTO invoice_daily_old SELECT organization_id, issue_date, status,
                 SUM(invoice_count), SUM(total_minor) FROM invoice_daily GROUP BY 1, 2, 3;
             DROP TABLE invoice_daily;
             ALTER TABLE invoice_daily_old RENAME TO invoice_daily;
             CREATE TABLE settled_daily_old (
                 organization_id INTEGER NOT NULL, settled_on TEXT NOT NULL,
                 invoice_count INTEGER NOT NULL, days_to_pay INTEGER NOT NULL,
                 PRIMARY KEY (organization_id, settled_on)) WITHOUT ROWID;
             INSERT INTO settled_daily_old SELECT organization_id, settled_on,
                 SUM(invoice_count), SUM(days_to_pay) FROM settled_daily GROUP BY 1, 2;
             DROP TABLE settled_daily;
             ALTER TABLE settled_daily_old RENAME TO settled_daily;
             DELETE FROM refinery_schema_history WHERE version = 16;",
        )
        .unwrap();
}

/// Takes the file back from schema version 15 to 14 (through 16 to 15).
pub(crate) fn back_to_version_14(path: &std::path::Path) {
    back_to_version_15(path);
    Connection::open(path)
        .unwrap()
        .execute_batch(
            "ALTER TABLE organizations DROP COLUMN timezone;
             DELETE FROM refinery_schema_history WHERE version = 15;",
        )
        .unwrap();
}

/// Takes the file back from schema version 14 to 13 (through 15 to 14): no organization
/// settings (SQLite 3.35+ drops columns).
pub(crate) fn back_to_version_13(path: &std::path::Path) {
    back_to_version_14(path);
    Connection::open(path)
        .unwrap()
        .execute_batch(
            "ALTER TABLE organizations DROP COLUMN legal_name;
             ALTER TABLE organizations DROP COLUMN address;
             ALTER TABLE organizations DROP COLUMN tax_id;
             ALTER TABLE organizations DROP COLUMN email;
             ALTER TABLE organizations DROP COLUMN phone;
             ALTER TABLE organizations DROP COLUMN default_payment_terms_days;
             ALTER TABLE organizations DROP COLUMN invoice_number_prefix;
             ALTER TABLE organizations DROP COLUMN credit_note_number_prefix;
             ALTER TABLE organizations DROP COLUMN updated_at;
             DELETE FROM refinery_schema_history WHERE version = 14;",
        )
        .unwrap();
}

/// Takes the file back from schema version 13 to 12 (through 14 to 13): no webhooks.
pub(crate) fn back_to_version_12(path: &std::path::Path) {
    back_to_version_13(path);
    Connection::open(path)
        .unwrap()
        .execute_batch(
            "DROP TABLE webhook_deliveries;
             DROP TABLE webhook_endpoints;
             DELETE FROM refinery_schema_history WHERE version = 13;",
        )
        .unwrap();
}

/// Takes the file back from schema version 12 to 11 (through 13 to 12): no audit journal.
pub(crate) fn back_to_version_11(path: &std::path::Path) {
    back_to_version_12(path);
    Connection::open(path)
        .unwrap()
        .execute_batch(
            "DROP TABLE journal_events;
             DROP TABLE journal_imports_due;
             DELETE FROM refinery_schema_history WHERE version = 12;",
        )
        .unwrap();
}

/// Takes the file back from schema version 11 to 10 (through 12 to 11 first): no credit notes or write-offs, and
/// `invoices` rebuilt as version 10 had it (five statuses, no credited or written-off
/// sums), so version 11's rebuild runs on the real older table. (`allocations` and
/// `refunds` keep their credit-note keys: version 11 rebuilds them from the same columns.)
pub(crate) fn back_to_version_10(path: &std::path::Path) {
    back_to_version_11(path);
    Connection::open(path)
        .unwrap()
        .execute_batch(
            "PRAGMA foreign_keys = OFF;
             DROP TRIGGER invoice_items_insert_clears;
             DROP TRIGGER invoice_items_update_clears;
             DROP TRIGGER invoice_items_delete_clears;
             DROP TRIGGER payments_update_clears;
             DROP TRIGGER allocations_insert_clears;
             DROP TRIGGER allocations_update_clears;
             DROP TABLE write_offs;
             DROP TABLE credit_note_items;
             DROP TABLE credit_notes;
             CREATE TABLE invoices_old (
                 id INTEGER PRIMARY KEY,
                 organization_id INTEGER NOT NULL REFERENCES organizations(id),
                 customer_id INTEGER NOT NULL REFERENCES customers(id),
                 invoice_number TEXT NOT NULL,
                 status TEXT NOT NULL CHECK (status IN ('draft', 'sent', 'partially_paid', 'paid', 'void')),
                 issue_date TEXT NOT NULL,
                 due_date TEXT NOT NULL,
                 notes TEXT,
                 subtotal_minor INTEGER NOT NULL,
                 tax_total_minor INTEGER NOT NULL,
                 total_minor INTEGER NOT NULL,
                 amount_paid_minor INTEGER NOT NULL DEFAULT 0
                     CHECK (amount_paid_minor >= 0 AND amount_paid_minor <= total_minor),
                 created_at TEXT NOT NULL,
                 updated_at TEXT NOT NULL, items_json TEXT, payments_json TEXT,
                 UNIQUE (organization_id, invoice_number));
             INSERT INTO invoices_old SELECT id, organization_id, customer_id, invoice_number,
                 status, issue_date, due_date, notes, subtotal_minor, tax_total_minor,
                 total_minor, amount_paid_minor, created_at, updated_at, items_json, payments_json
             FROM invoices;
             DROP TABLE invoices;
             ALTER TABLE invoices_old RENAME TO invoices;
             CREATE INDEX invoices_org_issue ON invoices(organization_id, issue_date);
             CREATE INDEX invoices_org_status_due ON invoices(organization_id, status, due_date,
                 customer_id, issue_date, total_minor, amount_paid_minor);
             CREATE INDEX invoices_open_by_customer ON invoices(organization_id, customer_id,
                 due_date, issue_date, total_minor, amount_paid_minor, status)
                 WHERE status IN ('sent', 'partially_paid');
             CREATE INDEX invoices_unrendered ON invoices(id)
                 WHERE items_json IS NULL OR payments_json IS NULL;
             CREATE UNIQUE INDEX invoices_org_customer_id ON invoices(organization_id, customer_id, id);
             CREATE TRIGGER invoice_items_insert_clears AFTER INSERT ON invoice_items BEGIN
                 UPDATE invoices SET items_json = NULL WHERE id = NEW.invoice_id AND items_json IS NOT NULL;
             END;
             CREATE TRIGGER invoice_items_update_clears AFTER UPDATE ON invoice_items BEGIN
                 UPDATE invoices SET items_json = NULL WHERE id IN (OLD.invoice_id, NEW.invoice_id);
             END;
             CREATE TRIGGER invoice_items_delete_clears AFTER DELETE ON invoice_items BEGIN
                 UPDATE invoices SET items_json = NULL WHERE id = OLD.invoice_id;
             END;
             CREATE TRIGGER allocations_insert_clears AFTER INSERT ON allocations BEGIN
                 UPDATE invoices SET payments_json = NULL WHERE id = NEW.invoice_id AND payments_json IS NOT NULL;
             END;
             CREATE TRIGGER allocations_update_clears AFTER UPDATE ON allocations BEGIN
                 UPDATE invoices SET payments_json = NULL WHERE id IN (OLD.invoice_id, NEW.invoice_id);
             END;
             CREATE TRIGGER payments_update_clears
             AFTER UPDATE OF payment_method, reference_number, payment_date ON payments BEGIN
                 UPDATE invoices SET payments_json = NULL
                 WHERE id IN (SELECT invoice_id FROM allocations WHERE payment_id = NEW.id);
             END;
             DELETE FROM refinery_schema_history WHERE version = 11;",
        )
        .unwrap();
}

/// Takes the file back from schema version 8 to 7: no refunds, no reversal indexes (and
/// the credit and payment-date indexes of versions 9 and 10).
pub(crate) fn back_to_version_7(path: &std::path::Path) {
    back_to_version_10(path);
    Connection::open(path)
        .unwrap()
        .execute_batch(
            "DROP INDEX payments_org_date;
             CREATE INDEX payments_org_date ON payments(organization_id, payment_date);
             DELETE FROM refinery_schema_history WHERE version = 10;
             DROP INDEX payments_unapplied;
             DELETE FROM refinery_schema_history WHERE version = 9;
             DROP TABLE refunds;
             DROP INDEX allocations_org_reversed;
             DROP INDEX payments_org_void;
             DELETE FROM refinery_schema_history WHERE version = 8;",
        )
        .unwrap();
}

/// Takes the file back from schema version 7 to 6: allocations become the payment
/// applications they were, and payments lose their credit columns.
pub(crate) fn back_to_version_6(path: &std::path::Path) {
    back_to_version_7(path);
    Connection::open(path)
        .unwrap()
        .execute_batch(
            "CREATE TABLE payment_applications (
                 id INTEGER PRIMARY KEY,
                 organization_id INTEGER NOT NULL REFERENCES organizations(id),
                 payment_id INTEGER NOT NULL REFERENCES payments(id),
                 invoice_id INTEGER NOT NULL REFERENCES invoices(id),
                 amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
                 applied_date TEXT NOT NULL,
                 created_at TEXT NOT NULL);
             INSERT INTO payment_applications
             SELECT id, organization_id, payment_id, invoice_id, amount_minor, applied_date, created_at
             FROM allocations;
             CREATE INDEX payment_applications_invoice ON payment_applications(invoice_id, applied_date);
             CREATE INDEX payment_applications_org_date
                 ON payment_applications(organization_id, applied_date, invoice_id, amount_minor);
             DROP TRIGGER allocations_insert_clears;
             DROP TRIGGER allocations_update_clears;
             DROP TRIGGER allocations_never_deleted;
             DROP TRIGGER allocations_only_reversed;
             DROP TRIGGER payments_update_clears;
             DROP TABLE allocations;
             CREATE TRIGGER payment_applications_insert_clears AFTER INSERT ON payment_applications BEGIN
                 UPDATE invoices SET payments_json = NULL WHERE id = NEW.invoice_id AND payments_json IS NOT NULL;
             END;
             CREATE TRIGGER payment_applications_update_clears AFTER UPDATE ON payment_applications BEGIN
                 UPDATE invoices SET payments_json = NULL WHERE id IN (OLD.invoice_id, NEW.invoice_id);
             END;
             CREATE TRIGGER payment_applications_delete_clears AFTER DELETE ON payment_applications BEGIN
                 UPDATE invoices SET payments_json = NULL WHERE id = OLD.invoice_id;
             END;
             CREATE TRIGGER payments_update_clears AFTER UPDATE ON payments BEGIN
                 UPDATE invoices SET payments_json = NULL
                 WHERE id IN (SELECT invoice_id FROM payment_applications WHERE payment_id = NEW.id);
             END;
             ALTER TABLE payments DROP COLUMN void_reason;
             ALTER TABLE payments DROP COLUMN void_date;
             ALTER TABLE payments DROP COLUMN unapplied_minor;
             ALTER TABLE payments DROP COLUMN refunded_minor;
             CREATE INDEX invoices_org_customer ON invoices(organization_id, customer_id);
             CREATE INDEX payments_org_customer ON payments(organization_id, customer_id);
             DROP INDEX invoices_org_customer_id;
             DROP INDEX payments_org_customer_id;
             DELETE FROM refinery_schema_history WHERE version = 7;",
        )
        .unwrap();
}

/// Takes the file back to schema version 1: the summary tables (V2), the open-invoice
/// index (V3), the detail copies (V4) and their format (V6) gone and unrecorded (V5 only
/// repairs dates). (V2's other index changes
/// need no undoing: it drops and recreates those indexes by name.)
pub(crate) fn back_to_version_1(path: &std::path::Path) {
    back_to_version_6(path);
    Connection::open(path)
        .unwrap()
        .execute_batch(
            "DROP TABLE invoice_daily;
             DROP TABLE settled_daily;
             DROP INDEX invoices_open_by_customer;
             DROP INDEX invoices_unrendered;
             DROP TRIGGER invoice_items_insert_clears;
             DROP TRIGGER invoice_items_update_clears;
             DROP TRIGGER invoice_items_delete_clears;
             DROP TRIGGER payment_applications_insert_clears;
             DROP TRIGGER payment_applications_update_clears;
             DROP TRIGGER payment_applications_delete_clears;
             DROP TRIGGER payments_update_clears;
             ALTER TABLE invoices DROP COLUMN items_json;
             ALTER TABLE invoices DROP COLUMN payments_json;
             DROP TABLE detail_copy_format;
             DELETE FROM refinery_schema_history WHERE version IN (2, 3, 4, 5, 6);",
        )
        .unwrap();
}

/// Every stored answer of a book, for byte-for-byte comparisons across an upgrade.
pub(crate) async fn every_answer(app: &TestApp, path: &std::path::Path) -> Vec<String> {
    let mut answers = Vec::new();
    for list in [
        "/v1/invoices?limit=500",
        "/v1/payments?limit=500",
        "/v1/customers",
    ] {
        answers.push(app.get(list).await.body.to_string());
    }
    let conn = Connection::open(path).unwrap();
    for (table, route) in [("invoices", "invoices"), ("payments", "payments")] {
        let ids: Vec<i64> = conn
            .prepare(&format!("SELECT id FROM {table} ORDER BY id"))
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for id in ids {
            answers.push(app.get(&format!("/v1/{route}/{id}")).await.body.to_string());
        }
    }
    for report in [
        "aging?as_of=2024-01-25",
        "aging",
        "dashboard?as_of=2024-02-15",
    ] {
        answers.push(
            app.get(&format!("/v1/reports/{report}"))
                .await
                .body
                .to_string(),
        );
    }
    let copies: Vec<String> = conn
        .prepare("SELECT id || ':' || items_json || payments_json FROM invoices ORDER BY id")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    answers.extend(copies);
    answers
}
