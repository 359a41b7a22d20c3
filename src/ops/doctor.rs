//! `doctor`: a book read whole, changing nothing, one line a check; `--repair`: the derived
//! data written again from the records.

use std::path::Path;

use chrono::NaiveDate;

use rusqlite::Connection;

use super::file_faults;
use super::read_only;
use crate::api::journal::local::{verify_on, Verification};
use crate::db::backup::check_file;
use crate::db::conn::Conn;
use crate::db::{schema_version, Db, Synchronous, WriteScope};
use crate::error::AppError;

/// `doctor`'s findings: the lines of its report, and how many of them are faults.
#[derive(Debug, Clone, Default)]
pub struct Checkup {
    pub lines: Vec<String>,
    pub faults: usize,
}

impl Checkup {
    fn ok(&mut self, what: String) {
        self.lines.push(format!("ok     {what}"));
    }

    fn fault(&mut self, what: String) {
        self.faults += 1;
        self.lines.push(format!("FAULT  {what}"));
    }

    fn note(&mut self, what: String) {
        self.lines.push(format!("note   {what}"));
    }

    /// What `verify` found, as either engine's doctor reports it.
    fn verified(&mut self, found: &Verification) {
        found
            .organizations
            .iter()
            .for_each(|line| self.note(line.clone()));
        match found.faults.is_empty() {
            true => self.ok(
                "the journal, every row against its latest event, the books and the daily \
                 summaries"
                    .into(),
            ),
            false => found.faults.iter().for_each(|f| self.fault(f.clone())),
        }
    }
}

/// Reads the book at `path` whole, changing nothing: SQLite's checks, the migrations, each
/// organization's journal, every row against its latest event, the books and the daily
/// summaries against a recount, and the invoice detail copies against their rows.
pub fn doctor(path: &Path, today: NaiveDate) -> Result<Checkup, AppError> {
    if !path.is_file() {
        return Err(AppError::NotFound(format!(
            "{} does not exist",
            path.display()
        )));
    }
    let mut report = Checkup::default();
    let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    report.note(format!("{}: {bytes} bytes", path.display()));
    let file = check_file(path)?;
    match file.integrity.is_empty() {
        true => report.ok("integrity_check".into()),
        false => file
            .integrity
            .iter()
            .for_each(|l| report.fault(format!("integrity_check: {l}"))),
    }
    match file.broken_keys {
        0 => report.ok("foreign_key_check".into()),
        n => report.fault(format!(
            "foreign_key_check: {n} rows point to rows that do not exist"
        )),
    }
    let (have, know) = (file.schema_version, schema_version());
    if have == 0 {
        report.fault("migrations: none: this is not an Arvalox book".into());
        return Ok(report);
    }
    if have > know {
        report.fault(format!("migrations: the file has {have}, this binary knows {know}: it was written by a newer Arvalox; use that one"));
        return Ok(report);
    }
    if have < know {
        report.note(format!("migrations: the file has {have} of {know}: `arvalox migrate` (after a backup) upgrades it; the deeper checks need it upgraded"));
        return Ok(report);
    }
    report.ok(format!("migrations: all {know} applied"));
    let conn = read_only(path)?;
    conn.execute_batch("BEGIN")?;
    let found = verify_on(&Conn::sqlite(&conn), &[], today)?;
    report.verified(&found);
    let (checked, stale, first) = crate::db::details::stale_copies(&Conn::sqlite(&conn))?;
    match stale {
        0 => report.ok(format!("invoice detail copies: {checked} checked, each as its rows render")),
        n => report.fault(format!("invoice detail copies: {n} of {checked} differ from their rows (invoices {first:?}…): `doctor --repair` writes them again")),
    }
    let stale = crate::db::allocations::stale_movements(&Conn::sqlite(&conn))?;
    movements_checked(&mut report, stale);
    conn.execute_batch("COMMIT")?;
    Ok(report)
}

