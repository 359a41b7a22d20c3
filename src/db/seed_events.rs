//! The everyday events of a demo book beyond its invoices and payments: split payments,
//! credit notes (against an invoice and on account, some applied later, some voided),
//! write-offs and their reversal. They are written through the same functions the API
//! calls, after the bulk load and its summaries, so the book balances by construction.
//! Which invoices and customers get which event follows from their ids and the seed's
//! `as_of`, so the same seed gives the same book.

use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;

use super::codec::{date_text, stored_date};
use super::{credit, credit_notes, payments, write_offs, Db, WriteTx};
use crate::domain::credit_note::NewCreditNote;
use crate::domain::currency::Currency;
use crate::domain::invoice::LineInput;
use crate::domain::money::{GivenAmount, Money};
use crate::domain::payment::{Application, NewPayment, PaymentMethod};
use crate::domain::write_off::NewWriteOff;
use crate::error::AppError;

/// How many of each event the book got.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct EventCounts {
    pub split_payments: u64,
    pub credit_notes: u64,
    pub write_offs: u64,
}

/// An invoice open at the end of the bulk load.
#[derive(Clone, Copy)]
struct OpenInvoice {
    id: i64,
    customer_id: i64,
    issue_date: NaiveDate,
    due_date: NaiveDate,
    open: i64,
}

fn open_invoices(tx: &WriteTx, org: i64) -> Result<Vec<OpenInvoice>, AppError> {
    let sql = format!(
        "SELECT id, customer_id, issue_date, due_date, {} FROM invoices
         WHERE organization_id = ?1 AND {} ORDER BY id",
        super::rules::open_amount(""),
        super::rules::is_open("")
    );
    let mut stmt = tx.prepare(&sql)?;
    let mut rows = stmt.query([org])?;
    let mut open = Vec::new();
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        open.push(OpenInvoice {
            id,
            customer_id: row.get(1)?,
            issue_date: stored_date(id, 2, "issue_date", &row.get::<_, String>(2)?)?,
            due_date: stored_date(id, 3, "due_date", &row.get::<_, String>(3)?)?,
            open: row.get(4)?,
        });
    }
    Ok(open)
}

/// `days` before `as_of`, but never before `floor`.
fn back(as_of: NaiveDate, days: u64, floor: NaiveDate) -> NaiveDate {
    as_of
        .checked_sub_days(Days::new(days))
        .unwrap_or(as_of)
        .max(floor)
}

/// A credit note of one untaxed line of `amount`.
fn credit_note(
    (customer_id, invoice_id): (i64, Option<i64>),
    (amount, currency): (i64, Currency),
    issue_date: NaiveDate,
    reason: &str,
) -> Result<NewCreditNote, AppError> {
    let line = LineInput {
        description: "Returned goods".into(),
        quantity: Decimal::ONE,
        unit_price: Money::from_minor(amount).to_decimal(currency),
        tax_rate: Decimal::ZERO,
    };
    Ok(NewCreditNote {
        customer_id,
        credit_note_number: None,
        issue_date,
        invoice_id,
        reason: reason.into(),
        lines: vec![line],
        currency: Some(currency),
    })
}

/// Writes the events into organization `org` of `db`, dated up to `as_of`.
pub(crate) fn write_events(db: &Db, org: i64, as_of: NaiveDate) -> Result<EventCounts, AppError> {
    let now = format!("{}T09:00:00.000Z", date_text(as_of));
    db.write_blocking(super::WriteScope::Organization(org), |tx| {
        let mut counts = EventCounts::default();
        let currency = super::organization::currency(tx, org)?;
        let invoices = open_invoices(tx, org)?;
        for (n, listed) in invoices.iter().enumerate() {
            let today = (as_of, now.as_str());
            // An earlier split payment may have closed it since it was listed.
            let Some(current) = super::invoices::get_header(tx, org, listed.id)? else {
                continue;
            };
            if !current.status.accepts_payments() {
                continue;
            }
            let invoice = &OpenInvoice {
                open: current.balance_due().minor(),
                ..*listed
            };
            match n % 40 {
                // Long overdue: the rest is written off 120 days after it fell due; one
                // in three of those debts is recovered a month later.
                0..=2 if (as_of - invoice.due_date).num_days() > 150 => {
                    write_off(tx, org, invoice, n, today)?;
                    counts.write_offs += 1;
                }
                // Goods came back: a fifth of what is open is credited.
                5 | 6 if invoice.open >= 500 => {
                    let date = back(as_of, (n % 30) as u64, invoice.issue_date);
                    let new = credit_note(
                        (invoice.customer_id, Some(invoice.id)),
                        (invoice.open / 5, currency),
                        date,
                        "Part of the delivery came back",
                    )?;
                    credit_notes::create(tx, org, new, today)?;
                    counts.credit_notes += 1;
                }
                // One transfer for this and the customer's other open invoices, oldest
                // first; what they leave is credit.
                9 => {
                    split_payment(tx, (org, currency), invoice, today)?;
                    counts.split_payments += 1;
                }
                _ => {}
            }
        }
        let book = (org, currency);
        counts.credit_notes += on_account_notes(tx, book, &invoices, (as_of, &now))?;
        Ok(counts)
    })
}

