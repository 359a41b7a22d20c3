use chrono::NaiveDate;
use proptest::prelude::*;

use super::*;

/// The amount at `date`: `start` plus every movement dated on or before it (the
/// definition the rules' sweeps are checked against).
fn amount_at(start: Money, movements: &[Movement], date: NaiveDate) -> Money {
    let minor: i64 = movements
        .iter()
        .filter(|m| m.date <= date)
        .map(|m| m.delta.minor())
        .sum();
    Money::from_minor(start.minor() + minor)
}

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn cents(minor: i64) -> Money {
    Money::from_minor(minor)
}

#[test]
fn the_amount_at_a_date_counts_only_movements_dated_on_or_before_it() {
    let moves = [
        Movement::new(day("2024-01-10"), -4_000),
        Movement::new(day("2024-02-01"), -6_000),
        Movement::new(day("2024-03-01"), 6_000),
    ];
    let total = cents(10_000);
    assert_eq!(amount_at(total, &moves, day("2024-01-09")), cents(10_000));
    assert_eq!(amount_at(total, &moves, day("2024-01-10")), cents(6_000));
    assert_eq!(amount_at(total, &moves, day("2024-02-15")), cents(0));
    assert_eq!(amount_at(total, &moves, day("2024-03-01")), cents(6_000));
}

/// Today's balance is not enough: X applied on Jan 10 and voided on Mar 1 leaves 100
/// open today, yet on Feb 15 nothing was open, so a payment dated Feb 1 cannot take 100.
#[test]
fn a_backdated_event_must_fit_every_later_date_not_only_today() {
    let total = cents(10_000);
    let moves = [
        Movement::new(day("2024-01-10"), -10_000),
        Movement::new(day("2024-03-01"), 10_000),
    ];
    assert_eq!(amount_at(total, &moves, day("2024-04-01")), cents(10_000));
    assert_eq!(
        least_from(total, &moves, day("2024-02-01")),
        (cents(0), day("2024-02-01"))
    );
    let refused = check_fits(
        "amount",
        "the open amount",
        (total, &moves, Currency::USD),
        cents(10_000),
        day("2024-02-01"),
    )
    .unwrap_err();
    assert_eq!(
        refused.to_string(),
        "amount: 100.00 is more than the open amount (0.00) on 2024-02-01"
    );
    // Before the first payment the bound is the later dip, and the message says when.
    let early = check_fits(
        "amount",
        "the open amount",
        (total, &moves, Currency::USD),
        cents(1),
        day("2024-01-05"),
    )
    .unwrap_err();
    assert!(
        early
            .to_string()
            .ends_with("(0.00) on 2024-01-10 (later events leave only that much from then on)"),
        "{early}"
    );
    assert!(check_fits(
        "amount",
        "the open amount",
        (total, &moves, Currency::USD),
        cents(10_000),
        day("2024-03-01")
    )
    .is_ok());
}

#[test]
fn events_are_dated_no_earlier_than_what_they_follow_and_never_in_the_future() {
    let today = day("2024-06-30");
    let ok = check_event_date(
        "applied_date",
        day("2024-06-01"),
        day("2024-05-01"),
        "the payment date",
        today,
    );
    assert!(ok.is_ok());
    let early = check_event_date(
        "applied_date",
        day("2024-04-30"),
        day("2024-05-01"),
        "the payment date",
        today,
    )
    .unwrap_err();
    assert_eq!(
        early.to_string(),
        "applied_date: must not be before the payment date (2024-05-01)"
    );
    let late = check_event_date(
        "void_date",
        day("2024-07-01"),
        day("2024-05-01"),
        "the payment date",
        today,
    )
    .unwrap_err();
    assert!(
        late.to_string()
            .contains("must not be after today (2024-06-30)"),
        "{late}"
    );
    assert_eq!(after_today(today, today), None);
    assert_eq!(
        after_today(day("2024-07-01"), today).as_deref(),
        Some("must not be after today (2024-06-30): record it on the day it happens")
    );
}

#[test]
fn oldest_first_fills_by_due_date_then_issue_date_then_id_and_keeps_the_rest() {
    let invoice = |id, due: &str, issue: &str, can_take| OpenInvoice {
        id,
        due_date: day(due),
        issue_date: day(issue),
        can_take: cents(can_take),
    };
    let invoices = vec![
        invoice(3, "2024-03-01", "2024-01-01", 5_000),
        invoice(2, "2024-02-01", "2024-01-05", 3_000),
        invoice(1, "2024-02-01", "2024-01-05", 0),
        invoice(4, "2024-02-01", "2024-01-01", 1_000),
    ];
    let (allocations, rest) = oldest_first(cents(6_000), invoices.clone());
    assert_eq!(
        allocations,
        vec![(4, cents(1_000)), (2, cents(3_000)), (3, cents(2_000))]
    );
    assert_eq!(rest, cents(0));
    let (allocations, rest) = oldest_first(cents(10_000), invoices);
    assert_eq!(allocations.len(), 3);
    assert_eq!(rest, cents(1_000));
}

#[test]
fn a_source_is_unapplied_then_partially_then_wholly_applied_or_void() {
    let amount = cents(500);
    assert_eq!(
        SourceStatus::of(amount, cents(500), false),
        SourceStatus::Unapplied
    );
    assert_eq!(
        SourceStatus::of(amount, cents(1), false),
        SourceStatus::PartiallyApplied
    );
    assert_eq!(
        SourceStatus::of(amount, cents(0), false),
        SourceStatus::Applied
    );
    assert_eq!(SourceStatus::of(amount, cents(0), true), SourceStatus::Void);
}

