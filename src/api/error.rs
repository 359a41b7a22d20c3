//! The one place errors become the documented body `{"detail", "error_code", "field_errors"}`.

use std::collections::BTreeMap;
use std::marker::PhantomData;

use poem::http::{header, StatusCode};
use poem::{IntoResponse, Response};
use poem_openapi::registry::{
    MetaMediaType, MetaResponse, MetaResponses, MetaSchema, MetaSchemaRef, Registry,
};
use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult, Type};
use poem_openapi::{ApiResponse, Object};

use super::answer::required_header;
use crate::error::AppError;

/// The error code on the wire and in the spec, written from the one list
/// ([`crate::error::ErrorCode`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WireCode(pub crate::error::ErrorCode);

crate::api::types::scalar_type!(
    WireCode,
    name: "ErrorCode",
    schema: MetaSchemaRef::Reference("ErrorCode".into()),
    register: |registry: &mut poem_openapi::registry::Registry| {
registry.create_schema::<Self, _>("ErrorCode".into(), |_| MetaSchema {
            description: Some("Machine-readable error codes."),
            enum_items: crate::error::ErrorCode::ALL
                .iter()
                .map(|code| serde_json::Value::String(code.as_str().into()))
                .collect(),
            ..MetaSchema::new("string")
        });
},
    json_text: |code| code.0.as_str().into(),
);

impl ParseFromJSON for WireCode {
    fn parse_from_json(value: Option<serde_json::Value>) -> ParseResult<Self> {
        let text = value.as_ref().and_then(serde_json::Value::as_str);
        crate::error::ErrorCode::ALL
            .into_iter()
            .find(|code| Some(code.as_str()) == text)
            .map(WireCode)
            .ok_or_else(|| ParseError::custom("not an error code"))
    }
}

/// Every non-2xx answer has this body.
#[derive(Object, Debug, Clone)]
#[oai(example)]
pub(crate) struct ErrorBody {
    /// What went wrong and what to change.
    pub detail: String,
    pub error_code: WireCode,
    /// Bad fields by name (`items[0].quantity`); `{}` when no field is at fault.
    pub field_errors: BTreeMap<String, Vec<String>>,
}

impl poem_openapi::types::Example for ErrorBody {
    fn example() -> Self {
        let mut field_errors = BTreeMap::new();
        field_errors.insert(
            "email".to_string(),
            vec!["This field is required".to_string()],
        );
        ErrorBody {
            detail: "Invalid request: email: This field is required".into(),
            error_code: WireCode(crate::error::ErrorCode::ValidationError),
            field_errors,
        }
    }
}

