//! What the command line does to the journal: key changes recorded as the CLI's, and
//! `arvalox verify`, which checks every organization's chain, every row against its latest
//! event, and that the books balance.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::render::current_answer;
use super::trail::Trail;
use crate::api::keys::ApiKeyInfo;
use crate::api::organization::Organization;
use crate::db::conn::Conn;
use crate::db::journal::{self as store, LatestEvent};
use crate::db::keys::{self, KeyRecord};
use crate::db::{books, organization, Db, WriteScope};
use crate::domain::currency::Currency;
use crate::domain::journal::{drifted_fields, is_removal, Actor, ChainCheck, EntityType};
use crate::domain::keys::Scope;
use crate::domain::text::{check_new_slug, check_text};
use crate::error::AppError;

/// Creates a key of `org` (and the organization, if new) from the command line; answers
/// the key and its secret, which only the caller ever sees.
pub fn create_key(
    db: &Db,
    org: &str,
    (name, scope): (&str, Scope),
    (today, now): (NaiveDate, &str),
) -> Result<(KeyRecord, String), AppError> {
    let settings = NewOrganization::default();
    create_key_in_zone(db, (org, settings), (name, scope), (today, now))
}

/// What `keys create` and `seed-demo` may give a new organization: its IANA time zone
/// and its ISO 4217 currency. An existing one keeps its settings (change them with
/// `PATCH /v1/organization`).
#[derive(Debug, Clone, Copy, Default)]
pub struct NewOrganization<'a> {
    pub timezone: Option<&'a str>,
    pub currency: Option<&'a str>,
}

impl NewOrganization<'_> {
    fn is_empty(&self) -> bool {
        self.timezone.is_none() && self.currency.is_none()
    }

    fn check(&self) -> Result<Option<Currency>, AppError> {
        if let Some(zone) = self.timezone {
            check_zone(zone)?;
        }
        self.currency
            .map(|code| Currency::parse(code).map_err(|err| AppError::field("currency", err)))
            .transpose()
    }
}

/// [`create_key`], giving a new organization `settings`.
pub fn create_key_in_zone(
    db: &Db,
    (org, settings): (&str, NewOrganization),
    (name, scope): (&str, Scope),
    (today, now): (NaiveDate, &str),
) -> Result<(KeyRecord, String), AppError> {
    let currency = settings.check()?;
    check_names(None, Some(name))?;
    db.write_blocking(WriteScope::Book, |tx| {
        let org_id = organization_in(tx, (org, settings, currency), (today, now))?;
        let (record, secret) = keys::create_key(tx, org_id, name.trim(), scope, now)?;
        let info = ApiKeyInfo::from(record.clone());
        let key = (EntityType::ApiKey, record.id);
        Trail::local(org_id, Actor::Cli, today).record_answer(tx, now, key, "created", &info)?;
        Ok((record, secret))
    })
}

/// Checks the names a command was given before anything opens a book, so a refused one
/// creates nothing: a key's `name` by the API's rule (`POST /v1/keys`; a newline would
/// forge a line of `keys list`), and `slug` when the command would create that
/// organization (`domain::text::check_new_slug`, which `db::keys::ensure_organization`
/// holds to in any case).
pub fn check_names(new_slug: Option<&str>, key_name: Option<&str>) -> Result<(), AppError> {
    if let Some(name) = key_name {
        check_text(name, 1, 100, false).map_err(|why| AppError::field("name", why))?;
    }
    if let Some(slug) = new_slug {
        check_new_slug(slug)?;
    }
    Ok(())
}

/// Creates organization `slug` (journaled, with `settings`) unless it exists; answers its
/// id. For `seed-demo --timezone --currency`.
pub fn create_organization(
    db: &Db,
    (slug, settings): (&str, NewOrganization),
    (today, now): (NaiveDate, &str),
) -> Result<i64, AppError> {
    let currency = settings.check()?;
    db.write_blocking(WriteScope::Book, |tx| {
        organization_in(tx, (slug, settings, currency), (today, now))
    })
}

/// Organization `slug`'s id, creating and journaling it first if it is new. Settings for
/// an organization that exists are a 409: they are changed through the API.
fn organization_in(
    tx: &crate::db::WriteTx,
    (slug, settings, currency): (&str, NewOrganization, Option<Currency>),
    (today, now): (NaiveDate, &str),
) -> Result<i64, AppError> {
    let new_organization = store::organization_id(tx, slug)?.is_none();
    if !settings.is_empty() && !new_organization {
        return Err(AppError::conflict(format!(
            "Organization '{slug}' exists already; change its time zone or currency with PATCH /v1/organization."
        )));
    }
    let org_id = keys::ensure_organization(tx, slug, now)?;
    if new_organization {
        let mut current = organization::get(tx, org_id)?;
        if !settings.is_empty() {
            if let Some(zone) = settings.timezone {
                current.fields.timezone = Some(zone.to_string());
            }
            if let Some(currency) = currency {
                current.fields.currency = currency;
            }
            // A new organization has no customers to move with its currency.
            current = organization::update(tx, org_id, &current.fields, now)?.0;
        }
        let answer = Organization::from(current);
        let key = (EntityType::Organization, org_id);
        Trail::local(org_id, Actor::Cli, today).record_answer(tx, now, key, "created", &answer)?;
    }
    Ok(org_id)
}

/// An IANA time zone name, or the error that says what one looks like.
pub fn check_zone(zone: &str) -> Result<(), AppError> {
    zone.parse::<chrono_tz::Tz>().map(|_| ()).map_err(|_| {
        AppError::field(
            "timezone",
            format!(
                "'{zone}' is not an IANA time zone name such as Europe/Berlin or America/New_York"
            ),
        )
    })
}

