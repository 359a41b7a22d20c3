//! Write-offs and their reversal, as dated events every report honours (issue 10,
//! section 3). Today is 2024-03-01.

use poem::http::StatusCode;
use serde_json::{json, Value};

use crate::helpers::TestApp;

async fn write_off(app: &TestApp, invoice: i64, body: Value) -> Value {
    let reply = app
        .post(&format!("/v1/invoices/{invoice}/write-offs"), body)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body
}

#[tokio::test]
async fn the_rest_of_a_bad_debt_is_written_off_then_recovered() {
    let app = TestApp::new().await;
    let acme = app.customer("Acme").await;
    let inv = app
        .invoice(acme, "500.00", "2024-01-05", "2024-01-20")
        .await;
    assert_eq!(
        app.pay(acme, inv, "120.00", "2024-01-25").await.status,
        StatusCode::CREATED
    );
    let written = write_off(
        &app,
        inv,
        json!({ "write_off_date": "2024-02-10", "reason": "Customer declared bankrupt" }),
    )
    .await;
    assert_eq!(written["status"], "written_off");
    assert_eq!(written["amount_paid"], "120.00");
    assert_eq!(written["amount_written_off"], "380.00");
    assert_eq!(written["balance_due"], "0.00");
    assert_eq!(written["is_overdue"], false);
    let entry = &written["write_offs"][0];
    assert_eq!(entry["amount"], "380.00");
    assert_eq!(entry["write_off_date"], "2024-02-10");
    assert_eq!(entry["reason"], "Customer declared bankrupt");
    assert_eq!(entry["reversed_date"], Value::Null);
    let write_off_id = entry["id"].as_i64().unwrap();
    // The GET answer (written from the stored row) says the same.
    let detail = app.get(&format!("/v1/invoices/{inv}")).await.body;
    assert_eq!(detail, written);

    let before = app.get("/v1/reports/aging?as_of=2024-02-09").await.body;
    assert_eq!(before["totals"]["total"], "380.00", "{before}");
    let after = app.get("/v1/reports/aging").await.body;
    assert_eq!(after["totals"]["total"], "0.00");
    let dashboard = app.get("/v1/reports/dashboard").await.body;
    assert_eq!(dashboard["written_off_last_30_days"], "380.00");
    assert_eq!(dashboard["invoice_counts_by_status"]["written_off"], 1);
    assert_eq!(dashboard["average_days_to_pay"], Value::Null);
    let listed = app.get("/v1/invoices?status=written_off").await.body;
    assert_eq!(listed["total"], 1);
    let customer = app.get(&format!("/v1/customers/{acme}")).await.body;
    assert_eq!(customer["outstanding_balance"], "0.00");

    // The receiver pays after all: the write-off is taken back on Feb 20.
    let path = format!("/v1/invoices/{inv}/write-offs/{write_off_id}/reverse");
    let early = app
        .post(
            &path,
            json!({ "reverse_date": "2024-02-09", "reason": "Recovered" }),
        )
        .await;
    assert!(early.assert_error(400, "VALIDATION_ERROR")["reverse_date"].is_array());
    let reversed = app
        .post(
            &path,
            json!({ "reverse_date": "2024-02-20", "reason": "Recovered" }),
        )
        .await;
    assert_eq!(reversed.status, StatusCode::OK, "{}", reversed.body);
    assert_eq!(reversed.body["status"], "partially_paid");
    assert_eq!(reversed.body["balance_due"], "380.00");
    assert_eq!(reversed.body["amount_written_off"], "0.00");
    assert_eq!(
        reversed.body["write_offs"][0]["reversed_date"],
        "2024-02-20"
    );
    assert_eq!(
        reversed.body["write_offs"][0]["reversal_reason"],
        "Recovered"
    );
    // Nothing is written off any more, yet the read still lists the reversed write-off.
    let read = app.get(&format!("/v1/invoices/{inv}")).await;
    assert_eq!(read.body, reversed.body);
    let again = app
        .post(
            &path,
            json!({ "reverse_date": "2024-02-21", "reason": "Twice" }),
        )
        .await;
    again.assert_error(409, "CONFLICT");
    let missing = app
        .post(
            &format!("/v1/invoices/{inv}/write-offs/999/reverse"),
            json!({ "reverse_date": "2024-02-21", "reason": "Nothing" }),
        )
        .await;
    missing.assert_error(404, "NOT_FOUND");

    for (as_of, open) in [
        ("2024-02-09", "380.00"),
        ("2024-02-15", "0.00"),
        ("2024-02-20", "380.00"),
    ] {
        let aging = app
            .get(&format!("/v1/reports/aging?as_of={as_of}"))
            .await
            .body;
        assert_eq!(aging["totals"]["total"], open, "{as_of}: {aging}");
    }
    let dashboard = app.get("/v1/reports/dashboard").await.body;
    assert_eq!(dashboard["written_off_last_30_days"], "0.00");
    let feb_15 = app.get("/v1/reports/dashboard?as_of=2024-02-15").await.body;
    assert_eq!(feb_15["written_off_last_30_days"], "380.00");
    assert_eq!(feb_15["total_outstanding"], "0.00");
    app.assert_sums_match();
    app.assert_summaries_match();
}

