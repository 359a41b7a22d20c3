use poem::http::{Method, StatusCode};
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn create_the_documented_customer_with_and_without_trailing_slash() {
    let app = TestApp::new().await;
    let reply = app
        .post(
            "/v1/customers/",
            json!({
                "customer_code": "CUST001",
                "name": "Acme Corporation",
                "email": "contact@acme.com",
                "phone": "+1-555-123-4567",
                "billing_address": "123 Main St, City, State 12345"
            }),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let id = reply.body["id"].as_i64().unwrap();
    assert_eq!(
        reply.header("location"),
        Some(format!("/v1/customers/{id}").as_str())
    );
    assert_eq!(reply.body["customer_code"], "CUST001");
    assert_eq!(reply.body["payment_terms_days"], 30);
    assert_eq!(reply.body["is_active"], true);
    assert_eq!(reply.body["outstanding_balance"], "0.00");
    assert_eq!(reply.body["credit_limit"], serde_json::Value::Null);

    let listed = app.get("/v1/customers/").await;
    assert_eq!(listed.body["total"], 1);
    assert_eq!(listed.body["items"][0]["name"], "Acme Corporation");
    assert_eq!(app.get("/v1/customers").await.body["total"], 1);
}

#[tokio::test]
async fn codes_are_generated_and_unique() {
    let app = TestApp::new().await;
    let first = app.post("/v1/customers", json!({"name": "A"})).await;
    assert_eq!(first.body["customer_code"], "CUST-00001");
    // A hand-chosen code that collides with the next generated one is skipped over.
    app.post(
        "/v1/customers",
        json!({"name": "B", "customer_code": "CUST-00002"}),
    )
    .await;
    let third = app.post("/v1/customers", json!({"name": "C"})).await;
    assert_eq!(third.body["customer_code"], "CUST-00003");

    let duplicate = app
        .post(
            "/v1/customers",
            json!({"name": "D", "customer_code": "CUST-00001"}),
        )
        .await;
    let fields = duplicate.assert_error(409, "CONFLICT");
    assert!(fields["customer_code"].is_array());
}

#[tokio::test]
async fn every_bad_field_is_named() {
    let app = TestApp::new().await;
    let reply = app
        .post(
            "/v1/customers",
            json!({"email": "not-an-email", "payment_terms_days": -1, "credit_limit": "1.005", "nme": "typo"}),
        )
        .await;
    let fields = reply.assert_error(400, "VALIDATION_ERROR");
    for field in ["name", "email", "payment_terms_days", "credit_limit", "nme"] {
        assert!(
            fields[field].is_array(),
            "{field} not named in {}",
            reply.body
        );
    }
    let control = app
        .post("/v1/customers", json!({"name": "Bad\u{0007}Name"}))
        .await;
    assert!(control.assert_error(400, "VALIDATION_ERROR")["name"].is_array());
    let long = app
        .post("/v1/customers", json!({"name": "x".repeat(256)}))
        .await;
    assert!(long.assert_error(400, "VALIDATION_ERROR")["name"].is_array());
}

#[tokio::test]
async fn put_is_a_partial_update() {
    let app = TestApp::new().await;
    let id = app
        .post(
            "/v1/customers",
            json!({"name": "Acme", "phone": "+1-555", "email": "a@acme.com"}),
        )
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let updated = app
        .put(
            &format!("/v1/customers/{id}"),
            json!({"name": "Updated Company Name", "email": "newemail@company.com"}),
        )
        .await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(updated.body["name"], "Updated Company Name");
    assert_eq!(updated.body["email"], "newemail@company.com");
    assert_eq!(updated.body["phone"], "+1-555");

    let cleared = app
        .put(
            &format!("/v1/customers/{id}"),
            json!({"phone": null, "is_active": false}),
        )
        .await;
    assert_eq!(cleared.body["phone"], serde_json::Value::Null);
    assert_eq!(cleared.body["is_active"], false);
    assert_eq!(cleared.body["name"], "Updated Company Name");

    let refused = app
        .put(&format!("/v1/customers/{id}"), json!({"name": null}))
        .await;
    assert!(refused.assert_error(400, "VALIDATION_ERROR")["name"].is_array());
    app.put("/v1/customers/999", json!({"name": "x"}))
        .await
        .assert_error(404, "NOT_FOUND");
}

#[tokio::test]
async fn delete_only_without_invoices() {
    let app = TestApp::new().await;
    let lonely = app.customer("Lonely").await;
    assert_eq!(
        app.delete(&format!("/v1/customers/{lonely}")).await.status,
        204
    );
    app.get(&format!("/v1/customers/{lonely}"))
        .await
        .assert_error(404, "NOT_FOUND");

    let busy = app.customer("Busy").await;
    app.invoice(busy, "10.00", "2024-02-01", "2024-02-10").await;
    app.delete(&format!("/v1/customers/{busy}"))
        .await
        .assert_error(409, "CONFLICT");
}

#[tokio::test]
async fn list_filters_and_pages() {
    let app = TestApp::new().await;
    for (name, email) in [
        ("Acme", "a@acme.com"),
        ("Globex", "g@globex.com"),
        ("Initech", "i@acme.org"),
    ] {
        app.post("/v1/customers", json!({"name": name, "email": email}))
            .await;
    }
    let acme = app.get("/v1/customers?search=acme").await;
    assert_eq!(acme.body["total"], 2);
    let page = app.get("/v1/customers?limit=2&offset=2").await;
    assert_eq!(page.body["total"], 3);
    assert_eq!(page.body["limit"], 2);
    assert_eq!(page.body["offset"], 2);
    assert_eq!(page.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(page.body["items"][0]["name"], "Initech");
    app.put("/v1/customers/2", json!({"is_active": false}))
        .await;
    assert_eq!(
        app.get("/v1/customers?is_active=false").await.body["items"][0]["name"],
        "Globex"
    );
    // Wildcards in the search text are literal.
    assert_eq!(app.get("/v1/customers?search=%25").await.body["total"], 0);
    let bad = app.get("/v1/customers?limit=501").await;
    assert!(bad.assert_error(400, "VALIDATION_ERROR")["limit"].is_array());
    let bad = app
        .call(
            Method::GET,
            "/v1/customers?is_active=maybe",
            Some(&app.key),
            &[],
            None,
        )
        .await;
    assert!(bad.assert_error(400, "VALIDATION_ERROR")["is_active"].is_array());
}

/// The credit limit's documented range (0 to 999999999999.99, two decimals) is the range
/// the server takes, as a number and as a string.
#[tokio::test]
async fn credit_limit_takes_exactly_its_documented_range() {
    let app = TestApp::new().await;
    for (limit, expected) in [
        (json!(999999999999.99), Some("999999999999.99")),
        (json!("999999999999.99"), Some("999999999999.99")),
        (json!(0), Some("0.00")),
        (json!("1000000000000"), None),
        (json!(1000000000000.0), None),
        (json!("-0.01"), None),
        (json!("1.001"), None),
    ] {
        let reply = app
            .post(
                "/v1/customers",
                json!({ "name": "Limits", "credit_limit": limit }),
            )
            .await;
        match expected {
            Some(stored) => {
                assert_eq!(reply.status, StatusCode::CREATED, "{limit}: {}", reply.body);
                assert_eq!(reply.body["credit_limit"], stored);
            }
            None => {
                assert_eq!(
                    reply.status,
                    StatusCode::BAD_REQUEST,
                    "{limit}: {}",
                    reply.body
                );
                assert!(
                    reply.body["field_errors"]["credit_limit"].is_array(),
                    "{}",
                    reply.body
                );
            }
        }
    }
}

/// A deleted customer's id is never given to the next customer: a client may still hold it.
#[tokio::test]
async fn a_deleted_customers_id_is_never_given_to_another() {
    let app = TestApp::new().await;
    let gone = app.customer("Gone").await;
    let deleted = app.delete(&format!("/v1/customers/{gone}")).await;
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    let next = app.customer("Next").await;
    assert!(next > gone, "{next} after {gone}");
    app.get(&format!("/v1/customers/{gone}"))
        .await
        .assert_error(404, "NOT_FOUND");
}

/// `payment_terms_days: null` asks for the default, as leaving it out does: the
/// organization's `default_payment_terms_days`, not a fixed 30, on a create and on an
/// update alike (generated clients send null for every field they were not given).
#[tokio::test]
async fn null_payment_terms_mean_the_organizations_default() {
    let app = TestApp::new().await;
    let set = app
        .patch("/v1/organization", json!({"default_payment_terms_days": 7}))
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    for body in [
        json!({"name": "Left out"}),
        json!({"name": "Null", "payment_terms_days": null}),
    ] {
        let created = app.post("/v1/customers", body).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        assert_eq!(created.body["payment_terms_days"], 7, "{}", created.body);
    }
    let id = app
        .post(
            "/v1/customers",
            json!({"name": "Own terms", "payment_terms_days": 45}),
        )
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let reset = app
        .put(
            &format!("/v1/customers/{id}"),
            json!({"payment_terms_days": null}),
        )
        .await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.body);
    assert_eq!(reset.body["payment_terms_days"], 7, "{}", reset.body);
}
