//! Cross-cutting HTTP concerns: the access log, the header and body limits, unknown query
//! parameters, and the `Allow` header. (The `Idempotency-Key` check is in `idempotency`,
//! the per-key rate limit in `rate_limit`.)

use std::time::Instant;

use futures_util::StreamExt;
use poem::http::{header, HeaderValue, StatusCode};
use poem::{Endpoint, IntoResponse, Request, Response};

use super::error::render;
use crate::error::AppError;

/// Largest request body accepted, in bytes actually read.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// Logs method, path (never the query string: it may carry an API key), status and time.
pub async fn access_log<E: Endpoint>(inner: E, req: Request) -> poem::Result<Response> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let started = Instant::now();
    let response = match inner.call(req).await {
        Ok(response) => response.into_response(),
        Err(err) => render(&super::error::to_app_error(err)),
    };
    tracing::info!(
        method = %method,
        path = %path,
        status = response.status().as_u16(),
        elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    Ok(response)
}

/// Largest total of request headers accepted, in bytes (each counted as `name: value\r\n`).
pub const HEADER_LIMIT: usize = 16 * 1024;

/// Refuses a request whose headers total more than [`HEADER_LIMIT`] with a 431. (Past
/// hyper's own buffer, about 400 KB, or past 100 headers, hyper answers 431 itself before
/// Arvalox sees the request; the README lists those answers.)
pub async fn limit_headers<E: Endpoint>(inner: E, req: Request) -> poem::Result<Response> {
    let size: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if size > HEADER_LIMIT {
        return Ok(render(&AppError::HeadersTooLarge {
            size,
            limit: HEADER_LIMIT,
        }));
    }
    Ok(inner.call(req).await?.into_response())
}

/// Buffers the body up to [`BODY_LIMIT`]: Content-Length is not trusted, a chunked body
/// is counted as it arrives.
pub async fn limit_body<E: Endpoint>(inner: E, mut req: Request) -> poem::Result<Response> {
    let too_large = || Ok(render(&AppError::PayloadTooLarge { limit: BODY_LIMIT }));
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > BODY_LIMIT as u64) {
        return too_large();
    }
    let body = req.take_body();
    if body.is_empty() {
        // The connection knows there is no body (most reads): nothing to count.
        req.set_body(body);
        return Ok(inner.call(req).await?.into_response());
    }
    let mut stream = body.into_bytes_stream();
    let mut buffer = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(err) => {
                return Ok(render(&AppError::field(
                    "body",
                    format!("the request body could not be read: {err}"),
                )))
            }
        };
        if buffer.len() + chunk.len() > BODY_LIMIT {
            return too_large();
        }
        buffer.extend_from_slice(&chunk);
    }
    req.set_body(buffer);
    Ok(inner.call(req).await?.into_response())
}

/// Each route's methods (for a 405's `Allow` header) and the query parameters each of its
/// operations takes (to refuse the ones it does not), read from the generated spec.
pub struct RouteTable {
    routes: Vec<RouteEntry>,
}

struct RouteEntry {
    segments: Vec<String>,
    allow: String,
    /// (method, query parameter names); `None` for routes outside the spec, left unchecked.
    operations: Option<Vec<(String, Vec<String>)>>,
}

impl RouteTable {
    /// Reads the routes from the generated spec (mounted under `prefix`), plus `extra`.
    pub fn from_spec(spec: &serde_json::Value, prefix: &str, extra: &[(&str, &str)]) -> Self {
        let mut routes = Vec::new();
        if let Some(paths) = spec.get("paths").and_then(|p| p.as_object()) {
            for (path, item) in paths {
                let operations: Vec<(String, Vec<String>)> = item
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(method, operation)| (method.to_uppercase(), query_names(operation)))
                    .collect();
                let methods: Vec<&str> = operations.iter().map(|(m, _)| m.as_str()).collect();
                routes.push(RouteEntry {
                    segments: segments(&format!("{prefix}{path}")),
                    allow: methods.join(", "),
                    operations: Some(operations),
                });
            }
        }
        for (path, methods) in extra {
            routes.push(RouteEntry {
                segments: segments(path),
                allow: methods.to_string(),
                operations: None,
            });
        }
        RouteTable { routes }
    }

    fn find(&self, path: &str) -> Option<&RouteEntry> {
        let wanted = segments(path);
        self.routes.iter().find(|route| {
            route.segments.len() == wanted.len()
                && route
                    .segments
                    .iter()
                    .zip(&wanted)
                    .all(|(p, w)| p.starts_with('{') || p == w)
        })
    }

    pub fn allowed(&self, path: &str) -> Option<&str> {
        self.find(path).map(|route| route.allow.as_str())
    }

    /// The query parameters the operation at `method` and `path` takes, or `None` when no
    /// documented operation answers there (its 404 or 405 comes first).
    pub fn query_parameters(&self, method: &str, path: &str) -> Option<&[String]> {
        let method = if method == "HEAD" { "GET" } else { method };
        let operations = self.find(path)?.operations.as_ref()?;
        operations
            .iter()
            .find(|(m, _)| m == method)
            .map(|(_, names)| names.as_slice())
    }
}

