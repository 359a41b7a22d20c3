//! Write-offs of an invoice and their reversal, each moving the invoice's written-off sum
//! and status in the same transaction; which are allowed is `domain::write_off`.

use chrono::NaiveDate;

use super::allocations::{invoice_movements, move_settled, moved};
use super::codec::{date_text, stored_date};
use super::conn::{params, OptionalExtension};
use super::invoices::{get, get_header, not_found, Invoice};
use super::summaries::{paid_intervals_now, resettle};
use super::WriteTx;
use crate::domain::invoice::SettledBy;
use crate::domain::write_off::{self, check_reversal, NewWriteOff, WritableInvoice};
use crate::error::AppError;

/// Writes off part or all of invoice `id`'s open amount, dated; answers the invoice.
pub(crate) fn create(
    tx: &WriteTx,
    org: i64,
    id: i64,
    new: NewWriteOff,
    (today, now): (NaiveDate, &str),
) -> Result<Invoice, AppError> {
    let invoice = get_header(tx, org, id)?.ok_or_else(|| not_found(id))?;
    let writable = WritableInvoice {
        id,
        status: invoice.status,
        issue_date: invoice.issue_date,
        total: invoice.total,
        settled: invoice.settled,
        currency: invoice.currency,
    };
    let movements = invoice_movements(tx, (org, id))?;
    let (amount, _) = write_off::write_off(&writable, &movements, &new, today)?;
    let on = date_text(new.date);
    let before = paid_intervals_now(tx, &invoice)?;
    tx.prepare_cached(
        "INSERT INTO write_offs (organization_id, customer_id, invoice_id, amount_minor,
            write_off_date, reason, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        org,
        invoice.customer_id,
        id,
        amount.minor(),
        on,
        new.reason,
        now
    ])?;
    moved(tx, (org, id), "write_offs", (&on, -amount.minor()))?;
    move_settled(tx, &invoice, (SettledBy::WriteOff, amount.minor()), now)?;
    resettle(tx, &invoice, &before)?;
    get(tx, org, id)
}

/// Reverses write-off `write_off_id` of invoice `id` on `date` (a recovered bad debt): the
/// invoice reopens from that date; before it, every report still shows the write-off.
pub(crate) fn reverse(
    tx: &WriteTx,
    org: i64,
    (id, write_off_id): (i64, i64),
    (date, reason): (NaiveDate, String),
    (today, now): (NaiveDate, &str),
) -> Result<Invoice, AppError> {
    let invoice = get_header(tx, org, id)?.ok_or_else(|| not_found(id))?;
    let found: Option<(i64, String, bool)> = tx
        .prepare_cached(
            "SELECT amount_minor, write_off_date, reversed_date IS NOT NULL FROM write_offs
             WHERE organization_id = ?3 AND id = ?1 AND invoice_id = ?2",
        )?
        .query_row(params![write_off_id, id, org], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })
        .optional()?;
    let (amount, written_on, reversed) = found.ok_or_else(|| {
        AppError::NotFound(format!(
            "Write-off {write_off_id} of invoice {id} not found."
        ))
    })?;
    let written_on = stored_date(write_off_id, 1, "write_off_date", &written_on)?;
    check_reversal((write_off_id, written_on, reversed), date, today)?;
    let on = date_text(date);
    let before = paid_intervals_now(tx, &invoice)?;
    // The check above read the write-off in this transaction; the guard makes the
    // UPDATE itself refuse a second reversal, whatever the engine's isolation.
    let reversed_now = tx
        .prepare_cached(
            "UPDATE write_offs SET reversed_date = ?2, reversal_reason = ?3
             WHERE organization_id = ?4 AND id = ?1 AND reversed_date IS NULL",
        )?
        .execute(params![write_off_id, on, reason, org])?;
    if reversed_now != 1 {
        return Err(AppError::conflict(format!(
            "Write-off {write_off_id} is already reversed."
        )));
    }
    moved(tx, (org, id), "write_offs", (&on, amount))?;
    move_settled(tx, &invoice, (SettledBy::WriteOff, -amount), now)?;
    resettle(tx, &invoice, &before)?;
    get(tx, org, id)
}
