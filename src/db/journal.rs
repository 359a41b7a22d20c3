//! The audit journal's rows: an event appended in the change's own transaction, read back
//! as the sealed JSON object it was hashed as (`domain::journal`), listed, and each
//! entity's latest event for `verify`.

use serde_json::{Map, Value};

use super::conn::{params, Conn, OptionalExtension, Row};
use super::WriteTx;
use crate::domain::journal::{self, Actor, EntityType, GENESIS_HASH};
use crate::error::AppError;

/// An event as a change hands it over; the journal gives it its id and hash.
#[derive(Debug)]
pub(crate) struct NewEvent<'a> {
    pub entity: EntityType,
    /// What happened: `created`, `voided`...
    pub action: &'a str,
    pub entity_id: i64,
    pub actor: &'a Actor,
    pub request_id: Option<&'a str>,
    pub idempotency_key: Option<&'a str>,
    pub occurred_at: &'a str,
    /// The entity's answer after the change (null once deleted).
    pub data: Value,
    /// Each changed field's before and after, for an update.
    pub changes: Option<Value>,
    /// What happened beyond the new answer (an e-mail's recipients and outcome).
    pub detail: Option<Value>,
}

const EVENT_COLUMNS: &str = "id, organization_id, occurred_at, type, entity_type, entity_id, \
     actor, request_id, idempotency_key, data, changes, prev_hash, hash, detail";

/// Appends `event` to `org`'s journal; answers its id.
pub(crate) fn append(tx: &WriteTx, org: i64, event: NewEvent) -> Result<i64, AppError> {
    append_all(tx, org, vec![event])
}

/// Appends `events` to `org`'s journal in their order, reading where its chain ends once
/// for all of them; answers the last one's id.
pub(crate) fn append_all(tx: &WriteTx, org: i64, events: Vec<NewEvent>) -> Result<i64, AppError> {
    let head: Option<(i64, String)> = tx
        .prepare_cached(
            "SELECT id, hash FROM journal_events WHERE organization_id = ?1
             ORDER BY id DESC LIMIT 1",
        )?
        .query_row([org], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    let mut head = head.unwrap_or((0, GENESIS_HASH.to_string()));
    for event in events {
        head = insert_sealed(tx, org, head, event)?;
    }
    Ok(head.0)
}

/// Seals `event` after the chain's head (`last_id`, `prev_hash`) and inserts it; answers
/// the new head.
fn insert_sealed(
    tx: &WriteTx,
    org: i64,
    (last_id, prev_hash): (i64, String),
    event: NewEvent,
) -> Result<(i64, String), AppError> {
    let id = last_id + 1;
    let mut fields = Map::new();
    fields.insert("id".into(), id.into());
    fields.insert("organization_id".into(), org.into());
    fields.insert("occurred_at".into(), event.occurred_at.into());
    let kind = journal::event_type(event.entity, event.action);
    fields.insert("type".into(), kind.clone().into());
    fields.insert("entity_type".into(), event.entity.as_str().into());
    fields.insert("entity_id".into(), event.entity_id.into());
    fields.insert("actor".into(), event.actor.to_json());
    fields.insert("request_id".into(), event.request_id.into());
    fields.insert("idempotency_key".into(), event.idempotency_key.into());
    fields.insert("data".into(), event.data);
    fields.insert("changes".into(), event.changes.unwrap_or(Value::Null));
    if let Some(detail) = event.detail {
        fields.insert("detail".into(), detail);
    }
    let sealed = journal::seal(fields, &prev_hash);
    let text = |name: &str| sealed.get(name).map(Value::to_string);
    let hash = sealed
        .get("hash")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| AppError::Internal("a sealed event has no hash".into()))?;
    tx.prepare_cached(
        "INSERT INTO journal_events (organization_id, id, occurred_at, type, entity_type,
            entity_id, actor, request_id, idempotency_key, data, changes, prev_hash, hash, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )?
    .execute(params![
        org,
        id,
        event.occurred_at,
        kind,
        event.entity.as_str(),
        event.entity_id,
        text("actor"),
        event.request_id,
        event.idempotency_key,
        text("data"),
        sealed
            .get("changes")
            .filter(|v| !v.is_null())
            .map(Value::to_string),
        prev_hash,
        hash,
        text("detail"),
    ])?;
    Ok((id, hash))
}

