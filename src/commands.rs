//! The commands that examine or copy a whole book, and what they print: `verify`,
//! `backup`, `doctor`, `restore` (the work is `arvalox::ops`'s).

use std::path::PathBuf;

use anyhow::{bail, Context};
use arvalox::api::journal::local;
use arvalox::clock::{Clock, SystemClock};
use arvalox::db::location::{BookLocation, PostgresUrl};
use arvalox::db::{Db, Synchronous};

pub(crate) fn verify(location: &BookLocation, expected: &[(String, String)]) -> anyhow::Result<()> {
    // Not `open_book`: verifying journals nothing, not even rows from before the journal,
    // and a SQLite file is read as it is, never migrated.
    let found = match location {
        BookLocation::Sqlite(path) => {
            if let Some(line) = arvalox::ops::newer_book(path) {
                eprintln!("arvalox: {line}");
                std::process::exit(arvalox::ops::StartProblem::NewerBook.exit_code());
            }
            arvalox::ops::verify_file(path, expected, SystemClock.today())?
        }
        BookLocation::Postgres(_) => {
            let store = crate::serving::open_as_is(location)?;
            local::verify(&store, expected, SystemClock.today())?
        }
    };
    for line in &found.organizations {
        say!("{line}");
    }
    if found.faults.is_empty() {
        say!("{location}: the journal, every row and the books check out");
        return Ok(());
    }
    for fault in &found.faults {
        say!("FAULT {fault}");
    }
    bail!("{location}: {} faults found", found.faults.len())
}

pub(crate) fn backup(
    path: &std::path::Path,
    out: &std::path::Path,
    force: bool,
) -> anyhow::Result<()> {
    let done = arvalox::ops::backup(path, out, force, SystemClock.today())?;
    done.organizations.iter().for_each(|line| say!("{line}"));
    say!("{}: {} bytes, checked", done.file.display(), done.bytes);
    Ok(())
}

pub(crate) fn doctor(location: &BookLocation, repair: bool) -> anyhow::Result<()> {
    let report = match location {
        BookLocation::Sqlite(path) => {
            if repair {
                arvalox::ops::repair(path)?;
            }
            arvalox::ops::doctor(path, SystemClock.today())?
        }
        BookLocation::Postgres(_) => {
            let store = crate::serving::open_as_is(location)?;
            if repair {
                arvalox::ops::repair_book(&store)?;
            }
            arvalox::ops::doctor_book(&store, SystemClock.today())?
        }
    };
    if repair {
        say!("{location}: summaries and detail copies written again from the records");
    }
    report.lines.iter().for_each(|line| say!("{line}"));
    match report.faults {
        0 => Ok(()),
        n => bail!("{location}: {n} faults found"),
    }
}

pub(crate) fn export(
    location: &BookLocation,
    org: &str,
    out: &std::path::Path,
    now: &str,
) -> anyhow::Result<()> {
    let manifest = match location {
        BookLocation::Sqlite(path) => arvalox::db::export::export_book(path, org, out, now)?,
        BookLocation::Postgres(_) => {
            let store = crate::serving::open_as_is(location)?;
            arvalox::db::export::export_from(&store, org, out, now)?
        }
    };
    for file in &manifest.files {
        say!("{:>10} rows  {}", file.rows, out.join(&file.file).display());
    }
    say!("{}", out.join("manifest.json").display());
    Ok(())
}

pub(crate) fn restore(
    from: &std::path::Path,
    to: &std::path::Path,
    now: &str,
) -> anyhow::Result<()> {
    let done = arvalox::ops::restore(from, to, (SystemClock.today(), now))?;
    done.organizations.iter().for_each(|line| say!("{line}"));
    say!(
        "{}: restored from {} (schema {}), checked",
        to.display(),
        from.display(),
        done.schema_version
    );
    if let Some(aside) = &done.kept_aside {
        say!("the file it replaced is kept at {}", aside.display());
    }
    Ok(())
}

/// Writes one line of a command's output to stdout (see `say!`): exit 141 once the reader
/// has gone, exit 74 (EX_IOERR) naming the error when stdout cannot be written otherwise.
pub(crate) fn say_line(line: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let Err(error) = out.write_fmt(line).and_then(|()| out.write_all(b"\n")) else {
        return;
    };
    if error.kind() != std::io::ErrorKind::BrokenPipe {
        eprintln!("arvalox: cannot write the output: {error}");
        std::process::exit(74);
    }
    std::process::exit(141);
}

