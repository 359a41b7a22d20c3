//! The audit journal's rules: what an event holds, its canonical encoding, the hash chain
//! that makes an edit, a gap or a swap visible, the changes an update made, and which
//! answer fields are derived (from the clock or from other records) and so left out when
//! a row is compared with its latest event.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::detail::PAYMENTS_SHOWN;
use super::text::lower_hex;

/// The `prev_hash` of each organization's first event.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What an event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntityType {
    Customer,
    Invoice,
    Payment,
    CreditNote,
    ApiKey,
    WebhookEndpoint,
    Organization,
}

impl EntityType {
    pub const ALL: [EntityType; 7] = [
        EntityType::Customer,
        EntityType::Invoice,
        EntityType::Payment,
        EntityType::CreditNote,
        EntityType::ApiKey,
        EntityType::WebhookEndpoint,
        EntityType::Organization,
    ];

    /// The name in events: `credit_note`, the prefix of its event types.
    pub fn as_str(self) -> &'static str {
        match self {
            EntityType::Customer => "customer",
            EntityType::Invoice => "invoice",
            EntityType::Payment => "payment",
            EntityType::CreditNote => "credit_note",
            EntityType::ApiKey => "api_key",
            EntityType::WebhookEndpoint => "webhook_endpoint",
            EntityType::Organization => "organization",
        }
    }

    /// The name at the start of a sentence: `Credit note 7 not found.`
    pub fn sentence_name(self) -> &'static str {
        match self {
            EntityType::Customer => "Customer",
            EntityType::Invoice => "Invoice",
            EntityType::Payment => "Payment",
            EntityType::CreditNote => "Credit note",
            EntityType::ApiKey => "API key",
            EntityType::WebhookEndpoint => "Webhook endpoint",
            EntityType::Organization => "Organization",
        }
    }

    pub fn parse(text: &str) -> Option<EntityType> {
        EntityType::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }

    /// Answer fields that move without an event of this entity: balances derived from
    /// other records and figures derived from today's date. Left out of `changes` and of
    /// the comparison of a row with its latest event.
    pub fn derived_fields(self) -> &'static [&'static str] {
        match self {
            EntityType::Customer => &[
                "outstanding_balance",
                "overdue_balance",
                "credit_balance",
                "net_balance",
            ],
            EntityType::Invoice => &["is_overdue", "days_overdue"],
            EntityType::Payment
            | EntityType::CreditNote
            | EntityType::ApiKey
            | EntityType::WebhookEndpoint
            | EntityType::Organization => &[],
        }
    }
}

/// Who made a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// An API key, named by its id and public prefix (never its secret).
    ApiKey { key_id: i64, key_prefix: String },
    /// The `arvalox` command line on the server's machine.
    Cli,
    /// Arvalox itself: the journal's first record of rows written before it existed.
    System,
}

impl Actor {
    pub fn to_json(&self) -> Value {
        match self {
            Actor::ApiKey { key_id, key_prefix } => serde_json::json!({
                "type": "api_key",
                "key_id": key_id,
                "key_prefix": key_prefix,
            }),
            Actor::Cli => serde_json::json!({"type": "cli"}),
            Actor::System => serde_json::json!({"type": "system"}),
        }
    }
}

/// Every event type the journal writes, for those who subscribe to some.
pub const EVENT_TYPES: [&str; 39] = [
    "customer.created",
    "customer.updated",
    "customer.deleted",
    "customer.imported",
    "customer.statement_emailed",
    "customer.statement_email_failed",
    "invoice.created",
    "invoice.updated",
    "invoice.deleted",
    "invoice.sent",
    "invoice.voided",
    "invoice.written_off",
    "invoice.write_off_reversed",
    "invoice.balance_changed",
    "invoice.imported",
    "invoice.emailed",
    "invoice.email_failed",
    "payment.created",
    "payment.allocated",
    "payment.refunded",
    "payment.voided",
    "payment.imported",
    "credit_note.created",
    "credit_note.allocated",
    "credit_note.refunded",
    "credit_note.voided",
    "credit_note.imported",
    "api_key.created",
    "api_key.revoked",
    "api_key.imported",
    "webhook_endpoint.created",
    "webhook_endpoint.updated",
    "webhook_endpoint.deleted",
    "webhook_endpoint.retried",
    "webhook_endpoint.disabled",
    "webhook_endpoint.imported",
    "organization.created",
    "organization.updated",
    "organization.imported",
];

