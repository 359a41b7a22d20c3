//! The credit note as the API answers it: its lines, its allocations, its credit.

use poem_openapi::Object;
use rust_decimal::Decimal;

use crate::api::invoices::{item_to_api, InvoiceItem};
use crate::api::payments::{allocations_to_api, refunds_to_api, PaymentAllocation, PaymentRefund};
use crate::api::types::{Amount, CurrencyCode, DecimalOut};
use crate::db::credit_notes as store;
use crate::domain::credit_note::CreditNoteStatus as Rule;
use crate::domain::currency::Currency;
use crate::domain::money::Money;

crate::api::types::wire_enum!(
    /// `open` while credit is left unapplied, `applied` when none is, `void` once voided.
    CreditNoteStatus <=> Rule { Open, Applied, Void }
);

#[derive(Object, Debug, Clone, serde::Serialize)]
#[oai(example)]
pub(crate) struct CreditNote {
    pub id: i64,
    pub customer_id: i64,
    pub credit_note_number: String,
    /// The invoice it credits, when it was issued against one.
    pub invoice_id: Option<i64>,
    pub issue_date: String,
    pub reason: String,
    pub items: Vec<InvoiceItem>,
    /// Sum of line subtotals.
    pub subtotal: Amount,
    /// Sum of line taxes.
    pub tax_total: Amount,
    /// subtotal + tax_total: the credit the note gives.
    pub total: Amount,
    /// Every allocation of the note, reversed ones included, by date.
    pub allocations: Vec<PaymentAllocation>,
    /// Money given back from the note, by date.
    pub refunds: Vec<PaymentRefund>,
    /// Allocated and not reversed.
    pub applied_amount: Amount,
    /// Given back to the customer.
    pub refunded_amount: Amount,
    /// The customer's credit left from this note, to allocate or refund.
    pub unapplied_amount: Amount,
    pub status: CreditNoteStatus,
    pub void_date: Option<String>,
    pub void_reason: Option<String>,
    pub created_at: String,
    /// The currency of every amount here: the customer's.
    pub currency: CurrencyCode,
}

impl poem_openapi::types::Example for CreditNote {
    fn example() -> Self {
        let m = |minor| Amount::new(Money::from_minor(minor), Currency::USD);
        CreditNote {
            id: 1,
            customer_id: 1,
            credit_note_number: "CN-2024-00001".into(),
            invoice_id: Some(1),
            issue_date: "2024-01-25".into(),
            reason: "Two hours billed twice".into(),
            items: vec![InvoiceItem {
                id: 1,
                description: "Consulting Services".into(),
                quantity: DecimalOut(Decimal::new(2, 0)),
                unit_price: DecimalOut(Decimal::new(15000, 2)),
                tax_rate: DecimalOut(Decimal::new(8, 2)),
                line_subtotal: m(30000),
                line_tax: m(2400),
                line_total: m(32400),
            }],
            subtotal: m(30000),
            tax_total: m(2400),
            total: m(32400),
            allocations: vec![PaymentAllocation {
                id: 3,
                invoice_id: 1,
                invoice_number: "INV-2024-001".into(),
                amount: m(32400),
                applied_date: "2024-01-25".into(),
                reversed_date: None,
            }],
            refunds: vec![],
            applied_amount: m(32400),
            refunded_amount: m(0),
            unapplied_amount: m(0),
            status: CreditNoteStatus::Applied,
            void_date: None,
            void_reason: None,
            created_at: "2024-01-25T09:00:00.000Z".into(),
            currency: CurrencyCode(Currency::USD),
        }
    }
}

impl From<store::CreditNote> for CreditNote {
    fn from(n: store::CreditNote) -> Self {
        let currency = n.currency;
        let amount = |money| Amount::new(money, currency);
        CreditNote {
            id: n.id,
            customer_id: n.customer_id,
            applied_amount: amount(n.applied()),
            status: n.status().into(),
            credit_note_number: n.credit_note_number,
            invoice_id: n.invoice_id,
            issue_date: n.issue_date,
            reason: n.reason,
            items: n
                .items
                .into_iter()
                .map(|item| item_to_api(item, currency))
                .collect(),
            subtotal: amount(n.subtotal),
            tax_total: amount(n.tax_total),
            total: amount(n.total),
            allocations: allocations_to_api(n.allocations, currency),
            refunds: refunds_to_api(n.refunds, currency),
            refunded_amount: amount(n.refunded),
            unapplied_amount: amount(n.unapplied),
            void_date: n.void_date,
            void_reason: n.void_reason,
            created_at: n.created_at,
            currency: CurrencyCode(currency),
        }
    }
}

crate::api::paging::list_answer!(CreditNoteList of CreditNote, " Credit notes matching the filters, over all pages.");
