//! Dashboard KPIs that show their working (issue 12, section 5), on a book computed by
//! hand. Today is 2024-03-01, so the last full month is February 2024.

use poem::http::StatusCode;
use serde_json::json;

use arvalox::db::{Db, Synchronous};
use arvalox::ratelimit::Limits;

use crate::helpers::{TestApp, TODAY};
use crate::migrations::back_to_version_19;

#[tokio::test]
async fn each_kpi_gives_its_value_formula_inputs_and_period() {
    let app = TestApp::new().await;
    let acme = app.customer("Acme").await;
    // Owed 1,000.00 when February began; sold 500.00 in it; 900.00 paid in it.
    let first = app
        .invoice(acme, "1000.00", "2024-01-10", "2024-02-09")
        .await;
    app.invoice(acme, "500.00", "2024-02-15", "2024-03-16")
        .await;
    assert_eq!(
        app.pay(acme, first, "900.00", "2024-02-20").await.status,
        StatusCode::CREATED
    );

    let d = app.get("/v1/reports/dashboard?include=kpis").await.body;
    let k = &d["kpis"];
    // CEI = (1000 + 500 − 600) / (1000 + 500 − 500) × 100 = 90.0
    assert_eq!(k["cei"]["value"], "90.0", "{k}");
    assert_eq!(
        k["cei"]["inputs"],
        json!({
            "beginning_receivables": "1000.00", "credit_sales": "500.00",
            "ending_receivables": "600.00", "ending_current": "500.00"
        })
    );
    assert_eq!(
        k["cei"]["period"],
        json!({ "from": "2024-02-01", "to": "2024-02-29" })
    );
    assert!(k["cei"]["formula"]
        .as_str()
        .unwrap()
        .starts_with("(beginning_receivables + credit_sales"));
    // 600 open, 500 of it not yet due.
    assert_eq!(k["percent_current"]["value"], "83.3");
    assert_eq!(k["overdue_percent"]["value"], "16.7");
    assert_eq!(k["overdue_percent"]["inputs"]["total_overdue"], "100.00");
    // DSO = 600 / 1500 × 90, the dashboard's own figure.
    assert_eq!(k["dso"]["value"], "36.0");
    assert_eq!(k["dso"]["value"], d["dso"]);
    assert_eq!(
        k["dso"]["period"],
        json!({ "from": "2023-12-03", "to": "2024-03-01" })
    );
    // Nothing fully paid yet: no mean, and its inputs say why.
    assert_eq!(k["average_days_to_pay"]["value"], serde_json::Value::Null);
    assert_eq!(
        k["average_days_to_pay"]["inputs"]["paid_invoice_count"],
        "0"
    );
    assert_eq!(
        k["average_days_to_pay"]["period"]["from"],
        serde_json::Value::Null
    );

    // The series for charts: the last 12 full months, oldest first.
    let d = app
        .get("/v1/reports/dashboard?include=series,kpis")
        .await
        .body;
    let series = d["series"].as_array().unwrap();
    assert_eq!(series.len(), 12);
    assert_eq!(series[0]["month_end"], "2023-03-31");
    let month = |i: usize| {
        (
            series[i]["month_end"].as_str().unwrap(),
            series[i]["invoiced"].as_str().unwrap(),
            series[i]["collected"].as_str().unwrap(),
            series[i]["outstanding"].as_str().unwrap(),
        )
    };
    assert_eq!(month(9), ("2023-12-31", "0.00", "0.00", "0.00"));
    assert_eq!(month(10), ("2024-01-31", "1000.00", "0.00", "1000.00"));
    assert_eq!(month(11), ("2024-02-29", "500.00", "900.00", "600.00"));
    assert_eq!(d["kpis"]["cei"]["value"], "90.0");

    // The standard dashboard is unchanged, and a bad include is named.
    assert!(app
        .get("/v1/reports/dashboard")
        .await
        .body
        .get("kpis")
        .is_none());
    let reply = app.get("/v1/reports/dashboard?include=everything").await;
    assert!(reply.assert_error(400, "VALIDATION_ERROR")["include"].is_array());
}