fn write_off(
    tx: &WriteTx,
    org: i64,
    invoice: &OpenInvoice,
    n: usize,
    (as_of, now): (NaiveDate, &str),
) -> Result<(), AppError> {
    let date = (invoice.due_date + Days::new(120)).min(as_of);
    let new = NewWriteOff {
        amount: None,
        date,
        reason: "Customer stopped trading".into(),
    };
    let written = write_offs::create(tx, org, invoice.id, new, (as_of, now))?;
    if n.is_multiple_of(3) {
        let recovered = (date + Days::new(30)).min(as_of);
        if let Some(last) = written.ledger.write_offs.last() {
            let reversal = (recovered, "Recovered from the administrator".to_string());
            write_offs::reverse(tx, org, (invoice.id, last.id), reversal, (as_of, now))?;
        }
    }
    Ok(())
}

fn split_payment(
    tx: &WriteTx,
    (org, currency): (i64, Currency),
    invoice: &OpenInvoice,
    (as_of, now): (NaiveDate, &str),
) -> Result<(), AppError> {
    let amount = Money::from_minor(invoice.open + 25_000).to_decimal(currency);
    let new = NewPayment {
        customer_id: invoice.customer_id,
        application: Application::OldestFirst,
        amount: GivenAmount(amount),
        payment_method: PaymentMethod::BankTransfer,
        payment_date: as_of,
        reference_number: Some(format!("SPLIT{:08}", invoice.id)),
        notes: None,
        currency: Some(currency),
    };
    payments::record(tx, org, new, as_of, now)?;
    Ok(())
}

/// One customer in ten with open invoices got a credit note on account 20 days ago; one
/// in four of those was applied oldest first 10 days ago, and one in eight voided.
fn on_account_notes(
    tx: &WriteTx,
    (org, currency): (i64, Currency),
    invoices: &[OpenInvoice],
    (as_of, now): (NaiveDate, &str),
) -> Result<u64, AppError> {
    let mut customers: Vec<i64> = invoices.iter().map(|i| i.customer_id).collect();
    customers.sort_unstable();
    customers.dedup();
    let mut written = 0;
    for (n, customer_id) in customers
        .into_iter()
        .enumerate()
        .filter(|(n, _)| n % 10 == 7)
    {
        let floor = NaiveDate::MIN;
        let issued = back(as_of, 20, floor);
        let goodwill = (5_000, currency);
        let new = credit_note((customer_id, None), goodwill, issued, "Goodwill credit")?;
        let note = credit_notes::create(tx, org, new, (as_of, now))?;
        written += 1;
        let facts = note.facts();
        if n % 40 == 7 {
            let use_of = (Application::OldestFirst, back(as_of, 10, issued));
            // Nothing open by then is no reason to stop the seed.
            match credit::allocate_credit(tx, org, &facts, use_of, (as_of, now)) {
                Ok(()) | Err(AppError::Conflict { .. }) => {}
                Err(other) => return Err(other),
            }
        } else if n % 80 == 27 {
            let void = (back(as_of, 5, issued), "Issued in error".to_string());
            credit::void(tx, org, &facts, void, (as_of, now))?;
        }
    }
    Ok(written)
}
