//! Wire types shared by every resource: field wrappers that let a handler name every bad
//! field at once, exact money and decimals, dates, the JSON body extractor, list pages.

use std::borrow::Cow;

use chrono::NaiveDate;
use poem::{Request, RequestBody};
use poem_openapi::payload::{ParsePayload, Payload};
use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
use poem_openapi::types::{
    ParseError, ParseFromJSON, ParseFromParameter, ParseResult, ToJSON, Type,
};
use rust_decimal::Decimal;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::domain::display::serialize_display;
use crate::domain::money::Money;
use crate::error::{AppError, FieldErrorsBuilder};

// ---------------------------------------------------------------------------------------
// Input<T>: a request field that never fails to parse, so the whole body is read and every
// bad field can be reported by name. Its schema is T's; `Opt<T>` is the same field, optional.

/// An optional request field (absent or null is fine).
pub type Opt<T> = Input<T, false>;

#[derive(Debug, Clone, PartialEq, Default)]
pub enum Input<T, const REQUIRED: bool = true> {
    #[default]
    Absent,
    Null,
    Invalid(String),
    Value(T),
}

impl<T: Type, const REQUIRED: bool> Type for Input<T, REQUIRED> {
    const IS_REQUIRED: bool = REQUIRED && T::IS_REQUIRED;
    type RawValueType = T::RawValueType;
    type RawElementValueType = T::RawElementValueType;

    fn name() -> Cow<'static, str> {
        T::name()
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        match self {
            Input::Value(value) => value.as_raw_value(),
            _ => None,
        }
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        match self {
            Input::Value(value) => value.raw_element_iter(),
            _ => Box::new(std::iter::empty()),
        }
    }
}

impl<T: ParseFromJSON, const REQUIRED: bool> ParseFromJSON for Input<T, REQUIRED> {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        Ok(match value {
            None => Input::Absent,
            Some(Value::Null) => Input::Null,
            Some(value) => {
                let found = json_kind(&value);
                match T::parse_from_json(Some(value)) {
                    Ok(parsed) => Input::Value(parsed),
                    Err(err) => Input::Invalid(super::messages::explain_parse_error::<T>(
                        found,
                        err.into_message(),
                    )),
                }
            }
        })
    }
}

/// As a query parameter too: a bad value is kept as `Invalid` so the handler can name
/// every bad parameter at once (see `params!`).
impl<T: ParseFromParameter, const REQUIRED: bool> ParseFromParameter for Input<T, REQUIRED> {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        Ok(match T::parse_from_parameter(value) {
            Ok(parsed) => Input::Value(parsed),
            Err(err) => Input::Invalid(super::messages::without_type_name(err.into_message())),
        })
    }

    fn parse_from_parameters<I: IntoIterator<Item = A>, A: AsRef<str>>(
        iter: I,
    ) -> ParseResult<Self> {
        match iter.into_iter().next() {
            Some(value) => Self::parse_from_parameter(value.as_ref()),
            None => Ok(Input::Absent),
        }
    }
}

impl<T> Opt<T> {
    /// An optional query parameter; a bad value is added to `errors` under `name`.
    pub fn param(self, name: &str, errors: &mut FieldErrorsBuilder) -> Option<T> {
        match self {
            Input::Invalid(reason) => {
                errors.add(name, crate::api::error::param_message(name, &reason));
                None
            }
            other => other.optional(name, errors),
        }
    }
}

/// Checks every `Query<Opt<T>>` named, collecting each bad one into `errors`, and re-binds
/// it as a `Query<Option<T>>`.
#[macro_export]
macro_rules! params {
    ($errors:ident; $($name:ident),+ $(,)?) => {
        $(let $name = poem_openapi::param::Query($name.0.param(stringify!($name), &mut $errors));)+
    };
}

impl<T: ToJSON, const REQUIRED: bool> ToJSON for Input<T, REQUIRED> {
    fn to_json(&self) -> Option<Value> {
        match self {
            Input::Value(value) => value.to_json(),
            _ => None,
        }
    }
}

