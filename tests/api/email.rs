//! E-mailed documents (issue 12, section 3), sent through a real SMTP server on loopback
//! (`smtp_sink`): the invoice PDF with `POST /v1/invoices/{id}/send`, the statement with
//! `POST /v1/customers/{id}/statement/email`; failures, the journal, retries.

use mail_parser::MimeHeaders;
use poem::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::documents::pdf_text;
use crate::helpers::TestApp;
use crate::smtp_sink::{Received, Sink};

/// An app that mails through `sink` without TLS, an organization with a contact address.
pub(crate) async fn mailing_app(sink: &Sink) -> TestApp {
    let app = TestApp::mailing(sink.settings("smtp://127.0.0.1:{port}")).await;
    let settings = json!({"name": "Acme Tools", "email": "billing@acme.test"});
    let reply = app.patch("/v1/organization", settings).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    app
}

pub(crate) async fn customer_with_email(app: &TestApp, email: Option<&str>) -> i64 {
    let reply = app
        .post("/v1/customers", json!({"name": "Globex", "email": email}))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body["id"].as_i64().unwrap()
}

pub(crate) async fn draft(app: &TestApp, customer: i64) -> i64 {
    let reply = app
        .post(
            "/v1/invoices",
            json!({"customer_id": customer, "issue_date": "2024-02-20", "due_date": "2024-03-20",
                   "status": "draft",
                   "items": [{"description": "Anvil", "quantity": 2, "unit_price": "150.00"}]}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body["id"].as_i64().unwrap()
}

pub(crate) async fn send(
    app: &TestApp,
    invoice: i64,
    body: Value,
    key: Option<&str>,
) -> crate::helpers::Reply {
    let headers: Vec<(&str, &str)> = key.map(|k| ("Idempotency-Key", k)).into_iter().collect();
    app.call(
        Method::POST,
        &format!("/v1/invoices/{invoice}/send"),
        Some(&app.key),
        &headers,
        Some(&body.to_string()),
    )
    .await
}

pub(crate) async fn history(app: &TestApp, path: &str) -> Vec<Value> {
    let reply = app.get(&format!("{path}/history")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body["items"].as_array().unwrap().clone()
}

/// The one attachment: its file name and bytes.
pub(crate) fn attachment(message: &Received) -> (String, Vec<u8>) {
    let parsed = message.parsed();
    let part = parsed.attachment(0).expect("an attachment");
    let kind = part.content_type().unwrap();
    assert_eq!((kind.ctype(), kind.subtype()), ("application", Some("pdf")));
    (
        part.attachment_name().unwrap().to_string(),
        part.contents().to_vec(),
    )
}

#[tokio::test]
async fn an_invoice_goes_to_the_customer_with_its_pdf_and_the_draft_is_sent() {
    let sink = Sink::plain();
    let app = mailing_app(&sink).await;
    let globex = customer_with_email(&app, Some("ap@globex.test")).await;
    let invoice = draft(&app, globex).await;

    let body =
        json!({"email": {"cc": ["owner@acme.test"], "message": "Thank you!\nSee you soon."}});
    let reply = send(&app, invoice, body, None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["status"], "sent");

    let inbox = sink.inbox();
    assert_eq!(inbox.len(), 1);
    let message = &inbox[0];
    assert_eq!(message.mail_from, "ar@acme.test");
    assert_eq!(message.rcpt_to, ["ap@globex.test", "owner@acme.test"]);
    let parsed = message.parsed();
    assert_eq!(
        parsed.subject(),
        Some("Invoice INV-2024-00001 from Acme Tools")
    );
    assert_eq!(
        parsed.from().unwrap().first().unwrap().address(),
        Some("ar@acme.test")
    );
    assert_eq!(
        parsed.reply_to().unwrap().first().unwrap().address(),
        Some("billing@acme.test")
    );
    assert_eq!(
        parsed.cc().unwrap().first().unwrap().address(),
        Some("owner@acme.test")
    );
    let text = parsed.body_text(0).unwrap().replace("\r\n", "\n");
    assert!(text.starts_with("Thank you!\nSee you soon.\n\nInvoice INV-2024-00001 for USD 300.00, issued 2024-02-20, is due on 2024-03-20."), "{text}");
    assert!(text.contains("Balance due: USD 300.00."), "{text}");

    let (name, pdf) = attachment(message);
    assert_eq!(name, "INV-2024-00001.pdf");
    assert!(pdf.starts_with(b"%PDF-"));
    let printed = pdf_text(&pdf);
    assert!(printed.contains("INV-2024-00001"), "{printed}");
    assert!(
        printed.contains("Sent"),
        "the customer's copy is not a draft: {printed}"
    );
    assert!(!printed.contains("Draft"), "{printed}");
    assert!(printed.contains("300.00"), "{printed}");

    let events = history(&app, &format!("/v1/invoices/{invoice}")).await;
    let types: Vec<_> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        ["invoice.created", "invoice.sent", "invoice.emailed"]
    );
    let detail = &events[2]["detail"];
    assert_eq!(detail["to"], json!(["ap@globex.test"]));
    assert_eq!(detail["cc"], json!(["owner@acme.test"]));
    assert_eq!(detail["outcome"], "sent");
    assert_eq!(detail["document"], "invoice");
    assert_eq!(detail["invoice_number"], "INV-2024-00001");
    assert_eq!(detail["subject"], "Invoice INV-2024-00001 from Acme Tools");
    let message_id = detail["message_id"].as_str().unwrap();
    assert_eq!(
        parsed.message_id().map(|id| format!("<{id}>")).as_deref(),
        Some(message_id)
    );
    assert_eq!(events[2]["data"]["status"], "sent");
    assert_eq!(events[2]["changes"], Value::Null);
    assert!(events
        .iter()
        .all(|e| e.get("detail").is_none() || e["type"] == "invoice.emailed"));

    // Sent again as a reminder: no second `invoice.sent`, a second message.
    let again = send(&app, invoice, json!({"email": {}}), None).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(sink.inbox().len(), 2);
    assert_eq!(sink.inbox()[1].rcpt_to, ["ap@globex.test"]);
    let types: Vec<_> = history(&app, &format!("/v1/invoices/{invoice}"))
        .await
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        types,
        [
            "invoice.created",
            "invoice.sent",
            "invoice.emailed",
            "invoice.emailed"
        ]
    );
    // The detail is part of what each event's hash covers, and the chain holds.
    let all = app.get("/v1/events?limit=500").await.body["items"]
        .as_array()
        .unwrap()
        .clone();
    crate::journal::assert_chain(&all);
}

#[tokio::test]
async fn a_refused_message_is_a_502_with_the_reason_and_nothing_is_marked_sent() {
    let sink = Sink::plain();
    let app = mailing_app(&sink).await;
    let globex = customer_with_email(&app, Some("ap@globex.test")).await;
    let invoice = draft(&app, globex).await;

    let reply = send(
        &app,
        invoice,
        json!({"email": {"to": ["nobody@refuse.test"]}}),
        None,
    )
    .await;
    reply.assert_error(502, "EMAIL_FAILED");
    let detail = reply.body["detail"].as_str().unwrap();
    assert!(
        detail.contains("550") && detail.contains("Mailbox unavailable"),
        "{detail}"
    );
    assert!(sink.inbox().is_empty());
    assert_eq!(
        app.get(&format!("/v1/invoices/{invoice}")).await.body["status"],
        "draft"
    );

    let events = history(&app, &format!("/v1/invoices/{invoice}")).await;
    let failed = events.last().unwrap();
    assert_eq!(failed["type"], "invoice.email_failed");
    assert_eq!(failed["data"]["status"], "draft");
    assert_eq!(failed["detail"]["outcome"], "failed");
    assert_eq!(failed["detail"]["to"], json!(["nobody@refuse.test"]));
    assert!(failed["detail"]["reason"].as_str().unwrap().contains("550"));

    // A server nobody listens on: the reason says so.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let gone = TestApp::mailing(arvalox::mail::MailSettings {
        url: format!("smtp://127.0.0.1:{port}"),
        from: "ar@acme.test".into(),
        ca_file: None,
    })
    .await;
    let globex = customer_with_email(&gone, Some("ap@globex.test")).await;
    let invoice = draft(&gone, globex).await;
    let reply = send(&gone, invoice, json!({"email": {}}), None).await;
    reply.assert_error(502, "EMAIL_FAILED");
    assert!(
        reply.body["detail"].as_str().unwrap().contains("onnection"),
        "{}",
        reply.body
    );
    assert_eq!(
        gone.get(&format!("/v1/invoices/{invoice}")).await.body["status"],
        "draft"
    );
}

