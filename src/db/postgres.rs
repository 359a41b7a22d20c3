//! The PostgreSQL engine: reaching the server and migrating its book. The schema lives in
//! `migrations/postgres/` (one squashed migration shaped for Citus; SQLite keeps its own
//! twenty in `migrations/sqlite/`), embedded in the binary like SQLite's.

use tokio_postgres::{Client, NoTls};

use super::location::PostgresUrl;

mod embedded {
    refinery::embed_migrations!("migrations/postgres");
}

/// Two processes migrating one database at once take turns on this advisory lock, so the
/// second finds the work done instead of racing the first into a duplicate table.
const MIGRATION_LOCK: i64 = 0x4152_5641_4c4f_5801;

/// Why a PostgreSQL book could not be opened or migrated.
#[derive(Debug)]
pub enum PostgresProblem {
    /// The server did not answer, or refused the login or the database.
    Unreachable(String),
    /// The book was migrated by a newer Arvalox.
    Newer { have: i64, know: i64 },
    /// Anything else the server said.
    Failed(String),
}

impl PostgresProblem {
    /// One line for the operator, the URL's password masked.
    pub fn line(&self, url: &PostgresUrl) -> String {
        match self {
            PostgresProblem::Unreachable(why) => {
                format!("{url}: cannot reach the database ({why}): check the host, port, user, password and database name")
            }
            PostgresProblem::Newer { have, know } => format!(
                "{url}: written by a newer Arvalox (migrations up to {have}; this binary knows {know}): run that version"
            ),
            PostgresProblem::Failed(why) => format!("{url}: {why}"),
        }
    }
}

/// What `migrate` did: how many migrations it applied, and the version the book is at.
pub struct Migrated {
    pub applied: usize,
    pub version: i64,
}

/// The schema version this binary migrates a PostgreSQL book to.
pub fn schema_version() -> i64 {
    super::newest_migration(&embedded::migrations::runner())
}

/// One connection, its driver task running on the current runtime. The driver's errors
/// never carry the password (it names hosts and the server's messages only).
pub async fn connect(url: &PostgresUrl) -> Result<Client, PostgresProblem> {
    let (client, connection) = tokio_postgres::connect(url.connection_text(), NoTls)
        .await
        .map_err(|err| PostgresProblem::Unreachable(reason(&err)))?;
    tokio::spawn(async move {
        if let Err(err) = connection.await {
            tracing::warn!(error = %reason(&err), "a PostgreSQL connection ended");
        }
    });
    Ok(client)
}

/// Brings the book at `url` to this binary's schema, all pending migrations in one
/// transaction (PostgreSQL's DDL is transactional: a migration cut short leaves nothing).
pub async fn migrate(url: &PostgresUrl) -> Result<Migrated, PostgresProblem> {
    let mut client = connect(url).await?;
    let failed = |err: tokio_postgres::Error| PostgresProblem::Failed(reason(&err));
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(failed)?;
    let have = applied_version(&client).await.map_err(failed)?;
    let know = schema_version();
    if have > know {
        return Err(PostgresProblem::Newer { have, know });
    }
    let report = embedded::migrations::runner()
        .set_grouped(true)
        .run_async(&mut client)
        .await
        .map_err(|err| PostgresProblem::Failed(format!("migrating failed: {err}")))?;
    let version = applied_version(&client).await.map_err(failed)?;
    client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(failed)?;
    Ok(Migrated {
        applied: report.applied_migrations().len(),
        version,
    })
}

/// The newest migration the book has (0 for an empty database).
async fn applied_version(client: &Client) -> Result<i64, tokio_postgres::Error> {
    let row = client
        .query_one(
            "SELECT to_regclass('refinery_schema_history') IS NOT NULL",
            &[],
        )
        .await?;
    if !row.get::<_, bool>(0) {
        return Ok(0);
    }
    let row = client
        .query_one(
            "SELECT COALESCE(MAX(version), 0)::BIGINT FROM refinery_schema_history",
            &[],
        )
        .await?;
    Ok(row.get(0))
}

/// The driver's error with the server's own message when there is one ("password
/// authentication failed for user …", "database … does not exist").
fn reason(err: &tokio_postgres::Error) -> String {
    match err.as_db_error() {
        Some(db) => db.message().to_string(),
        None => err.to_string(),
    }
}
