//! `TestApp`: the real application over a fresh SQLite file, driven through poem's TestClient.

use std::sync::Arc;

use arvalox::api::{build_app, AppState};
use arvalox::clock::FixedClock;
use arvalox::db::{Db, Synchronous};
use arvalox::domain::keys::Scope;
use arvalox::ratelimit::{Limits, RateLimiter};
use chrono::NaiveDate;
use poem::endpoint::BoxEndpoint;
use poem::http::{HeaderMap, Method, StatusCode};
use poem::test::TestClient;
use poem::EndpointExt;
use serde_json::Value;

/// The date every test runs on unless it says otherwise.
pub const TODAY: &str = "2024-03-01";

pub struct TestApp {
    _dir: tempfile::TempDir,
    /// The PostgreSQL database the book is in, when `ARVALOX_TEST_DATABASE_URL` is set
    /// (dropped with the app); otherwise the book is `ar.db` in the temporary folder.
    _database: Option<crate::postgres::FreshDatabase>,
    pub state: Arc<AppState>,
    pub client: TestClient<BoxEndpoint<'static>>,
    /// An admin key of organization `default`.
    pub key: String,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the documented error body and returns its `field_errors`.
    pub fn assert_error(&self, status: u16, code: &str) -> &Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(self.body["error_code"], code, "body: {}", self.body);
        assert!(self.body["detail"].as_str().is_some_and(|d| !d.is_empty()));
        assert!(self.body["field_errors"].is_object(), "body: {}", self.body);
        &self.body["field_errors"]
    }
}

pub fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

impl TestApp {
    pub async fn new() -> Self {
        Self::with(Limits::OFF, TODAY).await
    }

    pub async fn with(limits: Limits, today: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ar.db");
        Self::built(dir, &path, (limits, today), |state| state).await
    }

    /// The app over an existing file (kept alive by `dir`).
    pub async fn on_file(
        dir: tempfile::TempDir,
        path: &std::path::Path,
        limits: Limits,
        today: &str,
    ) -> Self {
        let store = Db::open(path, Synchronous::Full).unwrap();
        Self::over(dir, (store, None), (limits, today), |state| state).await
    }

