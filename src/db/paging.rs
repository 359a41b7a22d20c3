//! One page of a filtered list and the size of the whole filtered list, for every list.

use super::codec::date_text;
use super::conn::{params_from_iter, value::Value, Conn, Row};
use super::sql::Filter;
use crate::error::AppError;
use chrono::NaiveDate;

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
    /// The index to read the rows through (`INDEXED BY`, dropped on PostgreSQL), named when
    /// a filter narrows the rows to a range the planner would otherwise not choose: left
    /// alone, SQLite prefers walking the organization's rows in id order (no sort) and
    /// testing each, which reads the whole book to find a month's invoices.
    pub index: Option<&'a str>,
    /// A lower bound on the id that the filter implies but SQLite cannot see, with its
    /// parameters: the first id of a date window, found in the date's own index. The rows
    /// are read in id order from there, so a window of recent dates starts at its first row
    /// rather than walking every older one, and needs no sort; the count leaves it out
    /// (it counts the window in the date index alone).
    pub first_id: Option<(String, Vec<Value>)>,
}

impl ListQuery<'_> {
    /// The statement that reads the filtered rows in order, its LIMIT and OFFSET last.
    pub(crate) fn rows_sql(&self, filter: &Filter) -> String {
        format!("{} LIMIT ? OFFSET ?", self.all_rows_sql(filter))
    }

    /// The statement that reads every filtered row in order. Without a LIMIT, a sort (of
    /// a filter read through its own index) runs in SQLite's sorter, which spills to a
    /// temporary file past a few MiB; with one, it is a temporary B-tree, held in memory
    /// under `temp_store = MEMORY`, of every row an export reads.
    fn all_rows_sql(&self, filter: &Filter) -> String {
        let index = self
            .index
            .map(|name| format!(" INDEXED BY {name}"))
            .unwrap_or_default();
        let first_id = self
            .first_id
            .as_ref()
            .map(|(clause, _)| format!(" AND {clause}"))
            .unwrap_or_default();
        format!(
            "{}{index} {}{first_id} ORDER BY {}",
            self.select,
            filter.where_sql(),
            self.order_by
        )
    }

    /// The parameters of [`ListQuery::rows_sql`] before its LIMIT and OFFSET.
    pub(crate) fn row_values(&self, filter: &Filter) -> Vec<Value> {
        let mut values = self.leading.clone();
        values.extend(filter.params.iter().cloned());
        if let Some((_, first)) = &self.first_id {
            values.extend(first.iter().cloned());
        }
        values
    }

    /// Rows `offset..offset + limit` of the filtered list, and the filtered count.
    pub(crate) fn page<T>(
        &self,
        conn: &Conn,
        filter: &Filter,
        (limit, offset): (i64, i64),
        from_row: impl FnMut(&Row) -> crate::db::conn::StoreResult<T>,
    ) -> Result<Page<T>, AppError> {
        let mut items = Vec::new();
        let mut from_row = from_row;
        let total = self.page_rows(conn, filter, (limit, offset), |row| {
            items.push(from_row(row)?);
            Ok(true)
        })?;
        Ok(Page {
            items,
            total,
            limit,
            offset,
        })
    }

    /// The filtered count, then rows `offset..offset + limit` handed to `each` while the
    /// statement holds them, so a caller can write its answer without copying a row out;
    /// `each` answers false to stop.
    pub(crate) fn page_rows(
        &self,
        conn: &Conn,
        filter: &Filter,
        (limit, offset): (i64, i64),
        mut each: impl FnMut(&Row) -> Result<bool, AppError>,
    ) -> Result<i64, AppError> {
        let where_sql = filter.where_sql();
        let total: i64 = conn
            .prepare_cached(&format!("SELECT COUNT(*) FROM {} {where_sql}", self.from))?
            .query_row(params_from_iter(filter.params.iter()), |row| row.get(0))?;
        let mut values = self.row_values(filter);
        values.push(Value::Integer(limit));
        values.push(Value::Integer(offset));
        let mut stmt = conn.prepare_cached(&self.rows_sql(filter))?;
        let mut rows = stmt.query(params_from_iter(values.iter()))?;
        while let Some(row) = rows.next()? {
            if !each(&row)? {
                break;
            }
        }
        Ok(total)
    }

    /// The filtered list's rows in order from `offset` (at most `limit` when given), handed
    /// to `each` one at a time and never collected, so an export of any size runs in
    /// constant memory; `each` answers false to stop.
    pub(crate) fn each<T>(
        &self,
        conn: &Conn,
        filter: &Filter,
        (limit, offset): (Option<i64>, i64),
        mut from_row: impl FnMut(&Row) -> crate::db::conn::StoreResult<T>,
        mut each: impl FnMut(T) -> bool,
    ) -> Result<(), AppError> {
        let mut values = self.row_values(filter);
        let sql = if limit.is_none() && offset == 0 {
            self.all_rows_sql(filter)
        } else {
            // No limit: the largest one, which both engines accept (PostgreSQL refuses a
            // negative).
            values.push(Value::Integer(limit.unwrap_or(i64::MAX)));
            values.push(Value::Integer(offset));
            self.rows_sql(filter)
        };
        let mut stmt = conn.prepare(&sql)?;
        let mut rows = stmt.query(params_from_iter(values.iter()))?;
        while let Some(row) = rows.next()? {
            if !each(from_row(&row)?) {
                break;
            }
        }
        Ok(())
    }
}

