//! The application: shared state, the OpenAPI service, and the middleware stack every
//! route runs behind, assembled in one place.

use std::sync::Arc;

use poem::middleware::{CatchPanic, NormalizePath, TrailingSlash};
use poem::{Endpoint, EndpointExt, Response, Route};
use poem_openapi::{ExtraHeader, OpenApiService};

use super::answer::JSON_CONTENT_TYPE;
use super::spec::spec_json;
use super::{
    admin, auth, credit_notes, customers, error, etag, idempotency, invoices, journal, keycache,
    keys, middleware, organization, payments, rate_limit, reports, scopes, statements, webhooks,
};
use crate::clock::Clock;
use crate::db::Db;
use crate::error::AppError;
use crate::ratelimit::RateLimiter;

/// What every handler shares.
pub struct AppState {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub limiter: RateLimiter,
    pub keys: Arc<keycache::KeyCache>,
    /// Reports built at once. A report over a large book is megabytes of JSON; more builds
    /// than cores would only share the CPU and multiply the memory.
    pub report_builds: tokio::sync::Semaphore,
    /// CSV exports streaming at once. Each holds a pooled connection and a blocking
    /// thread while its client reads, so they may take half of each, never all.
    pub(crate) exports: Arc<tokio::sync::Semaphore>,
    /// Counts committed writes; `GET /v1/events?wait=` wakes on it.
    pub(crate) journal_bell: tokio::sync::watch::Sender<u64>,
    /// Where `POST /v1/admin/backup` writes; none without `--backup-dir`.
    pub backup_dir: Option<std::path::PathBuf>,
    /// How many of its backups the directory keeps (`--backup-keep`).
    pub backup_keep: usize,
    /// Where e-mailed documents go out; none without `--smtp-url`.
    pub mailer: Option<Arc<crate::mail::Mailer>>,
    /// Set when the server is stopping: waiting feeds answer at once instead of holding
    /// the graceful shutdown for up to their 30 seconds.
    pub(crate) closing: tokio::sync::watch::Sender<bool>,
}

impl AppState {
    pub fn new(db: Db, clock: Arc<dyn Clock>, limiter: RateLimiter) -> Self {
        AppState {
            db,
            clock,
            limiter,
            keys: Arc::default(),
            report_builds: tokio::sync::Semaphore::new(2),
            exports: Arc::new(tokio::sync::Semaphore::new(2)),
            journal_bell: tokio::sync::watch::Sender::new(0),
            closing: tokio::sync::watch::Sender::new(false),
            mailer: None,
            backup_dir: None,
            backup_keep: 48,
        }
    }

    /// The same state, writing backups into `dir` and keeping the newest `keep` there.
    pub fn with_backup_dir(self, dir: std::path::PathBuf, keep: usize) -> Self {
        AppState {
            backup_dir: Some(dir),
            backup_keep: keep.max(1),
            ..self
        }
    }

    /// The same state, sending e-mail through `mailer`.
    pub fn with_mailer(self, mailer: crate::mail::Mailer) -> Self {
        AppState {
            mailer: Some(Arc::new(mailer)),
            ..self
        }
    }

    /// The server is stopping: requests waiting for events answer now.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Runs `f` as one write to organization `org`'s rows (see `Db::write`), then wakes
    /// whoever waits for new events.
    pub(crate) async fn write<T, F>(&self, org: i64, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&crate::db::WriteTx) -> Result<T, AppError> + Clone + Send + 'static,
    {
        let scope = crate::db::WriteScope::Organization(org);
        let value = self.db.write(scope, f).await?;
        self.journal_bell
            .send_modify(|writes| *writes = writes.wrapping_add(1));
        Ok(value)
    }

    /// Waits for a turn to build a report (see `report_builds`).
    pub(crate) async fn report_permit(&self) -> Result<tokio::sync::SemaphorePermit<'_>, AppError> {
        self.report_builds
            .acquire()
            .await
            .map_err(|_| AppError::Internal("report builds closed".into()))
    }

    /// "Today" for the calling key's organization: the date in its time zone.
    pub(crate) fn today_for(&self, ctx: &super::auth::AuthContext) -> chrono::NaiveDate {
        crate::clock::today_in(self.clock.as_ref(), ctx.zone)
    }

    /// The currency a request's amounts are in (see [`crate::db::organization::currency_for`]):
    /// primary-key lookups, read on the calling thread.
    pub(crate) fn currency_for(
        &self,
        org: i64,
        whose: crate::db::organization::Whose,
    ) -> Result<crate::domain::currency::Currency, crate::error::AppError> {
        self.db
            .read_statement(|conn| crate::db::organization::currency_for(conn, org, whose))
    }

    pub(crate) fn now_text(&self) -> String {
        crate::db::timestamp(self.clock.now())
    }
}

