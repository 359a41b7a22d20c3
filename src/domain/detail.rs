//! An invoice's detail: its lines and the payments applied to it, and how they are written
//! as the `items` and `payments` arrays of the detail answer. Storage keeps that text beside
//! each invoice (migration V4) and reads it back verbatim, so the format is versioned: a
//! book whose copies carry another [`DETAIL_FORMAT`] has them written again when it opens.

use rust_decimal::Decimal;
use serde::Serialize;

use super::currency::Currency;
use super::money::{self, Money};

/// The version of the stored `items` and `payments` text. Change it whenever the text an
/// unchanged invoice would be written as changes (a new field, another number format).
pub const DETAIL_FORMAT: i64 = 2;

/// The most payments an invoice's detail answer lists: the latest, oldest first. An
/// invoice paid in thousands of instalments would otherwise answer (and store, and
/// journal) all of them on every payment, each payment costing more than the last.
/// `GET /v1/payments?invoice_id=` pages through them all.
pub const PAYMENTS_SHOWN: usize = 100;

/// The payments a detail answer lists, out of the latest applied (storage reads at most
/// `PAYMENTS_SHOWN + 1`, oldest first), and whether earlier ones are left out.
pub(crate) fn shown_payments(latest: &[AppliedPayment]) -> (&[AppliedPayment], bool) {
    let cut = latest.len().saturating_sub(PAYMENTS_SHOWN);
    (latest.get(cut..).unwrap_or_default(), cut > 0)
}

/// A line of an invoice, as stored.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct InvoiceItem {
    pub id: i64,
    pub description: String,
    pub quantity: Decimal,
    pub unit_price: Decimal,
    pub tax_rate: Decimal,
    pub line_subtotal: Money,
    pub line_tax: Money,
    pub line_total: Money,
}

/// A payment as applied to one invoice.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AppliedPayment {
    pub payment_id: i64,
    pub amount: Money,
    pub payment_date: String,
    pub payment_method: String,
    pub reference_number: Option<String>,
}

/// A quantity or tax rate as written out: its digits without trailing zeros (`10`, `0.08`).
pub(crate) fn plain_decimal(value: Decimal) -> Decimal {
    value.normalize()
}

/// A unit price as written out: at least its currency's places (`150.00` and `0.335` in
/// USD, `150` in JPY).
pub(crate) fn price_decimal(value: Decimal, currency: Currency) -> Decimal {
    let mut value = value.normalize();
    if value.scale() < currency.exponent() {
        value.rescale(currency.exponent());
    }
    value
}

/// The `items` array of an invoice's detail answer.
pub(crate) fn items_json(items: &[InvoiceItem], currency: Currency) -> String {
    let view: Vec<ItemView> = items
        .iter()
        .map(|item| ItemView {
            id: item.id,
            description: &item.description,
            quantity: Shown(plain_decimal(item.quantity)),
            unit_price: Shown(price_decimal(item.unit_price, currency)),
            tax_rate: Shown(plain_decimal(item.tax_rate)),
            line_subtotal: Shown(item.line_subtotal.shown(currency)),
            line_tax: Shown(item.line_tax.shown(currency)),
            line_total: Shown(item.line_total.shown(currency)),
        })
        .collect();
    json_text(&view)
}

/// The `payments` member's value in an invoice's detail answer, out of the latest applied
/// (see [`shown_payments`]); when earlier ones are left out, followed by the member that
/// says so (`,"payments_truncated":true`), so the stored text is what follows
/// `"payments":` in the answer.
pub(crate) fn payments_json(latest: &[AppliedPayment], currency: Currency) -> String {
    let (payments, truncated) = shown_payments(latest);
    let view: Vec<PaymentView> = payments
        .iter()
        .map(|payment| PaymentView {
            payment_id: payment.payment_id,
            amount: Shown(payment.amount.shown(currency)),
            payment_date: &payment.payment_date,
            payment_method: &payment.payment_method,
            reference_number: payment.reference_number.as_deref(),
        })
        .collect();
    let mut text = json_text(&view);
    if truncated {
        text.push_str(",\"payments_truncated\":true");
    }
    text
}

