//! What the spec says each route takes: the `Allow` header of a 405, unknown or repeated
//! query parameters refused by name, and a body refused where the operation takes none.

use poem::http::{header, HeaderValue, StatusCode};
use poem::{Endpoint, IntoResponse, Request, Response};

use crate::api::error::render;
use crate::error::AppError;

/// Each route's methods (for a 405's `Allow` header) and the query parameters each of its
/// operations takes (to refuse the ones it does not), read from the generated spec.
pub(crate) struct RouteTable {
    routes: Vec<RouteEntry>,
}

struct RouteEntry {
    /// The path as the spec writes it (`/v1/invoices/{id}`).
    template: String,
    segments: Vec<String>,
    allow: String,
    /// Each operation's method and input; `None` for routes outside the spec, left unchecked.
    operations: Option<Vec<Operation>>,
}

struct Operation {
    method: String,
    /// The spec's `operationId`: what `api::scopes` declares its scope by.
    id: String,
    query: Vec<String>,
    /// Whether the spec gives it a request body.
    takes_body: bool,
}

impl RouteTable {
    /// Reads the routes from the generated spec (mounted under `prefix`), plus `extra`.
    pub(crate) fn from_spec(
        spec: &serde_json::Value,
        prefix: &str,
        extra: &[(&str, &str)],
    ) -> Self {
        let mut routes = Vec::new();
        if let Some(paths) = spec.get("paths").and_then(|p| p.as_object()) {
            for (path, item) in paths {
                let operations: Vec<Operation> = item
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(method, operation)| Operation {
                        method: method.to_uppercase(),
                        id: operation["operationId"]
                            .as_str()
                            .unwrap_or_default()
                            .to_string(),
                        query: query_names(operation),
                        takes_body: operation.get("requestBody").is_some(),
                    })
                    .collect();
                let methods: Vec<&str> = operations.iter().map(|o| o.method.as_str()).collect();
                let template = format!("{prefix}{path}");
                routes.push(RouteEntry {
                    segments: segments(&template),
                    template,
                    allow: methods.join(", "),
                    operations: Some(operations),
                });
            }
        }
        for (path, methods) in extra {
            routes.push(RouteEntry {
                template: path.to_string(),
                segments: segments(path),
                allow: methods.to_string(),
                operations: None,
            });
        }
        RouteTable { routes }
    }

    fn find(&self, path: &str) -> Option<&RouteEntry> {
        let wanted = segments(path);
        self.routes.iter().find(|route| {
            route.segments.len() == wanted.len()
                && route
                    .segments
                    .iter()
                    .zip(&wanted)
                    .all(|(p, w)| p.starts_with('{') || p == w)
        })
    }

    /// The route template `path` matches (`/v1/invoices/{id}` for `/v1/invoices/7`).
    pub(crate) fn template(&self, path: &str) -> Option<&str> {
        self.find(path).map(|route| route.template.as_str())
    }

    pub(crate) fn allowed(&self, path: &str) -> Option<&str> {
        self.find(path).map(|route| route.allow.as_str())
    }

    /// The query parameters the operation at `method` and `path` takes, or `None` when no
    /// documented operation answers there (its 404 or 405 comes first).
    pub(crate) fn query_parameters(&self, method: &str, path: &str) -> Option<&[String]> {
        self.operation(method, path).map(|o| o.query.as_slice())
    }

    /// The `operationId` of the operation at `method` and `path`, when one answers there.
    pub(crate) fn operation_id(&self, method: &str, path: &str) -> Option<&str> {
        self.operation(method, path).map(|o| o.id.as_str())
    }

    /// Whether the operation at `method` and `path` takes a body; `None` when no
    /// documented operation answers there.
    fn takes_body(&self, method: &str, path: &str) -> Option<bool> {
        self.operation(method, path).map(|o| o.takes_body)
    }

    fn operation(&self, method: &str, path: &str) -> Option<&Operation> {
        let method = if method == "HEAD" { "GET" } else { method };
        let operations = self.find(path)?.operations.as_ref()?;
        operations.iter().find(|o| o.method == method)
    }

    /// Why `body` is refused, when the operation at `method` and `path` takes none. No
    /// body, or an empty JSON object, says nothing and passes; a field is named as unknown,
    /// anything else is named as the body. Otherwise the handler would never look at it,
    /// and a retry with another body would replay the first answer.
    pub(crate) fn stray_body(&self, method: &str, path: &str, body: &[u8]) -> Option<AppError> {
        if self.takes_body(method, path) != Some(false) {
            return None;
        }
        let text = std::str::from_utf8(body).map(str::trim).ok();
        if text.is_some_and(str::is_empty) {
            return None;
        }
        let object = text.and_then(|text| {
            serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(text).ok()
        });
        let mut errors = crate::error::FieldErrorsBuilder::default();
        match object {
            Some(object) => {
                for key in object.keys() {
                    let unknown = format!("Unknown field '{key}'; this operation takes no body");
                    errors.add(key.clone(), unknown);
                }
            }
            None => errors.add("body", "this operation takes no body: send none (or {})"),
        }
        errors.finish().err()
    }
}

