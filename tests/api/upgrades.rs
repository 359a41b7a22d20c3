//! Upgrades of older books (the schema helpers are in `migrations`): each opens with every
//! answer, stored copy and summary as the writes themselves would have kept them.

use arvalox::api::journal::local;
use arvalox::db::{Db, Synchronous};
use arvalox::ratelimit::Limits;
use poem::http::StatusCode;
use rusqlite::Connection;
use serde_json::json;

use crate::helpers::{date, TestApp, TODAY};
use crate::migrations::{
    back_to_version_1, back_to_version_10, back_to_version_11, back_to_version_6, every_answer,
    summaries,
};

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
            (),
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(credit, (0, 0));
    let broken: i64 = conn
        .query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", (), |r| {
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
    let count = |sql: &str| conn.query_row(sql, (), |r| r.get::<_, i64>(0)).unwrap();
    assert_eq!(count("SELECT COUNT(*) FROM pragma_foreign_key_check"), 0);
    assert_eq!(
        count("SELECT MAX(version) FROM refinery_schema_history"),
        24
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
