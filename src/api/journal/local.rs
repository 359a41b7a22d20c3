//! What the command line does to the journal: key changes recorded as the CLI's, and
//! `arvalox verify`, which checks every organization's chain, every row against its latest
//! event, and that the books balance.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rusqlite::Connection;

use super::render::current_answer;
use super::trail::Trail;
use crate::api::keys::ApiKeyInfo;
use crate::db::journal::{self as store, LatestEvent};
use crate::db::keys::{self, KeyRecord};
use crate::db::{books, Db};
use crate::domain::journal::{changes, is_removal, Actor, ChainCheck, EntityType};
use crate::domain::keys::Scope;
use crate::error::AppError;

/// Creates a key of `org` (and the organization, if new) from the command line; answers
/// the key and its secret, which only the caller ever sees.
pub fn create_key(
    db: &Db,
    org: &str,
    (name, scope): (&str, Scope),
    (today, now): (NaiveDate, &str),
) -> Result<(KeyRecord, String), AppError> {
    db.write_blocking(|tx| {
        let org_id = keys::ensure_organization(tx, org, now)?;
        let (record, secret) = keys::create_key(tx, org_id, name, scope, now)?;
        let info = ApiKeyInfo::from(record.clone());
        Trail::local(org_id, Actor::Cli, today).record_answer(
            tx,
            now,
            (EntityType::ApiKey, record.id),
            "created",
            &info,
        )?;
        Ok((record, secret))
    })
}

/// Revokes the key with this id or prefix from the command line.
pub fn revoke_key(
    db: &Db,
    id_or_prefix: &str,
    (today, now): (NaiveDate, &str),
) -> Result<KeyRecord, AppError> {
    db.write_blocking(|tx| {
        let record = keys::revoke_key(tx, None, id_or_prefix, now)?;
        if record.revoked_at.as_deref() == Some(now) {
            let info = ApiKeyInfo::from(record.clone());
            Trail::local(record.organization_id, Actor::Cli, today).record_answer(
                tx,
                now,
                (EntityType::ApiKey, record.id),
                "revoked",
                &info,
            )?;
        }
        Ok(record)
    })
}

/// Rows journaled per transaction when whole books are journaled at once.
const JOURNAL_BATCH: i64 = 1000;

/// Gives every row of `org` that has no event one `action` event by `actor`, as the row
/// now stands; answers how many. For books written before the journal existed and for
/// `seed-demo`'s bulk rows.
pub fn journal_rows(
    db: &Db,
    org: i64,
    (actor, action): (Actor, &str),
    (today, now): (NaiveDate, &str),
) -> Result<u64, AppError> {
    let trail = Trail::local(org, actor, today);
    let mut journaled = 0;
    for entity in EntityType::ALL {
        let mut after = 0;
        loop {
            let ids = db.read_blocking(|conn| {
                store::unjournaled_ids(conn, org, entity, (after, JOURNAL_BATCH))
            })?;
            let Some(&last) = ids.last() else {
                break;
            };
            db.write_blocking(|tx| {
                for &id in &ids {
                    if let Some(data) = current_answer(tx, org, (entity, id), today)? {
                        trail.record(tx, now, (entity, id), action, data)?;
                    }
                }
                Ok(())
            })?;
            journaled += ids.len() as u64;
            after = last;
        }
    }
    Ok(journaled)
}

/// Journals the rows of organizations that predate the journal (once, after the upgrade
/// that made it); answers how many rows were journaled.
pub fn import_rows_written_before_the_journal(
    db: &Db,
    (today, now): (NaiveDate, &str),
) -> Result<u64, AppError> {
    let mut journaled = 0;
    for org in db.read_blocking(store::imports_due)? {
        journaled += journal_rows(db, org, (Actor::System, "imported"), (today, now))?;
        db.write_blocking(|tx| store::import_done(tx, org))?;
    }
    Ok(journaled)
}

/// Journals the rows `seed-demo` wrote in bulk into organization `slug`, as the CLI's.
pub fn journal_seeded_rows(
    db: &Db,
    slug: &str,
    (today, now): (NaiveDate, &str),
) -> Result<u64, AppError> {
    let Some(org) = db.read_blocking(|conn| store::organization_id(conn, slug))? else {
        return Ok(0);
    };
    journal_rows(db, org, (Actor::Cli, "created"), (today, now))
}