/// `invoice.created`: the entity's name, a dot and what happened to it.
pub fn event_type(entity: EntityType, action: &str) -> String {
    format!("{}.{action}", entity.as_str())
}

/// The event types that mean the entity is gone: its row must no longer exist.
pub fn is_removal(event_type: &str) -> bool {
    event_type.ends_with(".deleted")
}

/// JSON with the keys of every object sorted, no white space: the one encoding that is
/// hashed, so a reader who re-encodes an event gets the same bytes. Written straight from
/// the borrowed value (an event's `data` is kilobytes; copying it to sort it cost the
/// writer more than the hash).
pub fn canonical_json(value: &Value) -> String {
    fn write(value: &Value, out: &mut Vec<u8>) {
        match value {
            Value::Object(map) => {
                let mut entries: Vec<_> = map.iter().collect();
                entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
                out.push(b'{');
                for (n, (key, value)) in entries.into_iter().enumerate() {
                    if n > 0 {
                        out.push(b',');
                    }
                    // Writing a string or a scalar into a Vec cannot fail.
                    let _ = serde_json::to_writer(&mut *out, key);
                    out.push(b':');
                    write(value, out);
                }
                out.push(b'}');
            }
            Value::Array(items) => {
                out.push(b'[');
                for (n, item) in items.iter().enumerate() {
                    if n > 0 {
                        out.push(b',');
                    }
                    write(item, out);
                }
                out.push(b']');
            }
            scalar => {
                let _ = serde_json::to_writer(&mut *out, scalar);
            }
        }
    }
    let mut out = Vec::with_capacity(2048);
    write(value, &mut out);
    // serde_json writes only UTF-8.
    String::from_utf8(out).unwrap_or_default()
}

/// SHA-256, hex, over the previous hash, a newline and the canonical encoding of the event
/// (every field but `hash`, `prev_hash` included).
pub fn event_hash(prev_hash: &str, event_without_hash: &Value) -> String {
    let mut digest = Sha256::new();
    digest.update(prev_hash.as_bytes());
    digest.update(b"\n");
    digest.update(canonical_json(event_without_hash).as_bytes());
    lower_hex(&digest.finalize())
}

/// The event as hashed and answered: `fields` is every field but `hash`.
pub fn seal(mut fields: Map<String, Value>, prev_hash: &str) -> Map<String, Value> {
    fields.insert("prev_hash".into(), Value::String(prev_hash.into()));
    fields.remove("hash");
    let event = Value::Object(fields);
    let hash = event_hash(prev_hash, &event);
    let Value::Object(mut fields) = event else {
        return Map::new();
    };
    fields.insert("hash".into(), Value::String(hash));
    fields
}

/// Where a chain first goes wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainFault {
    /// The id of the event at fault (or the id expected where one is missing).
    pub event_id: i64,
    pub what: String,
}

/// Walks one organization's events in id order: ids gapless from 1, each `prev_hash` the
/// hash before it, each `hash` its own content's.
#[derive(Debug)]
pub struct ChainCheck {
    last_id: i64,
    head: String,
}

impl Default for ChainCheck {
    fn default() -> Self {
        ChainCheck {
            last_id: 0,
            head: GENESIS_HASH.to_string(),
        }
    }
}

