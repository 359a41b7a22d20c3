//! Copies of a book and SQLite's own checks of a file: an online copy through `VACUUM INTO`
//! (one read snapshot, so the server's writes go on meanwhile), and what `doctor` and a
//! backup's verification read first: `integrity_check`, `foreign_key_check` and the
//! migrations the file has.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension};

use crate::error::AppError;

/// Creates the empty file a new book or backup starts as, readable and writable by its
/// owner only (0600, as exports are): it holds every customer, key hash and webhook secret.
/// SQLite fills an empty file as a new database and gives its WAL the file's mode; left to
/// itself it would create them 0644. An empty file already there is made private the same
/// way; any other is left as it is.
pub(crate) fn create_private(path: &Path) -> Result<(), AppError> {
    use std::os::unix::fs::OpenOptionsExt;
    let created = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path);
    match created {
        Ok(_) => Ok(()),
        // An empty file is a book still to be made: it is made the owner's alone too.
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => match path.metadata() {
            Ok(file) if file.is_file() && file.len() == 0 => {
                use std::os::unix::fs::PermissionsExt;
                let private = std::fs::Permissions::from_mode(0o600);
                std::fs::set_permissions(path, private).map_err(|err| {
                    AppError::Internal(format!("cannot make {} private: {err}", path.display()))
                })
            }
            _ => Ok(()),
        },
        Err(err) => Err(AppError::Internal(format!(
            "cannot create {}: {err}",
            path.display()
        ))),
    }
}

/// Writes a consistent copy of the book at `from` into `out`, which must not exist: the
/// book as one read snapshot saw it, compacted.
pub fn copy(from: &Path, out: &Path) -> Result<(), AppError> {
    let conn = read_only(from)?;
    create_private(out)?;
    let target = out
        .to_str()
        .ok_or_else(|| AppError::Internal(format!("{} is not a UTF-8 path", out.display())))?;
    conn.execute("VACUUM INTO ?1", [target]).map_err(|err| {
        if err.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull) {
            tracing::error!(error = %err, file = %out.display(), "backup refused: the disk is full");
            return AppError::InsufficientStorage;
        }
        AppError::Internal(format!(
            "copying {} into {}: {err}",
            from.display(),
            out.display()
        ))
    })?;
    flush_wal(&conn)
}

/// Flushes the WAL of `conn`'s book to disk. A serving writer answers a write only after
/// its own flush (`db/writer/wal_flush.rs`), but `VACUUM INTO` reads like any reader and
/// can copy a batch committed just before that flush; after a power cut the copy would
/// hold a write the book lost. A flush covers every frame written before it starts,
/// whichever process wrote it, so once this returns, all the copy saw is on disk.
fn flush_wal(conn: &Connection) -> Result<(), AppError> {
    let Some(book) = conn.path().filter(|path| !path.is_empty()) else {
        return Ok(());
    };
    let wal = format!("{book}-wal");
    let opened = std::fs::OpenOptions::new()
        .write(true)
        .open(&wal)
        // A book the backup may only read: Linux flushes through a read-only handle too.
        .or_else(|_| std::fs::File::open(&wal));
    let flushed = match opened {
        Ok(file) => file.sync_data(),
        // No WAL: everything is in the database file, which the last checkpoint synced.
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(err),
    };
    flushed.map_err(|err| AppError::Internal(format!("flushing {wal}: {err}")))
}

/// Copies the WAL back into the book at `path` and empties it: for a server that has
/// stopped, so the book is one whole file. Waits up to 10 s for connections still closing.
pub fn checkpoint(path: &Path) -> Result<(), AppError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    let (busy, _, _): (i64, i64, i64) =
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })?;
    match busy {
        0 => Ok(()),
        _ => Err(AppError::Internal("a connection still held the WAL".into())),
    }
}

/// What SQLite says of a file, and which migrations it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileCheck {
    /// `integrity_check`'s findings (empty: "ok"), at most 20.
    pub integrity: Vec<String>,
    /// Rows whose foreign keys point nowhere.
    pub broken_keys: i64,
    /// The file's last migration (0: none), against this binary's [`super::schema_version`].
    pub schema_version: i64,
}

impl FileCheck {
    pub fn is_clean(&self) -> bool {
        self.integrity.is_empty() && self.broken_keys == 0
    }
}

/// SQLite's checks of the file at `path`, opened read-only: nothing is written.
pub fn check_file(path: &Path) -> Result<FileCheck, AppError> {
    let conn = read_only(path)?;
    let mut integrity: Vec<String> = conn
        .prepare("PRAGMA integrity_check(20)")?
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    if integrity == ["ok"] {
        integrity.clear();
    }
    let broken_keys =
        conn.query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |row| {
            row.get(0)
        })?;
    let has_history: Option<i64> = conn
        .query_row(
            "SELECT 1 FROM sqlite_schema WHERE name = 'refinery_schema_history'",
            [],
            |row| row.get(0),
        )
        .optional()?;
    let schema_version = match has_history {
        Some(_) => conn.query_row(
            "SELECT COALESCE(MAX(version), 0) FROM refinery_schema_history",
            [],
            |row| row.get(0),
        )?,
        None => 0,
    };
    Ok(FileCheck {
        integrity,
        broken_keys,
        schema_version,
    })
}

/// Reads SQLite's 100-byte file header: `None` when it is not one (the magic string);
/// else the size in bytes the header gives the file (page size × page count), when the
/// header keeps it (its "version valid for" equals its change counter).
pub fn size_in_header(header: &[u8; 100]) -> Option<Option<u64>> {
    if header.get(..16) != Some(b"SQLite format 3\0".as_slice()) {
        return None;
    }
    let word = |at: usize| -> u32 {
        header
            .get(at..at + 4)
            .and_then(|bytes| bytes.try_into().ok())
            .map_or(0, u32::from_be_bytes)
    };
    let page_size = match header
        .get(16..18)
        .and_then(|b| b.try_into().ok())
        .map(u16::from_be_bytes)
    {
        Some(1) => 65_536,
        Some(size) => u64::from(size),
        None => 0,
    };
    let kept = word(92) == word(24);
    Some(kept.then(|| page_size * u64::from(word(28))))
}

fn read_only(path: &Path) -> Result<Connection, AppError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|err| AppError::Internal(format!("cannot open {}: {err}", path.display())))?;
    conn.busy_timeout(Duration::from_secs(30))?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::size_in_header;

    #[test]
    fn the_header_gives_the_size_when_it_keeps_it() {
        let mut header = [0u8; 100];
        assert_eq!(size_in_header(&header), None);
        header[..16].copy_from_slice(b"SQLite format 3\0");
        header[16..18].copy_from_slice(&4096u16.to_be_bytes());
        header[28..32].copy_from_slice(&10u32.to_be_bytes());
        header[24..28].copy_from_slice(&7u32.to_be_bytes());
        header[92..96].copy_from_slice(&7u32.to_be_bytes());
        assert_eq!(size_in_header(&header), Some(Some(40_960)));
        header[92..96].copy_from_slice(&6u32.to_be_bytes());
        assert_eq!(
            size_in_header(&header),
            Some(None),
            "a stale count is not trusted"
        );
        header[16..18].copy_from_slice(&1u16.to_be_bytes());
        header[92..96].copy_from_slice(&7u32.to_be_bytes());
        assert_eq!(
            size_in_header(&header),
            Some(Some(655_360)),
            "1 means 65536"
        );
    }
}
