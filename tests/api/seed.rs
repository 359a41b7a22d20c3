//! `seed-demo`: the same seed gives the same book, and the book balances.

use arvalox::db::bulk::{seed_book, SeedRequest};
use arvalox::ratelimit::Limits;
use rusqlite::Connection;

use crate::helpers::{date, TestApp};

const AS_OF: &str = "2026-06-30";

fn seed(path: &std::path::Path, seed: u64) {
    let request = SeedRequest {
        organization: "default",
        customers: 40,
        invoices: 3000,
        seed,
        as_of: date(AS_OF),
    };
    let summary = seed_book(path, &request, &mut |_, _| {}).unwrap();
    assert_eq!(summary.invoices, 3000);
}

/// Every row of the book's tables, in id order, as text.
fn dump(path: &std::path::Path) -> String {
    let conn = Connection::open(path).unwrap();
    let mut out = String::new();
    for table in [
        "customers",
        "invoices",
        "invoice_items",
        "payments",
        "allocations",
        "refunds",
        "credit_notes",
        "credit_note_items",
        "write_offs",
        "sequences",
    ] {
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM {table} ORDER BY 1, 2"))
            .unwrap();
        let columns = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            for i in 0..columns {
                let value: rusqlite::types::Value = row.get(i).unwrap();
                out.push_str(&format!("{value:?}|"));
            }
            out.push('\n');
        }
    }
    out
}

/// Open amount at `as_of` by the README's definition, summed straight from the rows: the
/// total less allocations dated by then and not reversed by then, less write-offs alike.
fn open_by_definition(path: &std::path::Path, as_of: &str) -> i64 {
    let conn = Connection::open(path).unwrap();
    conn.query_row(
        "SELECT COALESCE(SUM(open), 0) FROM (
             SELECT i.total_minor
                    - COALESCE((SELECT SUM(a.amount_minor) FROM allocations a
                                WHERE a.invoice_id = i.id AND a.applied_date <= ?1
                                  AND (a.reversed_date IS NULL OR a.reversed_date > ?1)), 0)
                    - COALESCE((SELECT SUM(w.amount_minor) FROM write_offs w
                                WHERE w.invoice_id = i.id AND w.write_off_date <= ?1
                                  AND (w.reversed_date IS NULL OR w.reversed_date > ?1)), 0)
                    AS open
             FROM invoices i WHERE i.issue_date <= ?1 AND i.status NOT IN ('draft', 'void'))",
        [as_of],
        |row| row.get(0),
    )
    .unwrap()
}

fn cents(text: &serde_json::Value) -> i64 {
    let text = text.as_str().unwrap();
    let (whole, frac) = text.split_once('.').unwrap();
    whole.parse::<i64>().unwrap() * 100 + frac.parse::<i64>().unwrap()
}

#[test]
fn the_same_seed_gives_the_same_book() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        dir.path().join("a.db"),
        dir.path().join("b.db"),
        dir.path().join("c.db"),
    );
    seed(&a, 7);
    seed(&b, 7);
    seed(&c, 8);
    let (book_a, book_b) = (dump(&a), dump(&b));
    assert!(book_a.len() > 100_000);
    assert!(book_a == book_b, "same seed, different rows");
    assert!(book_a != dump(&c), "another seed, same rows");
    // ANALYZE's row counts are kept, its samples are not: with samples, SQLite re-plans
    // every statement on each new binding, a third of a point read's time.
    let conn = Connection::open(&a).unwrap();
    let count = |sql: &str| conn.query_row(sql, (), |row| row.get::<_, i64>(0)).unwrap();
    assert!(count("SELECT COUNT(*) FROM sqlite_stat1") > 0);
    assert_eq!(count("SELECT COUNT(*) FROM sqlite_stat4"), 0);
    // Seeding a book that already has customers is refused.
    let request = SeedRequest {
        organization: "default",
        customers: 1,
        invoices: 1,
        seed: 1,
        as_of: date(AS_OF),
    };
    assert!(seed_book(&a, &request, &mut |_, _| {}).is_err());
}

