//! The operator's commands as a shell drives them (found by review, each reproduced first):
//! a pipe closed early, books they must not touch or must refuse, names that would forge
//! a listing, and files that must be their owner's alone.

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::binary::{arvalox, seeded_book, Server};

const BIN: &str = env!("CARGO_BIN_EXE_arvalox");

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// `arvalox openapi | head -c 10`: the spec is larger than a pipe holds, so the command
/// meets the closed pipe while it writes.
#[test]
fn a_reader_that_goes_away_ends_a_command_as_sigpipe_would_without_a_panic() {
    let mut child = Command::new(BIN)
        .arg("openapi")
        .env("RUST_BACKTRACE", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 10];
    let mut stdout = child.stdout.take().unwrap();
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let output = child.wait_with_output().unwrap();
    assert_eq!(&first, b"{\n  \"opena");
    assert_eq!(output.status.code(), Some(141), "{}", stderr(&output));
    assert_eq!(stderr(&output), "");
}

#[test]
fn verify_reads_a_book_as_it_is_and_never_makes_one() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let output = arvalox(&["verify", "--db", empty.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("empty.db: not an Arvalox book (it has no migrations)"),
        "{}",
        stderr(&output)
    );
    assert_eq!(std::fs::metadata(&empty).unwrap().len(), 0);
    let folder = arvalox(&["verify", "--db", dir.path().to_str().unwrap()]);
    assert_eq!(folder.status.code(), Some(1));
    assert!(stderr(&folder).contains("is a directory: give --db the book's file"));

    let book = dir.path().join("ar.db");
    seeded_book(&book);
    let before = std::fs::read(&book).unwrap();
    let output = arvalox(&["verify", "--db", book.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("check out"));
    assert!(
        std::fs::read(&book).unwrap() == before,
        "verify changed the book"
    );
}

/// Every command that opens a SQLite book refuses one a newer Arvalox migrated as `serve`
/// does (exit 14, the same line), before refinery or SQLite meet it.
#[test]
fn every_command_refuses_a_newer_book_as_serve_does() {
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("ar.db");
    seeded_book(&book);
    let conn = rusqlite::Connection::open(&book).unwrap();
    conn.execute(
        "INSERT INTO refinery_schema_history (version, name, applied_on, checksum)
         VALUES (999, 'from_the_future', '2030-01-01', '1')",
        (),
    )
    .unwrap();
    drop(conn);
    let db = book.to_str().unwrap();
    for command in [
        vec!["migrate", "--db", db],
        vec!["verify", "--db", db],
        vec!["keys", "list", "--db", db],
        vec!["keys", "create", "--db", db, "--name", "late"],
        vec!["keys", "revoke", "--db", db, "1"],
        vec!["seed-demo", "--db", db, "--org", "other", "--invoices", "2"],
        vec!["serve", "--db", db],
    ] {
        let output = arvalox(&command);
        assert_eq!(
            output.status.code(),
            Some(14),
            "{command:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).starts_with(&format!(
                "arvalox: {db}: written by a newer Arvalox (migrations up to 999;"
            )),
            "{command:?}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn seed_demo_refuses_a_book_a_server_has_open() {
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("ar.db");
    let server = Server::start(&book, &dir.path().join("server.log"));
    let db = book.to_str().unwrap();
    let output = arvalox(&["seed-demo", "--db", db, "--org", "demo", "--invoices", "2"]);
    assert_eq!(output.status.code(), Some(15), "{}", stderr(&output));
    assert!(stderr(&output).contains("is in use by another `arvalox serve`"));
    server.stop();
}

/// A key's name follows the API's rule, and a new organization's slug is one plain word:
/// a newline in either would forge a line of `keys list`, an `=` break `--expect-head`.
#[test]
fn key_names_and_new_slugs_that_would_forge_a_listing_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("ar.db");
    let db = book.to_str().unwrap();
    let forged = "x\n9     arv_forged00   admin   default";
    for (args, said) in [
        (
            vec!["--name", forged],
            "name: must not contain control characters",
        ),
        (vec!["--name", " "], "name: must not be empty"),
        (
            vec!["--name", "ok", "--org", "Acme Corp"],
            "org: 'Acme Corp' is not a usable organization slug",
        ),
        (
            vec!["--name", "ok", "--org", "a=b"],
            "org: 'a=b' is not a usable organization slug",
        ),
    ] {
        let output = arvalox(&[&["keys", "create", "--db", db][..], &args].concat());
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&output).contains(said),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(!book.exists(), "a refused name makes no book: {args:?}");
    }
    let seeded = arvalox(&[
        "seed-demo",
        "--db",
        db,
        "--org",
        "Bad Org",
        "--invoices",
        "2",
    ]);
    assert_eq!(seeded.status.code(), Some(1));
    assert!(stderr(&seeded).contains("org: 'Bad Org' is not a usable organization slug"));
    assert!(!book.exists());
    // An empty file is a book not made yet: it stays empty.
    std::fs::write(&book, b"").unwrap();
    let touched = arvalox(&[
        "keys", "create", "--db", db, "--name", "k", "--org", "Bad Org",
    ]);
    assert_eq!(touched.status.code(), Some(1));
    assert_eq!(std::fs::metadata(&book).unwrap().len(), 0);
    std::fs::remove_file(&book).unwrap();
    let created = arvalox(&[
        "keys", "create", "--db", db, "--name", "  ci  ", "--org", "shop-2",
    ]);
    assert!(created.status.success(), "{}", stderr(&created));
    let listed = arvalox(&["keys", "list", "--db", db]);
    let listing = String::from_utf8(listed.stdout).unwrap();
    assert_eq!(listing.lines().count(), 2, "{listing}");
    assert!(listing
        .lines()
        .nth(1)
        .unwrap()
        .contains(" shop-2           ci "));
}

