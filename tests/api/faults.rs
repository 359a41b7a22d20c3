//! Faults answered cleanly (issue 13, section 2), each provoked for real: the book locked by
//! the `sqlite3` shell in another process, and a full disk (a small tmpfs mounted by the
//! test, which runs as root in CI; skipped with a line where mounting is refused).

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use arvalox::ratelimit::Limits;
use poem::http::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, TODAY};

fn customers(app: &TestApp) -> i64 {
    app.state
        .db
        .read_blocking(|conn| {
            Ok(conn.query_row("SELECT COUNT(*) FROM customers", (), |r| r.get(0))?)
        })
        .unwrap()
}

#[tokio::test]
async fn a_book_locked_by_another_process_answers_503_and_reads_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ar.db");
    let app = TestApp::on_file(tempfile::tempdir().unwrap(), &path, Limits::OFF, TODAY).await;
    app.customer("Before").await;
    let Ok(mut shell) = Command::new("sqlite3")
        .arg(&path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
    else {
        eprintln!("SKIPPED a_book_locked_by_another_process_answers_503_and_reads_go_on: no sqlite3 shell");
        return;
    };
    let mut input = shell.stdin.take().unwrap();
    writeln!(input, "BEGIN IMMEDIATE;").unwrap();
    writeln!(input, ".print locked").unwrap();
    input.flush().unwrap();
    let mut said = BufReader::new(shell.stdout.take().unwrap()).lines();
    assert_eq!(said.next().unwrap().unwrap(), "locked");

    let refused = app.post("/v1/customers", json!({"name": "During"})).await;
    refused.assert_error(503, "DATABASE_BUSY");
    assert_eq!(refused.header("retry-after"), Some("1"));
    assert!(refused.body["detail"]
        .as_str()
        .unwrap()
        .contains("another process holds its write lock"));
    let read = app.get("/v1/customers").await;
    assert_eq!(read.status, StatusCode::OK, "reads go on");
    assert_eq!(read.body["total"], 1);

    writeln!(input, "COMMIT;\n.quit").unwrap();
    drop(input);
    shell.wait().unwrap();
    let after = app.post("/v1/customers", json!({"name": "After"})).await;
    assert_eq!(after.status, StatusCode::CREATED, "{}", after.body);
    assert_eq!(customers(&app), 2, "nothing of the refused write");
}

#[tokio::test]
async fn a_full_disk_answers_507_reads_go_on_and_writes_resume_once_space_is_freed() {
    let dir = tempfile::tempdir().unwrap();
    let mount = dir.path().join("small");
    std::fs::create_dir(&mount).unwrap();
    let target = mount.to_str().unwrap().to_string();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=8m", "tmpfs", &target])
        .output()
        .is_ok_and(|o| o.status.success());
    if !mounted {
        eprintln!("SKIPPED a_full_disk_answers_507_...: cannot mount a tmpfs here");
        return;
    }
    let path = mount.join("ar.db");
    let app = TestApp::on_file(tempfile::tempdir().unwrap(), &path, Limits::OFF, TODAY).await;
    let acme = app.customer("Acme").await;
    // Most of what is left, taken by another file.
    let filler = mount.join("filler");
    let _ = Command::new("dd")
        .args([
            "if=/dev/zero",
            &format!("of={}", filler.display()),
            "bs=64k",
        ])
        .output();
    let notes = "x".repeat(4000);
    let mut written = 1;
    let mut refused = None;
    for n in 0..5000 {
        let reply = app
            .post(
                "/v1/customers",
                json!({"name": format!("C{n}"), "notes": notes}),
            )
            .await;
        if reply.status == StatusCode::CREATED {
            written += 1;
            continue;
        }
        refused = Some(reply);
        break;
    }
    let refused = refused.expect("the disk filled up");
    refused.assert_error(507, "INSUFFICIENT_STORAGE");
    assert!(refused.body["detail"]
        .as_str()
        .unwrap()
        .contains("disk is full"));
    let read = app.get(&format!("/v1/customers/{acme}")).await;
    assert_eq!(read.status, StatusCode::OK, "reads go on: {}", read.body);

    std::fs::remove_file(&filler).unwrap();
    let after = app.post("/v1/customers", json!({"name": "After"})).await;
    assert_eq!(
        after.status,
        StatusCode::CREATED,
        "writes resume, no restart: {}",
        after.body
    );
    assert_eq!(customers(&app), written + 1, "nothing of the refused write");
    drop(app);
    let _ = Command::new("umount").args(["-l", &target]).output();
}
