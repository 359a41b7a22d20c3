//! `Text`: a JSON string with its length and character rules in the type (and the spec).

use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult};
use serde_json::Value;

use super::input::{json_kind, Input};

// ---------------------------------------------------------------------------------------
// Text: a JSON string and nothing else (poem-openapi's `String` would take 123 or false),
// with its length bounds and character rules in the type, so they are both checked and
// written into the spec (`minLength`, `maxLength`, `pattern`). `LINES` allows newlines and tabs.

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Text<const MIN: usize = 0, const MAX: usize = 5000, const LINES: bool = false>(
    pub String,
);

super::scalar_type!(
    impl[const MIN: usize, const MAX: usize, const LINES: bool] Text<MIN, MAX, LINES>,
    name: format!("string({MIN}..{MAX}{})", if LINES { ", lines" } else { "" }),
    schema: {
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
},
    json_text: |text| text.0.clone(),
);

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

impl<const REQUIRED: bool, const MIN: usize, const MAX: usize, const LINES: bool>
    Input<Text<MIN, MAX, LINES>, REQUIRED>
{
    /// The field's text as a plain `String`.
    pub(crate) fn text(self) -> Input<String, REQUIRED> {
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
