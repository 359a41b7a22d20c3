//! The `arvalox` command: parses the CLI, sets up logging and dispatches to the library.

/// `println!` for what a command prints: a reader that has gone (`arvalox verify | head`)
/// ends the command as SIGPIPE ends a C program's, with exit 141 and nothing more, where
/// `println!` would panic (Rust ignores SIGPIPE, and the lints forbid the unsafe call that
/// restores it).
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::commands::say_line(format_args!($($arg)*))
    };
}

mod commands;
mod serving;

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::bail;
use clap::{Parser, Subcommand};

use arvalox::api;
use arvalox::api::journal::local;
use arvalox::clock::{Clock, SystemClock};
use arvalox::db::location::BookLocation;
use arvalox::db::{self, Synchronous};
use arvalox::domain::keys::Scope;
use arvalox::ratelimit::Limits;
use serving::open;

#[derive(Parser)]
#[command(
    name = "arvalox",
    version,
    about = "Self-hosted accounts-receivable server over one SQLite file"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log lines as text for a person, or as one JSON object a line for a log shipper.
    #[arg(long, global = true, value_enum, default_value_t = commands::LogFormat::Text, env = "ARVALOX_LOG_FORMAT")]
    log_format: commands::LogFormat,
}

#[derive(clap::Args)]
struct DbArg {
    /// The book: a SQLite file (created if missing), as a path or sqlite://PATH; or a
    /// PostgreSQL database as postgres://USER:PASSWORD@HOST:PORT/NAME
    /// (prefer ARVALOX_DB for a URL with a password: a command line is visible to every
    /// user of the machine).
    #[arg(long, env = "ARVALOX_DB", hide_env_values = true)]
    db: BookLocation,
}

