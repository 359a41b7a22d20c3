//! A PostgreSQL session behind [`super::Conn`]: the storage functions are synchronous, so
//! each call waits here on the asynchronous driver. It runs on a blocking thread (never on
//! an async worker), and the driver's connection is polled by the engine's own runtime.

use tokio::runtime::Handle;
use tokio_postgres::types::ToSql as PgToSql;

use super::dialect::{to_postgres, Translated};
use super::pg_values::PgParam;
use super::value::ToSql;
use super::{StoreError, StoreResult};

/// Statements a connection keeps compiled at most. The fixed statements are a few hundred;
/// those built at run time also vary by their count of marks (`IN (?, ?)` over a page or an
/// export's chunk of up to 500 rows), so past this the connection starts its cache over
/// rather than let the server hold thousands.
const KEPT_STATEMENTS: usize = 1000;

/// One pooled connection, lent to one job.
pub struct PgSession {
    client: deadpool_postgres::Object,
    runtime: Handle,
}

/// A statement compiled by the server, and which given parameters it binds.
pub(super) struct PgStatement {
    pub(super) statement: tokio_postgres::Statement,
    positions: Vec<usize>,
}

impl PgSession {
    pub(crate) fn new(client: deadpool_postgres::Object, runtime: Handle) -> PgSession {
        PgSession { client, runtime }
    }

    /// Waits for `work` on the engine's runtime.
    pub(crate) fn wait<T>(&self, work: impl std::future::Future<Output = T>) -> T {
        self.runtime.block_on(work)
    }

    /// Compiles `sql` once per connection (deadpool keeps the connection's statements, up to
    /// [`KEPT_STATEMENTS`]).
    pub(super) fn prepare(&self, sql: &str) -> StoreResult<PgStatement> {
        let Translated { sql, positions } = to_postgres(sql);
        if self.client.statement_cache.size() >= KEPT_STATEMENTS {
            self.client.statement_cache.clear();
        }
        let statement = self.wait(self.client.prepare_cached(&sql));
        if let Err(err) = &statement {
            // A statement PostgreSQL refuses to compile is a bug of ours: say which.
            let sql = sql.split_whitespace().collect::<Vec<_>>().join(" ");
            let error = err
                .as_db_error()
                .map_or(err.to_string(), |db| db.to_string());
            tracing::error!(%error, %sql, "PostgreSQL refused a statement");
        }
        let statement = statement?;
        Ok(PgStatement {
            statement,
            positions,
        })
    }

    pub(super) fn batch(&self, sql: &str) -> StoreResult<()> {
        Ok(self.wait(self.client.batch_execute(sql))?)
    }

    pub(super) fn query(
        &self,
        statement: &PgStatement,
        values: &[&dyn ToSql],
    ) -> StoreResult<Vec<tokio_postgres::Row>> {
        let params = bound(statement, values)?;
        let refs: Vec<&(dyn PgToSql + Sync)> = params
            .iter()
            .map(|param| param as &(dyn PgToSql + Sync))
            .collect();
        Ok(self.wait(self.client.query(&statement.statement, &refs))?)
    }

    pub(super) fn execute(
        &self,
        statement: &PgStatement,
        values: &[&dyn ToSql],
    ) -> StoreResult<usize> {
        let params = bound(statement, values)?;
        let refs: Vec<&(dyn PgToSql + Sync)> = params
            .iter()
            .map(|param| param as &(dyn PgToSql + Sync))
            .collect();
        let changed = self.wait(self.client.execute(&statement.statement, &refs))?;
        Ok(usize::try_from(changed).unwrap_or(usize::MAX))
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
