//! The supported date range (1900-01-01 to 9999-12-31): every date accepted, derived or
//! returned stays inside it, and the books balance at both of its ends.

use arvalox::ratelimit::Limits;
use serde_json::json;

use crate::helpers::TestApp;

async fn invoice_without_due_date(
    app: &TestApp,
    customer: i64,
    issue: &str,
) -> crate::helpers::Reply {
    app.post(
        "/v1/invoices",
        json!({"customer_id": customer, "issue_date": issue,
               "items": [{"description": "Work", "quantity": 1, "unit_price": "100.00"}]}),
    )
    .await
}

#[tokio::test]
async fn dates_outside_the_range_are_refused_wherever_they_come_in() {
    let app = TestApp::new().await;
    let c = app.customer("Acme").await;
    let invoice = app.invoice(c, "10.00", "2024-01-01", "2024-01-31").await;
    for bad in ["0000-01-01", "0999-12-31", "1899-12-31"] {
        let reply = invoice_without_due_date(&app, c, bad).await;
        let fields = reply.assert_error(400, "VALIDATION_ERROR");
        let message = fields["issue_date"][0].as_str().unwrap();
        assert!(message.contains("1900-01-01 to 9999-12-31"), "{message}");

        let reply = app.pay(c, invoice, "1.00", bad).await;
        assert!(reply.assert_error(400, "VALIDATION_ERROR")["payment_date"].is_array());

        let reply = app.get(&format!("/v1/reports/aging?as_of={bad}")).await;
        assert!(reply.assert_error(400, "VALIDATION_ERROR")["as_of"].is_array());

        let reply = app.get(&format!("/v1/invoices?due_date_to={bad}")).await;
        assert!(reply.assert_error(400, "VALIDATION_ERROR")["due_date_to"].is_array());
    }
    // A five-digit year is not `YYYY-MM-DD` at all.
    let reply = invoice_without_due_date(&app, c, "+10000-01-30").await;
    assert!(reply.assert_error(400, "VALIDATION_ERROR")["issue_date"].is_array());
}

#[tokio::test]
async fn a_due_date_derived_past_the_last_date_is_refused_naming_the_issue_date() {
    let app = TestApp::new().await;
    let c = app.customer("Acme").await; // 30-day terms by default
    let reply = invoice_without_due_date(&app, c, "9999-12-31").await;
    let fields = reply.assert_error(400, "VALIDATION_ERROR");
    let message = fields["issue_date"][0].as_str().unwrap();
    assert!(message.contains("30-day payment terms"), "{message}");
    assert!(message.contains("9999-12-31"), "{message}");
    let listed = app.get("/v1/invoices").await;
    assert_eq!(listed.body["total"], 0, "nothing was written");

    // The last day that still leaves room for the terms is fine, and so is an explicit due date.
    let reply = invoice_without_due_date(&app, c, "9999-12-01").await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.body["due_date"], "9999-12-31");
    assert_eq!(reply.body["invoice_number"], "INV-9999-00001");
}

#[tokio::test]
async fn generated_numbers_carry_four_digit_years_at_the_first_date() {
    let app = TestApp::new().await;
    let c = app.customer("Acme").await;
    let reply = invoice_without_due_date(&app, c, "1900-01-01").await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.body["invoice_number"], "INV-1900-00001");
    assert_eq!(reply.body["due_date"], "1900-01-31");
}

