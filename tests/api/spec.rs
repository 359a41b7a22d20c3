use serde_json::Value;

const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/arvalox.json");

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
        if path == "/health" {
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
        if method == "post" {
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
    for body in [
        "CustomerCreate",
        "CustomerUpdate",
        "InvoiceCreate",
        "InvoiceItemCreate",
        "PaymentCreate",
        "ApiKeyCreate",
    ] {
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