/// The stored JSON in `column`, or an error naming the event. The text must be exactly
/// what the journal wrote (compact, each key once): a hand-edited value with a duplicate
/// key would otherwise parse last-wins into the content that was hashed.
fn json_column(row: &Row, column: usize, org: i64, id: i64) -> crate::db::conn::StoreResult<Value> {
    let text: Option<String> = row.get(column)?;
    let Some(text) = text else {
        return Ok(Value::Null);
    };
    let unreadable = |what: &str| {
        super::codec::unreadable(
            column,
            format!("journal event {id} of organization {org}: column {column} {what}"),
        )
    };
    let value: Value = serde_json::from_str(&text).map_err(|_| unreadable("is not JSON"))?;
    // (Not `value != text`: that would compare a JSON string value with the text.)
    if serde_json::to_string(&value).ok().as_deref() != Some(text.as_str()) {
        return Err(unreadable(
            "is not the text the journal wrote (edited by hand)",
        ));
    }
    Ok(value)
}

/// A stored event as it was sealed: the object its hash covers, and the hash.
fn event_from_row(row: &Row) -> crate::db::conn::StoreResult<Map<String, Value>> {
    let id: i64 = row.get(0)?;
    let org: i64 = row.get(1)?;
    let mut fields = Map::new();
    fields.insert("id".into(), id.into());
    fields.insert("organization_id".into(), org.into());
    fields.insert("occurred_at".into(), row.get::<_, String>(2)?.into());
    fields.insert("type".into(), row.get::<_, String>(3)?.into());
    fields.insert("entity_type".into(), row.get::<_, String>(4)?.into());
    fields.insert("entity_id".into(), row.get::<_, i64>(5)?.into());
    fields.insert("actor".into(), json_column(row, 6, org, id)?);
    fields.insert("request_id".into(), row.get::<_, Option<String>>(7)?.into());
    fields.insert(
        "idempotency_key".into(),
        row.get::<_, Option<String>>(8)?.into(),
    );
    fields.insert("data".into(), json_column(row, 9, org, id)?);
    fields.insert("changes".into(), json_column(row, 10, org, id)?);
    fields.insert("prev_hash".into(), row.get::<_, String>(11)?.into());
    fields.insert("hash".into(), row.get::<_, String>(12)?.into());
    // Present only on the events that have one: the others were sealed without it.
    let detail = json_column(row, 13, org, id)?;
    if !detail.is_null() {
        fields.insert("detail".into(), detail);
    }
    Ok(fields)
}

/// Which events a page holds.
#[derive(Debug, Clone, Default)]
pub(crate) struct EventFilter {
    /// Only events after this id.
    pub after: i64,
    pub limit: i64,
    pub event_type: Option<String>,
    pub entity_type: Option<String>,
    pub entity_id: Option<i64>,
    /// Whether events of API keys and webhook endpoints are shown (to admin keys only, as
    /// those resources are: a webhook URL may carry a token).
    pub with_keys: bool,
}

/// One page of `org`'s events in id order. Only the filters given reach the SQL, so an
/// entity's history is one range of `journal_events_entity`, not a scan of the journal.
pub(crate) fn list(
    conn: &Conn,
    org: i64,
    filter: &EventFilter,
) -> Result<Vec<Map<String, Value>>, AppError> {
    let (sql, values) = listing(org, filter, Some(filter.limit));
    let events = conn
        .prepare_cached(&sql)?
        .query_map(crate::db::conn::params_from_iter(values), event_from_row)?
        .collect::<Result<_, _>>()?;
    Ok(events)
}

/// Starts the read snapshot of `conn`'s transaction (SQLite takes it at the first read,
/// not at BEGIN), so what is committed after this call is not in it.
pub(crate) fn pin_snapshot(conn: &Conn, org: i64) -> Result<(), AppError> {
    let sql = "SELECT EXISTS (SELECT 1 FROM journal_events WHERE organization_id = ?1)";
    Ok(conn.query_row(sql, [org], |row| row.get::<_, bool>(0).map(|_| ()))?)
}

