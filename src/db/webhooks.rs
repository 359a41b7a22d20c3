//! Webhook endpoints, their cursor into the journal and their delivery attempts. Which
//! events an endpoint takes and when a failure is tried again is `domain::webhook`.

use super::conn::{params, Conn, OptionalExtension, Row};
use super::WriteTx;
use crate::domain::webhook::{gives_up, next_attempt_at, takes};
use crate::error::AppError;

#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    pub id: i64,
    pub organization_id: i64,
    pub url: String,
    pub description: Option<String>,
    pub event_types: Vec<String>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub cursor: i64,
    pub created_at: String,
    pub updated_at: String,
}

/// Every field of an endpoint a client sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EndpointFields {
    pub url: String,
    pub description: Option<String>,
    pub event_types: Vec<String>,
    pub enabled: bool,
}

impl From<&Endpoint> for EndpointFields {
    fn from(endpoint: &Endpoint) -> Self {
        EndpointFields {
            url: endpoint.url.clone(),
            description: endpoint.description.clone(),
            event_types: endpoint.event_types.clone(),
            enabled: endpoint.enabled,
        }
    }
}

const COLUMNS: &str = "id, organization_id, url, description, event_types, enabled, \
    disabled_reason, cursor, created_at, updated_at";

fn endpoint_from_row(row: &Row) -> crate::db::conn::StoreResult<Endpoint> {
    let id: i64 = row.get(0)?;
    let types: String = row.get(4)?;
    let event_types = serde_json::from_str(&types).map_err(|_| {
        super::codec::unreadable(
            4,
            format!("webhook endpoint {id}: event_types is not a list"),
        )
    })?;
    Ok(Endpoint {
        id,
        organization_id: row.get(1)?,
        url: row.get(2)?,
        description: row.get(3)?,
        event_types,
        enabled: row.get(5)?,
        disabled_reason: row.get(6)?,
        cursor: row.get(7)?,
        created_at: row.get(8)?,
        updated_at: row.get(9)?,
    })
}

fn not_found(id: i64) -> AppError {
    AppError::NotFound(format!("Webhook endpoint {id} not found."))
}

fn types_text(types: &[String]) -> String {
    serde_json::to_string(types).unwrap_or_else(|_| "[]".into())
}

/// A new endpoint of `org` with its signing `secret`; it is sent the events appended
/// from now on.
pub(crate) fn create(
    tx: &WriteTx,
    org: i64,
    fields: &EndpointFields,
    secret: &str,
    now: &str,
) -> Result<Endpoint, AppError> {
    let id: i64 = tx
        .prepare_cached(
            "INSERT INTO webhook_endpoints (organization_id, url, description, event_types, secret,
            enabled, cursor, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6,
            (SELECT COALESCE(MAX(id), 0) FROM journal_events WHERE organization_id = ?1), ?7, ?7)
         RETURNING id",
        )?
        .query_row(
            params![
                org,
                fields.url,
                fields.description,
                types_text(&fields.event_types),
                secret,
                fields.enabled,
                now
            ],
            |row| row.get(0),
        )?;
    get(tx, org, id)
}

pub(crate) fn get(conn: &Conn, org: i64, id: i64) -> Result<Endpoint, AppError> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM webhook_endpoints WHERE organization_id = ?1 AND id = ?2"
    ))?
    .query_row(params![org, id], endpoint_from_row)
    .optional()?
    .ok_or_else(|| not_found(id))
}

pub(crate) fn list(conn: &Conn, org: i64) -> Result<Vec<Endpoint>, AppError> {
    let endpoints = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM webhook_endpoints WHERE organization_id = ?1 ORDER BY id"
        ))?
        .query_map([org], endpoint_from_row)?
        .collect::<Result<_, _>>()?;
    Ok(endpoints)
}

/// Sets every client field; turning an endpoint on again clears why it was off and its
/// run of failures, so its pending event is tried at once.
pub(crate) fn update(
    tx: &WriteTx,
    org: i64,
    id: i64,
    fields: &EndpointFields,
    now: &str,
) -> Result<Endpoint, AppError> {
    let before = get(tx, org, id)?;
    // Turned on again, or pointed elsewhere: its pending event is tried at once.
    let reenabled = (fields.enabled && !before.enabled)
        || fields.url != before.url
        || fields.event_types != before.event_types;
    tx.prepare_cached(
        "UPDATE webhook_endpoints SET url = ?2, description = ?3, event_types = ?4, enabled = ?5,
            disabled_reason = CASE WHEN ?5 THEN NULL ELSE disabled_reason END,
            failing_since = CASE WHEN ?6 THEN NULL ELSE failing_since END,
            next_attempt_at = CASE WHEN ?6 THEN NULL ELSE next_attempt_at END,
            updated_at = ?7
         WHERE id = ?1 AND organization_id = ?8",
    )?
    .execute(params![
        id,
        fields.url,
        fields.description,
        types_text(&fields.event_types),
        fields.enabled,
        reenabled,
        now,
        org
    ])?;
    get(tx, org, id)
}

