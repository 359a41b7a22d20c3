//! `arvalox export`: one organization's books as a CSV file a table, with a manifest, for
//! accountants and for leaving Arvalox. The records only (derived summaries and cached
//! copies are left out), read in one snapshot; amounts as decimals in their currency.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::conn::{value::ValueRef, Conn};
use super::sql::{ChildTable, CREDIT_NOTE_ITEMS, INVOICE_ITEMS};
use rusqlite::OpenFlags;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::domain::currency::Currency;
use crate::domain::money::Money;
use crate::domain::text::lower_hex;
use crate::domain::text::spreadsheet_safe;
use crate::error::AppError;

/// One table of the export: its file, and the SELECT of its rows for organization `?1`.
/// A column `__currency` says the currency of the row's `*_minor` amounts and is not
/// written; each `*_minor` column comes out without the suffix, as a decimal.
struct Table {
    file: &'static str,
    /// The child table whose rows it lists, filtered by `{line_owner}` in `sql`.
    lines: Option<ChildTable>,
    sql: &'static str,
}

const TABLES: [Table; 10] = [
    Table {
        file: "customers.csv",
        lines: None,
        sql: "SELECT c.id, c.customer_code, c.name, c.email, c.phone, c.billing_address,
                     c.payment_terms_days, c.credit_limit_minor, c.notes, c.is_active,
                     c.currency AS own_currency, c.created_at, c.updated_at,
                     COALESCE(c.currency, o.currency) AS __currency
              FROM customers c JOIN organizations o ON o.id = c.organization_id
              WHERE c.organization_id = ?1 ORDER BY c.id",
    },
    Table {
        file: "invoices.csv",
        lines: None,
        sql: "SELECT id, customer_id, invoice_number, status, issue_date, due_date, notes,
                     subtotal_minor, tax_total_minor, total_minor, amount_paid_minor,
                     amount_credited_minor, amount_written_off_minor, currency, created_at,
                     updated_at, currency AS __currency
              FROM invoices WHERE organization_id = ?1 ORDER BY id",
    },
    Table {
        file: "invoice_lines.csv",
        lines: Some(INVOICE_ITEMS),
        sql: "SELECT l.id, l.invoice_id, l.position, l.description, l.quantity, l.unit_price,
                     l.tax_rate, l.line_subtotal_minor, l.line_tax_minor, l.line_total_minor,
                     i.currency AS __currency
              FROM invoice_items l JOIN invoices i ON i.id = l.invoice_id
              WHERE {line_owner}i.organization_id = ?1 ORDER BY l.id",
    },
    Table {
        file: "payments.csv",
        lines: None,
        sql: "SELECT id, customer_id, amount_minor, payment_method, payment_date,
                     reference_number, notes, unapplied_minor, refunded_minor, void_date,
                     void_reason, currency, created_at, currency AS __currency
              FROM payments WHERE organization_id = ?1 ORDER BY id",
    },
    Table {
        file: "allocations.csv",
        lines: None,
        sql: "SELECT a.id, a.customer_id, a.invoice_id, a.payment_id, a.credit_note_id,
                     a.amount_minor, a.applied_date, a.reversed_date, a.reversal_reason,
                     a.created_at, i.currency AS __currency
              FROM allocations a JOIN invoices i ON i.organization_id = ?1 AND i.id = a.invoice_id
              WHERE a.organization_id = ?1 ORDER BY a.id",
    },
    Table {
        file: "credit_notes.csv",
        lines: None,
        sql: "SELECT id, customer_id, credit_note_number, invoice_id, issue_date, reason,
                     subtotal_minor, tax_total_minor, total_minor, unapplied_minor,
                     refunded_minor, void_date, void_reason, currency, created_at,
                     currency AS __currency
              FROM credit_notes WHERE organization_id = ?1 ORDER BY id",
    },
    Table {
        file: "credit_note_lines.csv",
        lines: Some(CREDIT_NOTE_ITEMS),
        sql: "SELECT l.id, l.credit_note_id, l.position, l.description, l.quantity,
                     l.unit_price, l.tax_rate, l.line_subtotal_minor, l.line_tax_minor,
                     l.line_total_minor, n.currency AS __currency
              FROM credit_note_items l JOIN credit_notes n ON n.id = l.credit_note_id
              WHERE {line_owner}n.organization_id = ?1 ORDER BY l.id",
    },
    Table {
        file: "refunds.csv",
        lines: None,
        sql: "SELECT r.id, r.customer_id, r.payment_id, r.credit_note_id, r.amount_minor,
                     r.refund_date, r.payment_method, r.reference_number, r.reason,
                     r.created_at,
                     COALESCE(p.currency, n.currency) AS __currency
              FROM refunds r
                   LEFT JOIN payments p ON p.organization_id = ?1 AND p.id = r.payment_id
                   LEFT JOIN credit_notes n ON n.organization_id = ?1 AND n.id = r.credit_note_id
              WHERE r.organization_id = ?1 ORDER BY r.id",
    },
    Table {
        file: "write_offs.csv",
        lines: None,
        sql: "SELECT w.id, w.customer_id, w.invoice_id, w.amount_minor, w.write_off_date,
                     w.reason, w.reversed_date, w.reversal_reason, w.created_at,
                     i.currency AS __currency
              FROM write_offs w JOIN invoices i ON i.organization_id = ?1 AND i.id = w.invoice_id
              WHERE w.organization_id = ?1 ORDER BY w.id",
    },
    Table {
        file: "events.csv",
        lines: None,
        sql: "SELECT id, occurred_at, type, entity_type, entity_id, actor, request_id,
                     idempotency_key, data, changes, prev_hash, hash, detail
              FROM journal_events WHERE organization_id = ?1 ORDER BY id",
    },
];

