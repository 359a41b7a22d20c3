//! The daily summaries the dashboard reads (`invoice_daily`, `settled_daily`), kept in
//! step with every invoice write in the same transaction.

use rusqlite::params;

use super::invoices::Invoice;
use super::WriteTx;
use crate::domain::invoice::InvoiceStatus;
use crate::error::AppError;

/// Counts a new invoice (`from` = None) or its move between statuses in `invoice_daily`,
/// and records its settlement in `settled_daily` when it becomes paid.
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
    count_in_daily(tx, invoice.id, to, 1)?;
    if to == InvoiceStatus::Paid {
        tx.prepare_cached(
            "INSERT INTO settled_daily (organization_id, settled_on, invoice_count, days_to_pay)
             SELECT i.organization_id, s.settled_on, 1,
                    CAST(julianday(s.settled_on) - julianday(i.issue_date) AS INTEGER)
             FROM invoices i
             JOIN (SELECT MAX(applied_date) AS settled_on FROM allocations
                   WHERE invoice_id = ?1 AND reversed_date IS NULL) s
             WHERE i.id = ?1 AND s.settled_on IS NOT NULL
             ON CONFLICT (organization_id, settled_on) DO UPDATE
             SET invoice_count = invoice_count + 1,
                 days_to_pay = days_to_pay + excluded.days_to_pay",
        )?
        .execute([invoice.id])?;
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
        "INSERT INTO invoice_daily (organization_id, issue_date, status, invoice_count, total_minor)
         SELECT organization_id, issue_date, ?2, ?3, ?3 * total_minor FROM invoices WHERE id = ?1
         ON CONFLICT (organization_id, issue_date, status) DO UPDATE
         SET invoice_count = invoice_count + excluded.invoice_count,
             total_minor = total_minor + excluded.total_minor",
    )?
    .execute(params![id, status.as_str(), sign])?;
    Ok(())
}

/// Ends invoice `id`'s paid interval on `on` (a reversal reopened it): the dashboard counts
/// it as settled from its settlement date until then, and not after. A reversal dated
/// before the settlement (another payment had completed it later) means it was never paid:
/// the count is taken back on the settlement date itself.
pub(crate) fn unsettle(tx: &WriteTx, id: i64, on: &str) -> Result<(), AppError> {
    tx.prepare_cached(
        "INSERT INTO settled_daily (organization_id, settled_on, invoice_count, days_to_pay)
         SELECT i.organization_id, MAX(?2, s.settled_on), -1,
                -CAST(julianday(s.settled_on) - julianday(i.issue_date) AS INTEGER)
         FROM invoices i
         JOIN (SELECT MAX(applied_date) AS settled_on FROM allocations
               WHERE invoice_id = ?1 AND reversed_date IS NULL) s
         WHERE i.id = ?1 AND s.settled_on IS NOT NULL
         ON CONFLICT (organization_id, settled_on) DO UPDATE
         SET invoice_count = invoice_count + excluded.invoice_count,
             days_to_pay = days_to_pay + excluded.days_to_pay",
    )?
    .execute(params![id, on])?;
    Ok(())
}
