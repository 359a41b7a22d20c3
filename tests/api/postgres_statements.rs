//! Citus routes a statement to one shard only when it names the organization, so every
//! statement Arvalox runs on a tenant table must filter by `organization_id` (or insert
//! it). This check reads `pg_stat_statements` after the whole PostgreSQL pass has run, so
//! it sees every statement the suite made the server run. `.ci/postgres/run.sh` starts
//! the cluster with the extension loaded and runs it last (`--ignored`).
//!
//! Two marks exempt a statement, each written where the statement is:
//! `/* every organization */` for the few that read the whole book on purpose (the
//! recounts of `verify` and `doctor`, the webhook worker's poll of due endpoints,
//! `migrate-db`), and `/* test check */` for the tests' own SQL.

use crate::postgres::{connect, server_or_skip, FreshDatabase};

/// Statements that never touch a tenant's rows, by their first word.
const NOT_ROW_STATEMENTS: [&str; 15] = [
    "CREATE",
    "ALTER",
    "DROP",
    "COPY",
    "COMMENT",
    "SET",
    "SHOW",
    "BEGIN",
    "COMMIT",
    "ROLLBACK",
    "SAVEPOINT",
    "RELEASE",
    "GRANT",
    "TRUNCATE",
    "DO",
];

/// The tables named after FROM, JOIN, UPDATE or INTO in `sql`.
fn tables_named(sql: &str) -> Vec<String> {
    let words: Vec<&str> = sql
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect();
    words
        .windows(2)
        .filter(|pair| {
            ["FROM", "JOIN", "UPDATE", "INTO"]
                .iter()
                .any(|k| pair[0].eq_ignore_ascii_case(k))
        })
        .map(|pair| pair[1].to_ascii_lowercase())
        .collect()
}

/// Whether `sql` compares `organization_id` with a parameter (`= $n`, `IN ($n`), or
/// inserts it among the values given.
fn names_an_organization(sql: &str) -> bool {
    let compared = sql.match_indices("organization_id").any(|(at, found)| {
        let rest = sql[at + found.len()..].trim_start();
        let operand = if let Some(rest) = rest.strip_prefix('=') {
            rest
        } else if rest
            .get(..2)
            .is_some_and(|word| word.eq_ignore_ascii_case("in"))
        {
            rest.get(2..)
                .unwrap_or("")
                .trim_start()
                .trim_start_matches('(')
        } else {
            return false;
        };
        operand.trim_start().starts_with('$')
    });
    let inserted = sql.trim_start().to_ascii_uppercase().starts_with("INSERT")
        && sql.to_ascii_uppercase().contains("VALUES")
        && sql.contains("organization_id");
    compared || inserted
}

/// Whether `organization_id` is named at least once for each tenant table `sql` names: a
/// table joined by its id alone is a second table that Citus cannot route with the first.
fn each_table_is_scoped(sql: &str, tenant_tables: &[String]) -> bool {
    let tables = tables_named(sql)
        .iter()
        .filter(|t| tenant_tables.contains(t))
        .count();
    sql.matches("organization_id").count() >= tables
}

#[test]
fn the_check_reads_statements_as_pg_stat_statements_writes_them() {
    let invoice =
        "SELECT a FROM invoices i JOIN allocations a ON a.invoice_id = i.id WHERE i.id = $1";
    assert_eq!(tables_named(invoice), ["invoices", "allocations"]);
    assert!(!names_an_organization(invoice));
    assert!(names_an_organization(
        "UPDATE invoices SET status = $2 WHERE organization_id = $3 AND id = $1"
    ));
    assert!(names_an_organization(
        "SELECT 1 FROM refunds WHERE organization_id IN ($1)"
    ));
    assert!(names_an_organization(
        "INSERT INTO allocations (organization_id, invoice_id) VALUES ($1, $2)"
    ));
    let tenant = ["invoices".to_string(), "allocations".to_string()];
    assert!(!each_table_is_scoped(
        "SELECT 1 FROM allocations a JOIN invoices i ON i.id = a.invoice_id WHERE a.organization_id = $1",
        &tenant
    ));
    assert!(each_table_is_scoped(
        "SELECT 1 FROM allocations a JOIN invoices i ON i.organization_id = $1 AND i.id = a.invoice_id WHERE a.organization_id = $1",
        &tenant
    ));
    // A join on the column alone does not route a statement to one shard.
    assert!(!names_an_organization(
        "SELECT 1 FROM settled_daily s JOIN invoices i ON s.organization_id = i.organization_id WHERE i.id = $1"
    ));
}

#[tokio::test]
#[ignore = "run by .ci/postgres/run.sh after the PostgreSQL pass, on the statistics it left"]
async fn every_statement_on_a_tenant_table_names_its_organization() {
    let Some(server) = server_or_skip("every_statement_on_a_tenant_table_names_its_organization")
    else {
        return;
    };
    let book = FreshDatabase::migrated(&server).await;
    let tenant_tables: Vec<String> = book
        .client()
        .await
        .query(
            "SELECT table_name::text FROM information_schema.columns
             WHERE table_schema = 'public' AND column_name = 'organization_id'
               AND table_name NOT IN ('organizations', 'api_keys')",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert!(tenant_tables.len() >= 15, "{tenant_tables:?}");
    let admin = connect(&server).await;
    admin
        .execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements", &[])
        .await
        .unwrap();
    let statements: Vec<String> = admin
        .query("SELECT query FROM pg_stat_statements", &[])
        .await
        .expect("pg_stat_statements must be in shared_preload_libraries (see .ci/postgres/run.sh)")
        .iter()
        .map(|row| row.get(0))
        .collect();
    // Statistics dropped for want of room would let a statement pass unseen.
    let dropped: i64 = admin
        .query_one("SELECT dealloc FROM pg_stat_statements_info", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        dropped, 0,
        "pg_stat_statements dropped entries: raise pg_stat_statements.max in .ci/postgres/run.sh"
    );
    let mut checked = 0;
    let mut unscoped: Vec<String> = Vec::new();
    for sql in &statements {
        let first = sql
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        if NOT_ROW_STATEMENTS.contains(&first.as_str())
            || sql.contains("/* every organization */")
            || sql.contains("/* test check */")
        {
            continue;
        }
        if !tables_named(sql).iter().any(|t| tenant_tables.contains(t)) {
            continue;
        }
        checked += 1;
        if !names_an_organization(sql) || !each_table_is_scoped(sql, &tenant_tables) {
            unscoped.push(sql.split_whitespace().collect::<Vec<_>>().join(" "));
        }
    }
    unscoped.sort();
    unscoped.dedup();
    // The pass must have run first: a few statements would make the check vacuous.
    assert!(
        checked > 200,
        "only {checked} statements on tenant tables were recorded"
    );
    assert!(
        unscoped.is_empty(),
        "{} statements on tenant tables name no organization:\n{}",
        unscoped.len(),
        unscoped.join("\n")
    );
}
