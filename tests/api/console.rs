//! The web console's files: served from the binary at `/` and `/console/{file}`, with
//! headers that let the page run only its own scripts. (What a person does with it is
//! tested in a real browser: `.ci/console/run.sh`.)

use serde_json::Value;

use crate::helpers::TestApp;

/// Every file of `console/` with the address it is served at and its media type: a file
/// left out of the binary's list fails here.
fn console_files() -> Vec<(String, &'static str)> {
    let mut files: Vec<(String, &'static str)> = std::fs::read_dir("console")
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .map(|name| match name.rsplit_once('.').map(|(_, ext)| ext) {
            Some("html") => ("/".to_string(), "text/html; charset=utf-8"),
            Some("css") => (format!("/console/{name}"), "text/css; charset=utf-8"),
            _ => (format!("/console/{name}"), "text/javascript; charset=utf-8"),
        })
        .collect();
    files.sort();
    files
}

#[tokio::test]
async fn the_console_is_served_from_the_binary_with_a_strict_policy() {
    let app = TestApp::new().await;
    let mut total = 0;
    let files = console_files();
    assert!(files.len() >= 12, "{files:?}");
    for (path, media_type) in files {
        let path = path.as_str();
        // No key: the page must load before anyone signs in.
        let reply = app
            .call(poem::http::Method::GET, path, None, &[], None)
            .await;
        assert_eq!(reply.status, 200, "{path}");
        assert_eq!(reply.header("content-type"), Some(media_type), "{path}");
        let policy = reply.header("content-security-policy").unwrap();
        assert!(policy.contains("script-src 'self';"), "{policy}");
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
        assert!(!policy.contains("unsafe-inline") && !policy.contains("http"));
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(reply.header("referrer-policy"), Some("no-referrer"));
        let Value::String(text) = &reply.body else {
            panic!("{path}: not text");
        };
        total += text.len();
        if path == "/" {
            // Every script is a file of its own: the policy allows no inline one.
            assert_eq!(text.matches("<script").count(), 1, "{text}");
            assert!(text.contains(r#"<script type="module" src="/console/app.js"></script>"#));
        }
    }
    // Small: far under the 300 KB the console may weigh compressed.
    assert!(total < 100_000, "{total} bytes");
}

#[tokio::test]
async fn an_unknown_console_file_is_the_documented_404_and_writes_are_refused() {
    let app = TestApp::new().await;
    let missing = app.get("/console/secrets.txt").await;
    missing.assert_error(404, "NOT_FOUND");
    let posted = app
        .call(poem::http::Method::POST, "/", None, &[], Some("{}"))
        .await;
    posted.assert_error(405, "METHOD_NOT_ALLOWED");
    assert_eq!(posted.header("allow"), Some("GET"));
}
