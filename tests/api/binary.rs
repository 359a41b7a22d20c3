//! Smoke tests of the real executable: CLI, first start, a request, a clean shutdown.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_arvalox");

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One HTTP/1.1 request with `Connection: close`; returns the status and the raw response.
pub(crate) fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut request =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() {
        request.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, response)
}

/// Runs the binary once with `args` (no backtraces, the allocator left as a user has it).
pub(crate) fn arvalox(args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .env_remove("MALLOC_ARENA_MAX")
        .output()
        .unwrap()
}

/// A demo book of 3 customers and 30 invoices at `db`, written by `seed-demo`.
pub(crate) fn seeded_book(db: &Path) {
    let args = [
        "seed-demo",
        "--db",
        db.to_str().unwrap(),
        "--customers",
        "3",
        "--invoices",
        "30",
    ];
    let seeded = arvalox(&args);
    assert!(
        seeded.status.success(),
        "{}",
        String::from_utf8_lossy(&seeded.stderr)
    );
}

/// Customer 1 and its invoice 1 of 1,000,000.00, for tests that pay it many times over.
pub(crate) fn one_large_invoice(port: u16, key: &str) {
    let auth = [("x-arvalox-api-key", key)];
    let (status, body) = http(port, "POST", "/v1/customers", &auth, r#"{"name": "Acme"}"#);
    assert_eq!(status, 201, "{body}");
    let invoice = r#"{"customer_id": 1, "issue_date": "2024-01-05", "due_date": "2024-02-04",
        "items": [{"description": "Work", "quantity": 1, "unit_price": "1000000.00"}]}"#;
    let (status, body) = http(port, "POST", "/v1/invoices", &auth, invoice);
    assert_eq!(status, 201, "{body}");
}

pub(crate) struct Server {
    child: Child,
    pub(crate) port: u16,
    pub(crate) key: String,
}

impl Server {
    pub(crate) fn start(db: &Path, log: &Path) -> Server {
        Self::start_in(db, log, None)
    }

    /// A server whose machine time zone is `tz` (the `TZ` variable).
    fn start_in(db: &Path, log: &Path, tz: Option<&str>) -> Server {
        let env: Vec<(&str, &str)> = tz.map(|tz| ("TZ", tz)).into_iter().collect();
        Self::start_with(db, log, &[], &env)
    }

    /// A server started with `extra` arguments and `env` variables too.
    pub(crate) fn start_with(
        db: &Path,
        log: &Path,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Server {
        let port = free_port();
        let mut command = Command::new(BIN);
        command.env_remove("MALLOC_ARENA_MAX");
        command.envs(env.iter().copied());
        let mut child = command
            .args([
                "serve",
                "--db",
                db.to_str().unwrap(),
                "--bind",
                &format!("127.0.0.1:{port}"),
            ])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(log).unwrap())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let key = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|line| {
                let word = line.trim();
                (word.starts_with("arv_") && word.len() == 52).then(|| word.to_string())
            })
            .expect("serve prints a key on first start");
        // Keep reading so the server never writes to a closed pipe.
        std::thread::spawn(move || lines.for_each(drop));
        let started = Instant::now();
        while http_ok(port).is_none() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "server did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Server { child, port, key }
    }

    /// A second start on a file that has keys: nothing is printed to wait for.
    pub(crate) fn restart(db: &Path, log: &Path, key: String) -> Server {
        Self::restart_with(db, log, key, &[])
    }

    /// [`Server::restart`] with `extra` arguments.
    pub(crate) fn restart_with(db: &Path, log: &Path, key: String, extra: &[&str]) -> Server {
        let port = free_port();
        let child = Command::new(BIN)
            .env_remove("MALLOC_ARENA_MAX")
            .args([
                "serve",
                "--db",
                db.to_str().unwrap(),
                "--bind",
                &format!("127.0.0.1:{port}"),
            ])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log).unwrap())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while http_ok(port).is_none() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "server did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Server { child, port, key }
    }

    /// Ends the server as a power cut or `kill -9` would: no chance to finish anything.
    pub(crate) fn kill_hard(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// The server's environment, as the kernel shows it.
    #[cfg(target_os = "linux")]
    fn environment(&self) -> String {
        let raw = std::fs::read(format!("/proc/{}/environ", self.child.id())).unwrap();
        String::from_utf8_lossy(&raw).replace('\0', "\n")
    }

    pub(crate) fn stop(mut self) -> std::process::ExitStatus {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        self.child.wait().unwrap()
    }
}

/// A test that fails before `stop` must not leave its server running.
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn http_ok(port: u16) -> Option<()> {
    TcpStream::connect(("127.0.0.1", port)).ok().map(|_| ())
}

