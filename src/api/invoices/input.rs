//! A new invoice as the API takes it, and the checks that name every bad field.

use poem_openapi::Object;
use rust_decimal::Decimal;

use crate::api::types::Received;
use crate::api::types::Text;
use crate::api::types::{stated_currency, CurrencyCode, Date, DecimalIn, Input, Opt};
use crate::domain::currency::Currency;
use crate::domain::invoice::{check_due_after_issue, NewInvoice};
use crate::domain::invoice::{
    invoice_totals, line_amounts, InvoiceStatus, LineInput, MAX_ITEMS, MAX_QUANTITY,
    MAX_QUANTITY_DECIMALS, MAX_TAX_RATE_DECIMALS,
};
use crate::domain::invoice_changes::InvoiceChanges;
use crate::domain::money::Money;
use crate::error::{AppError, FieldErrorsBuilder};

use super::wire::NewStatus;

#[derive(Object, Debug, Clone, Default)]
pub(crate) struct InvoiceItemCreate {
    /// 1–500 characters.
    pub description: Input<Text<1, 500>>,
    /// More than 0, at most 4 decimals.
    pub quantity: Input<DecimalIn>,
    /// 0 or more, at most 4 decimals.
    pub unit_price: Input<DecimalIn>,
    /// A fraction from 0 to 1 (0.08 is 8%, 0.08875 is 8.875%), at most 6 decimals; default 0.
    pub tax_rate: Opt<DecimalIn>,
}

/// A new invoice.
#[derive(Object, Debug, Clone, Default)]
#[oai(example)]
pub(crate) struct InvoiceCreate {
    /// One of your customers.
    pub customer_id: Input<i64>,
    /// 1–50 characters, unique in your organization; generated as `INV-YYYY-00001`… when absent.
    pub invoice_number: Opt<Text<1, 50>>,
    /// Default today.
    pub issue_date: Opt<Date>,
    /// Default issue_date plus the customer's payment_terms_days; not before issue_date.
    pub due_date: Opt<Date>,
    /// `sent` (default) or `draft`.
    pub status: Opt<NewStatus>,
    /// Up to 5000 characters.
    pub notes: Opt<Text<0, 5000, true>>,
    /// 1–500 lines.
    pub items: Input<Vec<InvoiceItemCreate>>,
    /// Optional: the ISO 4217 currency you mean the amounts in. It must be the customer's
    /// (a 400 naming `currency` otherwise; a 409 if the customer's changed meanwhile), so
    /// amounts are never read in a currency you did not expect.
    pub currency: Opt<CurrencyCode>,
}

impl poem_openapi::types::Example for InvoiceCreate {
    fn example() -> Self {
        let d =
            |s: &str| Date(chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default());
        InvoiceCreate {
            customer_id: Input::Value(1),
            invoice_number: Input::Value("INV-2024-001".into()),
            issue_date: Input::Value(d("2024-01-15")),
            due_date: Input::Value(d("2024-02-15")),
            status: Input::Absent,
            notes: Input::Absent,
            items: Input::Value(vec![InvoiceItemCreate {
                description: Input::Value("Consulting Services".into()),
                quantity: Input::Value(DecimalIn(Decimal::new(10, 0))),
                unit_price: Input::Value(DecimalIn(Decimal::new(15000, 2))),
                tax_rate: Input::Value(DecimalIn(Decimal::new(8, 2))),
            }]),
            currency: Input::Absent,
        }
    }
}

fn check_decimals(
    errors: &mut FieldErrorsBuilder,
    field: &str,
    value: Decimal,
    places: u32,
) -> bool {
    if value.normalize().scale() > places {
        errors.add(
            field,
            format!("must have at most {places} decimal places (got {value})"),
        );
        return false;
    }
    true
}

