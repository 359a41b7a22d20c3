use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn documented_invoice_totals_to_the_cent() {
    let app = TestApp::new().await;
    let customer = app.customer("Acme").await;
    let reply = app
        .post(
            "/v1/invoices/",
            json!({
                "customer_id": customer,
                "invoice_number": "INV-2024-001",
                "issue_date": "2024-01-15",
                "due_date": "2024-02-15",
                "items": [{"description": "Consulting Services", "quantity": 10, "unit_price": 150.00, "tax_rate": 0.08}]
            }),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let body = &reply.body;
    assert_eq!(reply.header("location"), Some("/v1/invoices/1"));
    assert_eq!(body["status"], "sent");
    assert_eq!(body["items"][0]["quantity"], "10");
    assert_eq!(body["items"][0]["unit_price"], "150.00");
    assert_eq!(body["items"][0]["tax_rate"], "0.08");
    assert_eq!(body["items"][0]["line_subtotal"], "1500.00");
    assert_eq!(body["items"][0]["line_tax"], "120.00");
    assert_eq!(body["items"][0]["line_total"], "1620.00");
    assert_eq!(body["subtotal"], "1500.00");
    assert_eq!(body["tax_total"], "120.00");
    assert_eq!(body["total"], "1620.00");
    assert_eq!(body["amount_paid"], "0.00");
    assert_eq!(body["balance_due"], "1620.00");
    // Due 2024-02-15, today 2024-03-01.
    assert_eq!(body["is_overdue"], true);
    assert_eq!(body["days_overdue"], 15);
    assert_eq!(body["payments"], json!([]));
}

#[tokio::test]
async fn rounding_rule_on_awkward_values() {
    let app = TestApp::new().await;
    let customer = app.customer("Acme").await;
    // The body is sent as text so 2.675 reaches the server exactly as written.
    let body = format!(
        r#"{{"customer_id": {customer}, "items": [
            {{"description": "a", "quantity": 3, "unit_price": 0.335, "tax_rate": 0.0725}},
            {{"description": "b", "quantity": 1, "unit_price": 2.675}},
            {{"description": "c", "quantity": "0.3333", "unit_price": "3", "tax_rate": "0.5"}}
        ]}}"#
    );
    let reply = app
        .call(
            poem::http::Method::POST,
            "/v1/invoices",
            Some(&app.key),
            &[],
            Some(&body),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let items = &reply.body["items"];
    // 3 × 0.335 = 1.005 → 1.01; 1.01 × 0.0725 = 0.073225 → 0.07
    assert_eq!(items[0]["line_subtotal"], "1.01");
    assert_eq!(items[0]["line_tax"], "0.07");
    assert_eq!(items[0]["line_total"], "1.08");
    // 2.675 read from its text, not a float (2.67499…), rounds half away from zero to 2.68.
    assert_eq!(items[1]["unit_price"], "2.675");
    assert_eq!(items[1]["line_subtotal"], "2.68");
    // 0.3333 × 3 = 0.9999 → 1.00; tax 0.50
    assert_eq!(items[2]["line_subtotal"], "1.00");
    assert_eq!(items[2]["line_tax"], "0.50");
    // Totals are sums of the rounded lines.
    assert_eq!(reply.body["subtotal"], "4.69");
    assert_eq!(reply.body["tax_total"], "0.57");
    assert_eq!(reply.body["total"], "5.26");
}

#[tokio::test]
async fn defaults_number_issue_and_due_dates() {
    let app = TestApp::new().await;
    let customer = app
        .post(
            "/v1/customers",
            json!({"name": "Acme", "payment_terms_days": 14}),
        )
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let item = json!([{"description": "x", "quantity": 1, "unit_price": 1}]);
    let first = app
        .post(
            "/v1/invoices",
            json!({"customer_id": customer, "items": item}),
        )
        .await;
    assert_eq!(first.body["invoice_number"], "INV-2024-00001");
    assert_eq!(first.body["issue_date"], "2024-03-01");
    assert_eq!(first.body["due_date"], "2024-03-15");
    assert_eq!(first.body["is_overdue"], false);
    let second = app
        .post(
            "/v1/invoices",
            json!({"customer_id": customer, "items": item}),
        )
        .await;
    assert_eq!(second.body["invoice_number"], "INV-2024-00002");
    let other_year = app
        .post(
            "/v1/invoices",
            json!({"customer_id": customer, "items": item, "issue_date": "2023-12-30"}),
        )
        .await;
    assert_eq!(other_year.body["invoice_number"], "INV-2023-00001");
    let duplicate = app
        .post(
            "/v1/invoices",
            json!({"customer_id": customer, "items": item, "invoice_number": "INV-2024-00001"}),
        )
        .await;
    assert!(duplicate.assert_error(409, "CONFLICT")["invoice_number"].is_array());
}

