//! Aging on your own terms (issue 12, section 5): bucket edges, aging by issue date, the
//! open invoices under each customer, and the checks the answer carries. Today is
//! 2024-03-01.

use poem::http::StatusCode;
use serde_json::{json, Value};

use crate::helpers::TestApp;

/// Acme: 100.00 due 2023-10-31 (122 days past due), 150.00 of 200.00 due 2024-01-31 (30),
/// 300.00 due 2024-03-20 (current). Globex: 400.00 due 2023-12-31 (61), 25.00 of credit.
async fn book(app: &TestApp) -> (i64, i64) {
    let acme = app.customer("Acme").await;
    let globex = app.customer("Globex").await;
    app.invoice(acme, "100.00", "2023-10-01", "2023-10-31")
        .await;
    let b = app
        .invoice(acme, "200.00", "2024-01-01", "2024-01-31")
        .await;
    assert_eq!(
        app.pay(acme, b, "50.00", "2024-02-05").await.status,
        StatusCode::CREATED
    );
    app.invoice(acme, "300.00", "2024-02-20", "2024-03-20")
        .await;
    app.invoice(globex, "400.00", "2023-12-01", "2023-12-31")
        .await;
    let credit = json!({ "customer_id": globex, "amount": "25.00", "payment_method": "cash", "payment_date": "2024-02-01" });
    assert_eq!(
        app.post("/v1/payments", credit).await.status,
        StatusCode::CREATED
    );
    (acme, globex)
}

