//! Credit note rules: a document that takes back part of what was invoiced (goods
//! returned, a price corrected), with lines computed by the invoice rule, and a source of
//! credit like a payment.

use chrono::NaiveDate;

use super::currency::Currency;
use super::dates;
use super::invoice::LineInput;
use super::ledger::SourceStatus;
use super::money::Money;
use crate::error::AppError;

/// A credit note as the rules accept it: every field parsed and checked.
#[derive(Debug, Clone)]
pub(crate) struct NewCreditNote {
    pub customer_id: i64,
    pub credit_note_number: Option<String>,
    pub issue_date: NaiveDate,
    /// The invoice it credits: allocated to at once, up to its open amount.
    pub invoice_id: Option<i64>,
    pub reason: String,
    /// Priced once the write knows the customer's currency.
    pub lines: Vec<LineInput>,
    /// The currency the request said the amounts are in, checked against the customer's.
    pub currency: Option<Currency>,
}

/// `CN-2024-00001`: the number a credit note gets when none is given.
pub(crate) fn generated_credit_note_number(prefix: &str, year: i32, sequence: i64) -> String {
    format!("{prefix}{year:04}-{sequence:05}")
}

/// A credit note's status from today's sums: `open` while credit is left unapplied,
/// `applied` when none is, `void` once voided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CreditNoteStatus {
    Open,
    Applied,
    Void,
}

impl CreditNoteStatus {
    pub(crate) fn of(total: Money, unapplied: Money, voided: bool) -> Self {
        match SourceStatus::of(total, unapplied, voided) {
            SourceStatus::Void => CreditNoteStatus::Void,
            SourceStatus::Applied => CreditNoteStatus::Applied,
            SourceStatus::Unapplied | SourceStatus::PartiallyApplied => CreditNoteStatus::Open,
        }
    }
}

/// A credit note's total must be more than zero: a note that credits nothing is a typo.
pub(crate) fn check_total(total: Money, currency: Currency) -> Result<(), AppError> {
    if !total.is_positive() {
        return Err(AppError::field(
            "items",
            format!(
                "must add up to more than {} (they add up to {})",
                Money::ZERO.shown(currency),
                total.shown(currency)
            ),
        ));
    }
    Ok(())
}

/// A credit note is dated no later than today: its credit would otherwise exist before
/// the goods came back.
pub(crate) fn check_issue_date(issue_date: NaiveDate, today: NaiveDate) -> Result<(), AppError> {
    if issue_date > today {
        return Err(AppError::field(
            "issue_date",
            format!(
                "must not be in the future (today is {})",
                dates::to_text(today)
            ),
        ));
    }
    Ok(())
}

/// An invoice is never credited beyond its total: `already` is what its live credit notes
/// (not voided) credit it for, `total` the new note's.
pub(crate) fn check_invoice_not_overcredited(
    invoice: (i64, Money),
    already: Money,
    total: Money,
    currency: Currency,
) -> Result<(), AppError> {
    let (id, invoice_total) = invoice;
    let shown = |amount: Money| amount.shown(currency);
    let after = Money::from_minor(already.minor() + total.minor());
    if after > invoice_total {
        return Err(AppError::field(
            "items",
            format!(
                "add up to {}; with the {} its other credit notes credit, invoice {id} would be credited {}, more than its total ({})",
                shown(total),
                shown(already),
                shown(after),
                shown(invoice_total)
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_statuses_and_the_invoice_bound() {
        assert_eq!(
            generated_credit_note_number("CN-", 2024, 7),
            "CN-2024-00007"
        );
        let m = Money::from_minor;
        assert_eq!(
            CreditNoteStatus::of(m(100), m(100), false),
            CreditNoteStatus::Open
        );
        assert_eq!(
            CreditNoteStatus::of(m(100), m(40), false),
            CreditNoteStatus::Open
        );
        assert_eq!(
            CreditNoteStatus::of(m(100), m(0), false),
            CreditNoteStatus::Applied
        );
        assert_eq!(
            CreditNoteStatus::of(m(100), m(0), true),
            CreditNoteStatus::Void
        );
        assert!(check_invoice_not_overcredited((1, m(100)), m(60), m(40), Currency::USD).is_ok());
        let refused =
            check_invoice_not_overcredited((1, m(100)), m(60), m(41), Currency::USD).unwrap_err();
        assert_eq!(refused.status(), 400);
        assert!(
            refused.to_string().contains("more than its total (1.00)")
                || refused.field_errors().contains_key("items"),
            "{refused}"
        );
        assert_eq!(check_total(m(0), Currency::USD).unwrap_err().status(), 400);
        let today = NaiveDate::from_ymd_opt(2024, 3, 1).unwrap();
        assert!(check_issue_date(today, today).is_ok());
        assert!(check_issue_date(today.succ_opt().unwrap(), today).is_err());
    }
}