impl<T, const REQUIRED: bool> Input<T, REQUIRED> {
    /// The same value, as a field of the other kind.
    pub fn into_kind<const OTHER: bool>(self) -> Input<T, OTHER> {
        match self {
            Input::Absent => Input::Absent,
            Input::Null => Input::Null,
            Input::Invalid(message) => Input::Invalid(message),
            Input::Value(value) => Input::Value(value),
        }
    }

    /// A field that must be present and valid.
    pub fn required(self, field: &str, errors: &mut FieldErrorsBuilder) -> Option<T> {
        match self {
            Input::Value(value) => Some(value),
            Input::Absent | Input::Null => {
                errors.add(field, "This field is required");
                None
            }
            Input::Invalid(message) => {
                errors.add(field, message);
                None
            }
        }
    }

    /// A field that may be absent or null.
    pub fn optional(self, field: &str, errors: &mut FieldErrorsBuilder) -> Option<T> {
        match self {
            Input::Value(value) => Some(value),
            Input::Absent | Input::Null => None,
            Input::Invalid(message) => {
                errors.add(field, message);
                None
            }
        }
    }

    /// For partial updates: `None` when absent (keep), `Some(None)` when null (clear).
    pub fn patch(self, field: &str, errors: &mut FieldErrorsBuilder) -> Option<Option<T>> {
        match self {
            Input::Absent => None,
            Input::Null => Some(None),
            Input::Value(value) => Some(Some(value)),
            Input::Invalid(message) => {
                errors.add(field, message);
                None
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Text: a JSON string and nothing else (poem-openapi's `String` would take 123 or false),
// with its length bounds and character rules in the type, so they are both checked and
// written into the spec (`minLength`, `maxLength`, `pattern`). `LINES` allows newlines and tabs.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text<const MIN: usize = 0, const MAX: usize = 5000, const LINES: bool = false>(
    pub String,
);

impl<const MIN: usize, const MAX: usize, const LINES: bool> Type for Text<MIN, MAX, LINES> {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        format!("string({MIN}..{MAX}{})", if LINES { ", lines" } else { "" }).into()
    }

    fn schema_ref() -> MetaSchemaRef {
        // No control characters (but newlines and tabs where LINES), and not blank if required.
        let allowed = if LINES {
            "[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]"
        } else {
            "[^\\u0000-\\u001f\\u007f-\\u009f]"
        };
        let pattern = if MIN > 0 {
            format!("^{allowed}*[^\\s\\u0000-\\u001f\\u007f-\\u009f]{allowed}*$")
        } else {
            format!("^{allowed}*$")
        };
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            min_length: (MIN > 0).then_some(MIN),
            max_length: Some(MAX),
            pattern: Some(pattern),
            ..MetaSchema::new("string")
        }))
    }

    fn as_raw_value(&self) -> Option<&Self> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
        Box::new(std::iter::once(self))
    }
}

impl<const MIN: usize, const MAX: usize, const LINES: bool> ParseFromJSON
    for Text<MIN, MAX, LINES>
{
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value.unwrap_or_default() {
            Value::String(text) => crate::domain::text::check_text(&text, MIN, MAX, LINES)
                .map(|()| Text(text))
                .map_err(ParseError::custom),
            other => Err(ParseError::custom(format!(
                "must be a string, not {}",
                json_kind(&other)
            ))),
        }
    }
}

impl<const MIN: usize, const MAX: usize, const LINES: bool> ToJSON for Text<MIN, MAX, LINES> {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.0.clone()))
    }
}

impl<const REQUIRED: bool, const MIN: usize, const MAX: usize, const LINES: bool>
    Input<Text<MIN, MAX, LINES>, REQUIRED>
{
    /// The field's text as a plain `String`.
    pub fn text(self) -> Input<String, REQUIRED> {
        match self {
            Input::Absent => Input::Absent,
            Input::Null => Input::Null,
            Input::Invalid(message) => Input::Invalid(message),
            Input::Value(Text(text)) => Input::Value(text),
        }
    }
}

impl<const MIN: usize, const MAX: usize, const LINES: bool> From<&str> for Text<MIN, MAX, LINES> {
    fn from(text: &str) -> Self {
        Text(text.to_string())
    }
}

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
    parsed.map_err(|_| super::messages::decimal_error(&text))
}

