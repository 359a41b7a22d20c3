//! Small helpers for building filtered queries with positional parameters.

use super::conn::value::Value;
use super::conn::Conn;

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

/// The organization column of a child table's INSERT (lines, deliveries) and its
/// parameter `?position`: PostgreSQL keeps the organization on each row (Citus
/// distributes by it), SQLite on the parent row alone, so there both are empty.
pub(crate) fn owner_column(conn: &Conn, position: usize) -> (&'static str, String) {
    match conn.is_postgres() {
        true => ("organization_id, ", format!("?{position}, ")),
        false => ("", String::new()),
    }
}

/// The condition (ending in `AND `) that keeps a child table's rows (lines, deliveries)
/// to the organization bound at `parameter` (`?2`, or `?` in order). On PostgreSQL it is
/// the row's own column, which routes the statement to one shard on Citus; SQLite keeps the
/// organization on the parent row alone, which the caller has matched to it already, so
/// there the condition only takes up its parameter.
pub(crate) fn owner_filter(conn: &Conn, parameter: &str) -> String {
    match conn.is_postgres() {
        true => format!("organization_id = {parameter} AND "),
        false => format!("CAST({parameter} AS INTEGER) IS NOT NULL AND "),
    }
}
