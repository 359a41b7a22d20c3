//! Dates on the wire: `YYYY-MM-DD`, inside the supported range, format `date` in the spec.

use chrono::NaiveDate;
use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::types::{ParseError, ParseFromJSON, ParseFromParameter, ParseResult};
use serde_json::Value;

use super::input::json_kind;
use crate::domain::display::serialize_display;

// ---------------------------------------------------------------------------------------
// Dates: `YYYY-MM-DD`, shown in the spec as format `date`.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Date(pub NaiveDate);

/// Every date in the spec says which dates Arvalox keeps (see `domain::dates`).
const DATE_DESCRIPTION: &str = "A date, `YYYY-MM-DD`, from 1900-01-01 to 9999-12-31.";

/// The supported range's years (1900–9999), months and days, as far as a pattern can say.
const DATE_PATTERN: &str = "^(19[0-9]{2}|[2-9][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$";

/// Refuses a window whose start (`from`, named `names.0`) is after its end: it could only
/// ever match nothing, and is almost always the two dates swapped.
pub(crate) fn check_window(
    (from, to): (Option<Date>, Option<Date>),
    names: (&str, &str),
    errors: &mut crate::error::FieldErrorsBuilder,
) {
    if let (Some(Date(from)), Some(Date(to))) = (from, to) {
        if from > to {
            errors.add(
                names.0,
                format!("must be on or before `{}` ({to})", names.1),
            );
        }
    }
}

impl Date {
    fn parse_text(text: &str) -> Result<Self, String> {
        let valid_shape = text.len() == 10
            && text.bytes().enumerate().all(|(i, b)| match i {
                4 | 7 => b == b'-',
                _ => b.is_ascii_digit(),
            });
        if !valid_shape {
            return Err(format!("'{text}' is not a date in YYYY-MM-DD form"));
        }
        let date = NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map_err(|_| format!("'{text}' is not a real calendar date"))?;
        match crate::domain::dates::range_error(date) {
            None => Ok(Date(date)),
            Some(reason) => Err(format!("'{text}' is out of range: {reason}")),
        }
    }
}

super::scalar_type!(
    Date,
    name: "string(date)",
    schema: {
MetaSchemaRef::Inline(Box::new(MetaSchema {
            example: Some(Value::String("2024-01-15".into())),
            description: Some(DATE_DESCRIPTION),
            pattern: Some(DATE_PATTERN.into()),
            ..MetaSchema::new_with_format("string", "date")
        }))
},
    json_text: |date| date.0.format("%Y-%m-%d").to_string(),
);

impl ParseFromJSON for Date {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value.unwrap_or_default() {
            Value::String(text) => Date::parse_text(&text).map_err(ParseError::custom),
            other => Err(ParseError::custom(format!(
                "must be a date string in YYYY-MM-DD form, not {}",
                json_kind(&other)
            ))),
        }
    }
}

impl ParseFromParameter for Date {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        Date::parse_text(value).map_err(ParseError::custom)
    }
}

impl serde::Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // NaiveDate's Display is ISO 8601 (`2024-01-15`).
        serialize_display(&self.0, serializer)
    }
}
