//! Copying the WAL back into the database (a checkpoint) off the writer's path.
//!
//! SQLite's own checkpoint runs inside a COMMIT, on the writer: with a payment writing about
//! ten pages, a checkpoint every 4,096 WAL pages stalled the writer for its copy and its two
//! flushes about every 400 payments, a fifth of a durable payment's time (BENCHMARKS.md,
//! issue 16). The writer now only notes the WAL's length after each commit and, once it is
//! due, wakes a thread with a connection of its own that runs the checkpoint while the writer
//! goes on. A PASSIVE checkpoint never waits for the writer; SQLite starts the WAL over at
//! the first write after a checkpoint that copied every frame. Should the writer outrun the
//! checkpoints (frames are appended while a checkpoint copies), the writer checkpoints
//! itself once the WAL holds [`WRITER_CHECKPOINT_PAGES`], so the WAL stays bounded.

use std::cell::Cell;
use std::sync::mpsc;

use rusqlite::Connection;

use crate::db::Synchronous;
use crate::error::AppError;

/// WAL pages after which the checkpointing thread copies the WAL back. SQLite's default is
/// 1,000, which stalled the writer every ~100 payments when it ran inside COMMIT.
const CHECKPOINT_PAGES: i32 = 4096;

/// WAL pages (64 MiB at 4 KiB a page) after which the writer stops and checkpoints itself:
/// the checkpoints in the background have fallen behind.
const WRITER_CHECKPOINT_PAGES: i32 = 4 * CHECKPOINT_PAGES;

thread_local! {
    /// Pages in the WAL after the writer's last commit (set by `note_wal_pages`).
    static WAL_PAGES: Cell<i32> = const { Cell::new(0) };
}

/// The writer connection's WAL hook; it replaces SQLite's automatic checkpoint.
fn note_wal_pages(_: &rusqlite::hooks::Wal, pages: std::ffi::c_int) -> rusqlite::Result<()> {
    WAL_PAGES.with(|count| count.set(pages));
    Ok(())
}

fn wal_pages() -> i32 {
    WAL_PAGES.with(Cell::get)
}

/// True once the WAL is long enough to be copied back: the writer then ends the point
/// readers' idle snapshots, since SQLite starts the WAL over only when no reader reads it.
pub(super) fn due() -> bool {
    wal_pages() >= CHECKPOINT_PAGES
}

/// The writer's side: wakes the checkpointing thread, or checkpoints itself.
pub(super) struct Checkpoints {
    /// Holds at most one wake-up: a checkpoint asked for while one runs is the next one.
    wake: Option<mpsc::SyncSender<()>>,
}

impl Checkpoints {
    /// Takes the checkpoints over from SQLite for the writer's `conn`: a thread with a
    /// connection of its own to the same file runs them, or the writer itself when the
    /// book has no file (in memory).
    pub(super) fn take_over(
        conn: &Connection,
        synchronous: Synchronous,
    ) -> Result<Checkpoints, AppError> {
        conn.wal_hook(Some(note_wal_pages));
        let Some(book) = conn.path().filter(|path| !path.is_empty()) else {
            return Ok(Checkpoints { wake: None });
        };
        let book = std::path::PathBuf::from(book);
        let (wake, woken) = mpsc::sync_channel::<()>(1);
        std::thread::Builder::new()
            .name("arvalox-checkpoint".into())
            .spawn(move || {
                while woken.recv().is_ok() {
                    checkpoint_apart(&book, synchronous);
                }
            })
            .map_err(|err| AppError::Internal(format!("cannot start the checkpointer: {err}")))?;
        Ok(Checkpoints { wake: Some(wake) })
    }

    /// After a commit: asks for a checkpoint once the WAL is due one. It runs after the
    /// point readers' idle snapshots have ended (`after_commit`): a checkpoint never
    /// copies a frame that an open snapshot may still read past.
    pub(super) fn after_commit(&self, writer: &Connection) {
        let pages = wal_pages();
        if pages < CHECKPOINT_PAGES {
            return;
        }
        match &self.wake {
            Some(wake) if pages < WRITER_CHECKPOINT_PAGES => {
                // Full: a wake-up is already waiting, which will see this commit's frames.
                let _ = wake.try_send(());
            }
            _ => checkpoint(writer),
        }
    }
}

/// A checkpoint on a connection opened for it (a few hundred microseconds, every ~400
/// payments): held open, it would outlive the server's other connections at a stop, and
/// the last connection to close is the one that removes the WAL (`serving.rs`).
fn checkpoint_apart(book: &std::path::Path, synchronous: Synchronous) {
    let opened = Connection::open(book)
        .and_then(|conn| crate::db::sqlite::configure(&conn, synchronous).map(|()| conn));
    match opened {
        Ok(conn) => checkpoint(&conn),
        Err(err) => tracing::warn!(error = %err, "cannot open the book to checkpoint it"),
    }
}

/// Copies what it can of the WAL back; one that a reader still holds back is tried again
/// after a later commit.
fn checkpoint(conn: &Connection) {
    if let Err(err) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
        tracing::warn!(error = %err, "checkpoint failed");
    }
}
