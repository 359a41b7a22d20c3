//! Customer statements (issue 12, section 2): every dated event of a period with a running
//! balance that starts at the aging `net` the day before and ends at the aging `net` at
//! `to`. Today is 2024-03-01.

use poem::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::TestApp;

async fn created(app: &TestApp, path: &str, body: Value) -> Value {
    let reply = app.post(path, body).await;
    assert!(reply.status.is_success(), "{path}: {}", reply.body);
    reply.body
}

fn minor(text: &Value) -> i64 {
    let text = text.as_str().unwrap();
    let negative = text.starts_with('-');
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    let value: i64 = digits.parse().unwrap();
    if negative {
        -value
    } else {
        value
    }
}

async fn aging_net(app: &TestApp, customer: i64, as_of: &str) -> i64 {
    let aging = app
        .get(&format!(
            "/v1/reports/aging?as_of={as_of}&customer_id={customer}"
        ))
        .await;
    minor(&aging.body["totals"]["net"])
}

/// A customer's January and February: invoices, a split payment, credit applied later, a
/// credit note, a refund, a write-off and its reversal, a bounced check, a void invoice.
async fn busy_customer(app: &TestApp) -> i64 {
    let c = app.customer("Acme Corporation").await;
    let before = app.invoice(c, "40.00", "2023-12-10", "2024-01-09").await;
    let a = app.invoice(c, "100.00", "2024-01-05", "2024-02-04").await;
    let b = app.invoice(c, "250.00", "2024-01-10", "2024-02-09").await;
    let doomed = app.invoice(c, "999.00", "2024-01-12", "2024-02-11").await;
    created(app, &format!("/v1/invoices/{doomed}/void"), json!({})).await;
    let split = json!({ "customer_id": c, "amount": "300.00", "payment_method": "bank_transfer",
        "payment_date": "2024-01-20", "reference_number": "=1+1",
        "allocations": [{ "invoice_id": a, "amount": "100.00" }, { "invoice_id": before, "amount": "40.00" }] });
    let payment = created(app, "/v1/payments", split).await["id"]
        .as_i64()
        .unwrap();
    let later = json!({ "applied_date": "2024-01-25", "allocations": [{ "invoice_id": b, "amount": "60.00" }] });
    created(app, &format!("/v1/payments/{payment}/allocations"), later).await;
    let refund = json!({ "amount": "50.00", "refund_date": "2024-01-28", "payment_method": "bank_transfer" });
    created(app, &format!("/v1/payments/{payment}/refunds"), refund).await;
    let note = json!({ "customer_id": c, "invoice_id": b, "issue_date": "2024-02-02", "reason": "Damaged",
        "items": [{ "description": "Broken chair", "quantity": 1, "unit_price": "30.00" }] });
    created(app, "/v1/credit-notes", note).await;
    let write_off =
        json!({ "write_off_date": "2024-02-10", "amount": "10.00", "reason": "Small balance" });
    let w = created(app, &format!("/v1/invoices/{b}/write-offs"), write_off).await;
    let w_id = w["write_offs"].as_array().unwrap().last().unwrap()["id"]
        .as_i64()
        .unwrap();
    let reversal = json!({ "reverse_date": "2024-02-15", "reason": "Customer paid after all" });
    created(
        app,
        &format!("/v1/invoices/{b}/write-offs/{w_id}/reverse"),
        reversal,
    )
    .await;
    let check = json!({ "customer_id": c, "amount": "100.00", "payment_method": "check",
        "payment_date": "2024-02-05", "invoice_id": b });
    let bounced = created(app, "/v1/payments", check).await["id"]
        .as_i64()
        .unwrap();
    created(
        app,
        &format!("/v1/payments/{bounced}/void"),
        json!({ "void_date": "2024-02-12", "reason": "Bounced" }),
    )
    .await;
    c
}

