//! What every journal event of a write carries (who, in which request, under which
//! `Idempotency-Key`), and the one way a write records its events: the entity's own, then
//! `invoice.balance_changed` for each other invoice the write moved, all in the write's
//! own transaction.

use chrono::NaiveDate;
use serde_json::Value;

use super::render::{current_answer, current_text};
use crate::api::auth::{ApiKeyAuth, AuthContext};
use crate::api::etag::IfMatch;
use crate::api::middleware::current_request_id;
use crate::api::scopes::scope_of;
use crate::api::AppState;
use crate::db::journal::{self, NewEvent};
use crate::db::WriteTx;
use crate::domain::journal::{changes, Actor, EntityType};
use crate::error::AppError;

/// A write's author and circumstances.
#[derive(Debug, Clone)]
pub(crate) struct Trail {
    pub org: i64,
    actor: Actor,
    request_id: Option<String>,
    idempotency_key: Option<String>,
    /// The request's date: side events answer invoices as of it.
    today: NaiveDate,
    /// The versions of the changed resource the change may apply to.
    if_match: IfMatch,
}

impl Trail {
    /// A request made with the key of `ctx`.
    pub(crate) fn of(ctx: &AuthContext, today: NaiveDate) -> Self {
        Trail {
            org: ctx.organization_id,
            actor: Actor::ApiKey {
                key_id: ctx.key_id,
                key_prefix: ctx.key_prefix.clone(),
            },
            request_id: current_request_id(),
            idempotency_key: None,
            today,
            if_match: IfMatch::default(),
        }
    }

    /// The trail of a request through `operation`: its key checked first for the scope the
    /// operation needs (`api::scopes`, a 403), then dated its organization's today, under
    /// the request's `Idempotency-Key` and `If-Match` (a malformed one is a 400). Every
    /// handler that writes starts here.
    pub(crate) fn checked(
        (auth, state): (&ApiKeyAuth, &AppState),
        operation: &str,
        (key, if_match): (Option<String>, Option<String>),
    ) -> Result<Self, AppError> {
        let ctx = auth.require(scope_of(operation))?;
        Trail::of(ctx, state.today_for(ctx))
            .keyed(key)
            .guarded(if_match)
    }

    /// A change made by `arvalox` on the command line, or by Arvalox itself.
    pub(crate) fn local(org: i64, actor: Actor, today: NaiveDate) -> Self {
        Trail {
            org,
            actor,
            request_id: None,
            idempotency_key: None,
            today,
            if_match: IfMatch::default(),
        }
    }

    /// The same trail, under `key`.
    pub(crate) fn keyed(self, key: Option<String>) -> Self {
        Trail {
            idempotency_key: key,
            ..self
        }
    }

    /// The same trail, for a change that applies only while the resource still answers
    /// with an ETag `if_match` names (a malformed header is a 400).
    pub(crate) fn guarded(self, if_match: Option<String>) -> Result<Self, AppError> {
        Ok(Trail {
            if_match: IfMatch::parse(if_match.as_deref())?,
            ..self
        })
    }

    /// The 412 when the change came with an `If-Match` that `entity` no longer answers to;
    /// run inside the write, before the change, so no other write comes between.
    pub(crate) fn check_unchanged(
        &self,
        tx: &crate::db::conn::Conn,
        (entity, id): (EntityType, i64),
    ) -> Result<(), AppError> {
        if !self.if_match.is_set() {
            return Ok(());
        }
        let Some(text) = current_text(tx, self.org, (entity, id), self.today)? else {
            return Ok(());
        };
        let what = format!("{} {id}", entity.sentence_name().to_lowercase());
        self.if_match.check(&what, &text)
    }

    /// The date the write happens on, in its organization's time zone.
    pub(crate) fn today(&self) -> NaiveDate {
        self.today
    }

    pub(crate) fn idempotency_key(&self) -> Option<&str> {
        self.idempotency_key.as_deref()
    }

    /// Records that `action` happened to `entity`, whose answer is now `data` (null once
    /// deleted), with each field that moved since its last event; then the side events.
    /// All of them are appended together, after the chain's head is read once.
    pub(crate) fn record(
        &self,
        tx: &WriteTx,
        now: &str,
        (entity, id): (EntityType, i64),
        action: &str,
        data: Value,
    ) -> Result<(), AppError> {
        let before = match data.is_null() {
            true => None,
            false => journal::latest_data(tx, self.org, entity, id)?,
        };
        let changed = changes(entity, before.as_ref(), &data);
        let mut events = vec![self.event(now, (entity, id), action, (data, changed, None))];
        for invoice in tx.take_moved_invoices() {
            if (entity, id) == (EntityType::Invoice, invoice) {
                continue;
            }
            let key = (EntityType::Invoice, invoice);
            let Some(data) = current_answer(tx, self.org, key, self.today)? else {
                continue;
            };
            let before = journal::latest_data(tx, self.org, EntityType::Invoice, invoice)?;
            let changed = changes(EntityType::Invoice, before.as_ref(), &data);
            events.push(self.event(now, key, "balance_changed", (data, changed, None)));
        }
        journal::append_all(tx, self.org, events)?;
        Ok(())
    }

    /// Deletes `key` in one write: the `If-Match` check, `delete`, then the `deleted` event.
    pub(crate) async fn delete(
        self,
        state: &AppState,
        key: (EntityType, i64),
        delete: fn(&WriteTx, i64, i64) -> Result<(), AppError>,
    ) -> Result<(), AppError> {
        let now = state.now_text();
        state
            .write(self.org, move |tx| {
                self.check_unchanged(tx, key)?;
                delete(tx, self.org, key.1)?;
                self.record(tx, &now, key, "deleted", Value::Null)
            })
            .await
    }

    /// [`Trail::record`] with the entity's answer as the route gives it.
    pub(crate) fn record_answer<T: serde::Serialize>(
        &self,
        tx: &WriteTx,
        now: &str,
        key: (EntityType, i64),
        action: &str,
        answer: &T,
    ) -> Result<(), AppError> {
        self.record(tx, now, key, action, super::render::to_value(answer))
    }

    /// Records that `action` happened to `key`, whose answer is `answer` (unchanged by it),
    /// with `detail`: what the answer does not show (an e-mail's recipients and outcome).
    pub(crate) fn record_detail<T: serde::Serialize>(
        &self,
        tx: &WriteTx,
        now: &str,
        (key, action): ((EntityType, i64), &str),
        answer: &T,
        detail: Value,
    ) -> Result<(), AppError> {
        let data = super::render::to_value(answer);
        let before = journal::latest_data(tx, self.org, key.0, key.1)?;
        // Nothing moved is null here, as on a first event: the event is about the detail.
        let changed = changes(key.0, before.as_ref(), &data)
            .filter(|c| c.as_object().is_none_or(|fields| !fields.is_empty()));
        let event = self.event(now, key, action, (data, changed, Some(detail)));
        journal::append(tx, self.org, event)?;
        Ok(())
    }

    /// The event of `action` on `entity`, as this trail's author made it at `now`.
    fn event<'a>(
        &'a self,
        now: &'a str,
        (entity, entity_id): (EntityType, i64),
        action: &'a str,
        (data, changes, detail): (Value, Option<Value>, Option<Value>),
    ) -> NewEvent<'a> {
        NewEvent {
            entity,
            action,
            entity_id,
            actor: &self.actor,
            request_id: self.request_id.as_deref(),
            idempotency_key: self.idempotency_key.as_deref(),
            occurred_at: now,
            data,
            changes,
            detail,
        }
    }
}
