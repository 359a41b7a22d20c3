//! Reading one organization's rows of one table from either engine, every value as text
//! (or NULL) in the form SQLite stores it: the one form both the copy and the comparison use.

use futures_util::TryStreamExt;
use rusqlite::types::ValueRef;
use tokio_postgres::GenericClient;

use super::{Owner, Table, TransferProblem};

/// A row: each column's text, or None for NULL.
pub(crate) type Row = Vec<Option<String>>;

/// A table's columns as PostgreSQL declares them, and its primary key (the order rows are
/// read in, the same on both sides).
pub(crate) struct Columns {
    pub(crate) names: Vec<String>,
    pub(crate) types: Vec<String>,
    pub(crate) key: Vec<String>,
}

impl Columns {
    pub(crate) async fn of(
        client: &impl GenericClient,
        table: &str,
    ) -> Result<Columns, TransferProblem> {
        let rows = client
            .query(
                "SELECT column_name::text, data_type::text FROM information_schema.columns
                 WHERE table_schema = current_schema() AND table_name = $1
                 ORDER BY ordinal_position",
                &[&table],
            )
            .await?;
        let key = client
            .query(
                "SELECT a.attname::text FROM pg_index i
                 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
                 WHERE i.indrelid = $1::text::regclass AND i.indisprimary
                 ORDER BY array_position(i.indkey::int2[], a.attnum)",
                &[&table],
            )
            .await?;
        Ok(Columns {
            names: rows.iter().map(|row| row.get(0)).collect(),
            types: rows.iter().map(|row| row.get(1)).collect(),
            key: key.iter().map(|row| row.get(0)).collect(),
        })
    }

    /// Whether SQLite keeps this column in this table (it keeps the organization of three
    /// child tables on the parent row, and the detail copies' format once per file).
    pub(crate) fn in_sqlite(table: &Table, column: &str) -> bool {
        !matches!(
            (table.owner, column),
            (Owner::Parent { .. }, "organization_id") | (Owner::Itself, "detail_copy_format")
        )
    }
}

/// The SELECT of one organization's rows (`?1`) of `table` on SQLite, in key order.
pub(crate) fn sqlite_select(table: &Table, columns: &Columns) -> String {
    let name = table.name;
    let list: Vec<String> = columns
        .names
        .iter()
        .map(|column| match (table.owner, column.as_str()) {
            (Owner::Parent { .. }, "organization_id") => "p.organization_id".to_string(),
            (Owner::Itself, "detail_copy_format") => {
                "(SELECT COALESCE(MAX(version), 0) FROM detail_copy_format)".to_string()
            }
            _ => format!("x.{column}"),
        })
        .collect();
    let (from, owner) = match table.owner {
        Owner::Itself => (format!("{name} x"), "x.id"),
        Owner::Column => (format!("{name} x"), "x.organization_id"),
        Owner::Parent { table, key } => (
            format!("{name} x JOIN {table} p ON p.id = x.{key}"),
            "p.organization_id",
        ),
    };
    let order: Vec<String> = columns
        .key
        .iter()
        .map(|column| match (table.owner, column.as_str()) {
            (Owner::Parent { .. }, "organization_id") => "p.organization_id".to_string(),
            _ => format!("x.{column}"),
        })
        .collect();
    format!(
        "SELECT {} FROM {from} WHERE {owner} = ?1 ORDER BY {}",
        list.join(", "),
        order.join(", ")
    )
}

/// The SELECT of one organization's rows (`$1`) of `table` on PostgreSQL, each value turned
/// into the text SQLite would hold, in key order.
pub(crate) fn postgres_select(table: &Table, columns: &Columns) -> String {
    let list: Vec<String> = columns
        .names
        .iter()
        .zip(&columns.types)
        .map(|(column, kind)| as_sqlite_text(column, kind))
        .collect();
    let owner = match table.owner {
        Owner::Itself => "id",
        _ => "organization_id",
    };
    // The key is named with its table: a bare name in ORDER BY would mean the output
    // column of that name, which is the key turned into text (and "10" sorts before "2").
    let order: Vec<String> = columns
        .key
        .iter()
        .map(|column| format!("{}.{column}", table.name))
        .collect();
    format!(
        "SELECT {} FROM {} WHERE {owner} = $1 ORDER BY {}",
        list.join(", "),
        table.name,
        order.join(", ")
    )
}

/// A PostgreSQL column as the text SQLite stores: timestamps in RFC 3339 with milliseconds
/// and Z, dates as YYYY-MM-DD, booleans as 0 and 1, numbers and text as they are.
fn as_sqlite_text(column: &str, kind: &str) -> String {
    match kind {
        "timestamp with time zone" => {
            format!("to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')")
        }
        "date" => format!("to_char({column}, 'YYYY-MM-DD')"),
        "boolean" => format!("({column})::int::text"),
        _ => format!("({column})::text"),
    }
}

/// Each row of `sql` (one organization's, `organization` bound to `?1`) on SQLite, as text.
pub(crate) fn sqlite_rows(
    conn: &rusqlite::Connection,
    sql: &str,
    organization: i64,
    mut each: impl FnMut(Row) -> Result<(), TransferProblem>,
) -> Result<u64, TransferProblem> {
    let mut stmt = conn.prepare(sql)?;
    let width = stmt.column_count();
    let mut rows = stmt.query([organization])?;
    let mut count = 0;
    while let Some(row) = rows.next()? {
        each(row_text(row, width, sql)?)?;
        count += 1;
    }
    Ok(count)
}

/// One SQLite row's `width` values as text.
pub(crate) fn row_text(
    row: &rusqlite::Row<'_>,
    width: usize,
    sql: &str,
) -> Result<Row, TransferProblem> {
    (0..width)
        .map(|at| text_of(row.get_ref(at)?, sql, at))
        .collect()
}

fn text_of(value: ValueRef<'_>, sql: &str, at: usize) -> Result<Option<String>, TransferProblem> {
    match value {
        ValueRef::Null => Ok(None),
        ValueRef::Integer(number) => Ok(Some(number.to_string())),
        ValueRef::Text(bytes) => String::from_utf8(bytes.to_vec())
            .map(Some)
            .map_err(|_| TransferProblem::Failed(format!("column {at} of `{sql}`: not UTF-8"))),
        ValueRef::Real(_) | ValueRef::Blob(_) => Err(TransferProblem::Failed(format!(
            "column {at} of `{sql}`: a real number or blob, which no Arvalox column holds"
        ))),
    }
}

/// Each row of `sql` (one organization's, `organization` bound to `$1`) on PostgreSQL.
pub(crate) async fn postgres_rows(
    client: &impl GenericClient,
    sql: &str,
    organization: i64,
    mut each: impl FnMut(Row) -> Result<(), TransferProblem>,
) -> Result<u64, TransferProblem> {
    let stream = client.query_raw(sql, [organization]).await?;
    futures_util::pin_mut!(stream);
    let mut count = 0;
    while let Some(row) = stream.try_next().await? {
        let values = (0..row.len())
            .map(|at| row.try_get::<_, Option<String>>(at))
            .collect::<Result<Row, _>>()?;
        each(values)?;
        count += 1;
    }
    Ok(count)
}
