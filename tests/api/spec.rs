use serde_json::Value;

const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/arvalox.json");

/// Every request body schema, nested ones included.
const REQUEST_BODIES: [&str; 6] = [
    "CustomerCreate",
    "CustomerUpdate",
    "InvoiceCreate",
    "InvoiceItemCreate",
    "PaymentCreate",
    "ApiKeyCreate",
];

/// `UPDATE_OPENAPI=1 cargo test spec` rewrites the committed file from the code.
#[test]
fn committed_spec_matches_the_code() {
    let generated = arvalox::api::spec_json();
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(COMMITTED, format!("{generated}\n")).unwrap();
    }
    let committed = std::fs::read_to_string(COMMITTED).unwrap_or_default();
    assert!(
        committed.trim_end() == generated.trim_end(),
        "openapi/arvalox.json differs from the code: run `cargo run -q -- openapi > openapi/arvalox.json`"
    );
}

fn operations(spec: &Value) -> Vec<(String, String, Value)> {
    let mut found = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            found.push((path.clone(), method.clone(), operation.clone()));
        }
    }
    found
}

#[test]
fn every_operation_but_health_requires_a_key_and_documents_its_answers() {
    let spec: Value = serde_json::from_str(&arvalox::api::spec_json()).unwrap();
    let schemes = spec["components"]["securitySchemes"].as_object().unwrap();
    assert_eq!(schemes.len(), 3, "header, query and X-API-Key");
    let ops = operations(&spec);
    assert!(ops.len() >= 20, "{} operations", ops.len());
    for (path, method, op) in ops {
        let name = format!("{method} {path}");
        assert!(
            op["summary"].as_str().is_some_and(|s| !s.is_empty()),
            "{name} has no summary"
        );
        let responses = op["responses"].as_object().unwrap();
        if path == "/health" || path == "/ready" {
            assert!(op.get("security").is_none(), "{name} must be open");
            continue;
        }
        let security = op["security"].as_array().expect(&name);
        assert_eq!(
            security.len(),
            3,
            "{name} must accept all three key locations"
        );
        for status in ["400", "401", "403", "429", "500"] {
            assert!(
                responses.contains_key(status),
                "{name} does not document {status}"
            );
        }
        assert!(
            responses["429"]["headers"]["Retry-After"].is_object(),
            "{name}"
        );
        let ok = responses.keys().find(|s| s.starts_with('2')).expect(&name);
        assert!(
            responses[ok]["headers"]["X-RATELIMIT-REMAINING"].is_object(),
            "{name} does not document the rate-limit headers"
        );
        // A preview stores nothing, so a retry of it is already safe.
        if method == "post" && op["operationId"] != "preview_invoice" {
            let params = op["parameters"].as_array().expect(&name);
            assert!(
                params.iter().any(|p| p["name"] == "Idempotency-Key"),
                "{name} does not take an Idempotency-Key"
            );
        }
    }
}

#[test]
fn request_examples_are_the_documents_own() {
    let spec: Value = serde_json::from_str(&arvalox::api::spec_json()).unwrap();
    let schemas = &spec["components"]["schemas"];
    assert_eq!(
        schemas["CustomerCreate"]["example"]["name"],
        "Acme Corporation"
    );
    assert_eq!(
        schemas["InvoiceCreate"]["example"]["invoice_number"],
        "INV-2024-001"
    );
    assert_eq!(
        schemas["PaymentCreate"]["example"]["reference_number"],
        "TXN123456"
    );
    assert_eq!(
        schemas["ErrorBody"]["example"]["error_code"],
        "VALIDATION_ERROR"
    );
}

