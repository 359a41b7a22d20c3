//! E-mail meeting other writes (issue 12, section 3): the mail goes out before the write
//! that marks the invoice sent, so what happens between the two must keep the books true.
//! The sink holds the message until the test has made its change.

use poem::http::{Method, StatusCode};
use serde_json::json;

use crate::email::{customer_with_email, draft, history, mailing_app, send};
use crate::helpers::{date, TestApp, TODAY};
use crate::smtp_sink::Sink;

/// Once the sink holds a message: deletes `path`, then lets the message through.
async fn delete_while_held(app: &TestApp, sink: &Sink, path: String) {
    sink.until_held().await;
    let gone = app
        .call(Method::DELETE, &path, Some(&app.key), &[], None)
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.body);
    sink.release();
}

#[tokio::test]
async fn a_draft_changed_while_it_is_mailed_is_not_marked_sent_and_the_send_is_recorded() {
    let sink = Sink::plain();
    let app = mailing_app(&sink).await;
    let globex = customer_with_email(&app, Some("ap@globex.test")).await;
    let invoice = draft(&app, globex).await;
    sink.hold_next();
    let change = async {
        sink.until_held().await;
        let items =
            json!({"items": [{"description": "Anvil", "quantity": 5, "unit_price": "150.00"}]});
        let changed = app
            .call(
                Method::PUT,
                &format!("/v1/invoices/{invoice}"),
                Some(&app.key),
                &[],
                Some(&items.to_string()),
            )
            .await;
        assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
        sink.release();
    };
    let (sent, ()) = tokio::join!(send(&app, invoice, json!({"email": {}}), None), change);
    sent.assert_error(409, "CONFLICT");
    let detail = sent.body["detail"].as_str().unwrap();
    assert!(
        detail.contains("changed while it was being e-mailed")
            && detail.contains("not marked sent"),
        "{detail}"
    );

    let now = app.get(&format!("/v1/invoices/{invoice}")).await.body;
    assert_eq!(
        (now["status"].as_str(), now["total"].as_str()),
        (Some("draft"), Some("750.00"))
    );
    let mailed = sink.inbox();
    assert_eq!(mailed.len(), 1);
    let text = mailed[0].parsed().body_text(0).unwrap().to_string();
    assert!(
        text.contains("USD 300.00"),
        "the customer has the version before the change: {text}"
    );
    let events = history(&app, &format!("/v1/invoices/{invoice}")).await;
    let types: Vec<_> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        ["invoice.created", "invoice.updated", "invoice.emailed"]
    );
    assert_eq!(events[2]["detail"]["outcome"], "sent");
}

#[tokio::test]
async fn a_draft_deleted_while_it_is_mailed_leaves_no_event_on_a_deleted_invoice() {
    let sink = Sink::plain();
    let app = mailing_app(&sink).await;
    let globex = customer_with_email(&app, Some("ap@globex.test")).await;
    let invoice = draft(&app, globex).await;
    sink.hold_next();
    let delete = delete_while_held(&app, &sink, format!("/v1/invoices/{invoice}"));
    let (sent, ()) = tokio::join!(send(&app, invoice, json!({"email": {}}), None), delete);
    sent.assert_error(409, "CONFLICT");
    assert!(sent.body["detail"]
        .as_str()
        .unwrap()
        .contains("was deleted while it was being e-mailed"));
    let events = history(&app, &format!("/v1/invoices/{invoice}")).await;
    assert_eq!(events.last().unwrap()["type"], "invoice.deleted");
    let verified = arvalox::api::journal::local::verify(&app.state.db, &[], date(TODAY)).unwrap();
    assert_eq!(verified.faults, Vec::<String>::new());
}

#[tokio::test]
async fn a_customer_deleted_while_its_statement_is_mailed_keeps_the_journal_true() {
    let sink = Sink::plain();
    let app = mailing_app(&sink).await;
    let globex = customer_with_email(&app, Some("ap@globex.test")).await;
    sink.hold_next();
    let delete = delete_while_held(&app, &sink, format!("/v1/customers/{globex}"));
    let path = format!("/v1/customers/{globex}/statement/email");
    let (mailed, ()) = tokio::join!(app.post(&path, json!({})), delete);
    mailed.assert_error(409, "CONFLICT");
    assert_eq!(sink.inbox().len(), 1);
    let events = history(&app, &format!("/v1/customers/{globex}")).await;
    assert_eq!(events.last().unwrap()["type"], "customer.deleted");
    let verified = arvalox::api::journal::local::verify(&app.state.db, &[], date(TODAY)).unwrap();
    assert_eq!(verified.faults, Vec::<String>::new());
}

#[tokio::test]
async fn a_stored_address_no_message_can_go_to_is_a_400_before_anything_is_tried() {
    let sink = Sink::plain();
    let app = mailing_app(&sink).await;
    let odd = app
        .post(
            "/v1/customers",
            json!({"name": "Odd", "email": "a,b@globex.test"}),
        )
        .await;
    if odd.status != StatusCode::CREATED {
        return; // The customer rules refuse it already: nothing to send to.
    }
    let customer = odd.body["id"].as_i64().unwrap();
    let invoice = draft(&app, customer).await;
    let reply = send(&app, invoice, json!({"email": {}}), None).await;
    let errors = reply.assert_error(400, "VALIDATION_ERROR");
    assert!(
        errors["email.to"][0]
            .as_str()
            .unwrap()
            .contains("'a,b@globex.test' is not an address"),
        "{errors}"
    );
    let types: Vec<_> = history(&app, &format!("/v1/invoices/{invoice}"))
        .await
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(types, ["invoice.created"]);
    assert!(sink.inbox().is_empty());
}

#[tokio::test]
async fn a_statement_retried_with_or_without_an_empty_body_is_one_request() {
    let sink = Sink::plain();
    let app = mailing_app(&sink).await;
    let globex = customer_with_email(&app, Some("ap@globex.test")).await;
    let path = format!("/v1/customers/{globex}/statement/email");
    let key = [("Idempotency-Key", "statement-1")];
    let first = app
        .call(Method::POST, &path, Some(&app.key), &key, None)
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let again = app
        .call(Method::POST, &path, Some(&app.key), &key, Some("{}"))
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(again.body, first.body);
    assert_eq!(sink.inbox().len(), 1);
}
