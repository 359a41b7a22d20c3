//! The whole `Idempotency-Key` rule, in the order a request meets it: the key's form
//! (checked on the raw header), the body hash that says whether a retry is the same
//! request, and the write that replays a stored answer, refuses a reused key (409), or runs
//! and stores its answer in the same transaction. `db::idempotency` only keeps the rows.

use poem::{Endpoint, IntoResponse, Request, Response};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::answer::{to_json_text, JsonAnswer};
use super::error::render;
use super::journal::Trail;
use super::AppState;
use crate::db::idempotency::{self, IdempotencyRequest, StoredRequest, StoredResponse};
use crate::db::WriteTx;
use crate::domain::journal::canonical_json;
use crate::domain::text::lower_hex;
use crate::error::AppError;

/// What an `Idempotency-Key` must be; checked on the raw header, because a value that is
/// not text at all would otherwise reach the handler as no key, and the retry it was meant
/// to make safe would write twice.
const IDEMPOTENCY_KEY_RULE: &str = "must be 1 to 255 visible ASCII characters";

fn is_idempotency_key(value: &[u8]) -> bool {
    (1..=255).contains(&value.len()) && value.iter().all(u8::is_ascii_graphic)
}

/// Refuses a request whose `Idempotency-Key` header breaks [`IDEMPOTENCY_KEY_RULE`] or comes
/// more than once.
pub(crate) async fn check_idempotency_key<E: Endpoint>(
    inner: E,
    req: Request,
) -> poem::Result<Response> {
    let keys = req.headers().get_all("idempotency-key");
    if keys.iter().nth(1).is_some() {
        // Which one the first answer is stored under would be a guess.
        return Ok(render(&AppError::field(
            "Idempotency-Key",
            "is given more than once; send one",
        )));
    }
    let bad = keys
        .iter()
        .any(|value| !is_idempotency_key(value.as_bytes()));
    if bad {
        return Ok(render(&AppError::field(
            "Idempotency-Key",
            IDEMPOTENCY_KEY_RULE,
        )));
    }
    Ok(inner.call(req).await?.into_response())
}

/// A POST as the idempotency rule sees it: whose it is, where it went, the key it came
/// with, and its body hash.
pub(crate) struct Post {
    organization_id: i64,
    path: String,
    key: Option<String>,
    request_hash: String,
    /// A top-level answer field stored as null: a secret is answered once and never
    /// stored, not even for replays.
    secret_field: Option<&'static str>,
}

impl Post {
    /// The POST to `path` by `trail`'s author, under its `Idempotency-Key`.
    pub(crate) fn new(trail: &Trail, path: impl Into<String>, request_hash: String) -> Self {
        Post {
            organization_id: trail.org,
            path: path.into(),
            key: trail.idempotency_key().map(str::to_string),
            request_hash,
            secret_field: None,
        }
    }

    /// The same POST, its answer's `field` never stored.
    pub(crate) fn redacting(self, field: &'static str) -> Self {
        Post {
            secret_field: Some(field),
            ..self
        }
    }

    /// The stored answer of an earlier try of this same request, or the 409 for a reused
    /// key: asked before work that cannot be taken back (an e-mail) is done again. (`run`
    /// asks again inside its write.)
    pub(crate) async fn replay<T: Serialize, const STATUS: u16, const TAGGED: bool>(
        &self,
        state: &AppState,
    ) -> Result<Option<JsonAnswer<T, STATUS, TAGGED>>, AppError> {
        let Some(key) = self.key.clone() else {
            return Ok(None);
        };
        let (org, path, hash) = (
            self.organization_id,
            self.path.clone(),
            self.request_hash.clone(),
        );
        let stored = state
            .db
            .read(move |conn| {
                let request = IdempotencyRequest {
                    organization_id: org,
                    key: &key,
                    method: "POST",
                    path: &path,
                    request_hash: &hash,
                };
                match idempotency::find(conn, org, &key)? {
                    Some(first) => replay_or_refuse(&request, first).map(Some),
                    None => Ok(None),
                }
            })
            .await?;
        if stored.is_some() {
            // The first try's write may be committed but not yet flushed to disk.
            state.db.until_durable().await?;
        }
        Ok(stored.map(|s| JsonAnswer::stored(s.status, s.location, s.body)))
    }

