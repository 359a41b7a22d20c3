//! Invoice rules: line and invoice totals, the lifecycle, and what "overdue" means.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::currency::Currency;
use super::dates;
use super::money::{Money, MoneyError};
use crate::error::AppError;

pub(crate) const MAX_ITEMS: usize = 500;
/// The largest quantity on a line: 999,999,999.9999 (nine digits and four decimals).
pub(crate) const MAX_QUANTITY: Decimal = Decimal::from_parts(1_316_134_911, 2_328, 0, false, 4);
/// Decimals allowed in a quantity or a unit price.
pub(crate) const MAX_QUANTITY_DECIMALS: u32 = 4;
/// Decimals allowed in a tax rate (a fraction: 0.08875 is 8.875%).
pub(crate) const MAX_TAX_RATE_DECIMALS: u32 = 6;

/// A line as the client gave it, already checked field by field.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LineInput {
    pub description: String,
    pub quantity: Decimal,
    pub unit_price: Decimal,
    pub tax_rate: Decimal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LineAmounts {
    pub subtotal: Money,
    pub tax: Money,
    pub total: Money,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct InvoiceTotals {
    pub subtotal: Money,
    pub tax_total: Money,
    pub total: Money,
}

/// The rounding rule of `domain::money`, applied to one line.
pub(crate) fn line_amounts(
    (quantity, unit_price, tax_rate): (Decimal, Decimal, Decimal),
    currency: Currency,
) -> Result<LineAmounts, MoneyError> {
    let too_large = || MoneyError::TooLarge(currency);
    let raw_subtotal = quantity.checked_mul(unit_price).ok_or_else(too_large)?;
    let subtotal = Money::from_rounded(raw_subtotal, currency)?;
    let raw_tax = subtotal
        .to_decimal(currency)
        .checked_mul(tax_rate)
        .ok_or_else(too_large)?;
    let tax = Money::from_rounded(raw_tax, currency)?;
    let total = subtotal.checked_add(tax).ok_or_else(too_large)?;
    Ok(LineAmounts {
        subtotal,
        tax,
        total,
    })
}

/// Each line with its amounts in `currency` by the rounding rule; the first line whose
/// amounts are too large is named.
pub(crate) fn price_lines(
    lines: Vec<LineInput>,
    currency: Currency,
) -> Result<Vec<(LineInput, LineAmounts)>, AppError> {
    lines
        .into_iter()
        .enumerate()
        .map(|(index, line)| {
            let amounts = line_amounts((line.quantity, line.unit_price, line.tax_rate), currency)
                .map_err(|err| {
                AppError::field(&format!("items[{index}]"), format!("line amount {err}"))
            })?;
            Ok((line, amounts))
        })
        .collect()
}

/// Sums of the rounded lines.
pub(crate) fn invoice_totals(
    lines: &[LineAmounts],
    currency: Currency,
) -> Result<InvoiceTotals, MoneyError> {
    lines
        .iter()
        .try_fold(InvoiceTotals::default(), |acc, line| {
            Some(InvoiceTotals {
                subtotal: acc.subtotal.checked_add(line.subtotal)?,
                tax_total: acc.tax_total.checked_add(line.tax)?,
                total: acc.total.checked_add(line.total)?,
            })
        })
        .ok_or(MoneyError::TooLarge(currency))
}

/// An invoice as the rules accept it: every field parsed and checked. `due_date` is the
/// one the client gave; without it, [`due_date`] derives it from the customer's terms.
#[derive(Debug, Clone)]
pub(crate) struct NewInvoice {
    pub customer_id: i64,
    pub invoice_number: Option<String>,
    pub issue_date: NaiveDate,
    pub due_date: Option<NaiveDate>,
    pub status: InvoiceStatus,
    pub notes: Option<String>,
    /// Priced once the write knows the customer's currency ([`price_lines`]).
    pub lines: Vec<LineInput>,
    /// The currency the request said the amounts are in, checked against the customer's.
    pub currency: Option<Currency>,
}

/// The due date must not come before the issue date.
pub(crate) fn check_due_after_issue(
    issue_date: NaiveDate,
    due_date: NaiveDate,
) -> Result<(), String> {
    if due_date < issue_date {
        return Err(format!(
            "must not be before issue_date ({})",
            dates::to_text(issue_date)
        ));
    }
    Ok(())
}

/// An invoice's due date: the one given, or the issue date plus the customer's payment
/// terms, which must stay inside the supported dates; never before the issue date.
pub(crate) fn due_date(
    issue_date: NaiveDate,
    given: Option<NaiveDate>,
    terms_days: i64,
) -> Result<NaiveDate, AppError> {
    let due_date = match given {
        Some(due) => due,
        None => dates::add_days(issue_date, terms_days.max(0) as u64).ok_or_else(|| {
            AppError::field(
                "issue_date",
                format!(
                    "is too late for the customer's {terms_days}-day payment terms: the due \
                     date would fall after {}; send an earlier issue_date or a due_date",
                    dates::to_text(dates::LAST_DATE)
                ),
            )
        })?,
    };
    check_due_after_issue(issue_date, due_date).map_err(|e| AppError::field("due_date", e))?;
    Ok(due_date)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum InvoiceStatus {
    Draft,
    Sent,
    PartiallyPaid,
    Paid,
    /// Closed, with a live write-off among what closed it.
    WrittenOff,
    Void,
}

impl InvoiceStatus {
    pub(crate) const ALL: [InvoiceStatus; 6] = [
        InvoiceStatus::Draft,
        InvoiceStatus::Sent,
        InvoiceStatus::PartiallyPaid,
        InvoiceStatus::Paid,
        InvoiceStatus::WrittenOff,
        InvoiceStatus::Void,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            InvoiceStatus::Draft => "draft",
            InvoiceStatus::Sent => "sent",
            InvoiceStatus::PartiallyPaid => "partially_paid",
            InvoiceStatus::Paid => "paid",
            InvoiceStatus::WrittenOff => "written_off",
            InvoiceStatus::Void => "void",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Only issued, unsettled invoices take payments.
    pub(crate) fn accepts_payments(self) -> bool {
        matches!(self, InvoiceStatus::Sent | InvoiceStatus::PartiallyPaid)
    }

    /// Issued and not cancelled: the invoice counts in reports (not draft, not void).
    pub(crate) fn is_issued(self) -> bool {
        !matches!(self, InvoiceStatus::Draft | InvoiceStatus::Void)
    }

    /// Status of an issued invoice nothing but payments have settled.
    pub(crate) fn from_payments(total: Money, paid: Money) -> Self {
        Settled {
            paid,
            ..Settled::default()
        }
        .status(total)
    }
}

/// What has closed part of an issued invoice, each kept live (reversals taken out):
/// payments allocated to it, credit notes allocated to it, and its write-offs. Its open
/// amount is its total less all three.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Settled {
    pub paid: Money,
    pub credited: Money,
    pub written_off: Money,
}

/// What settles part of an invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SettledBy {
    Payment,
    CreditNote,
    WriteOff,
}

impl Settled {
    /// `delta` more (or, negative, less) settled by `by`.
    pub(crate) fn moved(self, by: SettledBy, delta: i64) -> Settled {
        let add = |money: Money| Money::from_minor(money.minor() + delta);
        match by {
            SettledBy::Payment => Settled {
                paid: add(self.paid),
                ..self
            },
            SettledBy::CreditNote => Settled {
                credited: add(self.credited),
                ..self
            },
            SettledBy::WriteOff => Settled {
                written_off: add(self.written_off),
                ..self
            },
        }
    }

    pub(crate) fn sum(&self) -> Money {
        Money::from_minor(self.paid.minor() + self.credited.minor() + self.written_off.minor())
    }

    /// `sent` while nothing is settled, `partially_paid` while some is open, and once
    /// nothing is: `written_off` if a write-off is among what closed it, else `paid`.
    pub(crate) fn status(&self, total: Money) -> InvoiceStatus {
        let settled = self.sum();
        if settled >= total {
            if self.written_off.is_positive() {
                InvoiceStatus::WrittenOff
            } else {
                InvoiceStatus::Paid
            }
        } else if settled.is_positive() {
            InvoiceStatus::PartiallyPaid
        } else {
            InvoiceStatus::Sent
        }
    }
}

/// Overdue is derived, never stored: an open, issued invoice past its due date.
/// total − what settled it (payments, credit notes, write-offs); nothing is due on a
/// void invoice.
pub(crate) fn balance_due(status: InvoiceStatus, total: Money, settled: Money) -> Money {
    if status == InvoiceStatus::Void {
        return Money::ZERO;
    }
    Money::from_minor(total.minor() - settled.minor())
}

pub(crate) fn days_overdue(
    status: InvoiceStatus,
    due_date: NaiveDate,
    balance_due: Money,
    today: NaiveDate,
) -> i64 {
    if status.accepts_payments() && balance_due.is_positive() && due_date < today {
        (today - due_date).num_days()
    } else {
        0
    }
}

/// Invoice numbers generated when the client gives none: the organization's prefix
/// (`INV-` unless it set another), then `2024-00001`. The year always has four digits
/// (supported dates end in 9999; see `domain::dates`).
pub(crate) fn generated_invoice_number(prefix: &str, year: i32, sequence: i64) -> String {
    format!("{prefix}{year:04}-{sequence:05}")
}

/// The moves a client can ask of an existing invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transition {
    Send,
    Void,
}