fn query_names(operation: &serde_json::Value) -> Vec<String> {
    operation
        .get("parameters")
        .and_then(|p| p.as_array())
        .into_iter()
        .flatten()
        .filter(|param| param["in"] == "query")
        .filter_map(|param| param["name"].as_str().map(str::to_string))
        .collect()
}

fn segments(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

pub async fn allow_header<E: Endpoint>(
    table: std::sync::Arc<RouteTable>,
    inner: E,
    req: Request,
) -> poem::Result<Response> {
    let path = req.uri().path().to_string();
    let mut response = inner.call(req).await?.into_response();
    if response.status() == StatusCode::METHOD_NOT_ALLOWED {
        if let Some(value) = table
            .allowed(&path)
            .and_then(|m| HeaderValue::from_str(m).ok())
        {
            response.headers_mut().insert(header::ALLOW, value);
        }
    }
    Ok(response)
}

/// Refuses query parameters the operation does not take, naming each: a misspelt filter
/// (`stauts=paid`) would otherwise list everything. The API key's own parameter is
/// accepted everywhere.
pub async fn refuse_unknown_query<E: Endpoint>(
    table: std::sync::Arc<RouteTable>,
    inner: E,
    req: Request,
) -> poem::Result<Response> {
    let unknown = unknown_query_names(&table, &req);
    if unknown.is_empty() {
        return Ok(inner.call(req).await?.into_response());
    }
    let known = table
        .query_parameters(req.method().as_str(), req.uri().path())
        .unwrap_or_default();
    let takes = if known.is_empty() {
        "this operation takes no query parameters".to_string()
    } else {
        format!("this operation takes: {}", known.join(", "))
    };
    let mut errors = crate::error::FieldErrorsBuilder::default();
    for name in &unknown {
        errors.add(
            name,
            format!("is not a query parameter of this operation; {takes}"),
        );
    }
    match errors.finish() {
        Err(refused) => Ok(render(&refused)),
        Ok(()) => Ok(inner.call(req).await?.into_response()),
    }
}

fn unknown_query_names(table: &RouteTable, req: &Request) -> Vec<String> {
    let Some(query) = req.uri().query().filter(|q| !q.is_empty()) else {
        return Vec::new();
    };
    let Some(known) = table.query_parameters(req.method().as_str(), req.uri().path()) else {
        return Vec::new();
    };
    // A query that is not form-encoded at all is left to the operation, which names it.
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
    let mut unknown: Vec<String> = pairs
        .into_iter()
        .map(|(name, _)| name)
        .filter(|name| {
            // `?` alone or a stray `&` leave an empty name: no parameter at all.
            !name.is_empty() && name != super::auth::QUERY_KEY && !known.contains(name)
        })
        .collect();
    unknown.sort();
    unknown.dedup();
    unknown
}

/// A panic in a handler answers that request alone with a JSON 500.
pub fn panic_response(_panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    render(&AppError::Internal("a handler panicked".into()))
}

/// Answers longer than this are handed to the HTTP layer in pieces of this size.
pub const ANSWER_PIECE: usize = 16 * 1024;

/// An answer of `text`. poem's connections do not offer vectored writes, so hyper
/// copies each body into a per-connection write buffer that keeps its largest size for the
/// connection's life: sixty-four keep-alive clients of a 1.6 MB aging report held about
/// 75 MB. Long answers therefore go out in [`ANSWER_PIECE`] pieces, pausing after each one
/// so hyper writes it to the socket before taking the next; the buffer stays one piece.
pub fn text_answer(content_type: &'static str, text: String) -> Response {
    if text.len() <= ANSWER_PIECE {
        return Response::builder().content_type(content_type).body(text);
    }
    Response::builder()
        .content_type(content_type)
        // A streamed body has no size of its own; the header keeps the answer length-framed.
        .header(header::CONTENT_LENGTH, text.len())
        .body(poem::Body::from_bytes_stream(Pieces {
            rest: bytes::Bytes::from(text),
            pause: false,
        }))
}

/// A text's pieces, yielding to the connection between two of them.
struct Pieces {
    rest: bytes::Bytes,
    pause: bool,
}

impl futures_util::Stream for Pieces {
    type Item = Result<bytes::Bytes, std::io::Error>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        use std::task::Poll;
        if self.rest.is_empty() {
            return Poll::Ready(None);
        }
        if self.pause {
            // Pending ends hyper's buffering loop, so it flushes what it holds; the wake
            // brings it straight back for the next piece.
            self.pause = false;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.pause = true;
        let size = ANSWER_PIECE.min(self.rest.len());
        Poll::Ready(Some(Ok(self.rest.split_to(size))))
    }
}
