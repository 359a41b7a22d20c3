//! The PostgreSQL engine: a pool of synchronous connections, each job on a blocking thread.
//!
//! The storage functions are synchronous (they are SQLite's, and SQLite is the default),
//! so each job runs on a blocking thread and drives its connection there: a statement's
//! round trip is the server's work and the socket's, with no other thread involved.
//!
//! Writes: one transaction per job (READ COMMITTED). Each first takes transaction-scoped
//! advisory locks for what it may change ([`WriteScope`]): the book's lock shared and its
//! organization's exclusive, or the book's exclusive. So the writes of one organization
//! run one after another as on SQLite's writer, and every check a job makes still holds
//! when it writes; different organizations write side by side, and PostgreSQL groups
//! their WAL flushes. As every write takes the book's lock before its organization's,
//! and no write takes two organizations', the locks cannot deadlock.

use std::time::Duration;

use tokio::runtime::{Handle, RuntimeFlavor};

use super::conn::{Conn, PgConnector, PgSession};
use super::location::PostgresUrl;
use super::postgres::PostgresProblem;
use super::{details, postgres, WriteScope, WriteTx};
use crate::error::AppError;

/// The book's advisory lock: shared by a write to one organization, exclusive for a write
/// to the book (a single 64-bit key).
const BOOK_LOCK: i64 = 0x4152_5641_4c4f_5802;

/// The class of the organizations' advisory locks: key pairs (class, organization id),
/// PostgreSQL's other lock space, so they never meet the single-key locks.
const ORGANIZATION_LOCKS: i32 = 0x4156_4f52;

/// How long a job waits for a free connection before it is answered 503.
const WAIT_FOR_CONNECTION: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub(super) struct PgBook {
    pool: r2d2::Pool<PgConnector>,
}

impl PgBook {
    /// Migrates the book at `url` and opens a pool of `pool_size` connections to it.
    pub(super) fn open(url: &PostgresUrl, pool_size: usize) -> Result<PgBook, PostgresProblem> {
        on_plain_thread(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|err| PostgresProblem::Failed(format!("cannot start a runtime: {err}")))?
                .block_on(postgres::migrate(url))
        })?;
        let config: ::postgres::Config = url
            .connection_text()
            .parse()
            .map_err(|_| PostgresProblem::Unreachable("not a PostgreSQL URL".into()))?;
        let pool = r2d2::Pool::builder()
            .max_size(u32::try_from(pool_size).unwrap_or(u32::MAX).max(1))
            .min_idle(Some(1))
            // A broken connection is found when it is handed back (`has_broken`), so a
            // job does not pay a round trip to test the one it is lent.
            .test_on_check_out(false)
            .connection_timeout(WAIT_FOR_CONNECTION)
            .build(PgConnector::new(config))
            .map_err(|err| PostgresProblem::Unreachable(err.to_string()))?;
        Ok(PgBook { pool })
    }

    /// Runs `f` in one read-only snapshot (REPEATABLE READ), on a blocking thread.
    pub(super) async fn read<T, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&Conn) -> Result<T, AppError> + Send + 'static,
    {
        let book = self.clone();
        super::run_blocking(move || book.in_read(f)).await
    }

    /// Runs `f` in one write transaction, on a blocking thread.
    pub(super) async fn write<T, F>(&self, scope: WriteScope, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&WriteTx) -> Result<T, AppError> + Clone + Send + 'static,
    {
        let book = self.clone();
        super::run_blocking(move || book.in_write(scope, f)).await
    }

    /// [`PgBook::read`] for a caller that waits: right here where the thread may block,
    /// else on a thread of its own (see [`blocking_here`]).
    pub(super) fn read_blocking<T, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send,
        F: FnOnce(&Conn) -> Result<T, AppError> + Send,
    {
        blocking_here(|| self.in_read(f))
    }

    /// One statement's read for a caller that waits, outside a transaction (see
    /// [`super::Db::read_statement`]).
    pub(super) fn read_statement<T, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send,
        F: FnOnce(&Conn) -> Result<T, AppError> + Send,
    {
        blocking_here(|| f(&Conn::postgres(&self.session()?)))
    }

    /// [`PgBook::write`] for a caller that waits.
    pub(super) fn write_blocking<T, F>(&self, scope: WriteScope, f: F) -> Result<T, AppError>
    where
        T: Send,
        F: FnOnce(&WriteTx) -> Result<T, AppError> + Clone + Send,
    {
        blocking_here(|| self.in_write(scope, f))
    }

    fn session(&self) -> Result<PgSession, AppError> {
        match self.pool.get() {
            Ok(link) => Ok(PgSession::new(link)),
            Err(err) => {
                tracing::warn!(error = %err, "no PostgreSQL connection to be had");
                Err(AppError::DatabaseBusy {
                    retry_after_secs: 1,
                })
            }
        }
    }

    fn in_read<T>(&self, f: impl FnOnce(&Conn) -> Result<T, AppError>) -> Result<T, AppError> {
        let session = self.session()?;
        let transaction = Open::begin(&session, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?;
        let value = f(&Conn::postgres(&session))?;
        transaction.commit()?;
        Ok(value)
    }

    /// Runs `f` in one write transaction, and again, on a fresh transaction, if PostgreSQL
    /// failed it for losing a race (a deadlock it broke, or a serialization failure), up to
    /// [`WRITE_ATTEMPTS`] times with a growing, jittered pause between: nothing of a failed
    /// attempt was kept, so running it again is safe. Arvalox's own writes cannot deadlock
    /// each other (see the module note); another session's locks can still close a cycle.
    fn in_write<T, F>(&self, scope: WriteScope, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&WriteTx) -> Result<T, AppError> + Clone,
    {
        let session = self.session()?;
        let mut attempt = 1;
        loop {
            session.take_lost_race();
            let result = write_once(&session, scope, f.clone());
            let lost = match session.take_lost_race() {
                Some(code) if result.is_err() && attempt < WRITE_ATTEMPTS => code,
                _ => return result,
            };
            tracing::warn!(
                attempt,
                sqlstate = lost,
                "a write lost a race in PostgreSQL: running it again"
            );
            crate::metrics::write_retried();
            std::thread::sleep(pause_before_retry(attempt));
            attempt += 1;
        }
    }
}