#[test]
fn optional_fields_are_nullable_and_bodies_closed() {
    let spec: Value = serde_json::from_str(&arvalox::api::spec_json()).unwrap();
    let schemas = &spec["components"]["schemas"];
    assert_eq!(schemas["Customer"]["properties"]["email"]["nullable"], true);
    assert_eq!(
        schemas["DashboardReport"]["properties"]["dso"]["nullable"],
        true
    );
    assert!(schemas["Customer"]["properties"]["name"]
        .get("nullable")
        .is_none());
    for body in REQUEST_BODIES {
        assert_eq!(schemas[body]["additionalProperties"], false, "{body}");
    }
    let params = spec["paths"]["/v1/invoices"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let limit = params.iter().find(|p| p["name"] == "limit").unwrap();
    assert_eq!(
        (
            limit["schema"]["minimum"].as_i64(),
            limit["schema"]["maximum"].as_i64()
        ),
        (Some(1), Some(500))
    );
}

/// Structural OpenAPI rules a validator or client generator relies on.
#[test]
fn parameter_lists_are_arrays_wherever_present() {
    let spec: Value = serde_json::from_str(&arvalox::api::spec_json()).unwrap();
    for (path, method, operation) in operations(&spec) {
        if let Some(params) = operation.get("parameters") {
            assert!(params.is_array(), "{method} {path}: parameters is {params}");
        }
    }
}

/// Every request field the spec calls `nullable` takes `null` (as "absent" or "clear"),
/// so clients generated from the spec never send a body the server refuses for it.
#[tokio::test]
async fn every_nullable_request_field_accepts_null() {
    use crate::helpers::TestApp;
    let app = TestApp::new().await;
    let spec: Value = serde_json::from_str(&arvalox::api::spec_json()).unwrap();
    let schemas = &spec["components"]["schemas"];
    let customer = app.customer("Acme").await;
    let item = serde_json::json!({ "description": "Work", "quantity": 1, "unit_price": "10.00" });
    let valid = |schema: &str, invoice: i64| -> (poem::http::Method, String, Value) {
        use poem::http::Method;
        match schema {
            "CustomerCreate" => (
                Method::POST,
                "/v1/customers".into(),
                serde_json::json!({ "name": "N" }),
            ),
            "CustomerUpdate" => (
                Method::PUT,
                format!("/v1/customers/{customer}"),
                serde_json::json!({}),
            ),
            "InvoiceCreate" => (
                Method::POST,
                "/v1/invoices".into(),
                serde_json::json!({ "customer_id": customer, "items": [item.clone()] }),
            ),
            "PaymentCreate" => (
                Method::POST,
                "/v1/payments".into(),
                serde_json::json!({
                    "customer_id": customer, "invoice_id": invoice,
                    "amount": "1.00", "payment_method": "cash"
                }),
            ),
            "ApiKeyCreate" => (
                Method::POST,
                "/v1/api-keys".into(),
                serde_json::json!({ "name": "k" }),
            ),
            other => panic!("no valid body for {other}: add one"),
        }
    };
    let mut tried = 0;
    for schema in REQUEST_BODIES {
        for (field, property) in schemas[schema]["properties"].as_object().unwrap() {
            if !is_nullable(property) {
                continue;
            }
            let invoice = app
                .invoice(customer, "100.00", "2024-02-01", "2024-03-01")
                .await;
            let (method, path, body) = if schema == "InvoiceItemCreate" {
                let (method, path, mut body) = valid("InvoiceCreate", invoice);
                body["items"][0][field] = Value::Null;
                (method, path, body)
            } else {
                let (method, path, mut body) = valid(schema, invoice);
                body[field] = Value::Null;
                (method, path, body)
            };
            let body = body.to_string();
            let reply = app
                .call(method, &path, Some(&app.key), &[], Some(&body))
                .await;
            assert!(
                reply.status.is_success(),
                "{schema}.{field} = null: {} {}",
                reply.status,
                reply.body
            );
            tried += 1;
        }
    }
    assert!(tried >= 19, "only {tried} nullable request fields");
}

/// `nullable` on the property, or on every branch of its `anyOf`.
fn is_nullable(property: &Value) -> bool {
    property["nullable"] == true
        || property["anyOf"]
            .as_array()
            .is_some_and(|branches| branches.iter().all(|b| b["nullable"] == true))
}

/// Every `nullable` and `$ref` in the document, found by walking it.
fn walk<'a>(value: &'a Value, at: String, found: &mut Vec<(String, &'a Value)>) {
    match value {
        Value::Object(map) => {
            found.push((at.clone(), value));
            for (key, child) in map {
                walk(child, format!("{at}/{key}"), found);
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                walk(child, format!("{at}/{index}"), found);
            }
        }
        _ => {}
    }
}

/// What strict readers need (found by spectral and openapi-python-client): no
/// `allOf: [$ref, {description}]`, `nullable` only beside a `type`, a contact and a server,
/// a description on every operation, and every enforced limit in the schema.
#[test]
fn the_spec_reads_strictly_as_openapi_3_0_and_carries_its_limits() {
    let spec: Value = serde_json::from_str(&arvalox::api::spec_json()).unwrap();
    let mut objects = Vec::new();
    walk(&spec, String::new(), &mut objects);
    for (at, object) in &objects {
        assert!(object.get("allOf").is_none(), "allOf at {at}");
        if object.get("nullable").is_some() {
            assert!(object["type"].is_string(), "nullable without type at {at}");
        }
        if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
            let name = reference.trim_start_matches("#/components/schemas/");
            assert!(spec["components"]["schemas"].get(name).is_some(), "{at}");
            assert_eq!(
                object.as_object().unwrap().len(),
                1,
                "siblings of $ref at {at}"
            );
        }
    }
    assert!(spec["info"]["contact"]["name"].is_string());
    assert_eq!(spec["servers"][0]["url"], "/");
    assert!(spec["servers"][0]["description"].is_string());
    for (path, method, operation) in operations(&spec) {
        let description = operation["description"].as_str().unwrap_or_default();
        assert!(description.len() > 20, "{method} {path} has no description");
    }
    let schemas = &spec["components"]["schemas"];
    let items = &schemas["InvoiceCreate"]["properties"]["items"];
    assert_eq!(
        (items["minItems"].as_i64(), items["maxItems"].as_i64()),
        (Some(1), Some(500))
    );
    let line = &schemas["InvoiceItemCreate"]["properties"];
    for (field, maximum, pattern) in [
        (
            "quantity",
            "999999999.9999",
            r"^([1-9][0-9]{0,8}(\.[0-9]{1,4})?|0\.([1-9][0-9]{0,3}|0[1-9][0-9]{0,2}|00[1-9][0-9]{0,1}|000[1-9]))$",
        ),
        (
            "unit_price",
            "999999999999.99",
            r"^[0-9]{1,12}(\.[0-9]{1,4})?$",
        ),
    ] {
        assert_eq!(
            line[field]["anyOf"][0]["maximum"].to_string(),
            maximum,
            "{field}"
        );
        assert_eq!(line[field]["anyOf"][1]["pattern"], pattern, "{field}");
    }
    let issue_date = &schemas["InvoiceCreate"]["properties"]["issue_date"];
    assert!(issue_date["description"]
        .as_str()
        .unwrap()
        .contains("1900-01-01 to 9999-12-31"));
    assert!(issue_date["pattern"]
        .as_str()
        .unwrap()
        .starts_with("^(19[0-9]{2}|[2-9][0-9]{3})"));
    let status = &schemas["InvoiceCreate"]["properties"]["status"];
    // `null` is not added to the values: openapi-python-client then makes three types of
    // one field, where `nullable` alone gives `InvoiceCreateStatus | None`.
    assert_eq!(status["enum"], serde_json::json!(["draft", "sent"]));
    assert_eq!(status["nullable"], true);
}

