//! The PostgreSQL engine: a pool of connections driven by a runtime of the engine's own.
//!
//! The storage functions are synchronous (they are SQLite's, and SQLite is the default),
//! so each job runs on a blocking thread and waits there on the driver, whose
//! connections the engine's runtime polls. Owning that runtime lets a caller on any
//! thread wait for PostgreSQL: the server's workers, a test's single-threaded runtime, or
//! the CLI with none.
//!
//! Writes: one transaction per job (READ COMMITTED). Each takes a transaction-scoped
//! advisory lock first, so writes run one after another as on SQLite's writer and every
//! check a job makes still holds when it writes. PostgreSQL still commits them on its
//! own connections and groups their WAL flushes.

use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, PoolError, RecyclingMethod, Timeouts};
use tokio::runtime::{Handle, Runtime};
use tokio_postgres::NoTls;

use super::conn::{Conn, PgSession, StoreError};
use super::location::PostgresUrl;
use super::postgres::PostgresProblem;
use super::{details, postgres, WriteTx};
use crate::error::AppError;

/// The advisory lock every write transaction holds until it ends.
const WRITE_LOCK: i64 = 0x4152_5641_4c4f_5802;

/// How long a job waits for a free connection before it is answered 503.
const WAIT_FOR_CONNECTION: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub(super) struct PgBook {
    pool: Pool,
    runtime: Arc<EngineRuntime>,
}

/// The runtime polling the pool's connections; stopped without waiting when the last
/// handle to the book goes (it may go inside another runtime, where waiting is refused).
struct EngineRuntime {
    runtime: Option<Runtime>,
    handle: Handle,
}

impl Drop for EngineRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl PgBook {
    /// Migrates the book at `url` and opens a pool of `pool_size` connections to it.
    pub(super) fn open(url: &PostgresUrl, pool_size: usize) -> Result<PgBook, PostgresProblem> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("arvalox-postgres")
            .enable_all()
            .build()
            .map_err(|err| PostgresProblem::Failed(format!("cannot start a runtime: {err}")))?;
        let handle = runtime.handle().clone();
        let engine = Arc::new(EngineRuntime {
            runtime: Some(runtime),
            handle,
        });
        on_plain_thread(|| engine.handle.block_on(postgres::migrate(url)))?;
        let config: tokio_postgres::Config = url
            .connection_text()
            .parse()
            .map_err(|_| PostgresProblem::Unreachable("not a PostgreSQL URL".into()))?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(pool_size)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .timeouts(Timeouts {
                wait: Some(WAIT_FOR_CONNECTION),
                ..Timeouts::default()
            })
            .build()
            .map_err(|err| PostgresProblem::Failed(format!("cannot build the pool: {err}")))?;
        Ok(PgBook {
            pool,
            runtime: engine,
        })
    }

    /// Runs `f` in one read-only snapshot (REPEATABLE READ), on a blocking thread.
    pub(super) async fn read<T, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&Conn) -> Result<T, AppError> + Send + 'static,
    {
        let book = self.clone();
        joined(self.runtime.handle.spawn_blocking(move || book.in_read(f))).await
    }

    /// Runs `f` in one write transaction, on a blocking thread.
    pub(super) async fn write<T, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&WriteTx) -> Result<T, AppError> + Send + 'static,
    {
        let book = self.clone();
        joined(self.runtime.handle.spawn_blocking(move || book.in_write(f))).await
    }

    /// [`PgBook::read`] for a caller that waits: on a thread of its own, so that it works
    /// inside an async runtime too.
    pub(super) fn read_blocking<T, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send,
        F: FnOnce(&Conn) -> Result<T, AppError> + Send,
    {
        on_plain_thread(|| self.in_read(f))
    }

    /// [`PgBook::write`] for a caller that waits.
    pub(super) fn write_blocking<T, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send,
        F: FnOnce(&WriteTx) -> Result<T, AppError> + Send,
    {
        on_plain_thread(|| self.in_write(f))
    }

    fn session(&self) -> Result<PgSession, AppError> {
        let client = self
            .runtime
            .handle
            .block_on(self.pool.get())
            .map_err(pool_error)?;
        Ok(PgSession::new(client, self.runtime.handle.clone()))
    }

    fn in_read<T>(&self, f: impl FnOnce(&Conn) -> Result<T, AppError>) -> Result<T, AppError> {
        let session = self.session()?;
        let transaction = Open::begin(&session, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?;
        let value = f(&Conn::postgres(&session))?;
        transaction.commit()?;
        Ok(value)
    }

    fn in_write<T>(&self, f: impl FnOnce(&WriteTx) -> Result<T, AppError>) -> Result<T, AppError> {
        let session = self.session()?;
        let transaction = Open::begin(&session, "BEGIN ISOLATION LEVEL READ COMMITTED")?;
        let conn = Conn::postgres(&session);
        conn.query_row("SELECT pg_advisory_xact_lock(?1)", [WRITE_LOCK], |_| Ok(()))?;
        let value = f(&WriteTx::new(conn))?;
        details::render_details(&conn, i64::MAX)?;
        transaction.commit()?;
        Ok(value)
    }
}

/// An open transaction, rolled back unless committed: an early return or a panic never
/// hands the pool a connection inside a transaction.
struct Open<'s> {
    session: &'s PgSession,
    done: bool,
}

impl<'s> Open<'s> {
    fn begin(session: &'s PgSession, begin: &str) -> Result<Open<'s>, AppError> {
        Conn::postgres(session).execute_batch(begin)?;
        Ok(Open {
            session,
            done: false,
        })
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

/// Runs `work` on a new thread and waits for it: a thread outside every runtime, where
/// waiting on the engine's runtime is allowed whatever the caller's thread is.
fn on_plain_thread<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| match scope.spawn(work).join() {
        Ok(value) => value,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

async fn joined<T>(job: tokio::task::JoinHandle<Result<T, AppError>>) -> Result<T, AppError> {
    match job.await {
        Ok(result) => result,
        // Re-raise so CatchPanic answers this request with a JSON 500.
        Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
        Err(err) => Err(AppError::Internal(format!("blocking task failed: {err}"))),
    }
}

fn pool_error(err: PoolError) -> AppError {
    match err {
        PoolError::Backend(err) => StoreError::Postgres(err).into(),
        other => {
            tracing::warn!(error = %other, "no PostgreSQL connection to be had");
            AppError::DatabaseBusy {
                retry_after_secs: 1,
            }
        }
    }
}
