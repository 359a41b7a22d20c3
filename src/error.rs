//! The one error type of the library. `api::error` renders it as the documented body
//! `{"detail", "error_code", "field_errors"}`; nothing else builds error bodies.

use std::collections::BTreeMap;

/// Field name (`items[0].quantity`) to the messages that say what is wrong with it.
pub(crate) type FieldErrors = BTreeMap<String, Vec<String>>;

/// The machine-readable error codes: the one list. The spec's `ErrorCode` schema is
/// written from [`ErrorCode::ALL`] (`api::error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorCode {
    ValidationError,
    AuthenticationRequired,
    InvalidApiKey,
    InsufficientPermissions,
    NotFound,
    MethodNotAllowed,
    Conflict,
    PreconditionFailed,
    RequestTimeout,
    PayloadTooLarge,
    UnsupportedMediaType,
    HeadersTooLarge,
    RateLimitExceeded,
    EmailNotConfigured,
    EmailFailed,
    DatabaseBusy,
    InsufficientStorage,
    InternalError,
}

impl ErrorCode {
    pub(crate) const ALL: [ErrorCode; 18] = [
        ErrorCode::ValidationError,
        ErrorCode::AuthenticationRequired,
        ErrorCode::InvalidApiKey,
        ErrorCode::InsufficientPermissions,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::Conflict,
        ErrorCode::PreconditionFailed,
        ErrorCode::RequestTimeout,
        ErrorCode::PayloadTooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::HeadersTooLarge,
        ErrorCode::RateLimitExceeded,
        ErrorCode::EmailNotConfigured,
        ErrorCode::EmailFailed,
        ErrorCode::DatabaseBusy,
        ErrorCode::InsufficientStorage,
        ErrorCode::InternalError,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ErrorCode::ValidationError => "VALIDATION_ERROR",
            ErrorCode::AuthenticationRequired => "AUTHENTICATION_REQUIRED",
            ErrorCode::InvalidApiKey => "INVALID_API_KEY",
            ErrorCode::InsufficientPermissions => "INSUFFICIENT_PERMISSIONS",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::PreconditionFailed => "PRECONDITION_FAILED",
            ErrorCode::RequestTimeout => "REQUEST_TIMEOUT",
            ErrorCode::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            ErrorCode::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            ErrorCode::HeadersTooLarge => "HEADERS_TOO_LARGE",
            ErrorCode::RateLimitExceeded => "RATE_LIMIT_EXCEEDED",
            ErrorCode::EmailNotConfigured => "EMAIL_NOT_CONFIGURED",
            ErrorCode::EmailFailed => "EMAIL_FAILED",
            ErrorCode::DatabaseBusy => "DATABASE_BUSY",
            ErrorCode::InsufficientStorage => "INSUFFICIENT_STORAGE",
            ErrorCode::InternalError => "INTERNAL_ERROR",
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum AppError {
    #[error("{detail}")]
    Validation {
        detail: String,
        field_errors: FieldErrors,
    },
    #[error("{0}")]
    NotFound(String),
    #[error("{detail}")]
    Conflict {
        detail: String,
        field_errors: FieldErrors,
    },
    /// `If-Match` named a version of the resource that is no longer its current one.
    #[error("{0}")]
    PreconditionFailed(String),
    #[error("An API key is required: send it in the x-arvalox-api-key header.")]
    AuthenticationRequired,
    #[error("The API key is not valid or has been revoked.")]
    InvalidApiKey,
    /// Different keys in different places (the argument names them): which one was meant
    /// cannot be known, so none is used.
    #[error("The request carries different API keys in {0}: send one key, in one place.")]
    ConflictingApiKeys(String),
    #[error("{0}")]
    InsufficientPermissions(String),
    #[error("Rate limit exceeded: retry after {retry_after_secs} seconds.")]
    RateLimited { retry_after_secs: u64 },
    #[error("{0}")]
    MethodNotAllowed(String),
    /// The body did not arrive whole within the server's read timeout.
    #[error("The request body did not arrive within {seconds} seconds of its headers: send it whole, at once, and try again.")]
    RequestTimeout { seconds: u64 },
    #[error("The request body is larger than the limit of {limit} bytes.")]
    PayloadTooLarge { limit: usize },
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("The request's headers total {size} bytes, over the limit of {limit}: send fewer or shorter headers.")]
    HeadersTooLarge { size: usize, limit: usize },
    /// An e-mail was asked for, but the server was started without `--smtp-url`.
    #[error("This server sends no e-mail: start it with --smtp-url (or ARVALOX_SMTP_URL) and --mail-from to send documents.")]
    EmailNotConfigured,
    /// The mail server refused the message or could not be reached; the reason is its own.
    #[error(
        "The e-mail was not sent: {0}. Nothing was marked sent; fix the cause and send again."
    )]
    EmailFailed(String),
    /// Another process held the book's write lock past the busy timeout.
    #[error("The book is busy: another process holds its write lock. Nothing was changed; retry after {retry_after_secs} seconds.")]
    DatabaseBusy { retry_after_secs: u64 },
    /// The disk that holds the book is full.
    #[error("The server's disk is full, so nothing was changed: free space on the server, then send the request again.")]
    InsufficientStorage,
    /// The message is logged, never sent: clients see a generic text.
    #[error("internal error: {0}")]
    Internal(String),
}