#[tokio::test]
async fn the_weighted_mean_days_to_pay_weighs_by_amount_and_keeps_its_history() {
    let app = TestApp::new().await;
    let acme = app.customer("Acme").await;
    // 1,000.00 paid after 40 days; 10.00 paid after 1 day.
    let big = app
        .invoice(acme, "1000.00", "2024-01-01", "2024-01-31")
        .await;
    let small = app.invoice(acme, "10.00", "2024-02-01", "2024-03-02").await;
    assert_eq!(
        app.pay(acme, big, "1000.00", "2024-02-10").await.status,
        StatusCode::CREATED
    );
    let paid = app.pay(acme, small, "10.00", "2024-02-02").await;
    assert_eq!(paid.status, StatusCode::CREATED);

    let k = |body: &serde_json::Value, name: &str| body["kpis"][name].clone();
    let d = app.get("/v1/reports/dashboard?include=kpis").await.body;
    assert_eq!(k(&d, "average_days_to_pay")["value"], "20.5");
    // (100000 × 40 + 1000 × 1) / 101000 = 39.61…
    let weighted = k(&d, "average_days_to_pay_weighted");
    assert_eq!(weighted["value"], "39.6", "{weighted}");
    assert_eq!(weighted["formula"], "paid_total_times_days / paid_total");
    assert_eq!(
        weighted["inputs"],
        json!({"paid_total": "1010.00", "paid_total_times_days": "40010.00"})
    );

    // On 2024-02-05 only the small invoice was paid.
    let then = app
        .get("/v1/reports/dashboard?include=kpis&as_of=2024-02-05")
        .await
        .body;
    assert_eq!(k(&then, "average_days_to_pay_weighted")["value"], "1.0");

    // The small payment voided today: from today it no longer counts, and it still did then.
    let payment = paid.body["id"].as_i64().unwrap();
    let void = app
        .post(
            &format!("/v1/payments/{payment}/void"),
            json!({"void_date": "2024-03-01", "reason": "cheque bounced"}),
        )
        .await;
    assert_eq!(void.status, StatusCode::OK, "{}", void.body);
    let d = app.get("/v1/reports/dashboard?include=kpis").await.body;
    assert_eq!(k(&d, "average_days_to_pay_weighted")["value"], "40.0");
    assert_eq!(
        k(&d, "average_days_to_pay_weighted")["inputs"]["paid_total"],
        "1000.00"
    );
    let then = app
        .get("/v1/reports/dashboard?include=kpis&as_of=2024-02-05")
        .await
        .body;
    assert_eq!(k(&then, "average_days_to_pay_weighted")["value"], "1.0");
}

