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

const ASSETS: [Asset; 3] = [
    Asset {
        name: "index.html",
        media_type: "text/html; charset=utf-8",
        text: include_str!("../console/index.html"),
    },
    Asset {
        name: "app.js",
        media_type: "text/javascript; charset=utf-8",
        text: include_str!("../console/app.js"),
    },
    Asset {
        name: "style.css",
        media_type: "text/css; charset=utf-8",
        text: include_str!("../console/style.css"),
    },
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
    let mut response = text_answer(asset.media_type, asset.text.to_string());
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
