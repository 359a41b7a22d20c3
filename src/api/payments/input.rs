//! A new payment and a later use of its credit, as the API takes them, and the checks that
//! name every bad field (an allocation's as `allocations[2].amount`).

use std::collections::HashSet;

use poem_openapi::{Enum, Object};

use super::wire::Method;
use crate::api::types::{
    check_positive, event_date, stated_currency, AmountIn, CurrencyCode, Date, DatedReason, Input,
    Opt, Received, Text,
};
use crate::db::payments::NewRefund;
use rust_decimal::Decimal;

use crate::domain::currency::Currency;
use crate::domain::money::GivenAmount;
use crate::domain::payment::{Application, NewPayment, PaymentMethod};
use crate::error::{AppError, FieldErrorsBuilder};

/// The most invoices one payment or one use of its credit is split over.
const MAX_ALLOCATIONS: usize = 100;

/// An amount of the payment for one invoice.
#[derive(Object, Debug, Clone, Default)]
pub(crate) struct AllocationIn {
    /// An invoice of the payment's customer, sent or partially paid.
    pub invoice_id: Input<i64>,
    /// More than 0, with at most as many decimals as the currency has, at most what the invoice has open on the date.
    pub amount: Input<AmountIn>,
}

/// How to choose the invoices.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub(crate) enum AllocateMode {
    /// The customer's open invoices by due date, then issue date, then id.
    OldestFirst,
}

/// A payment from a customer. Give at most one of `invoice_id` (the whole amount to that
/// invoice, never more than its balance), `allocations` (split as listed) and `allocate`
/// (`oldest_first`); what is not applied (all of it, with none of them) is the customer's
/// unapplied credit.
#[derive(Object, Debug, Clone, Default)]
#[oai(example)]
pub(crate) struct PaymentCreate {
    pub customer_id: Input<i64>,
    /// An invoice of that customer, sent or partially paid, to receive the whole amount.
    pub invoice_id: Opt<i64>,
    /// More than 0, with at most as many decimals as the customer's currency has; with `invoice_id`, at most the invoice's balance_due.
    pub amount: Input<AmountIn>,
    pub payment_method: Input<Method>,
    /// Default today; not in the future, not before the issue_date of an invoice it pays.
    pub payment_date: Opt<Date>,
    /// Up to 100 characters.
    pub reference_number: Opt<Text<1, 100>>,
    /// Up to 5000 characters.
    pub notes: Opt<Text<0, 5000, true>>,
    /// 1–100 distinct invoices of the customer and what each receives, together at most
    /// the amount; the rest is unapplied credit.
    pub allocations: Opt<Vec<AllocationIn>>,
    /// `oldest_first`: the amount goes to the customer's open invoices by due date; the rest
    /// is unapplied credit.
    pub allocate: Opt<AllocateMode>,
    /// Optional: the ISO 4217 currency you mean the amounts in. It must be the customer's
    /// (a 400 naming `currency` otherwise; a 409 if the customer's changed meanwhile), so
    /// amounts are never read in a currency you did not expect.
    pub currency: Opt<CurrencyCode>,
}

impl poem_openapi::types::Example for PaymentCreate {
    fn example() -> Self {
        PaymentCreate {
            customer_id: Input::Value(1),
            invoice_id: Input::Value(1),
            amount: Input::Value(AmountIn(GivenAmount(Decimal::new(50000, 2)))),
            payment_method: Input::Value(Method::BankTransfer),
            payment_date: Input::Value(Date(
                chrono::NaiveDate::from_ymd_opt(2024, 1, 20).unwrap_or_default(),
            )),
            reference_number: Input::Value("TXN123456".into()),
            ..PaymentCreate::default()
        }
    }
}

/// Applying a payment's or credit note's unapplied credit later: `allocations` or
/// `allocate`, one of them.
#[derive(Object, Debug, Clone, Default)]
#[oai(example)]
pub(crate) struct CreditAllocation {
    /// 1–100 distinct invoices of the customer and what each receives, together at most
    /// the unapplied credit on `applied_date`.
    pub allocations: Opt<Vec<AllocationIn>>,
    /// `oldest_first`: as much of the credit as the customer's open invoices take.
    pub allocate: Opt<AllocateMode>,
    /// Default today; not before the payment's (or credit note's) date, not in the future.
    pub applied_date: Opt<Date>,
}