#[tokio::test]
async fn bad_invoices_name_every_field() {
    let app = TestApp::new().await;
    let customer = app.customer("Acme").await;
    let reply = app
        .post(
            "/v1/invoices",
            json!({
                "customer_id": customer,
                "issue_date": "2024-02-30",
                "tax_rat": 0.08,
                "total": "1.00",
                "amount_paid": "1.00",
                "status": "paid",
                "items": [
                    {"description": "", "quantity": 0, "unit_price": -1, "tax_rate": 8},
                    {"description": "ok", "quantity": "1.00001", "unit_price": "abc"}
                ]
            }),
        )
        .await;
    let fields = reply.assert_error(400, "VALIDATION_ERROR");
    for field in [
        "issue_date",
        "tax_rat",
        "total",
        "amount_paid",
        "status",
        "items[0].description",
        "items[0].quantity",
        "items[0].unit_price",
        "items[0].tax_rate",
        "items[1].quantity",
        "items[1].unit_price",
    ] {
        assert!(
            fields[field].is_array(),
            "{field} not named in {}",
            reply.body
        );
    }
    assert!(fields["items[0].tax_rate"].to_string().contains("0.08"));
    assert!(fields["issue_date"].to_string().contains("2024-02-30"));

    let unknown_customer = app
        .post("/v1/invoices", json!({"customer_id": 999, "items": [{"description": "x", "quantity": 1, "unit_price": 1}]}))
        .await;
    assert!(unknown_customer.assert_error(400, "VALIDATION_ERROR")["customer_id"].is_array());
    let backwards = app
        .post(
            "/v1/invoices",
            json!({"customer_id": customer, "issue_date": "2024-02-10", "due_date": "2024-02-01",
                   "items": [{"description": "x", "quantity": 1, "unit_price": 1}]}),
        )
        .await;
    assert!(backwards.assert_error(400, "VALIDATION_ERROR")["due_date"].is_array());
    let empty = app
        .post(
            "/v1/invoices",
            json!({"customer_id": customer, "items": []}),
        )
        .await;
    assert!(empty.assert_error(400, "VALIDATION_ERROR")["items"].is_array());
    let many: Vec<_> = (0..501)
        .map(|_| json!({"description": "x", "quantity": 1, "unit_price": 1}))
        .collect();
    let too_many = app
        .post(
            "/v1/invoices",
            json!({"customer_id": customer, "items": many}),
        )
        .await;
    assert!(too_many.assert_error(400, "VALIDATION_ERROR")["items"].is_array());
}

#[tokio::test]
async fn overflowing_amounts_are_refused_not_wrapped() {
    let app = TestApp::new().await;
    let customer = app.customer("Acme").await;
    let huge_line = app
        .post(
            "/v1/invoices",
            json!({"customer_id": customer, "items": [{"description": "x", "quantity": "1000000000", "unit_price": "1000000"}]}),
        )
        .await;
    assert!(huge_line.assert_error(400, "VALIDATION_ERROR")["items[0]"].is_array());
    let at_limit = json!({"description": "x", "quantity": 1, "unit_price": "999999999999.99"});
    let sum_too_big = app
        .post(
            "/v1/invoices",
            json!({"customer_id": customer, "items": [at_limit, at_limit]}),
        )
        .await;
    assert!(sum_too_big.assert_error(400, "VALIDATION_ERROR")["items"].is_array());
    let ok = app
        .post(
            "/v1/invoices",
            json!({"customer_id": customer, "items": [at_limit]}),
        )
        .await;
    assert_eq!(ok.body["total"], "999999999999.99");
}

