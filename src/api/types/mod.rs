//! Wire types shared by every resource, one kind per file: field wrappers that let a
//! handler name every bad field at once (`input`), text (`text`), exact money and decimals
//! (`money`), dates (`date`), and the strict JSON body extractor (`extract`).

/// The `Type` impl of a scalar wire type, which is its own raw value: its spec name, its
/// schema, (when given) the schemas it registers, and its JSON string (`json_text`, for its
/// `ToJSON` impl).
macro_rules! scalar_type {
    ($ty:ty, $($rest:tt)*) => {
        $crate::api::types::scalar_type!(impl[] $ty, $($rest)*);
    };
    (
        impl[$($generics:tt)*] $ty:ty,
        name: $name:expr,
        schema: $schema:expr
        $(, register: $register:expr)?
        , json_text: $text:expr
        $(,)?
    ) => {
        impl<$($generics)*> poem_openapi::types::Type for $ty {
            const IS_REQUIRED: bool = true;
            type RawValueType = Self;
            type RawElementValueType = Self;

            fn name() -> std::borrow::Cow<'static, str> {
                ($name).into()
            }

            fn schema_ref() -> poem_openapi::registry::MetaSchemaRef {
                $schema
            }

            $(
                fn register(registry: &mut poem_openapi::registry::Registry) {
                    ($register)(registry)
                }
            )?

            fn as_raw_value(&self) -> Option<&Self> {
                Some(self)
            }

            fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
                Box::new(std::iter::once(self))
            }
        }

        impl<$($generics)*> poem_openapi::types::ToJSON for $ty {
            fn to_json(&self) -> Option<serde_json::Value> {
                let text: fn(&Self) -> String = $text;
                Some(serde_json::Value::String(text(self)))
            }
        }
    };
}
pub(crate) use scalar_type;

/// A wire enum (snake_case in JSON and in the spec) that mirrors a domain enum variant for
/// variant, with `From` each way: the compiler keeps the two lists the same.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $name:ident <=> $domain:ident {
            $($(#[$variant_meta:meta])* $variant:ident),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(poem_openapi::Enum, Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
        #[serde(rename_all = "snake_case")]
        #[oai(rename_all = "snake_case")]
        pub(crate) enum $name {
            $($(#[$variant_meta])* $variant),+
        }

        impl From<$domain> for $name {
            fn from(value: $domain) -> Self {
                match value {
                    $($domain::$variant => $name::$variant),+
                }
            }
        }

        impl From<$name> for $domain {
            fn from(value: $name) -> Self {
                match value {
                    $($name::$variant => $domain::$variant),+
                }
            }
        }
    };
}
pub(crate) use wire_enum;

wire_enum!(
    /// A paper size for PDFs: `a4` (210 × 297 mm) or `letter` (8.5 × 11 in).
    PaperSize <=> Paper { A4, Letter }
);

use crate::domain::paper::Paper;

mod date;
mod extract;
mod input;
mod money;
mod text;

pub(crate) use date::*;
pub(crate) use extract::*;
pub(crate) use input::*;
pub(crate) use money::*;
pub(crate) use text::*;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::display::serialize_display;
    use crate::domain::money::Money;
    use chrono::NaiveDate;
    use rust_decimal::Decimal;

    #[test]
    fn short_values_serialize_as_their_display_text() {
        let usd = crate::domain::currency::Currency::USD;
        let amount = Amount::new(Money::from_minor(-162_005), usd);
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
