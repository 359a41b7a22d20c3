//! Answers: JSON written straight from each type's serde form. poem-openapi's own `Json`
//! builds a `serde_json::Value` tree first (a map allocation and hash per field), which was
//! half the instructions of an invoice read. The schema still comes from `T: Type`, and a
//! test checks serde's JSON against poem-openapi's `ToJSON` for every answer type.

use std::marker::PhantomData;

use poem::http::{header, HeaderValue, StatusCode};
use poem::{IntoResponse, Response};
use poem_openapi::payload::Payload;
use poem_openapi::registry::{
    MetaHeader, MetaMediaType, MetaResponse, MetaResponses, MetaSchemaRef, Registry,
};
use poem_openapi::types::Type;
use poem_openapi::ApiResponse;
use serde::Serialize;

use super::etag::etag_header;
use super::middleware;

/// Writes `value` as JSON text.
pub(crate) fn to_json_text<T: Serialize>(value: &T) -> String {
    // Room for a typical invoice up front, rather than growing (and copying) from 128 bytes.
    let mut text = Vec::with_capacity(2048);
    // Serializing a plain struct cannot fail: every map key is a field name.
    if serde_json::to_writer(&mut text, value).is_err() {
        return String::new();
    }
    // serde_json writes only valid UTF-8.
    String::from_utf8(text).unwrap_or_default()
}

pub(crate) const JSON_CONTENT_TYPE: &str = "application/json; charset=utf-8";

/// A 200 JSON answer documented as `T` (poem-openapi's `Json`, serialized by serde).
pub(crate) struct Json<T>(pub T);

impl<T: Type> Payload for Json<T> {
    const CONTENT_TYPE: &'static str = JSON_CONTENT_TYPE;

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: Serialize + Send> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        middleware::text_answer(JSON_CONTENT_TYPE, to_json_text(&self.0))
    }
}

impl<T: Type + Serialize + Send> ApiResponse for Json<T> {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![MetaResponse {
                description: "",
                status: Some(200),
                status_range: None,
                content: vec![MetaMediaType {
                    content_type: <Self as Payload>::CONTENT_TYPE,
                    schema: <Self as Payload>::schema_ref(),
                }],
                headers: vec![],
            }],
        }
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

/// A 200 JSON answer already written as text, documented as `T` (as [`Json`] is).
pub(crate) struct JsonText<T>(String, PhantomData<T>);

impl<T> JsonText<T> {
    /// `text` must be what serializing a `T` would give.
    pub(crate) fn from_text(text: String) -> Self {
        JsonText(text, PhantomData)
    }
}

impl<T: Send> IntoResponse for JsonText<T> {
    fn into_response(self) -> Response {
        middleware::text_answer(JSON_CONTENT_TYPE, self.0)
    }
}

