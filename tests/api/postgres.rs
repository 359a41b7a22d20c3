//! A PostgreSQL server for the tests that need one, named by `ARVALOX_TEST_DATABASE_URL`
//! (`.ci/run` starts a throwaway cluster and sets it). Without it those tests say they were
//! skipped and pass: the README's `cargo test` runs on a machine without PostgreSQL.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

use arvalox::db::location::{BookLocation, PostgresUrl};

use tokio_postgres::{Client, NoTls};

/// The variable that names the test server (any database on it; each test makes its own).
pub(crate) const SERVER_VARIABLE: &str = "ARVALOX_TEST_DATABASE_URL";

/// The server's URL, or `None` after printing that `test` was skipped.
pub(crate) fn server_or_skip(test: &str) -> Option<String> {
    match std::env::var(SERVER_VARIABLE) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!("{test}: skipped, {SERVER_VARIABLE} is not set (no PostgreSQL to test on)");
            None
        }
    }
}

/// A database made for one test on the server, dropped when the test ends.
pub(crate) struct FreshDatabase {
    server: String,
    pub(crate) name: String,
    pub(crate) url: String,
}

static NEXT: AtomicU32 = AtomicU32::new(0);

impl FreshDatabase {
    pub(crate) async fn create(server: &str) -> FreshDatabase {
        let name = format!(
            "arvalox_test_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let admin = connect(server).await;
        admin
            .execute(&format!("CREATE DATABASE {name}"), &[])
            .await
            .unwrap();
        FreshDatabase {
            server: server.to_string(),
            url: with_database(server, &name),
            name,
        }
    }

    /// A database already migrated: a copy of one template migrated once per run.
    pub(crate) async fn migrated(server: &str) -> FreshDatabase {
        let template = template(server);
        let name = format!(
            "arvalox_test_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let admin = connect(server).await;
        let sql = format!("CREATE DATABASE {name} TEMPLATE {template}");
        admin.execute(&sql, &[]).await.unwrap();
        FreshDatabase {
            server: server.to_string(),
            url: with_database(server, &name),
            name,
        }
    }

    /// The URL as `--db` takes it.
    pub(crate) fn location(&self) -> PostgresUrl {
        match self.url.parse::<BookLocation>() {
            Ok(BookLocation::Postgres(url)) => url,
            _ => panic!("not a PostgreSQL URL"),
        }
    }

    pub(crate) async fn client(&self) -> Client {
        connect(&self.url).await
    }
}

impl Drop for FreshDatabase {
    fn drop(&mut self) {
        // Drop runs inside the test's runtime: the database is dropped from a thread of
        // its own, waited for, so no test leaves one behind.
        let (server, name) = (self.server.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let admin = connect(&server).await;
                let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                admin.execute(&sql, &[]).await.unwrap();
            });
        });
        let _ = dropped.join();
    }
}

/// The template every test database is copied from, migrated on first use (on a thread
/// and runtime of its own, as the tests' runtimes come and go).
fn template(server: &str) -> &'static str {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let server = server.to_string();
        let made = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let name = format!("arvalox_template_{}", std::process::id());
                let admin = connect(&server).await;
                let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                admin.execute(&drop, &[]).await.unwrap();
                let create = format!("CREATE DATABASE {name}");
                admin.execute(&create, &[]).await.unwrap();
                let url = match with_database(&server, &name).parse::<BookLocation>() {
                    Ok(BookLocation::Postgres(url)) => url,
                    _ => panic!("not a PostgreSQL URL"),
                };
                arvalox::db::postgres::migrate(&url).await.unwrap();
                name
            })
        });
        made.join().unwrap()
    })
}

pub(crate) async fn connect(url: &str) -> Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}

/// `url` naming the database `name` instead of its own.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let after_scheme = base.find("://").map_or(0, |at| at + 3);
    let host_end = base[after_scheme..]
        .find('/')
        .map_or(base.len(), |at| after_scheme + at);
    format!("{}/{name}{query}", &base[..host_end])
}

#[test]
fn a_database_name_replaces_the_one_in_the_url() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:55432/postgres", "t1"),
        "postgres://postgres@127.0.0.1:55432/t1"
    );
    assert_eq!(
        with_database("postgres://u:p@h/db?sslmode=disable", "t2"),
        "postgres://u:p@h/t2?sslmode=disable"
    );
    assert_eq!(with_database("postgres://h:5", "t3"), "postgres://h:5/t3");
}
