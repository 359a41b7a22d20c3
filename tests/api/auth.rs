use arvalox::domain::keys::Scope;
use arvalox::ratelimit::Limits;
use poem::http::Method;
use serde_json::json;

use crate::helpers::{TestApp, TODAY};

#[tokio::test]
async fn ping_accepts_the_key_in_each_documented_place() {
    let app = TestApp::new().await;
    let by_header = app.get("/v1/ping").await;
    assert_eq!(by_header.status, 200);
    assert_eq!(by_header.body["organization"], "default");
    assert_eq!(by_header.body["scope"], "admin");
    assert_eq!(by_header.body["key_prefix"], &app.key[..12]);

    let path = format!("/v1/ping?x_arvalox_api_key={}", app.key);
    let by_query = app.call(Method::GET, &path, None, &[], None).await;
    assert_eq!(by_query.status, 200);

    let by_alt = app
        .call(
            Method::GET,
            "/v1/ping",
            None,
            &[("X-API-Key", &app.key)],
            None,
        )
        .await;
    assert_eq!(by_alt.status, 200);
    assert_eq!(by_alt.body["organization"], "default");
}

#[tokio::test]
async fn missing_unknown_and_revoked_keys_are_refused() {
    let app = TestApp::new().await;
    app.call(Method::GET, "/v1/ping", None, &[], None)
        .await
        .assert_error(401, "AUTHENTICATION_REQUIRED");
    app.call(Method::GET, "/v1/customers", Some("arv_nope"), &[], None)
        .await
        .assert_error(401, "INVALID_API_KEY");

    let created = app
        .post("/v1/api-keys", json!({"name": "temp", "scope": "read"}))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let secret = created.body["key"].as_str().unwrap().to_string();
    assert!(secret.starts_with("arv_"));
    let id = created.body["id"].as_i64().unwrap();
    let ok = app
        .call(Method::GET, "/v1/ping", Some(&secret), &[], None)
        .await;
    assert_eq!(ok.body["scope"], "read");

    let listed = app.get("/v1/api-keys").await;
    assert_eq!(listed.body["total"], 2);
    assert!(
        !listed.body.to_string().contains(&secret),
        "a listing never holds a secret"
    );

    assert_eq!(app.delete(&format!("/v1/api-keys/{id}")).await.status, 204);
    app.call(Method::GET, "/v1/ping", Some(&secret), &[], None)
        .await
        .assert_error(401, "INVALID_API_KEY");
}

#[tokio::test]
async fn scopes_limit_what_a_key_may_do() {
    let app = TestApp::new().await;
    let read = app.new_key("default", Scope::Read);
    let write = app.new_key("default", Scope::Write);
    let body = json!({"name": "Acme"}).to_string();

    assert_eq!(
        app.call(Method::GET, "/v1/customers", Some(&read), &[], None)
            .await
            .status,
        200
    );
    app.call(Method::POST, "/v1/customers", Some(&read), &[], Some(&body))
        .await
        .assert_error(403, "INSUFFICIENT_PERMISSIONS");
    let created = app
        .call(
            Method::POST,
            "/v1/customers",
            Some(&write),
            &[],
            Some(&body),
        )
        .await;
    assert_eq!(created.status, 201);
    app.call(Method::GET, "/v1/api-keys", Some(&write), &[], None)
        .await
        .assert_error(403, "INSUFFICIENT_PERMISSIONS");
}

#[tokio::test]
async fn organizations_never_see_each_others_rows() {
    let app = TestApp::new().await;
    let customer = app.customer("Acme").await;
    let invoice = app
        .invoice(customer, "100.00", "2024-02-01", "2024-03-01")
        .await;
    let other = app.new_key("other-org", Scope::Admin);
    let get = |path: String| {
        let other = other.clone();
        let app = &app;
        async move { app.call(Method::GET, &path, Some(&other), &[], None).await }
    };

    get(format!("/v1/customers/{customer}"))
        .await
        .assert_error(404, "NOT_FOUND");
    get(format!("/v1/invoices/{invoice}"))
        .await
        .assert_error(404, "NOT_FOUND");
    assert_eq!(get("/v1/customers".into()).await.body["total"], 0);
    assert_eq!(get("/v1/invoices".into()).await.body["total"], 0);
    assert_eq!(
        get("/v1/reports/aging".into()).await.body["totals"]["total"],
        "0.00"
    );

    let pay = json!({"customer_id": customer, "invoice_id": invoice, "amount": "1.00", "payment_method": "cash"});
    let reply = app
        .call(
            Method::POST,
            "/v1/payments",
            Some(&other),
            &[],
            Some(&pay.to_string()),
        )
        .await;
    let fields = reply.assert_error(400, "VALIDATION_ERROR");
    assert!(fields["customer_id"].is_array());
    // The other organization numbers its own customers from 1 as well.
    let created = app
        .call(
            Method::POST,
            "/v1/customers",
            Some(&other),
            &[],
            Some(&json!({"name": "B"}).to_string()),
        )
        .await;
    assert_eq!(created.body["customer_code"], "CUST-00001");
}

