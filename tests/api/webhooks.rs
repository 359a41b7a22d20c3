//! Signed webhooks through a real local receiver (issue 11, section 3): the signature
//! verifies, a 500 and a timeout are tried again, events arrive in order, an endpoint gets
//! only the types it lists, and the secret is shown once.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hmac::{Hmac, Mac};
use poem::http::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::helpers::TestApp;

/// What the receiver got: headers (lower-case names) and body.
#[derive(Clone, Debug)]
struct Received {
    headers: Vec<(String, String)>,
    body: String,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    }
}

/// A real HTTP receiver on loopback: answers each request with the next of `answers`
/// (a status, and seconds to wait first), then 200s.
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    fn start(answers: Vec<(u16, u64)>) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let got = Arc::new(Mutex::new(Vec::new()));
        let answers = Arc::new(Mutex::new(answers.into_iter()));
        let kept = got.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let (got, answers) = (kept.clone(), answers.clone());
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut headers = Vec::new();
                    let mut line = String::new();
                    reader.read_line(&mut line).unwrap();
                    loop {
                        line.clear();
                        reader.read_line(&mut line).unwrap();
                        let text = line.trim_end();
                        if text.is_empty() {
                            break;
                        }
                        let (name, value) = text.split_once(':').unwrap();
                        headers.push((name.to_lowercase(), value.trim().to_string()));
                    }
                    let length: usize = headers
                        .iter()
                        .find(|(n, _)| n == "content-length")
                        .map_or(0, |(_, v)| v.parse().unwrap());
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).unwrap();
                    let (status, wait) = answers.lock().unwrap().next().unwrap_or((200, 0));
                    got.lock().unwrap().push(Received {
                        headers,
                        body: String::from_utf8(body).unwrap(),
                    });
                    std::thread::sleep(Duration::from_secs(wait));
                    let _ = write!(
                        stream,
                        "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    );
                });
            }
        });
        Receiver { url, got }
    }

    fn got(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

/// Waits (up to 30 s) until `check` holds.
async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..300 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("never happened: {what}");
}