#[tokio::test]
async fn a_write_off_takes_at_most_what_stays_open() {
    let app = TestApp::new().await;
    let acme = app.customer("Acme").await;
    let inv = app
        .invoice(acme, "100.00", "2024-01-05", "2024-02-04")
        .await;
    assert_eq!(
        app.pay(acme, inv, "70.00", "2024-02-01").await.status,
        StatusCode::CREATED
    );
    // Dated before the payment, it may still only take what stays open after it.
    let reply = app
        .post(
            &format!("/v1/invoices/{inv}/write-offs"),
            json!({ "amount": "30.01", "write_off_date": "2024-01-20", "reason": "Small" }),
        )
        .await;
    let fields = reply.assert_error(400, "VALIDATION_ERROR");
    let message = fields["amount"][0].as_str().unwrap();
    assert!(
        message.contains("(30.00)") && message.contains("2024-02-01"),
        "{message}"
    );
    let partial = write_off(
        &app,
        inv,
        json!({ "amount": 10, "write_off_date": "2024-01-20", "reason": "Small" }),
    )
    .await;
    assert_eq!(partial["status"], "partially_paid");
    assert_eq!(partial["balance_due"], "20.00");
    // Paid in full afterwards: a write-off is among what closed it.
    assert_eq!(
        app.pay(acme, inv, "20.00", "2024-02-15").await.status,
        StatusCode::CREATED
    );
    let detail = app.get(&format!("/v1/invoices/{inv}")).await.body;
    assert_eq!(detail["status"], "written_off");
    let closed = app
        .post(
            &format!("/v1/invoices/{inv}/write-offs"),
            json!({ "reason": "Again" }),
        )
        .await;
    closed.assert_error(409, "CONFLICT");
    let void = app
        .post(&format!("/v1/invoices/{inv}/void"), json!({}))
        .await;
    void.assert_error(409, "CONFLICT");

    let other = app.invoice(acme, "50.00", "2024-01-05", "2024-02-04").await;
    let bad = app
        .post(
            &format!("/v1/invoices/{other}/write-offs"),
            json!({ "amount": "-1", "write_off_date": "2024-03-02", "colour": "red" }),
        )
        .await;
    let fields = bad.assert_error(400, "VALIDATION_ERROR");
    for field in ["amount", "write_off_date", "reason", "colour"] {
        assert!(fields[field].is_array(), "{field}: {}", bad.body);
    }
    let future = app
        .post(
            &format!("/v1/invoices/{other}/write-offs"),
            json!({ "write_off_date": "2024-03-02", "reason": "Later" }),
        )
        .await;
    assert!(future.assert_error(400, "VALIDATION_ERROR")["write_off_date"].is_array());
    app.post("/v1/invoices/999/write-offs", json!({ "reason": "None" }))
        .await
        .assert_error(404, "NOT_FOUND");
    app.assert_sums_match();
    app.assert_summaries_match();
}

