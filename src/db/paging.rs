//! One page of a filtered list and the size of the whole filtered list, for every list.

use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection, Row};

use super::sql::Filter;
use crate::error::AppError;

/// One page of a list and the size of the whole filtered list.
#[derive(Debug, Clone)]
pub(crate) struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

/// A list query: what it reads and how it orders it.
pub(crate) struct ListQuery<'a> {
    /// The table (with its alias) the filter applies to, for the count.
    pub from: &'a str,
    /// The SELECT of one row, ending in the same FROM.
    pub select: &'a str,
    /// Parameters the SELECT itself numbers (`?1`…), before the filter's anonymous ones.
    pub leading: Vec<Value>,
    /// The ORDER BY expression: a unique key, so pages never overlap.
    pub order_by: &'a str,
}

impl ListQuery<'_> {
    /// Rows `offset..offset + limit` of the filtered list, and the filtered count.
    pub(crate) fn page<T>(
        &self,
        conn: &Connection,
        filter: &Filter,
        (limit, offset): (i64, i64),
        from_row: impl FnMut(&Row) -> rusqlite::Result<T>,
    ) -> Result<Page<T>, AppError> {
        let where_sql = filter.where_sql();
        let total: i64 = conn.query_row(
            &format!("SELECT COUNT(*) FROM {} {where_sql}", self.from),
            params_from_iter(filter.params.iter()),
            |row| row.get(0),
        )?;
        let mut values = self.leading.clone();
        values.extend(filter.params.iter().cloned());
        values.push(Value::Integer(limit));
        values.push(Value::Integer(offset));
        let sql = format!(
            "{} {where_sql} ORDER BY {} LIMIT ? OFFSET ?",
            self.select, self.order_by
        );
        let items = conn
            .prepare(&sql)?
            .query_map(params_from_iter(values.iter()), from_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page {
            items,
            total,
            limit,
            offset,
        })
    }
}
