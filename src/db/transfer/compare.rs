//! After a move: both books read back, every organization's every table row for row (a
//! digest of each side's rows in key order, values in SQLite's text form), and the figures
//! an accountant checks (billed, open, received per currency) from each engine's own sums.

use sha2::{Digest, Sha256};
use tokio_postgres::GenericClient;

use super::into_postgres::{last_ids_in_sqlite, organizations_in_sqlite};
use super::into_sqlite::last_given_in_postgres;
use super::rows::{postgres_rows, postgres_select, sqlite_rows, sqlite_select, Columns, Row};
use super::{TransferProblem, TABLES};
use crate::domain::currency::Currency;
use crate::domain::money::Money;

/// One organization's figures in one currency, in minor units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Figures {
    pub slug: String,
    pub currency: String,
    pub invoices: i64,
    pub billed_minor: i64,
    pub open_minor: i64,
    pub received_minor: i64,
}

impl Figures {
    /// "acme USD: 1200 invoices, billed 1234.56, open 78.90, received 1155.66".
    pub fn line(&self) -> String {
        let currency = Currency::stored(&self.currency);
        let shown = |minor: i64| Money::from_minor(minor).to_decimal(currency).to_string();
        format!(
            "{} {}: {} invoices, billed {}, open {}, received {}",
            self.slug,
            self.currency,
            self.invoices,
            shown(self.billed_minor),
            shown(self.open_minor),
            shown(self.received_minor)
        )
    }
}

/// What the comparison found: rows and tables compared, the figures (the same on both
/// sides, or `differences` says where not).
pub struct Verdict {
    pub tables: usize,
    pub rows: u64,
    pub figures: Vec<Figures>,
    pub differences: Vec<String>,
}

const SQLITE_FIGURES: &str = "SELECT i.currency, COUNT(*), SUM(i.total_minor),
        SUM(i.total_minor - i.amount_paid_minor - i.amount_credited_minor - i.amount_written_off_minor),
        (SELECT COALESCE(SUM(p.amount_minor), 0) FROM payments p
         WHERE p.organization_id = ?1 AND p.currency = i.currency AND p.void_date IS NULL)
    FROM invoices i WHERE i.organization_id = ?1 AND i.status NOT IN ('draft', 'void')
    GROUP BY i.currency ORDER BY i.currency";

const POSTGRES_FIGURES: &str = "SELECT i.currency, COUNT(*)::bigint, SUM(i.total_minor)::bigint,
        SUM(i.total_minor - i.amount_paid_minor - i.amount_credited_minor - i.amount_written_off_minor)::bigint,
        (SELECT COALESCE(SUM(p.amount_minor), 0)::bigint FROM payments p
         WHERE p.organization_id = $1 AND p.currency = i.currency AND p.void_date IS NULL)
    FROM invoices i WHERE i.organization_id = $1 AND i.status NOT IN ('draft', 'void')
    GROUP BY i.currency ORDER BY i.currency";

