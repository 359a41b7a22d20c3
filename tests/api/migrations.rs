//! Migrations applied to a book that already has data.

use arvalox::api::journal::local;
use arvalox::db::{Db, Synchronous};
use arvalox::ratelimit::Limits;
use poem::http::StatusCode;
use rusqlite::Connection;
use serde_json::json;

use crate::helpers::{date, TestApp, TODAY};

/// Every row of the report summaries, in key order.
fn summaries(path: &std::path::Path) -> Vec<String> {
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

/// Takes the file back from schema version 20 to 19: daily paid counts without amounts.
pub(crate) fn back_to_version_19(path: &std::path::Path) {
    Connection::open(path)
        .unwrap()
        .execute_batch(
            "ALTER TABLE settled_daily DROP COLUMN paid_total_minor;
             ALTER TABLE settled_daily DROP COLUMN weighted_days;
             DROP TABLE settled_weights_due;
             DELETE FROM refinery_schema_history WHERE version = 20;",
        )
        .unwrap();
}

/// Takes the file back from schema version 19 to 18 (through 20 to 19): journal events
/// without `detail`.
fn back_to_version_18(path: &std::path::Path) {
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
fn back_to_version_17(path: &std::path::Path) {
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
fn back_to_version_16(path: &std::path::Path) {
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
fn back_to_version_15(path: &std::path::Path) {
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
fn back_to_version_14(path: &std::path::Path) {
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
fn back_to_version_13(path: &std::path::Path) {
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
fn back_to_version_12(path: &std::path::Path) {
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
fn back_to_version_11(path: &std::path::Path) {
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
fn back_to_version_10(path: &std::path::Path) {
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
fn back_to_version_7(path: &std::path::Path) {
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
fn back_to_version_6(path: &std::path::Path) {
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
fn back_to_version_1(path: &std::path::Path) {
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

/// A server upgraded from version 1 fills the summaries from the existing invoices and
/// payments exactly as the writes themselves would have kept them.
#[tokio::test]
async fn upgrading_a_version_1_book_backfills_the_report_summaries() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ar.db");
    let app = TestApp::on_file(dir, &path, Limits::OFF, TODAY).await;
    let acme = app.customer("Acme").await;
    let globex = app.customer("Globex").await;

    // Paid in two payments; another paid in one, settled the same day.
    let paid = app
        .invoice(acme, "100.00", "2024-01-05", "2024-02-04")
        .await;
    assert_eq!(
        app.pay(acme, paid, "40.00", "2024-01-20").await.status,
        StatusCode::CREATED
    );
    assert_eq!(
        app.pay(acme, paid, "60.00", "2024-02-10").await.status,
        StatusCode::CREATED
    );
    let paid_too = app
        .invoice(globex, "19.99", "2024-02-01", "2024-02-15")
        .await;
    assert_eq!(
        app.pay(globex, paid_too, "19.99", "2024-02-10")
            .await
            .status,
        StatusCode::CREATED
    );
    // Partly paid, open, void and draft, two of them issued the same day.
    let partial = app
        .invoice(globex, "250.50", "2024-01-05", "2024-02-04")
        .await;
    assert_eq!(
        app.pay(globex, partial, "0.50", "2024-02-20").await.status,
        StatusCode::CREATED
    );
    app.invoice(globex, "75.25", "2024-02-15", "2024-03-16")
        .await;
    let voided = app.invoice(acme, "10.00", "2024-02-15", "2024-03-16").await;
    let reply = app
        .post(&format!("/v1/invoices/{voided}/void"), json!({}))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let draft = json!({
        "customer_id": acme,
        "status": "draft",
        "issue_date": "2024-02-15",
        "items": [{ "description": "Later", "quantity": 2, "unit_price": "5.00" }]
    });
    assert_eq!(
        app.post("/v1/invoices", draft).await.status,
        StatusCode::CREATED
    );

    app.assert_summaries_match();
    let maintained = summaries(&path);
    assert_eq!(maintained.len(), 7, "{maintained:#?}");
    let dashboard = app.get("/v1/reports/dashboard").await.body;
    let aging = app.get("/v1/reports/aging").await.body;

    back_to_version_1(&path);
    drop(Db::open(&path, Synchronous::Full).unwrap());

    assert_eq!(summaries(&path), maintained);
    assert_eq!(app.get("/v1/reports/dashboard").await.body, dashboard);
    assert_eq!(app.get("/v1/reports/aging").await.body, aging);
}

/// A due date an earlier version derived past 9999-12-31 ('+10000-01-30') is brought back
/// to the last supported day on upgrade, so aging counts the invoice again.
#[tokio::test]
async fn upgrading_repairs_due_dates_derived_past_the_last_date() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ar.db");
    let app = TestApp::on_file(dir, &path, Limits::OFF, "9999-12-31").await;
    let acme = app.customer("Acme").await;
    let late = app
        .invoice(acme, "100.00", "9999-12-31", "9999-12-31")
        .await;
    Connection::open(&path)
        .unwrap()
        .execute_batch(&format!(
            "UPDATE invoices SET due_date = '+10000-01-30' WHERE id = {late};
             DROP TABLE detail_copy_format;
             DELETE FROM refinery_schema_history WHERE version IN (5, 6);"
        ))
        .unwrap();
    // The defect: a due date after every real date, so the invoice is not in `current`
    // (aging compares due dates as text, and '+10000-…' sorts before every year).
    let before = app.get("/v1/reports/aging").await.body;
    assert_eq!(before["totals"]["current"], "0.00", "the defect: {before}");
    back_to_version_6(&path);

    drop(Db::open(&path, Synchronous::Full).unwrap());
    let due: String = Connection::open(&path)
        .unwrap()
        .query_row("SELECT due_date FROM invoices WHERE id = ?1", [late], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(due, "9999-12-31");
    let after = app.get("/v1/reports/aging").await.body;
    assert_eq!(after["totals"]["current"], "100.00", "{after}");
    assert_eq!(after["totals"]["total"], "100.00");
}

/// Every stored answer of a book, for byte-for-byte comparisons across an upgrade.
async fn every_answer(app: &TestApp, path: &std::path::Path) -> Vec<String> {
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

/// A book written before allocations (version 6) opens with every answer, stored copy and
/// summary unchanged; each application is the allocation with its id, its customer's.
#[tokio::test]
async fn upgrading_to_allocations_changes_no_answer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ar.db");
    let app = TestApp::on_file(dir, &path, Limits::OFF, TODAY).await;
    let acme = app.customer("Acme").await;
    let globex = app.customer("Globex").await;
    let split = app
        .invoice(acme, "300.00", "2024-01-05", "2024-02-04")
        .await;
    for (amount, date) in [
        ("100.00", "2024-01-10"),
        ("150.00", "2024-01-20"),
        ("50.00", "2024-02-01"),
    ] {
        assert_eq!(
            app.pay(acme, split, amount, date).await.status,
            StatusCode::CREATED
        );
    }
    let partial = app
        .invoice(globex, "80.00", "2024-01-12", "2024-02-11")
        .await;
    assert_eq!(
        app.pay(globex, partial, "30.00", "2024-01-30").await.status,
        StatusCode::CREATED
    );
    app.invoice(globex, "45.50", "2024-01-15", "2024-01-30")
        .await;
    let before = every_answer(&app, &path).await;
    let summaries_before = summaries(&path);

    back_to_version_6(&path);
    drop(Db::open(&path, Synchronous::Full).unwrap());

    assert_eq!(every_answer(&app, &path).await, before);
    assert_eq!(summaries(&path), summaries_before);
    app.assert_summaries_match();
    let conn = Connection::open(&path).unwrap();
    let allocations: Vec<(i64, i64, i64, i64)> = conn
        .prepare("SELECT id, customer_id, invoice_id, amount_minor FROM allocations ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        allocations,
        [
            (1, acme, split, 10_000),
            (2, acme, split, 15_000),
            (3, acme, split, 5_000),
            (4, globex, partial, 3_000)
        ]
    );
    let credit: (i64, i64) = conn
        .query_row(
            "SELECT SUM(unapplied_minor), SUM(refunded_minor) FROM payments",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(credit, (0, 0));
    let broken: i64 = conn
        .query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(broken, 0);
}

/// A book of version 10 (split payments, credit on account, a refund, a bounced check)
/// opens under version 11 with every answer, stored copy and summary unchanged, its
/// invoices rebuilt row for row; the new facts are append-only as the old ones are.
#[tokio::test]
async fn upgrading_to_credit_notes_and_write_offs_changes_no_answer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ar.db");
    let app = TestApp::on_file(dir, &path, Limits::OFF, TODAY).await;
    let acme = app.customer("Acme").await;
    let a = app
        .invoice(acme, "100.00", "2024-01-05", "2024-02-04")
        .await;
    let b = app
        .invoice(acme, "250.00", "2024-01-10", "2024-02-09")
        .await;
    let pay = |body: serde_json::Value| {
        let app = &app;
        async move {
            let reply = app.post("/v1/payments", body).await;
            assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
            reply.body["id"].as_i64().unwrap()
        }
    };
    pay(
        json!({ "customer_id": acme, "amount": "400.00", "payment_method": "bank_transfer",
                "payment_date": "2024-01-20",
                "allocations": [{ "invoice_id": a, "amount": "100.00" },
                                { "invoice_id": b, "amount": "120.00" }] }),
    )
    .await;
    let bounced = pay(
        json!({ "customer_id": acme, "amount": "50.00", "payment_method": "check",
                              "payment_date": "2024-01-25", "invoice_id": b }),
    )
    .await;
    let void = app
        .post(
            &format!("/v1/payments/{bounced}/void"),
            json!({ "void_date": "2024-02-01", "reason": "Bounced" }),
        )
        .await;
    assert_eq!(void.status, StatusCode::OK, "{}", void.body);
    let on_account = pay(json!({ "customer_id": acme, "amount": "30.00",
                                 "payment_method": "cash", "payment_date": "2024-02-05" }))
    .await;
    let refund = app
        .post(
            &format!("/v1/payments/{on_account}/refunds"),
            json!({ "amount": "10.00", "payment_method": "cash", "refund_date": "2024-02-06" }),
        )
        .await;
    assert_eq!(refund.status, StatusCode::OK, "{}", refund.body);
    let before = every_answer(&app, &path).await;
    let summaries_before = summaries(&path);

    back_to_version_10(&path);
    drop(Db::open(&path, Synchronous::Full).unwrap());

    assert_eq!(every_answer(&app, &path).await, before);
    assert_eq!(summaries(&path), summaries_before);
    app.assert_summaries_match();
    app.assert_sums_match();
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
    let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
    assert_eq!(count("SELECT COUNT(*) FROM pragma_foreign_key_check"), 0);
    assert_eq!(
        count("SELECT MAX(version) FROM refinery_schema_history"),
        20
    );

    // The upgraded book takes the new events, and they are facts like the old ones.
    let written = app
        .post(
            &format!("/v1/invoices/{b}/write-offs"),
            json!({ "write_off_date": "2024-02-20", "reason": "Gone" }),
        )
        .await;
    assert_eq!(written.status, StatusCode::OK, "{}", written.body);
    assert_eq!(written.body["status"], "written_off");
    let refused = |sql: &str| conn.execute_batch(sql).unwrap_err().to_string();
    assert!(refused("DELETE FROM write_offs").contains("never deleted"));
    assert!(refused("UPDATE write_offs SET amount_minor = 1").contains("one reversal"));
    let note = app
        .post(
            "/v1/credit-notes",
            json!({ "customer_id": acme, "reason": "Goodwill",
                    "items": [{ "description": "Credit", "quantity": 1, "unit_price": "5.00" }] }),
        )
        .await;
    assert_eq!(note.status, StatusCode::CREATED, "{}", note.body);
    assert!(refused("DELETE FROM credit_notes").contains("never deleted"));
    assert!(refused("UPDATE credit_note_items SET description = 'x'").contains("never changed"));
    app.assert_sums_match();
}

/// Allocations are facts: never deleted, changed only by one reversal, and always between
/// an invoice and a source of the same customer.
#[tokio::test]
async fn allocations_are_append_only_and_stay_within_one_customer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ar.db");
    let app = TestApp::on_file(dir, &path, Limits::OFF, TODAY).await;
    let acme = app.customer("Acme").await;
    let globex = app.customer("Globex").await;
    let invoice = app
        .invoice(acme, "100.00", "2024-01-05", "2024-02-04")
        .await;
    let other = app
        .invoice(globex, "100.00", "2024-01-05", "2024-02-04")
        .await;
    assert_eq!(
        app.pay(acme, invoice, "40.00", "2024-01-10").await.status,
        StatusCode::CREATED
    );

    let conn = Connection::open(&path).unwrap();
    conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
    let refused = |sql: &str| conn.execute_batch(sql).unwrap_err().to_string();
    assert!(refused("DELETE FROM allocations").contains("never deleted"));
    assert!(refused("UPDATE allocations SET amount_minor = 1").contains("one reversal"));
    assert!(
        refused("UPDATE allocations SET reversed_date = '2024-01-09'").contains("CHECK"),
        "a reversal is never dated before what it undoes"
    );
    conn.execute_batch(
        "UPDATE allocations SET reversed_date = '2024-01-12', reversal_reason = 'test'",
    )
    .unwrap();
    assert!(
        refused("UPDATE allocations SET reversed_date = '2024-01-13'").contains("one reversal")
    );
    let cross_customer = format!(
        "INSERT INTO allocations (organization_id, customer_id, invoice_id, payment_id,
             amount_minor, applied_date, created_at)
         SELECT organization_id, customer_id, {other}, id, 100, payment_date, created_at FROM payments"
    );
    assert!(
        refused(&cross_customer).contains("FOREIGN KEY"),
        "{}",
        refused(&cross_customer)
    );
}

/// A book written before the journal existed: on its first open every row gets one
/// `<entity>.imported` event by `system`, as it stands, and verify then vouches for it;
/// the next open journals nothing more, and the answers are unchanged.
#[tokio::test]
async fn upgrading_to_the_journal_imports_every_row_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ar.db");
    let app = TestApp::on_file(dir, &path, Limits::OFF, TODAY).await;
    let acme = app.customer("Acme").await;
    let inv = app
        .invoice(acme, "100.00", "2024-01-05", "2024-01-20")
        .await;
    assert_eq!(
        app.pay(acme, inv, "30.00", "2024-02-01").await.status,
        StatusCode::CREATED
    );
    let before = every_answer(&app, &path).await;

    back_to_version_11(&path);
    let store = Db::open(&path, Synchronous::Full).unwrap();
    let when = (date(TODAY), "2024-03-01T08:00:00.000Z");
    assert_eq!(
        local::import_rows_written_before_the_journal(&store, when).unwrap(),
        5
    );
    assert_eq!(
        local::import_rows_written_before_the_journal(&store, when).unwrap(),
        0
    );
    let found = local::verify(&store, &[], date(TODAY)).unwrap();
    assert_eq!(found.faults, Vec::<String>::new());
    assert_eq!(every_answer(&app, &path).await, before);
    let events = app.get("/v1/events").await.body;
    let kinds: Vec<(&str, &str)> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap(),
                e["actor"]["type"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("customer.imported", "system"),
            ("invoice.imported", "system"),
            ("payment.imported", "system"),
            ("api_key.imported", "system"),
            ("organization.imported", "system"),
        ]
    );
    assert_eq!(
        events["items"][1]["data"],
        app.get(&format!("/v1/invoices/{inv}")).await.body
    );
}
