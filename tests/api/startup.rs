//! `serve` refusing a file it must not open (issue 13, section 2): one line naming the file
//! and the problem, an exit code of its own for each kind, and nothing modified.

use std::path::Path;
use std::process::{Command, Output};

fn serve(db: &Path) -> Output {
    crate::binary::arvalox(&[
        "serve",
        "--db",
        db.to_str().unwrap(),
        "--bind",
        "127.0.0.1:0",
    ])
}

/// The refusal: its exit code and its one line, which names the file.
fn refused(db: &Path, code: i32) -> String {
    let output = serve(db);
    let said = String::from_utf8_lossy(&output.stderr).trim().to_string();
    assert_eq!(output.status.code(), Some(code), "{said}");
    assert_eq!(said.lines().count(), 1, "{said}");
    assert!(
        said.starts_with(&format!("arvalox: {}", db.display())),
        "{said}"
    );
    said
}

/// A closed book (no WAL beside it) with a few invoices.
fn a_book(dir: &Path) -> std::path::PathBuf {
    let db = dir.join("live.db");
    crate::binary::seeded_book(&db);
    let copy = dir.join("ar.db");
    arvalox::ops::backup(
        &db,
        &copy,
        false,
        chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
    )
    .unwrap();
    copy
}

fn untouched(db: &Path, before: &[u8]) {
    assert_eq!(std::fs::read(db).unwrap(), before, "the file is unchanged");
    for suffix in ["-wal", "-shm"] {
        assert!(
            !Path::new(&format!("{}{suffix}", db.display())).exists(),
            "no {suffix} made"
        );
    }
}

#[test]
fn each_kind_of_unusable_file_has_its_line_and_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-dir").join("ar.db");
    assert!(refused(&missing, 10).contains("no-such-dir does not exist"));
    assert!(!missing.parent().unwrap().exists());

    assert!(refused(dir.path(), 12).contains("is a directory"));

    let book = a_book(dir.path());
    let whole = std::fs::read(&book).unwrap();
    let cut = dir.path().join("cut.db");
    std::fs::write(&cut, &whole[..whole.len() / 2]).unwrap();
    let said = refused(&cut, 13);
    assert!(
        said.contains("the file was cut short") && said.contains("restore a backup"),
        "{said}"
    );
    untouched(&cut, &whole[..whole.len() / 2]);

    let newer = dir.path().join("newer.db");
    std::fs::copy(&book, &newer).unwrap();
    rusqlite::Connection::open(&newer)
        .unwrap()
        .execute_batch("INSERT INTO refinery_schema_history (version, name, applied_on, checksum) VALUES (999, 'future', '', '0')")
        .unwrap();
    let before = std::fs::read(&newer).unwrap();
    assert!(refused(&newer, 14).contains("written by a newer Arvalox (migrations up to 999"));
    untouched(&newer, &before);

    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "not invoices\n".repeat(100)).unwrap();
    assert!(refused(&notes, 12).contains("not a SQLite database"));
    untouched(&notes, "not invoices\n".repeat(100).as_bytes());
}

