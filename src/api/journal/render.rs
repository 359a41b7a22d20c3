//! Each entity's answer as its GET route gives it, read inside any transaction: the
//! `data` of the journal's side events, what `verify` compares with the latest event, and
//! what an `If-Match` is checked against.

use chrono::NaiveDate;
use serde_json::Value;

use crate::api::credit_notes::CreditNote;
use crate::api::customers::Customer;
use crate::api::invoices::to_api;
use crate::api::keys::ApiKeyInfo;
use crate::api::organization::Organization;
use crate::api::payments::Payment;
use crate::api::to_json_text;
use crate::api::webhooks::WebhookEndpoint;
use crate::db;
use crate::db::conn::Conn;
use crate::domain::journal::EntityType;
use crate::error::AppError;

/// One entity's answer, typed, so it is written once: as text or as JSON.
enum Answer {
    Customer(Customer),
    Invoice(Box<crate::api::invoices::Invoice>),
    Payment(Payment),
    CreditNote(CreditNote),
    ApiKey(ApiKeyInfo),
    WebhookEndpoint(WebhookEndpoint),
    Organization(Organization),
}

impl serde::Serialize for Answer {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Answer::Customer(answer) => answer.serialize(serializer),
            Answer::Invoice(answer) => answer.serialize(serializer),
            Answer::Payment(answer) => answer.serialize(serializer),
            Answer::CreditNote(answer) => answer.serialize(serializer),
            Answer::ApiKey(answer) => answer.serialize(serializer),
            Answer::WebhookEndpoint(answer) => answer.serialize(serializer),
            Answer::Organization(answer) => answer.serialize(serializer),
        }
    }
}

/// The answer of `entity` `id` of `org` as of `today`; `None` when there is no such row.
fn answer(
    conn: &Conn,
    org: i64,
    (entity, id): (EntityType, i64),
    today: NaiveDate,
) -> Result<Option<Answer>, AppError> {
    let answer = match entity {
        EntityType::Customer => {
            let today = db::codec::date_text(today);
            db::customers::get(conn, org, id, &today).map(|row| Answer::Customer(row.into()))
        }
        EntityType::Invoice => db::invoices::get(conn, org, id)
            .map(|row| Answer::Invoice(Box::new(to_api(row, today, true)))),
        EntityType::Payment => {
            db::payments::get(conn, org, id).map(|row| Answer::Payment(row.into()))
        }
        EntityType::CreditNote => {
            db::credit_notes::get(conn, org, id).map(|row| Answer::CreditNote(row.into()))
        }
        EntityType::ApiKey => {
            db::keys::get_in_organization(conn, org, id).map(|row| Answer::ApiKey(row.into()))
        }
        EntityType::WebhookEndpoint => {
            db::webhooks::get(conn, org, id).map(|row| Answer::WebhookEndpoint(row.into()))
        }
        // An organization's only row is itself.
        EntityType::Organization if id == org => {
            db::organization::get(conn, org).map(|row| Answer::Organization(row.into()))
        }
        EntityType::Organization => {
            Err(AppError::NotFound(format!("Organization {id} not found.")))
        }
    };
    match answer {
        Ok(answer) => Ok(Some(answer)),
        Err(AppError::NotFound(_)) => Ok(None),
        Err(err) => Err(err),
    }
}

/// The answer byte for byte as its GET gives it; `None` when there is no such row.
pub(crate) fn current_text(
    conn: &Conn,
    org: i64,
    key: (EntityType, i64),
    today: NaiveDate,
) -> Result<Option<String>, AppError> {
    Ok(answer(conn, org, key, today)?.map(|answer| to_json_text(&answer)))
}

/// The answer as JSON.
pub(crate) fn current_answer(
    conn: &Conn,
    org: i64,
    key: (EntityType, i64),
    today: NaiveDate,
) -> Result<Option<Value>, AppError> {
    Ok(answer(conn, org, key, today)?.map(|answer| to_value(&answer)))
}

/// An answer as JSON; every answer type serializes (no maps with non-text keys).
pub(crate) fn to_value<T: serde::Serialize>(answer: &T) -> Value {
    serde_json::to_value(answer).unwrap_or(Value::Null)
}
