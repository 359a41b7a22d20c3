//! The spec as served and committed: poem-openapi's output, completed in one place where
//! its derive macros cannot say enough (bounds, nullability, `additionalProperties`), and
//! reshaped where generated clients and linters read it strictly (OpenAPI 3.0.3).

use serde_json::{json, Value};

use super::api_service;
use super::spec_rules::{
    decimal_field_bounds, list_codes_and_event_types, list_the_feeds_event_types,
    property_refinements, DASHBOARD_INCLUDES, IF_MATCH, NO_CONTROL_CHARACTERS,
};

/// The spec as served and committed: poem-openapi's, completed where it cannot say
/// enough (see `finish_spec`). It never changes while the process runs, so it is built
/// once: the app, its route table and the spec endpoints all read it.
pub fn spec_json() -> String {
    static SPEC: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SPEC.get_or_init(|| finish_spec(&api_service().spec()))
        .clone()
}

/// Optional request fields for which `null` is an error rather than "absent" or "clear":
/// an update cannot blank a customer's name, code or active flag, an invoice's customer,
/// number, dates or lines, an organization's name, prefixes or terms, or a webhook
/// endpoint's URL, event types or switch. (A test sends `null` to
/// every other optional field.)
const REFUSES_NULL: [(&str, &str); 17] = [
    ("CustomerUpdate", "name"),
    ("CustomerUpdate", "customer_code"),
    ("CustomerUpdate", "is_active"),
    ("InvoiceUpdate", "customer_id"),
    ("InvoiceUpdate", "invoice_number"),
    ("InvoiceUpdate", "issue_date"),
    ("InvoiceUpdate", "due_date"),
    ("InvoiceUpdate", "items"),
    ("OrganizationUpdate", "name"),
    ("OrganizationUpdate", "invoice_number_prefix"),
    ("OrganizationUpdate", "credit_note_number_prefix"),
    ("OrganizationUpdate", "default_payment_terms_days"),
    ("OrganizationUpdate", "currency"),
    ("OrganizationUpdate", "paper_size"),
    ("WebhookEndpointUpdate", "url"),
    ("WebhookEndpointUpdate", "event_types"),
    ("WebhookEndpointUpdate", "enabled"),
];

/// What the derive macros leave out of the spec, added in one place:
/// - the document's contact and server;
/// - optional properties may be `null` (and are, in answers), so they are `nullable`,
///   except the few in [`REFUSES_NULL`];
/// - request bodies refuse unknown fields, so their schemas (nested ones too) say
///   `additionalProperties: false`;
/// - parameters and properties carry the bounds the server enforces;
/// - enum fields are written inline, not as `allOf: [$ref, {description}]`, which
///   openapi-python-client cannot read and OpenAPI 3.0 cannot make nullable.
fn finish_spec(raw: &str) -> String {
    const SCHEMAS: &str = "/components/schemas";
    let Ok(mut spec) = serde_json::from_str::<Value>(raw) else {
        return raw.to_string();
    };
    describe_document(&mut spec);
    let request_schemas = bound_parameters(&mut spec);
    if let Some(schemas) = spec.pointer_mut(SCHEMAS) {
        close_request_schemas(schemas, request_schemas);
        inline_enum_properties(schemas);
    }
    drop_unused_enums(&mut spec);
    if let Some(schemas) = spec.pointer_mut(SCHEMAS) {
        mark_optional_properties_nullable(schemas);
        for (schema, property, refinement) in property_refinements() {
            if let Some(target) = schemas.pointer_mut(&format!("/{schema}/properties/{property}")) {
                merge_into(target, &refinement);
            }
        }
        bound_decimal_fields(schemas);
        list_codes_and_event_types(schemas);
    }
    list_the_feeds_event_types(&mut spec);
    state_the_date_range(&mut spec);
    offer_conditional_gets(&mut spec);
    serde_json::to_string_pretty(&spec).unwrap_or_else(|_| raw.to_string())
}

/// Every GET whose answer carries an `ETag` takes `If-None-Match` and may answer 304 (the
/// `etag::not_modified` layer, which no handler signature shows).
fn offer_conditional_gets(spec: &mut Value) {
    let Some(paths) = spec.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for item in paths.values_mut() {
        let Some(get) = item.get_mut("get") else {
            continue;
        };
        if get.pointer("/responses/200/headers/ETag").is_none() {
            continue;
        }
        let parameter = serde_json::json!({
            "name": "If-None-Match",
            "in": "header",
            "description": "The ETag of the answer the client already holds: while it is still current, the answer is 304 with no body.",
            "required": false,
            "deprecated": false,
            "schema": {"type": "string"}
        });
        if let Some(parameters) = get.get_mut("parameters").and_then(Value::as_array_mut) {
            parameters.push(parameter);
        } else if let Some(get) = get.as_object_mut() {
            get.insert("parameters".into(), Value::Array(vec![parameter]));
        }
        let etag = get.pointer("/responses/200/headers/ETag").cloned();
        if let Some(responses) = get.get_mut("responses").and_then(Value::as_object_mut) {
            responses.insert(
                "304".into(),
                serde_json::json!({
                    "description": "Not Modified: If-None-Match names the current ETag; no body.",
                    "headers": {"ETag": etag}
                }),
            );
        }
    }
}