fn query_names(operation: &serde_json::Value) -> Vec<String> {
    operation
        .get("parameters")
        .and_then(|p| p.as_array())
        .into_iter()
        .flatten()
        .filter(|param| param["in"] == "query")
        .filter_map(|param| param["name"].as_str().map(str::to_string))
        .collect()
}

fn segments(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

pub(crate) async fn allow_header<E: Endpoint>(
    table: std::sync::Arc<RouteTable>,
    inner: E,
    req: Request,
) -> poem::Result<Response> {
    let path = req.uri().path().to_string();
    let mut response = inner.call(req).await?.into_response();
    if response.status() == StatusCode::METHOD_NOT_ALLOWED {
        if let Some(value) = table
            .allowed(&path)
            .and_then(|m| HeaderValue::from_str(m).ok())
        {
            response.headers_mut().insert(header::ALLOW, value);
        }
    }
    Ok(response)
}

/// Refuses query parameters the operation does not take, naming each: a misspelt filter
/// (`stauts=paid`) would otherwise list everything. The API key's own parameter is
/// accepted everywhere.
pub(crate) async fn refuse_unknown_query<E: Endpoint>(
    table: std::sync::Arc<RouteTable>,
    inner: E,
    req: Request,
) -> poem::Result<Response> {
    let query = req.uri().query().filter(|q| !q.is_empty());
    // Where no documented operation answers, its 404 or 405 comes first.
    let known = table.query_parameters(req.method().as_str(), req.uri().path());
    let (Some(query), Some(known)) = (query, known) else {
        return Ok(inner.call(req).await?.into_response());
    };
    let (unknown, repeated) = misfits(query, known);
    if unknown.is_empty() && repeated.is_empty() {
        return Ok(inner.call(req).await?.into_response());
    }
    let takes = if known.is_empty() {
        "this operation takes no query parameters".to_string()
    } else {
        format!("this operation takes: {}", known.join(", "))
    };
    let mut errors = crate::error::FieldErrorsBuilder::default();
    for name in unknown {
        errors.add(
            name,
            format!("is not a query parameter of this operation; {takes}"),
        );
    }
    for name in repeated {
        // The operation would read the first and drop the rest without a word.
        errors.add(name, "is given more than once; give it once");
    }
    match errors.finish() {
        Err(refused) => Ok(render(&refused)),
        Ok(()) => Ok(inner.call(req).await?.into_response()),
    }
}

/// The names in `query` the operation does not take, and those given more than once,
/// each sorted and listed once. The API key's own parameter is authentication's.
fn misfits(query: &str, known: &[String]) -> (Vec<String>, Vec<String>) {
    // A query that is not form-encoded at all is left to the operation, which names it.
    // `?` alone or a stray `&` give no pair at all; `?=x` is a parameter with an empty
    // name, which no operation takes.
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
    let mut names: Vec<String> = pairs
        .into_iter()
        .map(|(name, _)| name)
        .filter(|name| name != crate::api::auth::QUERY_KEY)
        .collect();
    names.sort();
    let mut repeated: Vec<String> = names
        .windows(2)
        .filter(|pair| pair.first() == pair.get(1))
        .filter_map(|pair| pair.first().cloned())
        .collect();
    repeated.dedup();
    names.dedup();
    names.retain(|name| !known.contains(name));
    (names, repeated)
}
