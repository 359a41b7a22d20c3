//! The HTTP layer as a client on a socket meets it, through the real executable: the
//! header limit answers in JSON, and the few malformed requests that hyper refuses before
//! Arvalox sees them get exactly the answers the README lists.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::binary::{http, Server};

/// Sends `request` as bytes and reads until the server closes the connection.
fn raw(port: u16, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    String::from_utf8_lossy(&response).into_owned()
}

fn status_and_body(response: &str) -> (&str, &str) {
    let status = response.lines().next().unwrap_or_default();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .unwrap_or_default();
    (status, body)
}

fn with_header(name: &str, value: &str) -> Vec<u8> {
    format!("GET /health HTTP/1.1\r\nHost: x\r\n{name}: {value}\r\nConnection: close\r\n\r\n")
        .into_bytes()
}

#[test]
fn headers_over_16_kib_answer_431_in_json_and_hypers_own_refusals_are_pinned() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("ar.db"), &dir.path().join("serve.log"));
    let port = server.port;

    // Just under the limit is served; 64 KB in one header, or in many, is a JSON 431.
    let (status, _) = http(
        port,
        "GET",
        "/health",
        &[("X-Pad", &"a".repeat(16_000))],
        "",
    );
    assert_eq!(status, 200);
    let many: Vec<(String, String)> = (0..40)
        .map(|i| (format!("X-Pad-{i}"), "b".repeat(1_000)))
        .collect();
    let many: Vec<(&str, &str)> = many.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let (status, response) = http(port, "GET", "/v1/ping", &many, "");
    assert_eq!(status, 431, "{response}");
    let response = raw(port, &with_header("X-Big", &"a".repeat(65_536)));
    let (status, body) = status_and_body(&response);
    assert_eq!(
        status, "HTTP/1.1 431 Request Header Fields Too Large",
        "{response}"
    );
    let body: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(body["error_code"], "HEADERS_TOO_LARGE");
    assert!(body["detail"].as_str().unwrap().contains("16384"), "{body}");
    assert_eq!(body["field_errors"], serde_json::json!({}));

    // The README's one exception: hyper answers these itself, with an empty body.
    let too_many: String = (0..120).map(|i| format!("X-H{i}: 1\r\n")).collect();
    let pinned: [(&str, Vec<u8>, &str); 6] = [
        ("headers past hyper's buffer", with_header("X-Huge", &"a".repeat(1_000_000)),
         "HTTP/1.1 431 Request Header Fields Too Large"),
        ("more than 100 headers",
         format!("GET /health HTTP/1.1\r\nHost: x\r\n{too_many}\r\n").into_bytes(),
         "HTTP/1.1 431 Request Header Fields Too Large"),
        ("a malformed request line", b"GARBAGE\r\n\r\n".to_vec(), "HTTP/1.1 400 Bad Request"),
        ("a header without a colon",
         b"GET /health HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n".to_vec(),
         "HTTP/1.1 400 Bad Request"),
        ("two different Content-Lengths",
         b"POST /v1/customers HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}".to_vec(),
         "HTTP/1.1 400 Bad Request"),
        ("an invalid Content-Length",
         b"POST /v1/customers HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}".to_vec(),
         "HTTP/1.1 400 Bad Request"),
    ];
    for (case, request, expected) in pinned {
        let response = raw(port, &request);
        let (status, body) = status_and_body(&response);
        assert_eq!(status, expected, "{case}: {response}");
        assert!(
            response
                .to_ascii_lowercase()
                .contains("content-length: 0\r\n"),
            "{case}: {response}"
        );
        assert!(
            response
                .to_ascii_lowercase()
                .contains("connection: close\r\n"),
            "{case}: {response}"
        );
        assert_eq!(body, "", "{case}");
    }
    // The server is unharmed.
    let (status, _) = http(port, "GET", "/health", &[], "");
    assert_eq!(status, 200);
    server.stop();
}

/// A key out of its scope gets its 403 before its body is judged, but the body is still
/// read: a client that sends the whole body before reading gets the 403 (not a reset),
/// and the connection carries on to its next request.
#[test]
fn a_403_before_the_body_still_reads_it_and_keeps_the_connection() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ar.db");
    let server = Server::start(&db, &dir.path().join("serve.log"));
    let created = crate::binary::arvalox(&[
        "keys",
        "create",
        "--db",
        db.to_str().unwrap(),
        "--name",
        "reader",
        "--scope",
        "read",
    ]);
    let stdout = String::from_utf8(created.stdout).unwrap();
    let read = stdout.lines().last().unwrap().trim();
    let body = format!("{{\"name\": \"{}\"}}", "a".repeat(300_000));
    let request = format!(
        "POST /v1/customers HTTP/1.1\r\nHost: x\r\nx-arvalox-api-key: {read}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}\
         GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let response = raw(server.port, request.as_bytes());
    // The 403's body has no line end: the next answer's status line follows it directly.
    let statuses: Vec<&str> = response
        .split("HTTP/1.1 ")
        .skip(1)
        .filter_map(|answer| answer.get(..3))
        .collect();
    assert_eq!(statuses, ["403", "200"], "{response}");
    assert!(response.contains("INSUFFICIENT_PERMISSIONS"), "{response}");
}
