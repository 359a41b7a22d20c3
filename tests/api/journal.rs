//! The audit journal (issue 11, section 2): one event per change in the change's own
//! transaction, hash-chained, readable as a feed and per entity, and verified offline.

use arvalox::api::journal::local;
use arvalox::domain::journal::{event_hash, GENESIS_HASH};
use arvalox::domain::keys::Scope;
use poem::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{date, TestApp, TODAY};

async fn events(app: &TestApp, query: &str) -> Vec<Value> {
    let reply = app.get(&format!("/v1/events?limit=500&{query}")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body["items"].as_array().unwrap().clone()
}

fn types(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

/// Recomputes the chain from the feed alone, as an auditor would offline.
pub(crate) fn assert_chain(events: &[Value]) {
    let mut prev = GENESIS_HASH.to_string();
    for (n, event) in events.iter().enumerate() {
        assert_eq!(event["id"], json!(n as i64 + 1));
        assert_eq!(event["prev_hash"], json!(prev));
        let mut content = event.clone();
        content.as_object_mut().unwrap().remove("hash");
        prev = event_hash(&prev, &content);
        assert_eq!(event["hash"], json!(prev), "event {}", event["id"]);
    }
}

#[tokio::test]
async fn every_change_appends_one_chained_event_with_its_answer() {
    let app = TestApp::new().await;
    let acme = app.customer("Acme").await;
    let one = app
        .invoice(acme, "100.00", "2024-01-05", "2024-01-20")
        .await;
    let two = app.invoice(acme, "50.00", "2024-01-10", "2024-01-25").await;
    let paid = app
        .call(
            Method::POST,
            "/v1/payments",
            Some(&app.key),
            &[("Idempotency-Key", "pay-1"), ("X-Request-Id", "req-42")],
            Some(
                &json!({"customer_id": acme, "amount": "130.00", "payment_method": "cash",
                        "payment_date": "2024-02-01", "allocate": "oldest_first"})
                .to_string(),
            ),
        )
        .await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.body);
    assert_eq!(paid.header("x-request-id"), Some("req-42"));
    let payment = paid.body["id"].as_i64().unwrap();

    let all = events(&app, "").await;
    assert_chain(&all);
    assert_eq!(
        types(&all),
        [
            "organization.created",
            "api_key.created",
            "customer.created",
            "invoice.created",
            "invoice.created",
            "payment.created",
            "invoice.balance_changed",
            "invoice.balance_changed",
        ]
    );
    let created = &all[5];
    assert_eq!(created["entity_type"], "payment");
    assert_eq!(created["entity_id"], json!(payment));
    assert_eq!(created["request_id"], "req-42");
    assert_eq!(created["idempotency_key"], "pay-1");
    assert_eq!(created["actor"]["type"], "api_key");
    assert_eq!(created["actor"]["key_prefix"], json!(&app.key[..12]));
    assert_eq!(created["data"], paid.body);
    assert_eq!(created["changes"], Value::Null);
    let first = &all[6];
    assert_eq!(first["entity_id"], json!(one));
    assert_eq!(first["request_id"], "req-42");
    assert_eq!(
        first["changes"]["amount_paid"],
        json!({"before": "0.00", "after": "100.00"})
    );
    assert_eq!(
        first["changes"]["status"],
        json!({"before": "sent", "after": "paid"})
    );
    assert_eq!(
        first["data"],
        app.get(&format!("/v1/invoices/{one}")).await.body
    );
    assert_eq!(all[7]["entity_id"], json!(two));
    assert_eq!(all[7]["changes"]["balance_due"]["after"], "20.00");

    // A replay writes nothing; a refused write appends nothing and leaves no gap.
    let replay = app
        .call(
            Method::POST,
            "/v1/payments",
            Some(&app.key),
            &[("Idempotency-Key", "pay-1")],
            Some(
                &json!({"customer_id": acme, "amount": "130.00", "payment_method": "cash",
                        "payment_date": "2024-02-01", "allocate": "oldest_first"})
                .to_string(),
            ),
        )
        .await;
    assert_eq!(replay.status, StatusCode::CREATED);
    let refused = app.pay(acme, one, "5.00", "2024-02-02").await;
    assert_eq!(refused.status.as_u16(), 400, "{}", refused.body);
    let renamed = app
        .put(
            &format!("/v1/customers/{acme}"),
            json!({"name": "Acme Ltd"}),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK);
    let all = events(&app, "").await;
    assert_chain(&all);
    assert_eq!(all.len(), 9);
    assert_eq!(all[8]["type"], "customer.updated");
    assert_eq!(
        all[8]["changes"],
        json!({"name": {"before": "Acme", "after": "Acme Ltd"}})
    );
    assert_eq!(all[8]["request_id"].as_str().unwrap().len(), 32);

    for event in &all {
        let kind = event["type"].as_str().unwrap();
        assert!(
            arvalox::domain::journal::EVENT_TYPES.contains(&kind),
            "{kind}"
        );
    }
    let verified = local::verify(&app.state.db, &[], date(TODAY)).unwrap();
    assert_eq!(verified.faults, Vec::<String>::new());
}

#[tokio::test]
async fn the_feed_filters_pages_and_hides_key_events_from_other_scopes() {
    let app = TestApp::new().await;
    let acme = app.customer("Acme").await;
    let inv = app.invoice(acme, "80.00", "2024-01-05", "2024-01-20").await;
    let written = app
        .post(
            &format!("/v1/invoices/{inv}/write-offs"),
            json!({"write_off_date": "2024-02-10", "reason": "Bankrupt"}),
        )
        .await;
    assert_eq!(written.status, StatusCode::OK, "{}", written.body);

    let page = app.get("/v1/events?after=2&limit=2").await.body;
    assert_eq!(
        types(page["items"].as_array().unwrap()),
        ["customer.created", "invoice.created"]
    );
    assert_eq!(page["next_after"], 4);
    let rest = app.get("/v1/events?after=4").await.body;
    assert_eq!(
        types(rest["items"].as_array().unwrap()),
        ["invoice.written_off"]
    );
    assert_eq!(rest["next_after"], 5);
    let empty = app.get("/v1/events?after=5").await.body;
    assert_eq!(empty["items"], json!([]));
    assert_eq!(empty["next_after"], 5);
    let by_type = events(&app, "type=invoice.written_off").await;
    assert_eq!(by_type[0]["changes"]["status"]["after"], "written_off");
    assert_eq!(
        events(&app, &format!("entity_type=invoice&entity_id={inv}"))
            .await
            .len(),
        2
    );

    let reader = app.new_key("default", Scope::Read);
    let seen = app
        .call(Method::GET, "/v1/events", Some(&reader), &[], None)
        .await;
    let seen = seen.body["items"].as_array().unwrap().clone();
    assert!(
        seen.iter().all(|e| e["entity_type"] != "api_key"),
        "{seen:?}"
    );
    assert_eq!(
        seen.len(),
        4,
        "the organization, the customer, the invoice, its write-off"
    );
    let admin_seen = events(&app, "entity_type=api_key").await;
    assert_eq!(admin_seen.len(), 2);
    assert!(admin_seen[1]["data"].get("key").is_none());
    assert_eq!(admin_seen[1]["data"]["scope"], "read");

    let history = app.get(&format!("/v1/invoices/{inv}/history")).await.body;
    assert_eq!(
        types(history["items"].as_array().unwrap()),
        ["invoice.created", "invoice.written_off"]
    );
    app.get("/v1/payments/999/history")
        .await
        .assert_error(404, "NOT_FOUND");
    let bad = app.get("/v1/events?wait=31&limit=0&after=-1").await;
    let fields = bad.assert_error(400, "VALIDATION_ERROR");
    for field in ["wait", "limit", "after"] {
        assert!(fields.get(field).is_some(), "{fields}");
    }
    let deleted = app
        .delete(&format!("/v1/customers/{}", app.customer("Gone").await))
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let last = events(&app, "type=customer.deleted").await;
    assert_eq!(last[0]["data"], Value::Null);
}

#[tokio::test]
async fn a_waiting_reader_wakes_when_an_event_arrives() {
    let app = std::sync::Arc::new(TestApp::new().await);
    let after = events(&app, "").await.len();
    let reader = {
        let app = app.clone();
        tokio::spawn(async move { app.get(&format!("/v1/events?after={after}&wait=20")).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    app.customer("Late").await;
    let page = reader.await.unwrap().body;
    assert_eq!(
        types(page["items"].as_array().unwrap()),
        ["customer.created"]
    );
}

#[tokio::test]
async fn a_stopping_server_answers_waiting_readers_at_once() {
    let app = std::sync::Arc::new(TestApp::new().await);
    let after = events(&app, "").await.len();
    let reader = {
        let app = app.clone();
        tokio::spawn(async move { app.get(&format!("/v1/events?after={after}&wait=30")).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    app.state.close();
    // Far less than the 30 s the reader asked to wait: the shutdown must not wait for it.
    let page = tokio::time::timeout(std::time::Duration::from_secs(10), reader)
        .await
        .expect("the waiting reader was answered when the server began to stop")
        .unwrap();
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.body["items"], json!([]));
}

#[test]
fn an_unusable_request_id_is_refused() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let app = TestApp::new().await;
        let long = "x".repeat(129);
        let reply = app
            .call(
                Method::GET,
                "/v1/ping",
                Some(&app.key),
                &[("X-Request-Id", &long)],
                None,
            )
            .await;
        let fields = reply.assert_error(400, "VALIDATION_ERROR");
        assert!(fields.get("X-Request-Id").is_some(), "{fields}");
        assert_eq!(reply.header("x-request-id").map(str::len), Some(32));
    });
}
