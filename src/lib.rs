//! Arvalox: a self-hosted accounts-receivable server over one SQLite file.

pub mod api;
pub mod clock;
pub mod console;
pub mod db;
pub mod documents;
pub mod domain;
pub mod error;
pub mod mail;
pub mod metrics;
pub mod net;
pub mod ops;
pub mod process;
pub mod ratelimit;
pub mod seed;

#[cfg(test)]
mod layers {
    /// Dependencies point one way, `api` → `db` → `domain`: storage never reaches up into
    /// HTTP, the rules reach neither, and HTTP never names a database engine's types.
    #[test]
    fn storage_and_rules_never_reach_up() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        for (folder, forbidden) in [
            // HTTP speaks to storage through `db`'s own types, never an engine's.
            ("api", &["rusqlite", "tokio_postgres", "deadpool"][..]),
            ("db", &["crate::api", "poem"][..]),
            (
                "domain",
                &["crate::api", "crate::db", "poem", "rusqlite"][..],
            ),
            // Documents lay out what they are given: no storage, no HTTP.
            (
                "documents",
                &["crate::api", "crate::db", "poem", "rusqlite"][..],
            ),
        ] {
            let files = rust_files(&root.join(folder));
            for path in &files {
                let text = std::fs::read_to_string(path).unwrap();
                for word in forbidden {
                    assert!(!text.contains(word), "{} mentions {word}", path.display());
                }
            }
            assert!(files.len() >= 3, "{folder}: {} files", files.len());
        }
    }

    /// Every file under `dir`, its folders' included (`db/transfer/`).
    fn rust_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                found.extend(rust_files(&path));
            } else {
                found.push(path);
            }
        }
        found
    }
}