/// [`ListQuery::first_id`] for a window of dates from `from` on: the first id of the
/// window, found in `index`, which leads with the organization and then `column`.
pub(crate) fn first_id_from(
    (table, index, column): (&str, &str, &str),
    org: i64,
    from: Option<NaiveDate>,
) -> Option<(String, Vec<Value>)> {
    let clause = format!(
        "id >= (SELECT MIN(id) FROM {table} INDEXED BY {index}
         WHERE organization_id = ? AND {column} >= ?)"
    );
    from.map(|from| {
        (
            clause,
            vec![Value::Integer(org), Value::Text(date_text(from))],
        )
    })
}

/// Rows handed on by `each` in chunks of this many, each completed by a second query (a
/// payment's allocations), so an export reads its rows' parts in a few large queries.
pub(crate) const CHUNK: usize = 500;

/// `rows` completed `CHUNK` at a time by `complete`, then handed to `each` one by one; `None`
/// marks the end. Answers false once `each` has.
fn in_chunks<T>(
    mut complete: impl FnMut(&mut Vec<T>) -> Result<(), AppError>,
    mut each: impl FnMut(T) -> bool,
) -> impl FnMut(Option<T>) -> Result<bool, AppError> {
    let mut chunk = Vec::with_capacity(CHUNK);
    move |row| {
        let last = row.is_none();
        chunk.extend(row);
        if chunk.len() < CHUNK && !last {
            return Ok(true);
        }
        complete(&mut chunk)?;
        for row in chunk.drain(..) {
            if !each(row) {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

impl ListQuery<'_> {
    /// [`ListQuery::each`] for rows that need a second query to be complete (a payment's
    /// allocations): `complete` runs on each chunk of [`CHUNK`] rows before they are
    /// handed on.
    pub(crate) fn each_completed<T>(
        &self,
        conn: &Conn,
        filter: &Filter,
        bounds: Bounds,
        (from_row, complete): (
            impl FnMut(&Row) -> crate::db::conn::StoreResult<T>,
            impl FnMut(&mut Vec<T>) -> Result<(), AppError>,
        ),
        each: impl FnMut(T) -> bool,
    ) -> Result<(), AppError> {
        let mut chunked = in_chunks(complete, each);
        let mut outcome = Ok(true);
        self.each(conn, filter, bounds, from_row, |row| {
            outcome = chunked(Some(row));
            matches!(outcome, Ok(true))
        })?;
        match outcome {
            // Every row was read: hand on the last, partial chunk.
            Ok(true) => chunked(None).map(|_| ()),
            // The receiver stopped: nothing more to hand on.
            Ok(false) => Ok(()),
            Err(error) => Err(error),
        }
    }
}

/// Which rows of a list an export reads: all from `offset`, or one page.
pub(crate) type Bounds = (Option<i64>, i64);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_completed_a_chunk_at_a_time_and_all_handed_on_in_order() {
        let mut sizes = Vec::new();
        let mut seen = Vec::new();
        let mut chunked = in_chunks(
            |rows: &mut Vec<usize>| {
                sizes.push(rows.len());
                Ok(())
            },
            |row| {
                seen.push(row);
                true
            },
        );
        for row in 0..1201 {
            assert!(chunked(Some(row)).unwrap());
        }
        assert!(chunked(None).unwrap());
        drop(chunked);
        assert_eq!(sizes, [CHUNK, CHUNK, 201]);
        assert_eq!(seen, (0..1201).collect::<Vec<_>>());
    }

    #[test]
    fn a_receiver_that_stops_stops_the_chunks() {
        let mut seen = 0;
        let mut chunked = in_chunks(
            |_: &mut Vec<usize>| Ok(()),
            |_| {
                seen += 1;
                seen < 10
            },
        );
        let answers: Vec<bool> = (0..CHUNK).map(|row| chunked(Some(row)).unwrap()).collect();
        drop(chunked);
        assert_eq!(
            answers.iter().filter(|a| !**a).count(),
            1,
            "false once, at the chunk's end"
        );
        assert_eq!(seen, 10);
    }
}