/// Where e-mailed documents go out (all three also from the environment).
#[derive(clap::Args)]
pub(crate) struct MailArgs {
    /// The mail server: smtp://user:password@host:port (STARTTLS, required with a password),
    /// smtps://… (TLS), or smtp://host?tls=none for a relay on this host. Prefer
    /// ARVALOX_SMTP_URL: a command line is visible to every user of the machine.
    #[arg(
        long,
        env = "ARVALOX_SMTP_URL",
        hide_env_values = true,
        requires = "mail_from"
    )]
    smtp_url: Option<String>,
    /// The sender of e-mailed documents: ar@example.com or "Acme AR <ar@example.com>".
    #[arg(long, env = "ARVALOX_MAIL_FROM", requires = "smtp_url")]
    mail_from: Option<String>,
    /// A PEM certificate to trust for the mail server's TLS (a private CA or a self-signed relay).
    #[arg(long, env = "ARVALOX_SMTP_CA_FILE", requires = "smtp_url")]
    smtp_ca_file: Option<PathBuf>,
}

impl MailArgs {
    pub(crate) fn settings(self) -> Option<arvalox::mail::MailSettings> {
        Some(arvalox::mail::MailSettings {
            url: self.smtp_url?,
            from: self.mail_from?,
            ca_file: self.smtp_ca_file,
        })
    }
}