impl poem::error::ResponseError for AppError {
    fn status(&self) -> StatusCode {
        StatusCode::from_u16(AppError::status(self)).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn as_response(&self) -> Response {
        render(self)
    }
}

pub(crate) fn render(err: &AppError) -> Response {
    if let AppError::Internal(message) = err {
        tracing::error!(error = %message, "request failed");
    }
    let body = serde_json::json!({
        "detail": err.public_detail(),
        "error_code": err.code(),
        "field_errors": err.field_errors(),
    });
    let mut response = Response::builder()
        .status(StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .content_type("application/json")
        .body(body.to_string());
    if let AppError::RateLimited { retry_after_secs }
    | AppError::DatabaseBusy { retry_after_secs } = err
    {
        if let Ok(value) = retry_after_secs.to_string().parse() {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
    }
    response
}

/// Maps any error, ours or the framework's, to our body.
pub(crate) fn to_app_error(err: poem::Error) -> AppError {
    use poem_openapi::error::{
        AuthorizationError, ContentTypeError, ParseParamError, ParsePathError,
        ParseRequestPayloadError,
    };
    if let Some(app) = err.downcast_ref::<AppError>() {
        return app.clone();
    }
    if let Some(e) = err.downcast_ref::<ParseParamError>() {
        return AppError::field(e.name, param_message(e.name, &e.reason));
    }
    if let Some(e) = err.downcast_ref::<ParsePathError>() {
        let name = if e.name.starts_with("param") {
            "id"
        } else {
            e.name
        };
        return AppError::field(name, param_message(name, &e.reason));
    }
    // poem's router drops a path segment that does not decode to UTF-8 (`%FF`), and the
    // operation then finds no id at all. Every path parameter here is an `id`.
    if err.is::<poem::error::ParsePathError>() {
        return AppError::field(
            "id",
            "must be a whole number (the path segment is not valid percent-encoded text)",
        );
    }
    if let Some(e) = err.downcast_ref::<ParseRequestPayloadError>() {
        return AppError::field("body", clean_reason(&e.reason));
    }
    if let Some(e) = err.downcast_ref::<ContentTypeError>() {
        return AppError::UnsupportedMediaType(format!("{e}: send application/json."));
    }
    if err.is::<AuthorizationError>() {
        return AppError::AuthenticationRequired;
    }
    match err.status() {
        StatusCode::NOT_FOUND => {
            AppError::NotFound("No such route: check the path against /openapi.json.".into())
        }
        StatusCode::METHOD_NOT_ALLOWED => AppError::MethodNotAllowed(
            "This method is not allowed on this route; see the Allow header.".into(),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge {
            limit: crate::api::middleware::BODY_LIMIT,
        },
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            AppError::UnsupportedMediaType("Send application/json.".into())
        }
        status if status.is_client_error() => AppError::field("body", err.to_string()),
        _ => AppError::Internal(err.to_string()),
    }
}

/// poem-openapi's reasons name Rust types; say instead what the client should send.
pub(crate) fn param_message(name: &str, reason: &str) -> String {
    if reason.contains("enumeration") {
        let allowed = match name {
            "payment_method" => crate::domain::payment::PaymentMethod::names(),
            _ => "the values listed for it in /openapi.json".to_string(),
        };
        return format!("must be one of: {allowed}");
    }
    if reason.contains("integer") {
        return "must be a whole number".to_string();
    }
    if reason.contains("boolean") {
        return "must be true or false".to_string();
    }
    clean_reason(reason)
}

fn clean_reason(reason: &str) -> String {
    crate::api::messages::without_type_name(reason.to_string()).replace('"', "'")
}

/// `catch_all_error` handler: every error leaves as our JSON body.
pub(crate) async fn catch_all(err: poem::Error) -> Response {
    render(&to_app_error(err))
}

// ---------------------------------------------------------------------------------------
// Documenting errors per operation: `ApiError<S>` lists the statuses in `S`.

pub(crate) trait ErrorSet: Send + Sync + 'static {
    const STATUSES: &'static [u16];
    /// The operation may send e-mail: its 409 may also be `EMAIL_NOT_CONFIGURED`.
    const SENDS_MAIL: bool = false;
}

/// The 409 of an operation that may send e-mail.
const MAIL_CONFLICT: &str = "CONFLICT: the resource's state forbids the change, or an Idempotency-Key was reused with a different body; or EMAIL_NOT_CONFIGURED: e-mail was asked for, but the server was started without `--smtp-url`.";

fn describe(status: u16) -> &'static str {
    match status {
        400 => "VALIDATION_ERROR: a field, parameter or body is invalid, or the query carries a parameter this operation does not take; `field_errors` names each one.",
        401 => "AUTHENTICATION_REQUIRED (no key sent) or INVALID_API_KEY (unknown or revoked key).",
        403 => "INSUFFICIENT_PERMISSIONS: the key's scope does not allow this operation.",
        404 => "NOT_FOUND: no such resource in the calling key's organization.",
        409 => "CONFLICT: a unique value is taken, the resource's state forbids the change, or an Idempotency-Key was reused with a different body.",
        503 => "DATABASE_BUSY: another process held the book's write lock past the busy timeout (10 s); nothing was changed. Retry after `Retry-After` seconds.",
        507 => "INSUFFICIENT_STORAGE: the server's disk is full; nothing was changed. Retry once space is freed.",
        502 => "EMAIL_FAILED: the mail server refused the message or could not be reached; `detail` gives its reason. Nothing was marked sent; the failed try is in the journal.",
        412 => "PRECONDITION_FAILED: `If-Match` does not match the resource's current `ETag` (another change came first); nothing was changed. GET it again and retry with its new ETag.",
        408 => "REQUEST_TIMEOUT: the body did not arrive within the server's read timeout (30 s unless the operator changed it) of the headers; nothing was changed.",
        413 => "PAYLOAD_TOO_LARGE: the body is over 1 MiB.",
        415 => "UNSUPPORTED_MEDIA_TYPE: send `Content-Type: application/json`.",
        431 => "HEADERS_TOO_LARGE: the request's headers total more than 16 KiB.",
        429 => "RATE_LIMIT_EXCEEDED: wait `Retry-After` seconds.",
        _ => "INTERNAL_ERROR: the server failed; no internals are disclosed.",
    }
}

pub(crate) struct ApiError<S: ErrorSet>(pub AppError, PhantomData<S>);

impl<S: ErrorSet> From<AppError> for ApiError<S> {
    fn from(err: AppError) -> Self {
        ApiError(err, PhantomData)
    }
}

impl<S: ErrorSet> From<ApiError<S>> for poem::Error {
    fn from(err: ApiError<S>) -> Self {
        poem::Error::from(err.0)
    }
}

impl<S: ErrorSet> IntoResponse for ApiError<S> {
    fn into_response(self) -> Response {
        render(&self.0)
    }
}

impl<S: ErrorSet> ApiResponse for ApiError<S> {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: S::STATUSES
                .iter()
                .map(|&status| MetaResponse {
                    description: match status {
                        409 if S::SENDS_MAIL => MAIL_CONFLICT,
                        _ => describe(status),
                    },
                    status: Some(status),
                    status_range: None,
                    content: vec![MetaMediaType {
                        content_type: "application/json",
                        schema: ErrorBody::schema_ref(),
                    }],
                    headers: if status == 429 || status == 503 {
                        vec![required_header::<u64>(
                            "Retry-After",
                            "Seconds to wait before retrying.",
                        )]
                    } else {
                        vec![]
                    },
                })
                .collect(),
        }
    }

    fn register(registry: &mut Registry) {
        ErrorBody::register(registry);
    }
}

