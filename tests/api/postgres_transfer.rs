//! `arvalox migrate-db` through the real binary: a SQLite book to PostgreSQL and back, each
//! move compared by the binary itself, and the book that came back answering the API byte
//! for byte as the one that left.

use std::path::Path;
use std::process::Output;

use serde_json::json;

use crate::binary::arvalox;
use crate::helpers::{TestApp, TODAY};
use crate::postgres::{server_or_skip, FreshDatabase};

fn said(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The answers a user reads, on the book at `path`.
async fn answers(dir: tempfile::TempDir, path: &Path) -> Vec<String> {
    let app = TestApp::on_file(dir, path, arvalox::ratelimit::Limits::OFF, TODAY).await;
    let mut read = Vec::new();
    for route in [
        "/v1/customers?limit=100",
        "/v1/invoices?limit=100",
        "/v1/invoices/1",
        "/v1/invoices/7",
        "/v1/payments?limit=100",
        "/v1/reports/aging?as_of=2024-03-01",
        "/v1/reports/dashboard?as_of=2024-03-01",
        "/v1/events?limit=100",
    ] {
        let reply = app.get(route).await;
        read.push(format!("{route} {} {}", reply.status, reply.body));
    }
    read
}

#[tokio::test]
async fn a_book_moves_to_postgres_and_back_unchanged() {
    let Some(server) = server_or_skip("a_book_moves_to_postgres_and_back_unchanged") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ar.db");
    let seeded = arvalox(&[
        "seed-demo",
        "--db",
        file.to_str().unwrap(),
        "--customers",
        "6",
        "--invoices",
        "80",
        "--as-of",
        TODAY,
    ]);
    assert!(seeded.status.success(), "{seeded:?}");
    let gone_id;
    {
        // Text that COPY reads specially, a second organization's key, a webhook's secret.
        let app = TestApp::on_file(
            tempfile::tempdir().unwrap(),
            &file,
            arvalox::ratelimit::Limits::OFF,
            TODAY,
        )
        .await;
        let body =
            json!({"name": "Back\\slash \\N Ltd", "notes": "line one\nline two\ttabbed\r\n"});
        let customer = app
            .post_raw(
                "/v1/customers",
                &[("Idempotency-Key", "c-1")],
                &body.to_string(),
            )
            .await;
        assert_eq!(customer.status, 201, "{}", customer.body);
        // The newest customer deleted: its id is never given again, in either engine.
        let body = json!({"name": "Gone Ltd"});
        let gone = app
            .post_raw(
                "/v1/customers",
                &[("Idempotency-Key", "c-2")],
                &body.to_string(),
            )
            .await;
        assert_eq!(gone.status, 201, "{}", gone.body);
        let deleted = app
            .delete(&format!("/v1/customers/{}", gone.body["id"]))
            .await;
        assert_eq!(deleted.status, 204, "{}", deleted.body);
        gone_id = gone.body["id"].as_i64().unwrap();
        let body = json!({"url": "http://127.0.0.1:9/hook", "event_types": ["*"]});
        let hook = app
            .post_raw(
                "/v1/webhook-endpoints",
                &[("Idempotency-Key", "h-1")],
                &body.to_string(),
            )
            .await;
        assert_eq!(hook.status, 201, "{}", hook.body);
    }
    assert!(arvalox(&[
        "keys",
        "create",
        "--db",
        file.to_str().unwrap(),
        "--name",
        "b",
        "--org",
        "other"
    ])
    .status
    .success());
    let before = answers(tempfile::tempdir().unwrap(), &file).await;

    let book = FreshDatabase::create(&server).await;
    let there = arvalox(&[
        "migrate-db",
        "--from",
        file.to_str().unwrap(),
        "--to",
        &book.url,
    ]);
    let (out, err) = said(&there);
    assert!(there.status.success(), "{out}{err}");
    assert!(
        out.contains("default: ") && out.contains(" rows copied (1 of 2)"),
        "{out}"
    );
    assert!(out.contains("other: 4 rows copied (2 of 2)"), "{out}");
    assert!(out.contains(": the same in both books ("), "{out}");

    // Only into an empty book: a second run changes nothing and says why.
    let again = arvalox(&[
        "migrate-db",
        "--from",
        file.to_str().unwrap(),
        "--to",
        &book.url,
    ]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        said(&again).1.contains("already holds 2 organizations"),
        "{again:?}"
    );

    let back = dir.path().join("back.db");
    let home = arvalox(&[
        "migrate-db",
        "--from",
        &book.url,
        "--to",
        back.to_str().unwrap(),
    ]);
    let (out, err) = said(&home);
    assert!(home.status.success(), "{out}{err}");
    assert!(out.contains(": the same in both books ("), "{out}");
    let exists = arvalox(&[
        "migrate-db",
        "--from",
        &book.url,
        "--to",
        back.to_str().unwrap(),
    ]);
    assert_eq!(exists.status.code(), Some(1));
    assert!(said(&exists).1.contains("already exists"), "{exists:?}");

    let verified = arvalox(&["verify", "--db", back.to_str().unwrap()]);
    assert!(verified.status.success(), "{verified:?}");
    let after = answers(tempfile::tempdir().unwrap(), &back).await;
    assert_eq!(after, before);
    let app = TestApp::on_file(
        tempfile::tempdir().unwrap(),
        &back,
        arvalox::ratelimit::Limits::OFF,
        TODAY,
    )
    .await;
    let next = app
        .post_raw(
            "/v1/customers",
            &[("Idempotency-Key", "c-3")],
            &json!({"name": "Next Ltd"}).to_string(),
        )
        .await;
    assert_eq!(next.status, 201, "{}", next.body);
    assert_eq!(next.body["id"].as_i64().unwrap(), gone_id + 1);
    drop(app);

    let same_engine = arvalox(&[
        "migrate-db",
        "--from",
        file.to_str().unwrap(),
        "--to",
        back.to_str().unwrap(),
    ]);
    assert_eq!(same_engine.status.code(), Some(2));
}