/// Every resource's operations, in the order the spec lists their tags.
type Apis = (
    keys::MetaApi,
    organization::OrganizationApi,
    customers::CustomersApi,
    statements::StatementsApi,
    invoices::InvoicesApi,
    invoices::WriteOffsApi,
    (payments::PaymentsApi, payments::PaymentSourceApi),
    (
        credit_notes::CreditNotesApi,
        credit_notes::CreditNoteSourceApi,
    ),
    reports::ReportsApi,
    (journal::EventsApi, journal::HistoryApi),
    webhooks::WebhooksApi,
    // (Default stops at 12-tuples: the last two share one place.)
    (keys::KeysApi, admin::AdminApi),
);

const DESCRIPTION: &str = "Accounts receivable over one SQLite file: customers, invoices, payments, aging and dashboard reports.\n\n\
Authenticate with an API key in the `x-arvalox-api-key` header (recommended), the `X-API-Key` header, or the `x_arvalox_api_key` query parameter. \
Money goes out as strings with exactly as many decimals as its currency has (`\"1620.00\"` in USD, `\"1620\"` in JPY, `\"1620.000\"` in KWD), named beside it in `currency`, and comes in as JSON numbers or strings, read exactly, with at most that many decimals. \
Dates are `YYYY-MM-DD` from 1900-01-01 to 9999-12-31. \
Every error has the body `{\"detail\", \"error_code\", \"field_errors\"}`; unknown body fields and unknown query parameters are refused by name. \
Every POST takes an optional `Idempotency-Key` header: a retry with the same key and body returns the first answer and writes nothing. \
Rate limits apply per key (by default 50 a minute, 1,000 an hour, 10,000 a day); every authenticated response carries `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` for the window nearest exhaustion. \
Every response carries `X-Request-Id` (send your own to correlate), and every change appends a hash-chained event to the audit journal, read at `GET /v1/events`.";

/// The OpenAPI service: the same value serves requests and prints `arvalox openapi`.
pub(crate) fn api_service() -> OpenApiService<Apis, ()> {
    OpenApiService::new(Apis::default(), "Arvalox API", env!("CARGO_PKG_VERSION"))
        .description(DESCRIPTION)
        .extra_response_header::<String, _>(ExtraHeader::new("X-Request-Id").description(
            "The request's id: the client's own `X-Request-Id` (1 to 128 visible ASCII characters) or a new one. Journal events the request appends carry it.",
        ))
        .extra_response_header::<Option<u64>, _>(ExtraHeader::new("X-RateLimit-Limit").description(
            "Requests allowed in the rate-limit window nearest exhaustion (authenticated routes).",
        ))
        .extra_response_header::<Option<u64>, _>(
            ExtraHeader::new("X-RateLimit-Remaining").description("Requests left in that window."),
        )
        .extra_response_header::<Option<u64>, _>(
            ExtraHeader::new("X-RateLimit-Reset")
                .description("Unix epoch seconds at which that window starts over."),
        )
}