#[tokio::test]
async fn rate_limit_headers_count_down_then_429() {
    let app = TestApp::with(
        Limits {
            per_minute: 3,
            per_hour: 100,
            per_day: 1000,
            ..Limits::default()
        },
        TODAY,
    )
    .await;
    let first = app.get("/v1/ping").await;
    assert_eq!(first.header("x-ratelimit-limit"), Some("3"));
    assert_eq!(first.header("x-ratelimit-remaining"), Some("2"));
    let reset: u64 = first.header("x-ratelimit-reset").unwrap().parse().unwrap();
    // The fixed clock stands at 2024-03-01 12:00:00 UTC; the minute window ends a minute later.
    assert_eq!(reset, 1_709_294_460);
    // Errors carry the headers too.
    let missing = app.get("/v1/customers/999").await;
    missing.assert_error(404, "NOT_FOUND");
    assert_eq!(missing.header("x-ratelimit-remaining"), Some("1"));
    assert_eq!(
        app.get("/v1/ping").await.header("x-ratelimit-remaining"),
        Some("0")
    );
    let refused = app.get("/v1/ping").await;
    refused.assert_error(429, "RATE_LIMIT_EXCEEDED");
    assert_eq!(refused.header("retry-after"), Some("60"));
    assert_eq!(refused.header("x-ratelimit-remaining"), Some("0"));
    // Another key has its own budget; /health has none.
    let other = app.new_key("default", Scope::Read);
    assert_eq!(
        app.call(Method::GET, "/v1/ping", Some(&other), &[], None)
            .await
            .status,
        200
    );
    let health = app.call(Method::GET, "/health", None, &[], None).await;
    assert_eq!(health.status, 200);
    assert_eq!(health.body["status"], "ok");
    assert_eq!(health.header("x-ratelimit-limit"), None);
}

#[tokio::test]
async fn guessing_keys_is_throttled_per_address() {
    let app = TestApp::new().await;
    assert_eq!(app.get("/v1/ping").await.status, 200);
    for _ in 0..arvalox::ratelimit::AUTH_FAILURES_PER_MINUTE {
        app.call(Method::GET, "/v1/ping", Some("arv_guess"), &[], None)
            .await
            .assert_error(401, "INVALID_API_KEY");
    }
    let throttled = app
        .call(Method::GET, "/v1/ping", Some("arv_guess"), &[], None)
        .await;
    throttled.assert_error(429, "RATE_LIMIT_EXCEEDED");
    assert!(throttled.header("retry-after").is_some());
}

/// Revoking one key must not strip the others of their standing: a valid key keeps
/// working from an address that a guesser has throttled.
#[tokio::test]
async fn revoking_a_key_leaves_other_keys_usable_from_a_throttled_address() {
    let app = TestApp::new().await;
    let other = app.new_key("default", Scope::Read);
    let both_keys_work = || async {
        assert_eq!(app.get("/v1/ping").await.status, 200);
        let reply = app
            .call(Method::GET, "/v1/ping", Some(&other), &[], None)
            .await;
        assert_eq!(reply.status, 200);
    };
    both_keys_work().await;
    for _ in 0..=arvalox::ratelimit::AUTH_FAILURES_PER_MINUTE {
        app.call(Method::GET, "/v1/ping", Some("arv_guess"), &[], None)
            .await;
    }
    let doomed = app.post("/v1/api-keys", json!({ "name": "doomed" })).await;
    assert_eq!(doomed.status, 201, "{}", doomed.body);
    let doomed_id = doomed.body["id"].as_i64().unwrap();
    let revoked = app.delete(&format!("/v1/api-keys/{doomed_id}")).await;
    assert_eq!(revoked.status, 204, "{}", revoked.body);

    both_keys_work().await;
    // The revoked key itself is refused at once, throttled address or not.
    let doomed_key = doomed.body["key"].as_str().unwrap();
    let refused = app
        .call(Method::GET, "/v1/ping", Some(doomed_key), &[], None)
        .await;
    assert!(
        refused.status == 401 || refused.status == 429,
        "{}",
        refused.status
    );
}

/// Different keys in different places are refused, naming the places; the same key in
/// several places is still served.
#[tokio::test]
async fn different_keys_in_one_request_are_refused_naming_where_they_were() {
    let app = TestApp::new().await;
    let write = app.new_key("default", Scope::Write);
    let admin = app.key.clone();
    let with_query = format!("/v1/api-keys?x_arvalox_api_key={admin}");
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a [&'a str]);
    let cases: [Case; 4] = [
        (
            "/v1/api-keys",
            vec![("x-arvalox-api-key", &write), ("X-API-Key", &admin)],
            &["x-arvalox-api-key header", "X-API-Key header"],
        ),
        (
            &with_query,
            vec![("x-arvalox-api-key", &write)],
            &[
                "x-arvalox-api-key header",
                "query parameter x_arvalox_api_key",
            ],
        ),
        (
            &with_query,
            vec![("X-API-Key", &write)],
            &["X-API-Key header", "query parameter x_arvalox_api_key"],
        ),
        (
            "/v1/api-keys",
            vec![("x-arvalox-api-key", &write), ("x-arvalox-api-key", &admin)],
            &["x-arvalox-api-key header"],
        ),
    ];
    for (path, headers, places) in cases {
        let reply = app.call(Method::GET, path, None, &headers, None).await;
        reply.assert_error(401, "INVALID_API_KEY");
        let detail = reply.body["detail"].as_str().unwrap();
        for place in places {
            assert!(detail.contains(place), "{detail} should name {place}");
        }
        assert!(
            !detail.contains(&write) && !detail.contains(&admin),
            "no secret in {detail}"
        );
    }

    let same = app
        .call(
            Method::GET,
            &format!("/v1/ping?x_arvalox_api_key={admin}"),
            None,
            &[("x-arvalox-api-key", &admin), ("X-API-Key", &admin)],
            None,
        )
        .await;
    assert_eq!(same.status, 200, "{}", same.body);
    assert_eq!(same.body["scope"], "admin");
}