/// Revokes the key with this id or prefix from the command line.
pub fn revoke_key(
    db: &Db,
    id_or_prefix: &str,
    (today, now): (NaiveDate, &str),
) -> Result<KeyRecord, AppError> {
    // The key's organization is known once it is found.
    db.write_blocking(WriteScope::Book, |tx| {
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
            db.write_blocking(WriteScope::Organization(org), |tx| {
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
        db.write_blocking(WriteScope::Organization(org), |tx| {
            store::import_done(tx, org)
        })?;
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
    let journaled = journal_rows(db, org, (Actor::Cli, "created"), (today, now))?;
    db.write_blocking(WriteScope::Organization(org), |tx| {
        store::import_done(tx, org)
    })?;
    Ok(journaled)
}

/// What `verify` found: a line per organization, and every fault.
#[derive(Debug, Default)]
pub struct Verification {
    pub organizations: Vec<String>,
    pub faults: Vec<String>,
}

/// Checks every organization's journal and rows, and the books, in one snapshot (a live
/// book may take writes meanwhile); `expected_heads` holds (organization slug, hash) pairs
/// taken earlier: each must still be the hash of an event, or the journal was cut short.
/// It changes nothing: rows that predate the journal are reported, not journaled.
pub fn verify(
    db: &Db,
    expected_heads: &[(String, String)],
    today: NaiveDate,
) -> Result<Verification, AppError> {
    db.read_blocking(|conn| verify_on(conn, expected_heads, today))
}

/// [`verify`] on a connection of the caller's (a backup's copy, opened read-only): all
/// reads, in the connection's snapshot.
pub fn verify_on(
    conn: &Conn,
    expected_heads: &[(String, String)],
    today: NaiveDate,
) -> Result<Verification, AppError> {
    {
        let mut found = Verification::default();
        let due = store::imports_due(conn)?;
        for (org, slug) in store::organizations(conn)? {
            let expected = expected_heads
                .iter()
                .find(|(wanted, _)| *wanted == slug)
                .map(|(_, hash)| hash.as_str());
            let walked = check_chain(conn, (org, &slug), expected, &mut found.faults)?;
            found.organizations.push(walked.summary(&slug, expected));
            if let (Some(expected), None) = (expected, walked.after_expected) {
                found.faults.push(format!(
                    "organization '{slug}': no event of the journal has the expected head hash {expected} (it now ends at event {} with hash {}): events were removed from its end or changed",
                    walked.last, walked.head
                ));
            }
            if due.contains(&org) {
                found.faults.push(format!(
                    "organization '{slug}': marked as holding rows from before the journal, which a book journaled from its start never is (or `arvalox serve` has not yet opened this upgraded book)"
                ));
            }
            for entity in EntityType::ALL {
                check_rows(conn, (org, &slug), (entity, today), &mut found.faults)?;
            }
        }
        for (slug, _) in expected_heads {
            if !found
                .organizations
                .iter()
                .any(|line| line.starts_with(&format!("organization '{slug}':")))
            {
                found
                    .faults
                    .push(format!("organization '{slug}' does not exist"));
            }
        }
        found.faults.extend(books::drift(conn)?);
        Ok(found)
    }
}

/// One organization's chain as walked.
struct Walked {
    count: i64,
    last: i64,
    head: String,
    /// Events after the one whose hash is the expected head, once found.
    after_expected: Option<i64>,
}

impl Walked {
    fn summary(&self, slug: &str, expected: Option<&str>) -> String {
        let mut line = format!(
            "organization '{slug}': {} events, head event {}, hash {}",
            self.count, self.last, self.head
        );
        if let (Some(_), Some(after)) = (expected, self.after_expected) {
            let events = if after == 1 { "event" } else { "events" };
            line.push_str(&format!(" ({after} {events} after the expected head)"));
        }
        line
    }
}

/// Walks one organization's chain, noting where the expected head is.
fn check_chain(
    conn: &Conn,
    (org, slug): (i64, &str),
    expected: Option<&str>,
    faults: &mut Vec<String>,
) -> Result<Walked, AppError> {
    let mut chain = ChainCheck::default();
    let mut count = 0;
    let mut broken = false;
    let mut after_expected = None;
    let walked = store::walk(conn, org, |event| {
        count += 1;
        after_expected = after_expected.map(|after: i64| after + 1);
        if broken {
            return Ok(());
        }
        if let Err(fault) = chain.next(&event) {
            faults.push(format!(
                "organization '{slug}': journal event {}: {}",
                fault.event_id, fault.what
            ));
            broken = true;
        } else if expected.is_some_and(|hash| hash == chain.head().1) {
            after_expected = Some(0);
        }
        Ok(())
    });
    if let Err(err) = walked {
        // A stored event that does not read back is itself the fault to report; the
        // walk, and the count of events it shows, end there.
        let why = match err {
            AppError::Internal(text) => text,
            other => other.to_string(),
        };
        faults.push(format!(
            "organization '{slug}': the journal does not read back after event {} ({why}): it was changed outside Arvalox; the chain is checked up to there",
            chain.head().0
        ));
    }
    let (last, head) = chain.head();
    Ok(Walked {
        count,
        last,
        head: head.to_string(),
        after_expected,
    })
}

/// Every row of `entity` matches the answer its latest event recorded; every row has an
/// event; every entity whose latest event is not a deletion still has its row.
fn check_rows(
    conn: &Conn,
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
        let recorded = match &event.data {
            Ok(recorded) => recorded,
            Err(unread) => {
                faults.push(format!("organization '{slug}': {name} {id}: its latest journal event does not read back ({unread}): it was changed outside Arvalox"));
                continue;
            }
        };
        let Some(current) = current_answer(conn, org, (entity, id), today)? else {
            continue;
        };
        let moved = drifted_fields(entity, recorded, &current);
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
