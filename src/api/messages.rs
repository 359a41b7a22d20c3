//! Error messages in the API's words: what is wrong with a value and what to send instead,
//! never a Rust-side type name (poem-openapi's own messages name them).

use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
use poem_openapi::types::Type;

/// poem-openapi prefixes a parse error with the Rust-side type (`failed to parse
/// "string(1..255)": ...`); clients are told only what is wrong with their value.
pub(crate) fn without_type_name(message: String) -> String {
    match message.strip_prefix("failed to parse \"") {
        Some(rest) => match rest.split_once("\": ") {
            Some((_, reason)) => reason.to_string(),
            None => message,
        },
        None => message,
    }
}

/// The range of every whole number the API takes (a 64-bit integer), as messages say it.
pub(crate) const INTEGER_RANGE: &str = "from -9223372036854775808 to 9223372036854775807";

/// A parse error in the API's words: the allowed values of an enum, or the kind of JSON
/// value the field takes, never the Rust-side type name poem-openapi reports. `found` is
/// the kind of value that was sent (see `types::json_kind`).
pub(crate) fn explain_parse_error<T: Type>(found: &str, message: String) -> String {
    let mut registry = Registry::new();
    T::register(&mut registry);
    let Some(schema) = resolve(&registry, T::schema_ref()) else {
        return without_type_name(message);
    };
    if !schema.enum_items.is_empty() {
        return format!("must be one of: {}", enum_values(&schema));
    }
    let wanted = kind_of(schema.ty);
    if schema.ty == "integer" && found == "a number" {
        // `1.0`, `1e0` or past 64 bits: poem-openapi's own words are "invalid integer".
        return format!(
            "must be {wanted}, written without a point or an exponent, {INTEGER_RANGE}"
        );
    }
    if !message.starts_with("Expected input type") {
        return without_type_name(message);
    }
    if wanted != found {
        return format!("must be {wanted}, not {found}");
    }
    // The right kind of value whose parts are wrong: an array of the wrong elements.
    match schema.items.and_then(|items| resolve(&registry, *items)) {
        Some(element) if !element.enum_items.is_empty() => {
            format!("every element must be one of: {}", enum_values(&element))
        }
        Some(element) => format!("every element must be {}", kind_of(element.ty)),
        None => without_type_name(message),
    }
}

/// Whether `T` is text and nothing else: poem-openapi's `String` would take a number or a
/// boolean as its text (`5` as "5"), which a request must not get away with.
pub(crate) fn wants_text<T: Type>() -> bool {
    match T::schema_ref() {
        MetaSchemaRef::Inline(schema) => schema.ty == "string" && schema.enum_items.is_empty(),
        MetaSchemaRef::Reference(_) => false,
    }
}

fn resolve(registry: &Registry, schema: MetaSchemaRef) -> Option<MetaSchema> {
    match schema {
        MetaSchemaRef::Reference(name) => registry.schemas.get(&name).cloned(),
        MetaSchemaRef::Inline(schema) => Some(*schema),
    }
}

fn enum_values(schema: &MetaSchema) -> String {
    let values: Vec<String> = schema
        .enum_items
        .iter()
        .map(|item| {
            item.as_str()
                .map_or_else(|| item.to_string(), str::to_string)
        })
        .collect();
    values.join(", ")
}

/// A JSON Schema type as `types::json_kind` names a value of it.
fn kind_of(schema_type: &str) -> &'static str {
    match schema_type {
        "integer" => "a whole number",
        "boolean" => "a boolean",
        "number" => "a number",
        "string" => "a string",
        "array" => "an array",
        "object" => "an object",
        _ => "a value of the type /openapi.json gives",
    }
}

/// Why a decimal could not be read, in the API's words: too large, too precise, or not a
/// number at all. Long input is shortened in the message.
pub(crate) fn decimal_error(text: &str) -> String {
    let shown = if text.chars().count() > 40 {
        format!("{}…", text.chars().take(40).collect::<String>())
    } else {
        text.to_string()
    };
    match whole_digits(text) {
        None => format!(
            "'{shown}' is not a decimal number: send digits with an optional point, such as 150.00"
        ),
        // Read before the currency is known: the limit is said for every currency.
        Some(digits) if digits > 12 => format!(
            "'{shown}' is too large: an amount or price has at most 14 digits counting its \
             currency's decimals (999999999999.99 in USD, 99999999999999 in JPY), and no \
             quantity is above 999999999.9999"
        ),
        Some(_) => format!(
            "'{shown}' has too many decimals: quantities and prices take at most 4, money as \
             many as its currency has (2 in USD, 0 in JPY), a tax rate 6"
        ),
    }
}

/// How many digits a decimal text has before its point once its exponent is applied, or
/// `None` when the text is not a decimal number. An exponent too long for an `i64` counts
/// as the largest (or smallest) there is.
fn whole_digits(text: &str) -> Option<i64> {
    let all_digits = |part: &str| part.chars().all(|c| c.is_ascii_digit());
    let (mantissa, exponent) = match text.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => {
            let (negative, digits) = match exponent.strip_prefix('-') {
                Some(digits) => (true, digits),
                None => (false, exponent.strip_prefix('+').unwrap_or(exponent)),
            };
            if digits.is_empty() || !all_digits(digits) {
                return None;
            }
            let size = digits.parse::<i64>().unwrap_or(i64::MAX);
            (mantissa, if negative { -size } else { size })
        }
        None => (text, 0),
    };
    let unsigned = mantissa.strip_prefix(['-', '+']).unwrap_or(mantissa);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    if (whole.is_empty() && fraction.is_empty()) || !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    Some((whole.trim_start_matches('0').len() as i64).saturating_add(exponent))
}

#[cfg(test)]
mod tests {
    use super::{decimal_error, whole_digits};

    #[test]
    fn decimals_are_refused_for_what_is_wrong_with_them() {
        for (text, digits) in [
            ("1e400", Some(401)),
            ("1e99999999999999999999", Some(i64::MAX)),
            ("1e-99999999999999999999", Some(-i64::MAX + 1)),
            ("123456789012345678901234567890", Some(30)),
            ("0.0000000000000000000000000000001", Some(0)),
            ("-12.5", Some(2)),
            ("abc", None),
            ("1.2.3", None),
            ("1e", None),
            ("", None),
            (".", None),
        ] {
            assert_eq!(whole_digits(text), digits, "{text}");
        }
        assert!(decimal_error("1e99999999999999999999").contains("too large"));
        assert!(decimal_error("0.0000000000000000000000000000001").contains("too many decimals"));
        assert!(decimal_error("abc").contains("not a decimal number"));
        assert!(decimal_error(&"9".repeat(100)).contains("…"));
    }
}
