//! The web console: static pages built only on the public `/v1` API, embedded in the
//! binary (no CDN, no network at run time), served at `/` and `/console/{file}` with
//! headers that let them run nothing but their own scripts.

use poem::http::{header, StatusCode};
use poem::{handler, web::Path, Response};

use crate::api::middleware::text_answer;

/// One embedded file: its name under `/console/`, its media type and its text.
struct Asset {
    name: &'static str,
    media_type: &'static str,
    text: &'static str,
}

/// An embedded file of `console/`, by name.
macro_rules! asset {
    ($name:literal, $media_type:expr) => {
        Asset {
            name: $name,
            media_type: $media_type,
            text: include_str!(concat!("../console/", $name)),
        }
    };
}

const SCRIPT: &str = "text/javascript; charset=utf-8";

const ASSETS: [Asset; 13] = [
    asset!("index.html", "text/html; charset=utf-8"),
    asset!("style.css", "text/css; charset=utf-8"),
    asset!("app.js", SCRIPT),
    asset!("lib.js", SCRIPT),
    asset!("decimal.js", SCRIPT),
    asset!("format.js", SCRIPT),
    asset!("charts.js", SCRIPT),
    asset!("actions.js", SCRIPT),
    asset!("dashboard.js", SCRIPT),
    asset!("customers.js", SCRIPT),
    asset!("invoices.js", SCRIPT),
    asset!("payments.js", SCRIPT),
    asset!("reports.js", SCRIPT),
];

/// Only this origin's own scripts, styles and API; no inline script, no frames, no forms
/// sent elsewhere. (Charts are inline SVG built by the script, which `img-src` does not
/// govern.)
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// `GET /`: the console's page.
#[handler]
pub fn console_page() -> poem::Result<Response> {
    answer(ASSETS.iter().find(|a| a.name == "index.html"))
}

/// `GET /console/{file}`: one of its scripts or styles.
#[handler]
pub fn console_file(Path(file): Path<String>) -> poem::Result<Response> {
    answer(ASSETS.iter().find(|a| a.name == file))
}

fn answer(asset: Option<&Asset>) -> poem::Result<Response> {
    let Some(asset) = asset else {
        return Err(crate::error::AppError::NotFound("No such console file.".into()).into());
    };
    let mut response = text_answer(asset.media_type, asset.text);
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        // The files change with the binary only; `no-cache` asks again each time, cheaply.
        (header::CACHE_CONTROL, "no-cache"),
    ] {
        headers.insert(name, header::HeaderValue::from_static(value));
    }
    response.set_status(StatusCode::OK);
    Ok(response)
}
