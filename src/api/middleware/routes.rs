//! What the spec says each route takes: the `Allow` header of a 405, and unknown query
//! parameters refused by name.

use poem::http::{header, HeaderValue, StatusCode};
use poem::{Endpoint, IntoResponse, Request, Response};

use crate::api::error::render;

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
    /// (method, query parameter names); `None` for routes outside the spec, left unchecked.
    operations: Option<Vec<(String, Vec<String>)>>,
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
                let operations: Vec<(String, Vec<String>)> = item
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(method, operation)| (method.to_uppercase(), query_names(operation)))
                    .collect();
                let methods: Vec<&str> = operations.iter().map(|(m, _)| m.as_str()).collect();
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
        let method = if method == "HEAD" { "GET" } else { method };
        let operations = self.find(path)?.operations.as_ref()?;
        operations
            .iter()
            .find(|(m, _)| m == method)
            .map(|(_, names)| names.as_slice())
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
    let unknown = unknown_query_names(&table, &req);
    if unknown.is_empty() {
        return Ok(inner.call(req).await?.into_response());
    }
    let known = table
        .query_parameters(req.method().as_str(), req.uri().path())
        .unwrap_or_default();
    let takes = if known.is_empty() {
        "this operation takes no query parameters".to_string()
    } else {
        format!("this operation takes: {}", known.join(", "))
    };
    let mut errors = crate::error::FieldErrorsBuilder::default();
    for name in &unknown {
        errors.add(
            name,
            format!("is not a query parameter of this operation; {takes}"),
        );
    }
    match errors.finish() {
        Err(refused) => Ok(render(&refused)),
        Ok(()) => Ok(inner.call(req).await?.into_response()),
    }
}

fn unknown_query_names(table: &RouteTable, req: &Request) -> Vec<String> {
    let Some(query) = req.uri().query().filter(|q| !q.is_empty()) else {
        return Vec::new();
    };
    let Some(known) = table.query_parameters(req.method().as_str(), req.uri().path()) else {
        return Vec::new();
    };
    // A query that is not form-encoded at all is left to the operation, which names it.
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
    let mut unknown: Vec<String> = pairs
        .into_iter()
        .map(|(name, _)| name)
        // `?` alone or a stray `&` give no pair at all; `?=x` is a parameter with an empty
        // name, which no operation takes.
        .filter(|name| name != crate::api::auth::QUERY_KEY && !known.contains(name))
        .collect();
    unknown.sort();
    unknown.dedup();
    unknown
}
