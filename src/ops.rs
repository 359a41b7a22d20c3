//! Running a book for years: a verified online backup, and `doctor`, which reads a book
//! whole and says in plain lines what is wrong (and with `--repair` writes again what is
//! derived from the records: the daily summaries and the invoice detail copies).

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use rusqlite::{Connection, OpenFlags};

use crate::api::journal::local::verify_on;
use crate::db::backup::{check_file, copy, FileCheck};
use crate::db::{schema_version, Db, Synchronous};
use crate::error::AppError;

/// A backup written and checked.
#[derive(Debug, Clone)]
pub struct BackupDone {
    pub file: PathBuf,
    pub bytes: u64,
    pub schema_version: i64,
    /// Each organization's journal as the copy holds it (events, head hash).
    pub organizations: Vec<String>,
}

/// Copies the book at `from` into `out` while it may be serving: one read snapshot
/// (`VACUUM INTO`) into a file beside `out`, checked (SQLite's integrity and foreign keys,
/// this binary's migrations, the journal, every row against its events, the books), then
/// renamed into place. `out` is replaced only with `force`.
pub fn backup(
    from: &Path,
    out: &Path,
    force: bool,
    today: NaiveDate,
) -> Result<BackupDone, AppError> {
    if !from.is_file() {
        return Err(AppError::NotFound(format!(
            "{} does not exist",
            from.display()
        )));
    }
    if out.exists() && !force {
        return Err(AppError::conflict(format!(
            "{} exists: give another file, or --force to replace it",
            out.display()
        )));
    }
    let name = out.file_name().and_then(|n| n.to_str()).unwrap_or("backup");
    let partial = out.with_file_name(format!(".{name}.partial-{}", std::process::id()));
    let _ = std::fs::remove_file(&partial);
    let checked = copy(from, &partial).and_then(|()| check_copy(&partial, today));
    let organizations = match checked {
        Ok(organizations) => organizations,
        Err(err) => {
            let _ = std::fs::remove_file(&partial);
            return Err(err);
        }
    };
    std::fs::rename(&partial, out).map_err(|err| {
        let _ = std::fs::remove_file(&partial);
        AppError::Internal(format!("moving the backup into {}: {err}", out.display()))
    })?;
    let bytes = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0);
    Ok(BackupDone {
        file: out.to_path_buf(),
        bytes,
        schema_version: schema_version(),
        organizations,
    })
}

/// The copy's checks; the organizations' journal lines when it passes.
fn check_copy(path: &Path, today: NaiveDate) -> Result<Vec<String>, AppError> {
    let file = check_file(path)?;
    let mut faults = file_faults(&file);
    let conn = read_only(path)?;
    let found = verify_on(&conn, &[], today)?;
    faults.extend(found.faults);
    if faults.is_empty() {
        return Ok(found.organizations);
    }
    Err(AppError::Internal(format!(
        "the copy failed its check, so it was not kept: {}",
        faults.join("; ")
    )))
}

/// What SQLite's checks and the migrations say is wrong with a file.
fn file_faults(file: &FileCheck) -> Vec<String> {
    let mut faults: Vec<String> = file
        .integrity
        .iter()
        .map(|line| format!("integrity_check: {line}"))
        .collect();
    if file.broken_keys > 0 {
        faults.push(format!(
            "foreign_key_check: {} rows point to rows that do not exist",
            file.broken_keys
        ));
    }
    if file.schema_version != schema_version() {
        faults.push(format!(
            "schema version {} is not this binary's {}",
            file.schema_version,
            schema_version()
        ));
    }
    faults
}

fn read_only(path: &Path) -> Result<Connection, AppError> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|err| AppError::Internal(format!("cannot open {}: {err}", path.display())))?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    Ok(conn)
}

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
    let found = verify_on(&conn, &[], today)?;
    found
        .organizations
        .iter()
        .for_each(|line| report.note(line.clone()));
    match found.faults.is_empty() {
        true => report.ok(
            "the journal, every row against its latest event, the books and the daily summaries"
                .into(),
        ),
        false => found.faults.iter().for_each(|f| report.fault(f.clone())),
    }
    let (checked, stale, first) = crate::db::details::stale_copies(&conn)?;
    match stale {
        0 => report.ok(format!("invoice detail copies: {checked} checked, each as its rows render")),
        n => report.fault(format!("invoice detail copies: {n} of {checked} differ from their rows (invoices {first:?}…): `doctor --repair` writes them again")),
    }
    conn.execute_batch("COMMIT")?;
    Ok(report)
}

/// Writes the derived data again from the records, in one transaction: both daily
/// summaries, and every invoice detail copy (rendered again as the book is opened). The
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
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let rebuilt = crate::db::summaries::rebuild(&conn)
        .and_then(|()| crate::db::details::clear_all(&conn).map(|_| ()));
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

