//! What the server counts and times, and `GET /metrics` in the Prometheus text format on a
//! listener of its own (`serve --metrics-bind`), never beside the API.
//!
//! Recording goes through the `metrics` facade: without `--metrics-bind` no recorder is
//! installed and every record here costs next to nothing. Every name is in this file.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use metrics::{counter, gauge, histogram, KeyName, SharedString, Unit};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use poem::{EndpointExt, Route};

const REQUESTS: &str = "arvalox_http_requests_total";
const REQUEST_SECONDS: &str = "arvalox_http_request_duration_seconds";
const RATE_LIMITED: &str = "arvalox_rate_limit_rejections_total";
const AUTH_FAILURES: &str = "arvalox_auth_failures_total";
const BATCH_WRITES: &str = "arvalox_write_batch_size";
const COMMIT_SECONDS: &str = "arvalox_write_commit_duration_seconds";
const WAL_FLUSH_SECONDS: &str = "arvalox_wal_flush_duration_seconds";
const DURABLE_WAIT_SECONDS: &str = "arvalox_durable_wait_seconds";
const WRITE_RETRIES: &str = "arvalox_write_retries_total";
const POOL_WAIT_SECONDS: &str = "arvalox_db_read_wait_seconds";
const DATABASE_BYTES: &str = "arvalox_database_size_bytes";
const WAL_BYTES: &str = "arvalox_wal_size_bytes";
const BACKUPS: &str = "arvalox_backups_total";
const LAST_BACKUP_AGE: &str = "arvalox_last_backup_age_seconds";
const LAST_BACKUP_TIME: &str = "arvalox_last_backup_timestamp_seconds";

/// Seconds since the epoch of the last backup that passed its checks; 0 before the first.
static LAST_BACKUP: AtomicU64 = AtomicU64::new(0);

/// One answered request: its route template (`/v1/invoices/{id}`, or `unmatched`, so a
/// scan of made-up paths adds no series), method and status.
pub fn request(route: &str, method: &str, status: u16, elapsed: Duration) {
    let (route, method) = (route.to_string(), method.to_string());
    histogram!(REQUEST_SECONDS, "route" => route.clone(), "method" => method.clone())
        .record(elapsed.as_secs_f64());
    counter!(REQUESTS, "route" => route, "method" => method, "status" => status.to_string())
        .increment(1);
}

/// A request refused by a rate limit: `window` is `key` or `ip` (failed authentications).
pub fn rate_limited(window: &'static str) {
    counter!(RATE_LIMITED, "limit" => window).increment(1);
}

/// A request refused for its key: `reason` is `missing` or `invalid`.
pub fn auth_failure(reason: &'static str) {
    counter!(AUTH_FAILURES, "reason" => reason).increment(1);
}

/// One group commit of the writer: how many writes it held, how long the commit took.
pub fn write_batch(writes: usize, commit: Duration) {
    histogram!(BATCH_WRITES).record(writes as f64);
    histogram!(COMMIT_SECONDS).record(commit.as_secs_f64());
}

/// The WAL was flushed to disk before the batches it holds were answered (SQLite with
/// `synchronous=full`).
pub fn wal_flushed(took: Duration) {
    histogram!(WAL_FLUSH_SECONDS).record(took.as_secs_f64());
}

/// A reader that passes rows on as a promise waited for the WAL flush of what it read
/// (`db/writer/durable_mark.rs`); mostly 0 s, when nothing was waiting for a flush.
pub fn durable_wait(waited: Duration) {
    histogram!(DURABLE_WAIT_SECONDS).record(waited.as_secs_f64());
}

/// A write on PostgreSQL lost a race (a deadlock or a serialization failure) and is run
/// again.
pub fn write_retried() {
    counter!(WRITE_RETRIES).increment(1);
}

/// How long a read waited for a blocking thread and a pooled connection.
pub fn read_wait(waited: Duration) {
    histogram!(POOL_WAIT_SECONDS).record(waited.as_secs_f64());
}

/// A backup ended: `trigger` is `scheduled` or `api`.
pub fn backup(trigger: &'static str, ok: bool) {
    let outcome = if ok { "ok" } else { "failed" };
    counter!(BACKUPS, "trigger" => trigger, "outcome" => outcome).increment(1);
    if ok {
        LAST_BACKUP.store(seconds_since_epoch(), Ordering::Relaxed);
    }
}

/// The machine's time: an age is wall-clock time, whatever clock the books are kept by.
fn seconds_since_epoch() -> u64 {
    use crate::clock::Clock;
    u64::try_from(crate::clock::SystemClock.now().timestamp()).unwrap_or(0)
}

