//! Fuzzing the request parsing through the whole HTTP stack: arbitrary bytes, arbitrary
//! JSON shaped like the API's bodies, and arbitrary decimal texts in money fields, sent to
//! every operation that takes a body. Whatever comes in, the answer is a success or the
//! documented error body with a 4xx: never a 500, never a dropped connection.
//!
//! 256 cases a property by default (`PROPTEST_CASES` sets another number). Anything this
//! ever finds is kept below as a test of its own.

use std::sync::OnceLock;

use poem::http::Method;
use proptest::prelude::*;
use serde_json::{json, Map, Value};

use crate::helpers::TestApp;

/// Every operation with a request body, its ids pointing at the seeded rows.
fn operations() -> Vec<(Method, String)> {
    let spec: Value = serde_json::from_str(include_str!("../../openapi/arvalox.json")).unwrap();
    let mut found = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if operation.get("requestBody").is_some() {
                let concrete = path
                    .split('/')
                    .map(|segment| match segment.starts_with('{') {
                        true => "1",
                        false => segment,
                    })
                    .collect::<Vec<_>>()
                    .join("/");
                found.push((method.to_uppercase().parse().unwrap(), concrete));
            }
        }
    }
    assert!(found.len() >= 20, "{found:?}");
    found
}

struct Fuzzed {
    runtime: tokio::runtime::Runtime,
    app: TestApp,
    operations: Vec<(Method, String)>,
}

/// One book for every case: a customer, a sent invoice, a payment and a credit note, so
/// the ids in the paths exist.
fn shared() -> &'static Fuzzed {
    static SHARED: OnceLock<Fuzzed> = OnceLock::new();
    SHARED.get_or_init(|| {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let app = runtime.block_on(async {
            let app = TestApp::new().await;
            let customer = app.customer("Acme").await;
            let invoice = app
                .invoice(customer, "100.00", "2024-01-05", "2024-02-04")
                .await;
            app.pay(customer, invoice, "10.00", "2024-02-01").await;
            app
        });
        let operations = operations();
        Fuzzed {
            runtime,
            app,
            operations,
        }
    })
}

/// The documented error codes, as the spec lists them.
fn error_codes() -> Vec<String> {
    let spec: Value = serde_json::from_str(include_str!("../../openapi/arvalox.json")).unwrap();
    spec["components"]["schemas"]["ErrorCode"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|code| code.as_str().unwrap().to_string())
        .collect()
}

/// Sends `body` to the `pick`th operation and checks the answer is a success or the
/// documented error.
fn send(pick: usize, body: Vec<u8>) -> Result<(), TestCaseError> {
    let fuzzed = shared();
    let (method, path) = fuzzed
        .operations
        .get(pick % fuzzed.operations.len())
        .unwrap();
    let (status, text) = fuzzed.runtime.block_on(async {
        let response = fuzzed
            .app
            .client
            .request(method.clone(), path)
            .header("x-arvalox-api-key", &fuzzed.app.key)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await;
        let status = response.0.status().as_u16();
        let bytes = response.0.into_body().into_vec().await.unwrap();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    });
    let shown = String::from_utf8_lossy(&body);
    prop_assert!(status < 500, "{method} {path} {shown:?}: {status} {text}");
    if status >= 400 {
        let answer: Value = serde_json::from_str(&text).unwrap_or_default();
        let code = answer["error_code"].as_str().unwrap_or_default();
        prop_assert!(error_codes().iter().any(|known| known == code), "{text}");
        prop_assert!(answer["detail"].as_str().is_some_and(|d| !d.is_empty()));
        prop_assert!(answer["field_errors"].is_object(), "{text}");
    }
    Ok(())
}