/// `verify` on the SQLite file at `path`, read-only: the book as it is, never created,
/// migrated or journaled (a backup kept read-only is verified as well). A file that is not
/// a book of this binary's migrations is refused, saying which it is.
pub fn verify_file(
    path: &Path,
    expected_heads: &[(String, String)],
    today: NaiveDate,
) -> Result<Verification, AppError> {
    let shown = path.display();
    if path.is_dir() {
        return Err(AppError::conflict(format!(
            "{shown} is a directory: give --db the book's file"
        )));
    }
    if !path.is_file() {
        return Err(AppError::NotFound(format!("{shown} does not exist")));
    }
    let not_a_book = |why: String| AppError::conflict(format!("{shown}: {why}"));
    let unreadable = |err: AppError| {
        let why = match err {
            AppError::Internal(text) => text,
            other => other.to_string(),
        };
        not_a_book(format!(
            "cannot be read as a SQLite database ({why}): give --db the book's file"
        ))
    };
    let (have, know) = (
        super::startup::check_file_version(path).map_err(unreadable)?,
        schema_version(),
    );
    match have {
        0 => return Err(not_a_book("not an Arvalox book (it has no migrations): give --db the book's file".into())),
        _ if have > know => return Err(AppError::conflict(super::startup::newer_line(path, have))),
        _ if have < know => return Err(not_a_book(format!("has migrations up to {have} of {know}: `arvalox migrate` (after a backup) upgrades it, then verify"))),
        _ => {}
    }
    let conn = read_only(path)?;
    conn.execute_batch("BEGIN")?;
    let found = verify_on(&Conn::sqlite(&conn), expected_heads, today)?;
    conn.execute_batch("COMMIT")?;
    Ok(found)
}

/// Writes the derived data again from the records, in one transaction: the invoice
/// movements' sums, both daily summaries, and every invoice detail copy (rendered again as the book is opened). The
/// records themselves are only read.
pub fn repair(path: &Path) -> Result<(), AppError> {
    let file = check_file(path)?;
    if file.schema_version != schema_version() || !file.is_clean() {
        return Err(AppError::conflict(format!(
            "{} is not repaired: {}; restore a backup instead",
            path.display(),
            file_faults(&file).join("; ")
        )));
    }
    // Not under a server: its writes would wait on this transaction past their timeout.
    let _held = super::serving_lock(path)?;
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let conn_of = Conn::sqlite(&conn);
    let rebuilt = crate::db::allocations::rebuild_movements(&conn_of)
        .and_then(|()| crate::db::summaries::rebuild(&conn_of))
        .and_then(|()| crate::db::details::clear_all(&conn_of).map(|_| ()));
    match rebuilt {
        Ok(()) => conn.execute_batch("COMMIT")?,
        Err(err) => {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(err);
        }
    }
    drop(conn);
    // Opening renders every cleared copy again, in batches.
    drop(Db::open(path, Synchronous::Full)?);
    Ok(())
}

/// [`doctor`] for a PostgreSQL book (opened, so migrated, by the caller): the server keeps
/// its own pages and keys whole, so the checks are Arvalox's: each organization's journal,
/// every row against its latest event, the books and the daily summaries, in one snapshot.
pub fn doctor_book(store: &Db, today: NaiveDate) -> Result<Checkup, AppError> {
    let mut report = Checkup::default();
    report.note(
        "a PostgreSQL book: its pages and keys are the server's to check (amcheck, pg_dump)".into(),
    );
    report.ok(format!(
        "migrations: all {} applied",
        crate::db::postgres::schema_version()
    ));
    let found = store.read_blocking(|conn| verify_on(conn, &[], today))?;
    report.verified(&found);
    report.note(
        "invoice detail copies: not kept on PostgreSQL (each detail is read from its rows)".into(),
    );
    movements_checked(
        &mut report,
        store.read_blocking(crate::db::allocations::stale_movements)?,
    );
    Ok(report)
}

/// The line for the check of the daily movement sums: `stale` of them differ from the facts.
fn movements_checked(report: &mut Checkup, stale: i64) {
    match stale {
        0 => report.ok("invoice movements: each date's sum as the allocations and write-offs make it".into()),
        n => report.fault(format!("invoice movements: {n} of the daily sums differ from the allocations and write-offs: `doctor --repair` writes them again")),
    }
}

/// [`repair`] for a PostgreSQL book: the daily movement sums, then both daily summaries
/// (made from them) written again from the records, in one write transaction (other writes
/// wait for it).
pub fn repair_book(store: &Db) -> Result<(), AppError> {
    store.write_blocking(WriteScope::Book, |tx| {
        for org in crate::db::summaries::organization_ids(tx)? {
            crate::db::allocations::rebuild_movements_of(tx, org)?;
        }
        crate::db::summaries::rebuild(tx)
    })
}
