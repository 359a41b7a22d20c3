//! Each entity's answer as its GET route gives it, read inside any transaction: the
//! `data` of the journal's side events, what `verify` compares with the latest event, and
//! what an `If-Match` is checked against.

use chrono::NaiveDate;
use rusqlite::Connection;
use serde_json::Value;

use crate::api::credit_notes::CreditNote;
use crate::api::customers::Customer;
use crate::api::invoices::to_api;
use crate::api::keys::ApiKeyInfo;
use crate::api::payments::Payment;
use crate::api::to_json_text;
use crate::api::webhooks::WebhookEndpoint;
use crate::db;
use crate::domain::journal::EntityType;
use crate::error::AppError;

/// The answer of `entity` `id` of `org` as of `today`, byte for byte as its GET gives it;
/// `None` when there is no such row.
pub(crate) fn current_text(
    conn: &Connection,
    org: i64,
    (entity, id): (EntityType, i64),
    today: NaiveDate,
) -> Result<Option<String>, AppError> {
    let answer = match entity {
        EntityType::Customer => {
            let today = db::codec::date_text(today);
            db::customers::get(conn, org, id, &today).map(|row| to_json_text(&Customer::from(row)))
        }
        EntityType::Invoice => {
            db::invoices::get(conn, org, id).map(|row| to_json_text(&to_api(row, today, true)))
        }
        EntityType::Payment => {
            db::payments::get(conn, org, id).map(|row| to_json_text(&Payment::from(row)))
        }
        EntityType::CreditNote => {
            db::credit_notes::get(conn, org, id).map(|row| to_json_text(&CreditNote::from(row)))
        }
        EntityType::ApiKey => db::keys::get_in_organization(conn, org, id)
            .map(|row| to_json_text(&ApiKeyInfo::from(row))),
        EntityType::WebhookEndpoint => {
            db::webhooks::get(conn, org, id).map(|row| to_json_text(&WebhookEndpoint::from(row)))
        }
    };
    match answer {
        Ok(text) => Ok(Some(text)),
        Err(AppError::NotFound(_)) => Ok(None),
        Err(err) => Err(err),
    }
}

/// [`current_text`] as JSON.
pub(crate) fn current_answer(
    conn: &Connection,
    org: i64,
    key: (EntityType, i64),
    today: NaiveDate,
) -> Result<Option<Value>, AppError> {
    let Some(text) = current_text(conn, org, key, today)? else {
        return Ok(None);
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|err| AppError::Internal(format!("an answer does not read back as JSON: {err}")))
}

/// An answer as JSON; every answer type serializes (no maps with non-text keys).
pub(crate) fn to_value<T: serde::Serialize>(answer: &T) -> Value {
    serde_json::to_value(answer).unwrap_or(Value::Null)
}