/// Field names the API's bodies use, so generated objects reach past "unknown field".
const FIELDS: &[&str] = &[
    "name",
    "email",
    "customer_id",
    "invoice_id",
    "amount",
    "payment_date",
    "payment_method",
    "issue_date",
    "due_date",
    "items",
    "description",
    "quantity",
    "unit_price",
    "tax_rate",
    "allocations",
    "allocate",
    "notes",
    "currency",
    "reason",
    "date",
    "url",
    "event_types",
    "scope",
    "timezone",
    "reference_number",
    "email",
    "to",
    "cc",
    "message",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        "-?[0-9]{1,30}(\\.[0-9]{1,30})?".prop_map(Value::String),
        "20[0-9]{2}-[0-1][0-9]-[0-3][0-9]".prop_map(Value::String),
        ".{0,40}".prop_map(Value::String),
    ]
}

fn shaped_json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 40, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(FIELDS), inner), 0..8).prop_map(|fields| {
                let object: Map<String, Value> = fields
                    .into_iter()
                    .map(|(name, value)| (name.to_string(), value))
                    .collect();
                Value::Object(object)
            }),
        ]
    })
}

/// Decimal-looking text, including what a float printer, a spreadsheet or a typo makes.
fn decimal_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "-?[0-9]{0,40}(\\.[0-9]{0,40})?([eE][-+]?[0-9]{0,12})?",
        "[-+ ]?[0-9,._ ]{0,30}",
        ".{0,20}",
    ]
}

proptest! {
    #[test]
    fn any_bytes_get_an_answer_never_a_500(
        pick in any::<usize>(),
        body in prop::collection::vec(any::<u8>(), 0..400),
    ) {
        send(pick, body)?;
    }

    #[test]
    fn any_json_shaped_like_a_body_gets_an_answer_never_a_500(
        pick in any::<usize>(),
        body in shaped_json(),
    ) {
        send(pick, body.to_string().into_bytes())?;
    }

    #[test]
    fn any_decimal_text_gets_an_answer_never_a_500(
        pick in 0usize..3,
        text in decimal_text(),
        quoted in any::<bool>(),
    ) {
        // As a JSON string, or as the raw number token (which may not be valid JSON).
        let amount = if quoted { Value::String(text.clone()).to_string() } else { text.clone() };
        let body = match pick {
            0 => format!(r#"{{"customer_id": 1, "amount": {amount}, "payment_date": "2024-02-10"}}"#),
            1 => format!(r#"{{"customer_id": 1, "issue_date": "2024-02-10", "items": [{{"description": "Work", "quantity": {amount}, "unit_price": {amount}, "tax_rate": {amount}}}]}}"#),
            _ => format!(r#"{{"amount": {amount}, "date": "2024-02-20"}}"#),
        };
        let operation = ["/v1/payments", "/v1/invoices", "/v1/invoices/1/write-offs"][pick];
        let at = shared().operations.iter().position(|(m, p)| m == Method::POST && p == operation);
        send(at.unwrap(), body.into_bytes())?;
    }
}

/// Decimal texts at the edges of what the parser, rust_decimal and JSON allow: each is a
/// case the property above may take long to reach.
#[test]
fn decimal_edges_get_an_answer_never_a_500() {
    let edges = [
        "1e999999999",
        "1E-999999999",
        "-0",
        "0e0",
        "79228162514264337593543950335",
        "79228162514264337593543950336",
        "-79228162514264337593543950336",
        "0.0000000000000000000000000001",
        "0.00000000000000000000000000001",
        ".5",
        "5.",
        "1_000",
        "1,000.00",
        " 10.00 ",
        "+10",
        "--1",
        "1e",
        "e5",
        "NaN",
        "Infinity",
        "0x10",
        "١٠",
        "10.00\u{0}",
        "",
    ];
    let at = shared()
        .operations
        .iter()
        .position(|(m, p)| m == Method::POST && p == "/v1/payments")
        .unwrap();
    for text in edges {
        for amount in [Value::String(text.into()).to_string(), text.to_string()] {
            let body = format!(
                r#"{{"customer_id": 1, "amount": {amount}, "payment_date": "2024-02-10"}}"#
            );
            send(at, body.into_bytes()).unwrap();
        }
    }
}