    /// A POST that creates: `f` answers the new resource and its id, and the 201 carries
    /// `Location: {path}/{id}`.
    pub(crate) async fn create<T, const TAGGED: bool, F>(
        self,
        state: &AppState,
        f: F,
    ) -> Result<JsonAnswer<T, 201, TAGGED>, AppError>
    where
        T: Serialize + Send + 'static,
        F: FnOnce(&WriteTx, &str) -> Result<(i64, T), AppError> + Clone + Send + 'static,
    {
        let path = self.path.clone();
        self.run(state, move |tx, now| {
            let (id, value) = f(tx, now)?;
            Ok((value, Some(format!("{path}/{id}"))))
        })
        .await
    }

    /// One IMMEDIATE transaction that, under an `Idempotency-Key`, first replays a stored
    /// answer (same request) or refuses the key (different request), and otherwise runs
    /// `f` and stores its answer (and `Location`, if any) with the write it describes.
    pub(crate) async fn run<T, const STATUS: u16, const TAGGED: bool, F>(
        self,
        state: &AppState,
        f: F,
    ) -> Result<JsonAnswer<T, STATUS, TAGGED>, AppError>
    where
        T: Serialize + Send + 'static,
        F: FnOnce(&WriteTx, &str) -> Result<(T, Option<String>), AppError> + Clone + Send + 'static,
    {
        // The key's form was checked on the raw header by `check_idempotency_key`.
        let now = state.now_text();
        let stored = state
            .write(self.organization_id, move |tx| {
                let request = self.key.as_deref().map(|key| IdempotencyRequest {
                    organization_id: self.organization_id,
                    key,
                    method: "POST",
                    path: &self.path,
                    request_hash: &self.request_hash,
                });
                if let Some(request) = &request {
                    if let Some(first) =
                        idempotency::find(tx, request.organization_id, request.key)?
                    {
                        return replay_or_refuse(request, first);
                    }
                }
                let (value, location) = f(tx, &now)?;
                let answer = StoredResponse {
                    status: STATUS,
                    location,
                    body: to_json_text(&value),
                };
                if let Some(request) = &request {
                    let stored = StoredResponse {
                        body: stored_body(&value, &answer.body, self.secret_field),
                        ..answer.clone()
                    };
                    idempotency::store(tx, request, &stored, &now)?;
                }
                Ok(answer)
            })
            .await?;
        Ok(JsonAnswer::stored(
            stored.status,
            stored.location,
            stored.body,
        ))
    }
}

/// The answer as stored for replays: `body`, or with `secret_field` set to null (and
/// never the secret, even if the value will not convert).
fn stored_body<T: Serialize>(value: &T, body: &str, secret_field: Option<&str>) -> String {
    let Some(field) = secret_field else {
        return body.to_string();
    };
    let mut json = serde_json::to_value(value).unwrap_or_default();
    if let Some(fields) = json.as_object_mut() {
        fields.insert(field.to_string(), serde_json::Value::Null);
    }
    json.to_string()
}

/// The stored answer when `first` was the same request, else the 409 that tells the
/// client to use a new key.
fn replay_or_refuse(
    request: &IdempotencyRequest,
    first: StoredRequest,
) -> Result<StoredResponse, AppError> {
    let same = first.method == request.method
        && first.path == request.path
        && first.request_hash == request.request_hash;
    if same {
        return Ok(first.response);
    }
    Err(AppError::conflict_on(
        "Idempotency-Key",
        format!(
            "Idempotency-Key '{}' was already used for a different request ({} {}); use a new key for a new request.",
            request.key, first.method, first.path
        ),
    ))
}

/// SHA-256 of the body as parsed, hex: the body with object keys sorted at every depth, so
/// a retry that reorders fields is the same request.
pub(crate) fn body_hash(value: &Value) -> String {
    lower_hex(&Sha256::digest(canonical_json(value).as_bytes()))
}
