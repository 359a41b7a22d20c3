//! `JsonBody<T>`: the strict request body extractor (malformed JSON, non-objects, unknown
//! and duplicate fields refused by name) and the body hash for Idempotency-Key comparisons.

use poem::{Request, RequestBody};
use poem_openapi::payload::{ParsePayload, Payload};
use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
use poem_openapi::types::{ParseFromJSON, Type};
use serde_json::Value;

use super::input::json_kind;
use crate::domain::currency::Currency;
use crate::error::{AppError, FieldErrorsBuilder};

// ---------------------------------------------------------------------------------------
// JsonBody<T>: the request body extractor. Malformed JSON, a non-object body and unknown
// fields (at any depth) are 400s naming what is wrong; fields themselves are `Input<_>`.

pub(crate) struct JsonBody<T> {
    pub value: T,
    /// SHA-256 of the body as parsed, for Idempotency-Key comparisons.
    pub hash: String,
    /// Unknown fields found in the body; handlers add their own findings and answer all at once.
    unknown_fields: FieldErrorsBuilder,
}

impl<T> JsonBody<T> {
    /// The body's value and an error collector that already names its unknown fields.
    pub(crate) fn into_parts(self) -> (T, FieldErrorsBuilder, String) {
        (self.value, self.unknown_fields, self.hash)
    }

    /// The body on its way to a domain type (see [`Received`]), and its hash.
    pub(crate) fn received(
        self,
        today: chrono::NaiveDate,
        currency: Currency,
    ) -> (Received<T>, String) {
        let received = Received {
            body: self.value,
            today,
            currency,
            errors: self.unknown_fields,
        };
        (received, self.hash)
    }

    /// [`JsonBody::received`] for a body that holds no amounts.
    pub(crate) fn received_plain(self, today: chrono::NaiveDate) -> (Received<T>, String) {
        self.received(today, Currency::default())
    }
}

/// A parsed body on its way to a domain type: `TryFrom<Received<Body>>` for the domain
/// type (`NewInvoice`, `NewPayment`) checks every field and answers every bad field at
/// once, unknown ones included. `today` is the default date of the request.
pub(crate) struct Received<T> {
    pub body: T,
    pub today: chrono::NaiveDate,
    /// The currency its amounts are in: every bad one is named with the other fields.
    pub currency: Currency,
    pub errors: FieldErrorsBuilder,
}

impl<T> Received<T> {
    /// The body, the request's day, the amounts' currency and the errors found so far.
    pub(crate) fn into_parts(self) -> (T, chrono::NaiveDate, Currency, FieldErrorsBuilder) {
        (self.body, self.today, self.currency, self.errors)
    }
}

/// The body of a void or a reversal: a date under a name of its own and a reason.
pub(crate) trait DatedReason {
    /// The date's field: `void_date`, `reverse_date`.
    const DATE_FIELD: &'static str;
    /// The date under `DATE_FIELD` and the reason, as the body gave them.
    fn into_date_and_reason(self)
        -> (super::Input<super::Date>, super::Input<super::Text<1, 500>>);
}

/// Both required, the reason trimmed; every bad one named with the errors found before.
impl<T: DatedReason> TryFrom<Received<T>> for (chrono::NaiveDate, String) {
    type Error = AppError;

    fn try_from(received: Received<T>) -> Result<Self, AppError> {
        let (body, today, _, mut errors) = received.into_parts();
        let (date, reason) = body.into_date_and_reason();
        let date = date.required(T::DATE_FIELD, &mut errors);
        let reason = reason.text().required("reason", &mut errors);
        let date = event_date(T::DATE_FIELD, date, today, errors)?;
        Ok((date, reason.unwrap_or_default().trim().to_string()))
    }
}

/// Finishes the body's `errors` with a dated event's date under `field`: the one `given`,
/// else today. After today is the body's own fault, so it is refused here, before any
/// stored state is read: named beside the body's other faults, so one answer says all
/// there is to fix, or alone as the 400 naming just `field`.
pub(crate) fn event_date(
    field: &str,
    given: Option<super::Date>,
    today: chrono::NaiveDate,
    mut errors: FieldErrorsBuilder,
) -> Result<chrono::NaiveDate, AppError> {
    let date = given.map_or(today, |d| d.0);
    if errors.is_empty() {
        crate::domain::ledger::not_after_today(field, date, today)?;
    } else if let Some(why) = crate::domain::ledger::after_today(date, today) {
        errors.add(field, why);
    }
    errors.finish()?;
    Ok(date)
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
        Ok(JsonBody::from_bytes(&data)?)
    }
}