#[test]
fn serve_prints_a_first_key_serves_and_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ar.db");
    let log = dir.path().join("serve.log");
    let server = Server::start(&db, &log);
    let key = server.key.clone();

    let (status, body) = http(server.port, "GET", "/health", &[], "");
    assert_eq!(status, 200, "{body}");
    let (status, body) = http(
        server.port,
        "GET",
        "/v1/ping",
        &[("x-arvalox-api-key", &key)],
        "",
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""organization":"default""#));
    let (status, body) = http(
        server.port,
        "POST",
        "/v1/customers/",
        &[("x-arvalox-api-key", &key), ("X-API-Key", &key)],
        r#"{"customer_code": "CUST001", "name": "Acme Corporation"}"#,
    );
    assert_eq!(status, 201, "{body}");
    let (status, _) = http(
        server.port,
        "GET",
        &format!("/v1/customers?x_arvalox_api_key={key}"),
        &[],
        "",
    );
    assert_eq!(status, 200);

    // A key revoked from the command line while the server runs stops working too.
    let created = Command::new(BIN)
        .args([
            "keys",
            "create",
            "--db",
            db.to_str().unwrap(),
            "--name",
            "temp",
        ])
        .output()
        .unwrap();
    let temp = String::from_utf8(created.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .to_string();
    let ping = |key: &str| {
        http(
            server.port,
            "GET",
            "/v1/ping",
            &[("x-arvalox-api-key", key)],
            "",
        )
        .0
    };
    assert_eq!(ping(&temp), 200);
    let revoked = Command::new(BIN)
        .args(["keys", "revoke", "--db", db.to_str().unwrap(), &temp[..12]])
        .status()
        .unwrap();
    assert!(revoked.success());
    let deadline = Instant::now() + Duration::from_secs(5);
    while ping(&temp) != 401 {
        assert!(Instant::now() < deadline, "a revoked key still works");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(ping(&key), 200);
    // A key pasted into the path by mistake is a 400 or a 404, and never logged.
    for path in [format!("/v1/customers/{key}"), format!("/v1/{key}/x")] {
        let (status, _) = http(server.port, "GET", &path, &[], "");
        assert!(
            status == 400 || status == 404 || status == 401,
            "{path}: {status}"
        );
    }

    let exit = server.stop();
    assert!(exit.success(), "{exit:?}");
    let log_text = std::fs::read_to_string(&log).unwrap();
    assert!(
        log_text.contains("/v1/customers"),
        "requests are logged: {log_text}"
    );
    assert!(!log_text.contains(&key), "a key reached the log");
    assert!(!log_text.contains(&key[4..]), "a key reached the log");

    // A second start finds a key and mints none.
    let restarted = Command::new(BIN)
        .args(["keys", "list", "--db", db.to_str().unwrap()])
        .output()
        .unwrap();
    let listing = String::from_utf8(restarted.stdout).unwrap();
    assert!(listing.contains(&key[..12]));
    assert!(!listing.contains(&key));
}

#[test]
fn keys_cli_creates_lists_and_revokes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("keys.db");
    let db = db.to_str().unwrap();
    let created = Command::new(BIN)
        .args([
            "keys", "create", "--db", db, "--name", "ci", "--org", "acme", "--scope", "read",
        ])
        .output()
        .unwrap();
    assert!(created.status.success());
    let stdout = String::from_utf8(created.stdout).unwrap();
    let secret = stdout.lines().last().unwrap().trim().to_string();
    assert!(secret.starts_with("arv_") && secret.len() == 52, "{stdout}");

    let listed = Command::new(BIN)
        .args(["keys", "list", "--db", db])
        .output()
        .unwrap();
    let listing = String::from_utf8(listed.stdout).unwrap();
    assert!(
        listing.contains("acme") && listing.contains("read") && listing.contains(&secret[..12])
    );
    assert!(!listing.contains(&secret));

    let revoked = Command::new(BIN)
        .args(["keys", "revoke", "--db", db, &secret[..12]])
        .output()
        .unwrap();
    assert!(
        revoked.status.success(),
        "{}",
        String::from_utf8_lossy(&revoked.stderr)
    );
    let missing = Command::new(BIN)
        .args(["keys", "revoke", "--db", db, "arv_00000000"])
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(Command::new(BIN)
        .args(["migrate", "--db", db])
        .status()
        .unwrap()
        .success());
}

#[test]
fn openapi_command_prints_the_committed_spec() {
    let output = Command::new(BIN).arg("openapi").output().unwrap();
    assert!(output.status.success());
    let printed = String::from_utf8(output.stdout).unwrap();
    assert_eq!(printed.trim_end(), arvalox::api::spec_json().trim_end());
}

/// "Today" (default issue and payment dates, overdue) is the server machine's local date,
/// not UTC: a shop at UTC+14 must not have its morning payments refused as future-dated.
#[test]
fn today_is_the_machines_local_date() {
    let dir = tempfile::tempdir().unwrap();
    // 26 hours apart, so at any instant their dates differ and one differs from UTC's.
    for (tz, offset_hours) in [("Etc/GMT-14", 14), ("Etc/GMT+12", -12)] {
        let db = dir.path().join(format!("{offset_hours}.db"));
        let server = Server::start_in(
            &db,
            &dir.path().join(format!("{offset_hours}.log")),
            Some(tz),
        );
        let key = [("x-arvalox-api-key", server.key.as_str())];
        let (_, created) = http(
            server.port,
            "POST",
            "/v1/customers",
            &key,
            r#"{"name": "Zone"}"#,
        );
        assert!(created.contains("201 Created"), "{created}");
        let body = r#"{"customer_id": 1, "items": [{"description": "x", "quantity": 1, "unit_price": 1}]}"#;
        let (status, invoice) = http(server.port, "POST", "/v1/invoices", &key, body);
        let expected = (chrono::Utc::now() + chrono::Duration::hours(offset_hours))
            .date_naive()
            .format("%Y-%m-%d")
            .to_string();
        assert_eq!(status, 201, "{invoice}");
        assert!(
            invoice.contains(&format!(r#""issue_date":"{expected}""#)),
            "{tz}: expected issue_date {expected} in {invoice}"
        );
        assert!(server.stop().success());
    }
}

#[test]
fn long_answers_arrive_whole_and_length_framed() {
    // The spec is far over one answer piece (16 KiB), so it is written in pieces.
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("ar.db"), &dir.path().join("serve.log"));
    let (status, response) = http(server.port, "GET", "/openapi.json", &[], "");
    assert_eq!(status, 200);
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let head = head.to_ascii_lowercase();
    assert!(body.len() > 64 * 1024, "spec is {} bytes", body.len());
    assert!(
        head.contains(&format!("content-length: {}\r\n", body.len())),
        "{head}"
    );
    assert!(!head.contains("transfer-encoding"), "{head}");
    let committed = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi/arvalox.json"),
    )
    .unwrap();
    let served: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(
        served,
        serde_json::from_str::<serde_json::Value>(&committed).unwrap()
    );
    server.stop();
}

/// A key that is not visible ASCII was once read as no key: the retry wrote twice.
#[test]
fn an_idempotency_key_that_is_not_visible_ascii_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("ar.db"), &dir.path().join("serve.log"));
    let headers = [
        ("x-arvalox-api-key", server.key.as_str()),
        ("Idempotency-Key", "abcé"),
    ];
    for _ in 0..2 {
        let (status, response) = http(
            server.port,
            "POST",
            "/v1/customers",
            &headers,
            r#"{"name": "Acme"}"#,
        );
        assert_eq!(status, 400, "{response}");
        assert!(
            response.contains(r#""Idempotency-Key":["must be 1 to 255 visible ASCII characters"]"#),
            "{response}"
        );
    }
    let (status, response) = http(
        server.port,
        "GET",
        "/v1/customers",
        &[("x-arvalox-api-key", server.key.as_str())],
        "",
    );
    assert_eq!(status, 200);
    assert!(response.contains(r#""total":0"#), "{response}");
    server.stop();
}

/// `serve` re-executes itself once with glibc's arena limit (same process, same PID).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn serve_runs_with_two_malloc_arenas() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("ar.db"), &dir.path().join("serve.log"));
    assert!(
        server
            .environment()
            .lines()
            .any(|line| line == "MALLOC_ARENA_MAX=2"),
        "{}",
        server.environment()
    );
    assert_eq!(server.stop().code(), Some(0));
}

/// Opening a new file logged `ERROR r2d2: database is locked` about one start in four: the
/// pool's connections raced to switch the file to WAL.
#[test]
fn a_fresh_file_starts_without_errors_in_the_log() {
    let dir = tempfile::tempdir().unwrap();
    for attempt in 0..8 {
        let log = dir.path().join(format!("serve-{attempt}.log"));
        let server = Server::start(&dir.path().join(format!("ar-{attempt}.db")), &log);
        assert_eq!(server.stop().code(), Some(0));
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(!text.contains("ERROR") && !text.contains("WARN"), "{text}");
    }
}

/// A file that is not a database is refused with the reason, without the pool retrying it
/// (for 30 s, logging an r2d2 ERROR each time).
#[test]
fn a_file_that_is_not_a_database_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("notes.txt");
    std::fs::write(&db, "these are not invoices\n".repeat(200)).unwrap();
    let output = Command::new(BIN)
        .args([
            "serve",
            "--db",
            db.to_str().unwrap(),
            "--bind",
            "127.0.0.1:0",
        ])
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not a SQLite database"), "{stderr}");
    assert_eq!(output.status.code(), Some(12));
    assert!(!stderr.contains("ERROR r2d2"), "{stderr}");
}
