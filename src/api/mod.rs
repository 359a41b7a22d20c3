//! HTTP: the only module that knows poem. One submodule per resource.

pub mod auth;
pub mod customers;
pub mod error;
pub mod invoices;
pub mod keycache;
pub mod keys;
pub mod messages;
pub mod middleware;
pub mod payments;
pub mod rate_limit;
pub mod reports;
pub mod scopes;
pub mod spec;
pub mod types;

use std::marker::PhantomData;
use std::sync::Arc;

use poem::http::{header, HeaderValue, StatusCode};
use poem::middleware::{CatchPanic, NormalizePath, TrailingSlash};
use poem::{Endpoint, EndpointExt, IntoResponse, Response, Route};
use poem_openapi::payload::Payload;
use poem_openapi::registry::MetaSchemaRef;
use poem_openapi::registry::{MetaHeader, MetaMediaType, MetaResponse, MetaResponses, Registry};
use poem_openapi::types::Type;
use poem_openapi::{ApiResponse, ExtraHeader, OpenApiService};
use serde::Serialize;

use crate::clock::Clock;
use crate::db::idempotency::{self, IdempotencyRequest, StoredResponse};
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
}

impl AppState {
    pub fn new(db: Db, clock: Arc<dyn Clock>, limiter: RateLimiter) -> Self {
        AppState {
            db,
            clock,
            limiter,
            keys: Arc::default(),
            report_builds: tokio::sync::Semaphore::new(2),
        }
    }

    /// Waits for a turn to build a report (see `report_builds`).
    pub async fn report_permit(&self) -> Result<tokio::sync::SemaphorePermit<'_>, AppError> {
        self.report_builds
            .acquire()
            .await
            .map_err(|_| AppError::Internal("report builds closed".into()))
    }

    pub fn now_text(&self) -> String {
        crate::db::timestamp(self.clock.now())
    }
}

type Apis = (
    keys::MetaApi,
    customers::CustomersApi,
    invoices::InvoicesApi,
    payments::PaymentsApi,
    reports::ReportsApi,
    keys::KeysApi,
);

const DESCRIPTION: &str = "Accounts receivable over one SQLite file: customers, invoices, payments, aging and dashboard reports.\n\n\
Authenticate with an API key in the `x-arvalox-api-key` header (recommended), the `X-API-Key` header, or the `x_arvalox_api_key` query parameter. \
Money goes out as strings with two decimals (`\"1620.00\"`) and comes in as JSON numbers or strings, read exactly. \
Dates are `YYYY-MM-DD` from 1900-01-01 to 9999-12-31. \
Every error has the body `{\"detail\", \"error_code\", \"field_errors\"}`; unknown body fields and unknown query parameters are refused by name. \
Every POST takes an optional `Idempotency-Key` header: a retry with the same key and body returns the first answer and writes nothing. \
Rate limits apply per key (by default 50 a minute, 1,000 an hour, 10,000 a day); every authenticated response carries `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` for the window nearest exhaustion.";

/// The OpenAPI service: the same value serves requests and prints `arvalox openapi`.
pub fn api_service() -> OpenApiService<Apis, ()> {
    OpenApiService::new(
        (
            keys::MetaApi,
            customers::CustomersApi,
            invoices::InvoicesApi,
            payments::PaymentsApi,
            reports::ReportsApi,
            keys::KeysApi,
        ),
        "Arvalox API",
        env!("CARGO_PKG_VERSION"),
    )
    .description(DESCRIPTION)
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

pub use spec::spec_json;

/// The whole HTTP application, as `serve` runs it and tests drive it.
pub fn build_app(state: Arc<AppState>) -> impl Endpoint<Output = Response> {
    let service = api_service();
    let spec = spec_json();
    let yaml = serde_json::from_str::<serde_json::Value>(&spec)
        .ok()
        .and_then(|value| serde_yaml::to_string(&value).ok())
        .unwrap_or_default();
    let swagger = service.swagger_ui_html().replace(&service.spec(), &spec);
    let spec_json = poem::endpoint::make_sync(move |_| {
        middleware::text_answer(JSON_CONTENT_TYPE, spec.clone())
    });
    let spec_yaml = poem::endpoint::make_sync(move |_| {
        middleware::text_answer("application/x-yaml; charset=utf-8", yaml.clone())
    });
    let swagger = poem::endpoint::make_sync(move |_| poem::web::Html(swagger.clone()));
    let auth_state = state.clone();
    let limit_state = state.clone();
    // The body limit, the query check and panic capture sit inside authentication, so
    // their answers are rate-limited and carry the rate-limit headers like any other.
    let query_table = Arc::new(route_table());
    let api = service
        .around(middleware::limit_body)
        .around(middleware::check_idempotency_key)
        .around(move |ep, req| middleware::refuse_unknown_query(query_table.clone(), ep, req))
        .with(CatchPanic::new().with_handler(middleware::panic_response))
        .around(move |ep, req| rate_limit::per_key(limit_state.clone(), ep, req))
        .around(move |ep, req| auth::authenticate(auth_state.clone(), ep, req));
    let routes = Route::new()
        .at("/openapi.json", poem::get(spec_json))
        .at("/openapi.yaml", poem::get(spec_yaml))
        .nest("/docs", poem::get(swagger))
        .nest("/", api);
    with_middleware(routes, state)
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
        ],
    )
}

