//! Backups and the doctor (issue 13, section 1): an online copy taken while payments are
//! written, checked and balanced; `POST /v1/admin/backup`; `doctor` finding what drifted
//! and `--repair` writing the derived data again from the records.

use std::path::Path;

use arvalox::domain::keys::Scope;
use poem::http::{Method, StatusCode};
use rusqlite::Connection;
use serde_json::json;

use crate::helpers::{date, TestApp, TODAY};

fn count(path: &Path, sql: &str) -> i64 {
    Connection::open(path)
        .unwrap()
        .query_row(sql, [], |row| row.get(0))
        .unwrap()
}

async fn book(app: &TestApp) -> (i64, Vec<i64>) {
    let acme = app.customer("Acme").await;
    let mut invoices = Vec::new();
    for day in 1..=9 {
        let issued = format!("2024-01-0{day}");
        invoices.push(app.invoice(acme, "100.00", &issued, "2024-02-28").await);
    }
    (acme, invoices)
}

#[tokio::test]
async fn backups_taken_while_payments_are_written_check_out_and_balance() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ar.db");
    let backups = tempfile::tempdir().unwrap();
    let app = TestApp::on_file(dir, &path, arvalox::ratelimit::Limits::OFF, TODAY).await;
    let (acme, invoices) = book(&app).await;
    let writing = async {
        for round in 0..60 {
            let invoice = invoices[round % invoices.len()];
            let reply = app.pay(acme, invoice, "1.00", "2024-02-01").await;
            assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        }
    };
    let copying = async {
        let mut taken = Vec::new();
        for n in 0..3 {
            let out = backups.path().join(format!("copy-{n}.db"));
            let (from, to) = (path.clone(), out.clone());
            let done = tokio::task::spawn_blocking(move || {
                arvalox::ops::backup(&from, &to, false, date(TODAY))
            })
            .await
            .unwrap()
            .unwrap();
            assert!(done.bytes > 0);
            taken.push(out);
            tokio::task::yield_now().await;
        }
        taken
    };
    let ((), taken) = tokio::join!(writing, copying);
    for copy in &taken {
        let checkup = arvalox::ops::doctor(copy, date(TODAY)).unwrap();
        assert_eq!(checkup.faults, 0, "{:#?}", checkup.lines);
        // Each copy is one moment: its payments, allocations and journal agree.
        let payments = count(copy, "SELECT COUNT(*) FROM payments");
        let events = count(
            copy,
            "SELECT COUNT(*) FROM journal_events WHERE type = 'payment.created'",
        );
        assert_eq!(payments, events);
        assert!(payments <= 60);
    }
    assert_eq!(count(&path, "SELECT COUNT(*) FROM payments"), 60);
}

#[tokio::test]
async fn a_backup_never_replaces_a_file_unless_forced_and_never_keeps_a_bad_copy() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ar.db");
    let app = TestApp::on_file(dir, &path, arvalox::ratelimit::Limits::OFF, TODAY).await;
    book(&app).await;
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("ar-backup.db");
    std::fs::write(&target, b"keep me").unwrap();
    let refused = arvalox::ops::backup(&path, &target, false, date(TODAY)).unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("exists: give another file, or --force"),
        "{refused}"
    );
    assert_eq!(std::fs::read(&target).unwrap(), b"keep me");
    arvalox::ops::backup(&path, &target, true, date(TODAY)).unwrap();
    assert_eq!(count(&target, "SELECT COUNT(*) FROM invoices"), 9);

    // A book whose summaries drifted is not copied as if it were sound.
    Connection::open(&path)
        .unwrap()
        .execute_batch("UPDATE invoice_daily SET total_minor = total_minor + 1")
        .unwrap();
    let bad = out.path().join("bad.db");
    let err = arvalox::ops::backup(&path, &bad, false, date(TODAY)).unwrap_err();
    assert!(err.to_string().contains("failed its check"), "{err}");
    assert!(!bad.exists());
    let leftovers: Vec<_> = std::fs::read_dir(out.path()).unwrap().collect();
    assert_eq!(
        leftovers.len(),
        1,
        "only ar-backup.db: no partial file is left"
    );
}