/// The status `transition` takes invoice `id` to, or why it cannot: only a draft is sent
/// (to `sent`, or straight to `paid` when its total is zero: nothing is left to collect);
/// an invoice with nothing paid on it can be voided, once.
pub(crate) fn transition(
    id: i64,
    status: InvoiceStatus,
    (total, currency): (Money, Currency),
    (settled, linked_notes): (Settled, Money),
    transition: Transition,
) -> Result<InvoiceStatus, AppError> {
    let shown = |amount: Money| amount.shown(currency);
    let Settled {
        paid,
        credited,
        written_off,
    } = settled;
    match transition {
        Transition::Send if status != InvoiceStatus::Draft => Err(AppError::conflict(format!(
            "Invoice {id} is {}; only a draft can be sent.",
            status.as_str()
        ))),
        Transition::Send => Ok(InvoiceStatus::from_payments(total, Money::ZERO)),
        Transition::Void if status == InvoiceStatus::Void => {
            Err(AppError::conflict(format!("Invoice {id} is already void.")))
        }
        Transition::Void if paid.is_positive() => Err(AppError::conflict(format!(
            "Invoice {id} has payments of {} applied and cannot be voided.", shown(paid)
        ))),
        Transition::Void if credited.is_positive() => Err(AppError::conflict(format!(
            "Invoice {id} has credit notes of {} applied and cannot be voided; void the credit notes first.", shown(credited)
        ))),
        Transition::Void if written_off.is_positive() => Err(AppError::conflict(format!(
            "Invoice {id} has {} written off and cannot be voided; reverse the write-off first.", shown(written_off)
        ))),
        // A note against it stands even when none of it could be applied (it was closed).
        Transition::Void if linked_notes.is_positive() => Err(AppError::conflict(format!(
            "Invoice {id} has credit notes of {} issued against it and cannot be voided; void the credit notes first.", shown(linked_notes)
        ))),
        Transition::Void => Ok(InvoiceStatus::Void),
    }
}

#[cfg(test)]
#[path = "invoice_tests.rs"]
mod tests;