/// The whole HTTP application, as `serve` runs it and tests drive it.
pub fn build_app(state: Arc<AppState>) -> impl Endpoint<Output = Response> {
    let service = api_service();
    let spec = spec_json();
    let yaml = serde_json::from_str::<serde_json::Value>(&spec)
        .ok()
        .and_then(|value| serde_yaml::to_string(&value).ok())
        .unwrap_or_default();
    let swagger = service.swagger_ui_html().replace(&service.spec(), &spec);
    // Kept once, at their length, and shared by every answer: a copy an answer (1.3 MB of
    // spec, 2.9 MB of docs page) took 64 concurrent spec requests to 175 MiB.
    let [spec, yaml, swagger] = [spec, yaml, swagger].map(shared);
    let spec_json = poem::endpoint::make_sync(move |_| {
        middleware::text_answer(JSON_CONTENT_TYPE, spec.clone())
    });
    let spec_yaml = poem::endpoint::make_sync(move |_| {
        middleware::text_answer("application/x-yaml; charset=utf-8", yaml.clone())
    });
    let swagger = poem::endpoint::make_sync(move |_| {
        middleware::text_answer("text/html; charset=utf-8", swagger.clone())
    });
    let auth_state = state.clone();
    let limit_state = state.clone();
    // The body limit, the query check and panic capture sit inside authentication, so
    // their answers are rate-limited and carry the rate-limit headers like any other.
    let query_table = Arc::new(route_table());
    let body_table = query_table.clone();
    let scope_table = query_table.clone();
    // Each layer is boxed: an async layer holds its inner layer's future by value, so the
    // unboxed chain made one 12 KB future that was copied whole on every request (35% of
    // `/health`'s instructions were that `memcpy`; BENCHMARKS.md, issue 16).
    let api = service
        .around(etag::not_modified)
        .boxed()
        .around(move |ep, req| middleware::limit_body(body_table.clone(), ep, req))
        .boxed()
        .around(idempotency::check_idempotency_key)
        .boxed()
        .around(move |ep, req| middleware::refuse_unknown_query(query_table.clone(), ep, req))
        .boxed()
        .with(CatchPanic::new().with_handler(middleware::panic_response))
        .boxed()
        .around(move |ep, req| scopes::refuse_out_of_scope(scope_table.clone(), ep, req))
        .boxed()
        .around(move |ep, req| rate_limit::per_key(limit_state.clone(), ep, req))
        .boxed()
        .around(move |ep, req| auth::authenticate(auth_state.clone(), ep, req))
        .boxed();
    let api = Arc::new(api);
    let routes = Route::new()
        .at("/openapi.json", poem::get(spec_json))
        .at("/openapi.yaml", poem::get(spec_yaml))
        .nest("/docs", poem::get(swagger))
        .at("/", poem::get(crate::console::console_page))
        .at("/console/:file", poem::get(crate::console::console_file))
        // The API under its own paths (not nested at `/`, which would take `/` too).
        .nest_no_strip("/v1", api.clone())
        .at("/health", api.clone())
        .at("/ready", api);
    with_middleware(routes, state)
}

/// `text` held at its length (a `replace` leaves up to twice that allocated), cheap to share.
fn shared(text: String) -> bytes::Bytes {
    bytes::Bytes::from(text.into_boxed_str().into_boxed_bytes())
}

/// Every route with its methods and query parameters, from the spec, plus the routes
/// outside it.
fn route_table() -> middleware::RouteTable {
    let spec: serde_json::Value = serde_json::from_str(&spec_json()).unwrap_or_default();
    middleware::RouteTable::from_spec(
        &spec,
        "",
        &[
            ("/openapi.json", "GET"),
            ("/openapi.yaml", "GET"),
            ("/docs", "GET"),
            ("/", "GET"),
            ("/console/{file}", "GET"),
        ],
    )
}

/// The cross-cutting layers every route runs behind, innermost first: shared state, error
/// rendering, `Allow` on 405, panic capture, header limit, access log, request id, trailing-slash trim.
pub fn with_middleware<E>(routes: E, state: Arc<AppState>) -> impl Endpoint<Output = Response>
where
    E: Endpoint + 'static,
{
    let table = Arc::new(route_table());
    let log_table = table.clone();
    // Boxed layer by layer, as the API's chain is (see `build_app`).
    routes
        .data(state)
        .catch_all_error(error::catch_all)
        .boxed()
        .around(move |ep, req| middleware::allow_header(table.clone(), ep, req))
        .boxed()
        .with(CatchPanic::new().with_handler(middleware::panic_response))
        .boxed()
        .around(middleware::limit_headers)
        .boxed()
        .around(move |ep, req| middleware::access_log(log_table.clone(), ep, req))
        .boxed()
        .around(middleware::request_id)
        .boxed()
        .with(NormalizePath::new(TrailingSlash::Trim))
}

/// Operation groups in the spec and Swagger UI.
#[derive(poem_openapi::Tags)]
pub(crate) enum Tag {
    /// Check an API key.
    Authentication,
    /// The organization's settings.
    Organization,
    /// Manage your customers.
    Customers,
    /// Create and manage invoices.
    Invoices,
    /// Track and manage payments.
    Payments,
    /// Issue credit notes and apply, refund or void their credit.
    CreditNotes,
    /// Aging and dashboard analytics.
    Reports,
    /// The audit journal: every change, hash-chained, as a feed and per entity.
    Events,
    /// Signed webhooks: journal events POSTed to your endpoints (admin scope).
    Webhooks,
    /// Manage API keys (admin scope).
    ApiKeys,
    /// Operations on the whole book: backups (admin scope).
    Admin,
}