#[test]
fn books_and_their_backups_are_their_owners_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (book, backup, restored) = (
        dir.path().join("ar.db"),
        dir.path().join("backup.db"),
        dir.path().join("restored.db"),
    );
    seeded_book(&book);
    assert_eq!(mode(&book), 0o600);
    // An empty file made beforehand (`touch ar.db`) becomes a private book too.
    let touched = dir.path().join("touched.db");
    std::fs::write(&touched, b"").unwrap();
    std::fs::set_permissions(&touched, std::fs::Permissions::from_mode(0o644)).unwrap();
    let migrated = arvalox(&["migrate", "--db", touched.to_str().unwrap()]);
    assert!(migrated.status.success(), "{}", stderr(&migrated));
    assert_eq!(mode(&touched), 0o600);
    let made = arvalox(&[
        "backup",
        "--db",
        book.to_str().unwrap(),
        "--out",
        backup.to_str().unwrap(),
    ]);
    assert!(made.status.success(), "{}", stderr(&made));
    assert_eq!(mode(&backup), 0o600);
    // A backup kept with wider permissions still goes in as the owner's alone.
    std::fs::set_permissions(&backup, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (from, to) = (backup.to_str().unwrap(), restored.to_str().unwrap());
    let put = arvalox(&["restore", "--from", from, "--db", to]);
    assert!(put.status.success(), "{}", stderr(&put));
    assert_eq!(mode(&restored), 0o600);
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

/// An export that fails part way (here a disk that fills up) removes what it wrote, and
/// the folder it made, so the next try into the same folder goes through; files of other
/// names are left alone, and what a killed export leaves is named for what it is.
#[test]
fn an_export_that_fails_removes_what_it_wrote_and_a_retry_goes_through() {
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("ar.db");
    seeded_book(&book);
    let export = |out: &Path| {
        arvalox(&[
            "export",
            "--db",
            book.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
    };
    let small = dir.path().join("small");
    std::fs::create_dir(&small).unwrap();
    let mount = |options: &str| {
        Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                options,
                "tmpfs",
                small.to_str().unwrap(),
            ])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if mount("size=48k") {
        let out = small.join("books");
        let failed = export(&out);
        assert_eq!(failed.status.code(), Some(1), "{}", stderr(&failed));
        assert!(
            stderr(&failed).contains("No space left on device"),
            "{}",
            stderr(&failed)
        );
        assert!(names_in(&small).is_empty(), "{:?}", names_in(&small));
        // Room again (the same mount, larger): the retry into the same folder goes through.
        assert!(mount("remount,size=8m"));
        let retried = export(&out);
        assert!(retried.status.success(), "{}", stderr(&retried));
        assert_eq!(names_in(&out).len(), 11, "{:?}", names_in(&out));
        let _ = Command::new("umount")
            .args(["-l", small.to_str().unwrap()])
            .output();
    } else {
        eprintln!(
            "SKIPPED the full-disk part of an_export_that_fails_...: cannot mount a tmpfs here"
        );
    }

    let held = dir.path().join("held");
    std::fs::create_dir(&held).unwrap();
    std::fs::write(held.join("notes.txt"), "mine").unwrap();
    let beside = export(&held);
    assert!(beside.status.success(), "{}", stderr(&beside));
    assert_eq!(names_in(&held).len(), 12);
    assert_eq!(
        std::fs::read_to_string(held.join("notes.txt")).unwrap(),
        "mine"
    );

    let cut_short = dir.path().join("cut");
    std::fs::create_dir(&cut_short).unwrap();
    std::fs::write(cut_short.join("customers.csv"), "id\n").unwrap();
    let refused = export(&cut_short);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("already holds customers.csv and no manifest.json (if an export was cut short, remove them and export again)"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(names_in(&cut_short), ["customers.csv"]);
}

/// A journal row changed outside Arvalox so that it no longer reads back is one more fault
/// to name: `doctor` and `verify` go on to their other checks instead of stopping.
#[test]
fn a_journal_event_that_does_not_read_back_is_a_fault_and_the_checks_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("ar.db");
    seeded_book(&book);
    let conn = rusqlite::Connection::open(&book).unwrap();
    let (event, invoice): (i64, i64) = conn
        .query_row(
            "SELECT max(id), entity_id FROM journal_events WHERE entity_type = 'invoice'",
            (),
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    conn.execute_batch(&format!(
        "DROP TRIGGER journal_events_never_changed;
         UPDATE journal_events SET data = 'not json' WHERE id = {event};"
    ))
    .unwrap();
    drop(conn);
    let db = book.to_str().unwrap();
    let doctor = arvalox(&["doctor", "--db", db]);
    let report = String::from_utf8_lossy(&doctor.stdout);
    assert_eq!(doctor.status.code(), Some(1), "{}", stderr(&doctor));
    let unread = format!("invoice {invoice}: its latest journal event does not read back");
    assert!(
        report
            .lines()
            .any(|l| l.starts_with("FAULT") && l.contains(&unread)),
        "{report}"
    );
    assert!(report.contains("ok     invoice detail copies"), "{report}");
    let verify = arvalox(&["verify", "--db", db]);
    assert_eq!(verify.status.code(), Some(1));
    let found = String::from_utf8_lossy(&verify.stdout);
    assert!(found.contains(&unread), "{found}");
    let stops = format!("the journal does not read back after event {}", event - 1);
    assert!(found.contains(&stops), "{found}");
}

/// Restoring a plain copy of a stopped book (a WAL-mode file) leaves nothing but the book
/// (and its lock file) beside it: the checked copy's `-wal` and `-shm` go with it (found in review).
#[test]
fn a_restore_leaves_nothing_but_the_book_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    let place = dir.path().join("books");
    std::fs::create_dir(&place).unwrap();
    let (book, copy) = (dir.path().join("ar.db"), dir.path().join("copy.db"));
    seeded_book(&book);
    std::fs::copy(&book, &copy).unwrap();
    let restored = place.join("ar.db");
    let put = arvalox(&[
        "restore",
        "--from",
        copy.to_str().unwrap(),
        "--db",
        restored.to_str().unwrap(),
    ]);
    assert!(put.status.success(), "{}", stderr(&put));
    // The lock file is the serving lock's, kept for the book's life (see the README).
    assert_eq!(names_in(&place), ["ar.db", "ar.db.lock"]);
}

/// What an interrupted backup or restore left (a hidden copy as large as the book, named
/// for a process that is gone) is removed by the next one into the same folder; a copy
/// whose process still runs is left alone (found in review: nothing ever removed them).
#[test]
fn the_next_backup_or_restore_removes_what_an_interrupted_one_left() {
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("ar.db");
    seeded_book(&book);
    // A process id past the kernel's largest can never be running.
    let pid_max: u64 = std::fs::read_to_string("/proc/sys/kernel/pid_max")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let (gone, running) = (pid_max + 1, std::process::id());
    let stale_backups = [
        format!(".backup.db.partial-{gone}"),
        format!(".backup.db.partial-{gone}-journal"),
        format!(".arvalox-20261201T031500.123Z.db.partial-{gone}"),
    ];
    // A copy its writer still claims, seen from elsewhere (another PID namespace): its
    // process id means nothing here, its lock does.
    let claimed = format!(".arvalox-20261201T041500.123Z.db.partial-{gone}");
    let kept = [
        format!(".backup.db.partial-{running}"),
        format!(".other.db.partial-{gone}"),
        claimed.clone(),
        format!("{claimed}-journal"),
    ];
    let stale_restore = format!(".ar.db.restoring-{gone}");
    for name in stale_backups.iter().chain(&kept).chain([&stale_restore]) {
        std::fs::write(dir.path().join(name), b"half a copy").unwrap();
    }
    let writer = std::fs::File::open(dir.path().join(&claimed)).unwrap();
    writer.lock().unwrap();
    let backup = dir.path().join("backup.db");
    let (db, out) = (book.to_str().unwrap(), backup.to_str().unwrap());
    let made = arvalox(&["backup", "--db", db, "--out", out]);
    assert!(made.status.success(), "{}", stderr(&made));
    let names = names_in(dir.path());
    for name in &stale_backups {
        assert!(!names.contains(name), "{name} is still there: {names:?}");
    }
    for name in kept.iter().chain([&stale_restore]) {
        assert!(names.contains(name), "{name} went: {names:?}");
    }
    let put = arvalox(&["restore", "--from", out, "--db", db]);
    assert!(put.status.success(), "{}", stderr(&put));
    assert!(!names_in(dir.path()).contains(&stale_restore));
    // Once its writer lets go, the next backup takes it away too.
    drop(writer);
    let again = dir.path().join("again.db");
    let made = arvalox(&["backup", "--db", db, "--out", again.to_str().unwrap()]);
    assert!(made.status.success(), "{}", stderr(&made));
    assert!(!names_in(dir.path()).contains(&claimed));
}
