//! Durable answers without the writer waiting on the disk.
//!
//! With `synchronous=full` the writer commits at SQLite's `synchronous=NORMAL`: a commit
//! writes its WAL frames but does not flush them. The writer hands the committed batch to
//! this thread and starts the next batch at once; this thread flushes the WAL
//! (`fdatasync`) and only then answers every batch committed before the flush began. So
//! every answer is still sent only once its write is on disk, while the writer's CPU work
//! on the next batch overlaps the flush of the last one, and one flush can cover several
//! batches (README.md, "Performance"; BENCHMARKS.md, issue 16).
//!
//! A flush covers every frame written before it starts, whoever wrote it: the WAL only
//! grows between checkpoints, and SQLite flushes it (at `NORMAL` too) before a checkpoint
//! copies frames into the database and whenever it starts the WAL over. A read that
//! starts between a commit and its flush sees the commit, as InnoDB's readers do; no
//! writer has been answered for it yet, and a reader that passes rows on as a promise
//! waits for the flush first (`durable_mark`).

use std::fs::File;
use std::path::PathBuf;
use std::sync::mpsc;

use super::durable_mark::Flushed;
use super::Job;
use crate::error::AppError;

/// A batch the writer has committed (or rolled back, with the reason), not yet answered.
pub(super) struct Committed {
    pub(super) jobs: Vec<Box<dyn Job>>,
    pub(super) error: Option<AppError>,
    /// The batch's number in the writer's `DurableMark` (0 when it never reached COMMIT).
    pub(super) sequence: u64,
}

impl Committed {
    /// Answers with no flush to wait for (durability off, or SQLite flushed in COMMIT).
    pub(super) fn answer_now(self) {
        self.answer(None);
    }

    fn answer(self, flush_error: Option<&AppError>) {
        // A batch that failed keeps its own error; the jobs of one that committed their own.
        let error = self.error.as_ref().or(flush_error);
        for job in self.jobs {
            job.answer(error);
        }
    }
}

/// The flushing thread's inbox.
pub(super) struct WalFlush {
    batches: mpsc::Sender<Committed>,
}

impl WalFlush {
    /// Starts the thread that flushes the WAL at `wal` (the book's `-wal` file) and
    /// moves the writer's `DurableMark` past each batch it has put on disk; waiters on the
    /// mark get an error once the thread has ended and dropped `flushed`.
    pub(super) fn spawn(wal: PathBuf, flushed: Flushed) -> Result<WalFlush, AppError> {
        let (batches, inbox) = mpsc::channel::<Committed>();
        std::thread::Builder::new()
            .name("arvalox-wal-flush".into())
            .spawn(move || run(&wal, &inbox, &flushed))
            .map_err(|err| AppError::Internal(format!("cannot start the WAL flusher: {err}")))?;
        Ok(WalFlush { batches })
    }

    /// Answers `batch` once the WAL holding it is on disk.
    pub(super) fn answer_when_flushed(&self, batch: Committed) {
        if let Err(mpsc::SendError(batch)) = self.batches.send(batch) {
            // The thread is gone (it ended in a panic): never answer unflushed.
            batch.answer(Some(&not_flushed()));
        }
    }
}

fn not_flushed() -> AppError {
    AppError::Internal("the write could not be flushed to disk; it may not have been kept".into())
}

/// Ends when the writer (the one sender) is gone, after answering what it sent.
fn run(wal: &std::path::Path, inbox: &mpsc::Receiver<Committed>, mark: &Flushed) {
    let mut file: Option<File> = None;
    while let Ok(first) = inbox.recv() {
        // Everything committed so far shares this one flush.
        let ready: Vec<Committed> = std::iter::once(first).chain(inbox.try_iter()).collect();
        let started = std::time::Instant::now();
        let flushed = flush(wal, &mut file);
        crate::metrics::wal_flushed(started.elapsed());
        if let Err(err) = flushed {
            // The batches are committed and visible, but may not be on disk, and after a
            // failed write-back the kernel may drop the pages, so a later flush through a
            // fresh handle could succeed over a hole. Stop, as PostgreSQL does on a failed
            // fsync: none of these writes was answered, and SQLite's recovery at the next
            // start keeps exactly what reached the disk.
            tracing::error!(error = %err, wal = %wal.display(), "flushing the WAL failed; stopping");
            std::process::abort();
        }
        mark.through(ready.iter().map(|batch| batch.sequence).max().unwrap_or(0));
        for batch in ready {
            batch.answer(None);
        }
    }
}

/// `fdatasync` of the WAL. Any handle to the file flushes its data, so this thread keeps
/// its own; the WAL is the same file for as long as the writer's connection is open.
fn flush(wal: &std::path::Path, file: &mut Option<File>) -> std::io::Result<()> {
    let handle = match file {
        Some(handle) => handle,
        // Writable, though only synced: some systems refuse to flush a read-only handle.
        None => file.insert(std::fs::OpenOptions::new().write(true).open(wal)?),
    };
    handle.sync_data()
}