/// A book from before the weighted mean (schema 19) gets its paid amounts on its next open,
/// recomputed from its allocations: the same figures, on every date, as if it had always
/// kept them.
#[tokio::test]
async fn an_upgraded_book_gets_the_weighted_mean_from_its_allocations() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ar.db");
    let app = TestApp::on_file(dir, &path, Limits::OFF, TODAY).await;
    let acme = app.customer("Acme").await;
    let big = app
        .invoice(acme, "1000.00", "2024-01-01", "2024-01-31")
        .await;
    let small = app.invoice(acme, "10.00", "2024-02-01", "2024-03-02").await;
    let third = app
        .invoice(acme, "300.00", "2024-01-15", "2024-02-14")
        .await;
    assert_eq!(
        app.pay(acme, big, "1000.00", "2024-02-10").await.status,
        StatusCode::CREATED
    );
    let bounced = app.pay(acme, small, "10.00", "2024-02-02").await.body["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        app.pay(acme, third, "300.00", "2024-01-20").await.status,
        StatusCode::CREATED
    );
    let void = app
        .post(
            &format!("/v1/payments/{bounced}/void"),
            json!({"void_date": "2024-02-20", "reason": "cheque bounced"}),
        )
        .await;
    assert_eq!(void.status, StatusCode::OK, "{}", void.body);
    let figures = |body: serde_json::Value| body["kpis"]["average_days_to_pay_weighted"].clone();
    let mut before = Vec::new();
    for as_of in ["2024-01-25", "2024-02-05", "2024-02-15", "2024-03-01"] {
        let d = app
            .get(&format!("/v1/reports/dashboard?include=kpis&as_of={as_of}"))
            .await
            .body;
        before.push(figures(d));
    }
    assert_eq!(before[1]["value"], "4.9", "(30000 × 5 + 1000 × 1) / 31000");

    back_to_version_19(&path);
    drop(Db::open(&path, Synchronous::Full).unwrap());

    let mut after = Vec::new();
    for as_of in ["2024-01-25", "2024-02-05", "2024-02-15", "2024-03-01"] {
        let d = app
            .get(&format!("/v1/reports/dashboard?include=kpis&as_of={as_of}"))
            .await
            .body;
        after.push(figures(d));
    }
    assert_eq!(after, before);
    // Filling in is claimed inside its transaction and writes the rows whole: done again (as
    // by a second process that saw the organization due), it changes nothing.
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("INSERT INTO settled_weights_due VALUES (1)")
        .unwrap();
    drop(Db::open(&path, Synchronous::Full).unwrap());
    let d = app
        .get("/v1/reports/dashboard?include=kpis&as_of=2024-03-01")
        .await
        .body;
    assert_eq!(figures(d), before[3]);
    app.assert_summaries_match();
    let due: i64 = conn
        .query_row("SELECT COUNT(*) FROM settled_weights_due", (), |r| r.get(0))
        .unwrap();
    assert_eq!(due, 0, "filled in once");
}

/// On a seeded book with every event, each month's `outstanding` in the series, and the
/// CEI's beginning receivables, are the aging's total on that date (they are summed from
/// the records in one pass, not from twelve agings).
#[tokio::test]
async fn the_series_outstanding_is_the_agings_total_at_each_month_end() {
    let app = TestApp::seeded(15, 11).await;
    let d = app
        .get("/v1/reports/dashboard?include=series,kpis")
        .await
        .body;
    let mut owed = 0;
    for point in d["series"].as_array().unwrap() {
        let end = point["month_end"].as_str().unwrap();
        let aging = app
            .get(&format!("/v1/reports/aging?as_of={end}"))
            .await
            .body;
        assert_eq!(point["outstanding"], aging["totals"]["total"], "{end}");
        owed += usize::from(point["outstanding"] != "0.00");
    }
    assert_eq!(owed, 12, "twelve month ends, each owing something");
    let cei = &d["kpis"]["cei"];
    let before = cei["period"]["from"].as_str().unwrap();
    let day_before = chrono::NaiveDate::parse_from_str(before, "%Y-%m-%d")
        .unwrap()
        .pred_opt()
        .unwrap();
    let aging = app
        .get(&format!("/v1/reports/aging?as_of={day_before}"))
        .await
        .body;
    assert_eq!(
        cei["inputs"]["beginning_receivables"],
        aging["totals"]["total"]
    );
}

/// An invoice of zero total is `paid` from its issue but had nothing to pay: the status
/// counts list it, the average days to pay does not (the rule the README states).
#[tokio::test]
async fn a_zero_total_invoice_is_paid_but_not_counted_in_days_to_pay() {
    let app = TestApp::new().await;
    let acme = app.customer("Acme").await;
    let zero = app.invoice(acme, "0.00", "2024-02-01", "2024-02-15").await;
    assert_eq!(
        app.get(&format!("/v1/invoices/{zero}")).await.body["status"],
        "paid"
    );
    let paid = app
        .invoice(acme, "100.00", "2024-02-01", "2024-02-15")
        .await;
    assert_eq!(
        app.pay(acme, paid, "100.00", "2024-02-11").await.status,
        StatusCode::CREATED
    );
    let d = app.get("/v1/reports/dashboard?include=kpis").await.body;
    assert_eq!(d["invoice_counts_by_status"]["paid"], 2, "{d}");
    let average = &d["kpis"]["average_days_to_pay"];
    assert_eq!(
        average["inputs"],
        json!({ "paid_invoice_count": "1", "total_days_to_pay": "10" }),
        "{average}"
    );
    assert_eq!(average["value"], "10.0");
}