impl<T: Type + Serialize + Send> ApiResponse for JsonText<T> {
    fn meta() -> MetaResponses {
        Json::<T>::meta()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

// Answers to writes: raw JSON so a stored answer replays byte for byte.

/// A JSON answer with status `STATUS` (201 adds a `Location` header); documented as `T`.
/// A `TAGGED` answer is one resource and carries its `ETag` (see `api::etag`).
pub(crate) struct JsonAnswer<T, const STATUS: u16, const TAGGED: bool = false> {
    status: u16,
    location: Option<String>,
    body: AnswerBody,
    _schema: PhantomData<T>,
}

/// An answer's JSON: its text, or (an untagged answer too long to hold whole) written
/// piece by piece as it is sent.
enum AnswerBody {
    Text(String),
    Written(middleware::WrittenAnswer),
}

pub(crate) type Created<T> = JsonAnswer<T, 201>;
pub(crate) type Done<T> = JsonAnswer<T, 200>;
/// One resource, with its `ETag`.
pub(crate) type One<T> = JsonAnswer<T, 200, true>;
/// A created resource, with its `ETag`.
pub(crate) type CreatedOne<T> = JsonAnswer<T, 201, true>;

impl<T: Serialize, const STATUS: u16, const TAGGED: bool> JsonAnswer<T, STATUS, TAGGED> {
    /// `value` serialized now, so only its text is kept until the answer is sent.
    pub(crate) fn of(value: &T) -> Self {
        JsonAnswer {
            status: STATUS,
            location: None,
            body: AnswerBody::Text(to_json_text(value)),
            _schema: PhantomData,
        }
    }

    /// A stored answer replayed as it was first sent.
    pub(crate) fn stored(status: u16, location: Option<String>, body: String) -> Self {
        JsonAnswer {
            status,
            location,
            body: AnswerBody::Text(body),
            _schema: PhantomData,
        }
    }

    /// An answer already written as JSON text that serializing a `T` would give.
    pub(crate) fn from_text(body: String) -> Self {
        JsonAnswer {
            status: STATUS,
            location: None,
            body: AnswerBody::Text(body),
            _schema: PhantomData,
        }
    }
}

impl<T: Serialize, const STATUS: u16> JsonAnswer<T, STATUS, false> {
    /// An answer written piece by piece as it is sent, that serializing a `T` would give
    /// (untagged: an `ETag` would need the whole text first).
    pub(crate) fn written(written: middleware::WrittenAnswer) -> Self {
        JsonAnswer {
            status: STATUS,
            location: None,
            body: AnswerBody::Written(written),
            _schema: PhantomData,
        }
    }
}

impl<T: Send, const STATUS: u16, const TAGGED: bool> IntoResponse
    for JsonAnswer<T, STATUS, TAGGED>
{
    fn into_response(self) -> Response {
        let mut response = match self.body {
            AnswerBody::Text(text) => {
                let etag = TAGGED.then(|| etag_header(&text)).flatten();
                let mut response = middleware::text_answer(JSON_CONTENT_TYPE, text);
                if let Some(etag) = etag {
                    response.headers_mut().insert(header::ETAG, etag);
                }
                response
            }
            AnswerBody::Written(written) => middleware::pieces_answer(JSON_CONTENT_TYPE, written),
        };
        response.set_status(StatusCode::from_u16(self.status).unwrap_or(StatusCode::OK));
        if let Some(value) = self.location.and_then(|l| HeaderValue::from_str(&l).ok()) {
            response.headers_mut().insert(header::LOCATION, value);
        }
        response
    }
}

impl<T: Type + Send, const STATUS: u16, const TAGGED: bool> ApiResponse
    for JsonAnswer<T, STATUS, TAGGED>
{
    fn meta() -> MetaResponses {
        let mut headers = Vec::new();
        if STATUS == 201 {
            headers.push(required_header::<String>(
                "Location",
                "Path of the created resource.",
            ));
        }
        if TAGGED {
            headers.push(required_header::<String>(
                "ETag",
                "The answer's strong entity tag: it changes whenever the answer does. Send it back in `If-None-Match` (304 while unchanged) or `If-Match` (a change that applies only to this version).",
            ));
        }
        MetaResponses {
            responses: vec![MetaResponse {
                description: if STATUS == 201 { "Created." } else { "OK." },
                status: Some(STATUS),
                status_range: None,
                content: vec![MetaMediaType {
                    content_type: "application/json; charset=utf-8",
                    schema: T::schema_ref(),
                }],
                headers,
            }],
        }
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

/// A response header every answer of its status carries, for the spec.
pub(crate) fn required_header<T: Type>(name: &str, description: &str) -> MetaHeader {
    MetaHeader {
        name: name.into(),
        description: Some(description.into()),
        required: true,
        deprecated: false,
        schema: T::schema_ref(),
    }
}

/// The answer to a DELETE that removed what it named.
#[derive(poem_openapi::ApiResponse)]
pub(crate) enum Deleted {
    /// Deleted.
    #[oai(status = 204)]
    NoContent,
}