fn hmac_hex(secret: &str, text: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(text.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

async fn deliveries(app: &TestApp, endpoint: i64) -> Vec<Value> {
    let reply = app
        .get(&format!("/v1/webhook-endpoints/{endpoint}/deliveries"))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body["items"].as_array().unwrap().clone()
}

/// The endpoint's tries once there is one (up to 30 s).
async fn first_tries(app: &TestApp, endpoint: i64) -> Vec<Value> {
    for _ in 0..300 {
        let tries = deliveries(app, endpoint).await;
        if !tries.is_empty() {
            return tries;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no try at endpoint {endpoint} within 30 s");
}

#[tokio::test]
async fn deliveries_are_signed_retried_and_in_order() {
    let app = TestApp::new().await;
    arvalox::api::webhooks::spawn_deliveries(app.state.clone(), false);
    let receiver = Receiver::start(vec![(500, 0)]);
    let created = app
        .call(
            Method::POST,
            "/v1/webhook-endpoints",
            Some(&app.key),
            &[("Idempotency-Key", "hook-1")],
            Some(
                &json!({"url": receiver.url, "event_types": ["*"], "description": "test"})
                    .to_string(),
            ),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let endpoint = created.body["id"].as_i64().unwrap();
    let secret = created.body["secret"].as_str().unwrap().to_string();
    assert!(
        secret.starts_with("whsec_") && secret.len() == 54,
        "{secret}"
    );

    // The endpoint's own creation is its first event; the receiver answers it with a 500.
    eventually("a first, failed try", || receiver.got().len() == 1).await;
    let tries = deliveries(&app, endpoint).await;
    assert_eq!(tries.len(), 1, "{tries:?}");
    assert_eq!(tries[0]["status_code"], 500);
    assert_eq!(tries[0]["delivered"], false);
    assert!(tries[0]["next_attempt_at"].is_string());

    // Retried at once on request: delivered, then the next events follow in order.
    let retried = app
        .post(
            &format!(
                "/v1/webhook-endpoints/{endpoint}/deliveries/{}/retry",
                tries[0]["id"]
            ),
            json!({}),
        )
        .await;
    assert_eq!(retried.status, StatusCode::OK, "{}", retried.body);
    for name in ["A", "B", "C"] {
        app.customer(name).await;
    }
    // The retry, the retry's own event, and the three customers.
    eventually("the retry and three customers", || {
        receiver.got().len() == 6
    })
    .await;
    let got = receiver.got();
    let ids: Vec<i64> = got
        .iter()
        .map(|r| r.header("arvalox-event-id").parse().unwrap())
        .collect();
    assert_eq!(ids[0], ids[1], "the retry resends the same event");
    assert!(ids.windows(2).skip(1).all(|w| w[0] < w[1]), "{ids:?}");

    let feed = app.get("/v1/events?limit=500").await.body;
    for request in &got {
        let signature = request.header("arvalox-signature");
        let (t, v1) = signature
            .strip_prefix("t=")
            .and_then(|rest| rest.split_once(",v1="))
            .unwrap();
        assert_eq!(v1, hmac_hex(&secret, &format!("{t}.{}", request.body)));
        let event: Value = serde_json::from_str(&request.body).unwrap();
        assert_eq!(request.header("arvalox-event-type"), event["type"]);
        let listed = feed["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["id"] == event["id"])
            .unwrap();
        assert_eq!(listed, &event, "the body is the event as the feed shows it");
    }
    assert_eq!(
        got[2].header("arvalox-event-type"),
        "webhook_endpoint.retried"
    );
    assert_eq!(got[3].header("arvalox-event-type"), "customer.created");

    // The secret is shown once: never by GET, in the journal, or in a replay.
    let shown = app.get(&format!("/v1/webhook-endpoints/{endpoint}")).await;
    assert!(shown.body.get("secret").is_none(), "{}", shown.body);
    assert!(!feed.to_string().contains(&secret));
    let replay = app
        .call(
            Method::POST,
            "/v1/webhook-endpoints",
            Some(&app.key),
            &[("Idempotency-Key", "hook-1")],
            Some(
                &json!({"url": receiver.url, "event_types": ["*"], "description": "test"})
                    .to_string(),
            ),
        )
        .await;
    assert_eq!(replay.body["secret"], Value::Null);
}

#[tokio::test]
async fn an_endpoint_gets_only_its_types_and_a_timeout_is_tried_again() {
    let app = TestApp::new().await;
    arvalox::api::webhooks::spawn_deliveries(app.state.clone(), false);
    let receiver = Receiver::start(vec![(200, 11)]);
    let created = app
        .post(
            "/v1/webhook-endpoints",
            json!({"url": receiver.url, "event_types": ["payment.created"]}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let endpoint = created.body["id"].as_i64().unwrap();
    let acme = app.customer("Acme").await;
    let inv = app
        .invoice(acme, "100.00", "2024-01-05", "2024-01-20")
        .await;
    assert_eq!(
        app.pay(acme, inv, "40.00", "2024-02-01").await.status,
        StatusCode::CREATED
    );

    let tries = first_tries(&app, endpoint).await;
    assert_eq!(tries[0]["status_code"], Value::Null);
    assert!(
        tries[0]["error"].as_str().unwrap().contains("10 seconds"),
        "{tries:?}"
    );
    let retried = app
        .post(
            &format!(
                "/v1/webhook-endpoints/{endpoint}/deliveries/{}/retry",
                tries[0]["id"]
            ),
            json!({}),
        )
        .await;
    assert_eq!(retried.status, StatusCode::OK);
    eventually("the payment delivered", || receiver.got().len() == 2).await;
    assert!(receiver
        .got()
        .iter()
        .all(|r| r.header("arvalox-event-type") == "payment.created"));
    let delivered = deliveries(&app, endpoint).await;
    assert_eq!(delivered[0]["delivered"], true);
    assert!(
        created.header("etag").is_none(),
        "the create answer holds the secret: no ETag"
    );

    // A client's own "off" is not undone by a retry.
    let off = app
        .call(
            Method::PATCH,
            &format!("/v1/webhook-endpoints/{endpoint}"),
            Some(&app.key),
            &[],
            Some(&json!({"enabled": false}).to_string()),
        )
        .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.body);
    assert_eq!(off.body["enabled"], false);
    let again = app
        .post(
            &format!(
                "/v1/webhook-endpoints/{endpoint}/deliveries/{}/retry",
                delivered[0]["id"]
            ),
            json!({}),
        )
        .await;
    again.assert_error(409, "CONFLICT");

    let bad = app
        .post(
            "/v1/webhook-endpoints",
            json!({"url": "ftp://x", "event_types": ["payment.made", "*"]}),
        )
        .await;
    let fields = bad.assert_error(400, "VALIDATION_ERROR");
    assert!(
        fields.get("url").is_some() && fields.get("event_types").is_some(),
        "{fields}"
    );
}

/// The schedule lives in the file: a failed try before a `kill -9` is tried again by the
/// next server, and the events after it follow in order.
#[test]
fn a_failed_delivery_is_tried_again_after_a_kill_9() {
    use crate::binary::{http, Server};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ar.db");
    let log = dir.path().join("serve.log");
    let receiver = Receiver::start(vec![(500, 0)]);
    let server = Server::start(&db, &log);
    let key = server.key.clone();
    let auth = [("x-arvalox-api-key", key.as_str())];
    let body = json!({"url": receiver.url, "event_types": ["customer.created"]}).to_string();
    let (status, _) = http(server.port, "POST", "/v1/webhook-endpoints", &auth, &body);
    assert_eq!(status, 201);
    let customer = json!({"name": "Before the crash"}).to_string();
    assert_eq!(
        http(server.port, "POST", "/v1/customers", &auth, &customer).0,
        201
    );
    let waited = std::time::Instant::now();
    while receiver.got().is_empty() {
        assert!(waited.elapsed() < Duration::from_secs(20), "no first try");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Let the failed try be recorded, then cut the power.
    std::thread::sleep(Duration::from_millis(500));
    server.kill_hard();

    let server = Server::restart(&db, &log, key.clone());
    let later = json!({"name": "After the restart"}).to_string();
    assert_eq!(
        http(server.port, "POST", "/v1/customers", &auth, &later).0,
        201
    );
    let waited = std::time::Instant::now();
    while receiver.got().len() < 3 {
        assert!(
            waited.elapsed() < Duration::from_secs(30),
            "{:?}",
            receiver.got().len()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let ids: Vec<i64> = receiver
        .got()
        .iter()
        .map(|r| r.header("arvalox-event-id").parse().unwrap())
        .collect();
    assert_eq!(ids[0], ids[1], "the failed event again, first: {ids:?}");
    assert!(ids[2] > ids[1], "{ids:?}");
    let names: Vec<String> = receiver
        .got()
        .iter()
        .map(|r| serde_json::from_str::<Value>(&r.body).unwrap()["data"]["name"].to_string())
        .collect();
    assert_eq!(names[2], "\"After the restart\"");
    let (_, deliveries) = http(
        server.port,
        "GET",
        "/v1/webhook-endpoints/1/deliveries",
        &auth,
        "",
    );
    assert!(deliveries.contains("\"attempt\":2"), "{deliveries}");
    server.stop();
}

/// A webhook URL can carry a token: its events are the admin's, as the endpoints are.
#[tokio::test]
async fn webhook_endpoint_events_are_listed_to_admin_keys_only() {
    let app = TestApp::new().await;
    let body = json!({ "url": "https://hooks.example/ar?token=s3cret", "event_types": ["*"] });
    let created = app.post("/v1/webhook-endpoints", body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let reader = app.new_key("default", arvalox::domain::keys::Scope::Read);
    for path in [
        "/v1/events?limit=500",
        "/v1/events?entity_type=webhook_endpoint",
    ] {
        let events = app
            .call(Method::GET, path, Some(&reader), &[], None)
            .await
            .body;
        let text = events.to_string();
        assert!(
            !text.contains("s3cret") && !text.contains("webhook_endpoint."),
            "{path}: {text}"
        );
    }
    let (_, _, csv) = app.get_bytes("/v1/events?format=csv", &[]).await;
    assert!(
        String::from_utf8(csv)
            .unwrap()
            .contains("webhook_endpoint.created"),
        "the admin sees it"
    );
}

/// A URL with a port outside 1–65535 or a malformed host is a 400 naming `url`; one stored
/// before that check is never sent to: the sending library dropped such a port and sent
/// the signed event to the scheme's own port, another service's.
#[tokio::test]
async fn a_url_with_a_port_out_of_range_is_refused_and_never_sent_to() {
    let app = TestApp::new().await;
    arvalox::api::webhooks::spawn_deliveries(app.state.clone(), false);
    for url in [
        "http://127.0.0.1:99999/hook",
        "http://127.0.0.1:0/hook",
        "http://[zz]/hook",
    ] {
        let refused = app
            .post(
                "/v1/webhook-endpoints",
                json!({"url": url, "event_types": ["*"]}),
            )
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
        assert!(
            refused.body["field_errors"]["url"].is_array(),
            "{}",
            refused.body
        );
    }
    // Customers' events only: the endpoint's own `webhook_endpoint.created` would be
    // tried at its first URL before the change below.
    let created = app
        .post(
            "/v1/webhook-endpoints",
            json!({"url": "http://127.0.0.1:9/hook", "event_types": ["customer.created"]}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let endpoint = created.body["id"].as_i64().unwrap();
    app.state
        .db
        .write_blocking(arvalox::db::WriteScope::Book, move |tx| {
            let sql = format!(
                "/* test check */ UPDATE webhook_endpoints SET url = 'http://127.0.0.1:99999/hook' WHERE id = {endpoint}"
            );
            Ok(tx.execute_batch(&sql)?)
        })
        .unwrap();
    app.customer("Acme").await;
    let tries = first_tries(&app, endpoint).await;
    assert_eq!(tries[0]["status_code"], Value::Null, "{tries:?}");
    let error = tries[0]["error"].as_str().unwrap();
    assert!(error.contains("port from 1 to 65535"), "{error}");
}