#[tokio::test]
async fn without_smtp_an_email_is_a_409_and_a_plain_send_still_works() {
    let app = TestApp::new().await;
    let globex = customer_with_email(&app, Some("ap@globex.test")).await;
    let invoice = draft(&app, globex).await;
    let reply = send(&app, invoice, json!({"email": {}}), None).await;
    reply.assert_error(409, "EMAIL_NOT_CONFIGURED");
    assert!(reply.body["detail"]
        .as_str()
        .unwrap()
        .contains("--smtp-url"));
    assert_eq!(
        app.get(&format!("/v1/invoices/{invoice}")).await.body["status"],
        "draft"
    );
    let statement = app
        .post(
            &format!("/v1/customers/{globex}/statement/email"),
            json!({}),
        )
        .await;
    statement.assert_error(409, "EMAIL_NOT_CONFIGURED");

    // No body, an empty body and `{}` send as before: no e-mail, draft to sent.
    let bare = app
        .call(
            Method::POST,
            &format!("/v1/invoices/{invoice}/send"),
            Some(&app.key),
            &[],
            None,
        )
        .await;
    assert_eq!(bare.status, StatusCode::OK, "{}", bare.body);
    assert_eq!(bare.body["status"], "sent");
    let other = draft(&app, globex).await;
    let empty = send(&app, other, json!({}), None).await;
    assert_eq!(empty.body["status"], "sent", "{}", empty.body);
}