/// What `verify` found: a line per organization, and every fault.
#[derive(Debug, Default)]
pub struct Verification {
    pub organizations: Vec<String>,
    pub faults: Vec<String>,
}

/// Checks every organization's journal and rows, and the books; `expected_heads` holds
/// (organization slug, head hash) pairs a truncated journal would no longer reach.
pub fn verify(
    db: &Db,
    expected_heads: &[(String, String)],
    today: NaiveDate,
) -> Result<Verification, AppError> {
    db.read_blocking(|conn| {
        let mut found = Verification::default();
        for (org, slug) in store::organizations(conn)? {
            let (count, last, head) = check_chain(conn, (org, &slug), &mut found.faults)?;
            found.organizations.push(format!(
                "organization '{slug}': {count} events, head event {last}, hash {head}"
            ));
            for (expected_slug, expected) in expected_heads {
                if *expected_slug == slug && *expected != head {
                    found.faults.push(format!(
                        "organization '{slug}': the journal ends at event {last} with hash {head}, not at the expected head {expected}: events were removed from its end or changed"
                    ));
                }
            }
            for entity in EntityType::ALL {
                check_rows(conn, (org, &slug), (entity, today), &mut found.faults)?;
            }
        }
        for (slug, _) in expected_heads {
            if !found.organizations.iter().any(|line| line.starts_with(&format!("organization '{slug}':"))) {
                found.faults.push(format!("organization '{slug}' does not exist"));
            }
        }
        found.faults.extend(books::drift(conn)?);
        Ok(found)
    })
}

/// Walks one organization's chain; answers its length, last id and head hash.
fn check_chain(
    conn: &Connection,
    (org, slug): (i64, &str),
    faults: &mut Vec<String>,
) -> Result<(i64, i64, String), AppError> {
    let mut chain = ChainCheck::default();
    let mut count = 0;
    let mut broken = false;
    store::walk(conn, org, |event| {
        count += 1;
        if !broken {
            if let Err(fault) = chain.next(&event) {
                faults.push(format!(
                    "organization '{slug}': journal event {}: {}",
                    fault.event_id, fault.what
                ));
                broken = true;
            }
        }
        Ok(())
    })?;
    let (last, head) = chain.head();
    Ok((count, last, head.to_string()))
}

/// Every row of `entity` matches the answer its latest event recorded; every row has an
/// event; every entity whose latest event is not a deletion still has its row.
fn check_rows(
    conn: &Connection,
    (org, slug): (i64, &str),
    (entity, today): (EntityType, NaiveDate),
    faults: &mut Vec<String>,
) -> Result<(), AppError> {
    let name = entity.as_str();
    let mut latest: BTreeMap<i64, LatestEvent> = BTreeMap::new();
    store::each_latest(conn, org, entity, |id, event| {
        latest.insert(id, event);
        Ok(())
    })?;
    for id in store::entity_ids(conn, org, entity)? {
        let Some(event) = latest.remove(&id) else {
            faults.push(format!(
                "organization '{slug}': {name} {id} has no journal event: it was written outside Arvalox"
            ));
            continue;
        };
        if is_removal(&event.event_type) {
            faults.push(format!(
                "organization '{slug}': {name} {id} exists, but its latest journal event {} deleted it",
                event.id
            ));
            continue;
        }
        let Some(current) = current_answer(conn, org, (entity, id), today)? else {
            continue;
        };
        let moved = changes(entity, Some(&event.data), &current)
            .and_then(|changed| {
                changed
                    .as_object()
                    .map(|fields| fields.keys().cloned().collect::<Vec<_>>())
            })
            .unwrap_or_default();
        if !moved.is_empty() {
            faults.push(format!(
                "organization '{slug}': {name} {id} differs from its latest journal event {} in {}: it was changed outside Arvalox",
                event.id,
                moved.join(", ")
            ));
        }
    }
    for (id, event) in latest {
        if !is_removal(&event.event_type) {
            faults.push(format!(
                "organization '{slug}': {name} {id} is gone, but its latest journal event {} ({}) does not delete it",
                event.id, event.event_type
            ));
        }
    }
    Ok(())
}
