//! Moving a whole book between the engines (`arvalox migrate-db`): SQLite to PostgreSQL and
//! back, every organization with its keys' hashes, journal and stored copies, one
//! transaction per organization, then both books compared row for row and figure for figure.
//!
//! The PostgreSQL schema names the columns (SQLite has the same ones, bar the
//! organization_id that three child tables carry only there, and the file-wide format
//! version that PostgreSQL keeps per organization). Values cross as text: each engine reads
//! its own types from it (PostgreSQL's COPY, SQLite's column affinity), and the comparison
//! renders both sides the same way, so a value that would not come back byte for byte is
//! found before anyone serves the copy.

mod compare;
mod into_postgres;
mod into_sqlite;
mod rows;

pub use compare::{compare, Figures, Verdict};

use super::sql::{self, ChildTable};
pub use into_postgres::to_postgres;
pub use into_sqlite::to_sqlite;

/// An organization's table of at least this many rows gets a progress line of its own: a
/// large book is not copied in silence.
pub(crate) const LARGE_TABLE: u64 = 10_000;

/// The tables in an order where each comes after those its foreign keys point at.
pub(crate) const TABLES: [Table; 20] = [
    Table {
        name: "organizations",
        owner: Owner::Itself,
    },
    Table::tenant("api_keys"),
    Table::tenant("customers"),
    Table::tenant("invoices"),
    Table::child(sql::INVOICE_ITEMS),
    Table::tenant("payments"),
    Table::tenant("credit_notes"),
    Table::child(sql::CREDIT_NOTE_ITEMS),
    Table::tenant("allocations"),
    Table::tenant("refunds"),
    Table::tenant("write_offs"),
    Table::tenant("idempotency_keys"),
    Table::tenant("sequences"),
    Table::tenant("journal_events"),
    Table::tenant("journal_imports_due"),
    Table::tenant("webhook_endpoints"),
    Table::child(sql::WEBHOOK_DELIVERIES),
    Table::tenant("invoice_daily"),
    Table::tenant("settled_daily"),
    Table::tenant("settled_weights_due"),
];

/// How a table's rows belong to an organization.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Owner {
    /// `organizations` itself: the row whose id is the organization's.
    Itself,
    /// A table with an organization_id column in both engines.
    Column,
    /// A table whose organization_id SQLite keeps on its parent row only.
    Parent {
        table: &'static str,
        key: &'static str,
    },
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Table {
    pub(crate) name: &'static str,
    pub(crate) owner: Owner,
}

impl Table {
    const fn tenant(name: &'static str) -> Table {
        Table {
            name,
            owner: Owner::Column,
        }
    }

    const fn child(child: ChildTable) -> Table {
        Table {
            name: child.name,
            owner: Owner::Parent {
                table: child.parent,
                key: child.key,
            },
        }
    }
}

/// One organization moved: its slug and how many rows of each table.
pub struct Moved {
    pub slug: String,
    pub rows: u64,
}

/// Why a book could not be moved. A target that is not empty is refused before anything is
/// written; after that each organization is one transaction, so a failure leaves the
/// organizations before it whole in the target and nothing of the one that failed.
#[derive(Debug, thiserror::Error)]
pub enum TransferProblem {
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Failed(String),
}

impl From<tokio_postgres::Error> for TransferProblem {
    fn from(err: tokio_postgres::Error) -> Self {
        // The server's detail is left out: for a refused row it quotes the row's values,
        // and a webhook's signing secret is one of them. The table and constraint say where.
        let text = match err.as_db_error() {
            Some(db) => format!(
                "PostgreSQL: {} (table {}, constraint {})",
                db.message(),
                db.table().unwrap_or("-"),
                db.constraint().unwrap_or("-")
            ),
            None => format!("PostgreSQL: {err}"),
        };
        TransferProblem::Failed(text)
    }
}

impl From<rusqlite::Error> for TransferProblem {
    fn from(err: rusqlite::Error) -> Self {
        TransferProblem::Failed(format!("SQLite: {err}"))
    }
}

impl From<super::postgres::PostgresProblem> for TransferProblem {
    fn from(problem: super::postgres::PostgresProblem) -> Self {
        use super::postgres::PostgresProblem;
        match problem {
            PostgresProblem::Unreachable(why) => {
                TransferProblem::Refused(format!("cannot reach the database ({why})"))
            }
            PostgresProblem::Newer { have, know } => TransferProblem::Refused(format!(
                "written by a newer Arvalox (migrations up to {have}; this binary knows {know})"
            )),
            PostgresProblem::Failed(why) => TransferProblem::Failed(why),
        }
    }
}

impl From<crate::error::AppError> for TransferProblem {
    fn from(err: crate::error::AppError) -> Self {
        TransferProblem::Failed(err.to_string())
    }
}
