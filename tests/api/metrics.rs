//! `GET /metrics` on its own listener (`--metrics-bind`), scraped from the real binary and
//! read with a Prometheus text-format parser.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

use crate::binary::{free_port, http, Server};

/// The body of `GET path` on `port`, and its content type.
fn get(port: u16, path: &str) -> (String, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
    let content_type = head
        .lines()
        .find_map(|line| line.strip_prefix("content-type: "))
        .unwrap_or_default();
    (body.to_string(), content_type.to_string())
}

/// One sample: its name, labels and value.
type Sample = (String, BTreeMap<String, String>, f64);

/// Reads the text with Prometheus's own parser (the `prometheus_client` Python package, as
/// CI installs it): what a Prometheus server would make of it.
const PARSE: &str = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        print(json.dumps([s.name, s.labels, s.value]))
"#;

fn scrape(port: u16) -> Vec<Sample> {
    let (body, content_type) = get(port, "/metrics");
    assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
    let mut python = Command::new("python3")
        .args(["-c", PARSE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 with prometheus_client (pip install prometheus-client)");
    python
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    let parsed = python.wait_with_output().unwrap();
    assert!(
        parsed.status.success(),
        "the parser refused the text: {}\n{body}",
        String::from_utf8_lossy(&parsed.stderr)
    );
    String::from_utf8(parsed.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// The value of the one sample called `name` with exactly these labels.
fn value(scrape: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    let wanted: BTreeMap<String, String> = labels
        .iter()
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect();
    let found: Vec<f64> = scrape
        .iter()
        .filter(|(metric, labels, _)| metric == name && *labels == wanted)
        .map(|(_, _, value)| *value)
        .collect();
    assert_eq!(found.len(), 1, "{name} {labels:?}: {found:?}");
    found.into_iter().next().unwrap()
}

#[test]
fn metrics_are_served_on_their_own_listener_and_count_what_happened() {
    let dir = tempfile::tempdir().unwrap();
    let metrics_port = free_port();
    let bind = format!("127.0.0.1:{metrics_port}");
    let backups = dir.path().join("backups");
    let extra = [
        "--metrics-bind",
        bind.as_str(),
        "--rate-limit-minute",
        "4",
        "--backup-dir",
        backups.to_str().unwrap(),
    ];
    let db = dir.path().join("ar.db");
    let server = Server::start_with(&db, &dir.path().join("serve.log"), &extra, &[]);
    let port = server.port;
    let auth = [("x-arvalox-api-key", server.key.as_str())];

    let (status, _) = http(port, "POST", "/v1/customers", &auth, r#"{"name": "Acme"}"#);
    assert_eq!(status, 201);
    assert_eq!(http(port, "GET", "/v1/customers/1", &auth, "").0, 200);
    assert_eq!(http(port, "POST", "/v1/admin/backup", &auth, "").0, 200);
    assert_eq!(http(port, "GET", "/v1/customers", &[], "").0, 401);
    let wrong = [(
        "x-arvalox-api-key",
        "arv_0000000000000000000000000000000000000000000000",
    )];
    assert_eq!(http(port, "GET", "/v1/customers", &wrong, "").0, 401);
    assert_eq!(http(port, "GET", "/wp-login.php", &[], "").0, 404);
    // The fourth request of the key's minute is its last; the fifth is refused.
    assert_eq!(http(port, "GET", "/v1/customers/1", &auth, "").0, 200);
    assert_eq!(http(port, "GET", "/v1/customers/1", &auth, "").0, 429);
    // The API's own address has no /metrics.
    assert_eq!(http(port, "GET", "/metrics", &[], "").0, 404);

    let scraped = scrape(metrics_port);
    let requests = "arvalox_http_requests_total";
    let route = |route, method, status| [("route", route), ("method", method), ("status", status)];
    for (path, method, status, count) in [
        ("/v1/customers", "POST", "201", 1.0),
        ("/v1/customers/{id}", "GET", "200", 2.0),
        ("/v1/customers/{id}", "GET", "429", 1.0),
        ("/v1/customers", "GET", "401", 2.0),
        ("/v1/admin/backup", "POST", "200", 1.0),
        // Made-up paths share one series.
        ("unmatched", "GET", "404", 2.0),
    ] {
        let labels = route(path, method, status);
        assert_eq!(
            value(&scraped, requests, &labels),
            count,
            "{method} {path} {status}"
        );
    }
    let latency = "arvalox_http_request_duration_seconds";
    let get_one = [("route", "/v1/customers/{id}"), ("method", "GET")];
    assert_eq!(value(&scraped, &format!("{latency}_count"), &get_one), 3.0);
    let mut all = get_one.to_vec();
    all.push(("le", "+Inf"));
    assert_eq!(value(&scraped, &format!("{latency}_bucket"), &all), 3.0);

    let failures = "arvalox_auth_failures_total";
    assert_eq!(value(&scraped, failures, &[("reason", "missing")]), 1.0);
    assert_eq!(value(&scraped, failures, &[("reason", "invalid")]), 1.0);
    let limited = "arvalox_rate_limit_rejections_total";
    assert_eq!(value(&scraped, limited, &[("limit", "key")]), 1.0);

    // The customer's write, and the writes the backup route's key made before it.
    assert!(value(&scraped, "arvalox_write_batch_size_count", &[]) >= 1.0);
    assert!(value(&scraped, "arvalox_write_batch_size_sum", &[]) >= 1.0);
    assert!(value(&scraped, "arvalox_write_commit_duration_seconds_count", &[]) >= 1.0);
    assert!(value(&scraped, "arvalox_db_read_wait_seconds_count", &[]) >= 1.0);
    let book_size = std::fs::metadata(&db).unwrap().len() as f64;
    assert_eq!(
        value(&scraped, "arvalox_database_size_bytes", &[]),
        book_size
    );
    assert!(value(&scraped, "arvalox_wal_size_bytes", &[]) > 0.0);

    let done = [("trigger", "api"), ("outcome", "ok")];
    assert_eq!(value(&scraped, "arvalox_backups_total", &done), 1.0);
    let age = value(&scraped, "arvalox_last_backup_age_seconds", &[]);
    assert!((0.0..600.0).contains(&age), "{age}");
    assert!(value(&scraped, "arvalox_last_backup_timestamp_seconds", &[]) > 1.7e9);
    server.stop();
}

/// The samples called `name`, whatever their labels.
fn samples<'a>(scrape: &'a [Sample], name: &'a str) -> impl Iterator<Item = f64> + 'a {
    scrape
        .iter()
        .filter(move |(metric, _, _)| metric == name)
        .map(|(_, _, value)| *value)
}

/// With `synchronous=full` (the default) the WAL is flushed by a thread of its own before
/// a write is answered: each of these writes waits for its answer before the next is
/// sent, so no flush can serve two of them, and every group commit is flushed.
#[test]
fn every_durable_write_is_answered_after_a_flush_of_the_wal() {
    let dir = tempfile::tempdir().unwrap();
    let metrics_port = free_port();
    let bind = format!("127.0.0.1:{metrics_port}");
    let extra = ["--metrics-bind", bind.as_str(), "--rate-limit-minute", "0"];
    let db = dir.path().join("ar.db");
    let server = Server::start_with(&db, &dir.path().join("serve.log"), &extra, &[]);
    let auth = [("x-arvalox-api-key", server.key.as_str())];
    for n in 0..6 {
        let body = format!(r#"{{"name": "Customer {n}"}}"#);
        let (status, _) = http(server.port, "POST", "/v1/customers", &auth, &body);
        assert_eq!(status, 201);
    }
    // The feed hands out event ids: it waits for the flush of what it read, once.
    let (status, _) = http(server.port, "GET", "/v1/events", &auth, "");
    assert_eq!(status, 200);
    let scraped = scrape(metrics_port);
    let waits = value(&scraped, "arvalox_durable_wait_seconds_count", &[]);
    assert_eq!(waits, 1.0);
    let flushes = value(&scraped, "arvalox_wal_flush_duration_seconds_count", &[]);
    let batches = value(&scraped, "arvalox_write_batch_size_count", &[]);
    assert!(flushes >= 6.0, "{flushes} flushes for 6 writes");
    assert!(
        flushes <= batches,
        "{flushes} flushes, {batches} group commits"
    );
    server.stop();

    // With durability off, nothing is flushed.
    let off = ["--metrics-bind", bind.as_str(), "--synchronous", "off"];
    let fast = dir.path().join("fast.db");
    let server = Server::start_with(&fast, &dir.path().join("off.log"), &off, &[]);
    let auth = [("x-arvalox-api-key", server.key.as_str())];
    let (status, _) = http(
        server.port,
        "POST",
        "/v1/customers",
        &auth,
        r#"{"name": "Off"}"#,
    );
    assert_eq!(status, 201);
    let (status, _) = http(server.port, "GET", "/v1/events", &auth, "");
    assert_eq!(status, 200);
    let scraped = scrape(metrics_port);
    let flush_samples = samples(&scraped, "arvalox_wal_flush_duration_seconds_count");
    assert_eq!(flush_samples.count(), 0);
    let wait_samples = samples(&scraped, "arvalox_durable_wait_seconds_count");
    assert_eq!(wait_samples.count(), 0);
    assert!(value(&scraped, "arvalox_write_batch_size_count", &[]) >= 1.0);
    server.stop();
}