#[tokio::test]
async fn draft_send_and_void_lifecycle() {
    let app = TestApp::new().await;
    let customer = app.customer("Acme").await;
    let item = json!([{"description": "x", "quantity": 1, "unit_price": "100.00"}]);
    let draft = app
        .post("/v1/invoices", json!({"customer_id": customer, "items": item, "status": "draft", "issue_date": "2024-02-01"}))
        .await;
    assert_eq!(draft.body["status"], "draft");
    let id = draft.body["id"].as_i64().unwrap();
    app.pay(customer, id, "10.00", "2024-02-10")
        .await
        .assert_error(409, "CONFLICT");
    assert_eq!(
        app.get("/v1/reports/aging").await.body["totals"]["total"],
        "0.00"
    );

    let sent = app
        .post(&format!("/v1/invoices/{id}/send"), json!({}))
        .await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    assert_eq!(sent.body["status"], "sent");
    app.post(&format!("/v1/invoices/{id}/send"), json!({}))
        .await
        .assert_error(409, "CONFLICT");

    assert_eq!(
        app.pay(customer, id, "10.00", "2024-02-10").await.status,
        201
    );
    app.post(&format!("/v1/invoices/{id}/void"), json!({}))
        .await
        .assert_error(409, "CONFLICT");

    let other = app
        .invoice(customer, "50.00", "2024-02-01", "2024-02-15")
        .await;
    let voided = app
        .post(&format!("/v1/invoices/{other}/void"), json!({}))
        .await;
    assert_eq!(voided.body["status"], "void");
    assert_eq!(voided.body["balance_due"], "0.00");
    assert_eq!(voided.body["is_overdue"], false);
    app.pay(customer, other, "1.00", "2024-02-10")
        .await
        .assert_error(409, "CONFLICT");
    app.post("/v1/invoices/999/send", json!({}))
        .await
        .assert_error(404, "NOT_FOUND");
    app.assert_summaries_match();
}