pub(crate) fn delete(tx: &WriteTx, org: i64, id: i64) -> Result<(), AppError> {
    get(tx, org, id)?;
    tx.execute(
        "DELETE FROM webhook_endpoints WHERE id = ?1 AND organization_id = ?2",
        [id, org],
    )?;
    Ok(())
}

/// The endpoint's signing secret.
pub(crate) fn secret_of(conn: &Conn, (org, id): (i64, i64)) -> Result<String, AppError> {
    conn.prepare_cached(
        "SELECT secret FROM webhook_endpoints WHERE id = ?1 AND organization_id = ?2",
    )?
    .query_row([id, org], |row| row.get(0))
    .optional()?
    .ok_or_else(|| not_found(id))
}

/// Endpoint `id` if it is enabled and due at `now`: read afresh just before a delivery
/// starts, since an earlier delivery may have moved it meanwhile.
pub(crate) fn due_one(
    conn: &Conn,
    (org, id): (i64, i64),
    now: i64,
) -> Result<Option<Endpoint>, AppError> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM webhook_endpoints
             WHERE id = ?1 AND organization_id = ?3 AND enabled = TRUE
               AND (next_attempt_at IS NULL OR next_attempt_at <= ?2)"
        ))?
        .query_row(params![id, now, org], endpoint_from_row)
        .optional()?)
}

/// The enabled endpoints whose pending event (if any) is due at `now`, across
/// organizations, as (organization, id); each is read whole by [`due_one`] when its turn
/// comes. The one statement that reads every organization's endpoints (the delivery
/// worker serves them all), marked so for the statement check.
pub(crate) fn due(conn: &Conn, now: i64) -> Result<Vec<(i64, i64)>, AppError> {
    let ids = conn
        .prepare_cached(
            "SELECT /* every organization */ organization_id, id FROM webhook_endpoints
             WHERE enabled = TRUE AND (next_attempt_at IS NULL OR next_attempt_at <= ?1)
             ORDER BY id",
        )?
        .query_map([now], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(ids)
}

/// What an endpoint is to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    /// Send this event.
    Send(i64),
    /// No event it takes among the next ones: move the cursor past them.
    Skip(i64),
    /// Nothing new.
    Idle,
}

/// The next event after the endpoint's cursor that it takes.
pub(crate) fn next(conn: &Conn, endpoint: &Endpoint) -> Result<Next, AppError> {
    let mut statement = conn.prepare_cached(
        "SELECT id, type FROM journal_events WHERE organization_id = ?1 AND id > ?2
         ORDER BY id LIMIT 500",
    )?;
    let mut rows = statement.query(params![endpoint.organization_id, endpoint.cursor])?;
    let mut last = None;
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        let kind: String = row.get(1)?;
        if takes(&endpoint.event_types, &kind) {
            return Ok(Next::Send(id));
        }
        last = Some(id);
    }
    Ok(last.map_or(Next::Idle, Next::Skip))
}

pub(crate) fn skip_to(
    tx: &WriteTx,
    (org, endpoint_id): (i64, i64),
    cursor: i64,
) -> Result<(), AppError> {
    tx.execute(
        "UPDATE webhook_endpoints SET cursor = CASE WHEN cursor > ?2 THEN cursor ELSE ?2 END
         WHERE id = ?1 AND organization_id = ?3",
        params![endpoint_id, cursor, org],
    )?;
    Ok(())
}

/// One try at delivering an event: the receiver's status, or why there was none.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    pub status_code: Option<u16>,
    pub error: Option<String>,
}

