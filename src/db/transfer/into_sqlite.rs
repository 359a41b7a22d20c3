//! PostgreSQL to SQLite: every organization's rows into a new SQLite file, one transaction
//! each, read from one snapshot of the PostgreSQL book.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};
use tokio_postgres::IsolationLevel;

use super::rows::{postgres_rows, postgres_select, Columns};
use super::{Moved, Table, TransferProblem, TABLES};
use crate::db::location::PostgresUrl;
use crate::db::{postgres, Db, Synchronous};

/// Copies the PostgreSQL book at `from` (migrated first) into a new SQLite file at `to`,
/// saying each organization's progress through `progress`.
pub async fn to_sqlite(
    from: &PostgresUrl,
    to: &Path,
    progress: &mut dyn FnMut(&str),
) -> Result<(super::Verdict, Vec<Moved>), TransferProblem> {
    if to.exists() {
        return Err(TransferProblem::Refused(format!(
            "{} already exists: migrate-db makes a new SQLite book; give a path where none is",
            to.display()
        )));
    }
    postgres::migrate(from).await?;
    let mut client = postgres::connect(from).await?;
    drop(Db::open(to, Synchronous::Full)?);
    let mut target = Connection::open(to)?;
    target.execute_batch("PRAGMA foreign_keys = ON")?;
    let snapshot = client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await?;
    let mut columns = Vec::with_capacity(TABLES.len());
    for table in &TABLES {
        let mut found = Columns::of(&snapshot, table.name).await?;
        keep_sqlite_columns(table, &mut found);
        columns.push((table, found));
    }
    let organizations = snapshot
        .query(
            "SELECT id, slug, detail_copy_format FROM organizations ORDER BY id",
            &[],
        )
        .await?;
    let mut moved = Vec::with_capacity(organizations.len());
    let mut formats = Vec::with_capacity(organizations.len());
    for (number, organization) in organizations.iter().enumerate() {
        let (id, slug, format): (i64, String, i32) = (
            organization.get(0),
            organization.get(1),
            organization.get(2),
        );
        let tx = target.transaction()?;
        let mut rows = 0;
        for (table, columns) in &columns {
            let copied = copy_table(&snapshot, &tx, (table, columns), id).await?;
            if copied >= super::LARGE_TABLE {
                progress(&format!("{slug}: {}: {copied} rows", table.name));
            }
            rows += copied;
        }
        restore_detail_copies(&snapshot, &tx, id).await?;
        tx.commit()?;
        formats.push(format);
        progress(&format!(
            "{slug}: {rows} rows copied ({} of {})",
            number + 1,
            organizations.len()
        ));
        moved.push(Moved { slug, rows });
    }
    finish_sqlite_book(&snapshot, &mut target, &formats).await?;
    let verdict = super::compare(target_snapshot(&target)?, &snapshot).await?;
    snapshot.commit().await?;
    Ok((verdict, moved))
}

/// The new file's book-wide settings: its AUTOINCREMENT counters continue where
/// PostgreSQL's identities are (a deleted draft's id is never given again), and its detail
/// copies' format is the organizations' one, or 0 (render them all again on open) when
/// they differ.
async fn finish_sqlite_book(
    source: &tokio_postgres::Transaction<'_>,
    target: &mut Connection,
    formats: &[i32],
) -> Result<(), TransferProblem> {
    let tx = target.transaction()?;
    let counted: Vec<String> = tx
        .prepare(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND sql LIKE '%AUTOINCREMENT%'",
        )?
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    for table in counted {
        let given = last_given_in_postgres(source, &table).await?;
        let changed = tx.execute(
            "UPDATE sqlite_sequence SET seq = MAX(seq, ?2) WHERE name = ?1",
            rusqlite::params![table, given],
        )?;
        if changed == 0 && given > 0 {
            tx.execute(
                "INSERT INTO sqlite_sequence (name, seq) VALUES (?1, ?2)",
                rusqlite::params![table, given],
            )?;
        }
    }
    let format = match formats.split_first() {
        Some((first, rest)) if rest.iter().all(|other| other == first) => *first,
        Some(_) => 0,
        None => return Ok(tx.commit()?),
    };
    tx.execute("UPDATE detail_copy_format SET version = ?1", [format])?;
    Ok(tx.commit()?)
}

