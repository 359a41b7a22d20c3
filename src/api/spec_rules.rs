//! What the server checks that the derive macros cannot say, as the schema keywords
//! `spec::finish_spec` adds: bounds, patterns and lists of values. Each one states a rule
//! the handlers enforce (named beside it), so a request that fits the schema passes them;
//! rules that tie a field to another or to stored rows (a date after a payment's, an
//! amount within a balance) stay in the descriptions.

use serde_json::{json, Value};

/// Text fields refuse control characters (see `domain::text`).
pub(super) const NO_CONTROL_CHARACTERS: &str = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$";

/// Text that must hold more than blanks (`domain::text::check_text` with a minimum of 1).
const NOT_BLANK: &str = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$";

/// A number prefix (`organization::checked_prefix`).
const NUMBER_PREFIX: &str = "^[A-Za-z0-9_/-]{1,10}$";

/// What `etag::listed_tags` reads: `*`, or quoted tags (weak or strong) separated by commas.
/// (A comma inside a tag would split it there: Arvalox's own tags never hold one.)
pub(super) const IF_MATCH: &str = r#"^ *(\*|(W/)?"[^",]*"( *, *(W/)?"[^",]*")*) *$"#;

/// A webhook URL (`domain::webhook::check_url`): http or https, a host without a user or
/// password, a port from 1 to 65535 or none, no blanks or control characters. The server
/// also takes an IPv6 address in brackets, which the pattern leaves out: a pattern loose
/// enough to write has clients generate brackets that are no address (`[01]`), which the
/// server refuses, and which broke schemathesis reading the answers back.
const WEBHOOK_URL: &str = concat!(
    r"^https?://[^\s\u0000-\u001f\u007f-\u009f/?#@:\[\]]+",
    r"(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}))?",
    r"([/?#][^\s\u0000-\u001f\u007f-\u009f]*)?$"
);

/// The dashboard's `include` (`kpis::includes`): a comma list of `kpis` and `series`, each
/// trimmed, empty items skipped.
pub(super) const DASHBOARD_INCLUDES: &str = r"^\s*(kpis|series)?\s*(,\s*(kpis|series)?\s*)*$";

/// An address as mail takes it (`mail::is_address`), in its plain forms: `jane@example.com`
/// or `Jane Doe <jane@example.com>` (the server reads more, such as quoted names).
fn mailbox_pattern() -> String {
    // A local part of at most 64 characters, labels of at most 63, a domain of at most 255.
    let label = "[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
    let local = "[A-Za-z0-9_%+-]{1,30}(\\.[A-Za-z0-9_%+-]{1,16}){0,2}";
    let address = format!("{local}@{label}(\\.{label}){{1,3}}");
    format!("^ *({address}|[A-Za-z0-9]([A-Za-z0-9 -]*[A-Za-z0-9])? <{address}>) *$")
}

/// A decimal of more than 0 with up to `digits` whole digits and up to `places` decimals.
fn positive_decimal(digits: usize, places: usize) -> String {
    let fractions: Vec<String> = (0..places)
        .map(|zeros| match places - 1 - zeros {
            0 => format!("{}[1-9]", "0".repeat(zeros)),
            more => format!("{}[1-9][0-9]{{0,{more}}}", "0".repeat(zeros)),
        })
        .collect();
    format!(
        "^([1-9][0-9]{{0,{}}}(\\.[0-9]{{1,{places}}})?|0\\.({}))$",
        digits - 1,
        fractions.join("|")
    )
}

/// What a field's type cannot say about it: (schema, property, keywords to add).
/// Addresses are checked as addresses (`domain::text::check_email`), not only measured.
pub(super) fn property_refinements() -> Vec<(&'static str, &'static str, Value)> {
    let lines = json!({"minItems": 1, "maxItems": 500});
    let terms = json!({"minimum": 0, "maximum": 3650});
    let email = json!({"format": "email", "maxLength": 254});
    let text = |max: usize| json!({"maxLength": max, "pattern": NO_CONTROL_CHARACTERS});
    let addresses =
        json!({"maxItems": 20, "items": {"type": "string", "pattern": mailbox_pattern()}});
    let event_types = json!({"minItems": 1, "maxItems": 50, "uniqueItems": true});
    // `payments::input::check_allocations`: 1 to 100 invoices.
    let allocations = json!({"minItems": 1, "maxItems": 100});
    vec![
        ("InvoiceCreate", "items", lines.clone()),
        ("InvoiceUpdate", "items", lines.clone()),
        ("CreditNoteCreate", "items", lines),
        ("CustomerCreate", "payment_terms_days", terms.clone()),
        ("CustomerUpdate", "payment_terms_days", terms),
        ("Customer", "email", json!({"format": "email"})),
        ("CustomerCreate", "email", email.clone()),
        ("CustomerUpdate", "email", email.clone()),
        ("OrganizationUpdate", "email", email),
        (
            "OrganizationUpdate",
            "name",
            json!({"minLength": 1, "maxLength": 200, "pattern": NOT_BLANK}),
        ),
        ("OrganizationUpdate", "legal_name", text(200)),
        ("OrganizationUpdate", "address", text(500)),
        ("OrganizationUpdate", "tax_id", text(50)),
        ("OrganizationUpdate", "phone", text(50)),
        (
            "OrganizationUpdate",
            "default_payment_terms_days",
            json!({"minimum": 0, "maximum": 365}),
        ),
        (
            "OrganizationUpdate",
            "invoice_number_prefix",
            json!({"pattern": NUMBER_PREFIX}),
        ),
        (
            "OrganizationUpdate",
            "credit_note_number_prefix",
            json!({"pattern": NUMBER_PREFIX}),
        ),
        (
            "WebhookEndpointCreate",
            "url",
            json!({"maxLength": 2000, "pattern": WEBHOOK_URL}),
        ),
        (
            "WebhookEndpointUpdate",
            "url",
            json!({"maxLength": 2000, "pattern": WEBHOOK_URL}),
        ),
        ("WebhookEndpointCreate", "event_types", event_types.clone()),
        ("WebhookEndpointUpdate", "event_types", event_types),
        ("PaymentCreate", "allocations", allocations.clone()),
        ("CreditAllocation", "allocations", allocations),
        ("EmailRequest", "to", addresses.clone()),
        ("EmailRequest", "cc", addresses),
    ]
}