/// Credit sales (DSO's and CEI's) are the invoices issued in the window less the credit
/// notes issued in it and not voided by its end: a note issued before the window and
/// voided in it is no sale, and a note voided after the window still counted in it.
#[tokio::test]
async fn credit_sales_leave_out_notes_issued_before_the_window_and_voided_in_it() {
    let app = TestApp::new().await;
    let acme = app.customer("Acme").await;
    app.invoice(acme, "100.00", "2023-11-01", "2023-12-01")
        .await;
    app.invoice(acme, "200.00", "2024-01-05", "2024-02-04")
        .await;
    let mut notes = Vec::new();
    for (issued, amount) in [("2023-11-10", "40.00"), ("2024-01-15", "30.00")] {
        let note = app
            .post(
                "/v1/credit-notes",
                json!({"customer_id": acme, "issue_date": issued, "reason": "returned",
                       "items": [{"description": "goods", "quantity": 1, "unit_price": amount}]}),
            )
            .await;
        assert_eq!(note.status, StatusCode::CREATED, "{}", note.body);
        notes.push(note.body["id"].as_i64().unwrap());
    }
    for note in &notes {
        let void = json!({"void_date": "2024-02-20", "reason": "issued in error"});
        let voided = app
            .post(&format!("/v1/credit-notes/{note}/void"), void)
            .await;
        assert_eq!(voided.status, StatusCode::OK, "{}", voided.body);
    }
    // Today (2024-03-01): both notes were void by then; only January's 200.00 was sold.
    let today = app.get("/v1/reports/dashboard?include=kpis").await.body;
    assert_eq!(today["credit_sales_last_90_days"], "200.00", "{today}");
    assert_eq!(today["kpis"]["cei"]["inputs"]["credit_sales"], "0.00");
    // On 2024-02-10 January's note was still good: 200.00 sold less 30.00 credited.
    let before = app.get("/v1/reports/dashboard?as_of=2024-02-10").await.body;
    assert_eq!(before["credit_sales_last_90_days"], "170.00", "{before}");
}

/// A credit note against an invoice voided since counts on no date, as its invoice does:
/// the invoice left credit sales, so the note that took part of it back leaves them too.
#[tokio::test]
async fn a_note_against_an_invoice_voided_since_counts_on_no_date() {
    let app = TestApp::new().await;
    let acme = app.customer("Acme").await;
    let invoice = app
        .invoice(acme, "100.00", "2024-01-05", "2024-02-04")
        .await;
    let note = app
        .post(
            "/v1/credit-notes",
            json!({"customer_id": acme, "invoice_id": invoice, "issue_date": "2024-01-10",
                   "reason": "returned",
                   "items": [{"description": "goods", "quantity": 1, "unit_price": "40.00"}]}),
        )
        .await;
    assert_eq!(note.status, StatusCode::CREATED, "{}", note.body);
    let note = note.body["id"].as_i64().unwrap();
    let void = json!({"void_date": "2024-02-10", "reason": "issued in error"});
    for (path, body) in [
        (format!("/v1/credit-notes/{note}/void"), void),
        (format!("/v1/invoices/{invoice}/void"), json!({})),
    ] {
        let voided = app.post(&path, body).await;
        assert_eq!(voided.status, StatusCode::OK, "{path}: {}", voided.body);
    }
    let then = app.get("/v1/reports/dashboard?as_of=2024-01-31").await.body;
    assert_eq!(then["credit_sales_last_90_days"], "0.00", "{then}");
}
