//! The daily summaries the dashboard reads (`invoice_daily`, `settled_daily`), kept in
//! step with every invoice write in the same transaction.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rusqlite::{params, Connection};

use super::allocations::movements_of;
use super::codec::date_text;
use super::invoices::Invoice;
use super::WriteTx;
use crate::domain::invoice::InvoiceStatus;
use crate::domain::ledger::paid_intervals;
use crate::error::AppError;

/// Counts a new invoice (`from` = None) or its move between statuses in `invoice_daily`.
/// (When it counts as paid is `settled_daily`'s, kept by [`resettle`].)
pub(crate) fn record_status(
    tx: &WriteTx,
    invoice: &Invoice,
    from: Option<InvoiceStatus>,
    to: InvoiceStatus,
) -> Result<(), AppError> {
    if from == Some(to) {
        return Ok(());
    }
    if let Some(from) = from {
        count_in_daily(tx, invoice.id, from, -1)?;
    }
    count_in_daily(tx, invoice.id, to, 1)
}

/// The dates on which `invoice` counts as paid, as its facts stand now
/// ([`crate::domain::ledger::paid_intervals`]).
pub(crate) fn paid_intervals_now(
    conn: &Connection,
    invoice: &Invoice,
) -> Result<Vec<(NaiveDate, Option<NaiveDate>)>, AppError> {
    let settlements = movements_of(conn, "allocations", invoice.id)?;
    let write_offs = movements_of(conn, "write_offs", invoice.id)?;
    Ok(paid_intervals(invoice.total, &settlements, &write_offs))
}

/// Writes into `settled_daily` the difference between the invoice's paid intervals
/// `before` a change and now: each interval counts the invoice as settled from its start
/// (with its days from issue) until its end. A backdated event that moves or splits an
/// interval therefore keeps every date's figure exact.
pub(crate) fn resettle(
    tx: &WriteTx,
    invoice: &Invoice,
    before: &[(NaiveDate, Option<NaiveDate>)],
) -> Result<(), AppError> {
    let after = paid_intervals_now(tx, invoice)?;
    replace_intervals(tx, invoice, before, &after)
}

/// Takes every paid interval of `invoice` out of `settled_daily`: a voided invoice was
/// issued in error and counts on no date, though payments once settled it.
pub(crate) fn unsettle_all(tx: &WriteTx, invoice: &Invoice) -> Result<(), AppError> {
    let before = paid_intervals_now(tx, invoice)?;
    replace_intervals(tx, invoice, &before, &[])
}

/// Writes the difference between two sets of paid intervals of `invoice`.
fn replace_intervals(
    tx: &WriteTx,
    invoice: &Invoice,
    before: &[(NaiveDate, Option<NaiveDate>)],
    after: &[(NaiveDate, Option<NaiveDate>)],
) -> Result<(), AppError> {
    let mut deltas: BTreeMap<NaiveDate, (i64, i64)> = BTreeMap::new();
    for (intervals, sign) in [(before, -1), (after, 1)] {
        for (start, end) in intervals {
            let days = (*start - invoice.issue_date).num_days();
            let at_start = deltas.entry(*start).or_default();
            *at_start = (at_start.0 + sign, at_start.1 + sign * days);
            if let Some(end) = end {
                let at_end = deltas.entry(*end).or_default();
                *at_end = (at_end.0 - sign, at_end.1 - sign * days);
            }
        }
    }
    let mut write = tx.prepare_cached(
        "INSERT INTO settled_daily (organization_id, currency, settled_on, invoice_count, days_to_pay)
         SELECT organization_id, currency, ?2, ?3, ?4 FROM invoices WHERE id = ?1
         ON CONFLICT (organization_id, currency, settled_on) DO UPDATE
         SET invoice_count = invoice_count + excluded.invoice_count,
             days_to_pay = days_to_pay + excluded.days_to_pay",
    )?;
    for (date, (count, days)) in deltas {
        if count != 0 || days != 0 {
            write.execute(params![invoice.id, date_text(date), count, days])?;
        }
    }
    Ok(())
}

/// Adds (`sign` 1) or takes back (`sign` -1) invoice `id` in `invoice_daily` under
/// `status`, at its issue date and total as they are stored now: a draft edit takes the
/// old figures back before the change and counts the new ones after it.
pub(crate) fn count_in_daily(
    tx: &WriteTx,
    id: i64,
    status: InvoiceStatus,
    sign: i64,
) -> Result<(), AppError> {
    tx.prepare_cached(
        "INSERT INTO invoice_daily (organization_id, currency, issue_date, status, invoice_count, total_minor)
         SELECT organization_id, currency, issue_date, ?2, ?3, ?3 * total_minor FROM invoices WHERE id = ?1
         ON CONFLICT (organization_id, currency, issue_date, status) DO UPDATE
         SET invoice_count = invoice_count + excluded.invoice_count,
             total_minor = total_minor + excluded.total_minor",
    )?
    .execute(params![id, status.as_str(), sign])?;
    Ok(())
}
