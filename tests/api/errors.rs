use poem::http::Method;

use crate::helpers::TestApp;

#[tokio::test]
async fn malformed_bodies_and_media_types() {
    let app = TestApp::new().await;
    let key = Some(app.key.as_str());
    let malformed = app
        .call(Method::POST, "/v1/customers", key, &[], Some("{bad"))
        .await;
    assert!(malformed.assert_error(400, "VALIDATION_ERROR")["body"].is_array());
    let not_object = app
        .call(Method::POST, "/v1/customers", key, &[], Some("[1]"))
        .await;
    not_object.assert_error(400, "VALIDATION_ERROR");
    let empty = app
        .call(Method::POST, "/v1/customers", key, &[], Some(""))
        .await;
    empty.assert_error(400, "VALIDATION_ERROR");
    let wrong_type = app
        .call(
            Method::POST,
            "/v1/customers",
            key,
            &[("content-type", "text/plain")],
            None,
        )
        .await;
    wrong_type.assert_error(415, "UNSUPPORTED_MEDIA_TYPE");
    let wrong_field_type = app
        .call(
            Method::POST,
            "/v1/customers",
            key,
            &[],
            Some(r#"{"name": "A", "is_active": "yes", "payment_terms_days": 1.5}"#),
        )
        .await;
    let fields = wrong_field_type.assert_error(400, "VALIDATION_ERROR");
    assert!(fields["is_active"].is_array());
    assert!(fields["payment_terms_days"].is_array());
}

#[tokio::test]
async fn oversized_bodies_are_413_even_when_chunked() {
    let app = TestApp::new().await;
    let big = format!(r#"{{"name": "{}"}}"#, "x".repeat(1024 * 1024 + 10));
    let declared = app.post_raw("/v1/customers", &[], &big).await;
    declared.assert_error(413, "PAYLOAD_TOO_LARGE");
    // A streamed body carries no Content-Length: the bytes read are counted.
    let chunks: Vec<Result<bytes::Bytes, std::io::Error>> = (0..20)
        .map(|_| Ok(bytes::Bytes::from(vec![b' '; 64 * 1024])))
        .collect();
    let response = app
        .client
        .post("/v1/customers")
        .header("x-arvalox-api-key", &app.key)
        .header("content-type", "application/json")
        .body(poem::Body::from_bytes_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await;
    assert_eq!(response.0.status(), 413);
    let text = response.0.into_body().into_string().await.unwrap();
    assert!(text.contains("PAYLOAD_TOO_LARGE"));
}

#[tokio::test]
async fn unknown_routes_methods_and_ids() {
    let app = TestApp::new().await;
    let key = Some(app.key.as_str());
    app.call(Method::GET, "/v1/nothing-here", key, &[], None)
        .await
        .assert_error(404, "NOT_FOUND");
    app.call(Method::GET, "/nothing", None, &[], None)
        .await
        .assert_error(404, "NOT_FOUND");
    let not_allowed = app
        .call(Method::PATCH, "/v1/customers/1", key, &[], None)
        .await;
    not_allowed.assert_error(405, "METHOD_NOT_ALLOWED");
    assert_eq!(not_allowed.header("allow"), Some("GET, PUT, DELETE"));
    let health = app.call(Method::POST, "/health", None, &[], None).await;
    health.assert_error(405, "METHOD_NOT_ALLOWED");
    assert_eq!(health.header("allow"), Some("GET"));
    let bad_id = app
        .call(Method::GET, "/v1/invoices/abc", key, &[], None)
        .await;
    assert!(bad_id.assert_error(400, "VALIDATION_ERROR")["id"].is_array());
    let huge_id = app
        .call(
            Method::GET,
            "/v1/customers/99999999999999999999",
            key,
            &[],
            None,
        )
        .await;
    assert!(huge_id.assert_error(400, "VALIDATION_ERROR")["id"].is_array());
}

#[tokio::test]
async fn spec_and_docs_are_served() {
    let app = TestApp::new().await;
    let spec = app
        .call(Method::GET, "/openapi.json", None, &[], None)
        .await;
    assert_eq!(spec.status, 200);
    assert_eq!(spec.body["info"]["title"], "Arvalox API");
    assert!(spec.body["paths"]["/v1/customers"].is_object());
    let yaml = app
        .call(Method::GET, "/openapi.yaml", None, &[], None)
        .await;
    assert_eq!(yaml.status, 200);
    let docs = app.call(Method::GET, "/docs", None, &[], None).await;
    assert_eq!(docs.status, 200);
    assert!(docs.body.as_str().unwrap_or_default().contains("swagger"));
}

#[poem::handler]
async fn panics_in_a_write(
    state: poem::web::Data<&std::sync::Arc<arvalox::api::AppState>>,
) -> poem::Result<String> {
    state
        .db
        .write(
            arvalox::db::WriteScope::Book,
            |tx| -> Result<(), arvalox::error::AppError> {
                arvalox::db::keys::ensure_organization(tx, "half-written", "2024-01-01T00:00:00Z")?;
                panic!("bug in a write")
            },
        )
        .await?;
    Ok("unreachable".to_string())
}

#[poem::handler]
async fn panics_in_the_handler() -> String {
    panic!("bug in a handler")
}

#[poem::handler]
async fn writes(state: poem::web::Data<&std::sync::Arc<arvalox::api::AppState>>) -> String {
    state
        .db
        .write(arvalox::db::WriteScope::Book, |tx| {
            arvalox::db::keys::ensure_organization(tx, "after-panic", "2024-01-01T00:00:00Z")
        })
        .await
        .map(|id| id.to_string())
        .unwrap_or_else(|err| err.to_string())
}

#[tokio::test]
async fn a_panic_answers_that_request_alone_with_a_json_500() {
    let app = TestApp::new().await;
    let routes = poem::Route::new()
        .at("/boom", poem::get(panics_in_the_handler))
        .at("/boom-write", poem::get(panics_in_a_write))
        .at("/write", poem::get(writes));
    let client =
        poem::test::TestClient::new(arvalox::api::with_middleware(routes, app.state.clone()));
    for path in ["/boom", "/boom-write", "/boom", "/boom-write"] {
        let response = client.get(path).send().await;
        assert_eq!(response.0.status(), 500);
        let body: serde_json::Value =
            serde_json::from_str(&response.0.into_body().into_string().await.unwrap()).unwrap();
        assert_eq!(body["error_code"], "INTERNAL_ERROR");
        assert!(
            !body["detail"].as_str().unwrap().contains("bug in a write"),
            "no internals leak"
        );
        assert_eq!(body["field_errors"], serde_json::json!({}));
    }
    // Writers are not poisoned: a later write succeeds, and so does the real API.
    let response = client.get("/write").send().await;
    assert_eq!(response.0.status(), 200);
    let id: i64 = response
        .0
        .into_body()
        .into_string()
        .await
        .unwrap()
        .parse()
        .unwrap();
    assert!(id > 0);
    // The panicking write was rolled back whole.
    let half_written: i64 = app
        .state
        .db
        .read_blocking(|conn| {
            Ok(conn.query_row(
                "SELECT COUNT(*) FROM organizations WHERE slug = 'half-written'",
                (),
                |row| row.get(0),
            )?)
        })
        .unwrap();
    assert_eq!(half_written, 0);
    assert_eq!(
        app.post("/v1/customers", serde_json::json!({"name": "After"}))
            .await
            .status,
        201
    );
}

#[tokio::test]
async fn wrong_json_types_and_duplicate_keys_are_refused() {
    let app = TestApp::new().await;
    let key = Some(app.key.as_str());
    // Numbers and booleans are not text: no silent "false" notes.
    let reply = app
        .call(
            Method::POST,
            "/v1/customers",
            key,
            &[],
            Some(r#"{"name": 123, "phone": 5551234, "notes": false}"#),
        )
        .await;
    let fields = reply.assert_error(400, "VALIDATION_ERROR");
    for field in ["name", "phone", "notes"] {
        assert!(
            fields[field].is_array(),
            "{field} not named in {}",
            reply.body
        );
    }
    // A repeated key must not quietly mean its last value.
    let customer = app.customer("Acme").await;
    let invoice = app
        .invoice(customer, "1000.00", "2024-02-01", "2024-02-20")
        .await;
    let body = format!(
        r#"{{"customer_id": {customer}, "invoice_id": {invoice}, "amount": 1, "payment_method": "cash", "amount": 900}}"#
    );
    let duplicate = app
        .call(Method::POST, "/v1/payments", key, &[], Some(&body))
        .await;
    assert!(duplicate.assert_error(400, "VALIDATION_ERROR")["amount"].is_array());
    assert_eq!(app.get("/v1/payments").await.body["total"], 0);
}

#[tokio::test]
async fn review_findings_stay_fixed() {
    let app = TestApp::new().await;
    // A search longer than SQLite's LIKE limit was a 500.
    let long = format!("/v1/customers?search={}", "a".repeat(50_010));
    assert!(app.get(&long).await.assert_error(400, "VALIDATION_ERROR")["search"].is_array());
    // The spec and docs answer GET only.
    let post_spec = app
        .call(Method::POST, "/openapi.json", None, &[], None)
        .await;
    post_spec.assert_error(405, "METHOD_NOT_ALLOWED");
    assert_eq!(post_spec.header("allow"), Some("GET"));
    // An unknown customer in a report filter is named, not an empty report.
    app.get("/v1/reports/aging?customer_id=999")
        .await
        .assert_error(404, "NOT_FOUND");
    // A created key's Location resolves.
    let created = app
        .post("/v1/api-keys", serde_json::json!({"name": "loc"}))
        .await;
    let location = created.header("location").unwrap().to_string();
    let fetched = app.get(&location).await;
    assert_eq!(fetched.body["name"], "loc");
    assert_eq!(fetched.body["scope"], "write");
    assert!(fetched.body.get("key").is_none());
}

#[tokio::test]
async fn oversized_bodies_count_against_the_rate_limit() {
    let app = TestApp::with(
        arvalox::ratelimit::Limits {
            per_minute: 2,
            per_hour: 0,
            per_day: 0,
            ..arvalox::ratelimit::Limits::default()
        },
        crate::helpers::TODAY,
    )
    .await;
    let big = format!(r#"{{"name": "{}"}}"#, "x".repeat(1024 * 1024 + 10));
    let first = app.post_raw("/v1/customers", &[], &big).await;
    first.assert_error(413, "PAYLOAD_TOO_LARGE");
    assert_eq!(first.header("x-ratelimit-remaining"), Some("1"));
    app.post_raw("/v1/customers", &[], &big).await;
    app.post_raw("/v1/customers", &[], &big)
        .await
        .assert_error(429, "RATE_LIMIT_EXCEEDED");
}

#[tokio::test]
async fn every_bad_query_parameter_is_named() {
    let app = TestApp::new().await;
    let reply = app
        .get("/v1/invoices?status=bogus&issue_date_from=2024-02-30&customer_id=x&limit=0")
        .await;
    let fields = reply.assert_error(400, "VALIDATION_ERROR");
    for field in ["status", "issue_date_from", "customer_id", "limit"] {
        assert!(
            fields[field].is_array(),
            "{field} not named in {}",
            reply.body
        );
    }
    assert!(fields["status"].to_string().contains("overdue"));
    let reply = app.get("/v1/customers?is_active=maybe&limit=abc").await;
    let fields = reply.assert_error(400, "VALIDATION_ERROR");
    assert!(
        fields["is_active"].is_array() && fields["limit"].is_array(),
        "{}",
        reply.body
    );
    let reply = app
        .get("/v1/payments?payment_method=wire&date_to=soon")
        .await;
    let fields = reply.assert_error(400, "VALIDATION_ERROR");
    assert!(fields["payment_method"]
        .to_string()
        .contains("bank_transfer"));
    assert!(fields["date_to"].is_array());
}
