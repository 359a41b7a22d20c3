//! `X-Request-Id`: the client's own (1 to 128 visible ASCII characters; anything else is a
//! 400) or a new random one, answered on every response, written in the access log and in each journal event
//! the request appends, so one request can be followed from the client to the audit trail.

use poem::{Endpoint, IntoResponse, Request, Response};
use rand::RngCore;

use crate::api::error::render;
use crate::domain::text::lower_hex;
use crate::error::AppError;

pub(crate) const REQUEST_ID_HEADER: &str = "x-request-id";
const REQUEST_ID_RULE: &str = "must be one header of 1 to 128 visible ASCII characters";

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The request id of the request being served on this task, if any.
pub(crate) fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

fn usable(value: &[u8]) -> bool {
    (1..=128).contains(&value.len()) && value.iter().all(u8::is_ascii_graphic)
}

fn new_request_id() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    lower_hex(&bytes)
}

/// Serves the request with its id set, and answers the id.
pub(crate) async fn request_id<E: Endpoint>(inner: E, req: Request) -> poem::Result<Response> {
    let sent: Vec<&[u8]> = req
        .headers()
        .get_all(REQUEST_ID_HEADER)
        .iter()
        .map(|value| value.as_bytes())
        .collect();
    let id = match sent.as_slice() {
        [] => new_request_id(),
        [one] if usable(one) => String::from_utf8_lossy(one).into_owned(),
        _ => {
            // Refused, but still answered with an id of its own, like every response.
            let mut refused = render(&AppError::field("X-Request-Id", REQUEST_ID_RULE));
            if let Ok(value) = new_request_id().parse() {
                refused.headers_mut().insert(REQUEST_ID_HEADER, value);
            }
            return Ok(refused);
        }
    };
    let mut response = match REQUEST_ID.scope(id.clone(), inner.call(req)).await {
        Ok(response) => response.into_response(),
        Err(err) => err.into_response(),
    };
    if let Ok(value) = id.parse() {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    Ok(response)
}
