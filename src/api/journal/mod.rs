//! The audit journal over HTTP: the events feed (which can wait for the next event) and
//! each entity's history. How a write records its events is `trail`; each entity's answer
//! for the journal is `render`; the event's wire form is `wire`.

pub mod local;
pub(crate) mod render;
mod trail;
mod wire;

pub(crate) use trail::Trail;
pub(crate) use wire::{Event, EventPage};

use crate::api::documents::Answer;
use crate::api::export::{self, cells, wants_csv, ListFormat};
use poem::http::HeaderMap;
use std::sync::Arc;
use std::time::Duration;

use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::OpenApi;

use super::auth::{ApiKeyAuth, AuthContext};
use super::error::ReadError;
use super::scopes::scope_of;
use super::types::Opt;
use super::{AppState, Json, Tag};
use crate::db::journal::{self as store, EventFilter};
use crate::domain::journal::EntityType;
use crate::domain::keys::Scope;
use crate::error::{AppError, FieldErrorsBuilder};

/// The longest `wait` a feed request may hold an empty page open.
const MAX_WAIT_SECONDS: i64 = 30;

crate::api::types::wire_enum!(
    /// An event's `entity_type`.
    EntityTypeQuery <=> EntityType {
        Customer,
        Invoice,
        Payment,
        CreditNote,
        ApiKey,
        WebhookEndpoint,
        Organization,
    }
);

/// An event's row in a CSV export.
const EVENT_COLUMNS: &[&str] = &[
    "id",
    "occurred_at",
    "type",
    "entity_type",
    "entity_id",
    "actor",
    "request_id",
    "idempotency_key",
    "data",
    "changes",
    "prev_hash",
    "hash",
    "detail",
];

#[derive(Default)]
pub(crate) struct EventsApi;

#[OpenApi(tag = "Tag::Events")]
impl EventsApi {
    /// List journal events
    ///
    /// Every change to the organization's books, in id order, each in the same transaction as the change it records. Follow the journal by passing each page's `next_after` as `after`; with `wait`, an empty page is held open until an event arrives (or `wait` seconds pass). Events about API keys and webhook endpoints are listed to admin keys only (a webhook URL may carry a token). As CSV (`Accept: text/csv` or `format=csv`; `actor`, `data` and `changes` as JSON text): every event after `after` unless `limit` is given, streamed.
    #[allow(clippy::too_many_arguments)]
    #[oai(path = "/v1/events", method = "get", operation_id = "list_events")]
    async fn list(
        &self,
        auth: ApiKeyAuth,
        state: Data<&Arc<AppState>>,
        /// Only events with a greater id; default 0 (from the first).
        after: Query<Opt<i64>>,
        /// 1–500, default 100.
        limit: Query<Opt<i64>>,
        /// Only events of this type, such as `payment.created`.
        #[oai(name = "type")]
        event_type: Query<Opt<String>>,
        entity_type: Query<Opt<EntityTypeQuery>>,
        entity_id: Query<Opt<i64>>,
        /// Seconds (0–30, default 0) to hold an empty page open for the next event.
        wait: Query<Opt<i64>>,
        /// `json` (default, by `Accept`) or `csv`.
        format: Query<Opt<ListFormat>>,
        headers: &HeaderMap,
    ) -> Result<Answer<Json<EventPage>, false, true>, ReadError> {
        let ctx = auth.require(scope_of("list_events"))?;
        let mut errors = FieldErrorsBuilder::new();
        crate::api::types::params!(errors; after, limit, event_type, entity_type, entity_id, wait, format);
        let limited = limit.0.is_some();
        let wait = wait.0.unwrap_or(0);
        if !(0..=MAX_WAIT_SECONDS).contains(&wait) {
            errors.add(
                "wait",
                format!("must be between 0 and {MAX_WAIT_SECONDS} seconds (got {wait})"),
            );
        }
        if let Some(kind) = event_type.0.as_deref() {
            if !crate::domain::journal::EVENT_TYPES.contains(&kind) {
                let types = crate::domain::journal::EVENT_TYPES.join(", ");
                errors.add("type", format!("must be one of: {types}"));
            }
        }
        let mut filter = page_filter(ctx, after.0, limit.0, &mut errors);
        errors.finish()?;
        filter.event_type = event_type.0;
        filter.entity_type = entity_type
            .0
            .map(|kind| EntityType::from(kind).as_str().to_string());
        filter.entity_id = entity_id.0;
        let org = ctx.organization_id;
        if wants_csv(format.0, headers) {
            let limit = limited.then_some(filter.limit);
            let db = state.db.clone();
            let csv = export::stream(
                &state,
                "events.csv".into(),
                EVENT_COLUMNS,
                move |conn, sink| {
                    // Event ids leave as the rows are read: first pin the snapshot, then
                    // wait until everything it can show is on disk.
                    crate::db::journal::pin_snapshot(conn, org)?;
                    tokio::runtime::Handle::current().block_on(db.until_durable())?;
                    crate::db::journal::each(conn, org, (&filter, limit), |event| {
                        sink(cells(&event, EVENT_COLUMNS))
                    })
                },
            );
            return Ok(Answer::Csv(csv));
        }
        let wait = Duration::from_secs(wait.unsigned_abs());
        Ok(Answer::Json(Json(feed(&state, org, filter, wait).await?)))
    }
}

