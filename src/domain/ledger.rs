//! The receivables ledger as dated movements, and the rules every dated event must keep.
//!
//! An invoice's **open amount** starts at its total and moves down with each allocation
//! and write-off, up again with each reversal. A credit source's (payment's or credit
//! note's) **unapplied credit** starts at zero, rises by its amount on its date and falls
//! with each allocation, refund and void. Either amount at a date D is its start plus
//! every movement dated on or before D, and it must stay between zero and its cap on every
//! date, not only today: a payment recorded today but dated in February must fit what was
//! open in February *and on every later date*, or some past report would go negative.

use chrono::NaiveDate;

use super::currency::Currency;
use super::dates;
use super::money::Money;
use crate::error::AppError;

/// A signed change of an amount on a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Movement {
    pub date: NaiveDate,
    pub delta: Money,
}

impl Movement {
    pub(crate) fn new(date: NaiveDate, delta_minor: i64) -> Self {
        Movement {
            date,
            delta: Money::from_minor(delta_minor),
        }
    }
}

/// Each movement date once, in order, with the amount at its end. Sorting once keeps the
/// rules below O(n log n): an invoice paid in thousands of instalments has as many dates.
fn amounts_by_date(start: Money, movements: &[Movement]) -> Vec<(NaiveDate, i64)> {
    let mut sorted: Vec<&Movement> = movements.iter().collect();
    sorted.sort_by_key(|m| m.date);
    let mut running = start.minor();
    let mut amounts: Vec<(NaiveDate, i64)> = Vec::with_capacity(sorted.len());
    for movement in sorted {
        running += movement.delta.minor();
        match amounts.last_mut() {
            Some((date, amount)) if *date == movement.date => *amount = running,
            _ => amounts.push((movement.date, running)),
        }
    }
    amounts
}

/// The least the amount is on `from` or any later date, and the first date it is that
/// low. The amount only changes on movement dates, so those (and `from`) are all the
/// dates there are to check.
pub(crate) fn least_from(
    start: Money,
    movements: &[Movement],
    from: NaiveDate,
) -> (Money, NaiveDate) {
    let amounts = amounts_by_date(start, movements);
    let later = amounts.partition_point(|(date, _)| *date <= from);
    let (before, after) = amounts.split_at(later.min(amounts.len()));
    let on_from = before.last().map_or(start.minor(), |(_, amount)| *amount);
    let mut least = (on_from, from);
    // In date order, so the first date of the least amount is kept.
    for &(date, amount) in after {
        if amount < least.0 {
            least = (amount, date);
        }
    }
    (Money::from_minor(least.0), least.1)
}

/// Refuses taking `amount` out of an amount (an invoice's open amount, a source's
/// unapplied credit) on `date` when it would leave the amount below zero on that date or
/// any later one. `field` is the input the 400 names; `what` says what would run short
/// ("invoice 7's open amount").
pub(crate) fn check_fits(
    field: &str,
    what: &str,
    (start, movements, currency): (Money, &[Movement], Currency),
    amount: Money,
    date: NaiveDate,
) -> Result<(), AppError> {
    let (least, on) = least_from(start, movements, date);
    if amount <= least {
        return Ok(());
    }
    let when = if on == date {
        format!("on {}", dates::to_text(date))
    } else {
        format!(
            "on {} (later events leave only that much from then on)",
            dates::to_text(on)
        )
    };
    Err(AppError::field(
        field,
        format!(
            "{} is more than {what} ({}) {when}",
            amount.shown(currency),
            least.shown(currency)
        ),
    ))
}

/// Refuses an event dated before `earliest` (what it applies to or undoes) or after
/// `today`. `earliest_what` names what it may not precede.
pub(crate) fn check_event_date(
    field: &str,
    date: NaiveDate,
    earliest: NaiveDate,
    earliest_what: &str,
    today: NaiveDate,
) -> Result<(), AppError> {
    if date < earliest {
        return Err(AppError::field(
            field,
            format!(
                "must not be before {earliest_what} ({})",
                dates::to_text(earliest)
            ),
        ));
    }
    not_after_today(field, date, today)
}

/// Refuses an event dated after `today`: the books record what has happened. A fault of
/// the request alone, so it is checked with the body, before any stored state is read.
pub(crate) fn not_after_today(
    field: &str,
    date: NaiveDate,
    today: NaiveDate,
) -> Result<(), AppError> {
    match after_today(date, today) {
        Some(why) => Err(AppError::field(field, why)),
        None => Ok(()),
    }
}

