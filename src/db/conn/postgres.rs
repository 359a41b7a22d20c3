//! A PostgreSQL session behind [`super::Conn`], on the synchronous client: the storage
//! functions are synchronous, and the `postgres` client drives its socket on the calling
//! thread, so a round trip costs the server's time and the socket's, with no hand-off to
//! another thread and back (the asynchronous driver, polled by a runtime of its own, needed
//! one each way).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use postgres::types::ToSql as PgToSql;
use postgres::NoTls;

use super::dialect::{to_postgres, Translated};
use super::pg_values::PgParam;
use super::value::ToSql;
use super::{StoreError, StoreResult};

/// Statements a connection keeps compiled at most. The fixed statements are a few hundred;
/// those built at run time also vary by their count of marks (`IN (?, ?)` over a page or an
/// export's chunk of up to 500 rows), so past this the connection starts its cache over
/// rather than let the server hold thousands.
const KEPT_STATEMENTS: usize = 1000;

/// Opens the pool's connections.
pub struct PgConnector {
    config: postgres::Config,
}

impl PgConnector {
    pub fn new(config: postgres::Config) -> PgConnector {
        PgConnector { config }
    }
}

/// One connection and the statements compiled on it, keyed by the SQL as the storage
/// layer wrote it (so the dialect's rewrite is made once per connection too).
pub struct PgLink {
    /// Always here but while the link is dropped (see its `Drop`).
    client: Option<postgres::Client>,
    statements: HashMap<String, PgStatement>,
}

impl PgLink {
    fn client(&mut self) -> StoreResult<&mut postgres::Client> {
        self.client
            .as_mut()
            .ok_or_else(|| StoreError::Misused("the connection is closed".into()))
    }
}

impl Drop for PgLink {
    /// Closing the client waits on its socket, which a runtime's thread must not do (the
    /// pool can go with the last handle to the book, inside async code): there, the client
    /// is closed on a thread of its own.
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            if tokio::runtime::Handle::try_current().is_ok() {
                std::thread::spawn(move || drop(client));
            }
        }
    }
}

impl r2d2::ManageConnection for PgConnector {
    type Connection = PgLink;
    type Error = postgres::Error;

    fn connect(&self) -> Result<PgLink, postgres::Error> {
        Ok(PgLink {
            client: Some(self.config.connect(NoTls)?),
            statements: HashMap::new(),
        })
    }

    fn is_valid(&self, link: &mut PgLink) -> Result<(), postgres::Error> {
        match link.client.as_mut() {
            Some(client) => client.simple_query("").map(|_| ()),
            None => Ok(()),
        }
    }

    fn has_broken(&self, link: &mut PgLink) -> bool {
        link.client.as_ref().is_none_or(postgres::Client::is_closed)
    }
}

/// One pooled connection, lent to one job on one thread.
pub struct PgSession {
    link: RefCell<r2d2::PooledConnection<PgConnector>>,
    /// A statement failed because its transaction lost a race (a serialization failure or
    /// a deadlock PostgreSQL broke): the whole transaction may be run again. Kept here, not
    /// read off the error that reaches the job's caller, because that error may be a later
    /// statement's ("current transaction is aborted") or one the job turned into its own.
    /// The SQLSTATE of the race lost, if one was.
    lost_race: Cell<Option<&'static str>>,
}

/// A statement compiled by the server, and which given parameters it binds.
#[derive(Clone)]
pub(super) struct PgStatement {
    pub(super) statement: postgres::Statement,
    positions: Vec<usize>,
}

impl PgSession {
    pub(crate) fn new(link: r2d2::PooledConnection<PgConnector>) -> PgSession {
        PgSession {
            link: RefCell::new(link),
            lost_race: Cell::new(None),
        }
    }