/// Declares `HistoryApi`: for each entity, GET `{its path}/{id}/history`, a [`history`]
/// of its entity type. Only the path, operation id and docs differ, and poem-openapi reads
/// those as literals, so each route names them and the handler is written once.
macro_rules! history_routes {
    ($($(#[doc = $doc:tt])* $handler:ident $path:tt $op:tt $entity:ident;)*) => {
        #[derive(Default)]
        pub(crate) struct HistoryApi;

        #[OpenApi(tag = "Tag::Events")]
        impl HistoryApi {
            $(
                $(#[doc = $doc])*
                #[oai(path = $path, method = "get", operation_id = $op)]
                async fn $handler(
                    &self,
                    auth: ApiKeyAuth,
                    state: Data<&Arc<AppState>>,
                    id: Path<i64>,
                    after: Query<Opt<i64>>,
                    limit: Query<Opt<i64>>,
                ) -> Result<Json<EventPage>, ReadError> {
                    history(&auth, &state, (EntityType::$entity, id.0), (after, limit)).await
                }
            )*
        }
    };
}

history_routes! {
    /// A customer's history
    ///
    /// The customer's journal events in id order, its deletion included.
    customer "/v1/customers/:id/history" "customer_history" Customer;
    /// An invoice's history
    ///
    /// The invoice's journal events in id order: created, updated, sent, each payment, credit note and write-off that moved its balance, voided or deleted.
    invoice "/v1/invoices/:id/history" "invoice_history" Invoice;
    /// A payment's history
    ///
    /// The payment's journal events in id order: recorded, each later allocation, refund and its void.
    payment "/v1/payments/:id/history" "payment_history" Payment;
    /// A credit note's history
    ///
    /// The note's journal events in id order: issued, each later allocation, refund and its void.
    credit_note "/v1/credit-notes/:id/history" "credit_note_history" CreditNote;
}

/// The filter of one page: after (≥ 0), limit (1–500, default 100), and whether key events
/// show (admin keys only).
fn page_filter(
    ctx: &AuthContext,
    after: Option<i64>,
    limit: Option<i64>,
    errors: &mut FieldErrorsBuilder,
) -> EventFilter {
    let after = after.unwrap_or(0);
    let limit = limit.unwrap_or(100);
    if after < 0 {
        errors.add("after", format!("must be 0 or more (got {after})"));
    }
    if !(1..=500).contains(&limit) {
        errors.add("limit", format!("must be between 1 and 500 (got {limit})"));
    }
    EventFilter {
        after,
        limit,
        with_keys: ctx.scope.allows(Scope::Admin),
        ..EventFilter::default()
    }
}

/// One page; an empty one waits up to `wait` for the next write, then looks again.
async fn feed(
    state: &AppState,
    org: i64,
    filter: EventFilter,
    wait: Duration,
) -> Result<EventPage, AppError> {
    let mut bell = state.journal_bell.subscribe();
    let mut closing = state.closing.subscribe();
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let query = filter.clone();
        let events = state
            .db
            .read(move |conn| store::list(conn, org, &query))
            .await?;
        if !events.is_empty() {
            // An event's id is a promise to the follower: never hand out one a power cut
            // could give to another event.
            state.db.until_durable().await?;
            return page(events, &filter);
        }
        if tokio::time::Instant::now() >= deadline || *closing.borrow_and_update() {
            return page(events, &filter);
        }
        let woke = tokio::select! {
            rang = tokio::time::timeout_at(deadline, bell.changed()) => matches!(rang, Ok(Ok(()))),
            _ = closing.changed() => false,
        };
        if !woke {
            return page(events, &filter);
        }
    }
}

fn page(
    events: Vec<serde_json::Map<String, serde_json::Value>>,
    filter: &EventFilter,
) -> Result<EventPage, AppError> {
    let items = events
        .into_iter()
        .map(Event::from_sealed)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(EventPage {
        next_after: items.last().map_or(filter.after, |event| event.id),
        items,
        limit: filter.limit,
    })
}

/// The events of one entity; 404 when it has none (no such entity, or another
/// organization's).
async fn history(
    auth: &ApiKeyAuth,
    state: &AppState,
    (entity, id): (EntityType, i64),
    (after, limit): (Query<Opt<i64>>, Query<Opt<i64>>),
) -> Result<Json<EventPage>, ReadError> {
    let operation = format!("{}_history", entity.as_str());
    let ctx = auth.require(scope_of(&operation))?;
    let mut errors = FieldErrorsBuilder::new();
    crate::api::types::params!(errors; after, limit);
    let mut filter = page_filter(ctx, after.0, limit.0, &mut errors);
    errors.finish()?;
    filter.entity_type = Some(entity.as_str().to_string());
    filter.entity_id = Some(id);
    let (org, after, limit) = (ctx.organization_id, filter.after, filter.limit);
    let any = EventFilter {
        after: 0,
        limit: 1,
        ..filter.clone()
    };
    let (events, exists) = state
        .db
        .read(move |conn| {
            let events = store::list(conn, org, &filter)?;
            let exists = !events.is_empty() || !store::list(conn, org, &any)?.is_empty();
            Ok((events, exists))
        })
        .await?;
    state.db.until_durable().await?;
    if !exists {
        return Err(
            AppError::NotFound(format!("{} {id} not found.", entity.sentence_name())).into(),
        );
    }
    let shown = EventFilter {
        after,
        limit,
        ..EventFilter::default()
    };
    Ok(Json(page(events, &shown)?))
}