/// What one file of the export holds.
#[derive(Debug, Clone, Serialize)]
pub struct ExportedFile {
    pub file: String,
    pub rows: u64,
    pub columns: Vec<String>,
    /// SHA-256 of the file's bytes, hex.
    pub sha256: String,
}

/// `manifest.json`: what was exported, from where, when, and how to read it.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub format: &'static str,
    pub arvalox_version: &'static str,
    /// The schema (migration) version of the book it came from.
    pub schema_version: i64,
    pub organization: String,
    pub currency: String,
    pub exported_at: String,
    pub notes: [&'static str; 3],
    pub files: Vec<ExportedFile>,
}

/// Writes organization `slug`'s books from the file at `path` into `out` (created if
/// missing; files already there are never overwritten), and answers the manifest. An
/// export that fails removes what it wrote (see [`export_on`]).
pub fn export_book(
    path: &Path,
    slug: &str,
    out: &Path,
    exported_at: &str,
) -> Result<Manifest, AppError> {
    if !path.is_file() {
        return Err(AppError::NotFound(format!(
            "No database file at {}.",
            path.display()
        )));
    }
    let file = rusqlite::Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| AppError::Internal(format!("cannot open {}: {e}", path.display())))?;
    let conn = Conn::sqlite(&file);
    conn.execute_batch("BEGIN")?;
    export_on(&conn, &path.display().to_string(), slug, (out, exported_at))
}

/// [`export_book`] from a book the caller has opened (PostgreSQL's), in one read snapshot.
pub fn export_from(
    store: &super::Db,
    slug: &str,
    out: &Path,
    exported_at: &str,
) -> Result<Manifest, AppError> {
    store.read_blocking(|conn| export_on(conn, "the book", slug, (out, exported_at)))
}

