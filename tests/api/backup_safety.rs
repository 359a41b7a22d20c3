//! What a backup or a restore must never do (found by review, each reproduced first): write
//! over the book itself or a file whose WAL would be applied to the copy, leave a WAL to be
//! applied to a restored book, or tell one organization's admin about another's journal.

use std::path::Path;

use arvalox::domain::keys::Scope;
use rusqlite::Connection;

use crate::helpers::{date, TestApp, TODAY};

fn today() -> chrono::NaiveDate {
    date(TODAY)
}

/// A book with a WAL beside it full of committed pages, as a server or `seed-demo` leaves.
fn hot_book(dir: &Path) -> std::path::PathBuf {
    let db = dir.join("hot.db");
    crate::binary::seeded_book(&db);
    let conn = Connection::open(&db).unwrap();
    conn.execute_batch(
        "PRAGMA wal_autocheckpoint = 0;
         CREATE TABLE wal_marker (note TEXT); INSERT INTO wal_marker VALUES ('in the WAL');",
    )
    .unwrap();
    std::mem::forget(conn); // Closed with the process: the WAL keeps the change.
    db
}

#[test]
fn a_backup_never_lands_on_the_book_or_beside_a_wal() {
    let dir = tempfile::tempdir().unwrap();
    let book = hot_book(dir.path());
    let refused = |out: &Path| {
        arvalox::ops::backup(&book, out, true, today())
            .unwrap_err()
            .to_string()
    };
    assert!(
        refused(&book).contains("is the book itself"),
        "{}",
        refused(&book)
    );
    let link = dir.path().join("link.db");
    std::os::unix::fs::symlink(&book, &link).unwrap();
    assert!(refused(&link).contains("is the book itself"));

    let other = dir.path().join("other.db");
    std::fs::write(&other, b"old").unwrap();
    std::fs::write(dir.path().join("other.db-wal"), b"frames").unwrap();
    assert!(
        refused(&other).contains("other.db-wal lies beside it"),
        "{}",
        refused(&other)
    );
    assert_eq!(std::fs::read(&other).unwrap(), b"old");

    let fresh = dir.path().join("fresh.db");
    arvalox::ops::backup(&book, &fresh, false, today()).unwrap();
    let notes: String = Connection::open(&fresh)
        .unwrap()
        .query_row("SELECT note FROM wal_marker", (), |r| r.get(0))
        .unwrap();
    assert_eq!(notes, "in the WAL", "the copy holds what the WAL held");
}

#[test]
fn a_restore_sets_a_leftover_wal_aside_with_no_book_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    let book = hot_book(dir.path());
    let backup = dir.path().join("backup.db");
    arvalox::ops::backup(&book, &backup, false, today()).unwrap();
    let target = dir.path().join("gone.db");
    std::fs::copy(
        format!("{}-wal", book.display()),
        format!("{}-wal", target.display()),
    )
    .unwrap();

    let done =
        arvalox::ops::restore(&backup, &target, (today(), "2024-03-01T12:00:00.000Z")).unwrap();
    assert_eq!(done.kept_aside, None, "there was no book to keep");
    assert!(!Path::new(&format!("{}-wal", target.display())).exists());
    assert!(Path::new(&format!(
        "{}.replaced-20240301T120000.000Z-wal",
        target.display()
    ))
    .exists());
    let checkup = arvalox::ops::doctor(&target, today()).unwrap();
    assert_eq!(checkup.faults, 0, "{:#?}", checkup.lines);
}

#[tokio::test]
async fn an_organizations_admin_hears_only_of_its_own_journal() {
    let backups = tempfile::tempdir().unwrap();
    let app = TestApp::backing_up(backups.path().to_path_buf(), 48).await;
    app.customer("Acme").await;
    let other = app.new_key("tenant2", Scope::Admin);
    let reply = app
        .call(
            poem::http::Method::POST,
            "/v1/admin/backup",
            Some(&other),
            &[],
            None,
        )
        .await;
    assert_eq!(reply.status, poem::http::StatusCode::OK, "{}", reply.body);
    let lines = reply.body["organizations"].as_array().unwrap();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0]
        .as_str()
        .unwrap()
        .starts_with("organization 'tenant2':"));
}

