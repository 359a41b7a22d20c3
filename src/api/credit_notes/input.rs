//! A new credit note as the API takes it, and the checks that name every bad field.

use poem_openapi::Object;
use rust_decimal::Decimal;

use crate::api::invoices::{check_items, InvoiceItemCreate};
use crate::api::types::{
    stated_currency, CurrencyCode, Date, DecimalIn, Input, Opt, Received, Text,
};
use crate::domain::credit_note::NewCreditNote;
use crate::error::AppError;

/// A new credit note: lines like an invoice's, by the same rounding rule, and why.
#[derive(Object, Debug, Clone, Default)]
#[oai(example)]
pub(crate) struct CreditNoteCreate {
    /// One of your customers.
    pub customer_id: Input<i64>,
    /// 1–50 characters, unique in your organization; generated as `CN-YYYY-00001`… when absent.
    pub credit_note_number: Opt<Text<1, 50>>,
    /// Default today; not in the future, not before the issue_date of the invoice it credits.
    pub issue_date: Opt<Date>,
    /// An invoice of that customer to credit: the note is applied to it at once, up to
    /// what it has open; the rest is the customer's credit. Across its credit notes an
    /// invoice is never credited beyond its total.
    pub invoice_id: Opt<i64>,
    /// 1–500 characters: why (goods returned, a price corrected).
    pub reason: Input<Text<1, 500>>,
    /// 1–500 lines; totals follow the invoice rounding rule and must be more than 0.
    pub items: Input<Vec<InvoiceItemCreate>>,
    /// Optional: the ISO 4217 currency you mean the amounts in. It must be the customer's
    /// (a 400 naming `currency` otherwise; a 409 if the customer's changed meanwhile), so
    /// amounts are never read in a currency you did not expect.
    pub currency: Opt<CurrencyCode>,
}

impl poem_openapi::types::Example for CreditNoteCreate {
    fn example() -> Self {
        CreditNoteCreate {
            customer_id: Input::Value(1),
            credit_note_number: Input::Absent,
            issue_date: Input::Value(Date(
                chrono::NaiveDate::from_ymd_opt(2024, 1, 25).unwrap_or_default(),
            )),
            invoice_id: Input::Value(1),
            reason: Input::Value("Two hours billed twice".into()),
            items: Input::Value(vec![InvoiceItemCreate {
                description: Input::Value("Consulting Services".into()),
                quantity: Input::Value(DecimalIn(Decimal::new(2, 0))),
                unit_price: Input::Value(DecimalIn(Decimal::new(15000, 2))),
                tax_rate: Input::Value(DecimalIn(Decimal::new(8, 2))),
            }]),
            currency: Input::Absent,
        }
    }
}

/// Checks the whole body, naming every bad field, and computes each line's amounts.
impl TryFrom<Received<CreditNoteCreate>> for NewCreditNote {
    type Error = AppError;

    fn try_from(received: Received<CreditNoteCreate>) -> Result<Self, AppError> {
        let (body, today, currency, mut errors) = received.into_parts();
        let customer_id = body.customer_id.required("customer_id", &mut errors);
        let number = body
            .credit_note_number
            .text()
            .optional("credit_note_number", &mut errors);
        let issue_date = body.issue_date.optional("issue_date", &mut errors);
        let invoice_id = body.invoice_id.optional("invoice_id", &mut errors);
        let reason = body.reason.text().required("reason", &mut errors);
        let lines = match body.items.required("items", &mut errors) {
            Some(items) => check_items(items, (currency, "credit note"), &mut errors),
            None => Vec::new(),
        };
        let stated = stated_currency(body.currency, currency, &mut errors);
        errors.finish()?;
        Ok(NewCreditNote {
            customer_id: customer_id.unwrap_or_default(),
            credit_note_number: number.map(|n| n.trim().to_string()),
            issue_date: issue_date.map_or(today, |d| d.0),
            invoice_id,
            reason: reason.unwrap_or_default().trim().to_string(),
            lines,
            currency: stated,
        })
    }
}