/// Installs the recorder (once per process) and answers the handle that renders it.
pub fn install() -> Result<PrometheusHandle, String> {
    let latency = [
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    ];
    let sizes = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];
    let handle = PrometheusBuilder::new()
        .set_buckets(&latency)
        .and_then(|b| b.set_buckets_for_metric(Matcher::Full(BATCH_WRITES.into()), &sizes))
        .and_then(PrometheusBuilder::install_recorder)
        .map_err(|err| format!("cannot start the metrics recorder: {err}"))?;
    describe();
    Ok(handle)
}

/// Which kind of series a name is, for its `# TYPE` line.
#[derive(Clone, Copy)]
enum Kind {
    Counter,
    Histogram,
    Gauge,
}
use Kind::{Counter, Gauge, Histogram};

/// Every series with its unit and the `# HELP` text a scrape shows for it.
const DESCRIPTIONS: &[(Kind, &str, Option<Unit>, &str)] = &[
    (Counter, REQUESTS, None, "Requests answered, by route template, method and status."),
    (Histogram, REQUEST_SECONDS, Some(Unit::Seconds), "Time to answer a request, by route template and method."),
    (Counter, RATE_LIMITED, None, "Requests refused with 429, by limit: key (the per-key windows) or ip (failed authentications)."),
    (Counter, AUTH_FAILURES, None, "Requests refused with 401, by reason: missing or invalid key."),
    (Histogram, BATCH_WRITES, None, "Writes committed together in one group commit."),
    (Histogram, COMMIT_SECONDS, Some(Unit::Seconds), "Time to run and commit one group of writes."),
    (Histogram, WAL_FLUSH_SECONDS, Some(Unit::Seconds), "Time to flush the WAL before answering the writes it holds (SQLite, synchronous=full); one flush may answer several groups."),
    (Histogram, DURABLE_WAIT_SECONDS, Some(Unit::Seconds), "Time a replayed answer, an event feed, a webhook or an e-mail waited for the WAL flush of what it read (SQLite, synchronous=full)."),
    (Counter, WRITE_RETRIES, None, "Writes run again on PostgreSQL after losing a race (a deadlock or a serialization failure)."),
    (Histogram, POOL_WAIT_SECONDS, Some(Unit::Seconds), "Time a read waited for a thread and a pooled connection."),
    (Gauge, DATABASE_BYTES, Some(Unit::Bytes), "Size of the book's file."),
    (Gauge, WAL_BYTES, Some(Unit::Bytes), "Size of the book's write-ahead log."),
    (Counter, BACKUPS, None, "Backups ended, by trigger (scheduled or api) and outcome (ok or failed)."),
    (Gauge, LAST_BACKUP_TIME, Some(Unit::Seconds), "When the last checked backup was taken (seconds since 1970); 0 before the first."),
    (Gauge, LAST_BACKUP_AGE, Some(Unit::Seconds), "Seconds since the last checked backup; absent before the first."),
];

fn describe() {
    for &(kind, name, unit, text) in DESCRIPTIONS {
        let (key, text) = (KeyName::from_const_str(name), SharedString::const_str(text));
        metrics::with_recorder(|recorder| match kind {
            Counter => recorder.describe_counter(key, unit, text),
            Histogram => recorder.describe_histogram(key, unit, text),
            Gauge => recorder.describe_gauge(key, unit, text),
        });
    }
}

/// The figures read at scrape time: file sizes (of a SQLite book; a PostgreSQL server
/// reports its own) and the last backup's age.
fn refresh(book: Option<&Path>) {
    if let Some(book) = book {
        let size = |path: &Path| std::fs::metadata(path).map_or(0, |meta| meta.len());
        gauge!(DATABASE_BYTES).set(size(book) as f64);
        let mut wal = book.as_os_str().to_owned();
        wal.push("-wal");
        gauge!(WAL_BYTES).set(size(Path::new(&wal)) as f64);
    }
    let last = LAST_BACKUP.load(Ordering::Relaxed);
    gauge!(LAST_BACKUP_TIME).set(last as f64);
    if last > 0 {
        gauge!(LAST_BACKUP_AGE).set(seconds_since_epoch().saturating_sub(last) as f64);
    }
}

/// The metrics listener's one route, `GET /metrics`.
pub fn endpoint(handle: PrometheusHandle, book: Option<PathBuf>) -> impl poem::Endpoint {
    let scrape = poem::endpoint::make_sync(move |_| {
        refresh(book.as_deref());
        handle.run_upkeep();
        poem::Response::builder()
            .content_type("text/plain; version=0.0.4; charset=utf-8")
            .body(handle.render())
    });
    Route::new()
        .at("/metrics", poem::get(scrape))
        .map_to_response()
}

/// Folds the recorded latencies into their buckets every few seconds, scraped or not, so
/// they never pile up between scrapes.
pub fn spawn_upkeep(handle: PrometheusHandle) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(5));
        loop {
            every.tick().await;
            handle.run_upkeep();
        }
    });
}
