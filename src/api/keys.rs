//! `/health`, `/v1/ping` and `/v1/api-keys`.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::param::{Header, Path};
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::auth::ApiKeyAuth;
use super::error::{ReadError, WriteError};
use super::journal::Trail;
use super::scopes::scope_of;
use super::types::Text;
use super::types::{Input, JsonBody, Opt};
use super::{AppState, Created, Json, Post, Tag};
use crate::db::keys::{self as store, KeyRecord};
use crate::domain::journal::EntityType;
use crate::domain::keys::Scope;

crate::api::types::wire_enum!(
    KeyScope <=> Scope {
        /// GET only.
        Read,
        /// Reads and every AR write.
        Write,
        /// Writes and key management.
        Admin,
    }
);

#[derive(Object, Debug, Clone, serde::Serialize)]
pub(crate) struct Health {
    /// Always `ok`.
    pub status: String,
}

#[derive(Object, Debug, Clone, serde::Serialize)]
#[oai(example)]
pub(crate) struct Ping {
    pub status: String,
    /// The key's organization.
    pub organization: String,
    pub key_name: String,
    /// The key's first characters, as shown in key listings.
    pub key_prefix: String,
    pub scope: KeyScope,
}

impl poem_openapi::types::Example for Ping {
    fn example() -> Self {
        Ping {
            status: "ok".into(),
            organization: "default".into(),
            key_name: "admin".into(),
            key_prefix: "arv_1a2b3c4d".into(),
            scope: KeyScope::Admin,
        }
    }
}

/// An API key; the secret itself is never shown again after creation.
#[derive(Object, Debug, Clone, serde::Serialize)]
pub(crate) struct ApiKeyInfo {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub scope: KeyScope,
    pub organization: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

impl From<KeyRecord> for ApiKeyInfo {
    fn from(k: KeyRecord) -> Self {
        ApiKeyInfo {
            id: k.id,
            name: k.name,
            prefix: k.prefix,
            scope: k.scope.into(),
            organization: k.organization,
            created_at: k.created_at,
            revoked_at: k.revoked_at,
        }
    }
}

/// A new key, with its secret: store it now, it is shown only once.
#[derive(Object, Debug, Clone, serde::Serialize)]
pub(crate) struct CreatedApiKey {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub scope: KeyScope,
    pub organization: String,
    pub created_at: String,
    /// The secret key. Arvalox keeps only its hash, so a replay under the same
    /// Idempotency-Key answers `null` here.
    pub key: Option<String>,
}

#[derive(Object, Debug, Clone, Default)]
pub(crate) struct ApiKeyCreate {
    /// 1–100 characters, to tell keys apart.
    pub name: Input<Text<1, 100>>,
    /// Default `write`.
    pub scope: Opt<KeyScope>,
}

#[derive(Object, Debug, Clone, serde::Serialize)]
pub(crate) struct ApiKeyList {
    pub items: Vec<ApiKeyInfo>,
    pub total: i64,
}

#[derive(ApiResponse)]
pub(crate) enum Revoked {
    /// Revoked: the key stops working at once.
    #[oai(status = 204)]
    NoContent,
}

/// Whether this server can take requests now.
#[derive(Object, Debug, Clone, serde::Serialize)]
pub(crate) struct Readiness {
    /// `ready` or `not_ready`.
    pub status: String,
    /// The book's last migration (null when the database did not answer).
    pub schema_version: Option<i64>,
    /// This binary's last migration: the two are equal when ready.
    pub expected_schema_version: i64,
    /// Why not, when not ready.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(ApiResponse)]
pub(crate) enum ReadyAnswer {
    /// The database answers and its migrations are this binary's.
    #[oai(status = 200)]
    Ready(Json<Readiness>),
    /// The database does not answer, or its migrations are not this binary's.
    #[oai(status = 503)]
    NotReady(Json<Readiness>),
}

#[derive(Default)]
pub(crate) struct MetaApi;

#[OpenApi(tag = "Tag::Authentication")]
impl MetaApi {
    /// Liveness check
    ///
    /// No key, no rate limit, no database: 200 while the server runs.
    #[oai(path = "/health", method = "get", operation_id = "health")]
    async fn health(&self) -> Json<Health> {
        Json(Health {
            status: "ok".into(),
        })
    }

    /// Readiness check
    ///
    /// No key, no rate limit: 200 when the database answers and its migrations are this binary's, 503 otherwise (for a supervisor or a load balancer; `/health` says only that the process runs).
    #[oai(path = "/ready", method = "get", operation_id = "ready")]
    async fn ready(&self, state: Data<&Arc<AppState>>) -> ReadyAnswer {
        let expected = state.db.expected_schema_version();
        // A pooled read, not a point read: those may answer from a snapshot kept a moment.
        let found = state
            .db
            .read(|conn| {
                let sql = "SELECT COALESCE(MAX(version), 0) FROM refinery_schema_history";
                Ok(conn.query_row(sql, (), |row| row.get::<_, i64>(0))?)
            })
            .await;
        let (schema_version, reason) = match found {
            Ok(version) if version == expected => (Some(version), None),
            Ok(version) => (
                Some(version),
                Some(format!(
                    "the book has migrations up to {version}, this binary {expected}"
                )),
            ),
            Err(err) => {
                tracing::error!(error = %err, "readiness: the database does not answer");
                (None, Some("the database does not answer".to_string()))
            }
        };
        let answer = Readiness {
            status: if reason.is_none() {
                "ready"
            } else {
                "not_ready"
            }
            .into(),
            schema_version,
            expected_schema_version: expected,
            reason,
        };
        match answer.reason {
            None => ReadyAnswer::Ready(Json(answer)),
            Some(_) => ReadyAnswer::NotReady(Json(answer)),
        }
    }

