//! API-key authentication (the per-key rate limit is in `rate_limit`, the scope each
//! operation needs in `scopes`).
//!
//! One middleware on `/v1` reads the key (header `x-arvalox-api-key`, header `X-API-Key`,
//! or query `x_arvalox_api_key`), checks it, applies the rate limit and leaves an
//! [`AuthContext`] on the request. The security schemes below only document those
//! locations in the spec (so Swagger UI's "Authorize" works) and hand the context to handlers.

use std::net::IpAddr;
use std::sync::Arc;

use poem::{Endpoint, IntoResponse, Request, Response};
use poem_openapi::auth::ApiKey;
use poem_openapi::SecurityScheme;

use super::error::{render, to_app_error};
use super::AppState;
use crate::db;
use crate::domain::keys::{self, Scope};
use crate::error::AppError;

pub(crate) const HEADER_KEY: &str = "x-arvalox-api-key";
pub(crate) const ALT_HEADER_KEY: &str = "X-API-Key";
pub(crate) const QUERY_KEY: &str = "x_arvalox_api_key";

/// Who is calling: the key's organization, name and scope.
#[derive(Debug, Clone)]
pub(crate) struct AuthContext {
    pub key_id: i64,
    pub organization_id: i64,
    pub organization: String,
    pub key_name: String,
    pub key_prefix: String,
    pub scope: Scope,
    /// The organization's time zone; `None`: the server's.
    pub zone: Option<chrono_tz::Tz>,
}

impl AuthContext {
    pub(crate) fn require(&self, needed: Scope) -> Result<(), AppError> {
        if self.scope.allows(needed) {
            Ok(())
        } else {
            Err(AppError::InsufficientPermissions(format!(
                "This operation needs a key with the '{}' scope; this key has '{}'.",
                needed.as_str(),
                self.scope.as_str()
            )))
        }
    }
}

// Shared, not copied: the same context serves the cache, the request and the handler.
async fn context_from_request(req: &Request, _key: ApiKey) -> Option<Arc<AuthContext>> {
    req.extensions().get::<Arc<AuthContext>>().cloned()
}

/// One place a key may be sent, as an OpenAPI security scheme; the request's
/// authentication already happened in [`authenticate`], so each only hands on its result.
macro_rules! key_location {
    ($(#[$doc:meta])* $name:ident, $rename:tt, $key_name:tt, $key_in:tt) => {
        $(#[$doc])*
        #[derive(SecurityScheme)]
        #[oai(
            rename = $rename,
            ty = "api_key",
            key_name = $key_name,
            key_in = $key_in,
            checker = "context_from_request"
        )]
        pub(crate) struct $name(Arc<AuthContext>);
    };
}

key_location!(
    /// API key in the `x-arvalox-api-key` header (recommended).
    HeaderKey, "ApiKeyHeader", "x-arvalox-api-key", "header"
);
key_location!(
    /// API key in the `x_arvalox_api_key` query parameter.
    QueryKey, "ApiKeyQuery", "x_arvalox_api_key", "query"
);
key_location!(
    /// API key in the `X-API-Key` header.
    AltHeaderKey, "XApiKey", "X-API-Key", "header"
);

/// Any one of the three key locations.
#[derive(SecurityScheme)]
pub(crate) enum ApiKeyAuth {
    Header(HeaderKey),
    Query(QueryKey),
    AltHeader(AltHeaderKey),
}

impl ApiKeyAuth {
    pub(crate) fn context(&self) -> &AuthContext {
        match self {
            ApiKeyAuth::Header(HeaderKey(ctx))
            | ApiKeyAuth::Query(QueryKey(ctx))
            | ApiKeyAuth::AltHeader(AltHeaderKey(ctx)) => ctx,
        }
    }

    /// The context, once the key's scope is checked.
    pub(crate) fn require(&self, needed: Scope) -> Result<&AuthContext, AppError> {
        let ctx = self.context();
        ctx.require(needed)?;
        Ok(ctx)
    }
}

