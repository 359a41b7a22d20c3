//! An invoice's detail copies (migration V4): its `items` and `payments` arrays stored
//! beside it as the text the detail answer holds (written by `domain::detail`), read in
//! one row, cleared by triggers when what they show changes, and written again before the
//! writer commits, or when the file opens with copies of another format (migration V6).

use chrono::NaiveDate;

use super::codec::{stored_date, stored_status, unreadable};
use super::conn::{params, Conn, Row};
use super::invoice_ledger::LedgerParts;
use super::invoices::{items_of, payments_of};
use crate::domain::currency::Currency;
use crate::domain::detail::{self, AppliedPayment, InvoiceItem};
use crate::domain::invoice::{balance_due, InvoiceStatus, Settled};
use crate::domain::money::Money;
use crate::error::AppError;

/// An invoice row with its stored detail copies (migration V4), borrowed from the statement.
pub(crate) struct DetailRow<'a> {
    pub id: i64,
    pub customer_id: i64,
    pub invoice_number: &'a str,
    pub status: InvoiceStatus,
    /// As stored: `YYYY-MM-DD`, written by [`date_text`].
    pub issue_date: &'a str,
    pub due_date: &'a str,
    /// `due_date`, read.
    pub due: NaiveDate,
    pub notes: Option<&'a str>,
    pub subtotal: Money,
    pub tax_total: Money,
    pub total: Money,
    pub settled: Settled,
    pub currency: Currency,
    pub created_at: &'a str,
    pub updated_at: &'a str,
    /// The detail view's `items` array, as the API renders it.
    pub items_json: &'a str,
    /// The detail view's `payments` array, as the API renders it.
    pub payments_json: &'a str,
}

impl DetailRow<'_> {
    pub(crate) fn balance_due(&self) -> Money {
        balance_due(self.status, self.total, self.settled.sum())
    }
}

/// What [`with_detail_row`] found.
pub(crate) enum Detail<T> {
    Missing,
    /// The stored copies were cleared by a write and not yet rendered again, or could not
    /// be rendered: read [`get`].
    Unrendered,
    Rendered(T),
}

/// The columns a [`DetailRow`] is read from, in [`detail_row`]'s order: a macro, so the
/// hot read's statement below is one constant too, not text formatted on every request.
macro_rules! detail_columns {
    () => {
        "SELECT id, customer_id, invoice_number, status, issue_date, due_date, notes,
        subtotal_minor, tax_total_minor, total_minor, amount_paid_minor, created_at, updated_at,
        items_json, payments_json, amount_credited_minor, amount_written_off_minor, currency"
    };
}

/// [`detail_columns`] from every invoice: a caller adds its own filter.
pub(crate) const DETAIL_SELECT: &str = concat!(detail_columns!(), " FROM invoices");

/// One invoice's [`DetailRow`], and whether it has rows of each [`LedgerParts`] kind: two
/// probes of small indexes inside the same statement, so an invoice with neither credit
/// notes nor write-offs (most of them) is read with this one statement alone.
const DETAIL_READ: &str = concat!(
    detail_columns!(),
    ",
        EXISTS (SELECT 1 FROM allocations INDEXED BY allocations_invoice_credit
                WHERE invoice_id = invoices.id AND credit_note_id IS NOT NULL),
        EXISTS (SELECT 1 FROM write_offs INDEXED BY write_offs_invoice
                WHERE invoice_id = invoices.id)
     FROM invoices WHERE id = ?1 AND organization_id = ?2"
);

/// The hot read: one row, one statement. `render` sees the row while the statement holds
/// it, so nothing is copied out of SQLite but the answer itself, and is told which parts
/// of the invoice's ledger have rows to read.
pub(crate) fn with_detail_row<T>(
    conn: &Conn,
    org: i64,
    id: i64,
    render: impl FnOnce(&DetailRow, LedgerParts) -> T,
) -> Result<Detail<T>, AppError> {
    if conn.is_postgres() {
        return Ok(Detail::Unrendered);
    }
    let mut stmt = conn.prepare_cached(DETAIL_READ)?;
    let mut rows = stmt.query(params![id, org])?;
    let Some(row) = rows.next()? else {
        return Ok(Detail::Missing);
    };
    let parts = LedgerParts {
        credit_notes: row.get(18)?,
        write_offs: row.get(19)?,
    };
    Ok(match detail_row(&row, Copies::Both)? {
        Some(detail) => Detail::Rendered(render(&detail, parts)),
        None => Detail::Unrendered,
    })
}

