//! The per-key rate limit, as the layer just inside authentication: each authenticated
//! request counts against its key's windows, a full window answers 429 with `Retry-After`,
//! and every answer (errors included) carries `X-RateLimit-*` for the window nearest
//! exhaustion. The windows themselves are `crate::ratelimit`.

use std::sync::Arc;

use poem::http::HeaderValue;
use poem::{Endpoint, IntoResponse, Request, Response};

use super::auth::AuthContext;
use super::error::{render, to_app_error};
use super::AppState;
use crate::error::AppError;
use crate::ratelimit::Decision;

pub(crate) async fn per_key<E: Endpoint>(
    state: Arc<AppState>,
    inner: E,
    req: Request,
) -> poem::Result<Response> {
    // Only requests that authenticated carry a key (`/health` carries none).
    let Some(key) = req.extensions().get::<Arc<AuthContext>>().cloned() else {
        return Ok(inner.call(req).await?.into_response());
    };
    let now = state.clock.now().timestamp().max(0) as u64;
    let decision = state.limiter.check(key.key_id, now);
    if let Some(decision) = decision.filter(|d| !d.allowed) {
        crate::metrics::rate_limited("key");
        let mut response = render(&AppError::RateLimited {
            retry_after_secs: decision.retry_after,
        });
        set_rate_headers(&mut response, &decision);
        return Ok(response);
    }
    let mut response = match inner.call(req).await {
        Ok(response) => response.into_response(),
        Err(err) => render(&to_app_error(err)),
    };
    if let Some(decision) = decision {
        set_rate_headers(&mut response, &decision);
    }
    Ok(response)
}

fn set_rate_headers(response: &mut Response, decision: &Decision) {
    let headers = response.headers_mut();
    for (name, value) in [
        ("x-ratelimit-limit", decision.limit as u64),
        ("x-ratelimit-remaining", decision.remaining as u64),
        ("x-ratelimit-reset", decision.reset),
    ] {
        headers.insert(name, HeaderValue::from(value));
    }
}