#[test]
fn an_invoice_is_paid_between_settlement_and_reversal_and_never_while_written_off() {
    let total = cents(10_000);
    let paid_then_bounced = [
        Movement::new(day("2024-01-10"), -10_000),
        Movement::new(day("2024-03-01"), 10_000),
        Movement::new(day("2024-04-01"), -10_000),
    ];
    assert_eq!(
        paid_intervals(total, &paid_then_bounced, &[]),
        vec![
            (day("2024-01-10"), Some(day("2024-03-01"))),
            (day("2024-04-01"), None)
        ]
    );
    let part_paid = [Movement::new(day("2024-01-10"), -4_000)];
    let written_off = [
        Movement::new(day("2024-02-01"), -6_000),
        Movement::new(day("2024-05-01"), 6_000),
    ];
    // Closed by a write-off: not paid. Reopened by its reversal, then paid in full.
    let mut settled = part_paid.to_vec();
    settled.push(Movement::new(day("2024-06-01"), -6_000));
    assert_eq!(
        paid_intervals(total, &settled, &written_off),
        vec![(day("2024-06-01"), None)]
    );
    assert!(paid_intervals(cents(0), &[], &[]).is_empty());
}

fn movements() -> impl Strategy<Value = Vec<Movement>> {
    prop::collection::vec((0i64..40, -500i64..500), 0..12).prop_map(|moves| {
        moves
            .into_iter()
            .map(|(offset, delta)| {
                Movement::new(day("2024-01-01") + chrono::Days::new(offset as u64), delta)
            })
            .collect()
    })
}

proptest! {
    /// The least amount from a date on, against a walk over every day of the window.
    #[test]
    fn least_from_is_the_minimum_over_every_later_day(
        start in 0i64..2_000,
        moves in movements(),
        from in 0u64..45,
    ) {
        let first = day("2024-01-01");
        let from = first + chrono::Days::new(from);
        let (least, on) = least_from(cents(start), &moves, from);
        let every_day: Vec<(Money, NaiveDate)> = (0..60)
            .map(|d| first + chrono::Days::new(d))
            .filter(|d| *d >= from)
            .map(|d| (amount_at(cents(start), &moves, d), d))
            .collect();
        let brute = every_day.iter().map(|(a, _)| *a).min().unwrap();
        prop_assert_eq!(least, brute);
        prop_assert_eq!(amount_at(cents(start), &moves, on), least);
        prop_assert!(on >= from);
    }
}

/// The paid intervals by walking every day of a 70-day window: paid on a day when the
/// total is positive, nothing is open and no write-off is live.
fn walked_intervals(
    total: Money,
    settlements: &[Movement],
    write_offs: &[Movement],
) -> Vec<(NaiveDate, Option<NaiveDate>)> {
    let first = day("2024-01-01");
    let mut walked = Vec::new();
    let mut since: Option<NaiveDate> = None;
    for d in (0..70).map(|d| first + chrono::Days::new(d)) {
        let off = amount_at(Money::ZERO, write_offs, d).minor();
        let open = amount_at(total, settlements, d).minor() + off;
        let paid = total.is_positive() && open == 0 && off == 0;
        match (paid, since) {
            (true, None) => since = Some(d),
            (false, Some(start)) => {
                walked.push((start, Some(d)));
                since = None;
            }
            _ => {}
        }
    }
    walked.extend(since.map(|start| (start, None)));
    walked
}

/// Payments that add up to the invoice's total, some reversed later: the invoice is paid
/// for a while, so the intervals have something to show (random movements seldom do).
fn paying() -> impl Strategy<Value = (Money, Vec<Movement>)> {
    prop::collection::vec((1i64..300, 0u64..40, prop::option::of(0u64..20)), 1..8).prop_map(
        |payments| {
            let first = day("2024-01-01");
            let total: i64 = payments.iter().map(|(amount, _, _)| amount).sum();
            let mut moves = Vec::new();
            for (amount, on, reversed_after) in payments {
                let paid_on = first + chrono::Days::new(on);
                moves.push(Movement::new(paid_on, -amount));
                if let Some(after) = reversed_after {
                    moves.push(Movement::new(paid_on + chrono::Days::new(after), amount));
                }
            }
            (cents(total), moves)
        },
    )
}

proptest! {
    /// The paid intervals of random movements, against the day-by-day walk.
    #[test]
    fn paid_intervals_are_the_runs_of_paid_days(
        total in 0i64..1_500,
        settlements in movements(),
        write_offs in movements(),
    ) {
        let total = cents(total);
        prop_assert_eq!(
            paid_intervals(total, &settlements, &write_offs),
            walked_intervals(total, &settlements, &write_offs)
        );
    }

    /// The same over invoices that do get paid, with and without write-offs.
    #[test]
    fn paid_intervals_follow_payments_and_their_reversals(
        (total, settlements) in paying(),
        write_offs in movements(),
    ) {
        prop_assert_eq!(
            paid_intervals(total, &settlements, &[]),
            walked_intervals(total, &settlements, &[])
        );
        prop_assert_eq!(
            paid_intervals(total, &settlements, &write_offs),
            walked_intervals(total, &settlements, &write_offs)
        );
    }
}
