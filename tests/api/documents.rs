//! Documents (issue 12): the invoice PDF, read back with poppler's `pdftotext` and
//! `pdfinfo` (installed by `.ci/run`), so every check is on the text a person would see.

use std::io::Write;
use std::process::Command;

use arvalox::domain::keys::Scope;
use poem::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::TestApp;

/// Runs a poppler tool on `pdf` and answers what it printed.
fn poppler(tool: &str, args: &[&str], pdf: &[u8]) -> String {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(pdf).unwrap();
    let path = file.path().to_str().unwrap();
    let mut command = Command::new(tool);
    command.args(args).arg(path);
    if tool == "pdftotext" {
        command.arg("-");
    }
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{tool} (Debian's poppler-utils, installed by .ci/run): {e}"));
    assert!(
        output.status.success(),
        "{tool}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The PDF's text, its columns kept on their lines.
pub(crate) fn pdf_text(pdf: &[u8]) -> String {
    poppler("pdftotext", &["-layout", "-enc", "UTF-8"], pdf)
}

/// `pdfinfo`'s value for `field` ("Pages", "Page size").
fn pdf_info(pdf: &[u8], field: &str) -> String {
    let info = poppler("pdfinfo", &[], pdf);
    let line = info
        .lines()
        .find(|l| l.starts_with(&format!("{field}:")))
        .unwrap();
    line.split_once(':').unwrap().1.trim().to_owned()
}

/// The lines of `text` with their runs of spaces made single, for matching table rows.
pub(crate) fn squeezed(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

async fn fetch_pdf(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> Vec<u8> {
    let (status, headers, bytes) = app.get_bytes(path, headers).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    assert_eq!(headers.get("content-type").unwrap(), "application/pdf");
    assert!(bytes.starts_with(b"%PDF-"));
    bytes
}

/// An organization with an address and a tax id, and a customer whose name is in Greek and
/// Cyrillic; answers the customer's id.
async fn books(app: &TestApp) -> i64 {
    let settings = json!({
        "name": "Société Générale d'Étoiles", "legal_name": "Étoiles SARL",
        "address": "12 rue de l'Église, 75001 Paris", "tax_id": "FR-40-123456789",
        "email": "compta@etoiles.example", "paper_size": "letter", "currency": "EUR"
    });
    let reply = app.patch("/v1/organization", settings).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["paper_size"], "letter");
    let customer = json!({
        "name": "Ελληνικά Κυριλλица Ltd", "billing_address": "Οδός Αθηνάς 5\nАфины",
        "email": "ap@hellas.example"
    });
    let reply = app.post("/v1/customers", customer).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body["id"].as_i64().unwrap()
}

#[tokio::test]
async fn the_invoice_pdf_prints_the_figures_the_json_gives() {
    let app = TestApp::new().await;
    let customer = books(&app).await;
    let body = json!({
        "customer_id": customer, "issue_date": "2024-01-10", "due_date": "2024-02-09",
        "notes": "Merci — payable by bank transfer.",
        "items": [
            { "description": "Consulting — Überprüfung", "quantity": "10", "unit_price": "150.00", "tax_rate": "0.08" },
            { "description": "Travel", "quantity": "1.5", "unit_price": "33.33", "tax_rate": "0" }
        ]
    });
    let invoice = app.post("/v1/invoices", body).await.body;
    let id = invoice["id"].as_i64().unwrap();
    assert_eq!(
        app.pay(customer, id, "500.00", "2024-01-20").await.status,
        StatusCode::CREATED
    );
    let json = app.get(&format!("/v1/invoices/{id}")).await.body;

    let pdf = fetch_pdf(&app, &format!("/v1/invoices/{id}/pdf"), &[]).await;
    let text = pdf_text(&pdf);
    let lines = squeezed(&text);
    for expected in [
        "Société Générale d'Étoiles",
        "Étoiles SARL",
        "12 rue de l'Église, 75001 Paris",
        "Tax ID: FR-40-123456789",
        "Ελληνικά Κυριλλица Ltd",
        "Οδός Αθηνάς 5",
        "Афины",
        json["invoice_number"].as_str().unwrap(),
        "Merci — payable by bank transfer.",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
    let has = |row: &str| lines.iter().any(|l| l.contains(row));
    for row in [
        "Issue date 2024-01-10",
        "Due date 2024-02-09",
        "Status Partially paid",
        "Overdue 21 days",
        "Currency EUR",
        "Consulting — Überprüfung 10 150.00 8% 1620.00",
        "Travel 1.5 33.33 0% 50.00",
        "Subtotal 1550.00",
        "Tax 120.00",
        "Total (EUR) 1670.00",
        "Paid 2024-01-20 (Bank transfer) -500.00",
        "Balance due (EUR) 1170.00",
    ] {
        assert!(has(row), "no line with {row:?} in:\n{text}");
    }
    assert_eq!(json["balance_due"], "1170.00");
    assert_eq!(pdf_info(&pdf, "Page size"), "612 x 792 pts (letter)");

    // The same document by content negotiation, and on A4 when the request asks.
    let negotiated = fetch_pdf(
        &app,
        &format!("/v1/invoices/{id}"),
        &[("accept", "application/pdf")],
    )
    .await;
    assert_eq!(pdf_text(&negotiated), text);
    let a4 = fetch_pdf(&app, &format!("/v1/invoices/{id}/pdf?paper=a4"), &[]).await;
    assert!(
        pdf_info(&a4, "Page size").contains("(A4)"),
        "{}",
        pdf_info(&a4, "Page size")
    );
}

#[tokio::test]
async fn a_500_line_invoice_breaks_across_pages_repeating_the_column_titles() {
    let app = TestApp::new().await;
    let customer = app.customer("Bulk Buyer").await;
    let items: Vec<Value> = (1..=500)
        .map(|n| json!({ "description": format!("Part {n:03}"), "quantity": n, "unit_price": "1.25" }))
        .collect();
    let body = json!({ "customer_id": customer, "issue_date": "2024-02-01", "items": items });
    let reply = app.post("/v1/invoices", body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let id = reply.body["id"].as_i64().unwrap();

    let pdf = fetch_pdf(&app, &format!("/v1/invoices/{id}/pdf"), &[]).await;
    let text = pdf_text(&pdf);
    let lines = squeezed(&text);
    for n in 1..=500 {
        let total = format!("{:.2}", f64::from(n) * 1.25);
        let row = format!("Part {n:03} {n} 1.25 0% {total}");
        assert!(lines.contains(&row), "no row {row:?}");
    }
    let pages: usize = pdf_info(&pdf, "Pages").parse().unwrap();
    assert!(pages >= 8, "{pages} pages");
    let titles = lines
        .iter()
        .filter(|l| *l == "Description Qty Unit price Tax Amount")
        .count();
    assert_eq!(titles, pages, "the column titles on every page");
    let numbered =
        |l: &&String| l.contains(" · Invoice INV-") && l.ends_with(&format!(" of {pages}"));
    assert_eq!(
        lines.iter().filter(numbered).count(),
        pages,
        "a footer on every page"
    );
    assert!(lines
        .iter()
        .any(|l| l.ends_with(&format!("Page {pages} of {pages}"))));
    assert!(lines.iter().any(|l| l == "Total (USD) 156562.50"), "{text}");
    assert!(lines.iter().any(|l| l == "Balance due (USD) 156562.50"));
}

#[tokio::test]
async fn amounts_print_in_the_invoice_currency_with_its_places() {
    let app = TestApp::new().await;
    let reply = app
        .post(
            "/v1/customers",
            json!({ "name": "Tokyo KK", "currency": "JPY" }),
        )
        .await;
    let customer = reply.body["id"].as_i64().unwrap();
    let id = app
        .invoice(customer, "1620", "2024-02-01", "2024-03-01")
        .await;
    let pdf = fetch_pdf(&app, &format!("/v1/invoices/{id}/pdf"), &[]).await;
    let lines = squeezed(&pdf_text(&pdf));
    assert!(
        lines.iter().any(|l| l == "Work 1 1620 0% 1620"),
        "{lines:?}"
    );
    assert!(lines.iter().any(|l| l == "Balance due (JPY) 1620"));
    assert!(
        pdf_info(&pdf, "Page size").contains("(A4)"),
        "the default paper"
    );
}

#[tokio::test]
async fn pdf_requests_answer_json_errors() {
    let app = TestApp::new().await;
    let customer = app.customer("Acme").await;
    let id = app
        .invoice(customer, "10.00", "2024-02-01", "2024-03-01")
        .await;

    let reply = app.get(&format!("/v1/invoices/{id}/pdf?paper=a5")).await;
    let errors = reply.assert_error(400, "VALIDATION_ERROR");
    assert!(
        errors["paper"][0].as_str().unwrap().contains("a4, letter"),
        "{errors}"
    );
    app.get("/v1/invoices/999/pdf")
        .await
        .assert_error(404, "NOT_FOUND");
    let other = app.new_key("other", Scope::Admin);
    let reply = app
        .call(
            Method::GET,
            &format!("/v1/invoices/{id}/pdf"),
            Some(&other),
            &[],
            None,
        )
        .await;
    reply.assert_error(404, "NOT_FOUND");

    // A read key may print; JSON stays the answer unless the client prefers a PDF.
    let reader = app.new_key("default", Scope::Read);
    let reply = app
        .call(
            Method::GET,
            &format!("/v1/invoices/{id}/pdf"),
            Some(&reader),
            &[],
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let accept = [("accept", "application/json, application/pdf;q=0.9")];
    let reply = app
        .call(
            Method::GET,
            &format!("/v1/invoices/{id}"),
            Some(&app.key),
            &accept,
            None,
        )
        .await;
    assert_eq!(reply.body["id"], id);
    assert!(reply.header("etag").is_some());
}

/// A payment's label (its date, method and reference) is wrapped to the room left of its
/// amount: a long reference never prints over the figure.
#[tokio::test]
async fn a_long_payment_reference_wraps_clear_of_its_amount() {
    let app = TestApp::new().await;
    let customer = app.customer("Remitter").await;
    let id = app
        .invoice(customer, "20000.00", "2024-01-10", "2024-02-09")
        .await;
    let reference = "SEPA-2026-11-03-ACME-CORP-REMITTANCE-0042";
    // A right-to-left reference that wraps onto a line of its own: the label reads left to
    // right, as its first line does, so its digits keep their order.
    let hebrew = "העברה בנקאית מספר אסמכתא 12345";
    let payments = [
        ("10695.53", "TXN52035238"),
        ("1234.56", reference),
        ("1.00", hebrew),
    ];
    for (amount, reference) in payments {
        let payment = json!({
            "customer_id": customer, "invoice_id": id, "amount": amount,
            "payment_date": "2024-01-20", "payment_method": "bank_transfer",
            "reference_number": reference,
        });
        let reply = app.post("/v1/payments", payment).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    }
    let text = pdf_text(&fetch_pdf(&app, &format!("/v1/invoices/{id}/pdf"), &[]).await);
    // Each amount stands on the line that ends its label, apart from it.
    for (amount, label_end) in [("-10695.53", "TXN52035238)"), ("-1234.56", "0042)")] {
        assert!(
            text.lines().any(|line| {
                let words: Vec<&str> = line.split_whitespace().collect();
                matches!(words.as_slice(), [.., end, last] if end.ends_with(label_end) && *last == amount)
            }),
            "{amount} does not stand apart after {label_end} in:\n{text}"
        );
    }
    assert!(text.contains("12345") && !text.contains("54321"), "{text}");
    let joined: String = text.split_whitespace().collect();
    assert!(joined.contains("ref.TXN52035238)"), "{text}");
    assert!(joined.contains(&format!("ref.{reference})")), "{text}");
}
