//! Connections for reads by primary key, run inline on the request's thread.
//!
//! Starting and ending a read transaction is, for a point read, a third of its SQLite time:
//! a lock on the WAL index and a file lock (`fcntl`) each way. So a connection keeps its
//! read transaction (its snapshot) open between reads and lends it to the next read, as
//! long as nothing has been committed since:
//! - every commit through this process ([`PointReaders::after_commit`], called by the
//!   writer before it answers a single write of the batch) bumps a counter, and a read
//!   that sees the counter moved starts a fresh snapshot. So a write that was answered is
//!   in every read that starts after the answer: reads never go back in time;
//! - a commit by another process (another server on the same file, the sqlite3 shell) is
//!   not counted, so a snapshot is also renewed once it is [`MAX_SNAPSHOT_AGE`] old;
//! - an idle connection does not hold its snapshot past the next commit or
//!   [`MAX_SNAPSHOT_AGE`], so it never stops the WAL from being checkpointed for long.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use rusqlite::Connection;

use super::conn::Conn;
use super::sqlite::configure;
use super::Synchronous;
use crate::error::AppError;

/// How long a kept snapshot may serve reads when this process commits nothing: the
/// longest a commit by another process can go unseen.
pub const MAX_SNAPSHOT_AGE: Duration = Duration::from_millis(100);

/// Idle connections kept beyond this are closed; more would only hold page cache.
const MAX_IDLE: usize = 8;

pub(super) struct PointReaders {
    path: PathBuf,
    synchronous: Synchronous,
    idle: Mutex<Vec<PointReader>>,
    /// Commits made through this process so far.
    commits: AtomicU64,
}

/// A connection and the read transaction it keeps open, if any.
struct PointReader {
    conn: Connection,
    snapshot: Option<Snapshot>,
}

#[derive(Clone, Copy)]
struct Snapshot {
    /// [`PointReaders::commits`] when it began: every commit counted so far is in it.
    commits: u64,
    began: Instant,
}

impl PointReaders {
    pub(super) fn new(path: PathBuf, synchronous: Synchronous) -> Arc<PointReaders> {
        let readers = Arc::new(PointReaders {
            path,
            synchronous,
            idle: Mutex::new(Vec::new()),
            commits: AtomicU64::new(0),
        });
        spawn_sweeper(Arc::downgrade(&readers));
        readers
    }

    /// Runs `f` in a snapshot that holds every commit answered before this call.
    pub(super) fn read<T>(
        &self,
        f: impl FnOnce(&Conn) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        let mut reader = self.take()?;
        // Read the counter before the snapshot begins: the snapshot then holds at least
        // every commit counted, and a commit that lands in between only renews it early.
        let commits = self.commits.load(Ordering::Acquire);
        let current = reader.snapshot.filter(|snapshot| {
            snapshot.commits == commits && snapshot.began.elapsed() < MAX_SNAPSHOT_AGE
        });
        if current.is_none() {
            reader.end_snapshot()?;
            reader.conn.prepare_cached("BEGIN")?.execute([])?;
            reader.snapshot = Some(Snapshot {
                commits,
                began: Instant::now(),
            });
        }
        let value = f(&Conn::sqlite(&reader.conn));
        // Whatever failed, the next read starts clean; a connection that cannot is closed.
        if value.is_err() && reader.end_snapshot().is_err() {
            return value;
        }
        self.give_back(reader);
        value
    }

    /// Counts a commit and ends the snapshots of idle connections, which it made stale.
    /// Called before the commit's writes are answered.
    pub(super) fn after_commit(&self) {
        self.commits.fetch_add(1, Ordering::AcqRel);
        self.release_idle();
    }

    /// Ends every idle connection's snapshot. The writer also calls it before a write
    /// that should start the WAL over: SQLite starts it over only if no reader still
    /// reads from it.
    pub(super) fn release_idle(&self) {
        self.end_idle_snapshots(|_| true);
    }

    fn end_idle_snapshots(&self, stale: impl Fn(&Snapshot) -> bool) {
        let mut idle = self.idle_list();
        idle.retain_mut(|reader| match reader.snapshot {
            Some(snapshot) if stale(&snapshot) => reader.end_snapshot().is_ok(),
            _ => true,
        });
    }

    fn idle_list(&self) -> MutexGuard<'_, Vec<PointReader>> {
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn take(&self) -> Result<PointReader, AppError> {
        if let Some(reader) = self.idle_list().pop() {
            return Ok(reader);
        }
        let conn = Connection::open(&self.path)?;
        configure(&conn, self.synchronous)?;
        Ok(PointReader {
            conn,
            snapshot: None,
        })
    }

    fn give_back(&self, mut reader: PointReader) {
        if reader.conn.is_autocommit() {
            // SQLite ended the transaction itself (some errors roll it back).
            reader.snapshot = None;
        } else if reader.snapshot.is_none() {
            // A transaction it does not know of: closing it is the only safe way out.
            return;
        }
        let mut idle = self.idle_list();
        if idle.len() < MAX_IDLE {
            idle.push(reader);
        }
    }
}

impl PointReader {
    fn end_snapshot(&mut self) -> Result<(), AppError> {
        if self.snapshot.take().is_some() || !self.conn.is_autocommit() {
            self.conn.prepare_cached("COMMIT")?.execute([])?;
        }
        Ok(())
    }
}

/// Ends idle snapshots older than [`MAX_SNAPSHOT_AGE`] when this process is not writing,
/// so they do not hold back another process's checkpoints. Stops with the readers.
fn spawn_sweeper(readers: Weak<PointReaders>) {
    let sweep = move || {
        while let Some(readers) = readers.upgrade() {
            readers.end_idle_snapshots(|snapshot| snapshot.began.elapsed() >= MAX_SNAPSHOT_AGE);
            drop(readers);
            std::thread::sleep(MAX_SNAPSHOT_AGE);
        }
    };
    if let Err(err) = std::thread::Builder::new()
        .name("arvalox-snapshots".into())
        .spawn(sweep)
    {
        tracing::warn!(error = %err, "cannot start the snapshot sweeper");
    }
}
