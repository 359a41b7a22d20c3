//! The dashboard's KPIs that show their working (DSO and the mean days to pay are in
//! `domain::aging`). Each is a ratio to one decimal, `None` where its denominator is 0.
//!
//! - `percent_current = current / total_outstanding × 100`
//! - `overdue_percent = total_overdue / total_outstanding × 100`
//! - `cei = (beginning + credit_sales − ending) / (beginning + credit_sales − ending_current) × 100`
//!   over the last full calendar month: receivables at the end of the day before it began,
//!   its credit sales, and receivables (and their current part) at its end.

use chrono::{Datelike, Days, NaiveDate};
use rust_decimal::Decimal;

use super::aging::one_decimal;
use super::money::Money;

/// `part / whole × 100`, to one decimal; `None` for a whole of 0 or less.
pub(crate) fn percent(part: Money, whole: Money) -> Option<Decimal> {
    if !whole.is_positive() {
        return None;
    }
    let ratio = Decimal::from(part.minor())
        .checked_mul(Decimal::ONE_HUNDRED)?
        .checked_div(Decimal::from(whole.minor()))?;
    Some(one_decimal(ratio))
}

/// Collection effectiveness: how much of what could be collected in a month was.
pub(crate) fn cei(
    beginning: Money,
    credit_sales: Money,
    (ending, ending_current): (Money, Money),
) -> Option<Decimal> {
    let collectable = beginning.minor().checked_add(credit_sales.minor())?;
    let collected = collectable.checked_sub(ending.minor())?;
    let could = collectable.checked_sub(ending_current.minor())?;
    percent(Money::from_minor(collected), Money::from_minor(could))
}

/// The last calendar month that ended on or before `as_of`: its first and last days;
/// `None` when that month began before the first date.
pub(crate) fn last_full_month(as_of: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
    let next_day = as_of.checked_add_days(Days::new(1))?;
    let last = if next_day.day() == 1 {
        as_of
    } else {
        as_of.with_day(1)?.checked_sub_days(Days::new(1))?
    };
    let first = last.with_day(1)?;
    // No month before the first date is a month of the books.
    crate::domain::dates::is_supported(first).then_some((first, last))
}

/// The last `count` full calendar months ending on or before `as_of`, oldest first.
pub(crate) fn last_full_months(as_of: NaiveDate, count: usize) -> Vec<(NaiveDate, NaiveDate)> {
    let mut months = Vec::with_capacity(count);
    let mut end = as_of;
    while months.len() < count {
        let Some((first, last)) = last_full_month(end) else {
            break;
        };
        months.push((first, last));
        let Some(before) = first.pred_opt() else {
            break;
        };
        end = before;
    }
    months.reverse();
    months
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(minor: i64) -> Money {
        Money::from_minor(minor)
    }

    #[test]
    fn percentages_to_one_decimal() {
        assert_eq!(
            percent(m(300), m(950)).map(|d| d.to_string()),
            Some("31.6".into())
        );
        assert_eq!(
            percent(m(0), m(950)).map(|d| d.to_string()),
            Some("0.0".into())
        );
        assert_eq!(percent(m(5), m(0)), None);
    }

    #[test]
    fn cei_on_a_hand_computed_month() {
        // Began the month owed 1,000.00, sold 500.00 on credit, ended owed 600.00 of which
        // 200.00 not yet due: collected 900 of the 1,300 that could be: 69.2%.
        let value = cei(m(100_000), m(50_000), (m(60_000), m(20_000)));
        assert_eq!(value.map(|d| d.to_string()), Some("69.2".into()));
        assert_eq!(cei(m(0), m(0), (m(0), m(0))), None);
    }

    #[test]
    fn twelve_month_ends_oldest_first() {
        let day = |s: &str| s.parse::<NaiveDate>().unwrap();
        let months = last_full_months(day("2024-03-01"), 12);
        assert_eq!(months.len(), 12);
        assert_eq!(months[0], (day("2023-03-01"), day("2023-03-31")));
        assert_eq!(months[11], (day("2024-02-01"), day("2024-02-29")));
    }

    #[test]
    fn the_last_full_month() {
        let day = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(
            last_full_month(day("2024-03-01")),
            Some((day("2024-02-01"), day("2024-02-29")))
        );
        assert_eq!(
            last_full_month(day("2024-02-29")),
            Some((day("2024-02-01"), day("2024-02-29")))
        );
        assert_eq!(
            last_full_month(day("2024-01-15")),
            Some((day("2023-12-01"), day("2023-12-31")))
        );
    }

    #[test]
    fn no_month_before_the_first_date() {
        let day = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(last_full_month(day("1900-01-30")), None);
        assert_eq!(
            last_full_month(day("1900-01-31")),
            Some((day("1900-01-01"), day("1900-01-31")))
        );
        let months = last_full_months(day("1900-03-15"), 12);
        assert_eq!(
            months,
            vec![
                (day("1900-01-01"), day("1900-01-31")),
                (day("1900-02-01"), day("1900-02-28"))
            ]
        );
    }
}