    /// The SQLSTATE of a race a statement lost since the last call (see `lost_race`), if
    /// any; clears it.
    pub(crate) fn take_lost_race(&self) -> Option<&'static str> {
        self.lost_race.take()
    }

    /// Notes `err` if it says the transaction lost a race, and hands it on.
    fn noted(&self, err: postgres::Error) -> postgres::Error {
        use postgres::error::SqlState;
        match err.code() {
            Some(code) if *code == SqlState::T_R_SERIALIZATION_FAILURE => {
                self.lost_race.set(Some("40001"));
            }
            Some(code) if *code == SqlState::T_R_DEADLOCK_DETECTED => {
                self.lost_race.set(Some("40P01"));
            }
            _ => {}
        }
        err
    }

    /// Compiles `sql` once per connection, up to [`KEPT_STATEMENTS`].
    pub(super) fn prepare(&self, sql: &str) -> StoreResult<PgStatement> {
        let mut link = self.link.borrow_mut();
        if let Some(statement) = link.statements.get(sql) {
            return Ok(statement.clone());
        }
        if link.statements.len() >= KEPT_STATEMENTS {
            link.statements.clear();
        }
        let Translated {
            sql: text,
            positions,
        } = to_postgres(sql);
        let statement = link.client()?.prepare(&text).map_err(|err| self.noted(err));
        let statement = statement.inspect_err(|err| {
            // Compiling locks the tables named, so it can lose a race like any statement.
            if self.lost_race.get().is_some() {
                return;
            }
            // A statement PostgreSQL refuses to compile is a bug of ours: say which.
            let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
            let error = err
                .as_db_error()
                .map_or(err.to_string(), |db| db.to_string());
            tracing::error!(%error, sql = %text, "PostgreSQL refused a statement");
        })?;
        let compiled = PgStatement {
            statement,
            positions,
        };
        link.statements.insert(sql.to_owned(), compiled.clone());
        Ok(compiled)
    }

    pub(super) fn batch(&self, sql: &str) -> StoreResult<()> {
        let mut link = self.link.borrow_mut();
        Ok(link
            .client()?
            .batch_execute(sql)
            .map_err(|err| self.noted(err))?)
    }

    pub(super) fn query(
        &self,
        statement: &PgStatement,
        values: &[&dyn ToSql],
    ) -> StoreResult<Vec<postgres::Row>> {
        self.run(statement, values, |client, compiled, params| {
            client.query(compiled, params)
        })
    }

    pub(super) fn execute(
        &self,
        statement: &PgStatement,
        values: &[&dyn ToSql],
    ) -> StoreResult<usize> {
        let changed = self.run(statement, values, |client, compiled, params| {
            client.execute(compiled, params)
        })?;
        Ok(usize::try_from(changed).unwrap_or(usize::MAX))
    }

    /// Runs `statement` with the given values bound, through `call`.
    fn run<T>(
        &self,
        statement: &PgStatement,
        values: &[&dyn ToSql],
        call: impl FnOnce(
            &mut postgres::Client,
            &postgres::Statement,
            &[&(dyn PgToSql + Sync)],
        ) -> Result<T, postgres::Error>,
    ) -> StoreResult<T> {
        let params = bound(statement, values)?;
        let refs: Vec<&(dyn PgToSql + Sync)> = params
            .iter()
            .map(|param| param as &(dyn PgToSql + Sync))
            .collect();
        let mut link = self.link.borrow_mut();
        Ok(call(link.client()?, &statement.statement, &refs).map_err(|err| self.noted(err))?)
    }
}

/// The parameters `statement` uses, picked from the ones given.
fn bound(statement: &PgStatement, values: &[&dyn ToSql]) -> StoreResult<Vec<PgParam>> {
    statement
        .positions
        .iter()
        .map(|&position| match values.get(position) {
            Some(value) => PgParam::from_sql_value(*value),
            None => Err(StoreError::Misused(format!(
                "the statement uses parameter {} but {} were given",
                position + 1,
                values.len()
            ))),
        })
        .collect()
}
