//! E-mail through the real executable (issue 12, section 3): the SMTP URL from the
//! environment, STARTTLS and AUTH, a refused URL that never shows its password.

use serde_json::json;

use crate::binary::{http, Server};
use crate::email::attachment;
use crate::smtp_sink::Sink;

#[test]
fn the_binary_mails_through_the_url_in_its_environment_and_logs_no_password() {
    let sink = Sink::with_tls_and_auth();
    let dir = tempfile::tempdir().unwrap();
    let (db, log) = (dir.path().join("ar.db"), dir.path().join("serve.log"));
    let url = format!("smtp://clerk:s3cret@localhost:{}", sink.port);
    let ca = sink.ca_file.as_ref().unwrap().display().to_string();
    let server = Server::start_with(
        &db,
        &log,
        &[
            "--mail-from",
            "Acme Receivables <ar@acme.test>",
            "--smtp-ca-file",
            &ca,
        ],
        &[("ARVALOX_SMTP_URL", &url)],
    );
    let key = server.key.clone();
    let auth = [("x-arvalox-api-key", key.as_str())];
    let (status, body) = http(
        server.port,
        "POST",
        "/v1/customers",
        &auth,
        &json!({"name": "Globex", "email": "ap@globex.test"}).to_string(),
    );
    assert_eq!(status, 201, "{body}");
    let invoice = json!({"customer_id": 1, "issue_date": "2024-02-20", "due_date": "2024-03-20",
        "status": "draft", "items": [{"description": "Anvil", "quantity": 1, "unit_price": "99.50"}]});
    let (status, body) = http(
        server.port,
        "POST",
        "/v1/invoices",
        &auth,
        &invoice.to_string(),
    );
    assert_eq!(status, 201, "{body}");
    let (status, body) = http(
        server.port,
        "POST",
        "/v1/invoices/1/send",
        &auth,
        r#"{"email": {}}"#,
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""status":"sent""#), "{body}");
    let inbox = sink.inbox();
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].rcpt_to, ["ap@globex.test"]);
    assert_eq!(attachment(&inbox[0]).0, "INV-2024-00001.pdf");
    assert!(server.stop().success());
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("smtp://clerk@localhost:"), "{logged}");
    assert!(!logged.contains("s3cret"), "{logged}");
}

#[test]
fn a_url_that_would_send_the_password_in_clear_stops_the_start_without_showing_it() {
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_arvalox"))
        .args([
            "serve",
            "--db",
            dir.path().join("ar.db").to_str().unwrap(),
            "--bind",
            "127.0.0.1:0",
        ])
        .args([
            "--smtp-url",
            "smtp://clerk:s3cret@mail.example.com?tls=none",
            "--mail-from",
            "ar@acme.test",
        ])
        .env_remove("MALLOC_ARENA_MAX")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr).to_string()
        + &String::from_utf8_lossy(&output.stdout);
    assert!(said.contains("a password is only sent over TLS"), "{said}");
    assert!(!said.contains("s3cret"), "{said}");
    assert!(
        !dir.path().join("ar.db").exists(),
        "nothing is created before the settings are read"
    );
    let lone = std::process::Command::new(env!("CARGO_BIN_EXE_arvalox"))
        .args([
            "serve",
            "--db",
            dir.path().join("ar.db").to_str().unwrap(),
            "--smtp-url",
            "smtp://h",
        ])
        .env_remove("MALLOC_ARENA_MAX")
        .output()
        .unwrap();
    assert!(!lone.status.success());
    assert!(String::from_utf8_lossy(&lone.stderr).contains("--mail-from"));
}
