//! Webhook endpoints and deliveries as the API answers and takes them.

use poem_openapi::Object;

use crate::api::types::{Input, Opt};
use crate::db::webhooks::{Delivery, Endpoint};
use crate::domain::journal::EVENT_TYPES;
use crate::domain::webhook::check_url;
use crate::error::FieldErrorsBuilder;

/// A URL Arvalox POSTs journal events to, signed with the endpoint's secret.
#[derive(Object, Debug, Clone, serde::Serialize)]
#[oai(example)]
pub(crate) struct WebhookEndpoint {
    pub id: i64,
    pub url: String,
    pub description: Option<String>,
    /// The event types it is sent, or `["*"]` for all.
    pub event_types: Vec<String>,
    /// Off when a client turned it off, or after three days of failed deliveries.
    pub enabled: bool,
    /// Why it was turned off by Arvalox, if it was.
    pub disabled_reason: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Endpoint> for WebhookEndpoint {
    fn from(endpoint: Endpoint) -> Self {
        WebhookEndpoint {
            id: endpoint.id,
            url: endpoint.url,
            description: endpoint.description,
            event_types: endpoint.event_types,
            enabled: endpoint.enabled,
            disabled_reason: endpoint.disabled_reason,
            created_at: endpoint.created_at,
            updated_at: endpoint.updated_at,
        }
    }
}

impl poem_openapi::types::Example for WebhookEndpoint {
    fn example() -> Self {
        WebhookEndpoint {
            id: 1,
            url: "https://crm.example.com/hooks/arvalox".into(),
            description: Some("CRM: payments".into()),
            event_types: vec!["payment.created".into(), "invoice.balance_changed".into()],
            enabled: true,
            disabled_reason: None,
            created_at: "2026-11-30T09:00:00.000Z".into(),
            updated_at: "2026-11-30T09:00:00.000Z".into(),
        }
    }
}

/// A new endpoint, with its signing secret: shown this once.
#[derive(Object, Debug, Clone, serde::Serialize)]
pub(crate) struct CreatedWebhookEndpoint {
    #[oai(flatten)]
    #[serde(flatten)]
    pub endpoint: WebhookEndpoint,
    /// Verify each delivery's `Arvalox-Signature` with it. Shown only in this answer (a
    /// replay under the same Idempotency-Key answers `null`).
    pub secret: Option<String>,
}

/// A new endpoint.
#[derive(Object, Debug, Clone, Default)]
#[oai(example)]
pub(crate) struct WebhookEndpointCreate {
    /// http:// or https://, at most 2000 characters: a host (or an IPv6 address in
    /// brackets, which the pattern leaves out) and at most a port from 1 to 65535.
    pub url: Input<String>,
    /// 1–50 event types (`payment.created`…), or `["*"]` for every event.
    pub event_types: Input<Vec<String>>,
    /// Up to 500 characters.
    pub description: Opt<String>,
}

impl poem_openapi::types::Example for WebhookEndpointCreate {
    fn example() -> Self {
        WebhookEndpointCreate {
            url: Input::Value("https://crm.example.com/hooks/arvalox".into()),
            event_types: Input::Value(vec!["payment.created".into()]),
            description: Opt::Value("CRM: payments".into()),
        }
    }
}

/// A change to an endpoint: fields left out keep their value.
#[derive(Object, Debug, Clone, Default)]
pub(crate) struct WebhookEndpointUpdate {
    pub url: Opt<String>,
    pub event_types: Opt<Vec<String>>,
    /// `true` turns an endpoint on again (its pending event is tried at once).
    pub enabled: Opt<bool>,
    pub description: Opt<String>,
}

/// One try at delivering an event.
#[derive(Object, Debug, Clone, serde::Serialize)]
pub(crate) struct WebhookDelivery {
    pub id: i64,
    /// The journal event sent.
    pub event_id: i64,
    /// 1 for the first try of this event.
    pub attempt: i64,
    pub attempted_at: String,
    /// The receiver's status code; null when no answer came.
    pub status_code: Option<i64>,
    /// Why there was no answer (a timeout, a refused connection).
    pub error: Option<String>,
    /// Any 2xx within 10 seconds.
    pub delivered: bool,
    /// When a failed try is tried again (UTC, RFC 3339).
    pub next_attempt_at: Option<String>,
}

impl From<Delivery> for WebhookDelivery {
    fn from(delivery: Delivery) -> Self {
        WebhookDelivery {
            id: delivery.id,
            event_id: delivery.event_id,
            attempt: delivery.attempt,
            attempted_at: delivery.attempted_at,
            status_code: delivery.status_code,
            error: delivery.error,
            delivered: delivery.delivered,
            next_attempt_at: delivery.next_attempt_at.and_then(|seconds| {
                chrono::DateTime::from_timestamp(seconds, 0).map(crate::db::timestamp)
            }),
        }
    }
}

#[derive(Object, Debug, Clone, serde::Serialize)]
pub(crate) struct WebhookEndpointList {
    pub items: Vec<WebhookEndpoint>,
}

#[derive(Object, Debug, Clone, serde::Serialize)]
pub(crate) struct WebhookDeliveryList {
    /// Newest first.
    pub items: Vec<WebhookDelivery>,
    pub limit: i64,
    pub offset: i64,
}

/// A URL as an endpoint takes it, or its errors.
pub(crate) fn checked_url(url: Option<String>, errors: &mut FieldErrorsBuilder) -> String {
    let url = url.unwrap_or_default();
    if let Err(rule) = check_url(url.trim()) {
        errors.add("url", rule);
    }
    url.trim().to_string()
}

/// Event types as an endpoint takes them: `["*"]`, or 1–50 distinct known types.
pub(crate) fn checked_types(
    types: Option<Vec<String>>,
    errors: &mut FieldErrorsBuilder,
) -> Vec<String> {
    let types = types.unwrap_or_default();
    if types.is_empty() || types.len() > 50 {
        errors.add(
            "event_types",
            "must list 1 to 50 event types, or be [\"*\"]",
        );
    }
    if types.len() > 1 && types.iter().any(|kind| kind == "*") {
        errors.add(
            "event_types",
            "\"*\" stands alone: it already means every event",
        );
    }
    for kind in types.iter().filter(|kind| *kind != "*") {
        if !EVENT_TYPES.contains(&kind.as_str()) {
            errors.add(
                "event_types",
                format!(
                    "'{kind}' is not an event type; the types are: {}",
                    EVENT_TYPES.join(", ")
                ),
            );
        }
    }
    let mut unique = types.clone();
    unique.sort();
    unique.dedup();
    if unique.len() != types.len() {
        errors.add("event_types", "lists a type twice");
    }
    types
}

/// A description as an endpoint keeps it: trimmed, at most 500 characters, none if empty.
pub(crate) fn checked_description(
    description: Option<String>,
    errors: &mut FieldErrorsBuilder,
) -> Option<String> {
    let description = description
        .map(|text| text.trim().to_string())
        .filter(|text| !text.is_empty());
    if description
        .as_ref()
        .is_some_and(|text| text.chars().count() > 500)
    {
        errors.add("description", "must be at most 500 characters");
    }
    description
}
