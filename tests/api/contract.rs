//! The contract at its edges: unknown query parameters, malformed path ids, header limits.

use poem::http::Method;
use serde_json::Value;

use crate::helpers::TestApp;

/// Every operation in the spec, as (method, path with `{id}` filled in).
fn operations() -> Vec<(Method, String)> {
    let spec: Value = serde_json::from_str(&arvalox::api::spec_json()).unwrap();
    let mut all = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let path = path.replace("{id}", "1").replace("{write_off_id}", "1");
            all.push((method, path));
        }
    }
    assert!(all.len() >= 20, "{all:?}");
    all
}

#[tokio::test]
async fn unknown_query_parameters_are_refused_by_name_on_every_operation() {
    let app = TestApp::new().await;
    for (method, path) in operations() {
        let url = format!("{path}?stauts=paid&limit=5&zz=1");
        let body = (method == Method::POST || method == Method::PUT || method == Method::PATCH)
            .then_some("{}");
        let reply = app
            .call(method.clone(), &url, Some(&app.key), &[], body)
            .await;
        let fields = reply.assert_error(400, "VALIDATION_ERROR");
        let message = fields["stauts"][0].as_str().unwrap_or_default();
        assert!(
            message.contains("not a query parameter"),
            "{method} {url}: {}",
            reply.body
        );
        assert!(fields["zz"].is_array(), "{method} {url}: {}", reply.body);
        let lists = [
            "/v1/customers",
            "/v1/invoices",
            "/v1/payments",
            "/v1/credit-notes",
            "/v1/events",
        ];
        let is_list = method == Method::GET
            && (lists.contains(&path.as_str())
                || path.ends_with("/history")
                || path.ends_with("/deliveries"));
        let limit_refused = fields.get("limit").is_some();
        assert_eq!(limit_refused, !is_list, "{method} {url}: {}", reply.body);
    }
}

#[tokio::test]
async fn a_misspelt_filter_no_longer_lists_everything_and_the_key_parameter_is_welcome() {
    let app = TestApp::new().await;
    let reply = app.get("/v1/invoices?stauts=paid").await;
    let fields = reply.assert_error(400, "VALIDATION_ERROR");
    let message = fields["stauts"][0].as_str().unwrap();
    assert!(
        message.contains("status"),
        "lists what the operation takes: {message}"
    );

    let path = format!("/v1/invoices?status=paid&x_arvalox_api_key={}", app.key);
    let by_query_key = app.call(Method::GET, &path, None, &[], None).await;
    assert_eq!(by_query_key.status, 200, "{}", by_query_key.body);
    let health = app
        .call(Method::GET, "/health?verbose=1", None, &[], None)
        .await;
    assert!(health.assert_error(400, "VALIDATION_ERROR")["verbose"].is_array());

    // A stray `&` or `?` alone is no parameter; `?=` is one, with an empty name (schemathesis).
    assert_eq!(app.get("/v1/invoices?&status=paid&").await.status, 200);
    assert_eq!(app.get("/v1/invoices?").await.status, 200);
    let empty_name = app.get("/v1/invoices?=").await;
    assert!(empty_name.assert_error(400, "VALIDATION_ERROR")[""].is_array());
}

/// The query is checked after the key: without one the answer is 401, and with one the
/// refusal counts against the rate limit and carries its headers like any other answer.
#[tokio::test]
async fn unknown_query_parameters_are_refused_after_authentication() {
    let app = TestApp::with(
        arvalox::ratelimit::Limits {
            per_minute: 50,
            per_hour: 0,
            per_day: 0,
            ..arvalox::ratelimit::Limits::default()
        },
        crate::helpers::TODAY,
    )
    .await;
    let anonymous = app
        .call(Method::GET, "/v1/invoices?stauts=paid", None, &[], None)
        .await;
    anonymous.assert_error(401, "AUTHENTICATION_REQUIRED");
    let refused = app.get("/v1/invoices?stauts=paid").await;
    refused.assert_error(400, "VALIDATION_ERROR");
    assert_eq!(refused.header("x-ratelimit-remaining"), Some("49"));
    let next = app.get("/v1/invoices?&status=paid").await;
    assert_eq!(
        next.status, 200,
        "an empty pair is no parameter: {}",
        next.body
    );
    assert_eq!(next.header("x-ratelimit-remaining"), Some("48"));
}

