//! A backup: one read snapshot copied beside its target, checked, then moved into place;
//! the scheduled ones' rotation; a restore, checked before it replaces anything.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use super::{file_faults, read_only, serving_lock};
use crate::api::journal::local::verify_on;
use crate::db::backup::{check_file, copy, FileCheck};
use crate::db::conn::Conn;
use crate::db::schema_version;
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
    refuse_target(from, out, force)?;
    let name = out.file_name().and_then(|n| n.to_str()).unwrap_or("backup");
    // What an interrupted backup into this name, or a server's interrupted backup here,
    // left: a hidden copy as large as the book.
    let folder = super::leftovers::folder_of(out);
    super::leftovers::sweep(folder, ".partial-", |target| {
        target == name || backup_key(target).is_some()
    });
    let partial = out.with_file_name(format!(".{name}.partial-{}", std::process::id()));
    remove_partial(&partial);
    let _writing = super::leftovers::claim(&partial)?;
    let checked = copy(from, &partial).and_then(|()| check_copy(&partial, today));
    let organizations =
        match checked.and_then(|orgs| put_in_place(&partial, out, force).map(|()| orgs)) {
            Ok(organizations) => organizations,
            Err(err) => {
                remove_partial(&partial);
                return Err(err);
            }
        };
    let bytes = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0);
    Ok(BackupDone {
        file: out.to_path_buf(),
        bytes,
        schema_version: schema_version(),
        organizations,
    })
}

/// Removes a copy that did not make it, with the rollback journal SQLite keeps beside it
/// while writing (left at every failed try on a full disk otherwise).
fn remove_partial(partial: &Path) {
    let _ = std::fs::remove_file(partial);
    for suffix in ["-journal", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", partial.display()));
    }
}

/// Why `out` may not receive a backup of `from`: it is the book itself, it exists (without
/// `force`), a server holds it, or a WAL or shared-memory file beside it would be applied
/// to the new file (and it read as malformed).
fn refuse_target(from: &Path, out: &Path, force: bool) -> Result<(), AppError> {
    let refused = |why: String| Err(AppError::conflict(format!("{}: {why}", out.display())));
    if out.exists() && same_file(from, out) {
        return refused("is the book itself: give the backup another name".into());
    }
    if out.exists() && !force {
        return refused("exists: give another file, or --force to replace it".into());
    }
    if super::in_use(out) {
        return refused("is a book in use by a server: give the backup another name".into());
    }
    for suffix in ["-wal", "-shm"] {
        let beside = PathBuf::from(format!("{}{suffix}", out.display()));
        if beside.exists() {
            return refused(format!(
                "{} lies beside it (the file is open, or was not closed cleanly): give the backup another name",
                beside.display()
            ));
        }
    }
    Ok(())
}

/// Whether two paths name one file (the same device and inode, through any links).
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => (a.dev(), a.ino()) == (b.dev(), b.ino()),
        _ => false,
    }
}

/// Moves the checked copy into place, durably: without `force` by a hard link, which fails
/// rather than replace a file made meanwhile; with it by a rename.
fn put_in_place(partial: &Path, out: &Path, force: bool) -> Result<(), AppError> {
    let failed = |err: std::io::Error| {
        AppError::Internal(format!("moving the backup into {}: {err}", out.display()))
    };
    std::fs::File::open(partial)
        .and_then(|f| f.sync_all())
        .map_err(failed)?;
    match force {
        true => std::fs::rename(partial, out).map_err(failed)?,
        false => {
            std::fs::hard_link(partial, out).map_err(|err| match err.kind() {
                std::io::ErrorKind::AlreadyExists => AppError::conflict(format!(
                    "{} exists: give another file, or --force to replace it",
                    out.display()
                )),
                _ => failed(err),
            })?;
            std::fs::remove_file(partial).map_err(failed)?;
        }
    }
    sync_dir(out);
    Ok(())
}

/// Makes a rename in `path`'s directory durable (best effort: not every file system can).
fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
    }
}

/// The copy's checks, SQLite's and the migrations first (a file that is not this
/// binary's book says so, not what a query of it met); the organizations' journal lines
/// when it passes.
fn check_copy(path: &Path, today: NaiveDate) -> Result<Vec<String>, AppError> {
    let file = check_file(path)?;
    let mut faults = file_faults(&file);
    if faults.is_empty() {
        let conn = read_only(path)?;
        let found = verify_on(&Conn::sqlite(&conn), &[], today)?;
        faults.extend(found.faults);
        if faults.is_empty() {
            return Ok(found.organizations);
        }
    }
    Err(AppError::Internal(format!(
        "the copy failed its check, so it was not kept: {}",
        faults.join("; ")
    )))
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
    let to = &super::resolved(to);
    if to.is_dir() {
        return Err(AppError::conflict(format!(
            "{} is a directory, not a book: give the book's file (such as {}/ar.db)",
            to.display(),
            to.display()
        )));
    }
    // Held across the swap: no server starts on the book while it is replaced.
    let _held = serving_lock(to)?;
    let name = to.file_name().and_then(|n| n.to_str()).unwrap_or("ar.db");
    let folder = super::leftovers::folder_of(to);
    super::leftovers::sweep(folder, ".restoring-", |target| target == name);
    let incoming = to.with_file_name(format!(".{name}.restoring-{}", std::process::id()));
    remove_partial(&incoming);
    // Released when the restore ends: no connection of this process has the book open
    // then, so no SQLite lock of ours goes with it.
    let _writing = super::leftovers::claim(&incoming)?;
    // What is checked is the copy that goes in, not the file it came from.
    // The book is its owner's alone, whatever mode the backup was kept with.
    let private = |path: &Path| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
    };
    let copied = std::fs::copy(from, &incoming)
        .and_then(|_| private(&incoming))
        .and_then(|()| std::fs::File::open(&incoming)?.sync_all())
        .map_err(|err| AppError::Internal(format!("copying {}: {err}", from.display())))
        .and_then(|()| check_copy(&incoming, today));
    let organizations = match copied {
        Ok(organizations) => organizations,
        Err(err) => {
            remove_partial(&incoming);
            return Err(err);
        }
    };
    let kept_aside = set_aside(to, stamp)?;
    std::fs::rename(&incoming, to).map_err(|err| {
        AppError::Internal(format!(
            "moving the backup into {}: {err} (the file it replaced is at {:?}; the checked copy at {})",
            to.display(),
            kept_aside,
            incoming.display()
        ))
    })?;
    sync_dir(to);
    // The check read the copy only: what SQLite kept beside it (a WAL-mode backup's empty
    // `-wal` and `-shm`) belongs to no file now.
    remove_partial(&incoming);
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

