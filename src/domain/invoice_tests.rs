//! Unit tests of the invoice rules.
#[test]
fn the_due_date_is_the_given_one_or_the_terms_after_issue_and_never_before_it() {
    use super::{dates, due_date};
    let day = |text: &str| text.parse::<chrono::NaiveDate>().unwrap();
    assert_eq!(
        due_date(day("2024-01-31"), None, 30).unwrap(),
        day("2024-03-01")
    );
    assert_eq!(
        due_date(day("2024-01-31"), None, -5).unwrap(),
        day("2024-01-31")
    );
    let given = Some(day("2024-02-10"));
    assert_eq!(
        due_date(day("2024-01-31"), given, 30).unwrap(),
        day("2024-02-10")
    );
    let early = due_date(day("2024-01-31"), Some(day("2024-01-30")), 30).unwrap_err();
    assert_eq!(
        early.to_string(),
        "due_date: must not be before issue_date (2024-01-31)"
    );
    let late = due_date(dates::LAST_DATE, None, 1).unwrap_err();
    assert!(late.to_string().contains("after 9999-12-31"), "{late}");
    assert_eq!(
        due_date(dates::LAST_DATE, None, 0).unwrap(),
        dates::LAST_DATE
    );
}

#[test]
fn a_write_off_among_what_closed_an_invoice_makes_it_written_off() {
    use super::{InvoiceStatus as S, Settled};
    let total = Money::from_minor(100);
    let m = Money::from_minor;
    let settled = |paid, credited, written_off| Settled {
        paid: m(paid),
        credited: m(credited),
        written_off: m(written_off),
    };
    assert_eq!(settled(0, 0, 0).status(total), S::Sent);
    assert_eq!(settled(0, 30, 0).status(total), S::PartiallyPaid);
    assert_eq!(settled(0, 0, 30).status(total), S::PartiallyPaid);
    assert_eq!(settled(70, 30, 0).status(total), S::Paid);
    assert_eq!(settled(0, 100, 0).status(total), S::Paid);
    assert_eq!(settled(60, 30, 10).status(total), S::WrittenOff);
    let linked = super::transition(
        1,
        S::Sent,
        (total, Currency::USD),
        (settled(0, 0, 0), m(30)),
        super::Transition::Void,
    );
    assert!(linked
        .unwrap_err()
        .to_string()
        .contains("issued against it"));
    for (credited, written_off, words) in [
        (1, 0, "has credit notes of 0.01 applied"),
        (0, 1, "has 0.01 written off"),
    ] {
        let refused = super::transition(
            1,
            S::PartiallyPaid,
            (total, Currency::USD),
            (settled(0, credited, written_off), Money::ZERO),
            super::Transition::Void,
        )
        .unwrap_err();
        assert!(refused.to_string().contains(words), "{refused}");
    }
}

#[test]
fn only_drafts_are_sent_and_only_unpaid_invoices_voided() {
    use super::{transition, InvoiceStatus as S, Settled, Transition as T};
    let total = Money::from_minor(10_000);
    let none = Settled::default();
    assert_eq!(
        transition(
            1,
            S::Draft,
            (total, Currency::USD),
            (none, Money::ZERO),
            T::Send
        )
        .unwrap(),
        S::Sent
    );
    assert_eq!(
        transition(
            1,
            S::Draft,
            (Money::ZERO, Currency::USD),
            (none, Money::ZERO),
            T::Send
        )
        .unwrap(),
        S::Paid
    );
    for status in [S::Sent, S::PartiallyPaid, S::Paid, S::WrittenOff, S::Void] {
        assert_eq!(
            transition(
                1,
                status,
                (total, Currency::USD),
                (none, Money::ZERO),
                T::Send
            )
            .unwrap_err()
            .status(),
            409
        );
    }
    for status in [S::Draft, S::Sent] {
        assert_eq!(
            transition(
                1,
                status,
                (total, Currency::USD),
                (none, Money::ZERO),
                T::Void
            )
            .unwrap(),
            S::Void
        );
    }
    let paid = Settled {
        paid: Money::from_minor(1),
        ..none
    };
    let refused = transition(
        1,
        S::PartiallyPaid,
        (total, Currency::USD),
        (paid, Money::ZERO),
        T::Void,
    )
    .unwrap_err();
    assert_eq!(
        refused.to_string(),
        "Invoice 1 has payments of 0.01 applied and cannot be voided."
    );
    assert_eq!(
        transition(
            1,
            S::Void,
            (total, Currency::USD),
            (none, Money::ZERO),
            T::Void
        )
        .unwrap_err()
        .status(),
        409
    );
}

