//! Point reads keep their read snapshot between requests (see `db::point_reads`): a write
//! that was answered must be in every later read, another process's commit must show
//! within `MAX_SNAPSHOT_AGE`, and kept snapshots must not hold back checkpoints.

use arvalox::db::MAX_SNAPSHOT_AGE;
use arvalox::ratelimit::Limits;
use poem::http::StatusCode;
use rusqlite::Connection;

use crate::helpers::{TestApp, TODAY};

async fn app_on_file() -> (TestApp, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ar.db");
    (TestApp::on_file(dir, &path, Limits::OFF, TODAY).await, path)
}

/// (busy, WAL frames, frames checkpointed): busy is 1 when a reader held it back.
fn checkpoint(path: &std::path::Path) -> (i64, i64, i64) {
    let conn = Connection::open(path).unwrap();
    // Not waiting for readers is the point.
    conn.busy_timeout(std::time::Duration::ZERO).unwrap();
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", (), |row| {
        Ok((row.get(0)?, row.get(1)?, row.get(2)?))
    })
    .unwrap()
}

/// Readers hammer the invoice (so snapshots are always warm) while payments land: each
/// read after a payment's answer shows that payment.
#[tokio::test]
async fn an_answered_write_is_in_every_later_read() {
    let (app, _path) = app_on_file().await;
    let acme = app.customer("Acme").await;
    let invoice = app
        .invoice(acme, "1000.00", "2024-01-05", "2024-02-04")
        .await;
    let path = format!("/v1/invoices/{invoice}");
    let app = std::sync::Arc::new(app);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut readers = Vec::new();
    for _ in 0..4 {
        let (app, path, stop) = (app.clone(), path.clone(), stop.clone());
        readers.push(tokio::spawn(async move {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                assert_eq!(app.get(&path).await.status, StatusCode::OK);
                tokio::task::yield_now().await;
            }
        }));
    }
    for paid in 1..=30 {
        let reply = app.pay(acme, invoice, "1.00", "2024-01-20").await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        let detail = app.get(&path).await.body;
        assert_eq!(detail["amount_paid"], format!("{paid}.00"));
        assert_eq!(detail["payments"].as_array().unwrap().len(), paid);
        let payment_id = reply.body["id"].as_i64().unwrap();
        assert_eq!(
            app.get(&format!("/v1/payments/{payment_id}")).await.status,
            StatusCode::OK
        );
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for reader in readers {
        reader.await.unwrap();
    }
}

#[tokio::test]
async fn another_process_commit_shows_within_the_snapshot_age() {
    let (app, path) = app_on_file().await;
    let acme = app.customer("Acme").await;
    let invoice = app.invoice(acme, "10.00", "2024-01-05", "2024-02-04").await;
    let detail = format!("/v1/invoices/{invoice}");
    assert_eq!(
        app.get(&detail).await.body["notes"],
        serde_json::Value::Null
    );

    Connection::open(&path)
        .unwrap()
        .execute("UPDATE invoices SET notes = 'from elsewhere'", [])
        .unwrap();
    tokio::time::sleep(MAX_SNAPSHOT_AGE + std::time::Duration::from_millis(20)).await;
    assert_eq!(app.get(&detail).await.body["notes"], "from elsewhere");
}

/// A kept snapshot ends at the next commit, or after `MAX_SNAPSHOT_AGE` when nothing is
/// written, so the WAL can always be checkpointed to its end.
#[tokio::test]
async fn kept_snapshots_do_not_hold_back_checkpoints() {
    let (app, path) = app_on_file().await;
    let acme = app.customer("Acme").await;
    let invoice = app.invoice(acme, "10.00", "2024-01-05", "2024-02-04").await;
    let detail = format!("/v1/invoices/{invoice}");

    assert_eq!(app.get(&detail).await.status, StatusCode::OK);
    app.customer("Globex").await;
    let (busy, frames, done) = checkpoint(&path);
    assert_eq!((busy, frames), (0, done), "after a commit");

    assert_eq!(app.get(&detail).await.status, StatusCode::OK);
    tokio::time::sleep(MAX_SNAPSHOT_AGE * 3).await;
    let (busy, frames, done) = checkpoint(&path);
    assert_eq!((busy, frames), (0, done), "when idle");
}

fn wal_bytes(path: &std::path::Path) -> u64 {
    std::fs::metadata(path.with_extension("db-wal"))
        .map(|meta| meta.len())
        .unwrap_or(0)
}

/// Found in review: kept snapshots held back every checkpoint while reads and writes kept
/// coming, so the WAL never started over and grew by every write (~170 MB here). It must
/// stay near the checkpoint threshold (4,096 pages, 16 MiB).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_wal_starts_over_under_steady_reads_and_writes() {
    let (app, path) = app_on_file().await;
    let acme = app.customer("Acme").await;
    let mut invoices = Vec::new();
    for _ in 0..50 {
        invoices.push(
            app.invoice(acme, "999999.00", "2024-01-05", "2024-02-04")
                .await,
        );
    }
    let app = std::sync::Arc::new(app);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut readers = Vec::new();
    for &invoice in &invoices[..3] {
        let (app, stop) = (app.clone(), stop.clone());
        readers.push(tokio::spawn(async move {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                app.get(&format!("/v1/invoices/{invoice}")).await;
            }
        }));
    }
    for i in 0..3000 {
        let reply = app
            .pay(acme, invoices[i % invoices.len()], "1.00", "2024-01-20")
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for reader in readers {
        reader.await.unwrap();
    }
    let wal = wal_bytes(&path);
    assert!(wal < 32_000_000, "the WAL grew to {wal} bytes");
}