/// A date after today is named in the same answer as the body's other faults, on every
/// dated change, so one reply says all there is to fix; alone, it is the 400 it always was.
#[tokio::test]
async fn a_future_date_is_named_beside_the_bodys_other_faults() {
    let app = TestApp::new().await;
    let acme = app.customer("Acme").await;
    let inv = app.invoice(acme, "90.00", "2024-01-05", "2024-02-04").await;
    let written_off = write_off(&app, inv, json!({ "reason": "Gone" })).await;
    let write_off_id = written_off["write_offs"][0]["id"].as_i64().unwrap();
    let payment = app
        .post(
            "/v1/payments",
            json!({ "customer_id": acme, "amount": "30.00", "payment_method": "cash",
                    "payment_date": "2024-02-01" }),
        )
        .await;
    let source = format!("/v1/payments/{}", payment.body["id"]);
    let faults = [
        (
            format!("/v1/invoices/{inv}/write-offs/{write_off_id}/reverse"),
            json!({ "reverse_date": "2024-03-02" }),
            ["reverse_date", "reason"],
        ),
        (
            format!("{source}/allocations"),
            json!({ "applied_date": "2024-03-02", "allocate": "newest_first" }),
            ["applied_date", "allocate"],
        ),
        (
            format!("{source}/refunds"),
            json!({ "refund_date": "2024-03-02", "amount": "0.00", "payment_method": "cash" }),
            ["refund_date", "amount"],
        ),
        (
            format!("{source}/void"),
            json!({ "void_date": "2024-03-02", "reason": "" }),
            ["void_date", "reason"],
        ),
    ];
    for (path, body, fields) in faults {
        let reply = app.post(&path, body).await;
        let named = reply.assert_error(400, "VALIDATION_ERROR");
        assert_eq!(
            named[fields[0]][0],
            "must not be after today (2024-03-01): record it on the day it happens",
            "{path}: {}",
            reply.body
        );
        assert!(named[fields[1]].is_array(), "{path}: {}", reply.body);
    }
    let alone = app
        .post(
            &format!("{source}/void"),
            json!({ "void_date": "2024-03-02", "reason": "Later" }),
        )
        .await;
    assert_eq!(
        alone.body["detail"],
        "void_date: must not be after today (2024-03-01): record it on the day it happens"
    );
    assert_eq!(app.get(&source).await.body["unapplied_amount"], "30.00");
}

/// A void invoice counts on no date, so neither does a write-off of it: the dashboard's
/// window agrees with the statement and the aging (found in review: it counted it).
#[tokio::test]
async fn a_write_off_of_an_invoice_voided_later_counts_nowhere() {
    let app = TestApp::new().await;
    let acme = app.customer("Acme").await;
    let inv = app.invoice(acme, "70.00", "2024-01-05", "2024-01-20").await;
    let written = write_off(
        &app,
        inv,
        json!({ "write_off_date": "2024-02-10", "reason": "Disputed" }),
    )
    .await;
    let write_off_id = written["write_offs"][0]["id"].as_i64().unwrap();
    let reversed = app
        .post(
            &format!("/v1/invoices/{inv}/write-offs/{write_off_id}/reverse"),
            json!({ "reverse_date": "2024-02-20", "reason": "Issued in error" }),
        )
        .await;
    assert_eq!(reversed.status, StatusCode::OK, "{}", reversed.body);
    let before_void = app.get("/v1/reports/dashboard?as_of=2024-02-15").await.body;
    assert_eq!(before_void["written_off_last_30_days"], "70.00");

    let voided = app
        .post(&format!("/v1/invoices/{inv}/void"), json!({}))
        .await;
    assert_eq!(voided.status, StatusCode::OK, "{}", voided.body);
    for as_of in ["2024-02-15", "2024-03-01"] {
        let dashboard = app
            .get(&format!("/v1/reports/dashboard?as_of={as_of}"))
            .await
            .body;
        assert_eq!(dashboard["written_off_last_30_days"], "0.00", "{as_of}");
        assert_eq!(dashboard["total_outstanding"], "0.00", "{as_of}");
    }
    let statement = app
        .get(&format!(
            "/v1/customers/{acme}/statement?from=2024-02-01&to=2024-02-15"
        ))
        .await
        .body;
    assert_eq!(statement["closing_balance"], "0.00", "{statement}");
}
