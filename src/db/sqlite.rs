//! The SQLite engine: one file, a small pool of readers, point readers that keep their
//! snapshot, and one writer thread that commits queued writes together.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use r2d2::Pool;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::config::DbConfig;
use rusqlite::{Connection, TransactionBehavior};

use super::conn::Conn;
use super::{invoices, point_reads, run_blocking, summaries, writer, Synchronous, WriteTx};
use crate::error::AppError;

mod embedded {
    refinery::embed_migrations!("migrations/sqlite");
}

/// The bytes of heap SQLite may hold across the whole process (statements, schemas and
/// page caches) before it reuses a cached page rather than allocate another. Each
/// connection's cache is 2 MB, and so is each temporary table a statement opens (a
/// grouping, an `IN` list, a sort), whatever `cache_size` says: an aging at a past date
/// with its checks held 20 MB of SQLite's heap, and 64 clients reading beside reports took
/// `serve` to 82 MiB. The pages are the file's, which the operating system caches anyway
/// (BENCHMARKS.md, issue 16). A soft limit: past it SQLite still allocates what it must.
const SERVER_HEAP_SOFT_LIMIT: i64 = 8 * 1024 * 1024;

/// Holds SQLite's heap to [`SERVER_HEAP_SOFT_LIMIT`] for the rest of the process: `serve`
/// calls it before opening its book. Other commands are not bounded: `seed-demo`'s bulk
/// load wants its large cache of dirty pages. The limit is the process's, so any
/// connection sets it.
pub fn bound_server_heap() -> Result<(), AppError> {
    let conn = Connection::open_in_memory()?;
    conn.pragma_update(None, "soft_heap_limit", SERVER_HEAP_SOFT_LIMIT)?;
    Ok(())
}

/// Readers share a small pool; all of the server's writes go through one writer thread.
#[derive(Clone)]
pub(super) struct SqliteBook {
    path: std::path::PathBuf,
    pool: Pool<SqliteConnectionManager>,
    writer: writer::Writer,
    point_readers: Arc<point_reads::PointReaders>,
}

/// Runs `f` in one read transaction (one snapshot), with BEGIN and COMMIT compiled once
/// per connection rather than parsed on every read.
fn in_snapshot<T>(
    conn: &Connection,
    f: impl FnOnce(&Conn) -> Result<T, AppError>,
) -> Result<T, AppError> {
    conn.prepare_cached("BEGIN")?.execute([])?;
    let snapshot = EndsSnapshot(conn);
    let value = f(&Conn::sqlite(conn));
    conn.prepare_cached("COMMIT")?.execute([])?;
    drop(snapshot);
    value
}

/// Ends a read transaction that `f` left by an early return or a panic, so a pooled
/// connection never goes back to its pool inside a transaction.
struct EndsSnapshot<'a>(&'a Connection);

impl Drop for EndsSnapshot<'_> {
    fn drop(&mut self) {
        if !self.0.is_autocommit() {
            let _ = self.0.execute_batch("ROLLBACK");
        }
    }
}

/// Compiled statements kept per connection: every fixed statement the server runs fits.
const STATEMENT_CACHE: usize = 128;

/// Settings every connection gets.
pub(super) fn configure(conn: &Connection, synchronous: Synchronous) -> rusqlite::Result<()> {
    conn.busy_timeout(Duration::from_secs(10))?;
    // rusqlite keeps 16 compiled statements by default; the writer alone uses more than
    // that, and an evicted one is parsed again (with its triggers) on its next use.
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // One plan per statement, whatever its bound values: otherwise SQLite plans with the
    // value bound to a LIMIT (and to any column with ANALYZE samples) and then prepares
    // the statement again each time it is bound, which was 15% of a payment's
    // instructions, spent in `sqlite3Reprepare` (BENCHMARKS.md, issue 16).
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    // temp_store: each write job runs in a savepoint, whose sub-journal (a copy of every
    // page the job touches) was a temporary file; in memory it costs no system calls.
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = {};
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;",
        synchronous.pragma()
    ))
}

