//! The PostgreSQL book's schema, migrated by the real binary and read back from the
//! catalog: the rules that let Citus distribute it by organization later, and every column
//! of the SQLite book present, so a book can move between the engines.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use tokio_postgres::Client;

use crate::postgres::{server_or_skip, FreshDatabase};

/// The cross-tenant tables: Citus keeps a copy of each on every node.
const REFERENCE_TABLES: [&str; 2] = ["api_keys", "organizations"];
/// The bookkeeping of the migrations themselves, on the coordinator only.
const MIGRATION_HISTORY: &str = "refinery_schema_history";

fn migrate(url: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_arvalox"))
        .args(["migrate", "--db", url])
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap()
}

#[tokio::test]
async fn the_postgres_book_is_migrated_once_by_the_binary() {
    let Some(server) = server_or_skip("the_postgres_book_is_migrated_once_by_the_binary") else {
        return;
    };
    let book = FreshDatabase::create(&server).await;
    let first = migrate(&book.url);
    assert!(first.status.success(), "{first:?}");
    assert_eq!(
        String::from_utf8_lossy(&first.stdout).trim(),
        format!("{}: migrated (3 applied, at version 3)", book.url)
    );
    let again = migrate(&book.url);
    assert!(again.status.success(), "{again:?}");
    assert_eq!(
        String::from_utf8_lossy(&again.stdout).trim(),
        format!("{}: migrated (0 applied, at version 3)", book.url)
    );

    // A book a newer Arvalox migrated is left alone, with exit code 14.
    let client = book.client().await;
    client
        .execute(
            "INSERT INTO refinery_schema_history (version, name, applied_on, checksum)
             VALUES (999, 'from_the_future', '2030-01-01', '0')",
            &[],
        )
        .await
        .unwrap();
    let newer = migrate(&book.url);
    assert_eq!(newer.status.code(), Some(14), "{newer:?}");
    assert_eq!(
        String::from_utf8_lossy(&newer.stderr).trim(),
        format!(
            "arvalox: {}: written by a newer Arvalox (migrations up to 999; this binary knows 3): run that version",
            book.url
        )
    );
}

#[tokio::test]
async fn the_postgres_schema_keeps_the_rules_citus_needs() {
    let Some(server) = server_or_skip("the_postgres_schema_keeps_the_rules_citus_needs") else {
        return;
    };
    let book = FreshDatabase::create(&server).await;
    assert!(migrate(&book.url).status.success());
    let client = book.client().await;
    assert_eq!(citus_violations(&client).await, Vec::<String>::new());
    let tables = tables(&client).await;
    assert_eq!(tables.len(), 21, "{tables:?}");
}

#[tokio::test]
async fn the_citus_check_names_each_broken_rule() {
    let Some(server) = server_or_skip("the_citus_check_names_each_broken_rule") else {
        return;
    };
    let book = FreshDatabase::create(&server).await;
    let client = book.client().await;
    client
        .batch_execute(
            "CREATE TABLE organizations (id BIGINT PRIMARY KEY);
             CREATE TABLE api_keys (id BIGINT PRIMARY KEY, key_hash TEXT UNIQUE);
             CREATE TABLE customers (organization_id BIGINT NOT NULL, id SERIAL,
                 code TEXT, PRIMARY KEY (organization_id, id), UNIQUE (code));
             CREATE TABLE notes (id BIGINT PRIMARY KEY, customer_id BIGINT,
                 organization_id BIGINT);
             CREATE TABLE lines (organization_id BIGINT NOT NULL, id BIGINT,
                 customer_id BIGINT, PRIMARY KEY (organization_id, id),
                 FOREIGN KEY (organization_id, customer_id)
                     REFERENCES customers (organization_id, id));
             CREATE UNIQUE INDEX customers_code_only ON customers (code);
             ALTER TABLE customers ADD UNIQUE (organization_id, id, code);
             ALTER TABLE notes ADD FOREIGN KEY (customer_id, organization_id)
                 REFERENCES customers (organization_id, id);
             ALTER TABLE api_keys ADD COLUMN customer_org BIGINT;
             ALTER TABLE api_keys ADD COLUMN customer_id BIGINT;
             ALTER TABLE api_keys ADD FOREIGN KEY (customer_org, customer_id)
                 REFERENCES customers (organization_id, id);
             CREATE FUNCTION nothing() RETURNS trigger LANGUAGE plpgsql
                 AS 'BEGIN RETURN NEW; END';
             CREATE TRIGGER lines_touch BEFORE UPDATE ON lines
                 FOR EACH ROW EXECUTE FUNCTION nothing();",
        )
        .await
        .unwrap();
    assert_eq!(
        citus_violations(&client).await,
        [
            "api_keys: reference table points at tenant table customers",
            "customers.id: generated from a sequence of integer, not bigint",
            "customers: unique index customers_code_only leaves out organization_id",
            "customers: unique key customers_code_key leaves out organization_id",
            "lines: trigger lines_touch",
            "notes.organization_id: may be NULL",
            "notes: foreign key notes_customer_id_organization_id_fkey pairs organization_id with another column",
            "notes: primary key notes_pkey leaves out organization_id",
        ]
    );
}

