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

/// A table whose rows carry their organization on SQLite only through a parent row: a
/// line through its invoice, a delivery through its endpoint. PostgreSQL keeps
/// `organization_id` on every row (Citus distributes by it).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ChildTable {
    pub(crate) name: &'static str,
    pub(crate) parent: &'static str,
    /// The column naming the parent row.
    pub(crate) key: &'static str,
}

pub(crate) const INVOICE_ITEMS: ChildTable = ChildTable {
    name: "invoice_items",
    parent: "invoices",
    key: "invoice_id",
};

pub(crate) const CREDIT_NOTE_ITEMS: ChildTable = ChildTable {
    name: "credit_note_items",
    parent: "credit_notes",
    key: "credit_note_id",
};

pub(crate) const WEBHOOK_DELIVERIES: ChildTable = ChildTable {
    name: "webhook_deliveries",
    parent: "webhook_endpoints",
    key: "endpoint_id",
};

/// The organization column of an INSERT into child table `_table` and its parameter
/// `?position`: both empty on SQLite, where the row has no such column.
pub(crate) fn owner_column(
    conn: &Conn,
    _table: ChildTable,
    position: usize,
) -> (&'static str, String) {
    match conn.is_postgres() {
        true => ("organization_id, ", format!("?{position}, ")),
        false => ("", String::new()),
    }
}

/// The condition (ending in `AND `) that keeps the rows of child table `_table` (named
/// `prefix`, empty or an alias with its dot) to the organization bound at `parameter`
/// (`?2`, or `?` in order). On PostgreSQL it is the row's own column, which routes the
/// statement to one shard on Citus; SQLite keeps the organization on the parent row alone,
/// which the caller has matched to it already, so there the condition only takes up its
/// parameter.
pub(crate) fn owner_filter(
    conn: &Conn,
    _table: ChildTable,
    prefix: &str,
    parameter: &str,
) -> String {
    match conn.is_postgres() {
        true => format!("{prefix}organization_id = {parameter} AND "),
        false => format!("CAST({parameter} AS INTEGER) IS NOT NULL AND "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::transfer::{Owner, TABLES};

    /// The tables `migrate-db` moves by their parents are exactly the child tables the
    /// statements know of: a new one is declared once, here, for both.
    #[test]
    fn the_tables_moved_by_their_parents_are_the_child_tables() {
        let children: Vec<(&str, &str, &str)> =
            [INVOICE_ITEMS, CREDIT_NOTE_ITEMS, WEBHOOK_DELIVERIES]
                .iter()
                .map(|child| (child.name, child.parent, child.key))
                .collect();
        let moved_by_parent: Vec<(&str, &str, &str)> = TABLES
            .iter()
            .filter_map(|table| match table.owner {
                Owner::Parent { table: parent, key } => Some((table.name, parent, key)),
                _ => None,
            })
            .collect();
        assert_eq!(moved_by_parent, children);
    }
}
