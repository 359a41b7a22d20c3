//! The invoice PDF: the JSON answer's own figures put on a sheet, with the organization and
//! the customer as they are today.

use rust_decimal::Decimal;

use super::wire::{Invoice, Status};
use crate::api::types::Amount;
use crate::db::customers::Customer;
use crate::db::organization::Organization;
use crate::documents::invoice::{InvoiceSheet, Party, SheetLine};
use crate::domain::money::Money;
use crate::domain::statement::method_words;

/// A status as a person reads it.
pub(crate) fn status_words(status: Status) -> &'static str {
    match status {
        Status::Draft => "Draft",
        Status::Sent => "Sent",
        Status::PartiallyPaid => "Partially paid",
        Status::Paid => "Paid",
        Status::WrittenOff => "Written off",
        Status::Void => "Void",
    }
}

/// A tax rate given as a fraction (`0.08`) written as a percentage (`8%`).
fn percent(rate: Decimal) -> String {
    format!("{}%", (rate * Decimal::ONE_HUNDRED).normalize())
}

/// The organization as it appears at the top of its documents.
pub(crate) fn seller(org: &Organization) -> Party {
    let f = &org.fields;
    let mut lines: Vec<String> = f.legal_name.iter().cloned().collect();
    lines.extend(f.address.iter().flat_map(|a| a.lines().map(str::to_owned)));
    lines.extend(f.tax_id.iter().map(|id| format!("Tax ID: {id}")));
    let contact: Vec<&str> = [&f.email, &f.phone]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect();
    if !contact.is_empty() {
        lines.push(contact.join(" · "));
    }
    Party {
        name: f.name.clone(),
        lines,
    }
}

/// The customer as it appears under "Bill to".
pub(crate) fn buyer(customer: &Customer) -> Party {
    let mut lines = vec![format!("Customer {}", customer.customer_code)];
    let address = customer.billing_address.iter();
    lines.extend(address.flat_map(|a| a.lines().map(str::to_owned)));
    lines.extend(customer.email.iter().cloned());
    Party {
        name: customer.name.clone(),
        lines,
    }
}

/// Everything the invoice PDF prints, from the invoice's detail answer.
pub(crate) fn invoice_sheet(
    invoice: &Invoice,
    org: &Organization,
    customer: &Customer,
) -> InvoiceSheet {
    let less = |amount: &Amount| format!("-{}", amount.json_text());
    let mut facts = vec![
        ("Issue date".to_owned(), invoice.issue_date.0.to_string()),
        ("Due date".to_owned(), invoice.due_date.0.to_string()),
        ("Status".to_owned(), status_words(invoice.status).to_owned()),
    ];
    if invoice.is_overdue {
        let days = invoice.days_overdue;
        facts.push((
            "Overdue".to_owned(),
            format!("{days} day{}", if days == 1 { "" } else { "s" }),
        ));
    }
    facts.push(("Currency".to_owned(), invoice.currency.0.to_string()));
    let mut applied = Vec::new();
    if invoice.payments_truncated == Some(true) {
        // The detail lists the latest payments only; the earlier ones count as one line.
        let listed = invoice.payments.iter().flatten();
        let listed: i64 = listed.map(|p| p.amount.money.minor()).sum();
        let earlier = Money::from_minor(invoice.amount_paid.money.minor() - listed);
        let earlier = Amount::new(earlier, invoice.currency.0);
        applied.push(("Earlier payments".to_owned(), less(&earlier)));
    }
    for payment in invoice.payments.iter().flatten() {
        let reference = payment
            .reference_number
            .as_deref()
            .map(|r| format!(", ref. {r}"));
        let method = method_words(&payment.payment_method);
        let label = format!(
            "Paid {} ({method}{})",
            payment.payment_date,
            reference.unwrap_or_default()
        );
        applied.push((label, less(&payment.amount)));
    }
    for note in invoice.credit_notes.iter().flatten() {
        applied.push((
            format!("Credit note {}", note.credit_note_number),
            less(&note.amount),
        ));
    }
    let live_write_offs = invoice
        .write_offs
        .iter()
        .flatten()
        .filter(|w| w.reversed_date.is_none());
    for write_off in live_write_offs {
        applied.push((
            format!("Written off {}", write_off.write_off_date),
            less(&write_off.amount),
        ));
    }
    InvoiceSheet {
        seller: seller(org),
        buyer: buyer(customer),
        number: invoice.invoice_number.clone(),
        facts,
        currency: invoice.currency.0.to_string(),
        lines: invoice
            .items
            .iter()
            .map(|item| SheetLine {
                description: item.description.clone(),
                quantity: item.quantity.0.to_string(),
                unit_price: item.unit_price.0.to_string(),
                tax_rate: percent(item.tax_rate.0),
                total: item.line_total.json_text(),
            })
            .collect(),
        subtotal: invoice.subtotal.json_text(),
        tax_total: invoice.tax_total.json_text(),
        total: invoice.total.json_text(),
        applied,
        balance_due: invoice.balance_due.json_text(),
        notes: invoice.notes.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_read_as_percentages() {
        assert_eq!(percent(Decimal::new(8, 2)), "8%");
        assert_eq!(percent(Decimal::new(125, 4)), "1.25%");
        assert_eq!(percent(Decimal::ZERO), "0%");
    }
}