/// How many times a write that loses a race is tried in all before its caller is answered
/// 503 (`AppError::DatabaseBusy`).
const WRITE_ATTEMPTS: u32 = 5;

/// The pause before attempt `attempt + 1`: 5 ms doubled each time, plus up to as much
/// again at random, so writes that collided do not collide again in step.
fn pause_before_retry(attempt: u32) -> Duration {
    use rand::Rng;
    let base = 5u64 << attempt.saturating_sub(1).min(6);
    Duration::from_millis(base + rand::thread_rng().gen_range(0..=base))
}

/// One attempt of [`PgBook::in_write`]: the transaction, its locks, `f`, the stored copies
/// `f` left to render, and COMMIT.
fn write_once<T>(
    session: &PgSession,
    scope: WriteScope,
    f: impl FnOnce(&WriteTx) -> Result<T, AppError>,
) -> Result<T, AppError> {
    // One round trip: the keys are integers of ours, written into the text.
    let locks = match scope {
        WriteScope::Book => format!("SELECT pg_advisory_xact_lock({BOOK_LOCK})"),
        WriteScope::Organization(org) => format!(
            "SELECT pg_advisory_xact_lock_shared({BOOK_LOCK}), \
             pg_advisory_xact_lock({ORGANIZATION_LOCKS}, {})",
            organization_key(org)
        ),
    };
    let begin = format!("BEGIN ISOLATION LEVEL READ COMMITTED; {locks}");
    let transaction = Open::begin(session, &begin)?;
    let conn = Conn::postgres(session);
    let value = f(&WriteTx::new(conn))?;
    details::render_details(&conn, i64::MAX)?;
    transaction.commit()?;
    Ok(value)
}

/// An open transaction, rolled back unless committed: an early return or a panic never
/// hands the pool a connection inside a transaction.
struct Open<'s> {
    session: &'s PgSession,
    done: bool,
}

impl<'s> Open<'s> {
    /// Runs `begin` (BEGIN, and what the transaction takes first): if any of it fails, the
    /// connection goes back to the pool outside a transaction all the same.
    fn begin(session: &'s PgSession, begin: &str) -> Result<Open<'s>, AppError> {
        let open = Open {
            session,
            done: false,
        };
        Conn::postgres(session).execute_batch(begin)?;
        Ok(open)
    }

    fn commit(mut self) -> Result<(), AppError> {
        self.done = true;
        Ok(Conn::postgres(self.session).execute_batch("COMMIT")?)
    }
}

impl Drop for Open<'_> {
    fn drop(&mut self) {
        if !self.done {
            let _ = Conn::postgres(self.session).execute_batch("ROLLBACK");
        }
    }
}

/// The second key of an organization's advisory lock: its id folded into 32 bits. Two
/// organizations whose ids fold alike (past two billion) share a lock: still correct, they
/// only take turns.
fn organization_key(org: i64) -> i32 {
    i32::try_from(org.rem_euclid(i64::from(i32::MAX))).unwrap_or(0)
}

/// Runs `work` where a synchronous client may wait on its socket: right here outside any
/// runtime, in place on a worker of a multi-threaded runtime (the server's: its other
/// tasks move to other workers meanwhile), else on a thread of its own (a test's
/// single-threaded runtime, whose one thread must not block).
fn blocking_here<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    match Handle::try_current() {
        Err(_) => work(),
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(work)
        }
        Ok(_) => on_plain_thread(work),
    }
}

/// Runs `work` on a new thread and waits for it: a thread outside every runtime.
fn on_plain_thread<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| match scope.spawn(work).join() {
        Ok(value) => value,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

#[cfg(test)]
mod tests {
    use super::pause_before_retry;

    #[test]
    fn the_pause_before_a_retry_doubles_and_stays_within_its_jitter() {
        for (attempt, least) in [(1, 5), (2, 10), (3, 20), (4, 40)] {
            for _ in 0..100 {
                let pause = pause_before_retry(attempt).as_millis();
                assert!(
                    (least..=2 * least).contains(&pause),
                    "{attempt}: {pause} ms"
                );
            }
        }
    }
}
