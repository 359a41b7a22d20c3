use std::sync::Arc;

use poem::http::Method;
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn documented_payment_moves_the_invoice_to_partially_paid_then_paid() {
    let app = TestApp::new().await;
    let customer = app.customer("Acme").await;
    let invoice = app
        .post(
            "/v1/invoices",
            json!({"customer_id": customer, "issue_date": "2024-01-15", "due_date": "2024-02-15",
                   "items": [{"description": "Consulting Services", "quantity": 10, "unit_price": 150.00, "tax_rate": 0.08}]}),
        )
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let reply = app
        .post(
            "/v1/payments/",
            json!({"customer_id": customer, "invoice_id": invoice, "amount": 500.00,
                   "payment_method": "bank_transfer", "payment_date": "2024-01-20", "reference_number": "TXN123456"}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.body["amount"], "500.00");
    assert_eq!(reply.body["reference_number"], "TXN123456");
    let payment = reply.body["id"].as_i64().unwrap();
    assert_eq!(
        reply.header("location"),
        Some(format!("/v1/payments/{payment}").as_str())
    );

    let detail = app.get(&format!("/v1/invoices/{invoice}")).await;
    assert_eq!(detail.body["status"], "partially_paid");
    assert_eq!(detail.body["amount_paid"], "500.00");
    assert_eq!(detail.body["balance_due"], "1120.00");
    assert_eq!(detail.body["payments"][0]["payment_id"], payment);
    assert_eq!(detail.body["payments"][0]["amount"], "500.00");
    let customer_view = app.get(&format!("/v1/customers/{customer}")).await;
    assert_eq!(customer_view.body["outstanding_balance"], "1120.00");
    assert_eq!(customer_view.body["overdue_balance"], "1120.00");

    let too_much = app.pay(customer, invoice, "1120.01", "2024-02-01").await;
    let fields = too_much.assert_error(400, "VALIDATION_ERROR");
    assert!(
        fields["amount"].to_string().contains("1120.00"),
        "{}",
        too_much.body
    );

    assert_eq!(
        app.pay(customer, invoice, "1120.00", "2024-02-01")
            .await
            .status,
        201
    );
    let settled = app.get(&format!("/v1/invoices/{invoice}")).await;
    assert_eq!(settled.body["status"], "paid");
    assert_eq!(settled.body["balance_due"], "0.00");
    assert_eq!(settled.body["is_overdue"], false);
    app.pay(customer, invoice, "0.01", "2024-02-01")
        .await
        .assert_error(400, "VALIDATION_ERROR");
    assert_eq!(
        app.get(&format!("/v1/payments/{payment}")).await.body["amount"],
        "500.00"
    );
}

#[tokio::test]
async fn bad_payments_name_their_fields() {
    let app = TestApp::new().await;
    let acme = app.customer("Acme").await;
    let other = app.customer("Other").await;
    let invoice = app
        .invoice(acme, "100.00", "2024-02-01", "2024-02-20")
        .await;

    let reply = app
        .post("/v1/payments", json!({"customer_id": acme, "invoice_id": invoice, "amount": "1.005", "payment_method": "wire", "payment_date": "2024-02-31"}))
        .await;
    let fields = reply.assert_error(400, "VALIDATION_ERROR");
    for field in ["amount", "payment_method", "payment_date"] {
        assert!(
            fields[field].is_array(),
            "{field} not named in {}",
            reply.body
        );
    }
    assert!(fields["payment_method"]
        .to_string()
        .contains("bank_transfer"));
    let zero = app.pay(acme, invoice, "0", "2024-02-10").await;
    assert!(zero.assert_error(400, "VALIDATION_ERROR")["amount"].is_array());
    let missing = app.post("/v1/payments", json!({})).await;
    let fields = missing.assert_error(400, "VALIDATION_ERROR");
    // Without invoice_id a payment is on account (issue 10): no longer a missing field.
    assert!(fields.get("invoice_id").is_none(), "{}", missing.body);
    for field in ["customer_id", "amount", "payment_method"] {
        assert!(
            fields[field].is_array(),
            "{field} not named in {}",
            missing.body
        );
    }
    let wrong_customer = app.pay(other, invoice, "1.00", "2024-02-10").await;
    assert!(wrong_customer.assert_error(400, "VALIDATION_ERROR")["invoice_id"].is_array());
    let future = app.pay(acme, invoice, "1.00", "2024-03-02").await;
    assert!(future.assert_error(400, "VALIDATION_ERROR")["payment_date"].is_array());
    let early = app.pay(acme, invoice, "1.00", "2024-01-31").await;
    assert!(early.assert_error(400, "VALIDATION_ERROR")["payment_date"].is_array());
    let no_invoice = app.pay(acme, 999, "1.00", "2024-02-10").await;
    assert!(no_invoice.assert_error(400, "VALIDATION_ERROR")["invoice_id"].is_array());
    let mass = app
        .post("/v1/payments", json!({"customer_id": acme, "invoice_id": invoice, "amount": "1.00", "payment_method": "cash", "status": "paid"}))
        .await;
    assert!(mass.assert_error(400, "VALIDATION_ERROR")["status"].is_array());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_payments_never_overpay_an_invoice() {
    let app = Arc::new(TestApp::new().await);
    let customer = app.customer("Acme").await;
    let invoice = app
        .invoice(customer, "100.00", "2024-02-01", "2024-02-20")
        .await;
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            app.pay(customer, invoice, "60.00", "2024-02-10")
                .await
                .status
                .as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 400).count(),
        11,
        "{statuses:?}"
    );
    let detail = app.get(&format!("/v1/invoices/{invoice}")).await;
    assert_eq!(detail.body["amount_paid"], "60.00");
    assert_eq!(detail.body["balance_due"], "40.00");
    assert_eq!(app.get("/v1/payments").await.body["total"], 1);
    app.assert_summaries_match();
}