impl SqliteBook {
    /// Opens (or creates) the file and runs the embedded migrations.
    pub(super) fn open(path: &Path, synchronous: Synchronous) -> Result<SqliteBook, AppError> {
        // One connection first: it turns a new file to WAL and migrates it before the pool
        // opens its connections in parallel, which otherwise race to change the journal
        // mode ("database is locked" in the log about one start in four). It then serves
        // as the writer's connection.
        super::backup::create_private(path)?;
        let mut conn = Connection::open(path).map_err(|err| {
            AppError::Internal(format!("cannot open database {}: {err}", path.display()))
        })?;
        configure(&conn, synchronous)?;
        migrate(&mut conn)?;
        summaries::weigh_settled_if_due(&Conn::sqlite(&conn))?;
        clear_copies_of_another_format(&conn)?;
        render_missing_details(&conn)?;
        let manager = SqliteConnectionManager::file(path).with_init(move |conn| {
            configure(conn, synchronous)?;
            // The pool serves reports and exports, whose sorts and groupings (an aging at a
            // past date groups every later payment) held every row in memory: 150 MiB for
            // one aging of a 1M book. In a file they spill past the cache's 2 MB instead.
            conn.execute_batch("PRAGMA temp_store = FILE;")
        });
        let pool = Pool::builder()
            .max_size(4)
            .connection_timeout(Duration::from_secs(30))
            .build(manager)
            .map_err(|err| {
                AppError::Internal(format!("cannot open database {}: {err}", path.display()))
            })?;
        let point_readers = point_reads::PointReaders::new(path.to_path_buf(), synchronous);
        let flush_apart = synchronous == Synchronous::Full;
        Ok(SqliteBook {
            path: path.to_path_buf(),
            pool,
            writer: writer::Writer::spawn(conn, point_readers.clone(), flush_apart)?,
            point_readers,
        })
    }