pub fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
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
        pub struct $name(pub Decimal);

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
pub struct Amount(pub Money);

impl Type for Amount {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        "string(money)".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            description: Some("Money: a string with exactly two decimals."),
            example: Some(Value::String("1620.00".into())),
            pattern: Some("^-?[0-9]+\\.[0-9]{2}$".into()),
            ..MetaSchema::new_with_format("string", "decimal")
        }))
    }

    fn as_raw_value(&self) -> Option<&Self> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
        Box::new(std::iter::once(self))
    }
}

impl ToJSON for Amount {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.0.to_string()))
    }
}

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
pub struct AmountIn(pub Money);

impl Type for AmountIn {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        "money".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        number_or_string(
            "Money, as a JSON number (`500.00`) or a string (`\"500.00\"`), at most two decimals; read from its text, never through a binary float.",
            "500.00",
        )
    }

    fn as_raw_value(&self) -> Option<&Self> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
        Box::new(std::iter::once(self))
    }
}

impl ParseFromJSON for AmountIn {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        let value = value.unwrap_or_default();
        let decimal = decimal_from_json(&value).map_err(ParseError::custom)?;
        Money::from_exact(decimal)
            .map(AmountIn)
            .map_err(|err| ParseError::custom(err.to_string()))
    }
}

impl ToJSON for AmountIn {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.0.to_string()))
    }
}

/// A decimal in responses, exactly as stored (`"10"`, `"0.08"`, `"150.25"`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DecimalOut(pub Decimal);

impl Type for DecimalOut {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        "string(decimal)".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema::new_with_format("string", "decimal")))
    }

    fn as_raw_value(&self) -> Option<&Self> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
        Box::new(std::iter::once(self))
    }
}

impl ToJSON for DecimalOut {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.0.to_string()))
    }
}

impl serde::Serialize for DecimalOut {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_display(&self.0, serializer)
    }
}

impl DecimalOut {
    /// Without trailing zeros: `10`, `0.08`.
    pub fn plain(value: Decimal) -> Self {
        DecimalOut(crate::domain::detail::plain_decimal(value))
    }

    /// With at least two decimals, like a price: `150.00`, `0.335`.
    pub fn price(value: Decimal) -> Self {
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

// ---------------------------------------------------------------------------------------
// Dates: `YYYY-MM-DD`, shown in the spec as format `date`.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date(pub NaiveDate);

/// Every date in the spec says which dates Arvalox keeps (see `domain::dates`).
const DATE_DESCRIPTION: &str = "A date, `YYYY-MM-DD`, from 1900-01-01 to 9999-12-31.";

/// The supported range's years (1900–9999), months and days, as far as a pattern can say.
const DATE_PATTERN: &str = "^(19[0-9]{2}|[2-9][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$";

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

impl Type for Date {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        "string(date)".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            example: Some(Value::String("2024-01-15".into())),
            description: Some(DATE_DESCRIPTION),
            pattern: Some(DATE_PATTERN.into()),
            ..MetaSchema::new_with_format("string", "date")
        }))
    }

    fn as_raw_value(&self) -> Option<&Self> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
        Box::new(std::iter::once(self))
    }
}

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

impl ToJSON for Date {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.0.format("%Y-%m-%d").to_string()))
    }
}

impl serde::Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // NaiveDate's Display is ISO 8601 (`2024-01-15`).
        serialize_display(&self.0, serializer)
    }
}

// ---------------------------------------------------------------------------------------
// JsonBody<T>: the request body extractor. Malformed JSON, a non-object body and unknown
// fields (at any depth) are 400s naming what is wrong; fields themselves are `Input<_>`.

pub struct JsonBody<T> {
    pub value: T,
    /// SHA-256 of the body as parsed, for Idempotency-Key comparisons.
    pub hash: String,
    /// Unknown fields found in the body; handlers add their own findings and answer all at once.
    unknown_fields: FieldErrorsBuilder,
}

impl<T> JsonBody<T> {
    /// The body's value and an error collector that already names its unknown fields.
    pub fn into_parts(self) -> (T, FieldErrorsBuilder, String) {
        (self.value, self.unknown_fields, self.hash)
    }
}