/// The events `list` would answer, all of them after `filter.after` unless `limit` is
/// given, one at a time and never collected (an export); `each` answers false to stop.
pub(crate) fn each(
    conn: &Conn,
    org: i64,
    (filter, limit): (&EventFilter, Option<i64>),
    mut each: impl FnMut(Map<String, Value>) -> bool,
) -> Result<(), AppError> {
    let (sql, values) = listing(org, filter, limit);
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(crate::db::conn::params_from_iter(values))?;
    while let Some(row) = rows.next()? {
        if !each(event_from_row(&row)?) {
            break;
        }
    }
    Ok(())
}

/// The SQL and parameters of `filter`'s events, at most `limit` (none: all).
fn listing(
    org: i64,
    filter: &EventFilter,
    limit: Option<i64>,
) -> (String, Vec<crate::db::conn::value::Value>) {
    let mut sql = format!("SELECT {EVENT_COLUMNS} FROM journal_events WHERE organization_id = ?");
    let mut values: Vec<crate::db::conn::value::Value> = vec![org.into()];
    if let Some(entity_type) = &filter.entity_type {
        sql.push_str(" AND entity_type = ?");
        values.push(entity_type.clone().into());
    }
    if let Some(entity_id) = filter.entity_id {
        sql.push_str(" AND entity_id = ?");
        values.push(entity_id.into());
    }
    if let Some(event_type) = &filter.event_type {
        sql.push_str(" AND type = ?");
        values.push(event_type.clone().into());
    }
    if !filter.with_keys {
        sql.push_str(" AND entity_type NOT IN ('api_key', 'webhook_endpoint')");
    }
    sql.push_str(" AND id > ? ORDER BY id LIMIT ?");
    values.push(filter.after.into());
    // No limit: the largest one, which both engines accept (PostgreSQL refuses a negative).
    values.push(limit.unwrap_or(i64::MAX).into());
    (sql, values)
}

/// Event `id` of `org`, as sealed.
pub(crate) fn get_event(
    conn: &Conn,
    org: i64,
    id: i64,
) -> Result<Option<Map<String, Value>>, AppError> {
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM journal_events WHERE organization_id = ?1 AND id = ?2"
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(params![org, id], event_from_row)
        .optional()?)
}

/// The answer recorded by the latest event of one entity, if it has any.
pub(crate) fn latest_data(
    conn: &Conn,
    org: i64,
    entity: EntityType,
    entity_id: i64,
) -> Result<Option<Value>, AppError> {
    let text: Option<String> = conn
        .prepare_cached(
            "SELECT data FROM journal_events
             WHERE organization_id = ?1 AND entity_type = ?2 AND entity_id = ?3
             ORDER BY id DESC LIMIT 1",
        )?
        .query_row(params![org, entity.as_str(), entity_id], |row| row.get(0))
        .optional()?;
    Ok(text.and_then(|text| serde_json::from_str(&text).ok()))
}

/// Calls `each` with every event of `org` in id order, as sealed.
pub(crate) fn walk(
    conn: &Conn,
    org: i64,
    mut each: impl FnMut(Map<String, Value>) -> Result<(), AppError>,
) -> Result<(), AppError> {
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM journal_events WHERE organization_id = ?1 ORDER BY id"
    );
    let mut statement = conn.prepare(&sql)?;
    let mut rows = statement.query([org])?;
    while let Some(row) = rows.next()? {
        each(event_from_row(&row)?)?;
    }
    Ok(())
}

/// The latest event of an entity: its id, type and recorded answer.
#[derive(Debug, Clone)]
pub(crate) struct LatestEvent {
    pub id: i64,
    pub event_type: String,
    /// The recorded answer, or why it does not read back (a row changed outside Arvalox):
    /// `verify` reports that as a fault and goes on.
    pub data: Result<Value, String>,
}