#[test]
fn the_largest_quantity_is_nine_digits_and_four_decimals() {
    assert_eq!(super::MAX_QUANTITY.to_string(), "999999999.9999");
}

use super::*;
use std::str::FromStr;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

const USD: Currency = Currency::USD;

fn line(q: &str, p: &str, t: &str) -> Result<LineAmounts, MoneyError> {
    line_amounts((d(q), d(p), d(t)), USD)
}

fn text(m: Money) -> String {
    m.text(USD).as_str().to_string()
}

#[test]
fn documented_example_totals() {
    let line = line("10", "150.00", "0.08").unwrap();
    assert_eq!(line.subtotal, Money::from_minor(150000));
    assert_eq!(line.tax, Money::from_minor(12000));
    assert_eq!(line.total, Money::from_minor(162000));
}

#[test]
fn awkward_values_round_per_line() {
    // 3 × 0.335 = 1.005 → 1.01; tax 1.01 × 0.0725 = 0.073225 → 0.07
    let one = line("3", "0.335", "0.0725").unwrap();
    assert_eq!(text(one.subtotal), "1.01");
    assert_eq!(text(one.tax), "0.07");
    // 2.675 stays exact and rounds half away from zero.
    assert_eq!(text(line("1", "2.675", "0").unwrap().subtotal), "2.68");
    // Three lines of 0.333 × 1: each rounds to 0.33, the total is their sum 0.99.
    let lines: Vec<_> = (0..3).map(|_| line("1", "0.333", "0.5").unwrap()).collect();
    let totals = invoice_totals(&lines, USD).unwrap();
    assert_eq!(text(totals.subtotal), "0.99");
    assert_eq!(text(totals.tax_total), "0.51");
    assert_eq!(text(totals.total), "1.50");
}

#[test]
fn lines_round_to_the_currency_places() {
    let jpy = Currency::parse("JPY").unwrap();
    // 3 × 0.5 = 1.5 yen → 2; tax 2 × 0.1 = 0.2 → 0.
    let one = line_amounts((d("3"), d("0.5"), d("0.1")), jpy).unwrap();
    assert_eq!((one.subtotal.minor(), one.tax.minor()), (2, 0));
    assert_eq!(one.total.text(jpy).as_str(), "2");
    let kwd = Currency::parse("KWD").unwrap();
    // 3 × 0.3335 = 1.0005 → 1.001; tax 1.001 × 0.05 = 0.05005 → 0.050.
    let one = line_amounts((d("3"), d("0.3335"), d("0.05")), kwd).unwrap();
    assert_eq!(one.total.text(kwd).as_str(), "1.051");
}

#[test]
fn overflow_is_an_error_not_a_wrap() {
    assert_eq!(
        line("1000000000", "1000000", "0"),
        Err(MoneyError::TooLarge(USD))
    );
    let big = line("1", "999999999999.99", "0").unwrap();
    assert_eq!(
        invoice_totals(&[big, big], USD),
        Err(MoneyError::TooLarge(USD))
    );
}

#[test]
fn status_follows_payments() {
    let total = Money::from_minor(1000);
    assert_eq!(
        InvoiceStatus::from_payments(total, Money::ZERO),
        InvoiceStatus::Sent
    );
    assert_eq!(
        InvoiceStatus::from_payments(total, Money::from_minor(1)),
        InvoiceStatus::PartiallyPaid
    );
    assert_eq!(
        InvoiceStatus::from_payments(total, total),
        InvoiceStatus::Paid
    );
}

#[test]
fn overdue_only_when_open_and_past_due() {
    let due = NaiveDate::from_ymd_opt(2024, 2, 15).unwrap();
    let today = NaiveDate::from_ymd_opt(2024, 3, 1).unwrap();
    let open = Money::from_minor(100);
    assert_eq!(days_overdue(InvoiceStatus::Sent, due, open, today), 15);
    assert_eq!(days_overdue(InvoiceStatus::Sent, due, open, due), 0);
    assert_eq!(days_overdue(InvoiceStatus::Draft, due, open, today), 0);
    assert_eq!(
        days_overdue(InvoiceStatus::Paid, due, Money::ZERO, today),
        0
    );
}