impl<T: Type + ParseFromJSON> JsonBody<T> {
    /// A body that is not blank, read strictly.
    fn from_bytes(data: &[u8]) -> Result<Self, AppError> {
        let value = parse_strict(data)?;
        if !value.is_object() {
            return Err(AppError::field(
                "body",
                format!("must be a JSON object, not {}", json_kind(&value)),
            ));
        }
        let registry = schemas_of::<T>();
        let mut errors = FieldErrorsBuilder::new();
        unknown_fields(&registry, &T::schema_ref(), &value, "", &mut errors);
        let hash = crate::api::idempotency::body_hash(&value);
        let parsed = T::parse_from_json(Some(value))
            .map_err(|err| AppError::field("body", err.into_message()))?;
        Ok(JsonBody {
            value: parsed,
            hash,
            unknown_fields: errors,
        })
    }
}

/// Parses JSON, refusing duplicate keys: `{"amount": 1, "amount": 900}` must not quietly
/// mean 900.
fn parse_strict(data: &[u8]) -> Result<Value, AppError> {
    let value: Value = serde_json::from_slice(data)
        .map_err(|err| AppError::field("body", format!("Malformed JSON: {err}")))?;
    let mut deserializer = serde_json::Deserializer::from_slice(data);
    let walk = NoDuplicates(String::new());
    if let Err(err) = serde::de::DeserializeSeed::deserialize(walk, &mut deserializer) {
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

/// Walks a JSON document only to find an object with a repeated key, named by its path
/// (`allocations[0].amount`) as every other field error is.
struct NoDuplicates(String);

impl NoDuplicates {
    fn child(&self, segment: std::fmt::Arguments) -> NoDuplicates {
        NoDuplicates(format!("{}{segment}", self.0))
    }
}

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
            let field = match self.0.is_empty() {
                true => self.child(format_args!("{key}")),
                false => self.child(format_args!(".{key}")),
            };
            if !seen.insert(key) {
                let path = field.0;
                return Err(serde::de::Error::custom(format!(
                    "duplicate field `{path}`"
                )));
            }
            map.next_value_seed(field)?;
        }
        Ok(())
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0_usize;
        while seq
            .next_element_seed(self.child(format_args!("[{index}]")))?
            .is_some()
        {
            index += 1;
        }
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
        json_content_type::<T>(request)?;
        <Self as ParsePayload>::from_request(request, body).await
    }
}

/// The 415 unless the request says its body is JSON.
fn json_content_type<T: Type>(request: &Request) -> Result<(), AppError> {
    match request.content_type() {
        Some(content_type) if JsonBody::<T>::check_content_type(content_type) => Ok(()),
        Some(content_type) => Err(AppError::UnsupportedMediaType(format!(
            "Content-Type '{content_type}' is not supported: send application/json."
        ))),
        None => Err(AppError::UnsupportedMediaType(
            "The Content-Type header is missing: send application/json.".into(),
        )),
    }
}

/// A body that may be left out: none at all (or only white space) is `None`, as for a POST
/// that takes no body; any other is read as strictly as [`JsonBody`].
pub(crate) struct MaybeJsonBody<T>(pub Option<JsonBody<T>>);

impl<'a, T: Type + ParseFromJSON> poem_openapi::ApiExtractor<'a> for MaybeJsonBody<T> {
    const TYPES: &'static [poem_openapi::ApiExtractorType] =
        &[poem_openapi::ApiExtractorType::RequestObject];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        <JsonBody<T> as Payload>::register(registry);
    }

    fn request_meta() -> Option<poem_openapi::registry::MetaRequest> {
        let meta = <JsonBody<T> as poem_openapi::ApiExtractor>::request_meta()?;
        Some(poem_openapi::registry::MetaRequest {
            required: false,
            ..meta
        })
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _param_opts: poem_openapi::ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        let data = <Vec<u8> as poem::FromRequest>::from_request(request, body).await?;
        if data.iter().all(u8::is_ascii_whitespace) {
            return Ok(MaybeJsonBody(None));
        }
        json_content_type::<T>(request)?;
        Ok(MaybeJsonBody(Some(JsonBody::from_bytes(&data)?)))
    }
}