/// The cross-cutting layers every route runs behind, innermost first: shared state, error
/// rendering, `Allow` on 405, panic capture, header limit, access log, trailing-slash trim.
pub fn with_middleware<E>(routes: E, state: Arc<AppState>) -> impl Endpoint<Output = Response>
where
    E: Endpoint + 'static,
{
    let table = Arc::new(route_table());
    routes
        .data(state)
        .catch_all_error(error::catch_all)
        .around(move |ep, req| middleware::allow_header(table.clone(), ep, req))
        .with(CatchPanic::new().with_handler(middleware::panic_response))
        .around(middleware::limit_headers)
        .around(middleware::access_log)
        .with(NormalizePath::new(TrailingSlash::Trim))
}

// ---------------------------------------------------------------------------------------
// Answers: JSON written straight from each type's serde form. poem-openapi's own `Json`
// builds a `serde_json::Value` tree first (a map allocation and hash per field), which was
// half the instructions of an invoice read. The schema still comes from `T: Type`, and a
// test checks serde's JSON against poem-openapi's `ToJSON` for every answer type.

/// Writes `value` as JSON text.
pub(crate) fn to_json_text<T: Serialize>(value: &T) -> String {
    // Room for a typical invoice up front, rather than growing (and copying) from 128 bytes.
    let mut text = Vec::with_capacity(2048);
    // Serializing a plain struct cannot fail: every map key is a field name.
    if serde_json::to_writer(&mut text, value).is_err() {
        return String::new();
    }
    // serde_json writes only valid UTF-8.
    String::from_utf8(text).unwrap_or_default()
}

const JSON_CONTENT_TYPE: &str = "application/json; charset=utf-8";

/// A 200 JSON answer documented as `T` (poem-openapi's `Json`, serialized by serde).
pub struct Json<T>(pub T);

impl<T: Type> Payload for Json<T> {
    const CONTENT_TYPE: &'static str = JSON_CONTENT_TYPE;

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: Serialize + Send> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        middleware::text_answer(JSON_CONTENT_TYPE, to_json_text(&self.0))
    }
}

impl<T: Type + Serialize + Send> ApiResponse for Json<T> {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![MetaResponse {
                description: "",
                status: Some(200),
                status_range: None,
                content: vec![MetaMediaType {
                    content_type: <Self as Payload>::CONTENT_TYPE,
                    schema: <Self as Payload>::schema_ref(),
                }],
                headers: vec![],
            }],
        }
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

// Answers to writes: raw JSON so a stored answer replays byte for byte.

/// A JSON answer with status `STATUS` (201 adds a `Location` header); documented as `T`.
pub struct JsonAnswer<T, const STATUS: u16> {
    status: u16,
    location: Option<String>,
    body: String,
    _schema: PhantomData<T>,
}

pub type Created<T> = JsonAnswer<T, 201>;
pub type Done<T> = JsonAnswer<T, 200>;

impl<T: Serialize, const STATUS: u16> JsonAnswer<T, STATUS> {
    /// `value` serialized now, so only its text is kept until the answer is sent.
    pub fn of(value: &T) -> Self {
        JsonAnswer {
            status: STATUS,
            location: None,
            body: to_json_text(value),
            _schema: PhantomData,
        }
    }

    /// An answer already written as JSON text that serializing a `T` would give.
    pub fn from_text(body: String) -> Self {
        JsonAnswer {
            status: STATUS,
            location: None,
            body,
            _schema: PhantomData,
        }
    }
}

impl<T: Send, const STATUS: u16> IntoResponse for JsonAnswer<T, STATUS> {
    fn into_response(self) -> Response {
        let mut response = middleware::text_answer(JSON_CONTENT_TYPE, self.body);
        response.set_status(StatusCode::from_u16(self.status).unwrap_or(StatusCode::OK));
        if let Some(value) = self.location.and_then(|l| HeaderValue::from_str(&l).ok()) {
            response.headers_mut().insert(header::LOCATION, value);
        }
        response
    }
}