#[tokio::test]
async fn bad_requests_name_the_field_and_send_nothing() {
    let sink = Sink::plain();
    let app = mailing_app(&sink).await;
    let nobody = customer_with_email(&app, None).await;
    let invoice = draft(&app, nobody).await;

    let fields = send(&app, invoice, json!({"email": {}}), None).await;
    let errors = fields.assert_error(400, "VALIDATION_ERROR");
    assert!(errors["email.to"][0]
        .as_str()
        .unwrap()
        .contains("no e-mail address"));

    let reply = send(
        &app,
        invoice,
        json!({"email": {"to": ["jane", "ok@x.test"], "cc": ["a@b, c@d"]}}),
        None,
    )
    .await;
    let errors = reply.assert_error(400, "VALIDATION_ERROR");
    assert!(errors["email.to[0]"][0]
        .as_str()
        .unwrap()
        .contains("'jane' is not an e-mail address"));
    assert!(errors["email.cc[0]"].is_array(), "{errors}");
    assert!(errors.get("email.to[1]").is_none());

    let reply = send(&app, invoice, json!({"email": {"to": []}}), None).await;
    assert!(reply.assert_error(400, "VALIDATION_ERROR")["email.to"].is_array());
    let many: Vec<String> = (0..21).map(|n| format!("p{n}@x.test")).collect();
    let reply = send(&app, invoice, json!({"email": {"to": many}}), None).await;
    assert!(
        reply.body["detail"]
            .as_str()
            .unwrap()
            .contains("at most 20"),
        "{}",
        reply.body
    );
    let reply = send(&app, invoice, json!({"email": {"bcc": ["x@y.test"]}}), None).await;
    assert!(reply.assert_error(400, "VALIDATION_ERROR")["email.bcc"].is_array());
    let reply = send(&app, invoice, json!({"mail": {}}), None).await;
    assert!(reply.assert_error(400, "VALIDATION_ERROR")["mail"].is_array());
    // The spec says `email` is an object or left out: null is not "no e-mail".
    let reply = send(&app, invoice, json!({"email": null}), None).await;
    let errors = reply.assert_error(400, "VALIDATION_ERROR");
    assert!(errors["email"][0]
        .as_str()
        .unwrap()
        .contains("or leave it out"));
    let still = app.get(&format!("/v1/invoices/{invoice}")).await;
    assert_eq!(still.body["status"], "draft", "{}", still.body);

    let voided = app
        .post(&format!("/v1/invoices/{invoice}/void"), json!({}))
        .await;
    assert_eq!(voided.status, StatusCode::OK, "{}", voided.body);
    let reply = send(&app, invoice, json!({"email": {"to": ["ap@x.test"]}}), None).await;
    reply.assert_error(409, "CONFLICT");
    assert!(sink.inbox().is_empty());
}

