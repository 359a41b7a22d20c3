//! Error messages in the API's words: what is wrong with a value and what to send instead,
//! never a Rust-side type name (poem-openapi's own messages name them).

use poem_openapi::registry::{MetaSchemaRef, Registry};
use poem_openapi::types::Type;
use serde_json::Value;

use super::types::json_kind;

/// poem-openapi prefixes a parse error with the Rust-side type (`failed to parse
/// "string(1..255)": ...`); clients are told only what is wrong with their value.
pub fn without_type_name(message: String) -> String {
    match message.strip_prefix("failed to parse \"") {
        Some(rest) => match rest.split_once("\": ") {
            Some((_, reason)) => reason.to_string(),
            None => message,
        },
        None => message,
    }
}

/// A parse error in the API's words: the allowed values of an enum, or the kind of JSON
/// value the field takes, never the Rust-side type name poem-openapi reports.
pub fn explain_parse_error<T: Type>(value: &Value, message: String) -> String {
    let mut registry = Registry::new();
    T::register(&mut registry);
    let schema = match T::schema_ref() {
        MetaSchemaRef::Reference(name) => registry.schemas.get(&name).cloned(),
        MetaSchemaRef::Inline(schema) => Some(*schema),
    };
    let Some(schema) = schema else {
        return without_type_name(message);
    };
    if !schema.enum_items.is_empty() {
        let allowed: Vec<String> = schema
            .enum_items
            .iter()
            .map(|item| {
                item.as_str()
                    .map_or_else(|| item.to_string(), str::to_string)
            })
            .collect();
        return format!("must be one of: {}", allowed.join(", "));
    }
    if !message.starts_with("Expected input type") {
        return without_type_name(message);
    }
    let wanted = match schema.ty {
        "integer" => "a whole number",
        "boolean" => "true or false",
        "number" => "a number",
        "string" => "a string",
        "array" => "an array",
        "object" => "an object",
        _ => "a value of the type /openapi.json gives",
    };
    format!("must be {wanted}, not {}", json_kind(value))
}

/// Why a decimal could not be read, in the API's words: too large, too precise, or not a
/// number at all. Long input is shortened in the message.
pub fn decimal_error(text: &str) -> String {
    let shown = if text.chars().count() > 40 {
        format!("{}…", text.chars().take(40).collect::<String>())
    } else {
        text.to_string()
    };
    match whole_digits(text) {
        None => format!("'{shown}' is not a decimal number: send digits with an optional point, such as 150.00"),
        Some(digits) if digits > 12 => format!(
            "'{shown}' is too large: no amount, price or quantity here is above 999999999999.99"
        ),
        Some(_) => format!(
            "'{shown}' has too many decimals: quantities and prices take at most 4, money 2, a tax rate 6"
        ),
    }
}

/// How many digits a decimal text has before its point once its exponent is applied, or
/// `None` when the text is not a decimal number.
fn whole_digits(text: &str) -> Option<i64> {
    let (mantissa, exponent) = match text.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => (mantissa, exponent.parse::<i64>().ok()?),
        None => (text, 0),
    };
    let unsigned = mantissa.strip_prefix(['-', '+']).unwrap_or(mantissa);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let all_digits = |part: &str| part.chars().all(|c| c.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    Some((whole.trim_start_matches('0').len() as i64).saturating_add(exponent))
}
