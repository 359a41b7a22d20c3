//! Migrations applied to a book that already has data.

use arvalox::db::{Db, Synchronous};
use arvalox::ratelimit::Limits;
use poem::http::StatusCode;
use rusqlite::Connection;
use serde_json::json;

use crate::helpers::{TestApp, TODAY};

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

/// Takes the file back to schema version 1: the summary tables (V2), the open-invoice
/// index (V3), the detail copies (V4) and their format (V6) gone and unrecorded (V5 only
/// repairs dates). (V2's other index changes
/// need no undoing: it drops and recreates those indexes by name.)
fn back_to_version_1(path: &std::path::Path) {
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
    let before = app.get("/v1/reports/aging").await.body;
    assert_eq!(before["totals"]["total"], "0.00", "the defect: {before}");

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