#[tokio::test]
async fn the_postgres_book_has_every_column_of_the_sqlite_book() {
    let Some(server) = server_or_skip("the_postgres_book_has_every_column_of_the_sqlite_book")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ar.db");
    assert!(migrate(file.to_str().unwrap()).status.success());
    let book = FreshDatabase::create(&server).await;
    assert!(migrate(&book.url).status.success());
    let client = book.client().await;

    let sqlite = rusqlite::Connection::open(&file).unwrap();
    let mut missing = Vec::new();
    let postgres = columns(&client).await;
    for (table, columns) in sqlite_columns(&sqlite) {
        // SQLite's own, and the file-wide format version (PostgreSQL keeps it per
        // organization, in organizations.detail_copy_format).
        let sqlite_only = ["sqlite_sequence", MIGRATION_HISTORY, "detail_copy_format"];
        if sqlite_only.contains(&table.as_str()) {
            continue;
        }
        for (column, declared) in columns {
            match postgres.get(&(table.clone(), column.clone())) {
                None => missing.push(format!("{table}.{column}")),
                Some(found) if !compatible(&declared, found) => {
                    missing.push(format!("{table}.{column}: {declared} became {found}"));
                }
                Some(_) => {}
            }
        }
    }
    assert_eq!(missing, Vec::<String>::new());
}

/// Whether a SQLite column's values fit the PostgreSQL column that takes them.
fn compatible(sqlite: &str, postgres: &str) -> bool {
    match sqlite {
        "INTEGER" => ["bigint", "integer", "boolean"].contains(&postgres),
        "TEXT" => ["text", "date", "timestamp with time zone", "numeric"].contains(&postgres),
        _ => false,
    }
}

fn sqlite_columns(conn: &rusqlite::Connection) -> BTreeMap<String, Vec<(String, String)>> {
    let mut stmt = conn
        .prepare(
            "SELECT m.name, p.name, p.type FROM sqlite_schema m, pragma_table_info(m.name) p
             WHERE m.type = 'table' ORDER BY m.name, p.cid",
        )
        .unwrap();
    let mut tables: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let rows = stmt
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .unwrap();
    for row in rows {
        let (table, column, declared): (String, String, String) = row.unwrap();
        tables.entry(table).or_default().push((column, declared));
    }
    tables
}

