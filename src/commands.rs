//! The commands that examine or copy a whole book, and what they print: `verify`,
//! `backup`, `doctor`, `restore` (the work is `arvalox::ops`'s).

use std::path::PathBuf;

use anyhow::{bail, Context};
use arvalox::api::journal::local;
use arvalox::clock::{Clock, SystemClock};
use arvalox::db::location::PostgresUrl;
use arvalox::db::{Db, Synchronous};

pub(crate) fn verify(path: &std::path::Path, expected: &[(String, String)]) -> anyhow::Result<()> {
    if !path.exists() {
        bail!("{} does not exist", path.display());
    }
    // Not `open`: verifying journals nothing, not even rows from before the journal.
    let store =
        Db::open(path, Synchronous::Full).with_context(|| format!("opening {}", path.display()))?;
    let found = local::verify(&store, expected, SystemClock.today())?;
    for line in &found.organizations {
        println!("{line}");
    }
    if found.faults.is_empty() {
        println!(
            "{}: the journal, every row and the books check out",
            path.display()
        );
        return Ok(());
    }
    for fault in &found.faults {
        println!("FAULT {fault}");
    }
    bail!("{}: {} faults found", path.display(), found.faults.len())
}

pub(crate) fn backup(
    path: &std::path::Path,
    out: &std::path::Path,
    force: bool,
) -> anyhow::Result<()> {
    let done = arvalox::ops::backup(path, out, force, SystemClock.today())?;
    done.organizations
        .iter()
        .for_each(|line| println!("{line}"));
    println!("{}: {} bytes, checked", done.file.display(), done.bytes);
    Ok(())
}

pub(crate) fn doctor(path: &std::path::Path, repair: bool) -> anyhow::Result<()> {
    if repair {
        arvalox::ops::repair(path)?;
        println!(
            "{}: summaries and detail copies written again from the records",
            path.display()
        );
    }
    let report = arvalox::ops::doctor(path, SystemClock.today())?;
    report.lines.iter().for_each(|line| println!("{line}"));
    match report.faults {
        0 => Ok(()),
        n => bail!("{}: {n} faults found", path.display()),
    }
}

pub(crate) fn export(
    path: &std::path::Path,
    org: &str,
    out: &std::path::Path,
    now: &str,
) -> anyhow::Result<()> {
    let manifest = arvalox::db::export::export_book(path, org, out, now)?;
    for file in &manifest.files {
        println!("{:>10} rows  {}", file.rows, out.join(&file.file).display());
    }
    println!("{}", out.join("manifest.json").display());
    Ok(())
}

pub(crate) fn restore(
    from: &std::path::Path,
    to: &std::path::Path,
    now: &str,
) -> anyhow::Result<()> {
    let done = arvalox::ops::restore(from, to, (SystemClock.today(), now))?;
    done.organizations
        .iter()
        .for_each(|line| println!("{line}"));
    println!(
        "{}: restored from {} (schema {}), checked",
        to.display(),
        from.display(),
        done.schema_version
    );
    if let Some(aside) = &done.kept_aside {
        println!("the file it replaced is kept at {}", aside.display());
    }
    Ok(())
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
        .unwrap_or_else(|_| "info,refinery_core=warn".into());
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
    use arvalox::db::postgres::{migrate, PostgresProblem};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    match runtime.block_on(migrate(url)) {
        Ok(done) => {
            println!(
                "{url}: migrated ({} applied, at version {})",
                done.applied, done.version
            );
            Ok(())
        }
        Err(problem) => {
            eprintln!("arvalox: {}", problem.line(url));
            let code = match problem {
                PostgresProblem::Unreachable(_) => 16,
                PostgresProblem::Newer { .. } => 14,
                PostgresProblem::Failed(_) => 1,
            };
            std::process::exit(code);
        }
    }
}