/// Which stored copies a read needs rendered.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Copies {
    /// The detail answer: lines and payments.
    Both,
    /// A list's answer, which shows the lines only (`payments_json` is then `""` when it
    /// is not rendered).
    Items,
}

/// A row of [`DETAIL_SELECT`], borrowed; `None` when a copy `needed` is not rendered.
pub(crate) fn detail_row<'a>(
    row: &'a Row,
    needed: Copies,
) -> Result<Option<DetailRow<'a>>, AppError> {
    let id: i64 = row.get(0)?;
    let text = |index| {
        optional_text(row, index)?
            .ok_or_else(|| unreadable(index, format!("invoice {id}: a NOT NULL column is NULL")))
    };
    let copy =
        |index| optional_text(row, index).map(|copy| copy.filter(|copy| *copy != NOT_RENDERABLE));
    let Some(items_json) = copy(13)? else {
        return Ok(None);
    };
    let payments_json = match (copy(14)?, needed) {
        (Some(payments_json), _) => payments_json,
        (None, Copies::Items) => NOT_RENDERABLE,
        (None, Copies::Both) => return Ok(None),
    };
    Ok(Some(DetailRow {
        id,
        customer_id: row.get(1)?,
        invoice_number: text(2)?,
        status: stored_status(id, 3, text(3)?)?,
        issue_date: text(4)?,
        due_date: text(5)?,
        due: stored_date(id, 5, "due_date", text(5)?)?,
        notes: optional_text(row, 6)?,
        subtotal: Money::from_minor(row.get(7)?),
        tax_total: Money::from_minor(row.get(8)?),
        total: Money::from_minor(row.get(9)?),
        settled: Settled {
            paid: Money::from_minor(row.get(10)?),
            credited: Money::from_minor(row.get(15)?),
            written_off: Money::from_minor(row.get(16)?),
        },
        currency: Currency::stored(text(17)?),
        created_at: text(11)?,
        updated_at: text(12)?,
        items_json,
        payments_json,
    }))
}

const UNRENDERED: &str = "FROM invoices INDEXED BY invoices_unrendered
     WHERE items_json IS NULL OR payments_json IS NULL";

pub(crate) fn count_unrendered(conn: &Conn) -> Result<usize, AppError> {
    let count: i64 = conn
        .prepare_cached(&format!("SELECT COUNT(*) {UNRENDERED}"))?
        .query_row((), |row| row.get(0))?;
    Ok(count as usize)
}

/// Clears every stored detail copy when the file's copies were written in another format
/// than this binary's ([`detail::DETAIL_FORMAT`]), so they are written again (see
/// `render_details`); returns whether it did. Runs in the caller's transaction.
pub(crate) fn clear_copies_of_another_format(conn: &Conn) -> Result<bool, AppError> {
    let stored: i64 = conn
        .prepare_cached("SELECT version FROM detail_copy_format")?
        .query_row((), |row| row.get(0))?;
    if stored == detail::DETAIL_FORMAT {
        return Ok(false);
    }
    conn.execute_batch("UPDATE invoices SET items_json = NULL, payments_json = NULL")?;
    conn.prepare_cached("UPDATE detail_copy_format SET version = ?1")?
        .execute([detail::DETAIL_FORMAT])?;
    Ok(true)
}

/// Renders up to `limit` missing detail copies (new invoices, and invoices whose lines or
/// payments changed: the triggers of migration V4 clear their copies); returns how many.
/// Writers call it before they commit, so a committed invoice is normally rendered.
pub(crate) fn render_details(conn: &Conn, limit: i64) -> Result<usize, AppError> {
    if conn.is_postgres() {
        // Without SQLite's clearing triggers, a copy could go stale: PostgreSQL books
        // read every invoice from its rows (see `with_detail_row`).
        return Ok(0);
    }
    let pending: Vec<(i64, (bool, bool), String, i64)> = conn
        .prepare_cached(&format!(
            "SELECT id, items_json IS NULL, payments_json IS NULL, currency, organization_id
             {UNRENDERED} LIMIT ?1"
        ))?
        .query_map([limit], |row| {
            Ok((
                row.get(0)?,
                (row.get(1)?, row.get(2)?),
                row.get(3)?,
                row.get(4)?,
            ))
        })?
        .collect::<Result<_, _>>()?;
    // Only what was cleared: a payment leaves the lines' copy alone.
    for (id, (items_missing, payments_missing), currency, org) in &pending {
        let (id, currency, whose) = (*id, Currency::stored(currency), (*org, *id));
        if *items_missing {
            let items = items_of(conn, whose).map(|items| detail::items_json(&items, currency));
            store_copy(conn, id, "items_json", items)?;
        }
        if *payments_missing {
            let payments =
                payments_of(conn, whose).map(|payments| detail::payments_json(&payments, currency));
            store_copy(conn, id, "payments_json", payments)?;
        }
    }
    Ok(pending.len())
}

