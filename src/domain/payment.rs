//! Payment rules: the methods a payment can have, and what applying a payment to an
//! invoice checks and changes.

use chrono::NaiveDate;

use super::currency::Currency;
use super::dates;
use super::invoice::{balance_due, InvoiceStatus, Settled, SettledBy};
use super::ledger::{check_event_date, check_fits, Movement};
use super::money::{GivenAmount, Money};
use crate::error::AppError;

/// A payment as the rules accept it: every field parsed and checked.
#[derive(Debug, Clone)]
pub(crate) struct NewPayment {
    pub customer_id: i64,
    pub application: Application,
    /// In the customer's currency, known once the write finds the customer.
    pub amount: GivenAmount,
    pub payment_method: PaymentMethod,
    pub payment_date: NaiveDate,
    pub reference_number: Option<String>,
    pub notes: Option<String>,
    /// The currency the request said the amounts are in, checked against the customer's.
    pub currency: Option<Currency>,
}

/// How money from a credit source reaches invoices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Application {
    /// The documented form: the whole amount to one invoice, and more than its balance is
    /// a 400 (a typo must never quietly become credit).
    Invoice(i64),
    /// Each (invoice, amount) as given; what they leave is unapplied credit.
    Allocations(Vec<(i64, GivenAmount)>),
    /// The customer's open invoices by due date, then issue date, then id.
    OldestFirst,
    /// Nothing applied: all of it is unapplied credit.
    OnAccount,
}

/// The request fields a refusal names, so a bad allocation is `allocations[2].amount`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Blame {
    pub invoice: String,
    pub amount: String,
    pub date: &'static str,
    /// The documented `invoice_id` form, whose over-balance message is part of the API.
    pub documented: bool,
}

impl Blame {
    pub(crate) fn documented() -> Self {
        Blame {
            invoice: "invoice_id".into(),
            amount: "amount".into(),
            date: "payment_date",
            documented: true,
        }
    }

    /// Allocation `index` of a list, dated by the field `date`.
    pub(crate) fn allocation(index: usize, date: &'static str) -> Self {
        Blame {
            invoice: format!("allocations[{index}].invoice_id"),
            amount: format!("allocations[{index}].amount"),
            date,
            documented: false,
        }
    }

    /// An allocation chosen by "oldest first": the amount is what may be refused.
    pub(crate) fn oldest_first(date: &'static str) -> Self {
        Blame {
            invoice: "allocate".into(),
            amount: "amount".into(),
            date,
            documented: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub(crate) enum PaymentMethod {
    BankTransfer,
    Cash,
    Check,
    CreditCard,
    DebitCard,
    MobileMoney,
    Online,
    /// Also the method a payment is said to have when none is known.
    #[default]
    Other,
}

impl PaymentMethod {
    pub(crate) const ALL: [PaymentMethod; 8] = [
        PaymentMethod::BankTransfer,
        PaymentMethod::Cash,
        PaymentMethod::Check,
        PaymentMethod::CreditCard,
        PaymentMethod::DebitCard,
        PaymentMethod::MobileMoney,
        PaymentMethod::Online,
        PaymentMethod::Other,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            PaymentMethod::BankTransfer => "bank_transfer",
            PaymentMethod::Cash => "cash",
            PaymentMethod::Check => "check",
            PaymentMethod::CreditCard => "credit_card",
            PaymentMethod::DebitCard => "debit_card",
            PaymentMethod::MobileMoney => "mobile_money",
            PaymentMethod::Online => "online",
            PaymentMethod::Other => "other",
        }
    }

    pub(crate) fn names() -> String {
        Self::ALL.map(|m| m.as_str()).join(", ")
    }
}

/// An invoice as a payment against it sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PayableInvoice {
    pub id: i64,
    pub customer_id: i64,
    pub status: InvoiceStatus,
    pub issue_date: NaiveDate,
    pub total: Money,
    pub settled: Settled,
    pub currency: Currency,
}

/// A payment (or credit note) to apply: who pays, how much, on which day, in which
/// currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PaymentToApply {
    pub source: SourceKind,
    pub customer_id: i64,
    pub amount: Money,
    pub payment_date: NaiveDate,
    pub currency: Currency,
}

/// What an allocation does to its invoice: its new status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Applied {
    pub status: InvoiceStatus,
}

