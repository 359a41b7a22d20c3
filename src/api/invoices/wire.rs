//! The invoice as the API answers it: statuses, lines, applied payments, lists.

use poem_openapi::{Enum, Object};
use rust_decimal::Decimal;

use crate::api::types::{Amount, CurrencyCode, Date, DecimalOut};
use crate::db::invoices as store;
use crate::domain::currency::Currency;
use crate::domain::detail::shown_payments;
use crate::domain::invoice::{days_overdue, InvoiceStatus};
use crate::domain::money::Money;

crate::api::types::wire_enum!(
    Status <=> InvoiceStatus { Draft, Sent, PartiallyPaid, Paid, WrittenOff, Void }
);

/// A list filter on status; `overdue` selects sent or partially paid invoices past due with a balance open.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub(crate) enum StatusQuery {
    Draft,
    Sent,
    PartiallyPaid,
    Paid,
    WrittenOff,
    Void,
    Overdue,
}

/// The status a new invoice starts in.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub(crate) enum NewStatus {
    Draft,
    Sent,
}

#[derive(Object, Debug, Clone, serde::Serialize)]
pub(crate) struct InvoiceItem {
    pub id: i64,
    pub description: String,
    pub quantity: DecimalOut,
    pub unit_price: DecimalOut,
    /// A fraction: 0.08 is 8%.
    pub tax_rate: DecimalOut,
    /// round(quantity × unit_price, the currency's places), half away from zero.
    pub line_subtotal: Amount,
    /// round(line_subtotal × tax_rate, the currency's places), half away from zero.
    pub line_tax: Amount,
    pub line_total: Amount,
}

/// A payment applied to the invoice.
#[derive(Object, Debug, Clone, serde::Serialize)]
pub(crate) struct InvoicePayment {
    pub payment_id: i64,
    pub amount: Amount,
    pub payment_date: String,
    pub payment_method: String,
    pub reference_number: Option<String>,
}

/// A credit note applied to the invoice: how much of it, live.
#[derive(Object, Debug, Clone, serde::Serialize)]
pub(crate) struct InvoiceCreditNote {
    pub credit_note_id: i64,
    pub credit_note_number: String,
    /// What of the note is applied to this invoice.
    pub amount: Amount,
}

/// A write-off of the invoice; a reversed one (a recovered bad debt) counts no more from
/// its `reversed_date`.
#[derive(Object, Debug, Clone, serde::Serialize)]
pub(crate) struct InvoiceWriteOff {
    pub id: i64,
    pub amount: Amount,
    pub write_off_date: String,
    pub reason: String,
    pub reversed_date: Option<String>,
    pub reversal_reason: Option<String>,
}

#[derive(Object, Debug, Clone, serde::Serialize)]
#[oai(example)]
pub(crate) struct Invoice {
    pub id: i64,
    pub customer_id: i64,
    pub invoice_number: String,
    pub status: Status,
    pub issue_date: Date,
    pub due_date: Date,
    pub notes: Option<String>,
    pub items: Vec<InvoiceItem>,
    /// Sum of line subtotals.
    pub subtotal: Amount,
    /// Sum of line taxes.
    pub tax_total: Amount,
    /// subtotal + tax_total.
    pub total: Amount,
    /// Live allocations from payments.
    pub amount_paid: Amount,
    /// Live allocations from credit notes.
    pub amount_credited: Amount,
    /// Live write-offs.
    pub amount_written_off: Amount,
    /// The open amount today: total − amount_paid − amount_credited − amount_written_off
    /// (0.00 when void).
    pub balance_due: Amount,
    /// Sent or partially paid, past its due date, with a balance open.
    pub is_overdue: bool,
    pub days_overdue: i64,
    /// Payments applied to this invoice, oldest first (detail view only): the latest 100.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payments: Option<Vec<InvoicePayment>>,
    /// Present, and true, when more payments are applied than the latest 100 that
    /// `payments` lists (detail view only): `GET /v1/payments?invoice_id=` pages through
    /// them all, and `amount_paid` counts them all.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payments_truncated: Option<bool>,
    /// Credit notes applied to this invoice (detail view only).
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credit_notes: Option<Vec<InvoiceCreditNote>>,
    /// Write-offs of this invoice, reversed ones included (detail view only).
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_offs: Option<Vec<InvoiceWriteOff>>,
    pub created_at: String,
    pub updated_at: String,
    /// The currency of every amount here: the customer's when the invoice was written.
    pub currency: CurrencyCode,
}

