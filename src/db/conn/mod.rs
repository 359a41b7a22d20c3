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
//! [`StoreError`], never the driver's.

mod error;
mod parameters;
mod rows;

pub use error::{OptionalExtension, StoreError, StoreResult};
pub use parameters::{params_from_iter, Params};
pub use rows::{MappedRows, Row, Rows};

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
    sqlite: &'c rusqlite::Connection,
}

impl<'c> Conn<'c> {
    /// Lends a SQLite connection.
    pub fn sqlite(conn: &'c rusqlite::Connection) -> Conn<'c> {
        Conn { sqlite: conn }
    }

    /// Runs a statement that answers no rows; the number of rows it changed.
    pub fn execute(&self, sql: &str, params: impl Params) -> StoreResult<usize> {
        let mut statement = self.sqlite.prepare(sql)?;
        Ok(params.with_values(|values| statement.execute(values))?)
    }

    /// Runs one or more statements separated by semicolons, without parameters.
    pub fn execute_batch(&self, sql: &str) -> StoreResult<()> {
        Ok(self.sqlite.execute_batch(sql)?)
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
        Ok(Stmt::Cached(self.sqlite.prepare_cached(sql)?))
    }

    /// Compiles `sql` for this use only (a statement built at run time).
    pub fn prepare(&self, sql: &str) -> StoreResult<Stmt<'c>> {
        Ok(Stmt::Plain(self.sqlite.prepare(sql)?))
    }
}

/// A compiled statement.
pub enum Stmt<'c> {
    Cached(rusqlite::CachedStatement<'c>),
    Plain(rusqlite::Statement<'c>),
}

impl<'c> Stmt<'c> {
    fn sqlite(&mut self) -> &mut rusqlite::Statement<'c> {
        match self {
            Stmt::Cached(statement) => statement,
            Stmt::Plain(statement) => statement,
        }
    }

    /// Runs it; the number of rows it changed.
    pub fn execute(&mut self, params: impl Params) -> StoreResult<usize> {
        let statement = self.sqlite();
        Ok(params.with_values(|values| statement.execute(values))?)
    }

    /// Its rows, one at a time.
    pub fn query(&mut self, params: impl Params) -> StoreResult<Rows<'_>> {
        let statement = self.sqlite();
        Ok(Rows::sqlite(
            params.with_values(|values| statement.query(values))?,
        ))
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
        Ok(self.sqlite().raw_bind_parameter(position, value)?)
    }

    /// Runs it with the parameters bound one by one.
    pub fn raw_query(&mut self) -> Rows<'_> {
        Rows::sqlite(self.sqlite().raw_query())
    }

    /// The names of the columns it answers, in order.
    pub fn column_names(&mut self) -> Vec<String> {
        let statement = self.sqlite();
        statement
            .column_names()
            .into_iter()
            .map(str::to_owned)
            .collect()
    }
}