#[tokio::test]
async fn a_seeded_book_balances_and_reports_agree() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("book.db");
    seed(&path, 42);
    let expected = open_by_definition(&path, AS_OF);
    let app = TestApp::on_file(dir, &path, Limits::OFF, AS_OF).await;

    let aging = app.get("/v1/reports/aging").await.body;
    let totals = &aging["totals"];
    assert_eq!(cents(&totals["total"]), expected);
    let buckets = [
        "current",
        "days_1_30",
        "days_31_60",
        "days_61_90",
        "days_over_90",
    ];
    assert_eq!(
        buckets.iter().map(|b| cents(&totals[*b])).sum::<i64>(),
        expected
    );
    for bucket in buckets {
        assert!(
            cents(&totals[bucket]) > 0,
            "the demo book leaves {bucket} empty"
        );
    }
    let by_customer: i64 = aging["customers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| cents(&c["total"]))
        .sum();
    assert_eq!(by_customer, expected);

    let dashboard = app.get("/v1/reports/dashboard").await.body;
    assert_eq!(cents(&dashboard["total_outstanding"]), expected);
    let counts = &dashboard["invoice_counts_by_status"];
    for status in [
        "draft",
        "sent",
        "partially_paid",
        "paid",
        "void",
        "written_off",
    ] {
        assert!(counts[status].as_i64().unwrap() > 0, "no {status} invoices");
    }
    // Customers' balances add up to the same open total.
    let customers = app.get("/v1/customers?limit=500").await.body;
    let balances: i64 = customers["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| cents(&c["outstanding_balance"]))
        .sum();
    assert_eq!(balances, expected);
    // Credit on account, some refunded, some bounced: the customers' credit adds up to
    // the aging's, and the book holds each kind of event.
    let credit: i64 = customers["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| cents(&c["credit_balance"]))
        .sum();
    assert!(credit > 0);
    assert_eq!(cents(&totals["unapplied_credit"]), credit);
    assert_eq!(cents(&dashboard["total_unapplied_credit"]), credit);
    let payments = app.get("/v1/payments?status=void").await.body;
    assert!(
        payments["total"].as_i64().unwrap() > 0,
        "no bounced payment"
    );
    let refunded = app.get("/v1/payments?has_unapplied=true").await.body;
    assert!(refunded["total"].as_i64().unwrap() > 0);
    // Credit notes (applied, open and void), split payments, write-offs and reversals.
    for (path, least) in [
        ("/v1/credit-notes?status=applied", 1),
        ("/v1/credit-notes?status=open", 1),
        ("/v1/credit-notes?status=void", 1),
        ("/v1/invoices?status=written_off", 1),
    ] {
        let listed = app.get(path).await.body;
        assert!(
            listed["total"].as_i64().unwrap() >= least,
            "{path}: {listed}"
        );
    }
    let conn = Connection::open(&path).unwrap();
    let count = |sql: &str| conn.query_row(sql, (), |row| row.get::<_, i64>(0)).unwrap();
    assert!(count("SELECT COUNT(*) FROM write_offs WHERE reversed_date IS NOT NULL") > 0);
    assert!(
        count(
            "SELECT COUNT(*) FROM (SELECT payment_id FROM allocations
             WHERE payment_id IS NOT NULL GROUP BY payment_id HAVING COUNT(*) > 1)"
        ) > 0,
        "no payment split over invoices"
    );
    assert!(cents(&dashboard["credited_last_30_days"]) > 0);
    app.assert_sums_match();
    // Historical dates agree with the definition too.
    for as_of in [
        "2024-01-15",
        "2025-03-31",
        "2025-12-31",
        "2026-06-01",
        "2026-06-20",
    ] {
        let report = app
            .get(&format!("/v1/reports/aging?as_of={as_of}"))
            .await
            .body;
        assert_eq!(
            cents(&report["totals"]["total"]),
            open_by_definition(&path, as_of),
            "as_of {as_of}"
        );
    }
    // The API numbers new rows past the seeded ones.
    let created = app
        .post("/v1/customers", serde_json::json!({"name": "New"}))
        .await;
    assert_eq!(created.body["customer_code"], "CUST-00041");
    app.assert_summaries_match();
}