#[tokio::test]
async fn a_retry_with_the_same_key_sends_once() {
    let sink = Sink::plain();
    let app = mailing_app(&sink).await;
    let globex = customer_with_email(&app, Some("ap@globex.test")).await;
    let invoice = draft(&app, globex).await;
    let body = json!({"email": {"message": "Hello"}});
    let first = send(&app, invoice, body.clone(), Some("send-1")).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let second = send(&app, invoice, body, Some("send-1")).await;
    assert_eq!(second.status, StatusCode::OK);
    assert_eq!(second.body, first.body);
    assert_eq!(sink.inbox().len(), 1);
    let other = send(
        &app,
        invoice,
        json!({"email": {"message": "Bye"}}),
        Some("send-1"),
    )
    .await;
    other.assert_error(409, "CONFLICT");
    assert_eq!(sink.inbox().len(), 1);
}

#[tokio::test]
async fn a_statement_goes_to_the_customer_and_is_on_its_history() {
    let sink = Sink::plain();
    let app = mailing_app(&sink).await;
    let globex = customer_with_email(&app, Some("ap@globex.test")).await;
    app.invoice(globex, "100.00", "2024-01-05", "2024-01-20")
        .await;
    let paid = app
        .pay(
            globex,
            app.invoice(globex, "50.00", "2024-02-01", "2024-02-15")
                .await,
            "20.00",
            "2024-02-10",
        )
        .await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.body);

    let reply = app
        .post(
            &format!("/v1/customers/{globex}/statement/email"),
            json!({"from": "2024-01-01", "to": "2024-02-29",
                   "email": {"to": ["Globex AP <ap@globex.test>"], "message": "Your statement."}}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["closing_balance"], "130.00");
    assert_eq!(reply.body["from"], "2024-01-01");
    assert_eq!(
        reply.body["email"]["to"],
        json!(["Globex AP <ap@globex.test>"])
    );
    assert_eq!(
        reply.body["email"]["subject"],
        "Statement 2024-01-01 to 2024-02-29 from Acme Tools"
    );

    let inbox = sink.inbox();
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].rcpt_to, ["ap@globex.test"]);
    let parsed = inbox[0].parsed();
    assert_eq!(
        parsed.subject(),
        Some("Statement 2024-01-01 to 2024-02-29 from Acme Tools")
    );
    let text = parsed.body_text(0).unwrap().replace("\r\n", "\n");
    assert!(text.starts_with("Your statement.\n\nYour statement for 2024-01-01 to 2024-02-29: balance at 2024-02-29, USD 130.00."), "{text}");
    let code = app.get(&format!("/v1/customers/{globex}")).await.body["customer_code"]
        .as_str()
        .unwrap()
        .to_string();
    let (name, pdf) = attachment(&inbox[0]);
    assert_eq!(name, format!("statement-{code}-2024-01-01-2024-02-29.pdf"));
    let printed = pdf_text(&pdf);
    assert!(
        printed.contains("STATEMENT") && printed.contains("130.00"),
        "{printed}"
    );

    let events = history(&app, &format!("/v1/customers/{globex}")).await;
    let emailed = events.last().unwrap();
    assert_eq!(emailed["type"], "customer.statement_emailed");
    assert_eq!(
        emailed["detail"]["period"],
        json!({"from": "2024-01-01", "to": "2024-02-29"})
    );
    assert_eq!(
        emailed["detail"]["message_id"],
        reply.body["email"]["message_id"]
    );
    assert_eq!(emailed["changes"], Value::Null);

    // Refused: a 502, recorded as failed.
    let refused = app
        .post(
            &format!("/v1/customers/{globex}/statement/email"),
            json!({"email": {"to": ["x@refuse.test"]}}),
        )
        .await;
    refused.assert_error(502, "EMAIL_FAILED");
    let events = history(&app, &format!("/v1/customers/{globex}")).await;
    assert_eq!(
        events.last().unwrap()["type"],
        "customer.statement_email_failed"
    );
    let bad = app
        .post(
            &format!("/v1/customers/{globex}/statement/email"),
            json!({"from": "2024-03-01", "to": "2024-02-01"}),
        )
        .await;
    assert!(bad.assert_error(400, "VALIDATION_ERROR")["from"].is_array());
    let null = app
        .post(
            &format!("/v1/customers/{globex}/statement/email"),
            json!({"email": null}),
        )
        .await;
    assert!(null.assert_error(400, "VALIDATION_ERROR")["email"].is_array());
    let read_key = app.new_key("default", arvalox::domain::keys::Scope::Read);
    let denied = app
        .call(
            Method::POST,
            &format!("/v1/customers/{globex}/statement/email"),
            Some(&read_key),
            &[],
            None,
        )
        .await;
    denied.assert_error(403, "INSUFFICIENT_PERMISSIONS");
    assert_eq!(sink.inbox().len(), 1);
}

