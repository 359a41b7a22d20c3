//! Rows a statement answers, read column by column into the shared value model.

use super::value::{FromSql, ValueRef};
use super::StoreResult;

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
    sqlite: &'r rusqlite::Row<'r>,
}

impl Row<'_> {
    /// Column `index` (0-based), converted to `T`.
    pub fn get<I: ColumnIndex, T: FromSql>(&self, index: I) -> StoreResult<T> {
        Ok(self.sqlite.get(index.position())?)
    }

    /// Column `index` (0-based) as it is stored.
    pub fn get_ref(&self, index: usize) -> StoreResult<ValueRef<'_>> {
        Ok(self.sqlite.get_ref(index)?)
    }
}

/// The rows of a running statement, read one at a time.
pub struct Rows<'s> {
    sqlite: rusqlite::Rows<'s>,
}

impl<'s> Rows<'s> {
    pub(super) fn sqlite(rows: rusqlite::Rows<'s>) -> Rows<'s> {
        Rows { sqlite: rows }
    }

    /// The next row, or `None` after the last. Not `Iterator::next`: each row borrows the
    /// cursor it came from, which that trait cannot express.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> StoreResult<Option<Row<'_>>> {
        Ok(self.sqlite.next()?.map(|row| Row { sqlite: row }))
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