async fn columns(client: &Client) -> BTreeMap<(String, String), String> {
    client
        .query(
            "SELECT table_name::text, column_name::text, data_type::text
             FROM information_schema.columns WHERE table_schema = 'public'",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| ((row.get(0), row.get(1)), row.get(2)))
        .collect()
}

async fn tables(client: &Client) -> BTreeSet<String> {
    client
        .query(
            "SELECT relname::text FROM pg_class
             WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p')
               AND relname <> $1",
            &[&MIGRATION_HISTORY],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect()
}

/// Every way the schema in `client`'s database breaks what Citus needs to distribute the
/// tenant tables by organization_id, one line each, sorted.
async fn citus_violations(client: &Client) -> Vec<String> {
    let tables = tables(client).await;
    let tenant_column = tenant_columns(client).await;
    let mut found = Vec::new();
    for table in &tables {
        if !REFERENCE_TABLES.contains(&table.as_str()) && !tenant_column.contains_key(table) {
            found.push(format!("{table}: no organization_id"));
        }
    }
    for row in client
        .query(
            "SELECT table_name::text, column_name::text FROM information_schema.columns
             WHERE table_schema = 'public' AND column_name = 'organization_id'
               AND (is_nullable = 'YES' OR data_type <> 'bigint')",
            &[],
        )
        .await
        .unwrap()
    {
        let (table, column): (String, String) = (row.get(0), row.get(1));
        found.push(format!("{table}.{column}: may be NULL"));
    }
    found.extend(key_violations(client, &tenant_column).await);
    found.extend(unique_index_violations(client, &tenant_column).await);
    for row in client
        .query(
            "SELECT tgrelid::regclass::text, tgname::text FROM pg_trigger WHERE NOT tgisinternal",
            &[],
        )
        .await
        .unwrap()
    {
        found.push(format!(
            "{}: trigger {}",
            row.get::<_, String>(0),
            row.get::<_, String>(1)
        ));
    }
    for row in client
        .query(
            "SELECT s.seqrelid::regclass::text, s.seqtypid::regtype::text, d.refobjid::regclass::text,
                    a.attname::text
             FROM pg_sequence s JOIN pg_depend d ON d.objid = s.seqrelid AND d.deptype IN ('a', 'i')
             JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
             WHERE s.seqtypid <> 'bigint'::regtype",
            &[],
        )
        .await
        .unwrap()
    {
        let (kind, table, column): (String, String, String) = (row.get(1), row.get(2), row.get(3));
        found.push(format!("{table}.{column}: generated from a sequence of {kind}, not bigint"));
    }
    found.sort();
    found
}

/// Each tenant table's organization_id column number.
async fn tenant_columns(client: &Client) -> BTreeMap<String, i16> {
    client
        .query(
            "SELECT attrelid::regclass::text, attnum FROM pg_attribute a
             JOIN pg_class c ON c.oid = a.attrelid
             WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
               AND a.attname = 'organization_id' AND NOT a.attisdropped",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .filter(|(table, _): &(String, i16)| !REFERENCE_TABLES.contains(&table.as_str()))
        .collect()
}

/// Primary keys and unique constraints of tenant tables that leave out organization_id,
/// foreign keys between tenant tables that do not pair it with itself, and reference tables
/// pointing at tenant tables.
async fn key_violations(client: &Client, tenant_column: &BTreeMap<String, i16>) -> Vec<String> {
    let mut found = Vec::new();
    let rows = client
        .query(
            "SELECT conrelid::regclass::text, conname::text, contype::text, conkey,
                    COALESCE(confrelid::regclass::text, ''), COALESCE(confkey, '{}')
             FROM pg_constraint
             WHERE connamespace = 'public'::regnamespace AND contype IN ('p', 'u', 'f')",
            &[],
        )
        .await
        .unwrap();
    for row in rows {
        let (table, name, kind): (String, String, String) = (row.get(0), row.get(1), row.get(2));
        let (keys, target, target_keys): (Vec<i16>, String, Vec<i16>) =
            (row.get(3), row.get(4), row.get(5));
        let Some(own) = tenant_column.get(&table) else {
            if kind == "f" && tenant_column.contains_key(&target) {
                found.push(format!(
                    "{table}: reference table points at tenant table {target}"
                ));
            }
            continue;
        };
        let at = keys.iter().position(|key| key == own);
        match kind.as_str() {
            "p" | "u" if at.is_none() => {
                let what = if kind == "p" {
                    "primary key"
                } else {
                    "unique key"
                };
                found.push(format!("{table}: {what} {name} leaves out organization_id"));
            }
            "f" => {
                if let Some(their) = tenant_column.get(&target) {
                    let paired = at.and_then(|at| target_keys.get(at)) == Some(their);
                    if !paired {
                        found.push(format!(
                            "{table}: foreign key {name} pairs organization_id with another column"
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    found
}

/// Unique indexes of tenant tables (not behind a constraint) that leave out organization_id.
async fn unique_index_violations(
    client: &Client,
    tenant_column: &BTreeMap<String, i16>,
) -> Vec<String> {
    let rows = client
        .query(
            "SELECT indrelid::regclass::text, indexrelid::regclass::text, indkey::text
             FROM pg_index i
             WHERE indisunique
               AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
            &[],
        )
        .await
        .unwrap();
    let mut found = Vec::new();
    for row in rows {
        let (table, index, keys): (String, String, String) = (row.get(0), row.get(1), row.get(2));
        let Some(own) = tenant_column.get(&table) else {
            continue;
        };
        if !keys.split(' ').any(|key| key == own.to_string()) {
            found.push(format!(
                "{table}: unique index {index} leaves out organization_id"
            ));
        }
    }
    found
}
