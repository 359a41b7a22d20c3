//! CSV everywhere (issue 12, section 4): every list, the aging report and the top debtors
//! answer `Accept: text/csv` or `?format=csv`; a list without `limit` is the whole filtered
//! list; cells a spreadsheet would run are made inert. Read back with the `csv` crate.

use poem::http::StatusCode;
use serde_json::json;
use sha2::Digest;

use crate::helpers::TestApp;

/// The CSV answer of `path` as rows of cells, its header first.
async fn csv_rows(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> Vec<Vec<String>> {
    let (status, answer_headers, bytes) = app.get_bytes(path, headers).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{path}: {}",
        String::from_utf8_lossy(&bytes)
    );
    assert_eq!(
        answer_headers.get("content-type").unwrap(),
        "text/csv; charset=utf-8"
    );
    let disposition = answer_headers
        .get("content-disposition")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(
        disposition.starts_with("attachment; filename="),
        "{disposition}"
    );
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(&bytes[..]);
    reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

fn column(rows: &[Vec<String>], name: &str) -> Vec<String> {
    let index = rows[0].iter().position(|c| c == name).unwrap();
    rows[1..].iter().map(|r| r[index].clone()).collect()
}

#[tokio::test]
async fn a_list_in_csv_is_the_whole_filtered_list_unless_a_limit_is_given() {
    let app = TestApp::new().await;
    let acme = app.customer("Acme").await;
    let mut ids = Vec::new();
    for n in 1..=120 {
        ids.push(
            app.invoice(acme, &format!("{n}.25"), "2024-01-10", "2024-02-09")
                .await,
        );
    }
    for (n, id) in ids[..7].iter().enumerate() {
        let paid = app
            .pay(acme, *id, &format!("{}.25", n + 1), "2024-02-01")
            .await;
        assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.body);
    }
    let rows = csv_rows(&app, "/v1/invoices?format=csv", &[]).await;
    assert_eq!(
        rows.len(),
        121,
        "a header and every invoice, past the page size of 50"
    );
    assert_eq!(
        rows[0][..4],
        ["id", "invoice_number", "customer_id", "status"]
    );
    assert_eq!(
        column(&rows, "id"),
        ids.iter().map(i64::to_string).collect::<Vec<_>>()
    );
    assert_eq!(column(&rows, "total")[119], "120.25");
    assert_eq!(column(&rows, "balance_due")[1], "0.00");
    assert_eq!(column(&rows, "balance_due")[7], "8.25");
    assert_eq!(column(&rows, "currency")[0], "USD");
    assert_eq!(column(&rows, "is_overdue")[50], "true");

    let page = csv_rows(
        &app,
        "/v1/invoices?limit=10&offset=5",
        &[("accept", "text/csv")],
    )
    .await;
    assert_eq!(
        column(&page, "id"),
        ids[5..15].iter().map(i64::to_string).collect::<Vec<_>>()
    );
    let paid = csv_rows(&app, "/v1/invoices?format=csv&status=paid", &[]).await;
    assert_eq!(paid.len(), 1 + 7);

    // The same answer as JSON when the client prefers it, and errors stay JSON.
    let json = app.get("/v1/invoices?limit=2").await;
    assert_eq!(json.body["items"].as_array().unwrap().len(), 2);
    app.get("/v1/invoices?format=xml")
        .await
        .assert_error(400, "VALIDATION_ERROR");
    app.get("/v1/invoices?format=csv&limit=0")
        .await
        .assert_error(400, "VALIDATION_ERROR");
}

#[tokio::test]
async fn hostile_names_are_made_inert_and_amounts_stay_numbers() {
    let app = TestApp::new().await;
    let hostile = [
        "=HYPERLINK(\"http://evil\",\"x\")",
        "+1+1",
        "-2+3",
        "@SUM(A1:A9)",
        "Plain & Sons",
    ];
    for name in hostile {
        assert_eq!(
            app.post("/v1/customers", json!({ "name": name }))
                .await
                .status,
            StatusCode::CREATED
        );
    }
    let rows = csv_rows(&app, "/v1/customers", &[("accept", "text/csv")]).await;
    let names = column(&rows, "name");
    assert_eq!(
        names,
        [
            "'=HYPERLINK(\"http://evil\",\"x\")",
            "'+1+1",
            "'-2+3",
            "'@SUM(A1:A9)",
            "Plain & Sons"
        ]
    );
    let acme = app.customer("Acme").await;
    let invoice = app
        .invoice(acme, "100.00", "2024-01-10", "2024-02-09")
        .await;
    assert!(invoice > 0);
    let note = json!({ "customer_id": acme, "issue_date": "2024-02-02",
        "reason": "=1+1", "items": [{ "description": "x", "quantity": 1, "unit_price": "130.00" }] });
    assert_eq!(
        app.post("/v1/credit-notes", note).await.status,
        StatusCode::CREATED
    );
    let notes = csv_rows(&app, "/v1/credit-notes?format=csv", &[]).await;
    assert_eq!(column(&notes, "reason"), ["'=1+1"]);
    assert_eq!(column(&notes, "applied_amount"), ["0.00"]);
    assert_eq!(column(&notes, "unapplied_amount"), ["130.00"]);
    let customers = csv_rows(&app, "/v1/customers?format=csv&search=Acme", &[]).await;
    assert_eq!(
        column(&customers, "net_balance"),
        ["-30.00"],
        "a negative amount is a number, not a formula"
    );
}