/// Per-field bounds of the decimal inputs, which share one type (and so one schema
/// otherwise): (schema, property, number bounds, string pattern, example). A money input as
/// a string goes up to `domain::money`'s largest amount in a currency without decimals,
/// with at most the four places a currency can have (each currency takes fewer: the server
/// names the places of the one the amount is in).
pub(super) fn decimal_field_bounds(
) -> Vec<(&'static str, &'static str, Value, String, &'static str)> {
    let money = json!({"minimum": 0, "maximum": 99999999999999u64});
    let money_text = r"^[0-9]{1,14}(\.[0-9]{1,4})?$".to_string();
    let paid = json!({"minimum": 0, "exclusiveMinimum": true, "maximum": 99999999999999u64});
    let paid_text = positive_decimal(14, 4);
    let mut bounds = vec![
        (
            "InvoiceItemCreate",
            "quantity",
            json!({"minimum": 0, "exclusiveMinimum": true, "maximum": 999999999.9999}),
            positive_decimal(9, 4),
            "3",
        ),
        (
            "InvoiceItemCreate",
            "unit_price",
            json!({"minimum": 0, "maximum": 999999999999.99}),
            r"^[0-9]{1,12}(\.[0-9]{1,4})?$".to_string(),
            "150.00",
        ),
        (
            "InvoiceItemCreate",
            "tax_rate",
            json!({"minimum": 0, "maximum": 1}),
            r"^(0(\.[0-9]{1,6})?|1(\.0{1,6})?)$".to_string(),
            "0.08",
        ),
        (
            "CustomerCreate",
            "credit_limit",
            money.clone(),
            money_text.clone(),
            "5000.00",
        ),
        (
            "CustomerUpdate",
            "credit_limit",
            money,
            money_text,
            "5000.00",
        ),
    ];
    for (schema, example) in [
        ("PaymentCreate", "500.00"),
        ("AllocationIn", "200.00"),
        ("RefundCreate", "50.00"),
        ("WriteOffCreate", "12.50"),
    ] {
        bounds.push((schema, "amount", paid.clone(), paid_text.clone(), example));
    }
    bounds
}

/// The values a request may give: every currency code Arvalox keeps books in, and every
/// event type a webhook endpoint may ask for. (Not the time zones: their names clash once
/// made into identifiers, `GMT+0` and `GMT-0`, and a generated client cannot take them.)
pub(super) fn list_codes_and_event_types(schemas: &mut Value) {
    let codes = crate::domain::currency::Currency::all_codes();
    for schema in [
        "CustomerCreate",
        "CustomerUpdate",
        "OrganizationUpdate",
        "InvoiceCreate",
        "PaymentCreate",
        "CreditNoteCreate",
    ] {
        if let Some(currency) = schemas.pointer_mut(&format!("/{schema}/properties/currency")) {
            currency["enum"] = json!(codes);
        }
    }
    let mut types: Vec<&str> = vec!["*"];
    types.extend(crate::domain::journal::EVENT_TYPES);
    for schema in ["WebhookEndpointCreate", "WebhookEndpointUpdate"] {
        if let Some(items) = schemas.pointer_mut(&format!("/{schema}/properties/event_types/items"))
        {
            items["enum"] = json!(types);
        }
    }
}

/// The event feed's `type` filter takes the event types only (the server refuses any
/// other, listing them), so a client and a fuzzer can see them.
pub(super) fn list_the_feeds_event_types(spec: &mut Value) {
    let Some(parameters) = spec
        .pointer_mut("/paths/~1v1~1events/get/parameters")
        .and_then(Value::as_array_mut)
    else {
        return;
    };
    for parameter in parameters.iter_mut().filter(|p| p["name"] == "type") {
        if let Some(schema) = parameter.get_mut("schema") {
            schema["enum"] = json!(crate::domain::journal::EVENT_TYPES.as_slice());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_positive_decimal_pattern_spells_every_place() {
        assert_eq!(
            positive_decimal(3, 2),
            r"^([1-9][0-9]{0,2}(\.[0-9]{1,2})?|0\.([1-9][0-9]{0,1}|0[1-9]))$"
        );
    }
}