    /// The app over a book seeded with `customers` and 1,500 invoices of every event (seed
    /// `seed`) up to 2026-06-30, which is its today.
    pub async fn seeded(customers: usize, seed: u64) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("book.db");
        let request = arvalox::db::bulk::SeedRequest {
            organization: "default",
            customers,
            invoices: 1500,
            seed,
            as_of: crate::helpers::date("2026-06-30"),
        };
        arvalox::db::bulk::seed_book(&path, &request, &mut |_, _| {}).unwrap();
        Self::on_file(dir, &path, Limits::OFF, "2026-06-30").await
    }

    /// The app sending e-mail as `mail` says.
    pub async fn mailing(mail: arvalox::mail::MailSettings) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ar.db");
        let mailer = arvalox::mail::Mailer::new(&mail).unwrap();
        Self::built(dir, &path, (Limits::OFF, TODAY), |state| {
            state.with_mailer(mailer)
        })
        .await
    }

    /// The app writing `POST /v1/admin/backup`'s copies into `backups`, keeping `keep`.
    pub async fn backing_up(backups: std::path::PathBuf, keep: usize) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ar.db");
        Self::built(dir, &path, (Limits::OFF, TODAY), |state| {
            state.with_backup_dir(backups, keep)
        })
        .await
    }

    /// The app over a new book: `path` on SQLite, or a fresh PostgreSQL database when
    /// `ARVALOX_TEST_DATABASE_URL` names a server.
    async fn built(
        dir: tempfile::TempDir,
        path: &std::path::Path,
        (limits, today): (Limits, &str),
        configure: impl FnOnce(AppState) -> AppState,
    ) -> Self {
        let book = match std::env::var(crate::postgres::SERVER_VARIABLE) {
            Ok(server) if !server.is_empty() => {
                // A statement PostgreSQL refuses is logged as an error: shown with the test.
                let _ = tracing_subscriber::fmt()
                    .with_max_level(tracing::Level::ERROR)
                    .with_test_writer()
                    .try_init();
                let database = crate::postgres::FreshDatabase::migrated(&server).await;
                let store = Db::open_postgres(&database.location(), 8).unwrap();
                (store, Some(database))
            }
            _ => (Db::open(path, Synchronous::Full).unwrap(), None),
        };
        Self::over(dir, book, (limits, today), configure).await
    }

    async fn over(
        dir: tempfile::TempDir,
        (store, database): (Db, Option<crate::postgres::FreshDatabase>),
        (limits, today): (Limits, &str),
        configure: impl FnOnce(AppState) -> AppState,
    ) -> Self {
        let when = (date(today), "2024-01-01T00:00:00.000Z");
        arvalox::api::journal::local::import_rows_written_before_the_journal(&store, when).unwrap();
        let state = Arc::new(configure(AppState::new(
            store,
            Arc::new(FixedClock::on(date(today))),
            RateLimiter::new(limits),
        )));
        let client = TestClient::new(build_app(state.clone()).boxed());
        let mut app = TestApp {
            _dir: dir,
            _database: database,
            state,
            client,
            key: String::new(),
        };
        app.key = app.new_key("default", Scope::Admin);
        app
    }

    /// A connection of the test's own to the book's PostgreSQL database, or `None` when
    /// the book is a SQLite file.
    pub async fn postgres_client(&self) -> Option<tokio_postgres::Client> {
        Some(self._database.as_ref()?.client().await)
    }

    /// A new key for `org` (created if missing).
    pub fn new_key(&self, org: &str, scope: Scope) -> String {
        let when = (date(TODAY), "2024-01-01T00:00:00.000Z");
        arvalox::api::journal::local::create_key(&self.state.db, org, ("test", scope), when)
            .unwrap()
            .1
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Reply {
        let mut request = self.client.request(method, path);
        if let Some(key) = key {
            request = request.header("x-arvalox-api-key", key);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await;
        let status = response.0.status();
        let headers = response.0.headers().clone();
        let bytes = response.0.into_body().into_vec().await.unwrap();
        // A file (a PDF) is not UTF-8: its body is kept as lossy text, for status checks.
        let text = String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    /// A GET whose answer is read as bytes (a PDF), with its status and headers.
    pub async fn get_bytes(
        &self,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (StatusCode, HeaderMap, Vec<u8>) {
        let mut request = self.client.get(path).header("x-arvalox-api-key", &self.key);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await;
        let (status, headers) = (response.0.status(), response.0.headers().clone());
        let bytes = response.0.into_body().into_vec().await.unwrap();
        (status, headers, bytes)
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.call(Method::GET, path, Some(&self.key), &[], None)
            .await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.call(
            Method::POST,
            path,
            Some(&self.key),
            &[],
            Some(&body.to_string()),
        )
        .await
    }

    /// A POST of raw text with extra headers, under the admin key.
    pub async fn post_raw(&self, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
        self.call(Method::POST, path, Some(&self.key), headers, Some(body))
            .await
    }

    pub async fn put(&self, path: &str, body: Value) -> Reply {
        self.call(
            Method::PUT,
            path,
            Some(&self.key),
            &[],
            Some(&body.to_string()),
        )
        .await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Reply {
        let body = body.to_string();
        self.call(Method::PATCH, path, Some(&self.key), &[], Some(&body))
            .await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.call(Method::DELETE, path, Some(&self.key), &[], None)
            .await
    }

    /// Creates a customer and returns its id.
    pub async fn customer(&self, name: &str) -> i64 {
        let reply = self
            .post("/v1/customers", serde_json::json!({ "name": name }))
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        reply.body["id"].as_i64().unwrap()
    }

    /// Creates a sent invoice of one untaxed line and returns its id.
    pub async fn invoice(&self, customer_id: i64, amount: &str, issue: &str, due: &str) -> i64 {
        let reply = self
            .post(
                "/v1/invoices",
                serde_json::json!({
                    "customer_id": customer_id,
                    "issue_date": issue,
                    "due_date": due,
                    "items": [{ "description": "Work", "quantity": 1, "unit_price": amount }]
                }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        reply.body["id"].as_i64().unwrap()
    }

    pub async fn pay(&self, customer_id: i64, invoice_id: i64, amount: &str, date: &str) -> Reply {
        self.post(
            "/v1/payments",
            serde_json::json!({
                "customer_id": customer_id,
                "invoice_id": invoice_id,
                "amount": amount,
                "payment_method": "bank_transfer",
                "payment_date": date
            }),
        )
        .await
    }
}

impl TestApp {
    /// The report summaries agree with the invoices they summarise.
    pub fn assert_summaries_match(&self) {
        self.state
            .db
            .read_blocking(|conn| {
                let differences: i64 = conn.query_row(
                    "/* test check */ SELECT COUNT(*) FROM (
                         SELECT organization_id, issue_date, status, COUNT(*) AS n, SUM(total_minor) AS t
                         FROM invoices GROUP BY 1, 2, 3
                         EXCEPT
                         SELECT organization_id, issue_date, status, invoice_count, total_minor
                         FROM invoice_daily WHERE invoice_count <> 0) drift",
                    (),
                    |row| row.get(0),
                )?;
                assert_eq!(differences, 0, "invoice_daily drifted from invoices");
                let settled: (i64, i64) = conn.query_row(
                    "/* test check */ SELECT (SELECT COALESCE(SUM(invoice_count), 0) FROM settled_daily),
                            (SELECT COUNT(*) FROM invoices i WHERE status = 'paid'
                               AND EXISTS (SELECT 1 FROM allocations a WHERE a.invoice_id = i.id))",
                    (),
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )?;
                assert_eq!(settled.0, settled.1, "settled_daily drifted from paid invoices");
                let totals: (i64, i64) = conn.query_row(
                    "/* test check */ SELECT (SELECT COALESCE(SUM(paid_total_minor), 0) FROM settled_daily),
                            (SELECT COALESCE(SUM(total_minor), 0) FROM invoices i WHERE status = 'paid'
                               AND EXISTS (SELECT 1 FROM allocations a WHERE a.invoice_id = i.id))",
                    (),
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )?;
                assert_eq!(totals.0, totals.1, "settled_daily's paid totals drifted from paid invoices");
                let facts = "SELECT organization_id, invoice_id, facts, moved_on, SUM(delta_minor) FROM (
                        SELECT organization_id, invoice_id, 'allocations' AS facts,
                               applied_date AS moved_on, -amount_minor AS delta_minor FROM allocations
                        UNION ALL SELECT organization_id, invoice_id, 'allocations', reversed_date,
                               amount_minor FROM allocations WHERE reversed_date IS NOT NULL
                        UNION ALL SELECT organization_id, invoice_id, 'write_offs', write_off_date,
                               -amount_minor FROM write_offs
                        UNION ALL SELECT organization_id, invoice_id, 'write_offs', reversed_date,
                               amount_minor FROM write_offs WHERE reversed_date IS NOT NULL) fact
                    GROUP BY organization_id, invoice_id, facts, moved_on";
                let kept = "SELECT organization_id, invoice_id, facts, moved_on, delta_minor
                            FROM invoice_movements";
                let drifted: i64 = conn.query_row(
                    &format!(
                        "/* test check */ SELECT (SELECT COUNT(*) FROM ({kept} EXCEPT {facts}) a)
                                               + (SELECT COUNT(*) FROM ({facts} EXCEPT {kept}) b)"
                    ),
                    (),
                    |row| row.get(0),
                )?;
                assert_eq!(drifted, 0, "invoice_movements drifted from allocations and write-offs");
                Ok(())
            })
            .unwrap();
    }

    /// Every stored sum equals a recount from the facts (grouped joins, as a recount must
    /// be at scale): an invoice's paid, credited and written-off sums are its live
    /// allocations by source and its live write-offs, and its status follows from them; a
    /// source's unapplied credit is its amount less live allocations and refunds (0 once
    /// void), and its refunded sum is its refunds.
    pub fn assert_sums_match(&self) {
        self.state
            .db
            .read_blocking(|conn| {
                let drifted: i64 = conn.query_row(
                    "/* test check */ WITH a AS (SELECT invoice_id,
                                SUM(CASE WHEN payment_id IS NOT NULL THEN amount_minor ELSE 0 END) AS paid,
                                SUM(CASE WHEN credit_note_id IS NOT NULL THEN amount_minor ELSE 0 END) AS credited
                         FROM allocations WHERE reversed_date IS NULL GROUP BY invoice_id),
                     w AS (SELECT invoice_id, SUM(amount_minor) AS written_off FROM write_offs
                           WHERE reversed_date IS NULL GROUP BY invoice_id)
                     SELECT COUNT(*) FROM invoices i
                     LEFT JOIN a ON a.invoice_id = i.id LEFT JOIN w ON w.invoice_id = i.id
                     WHERE i.amount_paid_minor <> COALESCE(a.paid, 0)
                        OR i.amount_credited_minor <> COALESCE(a.credited, 0)
                        OR i.amount_written_off_minor <> COALESCE(w.written_off, 0)
                        OR (i.status IN ('sent', 'partially_paid', 'paid', 'written_off') AND i.status <>
                            CASE WHEN i.amount_paid_minor + i.amount_credited_minor + i.amount_written_off_minor >= i.total_minor
                                 THEN CASE WHEN i.amount_written_off_minor > 0 THEN 'written_off' ELSE 'paid' END
                                 WHEN i.amount_paid_minor + i.amount_credited_minor + i.amount_written_off_minor > 0
                                 THEN 'partially_paid' ELSE 'sent' END)",
                    (),
                    |row| row.get(0),
                )?;
                assert_eq!(drifted, 0, "invoice sums or statuses drifted from the facts");
                for (table, column, amount) in [
                    ("payments", "payment_id", "amount_minor"),
                    ("credit_notes", "credit_note_id", "total_minor"),
                ] {
                    let drifted: i64 = conn.query_row(
                        &format!(
                            "/* test check */ WITH a AS (SELECT {column} AS id, SUM(amount_minor) AS used FROM allocations
                                        WHERE {column} IS NOT NULL AND reversed_date IS NULL GROUP BY 1),
                                  r AS (SELECT {column} AS id, SUM(amount_minor) AS refunded FROM refunds
                                        WHERE {column} IS NOT NULL GROUP BY 1)
                             SELECT COUNT(*) FROM {table} s
                             LEFT JOIN a ON a.id = s.id LEFT JOIN r ON r.id = s.id
                             WHERE s.refunded_minor <> COALESCE(r.refunded, 0)
                                OR s.unapplied_minor <> CASE WHEN s.void_date IS NOT NULL THEN 0
                                   ELSE s.{amount} - COALESCE(a.used, 0) - COALESCE(r.refunded, 0) END"
                        ),
                        (),
                        |row| row.get(0),
                    )?;
                    assert_eq!(drifted, 0, "{table}: unapplied or refunded drifted from the facts");
                }
                Ok(())
            })
            .unwrap();
    }
}
