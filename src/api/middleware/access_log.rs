//! The access log: one line a request, never its query string.

use std::sync::Arc;
use std::time::Instant;

use poem::http::Method;
use poem::{Endpoint, IntoResponse, Request, Response};

use super::RouteTable;

use crate::api::error::{render, to_app_error};

/// Logs method, path (never the query string: it may carry an API key), its route (the path
/// with its ids as `{id}`), status, time, the request's id, and the caller's key prefix and
/// organization when it authenticated.
/// Also counts it in the metrics, by route template (`unmatched` for a path no route has).
pub(crate) async fn access_log<E: Endpoint>(
    table: Arc<RouteTable>,
    inner: E,
    req: Request,
) -> poem::Result<Response> {
    let method = req.method().clone();
    let path = without_secrets(req.uri().path());
    let started = Instant::now();
    let response = match inner.call(req).await {
        Ok(response) => response.into_response(),
        Err(err) => render(&to_app_error(err)),
    };
    let elapsed = started.elapsed();
    crate::metrics::request(
        table.template(&path).unwrap_or("unmatched"),
        method_label(&method),
        response.status().as_u16(),
        elapsed,
    );
    let caller = response
        .extensions()
        .get::<Arc<crate::api::auth::AuthContext>>();
    tracing::info!(
        method = %method,
        path = %path,
        route = %route_of(&path),
        key_prefix = caller.map_or("", |c| c.key_prefix.as_str()),
        organization = caller.map_or("", |c| c.organization.as_str()),
        status = response.status().as_u16(),
        elapsed_ms = elapsed.as_secs_f64() * 1000.0,
        request_id = super::current_request_id().unwrap_or_default(),
        "request"
    );
    Ok(response)
}

/// The method as a metrics label: the standard ones by name, any other as `OTHER`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// `path` with each segment that holds an API key or a webhook secret (pasted there by
/// mistake) shown as `{secret}`: a secret never reaches a log line, wherever it came in.
fn without_secrets(path: &str) -> String {
    let secret = |segment: &str| {
        let lower = segment.to_ascii_lowercase();
        lower.contains(crate::domain::keys::KEY_PREFIX) || lower.contains("whsec_")
    };
    if !path.split('/').any(secret) {
        return path.to_string();
    }
    path.split('/')
        .map(|segment| if secret(segment) { "{secret}" } else { segment })
        .collect::<Vec<_>>()
        .join("/")
}

/// The path's route: each segment that is an id (digits) as `{id}`, so lines group by route.
fn route_of(path: &str) -> String {
    path.split('/')
        .map(
            |segment| match !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
                true => "{id}",
                false => segment,
            },
        )
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_become_placeholders() {
        assert_eq!(
            super::route_of("/v1/invoices/17/send"),
            "/v1/invoices/{id}/send"
        );
        assert_eq!(super::route_of("/v1/customers"), "/v1/customers");
        assert_eq!(super::route_of("/health"), "/health");
    }

    #[test]
    fn secrets_in_a_path_are_not_shown() {
        let key = format!("arv_{}", "0a".repeat(24));
        assert_eq!(
            super::without_secrets(&format!("/v1/customers/{key}/x")),
            "/v1/customers/{secret}/x"
        );
        assert_eq!(super::without_secrets("/v1/ARV_12ab"), "/v1/{secret}");
        assert_eq!(super::without_secrets("/x/whsec_99"), "/x/{secret}");
        assert_eq!(super::without_secrets("/v1/invoices/7"), "/v1/invoices/7");
    }
}
