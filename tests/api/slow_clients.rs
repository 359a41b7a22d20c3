//! Slow and hostile clients, through the real binary: a request that trickles in is cut
//! after `--read-timeout`, an idle connection closes after `--idle-timeout`, at most
//! `--max-connections` are served at once, and none of it stops the other clients.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::Value;

use crate::binary::{http, Server};

fn connect(port: u16) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream
}

/// Everything the server sends until it closes the connection (or resets it).
fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(buffer.get(..n).unwrap()),
            Err(err) if err.kind() == ErrorKind::ConnectionReset => break,
            Err(err) => panic!("the server neither answered nor closed: {err}"),
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}

/// The JSON body of a raw answer.
fn page(answer: &str) -> Value {
    serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap()
}

fn book(dir: &tempfile::TempDir, extra: &[&str]) -> Server {
    let db = dir.path().join("ar.db");
    Server::start_with(&db, &dir.path().join("serve.log"), extra, &[])
}

#[test]
fn a_head_that_trickles_in_is_cut_and_a_slow_body_is_answered_408() {
    let dir = tempfile::tempdir().unwrap();
    let server = book(&dir, &["--read-timeout", "1", "--idle-timeout", "60"]);

    // Headers a line at a time, never finished: cut without an answer.
    let mut slow_head = connect(server.port);
    slow_head
        .write_all(b"GET /v1/customers HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    for _ in 0..3 {
        std::thread::sleep(Duration::from_millis(300));
        let _ = slow_head.write_all(b"X-Slow: still coming\r\n");
    }
    assert_eq!(read_until_closed(&mut slow_head), "");

    // A body that stops short of its Content-Length: the documented 408, then closed.
    let mut slow_body = connect(server.port);
    let head = format!(
        "POST /v1/customers HTTP/1.1\r\nHost: x\r\nx-arvalox-api-key: {}\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n{{\"name\":",
        server.key
    );
    slow_body.write_all(head.as_bytes()).unwrap();
    let answer = read_until_closed(&mut slow_body);
    assert!(answer.starts_with("HTTP/1.1 408 "), "{answer}");
    assert!(answer.contains("\r\nconnection: close\r\n"), "{answer}");
    let body = page(&answer);
    assert_eq!(body["error_code"], "REQUEST_TIMEOUT");
    assert_eq!(
        body["detail"],
        "The request body did not arrive within 1 seconds of its headers: send it whole, at once, and try again."
    );
    // Nothing was written.
    let auth = [("x-arvalox-api-key", server.key.as_str())];
    let (status, listed) = http(server.port, "GET", "/v1/customers", &auth, "");
    assert_eq!(status, 200);
    assert_eq!(page(&listed)["total"], 0, "{listed}");
}

#[test]
fn an_idle_connection_is_closed_but_a_slow_handler_is_not_cut() {
    let dir = tempfile::tempdir().unwrap();
    let server = book(&dir, &["--read-timeout", "1", "--idle-timeout", "2"]);
    let mut idle = connect(server.port);
    idle.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    // The answer, then the close once nothing has moved for the idle timeout.
    let answer = read_until_closed(&mut idle);
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    assert!(answer.ends_with("{\"status\":\"ok\"}"), "{answer}");

    // A request whose answer takes longer than the read timeout (an events wait of 2 s)
    // is answered: the read clock stops once the head has arrived.
    let auth = [("x-arvalox-api-key", server.key.as_str())];
    let (status, events) = http(server.port, "GET", "/v1/events?wait=2", &auth, "");
    assert_eq!(status, 200, "{events}");
}

#[test]
fn connections_past_the_cap_wait_their_turn() {
    let dir = tempfile::tempdir().unwrap();
    let server = book(&dir, &["--max-connections", "2", "--idle-timeout", "60"]);
    let held: Vec<TcpStream> = (0..2).map(|_| connect(server.port)).collect();
    let mut waiting = connect(server.port);
    waiting
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    waiting
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut first = [0u8; 1];
    let early = waiting.read(&mut first);
    assert!(
        matches!(&early, Err(err) if err.kind() == ErrorKind::WouldBlock),
        "the third connection was served while two were held: {early:?}"
    );
    drop(held);
    waiting
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let answer = read_until_closed(&mut waiting);
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
}

#[test]
fn five_hundred_slow_connections_do_not_stop_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let server = book(
        &dir,
        &["--read-timeout", "3", "--rate-limit-minute", "1000"],
    );
    let mut slow: Vec<TcpStream> = (0..500)
        .map(|_| {
            let mut stream = connect(server.port);
            stream
                .write_all(b"GET /v1/customers HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                .unwrap();
            stream
        })
        .collect();
    // While they hang, the others are answered as usual.
    let auth = [("x-arvalox-api-key", server.key.as_str())];
    for n in 0..50 {
        let body = format!(r#"{{"name": "Customer {n}"}}"#);
        let (status, answer) = http(server.port, "POST", "/v1/customers", &auth, &body);
        assert_eq!(status, 201, "{answer}");
    }
    let (status, answer) = http(server.port, "GET", "/v1/customers?limit=100", &auth, "");
    assert_eq!(status, 200);
    assert_eq!(page(&answer)["total"], 50);
    // And each slow one is cut, without an answer.
    for stream in &mut slow {
        assert_eq!(read_until_closed(stream), "");
    }
}
