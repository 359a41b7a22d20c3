//! A payment's credit after it is recorded: applied later, refunded, or voided as of a
//! date. Each checks the credit on its date and every later one (`domain::ledger`).

use chrono::NaiveDate;
use rusqlite::params;

use super::allocations::{open_invoices, reverse_all};
use super::codec::{date_text, stored_date};
use super::payments::{apply_plan, get, with_blame, NewRefund, Payment};
use super::WriteTx;
use crate::domain::ledger::{least_from, oldest_first, Movement};
use crate::domain::money::Money;
use crate::domain::payment::{check_credit_use, check_void, Application, Blame, CreditSource};
use crate::error::AppError;

/// The movements of a payment's unapplied credit: its amount on its date, each allocation
/// out on its date and back on its reversal's, and the void taking the rest.
fn credit_movements(payment: &Payment) -> Result<Vec<Movement>, AppError> {
    let dated = |text: &str, name: &str| stored_date(payment.id, 0, name, text);
    let mut movements = vec![Movement::new(
        dated(&payment.payment_date, "payment_date")?,
        payment.amount.minor(),
    )];
    for allocation in &payment.allocations {
        let amount = allocation.amount.minor();
        movements.push(Movement::new(
            dated(&allocation.applied_date, "applied_date")?,
            -amount,
        ));
        if let Some(reversed) = &allocation.reversed_date {
            movements.push(Movement::new(dated(reversed, "reversed_date")?, amount));
        }
    }
    for refund in &payment.refunds {
        movements.push(Movement::new(
            dated(&refund.refund_date, "refund_date")?,
            -refund.amount.minor(),
        ));
    }
    if let Some(void_date) = &payment.void_date {
        // A void reverses every allocation on its date and takes the whole amount back.
        movements.push(Movement::new(
            dated(void_date, "void_date")?,
            -payment.amount.minor(),
        ));
    }
    Ok(movements)
}

/// The payment as a source of credit.
fn source_of(payment: &Payment) -> Result<CreditSource, AppError> {
    Ok(CreditSource {
        id: payment.id,
        date: stored_date(payment.id, 4, "payment_date", &payment.payment_date)?,
        void: payment.void_date.is_some(),
    })
}

/// Applies unapplied credit of payment `id` later, dated `date`: as listed, or oldest
/// first (as much of the credit on that date as the customer's open invoices take).
pub(crate) fn allocate_credit(
    tx: &WriteTx,
    org: i64,
    id: i64,
    (application, date): (Application, NaiveDate),
    (today, now): (NaiveDate, &str),
) -> Result<Payment, AppError> {
    let payment = get(tx, org, id)?;
    let movements = credit_movements(&payment)?;
    let source = source_of(&payment)?;
    let plan = match application {
        Application::Allocations(list) => {
            let total = Money::from_minor(list.iter().map(|(_, a)| a.minor()).sum());
            let credit = (Money::ZERO, movements.as_slice());
            check_credit_use(
                &source,
                credit,
                ("allocations", total),
                ("applied_date", date),
                today,
            )?;
            with_blame(list, "applied_date")
        }
        _ => {
            let (available, _) = least_from(Money::ZERO, &movements, date);
            let credit = (Money::ZERO, movements.as_slice());
            check_credit_use(
                &source,
                credit,
                ("allocate", available),
                ("applied_date", date),
                today,
            )?;
            let open = open_invoices(tx, org, payment.customer_id, date)?;
            let (chosen, _rest) = oldest_first(available, open);
            if chosen.is_empty() {
                return Err(AppError::conflict_on(
                    "allocate",
                    format!(
                        "Payment {id} has {available} of unapplied credit on {} and the customer has no invoice open then that can take any of it.",
                        date_text(date)
                    ),
                ));
            }
            let blame = Blame::oldest_first("applied_date");
            chosen
                .into_iter()
                .map(|(inv, a)| (inv, a, blame.clone()))
                .collect()
        }
    };
    apply_plan(tx, (org, payment.customer_id, id), plan, date, (today, now))?;
    get(tx, org, id)
}

/// Voids payment `id` as of `date`: every live allocation is reversed on that date and
/// the payment counts nowhere from then on; before it, every report still shows it.
pub(crate) fn void(
    tx: &WriteTx,
    org: i64,
    id: i64,
    (date, reason): (NaiveDate, String),
    (today, now): (NaiveDate, &str),
) -> Result<Payment, AppError> {
    let payment = get(tx, org, id)?;
    let source = source_of(&payment)?;
    let live_dates = payment
        .allocations
        .iter()
        .filter(|a| a.reversed_date.is_none())
        .map(|a| stored_date(id, 0, "applied_date", &a.applied_date))
        .collect::<Result<Vec<_>, _>>()?;
    check_void(&source, payment.refunded, &live_dates, date, today)?;
    reverse_all(tx, org, id, (date, &reason), now)?;
    tx.prepare_cached(
        "UPDATE payments SET void_date = ?2, void_reason = ?3, unapplied_minor = 0 WHERE id = ?1",
    )?
    .execute(params![id, date_text(date), reason])?;
    get(tx, org, id)
}

/// Gives back `refund.amount` of payment `id`'s unapplied credit, dated: at most the credit
/// it has on that date and every later one.
pub(crate) fn refund(
    tx: &WriteTx,
    org: i64,
    id: i64,
    refund: NewRefund,
    (today, now): (NaiveDate, &str),
) -> Result<Payment, AppError> {
    let payment = get(tx, org, id)?;
    let movements = credit_movements(&payment)?;
    let source = source_of(&payment)?;
    let credit = (Money::ZERO, movements.as_slice());
    let date = ("refund_date", refund.refund_date);
    check_credit_use(&source, credit, ("amount", refund.amount), date, today)?;
    tx.prepare_cached(
        "INSERT INTO refunds (organization_id, customer_id, payment_id, amount_minor, refund_date,
            payment_method, reference_number, reason, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        org,
        payment.customer_id,
        id,
        refund.amount.minor(),
        date_text(refund.refund_date),
        refund.payment_method.as_str(),
        refund.reference_number,
        refund.reason,
        now
    ])?;
    tx.prepare_cached(
        "UPDATE payments SET unapplied_minor = unapplied_minor - ?2,
            refunded_minor = refunded_minor + ?2 WHERE id = ?1",
    )?
    .execute(params![id, refund.amount.minor()])?;
    get(tx, org, id)
}