#[tokio::test]
async fn payments_and_events_export_with_their_sums() {
    let app = TestApp::new().await;
    let acme = app.customer("Acme").await;
    let a = app
        .invoice(acme, "100.00", "2024-01-10", "2024-02-09")
        .await;
    let b = app.invoice(acme, "50.00", "2024-01-11", "2024-02-10").await;
    let split = json!({ "customer_id": acme, "amount": "200.00", "payment_method": "cash",
        "payment_date": "2024-02-01", "reference_number": "@ref",
        "allocations": [{ "invoice_id": a, "amount": "100.00" }, { "invoice_id": b, "amount": "20.00" }] });
    assert_eq!(
        app.post("/v1/payments", split).await.status,
        StatusCode::CREATED
    );
    for n in 0..600 {
        let body = json!({ "customer_id": acme, "amount": "1.00", "payment_method": "cash", "payment_date": "2024-02-02", "reference_number": format!("R{n}") });
        assert_eq!(
            app.post("/v1/payments", body).await.status,
            StatusCode::CREATED
        );
    }
    let rows = csv_rows(&app, "/v1/payments?format=csv", &[]).await;
    assert_eq!(rows.len(), 1 + 601, "more than one chunk of 500");
    assert_eq!(column(&rows, "applied_amount")[0], "120.00");
    assert_eq!(column(&rows, "unapplied_amount")[0], "80.00");
    assert_eq!(column(&rows, "reference_number")[0], "'@ref");
    assert_eq!(
        column(&rows, "invoice_id")[0],
        "",
        "split over two invoices"
    );
    assert_eq!(column(&rows, "status")[600], "unapplied");
    assert!(column(&rows, "applied_amount")[1..]
        .iter()
        .all(|a| a == "0.00"));

    let events = csv_rows(&app, "/v1/events?format=csv", &[]).await;
    let types = column(&events, "type");
    // The organization and the test's key, the customer, two invoices, the payments, and
    // the two invoices the split moved.
    assert_eq!(types.len(), 2 + 1 + 2 + 601 + 2);
    assert_eq!(types[2], "customer.created");
    let page = csv_rows(&app, "/v1/events?format=csv&after=3&limit=2", &[]).await;
    assert_eq!(column(&page, "id"), ["4", "5"]);
}

#[tokio::test]
async fn the_aging_and_the_top_debtors_come_as_csv() {
    let app = TestApp::new().await;
    let acme = app.customer("Acme").await;
    let globex = app.customer("Globex").await;
    app.invoice(acme, "100.00", "2024-01-10", "2024-02-09")
        .await;
    app.invoice(globex, "40.00", "2024-02-10", "2024-03-11")
        .await;
    let json = app.get("/v1/reports/aging").await.body;
    let rows = csv_rows(&app, "/v1/reports/aging?format=csv", &[]).await;
    assert_eq!(
        rows[0],
        [
            "customer_id",
            "customer_code",
            "name",
            "current",
            "days_1_30",
            "days_31_60",
            "days_61_90",
            "days_over_90",
            "total",
            "invoice_count",
            "unapplied_credit",
            "net",
            "currency"
        ]
    );
    assert_eq!(
        rows[1][2..],
        [
            "Acme", "0.00", "100.00", "0.00", "0.00", "0.00", "100.00", "1", "0.00", "100.00",
            "USD"
        ]
    );
    assert_eq!(rows[2][2], "Globex");
    assert_eq!(
        rows[3],
        [
            "", "", "Total", "40.00", "100.00", "0.00", "0.00", "0.00", "140.00", "2", "0.00",
            "140.00", "USD"
        ]
    );
    assert_eq!(json["totals"]["total"], "140.00");

    let debtors = csv_rows(&app, "/v1/reports/dashboard", &[("accept", "text/csv")]).await;
    assert_eq!(
        debtors[0],
        [
            "customer_id",
            "customer_code",
            "name",
            "outstanding",
            "overdue",
            "currency"
        ]
    );
    assert_eq!(debtors[1][2..], ["Acme", "100.00", "100.00", "USD"]);
    assert_eq!(debtors[2][2..], ["Globex", "40.00", "0.00", "USD"]);
}

