//! The single writer: one thread owns the write connection and commits queued writes
//! together (group commit), so N concurrent durable writes cost one fsync, not N.
//!
//! Each job runs in a savepoint of its own, in arrival order, so its checks see every
//! earlier job's writes; a job that fails or panics is rolled back alone. Every job is
//! answered only after the batch holding it has committed.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::ops::Deref;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Arc};

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::conn::Conn;
use super::point_reads::PointReaders;
use crate::error::AppError;
pub(crate) use durable_mark::DurableMark;
use wal_flush::{Committed, WalFlush};

mod durable_mark;
mod wal_flush;

/// Most jobs committed together; bounds the latency one batch adds to its first job.
const MAX_BATCH: usize = 512;

/// A connection inside an open write transaction. Only the storage layer makes one, so a
/// function taking `&WriteTx` cannot be called outside a transaction.
pub struct WriteTx<'a> {
    conn: Conn<'a>,
    /// Invoices whose settled sums a write moved, for the journal's side events; taken
    /// by the write that moved them (`take_moved_invoices`).
    moved_invoices: RefCell<BTreeSet<i64>>,
}

impl<'a> WriteTx<'a> {
    pub(super) fn new(conn: Conn<'a>) -> Self {
        WriteTx {
            conn,
            moved_invoices: RefCell::default(),
        }
    }

    /// Notes that invoice `id`'s settled sums (and so its status) moved.
    pub(crate) fn note_invoice_moved(&self, id: i64) {
        self.moved_invoices.borrow_mut().insert(id);
    }

    /// The invoices moved since the last call, oldest id first; a job starts by taking
    /// (and dropping) what an earlier job that failed left.
    pub(crate) fn take_moved_invoices(&self) -> Vec<i64> {
        std::mem::take(&mut *self.moved_invoices.borrow_mut())
            .into_iter()
            .collect()
    }
}

impl<'a> Deref for WriteTx<'a> {
    type Target = Conn<'a>;

    fn deref(&self) -> &Conn<'a> {
        &self.conn
    }
}

trait Job: Send {
    /// Runs the job's closure; true when it succeeded and its writes should stay.
    fn run(&mut self, tx: &WriteTx) -> bool;
    /// Answers the caller: with the job's own result, or `batch_error` if the batch failed.
    fn answer(self: Box<Self>, batch_error: Option<&AppError>);
}

struct TypedJob<T, F> {
    work: Option<F>,
    result: Option<Result<T, AppError>>,
    reply: oneshot::Sender<Result<T, AppError>>,
}

impl<T, F> Job for TypedJob<T, F>
where
    T: Send,
    F: FnOnce(&WriteTx) -> Result<T, AppError> + Send,
{
    fn run(&mut self, tx: &WriteTx) -> bool {
        let Some(work) = self.work.take() else {
            return false;
        };
        let result = catch_unwind(AssertUnwindSafe(|| work(tx)))
            .unwrap_or_else(|_| Err(AppError::Internal("a write panicked".into())));
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn answer(self: Box<Self>, batch_error: Option<&AppError>) {
        let result = match (batch_error, self.result) {
            (Some(err), _) => Err(err.clone()),
            (None, Some(result)) => result,
            (None, None) => Err(AppError::Internal("write was not run".into())),
        };
        // The caller may have gone away (client disconnected); the write stands regardless.
        let _ = self.reply.send(result);
    }
}

#[derive(Clone)]
pub(super) struct Writer {
    jobs: mpsc::Sender<Box<dyn Job>>,
    /// How far the WAL is flushed, when a thread of its own flushes it.
    durable: Option<Arc<DurableMark>>,
}

impl Writer {
    /// `readers` learn of each commit before its writes are answered. With `flush_apart`
    /// (every commit must be on disk before it is answered) the writer commits without
    /// flushing and a thread of its own flushes the WAL before answering (`wal_flush`).
    pub(super) fn spawn(
        conn: Connection,
        readers: Arc<PointReaders>,
        flush_apart: bool,
    ) -> Result<Writer, AppError> {
        let (jobs, queue) = mpsc::channel::<Box<dyn Job>>();
        take_over_checkpoints(&conn);
        let flusher = match wal_of(&conn).filter(|_| flush_apart) {
            Some(wal) => {
                // The flusher makes each commit durable; SQLite still flushes the WAL
                // before a checkpoint and when it starts the WAL over.
                conn.pragma_update(None, "synchronous", "NORMAL")?;
                let (mark, flushed) = DurableMark::new();
                Some((WalFlush::spawn(wal, flushed)?, Arc::new(mark)))
            }
            // An in-memory book (or one whose path is not UTF-8) has no WAL this can
            // name: SQLite's COMMIT does what it can.
            None => None,
        };
        let durable = flusher.as_ref().map(|(_, mark)| mark.clone());
        std::thread::Builder::new()
            .name("arvalox-writer".into())
            .spawn(move || run(conn, queue, &readers, flusher.as_ref()))
            .map_err(|err| AppError::Internal(format!("cannot start the writer: {err}")))?;
        Ok(Writer { jobs, durable })
    }

    /// Returns once every commit begun before the call is on disk (`durable_mark`).
    pub(super) async fn until_seen_is_durable(&self) -> Result<(), AppError> {
        match &self.durable {
            Some(mark) => mark.until_seen_is_durable().await,
            None => Ok(()),
        }
    }

    pub(super) async fn submit<T, F>(&self, work: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&WriteTx) -> Result<T, AppError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = TypedJob {
            work: Some(work),
            result: None,
            reply,
        };
        self.jobs
            .send(Box::new(job))
            .map_err(|_| AppError::Internal("the writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| AppError::Internal("the writer dropped a write".into()))?
    }
}

/// The WAL of the connection's file, named as SQLite names it: the full path SQLite
/// opened (links resolved) and `-wal`.
fn wal_of(conn: &Connection) -> Option<std::path::PathBuf> {
    let book = conn.path().filter(|path| !path.is_empty())?;
    Some(format!("{book}-wal").into())
}

/// Ends when every `Writer` handle is gone.
fn run(
    conn: Connection,
    queue: mpsc::Receiver<Box<dyn Job>>,
    readers: &PointReaders,
    flusher: Option<&(WalFlush, Arc<DurableMark>)>,
) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        match flusher {
            Some((flusher, mark)) => {
                flusher.answer_when_flushed(commit_batch(&conn, batch, readers, Some(mark)));
            }
            None => commit_batch(&conn, batch, readers, None).answer_now(),
        }
    }
}

