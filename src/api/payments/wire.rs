//! The payment as the API answers it: its allocations, its credit and its status.

use poem_openapi::Object;

use crate::api::types::{Amount, CurrencyCode};
use crate::db::payments as store;
use crate::db::sources::{Refund, SourceAllocation};
use crate::domain::currency::Currency;
use crate::domain::ledger::SourceStatus;
use crate::domain::money::Money;
use crate::domain::payment::PaymentMethod;

crate::api::types::wire_enum!(
    Method <=> PaymentMethod {
        BankTransfer, Cash, Check, CreditCard, DebitCard, MobileMoney, Online, Other
    }
);

crate::api::types::wire_enum!(
    /// `unapplied` while none of it is allocated or refunded, `partially_applied` while some
    /// is left, `applied` when nothing is left, `void` once voided.
    PaymentStatus <=> SourceStatus { Unapplied, PartiallyApplied, Applied, Void }
);

/// One allocation of a payment or credit note to an invoice.
#[derive(Object, Debug, Clone, serde::Serialize)]
pub(crate) struct PaymentAllocation {
    pub id: i64,
    pub invoice_id: i64,
    pub invoice_number: String,
    pub amount: Amount,
    /// The date the money counts on the invoice from.
    pub applied_date: String,
    /// The date it stopped counting (its payment or credit note was voided); null while it
    /// counts.
    pub reversed_date: Option<String>,
}

/// Money given back from a payment's or credit note's unapplied credit.
#[derive(Object, Debug, Clone, serde::Serialize)]
pub(crate) struct PaymentRefund {
    pub id: i64,
    pub amount: Amount,
    pub refund_date: String,
    pub payment_method: String,
    pub reference_number: Option<String>,
    pub reason: Option<String>,
}

#[derive(Object, Debug, Clone, serde::Serialize)]
#[oai(example)]
pub(crate) struct Payment {
    pub id: i64,
    pub customer_id: i64,
    /// The invoice that received the payment, when exactly one did.
    pub invoice_id: Option<i64>,
    pub amount: Amount,
    pub payment_method: String,
    pub payment_date: String,
    pub reference_number: Option<String>,
    pub notes: Option<String>,
    pub created_at: String,
    /// Every allocation of the payment, reversed ones included, by date.
    pub allocations: Vec<PaymentAllocation>,
    /// Money given back from the payment, by date.
    pub refunds: Vec<PaymentRefund>,
    /// Allocated and not reversed.
    pub applied_amount: Amount,
    /// Given back to the customer.
    pub refunded_amount: Amount,
    /// The customer's credit left from this payment, to allocate or refund.
    pub unapplied_amount: Amount,
    pub status: PaymentStatus,
    pub void_date: Option<String>,
    pub void_reason: Option<String>,
    /// The currency of every amount here: the customer's.
    pub currency: CurrencyCode,
}

impl poem_openapi::types::Example for Payment {
    fn example() -> Self {
        Payment {
            id: 1,
            customer_id: 1,
            invoice_id: Some(1),
            amount: usd(50000),
            payment_method: "bank_transfer".into(),
            payment_date: "2024-01-20".into(),
            reference_number: Some("TXN123456".into()),
            notes: None,
            created_at: "2024-01-20T10:00:00.000Z".into(),
            allocations: vec![PaymentAllocation {
                id: 1,
                invoice_id: 1,
                invoice_number: "INV-2024-001".into(),
                amount: usd(50000),
                applied_date: "2024-01-20".into(),
                reversed_date: None,
            }],
            refunds: vec![],
            applied_amount: usd(50000),
            refunded_amount: usd(0),
            unapplied_amount: usd(0),
            status: PaymentStatus::Applied,
            void_date: None,
            void_reason: None,
            currency: CurrencyCode(Currency::USD),
        }
    }
}

fn usd(minor: i64) -> Amount {
    Amount::new(Money::from_minor(minor), Currency::USD)
}

impl From<store::Payment> for Payment {
    fn from(p: store::Payment) -> Self {
        let currency = p.currency;
        let amount = |money| Amount::new(money, currency);
        Payment {
            id: p.id,
            customer_id: p.customer_id,
            invoice_id: p.invoice_id(),
            amount: amount(p.amount),
            applied_amount: amount(p.applied()),
            refunded_amount: amount(p.refunded),
            unapplied_amount: amount(p.unapplied),
            status: p.status().into(),
            payment_method: p.payment_method,
            payment_date: p.payment_date,
            reference_number: p.reference_number,
            notes: p.notes,
            created_at: p.created_at,
            void_date: p.void_date,
            void_reason: p.void_reason,
            allocations: allocations_to_api(p.allocations, currency),
            refunds: refunds_to_api(p.refunds, currency),
            currency: CurrencyCode(currency),
        }
    }
}

/// A source's allocations, in its currency.
pub(crate) fn allocations_to_api(
    allocations: Vec<SourceAllocation>,
    currency: Currency,
) -> Vec<PaymentAllocation> {
    allocations
        .into_iter()
        .map(|a| PaymentAllocation {
            id: a.id,
            invoice_id: a.invoice_id,
            invoice_number: a.invoice_number,
            amount: Amount::new(a.amount, currency),
            applied_date: a.applied_date,
            reversed_date: a.reversed_date,
        })
        .collect()
}

/// A source's refunds, in its currency.
pub(crate) fn refunds_to_api(refunds: Vec<Refund>, currency: Currency) -> Vec<PaymentRefund> {
    refunds
        .into_iter()
        .map(|r| PaymentRefund {
            id: r.id,
            amount: Amount::new(r.amount, currency),
            refund_date: r.refund_date,
            payment_method: r.payment_method,
            reference_number: r.reference_number,
            reason: r.reason,
        })
        .collect()
}

crate::api::paging::list_answer!(PaymentList of Payment, " Payments matching the filters, over all pages.");