/// Applies `payment` to `invoice` on `today`, or says why it cannot be: the invoice must
/// be the customer's, issued (not a draft) and not void; the allocation may be neither in
/// the future nor before the invoice was issued, and never more than the invoice's open
/// amount on its date or any later one (`open_movements`: the invoice's allocations,
/// reversals and write-offs). `blame` names the fields a refusal points at.
pub(crate) fn allocate(
    invoice: &PayableInvoice,
    open_movements: &[Movement],
    payment: &PaymentToApply,
    today: NaiveDate,
    blame: &Blame,
) -> Result<Applied, AppError> {
    if invoice.customer_id != payment.customer_id {
        return Err(AppError::field(
            &blame.invoice,
            format!(
                "invoice {} belongs to customer {}, not to customer {}",
                invoice.id, invoice.customer_id, payment.customer_id
            ),
        ));
    }
    if invoice.currency != payment.currency {
        return Err(AppError::conflict_on(
            &blame.invoice,
            format!(
                "Invoice {} is in {}, not {}: credit is only ever applied to invoices in its own currency.",
                invoice.id, invoice.currency, payment.currency
            ),
        ));
    }
    if matches!(invoice.status, InvoiceStatus::Draft | InvoiceStatus::Void) {
        return Err(AppError::conflict_on(
            &blame.invoice,
            format!(
                "Invoice {} is {} and takes no {}.",
                invoice.id,
                invoice.status.as_str(),
                payment.source.plural()
            ),
        ));
    }
    if payment.payment_date > today {
        return Err(AppError::field(
            blame.date,
            format!(
                "must not be in the future (today is {})",
                dates::to_text(today)
            ),
        ));
    }
    if payment.payment_date < invoice.issue_date {
        return Err(AppError::field(
            blame.date,
            format!(
                "must not be before the invoice's issue_date ({})",
                dates::to_text(invoice.issue_date)
            ),
        ));
    }
    let balance = balance_due(invoice.status, invoice.total, invoice.settled.sum());
    if blame.documented && payment.amount > balance {
        return Err(AppError::field(
            &blame.amount,
            format!(
                "{} exceeds the invoice's balance_due of {}",
                payment.amount.shown(payment.currency),
                balance.shown(payment.currency)
            ),
        ));
    }
    check_fits(
        &blame.amount,
        &format!("invoice {}'s open amount", invoice.id),
        (invoice.total, open_movements, invoice.currency),
        payment.amount,
        payment.payment_date,
    )?;
    // Paid or credited: either closes the invoice the same way.
    let settled = Settled {
        paid: Money::from_minor(invoice.settled.paid.minor() + payment.amount.minor()),
        ..invoice.settled
    };
    Ok(Applied {
        status: settled.status(invoice.total),
    })
}

/// A payment may not be dated after today (a typo in the year would otherwise hold credit
/// nothing can use or undo until that day). The forms that allocate check it per
/// allocation with the same words.
pub(crate) fn check_payment_date(
    payment_date: NaiveDate,
    today: NaiveDate,
) -> Result<(), AppError> {
    if payment_date > today {
        return Err(AppError::field(
            "payment_date",
            format!(
                "must not be in the future (today is {})",
                dates::to_text(today)
            ),
        ));
    }
    Ok(())
}

/// The two sources of credit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SourceKind {
    Payment,
    CreditNote,
}

impl SourceKind {
    /// As a sentence starts with it: "Payment 4", "Credit note 2".
    pub(crate) fn name(self) -> &'static str {
        match self {
            SourceKind::Payment => "Payment",
            SourceKind::CreditNote => "Credit note",
        }
    }

    /// As a sentence names several: "payments", "credit notes".
    fn plural(self) -> &'static str {
        match self {
            SourceKind::Payment => "payments",
            SourceKind::CreditNote => "credit notes",
        }
    }

    /// The date an allocation or refund from the source may not come before.
    fn date_name(self) -> &'static str {
        match self {
            SourceKind::Payment => "the payment date",
            SourceKind::CreditNote => "the credit note's issue date",
        }
    }
}

impl From<SourceKind> for SettledBy {
    fn from(kind: SourceKind) -> Self {
        match kind {
            SourceKind::Payment => SettledBy::Payment,
            SourceKind::CreditNote => SettledBy::CreditNote,
        }
    }
}

/// A credit source as a later use of its credit sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CreditSource {
    pub kind: SourceKind,
    pub id: i64,
    /// The date of the payment (or credit note).
    pub date: NaiveDate,
    pub void: bool,
    pub currency: Currency,
}

/// Checks using `amount` of a source's unapplied credit on `date` (a later allocation or
/// a refund): the source is not void, the date is neither before the source's nor after
/// today, and the credit is there on that date and every later one.
pub(crate) fn check_credit_use(
    source: &CreditSource,
    credit: (Money, &[Movement]),
    (amount_field, amount): (&str, Money),
    (date_field, date): (&str, NaiveDate),
    today: NaiveDate,
) -> Result<(), AppError> {
    let name = source.kind.name();
    if source.void {
        return Err(AppError::conflict(format!(
            "{name} {} is void; its credit cannot be used.",
            source.id
        )));
    }
    let source_date = source.kind.date_name();
    check_event_date(date_field, date, source.date, source_date, today)?;
    check_fits(
        amount_field,
        &format!("{} {}'s unapplied credit", name.to_lowercase(), source.id),
        (credit.0, credit.1, source.currency),
        amount,
        date,
    )
}