fn check_line(
    item: InvoiceItemCreate,
    index: usize,
    errors: &mut FieldErrorsBuilder,
) -> Option<LineInput> {
    let field = |name: &str| format!("items[{index}].{name}");
    let description = item
        .description
        .text()
        .required(&field("description"), errors);
    let quantity = item
        .quantity
        .required(&field("quantity"), errors)
        .map(|d| d.0);
    if let Some(q) = quantity {
        if q <= Decimal::ZERO {
            errors.add(field("quantity"), format!("must be more than 0 (got {q})"));
        }
        if q > MAX_QUANTITY {
            errors.add(
                field("quantity"),
                format!("must be at most {MAX_QUANTITY} (got {q})"),
            );
        }
        check_decimals(errors, &field("quantity"), q, MAX_QUANTITY_DECIMALS);
    }
    let unit_price = item
        .unit_price
        .required(&field("unit_price"), errors)
        .map(|d| d.0);
    if let Some(p) = unit_price {
        if p < Decimal::ZERO {
            errors.add(field("unit_price"), format!("must be 0 or more (got {p})"));
        }
        let largest = Money::from_minor(crate::domain::money::MAX_MINOR).to_decimal(Currency::USD);
        if p > largest {
            errors.add(field("unit_price"), "must not exceed 999999999999.99");
        }
        check_decimals(errors, &field("unit_price"), p, MAX_QUANTITY_DECIMALS);
    }
    let tax_rate = item
        .tax_rate
        .optional(&field("tax_rate"), errors)
        .map(|d| d.0)
        .unwrap_or(Decimal::ZERO);
    if tax_rate < Decimal::ZERO || tax_rate > Decimal::ONE {
        errors.add(
            field("tax_rate"),
            format!("must be a fraction from 0 to 1 (got {tax_rate}): for 8% send 0.08"),
        );
    }
    check_decimals(errors, &field("tax_rate"), tax_rate, MAX_TAX_RATE_DECIMALS);
    Some(LineInput {
        description: description?.trim().to_string(),
        quantity: quantity?,
        unit_price: unit_price?,
        tax_rate,
    })
}

/// 1 to 500 lines, each checked; bad ones are named in `errors`. They are priced in the
/// customer's currency by the write (`domain::invoice::price_lines`). `document` names
/// what the lines make up (`invoice`, `credit note`) in a message about their total.
pub(crate) fn check_items(
    items: Vec<InvoiceItemCreate>,
    (currency, document): (Currency, &str),
    errors: &mut FieldErrorsBuilder,
) -> Vec<LineInput> {
    if items.is_empty() {
        errors.add("items", "must hold at least one line");
        return Vec::new();
    }
    if items.len() > MAX_ITEMS {
        errors.add(
            "items",
            format!("must hold at most {MAX_ITEMS} lines (got {})", items.len()),
        );
        return Vec::new();
    }
    let mut lines = Vec::with_capacity(items.len());
    let mut amounts = Vec::with_capacity(items.len());
    let count = items.len();
    for (index, item) in items.into_iter().enumerate() {
        if let Some(line) = check_line(item, index, errors) {
            let priced = (line.quantity, line.unit_price, line.tax_rate);
            match line_amounts(priced, currency) {
                Ok(priced) => amounts.push(priced),
                Err(err) => errors.add(format!("items[{index}]"), format!("line amount {err}")),
            }
            lines.push(line);
        }
    }
    // Lines that each fit can still sum past what an amount can hold: a fault of the body
    // alone, so it is answered with the body's other faults (before an `If-Match` is checked).
    if amounts.len() == count {
        if let Err(err) = invoice_totals(&amounts, currency) {
            errors.add("items", format!("{document} total {err}"));
        }
    }
    lines
}

/// Checks the whole body, naming every bad field, and computes each line's amounts.
impl TryFrom<Received<InvoiceCreate>> for NewInvoice {
    type Error = AppError;

