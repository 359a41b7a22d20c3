//! What `serve` checks before it opens (and so changes) a file, each problem with an exit
//! code of its own.

use std::path::{Path, PathBuf};

use super::{read_only, serving_lock};
use crate::db::schema_version;
use crate::error::AppError;

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
pub fn preflight(path: &Path) -> Result<std::fs::File, (StartProblem, String)> {
    place_problems(path)?;
    // Held from here on, by `serve` for its life: nothing else opens the book meanwhile.
    let lock = serving_lock(path).map_err(|err| (StartProblem::AlreadyServed, err.to_string()))?;
    file_problems(path)?;
    Ok(lock)
}

/// [`preflight`] without the lock, for the commands that write a book a server may have
/// open (`migrate`, `keys`): the same refusals, with the same lines and exit codes, before
/// SQLite or refinery meet the file.
pub fn precheck(path: &Path) -> Result<(), (StartProblem, String)> {
    place_problems(path)?;
    file_problems(path)
}

/// The directory exists and can be written, and the path is not a directory.
fn place_problems(path: &Path) -> Result<(), (StartProblem, String)> {
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
    if path.is_dir() {
        return Err((
            StartProblem::NotADatabase,
            format!("{shown}: is a directory: give --db the book's file"),
        ));
    }
    Ok(())
}

/// A file there (none is fine: it becomes a new book) can be written, is a whole SQLite
/// database, and no newer Arvalox has migrated it.
fn file_problems(path: &Path) -> Result<(), (StartProblem, String)> {
    let shown = path.display();
    if !path.exists() {
        return Ok(());
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
    let version = newest_migration(path).map_err(|why| {
        (
            StartProblem::NotADatabase,
            format!("{shown}: {why}: give --db the book's file"),
        )
    })?;
    match version > schema_version() {
        true => Err((StartProblem::NewerBook, newer_line(path, version))),
        false => Ok(()),
    }
}

/// The line that refuses a book a newer Arvalox has migrated, if `path` is one; a file
/// that cannot be read as a book is none (the caller's own checks say what it is).
pub fn newer_book(path: &Path) -> Option<String> {
    let version = newest_migration(path).ok()?;
    (version > schema_version()).then(|| newer_line(path, version))
}

pub(super) fn newer_line(path: &Path, version: i64) -> String {
    format!(
        "{}: written by a newer Arvalox (migrations up to {version}; this binary knows {}): run that version, or restore a backup made for this one",
        path.display(),
        schema_version()
    )
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

pub(super) fn check_file_version(path: &Path) -> Result<i64, AppError> {
    let conn = read_only(path)?;
    let has: i64 = conn.query_row(
        "SELECT COUNT(*) FROM sqlite_schema WHERE name = 'refinery_schema_history'",
        (),
        |row| row.get(0),
    )?;
    if has == 0 {
        return Ok(0);
    }
    Ok(conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM refinery_schema_history",
        (),
        |row| row.get(0),
    )?)
}
