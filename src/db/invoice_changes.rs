//! Changing a stored invoice (a draft whole, an issued one's notes and due date) and
//! deleting a draft, with the daily summaries kept in step. Which change is allowed is
//! `domain::invoice_changes`.

use chrono::NaiveDate;

use super::codec::date_text;
use super::conn::params;
use super::customers;
use super::invoices::{get, get_header, insert_lines, not_found, number_taken, Invoice};
use super::summaries::count_in_daily;
use super::WriteTx;
use crate::domain::invoice::{self, check_due_after_issue, invoice_totals, LineAmounts};
use crate::domain::invoice_changes::{check_changes, check_delete, InvoiceChanges};
use crate::domain::money::Money;
use crate::error::AppError;

/// Applies `changes` to invoice `id` and answers it as it now stands.
pub(crate) fn update(
    tx: &WriteTx,
    org: i64,
    id: i64,
    changes: InvoiceChanges,
    now: &str,
) -> Result<Invoice, AppError> {
    let current = get_header(tx, org, id)?.ok_or_else(|| not_found(id))?;
    // Anything ever allocated counts, reversed or not: a sent invoice that a bounced check
    // once paid is a document the customer has acted on.
    let ever_allocated: i64 = tx
        .prepare_cached(
            "SELECT COALESCE(SUM(amount_minor), 0) FROM allocations INDEXED BY allocations_invoice
             WHERE invoice_id = ?1 AND organization_id = ?2",
        )?
        .query_row([id, org], |row| row.get(0))?;
    let allocated = Money::from_minor(ever_allocated);
    check_changes(id, current.status, allocated, &changes)?;
    let customer_id = changes.customer_id.unwrap_or(current.customer_id);
    let issue_date = changes.issue_date.unwrap_or(current.issue_date);
    let due_date = due_date_after(tx, org, (customer_id, issue_date), &changes, &current)?;
    let number = match changes.invoice_number {
        Some(number) if number != current.invoice_number => {
            if number_taken(tx, org, &number)? {
                return Err(AppError::conflict_on(
                    "invoice_number",
                    format!("An invoice with invoice_number '{number}' already exists."),
                ));
            }
            number
        }
        _ => current.invoice_number.clone(),
    };
    let lines = match changes.lines {
        Some(lines) => Some(invoice::price_lines(lines, current.currency)?),
        None => None,
    };
    let totals = match &lines {
        Some(lines) => {
            let amounts: Vec<LineAmounts> = lines.iter().map(|(_, amounts)| *amounts).collect();
            Some(
                invoice_totals(&amounts, current.currency)
                    .map_err(|err| AppError::field("items", format!("invoice total {err}")))?,
            )
        }
        None => None,
    };
    // The summaries count the invoice at its issue date and total: take the old figures
    // back, change the row, count the new ones.
    count_in_daily(tx, (org, id), current.status, -1)?;
    tx.prepare_cached(
        "UPDATE invoices SET customer_id = ?3, invoice_number = ?4, issue_date = ?5,
            due_date = ?6, notes = ?7, subtotal_minor = ?8, tax_total_minor = ?9,
            total_minor = ?10, updated_at = ?11
         WHERE id = ?1 AND organization_id = ?2",
    )?
    .execute(params![
        id,
        org,
        customer_id,
        number,
        date_text(issue_date),
        date_text(due_date),
        changes.notes.unwrap_or(current.notes),
        totals.map_or(current.subtotal, |t| t.subtotal).minor(),
        totals.map_or(current.tax_total, |t| t.tax_total).minor(),
        totals.map_or(current.total, |t| t.total).minor(),
        now
    ])?;
    count_in_daily(tx, (org, id), current.status, 1)?;
    if let Some(lines) = &lines {
        tx.prepare_cached(&format!(
            "DELETE FROM invoice_items WHERE {}invoice_id = ?1",
            super::sql::owner_filter(tx, super::sql::INVOICE_ITEMS, "", "?2")
        ))?
        .execute([id, org])?;
        insert_lines(tx, (org, id), lines)?;
    }
    get(tx, org, id)
}

/// The due date after the change: the one given; derived again from the (new)
/// customer's terms when the issue date or customer changed without one; else the old.
fn due_date_after(
    tx: &WriteTx,
    org: i64,
    (customer_id, issue_date): (i64, NaiveDate),
    changes: &InvoiceChanges,
    current: &Invoice,
) -> Result<NaiveDate, AppError> {
    let (terms, currency) = customers::billing(tx, org, customer_id)?.ok_or_else(|| {
        AppError::field(
            "customer_id",
            format!("customer {customer_id} does not exist"),
        )
    })?;
    if currency != current.currency {
        return Err(AppError::field(
            "customer_id",
            format!(
                "customer {customer_id} is billed in {currency} and this draft is in {}; create a new invoice for that customer instead",
                current.currency
            ),
        ));
    }
    if changes.rederives_due_date() {
        return invoice::due_date(issue_date, None, terms);
    }
    let due_date = changes.due_date.unwrap_or(current.due_date);
    check_due_after_issue(issue_date, due_date).map_err(|e| AppError::field("due_date", e))?;
    Ok(due_date)
}

/// Deletes draft `id` with its lines; anything else is voided instead (409).
pub(crate) fn delete_draft(tx: &WriteTx, org: i64, id: i64) -> Result<(), AppError> {
    let current = get_header(tx, org, id)?.ok_or_else(|| not_found(id))?;
    check_delete(id, current.status)?;
    count_in_daily(tx, (org, id), current.status, -1)?;
    tx.prepare_cached(&format!(
        "DELETE FROM invoice_items WHERE {}invoice_id = ?1",
        super::sql::owner_filter(tx, super::sql::INVOICE_ITEMS, "", "?2")
    ))?
    .execute([id, org])?;
    tx.prepare_cached("DELETE FROM invoices WHERE id = ?1 AND organization_id = ?2")?
        .execute(params![id, org])?;
    Ok(())
}