/// The decimal inputs share one type; each field still documents its own range.
#[test]
fn decimal_inputs_and_search_carry_their_own_bounds() {
    let spec: Value = serde_json::from_str(&arvalox::api::spec_json()).unwrap();
    let item = &spec["components"]["schemas"]["InvoiceItemCreate"]["properties"];
    let tax_rate = &item["tax_rate"];
    assert_eq!(tax_rate["example"], "0.08");
    let number = tax_rate["anyOf"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["type"] == "number")
        .unwrap();
    assert_eq!(
        (number["minimum"].as_i64(), number["maximum"].as_i64()),
        (Some(0), Some(1))
    );
    let text = tax_rate["anyOf"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["type"] == "string")
        .unwrap();
    assert_eq!(text["pattern"], r"^(0(\.[0-9]{1,6})?|1(\.0{1,6})?)$");
    assert_eq!(item["quantity"]["anyOf"][0]["exclusiveMinimum"], true);
    // Money inputs carry the range the server takes (found by schemathesis: a credit
    // limit of 6.7e15 was valid by the schema and refused).
    let schemas = &spec["components"]["schemas"];
    for (body, field, exclusive) in [
        ("CustomerCreate", "credit_limit", false),
        ("CustomerUpdate", "credit_limit", false),
        ("PaymentCreate", "amount", true),
        ("AllocationIn", "amount", true),
        ("RefundCreate", "amount", true),
        ("WriteOffCreate", "amount", true),
    ] {
        let branches = schemas[body]["properties"][field]["anyOf"]
            .as_array()
            .unwrap();
        let number = branches.iter().find(|b| b["type"] == "number").unwrap();
        assert_eq!(number["minimum"].as_i64(), Some(0), "{body}.{field}");
        assert_eq!(
            number["maximum"].to_string(),
            "99999999999999",
            "{body}.{field}"
        );
        assert_eq!(
            number["exclusiveMinimum"].as_bool(),
            Some(exclusive).filter(|e| *e)
        );
        // An amount that must be more than 0 says so in its text form too.
        let text = branches.iter().find(|b| b["type"] == "string").unwrap();
        let pattern = if exclusive {
            r"^([1-9][0-9]{0,13}(\.[0-9]{1,4})?|0\.([1-9][0-9]{0,3}|0[1-9][0-9]{0,2}|00[1-9][0-9]{0,1}|000[1-9]))$"
        } else {
            r"^[0-9]{1,14}(\.[0-9]{1,4})?$"
        };
        assert_eq!(text["pattern"], pattern, "{body}.{field}");
    }
    for body in ["Customer", "CustomerCreate", "CustomerUpdate"] {
        let email = &spec["components"]["schemas"][body]["properties"]["email"];
        assert_eq!(email["format"], "email", "{body}");
    }
    for body in ["CustomerCreate", "CustomerUpdate"] {
        let terms = &spec["components"]["schemas"][body]["properties"]["payment_terms_days"];
        assert_eq!(
            (terms["minimum"].as_i64(), terms["maximum"].as_i64()),
            (Some(0), Some(3650))
        );
    }
    let search = spec["paths"]["/v1/customers"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "search")
        .unwrap();
    assert_eq!(search["schema"]["maxLength"], 200);
    assert!(search["schema"]["pattern"].is_string());
}