#[tokio::test]
async fn starttls_and_a_password_reach_a_server_that_demands_both() {
    let sink = Sink::with_tls_and_auth();
    let app = TestApp::mailing(sink.settings("smtp://clerk:s3cret@localhost:{port}")).await;
    let globex = customer_with_email(&app, Some("ap@globex.test")).await;
    let invoice = draft(&app, globex).await;
    let reply = send(&app, invoice, json!({"email": {}}), None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(sink.inbox().len(), 1);
    assert_eq!(sink.inbox()[0].rcpt_to, ["ap@globex.test"]);

    // A wrong password: the server's 535, and the password in no answer or event.
    let wrong = TestApp::mailing(sink.settings("smtp://clerk:hunter2@localhost:{port}")).await;
    let globex = customer_with_email(&wrong, Some("ap@globex.test")).await;
    let invoice = draft(&wrong, globex).await;
    let reply = send(&wrong, invoice, json!({"email": {}}), None).await;
    reply.assert_error(502, "EMAIL_FAILED");
    assert!(
        reply.body["detail"].as_str().unwrap().contains("535"),
        "{}",
        reply.body
    );
    let events = wrong.get("/v1/events?limit=500").await;
    assert!(!events.body.to_string().contains("hunter2"));
    assert!(!reply.body.to_string().contains("hunter2"));

    // Without the test's certificate, TLS fails and says so.
    let mut untrusted = sink.settings("smtp://clerk:s3cret@localhost:{port}");
    untrusted.ca_file = None;
    let untrusted = TestApp::mailing(untrusted).await;
    let globex = customer_with_email(&untrusted, Some("ap@globex.test")).await;
    let invoice = draft(&untrusted, globex).await;
    let reply = send(&untrusted, invoice, json!({"email": {}}), None).await;
    reply.assert_error(502, "EMAIL_FAILED");
    let detail = reply.body["detail"].as_str().unwrap();
    assert!(
        detail.contains("Connection error: invalid peer certificate: UnknownIssuer"),
        "{detail}"
    );
    assert_eq!(sink.inbox().len(), 1);
}
