use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn aging_bucket_edges() {
    let app = TestApp::new().await;
    let a = app.customer("A").await;
    let b = app.customer("B").await;
    // Today is 2024-03-01; days past due in the comments.
    for (amount, due) in [
        ("1.00", "2024-03-01"),   // 0 → current
        ("2.00", "2024-03-10"),   // -9 → current
        ("4.00", "2024-02-29"),   // 1
        ("8.00", "2024-01-31"),   // 30
        ("16.00", "2024-01-30"),  // 31
        ("32.00", "2024-01-01"),  // 60
        ("64.00", "2023-12-31"),  // 61
        ("128.00", "2023-12-02"), // 90
    ] {
        app.invoice(a, amount, "2023-10-01", due).await;
    }
    app.invoice(b, "256.00", "2023-10-01", "2023-12-01").await; // 91

    let report = app.get("/v1/reports/aging").await;
    assert_eq!(report.status, 200, "{}", report.body);
    assert_eq!(report.body["as_of"], "2024-03-01");
    assert_eq!(
        report.body["totals"],
        json!({"current": "3.00", "days_1_30": "12.00", "days_31_60": "48.00", "days_61_90": "192.00",
               "days_over_90": "256.00", "total": "511.00",
               // Issue 10 added credit beside the buckets.
               "unapplied_credit": "0.00", "net": "511.00"})
    );
    let customers = report.body["customers"].as_array().unwrap();
    assert_eq!(customers.len(), 2);
    // By total descending: B owes 256.00, A 255.00.
    assert_eq!(customers[0]["customer_id"], b);
    assert_eq!(customers[0]["total"], "256.00");
    assert_eq!(customers[0]["invoice_count"], 1);
    assert_eq!(customers[1]["customer_id"], a);
    assert_eq!(customers[1]["total"], "255.00");
    assert_eq!(customers[1]["invoice_count"], 8);
    assert_eq!(customers[1]["customer_code"], "CUST-00001");

    let only_a = app.get(&format!("/v1/reports/aging?customer_id={a}")).await;
    assert_eq!(only_a.body["totals"]["total"], "255.00");
    assert_eq!(only_a.body["customers"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn aging_as_of_a_past_date_uses_dated_payments() {
    let app = TestApp::new().await;
    let c = app.customer("Acme").await;
    let invoice = app.invoice(c, "1000.00", "2024-01-10", "2024-01-31").await;
    app.pay(c, invoice, "400.00", "2024-02-10").await;
    app.pay(c, invoice, "600.00", "2024-02-25").await;
    let at = |date: &'static str| {
        let app = &app;
        async move {
            app.get(&format!("/v1/reports/aging?as_of={date}"))
                .await
                .body
        }
    };

    let before_issue = at("2024-01-05").await;
    assert_eq!(before_issue["totals"]["total"], "0.00");
    assert_eq!(before_issue["customers"], json!([]));
    let before_due = at("2024-01-20").await;
    assert_eq!(before_due["totals"]["current"], "1000.00");
    let unpaid = at("2024-02-05").await;
    assert_eq!(unpaid["totals"]["days_1_30"], "1000.00");
    assert_eq!(unpaid["as_of"], "2024-02-05");
    let partly = at("2024-02-15").await;
    assert_eq!(partly["totals"]["days_1_30"], "600.00");
    assert_eq!(partly["totals"]["total"], "600.00");
    let settled = at("2024-02-28").await;
    assert_eq!(settled["totals"]["total"], "0.00");
    let bad = app.get("/v1/reports/aging?as_of=yesterday").await;
    assert!(bad.assert_error(400, "VALIDATION_ERROR")["as_of"].is_array());
}

#[tokio::test]
async fn dashboard_figures_agree_with_aging() {
    let app = TestApp::new().await;
    let c = app.customer("Acme").await;
    let open = app.invoice(c, "300.00", "2024-02-10", "2024-02-20").await;
    app.pay(c, open, "100.00", "2024-02-15").await;
    let old = app.invoice(c, "200.00", "2023-11-01", "2023-12-01").await;
    app.pay(c, old, "200.00", "2023-11-21").await;
    let item = json!([{"description": "x", "quantity": 1, "unit_price": "50.00"}]);
    app.post(
        "/v1/invoices",
        json!({"customer_id": c, "items": item, "status": "draft", "issue_date": "2024-02-01"}),
    )
    .await;
    let voided = app.invoice(c, "70.00", "2024-02-05", "2024-02-06").await;
    app.post(&format!("/v1/invoices/{voided}/void"), json!({}))
        .await;

    let dashboard = app.get("/v1/reports/dashboard").await;
    assert_eq!(dashboard.status, 200, "{}", dashboard.body);
    let d = &dashboard.body;
    assert_eq!(d["as_of"], "2024-03-01");
    assert_eq!(d["total_outstanding"], "200.00");
    assert_eq!(d["total_overdue"], "200.00");
    assert_eq!(d["overdue_invoice_count"], 1);
    assert_eq!(d["open_invoice_count"], 1);
    assert_eq!(
        d["invoice_counts_by_status"],
        json!({"draft": 1, "sent": 0, "partially_paid": 1, "paid": 1, "void": 1, "written_off": 0})
    );
    assert_eq!(d["invoiced_last_30_days"], "300.00");
    assert_eq!(d["collected_last_30_days"], "100.00");
    assert_eq!(d["credit_sales_last_90_days"], "300.00");
    assert_eq!(d["dso"], "60.0");
    assert!(d["dso_formula"].as_str().unwrap().contains("× 90"));
    assert_eq!(d["average_days_to_pay"], "20.0");
    assert_eq!(d["aging"]["days_1_30"], "200.00");
    assert_eq!(d["top_debtors"][0]["customer_id"], c);
    assert_eq!(d["top_debtors"][0]["outstanding"], "200.00");

    let aging = app.get("/v1/reports/aging").await;
    assert_eq!(aging.body["totals"]["total"], d["total_outstanding"]);

    let earlier = app.get("/v1/reports/dashboard?as_of=2023-11-15").await;
    assert_eq!(earlier.body["total_outstanding"], "200.00");
    assert_eq!(earlier.body["average_days_to_pay"], serde_json::Value::Null);
    app.assert_summaries_match();
}

/// The aging lists customers by total, largest first, and customers with equal totals by
/// id: the order is the same on every call, however the report sorts them.
#[tokio::test]
async fn aging_lists_customers_by_total_then_by_id() {
    let app = TestApp::new().await;
    let mut ids = Vec::new();
    for (name, amount) in [
        ("Acme", "50.00"),
        ("Bolt", "80.00"),
        ("Cog", "50.00"),
        ("Dyne", "50.00"),
    ] {
        let customer = app.customer(name).await;
        app.invoice(customer, amount, "2024-01-10", "2024-01-31")
            .await;
        ids.push(customer);
    }
    let credit_only = app.customer("Echo").await;
    let paid = app
        .post(
            "/v1/payments",
            json!({"customer_id": credit_only, "amount": "5.00", "payment_method": "cash",
                   "payment_date": "2024-02-01"}),
        )
        .await;
    assert_eq!(paid.status.as_u16(), 201, "{}", paid.body);
    let aging = app.get("/v1/reports/aging").await.body;
    let order: Vec<_> = aging["customers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["customer_id"].as_i64().unwrap(), c["total"].clone()))
        .collect();
    assert_eq!(
        order,
        [
            (ids[1], json!("80.00")),
            (ids[0], json!("50.00")),
            (ids[2], json!("50.00")),
            (ids[3], json!("50.00")),
            (credit_only, json!("0.00")),
        ]
    );
}
