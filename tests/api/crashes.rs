//! kill -9 under write load (issue 13, section 2): every write the server acknowledged is
//! there after a restart, SQLite's checks pass and the books balance. 10 cycles in the
//! normal run; `KILL9_CYCLES=100 cargo test crashes` (or `bash examples/kill9.sh`) for more.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::binary::{arvalox, Server};
use crate::helpers::{date, TODAY};

const UNLIMITED: [&str; 6] = [
    "--rate-limit-minute",
    "0",
    "--rate-limit-hour",
    "0",
    "--rate-limit-day",
    "0",
];

#[test]
fn every_acknowledged_payment_survives_kill_9() {
    let cycles: usize = std::env::var("KILL9_CYCLES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10);
    let dir = tempfile::tempdir().unwrap();
    let (db, log) = (dir.path().join("ar.db"), dir.path().join("serve.log"));
    let mut server = Server::start_with(&db, &log, &UNLIMITED, &[]);
    let key = server.key.clone();
    crate::binary::one_large_invoice(server.port, &key);
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    for cycle in 0..cycles {
        let stop = Arc::new(AtomicBool::new(false));
        let clients: Vec<_> = (0..2)
            .map(|client| {
                let (port, key, stop, acknowledged) =
                    (server.port, key.clone(), stop.clone(), acknowledged.clone());
                std::thread::spawn(move || {
                    let auth = ("x-arvalox-api-key", key.as_str());
                    let mut n = 0;
                    while !stop.load(Ordering::Relaxed) {
                        let reference = format!("c{cycle}-k{client}-{n}");
                        let payment = format!(
                            r#"{{"customer_id": 1, "amount": "1.00", "payment_method": "cash",
                                "payment_date": "2024-02-01", "invoice_id": 1, "reference_number": "{reference}"}}"#
                        );
                        // A write cut off by the kill has no answer (or a broken one): only a 201 counts.
                        if post(port, auth, &payment) == Some(201) {
                            acknowledged.lock().unwrap().push(reference);
                        }
                        n += 1;
                    }
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(400));
        server.kill_hard();
        stop.store(true, Ordering::Relaxed);
        clients.into_iter().for_each(|c| drop(c.join()));
        server = Server::restart_with(&db, &log, key.clone(), &UNLIMITED);
    }
    assert!(server.stop().success());
    let conn = rusqlite::Connection::open(&db).unwrap();
    let stored: std::collections::HashSet<String> = conn
        .prepare("SELECT reference_number FROM payments")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let acknowledged = acknowledged.lock().unwrap();
    assert!(
        acknowledged.len() >= cycles,
        "{} payments acknowledged",
        acknowledged.len()
    );
    let lost: Vec<_> = acknowledged
        .iter()
        .filter(|r| !stored.contains(*r))
        .collect();
    assert!(lost.is_empty(), "acknowledged and lost: {lost:?}");
    drop(conn);
    let checkup = arvalox::ops::doctor(&db, date(TODAY)).unwrap();
    assert_eq!(checkup.faults, 0, "{:#?}", checkup.lines);
}

/// One POST's status, or `None` when the connection failed (the server was killed).
fn post(port: u16, (name, key): (&str, &str), body: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let request = format!(
        "POST /v1/payments HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{name}: {key}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response.split(' ').nth(1)?.parse().ok()
}

/// A migration killed half-way: all of an upgrade's migrations run in one transaction, so
/// the file is left at its old version, whole, and the next start runs them all again.
#[test]
fn a_migration_killed_half_way_leaves_the_book_whole_and_runs_again() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ar.db");
    let seeded = arvalox(&[
        "seed-demo",
        "--db",
        db.to_str().unwrap(),
        "--customers",
        "100",
        "--invoices",
        "10000",
    ]);
    assert!(seeded.status.success());
    crate::migrations::back_to_version_11(&db);
    let version = |db: &std::path::Path| -> i64 {
        rusqlite::Connection::open(db)
            .unwrap()
            .query_row(
                "SELECT MAX(version) FROM refinery_schema_history",
                (),
                |r| r.get(0),
            )
            .unwrap()
    };
    assert_eq!(version(&db), 11);

    let started = std::time::Instant::now();
    let mut migrating = std::process::Command::new(env!("CARGO_BIN_EXE_arvalox"))
        .args(["migrate", "--db", db.to_str().unwrap()])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(migrating.stderr.take().unwrap()).lines();
    let announced = lines
        .by_ref()
        .map_while(Result::ok)
        .any(|line| line.contains("upgrading the database"));
    assert!(announced);
    // Keep reading: a closed pipe would end the migration with an error, not the kill.
    std::thread::spawn(move || lines.for_each(drop));
    // The upgrade takes about 100 ms in a debug build on this book: well after 5 ms.
    std::thread::sleep(std::time::Duration::from_millis(5));
    migrating.kill().unwrap();
    let status = migrating.wait().unwrap();
    assert_eq!(
        status.code(),
        None,
        "the migration ended before it was killed"
    );
    eprintln!("killed {:?} after the start", started.elapsed());

    // Whole, and at its old version: none of the upgrade's migrations half-applied.
    assert_eq!(version(&db), 11);
    let check: String = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("PRAGMA integrity_check", (), |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    // The next run applies them all, and the book passes doctor.
    let again = arvalox(&["migrate", "--db", db.to_str().unwrap()]);
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(version(&db), 24);
    let doctor = arvalox(&["doctor", "--db", db.to_str().unwrap()]);
    let report = String::from_utf8_lossy(&doctor.stdout);
    assert!(doctor.status.success(), "{report}");
    assert!(!report.contains("FAULT"), "{report}");
}