impl poem_openapi::types::Example for CreditAllocation {
    fn example() -> Self {
        CreditAllocation {
            allocations: Input::Value(vec![AllocationIn {
                invoice_id: Input::Value(2),
                amount: Input::Value(AmountIn(GivenAmount(Decimal::new(12_000, 2)))),
            }]),
            applied_date: Input::Value(Date(
                chrono::NaiveDate::from_ymd_opt(2024, 2, 1).unwrap_or_default(),
            )),
            ..CreditAllocation::default()
        }
    }
}

/// The method money moved by, naming the choices when it is not one of them.
fn payment_method(input: Input<Method>, errors: &mut FieldErrorsBuilder) -> Option<Method> {
    match input {
        Input::Invalid(_) => {
            errors.add(
                "payment_method",
                format!("must be one of: {}", PaymentMethod::names()),
            );
            None
        }
        other => other.required("payment_method", errors),
    }
}

/// A required amount above zero.
fn positive_amount(
    input: Input<AmountIn>,
    currency: Currency,
    errors: &mut FieldErrorsBuilder,
) -> Option<GivenAmount> {
    let amount = input.required("amount", errors).map(|a| a.0);
    if let Some(amount) = amount {
        check_positive(errors, "amount", amount, currency);
    }
    amount
}

/// Each listed allocation checked: 1–100 of them, distinct invoices, amounts above 0.
fn check_allocations(
    list: Vec<AllocationIn>,
    currency: Currency,
    errors: &mut FieldErrorsBuilder,
) -> Vec<(i64, GivenAmount)> {
    if list.is_empty() || list.len() > MAX_ALLOCATIONS {
        errors.add(
            "allocations",
            format!(
                "must list 1 to {MAX_ALLOCATIONS} invoices (got {})",
                list.len()
            ),
        );
        return Vec::new();
    }
    let mut seen = HashSet::new();
    let mut checked = Vec::with_capacity(list.len());
    for (index, item) in list.into_iter().enumerate() {
        let invoice_field = format!("allocations[{index}].invoice_id");
        let amount_field = format!("allocations[{index}].amount");
        let invoice = item.invoice_id.required(&invoice_field, errors);
        let amount = item.amount.required(&amount_field, errors).map(|a| a.0);
        if let Some(id) = invoice {
            if !seen.insert(id) {
                errors.add(
                    &invoice_field,
                    format!("invoice {id} is listed twice; give each invoice once with its whole amount"),
                );
            }
        }
        if let Some(amount) = amount {
            check_positive(errors, &amount_field, amount, currency);
        }
        if let (Some(id), Some(amount)) = (invoice, amount) {
            checked.push((id, amount));
        }
    }
    checked
}

/// The one way money is applied, from the fields that say it; naming the extra ones.
fn application(
    invoice_id: Option<i64>,
    allocations: Option<Vec<AllocationIn>>,
    allocate: Option<AllocateMode>,
    (currency, errors): (Currency, &mut FieldErrorsBuilder),
) -> Application {
    let given: Vec<&str> = [
        ("invoice_id", invoice_id.is_some()),
        ("allocations", allocations.is_some()),
        ("allocate", allocate.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, present)| present.then_some(name))
    .collect();
    if let [_, extra @ ..] = given.as_slice() {
        for name in extra {
            errors.add(
                *name,
                format!(
                    "give only one of {}: they each say where the money goes",
                    given.join(", ")
                ),
            );
        }
    }
    match (invoice_id, allocations, allocate) {
        (Some(id), _, _) => Application::Invoice(id),
        (None, Some(list), _) => {
            Application::Allocations(check_allocations(list, currency, errors))
        }
        (None, None, Some(AllocateMode::OldestFirst)) => Application::OldestFirst,
        (None, None, None) => Application::OnAccount,
    }
}

impl TryFrom<Received<PaymentCreate>> for NewPayment {
    type Error = AppError;

    fn try_from(received: Received<PaymentCreate>) -> Result<Self, AppError> {
        let (body, today, currency, mut errors) = received.into_parts();
        let customer_id = body.customer_id.required("customer_id", &mut errors);
        let invoice_id = body.invoice_id.optional("invoice_id", &mut errors);
        let amount = positive_amount(body.amount, currency, &mut errors);
        let method = payment_method(body.payment_method, &mut errors);
        let payment_date = body.payment_date.optional("payment_date", &mut errors);
        let reference_number = body
            .reference_number
            .text()
            .optional("reference_number", &mut errors);
        let notes = body.notes.text().optional("notes", &mut errors);
        let allocations = body.allocations.optional("allocations", &mut errors);
        let allocate = body.allocate.optional("allocate", &mut errors);
        let application = application(invoice_id, allocations, allocate, (currency, &mut errors));
        let stated = stated_currency(body.currency, currency, &mut errors);
        errors.finish()?;
        Ok(NewPayment {
            customer_id: customer_id.unwrap_or_default(),
            application,
            amount: amount.unwrap_or_default(),
            payment_method: method
                .map(PaymentMethod::from)
                .unwrap_or(PaymentMethod::Other),
            payment_date: payment_date.map(|d| d.0).unwrap_or(today),
            reference_number,
            notes,
            currency: stated,
        })
    }
}