#[tokio::test]
async fn idempotent_retries_write_once() {
    let app = TestApp::new().await;
    let customer = app.customer("Acme").await;
    let invoice = app
        .invoice(customer, "100.00", "2024-02-01", "2024-02-20")
        .await;
    let body = json!({"customer_id": customer, "invoice_id": invoice, "amount": "25.00", "payment_method": "cash"}).to_string();
    let headers = [("Idempotency-Key", "pay-1")];
    let first = app.post_raw("/v1/payments", &headers, &body).await;
    let retry = app.post_raw("/v1/payments", &headers, &body).await;
    assert_eq!(first.status, 201);
    assert_eq!(retry.status, 201);
    assert_eq!(first.body, retry.body);
    assert_eq!(first.header("location"), retry.header("location"));
    assert_eq!(app.get("/v1/payments").await.body["total"], 1);
    assert_eq!(
        app.get(&format!("/v1/invoices/{invoice}")).await.body["amount_paid"],
        "25.00"
    );

    let changed = json!({"customer_id": customer, "invoice_id": invoice, "amount": "26.00", "payment_method": "cash"}).to_string();
    let conflict = app.post_raw("/v1/payments", &headers, &changed).await;
    assert!(conflict.assert_error(409, "CONFLICT")["Idempotency-Key"].is_array());

    let customer_headers = [("Idempotency-Key", "cust-1")];
    let create = json!({"name": "Once"}).to_string();
    let a = app
        .post_raw("/v1/customers", &customer_headers, &create)
        .await;
    let b = app
        .post_raw("/v1/customers", &customer_headers, &create)
        .await;
    assert_eq!(a.body["id"], b.body["id"]);
    assert_eq!(app.get("/v1/customers").await.body["total"], 2);

    // A key's secret is answered once and never stored for replays.
    let key_headers = [("Idempotency-Key", "key-1")];
    let new_key = json!({"name": "ci"}).to_string();
    let first = app.post_raw("/v1/api-keys", &key_headers, &new_key).await;
    let replay = app.post_raw("/v1/api-keys", &key_headers, &new_key).await;
    assert!(first.body["key"].as_str().unwrap().starts_with("arv_"));
    assert_eq!(replay.body["key"], serde_json::Value::Null);
    assert_eq!(replay.body["id"], first.body["id"]);
}

#[tokio::test]
async fn list_filters() {
    let app = TestApp::new().await;
    let a = app.customer("A").await;
    let b = app.customer("B").await;
    let ia = app.invoice(a, "100.00", "2024-01-01", "2024-02-01").await;
    let ib = app.invoice(b, "100.00", "2024-01-01", "2024-02-01").await;
    app.pay(a, ia, "10.00", "2024-01-10").await;
    app.post("/v1/payments", json!({"customer_id": a, "invoice_id": ia, "amount": "5.00", "payment_method": "cash", "payment_date": "2024-02-10"})).await;
    app.pay(b, ib, "20.00", "2024-02-20").await;

    assert_eq!(
        app.get(&format!("/v1/payments?customer_id={a}")).await.body["total"],
        2
    );
    assert_eq!(
        app.get(&format!("/v1/payments?invoice_id={ib}")).await.body["items"][0]["amount"],
        "20.00"
    );
    assert_eq!(
        app.get("/v1/payments?payment_method=cash").await.body["items"][0]["amount"],
        "5.00"
    );
    assert_eq!(
        app.get("/v1/payments?date_from=2024-02-01&date_to=2024-02-15")
            .await
            .body["total"],
        1
    );
    let bad = app.get("/v1/payments?payment_method=wire").await;
    assert!(bad.assert_error(400, "VALIDATION_ERROR")["payment_method"].is_array());
}