#[tokio::test]
async fn the_export_command_writes_every_table_and_a_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ar.db");
    let out = dir.path().join("export");
    let app = TestApp::on_file(
        tempfile::tempdir().unwrap(),
        &path,
        arvalox::ratelimit::Limits::OFF,
        crate::helpers::TODAY,
    )
    .await;
    let tokyo = app
        .post(
            "/v1/customers",
            json!({ "name": "=Tokyo KK", "currency": "JPY" }),
        )
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let yen = app.invoice(tokyo, "1620", "2024-02-01", "2024-03-01").await;
    let paid = json!({ "customer_id": tokyo, "invoice_id": yen, "amount": "620", "payment_method": "cash", "payment_date": "2024-02-10" });
    assert_eq!(
        app.post("/v1/payments", paid).await.status,
        StatusCode::CREATED
    );
    let acme = app.customer("Acme").await;
    app.invoice(acme, "10.50", "2024-02-01", "2024-03-01").await;

    let run = |out: &std::path::Path, org: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_arvalox"))
            .args([
                "export",
                "--db",
                path.to_str().unwrap(),
                "--org",
                org,
                "--out",
                out.to_str().unwrap(),
            ])
            .output()
            .unwrap()
    };
    let done = run(&out, "default");
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let read = |file: &str| std::fs::read_to_string(out.join(file)).unwrap();
    let invoices = read("invoices.csv");
    let lines: Vec<&str> = invoices.lines().collect();
    assert!(lines[0].starts_with("id,customer_id,invoice_number,status,issue_date,due_date,notes,subtotal,tax_total,total,amount_paid"));
    assert!(
        lines[1].contains(",1620,0,1620,620,0,0,JPY,"),
        "yen have no places: {}",
        lines[1]
    );
    assert!(
        lines[2].contains(",10.50,0.00,10.50,0.00,0.00,0.00,USD,"),
        "{}",
        lines[2]
    );
    assert!(read("customers.csv").contains(",'=Tokyo KK,"));
    assert!(read("allocations.csv")
        .lines()
        .nth(1)
        .unwrap()
        .contains(",620,2024-02-10,"));
    assert_eq!(read("invoice_lines.csv").lines().count(), 3);

    let manifest: serde_json::Value = serde_json::from_str(&read("manifest.json")).unwrap();
    assert_eq!(manifest["format"], "arvalox-export/1");
    let files = manifest["files"].as_array().unwrap();
    let names: Vec<&str> = files.iter().map(|f| f["file"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "customers.csv",
            "invoices.csv",
            "invoice_lines.csv",
            "payments.csv",
            "allocations.csv",
            "credit_notes.csv",
            "credit_note_lines.csv",
            "refunds.csv",
            "write_offs.csv",
            "events.csv"
        ]
    );
    for file in files {
        let bytes = std::fs::read(out.join(file["file"].as_str().unwrap())).unwrap();
        let digest = sha2::Sha256::digest(&bytes);
        assert_eq!(file["sha256"], hex::encode(digest));
        let rows = bytes.iter().filter(|b| **b == b'\n').count() as u64 - 1;
        assert!(file["rows"].as_u64().unwrap() <= rows, "{file}");
    }
    assert_eq!(files[1]["rows"], 2);

    // Nothing is overwritten, and an unknown organization is named.
    let again = run(&out, "default");
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already holds"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let unknown = run(&dir.path().join("other"), "nobody");
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("No organization 'nobody'"));

    // The books are private, and an export only reads: a missing file is not created.
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        (mode(&out), mode(&out.join("invoices.csv"))),
        (0o700, 0o600)
    );
    let missing = dir.path().join("missing.db");
    let none = std::process::Command::new(env!("CARGO_BIN_EXE_arvalox"))
        .args([
            "export",
            "--db",
            missing.to_str().unwrap(),
            "--out",
            dir.path().join("x").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!none.status.success());
    assert!(
        String::from_utf8_lossy(&none.stderr).contains("No database file"),
        "{}",
        String::from_utf8_lossy(&none.stderr)
    );
    assert!(!missing.exists());
}

#[tokio::test]
async fn an_export_that_fails_part_way_ends_with_a_record_no_reader_mistakes_for_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ar.db");
    let app = TestApp::on_file(
        tempfile::tempdir().unwrap(),
        &path,
        arvalox::ratelimit::Limits::OFF,
        crate::helpers::TODAY,
    )
    .await;
    for n in 0..5 {
        app.customer(&format!("Customer {n}")).await;
    }
    // A damaged event in the middle of the journal (the triggers that keep it append-only
    // are set aside for the damage only).
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "DROP TRIGGER journal_events_never_changed;
         UPDATE journal_events SET data = 'not json' WHERE id = 5;",
    )
    .unwrap();
    let response = app
        .client
        .get("/v1/events?format=csv")
        .header("x-arvalox-api-key", &app.key)
        .send()
        .await;
    assert_eq!(
        response.0.status(),
        StatusCode::OK,
        "the failure comes after the answer started"
    );
    // What a client receives before the body ends (over HTTP it ends like a complete one).
    let mut pieces = response.0.into_body().into_bytes_stream();
    let mut bytes = Vec::new();
    while let Some(Ok(piece)) = futures_util::StreamExt::next(&mut pieces).await {
        bytes.extend_from_slice(&piece);
    }
    let text = String::from_utf8_lossy(&bytes);
    let last = text.lines().last().unwrap();
    assert!(last.starts_with("EXPORT FAILED"), "{text}");
    let mut strict = csv::Reader::from_reader(&bytes[..]);
    assert!(
        strict.records().any(|r| r.is_err()),
        "a strict reader stops at it"
    );
}
