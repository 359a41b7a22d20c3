//! `arvalox verify` against a real book tampered with outside Arvalox (issue 11, section 2):
//! an edited event, a deleted event, two swapped events, a truncated tail, an invoice
//! total changed with no event and a payment inserted with no event are each caught and
//! named; the untouched book passes.

use std::path::{Path, PathBuf};
use std::process::Command;

use arvalox::ratelimit::Limits;
use poem::http::StatusCode;
use rusqlite::Connection;
use serde_json::json;

use crate::helpers::{TestApp, TODAY};

const BIN: &str = env!("CARGO_BIN_EXE_arvalox");

/// Runs `arvalox verify`; answers whether it passed and what it printed.
fn verify(path: &Path, extra: &[&str]) -> (bool, String) {
    let out = Command::new(BIN)
        .arg("verify")
        .arg("--db")
        .arg(path)
        .args(extra)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// A copy of the book with `tamper` run on it, as someone with the sqlite3 shell would:
/// the journal's append-only triggers dropped first.
fn tampered(original: &Path, dir: &Path, name: &str, tamper: &str) -> PathBuf {
    let copy = dir.join(format!("{name}.db"));
    Connection::open(original)
        .unwrap()
        .execute(&format!("VACUUM INTO '{}'", copy.display()), [])
        .unwrap();
    Connection::open(&copy)
        .unwrap()
        .execute_batch(&format!(
            "DROP TRIGGER journal_events_never_changed;
             DROP TRIGGER journal_events_never_deleted;
             {tamper}"
        ))
        .unwrap();
    copy
}

#[tokio::test]
async fn verify_names_each_kind_of_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let path = dir.path().join("ar.db");
    let app = TestApp::on_file(dir, &path, Limits::OFF, TODAY).await;
    let acme = app.customer("Acme").await;
    let inv = app
        .invoice(acme, "100.00", "2024-01-05", "2024-01-20")
        .await;
    assert_eq!(
        app.pay(acme, inv, "40.00", "2024-02-01").await.status,
        StatusCode::CREATED
    );
    let renamed = app
        .put(
            &format!("/v1/customers/{acme}"),
            json!({"name": "Acme Ltd"}),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK);

    let (ok, text) = verify(&path, &[]);
    assert!(ok, "{text}");
    assert!(
        text.contains("organization 'default': 7 events, head event 7"),
        "{text}"
    );
    let head = text
        .split("hash ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let expect = format!("default={head}");
    let (ok, text) = verify(&path, &["--expect-head", &expect]);
    assert!(ok, "{text}");

    let cases = [
        (
            "edited",
            "UPDATE journal_events SET data = json_set(data, '$.name', 'Evil Corp') WHERE id = 3;",
            "journal event 3: its content was changed",
        ),
        (
            "deleted",
            "DELETE FROM journal_events WHERE id = 4;",
            "journal event 4: event 4 is missing",
        ),
        (
            "swapped",
            "UPDATE journal_events SET id = 100 WHERE id = 4;
             UPDATE journal_events SET id = 4 WHERE id = 5;
             UPDATE journal_events SET id = 5 WHERE id = 100;",
            "journal event 4: its prev_hash",
        ),
        (
            "total",
            "UPDATE invoices SET total_minor = total_minor + 100, subtotal_minor = subtotal_minor + 100;",
            "invoice 1 differs from its latest journal event 6 in",
        ),
        (
            // A duplicate key parses last-wins: the stored text must be what was hashed.
            "duplicate key",
            "UPDATE journal_events SET data = '{\"name\":\"Evil Corp\",' || substr(data, 2) WHERE id = 3;",
            "journal event 3",
        ),
        (
            "summaries",
            "UPDATE invoice_daily SET total_minor = total_minor + 1000000;",
            "daily summaries",
        ),
        (
            // Marking the organization as predating the journal must not launder the row.
            "laundered",
            "INSERT INTO payments (organization_id, customer_id, amount_minor, payment_method,
                 payment_date, created_at, unapplied_minor)
             VALUES (1, 1, 5000, 'cash', '2024-02-02', '2024-02-02T00:00:00.000Z', 5000);
             INSERT INTO journal_imports_due VALUES (1);",
            "payment 2 has no journal event",
        ),
        (
            "inserted",
            "INSERT INTO payments (organization_id, customer_id, amount_minor, payment_method,
                 payment_date, created_at, unapplied_minor)
             VALUES (1, 1, 5000, 'cash', '2024-02-02', '2024-02-02T00:00:00.000Z', 5000);",
            "payment 2 has no journal event",
        ),
    ];
    for (name, tamper, fault) in cases {
        let copy = tampered(&path, scratch.path(), name, tamper);
        let (ok, text) = verify(&copy, &[]);
        assert!(!ok, "{name}: {text}");
        assert!(text.contains(fault), "{name}: {text}");
    }
    let cut = tampered(
        &path,
        scratch.path(),
        "truncated",
        "DELETE FROM journal_events WHERE id = 7;",
    );
    let (ok, text) = verify(&cut, &["--expect-head", &expect]);
    assert!(!ok, "{text}");
    assert!(
        text.contains("no event of the journal has the expected head hash") && text.contains(&head),
        "{text}"
    );

    // A book that has only grown since the head was taken still passes.
    app.customer("Later").await;
    let (ok, text) = verify(&path, &["--expect-head", &expect]);
    assert!(ok, "{text}");
    assert!(text.contains("1 event after the expected head"), "{text}");
}