/// The export proper, read on `conn` (inside its snapshot); `book` names it in messages.
fn export_on(
    conn: &Conn,
    book: &str,
    slug: &str,
    (out, exported_at): (&Path, &str),
) -> Result<Manifest, AppError> {
    let schema_version = same_schema(conn, book)?;
    let (org, currency): (i64, String) = conn
        .query_row(
            "SELECT id, currency FROM organizations WHERE slug = ?1",
            [slug],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .map_err(|_| AppError::NotFound(format!("No organization '{slug}' in {book}.")))?;
    // The books are private: the folder and its files are the owner's alone.
    let made = !out.exists();
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(out)
        .map_err(|e| io_error(out, &e))?;
    refuse_taken(out)?;
    // Each file is created new (never through a link, never over another's), and an
    // export that fails removes exactly the files it created, and the folder if it made
    // it: a full disk or a bad row leaves nothing that refuses the next try.
    let mut created = Vec::new();
    let manifest = Manifest {
        format: "arvalox-export/1",
        arvalox_version: env!("CARGO_PKG_VERSION"),
        schema_version,
        organization: slug.to_owned(),
        currency,
        exported_at: exported_at.to_owned(),
        notes: [
            "Each *_minor column of the books is written without the suffix, as a decimal in the row's own currency at its places (1620.00 USD, 1620 JPY).",
            "A text cell a spreadsheet would run as a formula (starting with =, +, -, @, a tab or a carriage return) has a leading ' added.",
            "Records only: the server's derived summaries and cached copies are rebuilt from these.",
        ],
        files: Vec::new(),
    };
    let written = write_all(conn, (org, out), &mut created, manifest);
    if written.is_err() {
        created
            .iter()
            .for_each(|file| drop(std::fs::remove_file(file)));
        if made {
            let _ = std::fs::remove_dir(out);
        }
    }
    written
}

/// The 409 for a folder that holds a file of the export's names already; when the manifest
/// is not among them, the message says what an export killed part way leaves, for the
/// user to clear.
fn refuse_taken(out: &Path) -> Result<(), AppError> {
    let names = TABLES.iter().map(|t| t.file).chain(["manifest.json"]);
    let taken: Vec<&str> = names.filter(|name| out.join(name).exists()).collect();
    if taken.is_empty() {
        return Ok(());
    }
    let unfinished = match taken.contains(&"manifest.json") {
        true => "",
        false => " and no manifest.json (if an export was cut short, remove them and export again)",
    };
    Err(AppError::Conflict {
        detail: format!(
            "{} already holds {}{unfinished}: export into an empty folder (nothing is overwritten).",
            out.display(),
            taken.join(", ")
        ),
        field_errors: Default::default(),
    })
}

/// Every table's file, then `manifest` with them listed, into `out`; each file created is
/// added to `created` as soon as it exists.
fn write_all(
    conn: &Conn,
    (org, out): (i64, &Path),
    created: &mut Vec<PathBuf>,
    mut manifest: Manifest,
) -> Result<Manifest, AppError> {
    for table in &TABLES {
        manifest.files.push(write_table(
            conn,
            org,
            table,
            (&out.join(table.file), created),
        )?);
    }
    let text =
        serde_json::to_string_pretty(&manifest).map_err(|e| AppError::Internal(e.to_string()))?;
    let manifest_path = out.join("manifest.json");
    let mut file = new_file(&manifest_path)?;
    created.push(manifest_path.clone());
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| io_error(&manifest_path, &e))?;
    Ok(manifest)
}

/// The book's schema version, when it is the one this binary knows: the export only reads,
/// so a book this binary would migrate (or one a newer binary wrote) is refused, never
/// changed under a running server.
fn same_schema(conn: &Conn, book: &str) -> Result<i64, AppError> {
    let version: i64 = conn
        .query_row(
            "SELECT MAX(version) FROM refinery_schema_history",
            (),
            |row| row.get(0),
        )
        .map_err(|_| AppError::Internal(format!("{book} is not an Arvalox book.")))?;
    let known = match conn.is_postgres() {
        true => super::postgres::schema_version(),
        false => super::schema_version(),
    };
    if version == known {
        return Ok(version);
    }
    let advice = if version < known {
        "run `arvalox migrate` on it first"
    } else {
        "export it with the newer arvalox that wrote it"
    };
    Err(AppError::Internal(format!(
        "{book} is at schema version {version} and this arvalox exports version {known}: {advice}."
    )))
}

