//! How values are stored and read back: dates as `YYYY-MM-DD` text, decimals as text, and
//! a stored value this binary cannot read as an error naming its row (never a default).

use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::conn::{Row, StoreError, StoreResult};
use crate::domain::dates;
use crate::domain::invoice::InvoiceStatus;

/// The date in `column` of invoice `id`.
pub(crate) fn stored_date(
    id: i64,
    column: usize,
    name: &str,
    text: &str,
) -> StoreResult<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        unreadable(
            column,
            format!("invoice {id}: {name} '{text}' is not a date"),
        )
    })
}

/// The status in `column` of invoice `id`.
pub(crate) fn stored_status(id: i64, column: usize, text: &str) -> StoreResult<InvoiceStatus> {
    InvoiceStatus::parse(text)
        .ok_or_else(|| unreadable(column, format!("invoice {id}: unknown status '{text}'")))
}

pub(crate) fn date_text(date: NaiveDate) -> String {
    dates::to_text(date)
}

pub(crate) fn decimal_column(row: &Row, index: usize) -> StoreResult<Decimal> {
    let text = row.get_ref(index)?.as_str()?;
    Decimal::from_str(text)
        .map_err(|err| unreadable(index, format!("'{text}' is not a decimal: {err}")))
}

/// A stored value this binary cannot read. Reads never default one (a bad date would
/// read as 1970-01-01, an unknown status as a draft): the error names the row and the
/// column, for the log, and the request fails instead of answering a wrong figure.
pub(crate) fn unreadable(column: usize, what: String) -> StoreError {
    StoreError::Unreadable { column, what }
}
