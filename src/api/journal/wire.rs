//! A journal event as the API answers it: exactly the object its hash covers (plus the
//! hash), so a reader can recompute the chain from the feed alone.

use poem_openapi::{Enum, Object};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::domain::journal::GENESIS_HASH;
use crate::error::AppError;

/// Who made the change.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub(crate) enum ActorType {
    /// A request made with an API key.
    ApiKey,
    /// The `arvalox` command line.
    Cli,
    /// Arvalox itself (the first record of rows written before the journal existed).
    System,
}

#[derive(Object, Debug, Clone, Serialize, Deserialize)]
pub(crate) struct EventActor {
    #[oai(rename = "type")]
    #[serde(rename = "type")]
    pub kind: ActorType,
    /// The key's id, for `api_key`.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub key_id: Option<i64>,
    /// The key's public prefix (never its secret), for `api_key`.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub key_prefix: Option<String>,
}

/// One change, as the journal recorded it in the change's own transaction.
#[derive(Object, Debug, Clone, Serialize, Deserialize)]
#[oai(example)]
pub(crate) struct Event {
    /// The organization's event number: 1, 2, 3… with no gaps.
    pub id: i64,
    pub organization_id: i64,
    /// When the change was made: the request's time (UTC).
    pub occurred_at: String,
    /// `invoice.created`, `payment.allocated`, `invoice.balance_changed`…
    #[oai(rename = "type")]
    #[serde(rename = "type")]
    pub event_type: String,
    /// `customer`, `invoice`, `payment`, `credit_note` or `api_key`.
    pub entity_type: String,
    pub entity_id: i64,
    pub actor: EventActor,
    /// The `X-Request-Id` of the request that made the change (null from the command line).
    pub request_id: Option<String>,
    /// The request's `Idempotency-Key`, if it had one.
    pub idempotency_key: Option<String>,
    /// The entity's answer after the change, as its GET route gives it (null once deleted;
    /// an API key's never holds the secret).
    pub data: Value,
    /// Each field that moved since the entity's previous event: `{"field": {"before", "after"}}`. Null for the entity's first event and for a deletion.
    pub changes: Value,
    /// The hash of the organization's previous event (64 zeros for the first).
    pub prev_hash: String,
    /// What happened beyond the entity's new answer, on the events that have it: for `invoice.emailed`, `invoice.email_failed`, `customer.statement_emailed` and `customer.statement_email_failed`, the document, `to`, `cc`, `subject`, `outcome` (`sent` or `failed`) and the mail server's `message_id` or `reason`. Absent otherwise (and then not part of the hashed object).
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub detail: Option<std::collections::BTreeMap<String, Value>>,
    /// SHA-256, hex, of `prev_hash`, a newline, and this event without `hash` as JSON with the keys of every object sorted, no white space, and UTF-8 text with only the escapes JSON requires.
    pub hash: String,
}

impl Event {
    /// The stored event, as sealed.
    pub(crate) fn from_sealed(fields: Map<String, Value>) -> Result<Event, AppError> {
        let id = fields.get("id").cloned().unwrap_or_default();
        serde_json::from_value(Value::Object(fields)).map_err(|err| {
            AppError::Internal(format!("journal event {id} does not read back: {err}"))
        })
    }
}

impl poem_openapi::types::Example for Event {
    fn example() -> Self {
        Event {
            id: 42,
            organization_id: 1,
            occurred_at: "2026-11-30T09:15:02Z".into(),
            event_type: "payment.created".into(),
            entity_type: "payment".into(),
            entity_id: 17,
            actor: EventActor {
                kind: ActorType::ApiKey,
                key_id: Some(2),
                key_prefix: Some("arv_1a2b3c4d".into()),
            },
            request_id: Some("5f0c3a9e2b7d4c18a1e6f9b0d2c4e8a7".into()),
            idempotency_key: Some("payment-2026-11-30-0042".into()),
            data: serde_json::json!({"id": 17, "customer_id": 3, "amount": "250.00"}),
            changes: Value::Null,
            prev_hash: GENESIS_HASH.into(),
            detail: None,
            hash: "9b1f0c6c3e0d4f3a8d2b5e7c1a9f4b6d8e0c2a4f6b8d0e2c4a6f8b0d2e4c6a8f".into(),
        }
    }
}

/// One page of events in id order.
#[derive(Object, Debug, Clone, Serialize)]
pub(crate) struct EventPage {
    pub items: Vec<Event>,
    /// Pass as `after` for the next page: the last event's id here, or `after` itself
    /// when the page is empty.
    pub next_after: i64,
    pub limit: i64,
}