/// A later use of credit as the rules take it: how, and on which date.
impl TryFrom<Received<CreditAllocation>> for (Application, chrono::NaiveDate) {
    type Error = AppError;

    fn try_from(received: Received<CreditAllocation>) -> Result<Self, AppError> {
        let (body, today, currency, mut errors) = received.into_parts();
        let allocations = body.allocations.optional("allocations", &mut errors);
        let allocate = body.allocate.optional("allocate", &mut errors);
        let date = body.applied_date.optional("applied_date", &mut errors);
        if allocations.is_none() && allocate.is_none() && !errors.has("allocations") {
            errors.add(
                "allocations",
                "give allocations, or allocate: \"oldest_first\"",
            );
        }
        let application = application(None, allocations, allocate, (currency, &mut errors));
        let date = event_date("applied_date", date, today, errors)?;
        Ok((application, date))
    }
}

/// Voiding a payment (a bounced check, a payment keyed twice) or a credit note as of a date.
#[derive(Object, Debug, Clone, Default)]
#[oai(example)]
pub(crate) struct PaymentVoid {
    /// The day it stopped counting; not before its own date or any of its allocations,
    /// not in the future. For a payment keyed twice, its own date.
    pub void_date: Input<Date>,
    /// 1–500 characters: why, for whoever reads the books later.
    pub reason: Input<Text<1, 500>>,
}

impl poem_openapi::types::Example for PaymentVoid {
    fn example() -> Self {
        PaymentVoid {
            void_date: Input::Value(Date(
                chrono::NaiveDate::from_ymd_opt(2024, 2, 3).unwrap_or_default(),
            )),
            reason: Input::Value("Check returned unpaid by the bank".into()),
        }
    }
}

impl DatedReason for PaymentVoid {
    const DATE_FIELD: &'static str = "void_date";

    fn into_date_and_reason(self) -> (Input<Date>, Input<Text<1, 500>>) {
        (self.void_date, self.reason)
    }
}

/// Money given back from a payment's or credit note's unapplied credit.
#[derive(Object, Debug, Clone, Default)]
#[oai(example)]
pub(crate) struct RefundCreate {
    /// More than 0, with at most as many decimals as the currency has, at most the unapplied credit on refund_date.
    pub amount: Input<AmountIn>,
    /// Default today; not before the payment (or credit note), not in the future.
    pub refund_date: Opt<Date>,
    pub payment_method: Input<Method>,
    /// Up to 100 characters.
    pub reference_number: Opt<Text<1, 100>>,
    /// Up to 500 characters.
    pub reason: Opt<Text<0, 500>>,
}

impl poem_openapi::types::Example for RefundCreate {
    fn example() -> Self {
        RefundCreate {
            amount: Input::Value(AmountIn(GivenAmount(Decimal::new(2_000, 2)))),
            refund_date: Input::Value(Date(
                chrono::NaiveDate::from_ymd_opt(2024, 2, 5).unwrap_or_default(),
            )),
            payment_method: Input::Value(Method::BankTransfer),
            reference_number: Input::Value("RFD-001".into()),
            reason: Input::Value("Overpayment returned".into()),
        }
    }
}

impl TryFrom<Received<RefundCreate>> for NewRefund {
    type Error = AppError;

    fn try_from(received: Received<RefundCreate>) -> Result<Self, AppError> {
        let (body, today, currency, mut errors) = received.into_parts();
        let amount = positive_amount(body.amount, currency, &mut errors);
        let method = payment_method(body.payment_method, &mut errors);
        let date = body.refund_date.optional("refund_date", &mut errors);
        let reference_number = body
            .reference_number
            .text()
            .optional("reference_number", &mut errors);
        let reason = body.reason.text().optional("reason", &mut errors);
        let refund_date = event_date("refund_date", date, today, errors)?;
        Ok(NewRefund {
            amount: amount.unwrap_or_default(),
            refund_date,
            payment_method: method.map_or(PaymentMethod::Other, PaymentMethod::from),
            reference_number,
            reason,
        })
    }
}
