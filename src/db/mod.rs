//! Storage: owns the pool and every SQL string. Functions here work at use-case
//! granularity over a connection or transaction and return plain records.

pub(crate) mod aging_detail;
pub(crate) mod allocations;
pub mod backup;
pub(crate) mod balances;
pub(crate) mod books;
pub mod bulk;
pub(crate) mod codec;
pub mod conn;
pub(crate) mod credit;
pub(crate) mod credit_notes;
pub(crate) mod customers;
pub(crate) mod details;
pub mod export;
pub(crate) mod idempotency;
pub(crate) mod invoice_changes;
pub(crate) mod invoice_ledger;
pub(crate) mod invoices;
pub(crate) mod journal;
pub mod keys;
pub mod location;
pub(crate) mod open_totals;
pub(crate) mod organization;
pub(crate) mod paging;
pub(crate) mod payments;
pub mod postgres;
pub(crate) mod report_scope;
pub(crate) mod reports;
pub(crate) mod rules;
mod seed_events;
pub(crate) mod sources;
pub(crate) mod sql;
pub(crate) mod statement;
pub(crate) mod summaries;
pub mod transfer;
pub(crate) mod webhooks;
pub(crate) mod write_offs;

mod pg_book;
mod point_reads;
mod sqlite;
mod writer;

#[cfg(test)]
mod list_plans_tests;
#[cfg(test)]
mod recount_tests;
#[cfg(test)]
mod report_plans_tests;

pub use point_reads::MAX_SNAPSHOT_AGE;

use std::path::Path;

use crate::error::AppError;
use conn::Conn;
use location::PostgresUrl;
pub use sqlite::bound_server_heap;
pub use writer::WriteTx;

/// How hard SQLite works to keep a commit through a crash or power cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Synchronous {
    /// Every commit is on disk before it is acknowledged (the default).
    Full,
    /// WAL commits may be lost on power failure (not on a process crash).
    Normal,
    /// No fsync at all: fast, and acknowledged writes can be lost on power failure.
    Off,
}

impl Synchronous {
    fn pragma(self) -> &'static str {
        match self {
            Synchronous::Full => "FULL",
            Synchronous::Normal => "NORMAL",
            Synchronous::Off => "OFF",
        }
    }
}

/// What a write may change. SQLite runs writes one at a time whatever they change;
/// PostgreSQL runs the writes of different organizations side by side, and those of one
/// organization in turn (its journal's hash chain and its gapless numbers are one line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteScope {
    /// One organization's rows (and its own row of `organizations`).
    Organization(i64),
    /// Anything: a new organization, a repair of every organization's rows, a preview
    /// that must give back the ids it took. It waits for every other write.
    Book,
}

/// The book, on whichever engine `--db` named. Every read and write of the server goes
/// through these methods; the closures they run speak SQL through [`conn::Conn`] only.
#[derive(Clone)]
pub struct Db {
    engine: Engine,
}

#[derive(Clone)]
enum Engine {
    Sqlite(sqlite::SqliteBook),
    Postgres(pg_book::PgBook),
}

impl Db {
    /// Opens (or creates) the SQLite file and runs the embedded migrations.
    pub fn open(path: &Path, synchronous: Synchronous) -> Result<Db, AppError> {
        Ok(Db {
            engine: Engine::Sqlite(sqlite::SqliteBook::open(path, synchronous)?),
        })
    }

    /// Opens the PostgreSQL book at `url`, migrating it first, with a pool of at most
    /// `pool_size` connections.
    pub fn open_postgres(
        url: &PostgresUrl,
        pool_size: usize,
    ) -> Result<Db, postgres::PostgresProblem> {
        Ok(Db {
            engine: Engine::Postgres(pg_book::PgBook::open(url, pool_size)?),
        })
    }

    /// The schema version this binary migrates this book's engine to: what `/ready`
    /// compares the book's migrations with (each engine numbers its own).
    pub fn expected_schema_version(&self) -> i64 {
        match &self.engine {
            Engine::Sqlite(_) => sqlite::schema_version(),
            Engine::Postgres(_) => postgres::schema_version(),
        }
    }

    /// The book's file, when it is one (SQLite).
    pub fn file(&self) -> Option<&Path> {
        match &self.engine {
            Engine::Sqlite(book) => Some(book.path()),
            Engine::Postgres(_) => None,
        }
    }

    /// Runs `f` in one snapshot that holds every write answered before the call. For
    /// lookups by primary key only: on SQLite it runs right here, on the calling thread,
    /// with a kept snapshot (see `db::point_reads`); anything that scans uses [`Db::read`].
    pub(crate) fn read_point<T, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send,
        F: FnOnce(&Conn) -> Result<T, AppError> + Send,
    {
        match &self.engine {
            Engine::Sqlite(book) => book.read_point(f),
            Engine::Postgres(book) => book.read_blocking(f),
        }
    }