fn buckets(value: &Value) -> Vec<(String, String)> {
    value["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["label"].as_str().unwrap().to_owned(),
                b["amount"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(l, a)| ((*l).to_owned(), (*a).to_owned()))
        .collect()
}

#[tokio::test]
async fn buckets_on_your_own_edges_add_up_and_are_checked() {
    let app = TestApp::new().await;
    let (acme, _) = book(&app).await;
    let report = app.get("/v1/reports/aging?buckets=30,60,90,120").await.body;
    assert_eq!(
        buckets(&report["totals"]),
        pairs(&[
            ("current", "300.00"),
            ("days_1_30", "150.00"),
            ("days_31_60", "0.00"),
            ("days_61_90", "400.00"),
            ("days_91_120", "0.00"),
            ("days_over_120", "100.00")
        ])
    );
    let first = &report["totals"]["buckets"][4];
    assert_eq!(
        (first["from_days"].clone(), first["to_days"].clone()),
        (json!(91), json!(120))
    );
    assert_eq!(report["totals"]["buckets"][5]["to_days"], Value::Null);
    // The five named buckets stay the standard ones.
    assert_eq!(report["totals"]["days_over_90"], "100.00");
    assert_eq!(report["totals"]["total"], "950.00");
    assert_eq!(report["age_by"], "due_date");
    let acme_row = report["customers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["customer_id"] == acme)
        .unwrap();
    assert_eq!(
        buckets(acme_row),
        pairs(&[
            ("current", "300.00"),
            ("days_1_30", "150.00"),
            ("days_31_60", "0.00"),
            ("days_61_90", "0.00"),
            ("days_91_120", "0.00"),
            ("days_over_120", "100.00")
        ])
    );
    assert!(
        acme_row.get("invoices").is_none(),
        "invoices only with detail=invoices"
    );
    for check in [
        "buckets_sum_to_total",
        "customers_sum_to_totals",
        "total_equals_recount",
    ] {
        let c = &report["checks"][check];
        assert_eq!(c["holds"], true, "{check}: {c}");
        assert_eq!(
            (c["total"].as_str(), c["compared_with"].as_str()),
            (Some("950.00"), Some("950.00")),
            "{check}"
        );
    }

    // The standard answer is the one it always was: no new fields.
    let plain = app.get("/v1/reports/aging").await.body;
    for key in ["checks", "age_by"] {
        assert!(plain.get(key).is_none(), "{key}");
    }
    assert!(plain["totals"].get("buckets").is_none());
}

#[tokio::test]
async fn aging_by_issue_date_lists_each_customers_open_invoices() {
    let app = TestApp::new().await;
    let (acme, _) = book(&app).await;
    let path = format!("/v1/reports/aging?age_by=issue_date&detail=invoices&customer_id={acme}");
    let report = app.get(&path).await.body;
    assert_eq!(
        buckets(&report["totals"]),
        pairs(&[
            ("days_0_30", "300.00"),
            ("days_31_60", "150.00"),
            ("days_61_90", "0.00"),
            ("days_over_90", "100.00")
        ])
    );
    let invoices: Vec<(i64, &str, &str)> = report["customers"][0]["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["days"].as_i64().unwrap(),
                i["bucket"].as_str().unwrap(),
                i["open_amount"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        invoices,
        [
            (152, "days_over_90", "100.00"),
            (60, "days_31_60", "150.00"),
            (10, "days_0_30", "300.00")
        ]
    );
    assert_eq!(report["checks"]["total_equals_recount"]["holds"], true);

    // Historical: on 2024-01-15 only the first two were issued, and nothing was paid yet.
    let then = app.get(&format!("{path}&as_of=2024-01-15")).await.body;
    let open: Vec<&str> = then["customers"][0]["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["open_amount"].as_str().unwrap())
        .collect();
    assert_eq!(open, ["100.00", "200.00"]);
    assert_eq!(
        then["checks"]["total_equals_recount"]["compared_with"],
        "300.00"
    );
}

#[tokio::test]
async fn custom_aging_comes_as_csv_and_bad_terms_are_named() {
    let app = TestApp::new().await;
    book(&app).await;
    let (status, _, bytes) = app
        .get_bytes("/v1/reports/aging?buckets=60&format=csv", &[])
        .await;
    assert_eq!(status, StatusCode::OK);
    let csv = String::from_utf8(bytes).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows[0], "customer_id,customer_code,name,current,days_1_60,days_over_60,total,invoice_count,unapplied_credit,net,currency");
    assert_eq!(
        *rows.last().unwrap(),
        ",,Total,300.00,150.00,500.00,950.00,4,25.00,925.00,USD"
    );

    for (query, field) in [
        ("buckets=60,30", "buckets"),
        ("buckets=abc", "buckets"),
        ("buckets=0", "buckets"),
        ("buckets=1,2,3,4,5,6,7,8,9,10,11", "buckets"),
        ("age_by=someday", "age_by"),
        ("detail=customers", "detail"),
    ] {
        let reply = app.get(&format!("/v1/reports/aging?{query}")).await;
        let errors = reply.assert_error(400, "VALIDATION_ERROR");
        assert!(errors[field].is_array(), "{query}: {errors}");
    }
}

#[tokio::test]
async fn on_a_seeded_book_the_checks_hold_at_every_date() {
    let app = TestApp::seeded(15, 11).await;
    for as_of in ["2024-01-31", "2025-06-30", "2026-03-15", "2026-06-30"] {
        let report = app
            .get(&format!(
                "/v1/reports/aging?as_of={as_of}&buckets=15,45,90,180,365&detail=invoices"
            ))
            .await
            .body;
        for check in [
            "buckets_sum_to_total",
            "customers_sum_to_totals",
            "total_equals_recount",
        ] {
            assert_eq!(
                report["checks"][check]["holds"], true,
                "{as_of} {check}: {}",
                report["checks"]
            );
        }
        let standard = app
            .get(&format!("/v1/reports/aging?as_of={as_of}"))
            .await
            .body;
        assert_eq!(
            report["totals"]["total"], standard["totals"]["total"],
            "{as_of}"
        );
        // Less what terms add, the answer is the standard one: every customer with its
        // standard buckets, counts, credit and place in the order.
        assert_eq!(without_terms(&report), standard, "{as_of}");
        for customer in report["customers"].as_array().unwrap() {
            let listed: i64 = customer["invoices"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| cents(&i["open_amount"]))
                .sum();
            assert_eq!(listed, cents(&customer["total"]), "{as_of}");
        }
    }
}

/// `report` less the fields an aging on terms adds (at the top, in its totals and in each
/// customer).
fn without_terms(report: &Value) -> Value {
    let mut plain = report.clone();
    let strip = |object: &mut Value| {
        if let Some(fields) = object.as_object_mut() {
            for added in ["buckets", "invoices", "checks", "age_by"] {
                fields.remove(added);
            }
        }
    };
    strip(&mut plain);
    strip(&mut plain["totals"]);
    for customer in plain["customers"].as_array_mut().unwrap() {
        strip(customer);
    }
    plain
}

fn cents(text: &Value) -> i64 {
    let (whole, frac) = text.as_str().unwrap().split_once('.').unwrap();
    whole.parse::<i64>().unwrap() * 100 + frac.parse::<i64>().unwrap()
}

/// The recount leaves out a void invoice entirely, the payments once applied to it as much
/// as its total: at a date when a (later voided) payment stood against it, the checks still
/// hold and count only the invoice still open.
#[tokio::test]
async fn a_void_invoices_payment_counts_in_no_recount() {
    let app = TestApp::new().await;
    let acme = app.customer("Acme").await;
    let voided = app
        .invoice(acme, "100.00", "2024-01-02", "2024-02-01")
        .await;
    app.invoice(acme, "50.00", "2024-01-03", "2024-02-02").await;
    let paid = app.pay(acme, voided, "40.00", "2024-01-10").await;
    assert_eq!(paid.status, StatusCode::CREATED);
    let payment = paid.body["id"].as_i64().unwrap();
    let bounced = json!({ "void_date": "2024-02-01", "reason": "bounced" });
    let path = format!("/v1/payments/{payment}/void");
    assert_eq!(app.post(&path, bounced).await.status, StatusCode::OK);
    let path = format!("/v1/invoices/{voided}/void");
    assert_eq!(app.post(&path, json!({})).await.status, StatusCode::OK);

    let then = app
        .get("/v1/reports/aging?as_of=2024-01-15&checks=true")
        .await
        .body;
    assert_eq!(then["totals"]["total"], "50.00");
    let recount = &then["checks"]["total_equals_recount"];
    assert_eq!(recount["holds"], true, "{recount}");
    assert_eq!(recount["compared_with"], "50.00");
}