/// A read snapshot of the new SQLite book, for the comparison.
fn target_snapshot(target: &Connection) -> Result<&Connection, TransferProblem> {
    target.execute_batch("BEGIN")?;
    Ok(target)
}

/// The highest id `table`'s identity has given on PostgreSQL (0 for none).
pub(crate) async fn last_given_in_postgres(
    client: &impl tokio_postgres::GenericClient,
    table: &str,
) -> Result<i64, TransferProblem> {
    let sequence: Option<String> = client
        .query_one("SELECT pg_get_serial_sequence($1, 'id')", &[&table])
        .await?
        .get(0);
    let Some(sequence) = sequence else {
        return Ok(0);
    };
    let row = client
        .query_one(
            &format!("SELECT last_value, is_called FROM {sequence}"),
            &[],
        )
        .await?;
    let (last, called): (i64, bool) = (row.get(0), row.get(1));
    Ok(if called { last } else { last - 1 })
}

/// The SQLite book at `path`, migrated to this binary's schema, as a read-only connection
/// holding one snapshot (a read transaction) for the copy and the comparison after it.
pub(crate) fn open_sqlite_source(path: &Path) -> Result<Connection, TransferProblem> {
    if !path.is_file() {
        return Err(TransferProblem::Refused(format!(
            "{}: no such SQLite book",
            path.display()
        )));
    }
    drop(Db::open(path, Synchronous::Full)?);
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    conn.execute_batch("BEGIN")?;
    conn.query_row("SELECT COUNT(*) FROM organizations", [], |_| Ok(()))?;
    Ok(conn)
}

/// Leaves out the columns SQLite keeps elsewhere.
fn keep_sqlite_columns(table: &Table, columns: &mut Columns) {
    let keep: Vec<bool> = columns
        .names
        .iter()
        .map(|name| Columns::in_sqlite(table, name))
        .collect();
    let mut flags = keep.iter();
    columns.names.retain(|_| flags.next() == Some(&true));
    let mut flags = keep.iter();
    columns.types.retain(|_| flags.next() == Some(&true));
}

/// One organization's rows of one table, read from PostgreSQL and inserted into SQLite.
async fn copy_table(
    source: &tokio_postgres::Transaction<'_>,
    target: &rusqlite::Transaction<'_>,
    (table, columns): (&Table, &Columns),
    organization: i64,
) -> Result<u64, TransferProblem> {
    let marks = vec!["?"; columns.names.len()].join(", ");
    let insert = format!(
        "INSERT INTO {} ({}) VALUES ({marks})",
        table.name,
        columns.names.join(", ")
    );
    let mut stmt = target.prepare(&insert)?;
    let select = postgres_select(table, columns);
    postgres_rows(source, &select, organization, |row| {
        stmt.execute(rusqlite::params_from_iter(row.iter()))?;
        Ok(())
    })
    .await
}

/// SQLite's triggers clear an invoice's stored copies when its lines and allocations are
/// inserted; the copies are put back as PostgreSQL had them, byte for byte.
async fn restore_detail_copies(
    source: &tokio_postgres::Transaction<'_>,
    target: &rusqlite::Transaction<'_>,
    organization: i64,
) -> Result<(), TransferProblem> {
    let mut stmt =
        target.prepare("UPDATE invoices SET items_json = ?2, payments_json = ?3 WHERE id = ?1")?;
    postgres_rows(
        source,
        "SELECT id::text, items_json, payments_json FROM invoices WHERE organization_id = $1",
        organization,
        |row| {
            stmt.execute(rusqlite::params_from_iter(row.iter()))?;
            Ok(())
        },
    )
    .await?;
    Ok(())
}