#[tokio::test]
async fn a_malformed_path_id_is_named_as_the_id_whatever_made_it_malformed() {
    let app = TestApp::new().await;
    for path in [
        "/v1/customers/%FF",
        "/v1/customers/abc",
        "/v1/customers/1.5",
        "/v1/customers/99999999999999999999",
        "/v1/invoices/%C3%28",
        "/v1/invoices/%FF/send",
        "/v1/payments/-",
        "/v1/api-keys/%00",
    ] {
        let method = if path.ends_with("/send") {
            Method::POST
        } else {
            Method::GET
        };
        let reply = app.call(method, path, Some(&app.key), &[], None).await;
        let fields = reply.assert_error(400, "VALIDATION_ERROR");
        assert!(fields["id"].is_array(), "{path}: {}", reply.body);
        assert!(fields.get("body").is_none(), "{path}: {}", reply.body);
    }
}

/// Words of the implementation that must never reach a client's error message.
const INTERNAL_WORDS: [&str; 18] = [
    // A parser's own words, which name no field kind (found in review).
    "invalid digit",
    "target type",
    "provided string was not",
    "invalid integer",
    "int64",
    "int32",
    "integer(",
    "string(",
    "number(",
    "Decimal",
    "NaiveDate",
    "failed to parse",
    "Input<",
    "Text<",
    "ParseError",
    "i64",
    "u64",
    "Vec<",
];

/// Asserts that a refusal speaks the API's words: no implementation names, and no
/// "must be an array, not an array".
fn assert_plain_words(what: &str, reply: &Value) {
    let text = reply.to_string();
    for word in INTERNAL_WORDS {
        assert!(!text.contains(word), "{what}: {text}");
    }
    for kind in [
        "a string",
        "a number",
        "a boolean",
        "an array",
        "an object",
        "a whole number",
    ] {
        assert!(
            !text.contains(&format!("must be {kind}, not {kind}")),
            "{what}: {text}"
        );
    }
}

/// A valid body for each request schema: (schema, method, path, body).
async fn valid_bodies(app: &TestApp) -> Vec<(&'static str, Method, String, Value)> {
    let customer = app.customer("Acme").await;
    let invoice = app
        .invoice(customer, "100.00", "2024-02-01", "2024-03-01")
        .await;
    let item = serde_json::json!({"description": "Work", "quantity": 1, "unit_price": "10.00"});
    let new_invoice = serde_json::json!({"customer_id": customer, "items": [item]});
    let payment = serde_json::json!({"customer_id": customer, "invoice_id": invoice,
        "amount": "1.00", "payment_method": "cash"});
    vec![
        (
            "CustomerCreate",
            Method::POST,
            "/v1/customers".into(),
            serde_json::json!({"name": "N"}),
        ),
        (
            "CustomerUpdate",
            Method::PUT,
            format!("/v1/customers/{customer}"),
            serde_json::json!({}),
        ),
        (
            "InvoiceCreate",
            Method::POST,
            "/v1/invoices".into(),
            new_invoice.clone(),
        ),
        (
            "InvoiceItemCreate",
            Method::POST,
            "/v1/invoices".into(),
            new_invoice,
        ),
        (
            "PaymentCreate",
            Method::POST,
            "/v1/payments".into(),
            payment,
        ),
        (
            "ApiKeyCreate",
            Method::POST,
            "/v1/api-keys".into(),
            serde_json::json!({"name": "k"}),
        ),
    ]
}

/// The properties `schema` has in the spec.
fn properties<'a>(spec: &'a Value, schema: &str) -> &'a serde_json::Map<String, Value> {
    spec["components"]["schemas"][schema]["properties"]
        .as_object()
        .unwrap()
}

/// `valid` with `field` (of a line, for `InvoiceItemCreate`) set to `value`, as JSON text.
fn with_field(schema: &str, valid: &Value, field: &str, value: &Value) -> String {
    let mut body = valid.clone();
    match schema {
        "InvoiceItemCreate" => body["items"][0][field] = value.clone(),
        _ => body[field] = value.clone(),
    }
    body.to_string()
}

/// Values of every wrong kind, huge and over-precise numbers among them.
fn wrong_values() -> Vec<Value> {
    [
        r#""x""#,
        "1.5",
        "true",
        "{}",
        "[]",
        "[1]",
        "-7",
        "1e400",
        r#""1e400""#,
        "1e99999999999999999999",
        "123456789012345678901234567890",
        r#""0.0000000000000000000000000000001""#,
    ]
    .iter()
    .map(|text| serde_json::from_str(text).unwrap())
    .collect()
}

