//! The range of dates Arvalox keeps, and date arithmetic that never leaves it.
//!
//! Every date the API accepts, derives or returns lies in [`FIRST_DATE`]..=[`LAST_DATE`].
//! Inside it a date is always written `YYYY-MM-DD` with a four-digit year, so text order is
//! date order (SQL compares dates as text) and SQLite's date functions (defined for years
//! 0000–9999) never return NULL. The lower end is 1900: no receivable is older, and a year
//! typed as `0024` for `2024` is refused instead of being booked 2,000 years early.

use chrono::{Days, NaiveDate};

/// The first date Arvalox accepts: 1900-01-01.
pub(crate) const FIRST_DATE: NaiveDate = match NaiveDate::from_ymd_opt(1900, 1, 1) {
    Some(date) => date,
    None => panic!("1900-01-01 is a date"),
};

/// The last date Arvalox accepts: 9999-12-31.
pub(crate) const LAST_DATE: NaiveDate = match NaiveDate::from_ymd_opt(9999, 12, 31) {
    Some(date) => date,
    None => panic!("9999-12-31 is a date"),
};

/// The supported range as people read it, for messages and the spec.
pub(crate) const RANGE_TEXT: &str = "1900-01-01 to 9999-12-31";

/// True when `date` is inside the supported range.
pub(crate) fn is_supported(date: NaiveDate) -> bool {
    (FIRST_DATE..=LAST_DATE).contains(&date)
}

/// Why `date` is refused, or `None` when it is inside the range.
pub(crate) fn range_error(date: NaiveDate) -> Option<String> {
    if is_supported(date) {
        None
    } else {
        Some(format!("must be a date from {RANGE_TEXT}"))
    }
}

/// `date` plus `days`, or `None` when the result would leave the supported range.
pub(crate) fn add_days(date: NaiveDate, days: u64) -> Option<NaiveDate> {
    date.checked_add_days(Days::new(days))
        .filter(|sum| is_supported(*sum))
}

/// `date` less `days`, or `None` when the result would leave the supported range (a
/// period reaching back before the books can begin starts with them instead).
pub(crate) fn sub_days(date: NaiveDate, days: u64) -> Option<NaiveDate> {
    date.checked_sub_days(Days::new(days))
        .filter(|difference| is_supported(*difference))
}

/// `date` written as the API and the database write it: `YYYY-MM-DD`, four-digit year.
pub(crate) fn to_text(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_range_has_two_inclusive_ends() {
        assert!(is_supported(d("1900-01-01")));
        assert!(is_supported(d("9999-12-31")));
        assert!(!is_supported(d("1899-12-31")));
        assert!(!is_supported(d("0000-01-01")));
        assert_eq!(
            range_error(d("0999-05-01")).unwrap(),
            "must be a date from 1900-01-01 to 9999-12-31"
        );
    }

    #[test]
    fn adding_days_never_leaves_the_range() {
        assert_eq!(add_days(d("9999-12-01"), 30), Some(d("9999-12-31")));
        assert_eq!(add_days(d("9999-12-31"), 30), None);
        assert_eq!(add_days(d("9999-12-31"), 0), Some(d("9999-12-31")));
    }

    #[test]
    fn subtracting_days_never_leaves_the_range() {
        assert_eq!(sub_days(d("1900-03-31"), 89), Some(d("1900-01-01")));
        assert_eq!(sub_days(d("1900-03-30"), 89), None);
        assert_eq!(sub_days(d("1900-01-01"), 1), None);
        assert_eq!(sub_days(d("1900-01-01"), 0), Some(d("1900-01-01")));
    }

    #[test]
    fn every_supported_date_is_written_with_four_year_digits() {
        assert_eq!(to_text(FIRST_DATE), "1900-01-01");
        assert_eq!(to_text(LAST_DATE), "9999-12-31");
    }
}