/// The 409 for voiding a payment or credit note that is void already.
pub(crate) fn already_void(source: &CreditSource) -> AppError {
    let name = source.kind.name();
    AppError::conflict(format!("{name} {} is already void.", source.id))
}

/// Checks voiding a payment on `void_date` (a bounced check, a payment keyed twice): not
/// already void, nothing refunded (give the refund back first), and dated no earlier than
/// the payment or any allocation it reverses, and not after today.
pub(crate) fn check_void(
    source: &CreditSource,
    refunded: Money,
    live_allocation_dates: &[NaiveDate],
    void_date: NaiveDate,
    today: NaiveDate,
) -> Result<(), AppError> {
    let name = source.kind.name();
    if source.void {
        return Err(already_void(source));
    }
    if refunded.is_positive() {
        return Err(AppError::conflict(format!(
            "{name} {} has {} refunded and cannot be voided: the money given back was real.",
            source.id,
            refunded.shown(source.currency)
        )));
    }
    let source_date = source.kind.date_name();
    check_event_date("void_date", void_date, source.date, source_date, today)?;
    if let Some(latest) = live_allocation_dates
        .iter()
        .max()
        .filter(|d| **d > void_date)
    {
        return Err(AppError::field(
            "void_date",
            format!(
                "must not be before the allocation of {} it would reverse",
                dates::to_text(*latest)
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn invoice(status: InvoiceStatus, paid_minor: i64) -> PayableInvoice {
        PayableInvoice {
            id: 7,
            customer_id: 1,
            status,
            issue_date: day("2024-01-15"),
            total: Money::from_minor(162_000),
            settled: crate::domain::invoice::Settled {
                paid: Money::from_minor(paid_minor),
                ..Default::default()
            },
            currency: Currency::USD,
        }
    }

    fn pay(minor: i64, date: &str) -> PaymentToApply {
        PaymentToApply {
            source: SourceKind::Payment,
            customer_id: 1,
            amount: Money::from_minor(minor),
            payment_date: day(date),
            currency: Currency::USD,
        }
    }

    fn apply(
        invoice: &PayableInvoice,
        payment: &PaymentToApply,
        today: NaiveDate,
    ) -> Result<Applied, AppError> {
        allocate(invoice, &[], payment, today, &Blame::documented())
    }

    fn refusal(result: Result<Applied, AppError>) -> (u16, String) {
        let err = result.unwrap_err();
        let field = err
            .field_errors()
            .keys()
            .next()
            .cloned()
            .unwrap_or_default();
        (err.status(), field)
    }

    #[test]
    fn credit_goes_only_to_invoices_in_its_own_currency() {
        let yen = PayableInvoice {
            currency: Currency::parse("JPY").unwrap(),
            ..invoice(InvoiceStatus::Sent, 0)
        };
        let refused = apply(&yen, &pay(100, "2024-01-20"), day("2024-03-01"));
        assert_eq!(refusal(refused), (409, "invoice_id".to_string()));
    }

    #[test]
    fn a_payment_moves_the_invoice_to_partially_paid_then_paid() {
        let today = day("2024-03-01");
        let first = apply(
            &invoice(InvoiceStatus::Sent, 0),
            &pay(50_000, "2024-01-20"),
            today,
        );
        assert_eq!(
            first.unwrap(),
            Applied {
                status: InvoiceStatus::PartiallyPaid
            }
        );
        let rest = apply(
            &invoice(InvoiceStatus::PartiallyPaid, 50_000),
            &pay(112_000, "2024-03-01"),
            today,
        );
        assert_eq!(rest.unwrap().status, InvoiceStatus::Paid);
    }

    #[test]
    fn each_refusal_names_its_field() {
        let today = day("2024-03-01");
        let sent = invoice(InvoiceStatus::Sent, 0);
        let mut other_customer = pay(100, "2024-02-01");
        other_customer.customer_id = 2;
        assert_eq!(
            refusal(apply(&sent, &other_customer, today)),
            (400, "invoice_id".into())
        );
        for closed in [InvoiceStatus::Draft, InvoiceStatus::Void] {
            let result = apply(&invoice(closed, 0), &pay(100, "2024-02-01"), today);
            assert_eq!(refusal(result), (409, "invoice_id".into()));
        }
        let future = apply(&sent, &pay(100, "2024-03-02"), today);
        assert_eq!(refusal(future), (400, "payment_date".into()));
        let early = apply(&sent, &pay(100, "2024-01-14"), today);
        assert_eq!(refusal(early), (400, "payment_date".into()));
        let too_much = apply(&sent, &pay(162_001, "2024-02-01"), today);
        assert_eq!(refusal(too_much), (400, "amount".into()));
        let paid = apply(
            &invoice(InvoiceStatus::Paid, 162_000),
            &pay(1, "2024-02-01"),
            today,
        );
        assert_eq!(refusal(paid), (400, "amount".into()));
    }
}