macro_rules! error_set {
    ($name:ident, $($status:literal),*) => {
        pub(crate) struct $name;
        impl ErrorSet for $name {
            const STATUSES: &'static [u16] = &[$($status),*];
        }
    };
}

error_set!(ReadSet, 400, 401, 403, 404, 429, 431, 500);
error_set!(WriteSet, 400, 401, 403, 404, 408, 409, 413, 415, 429, 431, 500, 503, 507);
error_set!(ChangeSet, 400, 401, 403, 404, 408, 409, 412, 413, 415, 429, 431, 500, 503, 507);
pub(crate) struct MailSet;
impl ErrorSet for MailSet {
    const STATUSES: &'static [u16] = &[
        400, 401, 403, 404, 408, 409, 412, 413, 415, 429, 431, 500, 502, 503, 507,
    ];
    const SENDS_MAIL: bool = true;
}

/// Errors of a GET.
pub(crate) type ReadError = ApiError<ReadSet>;
/// Errors of a POST, PUT or DELETE.
pub(crate) type WriteError = ApiError<WriteSet>;
/// Errors of a change to one existing resource, which may carry `If-Match`.
pub(crate) type ChangeError = ApiError<ChangeSet>;
/// Errors of a change that may send e-mail: a 409 `EMAIL_NOT_CONFIGURED` too, and a 502.
pub(crate) type MailError = ApiError<MailSet>;