/// Runs and commits one batch, numbered by `mark` just before its COMMIT; answering it is
/// the caller's.
fn commit_batch(
    conn: &Connection,
    mut batch: Vec<Box<dyn Job>>,
    readers: &PointReaders,
    mark: Option<&DurableMark>,
) -> Committed {
    if WAL_PAGES.with(|count| count.get()) >= CHECKPOINT_PAGES {
        // The WAL is (or is being) copied back: let this write start it over.
        readers.release_idle();
    }
    let started = std::time::Instant::now();
    let mut sequence = 0;
    let outcome = run_jobs(conn, &mut batch).and_then(|()| {
        sequence = mark.map_or(0, DurableMark::next_commit);
        Ok(run_statement(conn, "COMMIT")?)
    });
    crate::metrics::write_batch(batch.len(), started.elapsed());
    if outcome.is_ok() {
        readers.after_commit();
        checkpoint_if_due(conn);
    }
    let error = outcome.err().map(|err: AppError| {
        let _ = conn.execute_batch("ROLLBACK");
        tracing::error!(error = %err, jobs = batch.len(), "a write batch failed");
        err
    });
    Committed {
        jobs: batch,
        error,
        sequence,
    }
}

/// WAL pages after which the writer copies the WAL back into the database. SQLite's
/// default is 1,000; each checkpoint costs the writer two fsyncs (with synchronous=full)
/// and a payment dirties about four pages, so that stalled the writer every ~250 payments.
const CHECKPOINT_PAGES: i32 = 4096;

thread_local! {
    /// Pages in the WAL after the writer's last commit (set by `note_wal_pages`).
    static WAL_PAGES: std::cell::Cell<i32> = const { std::cell::Cell::new(0) };
}

/// The writer connection's WAL hook; it replaces SQLite's automatic checkpoint.
fn note_wal_pages(_: &rusqlite::hooks::Wal, pages: std::ffi::c_int) -> rusqlite::Result<()> {
    WAL_PAGES.with(|count| count.set(pages));
    Ok(())
}

/// Sets the writer connection up to checkpoint through [`checkpoint_if_due`].
pub(super) fn take_over_checkpoints(conn: &Connection) {
    conn.wal_hook(Some(note_wal_pages));
}

/// Copies the WAL back into the database once it holds [`CHECKPOINT_PAGES`]. It runs
/// after `after_commit` has ended the point readers' idle snapshots: SQLite's own
/// checkpoint ran inside COMMIT, while those snapshots still pinned older pages, so it
/// never finished, the WAL never started over, and it grew by every write. PASSIVE
/// never waits; one that a reader still holds back is tried again after the next commit.
fn checkpoint_if_due(conn: &Connection) {
    if WAL_PAGES.with(|count| count.get()) < CHECKPOINT_PAGES {
        return;
    }
    if let Err(err) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
        tracing::warn!(error = %err, "checkpoint failed");
    }
}

fn run_jobs(conn: &Connection, batch: &mut [Box<dyn Job>]) -> Result<(), AppError> {
    run_statement(conn, "BEGIN IMMEDIATE")?;
    let tx = WriteTx::new(Conn::sqlite(conn));
    for job in batch.iter_mut() {
        run_statement(conn, "SAVEPOINT job")?;
        // A job that failed rolled its writes back: what it noted moved did not.
        tx.take_moved_invoices();
        if !job.run(&tx) {
            run_statement(conn, "ROLLBACK TO job")?;
        }
        run_statement(conn, "RELEASE job")?;
    }
    render_details(conn);
    Ok(())
}

/// One statement, compiled once per connection rather than parsed for every job.
fn run_statement(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}

/// Renders the detail copies the batch cleared. A failure here loses no write: it is
/// logged, the copies stay cleared, and reads of those invoices use the normalized tables.
fn render_details(conn: &Connection) {
    let rendered = run_statement(conn, "SAVEPOINT render")
        .map_err(AppError::from)
        .and_then(|()| super::invoices::render_details(&Conn::sqlite(conn), i64::MAX));
    let ended = match rendered {
        Ok(_) => run_statement(conn, "RELEASE render"),
        Err(err) => {
            tracing::warn!(error = %err, "could not render invoice detail copies");
            run_statement(conn, "ROLLBACK TO render")
                .and_then(|()| run_statement(conn, "RELEASE render"))
        }
    };
    if let Err(err) = ended {
        tracing::warn!(error = %err, "could not end the render savepoint");
    }
}