impl poem_openapi::types::Example for Invoice {
    fn example() -> Self {
        let d =
            |s: &str| Date(chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default());
        let m = |minor| Amount::new(Money::from_minor(minor), Currency::USD);
        Invoice {
            id: 1,
            customer_id: 1,
            invoice_number: "INV-2024-001".into(),
            status: Status::PartiallyPaid,
            issue_date: d("2024-01-15"),
            due_date: d("2024-02-15"),
            notes: None,
            items: vec![InvoiceItem {
                id: 1,
                description: "Consulting Services".into(),
                quantity: DecimalOut(Decimal::new(10, 0)),
                unit_price: DecimalOut(Decimal::new(15000, 2)),
                tax_rate: DecimalOut(Decimal::new(8, 2)),
                line_subtotal: m(150000),
                line_tax: m(12000),
                line_total: m(162000),
            }],
            subtotal: m(150000),
            tax_total: m(12000),
            total: m(162000),
            amount_paid: m(50000),
            amount_credited: m(0),
            amount_written_off: m(0),
            balance_due: m(112000),
            is_overdue: false,
            days_overdue: 0,
            payments: Some(vec![InvoicePayment {
                payment_id: 1,
                amount: m(50000),
                payment_date: "2024-01-20".into(),
                payment_method: "bank_transfer".into(),
                reference_number: Some("TXN123456".into()),
            }]),
            payments_truncated: None,
            credit_notes: Some(vec![]),
            write_offs: Some(vec![]),
            created_at: "2024-01-15T09:30:00.000Z".into(),
            updated_at: "2024-01-20T10:00:00.000Z".into(),
            currency: CurrencyCode(Currency::USD),
        }
    }
}

pub(crate) fn to_api(invoice: store::Invoice, today: chrono::NaiveDate, detail: bool) -> Invoice {
    let balance = invoice.balance_due();
    let overdue_days = days_overdue(invoice.status, invoice.due_date, balance, today);
    let currency = invoice.currency;
    let amount = |money| Amount::new(money, currency);
    Invoice {
        id: invoice.id,
        customer_id: invoice.customer_id,
        invoice_number: invoice.invoice_number,
        status: invoice.status.into(),
        issue_date: Date(invoice.issue_date),
        due_date: Date(invoice.due_date),
        notes: invoice.notes,
        items: invoice
            .items
            .into_iter()
            .map(|item| item_to_api(item, currency))
            .collect(),
        subtotal: amount(invoice.subtotal),
        tax_total: amount(invoice.tax_total),
        total: amount(invoice.total),
        amount_paid: amount(invoice.settled.paid),
        amount_credited: amount(invoice.settled.credited),
        amount_written_off: amount(invoice.settled.written_off),
        balance_due: amount(balance),
        is_overdue: overdue_days > 0,
        days_overdue: overdue_days,
        payments: detail.then(|| {
            shown_payments(&invoice.payments)
                .0
                .iter()
                .map(|payment| payment_to_api(payment, currency))
                .collect()
        }),
        payments_truncated: (detail && shown_payments(&invoice.payments).1).then_some(true),
        credit_notes: detail.then(|| credit_notes_to_api(&invoice.ledger, currency)),
        write_offs: detail.then(|| write_offs_to_api(&invoice.ledger, currency)),
        created_at: invoice.created_at,
        updated_at: invoice.updated_at,
        currency: CurrencyCode(currency),
    }
}

pub(crate) fn item_to_api(item: store::InvoiceItem, currency: Currency) -> InvoiceItem {
    InvoiceItem {
        id: item.id,
        description: item.description,
        quantity: DecimalOut::plain(item.quantity),
        unit_price: DecimalOut::price(item.unit_price, currency),
        tax_rate: DecimalOut::plain(item.tax_rate),
        line_subtotal: Amount::new(item.line_subtotal, currency),
        line_tax: Amount::new(item.line_tax, currency),
        line_total: Amount::new(item.line_total, currency),
    }
}

pub(crate) fn credit_notes_to_api(
    ledger: &store::InvoiceLedger,
    currency: Currency,
) -> Vec<InvoiceCreditNote> {
    let credit = |c: &store::InvoiceCredit| InvoiceCreditNote {
        credit_note_id: c.credit_note_id,
        credit_note_number: c.credit_note_number.clone(),
        amount: Amount::new(c.amount, currency),
    };
    ledger.credit_notes.iter().map(credit).collect()
}

pub(crate) fn write_offs_to_api(
    ledger: &store::InvoiceLedger,
    currency: Currency,
) -> Vec<InvoiceWriteOff> {
    let write_off = |w: &store::WriteOff| InvoiceWriteOff {
        id: w.id,
        amount: Amount::new(w.amount, currency),
        write_off_date: w.write_off_date.clone(),
        reason: w.reason.clone(),
        reversed_date: w.reversed_date.clone(),
        reversal_reason: w.reversal_reason.clone(),
    };
    ledger.write_offs.iter().map(write_off).collect()
}

pub(super) fn payment_to_api(
    payment: &store::AppliedPayment,
    currency: Currency,
) -> InvoicePayment {
    InvoicePayment {
        payment_id: payment.payment_id,
        amount: Amount::new(payment.amount, currency),
        payment_date: payment.payment_date.clone(),
        payment_method: payment.payment_method.clone(),
        reference_number: payment.reference_number.clone(),
    }
}

crate::api::paging::list_answer!(InvoiceList of Invoice, " Invoices matching the filters, over all pages.");
