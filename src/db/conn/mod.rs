//! The storage layer's one face to a database connection, whatever the engine.
//!
//! Every SQL function in `db` takes a [`Conn`] (or a `WriteTx`, which derefs to one) and
//! speaks through these methods only, so the engine behind it can change without the
//! functions changing. Values cross it in one model, SQLite's five storage classes
//! (integer, real, text, blob, NULL), through the `ToSql`/`FromSql` traits of
//! [`value`]: it is the model the book was written in, and the model `migrate-db`
//! already maps PostgreSQL's columns onto.
//!
//! The methods keep the names and shapes of the SQLite driver's, so the SQL functions
//! read as they did; what they return is this module's [`Row`], [`Rows`] and
//! [`StoreError`], never the driver's. SQL is written once, in the subset both engines
//! take; [`dialect`] rewrites what differs only in form for PostgreSQL.

mod dialect;
mod error;
mod parameters;
mod pg_values;
mod postgres;
mod rows;

pub use error::{OptionalExtension, StoreError, StoreResult};
pub use parameters::{params_from_iter, Params};
pub use postgres::{PgConnector, PgSession};
pub use rows::{ColumnIndex, MappedRows, Row, Rows};

use postgres::PgStatement;

/// The value model both engines are read and written through.
pub mod value {
    pub use rusqlite::types::{FromSql, ToSql, Value, ValueRef};
}

/// Builds a parameter list from values of different types: `params![org, name]`.
macro_rules! params {
    () => { &[] as &[&dyn $crate::db::conn::value::ToSql] };
    ($($value:expr),+ $(,)?) => {
        &[$(&$value as &dyn $crate::db::conn::value::ToSql),+] as &[&dyn $crate::db::conn::value::ToSql]
    };
}
pub(crate) use params;

/// A connection (or an open transaction on one), lent to a storage function.
#[derive(Clone, Copy)]
pub struct Conn<'c> {
    engine: Engine<'c>,
}

