//! Every list reads its rows in id order straight from an index: no temporary B-tree to
//! sort them. With `temp_store = MEMORY` such a sort holds the whole filtered list in the
//! server's memory, so a CSV export of a 1M-invoice book peaked at 199 MiB (and a page of
//! 50 sorted every row of the organization to find its 50).

use super::conn::{value::Value, Conn};
use super::paging::ListQuery;
use super::sql::Filter;
use super::{bulk, Db, Synchronous};

/// The query plan of `query` under `filter`, one step a line.
fn plan(conn: &Conn, (query, filter): &(ListQuery<'static>, Filter)) -> Vec<String> {
    let sql = format!("EXPLAIN QUERY PLAN {}", query.rows_sql(filter));
    let mut stmt = conn.prepare(&sql).expect("the list statement prepares");
    let mut values = query.leading.clone();
    values.extend(filter.params.iter().cloned());
    values.extend([Value::Integer(i64::MAX), Value::Integer(0)]);
    let mut rows = stmt.query(&values).expect("it explains");
    let mut steps = Vec::new();
    while let Some(row) = rows.next().expect("a plan step") {
        steps.push(row.get::<_, String>(3).expect("its text"));
    }
    steps
}

#[test]
fn every_unfiltered_list_reads_in_id_order_without_a_sort() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("ar.db");
    let request = bulk::SeedRequest {
        organization: "default",
        customers: 50,
        invoices: 3_000,
        seed: 7,
        as_of: chrono::NaiveDate::from_ymd_opt(2026, 12, 3).expect("a date"),
    };
    bulk::seed_book(&path, &request, &mut |_, _| {}).expect("the book seeds");
    let db = Db::open(&path, Synchronous::Normal).expect("the book opens");
    let today = request.as_of;
    let plans = db
        .read_blocking(|conn| {
            Ok([
                (
                    "invoices",
                    plan(
                        conn,
                        &super::invoices::listing(1, &Default::default(), today),
                    ),
                ),
                (
                    "payments",
                    plan(conn, &super::payments::listing(1, &Default::default())),
                ),
                (
                    "credit notes",
                    plan(conn, &super::credit_notes::listing(1, &Default::default())),
                ),
                (
                    "customers",
                    plan(
                        conn,
                        &super::customers::listing(1, &Default::default(), "2026-12-03"),
                    ),
                ),
            ])
        })
        .expect("the plans read");
    for (list, steps) in plans {
        assert!(
            !steps.iter().any(|step| step.contains("TEMP B-TREE")),
            "{list}: {steps:?}"
        );
    }
}
