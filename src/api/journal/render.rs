//! Each entity's answer as its GET route gives it, read inside any transaction: the
//! `data` of the journal's side events, and what `verify` compares with the latest event.

use chrono::NaiveDate;
use rusqlite::Connection;
use serde_json::Value;

use crate::api::credit_notes::CreditNote;
use crate::api::customers::Customer;
use crate::api::invoices::to_api;
use crate::api::keys::ApiKeyInfo;
use crate::api::payments::Payment;
use crate::db;
use crate::domain::journal::EntityType;
use crate::error::AppError;

/// The answer of `entity` `id` of `org` as of `today`; `None` when there is no such row.
pub(crate) fn current_answer(
    conn: &Connection,
    org: i64,
    (entity, id): (EntityType, i64),
    today: NaiveDate,
) -> Result<Option<Value>, AppError> {
    let answer = match entity {
        EntityType::Customer => {
            let today = db::codec::date_text(today);
            db::customers::get(conn, org, id, &today).map(|row| to_value(&Customer::from(row)))
        }
        EntityType::Invoice => {
            db::invoices::get(conn, org, id).map(|row| to_value(&to_api(row, today, true)))
        }
        EntityType::Payment => {
            db::payments::get(conn, org, id).map(|row| to_value(&Payment::from(row)))
        }
        EntityType::CreditNote => {
            db::credit_notes::get(conn, org, id).map(|row| to_value(&CreditNote::from(row)))
        }
        EntityType::ApiKey => {
            db::keys::get_in_organization(conn, org, id).map(|row| to_value(&ApiKeyInfo::from(row)))
        }
    };
    match answer {
        Ok(value) => Ok(Some(value)),
        Err(AppError::NotFound(_)) => Ok(None),
        Err(err) => Err(err),
    }
}

/// An answer as JSON; every answer type serializes (no maps with non-text keys).
pub(crate) fn to_value<T: serde::Serialize>(answer: &T) -> Value {
    serde_json::to_value(answer).unwrap_or(Value::Null)
}
