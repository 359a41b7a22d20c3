//! The contract at its edges: unknown query parameters, malformed path ids, header limits.

use poem::http::Method;
use serde_json::Value;

use crate::helpers::TestApp;

/// Every operation in the spec, as (method, path with `{id}` filled in).
fn operations() -> Vec<(Method, String)> {
    let spec: Value = serde_json::from_str(&arvalox::api::spec_json()).unwrap();
    let mut all = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            all.push((method, path.replace("{id}", "1")));
        }
    }
    assert!(all.len() >= 20, "{all:?}");
    all
}

#[tokio::test]
async fn unknown_query_parameters_are_refused_by_name_on_every_operation() {
    let app = TestApp::new().await;
    for (method, path) in operations() {
        let url = format!("{path}?stauts=paid&limit=5&zz=1");
        let body = (method == Method::POST || method == Method::PUT).then_some("{}");
        let reply = app
            .call(method.clone(), &url, Some(&app.key), &[], body)
            .await;
        let fields = reply.assert_error(400, "VALIDATION_ERROR");
        let message = fields["stauts"][0].as_str().unwrap_or_default();
        assert!(
            message.contains("not a query parameter"),
            "{method} {url}: {}",
            reply.body
        );
        assert!(fields["zz"].is_array(), "{method} {url}: {}", reply.body);
        let is_list = method == Method::GET
            && ["/v1/customers", "/v1/invoices", "/v1/payments"].contains(&path.as_str());
        let limit_refused = fields.get("limit").is_some();
        assert_eq!(limit_refused, !is_list, "{method} {url}: {}", reply.body);
    }
}

#[tokio::test]
async fn a_misspelt_filter_no_longer_lists_everything_and_the_key_parameter_is_welcome() {
    let app = TestApp::new().await;
    let reply = app.get("/v1/invoices?stauts=paid").await;
    let fields = reply.assert_error(400, "VALIDATION_ERROR");
    let message = fields["stauts"][0].as_str().unwrap();
    assert!(
        message.contains("status"),
        "lists what the operation takes: {message}"
    );

    let path = format!("/v1/invoices?status=paid&x_arvalox_api_key={}", app.key);
    let by_query_key = app.call(Method::GET, &path, None, &[], None).await;
    assert_eq!(by_query_key.status, 200, "{}", by_query_key.body);
    let health = app
        .call(Method::GET, "/health?verbose=1", None, &[], None)
        .await;
    assert!(health.assert_error(400, "VALIDATION_ERROR")["verbose"].is_array());
}

#[tokio::test]
async fn a_malformed_path_id_is_named_as_the_id_whatever_made_it_malformed() {
    let app = TestApp::new().await;
    for path in [
        "/v1/customers/%FF",
        "/v1/customers/abc",
        "/v1/customers/1.5",
        "/v1/customers/99999999999999999999",
        "/v1/invoices/%C3%28",
        "/v1/invoices/%FF/send",
        "/v1/payments/-",
        "/v1/api-keys/%00",
    ] {
        let method = if path.ends_with("/send") {
            Method::POST
        } else {
            Method::GET
        };
        let reply = app.call(method, path, Some(&app.key), &[], None).await;
        let fields = reply.assert_error(400, "VALIDATION_ERROR");
        assert!(fields["id"].is_array(), "{path}: {}", reply.body);
        assert!(fields.get("body").is_none(), "{path}: {}", reply.body);
    }
}