    /// The book's file.
    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` right here, on the calling thread, in one snapshot that holds every write
    /// answered before the call (see `db::point_reads`). For lookups by primary key only (a
    /// few B-tree descents, microseconds): handing such a read to a blocking thread costs
    /// more than the read itself. Anything that scans uses [`Db::read`].
    pub(super) fn read_point<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&Conn) -> Result<T, AppError>,
    {
        self.point_readers.read(f)
    }

    /// Runs `f` on a pooled connection, on a blocking thread, in one read transaction:
    /// every query of `f` sees the same snapshot (a page and its total, an invoice and its
    /// payments), whatever commits meanwhile.
    pub(super) async fn read<T, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&Conn) -> Result<T, AppError> + Send + 'static,
    {
        let pool = self.pool.clone();
        let asked = std::time::Instant::now();
        run_blocking(move || {
            let conn = pool.get()?;
            crate::metrics::read_wait(asked.elapsed());
            in_snapshot(&conn, f)
        })
        .await
    }

    /// Runs `f` on the writer thread, inside the writer's IMMEDIATE transaction and a
    /// savepoint of its own: writes are applied one at a time, in order, so a check made
    /// inside `f` still holds when `f` writes. `Err` (or a panic) rolls back `f`'s writes
    /// alone; the answer comes only once the batch holding `f` has committed.
    pub(super) async fn write<T, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&WriteTx) -> Result<T, AppError> + Send + 'static,
    {
        self.writer.submit(f).await
    }

    /// Returns once every commit begun before the call is on disk (`writer/durable_mark.rs`).
    pub(super) async fn until_seen_is_durable(&self) -> Result<(), AppError> {
        self.writer.until_seen_is_durable().await
    }

    /// One IMMEDIATE transaction on a pooled connection, for callers that are not async
    /// (the CLI and tests' setup); SQLite's lock orders it with the writer thread.
    pub(super) fn write_blocking<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&WriteTx) -> Result<T, AppError>,
    {
        let mut conn = self.pool.get()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = f(&WriteTx::new(Conn::sqlite(&tx)))?;
        invoices::render_details(&Conn::sqlite(&tx), i64::MAX)?;
        tx.commit()?;
        self.point_readers.after_commit();
        Ok(value)
    }

    /// Runs `f` on the calling thread in one read transaction (one snapshot), for callers
    /// that are not async: the CLI (`verify` reads a live book) and tests.
    pub(super) fn read_blocking<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&Conn) -> Result<T, AppError>,
    {
        let conn = self.pool.get()?;
        in_snapshot(&conn, f)
    }
}

fn migrate(conn: &mut Connection) -> Result<(), AppError> {
    // A migration that rebuilds a table others reference (V11) must drop it, which
    // foreign keys forbid; the pragma is a no-op inside the runner's transaction, so it
    // is switched here, and back on whatever the runner did.
    let runner = embedded::migrations::runner().set_grouped(true);
    announce_pending(&runner, conn);
    conn.execute_batch("PRAGMA foreign_keys = OFF")?;
    let ran = runner.run(conn);
    conn.execute_batch("PRAGMA foreign_keys = ON")?;
    let report = ran.map_err(|err| AppError::Internal(format!("migration failed: {err}")))?;
    if report.applied_migrations().is_empty() {
        return Ok(());
    }
    for migration in report.applied_migrations() {
        tracing::info!(migration = %migration, "applied database migration");
    }
    // Only after a migration: on a large book the check reads every key (seconds).
    let broken: i64 =
        conn.query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |row| {
            row.get(0)
        })?;
    if broken > 0 {
        return Err(AppError::Internal(format!(
            "the migrated book has {broken} rows whose foreign keys point nowhere; \
             refusing to serve it (run PRAGMA foreign_key_check to list them)"
        )));
    }
    restore_statistics(conn)
}

/// The schema version this binary migrates a SQLite book to: its newest embedded migration.
pub(super) fn schema_version() -> i64 {
    super::newest_migration(&embedded::migrations::runner())
}

/// Says before a migration starts that one is coming: on a large book a rebuild takes a
/// while (about 30 s for 1M invoices), and an operator should not see only silence.
fn announce_pending(runner: &refinery::Runner, conn: &mut Connection) {
    let last = runner
        .get_last_applied_migration(conn)
        .ok()
        .flatten()
        .map_or(0, |migration| migration.version());
    let pending = runner
        .get_migrations()
        .iter()
        .filter(|migration| migration.version() > last)
        .count();
    if pending > 0 && last > 0 {
        tracing::info!(
            pending,
            "upgrading the database; on a large book this takes a while"
        );
    }
}

/// A rebuilt table loses its planner statistics; a book that had them (a seeded or
/// analysed one) gets them again, without the samples that make SQLite re-plan bound
/// statements (see `bulk::seed_book`).
fn restore_statistics(conn: &Connection) -> Result<(), AppError> {
    let has = |table: &str| -> Result<bool, AppError> {
        Ok(conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE name = ?1)",
            [table],
            |row| row.get(0),
        )?)
    };
    if !has("sqlite_stat1")? {
        return Ok(());
    }
    tracing::info!("gathering planner statistics again after the migration");
    conn.execute_batch("ANALYZE")?;
    if has("sqlite_stat4")? {
        conn.execute_batch("DELETE FROM sqlite_stat4")?;
    }
    Ok(())
}

/// Clears the detail copies when they were written in another format than this binary's,
/// so that [`render_missing_details`] writes them again.
fn clear_copies_of_another_format(conn: &Connection) -> Result<(), AppError> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    match invoices::clear_copies_of_another_format(&Conn::sqlite(conn)) {
        Ok(cleared) => {
            conn.execute_batch("COMMIT")?;
            if cleared {
                tracing::info!("invoice detail copies are of another format: writing them again");
            }
            Ok(())
        }
        Err(err) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(err)
        }
    }
}

/// Renders the detail copies a book has not got yet: after the upgrade that adds them
/// (migration V4) that is every invoice, in transactions of a few thousand, with progress
/// in the log. On an up-to-date book this is one empty index probe.
fn render_missing_details(conn: &Connection) -> Result<(), AppError> {
    const BATCH: i64 = 5_000;
    const LOG_EVERY: usize = 100_000;
    let missing = invoices::count_unrendered(&Conn::sqlite(conn))?;
    if missing == 0 {
        return Ok(());
    }
    tracing::info!(
        invoices = missing,
        "rendering invoice detail copies (once, after an upgrade)"
    );
    let mut total = 0;
    loop {
        conn.execute_batch("BEGIN IMMEDIATE")?;
        let done = match invoices::render_details(&Conn::sqlite(conn), BATCH) {
            Ok(count) => conn.execute_batch("COMMIT").map(|()| count),
            Err(err) => {
                let _ = conn.execute_batch("ROLLBACK");
                return Err(err);
            }
        }?;
        if done == 0 {
            break;
        }
        if (total + done) / LOG_EVERY > total / LOG_EVERY {
            tracing::info!(
                invoices = total + done,
                of = missing,
                "rendered invoice detail copies"
            );
        }
        total += done;
    }
    tracing::info!(invoices = total, "invoice detail copies rendered");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_bounds_sqlites_heap_for_every_connection_in_the_process() {
        let other = Connection::open_in_memory().expect("a connection");
        let limit = || -> i64 {
            other
                .pragma_query_value(None, "soft_heap_limit", |row| row.get(0))
                .expect("the limit reads")
        };
        let before = limit();
        bound_server_heap().expect("the limit is set");
        // The limit is the process's, not one connection's: another connection reads it.
        let bounded = limit();
        // Given back, so the seeded books of the tests beside this one load unbounded.
        other
            .pragma_update(None, "soft_heap_limit", before)
            .expect("the limit is given back");
        assert_eq!(bounded, 8_388_608);
    }
}
