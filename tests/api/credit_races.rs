//! Concurrent uses of one payment's credit and concurrent writes on one invoice, through
//! HTTP: the invariants hold whatever order the writer takes them in (issue 10, section 5).

use std::sync::Arc;

use serde_json::{json, Value};

use crate::helpers::TestApp;

/// Every stored sum agrees with the facts it summarises.
fn assert_sums_match_facts(app: &TestApp) {
    app.assert_sums_match();
    app.assert_summaries_match();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_allocations_never_overapply_one_payment() {
    let app = Arc::new(TestApp::new().await);
    let acme = app.customer("Acme").await;
    let mut invoices = Vec::new();
    for day in 1..=20 {
        let issue = format!("2024-01-{day:02}");
        invoices.push(app.invoice(acme, "30.00", &issue, "2024-03-01").await);
    }
    let payment = app
        .post(
            "/v1/payments",
            json!({ "customer_id": acme, "amount": "200.00", "payment_method": "bank_transfer", "payment_date": "2024-01-25" }),
        )
        .await
        .body;
    let id = payment["id"].as_i64().unwrap();
    let mut tasks = Vec::new();
    for invoice in invoices {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            app.post(
                &format!("/v1/payments/{id}/allocations"),
                json!({ "allocations": [{ "invoice_id": invoice, "amount": "30.00" }], "applied_date": "2024-02-01" }),
            )
            .await
            .status
            .as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    // 200.00 of credit takes six allocations of 30.00 and refuses the other fourteen.
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        6,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 400).count(),
        14,
        "{statuses:?}"
    );
    let after = app.get(&format!("/v1/payments/{id}")).await.body;
    assert_eq!(after["applied_amount"], "180.00");
    assert_eq!(after["unapplied_amount"], "20.00");
    assert_sums_match_facts(&app);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_void_racing_allocations_leaves_one_consistent_outcome() {
    let app = Arc::new(TestApp::new().await);
    let acme = app.customer("Acme").await;
    let mut invoices = Vec::new();
    for _ in 0..8 {
        invoices.push(app.invoice(acme, "10.00", "2024-01-05", "2024-02-04").await);
    }
    let payment: Value = app
        .post(
            "/v1/payments",
            json!({ "customer_id": acme, "amount": "100.00", "payment_method": "check", "payment_date": "2024-01-10" }),
        )
        .await
        .body;
    let id = payment["id"].as_i64().unwrap();
    let mut tasks = Vec::new();
    for (index, invoice) in invoices.into_iter().enumerate() {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            if index == 4 {
                let body = json!({ "void_date": "2024-01-20", "reason": "bounced" });
                return ("void", app.post(&format!("/v1/payments/{id}/void"), body).await.status.as_u16());
            }
            let body = json!({ "allocations": [{ "invoice_id": invoice, "amount": "10.00" }], "applied_date": "2024-01-15" });
            ("allocate", app.post(&format!("/v1/payments/{id}/allocations"), body).await.status.as_u16())
        }));
    }
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }
    assert!(outcomes.contains(&("void", 200)), "{outcomes:?}");
    // An allocation before the void was reversed by it; one after it met a void payment.
    for (what, status) in &outcomes {
        if *what == "allocate" {
            assert!(*status == 200 || *status == 409, "{outcomes:?}");
        }
    }
    let after = app.get(&format!("/v1/payments/{id}")).await.body;
    assert_eq!(after["status"], "void");
    assert_eq!(after["applied_amount"], "0.00");
    assert_eq!(after["unapplied_amount"], "0.00");
    for allocation in after["allocations"].as_array().unwrap() {
        assert_eq!(allocation["reversed_date"], "2024-01-20");
    }
    let aging = app.get("/v1/reports/aging?as_of=2024-01-25").await.body;
    assert_eq!(aging["totals"]["total"], "80.00", "{aging}");
    assert_sums_match_facts(&app);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_payments_on_one_invoice_never_take_it_below_zero() {
    let app = Arc::new(TestApp::new().await);
    let acme = app.customer("Acme").await;
    let invoice = app
        .invoice(acme, "100.00", "2024-01-05", "2024-02-04")
        .await;
    let mut tasks = Vec::new();
    for index in 0..10 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            let body = if index % 2 == 0 {
                json!({ "customer_id": acme, "amount": "30.00", "payment_method": "cash", "payment_date": "2024-01-10",
                        "allocations": [{ "invoice_id": invoice, "amount": "30.00" }] })
            } else {
                json!({ "customer_id": acme, "amount": "45.00", "payment_method": "cash", "payment_date": "2024-01-10",
                        "allocate": "oldest_first" })
            };
            app.post("/v1/payments", body).await.status.as_u16()
        }));
    }
    for task in tasks {
        let status = task.await.unwrap();
        assert!(status == 201 || status == 400, "{status}");
    }
    let detail = app.get(&format!("/v1/invoices/{invoice}")).await.body;
    let amount = |field: &str| {
        detail[field]
            .as_str()
            .unwrap()
            .parse::<rust_decimal::Decimal>()
            .unwrap()
    };
    assert!(
        amount("balance_due") >= rust_decimal::Decimal::ZERO,
        "{detail}"
    );
    assert_eq!(
        amount("amount_paid") + amount("balance_due"),
        amount("total")
    );
    assert_sums_match_facts(&app);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_payment_a_credit_note_and_a_write_off_racing_never_take_an_invoice_below_zero() {
    let app = Arc::new(TestApp::new().await);
    let acme = app.customer("Acme").await;
    for round in 0..5 {
        let invoice = app
            .invoice(acme, "100.00", "2024-01-05", "2024-02-04")
            .await;
        let mut tasks = Vec::new();
        for what in ["payment", "credit_note", "write_off"] {
            let app = app.clone();
            tasks.push(tokio::spawn(async move {
                let (path, body) = match what {
                    "payment" => ("/v1/payments".to_string(), json!({
                        "customer_id": acme, "amount": "60.00", "payment_method": "cash",
                        "payment_date": "2024-01-10", "invoice_id": invoice })),
                    "credit_note" => ("/v1/credit-notes".to_string(), json!({
                        "customer_id": acme, "invoice_id": invoice, "issue_date": "2024-01-10",
                        "reason": "Returned", "items": [{ "description": "Part", "quantity": 1, "unit_price": "60.00" }] })),
                    _ => (format!("/v1/invoices/{invoice}/write-offs"), json!({
                        "amount": "60.00", "write_off_date": "2024-01-10", "reason": "Bad debt" })),
                };
                (what, app.post(&path, body).await.status.as_u16())
            }));
        }
        let mut outcomes = Vec::new();
        for task in tasks {
            outcomes.push(task.await.unwrap());
        }
        // Whoever comes first takes 60.00; the credit note still issues, its rest as
        // credit; a second payment or write-off of 60.00 does not fit the 40.00 left (a
        // write-off of a closed invoice is a 409).
        let taken = outcomes
            .iter()
            .filter(|(_, status)| *status == 200 || *status == 201)
            .count();
        assert!(taken >= 1, "round {round}: {outcomes:?}");
        for (what, status) in &outcomes {
            assert!(
                [200, 201, 400, 409].contains(status),
                "{what}: {outcomes:?}"
            );
        }
        let detail = app.get(&format!("/v1/invoices/{invoice}")).await.body;
        let amount = |field: &str| {
            detail[field]
                .as_str()
                .unwrap()
                .parse::<rust_decimal::Decimal>()
                .unwrap()
        };
        assert!(
            amount("balance_due") >= rust_decimal::Decimal::ZERO,
            "{detail}"
        );
        assert_eq!(
            amount("amount_paid")
                + amount("amount_credited")
                + amount("amount_written_off")
                + amount("balance_due"),
            amount("total"),
            "{detail}"
        );
    }
    assert_sums_match_facts(&app);
}
