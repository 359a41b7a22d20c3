//! A report of one customer reads that customer's invoices through an index on the
//! customer. Under one plan per statement the form `(?3 IS NULL OR customer_id = ?3)` could
//! use none, so one customer's aging at a past date on a 1M-invoice book read every
//! invoice of the organization (12 s; its checks' recount 7 s).

use super::aging_detail::one_customers_recount;
use super::conn::{value::Value, Conn};
use super::open_totals::open_totals_sql;
use super::report_scope::ReportScope;
use super::reports::aging_sql;
use crate::domain::currency::Currency;

/// The steps of `sql`'s query plan, one a line. (`sql` takes `count` parameters,
/// explained unbound.)
fn plan_steps(conn: &Conn, (sql, count): (&str, usize)) -> Vec<String> {
    let mut stmt = conn
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .expect("the report statement prepares");
    let unbound = vec![Value::Null; count];
    let mut rows = stmt.query(&unbound).expect("it explains");
    let mut steps = Vec::new();
    while let Some(row) = rows.next().expect("a plan step") {
        steps.push(row.get::<_, String>(3).expect("its text"));
    }
    steps
}

/// The steps of `sql`'s query plan that read the invoices (`i`).
fn invoice_steps(conn: &Conn, sql_and_count: (&str, usize)) -> Vec<String> {
    let mut steps = plan_steps(conn, sql_and_count);
    steps.retain(|step| step.starts_with("SEARCH i ") || step.starts_with("SCAN i"));
    steps
}

#[test]
fn one_customers_report_reads_that_customers_invoices_by_index() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let db = super::list_plans_tests::seeded_book(&dir);
    let statements = [
        ("aging at today", aging_sql(false, "TRUE", true), 7),
        ("aging at a past date", aging_sql(true, "TRUE", true), 7),
        ("the checks' recount", one_customers_recount("TRUE"), 3),
    ];
    for (what, sql, count) in statements {
        let steps = db
            .read_blocking(|conn| Ok(invoice_steps(conn, (&sql, count))))
            .expect("a plan");
        assert!(!steps.is_empty(), "{what}: no step reads the invoices");
        for step in steps {
            // At a past date, also by id: the invoices the customer's own later movements
            // name.
            let by_id = what == "aging at a past date"
                && step == "SEARCH i USING INTEGER PRIMARY KEY (rowid=?)";
            assert!(step.contains("customer_id=?") || by_id, "{what}: {step}");
        }
    }
}

/// The whole book's recount (the checks of an aging on terms) reads each issued invoice's
/// total from an index that holds it: through the table, it read every invoice's row, most
/// of a 4.6 GB file at 1M invoices (10 s against 7 s, BENCHMARKS.md, issue 16).
#[test]
fn the_whole_books_recount_reads_no_invoice_row() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let db = super::list_plans_tests::seeded_book(&dir);
    for (in_currency, count) in whole_book_recounts(&db) {
        let sql = in_currency.clone();
        let steps = db
            .read_blocking(|conn| Ok(invoice_steps(conn, (&sql, count))))
            .expect("a plan");
        assert_eq!(steps.len(), 1, "{in_currency}: {steps:?}");
        for step in steps {
            assert!(
                step.contains("USING COVERING INDEX"),
                "{in_currency}: {step}"
            );
        }
    }
}

/// The whole book's recount reads the allocations and write-offs dated by `as_of` as ranges
/// of their date indexes, never once an invoice: one probe an invoice into
/// `allocations_invoice` was a million random page reads at 1M invoices (BENCHMARKS.md,
/// issue 16, 2026-12-05).
#[test]
fn the_whole_books_recount_reads_movements_by_date_not_by_invoice() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let db = super::list_plans_tests::seeded_book(&dir);
    for (sql, count) in whole_book_recounts(&db) {
        recount_reads_by_date(&db, (&sql, count));
    }
}

/// The whole book's recount with its count of parameters: in the book's currency (no
/// filter), and in another (its customers only, through the scope's parameters, the last
/// of them ?99).
fn whole_book_recounts(db: &super::Db) -> [(String, usize); 2] {
    let euro = Some(Currency::stored("EUR"));
    let in_euro = db
        .read_blocking(|conn| Ok(ReportScope::of(conn, 1, euro, None)?.0))
        .expect("a scope");
    let in_books = |_: &str| "TRUE".to_owned();
    [
        (open_totals_sql(in_books, 1), 3),
        (open_totals_sql(|c| in_euro.customers(c), 1), 99),
    ]
}

/// `sql` (a whole book's recount taking `count` parameters) reads each date index once,
/// as a range, and nothing correlated.
fn recount_reads_by_date(db: &super::Db, (sql, count): (&str, usize)) {
    let steps = db
        .read_blocking(|conn| Ok(plan_steps(conn, (sql, count))))
        .expect("a plan");
    for (table, index) in [
        ("allocations", "allocations_org_date"),
        ("allocations", "allocations_org_reversed"),
        ("write_offs", "write_offs_org_date"),
        ("write_offs", "write_offs_org_reversed"),
    ] {
        let reads: Vec<_> = steps
            .iter()
            .filter(|step| step.contains(&format!("COVERING INDEX {index} ")))
            .collect();
        assert_eq!(reads.len(), 1, "{table} by {index}: {steps:?}");
        assert!(reads[0].contains("_date<?"), "{}", reads[0]);
    }
    for step in &steps {
        assert!(!step.contains("CORRELATED"), "{step}");
    }
}

/// The aging at a past date reads each invoice moved since as_of by its id, and only
/// those: left to choose, SQLite walked every invoice issued by then through
/// `invoices_org_issue`, reading each one's row (2.4 s against 0.9 s at 1M invoices).
#[test]
fn a_past_aging_reads_the_moved_invoices_by_id() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let db = super::list_plans_tests::seeded_book(&dir);
    for one in [false, true] {
        let sql = aging_sql(true, "TRUE", one);
        let steps = db
            .read_blocking(|conn| Ok(invoice_steps(conn, (&sql, 7))))
            .expect("a plan");
        assert_eq!(steps.len(), 2, "{steps:?}");
        assert!(
            steps.contains(&"SEARCH i USING INTEGER PRIMARY KEY (rowid=?)".to_owned()),
            "one customer: {one}: {steps:?}"
        );
    }
}