#[tokio::test]
async fn the_doctor_names_what_drifted_and_repair_writes_it_again_from_the_records() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ar.db");
    let app = TestApp::on_file(dir, &path, arvalox::ratelimit::Limits::OFF, TODAY).await;
    let (acme, invoices) = book(&app).await;
    let paid = app.pay(acme, invoices[0], "100.00", "2024-01-20").await;
    assert_eq!(paid.status, StatusCode::CREATED);
    let before = app.get(&format!("/v1/invoices/{}", invoices[0])).await.body;
    let dashboard = app.get("/v1/reports/dashboard?include=kpis").await.body;
    let clean = arvalox::ops::doctor(&path, date(TODAY)).unwrap();
    assert_eq!(clean.faults, 0, "{:#?}", clean.lines);
    assert!(clean
        .lines
        .iter()
        .any(|l| l.starts_with("ok     invoice detail copies: 9 checked")));

    Connection::open(&path)
        .unwrap()
        .execute_batch(
            "UPDATE invoice_daily SET invoice_count = invoice_count + 2;
             UPDATE settled_daily SET paid_total_minor = paid_total_minor + 5;
             UPDATE invoices SET items_json = '[]' WHERE id = 2;",
        )
        .unwrap();
    let sick = arvalox::ops::doctor(&path, date(TODAY)).unwrap();
    let faults: Vec<_> = sick
        .lines
        .iter()
        .filter(|l| l.starts_with("FAULT"))
        .collect();
    assert!(
        faults.iter().any(|l| l.contains("invoice_daily")),
        "{faults:#?}"
    );
    assert!(
        faults.iter().any(|l| l.contains("paid totals")),
        "{faults:#?}"
    );
    assert!(
        faults
            .iter()
            .any(|l| l.contains("detail copies: 1 of 9 differ") && l.contains("[2]")),
        "{faults:#?}"
    );
    assert_eq!(sick.faults, faults.len());

    arvalox::ops::repair(&path).unwrap();
    let healed = arvalox::ops::doctor(&path, date(TODAY)).unwrap();
    assert_eq!(healed.faults, 0, "{:#?}", healed.lines);
    assert_eq!(
        app.get(&format!("/v1/invoices/{}", invoices[0])).await.body,
        before
    );
    assert_eq!(
        app.get("/v1/reports/dashboard?include=kpis").await.body,
        dashboard
    );
}

#[tokio::test]
async fn post_admin_backup_writes_into_the_servers_directory_for_admin_keys_only() {
    let backups = tempfile::tempdir().unwrap();
    let app = TestApp::backing_up(backups.path().to_path_buf()).await;
    book(&app).await;
    let reply = app.post("/v1/admin/backup", json!({})).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let file = reply.body["file"].as_str().unwrap();
    assert!(
        file.starts_with("arvalox-2") && file.ends_with("Z.db"),
        "{file}"
    );
    assert_eq!(reply.body["schema_version"], arvalox::db::schema_version());
    let copy = backups.path().join(file);
    assert_eq!(reply.body["bytes"], std::fs::metadata(&copy).unwrap().len());
    assert_eq!(count(&copy, "SELECT COUNT(*) FROM invoices"), 9);
    assert_eq!(arvalox::ops::doctor(&copy, date(TODAY)).unwrap().faults, 0);

    let key = [("Idempotency-Key", "nightly-1")];
    let first = app
        .call(Method::POST, "/v1/admin/backup", Some(&app.key), &key, None)
        .await;
    let again = app
        .call(Method::POST, "/v1/admin/backup", Some(&app.key), &key, None)
        .await;
    assert_eq!((first.status, &again.body), (StatusCode::OK, &first.body));
    assert_eq!(
        std::fs::read_dir(backups.path()).unwrap().count(),
        2,
        "one copy per key"
    );

    let writer = app.new_key("default", Scope::Write);
    let denied = app
        .call(Method::POST, "/v1/admin/backup", Some(&writer), &[], None)
        .await;
    denied.assert_error(403, "INSUFFICIENT_PERMISSIONS");
    let plain = TestApp::new().await;
    let refused = plain.post("/v1/admin/backup", json!({})).await;
    refused.assert_error(409, "CONFLICT");
    assert!(refused.body["detail"]
        .as_str()
        .unwrap()
        .contains("--backup-dir"));
}

#[test]
fn the_commands_back_up_and_examine_a_book_and_say_so_in_their_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let (db, out) = (dir.path().join("ar.db"), dir.path().join("copy.db"));
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_arvalox"))
            .args(args)
            .env_remove("MALLOC_ARENA_MAX")
            .output()
            .unwrap()
    };
    let (db_text, out_text) = (db.to_str().unwrap(), out.to_str().unwrap());
    let seeded = run(&[
        "seed-demo",
        "--db",
        db_text,
        "--customers",
        "5",
        "--invoices",
        "40",
    ]);
    assert!(seeded.status.success());
    let backup = run(&["backup", "--db", db_text, "--out", out_text]);
    assert!(
        backup.status.success(),
        "{}",
        String::from_utf8_lossy(&backup.stderr)
    );
    assert!(String::from_utf8_lossy(&backup.stdout).contains("bytes, checked"));
    let again = run(&["backup", "--db", db_text, "--out", out_text]);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));

    let doctor = run(&["doctor", "--db", out_text]);
    let said = String::from_utf8_lossy(&doctor.stdout).to_string();
    assert!(doctor.status.success(), "{said}");
    assert!(
        said.contains("ok     integrity_check") && !said.contains("FAULT"),
        "{said}"
    );
    Connection::open(&out)
        .unwrap()
        .execute_batch("UPDATE invoice_daily SET invoice_count = invoice_count + 1")
        .unwrap();
    let sick = run(&["doctor", "--db", out_text]);
    assert_eq!(sick.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&sick.stdout).contains("FAULT  "));
    let repaired = run(&["doctor", "--db", out_text, "--repair"]);
    assert!(
        repaired.status.success(),
        "{}",
        String::from_utf8_lossy(&repaired.stdout)
    );
    assert!(String::from_utf8_lossy(&repaired.stdout).contains("written again from the records"));
}