/// Marks `path` as served by this process for as long as the answer lives: an advisory
/// lock on the file (`flock`, apart from SQLite's own locks), so a second `serve` and a
/// `restore` see it and refuse, while `backup`, `doctor` and the other commands go on.
pub fn serving_lock(path: &Path) -> Result<std::fs::File, AppError> {
    let file = std::fs::File::open(path)
        .map_err(|err| AppError::Internal(format!("cannot open {}: {err}", path.display())))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(AppError::conflict(format!(
            "{} is already served by another `arvalox serve`: stop it first",
            path.display()
        ))),
        Err(std::fs::TryLockError::Error(err)) => Err(AppError::Internal(format!(
            "cannot lock {}: {err}",
            path.display()
        ))),
    }
}

/// A restore done.
#[derive(Debug, Clone)]
pub struct Restored {
    /// Where the file it replaced went (none when there was none).
    pub kept_aside: Option<PathBuf>,
    pub schema_version: i64,
    pub organizations: Vec<String>,
}

/// Puts the backup `from` in place of the book `to`: refused while a server has `to` open;
/// the backup is checked first (SQLite's checks, this binary's migrations, the journal,
/// every row, the books) and copied beside `to`; the replaced file (and its WAL) is renamed
/// `{to}.replaced-{stamp}`, not deleted. A backup from an older Arvalox is refused with what
/// to do: upgrade a copy of it with `arvalox migrate`, then restore that.
pub fn restore(
    from: &Path,
    to: &Path,
    (today, stamp): (NaiveDate, &str),
) -> Result<Restored, AppError> {
    if !from.is_file() {
        return Err(AppError::NotFound(format!(
            "{} does not exist",
            from.display()
        )));
    }
    let wal = PathBuf::from(format!("{}-wal", from.display()));
    if std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0) {
        return Err(AppError::conflict(format!(
            "{} is not restored: {} beside it holds part of it (the file is open somewhere, or was copied while open); restore a file `arvalox backup` wrote",
            from.display(),
            wal.display()
        )));
    }
    let file = check_file(from)?;
    if !file.is_clean() || file.schema_version != schema_version() {
        return Err(AppError::conflict(format!(
            "{} is not restored: {}",
            from.display(),
            describe_unusable(&file)
        )));
    }
    let organizations = check_copy(from, today)?;
    let _held = match to.exists() {
        true => Some(serving_lock(to)?),
        false => None,
    };
    let name = to.file_name().and_then(|n| n.to_str()).unwrap_or("ar.db");
    let incoming = to.with_file_name(format!(".{name}.restoring-{}", std::process::id()));
    if let Err(err) = std::fs::copy(from, &incoming) {
        let _ = std::fs::remove_file(&incoming);
        return Err(AppError::Internal(format!(
            "copying {}: {err}",
            from.display()
        )));
    }
    let kept_aside = match to.exists() {
        true => Some(set_aside(to, stamp)?),
        false => None,
    };
    std::fs::rename(&incoming, to).map_err(|err| {
        AppError::Internal(format!("moving the backup into {}: {err}", to.display()))
    })?;
    Ok(Restored {
        kept_aside,
        schema_version: schema_version(),
        organizations,
    })
}

fn describe_unusable(file: &FileCheck) -> String {
    match file.schema_version {
        0 => "it is not an Arvalox book (it has no migrations)".to_string(),
        v if v > schema_version() => format!(
            "it was written by a newer Arvalox (schema {v}; this binary knows {})",
            schema_version()
        ),
        v if v < schema_version() => format!(
            "it was written by an older Arvalox (schema {v}; this binary's is {}): upgrade a copy of it with `arvalox migrate --db COPY`, then restore the copy",
            schema_version()
        ),
        _ => file_faults(file).join("; "),
    }
}

/// Renames `path` (and its WAL, which holds committed pages until a checkpoint) to
/// `{path}.replaced-{stamp}`; its shared-memory index is only a cache and is removed.
fn set_aside(path: &Path, stamp: &str) -> Result<PathBuf, AppError> {
    let aside = PathBuf::from(format!(
        "{}.replaced-{}",
        path.display(),
        stamp.replace([':', '-'], "")
    ));
    let wal = |p: &Path| PathBuf::from(format!("{}-wal", p.display()));
    let moved = std::fs::rename(path, &aside).and_then(|()| match wal(path).exists() {
        true => std::fs::rename(wal(path), wal(&aside)),
        false => Ok(()),
    });
    moved.map_err(|err| AppError::Internal(format!("setting {} aside: {err}", path.display())))?;
    let _ = std::fs::remove_file(format!("{}-shm", path.display()));
    Ok(aside)
}

/// The backups the server names (`arvalox-*.db`) in `dir`, oldest first.
pub fn backups_in(dir: &Path) -> Result<Vec<PathBuf>, AppError> {
    let listing = std::fs::read_dir(dir)
        .map_err(|err| AppError::Internal(format!("reading {}: {err}", dir.display())))?;
    let mut found: Vec<(std::time::SystemTime, PathBuf)> = listing
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("arvalox-") && n.ends_with(".db"))
        })
        .filter_map(|path| Some((std::fs::metadata(&path).ok()?.modified().ok()?, path)))
        .collect();
    found.sort();
    Ok(found.into_iter().map(|(_, path)| path).collect())
}