#[tokio::test]
async fn a_statement_runs_from_the_aging_net_before_to_the_aging_net_at_its_end() {
    let app = TestApp::new().await;
    let c = busy_customer(&app).await;
    let reply = app
        .get(&format!(
            "/v1/customers/{c}/statement?from=2024-01-01&to=2024-02-29"
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let s = &reply.body;
    assert_eq!(s["opening_balance"], "40.00", "the December invoice");
    assert_eq!(
        minor(&s["opening_balance"]),
        aging_net(&app, c, "2023-12-31").await
    );
    let kinds: Vec<(&str, &str, &str)> = s["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["date"].as_str().unwrap(),
                l["kind"].as_str().unwrap(),
                l["amount"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("2024-01-05", "invoice", "100.00"),
            ("2024-01-10", "invoice", "250.00"),
            ("2024-01-12", "invoice_void", "0.00"),
            ("2024-01-20", "payment", "-300.00"),
            ("2024-01-20", "allocation", "0.00"),
            ("2024-01-20", "allocation", "0.00"),
            ("2024-01-25", "allocation", "0.00"),
            ("2024-01-28", "refund", "50.00"),
            ("2024-02-02", "credit_note", "-30.00"),
            ("2024-02-02", "allocation", "0.00"),
            ("2024-02-05", "payment", "-100.00"),
            ("2024-02-05", "allocation", "0.00"),
            ("2024-02-10", "write_off", "-10.00"),
            ("2024-02-12", "allocation_reversal", "0.00"),
            ("2024-02-12", "payment_void", "100.00"),
            ("2024-02-15", "write_off_reversal", "10.00"),
        ]
    );
    let mut balance = minor(&s["opening_balance"]);
    for line in s["lines"].as_array().unwrap() {
        balance += minor(&line["amount"]);
        assert_eq!(minor(&line["balance"]), balance, "{line}");
    }
    // 40 + 100 + 250 − 300 + 50 − 30 − 100 − 10 + 100 + 10 = 110
    assert_eq!(s["closing_balance"], "110.00");
    assert_eq!(
        minor(&s["closing_balance"]),
        aging_net(&app, c, "2024-02-29").await
    );
    assert_eq!(s["aging"]["net"], "110.00");
    // Open: b's 250 − 60 applied later − 30 credited (the check's 100 came back); credit:
    // 300 − 200 applied − 50 refunded.
    assert_eq!(s["aging"]["total"], "160.00");
    assert_eq!(s["aging"]["unapplied_credit"], "50.00");
    let lines = s["lines"].as_array().unwrap();
    assert_eq!(lines[3]["reference"], "=1+1");
    let applied: Vec<(&str, &str)> = lines[4..6]
        .iter()
        .map(|l| {
            (
                l["description"].as_str().unwrap(),
                l["applied_amount"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        applied.contains(&("100.00 of payment #1 applied to INV-2024-00001", "100.00")),
        "{applied:?}"
    );
    assert!(
        applied.contains(&("40.00 of payment #1 applied to INV-2023-00001", "40.00")),
        "{applied:?}"
    );
    assert_eq!(
        lines[2]["description"],
        "Invoice INV-2024-00003 of 999.00, void: counts on no date"
    );
}

#[tokio::test]
async fn statements_come_as_csv_and_pdf_with_the_same_figures() {
    let app = TestApp::new().await;
    let c = busy_customer(&app).await;
    let path = format!("/v1/customers/{c}/statement?from=2024-01-01&to=2024-02-29");
    let (status, headers, csv) = app.get_bytes(&format!("{path}&format=csv"), &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers.get("content-type").unwrap(),
        "text/csv; charset=utf-8"
    );
    assert!(headers
        .get("content-disposition")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    let csv = String::from_utf8(csv).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(
        rows[0],
        "date,kind,reference,description,amount,applied_amount,balance,currency"
    );
    assert_eq!(
        rows[1],
        "2023-12-31,opening_balance,,Opening balance,,,40.00,USD"
    );
    assert_eq!(
        rows[5],
        "2024-01-20,payment,'=1+1,Payment #1 (Bank transfer),-300.00,,90.00,USD"
    );
    assert_eq!(
        *rows.last().unwrap(),
        "2024-02-29,closing_balance,,Closing balance,,,110.00,USD"
    );
    assert_eq!(rows.len(), 16 + 3);
    let (_, _, by_accept) = app.get_bytes(&path, &[("accept", "text/csv")]).await;
    assert_eq!(String::from_utf8(by_accept).unwrap(), csv);

    let (status, headers, pdf) = app.get_bytes(&path, &[("accept", "application/pdf")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers.get("content-type").unwrap(), "application/pdf");
    let text = crate::documents::pdf_text(&pdf);
    let lines = crate::documents::squeezed(&text);
    for row in [
        "2024-01-01 Opening balance 40.00",
        "2024-01-20 =1+1 Payment #1 (Bank transfer) -300.00 90.00",
        "2024-02-29 Closing balance 110.00",
        "Current 1–30 days 31–60 days 61–90 days Over 90 days Credit Net due",
        "0.00 160.00 0.00 0.00 0.00 50.00 110.00",
    ] {
        assert!(
            lines.iter().any(|l| l.contains(row)),
            "no line with {row:?} in:\n{text}"
        );
    }
}

#[tokio::test]
async fn statement_requests_are_checked() {
    let app = TestApp::new().await;
    let c = app.customer("Acme").await;
    let reply = app
        .get(&format!(
            "/v1/customers/{c}/statement?from=2024-02-01&to=2024-01-01"
        ))
        .await;
    let errors = reply.assert_error(400, "VALIDATION_ERROR");
    assert!(
        errors["from"][0].as_str().unwrap().contains("on or before"),
        "{errors}"
    );
    let reply = app
        .get(&format!("/v1/customers/{c}/statement?format=xml"))
        .await;
    assert!(reply.assert_error(400, "VALIDATION_ERROR")["format"].is_array());
    app.get("/v1/customers/999/statement")
        .await
        .assert_error(404, "NOT_FOUND");
    let other = app.new_key("other", arvalox::domain::keys::Scope::Read);
    let path = format!("/v1/customers/{c}/statement");
    let reply = app.call(Method::GET, &path, Some(&other), &[], None).await;
    reply.assert_error(404, "NOT_FOUND");

    // Defaults: the month of today (2024-03-01) so far; an empty period closes at its opening.
    let reply = app.get(&path).await;
    assert_eq!(reply.body["from"], "2024-03-01");
    assert_eq!(reply.body["to"], "2024-03-01");
    assert_eq!(reply.body["lines"], json!([]));
    assert_eq!(reply.body["opening_balance"], "0.00");
    assert_eq!(reply.body["closing_balance"], "0.00");
}

#[tokio::test]
async fn on_a_seeded_book_every_statement_ends_at_the_aging_net() {
    let app = TestApp::seeded(12, 7).await;
    let mut kinds = std::collections::BTreeSet::new();
    for customer in 1..=12 {
        for (from, to) in [
            ("2023-07-01", "2026-06-30"),
            ("2026-01-01", "2026-03-31"),
            ("2026-06-15", "2026-06-15"),
        ] {
            let path = format!("/v1/customers/{customer}/statement?from={from}&to={to}");
            let s = app.get(&path).await.body;
            let mut balance = minor(&s["opening_balance"]);
            for line in s["lines"].as_array().unwrap() {
                balance += minor(&line["amount"]);
                assert_eq!(minor(&line["balance"]), balance);
                kinds.insert(line["kind"].as_str().unwrap().to_owned());
            }
            assert_eq!(minor(&s["closing_balance"]), balance);
            assert_eq!(balance, aging_net(&app, customer, to).await, "{path}");
            let day_before = crate::helpers::date(from).pred_opt().unwrap().to_string();
            assert_eq!(
                minor(&s["opening_balance"]),
                aging_net(&app, customer, &day_before).await,
                "{path}"
            );
        }
    }
    for kind in [
        "invoice",
        "invoice_void",
        "payment",
        "allocation",
        "credit_note",
        "write_off",
    ] {
        assert!(
            kinds.contains(kind),
            "the seeded book shows no {kind}: {kinds:?}"
        );
    }
}

#[tokio::test]
async fn a_draft_voided_unsent_never_reaches_the_statement() {
    let app = TestApp::new().await;
    let c = app.customer("Acme").await;
    let draft = json!({ "customer_id": c, "issue_date": "2024-02-01", "status": "draft",
        "items": [{ "description": "Quote", "quantity": 1, "unit_price": "7.00" }] });
    let id = created(&app, "/v1/invoices", draft).await["id"]
        .as_i64()
        .unwrap();
    created(&app, &format!("/v1/invoices/{id}/void"), json!({})).await;
    let sent = app.invoice(c, "9.00", "2024-02-02", "2024-03-02").await;
    created(&app, &format!("/v1/invoices/{sent}/void"), json!({})).await;
    let s = app
        .get(&format!(
            "/v1/customers/{c}/statement?from=2024-02-01&to=2024-02-29"
        ))
        .await
        .body;
    let kinds: Vec<&str> = s["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["reference"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["INV-2024-00002"],
        "only the invoice the customer was sent: {s}"
    );
}
