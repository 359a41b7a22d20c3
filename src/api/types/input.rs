//! `Input<T>`: a request field that never fails to parse, so a handler reads the whole body
//! and names every bad field at once.

use std::borrow::Cow;

use poem_openapi::registry::{MetaSchemaRef, Registry};
use poem_openapi::types::{ParseFromJSON, ParseFromParameter, ParseResult, ToJSON, Type};
use serde_json::Value;

use crate::error::FieldErrorsBuilder;

// ---------------------------------------------------------------------------------------
// Input<T>: a request field that never fails to parse, so the whole body is read and every
// bad field can be reported by name. Its schema is T's; `Opt<T>` is the same field, optional.

/// An optional request field (absent or null is fine).
pub(crate) type Opt<T> = Input<T, false>;

#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) enum Input<T, const REQUIRED: bool = true> {
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
                if !value.is_string() && crate::api::messages::wants_text::<T>() {
                    return Ok(Input::Invalid(format!("must be a string, not {found}")));
                }
                match T::parse_from_json(Some(value)) {
                    Ok(parsed) => Input::Value(parsed),
                    Err(err) => Input::Invalid(crate::api::messages::explain_parse_error::<T>(
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
            Err(err) => Input::Invalid(crate::api::messages::without_type_name(err.into_message())),
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

impl<T: poem_openapi::types::Type> Opt<T> {
    /// An optional query parameter; a bad value is added to `errors` under `name`, naming
    /// the values an enumeration takes (read from its own schema, so each list is its own).
    pub(crate) fn param(self, name: &str, errors: &mut FieldErrorsBuilder) -> Option<T> {
        match self {
            Input::Invalid(reason) => {
                let kind = T::name();
                let message = match enum_values::<T>() {
                    Some(values) if reason.contains("enumeration") => {
                        format!("must be one of: {values}")
                    }
                    // The parser's own words ("invalid digit found in string", "number too
                    // large to fit in target type") name no field kind; the type does.
                    _ if kind.starts_with("integer") && reason.contains("to fit") => {
                        let range = crate::api::messages::INTEGER_RANGE;
                        format!("must be a whole number {range}")
                    }
                    _ if kind.starts_with("integer") => "must be a whole number".to_string(),
                    _ if kind == "boolean" => "must be true or false".to_string(),
                    _ => crate::api::error::param_message(name, &reason),
                };
                errors.add(name, message);
                None
            }
            other => other.optional(name, errors),
        }
    }
}

/// The values of an enumeration type, as its schema lists them; None for other types.
fn enum_values<T: poem_openapi::types::Type>() -> Option<String> {
    let mut registry = poem_openapi::registry::Registry::new();
    T::register(&mut registry);
    let schema = registry.schemas.get(T::name().as_ref())?;
    let values: Vec<&str> = schema
        .enum_items
        .iter()
        .filter_map(|value| value.as_str())
        .collect();
    (!values.is_empty()).then(|| values.join(", "))
}

/// Checks every `Query<Opt<T>>` named, collecting each bad one into `errors`, and re-binds
/// it as a `Query<Option<T>>`.
macro_rules! params {
    ($errors:ident; $($name:ident),+ $(,)?) => {
        $(let $name = poem_openapi::param::Query($name.0.param(stringify!($name), &mut $errors));)+
    };
}
pub(crate) use params;

impl<T: ToJSON, const REQUIRED: bool> ToJSON for Input<T, REQUIRED> {
    fn to_json(&self) -> Option<Value> {
        match self {
            Input::Value(value) => value.to_json(),
            _ => None,
        }
    }
}

impl<T, const REQUIRED: bool> Input<T, REQUIRED> {
    /// The field was left out of the body.
    pub(crate) fn is_absent(&self) -> bool {
        matches!(self, Input::Absent)
    }

    /// The value, when one was given and parsed.
    pub(crate) fn value(&self) -> Option<T>
    where
        T: Copy,
    {
        match self {
            Input::Value(value) => Some(*value),
            _ => None,
        }
    }

    /// The same value, as a field of the other kind.
    pub(crate) fn into_kind<const OTHER: bool>(self) -> Input<T, OTHER> {
        match self {
            Input::Absent => Input::Absent,
            Input::Null => Input::Null,
            Input::Invalid(message) => Input::Invalid(message),
            Input::Value(value) => Input::Value(value),
        }
    }

    /// A field that must be present and valid.
    pub(crate) fn required(self, field: &str, errors: &mut FieldErrorsBuilder) -> Option<T> {
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
    pub(crate) fn optional(self, field: &str, errors: &mut FieldErrorsBuilder) -> Option<T> {
        match self {
            Input::Value(value) => Some(value),
            Input::Absent | Input::Null => None,
            Input::Invalid(message) => {
                errors.add(field, message);
                None
            }
        }
    }

    /// An optional object field: absent, or an object. The spec cannot say `nullable`
    /// beside a `$ref`, so null is refused rather than read as absent.
    pub(crate) fn object_or_absent(
        self,
        field: &str,
        errors: &mut FieldErrorsBuilder,
    ) -> Option<T> {
        if matches!(self, Input::Null) {
            errors.add(
                field,
                "Give an object here or leave it out; null is not allowed",
            );
            return None;
        }
        self.optional(field, errors)
    }

    /// For partial updates: `None` when absent (keep), `Some(None)` when null (clear).
    pub(crate) fn patch(self, field: &str, errors: &mut FieldErrorsBuilder) -> Option<Option<T>> {
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

/// The kind of a JSON value, as messages name it (`a string`, `an array`).
pub(crate) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