/// Deletes all but the newest `keep` of the server's backups in `dir`; answers what went.
pub fn rotate(dir: &Path, keep: usize) -> Result<Vec<PathBuf>, AppError> {
    let all = backups_in(dir)?;
    let surplus = all.len().saturating_sub(keep);
    let gone: Vec<PathBuf> = all.into_iter().take(surplus).collect();
    for path in &gone {
        std::fs::remove_file(path)
            .map_err(|err| AppError::Internal(format!("removing {}: {err}", path.display())))?;
    }
    Ok(gone)
}

/// Why `serve` will not start on a file, each with an exit code of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartProblem {
    MissingDirectory,
    NotWritable,
    NotADatabase,
    Truncated,
    NewerBook,
    AlreadyServed,
}

impl StartProblem {
    /// The exit code: 10 and up, apart from clap's 2 for a bad command line and 1 for
    /// anything else.
    pub fn exit_code(self) -> i32 {
        match self {
            StartProblem::MissingDirectory => 10,
            StartProblem::NotWritable => 11,
            StartProblem::NotADatabase => 12,
            StartProblem::Truncated => 13,
            StartProblem::NewerBook => 14,
            StartProblem::AlreadyServed => 15,
        }
    }
}

/// What `serve` checks before it opens (and so changes) anything: the directory, that the
/// file and its directory can be written, that the file is a whole SQLite database, that
/// no newer Arvalox has migrated it, and that no other server has it. One line each.
pub fn preflight(path: &Path) -> Result<(), (StartProblem, String)> {
    let shown = path.display();
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        return Err((StartProblem::MissingDirectory, format!(
            "{shown}: the directory {} does not exist: create it, or give --db a path in an existing one",
            dir.display()
        )));
    }
    writable_dir(&dir).map_err(|err| {
        (
            StartProblem::NotWritable,
            format!(
        "{shown}: cannot write in {} ({err}): Arvalox writes its book and the book's WAL there",
        dir.display()
    ),
        )
    })?;
    if !path.exists() {
        return Ok(());
    }
    let not_a_book = |why: &str| {
        (
            StartProblem::NotADatabase,
            format!("{shown}: {why}: give --db the book's file"),
        )
    };
    if path.is_dir() {
        return Err(not_a_book("is a directory"));
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|err| {
            (
                StartProblem::NotWritable,
                format!("{shown}: cannot be opened for writing ({err})"),
            )
        })?;
    header_problems(path, &file)?;
    let version = newest_migration(path).map_err(|err| not_a_book(&err))?;
    if version > schema_version() {
        return Err((StartProblem::NewerBook, format!(
            "{shown}: written by a newer Arvalox (migrations up to {version}; this binary knows {}): run that version, or restore a backup made for this one",
            schema_version()
        )));
    }
    drop(file);
    serving_lock(path)
        .map(drop)
        .map_err(|err| (StartProblem::AlreadyServed, err.to_string()))
}

/// Creates and removes a file in `dir`: the only sure test (root ignores permission bits,
/// not a read-only file system).
fn writable_dir(dir: &Path) -> std::io::Result<()> {
    let probe = dir.join(format!(".arvalox-probe-{}", std::process::id()));
    std::fs::write(&probe, b"")?;
    std::fs::remove_file(&probe)
}

/// The SQLite header: its magic string, and a file as long as the header says.
fn header_problems(path: &Path, file: &std::fs::File) -> Result<(), (StartProblem, String)> {
    use std::io::Read;
    let shown = path.display();
    let length = file.metadata().map(|m| m.len()).unwrap_or(0);
    if length == 0 {
        return Ok(()); // SQLite makes an empty file a new database.
    }
    let mut header = [0u8; 100];
    let read = (&*file).read(&mut header).unwrap_or(0);
    let Some(expected) = crate::db::backup::size_in_header(&header).filter(|_| read == 100) else {
        return Err((StartProblem::NotADatabase, format!(
            "{shown}: not a SQLite database (it does not start with SQLite's header): give --db the book's file"
        )));
    };
    // Frames in a WAL beside the file may hold pages past its end.
    let wal = std::fs::metadata(format!("{}-wal", path.display())).is_ok_and(|m| m.len() > 0);
    if let (Some(expected), false) = (expected, wal) {
        if length < expected {
            return Err((StartProblem::Truncated, format!(
                "{shown}: {length} bytes, where its header says {expected}: the file was cut short (a copy that did not finish?); restore a backup"
            )));
        }
    }
    Ok(())
}

/// The file's last migration, read-only.
fn newest_migration(path: &Path) -> Result<i64, String> {
    check_file_version(path).map_err(|err| err.to_string())
}

fn check_file_version(path: &Path) -> Result<i64, AppError> {
    let conn = read_only(path)?;
    let has: i64 = conn.query_row(
        "SELECT COUNT(*) FROM sqlite_schema WHERE name = 'refinery_schema_history'",
        [],
        |row| row.get(0),
    )?;
    if has == 0 {
        return Ok(0);
    }
    Ok(conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM refinery_schema_history",
        [],
        |row| row.get(0),
    )?)
}
