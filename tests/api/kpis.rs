//! Dashboard KPIs that show their working (issue 12, section 5), on a book computed by
//! hand. Today is 2024-03-01, so the last full month is February 2024.

use poem::http::StatusCode;
use serde_json::json;

use crate::helpers::TestApp;

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