fn json_text<T: Serialize>(value: &T) -> String {
    // Serializing plain structs of strings and numbers cannot fail.
    serde_json::to_string(value).unwrap_or_default()
}

#[derive(Serialize)]
struct ItemView<'a> {
    id: i64,
    description: &'a str,
    quantity: Shown<Decimal>,
    unit_price: Shown<Decimal>,
    tax_rate: Shown<Decimal>,
    line_subtotal: Shown<money::Shown>,
    line_tax: Shown<money::Shown>,
    line_total: Shown<money::Shown>,
}

#[derive(Serialize)]
struct PaymentView<'a> {
    payment_id: i64,
    amount: Shown<money::Shown>,
    payment_date: &'a str,
    payment_method: &'a str,
    reference_number: Option<&'a str>,
}

/// A value written as the JSON string of its `Display` form (`"150.00"`).
struct Shown<T>(T);

impl<T: std::fmt::Display> Serialize for Shown<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        super::display::serialize_display(&self.0, serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_payments_are_written_as_the_detail_answer_shows_them() {
        let item = InvoiceItem {
            id: 7,
            description: "Consulting \"A\"".into(),
            quantity: Decimal::new(1000, 2),
            unit_price: Decimal::new(150, 0),
            tax_rate: Decimal::new(800, 4),
            line_subtotal: Money::from_minor(150_000),
            line_tax: Money::from_minor(12_000),
            line_total: Money::from_minor(162_000),
        };
        assert_eq!(
            items_json(&[item], Currency::USD),
            r#"[{"id":7,"description":"Consulting \"A\"","quantity":"10","unit_price":"150.00","tax_rate":"0.08","line_subtotal":"1500.00","line_tax":"120.00","line_total":"1620.00"}]"#
        );
        let payment = AppliedPayment {
            payment_id: 3,
            amount: Money::from_minor(50_000),
            payment_date: "2024-01-20".into(),
            payment_method: "bank_transfer".into(),
            reference_number: None,
        };
        assert_eq!(
            payments_json(&[payment], Currency::USD),
            r#"[{"payment_id":3,"amount":"500.00","payment_date":"2024-01-20","payment_method":"bank_transfer","reference_number":null}]"#
        );
        let usd = Currency::USD;
        assert_eq!(
            price_decimal(Decimal::new(3350, 4), usd).to_string(),
            "0.335"
        );
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(
            price_decimal(Decimal::new(15000, 2), jpy).to_string(),
            "150"
        );
    }

    #[test]
    fn only_the_latest_payments_are_listed_and_the_cut_is_said() {
        let paid = |n: i64| AppliedPayment {
            payment_id: n,
            amount: Money::from_minor(1),
            payment_date: "2026-12-01".into(),
            payment_method: "cash".into(),
            reference_number: None,
        };
        let all: Vec<AppliedPayment> = (1..=PAYMENTS_SHOWN as i64).map(paid).collect();
        assert_eq!(shown_payments(&all), (&all[..], false));
        assert!(payments_json(&all, Currency::USD).ends_with("null}]"));
        let one_more: Vec<AppliedPayment> = (0..=PAYMENTS_SHOWN as i64).map(paid).collect();
        let (shown, truncated) = shown_payments(&one_more);
        assert!(truncated);
        assert_eq!(shown.len(), PAYMENTS_SHOWN);
        assert_eq!((shown[0].payment_id, shown[99].payment_id), (1, 100));
        let text = payments_json(&one_more, Currency::USD);
        assert!(text.starts_with(r#"[{"payment_id":1,"#), "{text}");
        assert!(
            text.ends_with(r#"null}],"payments_truncated":true"#),
            "{text}"
        );
        assert_eq!(shown_payments(&[]), (&[][..], false));
    }
}