fn io_error(path: &Path, error: &std::io::Error) -> AppError {
    AppError::Internal(format!("{}: {error}", path.display()))
}

/// A new file at `path`; one already there is an error, never overwritten.
fn new_file(path: &Path) -> Result<File, AppError> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| io_error(path, &e))
}

/// A writer that hashes what it writes.
struct Hashed {
    file: std::io::BufWriter<File>,
    hash: Sha256,
    path: PathBuf,
}

impl Write for Hashed {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.hash.update(bytes);
        self.file.write_all(bytes)?;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

fn write_table(
    conn: &Conn,
    org: i64,
    table: &Table,
    (path, created): (&Path, &mut Vec<PathBuf>),
) -> Result<ExportedFile, AppError> {
    // On PostgreSQL the join is then between two rows of one organization's shard.
    let line_owner = table
        .lines
        .map(|lines| super::sql::owner_filter(conn, lines, "l.", "?1"))
        .unwrap_or_default();
    let mut stmt = conn.prepare(&table.sql.replace("{line_owner}", &line_owner))?;
    let names: Vec<String> = stmt
        .column_names()
        .iter()
        .map(|n| (*n).to_owned())
        .collect();
    let currency_at = names.iter().position(|n| n == "__currency");
    let columns: Vec<String> = names
        .iter()
        .filter(|n| *n != "__currency")
        .map(|n| n.strip_suffix("_minor").unwrap_or(n).to_owned())
        .collect();
    let file = new_file(path)?;
    created.push(path.to_owned());
    let hashed = Hashed {
        file: std::io::BufWriter::new(file),
        hash: Sha256::new(),
        path: path.to_owned(),
    };
    let failed = |e: csv::Error| AppError::Internal(format!("{}: {e}", path.display()));
    let mut writer = csv::Writer::from_writer(hashed);
    writer.write_record(&columns).map_err(failed)?;
    let mut rows = stmt.query([org])?;
    let mut count = 0_u64;
    while let Some(row) = rows.next()? {
        let currency = match currency_at {
            Some(at) => Currency::stored(&row.get::<_, String>(at)?),
            None => Currency::USD,
        };
        let mut cells = Vec::with_capacity(columns.len());
        for (at, name) in names.iter().enumerate() {
            if Some(at) == currency_at {
                continue;
            }
            cells.push(cell(
                row.get_ref(at)?,
                name.ends_with("_minor").then_some(currency),
            ));
        }
        writer.write_record(&cells).map_err(failed)?;
        count += 1;
    }
    let hashed = writer
        .into_inner()
        .map_err(|e| AppError::Internal(format!("{}: {e}", path.display())))?;
    let Hashed {
        mut file,
        hash,
        path,
    } = hashed;
    // On disk before the manifest vouches for it.
    file.flush()
        .and_then(|()| file.get_ref().sync_all())
        .map_err(|e| io_error(&path, &e))?;
    Ok(ExportedFile {
        file: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        rows: count,
        columns,
        sha256: lower_hex(&hash.finalize()),
    })
}

/// One stored value as a cell: an amount (`money` in its currency) as a decimal, text made
/// safe for spreadsheets, NULL as empty.
fn cell(value: ValueRef<'_>, money: Option<Currency>) -> String {
    match (value, money) {
        (ValueRef::Integer(minor), Some(currency)) => {
            Money::from_minor(minor).text(currency).as_str().to_owned()
        }
        (ValueRef::Integer(n), None) => n.to_string(),
        (ValueRef::Real(x), _) => x.to_string(),
        (ValueRef::Text(text), _) => spreadsheet_safe(&String::from_utf8_lossy(text)),
        (ValueRef::Blob(bytes), _) => lower_hex(bytes),
        (ValueRef::Null, _) => String::new(),
    }
}
