//! Credit notes: issued against an invoice or on account, applied, refunded and voided as
//! dated events every report honours (issue 10, section 2). Today is 2024-03-01.

use poem::http::StatusCode;
use serde_json::{json, Value};

use crate::helpers::TestApp;

/// A credit note of one untaxed line.
fn note(customer: i64, invoice: Option<i64>, amount: &str, date: &str) -> Value {
    let mut body = json!({
        "customer_id": customer, "issue_date": date, "reason": "Goods returned",
        "items": [{ "description": "Returned chairs", "quantity": 1, "unit_price": amount }]
    });
    if let Some(invoice) = invoice {
        body["invoice_id"] = json!(invoice);
    }
    body
}

async fn issue(app: &TestApp, body: Value) -> Value {
    let reply = app.post("/v1/credit-notes", body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body
}

async fn invoice(app: &TestApp, id: i64) -> Value {
    app.get(&format!("/v1/invoices/{id}")).await.body
}

#[tokio::test]
async fn a_note_against_an_invoice_is_applied_at_once_and_the_rest_is_credit() {
    let app = TestApp::new().await;
    let acme = app.customer("Acme").await;
    let inv = app
        .invoice(acme, "300.00", "2024-01-05", "2024-02-04")
        .await;
    let reply = app
        .post(
            "/v1/credit-notes",
            json!({
                "customer_id": acme, "invoice_id": inv, "issue_date": "2024-01-20",
                "reason": "Two chairs came back",
                "items": [{ "description": "Chair", "quantity": 2, "unit_price": "45.00",
                            "tax_rate": "0.08" }]
            }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let first = reply.body;
    assert_eq!(
        reply.headers["location"],
        format!("/v1/credit-notes/{}", first["id"])
    );
    assert_eq!(first["credit_note_number"], "CN-2024-00001");
    // 2 × 45.00 = 90.00, tax 7.20: the invoice's own rounding rule.
    assert_eq!(first["items"][0]["line_total"], "97.20");
    assert_eq!(first["total"], "97.20");
    assert_eq!(first["applied_amount"], "97.20");
    assert_eq!(first["unapplied_amount"], "0.00");
    assert_eq!(first["status"], "applied");
    assert_eq!(first["allocations"][0]["invoice_id"], inv);
    assert_eq!(first["allocations"][0]["applied_date"], "2024-01-20");

    let detail = invoice(&app, inv).await;
    assert_eq!(detail["amount_paid"], "0.00");
    assert_eq!(detail["amount_credited"], "97.20");
    assert_eq!(detail["amount_written_off"], "0.00");
    assert_eq!(detail["balance_due"], "202.80");
    assert_eq!(detail["status"], "partially_paid");
    assert_eq!(
        detail["credit_notes"],
        json!([{ "credit_note_id": first["id"], "credit_note_number": "CN-2024-00001",
                 "amount": "97.20" }])
    );
    assert_eq!(detail["payments"], json!([]));

    // Paid 150.00, then a note of 100.00: 52.80 closes the invoice, 47.20 is credit.
    assert_eq!(
        app.pay(acme, inv, "150.00", "2024-02-01").await.status,
        StatusCode::CREATED
    );
    let second = issue(&app, note(acme, Some(inv), "100.00", "2024-02-10")).await;
    assert_eq!(second["credit_note_number"], "CN-2024-00002");
    assert_eq!(second["applied_amount"], "52.80");
    assert_eq!(second["unapplied_amount"], "47.20");
    assert_eq!(second["status"], "open");
    let detail = invoice(&app, inv).await;
    assert_eq!(detail["status"], "paid");
    assert_eq!(detail["balance_due"], "0.00");
    assert_eq!(detail["amount_credited"], "150.00");
    let customer = app.get(&format!("/v1/customers/{acme}")).await.body;
    assert_eq!(customer["credit_balance"], "47.20");
    assert_eq!(customer["net_balance"], "-47.20");

    // Before the second note the invoice was open for 52.80 and there was no credit.
    let aging = app.get("/v1/reports/aging?as_of=2024-02-05").await.body;
    assert_eq!(aging["totals"]["total"], "52.80", "{aging}");
    assert_eq!(aging["totals"]["unapplied_credit"], "0.00");
    let aging = app.get("/v1/reports/aging").await.body;
    assert_eq!(aging["totals"]["total"], "0.00");
    assert_eq!(aging["totals"]["unapplied_credit"], "47.20");
    let dashboard = app.get("/v1/reports/dashboard").await.body;
    assert_eq!(dashboard["credited_last_30_days"], "100.00");
    assert_eq!(dashboard["total_unapplied_credit"], "47.20");
    // Credit sales in the 90 days: 300.00 invoiced less 197.20 credited.
    assert_eq!(dashboard["credit_sales_last_90_days"], "102.80");
    app.assert_sums_match();
    app.assert_summaries_match();
}

#[tokio::test]
async fn a_notes_credit_is_applied_later_refunded_and_listed() {
    let app = TestApp::new().await;
    let acme = app.customer("Acme").await;
    let other = app.customer("Other").await;
    let first = app.invoice(acme, "40.00", "2024-01-05", "2024-02-04").await;
    let second = app.invoice(acme, "25.00", "2024-01-25", "2024-02-24").await;
    let credit = issue(&app, note(acme, None, "100.00", "2024-01-10")).await;
    assert_eq!(credit["status"], "open");
    assert_eq!(credit["invoice_id"], Value::Null);
    let id = credit["id"].as_i64().unwrap();

    // Oldest first on Feb 1: both invoices are open then.
    let applied = app
        .post(
            &format!("/v1/credit-notes/{id}/allocations"),
            json!({ "allocate": "oldest_first", "applied_date": "2024-02-01" }),
        )
        .await;
    assert_eq!(applied.status, StatusCode::OK, "{}", applied.body);
    assert_eq!(applied.body["applied_amount"], "65.00");
    assert_eq!(applied.body["unapplied_amount"], "35.00");
    assert_eq!(invoice(&app, first).await["status"], "paid");
    assert_eq!(invoice(&app, second).await["status"], "paid");

    // A refund beyond what is left names the amount and the credit left.
    let too_much = app
        .post(
            &format!("/v1/credit-notes/{id}/refunds"),
            json!({ "amount": "35.01", "payment_method": "bank_transfer", "refund_date": "2024-02-15" }),
        )
        .await;
    let fields = too_much.assert_error(400, "VALIDATION_ERROR");
    assert!(
        fields["amount"][0].as_str().unwrap().contains("35.00"),
        "{}",
        too_much.body
    );
    let refunded = app
        .post(
            &format!("/v1/credit-notes/{id}/refunds"),
            json!({ "amount": "35.00", "payment_method": "bank_transfer", "refund_date": "2024-02-15",
                    "reference_number": "RF-9" }),
        )
        .await;
    assert_eq!(refunded.status, StatusCode::OK, "{}", refunded.body);
    assert_eq!(refunded.body["status"], "applied");
    assert_eq!(refunded.body["refunded_amount"], "35.00");
    assert_eq!(refunded.body["refunds"][0]["reference_number"], "RF-9");

    // Refunded: it can no longer be voided.
    let void = app
        .post(
            &format!("/v1/credit-notes/{id}/void"),
            json!({ "void_date": "2024-02-20", "reason": "Issued in error" }),
        )
        .await;
    void.assert_error(409, "CONFLICT");
    assert!(void.body["detail"]
        .as_str()
        .unwrap()
        .starts_with("Credit note"));

    issue(&app, note(other, None, "5.00", "2024-02-01")).await;
    let listed = app
        .get(&format!(
            "/v1/credit-notes?customer_id={acme}&status=applied"
        ))
        .await
        .body;
    assert_eq!(listed["total"], 1, "{listed}");
    assert_eq!(listed["items"][0]["id"], id);
    let open = app.get("/v1/credit-notes?status=open").await.body;
    assert_eq!(open["total"], 1);
    let ranged = app
        .get("/v1/credit-notes?date_from=2024-01-11&date_to=2024-03-01")
        .await
        .body;
    assert_eq!(ranged["total"], 1);
    let dashboard = app.get("/v1/reports/dashboard").await.body;
    assert_eq!(dashboard["refunded_last_30_days"], "35.00");
    app.assert_sums_match();
}

#[tokio::test]
async fn a_void_reverses_the_note_from_its_date_and_reports_before_it_keep_it() {
    let app = TestApp::new().await;
    let acme = app.customer("Acme").await;
    let inv = app
        .invoice(acme, "100.00", "2024-01-05", "2024-02-04")
        .await;
    let credit = issue(&app, note(acme, Some(inv), "100.00", "2024-01-10")).await;
    assert_eq!(invoice(&app, inv).await["status"], "paid");
    let id = credit["id"].as_i64().unwrap();
    let early = app
        .post(
            &format!("/v1/credit-notes/{id}/void"),
            json!({ "void_date": "2024-01-09", "reason": "Issued in error" }),
        )
        .await;
    let fields = early.assert_error(400, "VALIDATION_ERROR");
    assert!(fields["void_date"].is_array(), "{}", early.body);

    let voided = app
        .post(
            &format!("/v1/credit-notes/{id}/void"),
            json!({ "void_date": "2024-02-01", "reason": "Issued in error" }),
        )
        .await;
    assert_eq!(voided.status, StatusCode::OK, "{}", voided.body);
    assert_eq!(voided.body["status"], "void");
    assert_eq!(voided.body["allocations"][0]["reversed_date"], "2024-02-01");
    let detail = invoice(&app, inv).await;
    assert_eq!(detail["status"], "sent");
    assert_eq!(detail["amount_credited"], "0.00");
    assert_eq!(detail["credit_notes"], json!([]));
    let before = app.get("/v1/reports/aging?as_of=2024-01-20").await.body;
    assert_eq!(before["totals"]["total"], "0.00", "{before}");
    let after = app.get("/v1/reports/aging?as_of=2024-02-01").await.body;
    assert_eq!(after["totals"]["total"], "100.00");
    // Issued and voided in the same 30 days: nothing credited in the window.
    let dashboard = app.get("/v1/reports/dashboard?as_of=2024-02-05").await.body;
    assert_eq!(dashboard["credited_last_30_days"], "0.00");
    let dashboard = app.get("/v1/reports/dashboard?as_of=2024-01-20").await.body;
    assert_eq!(dashboard["credited_last_30_days"], "100.00");
    assert_eq!(dashboard["total_outstanding"], "0.00");
    app.assert_sums_match();
    app.assert_summaries_match();

    // The invoice can be voided once nothing is applied to it.
    let void = app
        .post(&format!("/v1/invoices/{inv}/void"), json!({}))
        .await;
    assert_eq!(void.status, StatusCode::OK, "{}", void.body);
}

#[tokio::test]
async fn an_invoice_is_never_credited_beyond_its_total() {
    let app = TestApp::new().await;
    let acme = app.customer("Acme").await;
    let inv = app
        .invoice(acme, "100.00", "2024-01-05", "2024-02-04")
        .await;
    issue(&app, note(acme, Some(inv), "60.00", "2024-01-10")).await;
    let beyond = app
        .post(
            "/v1/credit-notes",
            note(acme, Some(inv), "40.01", "2024-01-11"),
        )
        .await;
    let fields = beyond.assert_error(400, "VALIDATION_ERROR");
    let message = fields["items"][0].as_str().unwrap();
    assert!(
        message.contains("100.01") && message.contains("(100.00)"),
        "{message}"
    );
    // A credited invoice cannot be voided while the credit stands.
    let void = app
        .post(&format!("/v1/invoices/{inv}/void"), json!({}))
        .await;
    void.assert_error(409, "CONFLICT");
    assert!(void.body["detail"]
        .as_str()
        .unwrap()
        .contains("credit notes of 60.00"));
    issue(&app, note(acme, Some(inv), "40.00", "2024-01-11")).await;
    assert_eq!(invoice(&app, inv).await["status"], "paid");
}

#[tokio::test]
async fn bad_credit_notes_name_every_field() {
    let app = TestApp::new().await;
    let acme = app.customer("Acme").await;
    let other = app.customer("Other").await;
    let inv = app
        .invoice(acme, "100.00", "2024-01-05", "2024-02-04")
        .await;
    let reply = app
        .post(
            "/v1/credit-notes",
            json!({ "customer_id": acme, "items": [], "issue_date": "2024-13-01", "colour": 1 }),
        )
        .await;
    let fields = reply.assert_error(400, "VALIDATION_ERROR");
    for field in ["reason", "items", "issue_date", "colour"] {
        assert!(fields[field].is_array(), "{field}: {}", reply.body);
    }
    let zero = app
        .post("/v1/credit-notes", note(acme, None, "0.00", "2024-01-10"))
        .await;
    assert!(zero.assert_error(400, "VALIDATION_ERROR")["items"].is_array());
    let future = app
        .post("/v1/credit-notes", note(acme, None, "5.00", "2024-03-02"))
        .await;
    assert!(future.assert_error(400, "VALIDATION_ERROR")["issue_date"].is_array());
    let theirs = app
        .post(
            "/v1/credit-notes",
            note(other, Some(inv), "5.00", "2024-01-10"),
        )
        .await;
    assert!(theirs.assert_error(400, "VALIDATION_ERROR")["invoice_id"].is_array());
    let before_invoice = app
        .post(
            "/v1/credit-notes",
            note(acme, Some(inv), "5.00", "2024-01-04"),
        )
        .await;
    assert!(before_invoice.assert_error(400, "VALIDATION_ERROR")["issue_date"].is_array());
    let missing = app
        .post(
            "/v1/credit-notes",
            note(acme, Some(999), "5.00", "2024-01-10"),
        )
        .await;
    assert!(missing.assert_error(400, "VALIDATION_ERROR")["invoice_id"].is_array());
    let draft = app
        .post(
            "/v1/invoices",
            json!({ "customer_id": acme, "status": "draft",
                    "items": [{ "description": "Work", "quantity": 1, "unit_price": "10.00" }] }),
        )
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let on_draft = app
        .post(
            "/v1/credit-notes",
            note(acme, Some(draft), "5.00", "2024-03-01"),
        )
        .await;
    let fields = on_draft.assert_error(409, "CONFLICT");
    assert_eq!(
        fields["invoice_id"][0],
        format!("Invoice {draft} is draft and takes no credit notes.")
    );
    let mut numbered = note(acme, None, "5.00", "2024-01-10");
    numbered["credit_note_number"] = json!("CN-OWN-1");
    issue(&app, numbered.clone()).await;
    let again = app.post("/v1/credit-notes", numbered).await;
    assert!(again.assert_error(409, "CONFLICT")["credit_note_number"].is_array());
    assert_eq!(app.get("/v1/credit-notes").await.body["total"], 1);
    app.get("/v1/credit-notes/999")
        .await
        .assert_error(404, "NOT_FOUND");
    app.assert_sums_match();
}

#[tokio::test]
async fn a_note_against_an_invoice_keeps_it_and_its_customer_from_going_away() {
    let app = TestApp::new().await;
    let acme = app.customer("Acme").await;
    let inv = app
        .invoice(acme, "100.00", "2024-01-05", "2024-02-04")
        .await;
    let paid = app.pay(acme, inv, "100.00", "2024-01-10").await.body;
    // The invoice is closed: none of the note can be applied, all of it is credit.
    let credit = issue(&app, note(acme, Some(inv), "30.00", "2024-01-20")).await;
    assert_eq!(credit["applied_amount"], "0.00");
    assert_eq!(credit["unapplied_amount"], "30.00");
    let void = app
        .post(
            &format!("/v1/payments/{}/void", paid["id"]),
            json!({ "void_date": "2024-01-25", "reason": "Bounced" }),
        )
        .await;
    assert_eq!(void.status, StatusCode::OK, "{}", void.body);
    // Nothing is applied to the invoice now, yet a note stands against it.
    let refused = app
        .post(&format!("/v1/invoices/{inv}/void"), json!({}))
        .await;
    refused.assert_error(409, "CONFLICT");
    assert!(
        refused.body["detail"]
            .as_str()
            .unwrap()
            .contains("credit notes of 30.00 issued against it"),
        "{}",
        refused.body
    );
    // A customer with credit notes is kept, like one with invoices.
    let other = app.customer("Other").await;
    issue(&app, note(other, None, "5.00", "2024-01-20")).await;
    let delete = app.delete(&format!("/v1/customers/{other}")).await;
    delete.assert_error(409, "CONFLICT");
    assert!(delete.body["detail"]
        .as_str()
        .unwrap()
        .contains("1 credit note(s)"));
    // Each list's status filter names its own values.
    let bad = app.get("/v1/credit-notes?status=paid").await;
    let fields = bad.assert_error(400, "VALIDATION_ERROR");
    assert_eq!(fields["status"][0], "must be one of: open, applied, void");
    let bad = app.get("/v1/invoices?status=closed").await;
    let fields = bad.assert_error(400, "VALIDATION_ERROR");
    assert_eq!(
        fields["status"][0],
        "must be one of: draft, sent, partially_paid, paid, written_off, void, overdue"
    );
    let bad = app.get("/v1/payments?status=paid").await;
    let fields = bad.assert_error(400, "VALIDATION_ERROR");
    assert_eq!(
        fields["status"][0],
        "must be one of: unapplied, partially_applied, applied, void"
    );
    app.assert_sums_match();
}

/// Lines that each fit but sum past what an amount holds are named as the note's total,
/// not an invoice's (found in review).
#[tokio::test]
async fn a_notes_total_past_the_limit_is_called_the_notes() {
    let app = TestApp::new().await;
    let acme = app.customer("Acme").await;
    let line = json!({ "description": "Returned", "quantity": 1, "unit_price": "600000000000.00" });
    let reply = app
        .post(
            "/v1/credit-notes",
            json!({ "customer_id": acme, "issue_date": "2024-02-01", "items": [line.clone(), line] }),
        )
        .await;
    let fields = reply.assert_error(400, "VALIDATION_ERROR");
    assert_eq!(
        fields["items"][0], "credit note total must not exceed 999999999999.99",
        "{}",
        reply.body
    );
}
