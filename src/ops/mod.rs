//! Running a book for years: verified online backups and their rotation, restore, the
//! doctor (which reads a book whole and says in plain lines what is wrong, and with
//! `--repair` writes again what is derived from the records), and the checks `serve` makes
//! before it opens a file. One server per file: the lock that says so is here.

mod backup;
mod doctor;
mod leftovers;
mod startup;

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use crate::db::backup::FileCheck;
use crate::db::schema_version;
use crate::error::AppError;

pub use backup::{backup, backups_in, restore, rotate, BackupDone, Restored};
pub use doctor::{doctor, doctor_book, repair, repair_book, verify_file, Checkup};
pub use startup::{newer_book, precheck, preflight, StartProblem};

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

/// The lock file beside a book (`ar.db.lock`): created once, never removed.
fn lock_path(db: &Path) -> PathBuf {
    PathBuf::from(format!("{}.lock", resolved(db).display()))
}

/// The file `path` names, symlinks followed: every path to one book takes one lock, and a
/// restore replaces the book, not a link to it. A path not there yet is taken as it is.
pub fn resolved(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Marks the book at `path` as in use by this process for as long as the answer lives: an
/// advisory lock (`flock`) on `{path}.lock`, taken before anything opens the book, so a
/// second `serve`, a `restore` and a `doctor --repair` see it and refuse, while `backup`,
/// `doctor` and the other commands go on.
pub fn serving_lock(path: &Path) -> Result<std::fs::File, AppError> {
    let lock = lock_path(path);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock)
        .map_err(|err| AppError::Internal(format!("cannot open {}: {err}", lock.display())))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(AppError::conflict(format!(
            "{} is in use by another `arvalox serve` (or restore, repair or seed-demo): stop it first",
            path.display()
        ))),
        Err(std::fs::TryLockError::Error(err)) => Err(AppError::Internal(format!(
            "cannot lock {}: {err}",
            lock.display()
        ))),
    }
}

/// Whether a server (or a restore or a repair) holds the book at `path` now.
pub fn in_use(path: &Path) -> bool {
    std::fs::File::open(lock_path(path)).is_ok_and(|file| match file.try_lock() {
        Ok(()) => false,
        Err(_) => true,
    })
}