impl Outcome {
    /// Any 2xx is delivered.
    pub(crate) fn delivered(&self) -> bool {
        self.status_code
            .is_some_and(|code| (200..300).contains(&code))
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Delivery {
    pub id: i64,
    pub event_id: i64,
    pub attempt: i64,
    pub attempted_at: String,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub delivered: bool,
    pub next_attempt_at: Option<i64>,
}

/// Stores a try; a success moves the cursor past the event, a failure schedules the next
/// try and, after three days of failing, turns the endpoint off saying why. Answers
/// whether this try turned it off.
pub(crate) fn record(
    tx: &WriteTx,
    (org, endpoint_id): (i64, i64),
    (event_id, outcome): (i64, &Outcome),
    (now_text, now): (&str, i64),
) -> Result<bool, AppError> {
    let endpoint: Option<(i64, Option<i64>)> = tx
        .query_row(
            "SELECT cursor, failing_since FROM webhook_endpoints
             WHERE id = ?1 AND organization_id = ?2",
            [endpoint_id, org],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    // Deleted, or already past this event (a retry raced the worker): nothing to keep.
    let Some((_, failing_since)) = endpoint.filter(|(cursor, _)| *cursor < event_id) else {
        return Ok(false);
    };
    let tries: i64 = tx.query_row(
        &format!(
            "SELECT COUNT(*) FROM webhook_deliveries WHERE {}endpoint_id = ?1 AND event_id = ?2",
            super::sql::owner_filter(tx, super::sql::WEBHOOK_DELIVERIES, "", "?3")
        ),
        params![endpoint_id, event_id, org],
        |row| row.get(0),
    )?;
    let attempt = tries + 1;
    let delivered = outcome.delivered();
    let next = (!delivered).then(|| next_attempt_at(attempt, now));
    let (org_column, org_value) = super::sql::owner_column(tx, super::sql::WEBHOOK_DELIVERIES, 9);
    let mut values: Vec<&dyn super::conn::value::ToSql> = params![
        endpoint_id,
        event_id,
        attempt,
        now_text,
        outcome.status_code,
        outcome.error,
        delivered,
        next
    ]
    .to_vec();
    if tx.is_postgres() {
        values.push(&org);
    }
    tx.prepare_cached(&format!(
        "INSERT INTO webhook_deliveries ({org_column}endpoint_id, event_id, attempt,
            attempted_at, status_code, error, delivered, next_attempt_at)
         VALUES ({org_value}?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
    ))?
    .execute(values.as_slice())?;
    if delivered {
        tx.execute(
            "UPDATE webhook_endpoints SET cursor = ?2, next_attempt_at = NULL, failing_since = NULL
             WHERE id = ?1 AND organization_id = ?3",
            params![endpoint_id, event_id, org],
        )?;
        return Ok(false);
    }
    let since = failing_since.unwrap_or(now);
    let off = gives_up(since, now).then(|| {
        format!(
            "turned off on {now_text}: every delivery failed for three days (the last: {})",
            describe(outcome)
        )
    });
    tx.execute(
        "UPDATE webhook_endpoints SET failing_since = ?2, next_attempt_at = ?3,
            enabled = CASE WHEN CAST(?4 AS TEXT) IS NULL THEN enabled ELSE FALSE END,
            disabled_reason = COALESCE(?4, disabled_reason)
         WHERE id = ?1 AND organization_id = ?5",
        params![endpoint_id, since, next, off, org],
    )?;
    Ok(off.is_some())
}

fn describe(outcome: &Outcome) -> String {
    match (&outcome.status_code, &outcome.error) {
        (Some(code), _) => format!("status {code}"),
        (None, Some(error)) => error.clone(),
        (None, None) => "no answer".into(),
    }
}

fn delivery_from_row(row: &Row) -> crate::db::conn::StoreResult<Delivery> {
    Ok(Delivery {
        id: row.get(0)?,
        event_id: row.get(1)?,
        attempt: row.get(2)?,
        attempted_at: row.get(3)?,
        status_code: row.get(4)?,
        error: row.get(5)?,
        delivered: row.get(6)?,
        next_attempt_at: row.get(7)?,
    })
}

const DELIVERY_COLUMNS: &str =
    "id, event_id, attempt, attempted_at, status_code, error, delivered, next_attempt_at";

/// An endpoint's tries, newest first.
pub(crate) fn deliveries(
    conn: &Conn,
    org: i64,
    endpoint_id: i64,
    (limit, offset): (i64, i64),
) -> Result<Vec<Delivery>, AppError> {
    get(conn, org, endpoint_id)?;
    let found = conn
        .prepare_cached(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries
             WHERE {}endpoint_id = ?1 ORDER BY id DESC LIMIT ?2 OFFSET ?3",
            super::sql::owner_filter(conn, super::sql::WEBHOOK_DELIVERIES, "", "?4")
        ))?
        .query_map(params![endpoint_id, limit, offset, org], delivery_from_row)?
        .collect::<Result<_, _>>()?;
    Ok(found)
}

/// Makes the event of a failed try due at once (turning the endpoint on again if three
/// days of failures had turned it off). A try whose event was delivered since is a 409.
pub(crate) fn retry(
    tx: &WriteTx,
    org: i64,
    endpoint_id: i64,
    delivery_id: i64,
) -> Result<Endpoint, AppError> {
    let endpoint = get(tx, org, endpoint_id)?;
    let event_id: i64 = tx
        .query_row(
            &format!(
                "SELECT event_id FROM webhook_deliveries WHERE {}id = ?1 AND endpoint_id = ?2",
                super::sql::owner_filter(tx, super::sql::WEBHOOK_DELIVERIES, "", "?3")
            ),
            params![delivery_id, endpoint_id, org],
            |row| row.get(0),
        )
        .optional()?
        .ok_or_else(|| {
            AppError::NotFound(format!(
                "Delivery {delivery_id} of webhook endpoint {endpoint_id} not found."
            ))
        })?;
    if event_id <= endpoint.cursor {
        return Err(AppError::conflict(format!(
            "Event {event_id} was delivered to this endpoint since; there is nothing to retry."
        )));
    }
    if !endpoint.enabled && endpoint.disabled_reason.is_none() {
        return Err(AppError::conflict(
            "This endpoint was turned off by a client; turn it on with PATCH {\"enabled\": true}.",
        ));
    }
    // A new start: the run of failures (and the three days it may last) begins again.
    tx.execute(
        "UPDATE webhook_endpoints SET next_attempt_at = NULL, failing_since = NULL, enabled = TRUE,
            disabled_reason = NULL
         WHERE id = ?1 AND organization_id = ?2",
        [endpoint_id, org],
    )?;
    get(tx, org, endpoint_id)
}
