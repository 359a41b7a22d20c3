//! A credit source's credit after it is recorded: applied later, refunded, or voided as of
//! a date. Each checks the credit on its date and every later one (`domain::ledger`), for
//! payments and credit notes alike.

use chrono::NaiveDate;

use super::allocations::{open_invoices, reverse_all};
use super::codec::{date_text, stored_date};
use super::conn::params;
use super::sources::{apply_plan, table, with_blame, NewRefund, SourceFacts};
use super::WriteTx;
use crate::domain::ledger::{least_from, oldest_first};
use crate::domain::money::Money;
use crate::domain::payment::{already_void, check_credit_use, check_void, Application, Blame};
use crate::error::AppError;

/// Applies unapplied credit of the source later, dated `date`: as listed, or oldest first
/// (as much of the credit on that date as the customer's open invoices take).
pub(crate) fn allocate_credit(
    tx: &WriteTx,
    org: i64,
    facts: &SourceFacts,
    (application, date): (Application, NaiveDate),
    (today, now): (NaiveDate, &str),
) -> Result<(), AppError> {
    let movements = facts.credit_movements()?;
    let source = facts.source()?;
    let credit = (Money::ZERO, movements.as_slice());
    let plan = match application {
        Application::Allocations(list) => {
            let plan = with_blame(list, "applied_date", facts.currency)?;
            let total = Money::from_minor(plan.iter().map(|(_, a, _)| a.minor()).sum());
            let used = ("allocations", total);
            check_credit_use(&source, credit, used, ("applied_date", date), today)?;
            plan
        }
        _ => {
            let (available, _) = least_from(Money::ZERO, &movements, date);
            let used = ("allocate", available);
            check_credit_use(&source, credit, used, ("applied_date", date), today)?;
            let open = open_invoices(tx, org, facts.customer_id, date)?;
            let (chosen, _rest) = oldest_first(available, open);
            if chosen.is_empty() {
                return Err(AppError::conflict_on(
                    "allocate",
                    format!(
                        "{} {} has {} of unapplied credit on {} and the customer has no invoice open then that can take any of it.",
                        facts.kind.name(),
                        facts.id,
                        available.shown(facts.currency),
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
    let owner = (
        org,
        facts.customer_id,
        (facts.kind, facts.id),
        facts.currency,
    );
    apply_plan(tx, owner, plan, date, (today, now))
}

/// Voids the source as of `date`: every live allocation is reversed on that date and the
/// source counts nowhere from then on; before it, every report still shows it.
pub(crate) fn void(
    tx: &WriteTx,
    org: i64,
    facts: &SourceFacts,
    (date, reason): (NaiveDate, String),
    (today, now): (NaiveDate, &str),
) -> Result<(), AppError> {
    let source = facts.source()?;
    let live_dates = facts
        .allocations
        .iter()
        .filter(|a| a.reversed_date.is_none())
        .map(|a| stored_date(facts.id, 0, "applied_date", &a.applied_date))
        .collect::<Result<Vec<_>, _>>()?;
    check_void(&source, facts.refunded, &live_dates, date, today)?;
    reverse_all(tx, org, (facts.kind, facts.id), (date, &reason), now)?;
    // The guard makes the UPDATE itself refuse a second void, whatever the engine's
    // isolation, as the reversals above do.
    let voided_now = tx
        .prepare_cached(&format!(
            "UPDATE {} SET void_date = ?2, void_reason = ?3, unapplied_minor = 0
             WHERE organization_id = ?4 AND id = ?1 AND void_date IS NULL",
            table(facts.kind)
        ))?
        .execute(params![facts.id, date_text(date), reason, org])?;
    if voided_now != 1 {
        return Err(already_void(&source));
    }
    Ok(())
}

/// Gives back `refund.amount` of the source's unapplied credit, dated: at most the credit
/// it has on that date and every later one.
pub(crate) fn refund(
    tx: &WriteTx,
    org: i64,
    facts: &SourceFacts,
    refund: NewRefund,
    now: (NaiveDate, &str),
) -> Result<(), AppError> {
    let (today, now) = now;
    let movements = facts.credit_movements()?;
    let credit = (Money::ZERO, movements.as_slice());
    let date = ("refund_date", refund.refund_date);
    let amount = refund
        .amount
        .in_currency(facts.currency)
        .map_err(|err| AppError::field("amount", err.to_string()))?;
    check_credit_use(&facts.source()?, credit, ("amount", amount), date, today)?;
    let column = super::allocations::source_column(facts.kind);
    tx.prepare_cached(&format!(
        "INSERT INTO refunds (organization_id, customer_id, {column}, amount_minor, refund_date,
            payment_method, reference_number, reason, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
    ))?
    .execute(params![
        org,
        facts.customer_id,
        facts.id,
        amount.minor(),
        date_text(refund.refund_date),
        refund.payment_method.as_str(),
        refund.reference_number,
        refund.reason,
        now
    ])?;
    tx.prepare_cached(&format!(
        "UPDATE {} SET unapplied_minor = unapplied_minor - ?2,
            refunded_minor = refunded_minor + ?2 WHERE organization_id = ?3 AND id = ?1",
        table(facts.kind)
    ))?
    .execute(params![facts.id, amount.minor(), org])?;
    Ok(())
}
