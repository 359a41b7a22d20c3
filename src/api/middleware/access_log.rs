//! The access log: one line a request, never its query string.

use std::time::Instant;

use poem::{Endpoint, IntoResponse, Request, Response};

use crate::api::error::{render, to_app_error};

/// Logs method, path (never the query string: it may carry an API key), status, time and
/// the request's id.
pub(crate) async fn access_log<E: Endpoint>(inner: E, req: Request) -> poem::Result<Response> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let started = Instant::now();
    let response = match inner.call(req).await {
        Ok(response) => response.into_response(),
        Err(err) => render(&to_app_error(err)),
    };
    tracing::info!(
        method = %method,
        path = %path,
        status = response.status().as_u16(),
        elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
        request_id = super::current_request_id().unwrap_or_default(),
        "request"
    );
    Ok(response)
}