/// Invoices at both ends of the range: aging, the dashboard, the overdue filter, the
/// invoice's own flag and the customer's balances all give the same figures.
#[tokio::test]
async fn the_books_balance_at_both_ends_of_the_range() {
    let app = TestApp::with(Limits::OFF, "9999-12-31").await;
    let c = app.customer("Acme").await;
    let oldest = app.invoice(c, "100.00", "1900-01-01", "1900-01-31").await;
    let newest = app.invoice(c, "200.00", "9999-12-31", "9999-12-31").await;
    let derived = invoice_without_due_date(&app, c, "9999-12-01").await;
    assert_eq!(derived.body["due_date"], "9999-12-31");
    app.pay(c, oldest, "25.00", "1900-02-15").await;

    let aging = app.get("/v1/reports/aging").await;
    assert_eq!(aging.status, 200, "{}", aging.body);
    assert_eq!(
        aging.body["totals"],
        json!({"current": "300.00", "days_1_30": "0.00", "days_31_60": "0.00",
               "days_61_90": "0.00", "days_over_90": "75.00", "total": "375.00",
               "unapplied_credit": "0.00", "net": "375.00"})
    );
    assert_eq!(aging.body["customers"][0]["invoice_count"], 3);

    let dashboard = app.get("/v1/reports/dashboard").await;
    assert_eq!(dashboard.body["total_outstanding"], "375.00");
    assert_eq!(dashboard.body["total_overdue"], "75.00");
    assert_eq!(dashboard.body["overdue_invoice_count"], 1);
    assert_eq!(dashboard.body["open_invoice_count"], 3);

    let overdue = app.get("/v1/invoices?status=overdue").await;
    assert_eq!(overdue.body["total"], 1, "{}", overdue.body);
    assert_eq!(overdue.body["items"][0]["id"], oldest);
    let old = app.get(&format!("/v1/invoices/{oldest}")).await;
    assert_eq!(old.body["is_overdue"], true);
    let new = app.get(&format!("/v1/invoices/{newest}")).await;
    assert_eq!(new.body["is_overdue"], false);

    let customer = app.get(&format!("/v1/customers/{c}")).await;
    assert_eq!(
        customer.body["outstanding_balance"], "375.00",
        "{}",
        customer.body
    );
    assert_eq!(customer.body["overdue_balance"], "75.00");

    // At the first date only the oldest invoice exists, and it is current.
    let first = app.get("/v1/reports/aging?as_of=1900-01-01").await;
    assert_eq!(first.body["totals"]["current"], "100.00", "{}", first.body);
    assert_eq!(first.body["totals"]["total"], "100.00");
    let dashboard = app.get("/v1/reports/dashboard?as_of=1900-01-01").await;
    assert_eq!(dashboard.body["total_outstanding"], "100.00");
    assert_eq!(dashboard.body["invoiced_last_30_days"], "100.00");
}

/// Every date in `value` (a string of `YYYY-MM-DD` at its start) is inside the range.
fn dates_before_1900(value: &serde_json::Value, found: &mut Vec<String>) {
    match value {
        serde_json::Value::String(text) if text.len() == 10 && text.starts_with("18") => {
            found.push(text.clone());
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| dates_before_1900(v, found)),
        serde_json::Value::Object(map) => map.values().for_each(|v| dates_before_1900(v, found)),
        _ => {}
    }
}

/// Periods derived from a date near the first one stop at it, as the data does (found in
/// review: the KPIs' months, the DSO window, the series and the statement's opening row
/// reached back into 1899).
#[tokio::test]
async fn periods_derived_near_the_first_date_stay_inside_the_range() {
    let app = TestApp::with(Limits::OFF, "1900-03-01").await;
    let c = app.customer("Acme").await;
    app.invoice(c, "100.00", "1900-01-01", "1900-01-31").await;
    for as_of in ["1900-01-01", "1900-01-31", "1900-02-15"] {
        let reply = app
            .get(&format!(
                "/v1/reports/dashboard?as_of={as_of}&include=kpis,series"
            ))
            .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        let mut found = Vec::new();
        dates_before_1900(&reply.body, &mut found);
        assert!(found.is_empty(), "{as_of}: {found:?} in {}", reply.body);
    }
    let first = app
        .get("/v1/reports/dashboard?as_of=1900-01-01&include=kpis,series")
        .await
        .body;
    // No month before 1900 is listed, and no full month precedes 1900-01-01.
    assert_eq!(first["series"], json!([]), "{first}");
    assert_eq!(
        first["kpis"]["cei"]["period"]["from"],
        serde_json::Value::Null
    );
    // The DSO's 90 days reach before the books began: its period starts with them.
    assert_eq!(
        first["kpis"]["dso"]["period"]["from"],
        serde_json::Value::Null
    );
    let feb = app
        .get("/v1/reports/dashboard?as_of=1900-02-15&include=kpis,series")
        .await
        .body;
    assert_eq!(feb["series"].as_array().map(Vec::len), Some(1), "{feb}");
    assert_eq!(feb["series"][0]["month_start"], "1900-01-01");
    assert_eq!(feb["kpis"]["cei"]["period"]["from"], "1900-01-01");

    let (status, _, csv) = app
        .get_bytes(
            &format!("/v1/customers/{c}/statement?from=1900-01-01&to=1900-01-31&format=csv"),
            &[],
        )
        .await;
    assert_eq!(status, 200);
    let csv = String::from_utf8(csv).unwrap();
    let opening = csv.lines().nth(1).unwrap();
    assert!(opening.starts_with("1900-01-01,opening_balance,"), "{csv}");
}