/// What the server checks field by field is stated in the spec (found by schemathesis: each
/// of these was a schema-valid value the server refused).
#[test]
fn the_spec_states_the_servers_field_checks() {
    let spec: Value = serde_json::from_str(&arvalox::api::spec_json()).unwrap();
    let schemas = &spec["components"]["schemas"];
    let organization = &schemas["OrganizationUpdate"]["properties"];
    assert_eq!(
        organization["invoice_number_prefix"]["pattern"],
        "^[A-Za-z0-9_/-]{1,10}$"
    );
    assert_eq!(organization["name"]["minLength"], 1);
    assert!(organization["name"].get("nullable").is_none());
    assert_eq!(
        schemas["CreditNoteCreate"]["properties"]["items"]["minItems"],
        1
    );
    let allocations = &schemas["CreditAllocation"]["properties"]["allocations"];
    assert_eq!(allocations["minItems"], 1);
    assert_eq!(allocations["maxItems"], 100);
    let endpoint = &schemas["WebhookEndpointCreate"]["properties"];
    assert_eq!(endpoint["event_types"]["maxItems"], 50);
    assert!(endpoint["url"]["pattern"]
        .as_str()
        .unwrap()
        .starts_with("^https?://"));
    assert!(schemas["WebhookEndpointUpdate"]["properties"]["url"]
        .get("nullable")
        .is_none());
    assert_eq!(schemas["EmailRequest"]["properties"]["cc"]["maxItems"], 20);
    let parameter = |path: &str, name: &str| {
        spec["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap()["schema"]
            .clone()
    };
    let include = parameter("/v1/reports/dashboard", "include");
    assert_eq!(
        include["pattern"],
        r"^\s*(kpis|series)?\s*(,\s*(kpis|series)?\s*)*$"
    );
    let currency = parameter("/v1/reports/aging", "currency");
    assert!(currency["enum"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c == "JPY"));
    let if_match = &spec["paths"]["/v1/customers/{id}"]["put"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "If-Match")
        .unwrap()["schema"]["pattern"];
    assert!(if_match.as_str().unwrap().contains(r#""[^",]*""#));
}
