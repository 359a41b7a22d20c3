//! SQLite to PostgreSQL: every organization's rows through COPY, one transaction each, into
//! a PostgreSQL book that has no organization yet.

use std::path::Path;

use bytes::Bytes;
use futures_util::SinkExt;
use tokio_postgres::Client;

use super::rows::{row_text, sqlite_select, Columns, Row};
use super::{Moved, Table, TransferProblem, TABLES};
use crate::db::allocations::movements_of_one_organization;
use crate::db::location::PostgresUrl;
use crate::db::postgres;

/// COPY data is sent in pieces of about this size.
const PIECE: usize = 1 << 20;

/// Copies the SQLite book at `from` into the empty PostgreSQL book at `to` (migrated first),
/// saying each organization's progress through `progress`.
pub async fn to_postgres(
    from: &Path,
    to: &PostgresUrl,
    progress: &mut dyn FnMut(&str),
) -> Result<(super::Verdict, Vec<Moved>), TransferProblem> {
    let source = super::into_sqlite::open_sqlite_source(from)?;
    postgres::migrate(to).await?;
    let mut client = postgres::connect(to).await?;
    let present: i64 = client
        .query_one("SELECT COUNT(*) FROM organizations", &[])
        .await?
        .get(0);
    if present > 0 {
        return Err(TransferProblem::Refused(format!(
            "{to} already holds {present} organizations: migrate-db copies into an empty book \
             (drop and create the database, then run it again)"
        )));
    }
    let mut columns = Vec::with_capacity(TABLES.len());
    for table in &TABLES {
        columns.push((table, Columns::of(&client, table.name).await?));
    }
    let organizations = organizations_in_sqlite(&source)?;
    let mut moved = Vec::with_capacity(organizations.len());
    for (number, (id, slug)) in organizations.iter().enumerate() {
        let tx = client.transaction().await?;
        let mut rows = 0;
        for (table, columns) in &columns {
            let copied = copy_table(&source, &tx, (table, columns), *id).await?;
            if copied >= super::LARGE_TABLE {
                progress(&format!("{slug}: {}: {copied} rows", table.name));
            }
            rows += copied;
        }
        // SQLite's triggers keep its daily movement sums; here they are made from the facts.
        tx.execute(&movements_of_one_organization(), &[id]).await?;
        tx.commit().await?;
        progress(&format!(
            "{slug}: {rows} rows copied ({} of {})",
            number + 1,
            organizations.len()
        ));
        moved.push(Moved {
            slug: slug.clone(),
            rows,
        });
    }
    continue_identities(&client, &last_ids_in_sqlite(&source)?).await?;
    // The source is still read in the snapshot it was copied from.
    let verdict = super::compare(&source, &client).await?;
    Ok((verdict, moved))
}

/// Every organization of the SQLite book: its id and slug.
pub(crate) fn organizations_in_sqlite(
    conn: &rusqlite::Connection,
) -> Result<Vec<(i64, String)>, TransferProblem> {
    let mut stmt = conn.prepare("SELECT id, slug FROM organizations ORDER BY id")?;
    let found = stmt
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(found)
}

/// One organization's rows of one table, read from SQLite and sent by COPY.
async fn copy_table(
    source: &rusqlite::Connection,
    tx: &tokio_postgres::Transaction<'_>,
    (table, columns): (&Table, &Columns),
    organization: i64,
) -> Result<u64, TransferProblem> {
    let sql = sqlite_select(table, columns);
    let copy = format!(
        "COPY {} ({}) FROM STDIN",
        table.name,
        columns.names.join(", ")
    );
    let sink = tx.copy_in(&copy).await?;
    futures_util::pin_mut!(sink);
    let mut stmt = source.prepare(&sql)?;
    let width = stmt.column_count();
    let mut rows = stmt.query([organization])?;
    let mut piece = Vec::with_capacity(PIECE);
    let mut count = 0;
    while let Some(row) = rows.next()? {
        copy_line(&mut piece, &row_text(row, width, &sql)?);
        count += 1;
        if piece.len() >= PIECE {
            sink.send(Bytes::from(std::mem::take(&mut piece))).await?;
        }
    }
    if !piece.is_empty() {
        sink.send(Bytes::from(piece)).await?;
    }
    sink.finish().await?;
    Ok(count)
}

/// One row in COPY's text format: tab-separated, `\N` for NULL, backslash escapes.
fn copy_line(out: &mut Vec<u8>, row: &Row) {
    for (at, value) in row.iter().enumerate() {
        if at > 0 {
            out.push(b'\t');
        }
        match value {
            None => out.extend_from_slice(b"\\N"),
            Some(text) => {
                for byte in text.bytes() {
                    match byte {
                        b'\\' => out.extend_from_slice(b"\\\\"),
                        b'\t' => out.extend_from_slice(b"\\t"),
                        b'\n' => out.extend_from_slice(b"\\n"),
                        b'\r' => out.extend_from_slice(b"\\r"),
                        other => out.push(other),
                    }
                }
            }
        }
    }
    out.push(b'\n');
}

/// The highest id each AUTOINCREMENT table ever gave (`sqlite_sequence`): a deleted
/// draft's id is never given again, in either engine.
pub(crate) fn last_ids_in_sqlite(
    conn: &rusqlite::Connection,
) -> Result<Vec<(String, i64)>, TransferProblem> {
    let mut stmt = conn.prepare("SELECT name, seq FROM sqlite_sequence ORDER BY name")?;
    let found = stmt
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(found)
}

/// Ids were copied as they were: each identity continues after the highest one copied or
/// ever given (`last_ids`, SQLite's AUTOINCREMENT counters).
async fn continue_identities(
    client: &Client,
    last_ids: &[(String, i64)],
) -> Result<(), TransferProblem> {
    let tables = client
        .query(
            "SELECT table_name::text FROM information_schema.columns
             WHERE table_schema = current_schema() AND column_name = 'id' AND is_identity = 'YES'",
            &[],
        )
        .await?;
    for row in tables {
        let table: String = row.get(0);
        let given = last_ids
            .iter()
            .find(|(name, _)| *name == table)
            .map_or(0, |(_, last)| *last);
        let sql = format!(
            "SELECT /* every organization */ setval(pg_get_serial_sequence('{table}', 'id'),
                           GREATEST(COALESCE(MAX(id), 0), $1) + 1, false)
             FROM {table}"
        );
        client.execute(&sql, &[&given]).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_lines_escape_what_copy_reads_specially() {
        let mut out = Vec::new();
        let row = vec![
            Some("a\tb\\c\nd\re".to_string()),
            None,
            Some("\\N".to_string()),
        ];
        copy_line(&mut out, &row);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "a\\tb\\\\c\\nd\\re\t\\N\t\\\\N\n"
        );
    }
}