#[derive(Clone, Copy)]
enum Engine<'c> {
    Sqlite(&'c rusqlite::Connection),
    Postgres(&'c PgSession),
}

impl<'c> Conn<'c> {
    /// Lends a SQLite connection.
    pub fn sqlite(conn: &'c rusqlite::Connection) -> Conn<'c> {
        Conn {
            engine: Engine::Sqlite(conn),
        }
    }

    /// Lends a PostgreSQL session.
    pub fn postgres(session: &'c PgSession) -> Conn<'c> {
        Conn {
            engine: Engine::Postgres(session),
        }
    }

    /// Whether the engine is PostgreSQL, for the few statements whose text differs.
    pub fn is_postgres(&self) -> bool {
        matches!(self.engine, Engine::Postgres(_))
    }

    /// Runs a statement that answers no rows; the number of rows it changed.
    pub fn execute(&self, sql: &str, params: impl Params) -> StoreResult<usize> {
        self.prepare(sql)?.execute(params)
    }

    /// Runs one or more statements separated by semicolons, without parameters.
    pub fn execute_batch(&self, sql: &str) -> StoreResult<()> {
        match self.engine {
            Engine::Sqlite(conn) => Ok(conn.execute_batch(sql)?),
            Engine::Postgres(session) => session.batch(sql),
        }
    }

    /// The first row `sql` answers, read by `map`; [`StoreError::NoRows`] when none.
    pub fn query_row<T, F>(&self, sql: &str, params: impl Params, map: F) -> StoreResult<T>
    where
        F: FnOnce(&Row<'_>) -> StoreResult<T>,
    {
        let mut statement = self.prepare(sql)?;
        statement.query_row(params, map)
    }

    /// Compiles `sql` once per connection and keeps it for the next call.
    pub fn prepare_cached(&self, sql: &str) -> StoreResult<Stmt<'c>> {
        match self.engine {
            Engine::Sqlite(conn) => Ok(Stmt(StmtOf::Cached(conn.prepare_cached(sql)?))),
            Engine::Postgres(session) => Ok(Stmt::postgres(session, session.prepare(sql)?)),
        }
    }

    /// Compiles `sql` for this use only (a statement built at run time). PostgreSQL keeps it
    /// for the connection all the same: compiling is a round trip to the server there, and
    /// the connection's cache is bounded (`postgres::KEPT_STATEMENTS`).
    pub fn prepare(&self, sql: &str) -> StoreResult<Stmt<'c>> {
        match self.engine {
            Engine::Sqlite(conn) => Ok(Stmt(StmtOf::Plain(conn.prepare(sql)?))),
            Engine::Postgres(session) => Ok(Stmt::postgres(session, session.prepare(sql)?)),
        }
    }
}

/// A compiled statement.
pub struct Stmt<'c>(StmtOf<'c>);

enum StmtOf<'c> {
    Cached(rusqlite::CachedStatement<'c>),
    Plain(rusqlite::Statement<'c>),
    Postgres {
        session: &'c PgSession,
        statement: PgStatement,
        /// Parameters bound one by one (`raw_bind_parameter`), 0-based.
        bound: Vec<value::Value>,
    },
}

impl<'c> Stmt<'c> {
    fn postgres(session: &'c PgSession, statement: PgStatement) -> Stmt<'c> {
        Stmt(StmtOf::Postgres {
            session,
            statement,
            bound: Vec::new(),
        })
    }

    /// Runs it; the number of rows it changed.
    pub fn execute(&mut self, params: impl Params) -> StoreResult<usize> {
        match &mut self.0 {
            StmtOf::Cached(statement) => {
                Ok(params.with_values(|values| statement.execute(values))?)
            }
            StmtOf::Plain(statement) => Ok(params.with_values(|values| statement.execute(values))?),
            StmtOf::Postgres {
                session, statement, ..
            } => params.with_values(|values| session.execute(statement, values)),
        }
    }

    /// Its rows, one at a time.
    pub fn query(&mut self, params: impl Params) -> StoreResult<Rows<'_>> {
        match &mut self.0 {
            StmtOf::Cached(statement) => Ok(Rows::sqlite(
                params.with_values(|values| statement.query(values))?,
            )),
            StmtOf::Plain(statement) => Ok(Rows::sqlite(
                params.with_values(|values| statement.query(values))?,
            )),
            StmtOf::Postgres {
                session, statement, ..
            } => Ok(Rows::postgres(
                params.with_values(|values| session.query(statement, values))?,
            )),
        }
    }

    /// Its rows, each read by `map`.
    pub fn query_map<T, F>(&mut self, params: impl Params, map: F) -> StoreResult<MappedRows<'_, F>>
    where
        F: FnMut(&Row<'_>) -> StoreResult<T>,
    {
        Ok(MappedRows::new(self.query(params)?, map))
    }

    /// Its first row, read by `map`; [`StoreError::NoRows`] when none.
    pub fn query_row<T, F>(&mut self, params: impl Params, map: F) -> StoreResult<T>
    where
        F: FnOnce(&Row<'_>) -> StoreResult<T>,
    {
        let mut rows = self.query(params)?;
        match rows.next()? {
            Some(row) => map(&row),
            None => Err(StoreError::NoRows),
        }
    }

    /// Binds one parameter by its 1-based position, for [`Stmt::raw_query`].
    pub fn raw_bind_parameter(
        &mut self,
        position: usize,
        value: impl value::ToSql,
    ) -> StoreResult<()> {
        match &mut self.0 {
            StmtOf::Cached(statement) => Ok(statement.raw_bind_parameter(position, value)?),
            StmtOf::Plain(statement) => Ok(statement.raw_bind_parameter(position, value)?),
            StmtOf::Postgres { bound, .. } => {
                let index = position.saturating_sub(1);
                if bound.len() <= index {
                    bound.resize(index + 1, value::Value::Null);
                }
                if let Some(slot) = bound.get_mut(index) {
                    *slot = pg_values::owned(&value)?;
                }
                Ok(())
            }
        }
    }

    /// Runs it with the parameters bound one by one.
    pub fn raw_query(&mut self) -> Rows<'_> {
        match &mut self.0 {
            StmtOf::Cached(statement) => Rows::sqlite(statement.raw_query()),
            StmtOf::Plain(statement) => Rows::sqlite(statement.raw_query()),
            StmtOf::Postgres {
                session,
                statement,
                bound,
            } => match bound
                .as_slice()
                .with_values(|values| session.query(statement, values))
            {
                Ok(rows) => Rows::postgres(rows),
                Err(err) => Rows::failed(err),
            },
        }
    }

    /// The names of the columns it answers, in order.
    pub fn column_names(&mut self) -> Vec<String> {
        match &mut self.0 {
            StmtOf::Cached(statement) => names(statement),
            StmtOf::Plain(statement) => names(statement),
            StmtOf::Postgres { statement, .. } => statement
                .statement
                .columns()
                .iter()
                .map(|column| column.name().to_owned())
                .collect(),
        }
    }
}

fn names(statement: &rusqlite::Statement<'_>) -> Vec<String> {
    statement
        .column_names()
        .into_iter()
        .map(str::to_owned)
        .collect()
}