impl<T: Type> Payload for JsonBody<T> {
    const CONTENT_TYPE: &'static str = "application/json";

    fn check_content_type(content_type: &str) -> bool {
        matches!(content_type.parse::<mime::Mime>(), Ok(mime) if mime.type_() == "application"
            && (mime.subtype() == "json" || mime.suffix().is_some_and(|s| s == "json")))
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: Type + ParseFromJSON> ParsePayload for JsonBody<T> {
    const IS_REQUIRED: bool = true;

    async fn from_request(request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        let data = <Vec<u8> as poem::FromRequest>::from_request(request, body).await?;
        if data.iter().all(u8::is_ascii_whitespace) {
            return Err(
                AppError::field("body", "A JSON object is required as the request body").into(),
            );
        }
        let value = parse_strict(&data)?;
        if !value.is_object() {
            return Err(AppError::field(
                "body",
                format!("must be a JSON object, not {}", json_kind(&value)),
            )
            .into());
        }
        let registry = schemas_of::<T>();
        let mut errors = FieldErrorsBuilder::new();
        unknown_fields(&registry, &T::schema_ref(), &value, "", &mut errors);
        let hash = hex::encode(Sha256::digest(canonical(&value).as_bytes()));
        let parsed = T::parse_from_json(Some(value))
            .map_err(|err| AppError::field("body", err.into_message()))?;
        Ok(JsonBody {
            value: parsed,
            hash,
            unknown_fields: errors,
        })
    }
}

/// The body with object keys sorted at every depth: a retry that reorders fields is the
/// same request.
fn canonical(value: &Value) -> String {
    fn sorted(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut entries: Vec<_> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                Value::Object(
                    entries
                        .into_iter()
                        .map(|(k, v)| (k.clone(), sorted(v)))
                        .collect(),
                )
            }
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    sorted(value).to_string()
}

/// Parses JSON, refusing duplicate keys: `{"amount": 1, "amount": 900}` must not quietly
/// mean 900.
fn parse_strict(data: &[u8]) -> Result<Value, AppError> {
    let value: Value = serde_json::from_slice(data)
        .map_err(|err| AppError::field("body", format!("Malformed JSON: {err}")))?;
    let mut deserializer = serde_json::Deserializer::from_slice(data);
    if let Err(err) = serde::de::DeserializeSeed::deserialize(NoDuplicates, &mut deserializer) {
        let message = err.to_string();
        let name = message
            .strip_prefix("duplicate field `")
            .and_then(|rest| rest.split('`').next())
            .unwrap_or("body");
        return Err(AppError::field(
            name,
            "appears more than once in the body; send each field once",
        ));
    }
    Ok(value)
}

/// Walks a JSON document only to find an object with a repeated key.
struct NoDuplicates;

impl<'de> serde::de::DeserializeSeed<'de> for NoDuplicates {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for NoDuplicates {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = std::collections::HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(serde::de::Error::custom(format!("duplicate field `{key}`")));
            }
            map.next_value_seed(NoDuplicates)?;
        }
        Ok(())
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(NoDuplicates)?.is_some() {}
        Ok(())
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

/// The schemas a body type registers, built once per type (they never change at run time).
fn schemas_of<T: Type>() -> std::sync::Arc<Registry> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock};
    static BY_TYPE: OnceLock<Mutex<HashMap<&'static str, Arc<Registry>>>> = OnceLock::new();
    let mut table = BY_TYPE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    table
        .entry(std::any::type_name::<T>())
        .or_insert_with(|| {
            let mut registry = Registry::new();
            T::register(&mut registry);
            Arc::new(registry)
        })
        .clone()
}

fn resolve<'a>(registry: &'a Registry, schema: &'a MetaSchemaRef) -> Option<&'a MetaSchema> {
    match schema {
        MetaSchemaRef::Reference(name) => registry.schemas.get(name),
        MetaSchemaRef::Inline(inline) => match inline.all_of.first() {
            Some(first) if inline.properties.is_empty() => resolve(registry, first),
            _ => Some(inline),
        },
    }
}