    /// Test API key authentication
    ///
    /// Answers with the calling key's organization, name, prefix and scope: a quick way to
    /// check that a key works and what it may do. Any scope; counts against the rate limit.
    #[oai(path = "/v1/ping", method = "get", operation_id = "ping")]
    async fn ping(&self, auth: ApiKeyAuth) -> Result<Json<Ping>, ReadError> {
        let ctx = auth.require(scope_of("ping"))?;
        Ok(Json(Ping {
            status: "ok".into(),
            organization: ctx.organization.clone(),
            key_name: ctx.key_name.clone(),
            key_prefix: ctx.key_prefix.clone(),
            scope: ctx.scope.into(),
        }))
    }
}

#[derive(Default)]
pub(crate) struct KeysApi;

#[OpenApi(tag = "Tag::ApiKeys")]
impl KeysApi {
    /// List API keys
    ///
    /// The organization's keys, revoked ones included; never the secrets.
    #[oai(path = "/v1/api-keys", method = "get", operation_id = "list_api_keys")]
    async fn list(
        &self,
        auth: ApiKeyAuth,
        state: Data<&Arc<AppState>>,
    ) -> Result<Json<ApiKeyList>, ReadError> {
        let org = auth.require(scope_of("list_api_keys"))?.organization_id;
        let keys = state
            .db
            .read(move |conn| store::list_keys(conn, Some(org)))
            .await?;
        Ok(Json(ApiKeyList {
            total: keys.len() as i64,
            items: keys.into_iter().map(ApiKeyInfo::from).collect(),
        }))
    }

    /// Create an API key
    ///
    /// The answer holds the secret key once; only its hash is stored.
    #[oai(
        path = "/v1/api-keys",
        method = "post",
        operation_id = "create_api_key"
    )]
    async fn create(
        &self,
        auth: ApiKeyAuth,
        state: Data<&Arc<AppState>>,
        /// Makes a retry safe: the same key and body return the first answer and write nothing.
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
        body: JsonBody<ApiKeyCreate>,
    ) -> Result<Created<CreatedApiKey>, WriteError> {
        let trail = Trail::checked((&auth, &state), "create_api_key", (idempotency_key.0, None))?;
        let org = trail.org;
        let (value, mut errors, hash) = body.into_parts();
        let name = value.name.text().required("name", &mut errors);
        let scope = match value.scope {
            Input::Invalid(_) => {
                errors.add("scope", "must be one of: read, write, admin");
                None
            }
            other => other.optional("scope", &mut errors),
        };
        errors.finish()?;
        let name = name.unwrap_or_default();
        let scope = scope.map(Scope::from).unwrap_or(Scope::Write);
        let post = Post::new(&trail, "/v1/api-keys", hash).redacting("key");
        Ok(post
            .create(&state, move |tx, now| {
                let (record, secret) = store::create_key(tx, org, name.trim(), scope, now)?;
                // The event holds the key as `GET` shows it: never the secret.
                let info = ApiKeyInfo::from(record.clone());
                trail.record_answer(tx, now, (EntityType::ApiKey, record.id), "created", &info)?;
                let created = CreatedApiKey {
                    id: record.id,
                    name: record.name,
                    prefix: record.prefix,
                    scope: record.scope.into(),
                    organization: record.organization,
                    created_at: record.created_at,
                    key: Some(secret),
                };
                Ok((created.id, created))
            })
            .await?)
    }

    /// Get an API key
    ///
    /// Its name, prefix, scope and dates; never the secret.
    #[oai(
        path = "/v1/api-keys/:id",
        method = "get",
        operation_id = "get_api_key"
    )]
    async fn get(
        &self,
        auth: ApiKeyAuth,
        state: Data<&Arc<AppState>>,
        id: Path<i64>,
    ) -> Result<Json<ApiKeyInfo>, ReadError> {
        let org = auth.require(scope_of("get_api_key"))?.organization_id;
        let key = state
            .db
            .read_point(|conn| store::get_in_organization(conn, org, id.0))?;
        Ok(Json(key.into()))
    }

    /// Revoke an API key
    ///
    /// A soft delete: the key stops working before this answer is sent, and stays listed
    /// with its `revoked_at` time so the record of who had access is kept. A key cannot
    /// revoke itself; revoking a revoked key again changes nothing and answers 204 again.
    #[oai(
        path = "/v1/api-keys/:id",
        method = "delete",
        operation_id = "revoke_api_key"
    )]
    async fn revoke(
        &self,
        auth: ApiKeyAuth,
        state: Data<&Arc<AppState>>,
        id: Path<i64>,
    ) -> Result<Revoked, WriteError> {
        let ctx = auth.require(scope_of("revoke_api_key"))?;
        if ctx.key_id == id.0 {
            return Err(crate::error::AppError::conflict(
                "This is the key making the request; revoke it with another admin key (or `arvalox keys revoke`).",
            )
            .into());
        }
        let org = ctx.organization_id;
        let trail = Trail::of(ctx, state.today_for(ctx));
        let now = state.now_text();
        let key_id = id.0;
        state
            .write(org, move |tx| {
                let was_live = store::get_in_organization(tx, org, key_id)?
                    .revoked_at
                    .is_none();
                let record = store::revoke_key(tx, Some(org), &key_id.to_string(), &now)?;
                if !was_live {
                    return Ok(());
                }
                let info = ApiKeyInfo::from(record);
                trail.record_answer(tx, &now, (EntityType::ApiKey, key_id), "revoked", &info)
            })
            .await?;
        // Before answering, so the key's very next request is refused.
        state.keys.forget(|cached| cached == key_id);
        Ok(Revoked::NoContent)
    }
}