/// Compares the SQLite book (read in `sqlite`'s snapshot) with the PostgreSQL one.
pub async fn compare(
    sqlite: &rusqlite::Connection,
    postgres: &impl GenericClient,
) -> Result<Verdict, TransferProblem> {
    let organizations = organizations_in_sqlite(sqlite)?;
    let mut verdict = Verdict {
        tables: TABLES.len(),
        rows: 0,
        figures: Vec::new(),
        differences: Vec::new(),
    };
    let counted: i64 = postgres
        .query_one("SELECT COUNT(*) FROM organizations", &[])
        .await?
        .get(0);
    if counted != organizations.len() as i64 {
        verdict.differences.push(format!(
            "SQLite has {} organizations, PostgreSQL {counted}",
            organizations.len()
        ));
    }
    for table in &TABLES {
        let columns = Columns::of(postgres, table.name).await?;
        let (on_sqlite, on_postgres) = (
            sqlite_select(table, &columns),
            postgres_select(table, &columns),
        );
        for (id, slug) in &organizations {
            let mut left = RowDigest::default();
            sqlite_rows(sqlite, &on_sqlite, *id, |row| left.add(&row))?;
            let mut right = RowDigest::default();
            postgres_rows(postgres, &on_postgres, *id, |row| right.add(&row)).await?;
            verdict.rows += left.rows;
            if left != right {
                let (mut ours, mut theirs) = (Vec::new(), Vec::new());
                sqlite_rows(sqlite, &on_sqlite, *id, |row| {
                    ours.push(row);
                    Ok(())
                })?;
                postgres_rows(postgres, &on_postgres, *id, |row| {
                    theirs.push(row);
                    Ok(())
                })
                .await?;
                verdict.differences.push(format!(
                    "{slug}: {}: {} rows in SQLite, {} in PostgreSQL; {}",
                    table.name,
                    left.rows,
                    right.rows,
                    first_difference(&columns, &ours, &theirs)
                ));
            }
        }
    }
    for (table, given) in last_ids_in_sqlite(sqlite)? {
        let theirs = last_given_in_postgres(postgres, &table).await?;
        if theirs != given {
            verdict.differences.push(format!(
                "{table}: the last id given is {given} in SQLite and {theirs} in PostgreSQL"
            ));
        }
    }
    for (id, slug) in &organizations {
        let left = sqlite_figures(sqlite, *id, slug)?;
        let right = postgres_figures(postgres, *id, slug).await?;
        if left != right {
            verdict
                .differences
                .push(format!("{slug}: the figures differ between the books"));
        }
        verdict.figures.extend(left);
    }
    Ok(verdict)
}

/// Where two readings of a table first part: the row's key and the column, never the
/// values (a webhook's signing secret is a column).
fn first_difference(columns: &Columns, ours: &[Row], theirs: &[Row]) -> String {
    let key_at: Vec<usize> = columns
        .key
        .iter()
        .filter_map(|key| columns.names.iter().position(|name| name == key))
        .collect();
    for (left, right) in ours.iter().zip(theirs) {
        let Some(at) = (0..left.len()).find(|at| left.get(*at) != right.get(*at)) else {
            continue;
        };
        let key: Vec<String> = key_at
            .iter()
            .map(|at| left.get(*at).cloned().flatten().unwrap_or_default())
            .collect();
        let column = columns.names.get(at).map_or("?", String::as_str);
        return format!("first at key ({}), column {column}", key.join(", "));
    }
    "one side has rows the other lacks".to_string()
}

/// A running digest of rows: each value length-prefixed, so no two rows read the same.
#[derive(Default, PartialEq, Eq)]
struct RowDigest {
    rows: u64,
    hash: [u8; 32],
}

impl RowDigest {
    fn add(&mut self, row: &Row) -> Result<(), TransferProblem> {
        let mut hasher = Sha256::new();
        hasher.update(self.hash);
        for value in row {
            match value {
                None => hasher.update([0u8]),
                Some(text) => {
                    hasher.update([1u8]);
                    hasher.update((text.len() as u64).to_le_bytes());
                    hasher.update(text.as_bytes());
                }
            }
        }
        self.hash = hasher.finalize().into();
        self.rows += 1;
        Ok(())
    }
}

fn sqlite_figures(
    conn: &rusqlite::Connection,
    organization: i64,
    slug: &str,
) -> Result<Vec<Figures>, TransferProblem> {
    let mut stmt = conn.prepare(SQLITE_FIGURES)?;
    let found = stmt
        .query_map([organization], |row| {
            Ok(Figures {
                slug: slug.to_string(),
                currency: row.get(0)?,
                invoices: row.get(1)?,
                billed_minor: row.get(2)?,
                open_minor: row.get(3)?,
                received_minor: row.get(4)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(found)
}

async fn postgres_figures(
    client: &impl GenericClient,
    organization: i64,
    slug: &str,
) -> Result<Vec<Figures>, TransferProblem> {
    let rows = client.query(POSTGRES_FIGURES, &[&organization]).await?;
    Ok(rows
        .iter()
        .map(|row| Figures {
            slug: slug.to_string(),
            currency: row.get(0),
            invoices: row.get(1),
            billed_minor: row.get(2),
            open_minor: row.get(3),
            received_minor: row.get(4),
        })
        .collect())
}