/// Renames `path` and its WAL (which holds committed pages until a checkpoint) to
/// `{path}.replaced-{stamp}`, each that exists: a WAL left without its file would otherwise
/// be applied to the restored one. The shared-memory index is only a cache and is removed.
/// Answers where the file went, if there was one.
fn set_aside(path: &Path, stamp: &str) -> Result<Option<PathBuf>, AppError> {
    let aside = PathBuf::from(format!(
        "{}.replaced-{}",
        path.display(),
        stamp.replace([':', '-'], "")
    ));
    let wal = |p: &Path| PathBuf::from(format!("{}-wal", p.display()));
    let failed = |err: std::io::Error| {
        AppError::Internal(format!("setting {} aside: {err}", path.display()))
    };
    let had_file = path.exists();
    if had_file {
        std::fs::rename(path, &aside).map_err(failed)?;
    }
    if wal(path).exists() {
        std::fs::rename(wal(path), wal(&aside)).map_err(failed)?;
    }
    let _ = std::fs::remove_file(format!("{}-shm", path.display()));
    Ok(had_file.then_some(aside))
}

/// The backups the server names in `dir`, oldest first: exactly `arvalox-{stamp}.db` or
/// `arvalox-{stamp}-{n}.db` (the stamp as `20261201T031500.123Z`), in the order of their
/// names' times, never of the files' modification times.
pub fn backups_in(dir: &Path) -> Result<Vec<PathBuf>, AppError> {
    let listing = std::fs::read_dir(dir)
        .map_err(|err| AppError::Internal(format!("reading {}: {err}", dir.display())))?;
    let mut found: Vec<((String, u32), PathBuf)> = listing
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let key = backup_key(entry.file_name().to_str()?)?;
            Some((key, entry.path()))
        })
        .collect();
    found.sort();
    Ok(found.into_iter().map(|(_, path)| path).collect())
}

/// `arvalox-20261201T031500.123Z-2.db` → ("20261201T031500.123Z", 2); `None` for any other
/// name.
fn backup_key(name: &str) -> Option<(String, u32)> {
    let middle = name.strip_prefix("arvalox-")?.strip_suffix(".db")?;
    let (stamp, n) = match middle.split_once('-') {
        Some((stamp, n)) => (stamp, n.parse::<u32>().ok().filter(|n| *n >= 2)?),
        None => (middle, 1),
    };
    let shape = stamp.len() == 20
        && stamp.char_indices().all(|(i, c)| match i {
            8 => c == 'T',
            15 => c == '.',
            19 => c == 'Z',
            _ => c.is_ascii_digit(),
        });
    shape.then(|| (stamp.to_string(), n))
}

/// Deletes all but the newest `keep` (at least one) of the server's backups in `dir`,
/// never the served book `book` whatever its name; answers what went.
pub fn rotate(dir: &Path, keep: usize, book: &Path) -> Result<Vec<PathBuf>, AppError> {
    let all: Vec<PathBuf> = backups_in(dir)?
        .into_iter()
        .filter(|path| !same_file(path, book))
        .collect();
    let keep = keep.max(1);
    let surplus = all.len().saturating_sub(keep);
    let gone: Vec<PathBuf> = all.into_iter().take(surplus).collect();
    for path in &gone {
        std::fs::remove_file(path)
            .map_err(|err| AppError::Internal(format!("removing {}: {err}", path.display())))?;
    }
    Ok(gone)
}

#[cfg(test)]
mod tests {
    use super::backup_key;

    #[test]
    fn only_the_servers_own_names_are_backups() {
        let key = |n: &str| backup_key(n);
        assert_eq!(
            key("arvalox-20261201T031500.123Z.db"),
            Some(("20261201T031500.123Z".into(), 1))
        );
        assert_eq!(
            key("arvalox-20261201T031500.123Z-12.db"),
            Some(("20261201T031500.123Z".into(), 12))
        );
        for other in [
            "arvalox-live.db",
            "arvalox-20261201T031500.123Z-1.db",
            "arvalox-20261201T031500.123Z-x.db",
            "arvalox-20261201X031500.123Z.db",
            ".arvalox-20261201T031500.123Z.db.partial-7",
            "arvalox-20261201T031500.123Z.db-wal",
        ] {
            assert_eq!(key(other), None, "{other}");
        }
    }
}