    /// [`Db::read_point`] for an `f` that runs one statement, no more: on PostgreSQL it
    /// runs outside a transaction (a statement is its own snapshot), saving the BEGIN and
    /// COMMIT round trips a snapshot of several statements needs.
    pub(crate) fn read_statement<T, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send,
        F: FnOnce(&Conn) -> Result<T, AppError> + Send,
    {
        match &self.engine {
            Engine::Sqlite(book) => book.read_point(f),
            Engine::Postgres(book) => book.read_statement(f),
        }
    }

    /// Runs `f` on a blocking thread in one read transaction: every query of `f` sees the
    /// same snapshot (a page and its total, an invoice and its payments), whatever
    /// commits meanwhile.
    pub(crate) async fn read<T, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&Conn) -> Result<T, AppError> + Send + 'static,
    {
        match &self.engine {
            Engine::Sqlite(book) => book.read(f).await,
            Engine::Postgres(book) => book.read(f).await,
        }
    }

    /// Runs `f` in a write transaction: a check made inside `f` still holds when `f`
    /// writes, `Err` (or a panic) rolls back `f`'s writes alone, and the answer comes only
    /// once they are committed. SQLite runs writes one at a time on its writer thread;
    /// PostgreSQL runs them on pooled connections, in turn where they could conflict.
    pub async fn write<T, F>(&self, scope: WriteScope, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&WriteTx) -> Result<T, AppError> + Clone + Send + 'static,
    {
        match &self.engine {
            Engine::Sqlite(book) => book.write(f).await,
            Engine::Postgres(book) => book.write(scope, f).await,
        }
    }

    /// Returns once every write committed before the call is on disk. SQLite answers a
    /// write only after its WAL flush, but a read can see the commit before that flush
    /// (`writer/wal_flush.rs`). A read whose rows leave the server as a promise (a stored
    /// idempotent answer replayed, journal events fed or sent to a webhook) calls this
    /// after reading and before answering (`writer/durable_mark.rs`). PostgreSQL shows a
    /// commit only once it is durable.
    pub(crate) async fn until_durable(&self) -> Result<(), AppError> {
        match &self.engine {
            Engine::Sqlite(book) => book.until_seen_is_durable().await,
            Engine::Postgres(_) => Ok(()),
        }
    }

    /// One write transaction, for callers that are not async (the CLI and tests' setup).
    pub fn write_blocking<T, F>(&self, scope: WriteScope, f: F) -> Result<T, AppError>
    where
        T: Send,
        F: FnOnce(&WriteTx) -> Result<T, AppError> + Clone + Send,
    {
        match &self.engine {
            Engine::Sqlite(book) => book.write_blocking(f),
            Engine::Postgres(book) => book.write_blocking(scope, f),
        }
    }

    /// One read transaction (one snapshot), for callers that are not async: the CLI
    /// (`verify` reads a live book) and tests.
    pub fn read_blocking<T, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send,
        F: FnOnce(&Conn) -> Result<T, AppError> + Send,
    {
        match &self.engine {
            Engine::Sqlite(book) => book.read_blocking(f),
            Engine::Postgres(book) => book.read_blocking(f),
        }
    }
}

/// The schema version this binary migrates a book to: its newest embedded migration.
pub fn schema_version() -> i64 {
    sqlite::schema_version()
}

/// The version of the newest migration a runner holds (0 for none), for either engine.
pub(crate) fn newest_migration(runner: &refinery::Runner) -> i64 {
    runner
        .get_migrations()
        .iter()
        .map(|migration| i64::from(migration.version()))
        .max()
        .unwrap_or(0)
}

async fn run_blocking<T, F>(f: F) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, AppError> + Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result,
        // Re-raise so CatchPanic answers this request with a JSON 500; the pool's
        // connection was dropped with the thread's stack, so nothing stays poisoned.
        Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
        Err(err) => Err(AppError::Internal(format!("blocking task failed: {err}"))),
    }
}

/// Now, as stored in `created_at` columns.
pub fn timestamp(now: chrono::DateTime<chrono::Utc>) -> String {
    now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Next value of a per-organization counter.
pub(crate) fn next_sequence(tx: &WriteTx, org: i64, name: &str) -> Result<i64, AppError> {
    let value = tx.query_row(
        "INSERT INTO sequences (organization_id, name, next_value) VALUES (?1, ?2, 2)
         ON CONFLICT (organization_id, name) DO UPDATE SET next_value = sequences.next_value + 1
         RETURNING next_value - 1",
        conn::params![org, name],
        |row| row.get(0),
    )?;
    Ok(value)
}