fn unknown_fields(
    registry: &Registry,
    schema: &MetaSchemaRef,
    value: &Value,
    path: &str,
    errors: &mut FieldErrorsBuilder,
) {
    let Some(meta) = resolve(registry, schema) else {
        return;
    };
    match value {
        Value::Object(object) if meta.ty == "object" && !meta.properties.is_empty() => {
            for (key, child) in object {
                let field = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match meta.properties.iter().find(|(name, _)| name == key) {
                    Some((_, child_schema)) => {
                        unknown_fields(registry, child_schema, child, &field, errors)
                    }
                    None => errors.add(
                        field,
                        format!(
                            "Unknown field '{key}'; allowed fields are: {}",
                            meta.properties
                                .iter()
                                .map(|(name, _)| *name)
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ),
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = meta.items.as_deref() {
                for (index, item) in items.iter().enumerate() {
                    unknown_fields(
                        registry,
                        item_schema,
                        item,
                        &format!("{path}[{index}]"),
                        errors,
                    );
                }
            }
        }
        _ => {}
    }
}

impl<'a, T: Type + ParseFromJSON> poem_openapi::ApiExtractor<'a> for JsonBody<T> {
    const TYPES: &'static [poem_openapi::ApiExtractorType] =
        &[poem_openapi::ApiExtractorType::RequestObject];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        <Self as Payload>::register(registry);
    }

    fn request_meta() -> Option<poem_openapi::registry::MetaRequest> {
        Some(poem_openapi::registry::MetaRequest {
            description: None,
            content: vec![poem_openapi::registry::MetaMediaType {
                content_type: <Self as Payload>::CONTENT_TYPE,
                schema: <Self as Payload>::schema_ref(),
            }],
            required: true,
        })
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _param_opts: poem_openapi::ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        match request.content_type() {
            Some(content_type) if Self::check_content_type(content_type) => {
                <Self as ParsePayload>::from_request(request, body).await
            }
            Some(content_type) => Err(AppError::UnsupportedMediaType(format!(
                "Content-Type '{content_type}' is not supported: send application/json."
            ))
            .into()),
            None => Err(AppError::UnsupportedMediaType(
                "The Content-Type header is missing: send application/json.".into(),
            )
            .into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_values_serialize_as_their_display_text() {
        let amount = Amount(Money::from_minor(-162_005));
        assert_eq!(serde_json::to_string(&amount).unwrap(), r#""-1620.05""#);
        let rate = DecimalOut::plain(Decimal::new(8875, 5));
        assert_eq!(serde_json::to_string(&rate).unwrap(), r#""0.08875""#);
        for (mantissa, scale) in [
            (0, 0),
            (0, 2),
            (-0, 3),
            (5, 0),
            (5, 4),
            (-5, 4),
            (150, 2),
            (-150, 2),
            (123_456_789, 3),
            (i64::MAX, 28),
            (i64::MIN, 10),
            (1, 28),
        ] {
            let value = Decimal::new(mantissa, scale);
            assert_eq!(
                serde_json::to_string(&DecimalOut(value)).unwrap(),
                format!("\"{value}\""),
                "{mantissa}e-{scale}"
            );
        }
        let max = Decimal::MAX;
        assert_eq!(
            serde_json::to_string(&DecimalOut(max)).unwrap(),
            format!("\"{max}\"")
        );
        let negative_zero = -Decimal::new(0, 2);
        assert_eq!(
            serde_json::to_string(&DecimalOut(negative_zero)).unwrap(),
            format!("\"{negative_zero}\"")
        );
        for (y, m, d) in [
            (2024, 2, 29),
            (1, 1, 1),
            (9999, 12, 31),
            (10000, 1, 1),
            (-1, 3, 4),
        ] {
            let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            assert_eq!(
                serde_json::to_string(&Date(date)).unwrap(),
                format!("\"{date}\""),
                "{date}"
            );
        }
        // Longer than the stack buffer: still whole.
        let long = "x".repeat(100);
        assert_eq!(
            serde_json::to_string(&SerializeDisplay(&long)).unwrap(),
            format!("\"{long}\"")
        );
    }

    struct SerializeDisplay<'a>(&'a str);

    impl serde::Serialize for SerializeDisplay<'_> {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serialize_display(&self.0, serializer)
        }
    }
}
