//! Concurrency control: each answer that is one resource carries a strong `ETag` (a hash
//! of its exact bytes, so it changes whenever the answer does); a GET with a matching
//! `If-None-Match` is a 304; a change sent with `If-Match` runs only while the resource
//! still answers with that ETag, checked inside the write's own transaction, so of two
//! clients racing one edit exactly one wins and the other gets 412.

use poem::http::{header, HeaderValue, Method, StatusCode};
use poem::{Endpoint, IntoResponse, Request, Response};
use sha2::{Digest, Sha256};

use crate::domain::text::lower_hex;
use crate::error::AppError;

/// The strong ETag of an answer's body: 32 hex digits of its SHA-256, quoted.
pub(crate) fn etag_of(body: &str) -> String {
    let digest = Sha256::digest(body.as_bytes());
    let mut tag = String::with_capacity(34);
    tag.push('"');
    tag.push_str(&lower_hex(digest.get(..16).unwrap_or_default()));
    tag.push('"');
    tag
}

/// The entity tags an `If-Match` or `If-None-Match` value lists (`*` is `["*"]`); `None`
/// when the value is not a comma-separated list of quoted tags.
pub(crate) fn listed_tags(value: &str) -> Option<Vec<String>> {
    let value = value.trim();
    if value == "*" {
        return Some(vec!["*".into()]);
    }
    let mut tags = Vec::new();
    for tag in value.split(',').map(str::trim) {
        let opaque = tag.strip_prefix("W/").unwrap_or(tag);
        let inner = opaque
            .strip_prefix('"')
            .and_then(|rest| rest.strip_suffix('"'));
        if inner.is_none_or(|inner| inner.contains('"')) {
            return None;
        }
        tags.push(tag.to_string());
    }
    Some(tags)
}

/// The `If-Match` a change came with: which versions of the resource it may change.
#[derive(Debug, Clone, Default)]
pub(crate) struct IfMatch(Option<Vec<String>>);

impl IfMatch {
    /// Reads the header; a value that is not `*` or a list of quoted tags is a 400.
    pub(crate) fn parse(value: Option<&str>) -> Result<IfMatch, AppError> {
        let Some(value) = value else {
            return Ok(IfMatch(None));
        };
        listed_tags(value)
            .map(|tags| IfMatch(Some(tags)))
            .ok_or_else(|| {
                AppError::field(
                    "If-Match",
                    "must be * or the ETag of the resource as a GET answered it, in quotes",
                )
            })
    }

    pub(crate) fn is_set(&self) -> bool {
        self.0.is_some()
    }

    /// Passes when there was no `If-Match`, or when it names `current_body`'s ETag (or
    /// `*`). A weak tag never matches: the comparison is strong.
    pub(crate) fn check(&self, what: &str, current_body: &str) -> Result<(), AppError> {
        let Some(tags) = &self.0 else {
            return Ok(());
        };
        let current = etag_of(current_body);
        if tags.iter().any(|tag| tag == "*" || *tag == current) {
            return Ok(());
        }
        Err(AppError::PreconditionFailed(format!(
            "The {what} has changed since the version If-Match names (its ETag is now {current}); nothing was changed. GET it again, check that your change still applies, and send it with the new ETag."
        )))
    }
}

/// Answers a GET whose `If-None-Match` names the answer's ETag with 304 and no body.
pub(crate) async fn not_modified<E: Endpoint>(inner: E, req: Request) -> poem::Result<Response> {
    let wanted = (req.method() == Method::GET)
        .then(|| req.headers().get(header::IF_NONE_MATCH))
        .flatten()
        .and_then(|value| value.to_str().ok())
        .and_then(listed_tags);
    let response = inner.call(req).await?.into_response();
    let Some(wanted) = wanted else {
        return Ok(response);
    };
    let Some(etag) = response.headers().get(header::ETAG).cloned() else {
        return Ok(response);
    };
    // If-None-Match compares weakly: W/"x" matches "x".
    let current = etag.to_str().unwrap_or_default();
    let matched = wanted
        .iter()
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == current);
    if response.status() != StatusCode::OK || !matched {
        return Ok(response);
    }
    // The layers around this one (rate limit, request id) add their headers to it.
    let mut unchanged = Response::builder()
        .status(StatusCode::NOT_MODIFIED)
        .finish();
    unchanged.headers_mut().insert(header::ETAG, etag);
    Ok(unchanged)
}

/// The header value of an answer's ETag.
pub(crate) fn etag_header(body: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(&etag_of(body)).ok()
}