/// Why an event dated `date` cannot be recorded on `today`, when it is after it: the one
/// text of the rule, whether it is said alone or beside the body's other faults.
pub(crate) fn after_today(date: NaiveDate, today: NaiveDate) -> Option<String> {
    (date > today).then(|| {
        format!(
            "must not be after today ({}): record it on the day it happens",
            dates::to_text(today)
        )
    })
}

/// An open invoice as "oldest first" sees it: the order keys and what it can take from
/// the allocation's date on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OpenInvoice {
    pub id: i64,
    pub due_date: NaiveDate,
    pub issue_date: NaiveDate,
    /// The least open amount from the allocation's date on (see [`least_from`]).
    pub can_take: Money,
}

/// Splits `amount` over `invoices` by due date, then issue date, then id, each taking at
/// most what it can; returns the allocations made and what is left unapplied.
pub(crate) fn oldest_first(
    amount: Money,
    mut invoices: Vec<OpenInvoice>,
) -> (Vec<(i64, Money)>, Money) {
    invoices.sort_by_key(|i| (i.due_date, i.issue_date, i.id));
    let mut rest = amount.minor();
    let mut allocations = Vec::new();
    for invoice in invoices {
        if rest == 0 {
            break;
        }
        let take = rest.min(invoice.can_take.minor());
        if take > 0 {
            allocations.push((invoice.id, Money::from_minor(take)));
            rest -= take;
        }
    }
    (allocations, Money::from_minor(rest))
}

/// Where a credit source stands: wholly unapplied, partly, wholly, or void.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SourceStatus {
    Unapplied,
    PartiallyApplied,
    Applied,
    Void,
}

impl SourceStatus {
    /// From today's sums: nothing allocated or refunded yet is `Unapplied`, something
    /// left is `PartiallyApplied`, nothing left is `Applied`.
    pub(crate) fn of(amount: Money, unapplied: Money, voided: bool) -> Self {
        if voided {
            SourceStatus::Void
        } else if unapplied == amount {
            SourceStatus::Unapplied
        } else if unapplied.is_positive() {
            SourceStatus::PartiallyApplied
        } else {
            SourceStatus::Applied
        }
    }
}

/// The dates on which an invoice counts as paid, as half-open intervals `[start, end)`
/// (`end` None: paid to this day), in date order: its open amount is zero and no write-off
/// is live (an invoice closed by a write-off is `written_off`, not paid). `settlements`
/// are the allocations and their reversals; `write_offs` the write-offs and theirs. The
/// dashboard counts an invoice as settled on each interval's start, and a reversal takes
/// that count back on the interval's end, so every date's figure stays exact.
pub(crate) fn paid_intervals(
    total: Money,
    settlements: &[Movement],
    write_offs: &[Movement],
) -> Vec<(NaiveDate, Option<NaiveDate>)> {
    // (date, settled delta, written-off delta), swept once in date order.
    let mut moves: Vec<(NaiveDate, i64, i64)> = settlements
        .iter()
        .map(|m| (m.date, m.delta.minor(), 0))
        .chain(write_offs.iter().map(|m| (m.date, 0, m.delta.minor())))
        .collect();
    moves.sort_by_key(|m| m.0);
    // Write-off movements are negative (and their reversals positive): their sum is minus
    // what is written off and live.
    let (mut settled_open, mut written_off) = (total.minor(), 0);
    let mut intervals = Vec::new();
    let mut paid_since: Option<NaiveDate> = None;
    for day in moves.chunk_by(|a, b| a.0 == b.0) {
        let date = day.first().map_or(NaiveDate::MIN, |m| m.0);
        for &(_, settled, off) in day {
            settled_open += settled;
            written_off += off;
        }
        let open = settled_open + written_off;
        let paid = total.is_positive() && open == 0 && written_off == 0;
        match (paid, paid_since) {
            (true, None) => paid_since = Some(date),
            (false, Some(start)) => {
                intervals.push((start, Some(date)));
                paid_since = None;
            }
            _ => {}
        }
    }
    if let Some(start) = paid_since {
        intervals.push((start, None));
    }
    intervals
}

#[cfg(test)]
#[path = "ledger_tests.rs"]
mod tests;
