//! Rows a statement answers, read column by column into the shared value model.

use super::pg_values::{column_value, is_numeric};
use super::value::{FromSql, Value, ValueRef};
use super::{StoreError, StoreResult};
use rusqlite::types::FromSqlError;

/// A column's position in a row, 0-based.
pub trait ColumnIndex {
    fn position(self) -> usize;
}

impl ColumnIndex for usize {
    fn position(self) -> usize {
        self
    }
}

/// One row of an answer.
pub struct Row<'r> {
    engine: RowOf<'r>,
}

enum RowOf<'r> {
    Sqlite(&'r rusqlite::Row<'r>),
    /// The row's values, converted once, and which columns were NUMERIC.
    Postgres(&'r [Value], &'r [bool]),
}

impl Row<'_> {
    /// Column `index` (0-based), converted to `T`.
    pub fn get<I: ColumnIndex, T: FromSql>(&self, index: I) -> StoreResult<T> {
        let index = index.position();
        match self.engine {
            RowOf::Sqlite(row) => Ok(row.get(index)?),
            RowOf::Postgres(values, numeric) => {
                let value = values.get(index).ok_or_else(|| no_column(index))?;
                match (T::column_result(ValueRef::from(value)), value) {
                    (Ok(read), _) => Ok(read),
                    // A NUMERIC holding an integer (PostgreSQL's SUM of BIGINT) reads as
                    // the integer SQLite would have answered.
                    (Err(FromSqlError::InvalidType), Value::Text(text))
                        if numeric.get(index) == Some(&true) =>
                    {
                        let number = text.parse::<i64>().map_err(|_| FromSqlError::InvalidType);
                        Ok(T::column_result(ValueRef::Integer(number?))?)
                    }
                    (Err(err), _) => Err(err.into()),
                }
            }
        }
    }

    /// Column `index` (0-based) as it is stored.
    pub fn get_ref(&self, index: usize) -> StoreResult<ValueRef<'_>> {
        match self.engine {
            RowOf::Sqlite(row) => Ok(row.get_ref(index)?),
            RowOf::Postgres(values, _) => values
                .get(index)
                .map(ValueRef::from)
                .ok_or_else(|| no_column(index)),
        }
    }
}

pub(super) fn no_column(index: usize) -> StoreError {
    StoreError::Misused(format!("the row has no column {index}"))
}

/// The rows of a running statement, read one at a time.
pub struct Rows<'s> {
    engine: RowsOf<'s>,
}

enum RowsOf<'s> {
    Sqlite(rusqlite::Rows<'s>),
    /// Every row the server answered, the one being read converted.
    Postgres {
        rows: std::vec::IntoIter<tokio_postgres::Row>,
        current: Vec<Value>,
        numeric: Vec<bool>,
    },
    Failed(Option<StoreError>),
}

impl<'s> Rows<'s> {
    pub(super) fn sqlite(rows: rusqlite::Rows<'s>) -> Rows<'s> {
        Rows {
            engine: RowsOf::Sqlite(rows),
        }
    }

    pub(super) fn postgres(rows: Vec<tokio_postgres::Row>) -> Rows<'s> {
        let numeric = rows.first().map_or_else(Vec::new, |row| {
            (0..row.len()).map(|index| is_numeric(row, index)).collect()
        });
        Rows {
            engine: RowsOf::Postgres {
                rows: rows.into_iter(),
                current: Vec::new(),
                numeric,
            },
        }
    }

    /// Rows whose first read fails with `err` (a query that could not start).
    pub(super) fn failed(err: StoreError) -> Rows<'s> {
        Rows {
            engine: RowsOf::Failed(Some(err)),
        }
    }

    /// The next row, or `None` after the last. Not `Iterator::next`: each row borrows the
    /// cursor it came from, which that trait cannot express.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> StoreResult<Option<Row<'_>>> {
        match &mut self.engine {
            RowsOf::Sqlite(rows) => Ok(rows.next()?.map(|row| Row {
                engine: RowOf::Sqlite(row),
            })),
            RowsOf::Postgres {
                rows,
                current,
                numeric,
            } => {
                let Some(row) = rows.next() else {
                    return Ok(None);
                };
                *current = (0..row.len())
                    .map(|index| column_value(&row, index))
                    .collect::<StoreResult<_>>()?;
                Ok(Some(Row {
                    engine: RowOf::Postgres(current, numeric),
                }))
            }
            RowsOf::Failed(err) => match err.take() {
                Some(err) => Err(err),
                None => Ok(None),
            },
        }
    }
}

/// The rows of a running statement, each read by a function.
pub struct MappedRows<'s, F> {
    rows: Rows<'s>,
    map: F,
}

impl<'s, F> MappedRows<'s, F> {
    pub(super) fn new(rows: Rows<'s>, map: F) -> Self {
        MappedRows { rows, map }
    }
}

impl<T, F> Iterator for MappedRows<'_, F>
where
    F: FnMut(&Row<'_>) -> StoreResult<T>,
{
    type Item = StoreResult<T>;

    fn next(&mut self) -> Option<StoreResult<T>> {
        match self.rows.next() {
            Ok(Some(row)) => Some((self.map)(&row)),
            Ok(None) => None,
            Err(err) => Some(Err(err)),
        }
    }
}