/// Who answers for the API, and where it is served: from the same origin as the spec
/// (a relative URL, so Swagger UI's "Try it out" works on any host and port).
fn describe_document(spec: &mut Value) {
    if let Some(info) = spec.get_mut("info").and_then(Value::as_object_mut) {
        info.insert(
            "contact".into(),
            json!({"name": "The operator of this Arvalox server"}),
        );
        info.insert(
            "license".into(),
            json!({"name": "MIT", "url": "https://opensource.org/licenses/MIT"}),
        );
    }
    spec["servers"] = json!([{
        "url": "/",
        "description": "The server that serves this document; every operation's path starts with /v1 (or is /health or /ready)."
    }]);
}

/// Adds the bounds of `search`, `limit`, `offset` and `Idempotency-Key`, and returns the
/// request body schemas.
fn bound_parameters(spec: &mut Value) -> Vec<String> {
    let mut request_schemas = Vec::new();
    let Some(paths) = spec["paths"].as_object_mut() else {
        return request_schemas;
    };
    for operation in paths
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|ops| ops.values_mut())
    {
        if let Some(reference) = operation
            .pointer("/requestBody/content/application~1json/schema/$ref")
            .and_then(Value::as_str)
        {
            request_schemas.push(
                reference
                    .trim_start_matches("#/components/schemas/")
                    .to_string(),
            );
        }
        // `get_mut`, not indexing: `operation["parameters"]` would insert a `null` there
        // (invalid OpenAPI) on every operation that has no parameters.
        let params = operation
            .get_mut("parameters")
            .and_then(Value::as_array_mut);
        for param in params.into_iter().flatten() {
            let bounds = match param["name"].as_str() {
                Some("search") => json!({"maxLength": 200, "pattern": NO_CONTROL_CHARACTERS}),
                Some("limit") => json!({"minimum": 1, "maximum": 500, "default": 50}),
                Some("offset") => json!({"minimum": 0, "default": 0}),
                Some("after") => json!({"minimum": 0}),
                Some("wait") => json!({"minimum": 0, "maximum": 30}),
                // Up to 10 edges of up to 5 digits; that they increase is the operation's
                // to check (a 400 naming `buckets`).
                Some("buckets") => json!({"pattern": "^ *[0-9]{1,5} *(, *[0-9]{1,5} *){0,9}$"}),
                // `*`, or a comma-separated list of quoted tags (`etag::listed_tags`).
                Some("If-Match") => json!({"pattern": IF_MATCH}),
                Some("include") => json!({"pattern": DASHBOARD_INCLUDES}),
                Some("currency") => json!({"enum": crate::domain::currency::Currency::all_codes()}),
                Some("Idempotency-Key") => {
                    json!({"minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"})
                }
                _ => continue,
            };
            if let (Some(schema), Some(bounds)) =
                (param["schema"].as_object_mut(), bounds.as_object())
            {
                schema.extend(bounds.clone());
            }
        }
    }
    request_schemas
}

/// `additionalProperties: false` on every request body schema and the schemas nested in it.
fn close_request_schemas(schemas: &mut Value, mut request_schemas: Vec<String>) {
    while let Some(name) = request_schemas.pop() {
        let Some(schema) = schemas.get_mut(&name) else {
            continue;
        };
        if schema.get("additionalProperties") == Some(&Value::Bool(false)) {
            continue;
        }
        schema["additionalProperties"] = Value::Bool(false);
        let nested = schema["properties"].to_string();
        for piece in nested.split("#/components/schemas/").skip(1) {
            request_schemas.push(piece.split('"').next().unwrap_or_default().to_string());
        }
    }
}