/// A read-only file system, mounted for the test (it runs as root in CI); skipped, saying
/// so, where mounting is not permitted.
#[test]
fn a_book_on_a_read_only_file_system_is_refused_without_a_change() {
    let dir = tempfile::tempdir().unwrap();
    let mount = dir.path().join("ro");
    std::fs::create_dir(&mount).unwrap();
    let run = |args: &[&str]| {
        Command::new(args[0])
            .args(&args[1..])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let target = mount.to_str().unwrap();
    if !run(&["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", target]) {
        eprintln!("SKIPPED a_book_on_a_read_only_file_system_is_refused_without_a_change: cannot mount a tmpfs here");
        return;
    }
    let book = a_book(dir.path());
    let db = mount.join("ar.db");
    std::fs::copy(&book, &db).unwrap();
    let before = std::fs::read(&db).unwrap();
    assert!(run(&["mount", "-o", "remount,ro", target]));
    let said = refused(&db, 11);
    assert!(
        said.contains("cannot write in") && said.contains("Read-only file system"),
        "{said}"
    );
    untouched(&db, &before);
    assert!(run(&["umount", target]));
}

/// A stopped server leaves one whole file: SIGTERM lets requests finish, then the WAL goes
/// back into the book, so the file alone (copied anywhere) holds every answered write.
#[test]
fn a_stopped_server_leaves_the_book_as_one_whole_file() {
    use crate::binary::{http, Server};
    let dir = tempfile::tempdir().unwrap();
    let (db, log) = (dir.path().join("ar.db"), dir.path().join("serve.log"));
    let server = Server::start_with(&db, &log, &["--shutdown-timeout", "5"], &[]);
    let auth = [("x-arvalox-api-key", server.key.as_str())];
    for n in 0..5 {
        let (status, body) = http(
            server.port,
            "POST",
            "/v1/customers",
            &auth,
            &format!(r#"{{"name": "C{n}"}}"#),
        );
        assert_eq!(status, 201, "{body}");
    }
    assert!(server.stop().success());
    assert!(
        !Path::new(&format!("{}-wal", db.display())).exists(),
        "the WAL is checkpointed and gone"
    );
    let alone = tempfile::tempdir().unwrap();
    let copy = alone.path().join("ar.db");
    std::fs::copy(&db, &copy).unwrap();
    let customers: i64 = rusqlite::Connection::open(&copy)
        .unwrap()
        .query_row("SELECT COUNT(*) FROM customers", (), |r| r.get(0))
        .unwrap();
    assert_eq!(customers, 5);
    assert!(std::fs::read_to_string(&log)
        .unwrap()
        .contains("the WAL is checkpointed into the book"));
}

/// A connection that sends nothing is closed after `--idle-timeout`; the server keeps
/// answering others.
#[test]
fn an_idle_connection_is_closed_and_others_are_served() {
    use std::io::Read;
    let dir = tempfile::tempdir().unwrap();
    let (db, log) = (dir.path().join("ar.db"), dir.path().join("serve.log"));
    let server = crate::binary::Server::start_with(&db, &log, &["--idle-timeout", "1"], &[]);
    let mut idle = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    idle.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let mut buffer = [0u8; 16];
    // The server closes it: the read ends (0 bytes, or a reset), well before the 30 s guard.
    let read = idle.read(&mut buffer);
    let closed = match &read {
        Ok(0) => true,
        Err(err) => err.kind() == std::io::ErrorKind::ConnectionReset,
        Ok(_) => false,
    };
    assert!(closed, "{read:?}");
    let (status, _) = crate::binary::http(server.port, "GET", "/health", &[], "");
    assert_eq!(status, 200);
    assert!(server.stop().success());
}

/// `--log-format json`: one JSON object a line; each request's line names its route, status,
/// latency, request id, key prefix and organization, and never the key.
#[test]
fn json_logs_are_one_object_a_line_and_never_hold_a_key() {
    use crate::binary::{http, Server};
    let dir = tempfile::tempdir().unwrap();
    let (db, log) = (dir.path().join("ar.db"), dir.path().join("serve.log"));
    let server = Server::start_with(&db, &log, &["--log-format", "json"], &[]);
    let key = server.key.clone();
    let in_query = format!("/v1/customers?x_arvalox_api_key={key}");
    assert_eq!(http(server.port, "GET", &in_query, &[], "").0, 200);
    let auth = [
        ("x-arvalox-api-key", key.as_str()),
        ("X-Request-Id", "trace-me-42"),
    ];
    assert_eq!(
        http(server.port, "GET", "/v1/invoices/17", &auth, "").0,
        404
    );
    assert!(server.stop().success());

    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!text.contains(&key), "the key is never logged");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    let missing = lines
        .iter()
        .find(|l| l["message"] == "request" && l["request_id"] == "trace-me-42")
        .expect("the request's line");
    assert_eq!(missing["route"], "/v1/invoices/{id}");
    assert_eq!(
        (missing["method"].as_str(), missing["status"].as_u64()),
        (Some("GET"), Some(404))
    );
    assert_eq!(missing["organization"], "default");
    assert!(key.starts_with(missing["key_prefix"].as_str().unwrap()));
    assert!(missing["elapsed_ms"].as_f64().is_some() && missing["level"] == "INFO");
    let listed = lines
        .iter()
        .find(|l| l["message"] == "request" && l["path"] == "/v1/customers")
        .expect("the list's line");
    assert_eq!(listed["status"], 200);
}

#[test]
fn a_sqlite_url_names_a_file_and_a_postgres_url_is_refused_without_its_password() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ar.db");
    let url = format!("sqlite://{}", file.display());
    let migrated = crate::binary::arvalox(&["migrate", "--db", &url]);
    assert!(migrated.status.success(), "{migrated:?}");
    let said = String::from_utf8_lossy(&migrated.stdout);
    assert_eq!(said.trim(), format!("{}: migrated", file.display()));
    assert!(file.is_file());

    // Every command takes the same --db (and ARVALOX_DB). `backup` and `restore` copy
    // files: one masked line, exit code 2, nothing created where they run.
    let postgres = "postgres://ar:s3cret@127.0.0.1:1/books?password=s3cret";
    let shown = "postgres://ar:***@127.0.0.1:1/books?password=***";
    for args in [
        vec!["backup", "--out", "copy.db"],
        vec!["restore", "--from", "copy.db", "--db", postgres],
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_arvalox"))
            .args(&args)
            .env("ARVALOX_DB", postgres)
            .env("RUST_BACKTRACE", "0")
            .current_dir(dir.path())
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&output.stderr).trim().to_string();
        assert_eq!(output.status.code(), Some(2), "{args:?}: {said}");
        assert_eq!(
            said,
            format!(
                "arvalox: {shown}: `backup` and `restore` copy a SQLite file; a PostgreSQL book \
                 is backed up and restored by its server's own tools (pg_dump and pg_restore, \
                 or continuous archiving)"
            ),
            "{args:?}"
        );
        assert!(!String::from_utf8_lossy(&output.stdout).contains("s3cret"));
        assert!(!dir.path().join("copy.db").exists());
    }
    // The others reach for the server: nothing answers on port 1, and the line that says
    // so masks the password too.
    for args in [
        vec!["migrate", "--db", postgres],
        vec!["serve", "--db", postgres, "--bind", "127.0.0.1:0"],
        vec!["keys", "list", "--db", postgres],
        vec!["verify", "--db", postgres],
        vec!["doctor", "--db", postgres],
        vec!["export", "--db", postgres, "--out", "out"],
    ] {
        let unreachable = Command::new(env!("CARGO_BIN_EXE_arvalox"))
            .args(&args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert_eq!(
            unreachable.status.code(),
            Some(16),
            "{args:?}: {unreachable:?}"
        );
        let said = String::from_utf8_lossy(&unreachable.stderr);
        assert!(
            said.contains(&format!("arvalox: {shown}: cannot reach the database (")),
            "{said}"
        );
        assert!(!said.contains("s3cret"), "{said}");
        assert!(!String::from_utf8_lossy(&unreachable.stdout).contains("s3cret"));
    }
    // Nor does --help print the value it would take from ARVALOX_DB.
    let help = Command::new(env!("CARGO_BIN_EXE_arvalox"))
        .args(["serve", "--help"])
        .env("ARVALOX_DB", postgres)
        .output()
        .unwrap();
    assert!(help.status.success());
    assert!(!String::from_utf8_lossy(&help.stdout).contains("s3cret"));

    let mut left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| !name.starts_with("ar.db"))
        .collect();
    left.sort();
    assert_eq!(left, Vec::<String>::new(), "nothing but the migrated book");
}