    fn try_from(received: Received<InvoiceCreate>) -> Result<Self, AppError> {
        let (body, today, currency, mut errors) = received.into_parts();
        let customer_id = body.customer_id.required("customer_id", &mut errors);
        let invoice_number = body
            .invoice_number
            .text()
            .optional("invoice_number", &mut errors);
        let issue_date = body.issue_date.optional("issue_date", &mut errors);
        let due_date = body.due_date.optional("due_date", &mut errors);
        let status = match body.status {
            Input::Invalid(_) => {
                errors.add(
                    "status",
                    "must be 'draft' or 'sent' (payments set the other statuses)",
                );
                None
            }
            other => other.optional("status", &mut errors),
        };
        let notes = body.notes.text().optional("notes", &mut errors);
        let lines = match body.items.required("items", &mut errors) {
            Some(items) => check_items(items, (currency, "invoice"), &mut errors),
            None => Vec::new(),
        };
        if let (Some(Date(issue)), Some(Date(due))) = (issue_date, due_date) {
            if let Err(message) = check_due_after_issue(issue, due) {
                errors.add("due_date", message);
            }
        }
        let stated = stated_currency(body.currency, currency, &mut errors);
        errors.finish()?;
        Ok(NewInvoice {
            customer_id: customer_id.unwrap_or_default(),
            invoice_number: invoice_number.map(|n| n.trim().to_string()),
            issue_date: issue_date.map(|d| d.0).unwrap_or(today),
            due_date: due_date.map(|d| d.0),
            status: match status {
                Some(NewStatus::Draft) => InvoiceStatus::Draft,
                _ => InvoiceStatus::Sent,
            },
            notes,
            lines,
            currency: stated,
        })
    }
}

/// A partial update: fields left out keep their value, and `notes: null` clears the notes.
/// A draft may change every field; a sent invoice that nothing is applied to only `notes`
/// and `due_date`.
#[derive(Object, Debug, Clone, Default)]
#[oai(example)]
pub(crate) struct InvoiceUpdate {
    /// Another of your customers (drafts only).
    pub customer_id: Opt<i64>,
    /// 1–50 characters, unique in your organization (drafts only).
    pub invoice_number: Opt<Text<1, 50>>,
    /// Drafts only. Without a `due_date`, the due date is derived again from the customer's payment terms, as at creation.
    pub issue_date: Opt<Date>,
    /// Not before issue_date.
    pub due_date: Opt<Date>,
    /// Up to 5000 characters; null clears them.
    pub notes: Opt<Text<0, 5000, true>>,
    /// 1–500 lines, replacing every line (drafts only); totals follow the rounding rule.
    pub items: Opt<Vec<InvoiceItemCreate>>,
}

impl poem_openapi::types::Example for InvoiceUpdate {
    fn example() -> Self {
        InvoiceUpdate {
            notes: Input::Value("Net 45, as agreed on the phone.".into()),
            items: Input::Value(vec![InvoiceItemCreate {
                description: Input::Value("Consulting Services".into()),
                quantity: Input::Value(DecimalIn(Decimal::new(12, 0))),
                unit_price: Input::Value(DecimalIn(Decimal::new(15000, 2))),
                tax_rate: Input::Value(DecimalIn(Decimal::new(8, 2))),
            }]),
            ..InvoiceUpdate::default()
        }
    }
}

/// A field that may be left out but, if sent, not as null.
fn not_null<T>(input: Opt<T>, field: &str, errors: &mut FieldErrorsBuilder) -> Option<T> {
    match input.patch(field, errors) {
        Some(Some(value)) => Some(value),
        Some(None) => {
            errors.add(
                field,
                "must not be null; leave the field out to keep its value",
            );
            None
        }
        None => None,
    }
}

/// Checks every field given, naming each bad one.
impl TryFrom<Received<InvoiceUpdate>> for InvoiceChanges {
    type Error = AppError;

    fn try_from(received: Received<InvoiceUpdate>) -> Result<Self, AppError> {
        let (body, _, currency, mut errors) = received.into_parts();
        let customer_id = not_null(body.customer_id, "customer_id", &mut errors);
        let invoice_number = not_null(body.invoice_number, "invoice_number", &mut errors);
        let issue_date = not_null(body.issue_date, "issue_date", &mut errors).map(|d| d.0);
        let due_date = not_null(body.due_date, "due_date", &mut errors).map(|d| d.0);
        let notes = body.notes.patch("notes", &mut errors);
        let lines = not_null(body.items, "items", &mut errors)
            .map(|items| check_items(items, (currency, "invoice"), &mut errors));
        if let (Some(issue), Some(due)) = (issue_date, due_date) {
            if let Err(message) = check_due_after_issue(issue, due) {
                errors.add("due_date", message);
            }
        }
        errors.finish()?;
        Ok(InvoiceChanges {
            customer_id,
            invoice_number: invoice_number.map(|n| n.0.trim().to_string()),
            issue_date,
            due_date,
            notes: notes.map(|n| n.map(|text| text.0)),
            lines,
        })
    }
}