/// `field_errors` naming one field.
fn one_field(field: &str, message: &str) -> FieldErrors {
    FieldErrors::from([(field.to_string(), vec![message.to_string()])])
}

impl AppError {
    /// A 400 naming one field.
    pub(crate) fn field(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        AppError::Validation {
            detail: format!("{field}: {message}"),
            field_errors: one_field(field, &message),
        }
    }

    /// A 409 naming the field whose value clashes.
    pub(crate) fn conflict_on(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        AppError::Conflict {
            field_errors: one_field(field, &message),
            detail: message,
        }
    }

    pub(crate) fn conflict(detail: impl Into<String>) -> Self {
        AppError::Conflict {
            detail: detail.into(),
            field_errors: FieldErrors::new(),
        }
    }

    pub(crate) fn status(&self) -> u16 {
        match self {
            AppError::Validation { .. } => 400,
            AppError::AuthenticationRequired
            | AppError::InvalidApiKey
            | AppError::ConflictingApiKeys(_) => 401,
            AppError::InsufficientPermissions(_) => 403,
            AppError::NotFound(_) => 404,
            AppError::MethodNotAllowed(_) => 405,
            AppError::Conflict { .. } => 409,
            AppError::PreconditionFailed(_) => 412,
            AppError::RequestTimeout { .. } => 408,
            AppError::PayloadTooLarge { .. } => 413,
            AppError::UnsupportedMediaType(_) => 415,
            AppError::HeadersTooLarge { .. } => 431,
            AppError::RateLimited { .. } => 429,
            AppError::EmailNotConfigured => 409,
            AppError::EmailFailed(_) => 502,
            AppError::DatabaseBusy { .. } => 503,
            AppError::InsufficientStorage => 507,
            AppError::Internal(_) => 500,
        }
    }

    /// The machine-readable code of the answer (`VALIDATION_ERROR`).
    pub(crate) fn code(&self) -> &'static str {
        self.error_code().as_str()
    }

    pub(crate) fn error_code(&self) -> ErrorCode {
        match self {
            AppError::Validation { .. } => ErrorCode::ValidationError,
            AppError::AuthenticationRequired => ErrorCode::AuthenticationRequired,
            AppError::InvalidApiKey | AppError::ConflictingApiKeys(_) => ErrorCode::InvalidApiKey,
            AppError::InsufficientPermissions(_) => ErrorCode::InsufficientPermissions,
            AppError::NotFound(_) => ErrorCode::NotFound,
            AppError::MethodNotAllowed(_) => ErrorCode::MethodNotAllowed,
            AppError::Conflict { .. } => ErrorCode::Conflict,
            AppError::PreconditionFailed(_) => ErrorCode::PreconditionFailed,
            AppError::RequestTimeout { .. } => ErrorCode::RequestTimeout,
            AppError::PayloadTooLarge { .. } => ErrorCode::PayloadTooLarge,
            AppError::UnsupportedMediaType(_) => ErrorCode::UnsupportedMediaType,
            AppError::HeadersTooLarge { .. } => ErrorCode::HeadersTooLarge,
            AppError::RateLimited { .. } => ErrorCode::RateLimitExceeded,
            AppError::EmailNotConfigured => ErrorCode::EmailNotConfigured,
            AppError::EmailFailed(_) => ErrorCode::EmailFailed,
            AppError::DatabaseBusy { .. } => ErrorCode::DatabaseBusy,
            AppError::InsufficientStorage => ErrorCode::InsufficientStorage,
            AppError::Internal(_) => ErrorCode::InternalError,
        }
    }

    /// The text a client may see.
    pub(crate) fn public_detail(&self) -> String {
        match self {
            AppError::Internal(_) => "The server failed to handle the request.".to_string(),
            other => other.to_string(),
        }
    }

    pub(crate) fn field_errors(&self) -> FieldErrors {
        match self {
            AppError::Validation { field_errors, .. } | AppError::Conflict { field_errors, .. } => {
                field_errors.clone()
            }
            _ => FieldErrors::new(),
        }
    }
}

