//! An update that changes nothing writes nothing: no journal event, the same `updated_at`
//! and `ETag` (found in review: an empty PATCH appended an `*.updated` event whose only
//! change was `updated_at`, and a webhook receiver heard of it).

use serde_json::{json, Value};

use crate::helpers::TestApp;

async fn event_count(app: &TestApp) -> usize {
    let page = app.get("/v1/events?limit=500").await.body;
    page["items"].as_array().map_or(0, Vec::len)
}

/// `path` answered `update` as it answered before it, with the same `ETag`, and no event
/// was added.
async fn assert_no_op(app: &TestApp, path: &str, reply: crate::helpers::Reply, events: usize) {
    let read = app.get(path).await;
    assert_eq!(reply.status, 200, "{path}: {}", reply.body);
    assert_eq!(reply.body, read.body, "{path}");
    assert_eq!(reply.header("etag"), read.header("etag"), "{path}");
    assert_eq!(
        event_count(app).await,
        events,
        "{path}: an event was journaled"
    );
}

#[tokio::test]
async fn an_update_that_changes_nothing_journals_nothing() {
    let app = TestApp::new().await;
    let acme = app.customer("Acme").await;
    let hook = app
        .post(
            "/v1/webhook-endpoints",
            json!({ "url": "https://hooks.example/arvalox", "event_types": ["invoice.created"] }),
        )
        .await;
    assert_eq!(hook.status, 201, "{}", hook.body);
    let hook_path = format!("/v1/webhook-endpoints/{}", hook.body["id"]);
    let customer_path = format!("/v1/customers/{acme}");
    let events = event_count(&app).await;
    let org: Value = app.get("/v1/organization").await.body;
    let customer: Value = app.get(&customer_path).await.body;

    for body in [
        json!({}),
        json!({ "name": org["name"], "paper_size": org["paper_size"] }),
    ] {
        let reply = app.patch("/v1/organization", body).await;
        assert_no_op(&app, "/v1/organization", reply, events).await;
    }
    assert_eq!(
        app.get("/v1/organization").await.body["updated_at"],
        org["updated_at"]
    );
    for body in [
        json!({}),
        json!({ "enabled": true, "event_types": ["invoice.created"] }),
    ] {
        let reply = app.patch(&hook_path, body).await;
        assert_no_op(&app, &hook_path, reply, events).await;
    }
    for body in [json!({}), json!({ "name": "Acme" })] {
        let reply = app.put(&customer_path, body).await;
        assert_no_op(&app, &customer_path, reply, events).await;
    }
    assert_eq!(app.get(&customer_path).await.body, customer);

    // A real change still writes and journals.
    let renamed = app.put(&customer_path, json!({ "name": "Acme Ltd" })).await;
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    assert_ne!(renamed.header("etag"), None);
    assert_eq!(event_count(&app).await, events + 1);
}
