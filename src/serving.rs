//! `arvalox serve`: the server's start, life and stop, on either engine.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;

use arvalox::api::journal::local;
use arvalox::api::{self, AppState};
use arvalox::clock::{Clock, SystemClock};
use arvalox::db::location::{BookLocation, PostgresUrl};
use arvalox::db::{self, Db, Synchronous};
use arvalox::domain::keys::Scope;
use arvalox::ratelimit::{Limits, RateLimiter};

use crate::commands;
use crate::now_text;

/// `--backup-dir`, `--backup-every`, `--backup-keep`.
pub(crate) type Backups = (Option<PathBuf>, Option<std::time::Duration>, usize);

/// Opens (migrating) the book; rows written before the audit journal existed get their
/// first events here, once.
pub(crate) fn open(path: &std::path::Path, synchronous: Synchronous) -> anyhow::Result<Db> {
    checked_or_exit(arvalox::ops::precheck(path));
    opened(path, synchronous)
}

/// Ends the command with the problem's line and exit code (those `serve` gives), if any.
pub(crate) fn checked_or_exit<T>(check: Result<T, (arvalox::ops::StartProblem, String)>) -> T {
    match check {
        Ok(passed) => passed,
        Err((problem, line)) => {
            eprintln!("arvalox: {line}");
            std::process::exit(problem.exit_code());
        }
    }
}

/// [`open`] once the file has been checked (`serve` checks it under its lock).
pub(crate) fn opened(path: &std::path::Path, synchronous: Synchronous) -> anyhow::Result<Db> {
    let store =
        Db::open(path, synchronous).with_context(|| format!("opening {}", path.display()))?;
    journal_older_rows(store)
}

/// Opens (migrating) the PostgreSQL book at `url`; a server that cannot be reached, or a
/// book of a newer Arvalox, ends the command with its line and exit code (16, 14), as
/// `arvalox migrate` does.
fn open_postgres(url: &PostgresUrl, pool_size: usize) -> anyhow::Result<Db> {
    match Db::open_postgres(url, pool_size) {
        Ok(store) => journal_older_rows(store),
        Err(problem) => commands::exit_on_postgres_problem(url, problem),
    }
}

/// The book `serve` serves; on SQLite with the server's bound on SQLite's heap, set first.
fn open_to_serve(
    location: &BookLocation,
    synchronous: Synchronous,
    pool_size: usize,
) -> anyhow::Result<Db> {
    match location {
        BookLocation::Sqlite(path) => {
            db::bound_server_heap()?;
            opened(path, synchronous)
        }
        BookLocation::Postgres(url) => open_postgres(url, pool_size),
    }
}

/// A command's few connections to a PostgreSQL book.
const COMMAND_POOL: usize = 2;

/// The book at `location`, on either engine, opened for a command as `serve` opens it.
pub(crate) fn open_book(location: &BookLocation) -> anyhow::Result<Db> {
    match location {
        BookLocation::Sqlite(path) => open(path, Synchronous::Full),
        BookLocation::Postgres(url) => open_postgres(url, COMMAND_POOL),
    }
}

/// The book at `location`, migrated but otherwise as found: for `verify`, which reports
/// rows from before the journal instead of journaling them.
pub(crate) fn open_as_is(location: &BookLocation) -> anyhow::Result<Db> {
    match location {
        BookLocation::Sqlite(path) => {
            if !path.exists() {
                anyhow::bail!("{} does not exist", path.display());
            }
            Db::open(path, Synchronous::Full).with_context(|| format!("opening {}", path.display()))
        }
        BookLocation::Postgres(url) => match Db::open_postgres(url, COMMAND_POOL) {
            Ok(store) => Ok(store),
            Err(problem) => commands::exit_on_postgres_problem(url, problem),
        },
    }
}

/// Journals the rows written before the audit journal existed: their first events, once.
fn journal_older_rows(store: Db) -> anyhow::Result<Db> {
    let now = now_text();
    let imported =
        local::import_rows_written_before_the_journal(&store, (SystemClock.today(), now.as_str()))?;
    if imported > 0 {
        tracing::info!(
            rows = imported,
            "journaled the rows written before the audit journal"
        );
    }
    Ok(store)
}

/// On a book without keys, creates an admin key and prints its secret (once).
pub(crate) fn print_a_first_key(store: &Db, bind: SocketAddr) -> anyhow::Result<()> {
    if store.read_blocking(db::keys::count_keys)? == 0 {
        let now = now_text();
        let when = (SystemClock.today(), now.as_str());
        let (record, secret) = local::create_key(store, "default", ("admin", Scope::Admin), when)?;
        // Printed, not logged: the secret must never reach a log sink. A closed stdout must
        // not stop the server, so write errors are ignored.
        let _ = writeln!(
            std::io::stdout(),
            "\nNo API key existed, so an admin key was created for organization 'default' (prefix {}).\nStore it now; it is not shown again:\n\n    {secret}\n\nOpen the console at http://{bind}/ and sign in with it, or try:\n    curl http://{bind}/v1/ping -H \"x-arvalox-api-key: {secret}\"\n",
            record.prefix
        );
        let _ = std::io::stdout().flush();
    }
    Ok(())
}