#[tokio::test]
async fn an_idempotent_retry_may_reorder_its_fields() {
    let app = TestApp::new().await;
    let headers = [("Idempotency-Key", "k1")];
    let first = r#"{"name": "Idem Co", "email": "a@b.co"}"#;
    let reordered = r#"{"email": "a@b.co",   "name": "Idem Co"}"#;
    let a = app.post_raw("/v1/customers", &headers, first).await;
    let b = app.post_raw("/v1/customers", &headers, reordered).await;
    assert_eq!(a.status, 201);
    assert_eq!(b.status, 201, "{}", b.body);
    assert_eq!(a.body["id"], b.body["id"]);
    assert_eq!(app.get("/v1/customers").await.body["total"], 1);
}

/// 200 concurrent writes of every kind through the batching writer: no invoice is paid past
/// its total, every invoice's paid amount is the sum of its payments, statuses follow, an
/// idempotent retry writes once, and the report summaries still match the rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_concurrent_mixed_writes_keep_every_invariant() {
    let app = Arc::new(TestApp::new().await);
    let mut customers = Vec::new();
    let mut invoices = Vec::new();
    for n in 0..4 {
        let customer = app.customer(&format!("C{n}")).await;
        customers.push(customer);
        for _ in 0..5 {
            invoices.push((
                customer,
                app.invoice(customer, "100.00", "2024-02-01", "2024-02-20")
                    .await,
            ));
        }
    }
    // An invoice only the idempotent retries touch.
    let retry_customer = customers[0];
    let retry_invoice = app
        .invoice(retry_customer, "100.00", "2024-02-01", "2024-02-20")
        .await;
    let mut seed: u64 = 7;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize
    };
    let mut tasks = Vec::new();
    for n in 0..200 {
        let app = app.clone();
        let (customer, invoice) = invoices[next() % invoices.len()];
        let amount = format!("{}.{:02}", 5 + next() % 40, next() % 100);
        let kind = next() % 10;
        tasks.push(tokio::spawn(async move {
            let key = app.key.clone();
            let (path, body, idempotency) = match kind {
                0 => ("/v1/customers".to_string(), json!({"name": format!("New {n}")}), None),
                1 => (
                    "/v1/invoices".to_string(),
                    json!({"customer_id": customer, "items": [{"description": "x", "quantity": 1, "unit_price": "10.00"}]}),
                    None,
                ),
                2 => (format!("/v1/invoices/{invoice}/void"), json!({}), None),
                // Retries of the same payment race each other under one key.
                3 => (
                    "/v1/payments".to_string(),
                    json!({"customer_id": retry_customer, "invoice_id": retry_invoice, "amount": "1.00", "payment_method": "cash"}),
                    Some("shared-retry".to_string()),
                ),
                _ => (
                    "/v1/payments".to_string(),
                    json!({"customer_id": customer, "invoice_id": invoice, "amount": amount, "payment_method": "cash"}),
                    None,
                ),
            };
            let headers: Vec<(&str, &str)> = idempotency.as_deref().map(|k| ("Idempotency-Key", k)).into_iter().collect();
            let reply = app.call(Method::POST, &path, Some(&key), &headers, Some(&body.to_string())).await;
            (kind, reply.status.as_u16(), reply.body["id"].as_i64())
        }));
    }
    let mut retry_ids = std::collections::BTreeSet::new();
    for task in tasks {
        let (kind, status, id) = task.await.unwrap();
        assert!(status < 500, "a write failed with {status}");
        if kind == 3 {
            assert_eq!(status, 201);
            retry_ids.insert(id);
        }
    }
    assert!(
        retry_ids.len() <= 1,
        "one idempotency key, several payments: {retry_ids:?}"
    );

    let state = &app.state;
    let broken: i64 = state
        .db
        .read_blocking(|conn| {
            Ok(conn.query_row(
                "/* test check */ SELECT COUNT(*) FROM invoices i
                 WHERE i.amount_paid_minor > i.total_minor
                    OR i.amount_paid_minor <> (SELECT COALESCE(SUM(amount_minor), 0) FROM allocations a WHERE a.invoice_id = i.id)
                    OR (i.status = 'paid' AND i.amount_paid_minor <> i.total_minor)
                    OR (i.status = 'partially_paid' AND NOT (i.amount_paid_minor > 0 AND i.amount_paid_minor < i.total_minor))
                    OR (i.status = 'sent' AND i.amount_paid_minor <> 0 AND i.total_minor > 0)
                    OR (i.status = 'void' AND i.amount_paid_minor <> 0)",
                (),
                |row| row.get(0),
            )?)
        })
        .unwrap();
    assert_eq!(broken, 0, "an invoice broke an invariant");
    let retried: i64 = state
        .db
        .read_blocking(|conn| {
            Ok(conn.query_row(
                "/* test check */ SELECT COUNT(*) FROM payments WHERE invoice_id = ?1",
                [retry_invoice],
                |row| row.get(0),
            )?)
        })
        .unwrap();
    assert_eq!(retried, 1, "the shared retry wrote {retried} payments");
    app.assert_summaries_match();
}