/// The key the request carries, from whichever places carry one. The same key in several
/// places is fine (the document's own examples send two headers); different keys are
/// refused rather than resolved by an order no client can see.
fn presented_key(req: &Request) -> Result<Option<String>, AppError> {
    let mut found: Vec<(&'static str, String)> = Vec::new();
    for name in [HEADER_KEY, ALT_HEADER_KEY] {
        for value in req.headers().get_all(name) {
            let text = String::from_utf8_lossy(value.as_bytes()).trim().to_string();
            if !text.is_empty() {
                found.push((name, text));
            }
        }
    }
    let pairs: Vec<(String, String)> = req
        .uri()
        .query()
        .and_then(|query| serde_urlencoded::from_str(query).ok())
        .unwrap_or_default();
    for (name, value) in pairs {
        let value = value.trim();
        if name == QUERY_KEY && !value.is_empty() {
            found.push((QUERY_KEY, value.to_string()));
        }
    }
    let Some((_, first)) = found.first() else {
        return Ok(None);
    };
    if found.iter().all(|(_, key)| key == first) {
        return Ok(Some(first.clone()));
    }
    let mut places: Vec<&str> = found.iter().map(|(place, _)| *place).collect();
    places.dedup();
    Err(AppError::ConflictingApiKeys(places_text(&places)))
}

/// `header x-arvalox-api-key and query parameter x_arvalox_api_key`, as a person says it.
fn places_text(places: &[&str]) -> String {
    let named: Vec<String> = places
        .iter()
        .map(|place| match *place {
            QUERY_KEY => format!("the query parameter {place}"),
            header => format!("the {header} header"),
        })
        .collect();
    match named.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => named.join(""),
    }
}

fn client_ip(req: &Request) -> IpAddr {
    req.remote_addr()
        .as_socket_addr()
        .map(|addr| addr.ip())
        .unwrap_or(IpAddr::from([0, 0, 0, 0]))
}

/// The `/v1` middleware: find the key, leave its [`AuthContext`] on the request, run (the
/// per-key rate limit is the next layer in, `rate_limit::per_key`), and render any error.
pub(crate) async fn authenticate<E: Endpoint>(
    state: Arc<AppState>,
    inner: E,
    mut req: Request,
) -> poem::Result<Response> {
    let path = req.uri().path();
    if path != "/v1" && !path.starts_with("/v1/") {
        return Ok(inner.call(req).await?.into_response());
    }
    let secret = match presented_key(&req) {
        Ok(Some(secret)) => secret,
        Ok(None) => {
            crate::metrics::auth_failure("missing");
            return Ok(render(&AppError::AuthenticationRequired));
        }
        Err(conflict) => {
            crate::metrics::auth_failure("conflicting");
            return Ok(render(&conflict));
        }
    };
    let hash = keys::hash(&secret);
    let key = match state.keys.get(&hash) {
        // A key already proven valid is served even from a throttled address, so a client
        // sharing an address with a guesser is not locked out; guesses are never cached.
        Ok(key) => key,
        Err(generation) => {
            // Only an uncached key is checked against the address's failures; the
            // rate-limit layer reads the clock for cached ones.
            let now = state.clock.now().timestamp().max(0) as u64;
            let ip = client_ip(&req);
            if let Some(wait) = state.limiter.auth_blocked(ip, now) {
                crate::metrics::rate_limited("ip");
                return Ok(render(&AppError::RateLimited {
                    retry_after_secs: wait,
                }));
            }
            let lookup = hash.clone();
            let found = state
                .db
                .read(move |conn| db::keys::find_active_by_hash(conn, &lookup))
                .await;
            match found {
                Ok(Some(key)) => {
                    let context = Arc::new(AuthContext {
                        key_id: key.id,
                        organization_id: key.organization_id,
                        organization: key.organization,
                        key_name: key.name,
                        key_prefix: key.prefix,
                        scope: key.scope,
                        zone: key.timezone.as_deref().and_then(|name| name.parse().ok()),
                    });
                    state.keys.insert(hash, context.clone(), generation);
                    context
                }
                Ok(None) => {
                    state.limiter.record_auth_failure(ip, now);
                    crate::metrics::auth_failure("invalid");
                    return Ok(render(&AppError::InvalidApiKey));
                }
                Err(err) => return Ok(render(&err)),
            }
        }
    };
    // The same shared context, handed out on the response for the access log's line.
    let caller = key.clone();
    req.extensions_mut().insert(key);
    let mut response = match inner.call(req).await {
        Ok(response) => response.into_response(),
        Err(err) => render(&to_app_error(err)),
    };
    response.extensions_mut().insert(caller);
    Ok(response)
}
