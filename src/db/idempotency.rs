//! Stored answers to POSTs sent with an `Idempotency-Key`.

use rusqlite::{params, OptionalExtension};

use super::WriteTx;
use crate::error::AppError;

#[derive(Debug, Clone)]
pub struct StoredResponse {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
}

pub struct IdempotencyRequest<'a> {
    pub organization_id: i64,
    pub key: &'a str,
    pub method: &'a str,
    pub path: &'a str,
    pub request_hash: &'a str,
}

/// The first answer to this key, or a 409 when the key was used for a different request.
pub fn lookup(tx: &WriteTx, req: &IdempotencyRequest) -> Result<Option<StoredResponse>, AppError> {
    let row: Option<(String, String, String, u16, Option<String>, String)> = tx
        .prepare_cached(
            "SELECT request_method, request_path, request_hash, response_status, response_location, response_body
             FROM idempotency_keys WHERE organization_id = ?1 AND idempotency_key = ?2",
)?
.query_row(
            params![req.organization_id, req.key],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?)),
        )
        .optional()?;
    match row {
        None => Ok(None),
        Some((method, path, hash, status, location, body)) => {
            if method != req.method || path != req.path || hash != req.request_hash {
                return Err(AppError::conflict_on(
                    "Idempotency-Key",
                    format!(
                        "Idempotency-Key '{}' was already used for a different request ({method} {path}); use a new key for a new request.",
                        req.key
                    ),
                ));
            }
            Ok(Some(StoredResponse {
                status,
                location,
                body,
            }))
        }
    }
}

pub fn store(
    tx: &WriteTx,
    req: &IdempotencyRequest,
    response: &StoredResponse,
    now: &str,
) -> Result<(), AppError> {
    tx.prepare_cached(
        "INSERT INTO idempotency_keys (organization_id, idempotency_key, request_method, request_path,
            request_hash, response_status, response_location, response_body, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
)?.execute(
        params![
            req.organization_id,
            req.key,
            req.method,
            req.path,
            req.request_hash,
            response.status,
            response.location,
            response.body,
            now
        ],
    )?;
    Ok(())
}