#[tokio::test]
async fn list_filters_including_overdue() {
    let app = TestApp::new().await;
    let a = app.customer("A").await;
    let b = app.customer("B").await;
    let overdue = app.invoice(a, "10.00", "2024-01-01", "2024-02-01").await;
    let current = app.invoice(a, "20.00", "2024-02-20", "2024-03-20").await;
    let paid = app.invoice(b, "30.00", "2024-01-05", "2024-01-20").await;
    app.pay(b, paid, "30.00", "2024-01-10").await;

    let ids = |reply: crate::helpers::Reply| -> Vec<i64> {
        reply.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(
        ids(app.get("/v1/invoices?status=overdue").await),
        vec![overdue]
    );
    assert_eq!(ids(app.get("/v1/invoices?status=paid").await), vec![paid]);
    assert_eq!(
        ids(app.get(&format!("/v1/invoices?customer_id={a}")).await),
        vec![overdue, current]
    );
    assert_eq!(
        ids(app
            .get("/v1/invoices?issue_date_from=2024-01-02&issue_date_to=2024-01-31")
            .await),
        vec![paid]
    );
    assert_eq!(
        ids(app.get("/v1/invoices?due_date_from=2024-03-01").await),
        vec![current]
    );
    let listed = app.get("/v1/invoices?limit=1").await;
    assert_eq!(listed.body["total"], 3);
    assert_eq!(listed.body["items"][0]["items"][0]["line_total"], "10.00");
    let bad = app.get("/v1/invoices?status=late").await;
    assert!(bad.assert_error(400, "VALIDATION_ERROR")["status"]
        .to_string()
        .contains("overdue"));
    let bad = app.get("/v1/invoices?due_date_from=2024-13-01").await;
    assert!(bad.assert_error(400, "VALIDATION_ERROR")["due_date_from"].is_array());
}

#[tokio::test]
async fn precise_tax_rates_zero_totals_and_price_bounds() {
    let app = TestApp::new().await;
    let customer = app.customer("Acme").await;
    // NYC's 8.875%: 100.00 × 0.08875 = 8.875 → 8.88
    let nyc = app
        .post("/v1/invoices", json!({"customer_id": customer, "items": [{"description": "x", "quantity": 1, "unit_price": "100.00", "tax_rate": "0.08875"}]}))
        .await;
    assert_eq!(nyc.status, 201, "{}", nyc.body);
    assert_eq!(nyc.body["tax_total"], "8.88");
    // Nothing to collect: a zero total is paid at once.
    let free = app
        .post("/v1/invoices", json!({"customer_id": customer, "items": [{"description": "x", "quantity": 1, "unit_price": 0}]}))
        .await;
    assert_eq!(free.body["status"], "paid");
    assert_eq!(free.body["balance_due"], "0.00");
    let too_dear = app
        .post("/v1/invoices", json!({"customer_id": customer, "items": [{"description": "x", "quantity": "0.0001", "unit_price": "1000000000000.00"}]}))
        .await;
    assert!(too_dear.assert_error(400, "VALIDATION_ERROR")["items[0].unit_price"].is_array());
}

/// A window of dates from a day on starts the list at the window's first id (the rows
/// before it are never read): rows whose ids and dates interleave are all listed, in id
/// order, in pages and in CSV, and an empty window is an empty list. A status alone reads
/// its own index, in id order too.
#[tokio::test]
async fn a_date_window_lists_every_row_in_it_whatever_the_order_of_ids() {
    let app = TestApp::new().await;
    let a = app.customer("A").await;
    // Ids rise; issue dates do not.
    let feb_10 = app.invoice(a, "1.00", "2024-02-10", "2024-03-10").await;
    let jan_1 = app.invoice(a, "2.00", "2024-01-01", "2024-02-01").await;
    let feb_20 = app.invoice(a, "3.00", "2024-02-20", "2024-03-20").await;
    let jan_20 = app.invoice(a, "4.00", "2024-01-20", "2024-02-20").await;
    let ids = |reply: crate::helpers::Reply| -> (Vec<i64>, i64) {
        let items = reply.body["items"].as_array().unwrap();
        let ids = items.iter().map(|i| i["id"].as_i64().unwrap()).collect();
        (ids, reply.body["total"].as_i64().unwrap())
    };
    let from_jan_15 = "/v1/invoices?issue_date_from=2024-01-15";
    assert_eq!(
        ids(app.get(from_jan_15).await),
        (vec![feb_10, feb_20, jan_20], 3)
    );
    let second = app.get(&format!("{from_jan_15}&limit=1&offset=1")).await;
    assert_eq!(ids(second), (vec![feb_20], 3));
    let none = app.get("/v1/invoices?issue_date_from=2025-01-01").await;
    assert_eq!(ids(none), (vec![], 0));
    let (_, _, csv) = app
        .get_bytes(&format!("{from_jan_15}&format=csv"), &[])
        .await;
    let csv = String::from_utf8(csv).unwrap();
    let csv_ids: Vec<&str> = csv
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').next())
        .collect();
    let expected: Vec<String> = [feb_10, feb_20, jan_20].map(|id| id.to_string()).into();
    assert_eq!(csv_ids, expected);

    let later = app.pay(a, jan_1, "2.00", "2024-02-25").await.body["id"].clone();
    let earlier = app.pay(a, feb_10, "1.00", "2024-02-15").await.body["id"].clone();
    let paid = |reply: crate::helpers::Reply| -> Vec<serde_json::Value> {
        let items = reply.body["items"].as_array().unwrap();
        items.iter().map(|p| p["id"].clone()).collect()
    };
    let from_feb_20 = app.get("/v1/payments?date_from=2024-02-20").await;
    assert_eq!(paid(from_feb_20), std::slice::from_ref(&later));
    let from_feb = app.get("/v1/payments?date_from=2024-02-01").await;
    assert_eq!(paid(from_feb), [later, earlier]);
    let by_status = app.get("/v1/invoices?status=paid").await;
    assert_eq!(ids(by_status), (vec![feb_10, jan_1], 2));
}