/// An enum property that carries its own description (`allOf: [$ref, {description}]`) or
/// may be null gets the enum written in place; a plain required `$ref` stays shared.
fn inline_enum_properties(schemas: &mut Value) {
    let Some(all) = schemas.as_object() else {
        return;
    };
    let enums: std::collections::HashMap<String, Value> = all
        .iter()
        .filter(|(_, schema)| schema.get("enum").is_some())
        .map(|(name, schema)| (format!("#/components/schemas/{name}"), schema.clone()))
        .collect();
    for schema in schemas
        .as_object_mut()
        .into_iter()
        .flat_map(|all| all.values_mut())
    {
        let required = schema["required"].clone();
        let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) else {
            continue;
        };
        for (name, property) in properties.iter_mut() {
            let is_required = required
                .as_array()
                .is_some_and(|names| names.iter().any(|n| n == name.as_str()));
            if property.get("$ref").is_none() || !is_required {
                inline_enum(property, &enums);
            }
        }
    }
}

/// Drops enum schemas that nothing in the document refers to any more.
fn drop_unused_enums(spec: &mut Value) {
    let text = spec.to_string();
    if let Some(all) = spec
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        all.retain(|name, schema| {
            let reference = format!("\"#/components/schemas/{name}\"");
            schema.get("enum").is_none() || text.contains(&reference)
        });
    }
}

/// Writes the enum `property` refers to in its place, keeping the property's description.
fn inline_enum(property: &mut Value, enums: &std::collections::HashMap<String, Value>) {
    let reference = property
        .get("$ref")
        .or_else(|| property.pointer("/allOf/0/$ref"))
        .and_then(Value::as_str)
        .and_then(|reference| enums.get(reference));
    if let Some(target) = reference {
        let description = property
            .get("description")
            .or_else(|| target.get("description"))
            .cloned();
        let mut inline = serde_json::Map::new();
        inline.insert("type".into(), target["type"].clone());
        inline.insert("enum".into(), target["enum"].clone());
        if let Some(description) = description {
            inline.insert("description".into(), description);
        }
        *property = Value::Object(inline);
    }
}

/// Optional properties may be `null`. OpenAPI 3.0 reads `nullable` only beside a `type`,
/// so a property that is a choice of types (`anyOf`) says it in each branch; an optional
/// `$ref` property is absent when empty, never null.
fn mark_optional_properties_nullable(schemas: &mut Value) {
    for schema in schemas
        .as_object_mut()
        .into_iter()
        .flat_map(|all| all.values_mut())
    {
        let title = schema["title"].as_str().unwrap_or_default().to_string();
        let required: Vec<String> = schema["required"]
            .as_array()
            .map(|names| {
                names
                    .iter()
                    .filter_map(|n| n.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) else {
            continue;
        };
        for (name, property) in properties.iter_mut() {
            if required.contains(name) || REFUSES_NULL.contains(&(title.as_str(), name.as_str())) {
                continue;
            }
            // An optional object or enum field is left out when empty, never null (and
            // OpenAPI 3.0 cannot say `nullable` beside a `$ref`).
            if property.get("$ref").is_some() {
                continue;
            }
            match property.get_mut("anyOf").and_then(Value::as_array_mut) {
                Some(branches) => {
                    for branch in branches {
                        branch["nullable"] = Value::Bool(true);
                    }
                }
                None => property["nullable"] = Value::Bool(true),
            }
        }
    }
}

/// Every date says which dates Arvalox keeps, also where a field's own description took
/// the place of the date type's.
fn state_the_date_range(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.get("format").and_then(Value::as_str) == Some("date") {
                let said = map.get("description").and_then(Value::as_str).unwrap_or("");
                if !said.contains(crate::domain::dates::RANGE_TEXT) {
                    let range = format!("From {}.", crate::domain::dates::RANGE_TEXT);
                    let text = if said.is_empty() {
                        range
                    } else {
                        format!("{said} {range}")
                    };
                    map.insert("description".into(), Value::String(text));
                }
            }
            map.values_mut().for_each(state_the_date_range);
        }
        Value::Array(items) => items.iter_mut().for_each(state_the_date_range),
        _ => {}
    }
}

/// Each decimal input's own range, in both of its forms (number and string).
fn bound_decimal_fields(schemas: &mut Value) {
    for (schema, property, number, text, example) in decimal_field_bounds() {
        let Some(field) = schemas.pointer_mut(&format!("/{schema}/properties/{property}")) else {
            continue;
        };
        if let Some(branches) = field.get_mut("anyOf").and_then(Value::as_array_mut) {
            for branch in branches {
                match branch["type"].as_str() {
                    Some("number") => merge_into(branch, &number),
                    Some("string") => branch["pattern"] = json!(text),
                    _ => {}
                }
            }
            field["example"] = json!(example);
        }
    }
}

fn merge_into(target: &mut Value, extra: &Value) {
    if let (Some(target), Some(extra)) = (target.as_object_mut(), extra.as_object()) {
        target.extend(extra.clone());
    }
}