impl DbArg {
    /// The SQLite file; any other location ends the command with its one line (the URL's
    /// password masked) and exit code 2.
    fn file(self) -> PathBuf {
        match self.db.sqlite_file() {
            Ok(path) => path.to_path_buf(),
            Err(line) => {
                eprintln!("arvalox: {line}");
                std::process::exit(2);
            }
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Open (or create) the database, migrate it and serve the API.
    Serve {
        #[command(flatten)]
        db: DbArg,
        /// Address to listen on.
        #[arg(long, env = "ARVALOX_BIND", default_value = "127.0.0.1:8000")]
        bind: SocketAddr,
        /// Requests per key per minute (0 turns the window off).
        #[arg(long, default_value_t = 50)]
        rate_limit_minute: u32,
        /// Requests per key per hour (0 turns the window off).
        #[arg(long, default_value_t = 1000)]
        rate_limit_hour: u32,
        /// Requests per key per day (0 turns the window off).
        #[arg(long, default_value_t = 10000)]
        rate_limit_day: u32,
        /// Failed authentications per client address per minute before it is answered 429
        /// (0 turns it off: behind a proxy every client has the proxy's address).
        #[arg(long, default_value_t = arvalox::ratelimit::AUTH_FAILURES_PER_MINUTE)]
        auth_failures_minute: u32,
        /// Durability of each commit. `normal` and `off` can lose acknowledged writes on a power cut.
        #[arg(long, value_enum, default_value_t = Synchronous::Full)]
        synchronous: Synchronous,
        /// Refuse to deliver webhooks to loopback, private and link-local addresses (after
        /// name resolution): for hosted installs whose tenants must not reach the host's network.
        #[arg(long)]
        webhooks_block_private: bool,
        #[command(flatten)]
        mail: commands::MailArgs,
        /// Where POST /v1/admin/backup writes its checked copies (created if missing).
        #[arg(long, env = "ARVALOX_BACKUP_DIR")]
        backup_dir: Option<PathBuf>,
        /// Also take a checked backup into --backup-dir this often (at least 1s): 1h, 30m, 1d.
        #[arg(long, value_parser = commands::every_at_least_a_second, requires = "backup_dir")]
        backup_every: Option<std::time::Duration>,
        #[command(flatten)]
        connections: commands::ConnectionArgs,
        /// Most connections to a PostgreSQL book at once (a SQLite book ignores it).
        #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1000))]
        db_pool_size: u32,
        /// Keep the newest N (at least 1) of the server's backups in --backup-dir after each.
        #[arg(long, default_value_t = 48, value_parser = clap::value_parser!(u32).range(1..))]
        backup_keep: u32,
    },
    /// Manage API keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Run the embedded migrations and exit.
    Migrate {
        #[command(flatten)]
        db: DbArg,
    },
    /// Copy a whole book between engines (SQLite to PostgreSQL or back) into an empty
    /// target, one transaction per organization, then compare both books row for row.
    MigrateDb {
        /// The book to copy: a SQLite file or a postgres:// URL.
        #[arg(long)]
        from: BookLocation,
        /// Where to: an empty PostgreSQL database, or a SQLite file that does not exist yet.
        #[arg(long)]
        to: BookLocation,
    },
    /// Print the OpenAPI spec (JSON) to stdout.
    Openapi,
    /// Check every organization's audit journal (its hash chain), every row against its
    /// latest event, and that the books balance; exits non-zero naming each fault.
    Verify {
        #[command(flatten)]
        db: DbArg,
        /// ORG=HASH: the organization's journal must end at this head hash (as printed by
        /// an earlier verify), so a journal cut short is caught too. Repeatable.
        #[arg(long, value_parser = parse_expected_head)]
        expect_head: Vec<(String, String)>,
    },
    /// Copy the book while it may be serving (one read snapshot), check the copy (integrity,
    /// migrations, journal, books) and only then put it at --out.
    Backup {
        #[command(flatten)]
        db: DbArg,
        /// The backup file; an existing one is replaced only with --force.
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        force: bool,
    },
    /// Read the book whole and say what is wrong: SQLite's integrity and foreign keys, the
    /// migrations, the journal, every row, the books, the summaries and detail copies.
    /// Exits 1 when anything is. --repair first writes the derived data again.
    Doctor {
        #[command(flatten)]
        db: DbArg,
        #[arg(long)]
        repair: bool,
    },
    /// Put a backup in place of the book: refused while a server has it open; the backup
    /// is checked first, and the replaced file is kept aside as {db}.replaced-{time}.
    Restore {
        /// The backup file.
        #[arg(long)]
        from: PathBuf,
        #[command(flatten)]
        db: DbArg,
    },
    /// Write one organization's books as CSV files (customers, invoices, lines, payments,
    /// allocations, credit notes, refunds, write-offs, events) and a manifest.json, for an
    /// accountant or for leaving Arvalox. Never overwrites a file; one that fails removes
    /// what it wrote.
    Export {
        #[command(flatten)]
        db: DbArg,
        /// Organization slug.
        #[arg(long, default_value = "default")]
        org: String,
        /// Folder to write into (created if missing).
        #[arg(long)]
        out: PathBuf,
    },
    /// Fill an empty book with deterministic demo data (customers, invoices, payments).
    SeedDemo {
        #[command(flatten)]
        db: DbArg,
        #[arg(long, default_value_t = 200)]
        customers: usize,
        #[arg(long, default_value_t = 10_000)]
        invoices: u64,
        /// The same seed (and --as-of) gives the same book.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// The book's "today": invoices reach three years back from it (default: today).
        #[arg(long)]
        as_of: Option<chrono::NaiveDate>,
        /// Organization slug (created if missing; it must have no customers yet).
        #[arg(long, default_value = "default")]
        org: String,
        /// For a new organization: its IANA time zone (default: the server's).
        #[arg(long)]
        timezone: Option<String>,
        /// For a new organization: its ISO 4217 currency (default USD).
        #[arg(long)]
        currency: Option<String>,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Create a key; its secret is printed alone on the last line of stdout.
    Create {
        #[command(flatten)]
        db: DbArg,
        /// A name to tell the key apart.
        #[arg(long)]
        name: String,
        /// Organization slug (created if missing).
        #[arg(long, default_value = "default")]
        org: String,
        #[arg(long, value_parser = ["read", "write", "admin"], default_value = "write")]
        scope: String,
        /// For a new organization: its IANA time zone (default: the server's).
        #[arg(long)]
        timezone: Option<String>,
        /// For a new organization: its ISO 4217 currency (default USD).
        #[arg(long)]
        currency: Option<String>,
    },
    /// List keys (never their secrets).
    List {
        #[command(flatten)]
        db: DbArg,
    },
    /// Revoke a key by id or prefix.
    Revoke {
        #[command(flatten)]
        db: DbArg,
        /// The key's id or its displayed prefix (arv_xxxxxxxx).
        key: String,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if matches!(cli.command, Command::Serve { .. }) {
        arvalox::process::limit_malloc_arenas();
    }
    commands::init_logging(cli.log_format);
    let written = book_written(&cli.command);
    let outcome = run(cli.command);
    if let (Ok(()), Some(book)) = (&outcome, written) {
        commands::settle(&book);
    }
    outcome
}

/// The SQLite book a command other than `serve` writes to (its keys, migrations, demo data,
/// repairs), whose WAL is checkpointed on the way out.
fn book_written(command: &Command) -> Option<PathBuf> {
    let location = match command {
        Command::Keys {
            command: KeysCommand::Create { db, .. } | KeysCommand::Revoke { db, .. },
        }
        | Command::Migrate { db }
        | Command::SeedDemo { db, .. }
        | Command::Doctor { db, repair: true } => &db.db,
        _ => return None,
    };
    match location {
        BookLocation::Sqlite(path) => Some(path.clone()),
        BookLocation::Postgres(_) => None,
    }
}

fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve {
            db,
            bind,
            rate_limit_minute,
            rate_limit_hour,
            rate_limit_day,
            auth_failures_minute: auth_failures_per_minute,
            synchronous,
            webhooks_block_private,
            mail,
            backup_dir,
            backup_every,
            backup_keep,
            connections,
            db_pool_size,
        } => serving::serve(
            (db.db, db_pool_size as usize),
            bind,
            Limits {
                per_minute: rate_limit_minute,
                per_hour: rate_limit_hour,
                per_day: rate_limit_day,
                auth_failures_per_minute,
            },
            (synchronous, webhooks_block_private, connections),
            (
                mail.settings(),
                (backup_dir, backup_every, backup_keep as usize),
            ),
        ),
        Command::Keys { command } => keys(command),
        Command::Migrate { db } => {
            if let BookLocation::Postgres(url) = &db.db {
                return commands::migrate_postgres(url);
            }
            let file = db.file();
            open(&file, Synchronous::Full)?;
            say!("{}: migrated", file.display());
            Ok(())
        }
        Command::SeedDemo {
            db,
            customers,
            invoices,
            seed,
            as_of,
            org,
            timezone,
            currency,
        } => {
            local::check_names(new_book(&db.db).then_some(org.as_str()), None)?;
            commands::seed_demo(
                &db.db,
                &commands::Demo {
                    org,
                    customers,
                    invoices,
                    seed,
                    as_of,
                    timezone,
                    currency,
                },
            )
        }
        Command::Verify { db, expect_head } => commands::verify(&db.db, &expect_head),
        Command::Backup { db, out, force } => commands::backup(&db.file(), &out, force),
        Command::Doctor { db, repair } => commands::doctor(&db.db, repair),
        Command::Restore { from, db } => commands::restore(&from, &db.file(), &now_text()),
        Command::MigrateDb { from, to } => commands::migrate_db(&from, &to),
        Command::Export { db, org, out } => commands::export(&db.db, &org, &out, &now_text()),
        Command::Openapi => {
            say!("{}", api::spec_json());
            Ok(())
        }
    }
}

/// Whether `location` is a SQLite file not made yet (missing, or empty, which SQLite makes
/// a new book of): every organization a command names would be new in it.
fn new_book(location: &BookLocation) -> bool {
    matches!(location, BookLocation::Sqlite(path) if path.metadata().map_or(true, |m| m.len() == 0))
}

fn now_text() -> String {
    db::timestamp(SystemClock.now())
}

fn keys(command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::Create {
            db,
            name,
            org,
            scope,
            timezone,
            currency,
        } => {
            let Some(scope) = Scope::parse(&scope) else {
                bail!("scope must be read, write or admin");
            };
            local::check_names(new_book(&db.db).then_some(org.as_str()), Some(&name))?;
            let store = serving::open_book(&db.db)?;
            let now = now_text();
            let when = (SystemClock.today(), now.as_str());
            let (record, secret) = local::create_key_in_zone(
                &store,
                (
                    &org,
                    local::NewOrganization {
                        timezone: timezone.as_deref(),
                        currency: currency.as_deref(),
                    },
                ),
                (&name, scope),
                when,
            )?;
            say!(
                "Created {} key '{}' (id {}, prefix {}) for organization '{}'. Store it now: it is not shown again.",
                scope.as_str(),
                record.name,
                record.id,
                record.prefix,
                record.organization
            );
            say!("{secret}");
            Ok(())
        }
        KeysCommand::List { db } => {
            let store = serving::open_book(&db.db)?;
            let keys = store.read_blocking(|conn| db::keys::list_keys(conn, None))?;
            say!(
                "{:<5} {:<14} {:<7} {:<16} {:<24} {:<26} revoked",
                "id",
                "prefix",
                "scope",
                "organization",
                "name",
                "created"
            );
            for k in keys {
                say!(
                    "{:<5} {:<14} {:<7} {:<16} {:<24} {:<26} {}",
                    k.id,
                    k.prefix,
                    k.scope.as_str(),
                    k.organization,
                    k.name,
                    k.created_at,
                    k.revoked_at.as_deref().unwrap_or("-")
                );
            }
            Ok(())
        }
        KeysCommand::Revoke { db, key } => {
            let store = serving::open_book(&db.db)?;
            let now = now_text();
            let record = local::revoke_key(&store, &key, (SystemClock.today(), &now))?;
            say!(
                "Revoked key {} ({}, '{}').",
                record.id,
                record.prefix,
                record.name
            );
            Ok(())
        }
    }
}

fn parse_expected_head(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((org, hash)) if !org.is_empty() && hash.len() == 64 => {
            Ok((org.to_string(), hash.to_lowercase()))
        }
        _ => Err("give ORG=HASH, the hash as the 64 hex digits verify prints".into()),
    }
}
