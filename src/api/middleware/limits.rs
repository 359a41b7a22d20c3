//! The request size limits: headers (431) and body (413), counted as they arrive.

use futures_util::StreamExt;
use poem::http::header;
use poem::{Endpoint, IntoResponse, Request, Response};

use std::sync::Arc;

use crate::api::error::render;
use crate::api::middleware::RouteTable;
use crate::error::AppError;
use crate::net::BodyDeadline;

/// Largest request body accepted, in bytes actually read.
pub(crate) const BODY_LIMIT: usize = 1024 * 1024;
/// Largest total of request headers accepted, in bytes (each counted as `name: value\r\n`).
pub(crate) const HEADER_LIMIT: usize = 16 * 1024;

/// Refuses a request whose headers total more than [`HEADER_LIMIT`] with a 431. (Past
/// hyper's own buffer, about 400 KB, or past 100 headers, hyper answers 431 itself before
/// Arvalox sees the request; the README lists those answers.)
pub(crate) async fn limit_headers<E: Endpoint>(inner: E, req: Request) -> poem::Result<Response> {
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
/// is counted as it arrives. Once read, a body the operation does not take is refused
/// ([`RouteTable::stray_body`]).
pub(crate) async fn limit_body<E: Endpoint>(
    table: Arc<RouteTable>,
    inner: E,
    mut req: Request,
) -> poem::Result<Response> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > BODY_LIMIT as u64) {
        return Ok(render(&AppError::PayloadTooLarge { limit: BODY_LIMIT }));
    }
    let body = req.take_body();
    if body.is_empty() {
        // The connection knows there is no body (most reads): nothing to count.
        req.set_body(body);
        return Ok(inner.call(req).await?.into_response());
    }
    let buffer = match read_in_time(&req, body).await {
        Ok(buffer) => buffer,
        Err(err) => {
            let mut answer = render(&err);
            if let AppError::RequestTimeout { .. } = err {
                // The rest of the body may still come: the connection carries nothing more.
                closing(&mut answer);
            }
            return Ok(answer);
        }
    };
    if let Some(refused) = table.stray_body(req.method().as_str(), req.uri().path(), &buffer) {
        return Ok(render(&refused));
    }
    req.set_body(buffer);
    Ok(inner.call(req).await?.into_response())
}

/// Reads `body` whole, up to [`BODY_LIMIT`] and within the connection's body deadline.
async fn read_in_time(req: &Request, body: poem::Body) -> Result<Vec<u8>, AppError> {
    let read = read_whole(body.into_bytes_stream());
    match req.extensions().get::<BodyDeadline>().copied() {
        Some(BodyDeadline(until, seconds)) => match tokio::time::timeout_at(until, read).await {
            Ok(read) => read,
            Err(_) => Err(AppError::RequestTimeout { seconds }),
        },
        // Not through the server loop (the in-process test client): no clock.
        None => read.await,
    }
}

/// Answers `refusal` to a request whose body is not wanted, after reading the body as
/// [`limit_body`] would: unread, it would end the connection under the client, which may
/// be sending it still and then never see the answer. A body too large or too slow to
/// read ends the connection, and the answer says so.
pub(crate) async fn refuse_after_body(refusal: &AppError, mut req: Request) -> Response {
    let mut answer = render(refusal);
    let body = req.take_body();
    if !body.is_empty() && read_in_time(&req, body).await.is_err() {
        closing(&mut answer);
    }
    answer
}

fn closing(answer: &mut Response) {
    answer.headers_mut().insert(
        header::CONNECTION,
        header::HeaderValue::from_static("close"),
    );
}

/// Reads a body whole, up to [`BODY_LIMIT`].
async fn read_whole(
    mut stream: impl futures_util::Stream<Item = std::io::Result<bytes::Bytes>> + Unpin,
) -> Result<Vec<u8>, AppError> {
    let mut buffer = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|err| {
            AppError::field("body", format!("the request body could not be read: {err}"))
        })?;
        if buffer.len() + chunk.len() > BODY_LIMIT {
            return Err(AppError::PayloadTooLarge { limit: BODY_LIMIT });
        }
        buffer.extend_from_slice(&chunk);
    }
    Ok(buffer)
}
