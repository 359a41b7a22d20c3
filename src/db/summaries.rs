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
    let mut count = tx.prepare_cached(
        "INSERT INTO invoice_daily (organization_id, issue_date, status, invoice_count, total_minor)
         SELECT organization_id, issue_date, ?2, ?3, ?3 * total_minor FROM invoices WHERE id = ?1
         ON CONFLICT (organization_id, issue_date, status) DO UPDATE
         SET invoice_count = invoice_count + excluded.invoice_count,
             total_minor = total_minor + excluded.total_minor",
    )?;
    if let Some(from) = from {
        count.execute(params![invoice.id, from.as_str(), -1])?;
    }
    count.execute(params![invoice.id, to.as_str(), 1])?;
    if to == InvoiceStatus::Paid {
        tx.prepare_cached(
            "INSERT INTO settled_daily (organization_id, settled_on, invoice_count, days_to_pay)
             SELECT i.organization_id, s.settled_on, 1,
                    CAST(julianday(s.settled_on) - julianday(i.issue_date) AS INTEGER)
             FROM invoices i
             JOIN (SELECT MAX(applied_date) AS settled_on FROM payment_applications WHERE invoice_id = ?1) s
             WHERE i.id = ?1 AND s.settled_on IS NOT NULL
             ON CONFLICT (organization_id, settled_on) DO UPDATE
             SET invoice_count = invoice_count + 1,
                 days_to_pay = days_to_pay + excluded.days_to_pay",
        )?
        .execute([invoice.id])?;
    }
    Ok(())
}
