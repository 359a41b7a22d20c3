//! Changing invoices after creation: drafts whole, issued invoices barely, deletes of
//! drafts only (issue 10, section 3).

use poem::http::StatusCode;
use serde_json::json;

use crate::helpers::TestApp;

async fn draft(app: &TestApp, customer: i64, issue: &str) -> i64 {
    let reply = app
        .post(
            "/v1/invoices",
            json!({
                "customer_id": customer,
                "status": "draft",
                "issue_date": issue,
                "items": [{ "description": "Draft work", "quantity": 1, "unit_price": "100.00" }]
            }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body["id"].as_i64().unwrap()
}

#[tokio::test]
async fn a_draft_changes_whole_and_its_totals_due_date_and_summaries_follow() {
    let app = TestApp::new().await;
    let acme = app.customer("Acme").await;
    let globex = app
        .post(
            "/v1/customers",
            json!({ "name": "Globex", "payment_terms_days": 10 }),
        )
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let id = draft(&app, acme, "2024-01-15").await;
    let path = format!("/v1/invoices/{id}");
    assert_eq!(app.get(&path).await.body["due_date"], "2024-02-14");

    let reply = app
        .put(
            &path,
            json!({
                "customer_id": globex,
                "invoice_number": "INV-CUSTOM-7",
                "issue_date": "2024-02-01",
                "notes": "Revised after the call",
                "items": [
                    { "description": "Consulting", "quantity": "1.5", "unit_price": "100.00", "tax_rate": "0.08" },
                    { "description": "Travel", "quantity": 1, "unit_price": "33.33" }
                ]
            }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let body = &reply.body;
    assert_eq!(body["customer_id"], globex);
    assert_eq!(body["invoice_number"], "INV-CUSTOM-7");
    assert_eq!(body["status"], "draft");
    assert_eq!(body["issue_date"], "2024-02-01");
    // Derived again from Globex's 10-day terms.
    assert_eq!(body["due_date"], "2024-02-11");
    assert_eq!(body["notes"], "Revised after the call");
    assert_eq!(body["items"].as_array().unwrap().len(), 2);
    assert_eq!(body["items"][0]["line_tax"], "12.00");
    assert_eq!(body["subtotal"], "183.33");
    assert_eq!(body["tax_total"], "12.00");
    assert_eq!(body["total"], "195.33");
    assert_eq!(body["balance_due"], "195.33");
    // The stored detail copy was written again: a read answers the same bytes.
    assert_eq!(app.get(&path).await.body, reply.body);
    app.assert_summaries_match();

    // A given due date is kept; null clears the notes; what is left out stays.
    let reply = app
        .put(&path, json!({ "due_date": "2024-03-31", "notes": null }))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["due_date"], "2024-03-31");
    assert_eq!(reply.body["notes"], serde_json::Value::Null);
    assert_eq!(reply.body["total"], "195.33");
    assert_eq!(reply.body["invoice_number"], "INV-CUSTOM-7");

    // Sent, it counts in the dashboard with its new figures on its new date.
    let sent = app.post(&format!("{path}/send"), json!({})).await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    let aging = app.get("/v1/reports/aging?as_of=2024-02-05").await.body;
    assert_eq!(aging["totals"]["current"], "195.33", "{aging}");
    let before_issue = app.get("/v1/reports/aging?as_of=2024-01-20").await.body;
    assert_eq!(before_issue["totals"]["total"], "0.00", "{before_issue}");
    app.assert_summaries_match();
}

#[tokio::test]
async fn an_issued_invoice_changes_only_notes_and_due_date_until_paid() {
    let app = TestApp::new().await;
    let acme = app.customer("Acme").await;
    let id = app
        .invoice(acme, "100.00", "2024-01-05", "2024-02-04")
        .await;
    let path = format!("/v1/invoices/{id}");

    let reply = app
        .put(
            &path,
            json!({ "due_date": "2024-03-05", "notes": "Net 60 agreed" }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["due_date"], "2024-03-05");
    assert_eq!(reply.body["status"], "sent");
    let overdue = app.get("/v1/reports/aging?as_of=2024-03-10").await.body;
    assert_eq!(overdue["totals"]["days_1_30"], "100.00", "{overdue}");

    let refused = app
        .put(
            &path,
            json!({
                "notes": "fine",
                "issue_date": "2024-01-06",
                "items": [{ "description": "More", "quantity": 1, "unit_price": "200.00" }]
            }),
        )
        .await;
    let fields = refused.assert_error(409, "CONFLICT");
    assert_eq!(
        fields.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["issue_date", "items"]
    );
    assert!(
        fields["items"][0]
            .as_str()
            .unwrap()
            .contains("issue a credit note"),
        "{fields}"
    );
    assert_eq!(
        refused.body["detail"],
        format!("Invoice {id} is sent; these fields cannot change: issue_date, items.")
    );
    // Refused whole: the note sent beside the refused fields did not change either.
    assert_eq!(app.get(&path).await.body["notes"], "Net 60 agreed");

    assert_eq!(app.pay(acme, id, "10.00", "2024-01-20").await.status, 201);
    let paid_some = app.put(&path, json!({ "due_date": "2024-04-01" })).await;
    let fields = paid_some.assert_error(409, "CONFLICT");
    assert!(
        fields["due_date"][0]
            .as_str()
            .unwrap()
            .contains("partially_paid"),
        "{fields}"
    );
    app.assert_summaries_match();
}

#[tokio::test]
async fn bad_changes_name_every_field() {
    let app = TestApp::new().await;
    let acme = app.customer("Acme").await;
    let id = draft(&app, acme, "2024-01-15").await;
    let other = draft(&app, acme, "2024-01-16").await;
    let path = format!("/v1/invoices/{id}");
    let taken = app.get(&format!("/v1/invoices/{other}")).await.body["invoice_number"].clone();

    let reply = app
        .put(
            &path,
            json!({
                "customer_id": null,
                "issue_date": "2024-02-10",
                "due_date": "2024-02-01",
                "items": [],
                "colour": "red"
            }),
        )
        .await;
    let fields = reply.assert_error(400, "VALIDATION_ERROR");
    assert_eq!(
        fields.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["colour", "customer_id", "due_date", "items"],
        "{fields}"
    );
    assert_eq!(
        fields["due_date"][0],
        "must not be before issue_date (2024-02-10)"
    );

    let reply = app.put(&path, json!({ "customer_id": 999 })).await;
    assert_eq!(
        reply.assert_error(400, "VALIDATION_ERROR")["customer_id"][0],
        "customer 999 does not exist"
    );
    let reply = app.put(&path, json!({ "invoice_number": taken })).await;
    assert!(reply.assert_error(409, "CONFLICT")["invoice_number"].is_array());
    // The invoice's own number is not a clash.
    let own = app.get(&path).await.body["invoice_number"].clone();
    assert_eq!(
        app.put(&path, json!({ "invoice_number": own }))
            .await
            .status,
        200
    );

    app.put("/v1/invoices/999", json!({ "notes": "x" }))
        .await
        .assert_error(404, "NOT_FOUND");
    let unchanged = app.get(&path).await.body;
    assert_eq!(unchanged["total"], "100.00");
    assert_eq!(unchanged["issue_date"], "2024-01-15");
}

#[tokio::test]
async fn only_a_draft_is_deleted() {
    let app = TestApp::new().await;
    let acme = app.customer("Acme").await;
    let id = draft(&app, acme, "2024-01-15").await;
    let sent = app.invoice(acme, "50.00", "2024-01-15", "2024-02-14").await;

    let reply = app.delete(&format!("/v1/invoices/{sent}")).await;
    let detail = reply.assert_error(409, "CONFLICT");
    assert!(detail.as_object().unwrap().is_empty());
    assert!(
        reply.body["detail"]
            .as_str()
            .unwrap()
            .contains("Void it instead"),
        "{}",
        reply.body
    );

    let reply = app.delete(&format!("/v1/invoices/{id}")).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    app.get(&format!("/v1/invoices/{id}"))
        .await
        .assert_error(404, "NOT_FOUND");
    app.delete(&format!("/v1/invoices/{id}"))
        .await
        .assert_error(404, "NOT_FOUND");
    let list = app.get("/v1/invoices").await.body;
    assert_eq!(list["total"], 1);
    let dashboard = app.get("/v1/reports/dashboard").await.body;
    assert_eq!(
        dashboard["invoice_counts_by_status"]["draft"], 0,
        "{dashboard}"
    );
    app.assert_summaries_match();
    // A customer whose only invoice was a deleted draft can be deleted.
    let lone = app.customer("Lone").await;
    let lone_draft = draft(&app, lone, "2024-01-20").await;
    assert_eq!(
        app.delete(&format!("/v1/invoices/{lone_draft}"))
            .await
            .status,
        204
    );
    assert_eq!(
        app.delete(&format!("/v1/customers/{lone}")).await.status,
        204
    );
}

/// Found by the property test: a deleted draft that was the newest invoice gave its id to
/// the next one, so the old id answered another invoice.
#[tokio::test]
async fn a_deleted_drafts_id_is_never_given_to_another_invoice() {
    let app = TestApp::new().await;
    let acme = app.customer("Acme").await;
    let gone = draft(&app, acme, "2024-02-01").await;
    let deleted = app.delete(&format!("/v1/invoices/{gone}")).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
    let next = draft(&app, acme, "2024-02-02").await;
    assert!(next > gone, "{next} after {gone}");
    app.get(&format!("/v1/invoices/{gone}"))
        .await
        .assert_error(404, "NOT_FOUND");
}

#[tokio::test]
async fn a_preview_answers_what_create_would_and_stores_nothing() {
    let app = TestApp::new().await;
    let acme = app.customer("Acme").await;
    let body = json!({
        "customer_id": acme,
        "issue_date": "2024-03-01",
        "items": [
            { "description": "Consulting", "quantity": "1.5", "unit_price": "33.33", "tax_rate": "0.0825" },
            { "description": "Travel", "quantity": 3, "unit_price": "0.10" }
        ]
    });
    let preview = app.post("/v1/invoices/preview", body.clone()).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert_eq!(preview.header("location"), None);
    // 1.5 × 33.33 = 49.995 → 50.00; its tax 50.00 × 0.0825 = 4.125 → 4.13; 3 × 0.10 = 0.30.
    assert_eq!(preview.body["subtotal"], "50.30");
    assert_eq!(preview.body["tax_total"], "4.13");
    assert_eq!(preview.body["total"], "54.43");
    assert_eq!(preview.body["due_date"], "2024-03-31");
    // Nothing kept: no invoice, no event, and the number is still free.
    assert_eq!(app.get("/v1/invoices").await.body["total"], 0);
    let events = app.get("/v1/events?type=invoice.created").await;
    assert_eq!(
        events.body["items"].as_array().unwrap().len(),
        0,
        "{}",
        events.body
    );
    let created = app.post("/v1/invoices", body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let strip = |mut v: serde_json::Value| {
        for stamp in ["created_at", "updated_at"] {
            v.as_object_mut().unwrap().remove(stamp);
        }
        v
    };
    assert_eq!(strip(preview.body.clone()), strip(created.body.clone()));
}

/// `migrate-db` leaves each PostgreSQL identity at "the next value is N, none called yet"
/// (`is_called` false), where `pg_sequences` shows no last value: a preview on such a book
/// must leave its ids there, not start them over at 1 (the next create would then collide
/// with invoice 1).
#[tokio::test]
async fn a_preview_on_a_moved_book_keeps_the_next_ids() {
    let app = TestApp::new().await;
    let acme = app.customer("Acme").await;
    let body = json!({
        "customer_id": acme,
        "items": [{ "description": "Consulting", "quantity": 1, "unit_price": "10.00" }]
    });
    for _ in 0..2 {
        let created = app.post("/v1/invoices", body.clone()).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    }
    if app.state.db.file().is_none() {
        // As `migrate-db` leaves them (`into_postgres::continue_identities`).
        let moved = ["invoices", "invoice_items"].map(|table| {
            format!(
                "/* test check */ SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                 (SELECT MAX(id) + 1 FROM {table}), false)"
            )
        });
        app.state
            .db
            .write_blocking(arvalox::db::WriteScope::Book, |tx| {
                Ok(tx.execute_batch(&moved.join("; "))?)
            })
            .unwrap();
    }
    let preview = app.post("/v1/invoices/preview", body.clone()).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    let created = app.post("/v1/invoices", body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(preview.body["id"], 3);
    assert_eq!(created.body["id"], 3);
    assert_eq!(preview.body["items"], created.body["items"]);
}

#[tokio::test]
async fn a_preview_refuses_what_create_refuses_and_needs_a_write_key() {
    let app = TestApp::new().await;
    let acme = app.customer("Acme").await;
    let bad = app
        .post(
            "/v1/invoices/preview",
            json!({ "customer_id": acme, "items": [{ "description": "", "quantity": 0, "unit_price": "1.005" }], "colour": "red" }),
        )
        .await;
    let created = app
        .post(
            "/v1/invoices",
            json!({ "customer_id": acme, "items": [{ "description": "", "quantity": 0, "unit_price": "1.005" }], "colour": "red" }),
        )
        .await;
    bad.assert_error(400, "VALIDATION_ERROR");
    assert_eq!(bad.body, created.body);
    let missing = app
        .post(
            "/v1/invoices/preview",
            json!({ "customer_id": 999, "items": [{ "description": "A", "quantity": 1, "unit_price": "1" }] }),
        )
        .await;
    assert!(missing.body["field_errors"]["customer_id"][0]
        .as_str()
        .unwrap()
        .contains("does not exist"));
    let reader = app.new_key("default", arvalox::domain::keys::Scope::Read);
    let body = json!({ "customer_id": acme, "items": [{ "description": "A", "quantity": 1, "unit_price": "1" }] });
    let refused = app
        .call(
            poem::http::Method::POST,
            "/v1/invoices/preview",
            Some(&reader),
            &[],
            Some(&body.to_string()),
        )
        .await;
    refused.assert_error(403, "INSUFFICIENT_PERMISSIONS");
}