/// Every field of every request body, given values of every wrong kind: each refusal names
/// the field in the API's own words, and a huge number is called too large.
#[tokio::test]
async fn every_field_error_speaks_the_apis_words() {
    let app = TestApp::new().await;
    let spec: Value = serde_json::from_str(&arvalox::api::spec_json()).unwrap();
    let mut refused = 0;
    for (schema, method, path, valid) in valid_bodies(&app).await {
        for (field, property) in properties(&spec, schema) {
            for value in wrong_values() {
                let body = with_field(schema, &valid, field, &value);
                let reply = app
                    .call(method.clone(), &path, Some(&app.key), &[], Some(&body))
                    .await;
                if reply.status != 400 {
                    continue;
                }
                refused += 1;
                let what = format!("{schema}.{field} = {value}");
                assert_plain_words(&what, &reply.body);
                let huge = value.to_string().contains("e99")
                    || value.to_string().contains("e400")
                    || value.to_string().starts_with("1234");
                if property.get("anyOf").is_some() && huge {
                    assert!(
                        reply.body.to_string().contains("too large"),
                        "{what}: {}",
                        reply.body
                    );
                }
            }
        }
    }
    assert!(refused > 150, "only {refused} refusals");
    let lines = app
        .post(
            "/v1/invoices",
            serde_json::json!({"customer_id": 1, "items": [1]}),
        )
        .await;
    let fields = lines.assert_error(400, "VALIDATION_ERROR");
    assert_eq!(
        fields["items"][0], "every element must be an object",
        "{}",
        lines.body
    );
}

/// The same for query parameters, on every operation that takes any.
#[tokio::test]
async fn every_query_parameter_error_speaks_the_apis_words() {
    let app = TestApp::new().await;
    let spec: Value = serde_json::from_str(&arvalox::api::spec_json()).unwrap();
    let mut refused = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        let Some(parameters) = item["get"]["parameters"].as_array() else {
            continue;
        };
        for parameter in parameters.iter().filter(|p| p["in"] == "query") {
            let name = parameter["name"].as_str().unwrap();
            for value in [
                "x",
                "1e400",
                "99999999999999999999999",
                "-1",
                "1.5",
                "%FF",
                "0000-01-01",
            ] {
                // A path's own id is a valid one, so only the query parameter is wrong.
                let route = path.replace("{id}", "1");
                let reply = app.get(&format!("{route}?{name}={value}")).await;
                if reply.status != 400 {
                    continue;
                }
                refused += 1;
                let text = reply.body.to_string();
                assert!(
                    reply.body["field_errors"][name].is_array(),
                    "{path}?{name}={value}: {text}"
                );
                for word in INTERNAL_WORDS {
                    assert!(!text.contains(word), "{path}?{name}={value}: {text}");
                }
            }
        }
    }
    assert!(refused > 50, "only {refused} refusals");
}

/// A text field takes a JSON string only: a number or a boolean is not quietly turned into
/// its text (poem-openapi's own `String` would store `5` as "5").
#[tokio::test]
async fn a_text_field_refuses_numbers_and_booleans() {
    let app = TestApp::new().await;
    let spec: Value = serde_json::from_str(&arvalox::api::spec_json()).unwrap();
    let mut refused = 0;
    for (schema, method, path, valid) in valid_bodies(&app).await {
        let texts = properties(&spec, schema)
            .iter()
            .filter(|(_, property)| property["type"] == "string" && property.get("enum").is_none());
        for (field, _) in texts {
            for value in [serde_json::json!(5), serde_json::json!(true)] {
                let body = with_field(schema, &valid, field, &value);
                let reply = app
                    .call(method.clone(), &path, Some(&app.key), &[], Some(&body))
                    .await;
                let fields = reply.assert_error(400, "VALIDATION_ERROR");
                let kind = if value.is_boolean() {
                    "a boolean"
                } else {
                    "a number"
                };
                let named = fields
                    .as_object()
                    .unwrap()
                    .iter()
                    .find(|(name, _)| name.ends_with(field.as_str()))
                    .and_then(|(_, messages)| messages[0].as_str().map(str::to_string))
                    .unwrap_or_default();
                assert!(
                    named.starts_with("must be ") && named.ends_with(&format!(", not {kind}")),
                    "{schema}.{field} = {value}: {}",
                    reply.body
                );
                refused += 1;
            }
        }
    }
    assert!(refused >= 20, "only {refused} refusals");
    let endpoint = app
        .post(
            "/v1/webhook-endpoints",
            serde_json::json!({"url": "https://crm.example/hook", "event_types": ["*"]}),
        )
        .await;
    let id = endpoint.body["id"].as_i64().unwrap();
    let reply = app
        .call(
            Method::PATCH,
            &format!("/v1/webhook-endpoints/{id}"),
            Some(&app.key),
            &[],
            Some(r#"{"description": 510053909758406}"#),
        )
        .await;
    let fields = reply.assert_error(400, "VALIDATION_ERROR");
    assert_eq!(fields["description"][0], "must be a string, not a number");
}