impl ChainCheck {
    /// Checks the next event, given as answered (with `id`, `prev_hash` and `hash`).
    pub fn next(&mut self, event: &Map<String, Value>) -> Result<(), ChainFault> {
        let id = event.get("id").and_then(Value::as_i64).unwrap_or(0);
        let expected = self.last_id + 1;
        let fault = |what: String| ChainFault { event_id: id, what };
        if id != expected {
            return Err(ChainFault {
                event_id: expected,
                what: format!("event {expected} is missing: the next event found is {id}"),
            });
        }
        let prev = event.get("prev_hash").and_then(Value::as_str).unwrap_or("");
        if prev != self.head {
            return Err(fault(format!(
                "its prev_hash {prev} is not the hash of the event before it ({})",
                self.head
            )));
        }
        let stored = event.get("hash").and_then(Value::as_str).unwrap_or("");
        let mut content = event.clone();
        content.remove("hash");
        let computed = event_hash(prev, &Value::Object(content));
        if stored != computed {
            return Err(fault(format!(
                "its content was changed: the stored hash is {stored}, its content hashes to {computed}"
            )));
        }
        self.last_id = id;
        self.head = computed;
        Ok(())
    }

    /// The last event checked and its hash (`0`, the genesis hash when there were none).
    pub fn head(&self) -> (i64, &str) {
        (self.last_id, &self.head)
    }
}

/// The answer without its derived fields: what an event of `entity` vouches for.
pub fn recorded_part(entity: EntityType, data: &Value) -> Value {
    let mut data = data.clone();
    if let Some(fields) = data.as_object_mut() {
        for field in entity.derived_fields() {
            fields.remove(*field);
        }
    }
    data
}

/// Each recorded field whose value differs between two answers of one entity, as
/// `{"field": {"before": .., "after": ..}}`; `None` when there is no earlier answer.
/// Compared in place: the answers are kilobytes and this runs in every write.
pub fn changes(entity: EntityType, before: Option<&Value>, after: &Value) -> Option<Value> {
    let (Some(before), Some(after)) = (before?.as_object(), after.as_object()) else {
        return None;
    };
    let derived = entity.derived_fields();
    let recorded = |field: &&String| !derived.contains(&field.as_str());
    let mut changed = Map::new();
    let mut note = |field: &String, was: Option<&Value>, is: Option<&Value>| {
        let mut pair = Map::new();
        pair.insert("before".into(), was.cloned().unwrap_or(Value::Null));
        pair.insert("after".into(), is.cloned().unwrap_or(Value::Null));
        changed.insert(field.clone(), Value::Object(pair));
    };
    // A field missing on one side counts as null there.
    let null = Value::Null;
    for field in before.keys().filter(recorded) {
        let (was, is) = (before.get(field), after.get(field));
        if was.unwrap_or(&null) != is.unwrap_or(&null) {
            note(field, was, is);
        }
    }
    for field in after.keys().filter(recorded) {
        let is = after.get(field);
        if !before.contains_key(field) && is.unwrap_or(&null) != &null {
            note(field, None, is);
        }
    }
    Some(Value::Object(changed))
}

/// The recorded fields of an entity's latest event whose value its current answer no
/// longer has. Fields the answer gained since (a newer binary's) are not drift.
pub fn drifted_fields(entity: EntityType, recorded: &Value, current: &Value) -> Vec<String> {
    let mut recorded = recorded_part(entity, recorded);
    // An invoice recorded before the detail listed only its latest payments listed them
    // all: compared as this binary would list them.
    if entity == EntityType::Invoice {
        if let Some(Value::Array(payments)) = recorded.get_mut("payments") {
            let cut = payments.len().saturating_sub(PAYMENTS_SHOWN);
            payments.drain(..cut);
        }
    }
    let Some(recorded) = recorded.as_object() else {
        return vec!["the whole answer".into()];
    };
    recorded
        .iter()
        .filter(|(field, value)| current.get(field.as_str()) != Some(value))
        .map(|(field, _)| field.clone())
        .collect()
}

#[cfg(test)]
#[path = "journal_tests.rs"]
mod tests;