/// Calls `each` with every entity of one type that has events, and its latest event.
pub(crate) fn each_latest(
    conn: &Conn,
    org: i64,
    entity: EntityType,
    mut each: impl FnMut(i64, LatestEvent) -> Result<(), AppError>,
) -> Result<(), AppError> {
    // SQLite takes the bare columns of an aggregate query from the row holding the max;
    // PostgreSQL says the same with DISTINCT ON.
    let mut statement = conn.prepare(match conn.is_postgres() {
        false => {
            "SELECT entity_id, max(id), type, data FROM journal_events
             WHERE organization_id = ?1 AND entity_type = ?2
             GROUP BY entity_id ORDER BY entity_id"
        }
        true => {
            "SELECT DISTINCT ON (entity_id) entity_id, id, type, data FROM journal_events
             WHERE organization_id = ?1 AND entity_type = ?2
             ORDER BY entity_id, id DESC"
        }
    })?;
    let mut rows = statement.query(params![org, entity.as_str()])?;
    while let Some(row) = rows.next()? {
        let entity_id: i64 = row.get(0)?;
        let id: i64 = row.get(1)?;
        let latest = LatestEvent {
            id,
            event_type: row.get(2)?,
            data: json_column(&row, 3, org, id).map_err(|err| err.to_string()),
        };
        each(entity_id, latest)?;
    }
    Ok(())
}

/// The table holding rows of `entity`, and its column naming their organization.
fn table_of(entity: EntityType) -> (&'static str, &'static str) {
    let table = match entity {
        EntityType::Customer => "customers",
        EntityType::Invoice => "invoices",
        EntityType::Payment => "payments",
        EntityType::CreditNote => "credit_notes",
        EntityType::ApiKey => "api_keys",
        EntityType::WebhookEndpoint => "webhook_endpoints",
        EntityType::Organization => return ("organizations", "id"),
    };
    (table, "organization_id")
}

/// The ids of every row of one entity type in `org`, in id order.
pub(crate) fn entity_ids(conn: &Conn, org: i64, entity: EntityType) -> Result<Vec<i64>, AppError> {
    let (table, owner) = table_of(entity);
    let sql = format!("SELECT id FROM {table} WHERE {owner} = ?1 ORDER BY id");
    let ids = conn
        .prepare(&sql)?
        .query_map([org], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(ids)
}

/// Up to `limit` ids of `entity` rows of `org` after `after` that have no event, in id order.
pub(crate) fn unjournaled_ids(
    conn: &Conn,
    org: i64,
    entity: EntityType,
    (after, limit): (i64, i64),
) -> Result<Vec<i64>, AppError> {
    let (table, owner) = table_of(entity);
    let sql = format!(
        "SELECT id FROM {table} t WHERE {owner} = ?1 AND id > ?2
           AND NOT EXISTS (SELECT 1 FROM journal_events e
                           WHERE e.organization_id = ?1 AND e.entity_type = ?3 AND e.entity_id = t.id)
         ORDER BY id LIMIT ?4"
    );
    let ids = conn
        .prepare_cached(&sql)?
        .query_map(params![org, after, entity.as_str(), limit], |row| {
            row.get(0)
        })?
        .collect::<Result<_, _>>()?;
    Ok(ids)
}

/// The organizations whose rows predate the journal and still wait for their events.
pub(crate) fn imports_due(conn: &Conn) -> Result<Vec<i64>, AppError> {
    let orgs = conn
        .prepare(
            "SELECT /* every organization */ organization_id FROM journal_imports_due ORDER BY 1",
        )?
        .query_map((), |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(orgs)
}

/// `org` has rows without events, to journal on the next open.
pub(crate) fn mark_import_due(tx: &WriteTx, org: i64) -> Result<(), AppError> {
    tx.execute(
        "INSERT INTO journal_imports_due (organization_id) VALUES (?1) ON CONFLICT DO NOTHING",
        [org],
    )?;
    Ok(())
}

/// `org`'s rows all have their events now.
pub(crate) fn import_done(tx: &WriteTx, org: i64) -> Result<(), AppError> {
    tx.execute(
        "DELETE FROM journal_imports_due WHERE organization_id = ?1",
        [org],
    )?;
    Ok(())
}

/// The id of the organization with this slug, if any.
pub(crate) fn organization_id(conn: &Conn, slug: &str) -> Result<Option<i64>, AppError> {
    Ok(conn
        .query_row(
            "SELECT id FROM organizations WHERE slug = ?1",
            [slug],
            |row| row.get(0),
        )
        .optional()?)
}

/// Every organization's id and slug, in id order.
pub(crate) fn organizations(conn: &Conn) -> Result<Vec<(i64, String)>, AppError> {
    let orgs = conn
        .prepare("SELECT id, slug FROM organizations ORDER BY id")?
        .query_map((), |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(orgs)
}