#[test]
fn the_doctor_calls_a_sqlite_file_that_is_no_book_a_fault() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain.db");
    Connection::open(&plain)
        .unwrap()
        .execute_batch("CREATE TABLE t (x)")
        .unwrap();
    let checkup = arvalox::ops::doctor(&plain, today()).unwrap();
    assert_eq!(checkup.faults, 1, "{:#?}", checkup.lines);
    assert!(checkup
        .lines
        .iter()
        .any(|l| l.contains("not an Arvalox book")));
}

/// A book named through a symlink is the same book: it takes the same serving lock, and a
/// restore through the link replaces the file it points at, not the link (found in review:
/// a second server started on the link, and a restore swapped the link for a new file).
#[test]
fn a_book_named_through_a_link_is_locked_and_restored_as_itself() {
    let dir = tempfile::tempdir().unwrap();
    let book = hot_book(dir.path());
    let backup = dir.path().join("backup.db");
    arvalox::ops::backup(&book, &backup, false, today()).unwrap();
    let link = dir.path().join("link.db");
    std::os::unix::fs::symlink(&book, &link).unwrap();

    let held = arvalox::ops::serving_lock(&book).unwrap();
    assert!(
        arvalox::ops::serving_lock(&link).is_err(),
        "a second lock on the same book"
    );
    let refused = arvalox::ops::restore(&backup, &link, (today(), "2024-03-01T12:00:00.000Z"));
    assert!(refused.is_err(), "restored over a book in use");
    drop(held);

    arvalox::ops::restore(&backup, &link, (today(), "2024-03-01T12:00:00.000Z")).unwrap();
    let metadata = std::fs::symlink_metadata(&link).unwrap();
    assert!(
        metadata.file_type().is_symlink(),
        "the link is still a link"
    );
    let checkup = arvalox::ops::doctor(&book, today()).unwrap();
    assert_eq!(checkup.faults, 0, "{:#?}", checkup.lines);
}

/// A directory is no book: restoring onto one is refused and moves nothing (found in
/// review: a served book's directory was renamed aside).
#[test]
fn a_restore_onto_a_directory_is_refused_and_moves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let book = hot_book(dir.path());
    let backup = dir.path().join("backup.db");
    arvalox::ops::backup(&book, &backup, false, today()).unwrap();
    let folder = dir.path().join("live");
    std::fs::create_dir(&folder).unwrap();
    let refused = arvalox::ops::restore(&backup, &folder, (today(), "2024-03-01T12:00:00.000Z"));
    let message = refused.unwrap_err().to_string();
    assert!(message.contains("is a directory"), "{message}");
    assert!(folder.is_dir(), "the directory was moved");
}

/// A command that writes to a book no server holds leaves it one whole file: a copy of the
/// file alone holds the change (found in review: a key revoked by the CLI came back in such
/// a copy, its revocation still in the WAL).
#[test]
fn a_cli_write_is_in_the_file_itself_when_the_command_ends() {
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("ar.db");
    let book_text = book.to_str().unwrap();
    let created = crate::binary::arvalox(&["keys", "create", "--db", book_text, "--name", "temp"]);
    assert!(created.status.success(), "{created:?}");
    let revoked = crate::binary::arvalox(&["keys", "revoke", "--db", book_text, "1"]);
    assert!(revoked.status.success(), "{revoked:?}");
    let wal = Path::new(&format!("{book_text}-wal")).to_path_buf();
    assert!(
        std::fs::metadata(&wal).map_or(true, |m| m.len() == 0),
        "the WAL still holds pages"
    );
    let copy = dir.path().join("copy.db");
    std::fs::copy(&book, &copy).unwrap();
    let revoked_at: Option<String> = Connection::open(&copy)
        .unwrap()
        .query_row("SELECT revoked_at FROM api_keys WHERE id = 1", (), |r| {
            r.get(0)
        })
        .unwrap();
    assert!(revoked_at.is_some(), "the copy lost the revocation");
}
