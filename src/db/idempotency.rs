//! The rows behind `Idempotency-Key`: the first request sent with a key and its answer.
//! The rule that reads them (replay or refuse) is `api::idempotency`.

use super::conn::{params, Conn, OptionalExtension};
use super::WriteTx;
use crate::error::AppError;

#[derive(Debug, Clone)]
pub(crate) struct StoredResponse {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
}

/// A request sent with an `Idempotency-Key`, as it is compared and stored.
pub(crate) struct IdempotencyRequest<'a> {
    pub organization_id: i64,
    pub key: &'a str,
    pub method: &'a str,
    pub path: &'a str,
    pub request_hash: &'a str,
}

/// The first request stored under a key, and the answer it got.
pub(crate) struct StoredRequest {
    pub method: String,
    pub path: String,
    pub request_hash: String,
    pub response: StoredResponse,
}

/// The first request sent with `key` in the organization, if any.
pub(crate) fn find(tx: &Conn, org: i64, key: &str) -> Result<Option<StoredRequest>, AppError> {
    Ok(tx
        .prepare_cached(
            "SELECT request_method, request_path, request_hash, response_status,
                    response_location, response_body
             FROM idempotency_keys WHERE organization_id = ?1 AND idempotency_key = ?2",
        )?
        .query_row(params![org, key], |row| {
            Ok(StoredRequest {
                method: row.get(0)?,
                path: row.get(1)?,
                request_hash: row.get(2)?,
                response: StoredResponse {
                    status: row.get(3)?,
                    location: row.get(4)?,
                    body: row.get(5)?,
                },
            })
        })
        .optional()?)
}

pub(crate) fn store(
    tx: &WriteTx,
    req: &IdempotencyRequest,
    response: &StoredResponse,
    now: &str,
) -> Result<(), AppError> {
    tx.prepare_cached(
        "INSERT INTO idempotency_keys (organization_id, idempotency_key, request_method, request_path,
            request_hash, response_status, response_location, response_body, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        req.organization_id,
        req.key,
        req.method,
        req.path,
        req.request_hash,
        response.status,
        response.location,
        response.body,
        now
    ])?;
    Ok(())
}
