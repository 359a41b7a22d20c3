//! Organizations and API keys.

use super::conn::{params, Conn, OptionalExtension, Row};
use super::WriteTx;
use crate::domain::keys::{self, Scope};
use crate::domain::text::check_new_slug;
use crate::error::AppError;

#[derive(Debug, Clone)]
pub struct KeyRecord {
    pub id: i64,
    pub organization_id: i64,
    pub organization: String,
    pub name: String,
    pub prefix: String,
    pub scope: Scope,
    pub created_at: String,
    pub revoked_at: Option<String>,
    /// The organization's IANA time zone; `None`: the server's.
    pub timezone: Option<String>,
}

const KEY_COLUMNS: &str = "k.id, k.organization_id, o.slug, k.name, k.prefix, k.scope, \
     k.created_at, k.revoked_at, o.timezone";

fn key_from_row(row: &Row) -> crate::db::conn::StoreResult<KeyRecord> {
    let id: i64 = row.get(0)?;
    let scope: String = row.get(5)?;
    Ok(KeyRecord {
        id,
        organization_id: row.get(1)?,
        organization: row.get(2)?,
        name: row.get(3)?,
        prefix: row.get(4)?,
        scope: Scope::parse(&scope).ok_or_else(|| {
            super::codec::unreadable(5, format!("API key {id}: unknown scope '{scope}'"))
        })?,
        created_at: row.get(6)?,
        revoked_at: row.get(7)?,
        timezone: row.get(8)?,
    })
}

/// The organization's id, creating it when it does not exist yet: a new one's slug must
/// pass [`check_new_slug`] (one made before the rule keeps working).
pub fn ensure_organization(tx: &WriteTx, slug: &str, now: &str) -> Result<i64, AppError> {
    let find = |tx: &WriteTx| -> Result<Option<i64>, AppError> {
        Ok(tx
            .query_row(
                "SELECT id FROM organizations WHERE slug = ?1",
                [slug],
                |row| row.get(0),
            )
            .optional()?)
    };
    if let Some(id) = find(tx)? {
        return Ok(id);
    }
    check_new_slug(slug)?;
    tx.execute(
        "INSERT INTO organizations (slug, name, created_at) VALUES (?1, ?1, ?2)",
        params![slug, now],
    )?;
    find(tx)?.ok_or_else(|| AppError::Internal(format!("organization '{slug}' was not created")))
}

/// Stores a new key's hash and returns the record and the secret, which is never stored.
pub fn create_key(
    tx: &WriteTx,
    organization_id: i64,
    name: &str,
    scope: Scope,
    now: &str,
) -> Result<(KeyRecord, String), AppError> {
    let new_key = keys::generate();
    let id: i64 = tx.query_row(
        "INSERT INTO api_keys (organization_id, name, prefix, key_hash, scope, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         RETURNING id",
        params![
            organization_id,
            name,
            new_key.prefix,
            new_key.hash,
            scope.as_str(),
            now
        ],
        |row| row.get(0),
    )?;
    let record = get_key(tx, id)?.ok_or_else(|| AppError::Internal("key vanished".into()))?;
    Ok((record, new_key.secret))
}

fn get_key(conn: &Conn, id: i64) -> Result<Option<KeyRecord>, AppError> {
    Ok(conn
        .query_row(
            &format!(
                "SELECT {KEY_COLUMNS} FROM api_keys k JOIN organizations o ON o.id = k.organization_id WHERE k.id = ?1"
            ),
            [id],
            key_from_row,
        )
        .optional()?)
}

/// One key of the organization.
pub(crate) fn get_in_organization(
    conn: &Conn,
    organization_id: i64,
    id: i64,
) -> Result<KeyRecord, AppError> {
    get_key(conn, id)?
        .filter(|key| key.organization_id == organization_id)
        .ok_or_else(|| AppError::NotFound(format!("API key {id} not found.")))
}

/// Keys of one organization, or of all when `organization_id` is `None` (the CLI).
pub fn list_keys(conn: &Conn, organization_id: Option<i64>) -> Result<Vec<KeyRecord>, AppError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {KEY_COLUMNS} FROM api_keys k JOIN organizations o ON o.id = k.organization_id
         WHERE (CAST(?1 AS BIGINT) IS NULL OR k.organization_id = ?1) ORDER BY k.id"
    ))?;
    let rows = stmt.query_map([organization_id], key_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Revokes by id or by displayed prefix; revoking twice keeps the first revocation time.
pub fn revoke_key(
    tx: &WriteTx,
    organization_id: Option<i64>,
    id_or_prefix: &str,
    now: &str,
) -> Result<KeyRecord, AppError> {
    let id: Option<i64> = tx
        .query_row(
            "SELECT id FROM api_keys
             WHERE (CAST(?1 AS BIGINT) IS NULL OR organization_id = ?1)
               AND (CAST(id AS TEXT) = ?2 OR prefix = ?2)
             ORDER BY id LIMIT 1",
            params![organization_id, id_or_prefix],
            |row| row.get(0),
        )
        .optional()?;
    let id = id.ok_or_else(|| AppError::NotFound(format!("API key {id_or_prefix} not found.")))?;
    tx.execute(
        "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1",
        params![id, now],
    )?;
    get_key(tx, id)?.ok_or_else(|| AppError::Internal("key vanished".into()))
}

/// The live key with this hash, if any.
pub(crate) fn find_active_by_hash(conn: &Conn, hash: &str) -> Result<Option<KeyRecord>, AppError> {
    Ok(conn
        .query_row(
            &format!(
                "SELECT {KEY_COLUMNS} FROM api_keys k JOIN organizations o ON o.id = k.organization_id
                 WHERE k.key_hash = ?1 AND k.revoked_at IS NULL"
            ),
            [hash],
            key_from_row,
        )
        .optional()?)
}

pub fn count_keys(conn: &Conn) -> Result<i64, AppError> {
    Ok(conn.query_row("SELECT COUNT(*) FROM api_keys", (), |row| row.get(0))?)
}

/// Changes whenever a key is revoked: the number of revoked keys and the latest revocation.
pub(crate) fn revocation_marker(conn: &Conn) -> Result<(i64, Option<String>), AppError> {
    Ok(conn.query_row(
        "SELECT COUNT(*), MAX(revoked_at) FROM api_keys WHERE revoked_at IS NOT NULL",
        (),
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?)
}

/// The ids of every revoked key.
pub(crate) fn revoked_key_ids(conn: &Conn) -> Result<std::collections::HashSet<i64>, AppError> {
    let mut stmt = conn.prepare_cached("SELECT id FROM api_keys WHERE revoked_at IS NOT NULL")?;
    let ids = stmt
        .query_map((), |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(ids)
}
