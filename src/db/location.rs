//! Where a book is kept, as `--db` (or `ARVALOX_DB`) names it: a SQLite file, by its path
//! or as `sqlite://PATH`, or a PostgreSQL database as `postgres://…` / `postgresql://…`.
//! A PostgreSQL URL may carry a password: it is kept, but never shown (its `Display` and
//! `Debug` mask it), so no log line or error can print it.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// A book's location, parsed from `--db`.
#[derive(Clone, PartialEq, Eq)]
pub enum BookLocation {
    /// A SQLite file (created if missing).
    Sqlite(PathBuf),
    /// A PostgreSQL database, by its connection URL.
    Postgres(PostgresUrl),
}

/// A PostgreSQL connection URL whose password is never displayed.
#[derive(Clone, PartialEq, Eq)]
pub struct PostgresUrl(String);

impl FromStr for BookLocation {
    type Err = String;

    /// Never fails on a PostgreSQL URL (a parse error would print the text given, and so
    /// its password); only an empty value is refused.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.is_empty() {
            return Err("give a SQLite file path, sqlite://PATH or postgres://…".into());
        }
        let lower = text.to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            return Ok(BookLocation::Postgres(PostgresUrl(text.to_string())));
        }
        let path = match lower.starts_with("sqlite://") {
            true => text.get("sqlite://".len()..).unwrap_or_default(),
            false => text,
        };
        if path.is_empty() {
            return Err("sqlite:// needs the file's path after it, as sqlite://./ar.db".into());
        }
        Ok(BookLocation::Sqlite(PathBuf::from(path)))
    }
}

impl BookLocation {
    /// The SQLite file, or the line that says a PostgreSQL book is backed up by its server.
    pub fn sqlite_file(&self) -> Result<&Path, String> {
        match self {
            BookLocation::Sqlite(path) => Ok(path),
            BookLocation::Postgres(url) => Err(format!(
                "{url}: `backup` and `restore` copy a SQLite file; a PostgreSQL book is backed \
                 up and restored by its server's own tools (pg_dump and pg_restore, or \
                 continuous archiving)"
            )),
        }
    }
}

impl fmt::Display for BookLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BookLocation::Sqlite(path) => write!(f, "{}", path.display()),
            BookLocation::Postgres(url) => write!(f, "{url}"),
        }
    }
}

impl fmt::Debug for BookLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BookLocation({self})")
    }
}

impl PostgresUrl {
    /// The URL as given, password included: for the driver's connection only, never for
    /// a message.
    pub(crate) fn connection_text(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PostgresUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&masked(&self.0))
    }
}

impl fmt::Debug for PostgresUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PostgresUrl({self})")
    }
}

/// `url` with the password of its user part (`user:PASSWORD@`) and any `password=` query
/// parameter replaced by `***`. The user part is taken to end at the last `@`: a password
/// may hold `/`, `?`, `#` or an `@` of its own, and masking too much (when an `@` stands in
/// the query) only hides a host, never shows a password.
fn masked(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "***".into();
    };
    let (user, tail) = match rest.rsplit_once('@') {
        Some((user, tail)) => match user.split_once(':') {
            Some((name, _)) => (format!("{name}:***@"), tail),
            None => (format!("{user}@"), tail),
        },
        None => (String::new(), rest),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let params: Vec<String> = query
                .split('&')
                .map(|param| match param.split_once('=') {
                    Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                    _ => param.to_string(),
                })
                .collect();
            format!("{path}?{}", params.join("&"))
        }
        None => tail.to_string(),
    };
    format!("{scheme}://{user}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> BookLocation {
        text.parse().unwrap()
    }

    #[test]
    fn a_path_or_a_sqlite_url_is_a_sqlite_file() {
        assert_eq!(
            parsed("./ar.db"),
            BookLocation::Sqlite(PathBuf::from("./ar.db"))
        );
        assert_eq!(
            parsed("sqlite:///var/lib/arvalox/ar.db"),
            BookLocation::Sqlite(PathBuf::from("/var/lib/arvalox/ar.db"))
        );
        assert_eq!(
            parsed("SQLITE://ar.db"),
            BookLocation::Sqlite(PathBuf::from("ar.db"))
        );
        // A file may be named like anything else.
        assert_eq!(
            parsed("postgres.db"),
            BookLocation::Sqlite(PathBuf::from("postgres.db"))
        );
        assert!("sqlite://".parse::<BookLocation>().is_err());
        assert!("".parse::<BookLocation>().is_err());
    }

    #[test]
    fn a_postgres_url_never_shows_its_password() {
        let cases = [
            (
                "postgres://ar:s3cret@db.example:5432/books",
                "postgres://ar:***@db.example:5432/books",
            ),
            (
                "postgresql://ar:p%40ss:w@rd@10.0.0.5/books?sslmode=require",
                "postgresql://ar:***@10.0.0.5/books?sslmode=require",
            ),
            (
                "postgres://ar@localhost/books?password=s3cret&application_name=x",
                "postgres://ar@localhost/books?password=***&application_name=x",
            ),
            ("postgres://localhost", "postgres://localhost"),
            // What the driver reads as a password may hold `/`, `?` and `#`.
            (
                "postgres://ar:s3cret/x?y#z@db/books",
                "postgres://ar:***@db/books",
            ),
            (
                "postgres://ar:s3cret@db/books?application_name=a@b",
                "postgres://ar:***@b",
            ),
        ];
        for (given, shown) in cases {
            let location = parsed(given);
            assert!(matches!(location, BookLocation::Postgres(_)), "{given}");
            assert_eq!(location.to_string(), shown);
            let debug = format!("{location:?}");
            assert!(
                !debug.contains("s3cret") && !debug.contains("rd@10"),
                "{debug}"
            );
            let refusal = location.sqlite_file().unwrap_err();
            assert!(refusal.starts_with(shown), "{refusal}");
            assert!(!refusal.contains("s3cret"), "{refusal}");
        }
    }
}
