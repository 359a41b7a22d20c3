//! Every operation behind a key needs the scope `api::scopes` declares for it, and no
//! other: each is called with a read, a write and an admin key.

use arvalox::api::scopes::{scope_of, OPERATION_SCOPES};
use arvalox::domain::keys::Scope;
use poem::http::Method;
use serde_json::Value;

use crate::helpers::TestApp;

#[tokio::test]
async fn every_operation_needs_exactly_its_declared_scope() {
    let app = TestApp::new().await;
    let customer = app.customer("Acme").await;
    app.invoice(customer, "10.00", "2024-01-05", "2024-02-04")
        .await;
    let keys = [
        (Scope::Read, app.new_key("default", Scope::Read)),
        (Scope::Write, app.new_key("default", Scope::Write)),
        (Scope::Admin, app.new_key("default", Scope::Admin)),
    ];
    let spec: Value = serde_json::from_str(&arvalox::api::spec_json()).unwrap();
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
