//! Small helpers for building filtered queries with positional parameters.

use rusqlite::types::Value;

/// A WHERE clause and its parameters, grown one condition at a time.
#[derive(Default)]
pub(crate) struct Filter {
    clauses: Vec<String>,
    pub params: Vec<Value>,
}

impl Filter {
    pub(crate) fn new(org_column: &str, org: i64) -> Self {
        let mut filter = Filter::default();
        filter.push(&format!("{org_column} = ?"), Value::Integer(org));
        filter
    }

    /// `clause` holds one `?` for `value`.
    pub(crate) fn push(&mut self, clause: &str, value: Value) {
        self.clauses.push(clause.to_string());
        self.params.push(value);
    }

    /// `clause` holds one `?` per value, in order.
    pub(crate) fn push_all(&mut self, clause: &str, values: impl IntoIterator<Item = Value>) {
        self.clauses.push(clause.to_string());
        self.params.extend(values);
    }

    pub(crate) fn where_sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.clauses.join(" AND "))
        }
    }
}

/// A LIKE pattern matching `needle` anywhere, with LIKE's wildcards escaped (`ESCAPE '\\'`).
pub(crate) fn contains_pattern(needle: &str) -> Value {
    let escaped = needle
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    Value::Text(format!("%{escaped}%"))
}

/// A stored value this binary cannot read. Reads never default one (a bad date would
/// read as 1970-01-01, an unknown status as a draft): the error names the row and the
/// column, for the log, and the request fails instead of answering a wrong figure.
#[derive(Debug)]
struct Unreadable(String);

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unreadable {}

pub(crate) fn unreadable(column: usize, what: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        column,
        rusqlite::types::Type::Text,
        Box::new(Unreadable(what)),
    )
}
