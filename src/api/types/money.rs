//! Exact decimals in, exact strings out: decimal inputs, money inputs and outputs.

use std::borrow::Cow;

use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type};
use rust_decimal::Decimal;
use serde_json::Value;

use super::input::json_kind;
use crate::domain::display::serialize_display;
use crate::domain::money::Money;

// ---------------------------------------------------------------------------------------
// Exact decimals in, exact strings out.

/// Reads a JSON number from its text (never through a binary float) or a decimal string.
fn decimal_from_json(value: &Value) -> Result<Decimal, String> {
    let text = match value {
        Value::String(text) => text.trim().to_string(),
        Value::Number(number) => number.to_string(),
        other => {
            return Err(format!(
                "must be a decimal number or string, not {}",
                json_kind(other)
            ))
        }
    };
    let parsed = if text.contains(['e', 'E']) {
        Decimal::from_scientific(&text)
    } else {
        Decimal::from_str_exact(&text)
    };
    parsed.map_err(|_| crate::api::messages::decimal_error(&text))
}

/// Inputs take a JSON number (`150.00`) or a decimal string (`"150.00"`).
fn number_or_string(description: &'static str, example: &str) -> MetaSchemaRef {
    MetaSchemaRef::Inline(Box::new(MetaSchema {
        description: Some(description),
        example: serde_json::from_str(example).ok(),
        any_of: vec![
            MetaSchemaRef::Inline(Box::new(MetaSchema::new("number"))),
            MetaSchemaRef::Inline(Box::new(MetaSchema {
                pattern: Some("^-?[0-9]+(\\.[0-9]+)?$".into()),
                ..MetaSchema::new_with_format("string", "decimal")
            })),
        ],
        ..MetaSchema::ANY
    }))
}

macro_rules! decimal_input {
    ($name:ident, $example:literal, $description:literal) => {
        #[doc = $description]
        #[derive(Debug, Clone, Copy, PartialEq)]
        pub(crate) struct $name(pub Decimal);

        impl Type for $name {
            const IS_REQUIRED: bool = true;
            type RawValueType = Self;
            type RawElementValueType = Self;

            fn name() -> Cow<'static, str> {
                "string(decimal)".into()
            }

            fn schema_ref() -> MetaSchemaRef {
                number_or_string($description, $example)
            }

            fn as_raw_value(&self) -> Option<&Self> {
                Some(self)
            }

            fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
                Box::new(std::iter::once(self))
            }
        }

        impl ParseFromJSON for $name {
            fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
                let value = value.unwrap_or_default();
                decimal_from_json(&value)
                    .map($name)
                    .map_err(ParseError::custom)
            }
        }

        impl ToJSON for $name {
            fn to_json(&self) -> Option<Value> {
                Some(Value::String(self.0.to_string()))
            }
        }
    };
}

decimal_input!(
    DecimalIn,
    "150.00",
    "An exact decimal, as a JSON number or a string (\"150.00\"); it is read from its text, never through a binary float."
);

/// A money amount in responses: a string with exactly two decimals (`"1620.00"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Amount(pub Money);

super::scalar_type!(
    Amount,
    name: "string(money)",
    schema: {
MetaSchemaRef::Inline(Box::new(MetaSchema {
            description: Some("Money: a string with exactly two decimals."),
            example: Some(Value::String("1620.00".into())),
            pattern: Some("^-?[0-9]+\\.[0-9]{2}$".into()),
            ..MetaSchema::new_with_format("string", "decimal")
        }))
},
    json_text: |amount| amount.0.to_string(),
);

impl serde::Serialize for Amount {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0.text().as_str())
    }
}

impl ParseFromJSON for Amount {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        AmountIn::parse_from_json(value)
            .map(|amount| Amount(amount.0))
            .map_err(ParseError::propagate)
    }
}

/// A money amount in requests: a JSON number or string, at most two decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AmountIn(pub Money);

super::scalar_type!(
    AmountIn,
    name: "money",
    schema: {
number_or_string(
            "Money, as a JSON number (`500.00`) or a string (`\"500.00\"`), at most two decimals; read from its text, never through a binary float.",
            "500.00",
        )
},
    json_text: |amount| amount.0.to_string(),
);

impl ParseFromJSON for AmountIn {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        let value = value.unwrap_or_default();
        let decimal = decimal_from_json(&value).map_err(ParseError::custom)?;
        Money::from_exact(decimal)
            .map(AmountIn)
            .map_err(|err| ParseError::custom(err.to_string()))
    }
}

/// A decimal in responses, exactly as stored (`"10"`, `"0.08"`, `"150.25"`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct DecimalOut(pub Decimal);

super::scalar_type!(
    DecimalOut,
    name: "string(decimal)",
    schema: MetaSchemaRef::Inline(Box::new(MetaSchema::new_with_format("string", "decimal"))),
    json_text: |decimal| decimal.0.to_string(),
);

impl serde::Serialize for DecimalOut {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_display(&self.0, serializer)
    }
}

impl DecimalOut {
    /// Without trailing zeros: `10`, `0.08`.
    pub(crate) fn plain(value: Decimal) -> Self {
        DecimalOut(crate::domain::detail::plain_decimal(value))
    }

    /// With at least two decimals, like a price: `150.00`, `0.335`.
    pub(crate) fn price(value: Decimal) -> Self {
        DecimalOut(crate::domain::detail::price_decimal(value))
    }
}

impl ParseFromJSON for DecimalOut {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        let value = value.unwrap_or_default();
        decimal_from_json(&value)
            .map(DecimalOut)
            .map_err(ParseError::custom)
    }
}