impl<T: Type + Send, const STATUS: u16> ApiResponse for JsonAnswer<T, STATUS> {
    fn meta() -> MetaResponses {
        let headers = if STATUS == 201 {
            vec![MetaHeader {
                name: "Location".into(),
                description: Some("Path of the created resource.".into()),
                required: true,
                deprecated: false,
                schema: String::schema_ref(),
            }]
        } else {
            vec![]
        };
        MetaResponses {
            responses: vec![MetaResponse {
                description: if STATUS == 201 { "Created." } else { "OK." },
                status: Some(STATUS),
                status_range: None,
                content: vec![MetaMediaType {
                    content_type: "application/json; charset=utf-8",
                    schema: T::schema_ref(),
                }],
                headers,
            }],
        }
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

/// A POST: one IMMEDIATE transaction that, under an `Idempotency-Key`, first replays a
/// stored answer (same request) or refuses the key (different request), and otherwise runs
/// `f` and stores its answer with the write it describes.
pub async fn post_write<T, const STATUS: u16, F>(
    state: &AppState,
    organization_id: i64,
    request_path: String,
    idempotency_key: Option<String>,
    request_hash: String,
    f: F,
) -> Result<JsonAnswer<T, STATUS>, AppError>
where
    T: Serialize + Send + 'static,
    F: FnOnce(&crate::db::WriteTx, &str) -> Result<(T, Option<String>), AppError> + Send + 'static,
{
    post_write_redacting(
        state,
        organization_id,
        request_path,
        idempotency_key,
        request_hash,
        None,
        f,
    )
    .await
}

/// `post_write` whose stored answer has the top-level field `secret_field` set to null:
/// a secret is answered once and never stored, not even for replays.
pub async fn post_write_redacting<T, const STATUS: u16, F>(
    state: &AppState,
    organization_id: i64,
    request_path: String,
    idempotency_key: Option<String>,
    request_hash: String,
    secret_field: Option<&'static str>,
    f: F,
) -> Result<JsonAnswer<T, STATUS>, AppError>
where
    T: Serialize + Send + 'static,
    F: FnOnce(&crate::db::WriteTx, &str) -> Result<(T, Option<String>), AppError> + Send + 'static,
{
    // The key's form was checked on the raw header by `middleware::check_idempotency_key`.
    let now = state.now_text();
    let stored = state
        .db
        .write(move |tx| {
            let request = idempotency_key.as_deref().map(|key| IdempotencyRequest {
                organization_id,
                key,
                method: "POST",
                path: &request_path,
                request_hash: &request_hash,
            });
            if let Some(request) = &request {
                if let Some(stored) = idempotency::lookup(tx, request)? {
                    return Ok(stored);
                }
            }
            let (value, location) = f(tx, &now)?;
            let answer = StoredResponse {
                status: STATUS,
                location,
                body: to_json_text(&value),
            };
            if let Some(request) = &request {
                let mut stored = answer.clone();
                if let Some(field) = secret_field {
                    let mut json = serde_json::to_value(&value).unwrap_or_default();
                    if let Some(fields) = json.as_object_mut() {
                        fields.insert(field.to_string(), serde_json::Value::Null);
                    }
                    stored.body = json.to_string();
                }
                idempotency::store(tx, request, &stored, &now)?;
            }
            Ok(answer)
        })
        .await?;
    Ok(JsonAnswer {
        status: stored.status,
        location: stored.location,
        body: stored.body,
        _schema: PhantomData,
    })
}

/// `limit` (1–500, default 50) and `offset` (≥ 0, default 0); bad values go to `errors`.
pub fn page_bounds(
    limit: Option<i64>,
    offset: Option<i64>,
    errors: &mut crate::error::FieldErrorsBuilder,
) -> (i64, i64) {
    let limit = limit.unwrap_or(50);
    let offset = offset.unwrap_or(0);
    if !(1..=500).contains(&limit) {
        errors.add("limit", format!("must be between 1 and 500 (got {limit})"));
    }
    if offset < 0 {
        errors.add("offset", format!("must be 0 or more (got {offset})"));
    }
    (limit, offset)
}

/// Operation groups in the spec and Swagger UI.
#[derive(poem_openapi::Tags)]
pub enum Tag {
    /// Check an API key.
    Authentication,
    /// Manage your customers.
    Customers,
    /// Create and manage invoices.
    Invoices,
    /// Track and manage payments.
    Payments,
    /// Aging and dashboard analytics.
    Reports,
    /// Manage API keys (admin scope).
    ApiKeys,
}

#[cfg(test)]
mod tests {
    use poem_openapi::types::{Example, ToJSON};
    use serde::Serialize;

    /// Answers are written by serde but documented by poem-openapi: both must agree.
    fn assert_serde_matches_spec<T: Serialize + ToJSON>(value: T) {
        assert_eq!(
            serde_json::to_value(&value).unwrap(),
            value.to_json().unwrap(),
            "{}",
            std::any::type_name::<T>()
        );
    }

    #[test]
    fn serde_answers_match_the_documented_json() {
        assert_serde_matches_spec(super::customers::Customer::example());
        assert_serde_matches_spec(super::payments::Payment::example());
        assert_serde_matches_spec(super::keys::Ping::example());
        let mut invoice = super::invoices::Invoice::example();
        assert!(invoice.payments.is_some());
        invoice.notes = Some("Net 30, \"quoted\" — ünïcode".into());
        assert_serde_matches_spec(invoice.clone());
        invoice.payments = None;
        invoice.notes = None;
        assert_serde_matches_spec(invoice.clone());
        for status in [
            super::invoices::Status::Draft,
            super::invoices::Status::Sent,
            super::invoices::Status::PartiallyPaid,
            super::invoices::Status::Paid,
            super::invoices::Status::Void,
        ] {
            assert_serde_matches_spec(status);
        }
    }
}