/// Marks a copy that could not be rendered: reads of it use the tables (and report what
/// is wrong there), and it is not tried again until its rows change.
const NOT_RENDERABLE: &str = "";

/// Stores a rendered copy. A row that cannot be read back (written by another tool, say)
/// costs only its own invoice its copy; it must not stop every other invoice's rendering.
fn store_copy(
    conn: &Conn,
    id: i64,
    column: &str,
    rendered: Result<String, AppError>,
) -> Result<(), AppError> {
    let text = rendered.unwrap_or_else(|err| {
        tracing::warn!(invoice = id, error = %err, "cannot render an invoice's detail copy");
        NOT_RENDERABLE.to_string()
    });
    conn.prepare_cached(&format!("UPDATE invoices SET {column} = ?2 WHERE id = ?1"))?
        .execute(params![id, text])?;
    Ok(())
}

/// A text column borrowed from the row.
fn optional_text<'a>(row: &'a Row, index: usize) -> crate::db::conn::StoreResult<Option<&'a str>> {
    row.get_ref(index)?
        .as_str_or_null()
        .map_err(|err| unreadable(index, format!("not text: {err}")))
}

/// Stores both detail copies of an invoice whose writer already holds its lines and
/// payments (the seeder), instead of leaving them for [`render_details`] to read back.
pub(crate) fn store_details(
    conn: &Conn,
    invoice_id: i64,
    (items, payments): (Vec<InvoiceItem>, Vec<AppliedPayment>),
    currency: Currency,
) -> Result<(), AppError> {
    conn.prepare_cached("UPDATE invoices SET items_json = ?2, payments_json = ?3 WHERE id = ?1")?
        .execute(params![
            invoice_id,
            detail::items_json(&items, currency),
            detail::payments_json(&payments, currency)
        ])?;
    Ok(())
}

/// The detail copies that differ from a fresh rendering of their invoice's rows: how many
/// invoices were checked, how many differ, and the first 20 of those. Reads every invoice
/// (a doctor's check, not a server's).
pub(crate) fn stale_copies(conn: &Conn) -> Result<(usize, usize, Vec<i64>), AppError> {
    let mut stmt = conn.prepare(
        "SELECT id, currency, items_json, payments_json, organization_id FROM invoices
         WHERE items_json IS NOT NULL AND payments_json IS NOT NULL ORDER BY id",
    )?;
    let mut rows = stmt.query(())?;
    let (mut checked, mut stale, mut first) = (0, 0, Vec::new());
    while let Some(row) = rows.next()? {
        let (id, currency): (i64, String) = (row.get(0)?, row.get(1)?);
        let (currency, whose) = (Currency::stored(&currency), (row.get(4)?, id));
        let items = items_of(conn, whose).map(|items| detail::items_json(&items, currency));
        let payments =
            payments_of(conn, whose).map(|payments| detail::payments_json(&payments, currency));
        let fresh = (
            items.unwrap_or_else(|_| NOT_RENDERABLE.to_string()),
            payments.unwrap_or_else(|_| NOT_RENDERABLE.to_string()),
        );
        let stored: (String, String) = (row.get(2)?, row.get(3)?);
        checked += 1;
        if stored != fresh {
            stale += 1;
            if first.len() < 20 {
                first.push(id);
            }
        }
    }
    Ok((checked, stale, first))
}

/// Clears every detail copy, so each is rendered again from the rows (`Db::open` renders
/// the missing ones); the rows themselves are untouched.
pub(crate) fn clear_all(conn: &Conn) -> Result<usize, AppError> {
    Ok(conn.execute(
        "UPDATE invoices SET items_json = NULL, payments_json = NULL
         WHERE items_json IS NOT NULL OR payments_json IS NOT NULL",
        (),
    )?)
}
