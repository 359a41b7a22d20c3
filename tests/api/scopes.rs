//! Every operation behind a key needs the scope `api::scopes` declares for it, and no
//! other: each is called with a read, a write and an admin key.

use arvalox::api::scopes::{scope_of, OPERATION_SCOPES};
use arvalox::domain::keys::Scope;
use poem::http::Method;
use serde_json::Value;

use crate::helpers::TestApp;

/// A book with a customer and an invoice, id 1 each, for the routes that take an id.
async fn book_with_an_invoice() -> TestApp {
    let app = TestApp::new().await;
    let customer = app.customer("Acme").await;
    app.invoice(customer, "10.00", "2024-01-05", "2024-02-04")
        .await;
    app
}

fn spec() -> Value {
    serde_json::from_str(&arvalox::api::spec_json()).unwrap()
}

#[tokio::test]
async fn every_operation_needs_exactly_its_declared_scope() {
    let app = book_with_an_invoice().await;
    let keys = [
        (Scope::Read, app.new_key("default", Scope::Read)),
        (Scope::Write, app.new_key("default", Scope::Write)),
        (Scope::Admin, app.new_key("default", Scope::Admin)),
    ];
    let spec = spec();
    let mut walked = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let id = operation["operationId"].as_str().unwrap();
            if id == "health" || id == "ready" {
                continue;
            }
            assert!(
                OPERATION_SCOPES.iter().any(|(known, _)| *known == id),
                "{id} has no declared scope in api::scopes"
            );
            walked.push(id.to_string());
            let needed = scope_of(id);
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let url = path
                .replace("{id}", "1")
                .replace("{write_off_id}", "1")
                .replace("{delivery_id}", "1");
            let body = (method == Method::POST || method == Method::PUT || method == Method::PATCH)
                .then_some("{}");
            for (scope, key) in &keys {
                let reply = app.call(method.clone(), &url, Some(key), &[], body).await;
                let refused = reply.status == 403;
                assert_eq!(
                    refused,
                    !scope.allows(needed),
                    "{id} with a {} key: {} {}",
                    scope.as_str(),
                    reply.status,
                    reply.body
                );
                if refused {
                    assert_eq!(reply.body["error_code"], "INSUFFICIENT_PERMISSIONS");
                }
            }
        }
    }
    assert_eq!(
        walked.len(),
        OPERATION_SCOPES.len(),
        "the table lists only real operations"
    );
}

/// A request to send: its path and query, its headers and its body.
type Ask<'a> = (String, &'a [(&'a str, &'a str)], Option<&'a str>);

/// A key that may not call an operation is told so first: what else is wrong with the
/// request (its body, its media type, its path id, its query, its headers) is for a key
/// that may.
#[tokio::test]
async fn a_key_without_the_scope_gets_403_whatever_else_is_wrong() {
    let app = book_with_an_invoice().await;
    let read = app.new_key("default", Scope::Read);
    let spec = spec();
    let (mut walked, mut with_body) = (0, 0);
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let id = operation["operationId"].as_str().unwrap();
            if id == "health" || id == "ready" || Scope::Read.allows(scope_of(id)) {
                continue;
            }
            walked += 1;
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let url = path.replace("{write_off_id}", "1");
            let takes_body = operation.get("requestBody").is_some();
            with_body += usize::from(takes_body);
            let bodies: &[&str] = if takes_body {
                &["{bad", "[1, 2]", "\"text\"", " ", "{\"a\": 1, \"a\": 2}"]
            } else {
                &[
                    "{\"reason\": \"a body this operation does not take\"}",
                    "{bad",
                ]
            };
            let mut asks: Vec<Ask> = Vec::new();
            for body in bodies {
                asks.push((url.replace("{id}", "1"), &[], Some(body)));
            }
            let some_body = takes_body.then_some("{}");
            asks.push((url.replace("{id}", "abc"), &[], some_body));
            asks.push((
                url.replace("{id}", "1") + "?bogus=1&limit=x",
                &[],
                some_body,
            ));
            let bad_headers: &[(&str, &str)] = &[("if-match", "nope"), ("idempotency-key", "")];
            asks.push((url.replace("{id}", "1"), bad_headers, some_body));
            for (url, headers, body) in asks {
                let reply = app
                    .call(method.clone(), &url, Some(&read), headers, body)
                    .await;
                assert_eq!(
                    reply.status, 403,
                    "{id} {url} {headers:?} {body:?}: {}",
                    reply.body
                );
                assert_eq!(reply.body["error_code"], "INSUFFICIENT_PERMISSIONS");
            }
            let response = app
                .client
                .request(method.clone(), url.replace("{id}", "1"))
                .header("x-arvalox-api-key", &read)
                .content_type("text/plain")
                .body("amount=10")
                .send()
                .await;
            response.assert_status(poem::http::StatusCode::FORBIDDEN);
        }
    }
    // Every operation a read key may not call, and the 21 of them that take a body:
    // customers, invoices (and the preview, and a send's optional e-mail), payments,
    // credit notes, their uses, write-offs, statement e-mails, settings, webhooks, keys.
    assert_eq!(
        (walked, with_body),
        (
            OPERATION_SCOPES
                .iter()
                .filter(|(_, s)| *s != Scope::Read)
                .count(),
            21
        )
    );
}
