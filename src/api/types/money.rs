//! Exact decimals in, exact strings out: decimal inputs, money inputs and outputs.

use std::borrow::Cow;

use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type};
use rust_decimal::Decimal;
use serde_json::Value;

use super::input::json_kind;
use super::Opt;
use crate::domain::currency::Currency;
use crate::domain::display::serialize_display;
use crate::domain::money::{GivenAmount, Money};

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

/// A money amount in responses: a string with exactly its currency's places (`"1620.00"`
/// in USD, `"1620"` in JPY, `"1620.000"` in KWD).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Amount {
    pub money: Money,
    places: u32,
}

impl Amount {
    pub(crate) fn new(money: Money, currency: Currency) -> Self {
        Amount {
            money,
            places: currency.exponent(),
        }
    }

    pub(crate) fn text(&self) -> crate::domain::money::MoneyText {
        self.money.text_with_places(self.places)
    }

    /// The amount as the JSON writes it, owned: for documents, CSV cells and e-mails.
    pub(crate) fn json_text(&self) -> String {
        self.text().as_str().to_owned()
    }
}

super::scalar_type!(
    Amount,
    name: "string(money)",
    schema: {
MetaSchemaRef::Inline(Box::new(MetaSchema {
            description: Some("Money: a string with exactly as many decimals as the currency named beside it has (USD 2, JPY 0, KWD 3)."),
            example: Some(Value::String("1620.00".into())),
            pattern: Some("^-?[0-9]+(\\.[0-9]{1,4})?$".into()),
            ..MetaSchema::new_with_format("string", "decimal")
        }))
},
    json_text: |amount| amount.text().as_str().to_string(),
);

impl serde::Serialize for Amount {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.text().as_str())
    }
}

/// Read back as written: the places are the ones the text has.
impl ParseFromJSON for Amount {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        let value = value.unwrap_or_default();
        let decimal = decimal_from_json(&value).map_err(ParseError::custom)?;
        let minor = i64::try_from(decimal.mantissa())
            .map_err(|_| ParseError::custom("amount out of range"))?;
        Ok(Amount {
            money: Money::from_minor(minor),
            places: decimal.scale(),
        })
    }
}

/// A money amount in requests: a JSON number or string. Its currency (and so how many
/// decimals it may have) is the customer's, known once the write finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AmountIn(pub GivenAmount);

super::scalar_type!(
    AmountIn,
    name: "money",
    schema: {
number_or_string(
            "Money, as a JSON number (`500.00`) or a string (`\"500.00\"`), with at most as many decimals as its currency has (USD 2, JPY 0, KWD 3); read from its text, never through a binary float.",
            "500.00",
        )
},
    json_text: |amount| amount.0 .0.to_string(),
);

impl ParseFromJSON for AmountIn {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        let value = value.unwrap_or_default();
        let decimal = decimal_from_json(&value).map_err(ParseError::custom)?;
        Ok(AmountIn(GivenAmount(decimal)))
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

    /// With at least the currency's places, like a price: `150.00`, `0.335` (`150` in JPY).
    pub(crate) fn price(value: Decimal, currency: Currency) -> Self {
        DecimalOut(crate::domain::detail::price_decimal(value, currency))
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

/// An ISO 4217 currency code, checked against the standard's table (`domain::currency`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CurrencyCode(pub Currency);

super::scalar_type!(
    CurrencyCode,
    name: "string(currency)",
    schema: MetaSchemaRef::Inline(Box::new(MetaSchema {
        description: Some("An ISO 4217 currency code in upper case (`USD`, `EUR`, `JPY`, `KWD`). Its minor unit decides how many decimals every amount in it has."),
        example: Some(Value::String("USD".into())),
        pattern: Some("^[A-Z]{3}$".into()),
        ..MetaSchema::new("string")
    })),
    json_text: |code| code.0.code().to_string(),
);

impl serde::Serialize for CurrencyCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0.code())
    }
}

impl ParseFromJSON for CurrencyCode {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value.unwrap_or_default() {
            Value::String(code) => Currency::parse(&code)
                .map(CurrencyCode)
                .map_err(ParseError::custom),
            other => Err(ParseError::custom(format!(
                "must be a currency code string such as \"USD\", not {}",
                json_kind(&other)
            ))),
        }
    }
}

impl poem_openapi::types::ParseFromParameter for CurrencyCode {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        Currency::parse(value)
            .map(CurrencyCode)
            .map_err(ParseError::custom)
    }
}

/// Names `field` unless `given` is an amount of `currency` above 0: its decimals and size
/// first, then its sign, shown as the currency writes it (`got -5.00`).
pub(crate) fn check_positive(
    errors: &mut crate::error::FieldErrorsBuilder,
    field: &str,
    given: GivenAmount,
    currency: Currency,
) {
    match given.in_currency(currency) {
        Err(err) => errors.add(field, err.to_string()),
        Ok(money) if !money.is_positive() => errors.add(
            field,
            format!("must be more than 0 (got {})", money.shown(currency)),
        ),
        Ok(_) => {}
    }
}

/// The currency a request states for its amounts, which must be `billed` (the customer's);
/// the write checks it again in its own transaction.
pub(crate) fn stated_currency(
    given: Opt<CurrencyCode>,
    billed: Currency,
    errors: &mut crate::error::FieldErrorsBuilder,
) -> Option<Currency> {
    let stated = given.optional("currency", errors).map(|code| code.0)?;
    if stated != billed {
        errors.add(
            "currency",
            format!("the customer is billed in {billed}, not {stated}"),
        );
    }
    Some(stated)
}