impl From<rusqlite::Error> for AppError {
    /// A busy book and a full disk are the client's to retry (503, 507); the rest is ours.
    fn from(err: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode as Sqlite;
        match err.sqlite_error_code() {
            Some(Sqlite::DatabaseBusy | Sqlite::DatabaseLocked) => {
                tracing::warn!(error = %err, "write refused: the book is locked by another process");
                AppError::DatabaseBusy {
                    retry_after_secs: 1,
                }
            }
            Some(Sqlite::DiskFull) => {
                tracing::error!(error = %err, "write refused: the disk is full");
                AppError::InsufficientStorage
            }
            _ => AppError::Internal(format!("database: {err}")),
        }
    }
}

impl From<crate::db::conn::StoreError> for AppError {
    fn from(err: crate::db::conn::StoreError) -> Self {
        use crate::db::conn::StoreError;
        match err {
            StoreError::Sqlite(err) => err.into(),
            StoreError::Postgres(err) => postgres_error(&err),
            StoreError::NoRows | StoreError::Unreadable { .. } | StoreError::Misused(_) => {
                AppError::Internal(format!("database: {err}"))
            }
        }
    }
}

/// PostgreSQL's answer on the wire: a lost connection, a full server or a transaction
/// that lost a race (when the engine's retries ran out) are the client's to retry (503);
/// a full disk is 507; the rest is ours. Only the server's message is kept, never its
/// detail line, which can quote the values of a row.
fn postgres_error(err: &tokio_postgres::Error) -> AppError {
    use tokio_postgres::error::SqlState;
    let Some(db) = err.as_db_error() else {
        let lost = err.is_closed()
            || std::error::Error::source(err).is_some_and(|cause| cause.is::<std::io::Error>());
        if !lost {
            return AppError::Internal(format!("database: {err}"));
        }
        tracing::warn!(error = %err, "the PostgreSQL connection failed");
        return AppError::DatabaseBusy {
            retry_after_secs: 1,
        };
    };
    let code = db.code();
    let retry = [
        SqlState::T_R_SERIALIZATION_FAILURE,
        SqlState::T_R_DEADLOCK_DETECTED,
        SqlState::LOCK_NOT_AVAILABLE,
        SqlState::TOO_MANY_CONNECTIONS,
        SqlState::ADMIN_SHUTDOWN,
        SqlState::CANNOT_CONNECT_NOW,
    ];
    if retry.contains(code) || code.code().starts_with("08") {
        tracing::warn!(
            code = code.code(),
            message = db.message(),
            "write refused: retry"
        );
        return AppError::DatabaseBusy {
            retry_after_secs: 1,
        };
    }
    if *code == SqlState::DISK_FULL {
        tracing::error!(message = db.message(), "write refused: the disk is full");
        return AppError::InsufficientStorage;
    }
    AppError::Internal(format!("database: {} ({})", db.message(), code.code()))
}

impl From<r2d2::Error> for AppError {
    fn from(err: r2d2::Error) -> Self {
        AppError::Internal(format!("connection pool: {err}"))
    }
}

/// Collects every field error of a request before answering, so a client fixes all at once.
#[derive(Debug, Default, Clone)]
pub(crate) struct FieldErrorsBuilder {
    errors: FieldErrors,
}

impl FieldErrorsBuilder {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors
            .entry(field.into())
            .or_default()
            .push(message.into());
    }

    /// True when no field has an error yet.
    pub(crate) fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// True when `field` already has an error (so "required" is not said of a bad value).
    pub(crate) fn has(&self, field: &str) -> bool {
        self.errors.contains_key(field)
    }

    /// Ok when nothing was added, else a 400 whose detail lists the fields.
    pub(crate) fn finish(self) -> Result<(), AppError> {
        if self.errors.is_empty() {
            return Ok(());
        }
        let detail = self
            .errors
            .iter()
            .map(|(field, messages)| format!("{field}: {}", messages.join("; ")))
            .collect::<Vec<_>>()
            .join(" | ");
        Err(AppError::Validation {
            detail: format!("Invalid request: {detail}"),
            field_errors: self.errors,
        })
    }
}
