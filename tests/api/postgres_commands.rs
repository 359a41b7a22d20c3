//! The commands on a PostgreSQL book, through the real binary: `seed-demo`, `keys`,
//! `verify`, `doctor` (and `--repair`) and `export`, with the same book seeded into a
//! SQLite file beside it: both exports must be the same files, byte for byte.

use std::path::Path;

use crate::binary::arvalox;
use crate::helpers::TODAY;
use crate::postgres::{server_or_skip, FreshDatabase};

/// Runs the command, asserts it succeeded, and answers its stdout.
fn run(args: &[&str]) -> String {
    let output = arvalox(args);
    assert!(output.status.success(), "{args:?}: {output:?}");
    String::from_utf8(output.stdout).unwrap()
}

fn seed(db: &str) -> String {
    let args = ["--customers", "5", "--invoices", "60", "--as-of", TODAY];
    run(&[&["seed-demo", "--db", db][..], &args].concat())
}

fn read_dir(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "csv"))
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    files.sort();
    files
}

#[tokio::test]
async fn every_command_works_on_a_postgresql_book() {
    let Some(server) = server_or_skip("every_command_works_on_a_postgresql_book") else {
        return;
    };
    let database = FreshDatabase::create(&server).await;
    let url = database.url.as_str();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ar.db");

    let seeded = seed(url);
    assert!(
        seeded.contains("Seeded organization 'default' in postgres://"),
        "{seeded}"
    );
    assert!(seeded.contains("5 customers, 60 invoices"), "{seeded}");
    assert!(seeded.contains("the same in both books"), "{seeded}");
    seed(file.to_str().unwrap());
    // A book that is not empty is not seeded again.
    let again = arvalox(&["seed-demo", "--db", url, "--invoices", "5"]);
    assert_eq!(again.status.code(), Some(1), "{again:?}");
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds 1 organizations"));

    let created = run(&[
        "keys", "create", "--db", url, "--name", "clerk", "--scope", "read",
    ]);
    let secret = created.lines().last().unwrap();
    assert!(secret.starts_with("arv_"), "{created}");
    let listed = run(&["keys", "list", "--db", url]);
    assert!(
        listed.contains(" read ") && listed.contains("clerk"),
        "{listed}"
    );
    assert!(!listed.contains(secret));
    let id = created
        .split("(id ")
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap();
    let revoked = run(&["keys", "revoke", "--db", url, id]);
    assert!(
        revoked.starts_with(&format!("Revoked key {id} ")),
        "{revoked}"
    );

    let verified = run(&["verify", "--db", url]);
    assert!(
        verified.contains("the journal, every row and the books check out"),
        "{verified}"
    );
    let doctor = run(&["doctor", "--db", url]);
    assert!(
        doctor.contains(&format!(
            "ok     migrations: all {} applied",
            arvalox::db::postgres::schema_version()
        )),
        "{doctor}"
    );
    assert!(doctor.contains("ok     the journal, every row"), "{doctor}");
    // The seed came in by migrate-db's copy, which makes the daily movement sums.
    assert!(
        doctor.contains("ok     invoice movements: each date's sum"),
        "{doctor}"
    );
    // Summaries and movement sums broken by hand are written again from the records.
    let client = database.client().await;
    client
        .batch_execute(
            "/* test check */ DELETE FROM invoice_daily;
             /* test check */ UPDATE invoice_movements SET delta_minor = delta_minor - 1",
        )
        .await
        .unwrap();
    let broken = arvalox(&["doctor", "--db", url]);
    assert_eq!(broken.status.code(), Some(1), "{broken:?}");
    let broken = String::from_utf8_lossy(&broken.stdout);
    assert!(broken.contains("FAULT"), "{broken}");
    assert!(
        broken.contains("of the daily sums differ from the allocations and write-offs"),
        "{broken}"
    );
    let repaired = run(&["doctor", "--db", url, "--repair"]);
    assert!(!repaired.contains("FAULT"), "{repaired}");

    let (from_postgres, from_file) = (dir.path().join("pg"), dir.path().join("file"));
    run(&[
        "export",
        "--db",
        url,
        "--out",
        from_postgres.to_str().unwrap(),
    ]);
    run(&[
        "export",
        "--db",
        file.to_str().unwrap(),
        "--out",
        from_file.to_str().unwrap(),
    ]);
    let (postgres_files, sqlite_files) = (read_dir(&from_postgres), read_dir(&from_file));
    let names = |files: &[(String, Vec<u8>)]| files.iter().map(|f| f.0.clone()).collect::<Vec<_>>();
    assert_eq!(names(&postgres_files), names(&sqlite_files));
    assert_eq!(postgres_files.len(), 10);
    // The key rows differ (one more key, revoked) only in the events; every book file is the same.
    for ((name, pg), (_, sqlite)) in postgres_files.iter().zip(&sqlite_files) {
        if name != "events.csv" {
            assert!(pg == sqlite, "{name} differs between the engines");
        }
    }
}