/// `GET /metrics` on its own listener, until the runtime stops.
fn serve_metrics(
    bind: SocketAddr,
    book: Option<PathBuf>,
    limits: arvalox::net::ConnectionLimits,
) -> anyhow::Result<()> {
    let handle = arvalox::metrics::install().map_err(anyhow::Error::msg)?;
    let listener = arvalox::net::listen(bind)
        .with_context(|| format!("--metrics-bind: cannot listen on {bind}"))?;
    arvalox::metrics::spawn_upkeep(handle.clone());
    let endpoint = arvalox::metrics::endpoint(handle, book);
    tokio::spawn(async move {
        let forever = std::future::pending::<()>();
        if let Err(err) = arvalox::net::serve(listener, endpoint, limits, forever).await {
            tracing::error!(error = %err, "the metrics listener failed");
        }
    });
    tracing::info!(%bind, "metrics at http://{bind}/metrics");
    Ok(())
}

pub(crate) fn serve(
    (location, pool_size): (BookLocation, usize),
    bind: SocketAddr,
    limits: Limits,
    (synchronous, webhooks_block_private, connections): (
        Synchronous,
        bool,
        commands::ConnectionArgs,
    ),
    (mail, backups): (Option<arvalox::mail::MailSettings>, Backups),
) -> anyhow::Result<()> {
    let (backup_dir, backup_every, backup_keep) = backups;
    // Before anything opens (and so changes) a file: one line and an exit code of its own.
    // The lock it answers is held for the server's life, and so dropped last.
    let file = match &location {
        BookLocation::Sqlite(path) => Some(path.clone()),
        BookLocation::Postgres(_) => None,
    };
    let _serving = checked_or_exit(file.as_deref().map(arvalox::ops::preflight).transpose());
    // The only blocking work is reads (writes have their own thread), and the read pool
    // has four connections: more blocking threads would only wait, each with its own stack
    // and allocator arena.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(4)
        .build()?;
    // Read before the database is opened: a mistyped URL stops the start, saying why.
    let mailer = match mail {
        Some(settings) => {
            let _runtime = runtime.enter();
            Some(arvalox::mail::Mailer::new(&settings).map_err(anyhow::Error::msg)?)
        }
        None => None,
    };
    let store = open_to_serve(&location, synchronous, pool_size)?;
    print_a_first_key(&store, bind)?;
    let mut state = AppState::new(store, Arc::new(SystemClock), RateLimiter::new(limits));
    match mailer {
        Some(mailer) => {
            tracing::info!(mail = %mailer.describe(), "documents can be e-mailed");
            state = state.with_mailer(mailer);
        }
        None => tracing::info!("no --smtp-url: documents are not e-mailed"),
    }
    if let Some(dir) = backup_dir {
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("--backup-dir {}: cannot create it", dir.display()))?;
        state = state.with_backup_dir(dir, backup_keep);
    }
    let state = Arc::new(state);
    let book = file.clone();
    runtime.block_on(async move {
        tokio::spawn(api::keycache::watch_revocations(
            state.db.clone(),
            state.keys.clone(),
        ));
        api::webhooks::spawn_deliveries(state.clone(), webhooks_block_private);
        if let Some(every) = backup_every {
            tracing::info!(every = %humantime::format_duration(every), keep = backup_keep, "scheduled backups");
            api::admin::spawn_scheduled_backups(state.clone(), every);
        }
        let signal = arvalox::process::shutdown_signal().context("cannot install signal handlers")?;
        let stopping = state.clone();
        let shutdown = async move {
            signal.await;
            stopping.close();
        };
        if let Some(metrics_bind) = connections.metrics_bind {
            serve_metrics(metrics_bind, file, connections.limits())?;
        }
        let listener =
            arvalox::net::listen(bind).with_context(|| format!("cannot listen on {bind}"))?;
        tracing::info!(%bind, db = %location, "serving; the console at /, OpenAPI at /openapi.json, Swagger UI at /docs");
        arvalox::net::serve(listener, api::build_app(state), connections.limits(), shutdown)
            .await
            .context("server failed")
    })?;
    // Every connection closes with the runtime; then the WAL goes back into the file, so a
    // stopped book is one file (a copy of it alone is whole).
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    let Some(book) = book else {
        tracing::info!("stopped");
        return Ok(());
    };
    match db::backup::checkpoint(&book) {
        Ok(()) => tracing::info!("stopped; the WAL is checkpointed into the book"),
        Err(err) => tracing::warn!(error = %err, "stopped; the WAL could not be checkpointed"),
    }
    Ok(())
}