/// `--backup-every`: a duration (`1h`, `30m`) of at least a second.
pub(crate) fn every_at_least_a_second(text: &str) -> Result<std::time::Duration, String> {
    match humantime::parse_duration(text) {
        Ok(every) if every >= std::time::Duration::from_secs(1) => Ok(every),
        Ok(_) => Err("must be at least 1s".into()),
        Err(err) => Err(err.to_string()),
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LogFormat {
    Text,
    Json,
}

/// Logs to stderr, filtered by `RUST_LOG` (default `info`): text, or one JSON object a line
/// (its fields at the top level beside `timestamp`, `level`, `target` and `message`).
pub(crate) fn init_logging(format: LogFormat) {
    // refinery narrates every start ("no migrations to apply"); Arvalox logs the migrations
    // it applies itself.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,refinery_core=warn,tokio_postgres=warn".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .init(),
    }
}

/// How connections are served: `serve`'s timeouts and connection cap.
#[derive(clap::Args, Debug)]
pub struct ConnectionArgs {
    /// Seconds SIGTERM waits for requests in flight before the server stops anyway.
    #[arg(long, default_value_t = 30)]
    shutdown_timeout: u64,
    /// Seconds a connection may send and receive nothing before it is closed (longer than
    /// the 30 s an events request may wait).
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    idle_timeout: u64,
    /// Seconds a request's head may take to arrive once it has begun, and then its body
    /// (answered 408): a client that trickles its request is cut off.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    read_timeout: u64,
    /// Connections served at once; the next wait in the listen queue until one closes.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    max_connections: u32,
    /// Serve GET /metrics (Prometheus text format) on this address of its own, such as
    /// 127.0.0.1:9898; off unless given. Never the API's address: metrics are not for clients.
    #[arg(long, env = "ARVALOX_METRICS_BIND")]
    pub metrics_bind: Option<std::net::SocketAddr>,
}

impl ConnectionArgs {
    pub fn limits(&self) -> arvalox::net::ConnectionLimits {
        use std::time::Duration;
        arvalox::net::ConnectionLimits {
            read_timeout: Duration::from_secs(self.read_timeout),
            idle_timeout: Duration::from_secs(self.idle_timeout),
            max_connections: self.max_connections as usize,
            shutdown_timeout: Duration::from_secs(self.shutdown_timeout),
        }
    }
}

/// `arvalox migrate` on a PostgreSQL book: one line saying what was done, or one line (the
/// password masked) and the exit code of the problem: 16 when the server cannot be reached,
/// 14 when a newer Arvalox migrated the book.
pub(crate) fn migrate_postgres(url: &PostgresUrl) -> anyhow::Result<()> {
    use arvalox::db::postgres::migrate;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    match runtime.block_on(migrate(url)) {
        Ok(done) => {
            say!(
                "{url}: migrated ({} applied, at version {})",
                done.applied,
                done.version
            );
            Ok(())
        }
        Err(problem) => exit_on_postgres_problem(url, problem),
    }
}

/// Ends the command with the problem's line (the URL's password masked) and its exit
/// code: 16 for a server that cannot be reached, 14 for a book of a newer Arvalox.
pub(crate) fn exit_on_postgres_problem(
    url: &PostgresUrl,
    problem: arvalox::db::postgres::PostgresProblem,
) -> ! {
    use arvalox::db::postgres::PostgresProblem;
    eprintln!("arvalox: {}", problem.line(url));
    let code = match problem {
        PostgresProblem::Unreachable(_) => 16,
        PostgresProblem::Newer { .. } => 14,
        PostgresProblem::Failed(_) => 1,
    };
    std::process::exit(code);
}

/// `seed-demo`'s choices.
pub(crate) struct Demo {
    pub org: String,
    pub customers: usize,
    pub invoices: u64,
    pub seed: u64,
    pub as_of: Option<chrono::NaiveDate>,
    pub timezone: Option<String>,
    pub currency: Option<String>,
}

/// `arvalox seed-demo`: fills an empty organization with demo data, showing progress on a
/// terminal, then journals what it wrote; on either engine. The bulk seeder writes
/// SQLite's pages directly, so a PostgreSQL book gets the same book by way of a scratch
/// file and the copy `migrate-db` makes (into an empty book only, compared afterwards).
pub(crate) fn seed_demo(location: &BookLocation, demo: &Demo) -> anyhow::Result<()> {
    let url = match location {
        BookLocation::Sqlite(file) => {
            say!("{}", seed_file(file, demo, &file.display().to_string())?);
            return Ok(());
        }
        BookLocation::Postgres(url) => url,
    };
    // Refused before any work: a server that does not answer (exit 16), a book not empty.
    let present: i64 = crate::serving::open_as_is(location)?.read_blocking(|conn| {
        Ok(conn.query_row("SELECT COUNT(*) FROM organizations", (), |r| r.get(0))?)
    })?;
    if present > 0 {
        bail!("{url} already holds {present} organizations: seed-demo fills an empty PostgreSQL book (or seed a file and move it with migrate-db)");
    }
    let started = std::time::Instant::now();
    let scratch = tempfile::tempdir()?;
    let file = scratch.path().join("seed.db");
    let line = seed_file(&file, demo, &url.to_string())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut progress = |line: &str| say!("{line}");
    let moved = runtime.block_on(arvalox::db::transfer::to_postgres(
        &file,
        url,
        &mut progress,
    ));
    let (verdict, moved) = moved.map_err(|problem| anyhow::anyhow!("{url}: {problem}"))?;
    report_move(
        &BookLocation::Sqlite(file),
        location,
        &verdict,
        moved.len(),
        started,
    )?;
    say!("{line}");
    Ok(())
}

/// Seeds the SQLite file at `path`; answers the line that says what it holds (`shown`
/// naming the book).
fn seed_file(path: &std::path::Path, demo: &Demo, shown: &str) -> anyhow::Result<String> {
    let Demo {
        org,
        customers,
        invoices,
        seed,
        as_of,
        ..
    } = demo;
    let (org, customers, invoices, seed) = (org.as_str(), *customers, *invoices, *seed);
    if customers == 0 {
        anyhow::bail!("--customers must be at least 1");
    }
    let started = std::time::Instant::now();
    let as_of = as_of.unwrap_or_else(|| SystemClock.today());
    arvalox::seed::check_as_of(as_of).map_err(anyhow::Error::msg)?;
    // Held while seeding: the bulk seeder writes pages without a server's care for readers.
    let _seeding = crate::serving::checked_or_exit(arvalox::ops::preflight(path));
    let settings = local::NewOrganization {
        timezone: demo.timezone.as_deref(),
        currency: demo.currency.as_deref(),
    };
    if settings.timezone.is_some() || settings.currency.is_some() {
        let store = crate::serving::opened(path, Synchronous::Full)?;
        let now = arvalox::db::timestamp(SystemClock.now());
        local::create_organization(&store, (org, settings), (SystemClock.today(), &now))?;
    }
    let on_terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let mut progress = |done: u64, total: u64| {
        if on_terminal {
            eprint!(
                "\rseeding: {done}/{total} invoices ({:.0}%)",
                done as f64 * 100.0 / total.max(1) as f64
            );
        }
    };
    let summary = arvalox::db::bulk::seed_book(
        path,
        &arvalox::db::bulk::SeedRequest {
            organization: org,
            customers,
            invoices,
            seed,
            as_of,
        },
        &mut progress,
    )
    .with_context(|| format!("seeding {}", path.display()))?;
    if on_terminal {
        eprintln!();
    }
    let now = arvalox::db::timestamp(SystemClock.now());
    // Not `open`: that would journal the seeded rows as rows from before the journal.
    let store =
        Db::open(path, Synchronous::Full).with_context(|| format!("opening {}", path.display()))?;
    let journaled = local::journal_seeded_rows(&store, org, (as_of, now.as_str()))?;
    Ok(format!(
        "Seeded organization '{org}' in {shown}: {} customers, {} invoices, {} payments, {} credit notes, {} write-offs, {journaled} rows journaled (seed {seed}, as of {as_of}) in {:.1}s.",
        summary.customers,
        summary.invoices,
        summary.payments,
        summary.credit_notes,
        summary.write_offs,
        started.elapsed().as_secs_f64()
    ))
}

/// `arvalox migrate-db`: a book moved between engines, each organization's progress shown,
/// then both books compared; exit 1 naming each difference, 2 for two books of one engine.
pub(crate) fn migrate_db(from: &BookLocation, to: &BookLocation) -> anyhow::Result<()> {
    use arvalox::db::transfer;
    let started = std::time::Instant::now();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut progress = |line: &str| say!("{line}");
    // The SQLite side is locked as `serve` locks it: no server writes during the move.
    let (_lock, moved) = match (from, to) {
        (BookLocation::Sqlite(file), BookLocation::Postgres(url)) => (
            arvalox::ops::serving_lock(file)?,
            runtime.block_on(transfer::to_postgres(file, url, &mut progress)),
        ),
        (BookLocation::Postgres(url), BookLocation::Sqlite(file)) => (
            arvalox::ops::serving_lock(file)?,
            runtime.block_on(transfer::to_sqlite(url, file, &mut progress)),
        ),
        _ => {
            eprintln!("arvalox: migrate-db moves a book between engines: give one SQLite file and one postgres:// URL (to copy a SQLite book, use `arvalox backup`)");
            std::process::exit(2);
        }
    };
    let (verdict, moved) = match moved {
        Ok(done) => done,
        Err(problem) => {
            eprintln!("arvalox: {from} → {to}: {problem}");
            std::process::exit(1);
        }
    };
    report_move(from, to, &verdict, moved.len(), started)
}

fn report_move(
    from: &BookLocation,
    to: &BookLocation,
    verdict: &arvalox::db::transfer::Verdict,
    organizations: usize,
    started: std::time::Instant,
) -> anyhow::Result<()> {
    verdict
        .figures
        .iter()
        .for_each(|figures| say!("{}", figures.line()));
    if !verdict.differences.is_empty() {
        verdict
            .differences
            .iter()
            .for_each(|line| eprintln!("arvalox: differs: {line}"));
        anyhow::bail!("{to} is not the same book as {from}: see the lines above");
    }
    say!(
        "{from} → {to}: {organizations} organizations, {} rows in {} tables copied and compared: the same in both books ({:.1}s)",
        verdict.rows,
        verdict.tables,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// After a command wrote to the book at `path` and closed it: its WAL is checkpointed into
/// the file, so the book at rest is one whole file and a copy of `ar.db` alone holds the
/// change (found in review: a key revoked by the CLI came back in such a copy). A book a
/// server holds is left to it: the server checkpoints on its way out.
pub fn settle(path: &std::path::Path) {
    if arvalox::ops::in_use(path) || !path.is_file() {
        return;
    }
    if let Err(err) = arvalox::db::backup::checkpoint(path) {
        tracing::warn!(error = %err, book = %path.display(), "the WAL could not be checkpointed");
    }
}
