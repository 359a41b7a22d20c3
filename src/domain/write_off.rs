//! Write-off rules: giving up on what is left of an invoice (a debtor went bankrupt), as a
//! dated event, and taking that back when the debt is recovered after all.

use chrono::NaiveDate;

use super::currency::Currency;
use super::invoice::{InvoiceStatus, Settled, SettledBy};
use super::ledger::{check_event_date, check_fits, least_from, Movement};
use super::money::{GivenAmount, Money};
use crate::error::AppError;

/// A write-off as the rules take it.
#[derive(Debug, Clone)]
pub(crate) struct NewWriteOff {
    /// None: the whole open amount, as it stands from `date` on.
    pub amount: Option<GivenAmount>,
    pub date: NaiveDate,
    pub reason: String,
}

/// An invoice as a write-off of it sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WritableInvoice {
    pub id: i64,
    pub status: InvoiceStatus,
    pub issue_date: NaiveDate,
    pub total: Money,
    pub settled: Settled,
    pub currency: Currency,
}

/// The amount to write off and the invoice's status after it: the invoice must be open
/// (sent or partially paid), the date neither before its issue date nor after today, and
/// the amount at most what the invoice has open on that date and every later one
/// (`open_movements`: its allocations, write-offs and their reversals). Without an amount,
/// exactly that least open amount.
pub(crate) fn write_off(
    invoice: &WritableInvoice,
    open_movements: &[Movement],
    new: &NewWriteOff,
    today: NaiveDate,
) -> Result<(Money, InvoiceStatus), AppError> {
    if !invoice.status.accepts_payments() {
        return Err(AppError::conflict(format!(
            "Invoice {} is {}; only a sent or partially paid invoice has an open amount to write off.",
            invoice.id,
            invoice.status.as_str()
        )));
    }
    let date_field = "write_off_date";
    check_event_date(
        date_field,
        new.date,
        invoice.issue_date,
        "the invoice's issue_date",
        today,
    )?;
    let amount = match new.amount {
        Some(given) => {
            let amount = given
                .in_currency(invoice.currency)
                .map_err(|err| AppError::field("amount", err.to_string()))?;
            let what = format!("invoice {}'s open amount", invoice.id);
            check_fits(
                "amount",
                &what,
                (invoice.total, open_movements, invoice.currency),
                amount,
                new.date,
            )?;
            amount
        }
        None => {
            let (least, on) = least_from(invoice.total, open_movements, new.date);
            if !least.is_positive() {
                return Err(AppError::field(
                    date_field,
                    format!(
                        "invoice {} has nothing open from this date on (nothing on {}): there is nothing to write off",
                        invoice.id,
                        super::dates::to_text(on)
                    ),
                ));
            }
            least
        }
    };
    let settled = invoice.settled.moved(SettledBy::WriteOff, amount.minor());
    Ok((amount, settled.status(invoice.total)))
}

/// Checks reversing a write-off dated `written_on` (already reversed if `reversed`) on
/// `date`: once, no earlier than the write-off, not after today.
pub(crate) fn check_reversal(
    (id, written_on, reversed): (i64, NaiveDate, bool),
    date: NaiveDate,
    today: NaiveDate,
) -> Result<(), AppError> {
    if reversed {
        return Err(AppError::conflict(format!(
            "Write-off {id} is already reversed."
        )));
    }
    check_event_date("reverse_date", date, written_on, "the write-off", today)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn invoice(paid: i64) -> WritableInvoice {
        let settled = Settled {
            paid: Money::from_minor(paid),
            ..Settled::default()
        };
        WritableInvoice {
            id: 3,
            status: settled.status(Money::from_minor(1000)),
            issue_date: day("2024-01-10"),
            total: Money::from_minor(1000),
            settled,
            currency: Currency::USD,
        }
    }

    fn new(amount: Option<i64>, date: &str) -> NewWriteOff {
        NewWriteOff {
            amount: amount
                .map(|minor| GivenAmount(Money::from_minor(minor).to_decimal(Currency::USD))),
            date: day(date),
            reason: "Bankrupt".into(),
        }
    }

    #[test]
    fn the_rest_is_written_off_and_closes_the_invoice() {
        let today = day("2024-03-01");
        let paid = [Movement::new(day("2024-02-01"), -600)];
        let (amount, status) =
            write_off(&invoice(600), &paid, &new(None, "2024-02-15"), today).unwrap();
        assert_eq!((amount.minor(), status), (400, InvoiceStatus::WrittenOff));
        // Dated before the payment, only what stays open after it can go.
        let (amount, _) = write_off(&invoice(600), &paid, &new(None, "2024-01-15"), today).unwrap();
        assert_eq!(amount.minor(), 400);
        let (amount, status) =
            write_off(&invoice(600), &paid, &new(Some(100), "2024-02-15"), today).unwrap();
        assert_eq!(
            (amount.minor(), status),
            (100, InvoiceStatus::PartiallyPaid)
        );
        let too_much = write_off(&invoice(600), &paid, &new(Some(401), "2024-02-15"), today);
        assert!(too_much.unwrap_err().field_errors().contains_key("amount"));
        let early = write_off(&invoice(0), &[], &new(None, "2024-01-09"), today);
        assert!(early
            .unwrap_err()
            .field_errors()
            .contains_key("write_off_date"));
        let future = write_off(&invoice(0), &[], &new(None, "2024-03-02"), today);
        assert!(future
            .unwrap_err()
            .field_errors()
            .contains_key("write_off_date"));
        let closed = write_off(&invoice(1000), &[], &new(None, "2024-02-15"), today);
        assert_eq!(closed.unwrap_err().status(), 409);
    }

    #[test]
    fn a_reversal_comes_once_and_not_before_the_write_off() {
        let today = day("2024-03-01");
        let on = day("2024-02-01");
        assert!(check_reversal((1, on, false), on, today).is_ok());
        assert_eq!(
            check_reversal((1, on, true), on, today)
                .unwrap_err()
                .status(),
            409
        );
        assert!(check_reversal((1, on, false), day("2024-01-31"), today).is_err());
        assert!(check_reversal((1, on, false), day("2024-03-02"), today).is_err());
    }
}
